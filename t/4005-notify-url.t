#!/bin/bash
# dz-notify: notices per URL, not per report (issue 16, point 3). One URL
# (scheme and host in any case, the default port, a fragment) reported in
# several cases goes once to its provider, listed once; a case that
# reports it later shares the notice already sent; statistics count
# distinct URLs.
. "$(dirname "$0")/lib.sh"

export DZ_NOW=2026-03-02T09:00:00Z
. "$TOP/t/lib-notice.sh"
notice_providers
notice_config
submit() { url_submit "$1" 25 fr "${@:2}"; }	# submit ID URLS...
bodies() {	# the decoded bodies of the messages in maildir md
	python3 - md <<-'EOF'
	import email, os, sys
	for d in ("new", "cur"):
	    p = os.path.join(sys.argv[1], d)
	    for f in sorted(os.listdir(p)) if os.path.isdir(p) else []:
	        m = email.message_from_binary_file(open(os.path.join(p, f), "rb"))
	        print(m.get_payload(decode=True).decode("utf-8"))
	EOF
}
messages() { ls md/new 2>/dev/null | wc -l; }

test_expect_success 'setup: one URL in two cases, written two ways' '
	dz-ingest --init 2>/dev/null &&
	ca=$(submit s-a https://pix.example/1.jpg https://pix.example/2.jpg) &&
	cb=$(submit s-b "HTTPS://Pix.Example:443/1.jpg#top") &&
	judge_all $ca 2 adult_ncii && judge_all $cb 1 adult_ncii
'

test_expect_success 'one notice, each URL listed once' '
	dz-notify --maildir md >rec 2>err &&
	test "$(messages)" = 1 &&
	has rec ".type == \"notice\" and .kind == \"provider\" and .urls == 2 and .state == \"sent\"" &&
	bodies >body.txt &&
	test "$(grep -c "^   https://pix.example/1.jpg$" body.txt)" = 1 &&
	! grep -q -i "Pix.Example:443" body.txt &&
	grep -q "^   https://pix.example/2.jpg$" body.txt
'

test_expect_success 'every case that reports the URL sees the notice' '
	ref=$(jq -r "select(.type == \"notice\") | .notice" rec) &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM notice_items WHERE notice_id = '"'"'$ref'"'"'")" = 3 &&
	test "$(sqlite3 store/store.db "SELECT count(DISTINCT case_id) FROM items i JOIN notice_items ni ON ni.item_id = i.id")" = 2
'

test_expect_success 'a case reporting it later shares the notice sent, nothing mailed' '
	cc=$(submit s-c "https://PIX.example:443/1.jpg" "http://pix.example:80/3.jpg#x") &&
	judge_all $cc 2 adult_ncii &&
	dz-notify --maildir md >rec2 2>err2 &&
	test "$(messages)" = 2 &&
	has rec2 ".type == \"notice\" and .state == \"shared\" and .item == \"$cc-1\" and .notice == \"$ref\" and .case == \"$cc\"" &&
	has rec2 ".type == \"notice\" and .state == \"sent\" and .urls == 1" &&
	sqlite3 store/store.db "SELECT detail FROM audit WHERE action = '"'"'notice'"'"' AND case_id = '"'"'$cc'"'"'" >audit &&
	grep -q "shared" audit &&
	bodies >body2.txt && grep -q "^   http://pix.example:80/3.jpg#x$" body2.txt
'

test_expect_success 'a dry run shares too, and records nothing' '
	cd=$(submit s-d "https://pix.example/2.jpg") && judge_all $cd 1 adult_ncii &&
	dz-notify --dry-run >mbox 2>/dev/null &&
	! grep -q "^From dz-notify" mbox &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM notice_items WHERE item_id = '"'"'$cd-1'"'"'")" = 0 &&
	dz-notify --maildir md >rec4 2>/dev/null && test "$(messages)" = 2 &&
	has rec4 ".state == \"shared\" and .item == \"$cd-1\""
'

test_expect_success 'statistics count distinct URLs' '
	dz-export stats --from 2026-01-01 --to 2027-01-01 >st &&
	has st ".stat == \"notices\" and .notices == 2 and .urls == 3" &&
	has st ".stat == \"provider\" and .provider == \"Pixhost\" and .urls == 3"
'

test_expect_success 'a second run sends nothing again' '
	dz-notify --maildir md >rec5 2>/dev/null && test "$(messages)" = 2 &&
	! has rec5 ".type == \"notice\""
'

test_done
