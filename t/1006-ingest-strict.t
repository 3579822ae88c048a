#!/bin/bash
# dz-ingest checks every record it takes whole (lib/core/recordcheck): an
# unknown type, an unknown member, a member of the wrong JSON type or a
# bad value is an error record naming each member and what was expected,
# all the faults of one record together; exit 65 and nothing changed.
. "$(dirname "$0")/lib.sh"

cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
EOF
export DZ_CONFIG=$TRASH/dz.yaml

# refused 'json line': exit 65, one error record, the store unchanged
refused() {
	printf '%s\n' "$1" >bad.jsonl &&
	dz-export cases >before.c && dz-export items >before.i &&
	expect_exit 65 dz-ingest bad.jsonl >out 2>err &&
	test "$(wc -l <out)" = 1 && jq -e ".type == \"error\" and .line == 1" out &&
	dz-export cases >after.c && dz-export items >after.i &&
	test_cmp before.c after.c && test_cmp before.i after.i
}
# fault MEMBER PATTERN: out has an entry for MEMBER whose message matches
fault() {
	jq -e --arg m "$1" --arg p "$2" \
		"[.errors[] | select(.member == \$m and (.message | test(\$p)))] | length == 1" out
}

test_expect_success 'setup: a store, a case with a URL item' '
	dz-ingest --init 2>err &&
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"s-1\",\"age\":24,\"urls\":[\"https://example.com/p/1\"]}" >in.jsonl &&
	dz-ingest in.jsonl >ack && case_id=$(jq -r .case ack) && test -n "$case_id" &&
	echo "$case_id" >case_id
'
case_id=$(cat case_id 2>/dev/null)

test_expect_success 'an unknown type ("remove" for "removed") is refused, with a hint' '
	refused "{\"type\":\"remove\",\"item\":\"$case_id-1\"}" &&
	fault type "not a record type" && grep -q "did you mean .removed." out &&
	grep -q "stdin\|bad.jsonl:1: type:" err
'
test_expect_success 'a type of dz-records(5) that dz-ingest does not take passes through' '
	printf "%s\n" "{\"type\":\"manual\",\"item\":\"x\",\"extra\":1}" >p.jsonl &&
	dz-ingest p.jsonl >out && test_cmp p.jsonl out
'
test_expect_success 'a type that is not a string is refused' '
	refused "{\"type\":7,\"item\":\"x\"}" && fault type "expected a string, got an integer"
'
test_expect_success '"age":"23": expected an integer, got a string' '
	refused "{\"type\":\"submission\",\"submission\":\"s-2\",\"age\":\"23\",\"urls\":[\"https://example.com/\"]}" &&
	fault age "^age: expected an integer, got a string$" &&
	jq -e ".errors[0] | .expected == \"integer\" and .got == \"string\"" out &&
	jq -e ".submission == \"s-2\"" out
'
test_expect_success 'an unknown member of a submission is refused, named' '
	refused "{\"type\":\"submission\",\"submission\":\"s-3\",\"age\":23,\"urls\":[\"https://example.com/\"],\"colour\":\"red\"}" &&
	fault colour "not a member of a submission record"
'
test_expect_success 'a URL with a trailing space says so' '
	refused "{\"type\":\"submission\",\"submission\":\"s-4\",\"age\":23,\"urls\":[\"https://example.com/ok\",\"https://example.com/x \"]}" &&
	fault urls "URL 2 has a trailing space" &&
	jq -e ".errors[0].index == 2" out && ! grep -q "example.com" out err
'
test_expect_success 'all the faults of one record are reported together' '
	refused "{\"type\":\"submission\",\"submission\":\"s-5\",\"age\":\"23\",\"urls\":[\"ftp://example.com/\"],\"followup\":\"yes\",\"colour\":1,\"language\":5}" &&
	jq -e ".errors | length == 4" out &&
	fault age "integer" && fault followup "expected a boolean, got a string" &&
	fault colour "not a member" && fault language "expected a string, got an integer" &&
	jq -e ".reason | test(\"age: .*followup: \")" out
'
test_expect_success 'value faults are collected too (URL, age, contact)' '
	refused "{\"type\":\"submission\",\"submission\":\"s-6\",\"age\":300,\"urls\":[\"ftp://example.com/\"],\"contact\":{\"email\":\"nope\"}}" &&
	jq -e ".errors | length == 3" out && fault age "out of range" &&
	fault urls "does not start with http" && fault contact.email "not an e-mail address"
'
test_expect_success 'a missing required member is named' '
	refused "{\"type\":\"verdict\",\"item\":\"$case_id-1\"}" &&
	fault illegal "missing; a verdict record needs a boolean"
'
test_expect_success 'verdict: wrong types, an unknown category and an unknown member together' '
	refused "{\"type\":\"verdict\",\"item\":\"$case_id-1\",\"illegal\":\"true\",\"category\":\"adult\",\"bye\":\"x\"}" &&
	jq -e ".errors | length == 3" out && fault illegal "expected a boolean, got a string" &&
	fault category "expected one of adult_ncii, minor, other" && fault bye "not a member of a verdict record"
'
test_expect_success 'removed, notified, close, withdraw: unknown members and wrong types' '
	refused "{\"type\":\"removed\",\"item\":\"$case_id-1\",\"when\":\"now\"}" && fault when "not a member" &&
	refused "{\"type\":\"notified\",\"item\":\"$case_id-1\",\"provider\":3}" && fault provider "expected a string" &&
	refused "{\"type\":\"close\",\"case\":[\"$case_id\"]}" && fault case "expected a string, got an array" &&
	refused "{\"type\":\"withdraw\",\"case\":\"$case_id\",\"by\":7}" && fault by "expected a string, got an integer"
'
test_expect_success 'a member name that is not a plain word is not quoted' '
	refused "{\"type\":\"close\",\"case\":\"$case_id\",\"SECRET name\":1}" &&
	! grep -q SECRET out err && fault "?" "unusual name"
'
test_expect_success 'a bad record among good ones: the others are handled, exit 65' '
	printf "%s\n" "{\"type\":\"removed\",\"item\":\"$case_id-1\"}" \
		"{\"type\":\"remove\",\"item\":\"$case_id-1\"}" \
		"{\"type\":\"close\",\"case\":\"$case_id\"}" >mix.jsonl &&
	expect_exit 65 dz-ingest mix.jsonl >out 2>err &&
	jq -r ".of // .type" out | tr "\n" " " >got && printf "removed error close " >expect &&
	test_cmp expect got
'
test_expect_success 'every record type dz-ingest takes is still accepted' '
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"s-9\",\"age\":17,\"urls\":[\"https://example.com/a\",\"https://example.com/b\"],\"files\":null,\"description\":\"d\",\"contact\":{\"email\":\"a@example.org\",\"phone\":\"+33 1 23\",\"name\":\"n\"},\"followup\":true,\"language\":\"en\",\"received_at\":\"2026-12-01T10:00:00Z\"}" >ok1.jsonl &&
	dz-ingest ok1.jsonl >ack9 && c9=$(jq -r .case ack9) &&
	printf "%s\n" "{\"type\":\"verdict\",\"item\":\"$c9-1\",\"illegal\":true,\"category\":\"minor\",\"by\":\"analyst\"}" \
		"{\"type\":\"verdict\",\"item\":\"$c9-2\",\"illegal\":false,\"category\":null}" \
		"{\"type\":\"removed\",\"item\":\"$c9-1\",\"by\":\"op\"}" \
		"{\"type\":\"notified\",\"item\":\"$c9-2\",\"provider\":\"Example host\"}" \
		"{\"type\":\"close\",\"case\":\"$c9\"}" \
		"{\"type\":\"withdraw\",\"case\":\"$c9\",\"by\":null}" >ok2.jsonl &&
	dz-ingest ok2.jsonl >out 2>err &&
	jq -r ".of" out | tr "\n" " " >got && printf "verdict verdict removed notified close withdraw " >expect &&
	test_cmp expect got
'
test_expect_success 'a spooled submission with faults: its error record lists them' '
	mkdir -p spool/tmp spool/new/e1 &&
	printf "{\"submission\":\"sp-1\",\"age\":\"23\",\"urls\":[\"https://example.com/ \"],\"x\":1}\n" >spool/new/e1/submission.json &&
	expect_exit 65 dz-ingest --spool spool >out 2>err &&
	jq -e ".spool == \"e1\" and (.errors | length == 2)" out && fault age "integer" && fault x "not a member"
'

test_done
