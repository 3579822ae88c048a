#!/bin/bash
# t/fuzz: a short libFuzzer run of every harness from its seeds, about
# FUZZ_SHORT_SECONDS (7) seconds each, through scripts/fuzz. Any crash,
# leak, timeout or out-of-memory fails, with the input's path and the
# start of the report. Skipped without clang and libFuzzer (make check
# builds t/fuzz/bin/fuzz-NAME only when they are there), and under
# SANITIZE=1, where t/0200 replays the corpora under ASan instead.
# slow: fuzzing (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"

NAMES="jpeg png avimage video record config bank blob rdap"
secs=${FUZZ_SHORT_SECONDS:-7}

if [ "${DZ_SANITIZE:-}" = 1 ]; then
	skip "SANITIZE=1: t/0200 replays the corpora under the sanitizers"
	test_done
fi
missing=
for n in $NAMES; do
	[ -x "$TOP/t/fuzz/bin/fuzz-$n" ] || missing="$missing $n"
done
if [ -n "$missing" ]; then
	skip "no libFuzzer build of:$missing (needs clang and libclang-rt-14-dev)"
	test_done
fi

for n in $NAMES; do
	test_expect_success "fuzz-$n runs $secs s without a finding" '
		"$TOP/scripts/fuzz" -s "$secs" -o "$TRASH/fuzz" "$n" >table &&
		cat table
	'
done

test_done
