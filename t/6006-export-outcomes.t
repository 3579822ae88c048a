#!/bin/bash
# dz-export stats: what providers did with the notices (issue 16, point
# 7, DSA Article 22(3) style): removed, refused with the provider's reason
# (a "refused" record given to dz-ingest), no_answer when the reminders ran
# out; each URL counted once, per provider.
. "$(dirname "$0")/lib.sh"

. "$TOP/t/lib-notice.sh"
notice_providers Vidhost vid.example
notice_config "  max_reminders: 1"
export DZ_NOW=2026-03-02T09:00:00Z
submit() { url_submit "$1" 30 en "${@:2}"; }	# submit ID URLS...
fig() {	# fig FILE STAT CONDITION [PROVIDER]
	jq -se --arg s "$2" --arg p "${4-}" 'map(select(.stat == $s and
		($p == "" or .provider == $p))) | length == 1 and (.[0] | '"$3"')' "$1" >/dev/null
}
stats() { dz-export stats --from 2026-01-01 --to 2027-01-01; }

test_expect_success 'setup: five URLs notified, one in two cases' '
	dz-ingest --init 2>/dev/null &&
	ca=$(submit s-a https://pix.example/1 https://pix.example/2 https://pix.example/3 https://vid.example/4) &&
	cb=$(submit s-b https://PIX.example/2 https://vid.example/5) &&
	judge_all $ca 4 && judge_all $cb 2 &&
	dz-notify --maildir md >n.jsonl 2>/dev/null &&
	test "$(ls md/new | wc -l)" = 2
'

test_expect_success 'a refused record needs an item with a URL and a reason' '
	expect_exit 65 dz-ingest >/dev/null 2>err <<-EOF &&
	{"type":"refused","item":"$ca-2"}
	EOF
	grep -q "reason: missing" err &&
	expect_exit 65 dz-ingest >/dev/null 2>err <<-EOF &&
	{"type":"refused","item":"NOSUCHITEM-1","reason":"not illegal here"}
	EOF
	grep -q "no such item" err
'

test_expect_success 'removed, refused with the reason kept, and no answer' '
	dz-ingest >/dev/null <<-EOF &&
	{"type":"removed","item":"$ca-1"}
	{"type":"refused","item":"$ca-2","reason":"the provider says it is satire"}
	{"type":"refused","item":"$cb-1","reason":"the provider says it is satire"}
	{"type":"removed","item":"$ca-4"}
	EOF
	test "$(sqlite3 store/store.db "SELECT outcome_reason FROM items WHERE id = '"'"'$ca-2'"'"'")" = "the provider says it is satire" &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM audit WHERE action = '"'"'refused'"'"'")" = 2 &&
	! sqlite3 store/store.db "SELECT detail FROM audit" | grep -q satire &&
	DZ_NOW=2026-03-10T09:00:00Z dz-notify --maildir md --remind 7 >r1 2>/dev/null &&
	test "$(jq -s "map(select(.kind == \"reminder\")) | length" r1)" = 2 &&
	! jq -s -e "any(.[]; .kind == \"reminder\" and .urls != 1)" r1 >/dev/null &&
	DZ_NOW=2026-03-18T09:00:00Z dz-notify --maildir md --remind 7 >r2 2>/dev/null &&
	test "$(jq -s "map(select(.type == \"escalation\")) | length" r2)" = 2
'

test_expect_success 'the figures: each URL once, per outcome and per provider' '
	stats >st &&
	fig st notices ".notices == 2 and .urls == 5 and .removed == 2 and
		.refused == 1 and .no_answer == 2" &&
	fig st provider ".urls == 3 and .removed == 1 and .refused == 1 and .no_answer == 1" Pixhost &&
	fig st provider ".urls == 2 and .removed == 1 and .refused == 0 and .no_answer == 1" Vidhost
'

test_expect_success 'a URL removed after all counts as removed only' '
	DZ_NOW=2026-03-20T09:00:00Z dz-ingest >/dev/null <<-EOF &&
	{"type":"removed","item":"$ca-3"}
	EOF
	stats >st2 &&
	fig st2 notices ".removed == 3 and .refused == 1 and .no_answer == 1"
'

test_done
