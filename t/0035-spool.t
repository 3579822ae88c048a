#!/bin/bash
# lib/store/spool (C unit test): hostile spool entries are refused, removal never
# leaves its tree, rejection never replaces or follows anything.
. "$(dirname "$0")/lib.sh"

test_expect_success 'lib/store/spool unit tests' '
	test-spool >out && cat out && ! grep -q "^not ok" out && grep -q "^1\.\.28$" out
'

test_done
