#!/bin/bash
# dz-ingest killed with SIGKILL at random instants: after a re-run there
# is exactly one case per submission, no orphan blob, no plaintext left.
# Each trial is a fresh batch of submissions: one run killed at a random
# instant within the time a whole run takes, then a run that finishes.
# DZ_CRASH_TRIALS (default 40) trials; DZ_CRASH_SEED replays the delays;
# scripts/crash-trials runs many more.
# slow: crash trials (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"
. "$TOP/t/lib-crash.sh"
require_testdata
crash_init

printf 'store: %s/store\nmaster_key: %s/master.key\n' "$TRASH" "$TRASH" >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml
dz-ingest --init 2>/dev/null
N=${DZ_CRASH_SUBMISSIONS:-20}
TRIALS=${DZ_CRASH_TRIALS:-40}
mkdir up

batch() {	# batch T: N submissions with two uploads each
	local t=$1 i
	for i in $(seq 1 "$N"); do
		cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" "up/$t-$i-a.jpg"
		cp "$TESTDATA/pdq/misc/wee.jpg" "up/$t-$i-b.jpg"
		printf '{"type":"submission","submission":"crash-%s-%d","age":25,"urls":["https://example.org/%d"],"files":["up/%s-%d-a.jpg","up/%s-%d-b.jpg"]}\n' \
			"$t" "$i" "$i" "$t" "$i" "$t" "$i"
	done >"in-$t.jsonl"
}

# how long a whole run of one batch takes here (ms), on batch 0
batch 0
t0=$(date +%s%N)
dz-ingest -q --remove-files in-0.jsonl >/dev/null
run_ms=$(( ($(date +%s%N) - t0) / 1000000 + 2 ))

test_expect_success "$TRIALS trials: a run killed at a random instant, then a re-run" '
	killed=0
	for t in $(seq 1 "$TRIALS"); do
		batch "$t"
		dz-ingest -q --remove-files "in-$t.jsonl" >/dev/null 2>&1 &
		pid=$!
		crash_rand $run_ms; ms=$CRASH_R
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		[ $? = 137 ] && killed=$((killed + 1))
		dz-ingest -q --remove-files "in-$t.jsonl" >"out-$t" || return 1
	done
	echo "a run takes about $run_ms ms; $killed of $TRIALS runs were killed mid-way" >"$TRASH/killed"
	echo $killed >"$TRASH/killed.n"
	test $killed -gt 0
'
diag "$(cat "$TRASH/killed" 2>/dev/null)"
total=$(( (TRIALS + 1) * N ))
test_expect_success 'exactly one case per submission' '
	dz-export cases >cases &&
	jq -r .submission cases | sort >got &&
	cat in-*.jsonl | jq -r .submission | sort >expect &&
	test_cmp expect got && test $(wc -l <got) = $total
'
test_expect_success 'every re-run acked every submission of its batch' '
	for t in $(seq 1 "$TRIALS"); do
		test $(jq -s "length" "out-$t") = "$N" || return 1
	done
'
test_expect_success 'three items per case, two with media' '
	dz-export items >items && test $(wc -l <items) = $((3 * total)) &&
	test $(jq -s "map(select(.has_media)) | length" items) = $((2 * total))
'
test_expect_success 'no orphan or temporary blob' '
	test $(ls store/blobs | grep -c "\.dzb$") = $((2 * total)) &&
	test -z "$(ls -A store/blobs | grep -v "\.dzb$")"
'
test_expect_success 'no plaintext upload left' '
	test -z "$(ls up)"
'
test_expect_success 'blobs decrypt to their uploads' '
	jq -r "select(.has_media) | .item" items | shuf -n 8 --random-source=items >some &&
	while read -r it; do
		dz-export media "$it" | cmp -s - "$TESTDATA/pdq/labelme-subset/q2821.jpg" ||
		dz-export media "$it" | cmp -s - "$TESTDATA/pdq/misc/wee.jpg" || return 1
	done <some
'
test_expect_success 'the store passes its integrity check' '
	sqlite3 store/store.db "PRAGMA integrity_check; PRAGMA foreign_key_check;" >ic &&
	echo ok >expect && test_cmp expect ic
'
# for scripts/crash-trials: submissions without a case, cases twice
cat in-*.jsonl 2>/dev/null | jq -r .submission | sort -u >subs.want
lost=$(sort -u got 2>/dev/null | comm -13 - subs.want | wc -l)
dup=$(( $(wc -l <got 2>/dev/null || echo 0) - $(sort -u got 2>/dev/null | wc -l) ))
crash_summary dz-ingest "$TRIALS" "$(cat killed.n 2>/dev/null || echo 0)" "$lost" "$dup" $(( lost + dup > 0 ? 1 : 0 ))
test_done
