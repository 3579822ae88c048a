#!/bin/bash
# lib/core/proc: not dumpable, no core dumps (C unit test); every program
# applies it.
. "$(dirname "$0")/lib.sh"

test_expect_success 'dz_proc_harden: not dumpable, no core dumps' '
	test-proc >out && cat out && ! grep -q "^not ok" out && grep -q "^1\.\.4$" out
'

test_expect_success 'every program hardens itself through lib/core/proc' '
	for c in "$TOP"/cmd/dz-*.c; do grep -q "dz_proc_harden(" "$c" || { echo "$c"; return 1; }; done
'

test_done
