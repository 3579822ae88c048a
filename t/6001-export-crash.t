#!/bin/bash
# dz-export bank killed with SIGKILL at random instants. Each trial copies
# a prepared store (41 items hashed: 40 images and a video, whose vPDQ
# frames are bank rows) and makes a chain of three signed exports, as a
# hotline's cron would, with changes in between:
#   1. a full export (-o full-%n.dzb -o full-%n.jsonl);
#   2. a case withdrawn, an item judged not illegal, a category changed;
#      a delta (--since last -o delta-%n.dzb -o delta-%n.csv -o
#      delta-%n.jsonl);
#   3. the item judged illegal again, the video withdrawn, another
#      category changed; a delta, the same way.
# One of the three runs, drawn at random, is killed at a random instant
# within 1.2 times what that run takes, then run again to completion (the
# recovery run). A partner verifies the chain (dz-match --verify-only with
# a --state file) after the recovery run and after the last step. Checked
# at the end:
#
#   the export log: one export per sequence number, numbers contiguous
#     from 1, kinds full, delta, delta; or full, full, delta, delta when
#     the killed full export had committed (its recovery run, asked for a
#     full export again, makes a second one: a new snapshot, counted and
#     reported, not a duplicate);
#   the files: every file the export log names exists, has the SHA-256 the
#     log records, has its signature, and minisign -Vm verifies it; no
#     *.tmp file is left; each bank chains to the export before it (prev)
#     and, for a delta, to its base (base), as the log's digests say;
#   the content: every export is byte for byte the one a fault-free chain
#     of the same store makes (files and signatures: DZ_NOW is fixed and
#     Ed25519 deterministic); after a second full export, the entries and
#     withdrawals of each bank are those of its fault-free counterpart;
#     the partner's final view (full export, then deltas applied) is the
#     fault-free one: no hash lost, none twice;
#   the killed run and its recovery: if the killed run committed its
#     export, the recovery run finishes it (renames what was left) and,
#     for a delta, writes none ("empty"); if not, the recovery run makes
#     that export; the recovery run exits 0;
#   dz-match --verify-only accepts the chain each time;
#   PRAGMA integrity_check and foreign_key_check clean.
#
# DZ_CRASH_TRIALS (default 60) trials; DZ_CRASH_SEED replays the delays.
# slow: crash trials (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"
. "$TOP/t/lib-crash.sh"
require_testdata

TRIALS=${DZ_CRASH_TRIALS:-60}
crash_init

config() {	# config DIR: DIR/dz.yaml for the store DIR/store
	cat >"$1/dz.yaml" <<-EOF
	store: $TRASH/$1/store
	master_key: $TRASH/master.key
	export:
	  signing_key: $TRASH/k.key
	  public_key: $TRASH/k.pub
	EOF
}
q() { sqlite3 "$1/store/store.db" "$2"; }

mkdir tpl media
config tpl
export DZ_CONFIG=$TRASH/tpl/dz.yaml
for i in $(seq 1 40); do
	convert -size 96x96 plasma:fractal -seed "$i" "media/p$i.png" 2>/dev/null ||
		convert -size 96x96 "gradient:rgb($((i * 6)),0,0)-blue" "media/p$i.png"
done
cp "$TESTDATA/vpdq/videos/test-padded-dimensions.mp4" media/v.mp4

test_expect_success 'setup: a store with 41 items hashed, a signing key' '
	dz-ingest --init 2>/dev/null && dz-export keygen 2>/dev/null &&
	for c in 1 2 3 4; do
		jq -cn --arg s "e-$c" --argjson c $c "{type:\"submission\",submission:\$s,age:25,
			files:[range(1; 11) | \"media/p\(. + (\$c - 1) * 10).png\"]}" || return 1
	done >sub.jsonl &&
	printf "{\"type\":\"submission\",\"submission\":\"e-5\",\"age\":25,\"files\":[\"media/v.mp4\"]}\n" >>sub.jsonl &&
	dz-ingest sub.jsonl >acks && jq -r .case acks >cases && test $(wc -l <cases) = 5 &&
	sqlite3 tpl/store/store.db "SELECT id FROM items" >items &&
	sed "s/.*/{\"type\":\"verdict\",\"item\":\"&\",\"illegal\":true,\"category\":\"adult_ncii\"}/" items >v.jsonl &&
	dz-ingest v.jsonl >/dev/null && dz-hash --store >hashes.jsonl &&
	test $(jq -s "map(select(.type == \"hash\")) | length" hashes.jsonl) = 41
'
c1=$(sed -n 1p cases) c2=$(sed -n 2p cases) c3=$(sed -n 3p cases) c5=$(sed -n 5p cases)
verdict() {	# verdict ITEM CATEGORY|not_illegal
	if [ "$2" = not_illegal ]; then
		printf '{"type":"verdict","item":"%s","illegal":false}\n' "$1"
	else
		printf '{"type":"verdict","item":"%s","illegal":true,"category":"%s"}\n' "$1" "$2"
	fi
}
{ printf '{"type":"withdraw","case":"%s"}\n' "$c2"; verdict "$c1-3" not_illegal; verdict "$c1-4" minor; } >change-2.jsonl
{ verdict "$c1-3" other; verdict "$c5-1" not_illegal; verdict "$c3-7" minor; } >change-3.jsonl

# the command of step S in directory DIR
step_cmd() {
	case $2 in
	1) printf '%s\n' "dz-export -c $TRASH/$1/dz.yaml bank -o $TRASH/$1/out/full-%n.dzb -o $TRASH/$1/out/full-%n.jsonl" ;;
	*) printf '%s\n' "dz-export -c $TRASH/$1/dz.yaml bank --since last -o $TRASH/$1/out/delta-%n.dzb -o $TRASH/$1/out/delta-%n.csv -o $TRASH/$1/out/delta-%n.jsonl" ;;
	esac
}
# the changes before step S
change() {	# change DIR S
	[ "$2" = 1 ] || dz-ingest -c "$TRASH/$1/dz.yaml" "change-$2.jsonl" >/dev/null
}
copy_store() {	# copy_store DIR
	mkdir -p "$1/out" && cp -a tpl/store "$1/store" && config "$1"
}
# the files of format F of the newest full export and the deltas after it
chain() {	# chain DIR F
	q "$1" "SELECT files FROM exports WHERE seq >= (SELECT max(seq) FROM exports
		WHERE kind = 'full') ORDER BY seq" | jq -r ".[] | select(.format == \"$2\") | .path"
}
# the partner: verify the chain, as a partner does after each download
partner() {	# partner DIR
	local f args=
	for f in $(chain "$1" dzb); do args="$args --bank $f"; done
	dz-match -q --verify-only -p "$TRASH/k.pub" --state "$TRASH/$1/partner.state" $args
}
# the partner's view after the whole chain: "id value category" lines
view() {	# view DIR
	jq -n -r 'reduce inputs as $r ({};
		if $r.type == "bank" then .seen = {}
		elif $r.type == "entry" then
			(if .seen[$r.id] then . else .v[$r.id] = [] | .seen[$r.id] = true end)
			| .v[$r.id] += ["\($r.value) \($r.category)"]
		elif $r.type == "withdrawal" then del(.v[$r.id])
		else . end)
		| .v | to_entries[] | .key as $k | .value[] | "\($k) \(.)"' $(chain "$1" jsonl) | sort
}

test_expect_success 'a fault-free chain: full, delta, delta, each verified by a partner' '
	copy_store ref &&
	for s in 1 2 3; do
		change ref $s && crash_now && t0=$CRASH_NOW &&
		$(step_cmd ref $s) >ref/rec-$s &&
		crash_now && echo $(( CRASH_NOW - t0 )) >run_us.$s &&
		partner ref || return 1
	done &&
	test "$(q ref "SELECT group_concat(kind) FROM exports")" = full,delta,delta &&
	jq -e ".entries > 41 and .withdrawals == 0" ref/rec-1 &&
	jq -e ".withdrawals == 11 and .entries == 1" ref/rec-2 &&
	jq -e ".withdrawals >= 2 and .entries == 2" ref/rec-3 &&
	view ref >ref.view && test $(wc -l <ref.view) = 30
'
for s in 1 2 3; do
	eval "run_us_$s=\$(cat run_us.$s 2>/dev/null || echo 50000)"
done
diag "a run takes about $((run_us_1 / 1000)) ms (full), $((run_us_2 / 1000)) and $((run_us_3 / 1000)) ms (deltas)"

# every file of every export: "seq path sha256 signed(1|0)"
files() { q "$1" "SELECT e.seq, json_extract(f.value, '\$.path'), json_extract(f.value, '\$.sha256'),
	json_extract(f.value, '\$.signed') FROM exports e, json_each(e.files) f ORDER BY e.seq" | tr '|' ' '; }
# the rows of each bank, but its header: "seq row" lines
rows() { jq -r 'select(.type != "bank") | "\(input_filename | capture("-(?<n>[0-9]+)[.]jsonl$").n) \(tojson)"' "$@"; }
# what each bank's header must say, from the export log: seq, digest,
# prev (the digest of the export before), base (of the one it is a delta
# of), since
heads() { q "$1" "SELECT e.seq, e.digest, coalesce((SELECT p.digest FROM exports p WHERE p.seq = e.seq - 1), '-'),
	coalesce((SELECT b.digest FROM exports b WHERE b.seq = e.since), '-'), coalesce(e.since, 0)
	FROM exports e ORDER BY e.seq" | tr '|' '\t'; }
( cd ref/out && sha256sum -- * ) >ref.sums 2>/dev/null
rows ref/out/*.jsonl 2>/dev/null | sort >ref.rows

# check_trial DIR KILLED_STEP: prints "lost dup refull", reasons on
# stderr; fails when something is wrong
check_trial() {
	local d=$1 k=$2 bad=0 lost=0 dup=0 refull=0 n s kinds shift=0 f sum signed
	for s in 1 2 3; do
		[ "$(cat "$d/rc-$s")" = 0 ] || { echo "step $s exited $(cat "$d/rc-$s")" >&2; bad=1; }
		[ "$(cat "$d/partner-$s")" = 0 ] || { echo "the partner refused the chain after step $s" >&2; bad=1; }
	done
	# the export log
	kinds=$(q "$d" "SELECT group_concat(kind) FROM (SELECT kind FROM exports ORDER BY seq)")
	n=$(q "$d" "SELECT count(*) = max(seq) AND min(seq) = 1 FROM exports")
	[ "$n" = 1 ] || { echo "export numbers not contiguous from 1" >&2; bad=1; }
	case $kinds in
	full,delta,delta) ;;
	full,full,delta,delta)
		if [ "$k" = 1 ] && [ "$(cat "$d/committed")" = 1 ]; then
			shift=1 refull=1
		else
			echo "a second full export, but the killed full one had not committed" >&2; dup=$((dup + 1))
		fi ;;
	*)	echo "exports: $kinds, not full,delta,delta" >&2
		n=$(q "$d" "SELECT count(*) FROM exports WHERE kind = 'delta'")
		[ "$n" -lt 2 ] && lost=$((lost + 2 - n))
		[ "$n" -gt 2 ] && dup=$((dup + n - 2)) ;;
	esac
	# the files: there, as recorded, signed, and no temporary file left
	n=$(find "$d/out" -name "*.tmp" | wc -l)
	[ "$n" = 0 ] || { echo "$n temporary files left" >&2; bad=1; }
	files "$d" >"$d/files"
	n=$(q "$d" "SELECT sum(CASE kind WHEN 'full' THEN 2 ELSE 3 END) FROM exports")
	[ "$(wc -l <"$d/files")" = "$n" ] || { echo "an export without every format" >&2; bad=1; }
	while read -r s f sum signed; do
		[ -f "$f" ] || { echo "export $s: $f missing" >&2; lost=$((lost + 1)); continue; }
		[ "$signed" = 1 ] && [ -f "$f.minisig" ] && minisign -Vm "$f" -p k.pub >/dev/null 2>&1 ||
			{ echo "export $s: $f: no valid signature" >&2; bad=1; }
		echo "$sum  $f"
	done <"$d/files" >"$d/recorded.sums"
	sha256sum -c --quiet "$d/recorded.sums" >&2 || { echo "files not as the export log records" >&2; bad=1; }
	# the chain: each header as the export log says
	heads "$d" >"$d/heads.want"
	jq -r 'select(.type == "bank") | [.seq, .digest, .prev // "-", .base // "-", .since // 0] | @tsv' \
		$(grep "[.]jsonl " "$d/files" | cut -d" " -f2) | sort -n >"$d/heads"
	cmp -s "$d/heads.want" "$d/heads" || { echo "bank headers do not chain as the export log says:" >&2
		diff "$d/heads.want" "$d/heads" >&2; bad=1; }
	# the content, against the fault-free chain: byte for byte, or after a
	# second full export, row for row
	if [ $shift = 0 ]; then
		( cd "$d/out" && sha256sum -- * ) >"$d/sums"
		cmp -s ref.sums "$d/sums" || { echo "files differ from those of a fault-free chain:" >&2
			diff ref.sums "$d/sums" >&2; bad=1; }
	fi
	rows $(grep "[.]jsonl " "$d/files" | cut -d" " -f2) |
		awk -v shift=$shift '{ s = $1; if (shift && s > 1) s--; $1 = s; print }' | sort >"$d/rows"
	n=$(comm -23 ref.rows "$d/rows" | wc -l)
	[ "$n" = 0 ] || { echo "$n bank rows missing" >&2; lost=$((lost + n)); }
	# (after a second full export, its rows are those of the first again)
	n=$(comm -13 ref.rows "$d/rows" | { [ $shift = 1 ] && grep -v "^1 " || cat; } | wc -l)
	[ "$n" = 0 ] || { echo "$n bank rows more than a fault-free chain" >&2; dup=$((dup + n)); }
	view "$d" >"$d/view"
	n=$(comm -23 ref.view "$d/view" | wc -l)
	[ "$n" = 0 ] || { echo "the partner lacks $n hashes" >&2; lost=$((lost + n)); }
	n=$(comm -13 ref.view "$d/view" | wc -l)
	[ "$n" = 0 ] || { echo "the partner has $n hashes too many" >&2; dup=$((dup + n)); }
	# the killed run and its recovery
	if [ "$(cat "$d/committed")" = 1 ]; then
		if [ "$k" = 1 ]; then
			jq -e ".kind == \"full\"" "$d/rec-$k" >/dev/null ||
				{ echo "the recovery of a committed full export made no full export" >&2; bad=1; }
		else
			jq -e ".empty == true" "$d/rec-$k" >/dev/null ||
				{ echo "the recovery of a committed delta wrote another" >&2; dup=$((dup + 1)); }
		fi
	else
		jq -e ".seq == $k" "$d/rec-$k" >/dev/null ||
			{ echo "the recovery run did not make export $k" >&2; bad=1; }
	fi
	n=$(q "$d" "PRAGMA integrity_check; PRAGMA foreign_key_check")
	[ "$n" = ok ] || { echo "integrity check: $n" >&2; bad=1; }
	echo "$lost $dup $refull"
	[ $bad = 0 ] && [ $lost = 0 ] && [ $dup = 0 ]
}

test_expect_success "$TRIALS trials: one run of a chain killed at a random instant, then run to completion" '
	killed=0 committed=0 recovered=0 lost=0 dup=0 failed=0 other=0 refull=0
	for t in $(seq 1 "$TRIALS"); do
		d=trial-$t
		copy_store $d || return 1
		crash_rand 3; k=$((CRASH_R + 1))
		for s in 1 2 3; do
			change $d $s || return 1
			if [ $s = $k ]; then
				before=$(q $d "SELECT count(*) FROM exports")
				eval "run_us=\$run_us_$s"
				CRASH_PIPE=$((t % 2))
				crash_kill "$run_us" $d/killed.out $d/killed.err $(step_cmd $d $s)
				killed=$((killed + CRASH_KILLED))
				c=0; [ "$(q $d "SELECT count(*) FROM exports")" -gt "$before" ] && c=1
				echo $c >$d/committed; committed=$((committed + c * CRASH_KILLED))
			fi
			$(step_cmd $d $s) >$d/rec-$s 2>$d/err-$s; echo $? >$d/rc-$s
			[ $s = $k ] && jq -e ".recovered > 0" $d/rec-$s >/dev/null 2>&1 &&
				recovered=$((recovered + 1))
			echo 0 >$d/partner-$s
			if [ $s = $k ] || [ $s = 3 ]; then
				partner $d >/dev/null 2>$d/partner-err-$s; echo $? >$d/partner-$s
			fi
		done
		if check_trial $d $k >$d/counts 2>$d/why; then
			read -r l u r <$d/counts; refull=$((refull + r))
			rm -rf $d
		else
			read -r l u r <$d/counts
			lost=$((lost + l)) dup=$((dup + u)) failed=$((failed + 1)) refull=$((refull + r))
			[ "$l$u" = 00 ] && other=$((other + 1))
			echo "trial $t (step $k killed, delay $CRASH_DELAY us, status $CRASH_STATUS, committed $(cat $d/committed)):"
			sed "s/^/  /" $d/why
		fi
	done
	echo "$TRIALS $killed $committed $recovered $lost $dup $failed $other $refull" >counts
	test $failed = 0 && test $killed -gt 0
'
read -r n killed committed recovered lost dup failed other refull <counts 2>/dev/null ||
	{ n=$TRIALS killed=0 committed=0 recovered=0 lost=0 dup=0 failed=$TRIALS other=$TRIALS refull=0; }
diag "$killed of $n runs killed before they finished; $committed had committed their export," \
	"$recovered of them with files the recovery run renamed into place;" \
	"$refull second full exports (a killed full export that had committed, asked for again)"
crash_summary dz-export "$n" "$killed" "$lost" "$dup" "$failed" "$other"
test_done
