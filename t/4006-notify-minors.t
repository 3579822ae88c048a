#!/bin/bash
# dz-notify and dz-ingest: minors are a separate path (issue 16, point
# 4). A notice never mixes categories: each cites one legal ground and
# names only URLs of that category. A verdict of adult_ncii on a case
# declared under 18 is refused unless it says override_minor, which the
# audit log records.
. "$(dirname "$0")/lib.sh"

export DZ_NOW=2026-03-02T09:00:00Z
. "$TOP/t/lib-notice.sh"
notice_providers
notice_config
submit() { url_submit "$1" "$2" fr "${@:3}"; }	# submit ID AGE URLS...
verdict() {	# verdict ITEM CATEGORY [EXTRA JSON MEMBERS]
	printf '{"type":"verdict","item":"%s","illegal":true,"category":"%s"%s}\n' "$1" "$2" "${3-}"
}
bodies() {	# each message of maildir md decoded, into msg.N
	python3 - md <<-'EOF'
	import email, os, sys
	p = os.path.join(sys.argv[1], "new")
	for n, f in enumerate(sorted(os.listdir(p))):
	    m = email.message_from_binary_file(open(os.path.join(p, f), "rb"))
	    open("msg.%d" % n, "w").write(m.get_payload(decode=True).decode("utf-8"))
	EOF
}

test_expect_success 'setup: an adult case and a minor case, URLs on one provider' '
	dz-ingest --init 2>/dev/null &&
	ca=$(submit s-a 25 https://pix.example/adult.jpg https://pix.example/other.jpg) &&
	cm=$(submit s-m 16 https://pix.example/minor.jpg https://pix.example/judged-adult.jpg)
'

test_expect_success 'adult_ncii on a case declared under 18: refused, with why' '
	verdict $cm-2 adult_ncii >v.jsonl &&
	expect_exit 65 dz-ingest v.jsonl >out 2>err &&
	grep -q "declared under 18" err && grep -q "override_minor" err &&
	test "$(sqlite3 store/store.db "SELECT state FROM items WHERE id = '"'"'$cm-2'"'"'")" = review
'

test_expect_success 'override_minor must be a boolean' '
	verdict $cm-2 adult_ncii ",\"override_minor\":\"yes\"" >v.jsonl &&
	expect_exit 65 dz-ingest v.jsonl >out 2>err &&
	grep -q "override_minor" err
'

test_expect_success 'with override_minor: accepted, and the audit log says so' '
	{ verdict $ca-1 adult_ncii && verdict $ca-2 other &&
	  verdict $cm-1 minor &&
	  verdict $cm-2 adult_ncii ",\"override_minor\":true"; } >v.jsonl &&
	dz-ingest v.jsonl >out &&
	test "$(sqlite3 store/store.db "SELECT category FROM items WHERE id = '"'"'$cm-2'"'"'")" = adult_ncii &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM audit WHERE action = '"'"'verdict_override'"'"' AND item_id = '"'"'$cm-2'"'"'")" = 1 &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM audit WHERE action = '"'"'verdict_override'"'"'")" = 1
'

test_expect_success 'an adult case needs no override' '
	test "$(sqlite3 store/store.db "SELECT category FROM items WHERE id = '"'"'$ca-1'"'"'")" = adult_ncii
'

test_expect_success 'one notice per legal ground, each URL of its category only' '
	dz-notify --maildir md >rec 2>err &&
	test "$(ls md/new | wc -l)" = 3 &&
	has rec ".type == \"notice\" and .category == \"adult_ncii\" and .urls == 2" &&
	has rec ".type == \"notice\" and .category == \"minor\" and .urls == 1" &&
	has rec ".type == \"notice\" and .category == \"other\" and .urls == 1" &&
	bodies &&
	for m in msg.*; do
		if grep -q "pix.example/minor.jpg" $m; then
			grep -q "227-23" $m && ! grep -q "226-2-1" $m &&
			! grep -q -e adult.jpg -e other.jpg $m || return 1
		elif grep -q "pix.example/adult.jpg" $m; then
			grep -q "226-2-1" $m && ! grep -q "227-23" $m &&
			grep -q "judged-adult.jpg" $m && ! grep -q other.jpg $m &&
			grep -q "of an adult" $m || return 1
		else
			grep -q "pix.example/other.jpg" $m && ! grep -q "227-23" $m &&
			! grep -q "of an adult" $m || return 1
		fi
	done
'

test_expect_success 'the store keeps each notice'"'"'s ground' '
	sqlite3 store/store.db "SELECT category FROM notices WHERE kind = '"'"'provider'"'"' ORDER BY category" >got &&
	printf "adult_ncii\nminor\nother\n" >want && test_cmp want got
'

test_done
