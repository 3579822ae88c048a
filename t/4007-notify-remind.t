#!/bin/bash
# dz-notify --remind: reminders that are true (issue 16, point 5). A
# reminder cites the first notice sent for its URLs (reference and date);
# it says the content is still accessible only where an operator recorded
# still_online; reminders stop when the URL is removed or its case closed
# or withdrawn; after notify.max_reminders, the URL's outcome is
# no_answer and an escalation waits in the store, instead of a third
# reminder.
. "$(dirname "$0")/lib.sh"

. "$TOP/t/lib-notice.sh"
notice_providers
write_config() { notice_config "$@"; }	# write_config [EXTRA NOTIFY LINE]
write_config
submit() { url_submit "$1" 25 fr "${@:2}"; }	# submit ID URLS...
op() {	# op JSON: an operator record, given to dz-ingest
	printf "%s\n" "$1" | dz-ingest >/dev/null
}
n() { ls md/new 2>/dev/null | wc -l; }
last() {	# the body of the newest message, decoded
	python3 - md <<-'EOF'
	import email, os, sys
	p = os.path.join(sys.argv[1], "new")
	f = max((os.path.getmtime(os.path.join(p, f)), f) for f in os.listdir(p))[1]
	m = email.message_from_binary_file(open(os.path.join(p, f), "rb"))
	print("In-Reply-To: " + str(m["In-Reply-To"]))
	print(m.get_payload(decode=True).decode("utf-8"))
	EOF
}
remind() {	# remind DATE OUT
	DZ_NOW=$1 dz-notify --maildir md --remind 7 >"$2" 2>/dev/null
}

test_expect_success 'setup: URLs notified on two days, two notices' '
	dz-ingest --init 2>/dev/null &&
	DZ_NOW=2026-12-07T09:00:00Z && export DZ_NOW &&
	ca=$(submit s-a https://pix.example/a.jpg https://pix.example/gone.jpg) &&
	judge_all $ca 2 &&
	dz-notify --maildir md >n1 2>/dev/null &&
	DZ_NOW=2026-12-08T09:00:00Z &&
	cb=$(submit s-b https://pix.example/b.jpg) && judge_all $cb 1 &&
	cc=$(submit s-c https://pix.example/c.jpg) && judge_all $cc 1 &&
	cw=$(submit s-w https://pix.example/w.jpg) && judge_all $cw 1 &&
	dz-notify --maildir md >n2 2>/dev/null &&
	unset DZ_NOW &&
	test "$(n)" = 2 &&
	first=$(jq -r "select(.type == \"notice\") | .notice" n1) &&
	second=$(jq -r "select(.type == \"notice\") | .notice" n2) &&
	test -n "$first" && test -n "$second" && test "$first" != "$second"
'

test_expect_success 'removed, closed and withdrawn: no reminder' '
	DZ_NOW=2026-12-09T09:00:00Z op "{\"type\":\"removed\",\"item\":\"$ca-2\"}" &&
	DZ_NOW=2026-12-09T09:00:00Z op "{\"type\":\"close\",\"case\":\"$cc\"}" &&
	DZ_NOW=2026-12-09T09:00:00Z op "{\"type\":\"withdraw\",\"case\":\"$cw\"}" &&
	DZ_NOW=2026-12-09T09:00:00Z op "{\"type\":\"still_online\",\"item\":\"$cb-1\"}"
'

test_expect_success 'each reminder cites the first notice of its URLs, its reference and date' '
	remind 2026-12-16T09:00:00Z r1 &&
	test "$(n)" = 4 &&
	test "$(jq -s "map(select(.kind == \"reminder\")) | length" r1)" = 2 &&
	has r1 ".kind == \"reminder\" and .urls == 1" &&
	! has r1 ".kind == \"reminder\" and .urls != 1" &&
	sqlite3 store/store.db "SELECT n.in_reply_to, o.message_id, o.id, o.sent_at FROM notices n JOIN notices o ON o.message_id = n.in_reply_to WHERE n.kind = '"'"'reminder'"'"' ORDER BY o.sent_at" >pairs &&
	test "$(wc -l <pairs)" = 2 &&
	sqlite3 store/store.db "SELECT i.id FROM notices n JOIN notice_items ni ON ni.notice_id = n.id JOIN items i ON i.id = ni.item_id WHERE n.kind = '"'"'reminder'"'"' ORDER BY i.id" >items &&
	printf "%s\n" $ca-1 $cb-1 | sort >want && test_cmp want items
'

test_expect_success 'the reminder texts: the right notice, still accessible only where checked' '
	for d in md/new/*; do
		python3 -c "import email,sys; m=email.message_from_binary_file(open(sys.argv[1],\"rb\")); print(m.get_payload(decode=True).decode())" "$d" >body || return 1
		grep -q "^Our first notice" body || continue
		if grep -q "^   https://pix.example/a.jpg$" body; then
			grep -q "(our reference $first)" body &&
			grep -q "^On 7 December 2026" body &&
			! grep -q "still accessible" body || return 1
		else
			grep -q "^   https://pix.example/b.jpg$" body &&
			grep -q "(our reference $second)" body &&
			grep -q "^On 8 December 2026" body &&
			grep -q "still accessible when we checked, on 9 December 2026" body || return 1
		fi
		! grep -q -e gone.jpg -e c.jpg -e w.jpg body || return 1
	done
'

test_expect_success 'a second reminder; then no third: no_answer and an escalation' '
	remind 2026-12-24T09:00:00Z r2 && test "$(n)" = 6 &&
	remind 2027-01-01T09:00:00Z r3 && test "$(n)" = 6 &&
	! has r3 ".type == \"notice\"" &&
	has r3 ".type == \"escalation\" and .item == \"$ca-1\" and .notice == \"$first\" and .reminders == 2" &&
	has r3 ".type == \"escalation\" and .item == \"$cb-1\" and .notice == \"$second\"" &&
	sqlite3 store/store.db "SELECT id, outcome FROM items WHERE outcome IS NOT NULL ORDER BY id" >got &&
	printf "%s|no_answer\n" $ca-1 $cb-1 | sort >want && test_cmp want got &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM escalations WHERE done_at IS NULL")" = 2 &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM audit WHERE action = '"'"'escalation'"'"'")" = 2 &&
	remind 2027-02-01T09:00:00Z r4 && test "$(n)" = 6 && ! has r4 ".type == \"escalation\""
'

test_expect_success 'dz-export queue shows each escalation until the URL is removed' '
	DZ_NOW=2027-02-01T09:00:00Z dz-export queue >q &&
	jq -r "select(.kind == \"escalation\") | .item + \" \" + .notice" q | sort >got &&
	printf "%s\n" "$ca-1 $first" "$cb-1 $second" | sort >want && test_cmp want got &&
	has q ".kind == \"escalation\" and .reminders == 2 and .since != null" &&
	! jq -e "select(.kind == \"escalation\") | has(\"url\")" q >/dev/null &&
	echo "{\"type\":\"removed\",\"item\":\"$ca-1\"}" | DZ_NOW=2027-02-02T09:00:00Z dz-ingest >/dev/null &&
	DZ_NOW=2027-02-02T09:00:00Z dz-export queue >q2 &&
	jq -r "select(.kind == \"escalation\") | .item" q2 >got && echo "$cb-1" >want && test_cmp want got
'

test_expect_success 'notify.max_reminders: 0 escalates at once, bad values refused' '
	write_config "  max_reminders: 0" &&
	cd=$(DZ_NOW=2027-02-01T09:00:00Z submit s-d https://pix.example/d.jpg) &&
	DZ_NOW=2027-02-01T09:00:00Z judge_all $cd 1 &&
	DZ_NOW=2027-02-01T09:00:00Z dz-notify --maildir md >r5 2>/dev/null && test "$(n)" = 7 &&
	remind 2027-02-09T09:00:00Z r6 && test "$(n)" = 7 &&
	has r6 ".type == \"escalation\" and .item == \"$cd-1\" and .reminders == 0" &&
	write_config "  max_reminders: -1" &&
	expect_exit 78 dz-notify --dry-run >/dev/null 2>err && grep -q "max_reminders" err &&
	write_config
'

test_expect_success 'still_online needs an item with a URL' '
	expect_exit 65 dz-ingest >/dev/null 2>err <<-EOF &&
	{"type":"still_online","item":"NOSUCHITEM-1"}
	EOF
	grep -q "no such item" err &&
	expect_exit 65 dz-ingest >/dev/null 2>err <<-EOF
	{"type":"still_online"}
	EOF
'

test_done
