#!/bin/bash
# dz-hash --store: verified media becomes hashes and is destroyed in the
# same unit of work; near-duplicates flagged; failures leave media alone.
. "$(dirname "$0")/lib.sh"
require_testdata

cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
EOF
export DZ_CONFIG=$TRASH/dz.yaml

# a photo, a resized copy of it (a near-duplicate), a flat grey image
# (PDQ quality 0), a file that only looks like a JPEG, an unrelated image
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" photo.jpg
convert photo.jpg -resize 80% -quality 70 copy.jpg
convert -size 300x300 xc:gray60 flat.png
{ printf '\377\330\377\340'; head -c 4000 /dev/urandom; } >broken.jpg
cp "$TESTDATA/pdq/labelme-subset/q0746.jpg" other.jpg
cp photo.jpg photo.orig

test_expect_success 'setup: one case with five files, four judged illegal' '
	dz-ingest --init 2>/dev/null &&
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"s-1\",\"age\":30,\"urls\":[\"https://example.com/x\"],\"files\":[\"photo.jpg\",\"copy.jpg\",\"flat.png\",\"broken.jpg\",\"other.jpg\"]}" >sub.jsonl &&
	dz-ingest sub.jsonl >ack && case=$(jq -r .case ack) &&
	for n in 2 3 4 5; do
		printf "{\"type\":\"verdict\",\"item\":\"%s-%s\",\"illegal\":true,\"category\":\"adult_ncii\"}\n" "$case" "$n"
	done >v.jsonl &&
	printf "{\"type\":\"verdict\",\"item\":\"%s-6\",\"illegal\":false}\n" "$case" >>v.jsonl &&
	dz-ingest v.jsonl >/dev/null &&
	test $(ls store/blobs | wc -l) = 5
'
case=$(jq -r .case ack 2>/dev/null)

test_expect_success 'hashes the illegal items; the broken one is an error record, exit 65' '
	expect_exit 65 dz-hash --store >out 2>err &&
	jq -se "map(select(.type == \"hash\")) | length == 3" out &&
	jq -se "map(select(.type == \"error\")) | length == 1" out &&
	jq -se "any(.[]; .type == \"error\" and .item == \"$case-5\")" out &&
	grep -q "1 item not hashed" err
'

test_expect_success 'hash records name the item and carry pdq, digests and the entry id' '
	jq -se "any(.[]; .type == \"hash\" and .item == \"$case-2\" and
		(.pdq | test(\"^[0-9a-f]{64}$\")) and (.md5 | length == 32) and
		(.sha256 | length == 64) and (.entry | test(\"^[0-9a-f]{32}$\")) and
		(has(\"path\") | not))" out
'

test_expect_success 'the near-duplicate is flagged as already known' '
	e=$(jq -r "select(.item == \"$case-2\") | .entry" out) &&
	jq -se "any(.[]; .item == \"$case-3\" and .known.entry == \"$e\" and
		.known.distance <= 31)" out
'

test_expect_success 'the flat image is kept but flagged low quality' '
	jq -se "any(.[]; .item == \"$case-4\" and .quality < 50 and .low_quality == true)" out
'

test_expect_success 'media of hashed items is destroyed: key erased, blob gone' '
	test $(ls store/blobs | wc -l) = 2 &&
	test $(sqlite3 store/store.db "SELECT count(*) FROM items WHERE hashed_at IS NOT NULL AND media_key IS NULL AND blob IS NULL") = 3 &&
	expect_exit 65 dz-export media "$case-2" 2>err > >(cat >/dev/null) &&
	grep -q destroyed err
'

test_expect_success 'media not judged illegal, or that failed, stays' '
	test $(sqlite3 store/store.db "SELECT count(*) FROM items WHERE media_key IS NOT NULL") = 2
'

test_expect_success 'the store keeps three signals per item, none of the media' '
	test $(sqlite3 store/store.db "SELECT count(*) FROM hashes") = 9 &&
	"$TOP/t/canary.pl" photo.orig $(find store -type f)
'

test_expect_success 'the write-ahead log is truncated after the run' '
	test ! -s store/store.db-wal
'

test_expect_success 'a second run hashes nothing again' '
	expect_exit 65 dz-hash --store >out2 2>/dev/null &&
	jq -se "map(select(.type == \"hash\")) | length == 0" out2 &&
	test $(sqlite3 store/store.db "SELECT count(*) FROM hashes") = 9
'

test_expect_success '--item on an item that is not due: an error record, exit 65' '
	expect_exit 65 dz-hash --store --item "$case-6" >out3 2>/dev/null &&
	jq -e ".type == \"error\" and .item == \"$case-6\"" out3
'

test_expect_success 'a second dz-hash --store while one runs: exit 75' '
	flock store/hash.lock sleep 30 & holder=$!
	for i in $(seq 1 100); do flock -n store/hash.lock true || break; sleep 0.1; done
	expect_exit 75 dz-hash --store >/dev/null 2>err; rc=$?
	kill $holder; wait $holder 2>/dev/null
	test $rc = 0 && grep -q "another dz-hash" err
'

test_expect_success '--store refuses file operands and --format' '
	expect_exit 64 dz-hash --store photo.jpg 2>err &&
	expect_exit 64 dz-hash --store --format csv 2>err &&
	expect_exit 64 dz-hash --store -j 2 2>err &&
	expect_exit 64 dz-hash --item X photo.jpg 2>err
'

test_expect_success 'no store: exit 66, and none is created' '
	printf "store: %s/nostore\nmaster_key: %s/master.key\n" "$TRASH" "$TRASH" >none.yaml &&
	expect_exit 66 dz-hash --store -c none.yaml 2>err && test ! -e nostore &&
	grep -q "dz-ingest --init" err
'

test_expect_success 'the store passes its integrity check' '
	sqlite3 store/store.db "PRAGMA integrity_check; PRAGMA foreign_key_check" >ic &&
	echo ok >expect && test_cmp expect ic
'

test_done
