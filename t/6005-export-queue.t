#!/bin/bash
# dz-export queue: what waits for a person, one record each with its kind;
# each kind appears when it should and goes when the work is done; minors
# first; exit 0 when something waits, 1 when nothing does; no personal
# data.
. "$(dirname "$0")/lib.sh"

. "$TOP/t/lib-notice.sh"
notice_providers
cat >>providers.yaml <<'EOF2'
  - name: Formonly
    domains: [form.example]
    form: https://form.example/report
EOF2
notice_config "retention: {personal_data_days: 14}"

at() { local t=$1; shift; DZ_NOW=$t "$@"; }
submit() {	# submit TIME ID AGE FOLLOWUP CONTACT URLS...: prints the case id
	local t=$1 id=$2 age=$3 fu=$4 contact=$5
	shift 5
	jq -cn --arg id "$id" --argjson age "$age" --argjson fu "$fu" \
		--argjson contact "$contact" '$ARGS.positional as $u |
		{type:"submission",submission:$id,age:$age,followup:$fu,
		 contact:$contact,description:"canary-description-9b2e",
		 urls:$u,language:"en"}' --args "$@" >sub.jsonl &&
	at "$t" dz-ingest sub.jsonl >ack && jq -r .case ack
}
feed() { at "$1" dz-ingest >/dev/null; }	# feed TIME <RECORDS
illegal() {	# illegal TIME CATEGORY ITEM...
	local t=$1 cat=$2
	shift 2
	for i; do
		printf '{"type":"verdict","item":"%s","illegal":true,"category":"%s"}\n' "$i" "$cat"
	done | feed "$t"
}
op() { printf '{"type":"%s","%s":"%s"%s}\n' "$2" "$3" "$4" "${5-}" | feed "$1"; }
queue() { at "$1" dz-export queue "${@:2}"; }	# queue TIME [OPTIONS]
kinds() { jq -r '[.kind, .item // .case // .notice // .entry] | join(" ")' "$1"; }

test_expect_success 'setup: an adult case, a minor one, one with a phone number only' '
	dz-ingest --init 2>/dev/null &&
	ca=$(submit 2026-03-01T10:00:00Z s-a 25 true "{\"email\":\"canary-a@example.org\"}" \
		https://pix.example/1.jpg https://form.example/x https://nobody.example/y) &&
	cm=$(submit 2026-03-02T10:00:00Z s-m 16 false "{\"email\":\"canary-m@example.org\"}" \
		https://pix.example/m.jpg) &&
	cp=$(submit 2026-03-02T11:00:00Z s-p 30 true "{\"phone\":\"+33 6 00 00 00 00\"}" \
		https://pix.example/p.jpg) &&
	echo "$ca $cm $cp" >ids
'
read -r ca cm cp <ids

test_expect_success 'nothing to do on an empty store: exit 1, no output' '
	mkdir empty && printf "store: %s/empty/store\nmaster_key: %s/empty/master.key\n" "$TRASH" "$TRASH" >e.yaml &&
	DZ_CONFIG=$TRASH/e.yaml dz-ingest --init 2>/dev/null &&
	expect_exit 1 env DZ_CONFIG=$TRASH/e.yaml dz-export queue >out &&
	test ! -s out
'

test_expect_success 'to review: minors first, then the oldest; exit 0' '
	queue 2026-03-02T12:00:00Z >q1 &&
	kinds q1 >got &&
	printf "%s\n" "review $cm-1" "review $ca-1" "review $ca-2" "review $ca-3" "review $cp-1" >want &&
	test_cmp want got &&
	jq -s -e "(.[0].minor == true) and (.[1].minor == false) and
		(.[1].since == \"2026-03-01T10:00:00Z\") and (.[1].case == \"$ca\")" q1 >/dev/null
'

test_expect_success 'judged: reviews go; URLs for a form and for unknown hosts come' '
	illegal 2026-03-02T13:00:00Z adult_ncii $ca-1 $ca-2 $ca-3 $cp-1 &&
	illegal 2026-03-02T13:00:00Z minor $cm-1 &&
	queue 2026-03-02T14:00:00Z >q2 &&
	kinds q2 >got &&
	printf "%s\n" "notify_by_hand $ca-2" "unresolved $ca-3" >want &&
	test_cmp want got &&
	jq -s -e ".[0].provider == \"Formonly\" and .[1].host == \"nobody.example\"" q2 >/dev/null
'

test_expect_success 'notified by hand: it goes; a host added to the directory: it goes to dz-notify' '
	op 2026-03-03T09:00:00Z notified item $ca-2 ",\"provider\":\"Formonly\"" &&
	cat >>providers.yaml <<-EOF2 &&
	  - name: Nobody
	    domains: [nobody.example]
	    abuse: abuse@nobody.example
	EOF2
	expect_exit 1 queue 2026-03-03T10:00:00Z >q3 && test ! -s q3 &&
	at 2026-03-03T11:00:00Z dz-notify --maildir "$TRASH/md" >n.jsonl 2>/dev/null &&
	expect_exit 1 queue 2026-03-10T00:00:00Z >q4
'

test_expect_success 'notices unanswered after 14 days (or --overdue DAYS), by hand or by mail, are overdue' '
	queue 2026-03-18T00:00:00Z >q5 &&
	test "$(jq -r .kind q5 | sort -u)" = overdue &&
	jq -s -e "all(.[]; .urls >= 1 and
		(.notice | length) == 16 and .provider != null)" q5 >/dev/null &&
	test "$(jq -s "map(.urls) | add" q5)" = 5 &&
	has q5 ".provider == \"Formonly\" and .since == \"2026-03-03T09:00:00Z\"" &&
	expect_exit 1 queue 2026-03-18T00:00:00Z --overdue 30 >q6 &&
	queue 2026-03-05T00:00:00Z --overdue 1 >q7 && test -s q7
'

test_expect_success 'removed: the notices are no longer overdue; the cases are ready to close' '
	for i in $ca-1 $ca-2 $ca-3 $cm-1 $cp-1; do op 2026-03-19T09:00:00Z removed item $i || return 1; done &&
	queue 2026-03-19T10:00:00Z >q8 &&
	kinds q8 >got &&
	printf "%s\n" "close $ca" "close $cm" "close $cp" >want &&
	test_cmp want got &&
	jq -s -e ".[1].minor == true and .[0].since == \"2026-03-19T09:00:00Z\"" q8 >/dev/null
'

test_expect_success 'closed: an answer by phone waits for a call back, until the contact is purged' '
	for c in $ca $cm $cp; do op 2026-03-20T09:00:00Z close case $c || return 1; done &&
	at 2026-03-20T10:00:00Z dz-notify --maildir "$TRASH/md" >n2.jsonl 2>/dev/null &&
	queue 2026-03-20T11:00:00Z >q9 &&
	kinds q9 >got && echo "call_back $cp" >want && test_cmp want got &&
	jq -e ".notice | length == 16" q9 >/dev/null &&
	at 2026-04-05T00:00:00Z dz-purge >/dev/null 2>&1 &&
	expect_exit 1 queue 2026-04-05T01:00:00Z >q10
'

test_expect_success 'rejected spool entries, with --spool; a hostile name is not shown' '
	mkdir -p spool/new/003 "spool/new/$(printf "x\033[2J")" &&
	echo "{\"submission\":\"sp-3\",\"age\":22}" >spool/new/003/submission.json &&
	echo "{\"submission\":\"sp-4\",\"age\":22}" >"spool/new/$(printf "x\033[2J")/submission.json" &&
	at 2026-04-05T02:00:00Z dz-ingest --spool spool >/dev/null 2>&1
	test -d spool/rejected/003 &&
	queue 2026-04-05T03:00:00Z --spool spool >q11 &&
	test "$(jq -r .kind q11 | sort -u)" = rejected &&
	jq -s -e "map(.entry) == [\"003\", null]" q11 >/dev/null &&
	! grep -q "$(printf "\033")" q11 &&
	expect_exit 1 queue 2026-04-05T03:00:00Z >q12 &&
	rm -rf spool/rejected/* &&
	expect_exit 1 queue 2026-04-05T03:00:00Z --spool spool >q13 &&
	expect_exit 66 queue 2026-04-05T03:00:00Z --spool nowhere 2>err &&
	grep -q "^dz-export: cannot list the queue" err
'

test_expect_success 'as text: one line per record, kinds and ids' '
	cm2=$(submit 2026-04-06T10:00:00Z s-m2 15 false "{\"email\":\"canary-m2@example.org\"}" \
		https://pix.example/m2.jpg) &&
	queue 2026-04-06T11:00:00Z --format text >t1 &&
	echo "review         case $cm2 item $cm2-1 since 2026-04-06T10:00:00Z minor" >want &&
	test_cmp want t1
'

test_expect_success 'no personal data in any queue record' '
	! grep -q -i -e canary -e "+33" -e "00 00" q* t1
'

test_expect_success 'misuse: exit 64' '
	expect_exit 64 dz-export queue extra 2>err &&
	expect_exit 64 dz-export queue --contact 2>err &&
	expect_exit 64 dz-export queue --format html 2>err &&
	expect_exit 64 dz-export queue --overdue 0 2>err &&
	expect_exit 64 dz-export cases --spool x 2>err
'

test_done
