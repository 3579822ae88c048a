#!/bin/bash
# lib/core/recordcheck: member tables, every fault of a record collected
# (C unit test).
. "$(dirname "$0")/lib.sh"

test_expect_success 'dz_recordcheck_*: types, values, unknown and missing members' '
	test-recordcheck >out && cat out && ! grep -q "^not ok" out && grep -q "^1\.\.21$" out
'

test_done
