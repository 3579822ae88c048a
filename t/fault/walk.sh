# t/fault/walk.sh: the fault walk, shared by t/0210-0213 and scripts/faults.
#
# Sourced with TOP (the repository) and FW_WORK (an empty scratch
# directory) set. For each scenario (a prepared directory holding a store,
# a master key, a dz.yaml with relative paths and the inputs, plus a
# command run inside it):
#   1. a reference run on a fresh copy, counting calls and call sites
#      (t/fault/faultinj.so with DZ_FAULT_COUNT), then a second run of the
#      same command (the state a re-run reaches);
#   2. for each class (write, fsync, rename, open: every call N; malloc:
#      every call site, or every FW_MALLOC_EVERY-th), a run on a fresh
#      copy with DZ_FAULT set, then the checks of fw_check, then a clean
#      re-run and the checks of the end state.
# A failure is one line in $FW_WORK/failures with the command that
# reproduces it; the run's directory is kept.
#
# Knobs: FW_MALLOC_EVERY (1: every site), FW_IO_MODE (calls: walk the
# calls 1..N of write, fsync, rename and open, up to FW_IO_MAX of them,
# else their call sites; sites: their call sites), FW_CLASSES (default
# all five),
# FW_KEEP (how many failing run directories to keep, default 20).

FW_MALLOC_EVERY=${FW_MALLOC_EVERY:-1}
FW_IO_MAX=${FW_IO_MAX:-400}
FW_IO_MODE=${FW_IO_MODE:-calls}
FW_CLASSES=${FW_CLASSES:-"write fsync rename open malloc"}
FW_KEEP=${FW_KEEP:-20}
FW_INJ=$TOP/t/fault/faultinj.so
FW_ASAN=
if [ "${DZ_SANITIZE:-}" = 1 ]; then
	# The ASan runtime owns malloc: preload the I/O-only build, and tell
	# the runtime not to insist on coming first.
	FW_INJ=$TOP/t/fault/faultinj-io.so
	FW_ASAN=1
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0"
fi
export LC_ALL=C TZ=UTC

# The programs walked are copied first: the call sites are those of one
# binary, even if cmd/ is rebuilt meanwhile.
mkdir -p "$FW_WORK/bin" || exit 1
for fw_p in dz-ingest dz-hash dz-purge dz-export; do
	for fw_try in 1 2 3 4 5; do
		cp "$TOP/cmd/$fw_p" "$FW_WORK/bin/$fw_p" 2>/dev/null &&
			"$FW_WORK/bin/$fw_p" -V >/dev/null 2>&1 && break
		sleep 2
	done
done
cp "$FW_INJ" "$FW_WORK/bin/" || exit 1
FW_INJ=$FW_WORK/bin/${FW_INJ##*/}
export PATH="$FW_WORK/bin:$PATH"

# Canaries: personal data and media bytes that must never be found in the
# store, the spool, TMPDIR, a message or a record.
FW_C_EMAIL=canary-contact-7a1@example.org
FW_C_NAME='Canary Person'
FW_C_DESC='CANARY-DESCRIPTION-5e2'
FW_C_MEDIA='CANARY-MEDIA-9d4'

fw_nfail=0

fw_die() { echo "walk: $*" >&2; exit 1; }

# fw_media FILE SEED: a small synthetic PNG (seeded noise: a PDQ of
# quality 100, far from the others) carrying the media canary.
fw_media() {
	convert -seed "$2" -size 48x48 xc:gray +noise Random -set comment "$FW_C_MEDIA $1" "$1" ||
		fw_die "convert failed"
}

# fw_config DIR: dz.yaml with paths relative to DIR (the run's cwd).
fw_config() {
	cat >"$1/dz.yaml" <<-EOF
	store: store
	master_key: master.key
	retention:
	  personal_data_days: 14
	  unverified_media_days: 30
	  withdrawn_hash_days: 30
	  rejected_days: 7
	export:
	  signing_key: k.key
	  public_key: k.pub
	EOF
}

# fw_in DIR CMD...: run a command inside DIR with its configuration.
fw_in() {
	local d=$1
	shift
	(cd "$d" && DZ_CONFIG="$d/dz.yaml" TMPDIR="$d/tmp" "$@")
}

# fw_sub ID [FILE...]: a submission with a URL, a contact, a description.
fw_sub() {
	local id=$1 files
	shift
	files=$(printf '"%s",' "$@")
	printf '{"type":"submission","submission":"%s","age":29,"urls":["https://example.com/%s"],"files":[%s],"contact":{"email":"%s","name":"%s"},"followup":true,"description":"%s"}\n' \
		"$id" "$id" "${files%,}" "$FW_C_EMAIL" "$FW_C_NAME" "$FW_C_DESC"
}

# ---------- the end state, as numbers that do not depend on random ids ----------

fw_summary() {	# fw_summary DIR
	local d=$1
	sqlite3 "$d/store/store.db" "
	SELECT 'cases', count(*), count(DISTINCT submission_id), sum(state = 'closed'),
		sum(purged_at IS NOT NULL), sum(contact IS NOT NULL), sum(case_key IS NOT NULL),
		sum(withdrawn_at IS NOT NULL) FROM cases;
	SELECT 'items', state, count(*), sum(has_media), sum(blob IS NOT NULL),
		sum(media_key IS NOT NULL), sum(hashed_at IS NOT NULL),
		sum(media_purged_at IS NOT NULL) FROM items GROUP BY state;
	SELECT 'hashes', signal, count(*), sum(withdrawn_at IS NOT NULL),
		sum(purged_at IS NOT NULL), sum(shared), count(DISTINCT entry_id) FROM hashes GROUP BY signal;
	SELECT 'exports', kind, count(*), sum(entries), sum(withdrawals) FROM exports GROUP BY kind;
	SELECT 'audit', action, count(*) FROM audit GROUP BY action;
	SELECT 'notices', count(*) FROM notices;" 2>&1
	echo "blobs $(find "$d/store/blobs" -name '*.dzb' | wc -l) other $(find "$d/store/blobs" -type f ! -name '*.dzb' | wc -l)"
	[ -d "$d/spool" ] && (cd "$d/spool" && find . -mindepth 2 -maxdepth 2 | sort | sed 's/^/spool /')
	[ -d "$d/up" ] && (cd "$d/up" && ls | sed 's/^/upload /')
	(cd "$d" && ls -d -- *.tmp out.* 2>/dev/null | sed 's/^/file /')
	return 0
}

# ---------- the checks ----------

# fw_consistent DIR: integrity, foreign keys, every live blob present.
fw_consistent() {
	local d=$1 ic
	ic=$(sqlite3 "$d/store/store.db" "PRAGMA integrity_check; PRAGMA foreign_key_check;" 2>&1)
	[ "$ic" = ok ] || { echo "store inconsistent: $(echo "$ic" | head -3 | tr '\n' ' ')"; return 1; }
	local missing
	missing=$(sqlite3 "$d/store/store.db" "SELECT blob FROM items WHERE blob IS NOT NULL AND media_key IS NOT NULL" |
		while read -r b; do [ -e "$d/store/blobs/$b" ] || echo "$b"; done)
	[ -z "$missing" ] || { echo "blob of a live item missing: $missing"; return 1; }
	return 0
}

# fw_plaintext DIR PLACES...: no canary in those places under DIR.
fw_plaintext() {
	local d=$1 p hits
	shift
	for p in "$@"; do
		[ -e "$d/$p" ] || continue
		hits=$(grep -r -a -l -F -e "$FW_C_MEDIA" -e "$FW_C_EMAIL" -e "$FW_C_NAME" \
			-e "$FW_C_DESC" "$d/$p" 2>/dev/null | sed "s|^$d/||")
		[ -z "$hits" ] || { echo "plaintext left: $(echo $hits)"; return 1; }
	done
	return 0
}

# fw_messages PROG RC OUT ERR: what the faulty run said.
fw_messages() {
	local prog=$1 rc=$2 out=$3 err=$4
	if grep -q -F -e "$FW_C_MEDIA" -e "$FW_C_EMAIL" -e "$FW_C_NAME" -e "$FW_C_DESC" "$out" "$err"; then
		echo "a canary in the output or the messages"; return 1
	fi
	if grep -q -E '0x[0-9a-fA-F]{6,}|AddressSanitizer|runtime error:' "$err"; then
		echo "raw dump in the messages: $(head -1 "$err")"; return 1
	fi
	if [ "$rc" != 0 ]; then
		[ -s "$err" ] || { echo "exit $rc without a message"; return 1; }
		if grep -v -q "^$prog: " "$err"; then
			echo "a message not starting with '$prog: ': $(grep -v "^$prog: " "$err" | head -1)"
			return 1
		fi
	fi
	return 0
}

# fw_acked DIR OUT: every record the run printed is reflected in the store.
fw_acked() {
	local d=$1 out=$2 db=$1/store/store.db bad
	[ -s "$out" ] || return 0
	jq -c . "$out" >/dev/null 2>&1 || { echo "stdout is not JSON Lines"; return 1; }
	bad=$(jq -r --arg q "'" '
	  def s(x): $q + (x | tostring) + $q;
	  def chk(cond; msg): "SELECT CASE WHEN \(cond) THEN \(s("")) ELSE \(s(msg)) END;";
	  if .type == "ack" and .of == "submission" then
	    chk("(SELECT count(*) FROM cases WHERE id = \(s(.case)) AND submission_id = \(s(.submission))) = 1"
	      + (if .items then " AND (SELECT count(*) FROM items WHERE case_id = \(s(.case))) = \(.items | length)" else "" end);
	      "acked submission \(.submission) missing")
	  elif .type == "ack" and .of == "verdict" then
	    chk("(SELECT state FROM items WHERE id = \(s(.item))) != \(s("review"))"; "acked verdict on \(.item) missing")
	  elif .type == "ack" and (.of == "close" or .of == "withdraw") then
	    chk("(SELECT count(*) FROM cases WHERE id = \(s(.case)) AND (closed_at IS NOT NULL OR withdrawn_at IS NOT NULL)) = 1";
	      "acked \(.of) of \(.case) missing")
	  elif .type == "hash" then
	    chk("(SELECT count(*) FROM hashes WHERE entry_id = \(s(.entry)) AND item_id = \(s(.item))) = 1 AND (SELECT count(*) FROM items WHERE id = \(s(.item)) AND hashed_at IS NOT NULL AND media_key IS NULL) = 1";
	      "hash of \(.item) printed but not committed")
	  elif .type == "purge" and .what == "media" then
	    chk("(SELECT count(*) FROM items WHERE id = \(s(.item)) AND media_key IS NULL) = 1"; "purged media of \(.item) still has its key")
	  elif .type == "purge" and .what == "personal_data" then
	    chk("(SELECT count(*) FROM cases WHERE id = \(s(.case)) AND case_key IS NULL AND contact IS NULL) = 1"; "purged personal data of \(.case) still there")
	  elif .type == "purge" and .what == "hashes" then
	    chk("(SELECT count(*) FROM hashes WHERE item_id = \(s(.item))) = 0"; "purged hashes of \(.item) still there")
	  elif .type == "export" and .seq then
	    chk("(SELECT count(*) FROM exports WHERE seq = \(.seq)) = 1"; "printed export \(.seq) not recorded")
	  else empty end' "$out" | sqlite3 "$db" 2>&1 | grep -v '^$')
	[ -z "$bad" ] || { echo "$bad" | head -3 | tr '\n' ' '; return 1; }
	# an export record: its files are in place, signed
	local f
	for f in $(jq -r 'select(.type == "export") | .files[]? | .path' "$out"); do
		[ -s "$f" ] || { echo "printed export file $f missing"; return 1; }
		minisign -Vm "$f" -p "$d/k.pub" >/dev/null 2>&1 ||
			{ echo "printed export file $f does not verify"; return 1; }
	done
	return 0
}

# fw_outputs_ok DIR: every bank file named by the command exists and verifies.
fw_outputs_ok() {
	local d=$1 f
	for f in $FW_OUTPUTS; do
		[ -s "$d/$f" ] || { echo "output $f missing"; return 1; }
		minisign -Vm "$d/$f" -p "$d/k.pub" >/dev/null 2>&1 ||
			{ echo "output $f does not verify"; return 1; }
	done
	if ls "$d"/*.tmp >/dev/null 2>&1; then
		echo "temporary file left: $(cd "$d" && ls *.tmp)"; return 1
	fi
	return 0
}

# ---------- one scenario ----------

FW_CUR=			# name of the scenario being walked
FW_CMD=			# its command, run with eval inside its directory
FW_PROG=		# the program, for messages
FW_OUTPUTS=		# bank files it must leave, verified with minisign
FW_PLACES="store tmp"	# where no plaintext may be, right after a faulty run
FW_PLACES_END="store tmp"	# and after the clean re-run

# fw_run DIR OUT ERR [ENV...]: the scenario's command in DIR; prints the exit code.
fw_run() {
	local d=$1 out=$2 err=$3
	shift 3
	mkdir -p "$d/tmp"
	(cd "$d" && export DZ_CONFIG="$d/dz.yaml" TMPDIR="$d/tmp" "$@" &&
		eval "$FW_CMD") >"$out" 2>"$err" </dev/null
	echo $?
}

fw_fail() {	# fw_fail SPEC DIR WHY
	fw_nfail=$((fw_nfail + 1))
	fw_case_fail=$((fw_case_fail + 1))
	printf '%s %s: %s\n    reproduce: cd %s && cp -a %s/base/. /tmp/x && cd /tmp/x && DZ_CONFIG=$PWD/dz.yaml TMPDIR=$PWD/tmp LD_PRELOAD=%s DZ_FAULT=%q %s\n' \
		"$FW_CUR" "$1" "$3" "$FW_WORK" "$FW_SCEN" "$FW_INJ" "$1" "$FW_CMD" >>"$FW_WORK/failures"
	if [ "$fw_kept" -lt "$FW_KEEP" ]; then
		fw_kept=$((fw_kept + 1))
		mv "$2" "$FW_SCEN/fail-$fw_kept"
		echo "    kept: $FW_SCEN/fail-$fw_kept" >>"$FW_WORK/failures"
	fi
}
fw_kept=0

# fw_one SPEC: one faulty run and its checks. Sets fw_fired.
fw_one() {
	local spec=$1 d=$FW_SCEN/run rc why rc2 sum
	rm -rf "$d" && cp -a "$FW_SCEN/base" "$d"
	rc=$(fw_run "$d" "$d/.out" "$d/.err" LD_PRELOAD="$FW_INJ" DZ_FAULT="$spec" DZ_FAULT_MARK="$d/.fired")
	fw_fired=0
	[ -s "$d/.fired" ] && fw_fired=1
	why=
	if [ "$rc" -gt 128 ]; then
		why="died by signal $((rc - 128))"
	elif [ $fw_fired = 1 ] && [ "$rc" = 0 ]; then
		# recovered? then the result must be complete and correct
		sum=$(fw_summary "$d")
		if [ "$sum" != "$FW_REF1" ] && [ "$sum" != "$FW_REF2" ]; then
			why="exit 0 after the fault, but the result differs from a clean run"
		elif [ "$(jq -r .type "$d/.out" 2>/dev/null | sort | uniq -c)" != "$FW_REF_TYPES" ]; then
			why="exit 0 after the fault, but the records differ from a clean run"
		elif ! why=$(fw_outputs_ok "$d"); then
			why="exit 0 after the fault: $why"
		else
			fw_recovered=$((fw_recovered + 1))
			echo "$FW_CUR $spec $(cat "$d/.fired")" >>"$FW_WORK/recovered"
		fi
	elif [ $fw_fired = 0 ] && [ "$rc" != "$FW_REF_RC" ]; then
		why="exit $rc with no fault fired (clean run: $FW_REF_RC)"
	fi
	[ -n "$why" ] || why=$(fw_messages "$FW_PROG" "$rc" "$d/.out" "$d/.err") || true
	[ -n "$why" ] || why=$(fw_consistent "$d") || true
	[ -n "$why" ] || why=$(fw_acked "$d" "$d/.out") || true
	[ -n "$why" ] || why=$(fw_plaintext "$d" $FW_PLACES) || true
	if [ -z "$why" ]; then
		# a clean re-run finishes the work: the state of a clean run
		rc2=$(fw_run "$d" "$d/.out2" "$d/.err2")
		sum=$(fw_summary "$d")
		if [ "$rc2" != "$FW_REF_RC" ] && [ "$rc2" != "$FW_REF_RC2" ]; then
			why="the re-run exited $rc2 (clean run: $FW_REF_RC, then $FW_REF_RC2): $(head -1 "$d/.err2")"
		elif [ "$sum" != "$FW_REF1" ] && [ "$sum" != "$FW_REF2" ]; then
			why="after a re-run the store differs from a clean run: $(diff <(echo "$FW_REF1") <(echo "$sum") | grep '^[<>]' | head -4 | tr '\n' ' ')"
		fi
		[ -n "$why" ] || why=$(fw_consistent "$d") || true
		[ -n "$why" ] || why=$(fw_outputs_ok "$d") || true
		[ -n "$why" ] || why=$(fw_plaintext "$d" $FW_PLACES_END) || true
	fi
	if [ -n "$why" ]; then
		[ -n "$(cat "$d/.err")" ] && why="$why [exit $rc; said: $(head -2 "$d/.err" | tr '\n' ' ')]" || why="$why [exit $rc]"
		fw_fail "$spec" "$d" "$why"
		return 1
	fi
	return 0
}

# fw_scenario NAME PREPARE-FUNCTION: prepare, reference runs, then the walk.
# Appends one line per class to $FW_WORK/table:
#   scenario class walked fired recovered failures how
fw_scenario() {
	local name=$1 prep=$2 r c n k i walked spec sites
	FW_CUR=$name
	FW_SCEN=$FW_WORK/$name
	rm -rf "$FW_SCEN" && mkdir -p "$FW_SCEN/base/tmp"
	fw_config "$FW_SCEN/base"
	$prep "$FW_SCEN/base" >"$FW_SCEN/prepare.log" 2>&1 || {
		echo "$name: preparing failed, see $FW_SCEN/prepare.log" >>"$FW_WORK/failures"
		fw_nfail=$((fw_nfail + 1))
		return 1
	}
	# reference: a clean run counting, then the same command again
	r=$FW_SCEN/ref
	cp -a "$FW_SCEN/base" "$r"
	FW_REF_RC=$(fw_run "$r" "$r/.out" "$r/.err" LD_PRELOAD="$FW_INJ" DZ_FAULT_COUNT="$r/.count")
	FW_REF1=$(fw_summary "$r")
	FW_REF_TYPES=$(jq -r .type "$r/.out" 2>/dev/null | sort | uniq -c)
	local why
	why=$(fw_consistent "$r" && fw_acked "$r" "$r/.out" && fw_outputs_ok "$r" &&
		fw_plaintext "$r" $FW_PLACES_END) || {
		echo "$name: the clean run is already wrong: $why [exit $FW_REF_RC: $(head -1 "$r/.err")]" >>"$FW_WORK/failures"
		fw_nfail=$((fw_nfail + 1))
		return 1
	}
	FW_REF_RC2=$(fw_run "$r" "$r/.out2" "$r/.err2")
	FW_REF2=$(fw_summary "$r")
	for c in $FW_CLASSES; do
		[ "$c" = malloc ] && [ -n "$FW_ASAN" ] && {
			echo "$name malloc 0 0 0 0 skipped:asan" >>"$FW_WORK/table"
			continue
		}
		n=$(awk -v c="$c" '$1 == "count" && $2 == c { print $3 + 0 }' "$r/.count")
		sites=$(awk -v c="$c" '$1 == "site" && $2 == c' "$r/.count" | wc -l)
		fw_case_fail=0 fw_recovered=0 walked=0 k=0 fired=0
		if [ "$c" != malloc ] && [ "$FW_IO_MODE" = calls ] && [ "$n" -le "$FW_IO_MAX" ]; then
			how="calls"
			for i in $(seq 1 "$n"); do
				walked=$((walked + 1))
				fw_one "$c:$i"
				fired=$((fired + fw_fired))
			done
		else
			how="sites"
			[ "$c" = malloc ] && [ "$FW_MALLOC_EVERY" -gt 1 ] && how="sites/$FW_MALLOC_EVERY"
			while read -r spec; do
				k=$((k + 1))
				[ "$c" = malloc ] && [ $(((k - 1) % FW_MALLOC_EVERY)) != 0 ] && continue
				walked=$((walked + 1))
				fw_one "$c@site=$spec"
				fired=$((fired + fw_fired))
			done < <(awk -v c="$c" '$1 == "site" && $2 == c { print $4 }' "$r/.count")
		fi
		echo "$name $c $walked $fired $fw_recovered $fw_case_fail $how:$n/$sites" >>"$FW_WORK/table"
	done
	rm -rf "$FW_SCEN/run"
	return 0
}

# ---------- the scenarios ----------

# dz-ingest --remove-files in.jsonl: a new submission with two media
# files, a verdict and a close on a case already in the store.
fw_prep_ingest() {
	local d=$1 c
	cd "$d" && export DZ_CONFIG=$d/dz.yaml TMPDIR=$d/tmp || return 1
	dz-ingest --init 2>/dev/null || return 1
	mkdir up && fw_media up/old.png 1 &&
	fw_sub s-old up/old.png >old.jsonl &&
	dz-ingest --remove-files old.jsonl >old.ack || return 1
	c=$(jq -r .case old.ack)
	fw_media up/a.png 2 && fw_media up/b.png 3 || return 1
	{ fw_sub s-new up/a.png up/b.png
	  printf '{"type":"verdict","item":"%s-2","illegal":true,"category":"adult_ncii"}\n' "$c"
	  printf '{"type":"close","case":"%s"}\n' "$c"; } >in.jsonl
	rm -f old.jsonl old.ack
}

# dz-ingest --spool spool: two valid entries (three media files) and an
# invalid one.
fw_prep_spool() {
	local d=$1
	cd "$d" && export DZ_CONFIG=$d/dz.yaml TMPDIR=$d/tmp || return 1
	dz-ingest --init 2>/dev/null || return 1
	mkdir -p spool/new/e1 spool/new/e2 spool/new/e3 spool/tmp &&
	fw_media spool/new/e1/a.png 4 && fw_media spool/new/e1/b.png 5 &&
	fw_media spool/new/e2/c.png 6 &&
	fw_sub sp-1 a.png b.png >spool/new/e1/submission.json &&
	fw_sub sp-2 c.png >spool/new/e2/submission.json &&
	convert -size 16x16 xc:gray spool/new/e3/d.png &&
	printf '{"type":"submission","submission":"sp-3","files":["d.png"]}\n' >spool/new/e3/submission.json
}

# dz-hash --store: three items judged illegal (two cases).
fw_prep_hash() {
	local d=$1 c1 c2
	cd "$d" && export DZ_CONFIG=$d/dz.yaml TMPDIR=$d/tmp || return 1
	dz-ingest --init 2>/dev/null || return 1
	mkdir up && fw_media up/a.png 7 && fw_media up/b.png 8 &&
	fw_media up/c.png 9 && fw_media up/d.png 10 || return 1
	{ fw_sub h-1 up/a.png up/b.png; fw_sub h-2 up/c.png up/d.png; } >s.jsonl &&
	dz-ingest --remove-files s.jsonl >acks || return 1
	c1=$(jq -r 'select(.submission == "h-1") | .case' acks)
	c2=$(jq -r 'select(.submission == "h-2") | .case' acks)
	printf '{"type":"verdict","item":"%s","illegal":true,"category":"adult_ncii"}\n' \
		"$c1-2" "$c1-3" "$c2-2" | dz-ingest >/dev/null || return 1
	printf '{"type":"verdict","item":"%s","illegal":false}\n' "$c2-3" | dz-ingest >/dev/null &&
	rm -f s.jsonl acks
}

# dz-purge at a later date: unverified media, personal data of a closed
# case, withdrawn hashes (one shared in an export: a tombstone).
fw_prep_purge() {
	local d=$1 c1 c2 c3
	cd "$d" && export DZ_CONFIG=$d/dz.yaml TMPDIR=$d/tmp || return 1
	dz-ingest --init 2>/dev/null && dz-export keygen 2>/dev/null || return 1
	mkdir up && fw_media up/a.png 11 && fw_media up/b.png 12 &&
	fw_media up/c.png 13 || return 1
	{ fw_sub p-1 up/a.png; fw_sub p-2 up/b.png; fw_sub p-3 up/c.png; } >s.jsonl &&
	dz-ingest --remove-files s.jsonl >acks || return 1
	c1=$(jq -r 'select(.submission == "p-1") | .case' acks)
	c2=$(jq -r 'select(.submission == "p-2") | .case' acks)
	c3=$(jq -r 'select(.submission == "p-3") | .case' acks)
	printf '{"type":"verdict","item":"%s","illegal":true,"category":"adult_ncii"}\n' \
		"$c1-2" "$c3-2" | dz-ingest >/dev/null &&
	dz-hash --store >/dev/null && dz-export bank -o shared.jsonl >/dev/null &&
	printf '{"type":"%s","case":"%s"}\n' close "$c1" close "$c2" withdraw "$c3" |
		dz-ingest >/dev/null &&
	mkdir -p spool/rejected/old && echo '{}' >spool/rejected/old/error.json &&
	touch -d 2026-01-01 spool/rejected/old/error.json &&
	rm -f s.jsonl acks shared.jsonl shared.jsonl.minisig
}

# dz-export bank: a store with hashes, one export already made, then a
# withdrawal and a new item hashed (for the delta).
fw_prep_export() {
	local d=$1 c1 c2 c3
	cd "$d" && export DZ_CONFIG=$d/dz.yaml TMPDIR=$d/tmp || return 1
	dz-ingest --init 2>/dev/null && dz-export keygen 2>/dev/null || return 1
	mkdir up && fw_media up/a.png 14 && fw_media up/b.png 15 &&
	fw_media up/c.png 16 && fw_media up/d.png 17 || return 1
	{ fw_sub x-1 up/a.png up/b.png; fw_sub x-2 up/c.png; } >s.jsonl &&
	dz-ingest --remove-files s.jsonl >acks || return 1
	c1=$(jq -r 'select(.submission == "x-1") | .case' acks)
	c2=$(jq -r 'select(.submission == "x-2") | .case' acks)
	printf '{"type":"verdict","item":"%s","illegal":true,"category":"adult_ncii"}\n' \
		"$c1-2" "$c1-3" "$c2-2" | dz-ingest >/dev/null &&
	dz-hash --store >/dev/null && mkdir old && dz-export bank -o old/full.jsonl >/dev/null || return 1
	fw_sub x-3 up/d.png | dz-ingest --remove-files >ack3 || return 1
	c3=$(jq -r .case ack3)
	printf '{"type":"verdict","item":"%s","illegal":true,"category":"minor"}\n' "$c3-2" |
		dz-ingest >/dev/null &&
	DZ_NOW=2026-01-20T12:00:00Z dz-hash --store >/dev/null &&
	printf '{"type":"withdraw","case":"%s"}\n' "$c2" | dz-ingest >/dev/null &&
	rm -f s.jsonl acks ack3
}

# The table of scenarios: name, program, preparation, command, outputs,
# places checked for plaintext after the re-run.
fw_walk() {	# fw_walk NAME...
	local s
	for s in "$@"; do
		FW_PLACES="store tmp" FW_PLACES_END="store tmp" FW_OUTPUTS=
		case $s in
		ingest)
			FW_PROG=dz-ingest FW_CMD='dz-ingest --remove-files in.jsonl'
			FW_PLACES_END="store tmp up"
			fw_scenario ingest fw_prep_ingest ;;
		spool)
			FW_PROG=dz-ingest FW_CMD='dz-ingest --spool spool'
			FW_PLACES_END="store tmp spool/new spool/tmp"
			fw_scenario spool fw_prep_spool ;;
		hash)
			FW_PROG=dz-hash FW_CMD='dz-hash --store'
			fw_scenario hash fw_prep_hash ;;
		purge)
			FW_PROG=dz-purge FW_CMD='DZ_NOW=2026-09-01T00:00:00Z dz-purge --spool spool'
			fw_scenario purge fw_prep_purge ;;
		export-full)
			FW_PROG=dz-export FW_CMD='dz-export bank -o out.dzb -o out.jsonl'
			FW_OUTPUTS="out.dzb out.jsonl"
			fw_scenario export-full fw_prep_export ;;
		export-delta)
			FW_PROG=dz-export FW_CMD='dz-export bank --since last -o out.csv -o out.jsonl'
			FW_OUTPUTS="out.csv out.jsonl"
			fw_scenario export-delta fw_prep_export ;;
		*)
			fw_die "unknown scenario '$s'" ;;
		esac
	done
}

# ---------- TAP, for t/0210-0213 ----------

# fw_tap SCENARIO...: walk each scenario and print one TAP line per class
# (t/lib.sh's t_result), with the failures as diagnostics.
fw_tap() {
	local s line name c walked fired rec nf how desc
	if [ ! -e "$FW_INJ" ]; then
		say "Bail out! $FW_INJ is missing: build it with make check (or make $FW_INJ)"
		exit 1
	fi
	: >"$FW_WORK/table"
	: >"$FW_WORK/failures"
	for s in "$@"; do
		: >"$FW_WORK/table.$s"
		: >"$FW_WORK/failures"
		fw_walk "$s"
		grep "^$s " "$FW_WORK/table" >"$FW_WORK/table.$s"
		if [ ! -s "$FW_WORK/table.$s" ]; then
			t_result 1 "$s: the scenario ran"
			diag "$(cat "$FW_WORK/failures")"
			continue
		fi
		while read -r name c walked fired rec nf how; do
			case $how in
			skipped:asan)
				skip "$s: $c faults (AddressSanitizer owns malloc)"
				continue ;;
			esac
			desc="$s ($FW_CMD): $c faults: $walked $(fw_how "$how") walked, $fired fired"
			[ "$rec" -gt 0 ] && desc="$desc, $rec recovered"
			t_result $([ "$nf" = 0 ] && echo 0 || echo 1) "$desc"
			[ "$nf" = 0 ] || diag "$(grep -A2 "^$s $c[:@]" "$FW_WORK/failures" | head -60)"
		done <"$FW_WORK/table.$s"
	done
}

# "calls:64/4" -> "of 64 calls", "sites/3:191/191" -> "of 191 call sites (one in 3)"
fw_how() {
	local kind=${1%%:*} n=${1#*:}
	local calls=${n%/*} sites=${n#*/}
	case $kind in
	calls) echo "of $calls calls" ;;
	sites) echo "of $sites call sites" ;;
	sites/*) echo "of $sites call sites (one in ${kind#sites/})" ;;
	esac
}
