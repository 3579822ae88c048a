#!/bin/bash
# dz-ingest --spool: the form backend's hand-over directory.
. "$(dirname "$0")/lib.sh"
require_testdata

printf 'store: %s/store\nmaster_key: %s/master.key\n' "$TRASH" "$TRASH" >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml
dz-ingest --init 2>/dev/null
mkdir -p spool/tmp spool/new

# spool_entry NAME JSON [FILE...]: as a form backend would: write under
# tmp/, then rename into new/ in one step.
spool_entry() {
	local name=$1 json=$2
	shift 2
	mkdir "spool/tmp/$name" && printf '%s\n' "$json" >"spool/tmp/$name/submission.json" &&
	for f; do cp "$f" "spool/tmp/$name/"; done &&
	mv "spool/tmp/$name" "spool/new/$name"
}
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" a.jpg
cp "$TESTDATA/pdq/misc/c.png" b.png

test_expect_success 'valid entries are ingested and removed from the spool' '
	spool_entry 001 "{\"submission\":\"sp-1\",\"age\":22,\"files\":[\"a.jpg\"]}" a.jpg &&
	spool_entry 002 "{\"type\":\"submission\",\"submission\":\"sp-2\",\"age\":19,\"urls\":[\"https://example.net/v\"],\"files\":[\"b.png\"]}" b.png &&
	dz-ingest --spool spool >out 2>err &&
	jq -r .spool out | tr "\n" " " >got && printf "001 002 " >expect && test_cmp expect got &&
	test -z "$(ls spool/new)"
'
test_expect_success 'nothing of the uploads is left in the clear' '
	test -z "$(find spool -type f)" &&
	"$TOP/t/canary.pl" a.jpg $(find store -type f) && "$TOP/t/canary.pl" b.png $(find store -type f)
'
test_expect_success 'an invalid entry moves to rejected/ with its reason, exit 65' '
	spool_entry 003 "{\"submission\":\"sp-3\",\"age\":22}" &&
	spool_entry 004 "{\"submission\":\"sp-4\",\"age\":22,\"files\":[\"a.jpg\"]}" a.jpg &&
	expect_exit 65 dz-ingest --spool spool >out 2>err &&
	jq -se "any(.[]; .type == \"error\" and .spool == \"003\")" out &&
	jq -se "any(.[]; .type == \"ack\" and .spool == \"004\")" out &&
	test -f spool/rejected/003/error.json && test ! -e spool/new/003 &&
	grep -q "spool entry .003." err
'
test_expect_success 'a file name that leaves the entry is refused' '
	spool_entry 005 "{\"submission\":\"sp-5\",\"age\":22,\"files\":[\"../../a.jpg\"]}" &&
	expect_exit 65 dz-ingest --spool spool >out 2>err &&
	jq -e ".reason | test(\"plain names\")" out && test -f a.jpg
'
test_expect_success 'a symlink in an entry is not followed' '
	mkdir spool/tmp/006 && ln -s "$TRASH/a.jpg" spool/tmp/006/x.jpg &&
	printf "{\"submission\":\"sp-6\",\"age\":22,\"files\":[\"x.jpg\"]}\n" >spool/tmp/006/submission.json &&
	mv spool/tmp/006 spool/new/006 &&
	expect_exit 65 dz-ingest --spool spool >out 2>err && jq -e ".type == \"error\"" out
'
test_expect_success 'an entry without submission.json is rejected' '
	mkdir spool/new/007 && cp a.jpg spool/new/007/ &&
	expect_exit 65 dz-ingest --spool spool >out 2>err && test -d spool/rejected/007
'
test_expect_success 'a spooled submission seen before is acked as a duplicate' '
	spool_entry 008 "{\"submission\":\"sp-1\",\"age\":22,\"files\":[\"a.jpg\"]}" a.jpg &&
	dz-ingest --spool spool >out && jq -e ".duplicate == true" out &&
	test ! -e spool/new/008 && dz-export cases >c && test $(wc -l <c) = 3
'
test_done
