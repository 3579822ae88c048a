#!/bin/bash
# lib/core/err (C unit test), and no copy of its strerror_r wrapper left
# in lib/core.
. "$(dirname "$0")/lib.sh"

test_expect_success 'dz_err_*: set, clear, strerror' '
	test-err >out && cat out && ! grep -q "^not ok" out && grep -q "^1\.\.6$" out
'

test_expect_success 'lib/core calls strerror_r only in err.c and pool.c' '
	(cd "$TOP" && git grep -l "strerror_r" -- "lib/core/*.c") >hits || :
	grep -vx "lib/core/err.c" hits | grep -vx "lib/core/pool.c" >left || :
	if test -s left; then cat left; return 1; fi
'

test_done
