#!/bin/bash
# dz-export bank: a progress line on standard error when that is a
# terminal (under script(1), which gives the command one), and none when
# it is a file or a pipe; never mixed into a bank on the terminal.
. "$(dirname "$0")/lib.sh"
require_testdata

cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
EOF
export DZ_CONFIG=$TRASH/dz.yaml
unset DZ_PROGRESS_FORCE

L=$TESTDATA/pdq/labelme-subset
cp "$L/q2821.jpg" a.jpg
cp "$L/q0746.jpg" b.jpg
cp "$L/q1050.jpg" c.jpg

test_expect_success 'setup: three images judged illegal and hashed' '
	dz-ingest --init 2>/dev/null &&
	echo "{\"type\":\"submission\",\"submission\":\"s-1\",\"age\":30,\"files\":[\"a.jpg\",\"b.jpg\",\"c.jpg\"]}" >sub.jsonl &&
	dz-ingest sub.jsonl >ack && c=$(jq -r .case ack) &&
	for i in 1 2 3; do
		echo "{\"type\":\"verdict\",\"item\":\"$c-$i\",\"illegal\":true,\"category\":\"adult_ncii\"}"
	done >v.jsonl && dz-ingest v.jsonl >/dev/null &&
	dz-hash --store >h.jsonl && test $(jq -s length h.jsonl) = 3
'

if ! command -v script >/dev/null 2>&1 || ! script -qec true /dev/null >/dev/null 2>&1; then
	skip "script(1) from util-linux cannot run here: no terminal to test with"
	skip "script(1) cannot run here"
	skip "script(1) cannot run here"
else
	test_expect_success 'standard error a terminal: the count of hashes read, then the record' '
		script -qec "dz-export bank --unsigned -o t.jsonl" /dev/null >tty.out &&
		tr "\r" "\n" <tty.out >tty.lines &&
		grep -q "^dz-export: 3 hashes" tty.lines &&
		grep -q "^{\"type\":\"export\"" tty.lines &&
		test $(jq -s "map(select(.type == \"entry\")) | length" t.jsonl) = 3 &&
		! grep -q hashes t.jsonl
	'
	test_expect_success 'the bank on standard output, a file: the line on the terminal only' '
		script -qec "dz-export bank --unsigned >b.jsonl" /dev/null >tty2.out &&
		tr "\r" "\n" <tty2.out | grep -q "^dz-export: 3 hashes" &&
		jq -se "map(select(.type == \"entry\")) | length == 3" b.jsonl >/dev/null
	'
	test_expect_success 'the bank on the terminal itself: no progress line in it' '
		script -qec "dz-export bank --unsigned" /dev/null >tty3.out &&
		grep -q "\"type\":\"entry\"" tty3.out && ! grep -q "hashes" tty3.out
	'
fi

test_expect_success 'standard error a file: quiet' '
	dz-export bank --unsigned -o q.jsonl >rec 2>err &&
	test ! -s err && jq -e ".type == \"export\"" rec
'

test_expect_success 'standard error a pipe: quiet' '
	mkfifo errpipe && { cat errpipe >err2 & } &&
	dz-export bank --unsigned -o p.jsonl >rec2 2>errpipe &&
	wait && test ! -s err2 && jq -e ".type == \"export\"" rec2
'

test_done
