#!/bin/bash
# dz-export case: the whole file of one case (its items, notices, events
# in order, hashes and known matches) as JSON Lines and as text; --entry
# leads from a hash entry to its case; no contact without --contact;
# unknown and hostile ids.
. "$(dirname "$0")/lib.sh"
require_testdata

export DZ_NOW=2026-03-02T09:00:00Z
. "$TOP/t/lib-notice.sh"
notice_providers
notice_config
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" a.jpg

at() { local t=$1; shift; DZ_NOW=$t "$@"; }
submit() {	# submit TIME ID URL: prints the case id
	jq -cn --arg id "$2" --arg url "$3" '{type:"submission",submission:$id,
		age:25,followup:true,language:"en",
		contact:{email:"canary-victim@example.org",name:"Canary Person"},
		description:"canary-description-5e1f",urls:[$url],
		files:["a.jpg"]}' >sub.jsonl &&
	at "$1" dz-ingest sub.jsonl >ack && jq -r .case ack
}
feed() { at "$1" dz-ingest >/dev/null; }	# feed TIME <RECORDS

test_expect_success 'setup: a case through intake, verdicts, hashing, a notice, removal, closing' '
	dz-ingest --init 2>/dev/null &&
	ca=$(submit 2026-03-01T10:00:00Z s-a https://pix.example/1.jpg) &&
	echo "$ca" >ca &&
	printf "%s\n" "{\"type\":\"verdict\",\"item\":\"$ca-1\",\"illegal\":true,\"category\":\"adult_ncii\"}" \
		"{\"type\":\"verdict\",\"item\":\"$ca-2\",\"illegal\":true,\"category\":\"adult_ncii\"}" |
		feed 2026-03-01T11:00:00Z &&
	at 2026-03-01T12:00:00Z dz-hash --store >h.jsonl &&
	at 2026-03-01T13:00:00Z dz-notify --maildir "$TRASH/md" >n.jsonl 2>/dev/null &&
	echo "{\"type\":\"removed\",\"item\":\"$ca-1\"}" | feed 2026-03-03T09:00:00Z &&
	echo "{\"type\":\"close\",\"case\":\"$ca\"}" | feed 2026-03-04T09:00:00Z &&
	cb=$(submit 2026-03-05T10:00:00Z s-b https://pix.example/2.jpg) &&
	echo "$cb" >cb &&
	echo "{\"type\":\"verdict\",\"item\":\"$cb-2\",\"illegal\":true,\"category\":\"adult_ncii\"}" |
		feed 2026-03-05T11:00:00Z &&
	at 2026-03-05T12:00:00Z dz-hash --store >h2.jsonl
'
ca=$(cat ca 2>/dev/null) cb=$(cat cb 2>/dev/null)

test_expect_success 'the case file as JSON Lines: the case first, then its parts' '
	dz-export case "$ca" >file.jsonl &&
	jq -r .type file.jsonl | uniq >types &&
	printf "%s\n" case item notice event entry known >want.types &&
	grep -v known want.types >want.types2 &&
	{ test_cmp want.types types || test_cmp want.types2 types; } &&
	has file.jsonl ".type == \"case\" and .case == \"$ca\" and .state == \"closed\"" &&
	has file.jsonl ".type == \"item\" and .item == \"$ca-1\" and .state == \"illegal\" and
		.url == \"https://pix.example/1.jpg\" and .removed_at == \"2026-03-03T09:00:00Z\"" &&
	has file.jsonl ".type == \"item\" and .item == \"$ca-2\" and .hashed_at == \"2026-03-01T12:00:00Z\"" &&
	has file.jsonl ".type == \"notice\" and .kind == \"provider\" and .provider == \"Pixhost\" and
		.state == \"sent\" and .delivery == \"maildir\" and .sent_at == \"2026-03-01T13:00:00Z\" and
		(.message_id | startswith(\"<\")) and .items == \"$ca-1\"" &&
	has file.jsonl ".type == \"entry\" and .item == \"$ca-2\" and .signal == \"pdq\""
'

test_expect_success 'every event, in order, with who did it' '
	jq -r "select(.type == \"event\") | [.at, .action] | join(\" \")" file.jsonl >events &&
	cat >want.events <<-EOF &&
	2026-03-01T10:00:00Z ingest
	2026-03-01T10:00:00Z item
	2026-03-01T10:00:00Z item
	2026-03-01T11:00:00Z verdict
	2026-03-01T11:00:00Z verdict
	2026-03-01T12:00:00Z hash
	2026-03-01T13:00:00Z notice
	2026-03-01T13:00:00Z notice
	2026-03-03T09:00:00Z removed
	2026-03-04T09:00:00Z close
	EOF
	test_cmp want.events events &&
	has file.jsonl ".type == \"event\" and .action == \"verdict\" and .item == \"$ca-1\" and .actor != null" &&
	has file.jsonl ".type == \"event\" and .action == \"notice\" and (.detail | startswith(\"sent \"))" &&
	jq -s -e "[.[] | select(.type == \"event\") | .at] | . == sort" file.jsonl >/dev/null
'

test_expect_success 'the same file as text for a person' '
	dz-export case --format text "$ca" >file.txt &&
	grep -q "^case $ca  state closed  received 2026-03-01T10:00:00Z" file.txt &&
	grep -q "^item $ca-1  state illegal  category adult_ncii  url https://pix.example/1.jpg" file.txt &&
	grep -q "removed 2026-03-03T09:00:00Z" file.txt &&
	grep -q "^notice [0-9a-f]*  kind provider  provider Pixhost  state sent" file.txt &&
	grep -q "^2026-03-01T11:00:00Z  verdict  item $ca-1  illegal adult_ncii  by " file.txt &&
	grep -q "^2026-03-04T09:00:00Z  close" file.txt &&
	grep -q "^entry [0-9a-f]\{32\}  item $ca-2  signal pdq" file.txt &&
	test "$(grep -c "^20" file.txt)" = 10
'

test_expect_success 'a known match points to the earlier case; --entry leads back to it' '
	dz-export case "$cb" >fileb.jsonl &&
	has fileb.jsonl ".type == \"known\" and .item == \"$cb-2\" and .known_case == \"$ca\" and .known_item == \"$ca-2\"" &&
	known=$(jq -r "select(.type == \"known\") | .known" fileb.jsonl) &&
	dz-export case --entry "$known" >back.jsonl &&
	test_cmp file.jsonl back.jsonl &&
	mine=$(jq -r "select(.type == \"entry\" and .signal == \"pdq\") | .entry" fileb.jsonl) &&
	dz-export case --format text --entry "$mine" >backb.txt &&
	grep -q "^case $cb " backb.txt
'

test_expect_success 'no contact or description without --contact; both with it' '
	! grep -q -i canary file.jsonl file.txt fileb.jsonl &&
	dz-export case --contact "$cb" >c.jsonl &&
	has c.jsonl ".type == \"case\" and .contact.email == \"canary-victim@example.org\" and
		.description == \"canary-description-5e1f\"" &&
	test "$(grep -c canary c.jsonl)" = 1 &&
	dz-export case --contact --format text "$cb" >c.txt &&
	grep -q "^  contact email: canary-victim@example.org$" c.txt &&
	grep -q "^  description: canary-description-5e1f$" c.txt
'

test_expect_success 'an unknown case or entry: exit 65 and a clear message' '
	expect_exit 65 dz-export case 0000000000 >out 2>err &&
	test ! -s out &&
	grep -q "^dz-export: cannot export case .0000000000.: no such case$" err &&
	expect_exit 65 dz-export case --entry 0123456789abcdef0123456789abcdef >out 2>err &&
	grep -q "no case holds this entry" err
'

test_expect_success 'hostile ids are refused before the store is asked, never echoed' '
	for id in "" "0000000000 OR 1=1" "../../etc/passwd" "$(printf "AAAAAAAAA\033")" \
		"0000000000%" "$(printf "%0300d" 0)" "abcdefghij"; do
		expect_exit 65 dz-export case "$id" >out 2>err &&
		test ! -s out && grep -q "not a case id" err &&
		! grep -q -e passwd -e OR -e "$(printf "\033")" err || return 1
	done &&
	expect_exit 65 dz-export case --entry "x%27 OR 1=1" 2>err &&
	grep -q "not an entry id" err && ! grep -q OR err
'

test_expect_success 'misuse: exit 64' '
	expect_exit 64 dz-export case 2>err &&
	expect_exit 64 dz-export case "$ca" "$cb" 2>err &&
	expect_exit 64 dz-export case --entry x "$ca" 2>err &&
	expect_exit 64 dz-export case --format html "$ca" 2>err &&
	expect_exit 64 dz-export case --state open "$ca" 2>err &&
	expect_exit 64 dz-export items --entry x 2>err
'

test_expect_success 'the store is only read' '
	sum=$(sqlite3 store/store.db "SELECT count(*) FROM audit") &&
	dz-export case "$ca" >/dev/null &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM audit")" = "$sum"
'

test_expect_success 'a write error is reported: exit 74' '
	expect_exit 74 dz-export case "$ca" >/dev/full 2>err &&
	grep -q "cannot write output" err
'

test_done
