#!/bin/bash
# notify.providers merged over the built-in provider directory entry by
# entry; notify.providers_replace: true for the file alone.
. "$(dirname "$0")/lib.sh"

test_expect_success 'dz_providers_open: merged entry by entry, or replaced' '
	test-providermerge >out && cat out && ! grep -q "^not ok" out && grep -q "^1\.\.12$" out
'
test_expect_success 'notify.providers_replace is a boolean setting' '
	printf "notify:\n  providers_replace: maybe\n" >bad.yaml &&
	expect_exit 78 dz-notify -c bad.yaml --dry-run </dev/null >out 2>err &&
	grep -q "providers_replace" err
'

test_done
