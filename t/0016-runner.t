#!/bin/bash
# lib/core/runner, through dz-hash: inputs through the pool, results in
# input order whatever -j, an error record and one diagnostic per failure,
# the exit status of the whole run.
. "$(dirname "$0")/lib.sh"
require_testdata
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" a.jpg
cp "$TESTDATA/pdq/misc/wee.jpg" b.jpg
printf 'not an image' >junk.png

test_expect_success 'results in input order, failures in their place, whatever -j' '
	for i in $(seq 1 40); do
		case $((i % 5)) in
		0) echo nosuch$i.jpg ;; 1) echo junk.png ;; 2) echo b.jpg ;; *) echo a.jpg ;;
		esac
	done >list &&
	expect_exit 65 dz-hash -j 1 <list >j1 2>e1 &&
	expect_exit 65 dz-hash -j 4 <list >j4 2>e4 &&
	test_cmp j1 j4 && test_cmp e1 e4 &&
	jq -r .path j4 >paths && test_cmp list paths &&
	test $(jq -r "select(.type == \"error\") | .path" j4 | wc -l) = 16 &&
	test $(wc -l <e4) = 16
'

test_expect_success 'a failed file: its error record and one diagnostic' '
	expect_exit 65 dz-hash a.jpg nosuch.jpg >out 2>err &&
	jq -e "select(.path == \"nosuch.jpg\") | .type == \"error\" and
		.program == \"dz-hash\" and (.reason | test(\"No such file\"))" out &&
	grep -q "^dz-hash: cannot hash '\''nosuch.jpg'\'': cannot open: No such file or directory$" err &&
	test $(wc -l <err) = 1
'

test_expect_success 'a bad name in a list: an error record with its line' '
	printf "a.jpg\n\nb.jpg\n" >list &&
	expect_exit 65 dz-hash <list >out 2>err &&
	test $(wc -l <out) = 3 &&
	sed -n 2p out >rec && jq -e ".type == \"error\" and .reason == \"line 2: empty name\"" rec &&
	grep -q "^dz-hash: line 2: empty name$" err
'

test_expect_success 'a bad line in a file of records: named by file and line' '
	dz-hash a.jpg >r.jsonl && echo "{oops" >>r.jsonl &&
	expect_exit 65 dz-hash --records r.jsonl >out 2>err &&
	sed -n 2p out >rec && jq -e ".type == \"error\" and .line == 2 and (has(\"file\") | not)" rec &&
	grep -q "^dz-hash: '\''r.jsonl'\'': line 2: invalid JSON" err
'

test_expect_success 'a file of records that cannot be opened: 66, the others still read' '
	dz-hash a.jpg >r.jsonl &&
	expect_exit 66 dz-hash --records nosuch.jsonl r.jsonl >out 2>err &&
	test $(wc -l <out) = 1 &&
	grep -q "^dz-hash: cannot open '\''nosuch.jsonl'\'': No such file or directory$" err &&
	expect_exit 66 dz-hash --records . >out 2>err &&
	grep -q "^dz-hash: cannot open '\''.'\'': Is a directory$" err
'

test_expect_success 'output that fails: 74, said once, whatever -j' '
	for i in $(seq 1 50); do echo a.jpg; done >list &&
	expect_exit 74 dz-hash -j 3 <list >/dev/full 2>err &&
	test $(grep -c "^dz-hash: cannot write output" err) = 1
'

test_expect_success 'no errors in csv: the diagnostic only' '
	expect_exit 65 dz-hash --format csv a.jpg nosuch.jpg >out 2>err &&
	test $(wc -l <out) = 1 && grep -q "^dz-hash: cannot hash" err
'

test_done
