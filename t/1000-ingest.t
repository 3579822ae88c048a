#!/bin/bash
# dz-ingest: reports in, media encrypted, one case per submission; the
# operator views of dz-export.
. "$(dirname "$0")/lib.sh"
require_testdata

cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
limits:
  max_upload_bytes: 200000
  max_urls: 5
EOF
export DZ_CONFIG=$TRASH/dz.yaml

# A synthetic image, and a canary: JPEG magic then random bytes, so it is
# taken as an image; no 32-byte window of it may ever appear in the store.
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" photo.jpg
{ printf '\377\330\377\340'; head -c 65536 /dev/urandom; } >canary.jpg
cp canary.jpg canary.orig
cp photo.jpg photo.orig

sub() {	# sub ID [extra JSON members]
	printf '{"type":"submission","submission":"%s","age":24,"urls":["https://example.com/p/1"],"files":["photo.jpg"]%s}\n' "$1" "${2:-}"
}

test_expect_success '--init creates the store and a 0600 master key' '
	dz-ingest --init 2>err && test -d store && test -f master.key &&
	test "$(stat -c %a master.key)" = 600 && test "$(stat -c %a store)" = 700
'
test_expect_success '--init refuses to replace an existing key' '
	expect_exit 73 dz-ingest --init 2>err && grep -q "exists already" err
'

test_expect_success 'a submission becomes one case, one item per URL and per file' '
	sub s-1 ",\"contact\":{\"email\":\"victim@example.org\",\"name\":\"Jeanne Canary\"},\"description\":\"DESCRIPTION-CANARY text\",\"followup\":true" >in.jsonl &&
	dz-ingest in.jsonl >out 2>err &&
	jq -e ".type == \"ack\" and .of == \"submission\" and .submission == \"s-1\" and
		(.case | test(\"^[0-9A-HJKMNP-TV-Z]{10}$\")) and (.items | length == 2) and
		.duplicate == false and .minor == false" out
'
case_id=$(jq -r .case out 2>/dev/null)

test_expect_success 'the same submission again: an ack marked duplicate, still one case' '
	dz-ingest in.jsonl >out2 &&
	jq -e ".duplicate == true and .case == \"$case_id\"" out2 &&
	dz-export cases >cases && test $(wc -l <cases) = 1
'

test_expect_success 'acks and views carry no personal data' '
	! grep -q -e victim@ -e Canary -e DESCRIPTION out out2 cases &&
	dz-export items >items && ! grep -q -e victim@ -e Canary items
'

test_expect_success 'an age under 18 marks the case as involving a minor' '
	sub s-minor ",\"age\":15" | sed "s/\"age\":24,//" >m.jsonl &&
	dz-ingest m.jsonl >out && jq -e ".minor == true" out
'

test_expect_success 'canary: no 32-byte window of an upload appears in the store' '
	printf "{\"type\":\"submission\",\"submission\":\"s-canary\",\"age\":30,\"files\":[\"canary.jpg\"]}\n" >c.jsonl &&
	dz-ingest c.jsonl >out && jq -e ".items | length == 1" out &&
	test -n "$(ls store/blobs/*.dzb)" &&
	"$TOP/t/canary.pl" canary.orig $(find store -type f) &&
	"$TOP/t/canary.pl" photo.orig $(find store -type f)
'

test_expect_success 'canary: contact and description are not in the store in the clear' '
	printf "victim@example.org" >s1 && printf "Jeanne Canary" >s2 && printf "DESCRIPTION-CANARY" >s3 &&
	"$TOP/t/canary.pl" s1 $(find store -type f) &&
	"$TOP/t/canary.pl" s2 $(find store -type f) &&
	"$TOP/t/canary.pl" s3 $(find store -type f)
'

test_expect_success 'dz-export media decrypts to a pipe, byte for byte' '
	item=$(jq -r ".items[0]" out) &&
	dz-export media "$item" | cmp - canary.orig
'

test_expect_success 'dz-export media refuses a regular file' '
	item=$(jq -r ".items[0]" out) &&
	expect_exit 64 dz-export media "$item" >media.out 2>err &&
	test ! -s media.out && grep -q "file" err
'

test_expect_success 'dz-export cases --contact shows the personal data on request' '
	dz-export cases --contact >cc &&
	jq -se "any(.[]; .contact.email == \"victim@example.org\" and (.description | test(\"CANARY\")))" cc
'

test_expect_success 'a tampered blob fails to decrypt' '
	item=$(jq -r ".items[0]" out) && cp -a store store.bak &&
	for b in store/blobs/*.dzb; do
		perl -e "open F, q(+<:raw), \$ARGV[0] or die; seek F, 200, 0; read F, \$c, 1;
			seek F, 200, 0; print F chr(ord(\$c) ^ 1)" "$b" || return 1
	done &&
	{ dz-export media "$item" 2>err; echo $? >rc; } | cat >got &&
	test "$(cat rc)" = 65 && ! cmp -s got canary.orig && grep -q "corrupt" err &&
	rm -rf store && mv store.bak store &&
	dz-export media "$item" | cmp - canary.orig
'

test_expect_success 'verdict, close and withdraw records' '
	printf "%s\n" "{\"type\":\"verdict\",\"item\":\"$case_id-2\",\"illegal\":true,\"category\":\"adult_ncii\",\"by\":\"analyst1\"}" \
		"{\"type\":\"verdict\",\"item\":\"$case_id-1\",\"illegal\":false}" \
		"{\"type\":\"close\",\"case\":\"$case_id\"}" \
		"{\"type\":\"withdraw\",\"case\":\"$case_id\"}" \
		"{\"type\":\"manual\",\"text\":\"passes through\"}" >ops.jsonl &&
	dz-ingest ops.jsonl >out &&
	jq -r ".of // .type" out | tr "\n" " " >got && printf "verdict verdict close withdraw manual " >expect &&
	test_cmp expect got &&
	dz-export items --state illegal >il && jq -e "select(.item == \"$case_id-2\") | .category == \"adult_ncii\"" il &&
	dz-export cases --state closed >cl && jq -e ".case == \"$case_id\"" cl
'

test_expect_success 'a verdict on an unknown item is an error record, exit 65' '
	echo "{\"type\":\"verdict\",\"item\":\"NOSUCHCASE-1\",\"illegal\":false}" >v.jsonl &&
	expect_exit 65 dz-ingest v.jsonl >out 2>err && jq -e ".type == \"error\" and .line == 1" out
'

# Bad submissions: each an error record naming the line, exit 65, nothing
# stored (the number of cases does not change).
bad() {	# bad 'description' 'json line' 'reason pattern'
	bad_json=$2 bad_pat=$3
	test_expect_success "bad submission: $1" '
		dz-export cases >before &&
		printf "%s\n" "$bad_json" >bad.jsonl &&
		expect_exit 65 dz-ingest bad.jsonl >out 2>err &&
		jq -e --arg p "$bad_pat" ".type == \"error\" and .program == \"dz-ingest\" and .line == 1 and (.reason | test(\$p))" out &&
		dz-export cases >after && test_cmp before after
	'
}
cp "$TESTDATA/pdq/misc/small.jpg" small.jpg
head -c 300000 /dev/zero | tr "\0" "\377" >big.jpg
printf 'just text\n' >text.jpg
bad 'no URL and no file' '{"type":"submission","submission":"b1","age":20}' 'at least one URL or one file'
bad 'an ftp URL' '{"type":"submission","submission":"b2","age":20,"urls":["ftp://example.com/x"]}' 'http'
bad 'a malformed URL' '{"type":"submission","submission":"b3","age":20,"urls":["https://exa mple.com/"]}' 'http'
bad 'age missing' '{"type":"submission","submission":"b4","urls":["https://example.com/"]}' 'age'
bad 'age out of range' '{"type":"submission","submission":"b5","age":300,"urls":["https://example.com/"]}' 'age'
bad 'file too large' '{"type":"submission","submission":"b6","age":20,"files":["big.jpg"]}' 'too large'
bad 'file not an image or video' '{"type":"submission","submission":"b7","age":20,"files":["text.jpg"]}' 'neither an image nor a video'
bad 'missing file' '{"type":"submission","submission":"b8","age":20,"files":["nope.jpg"]}' 'cannot open'
bad 'too many URLs' '{"type":"submission","submission":"b9","age":20,"urls":["https://a.example/","https://b.example/","https://c.example/","https://d.example/","https://e.example/","https://f.example/"]}' 'too many URLs'
bad 'unknown contact field' '{"type":"submission","submission":"b10","age":20,"urls":["https://example.com/"],"contact":{"address":"x"}}' 'contact'
bad 'followup without contact' '{"type":"submission","submission":"b11","age":20,"urls":["https://example.com/"],"followup":true}' 'followup'
bad 'bad submission id' '{"type":"submission","submission":"a b/c","age":20,"urls":["https://example.com/"]}' 'submission'
bad 'not JSON' 'this is not json' 'invalid JSON'
long=$(head -c 9000 /dev/zero | tr '\0' x)
bad 'over-long description' '{"type":"submission","submission":"b12","age":20,"urls":["https://example.com/"],"description":"'"$long"'"}' 'too long'

test_expect_success 'bad submission: invalid UTF-8' '
	dz-export cases >before &&
	printf "{\"type\":\"submission\",\"submission\":\"u1\",\"age\":20,\"urls\":[\"https://example.com/\"],\"description\":\"\377\376\"}\n" >bad.jsonl &&
	expect_exit 65 dz-ingest bad.jsonl >out 2>err && jq -e ".type == \"error\"" out &&
	dz-export cases >after && test_cmp before after
'

test_expect_success 'error messages never quote the submission' '
	printf "{\"type\":\"submission\",\"submission\":\"q1\",\"age\":20,\"urls\":[\"https://SECRET-HOST example/\"],\"contact\":{\"email\":\"SECRET@x\"}}\n" >bad.jsonl &&
	expect_exit 65 dz-ingest bad.jsonl >out 2>err && ! grep -q SECRET out err
'

test_expect_success '--remove-files unlinks uploads once stored' '
	cp photo.orig up.jpg &&
	printf "{\"type\":\"submission\",\"submission\":\"rm-1\",\"age\":20,\"files\":[\"up.jpg\"]}\n" >r.jsonl &&
	dz-ingest --remove-files r.jsonl >out && test ! -e up.jpg
'

test_expect_success 'a master key readable by others is refused (78)' '
	chmod 644 master.key && expect_exit 78 dz-ingest </dev/null 2>err && chmod 600 master.key &&
	grep -q "0600\|mode" err
'
test_expect_success 'a master key behind a symlink is refused (78)' '
	ln -s master.key link.key && sed "s|/master\\.key$|/link.key|" dz.yaml >dz2.yaml &&
	expect_exit 78 dz-ingest -c dz2.yaml </dev/null 2>err && grep -q symlink err
'
test_expect_success 'a second dz-ingest while one runs: exit 75' '
	flock store/lock sleep 30 & holder=$!
	for i in $(seq 1 100); do flock -n store/lock true || break; sleep 0.1; done
	expect_exit 75 dz-ingest </dev/null 2>err; rc=$?
	kill $holder; wait $holder 2>/dev/null
	test $rc = 0 && grep -q "another dz-ingest" err
'
test_expect_success 'a bad configuration: exit 78 naming the key' '
	printf "retention:\n  personal_data_days: soon\n" >bad.yaml &&
	expect_exit 78 dz-ingest -c bad.yaml </dev/null 2>err && grep -q "personal_data_days" err
'

test_expect_success 'the store passes its integrity check' '
	sqlite3 store/store.db "PRAGMA integrity_check" >ic && echo ok >expect && test_cmp expect ic
'

test_done
