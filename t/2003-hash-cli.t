#!/bin/bash
# dz-hash as a Unix tool: help, usage errors, output errors, exit codes.
. "$(dirname "$0")/lib.sh"
require_testdata
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" a.jpg

test_expect_success '-h prints usage on stdout and exits 0' '
	dz-hash -h >out 2>err && grep -q "^usage: dz-hash" out && test ! -s err
'
test_expect_success '--help too' '
	dz-hash --help >out && grep -q -- "--dihedral" out
'
test_expect_success '--version' '
	dz-hash --version >out && grep -q "^dz-hash [0-9]" out
'
test_expect_success 'unknown option: usage on stderr, exit 64' '
	expect_exit 64 dz-hash --frobnicate a.jpg >out 2>err &&
	test ! -s out && grep -q "^usage: dz-hash" err
'
test_expect_success 'bad -j value: exit 64 with the reason' '
	expect_exit 64 dz-hash -j zero a.jpg >out 2>err && grep -q "^dz-hash: invalid value for -j: .zero.: expected a whole number from 1 to 256$" err
'
test_expect_success 'bad --format: exit 64' '
	expect_exit 64 dz-hash --format xml a.jpg 2>err && grep -q "^dz-hash: invalid value for --format: .xml.: expected json or csv$" err
'
test_expect_success '-0 with operands is a usage error' '
	expect_exit 64 dz-hash -0 a.jpg 2>err
'
test_expect_success 'writing to a full disk fails loudly with 74' '
	expect_exit 74 dz-hash a.jpg >/dev/full 2>err && grep -q "dz-hash: cannot write" err
'
test_expect_success 'dz-hash | head ends quietly' '
	for i in $(seq 1 200); do echo a.jpg; done >list &&
	dz-hash <list 2>err | head -n 1 >out; test $(wc -l <out) = 1 && test ! -s err
'
test_expect_success 'empty input list: no output, exit 0' '
	dz-hash </dev/null >out && test ! -s out
'
test_done
