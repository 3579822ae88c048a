#!/bin/bash
# t/fuzz: each harness, built with the project's compiler and flags
# (t/fuzz/bin/replay-NAME; under ASan with make check SANITIZE=1), runs
# over its generated seeds (t/fuzz/corpus/NAME/, scripts/fuzz-seeds) and
# over the inputs that once crashed it (t/data/fuzz/NAME/), and must
# neither crash nor leak nor hang.
# slow: fuzzing: every seed through every harness (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"

FUZZ=$TOP/t/fuzz
NAMES="jpeg png avimage video record config bank blob rdap"
MAX_SEEDS=200	# per harness: a subset when a corpus grows large

test_expect_success 'the seed corpora are made' '
	"$TOP/scripts/fuzz-seeds" &&
	test -f "$FUZZ/corpus/.done"
'

for n in $NAMES; do
	test_expect_success "replay-$n is built" '
		test -x "$FUZZ/bin/replay-$n"
	'
	test_expect_success "replay-$n runs its seeds" '
		find "$FUZZ/corpus/$n" -type f | sort | head -n $MAX_SEEDS >list &&
		test -s list &&
		xargs -d "\n" timeout 120 "$FUZZ/bin/replay-$n" <list
	'
	if [ -d "$TOP/t/data/fuzz/$n" ]; then
		test_expect_success "replay-$n runs its regression inputs" '
			timeout 120 "$FUZZ/bin/replay-$n" "$TOP/t/data/fuzz/$n"
		'
	fi
done

test_expect_success 'replay refuses a missing input' '
	expect_exit 66 "$FUZZ/bin/replay-record" no-such-file &&
	expect_exit 64 "$FUZZ/bin/replay-record"
'

test_done
