#!/bin/bash
# dz-purge killed with SIGKILL at random instants: each trial ingests a
# batch of cases that are all due (media never verified, cases closed
# with a contact), kills a purge at a random instant within the time a
# whole run takes, then lets one finish. At the end every key and every
# contact of every batch is gone, no blob file is left, every deletion is
# in the audit log exactly once, no record is written twice (a record of
# a run killed between its commit and its output is lost: the audit log
# is the system of record), and the store passes its integrity check.
# DZ_CRASH_TRIALS (default 30) trials; DZ_CRASH_SEED replays the delays;
# scripts/crash-trials runs many more.
# slow: crash trials (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"
. "$TOP/t/lib-crash.sh"
crash_init

printf 'store: %s/store\nmaster_key: %s/master.key\n' "$TRASH" "$TRASH" >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml
export DZ_NOW=2026-05-01T10:00:00Z
LATER=2026-09-01T10:00:00Z
dz-ingest --init 2>/dev/null
N=${DZ_CRASH_CASES:-30}
TRIALS=${DZ_CRASH_TRIALS:-30}
convert -size 64x64 gradient:red-blue a.png

batch() {	# batch T: N cases, each with media and a contact, closed
	local t=$1 i
	for i in $(seq 1 "$N"); do
		printf '{"type":"submission","submission":"p-%s-%d","age":25,"files":["a.png"],"contact":{"email":"x%d@example.org"},"description":"d"}\n' "$t" "$i" "$i"
	done >"in-$t.jsonl"
	dz-ingest "in-$t.jsonl" >"ack-$t" &&
	jq -r '"{\"type\":\"close\",\"case\":\"\(.case)\"}"' "ack-$t" | dz-ingest >/dev/null
}
left() {	# what is still to purge
	sqlite3 store/store.db "SELECT (SELECT count(*) FROM items WHERE media_key IS NOT NULL OR blob IS NOT NULL) + (SELECT count(*) FROM cases WHERE purged_at IS NULL)"
}

batch 0
t0=$(date +%s%N)
DZ_NOW=$LATER dz-purge >out-0
run_ms=$(( ($(date +%s%N) - t0) / 1000000 + 2 ))

test_expect_success "$TRIALS trials: a purge killed at a random instant, then one that finishes" '
	midway=0 killed=0
	for t in $(seq 1 "$TRIALS"); do
		batch "$t" || return 1
		total=$(left)
		DZ_NOW=$LATER dz-purge >"killed-$t" 2>/dev/null &
		pid=$!
		crash_rand $run_ms; ms=$CRASH_R
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		[ $? = 137 ] && killed=$((killed + 1))
		now=$(left)
		[ "$now" -gt 0 ] && [ "$now" -lt "$total" ] && midway=$((midway + 1))
		DZ_NOW=$LATER dz-purge >"out-$t" || return 1
		[ "$(left)" = 0 ] || { echo "trial $t: $(left) left"; return 1; }
	done
	echo "a run takes about $run_ms ms; $midway of $TRIALS runs were killed mid-way" >"$TRASH/midway"
	echo $killed >"$TRASH/killed.n"
	test $midway -gt 0
'
diag "$(cat "$TRASH/midway" 2>/dev/null)"

test_expect_success 'every deletion audited once; no record twice' '
	for f in killed-* out-*; do sed -n "/}\$/p" "$f"; done |
		jq -r "[.what, .case, .item // \"-\"] | @tsv" | sort >got &&
	sort -u got >uniq && test_cmp uniq got &&
	test $(grep -c "^media" out-0) -le $N &&
	sqlite3 store/store.db "SELECT detail, case_id, coalesce(item_id, \"-\") FROM audit WHERE action = \"purge\"" | sort >audit &&
	sort -u audit >audit.u && test_cmp audit.u audit &&
	test $(grep -c "^media" audit) = $(( (TRIALS + 1) * N )) &&
	test $(grep -c "^|" audit) = $(( (TRIALS + 1) * N ))
'
test_expect_success 'no blob file left, no key, no contact' '
	test -z "$(ls -A store/blobs)" &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM cases WHERE contact IS NOT NULL OR case_key IS NOT NULL")" = 0
'
test_expect_success 'the store passes its integrity check' '
	sqlite3 store/store.db "PRAGMA integrity_check; PRAGMA foreign_key_check;" >ic &&
	echo ok >expect && test_cmp expect ic
'
# for scripts/crash-trials: what is left to purge, deletions audited or
# reported twice
lost=$(left 2>/dev/null || echo 1)
dup=$(( $(wc -l <got 2>/dev/null || echo 0) - $(wc -l <uniq 2>/dev/null || echo 0) +
	$(wc -l <audit 2>/dev/null || echo 0) - $(wc -l <audit.u 2>/dev/null || echo 0) ))
crash_summary dz-purge "$TRIALS" "$(cat killed.n 2>/dev/null || echo 0)" "$lost" "$dup" $(( lost + dup > 0 ? 1 : 0 ))
test_done
