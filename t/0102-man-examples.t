#!/bin/bash
# The EXAMPLES of every manual page work: each literal block is run (or,
# for records and configuration, checked) by t/man-examples.pl's rules,
# in a fixture laid out as a hotline server and a partner, under the names
# the examples use. See t/man-examples.pl for the convention:
#
#   .\" example: skip REASON     not run (a real MTA, another machine...)
#   .\" example: fresh           run on a new server, then thrown away
#   .\" example: config          a dz.yaml(5), or part of one: accepted
#   .\" example: in DIR          run in DIR
#
# The fixture, FIX below, stands for the root of a machine:
#   /etc/dz/dz.yaml       the configuration (DZ_CONFIG): store, master key,
#                         providers, a stand-in MTA, the bank's key files,
#                         the partner's match.public_key (disrupt.pub)
#   /etc/dz/master.key    the master key; /etc/dz/bank.key is made by the
#                         examples' "dz-export keygen"
#   /srv/dz/store         the store: cases 7M2K9QXR4B (a URL on
#                         host.example and an image, both awaiting review;
#                         a minor, a contact, wants an answer), 7BEVBMMQQ3
#                         (judged, its image hashed, a URL on discord.com
#                         whose provider takes forms only), 42HY5TZA4R (an
#                         image judged illegal, not hashed yet), and two
#                         older cases with something due for dz-purge
#   /srv/dz/spool, /srv/dz/bank, /srv/dz/maildesk, /var/log/dz
#   /srv/reports, /srv/uploads, ~/Pictures   images and videos to hash and
#                         match (synthetic, made here)
#   the top               where each block starts: photo.jpg, scan.png,
#                         a.jpg, capture.png, upload-1.jpg, upload-2.mp4,
#                         upload.mp4, hashes.jsonl, bank.jsonl, and a
#                         partner's banks: disrupt.dzb (export 1 of the
#                         key disrupt.pub), its deltas disrupt-2.dzb and
#                         disrupt-3.dzb, other.dzb of the key other.pub
# The ids and those absolute paths are replaced in what is run by the
# fixture's. Stand-ins for mpv, feh, mutt, ssh, scp and sendmail are
# first in PATH: viewers read their input, ssh and scp reach FIX/remote/,
# the MTA keeps messages in FIX/var/mail/. Blocks of a page run in order in
# one copy of the fixture, each from the top, so one may use what an
# earlier one made.
. "$(dirname "$0")/lib.sh"

MAN=$TOP/man
FIX=$TRASH/fix
ISSUER=$TRASH/issuer
NOW=$DZ_NOW
# DZ_MAN_PAGES="dz.7 dz-match.1" runs the examples of those pages only
pages=${DZ_MAN_PAGES:-$(cd "$MAN" && ls | grep -E '\.[1-9]$')}

for tool in mandoc minisign ffmpeg convert parallel sqlite3 perl; do
	if ! command -v $tool >/dev/null 2>&1; then
		say "Bail out! $tool is not installed (run scripts/deps)"
		exit 1
	fi
done

img() {	# img SEED WxH FILE: a synthetic picture
	convert -seed "$1" -size "$2" plasma:fractal -blur 0x2 "$3"
}

# issuer_config FILE STORE MASTER_KEY SIGNING_KEY PUBLIC_KEY: a hotline's
# dz.yaml that can export banks, and DZ_CONFIG=FILE.
issuer_config() {
	printf '%s\n' "store: $2" "master_key: $3" export: "  signing_key: $4" \
		"  public_key: $5" >"$1" && export DZ_CONFIG="$1"
}

# The partner's banks, exported by a hotline of their own (the issuer).
build_issuer() {
	mkdir -p "$ISSUER" && cd "$ISSUER" &&
	issuer_config "$ISSUER/dz.yaml" "$ISSUER/store" "$ISSUER/master.key" \
		"$ISSUER/disrupt.key" "$FIX/disrupt.pub" &&
	export DZ_NOW=2026-01-01T10:00:00Z &&
	dz-ingest -q --init && dz-export keygen 2>/dev/null &&
	img 101 480x360 b1.jpg && img 102 480x360 b2.png && img 103 400x300 b3.jpg &&
	img 104 400x300 b4.jpg &&
	ffmpeg -loglevel error -f lavfi -i testsrc=duration=3:size=128x96:rate=10 \
		-pix_fmt yuv420p clip.mp4 &&
	cp b1.jpg "$FIX/photo.jpg" && cp clip.mp4 "$FIX/upload.mp4" &&
	cp clip.mp4 "$FIX/srv/uploads/clip.mp4" &&
	convert b2.png -resize 80% -quality 70 "$FIX/srv/uploads/u-0001.jpg" &&
	convert b1.jpg -flop "$FIX/srv/uploads/u-0002.jpg" &&
	printf '%s\n' \
		'{"type":"submission","submission":"i-1","age":30,"files":["b1.jpg","b2.png","clip.mp4"]}' \
		'{"type":"submission","submission":"i-2","age":30,"files":["b3.jpg"]}' \
		'{"type":"submission","submission":"i-3","age":30,"files":["b4.jpg"]}' >s.jsonl &&
	dz-ingest s.jsonl >acks &&
	dz-export items --state review | jq -c '{type: "verdict", item, illegal: true,
		category: "adult_ncii"}' >v.jsonl && dz-ingest v.jsonl >/dev/null &&
	# export 1: a full one, of b1, b2 and the clip; then b3 and b4, a delta
	# (export 2); then b3 withdrawn, a delta (export 3)
	dz-hash --store --item "$(jq -r 'select(.submission == "i-1") | .items[0]' acks)" >/dev/null &&
	dz-hash --store --item "$(jq -r 'select(.submission == "i-1") | .items[1]' acks)" >/dev/null &&
	dz-hash --store --item "$(jq -r 'select(.submission == "i-1") | .items[2]' acks)" >/dev/null &&
	dz-export bank -o "$FIX/disrupt.dzb" -o "$FIX/bank.jsonl" >/dev/null &&
	dz-hash --store >/dev/null &&
	dz-export bank --since last -o "$FIX/disrupt-2.dzb" >/dev/null &&
	jq -c 'select(.submission == "i-2") | {type: "withdraw", case}' acks | dz-ingest >/dev/null &&
	dz-export bank --since last -o "$FIX/disrupt-3.dzb" >/dev/null &&
	# another issuer, whose bank holds b2
	issuer_config "$ISSUER/other.yaml" "$ISSUER/ostore" "$ISSUER/o.key" \
		"$ISSUER/other.key" "$FIX/other.pub" &&
	dz-ingest -q --init && dz-export keygen 2>/dev/null &&
	cp b2.png o.png &&
	echo '{"type":"submission","submission":"o-1","age":30,"files":["o.png"]}' |
		dz-ingest >oack &&
	jq -c '{type: "verdict", item: .items[0], illegal: true, category: "adult_ncii"}' oack |
		dz-ingest >/dev/null &&
	dz-hash --store >/dev/null && dz-export bank --collab other -o "$FIX/other.dzb" >/dev/null
}

# The hotline's server, with the files the examples name.
build_fixture() {
	mkdir -p "$FIX"/etc/dz/templates "$FIX"/srv/dz/spool/tmp "$FIX"/srv/dz/spool/new \
		"$FIX"/srv/dz/spool/rejected "$FIX"/srv/dz/bank "$FIX"/srv/dz/maildesk \
		"$FIX"/srv/reports "$FIX"/srv/uploads "$FIX"/var/log/dz "$FIX"/var/mail \
		"$FIX"/home/Pictures "$FIX"/bin "$FIX"/remote "$FIX"/tmp &&
	cat >"$FIX/etc/dz/dz.yaml" <<-EOF &&
	store: $FIX/srv/dz/store
	master_key: $FIX/etc/dz/master.key
	notify:
	  from: "Hotline <notices@hotline.example>"
	  hotline: Hotline
	  providers: $FIX/etc/dz/providers.yaml
	  mta: $FIX/bin/sendmail -t -oi
	export:
	  signing_key: $FIX/etc/dz/bank.key
	  public_key: $FIX/srv/dz/bank/dz-bank.pub
	match:
	  public_key: $FIX/disrupt.pub
	EOF
	cat >"$FIX/etc/dz/providers.yaml" <<-EOF &&
	version: 1
	providers:
	  - name: Host Example
	    domains: [host.example]
	    abuse: abuse@host.example
	  - name: Discord
	    domains: [discord.com]
	    form: https://dis.gd/request
	EOF
	# stand-ins
	cat >"$FIX/bin/sendmail" <<-EOF &&
	#!/bin/sh
	# keeps each message in $FIX/var/mail
	n=\$(ls "$FIX/var/mail" | wc -l)
	cat >"$FIX/var/mail/\$((n + 1))"
	EOF
	for v in mpv feh mutt; do
		printf '#!/bin/sh\n# a stand-in viewer: reads what it is given\nfor a; do case $a in -*) ;; *) test -r "$a" && cat "$a" >/dev/null ;; esac; done\n[ -t 0 ] || cat >/dev/null\n' \
			>"$FIX/bin/$v" || return 1
	done &&
	cat >"$FIX/bin/ssh" <<-EOF &&
	#!/bin/sh
	# ssh HOST COMMAND: COMMAND run in $FIX/remote/HOST
	h=\$1; shift
	mkdir -p "$FIX/remote/\$h" && cd "$FIX/remote/\$h" && exec sh -c "\$*"
	EOF
	cat >"$FIX/bin/scp" <<-EOF &&
	#!/bin/sh
	# scp FILE... HOST:DIR: copies into $FIX/remote/HOST/DIR
	for last; do :; done
	h=\${last%%:*} d=\${last#*:}
	mkdir -p "$FIX/remote/\$h/\$d" || exit 1
	while [ \$# -gt 1 ]; do cp "\$1" "$FIX/remote/\$h/\$d" || exit 1; shift; done
	EOF
	chmod +x "$FIX"/bin/* &&
	build_issuer && cd "$FIX" &&
	# images and videos
	img 201 400x300 scan.png && img 202 400x300 a.jpg && img 203 400x300 capture.png &&
	img 204 400x300 upload-1.jpg && img 205 400x300 "$(printf 'caf\351.jpg')" &&
	gzip -c photo.jpg >photo.jpg.gz &&
	ffmpeg -loglevel error -f lavfi -i testsrc2=duration=2:size=128x96:rate=10 \
		-pix_fmt yuv420p upload-2.mp4 &&
	img 211 400x300 srv/reports/r1.jpg && img 212 300x300 srv/reports/r2.png &&
	cp upload-2.mp4 srv/reports/r3.mp4 &&
	img 221 400x300 srv/uploads/u-0003.jpg &&
	mkdir -p remote/upload.partner.example/incoming &&
	img 231 400x300 home/Pictures/beach.jpg && img 232 300x400 home/Pictures/dog.png &&
	dz-hash *.jpg *.png >hashes.jsonl &&
	# the store
	export DZ_CONFIG=$FIX/etc/dz/dz.yaml &&
	img 241 400x300 d.jpg && img 242 400x300 e.jpg && img 243 400x300 b.jpg &&
	img 244 400x300 c.jpg && cp capture.png a-capture.png &&
	convert b.jpg -resize 75% srv/uploads/u-0004.jpg &&
	DZ_NOW=2025-11-20T10:00:00Z dz-ingest -q --init &&
	printf '%s\n' \
		'{"type":"submission","submission":"desk-0001","age":25,"files":["d.jpg"],"contact":{"email":"d@example.org"}}' \
		'{"type":"submission","submission":"desk-0002","age":40,"files":["e.jpg"]}' \
		>old.jsonl &&
	DZ_NOW=2025-11-20T10:00:00Z dz-ingest --remove-files old.jsonl >old.acks &&
	jq -c 'select(.submission == "desk-0001") | {type: "close", case}' old.acks |
		DZ_NOW=2025-12-01T10:00:00Z dz-ingest >/dev/null &&
	printf '%s\n' \
		'{"type":"submission","submission":"form-20261123-0042","age":17,"urls":["https://host.example/p/123"],"files":["a-capture.png"],"contact":{"email":"someone@example.org"},"followup":true,"language":"fr","description":"..."}' \
		'{"type":"submission","submission":"form-20261123-0043","age":29,"urls":["https://host.example/p/456","https://discord.com/channels/1/2"],"files":["b.jpg"],"contact":{"email":"other@example.org"},"followup":true,"language":"en"}' \
		'{"type":"submission","submission":"form-20261123-0044","age":30,"files":["c.jpg"]}' \
		>new.jsonl &&
	DZ_NOW=2026-01-10T10:00:00Z dz-ingest --remove-files new.jsonl >new.acks &&
	A=$(jq -r 'select(.submission == "form-20261123-0042") | .case' new.acks) &&
	B=$(jq -r 'select(.submission == "form-20261123-0043") | .case' new.acks) &&
	C=$(jq -r 'select(.submission == "form-20261123-0044") | .case' new.acks) &&
	printf '%s\n' "{\"type\":\"verdict\",\"item\":\"$B-1\",\"illegal\":true,\"category\":\"adult_ncii\"}" \
		"{\"type\":\"verdict\",\"item\":\"$B-2\",\"illegal\":true,\"category\":\"adult_ncii\"}" \
		"{\"type\":\"verdict\",\"item\":\"$B-3\",\"illegal\":true,\"category\":\"adult_ncii\"}" |
		DZ_NOW=2026-01-11T10:00:00Z dz-ingest >/dev/null &&
	DZ_NOW=2026-01-11T11:00:00Z dz-hash --store >/dev/null &&
	echo "{\"type\":\"verdict\",\"item\":\"$C-1\",\"illegal\":true,\"category\":\"adult_ncii\"}" |
		DZ_NOW=2026-01-12T10:00:00Z dz-ingest >/dev/null &&
	# a report in the mail desk's directory
	img 251 400x300 srv/dz/maildesk/upload-a.jpg &&
	echo '{"type":"submission","submission":"desk-0003","age":33,"urls":["https://host.example/p/789"],"files":["upload-a.jpg"]}' \
		>srv/dz/maildesk/reports.jsonl &&
	rm -f old.jsonl old.acks new.jsonl new.acks &&
	echo "$A $B $C" >"$TRASH/ids"
}

test_expect_success 'setup: the fixture, a hotline server and a partner' '
	(build_fixture) >setup.out 2>&1 || { cat setup.out; false; }
'
read -r A B C <"$TRASH/ids" 2>/dev/null || A=x B=x C=x
cd "$TRASH"
cp -a "$FIX" "$FIX.orig"

MAPS="7M2K9QXR4B=$A 7BEVBMMQQ3=$B 42HY5TZA4R=$C /etc/dz/=$FIX/etc/dz/ /srv/=$FIX/srv/ /var/log/dz/=$FIX/var/log/dz/ /var/lib/dz/=$FIX/var/lib/dz/"

# run_block SCRIPT DIR KIND: run one example in the fixture. Transcripts
# and crontabs run under "set -e -o pipefail" (the extractor adds it): every
# command must succeed. A script runs with "bash -u" and must exit 0 and
# print nothing on standard error, since a script's own checks decide.
run_block() {
	(
		cd "$2" || exit 1
		export HOME=$FIX/home DZ_CONFIG=$FIX/etc/dz/dz.yaml DZ_NOW=$NOW \
			DZ_EXAMPLE_TOP=$FIX TMPDIR=$FIX/tmp PATH=$FIX/bin:$TOP/cmd:$PATH
		unset XDG_STATE_HOME
		if [ "$3" = script ]; then
			bash -u "$1" 2>"$TRASH/run.err" || exit
			cat "$TRASH/run.err"
			! test -s "$TRASH/run.err"
		else
			bash "$1"
		fi
	) >run.out 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		echo "exit status $rc; the example as run:"
		sed 's/^/    /' "$1"
		echo "its output:"
		sed 's/^/    /' run.out | head -n 40
	fi
	return $rc
}

for page in $pages; do
	rm -rf "$FIX" && cp -a "$FIX.orig" "$FIX"
	ex=$TRASH/ex/$page
	mkdir -p "$ex"
	# shellcheck disable=SC2086
	test_expect_success "$page: the examples are well formed" '
		perl "$TOP/t/man-examples.pl" "$MAN/$page" "$ex" $MAPS
	'
	test -f "$ex/index" || continue
	while IFS=$'\t' read -r n line kind arg; do
		what="$page:$line: example $n ($kind)"
		case $kind in
		skip)
			skip "$what: $arg" ;;
		records)
			test_expect_success "$what" '
				jq -e -s "length > 0 and all(.[]; type == \"object\" and
					(keys_unsorted[0] == \"type\"))" "$ex/$n.txt" >/dev/null
			' ;;
		config)
			test_expect_success "$what: the programs accept it" '
				cp "$ex/$n.txt" "$FIX/tmp/example.yaml" &&
				(cd "$FIX" && dz-purge -q -n -c "$FIX/tmp/example.yaml" >/dev/null 2>err)
				rc=$?
				cat "$FIX/err" 2>/dev/null
				test $rc = 0 || test $rc = 66
			' ;;
		*)
			dir=$FIX
			case $arg in -|fresh) ;; *) dir=$arg ;; esac
			if [ "$arg" = fresh ]; then
				mv "$FIX" "$FIX.page" && cp -a "$FIX.page" "$FIX" &&
				rm -rf "$FIX/srv/dz/store" "$FIX/etc/dz/master.key"
			fi
			test_expect_success "$what" '
				run_block "$ex/$n.sh" "$dir" "$kind"
			'
			if [ "$arg" = fresh ]; then
				rm -rf "$FIX" && mv "$FIX.page" "$FIX"
			fi ;;
		esac
	done <"$ex/index"
done

test_expect_success 'no example sent mail anywhere but the stand-in' '
	! test -e "$FIX/home/dead.letter"
'

test_done
