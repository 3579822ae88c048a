#!/bin/bash
# dz-hash --store killed with SIGKILL at random instants. Each trial
# copies a prepared store (three cases: twelve images and a video judged
# illegal, one image judged not illegal, one still in review), kills a run
# at a random instant within 1.2 times what a whole run takes, then runs
# dz-hash --store again to completion (the recovery run) and checks:
#
#   the store (the system of record): every item due has its hashes
#     exactly once, the same values as a fault-free run of the same store
#     (an image: pdq, md5, sha256; the video: video_md5, sha256, vpdq),
#     one "hash" audit entry, its key erased and its blob file gone; no
#     item is both unhashed and without its media; the items not due keep
#     theirs; no blob file that no item names, no temporary file; the
#     write-ahead log truncated; PRAGMA integrity_check and
#     foreign_key_check clean;
#   the records: the recovery run exits 0 and reports exactly the items
#     the killed run had not committed; the killed run reported only items
#     it committed; no item is reported by both runs, none twice; each
#     record names the entry id the store keeps. A record of the killed
#     run may be lost with the process (committed, not yet written): the
#     store is the system of record. In odd trials the killed run writes
#     to a pipe, where records are line-buffered: at most one is lost (the
#     item being finished when the kill came); in even trials to a file,
#     block-buffered, where all may be: those are counted, not failures.
#
# DZ_CRASH_TRIALS (default 50) trials; DZ_CRASH_SEED replays the delays.
# slow: crash trials (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"
. "$TOP/t/lib-crash.sh"
require_testdata

TRIALS=${DZ_CRASH_TRIALS:-50}
crash_init

# ---- the template store ----
printf 'store: %s/tpl/store\nmaster_key: %s/master.key\n' "$TRASH" "$TRASH" >tpl.yaml
mkdir tpl media
for i in $(seq 1 13); do
	convert -size 320x240 plasma:fractal -seed "$i" -quality 90 "media/i$i.jpg" 2>/dev/null ||
		convert -size 320x240 "gradient:rgb($((i * 19)),0,0)-blue" "media/i$i.jpg"
done
cp "$TESTDATA/vpdq/videos/test-padded-dimensions.mp4" media/v.mp4
{
	printf '{"type":"submission","submission":"h-1","age":25,"files":["media/i1.jpg","media/i2.jpg","media/i3.jpg","media/i4.jpg","media/i5.jpg"]}\n'
	printf '{"type":"submission","submission":"h-2","age":25,"files":["media/i6.jpg","media/v.mp4","media/i7.jpg","media/i8.jpg"]}\n'
	printf '{"type":"submission","submission":"h-3","age":17,"files":["media/i9.jpg","media/i10.jpg","media/i11.jpg","media/i12.jpg","media/i13.jpg"]}\n'
} >sub.jsonl

test_expect_success 'setup: a store with 13 items due (one a video), 2 not due' '
	DZ_CONFIG=$TRASH/tpl.yaml dz-ingest --init 2>/dev/null &&
	DZ_CONFIG=$TRASH/tpl.yaml dz-ingest sub.jsonl >acks &&
	jq -r ".case" acks >cases && test $(wc -l <cases) = 3 &&
	{ c1=$(sed -n 1p cases) c2=$(sed -n 2p cases) c3=$(sed -n 3p cases)
	  for it in $c1-1 $c1-2 $c1-3 $c1-4 $c1-5 $c2-1 $c2-2 $c2-3 $c2-4 $c3-1 $c3-2 $c3-3; do
		printf "{\"type\":\"verdict\",\"item\":\"%s\",\"illegal\":true,\"category\":\"adult_ncii\",\"override_minor\":true}\n" $it
	  done
	  printf "{\"type\":\"verdict\",\"item\":\"%s\",\"illegal\":true,\"category\":\"minor\"}\n" $c3-4
	  printf "{\"type\":\"verdict\",\"item\":\"%s\",\"illegal\":false}\n" $c3-5
	} >v.jsonl &&
	DZ_CONFIG=$TRASH/tpl.yaml dz-ingest v.jsonl >/dev/null &&
	printf "{\"type\":\"submission\",\"submission\":\"h-4\",\"age\":30,\"files\":[\"media/i1.jpg\"]}\n" >sub4.jsonl &&
	DZ_CONFIG=$TRASH/tpl.yaml dz-ingest sub4.jsonl >/dev/null &&
	sqlite3 tpl/store/store.db "SELECT id FROM items WHERE state = '\''illegal'\'' AND media_key IS NOT NULL ORDER BY id" >due &&
	sqlite3 tpl/store/store.db "SELECT id FROM items WHERE has_media AND id NOT IN (SELECT id FROM items WHERE state = '\''illegal'\'') ORDER BY id" >notdue &&
	test $(wc -l <due) = 13 && test $(wc -l <notdue) = 2 &&
	test $(ls tpl/store/blobs | wc -l) = 15
'

# a copy of the template as store DIR/store, with DIR/dz.yaml
copy_store() {
	mkdir -p "$1" && cp -a tpl/store "$1/store" &&
	printf 'store: %s/%s/store\nmaster_key: %s/master.key\n' "$TRASH" "$1" "$TRASH" >"$1/dz.yaml"
}

# ---- a fault-free run: the expected hashes, and how long a run takes ----
test_expect_success 'a fault-free run hashes every item due, once' '
	copy_store ref && crash_now && t0=$CRASH_NOW &&
	DZ_CONFIG=$TRASH/ref/dz.yaml dz-hash --store >ref/out 2>ref/err &&
	crash_now && echo $(( CRASH_NOW - t0 )) >run_us &&
	jq -r "select(.type == \"hash\") | .item" ref/out | sort >got && test_cmp due got &&
	sqlite3 ref/store/store.db "SELECT item_id, signal, value FROM hashes ORDER BY 1, 2" >ref/hashes &&
	test $(wc -l <ref/hashes) = 39 &&
	test $(grep -c "|vpdq|" ref/hashes) = 1 && test $(grep -c "|video_md5|" ref/hashes) = 1 &&
	test $(ls ref/store/blobs | wc -l) = 2
'
run_us=$(cat run_us 2>/dev/null || echo 500000)
# a second measure, the longer of the two: a loaded machine varies
copy_store ref2 && crash_now && t0=$CRASH_NOW &&
	DZ_CONFIG=$TRASH/ref2/dz.yaml dz-hash --store >/dev/null 2>&1 && crash_now &&
	[ $(( CRASH_NOW - t0 )) -gt "$run_us" ] && run_us=$(( CRASH_NOW - t0 ))
rm -rf ref2
diag "a whole run takes about $((run_us / 1000)) ms"

q() { sqlite3 "$1/store/store.db" "$2"; }

# check_trial DIR: prints "lost dup lostrec" on stdout, reasons on stderr;
# fails when something is wrong
check_trial() {
	local d=$1 bad=0 lost=0 dup=0 n
	# the store: hashes as a fault-free run gives them, each once
	q "$d" "SELECT item_id, signal, value FROM hashes ORDER BY 1, 2" >"$d/hashes"
	n=$(comm -23 ref/hashes "$d/hashes" | wc -l)
	[ "$n" = 0 ] || { echo "$n hash rows missing or different" >&2; lost=$((lost + n)); }
	n=$(comm -13 ref/hashes "$d/hashes" | wc -l)
	[ "$n" = 0 ] || { echo "$n hash rows more than a fault-free run" >&2; dup=$((dup + n)); }
	n=$(q "$d" "SELECT count(*) FROM (SELECT 1 FROM hashes GROUP BY item_id, signal HAVING count(*) > 1)")
	[ "$n" = 0 ] || { echo "$n signals twice for an item" >&2; dup=$((dup + n)); }
	n=$(q "$d" "SELECT count(*) FROM (SELECT item_id FROM audit WHERE action = 'hash' GROUP BY item_id HAVING count(*) > 1)")
	[ "$n" = 0 ] || { echo "$n items audited as hashed twice" >&2; dup=$((dup + n)); }
	q "$d" "SELECT item_id FROM audit WHERE action = 'hash' ORDER BY 1" >"$d/audited"
	cmp -s due "$d/audited" || { echo "the hash audit entries are not one per item due" >&2; bad=1; }
	# media destroyed exactly for the items hashed
	q "$d" "SELECT id FROM items WHERE hashed_at IS NOT NULL AND media_key IS NULL AND blob IS NULL ORDER BY id" >"$d/destroyed"
	n=$(comm -23 due "$d/destroyed" | wc -l)
	[ "$n" = 0 ] || { echo "$n items due not hashed with media destroyed" >&2; lost=$((lost + n)); }
	n=$(q "$d" "SELECT count(*) FROM items WHERE has_media AND hashed_at IS NULL AND media_key IS NULL AND media_purged_at IS NULL")
	[ "$n" = 0 ] || { echo "$n items unhashed and without media" >&2; lost=$((lost + n)); }
	q "$d" "SELECT id FROM items WHERE media_key IS NOT NULL AND blob IS NOT NULL ORDER BY id" >"$d/kept"
	cmp -s notdue "$d/kept" || { echo "the items not due lost their media" >&2; bad=1; }
	# blob files: exactly those the store names
	q "$d" "SELECT blob FROM items WHERE blob IS NOT NULL ORDER BY 1" >"$d/named"
	ls -A "$d/store/blobs" | sort >"$d/files"
	cmp -s "$d/named" "$d/files" || {
		echo "blob files the store does not name, or named and missing:" >&2
		diff "$d/named" "$d/files" | sed -n "s/^[<>]/  &/p" >&2; bad=1; }
	[ ! -s "$d/store/store.db-wal" ] || { echo "the write-ahead log is not truncated" >&2; bad=1; }
	n=$(q "$d" "PRAGMA integrity_check; PRAGMA foreign_key_check")
	[ "$n" = ok ] || { echo "integrity check: $n" >&2; bad=1; }
	# the records of both runs
	[ "$(cat "$d/rc")" = 0 ] || { echo "the recovery run exited $(cat "$d/rc")" >&2; bad=1; }
	jq -R -r "fromjson? | select(.type == \"hash\") | .item" "$d/killed.out" | sort >"$d/rec.k"
	jq -R -r "fromjson? | select(.type == \"hash\") | .item" "$d/out" | sort >"$d/rec.r"
	jq -R -r "fromjson? | select(.type != \"hash\") | .type" "$d/killed.out" "$d/out" >"$d/rec.other"
	[ ! -s "$d/rec.other" ] || { echo "records other than hash records" >&2; bad=1; }
	n=$(sort "$d/rec.k" "$d/rec.r" | uniq -d | wc -l)
	[ "$n" = 0 ] || { echo "$n items reported hashed twice" >&2; dup=$((dup + n)); }
	comm -23 due "$d/hashed.k" >"$d/left.k"
	cmp -s "$d/left.k" "$d/rec.r" || {
		echo "the recovery run did not report exactly what the killed one left" >&2; bad=1; }
	n=$(comm -23 "$d/rec.k" "$d/hashed.k" | wc -l)
	[ "$n" = 0 ] || { echo "$n records of the killed run for items it did not commit" >&2; bad=1; }
	jq -R -r "fromjson? | select(.type == \"hash\") | [.item, .entry] | @tsv" "$d/killed.out" "$d/out" | sort >"$d/rec.entries"
	q "$d" "SELECT item_id, entry_id FROM hashes WHERE signal IN ('pdq', 'vpdq') ORDER BY 1" | tr '|' '\t' >"$d/store.entries"
	n=$(comm -23 "$d/rec.entries" "$d/store.entries" | wc -l)
	[ "$n" = 0 ] || { echo "$n records name an entry id the store does not keep" >&2; bad=1; }
	n=$(comm -23 "$d/hashed.k" "$d/rec.k" | wc -l)
	if [ -e "$d/pipe" ] && [ "$n" -gt 1 ]; then
		echo "$n records lost by a killed run writing to a pipe (at most 1)" >&2; bad=1
	fi
	echo "$lost $dup $n"
	[ $bad = 0 ] && [ $lost = 0 ] && [ $dup = 0 ]
}

test_expect_success "$TRIALS trials: a run killed at a random instant, then a run to completion" '
	killed=0 midway=0 lost=0 dup=0 failed=0 other=0 lostrec=0
	for t in $(seq 1 "$TRIALS"); do
		d=trial-$t
		copy_store $d || return 1
		export DZ_CONFIG=$TRASH/$d/dz.yaml
		CRASH_PIPE=$((t % 2)); [ $CRASH_PIPE = 0 ] || : >$d/pipe
		crash_kill "$run_us" $d/killed.out $d/killed.err dz-hash --store
		killed=$((killed + CRASH_KILLED))
		q $d "SELECT id FROM items WHERE hashed_at IS NOT NULL ORDER BY id" >$d/hashed.k
		n=$(wc -l <$d/hashed.k)
		[ "$n" -gt 0 ] && [ "$n" -lt 13 ] && midway=$((midway + 1))
		dz-hash --store >$d/out 2>$d/err; echo $? >$d/rc
		if check_trial $d >$d/counts 2>$d/why; then
			read -r l u r <$d/counts; lostrec=$((lostrec + r))
			rm -rf $d
		else
			read -r l u r <$d/counts
			lost=$((lost + l)) dup=$((dup + u)) failed=$((failed + 1))
			[ "$l$u" = 00 ] && other=$((other + 1))
			echo "trial $t (delay $CRASH_DELAY us, status $CRASH_STATUS, $n hashed when killed):"
			sed "s/^/  /" $d/why
		fi
	done
	echo "$TRIALS $killed $midway $lost $dup $failed $other $lostrec" >counts
	test $failed = 0 && test $killed -gt 0
'
read -r n killed midway lost dup failed other lostrec <counts 2>/dev/null ||
	{ n=$TRIALS killed=0 midway=0 lost=0 dup=0 failed=$TRIALS other=$TRIALS lostrec=0; }
diag "$killed of $n runs killed before they finished, $midway with part of the items hashed;" \
	"$lostrec hash records lost with a killed process (in the store, not printed)"
crash_summary dz-hash "$n" "$killed" "$lost" "$dup" "$failed" "$other"
test_done
