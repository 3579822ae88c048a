#!/bin/bash
# dz-notify: notices to hosting providers (one per provider, URLs grouped,
# what DSA Article 16(2) asks), reminders, answers to victims; nothing
# sent twice, failures retried, no personal data in records or notices;
# the provider directory, --dry-run, --resolve against a local RDAP
# fixture, and bad configurations.
. "$(dirname "$0")/lib.sh"

export DZ_NOW=2026-03-02T09:00:00Z
cat >providers.yaml <<'EOF'
version: 1
providers:
  - name: Pixhost
    domains: [pix.example]
    abuse: abuse@pix.example
  - name: Vidéo Libre
    domains: [video.example]
    abuse: signalement@video.example
    language: fr
  - name: Formonly
    domains: [form.example]
    form: https://form.example/report
EOF
write_config() {	# write_config [EXTRA NOTIFY LINES]
	cat >dz.yaml <<-EOF
	store: $TRASH/store
	master_key: $TRASH/master.key
	retention: {personal_data_days: 14}
	notify:
	  from: "Hotline test <notices@hotline.example>"
	  hotline: Hotline test
	  address: 1 rue de l'Exemple, 75000 Paris
	  trusted_flagger: Hotline test is a trusted flagger designated by Arcom.
	  providers: $TRASH/providers.yaml
	  mta: $TRASH/fake-sendmail
	${1-}
	EOF
}
write_config
export DZ_CONFIG=$TRASH/dz.yaml
cat >fake-sendmail <<EOF
#!/bin/sh
# records each message; fails with \$(cat $TRASH/mta-status) if set
n=\$(ls $TRASH/sent 2>/dev/null | wc -l)
s=\$(cat $TRASH/mta-status 2>/dev/null || echo 0)
[ "\$s" = 0 ] || { cat >/dev/null; exit "\$s"; }
mkdir -p $TRASH/sent && cat >"$TRASH/sent/\$((n + 1))"
EOF
chmod +x fake-sendmail
convert -size 96x96 gradient:red-blue a.png
convert -size 96x96 plasma:fractal -seed 3 b.png 2>/dev/null || convert -size 96x96 gradient:green-yellow b.png

submit() {	# submit ID AGE FOLLOWUP CONTACT URLS...
	local id=$1 age=$2 fu=$3 contact=$4
	shift 4
	jq -cn --arg id "$id" --argjson age "$age" --argjson fu "$fu" \
		--argjson contact "$contact" '$ARGS.positional as $u |
		{type:"submission",submission:$id,age:$age,followup:$fu,
		 contact:$contact,description:"canary-description-77d1",
		 urls:$u,files:["a.png"],language:"fr"}' --args "$@" >sub.jsonl &&
	dz-ingest sub.jsonl >ack && jq -r .case ack
}
judge_all() {	# judge_all CASE N CATEGORY
	for i in $(seq "$2"); do
		printf '{"type":"verdict","item":"%s-%s","illegal":true,"category":"%s"}\n' "$1" "$i" "$3"
	done >v.jsonl && dz-ingest v.jsonl >/dev/null
}
sent() { ls sent 2>/dev/null | wc -l; }
has() {	# has FILE CONDITION: some record of FILE meets the jq CONDITION
	jq -s -e "any(.[]; $2)" "$1" >/dev/null
}
decode() {	# decode FILE: headers decoded, body decoded
	python3 - "$1" <<-'EOF'
	import email, email.header, sys
	m = email.message_from_binary_file(open(sys.argv[1], "rb"))
	for k in ("From", "To", "Subject", "Message-ID", "In-Reply-To"):
	    if m[k]:
	        print(k + ": " + str(email.header.make_header(email.header.decode_header(m[k]))))
	print()
	print(m.get_payload(decode=True).decode("utf-8"))
	EOF
}

test_expect_success 'setup: two cases, URLs on three providers and an unknown host' '
	dz-ingest --init 2>/dev/null &&
	ca=$(submit s-a 25 true "{\"email\":\"canary-victim@example.org\",\"name\":\"Canary Person\"}" \
		https://pix.example/1.jpg https://cdn.pix.example/2.jpg https://video.example/v/3 \
		https://form.example/x https://nobody.example/y) &&
	cb=$(submit s-b 16 false "{\"email\":\"other-canary@example.org\"}") &&
	judge_all $ca 6 adult_ncii && judge_all $cb 1 minor &&
	dz-hash --store >h.jsonl
'

test_expect_success 'one notice per provider, its URLs grouped; operator records for the rest' '
	dz-notify >rec 2>err &&
	test "$(sent)" = 2 &&
	has rec ".type == \"notice\" and .provider == \"Pixhost\" and
		.urls == 2 and .state == \"sent\" and .to == \"abuse@pix.example\" and .language == \"en\"" &&
	has rec ".type == \"notice\" and .provider == \"Vidéo Libre\" and .urls == 1 and .language == \"fr\"" &&
	has rec ".type == \"manual\" and .item == \"$ca-4\" and .provider == \"Formonly\" and .form == \"https://form.example/report\"" &&
	has rec ".type == \"unresolved\" and .item == \"$ca-5\" and .host == \"nobody.example\"" &&
	grep -q "notify by hand" err && grep -q "add it to the provider directory" err
'

pix=$(grep -l "To: abuse@pix.example" sent/* 2>/dev/null | head -1)
vid=$(grep -l "To: signalement@video.example" sent/* 2>/dev/null | head -1)
test_expect_success 'the notice holds what DSA Article 16(2) asks' '
	decode "$pix" >pix.txt &&
	grep -q "^   https://pix.example/1.jpg$" pix.txt &&
	grep -q "^   https://cdn.pix.example/2.jpg$" pix.txt &&
	grep -q "Article 226-2-1 of the" pix.txt && ! grep -q "227-23" pix.txt &&
	grep -q "^Hotline test$" pix.txt && grep -q "E-mail: notices@hotline.example" pix.txt &&
	grep -q "trusted flagger designated by Arcom" pix.txt &&
	grep -q "1 rue de l.Exemple" pix.txt &&
	grep -q "bona fide belief that the information and allegations" pix.txt &&
	grep -q "^Subject: Notice of illegal content under Article 16 DSA" pix.txt &&
	ref=$(jq -r "select(.provider == \"Pixhost\") | .notice" rec) &&
	grep -q "reference for this notice is $ref" pix.txt &&
	pdq=$(jq -r "select(.item == \"$ca-6\") | .pdq" h.jsonl) && test ${#pdq} = 64 &&
	grep -q "^   pdq $pdq$" pix.txt
'

test_expect_success 'a provider that reads French gets the French notice, its subject encoded' '
	grep -q "^Subject: =?UTF-8?Q?" "$vid" &&
	decode "$vid" >vid.txt &&
	grep -q "^Subject: Notification de contenu illicite (article 16 DSA)" vid.txt &&
	grep -q "l.article 16 du" vid.txt && grep -q "226-2-1 du Code pénal" vid.txt &&
	grep -q "bonne foi" vid.txt && ! grep -q "227-23" vid.txt
'

test_expect_success 'no victim identity in notices, no personal data in records' '
	! grep -q -i -e canary -e "Canary Person" sent/* vid.txt pix.txt &&
	! grep -q -i canary rec err
'

test_expect_success 'a second run sends nothing again' '
	dz-notify >rec2 2>/dev/null && test "$(sent)" = 2 &&
	! has rec2 ".type == \"notice\""
'

test_expect_success 'a closed case whose victim asked gets an answer, in their language' '
	printf "{\"type\":\"close\",\"case\":\"%s\"}\n{\"type\":\"close\",\"case\":\"%s\"}\n" $ca $cb >c.jsonl &&
	dz-ingest c.jsonl >/dev/null &&
	dz-notify >rec3 2>/dev/null && test "$(sent)" = 3 &&
	has rec3 ".type == \"notice\" and .kind == \"victim\" and .case == \"$ca\" and .language == \"fr\"" &&
	! grep -q -i canary rec3 &&
	ans=$(grep -l "To: canary-victim@example.org" sent/*) && decode "$ans" >ans.txt &&
	grep -q "^Subject: Votre signalement $ca : ce que nous avons fait" ans.txt &&
	grep -q "Nous avons transformé 1 image" ans.txt &&
	grep -q "retrait de 3 lien" ans.txt && grep -q "^    Pixhost$" ans.txt &&
	grep -q "^    Vidéo Libre$" ans.txt &&
	grep -q "Pour 2 lien(s), nous n.avons pas encore pu" ans.txt &&
	grep -q "226-2-1" ans.txt && grep -q "plainte contre X" ans.txt &&
	grep -q "3018" ans.txt && grep -q "supprimées$" ans.txt &&
	grep -q "^14 jours après la clôture" ans.txt &&
	! grep -q "227-23" ans.txt && ! grep -q "canary-description" ans.txt
'

test_expect_success 'no answer for a victim who did not ask, none twice' '
	! grep -l "other-canary@example.org" sent/* &&
	dz-notify >rec4 2>/dev/null && test "$(sent)" = 3
'

test_expect_success 'a case with only a phone number: the answer is cancelled, for the operator' '
	cc=$(submit s-c 30 true "{\"phone\":\"+33 6 00 00 00 00\"}") &&
	printf "{\"type\":\"close\",\"case\":\"%s\"}\n" $cc | dz-ingest >/dev/null &&
	dz-notify >rec5 2>err5 && test "$(sent)" = 3 &&
	has rec5 ".kind == \"victim\" and .state == \"cancelled\" and (.reason | test(\"phone\"))" &&
	! grep -q "+33" rec5 err5 &&
	dz-notify >rec6 2>/dev/null && ! has rec6 ".kind == \"victim\""
'

# Issue 15, finding 11: an answer that can never be sent is an error and
# exit 69, not a silent cancel.
test_expect_success 'an answer whose contact does not open: an error record, exit 69' '
	ct=$(submit s-t 30 true "{\"email\":\"tamper-canary@example.org\"}") &&
	sqlite3 store/store.db "UPDATE cases SET contact = zeroblob(length(contact)) WHERE id = '"'"'$ct'"'"'" &&
	printf "{\"type\":\"close\",\"case\":\"%s\"}\n" $ct | dz-ingest >/dev/null &&
	n=$(sent) && expect_exit 69 dz-notify >rec-t 2>err-t && test "$(sent)" = $n &&
	has rec-t ".type == \"error\" and .program == \"dz-notify\" and .kind == \"victim\" and
		.case == \"$ct\" and (.reason | test(\"cannot be decrypted\"))" &&
	grep -q "cannot be sent" err-t && ! grep -q tamper-canary rec-t err-t &&
	dz-notify >rec-t2 2>/dev/null && ! has rec-t2 ".case == \"$ct\""
'
test_expect_success 'an answer to an address lib/notice/mail refuses: an error record, exit 69' '
	if cr=$(submit s-r 30 true "{\"email\":\"refused..canary@example.org\"}" 2>/dev/null); then
		printf "{\"type\":\"close\",\"case\":\"%s\"}\n" $cr | dz-ingest >/dev/null &&
		n=$(sent) && expect_exit 69 dz-notify >rec-r 2>err-r && test "$(sent)" = $n &&
		has rec-r ".type == \"error\" and .case == \"$cr\" and (.reason | test(\"invalid address\"))" &&
		! grep -q "refused..canary" rec-r err-r
	else
		: intake refuses the address already
	fi
'

test_expect_success 'a delivery that fails for now: exit 75, retried next time under the same Message-ID' '
	cd2=$(submit s-d 40 false "{}" https://pix.example/retry.jpg) && judge_all $cd2 2 adult_ncii &&
	echo 75 >mta-status &&
	expect_exit 75 dz-notify >rec7 2>err7 &&
	has rec7 ".type == \"notice\" and .state == \"pending\" and (.reason | test(\"exit 75\"))" &&
	grep -q "retried on the next run" err7 && test "$(sent)" = 3 &&
	id=$(jq -r "select(.type == \"notice\") | .message_id" rec7) &&
	echo 1 >mta-status && expect_exit 69 dz-notify >rec8 2>/dev/null &&
	echo 0 >mta-status && dz-notify >rec9 2>/dev/null &&
	has rec9 ".type == \"notice\" and .state == \"sent\" and .message_id == \"$id\"" &&
	test "$(sent)" = 4 && grep -q "^Message-ID: $id" sent/4 &&
	test $(sqlite3 store/store.db "SELECT attempts FROM notices WHERE message_id = '\''$id'\''") = 3
'

# The cases of the first notices are closed by now: only the open case's
# URL is reminded (issue 16: reminders stop when the case is closed).
test_expect_success 'reminders: for URLs still reported after the days given, replying to the notice' '
	dz-notify --remind 7 >r0 2>/dev/null && test "$(sent)" = 4 &&
	printf "{\"type\":\"removed\",\"item\":\"%s-3\"}\n" $ca | dz-ingest >/dev/null &&
	DZ_NOW=2026-03-10T09:00:00Z dz-notify --remind 7 >r1 2>/dev/null &&
	test "$(sent)" = 5 &&
	has r1 ".type == \"notice\" and .kind == \"reminder\" and .provider == \"Pixhost\" and .urls == 1" &&
	first=$(sqlite3 store/store.db "SELECT n.message_id FROM notices n JOIN notice_items ni ON ni.notice_id = n.id WHERE ni.item_id = '\''$cd2-1'\'' AND n.kind = '\''provider'\''") &&
	grep -q "^In-Reply-To: $first" sent/5 &&
	decode sent/5 >rem.txt && grep -q "^Subject: Reminder: notice of illegal content" rem.txt &&
	grep -q "On 2 March 2026" rem.txt &&
	DZ_NOW=2026-03-12T09:00:00Z dz-notify --remind 7 >r2 2>/dev/null && test "$(sent)" = 5 &&
	DZ_NOW=2026-03-18T09:00:00Z dz-notify --remind 7 >r3 2>/dev/null && test "$(sent)" = 6
'

test_expect_success 'a URL notified by hand is no longer reported, and counts for the victim' '
	printf "{\"type\":\"notified\",\"item\":\"%s-4\",\"provider\":\"Formonly\"}\n" $ca | dz-ingest >/dev/null &&
	dz-notify >r4 2>/dev/null && ! has r4 ".type == \"manual\"" &&
	expect_exit 65 dz-ingest >/dev/null 2>&1 <<-EOF
	{"type":"notified","item":"$ca-4"}
	EOF
'

test_expect_success '--dry-run prints the messages and changes nothing' '
	ce=$(submit s-e 30 false "{}" https://video.example/dry) && judge_all $ce 2 other &&
	before=$(sqlite3 store/store.db "SELECT count(*) FROM notices") &&
	dz-notify --dry-run >dry.mbox 2>/dev/null &&
	grep -q "^From dz-notify " dry.mbox && grep -q "^To: signalement@video.example" dry.mbox &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM notices")" = "$before" &&
	test "$(sent)" = 6 &&
	dz-notify >r5 2>/dev/null && test "$(sent)" = 7
'

test_expect_success '--maildir: delivered into a Maildir, the mail command not used' '
	cf=$(submit s-f 30 false "{}" https://pix.example/md) && judge_all $cf 2 adult_ncii &&
	dz-notify --maildir md >r6 2>/dev/null && test "$(sent)" = 7 &&
	test $(ls md/new | wc -l) = 1 &&
	has r6 "(.type == \"notice\") and (.delivery == \"maildir\")"
'

test_expect_success 'one run at a time: exit 75 while another holds the lock' '
	expect_exit 75 flock store/notify.lock dz-notify >out 2>err &&
	grep -q "another dz-notify is running" err
'

test_expect_success 'no notify.from: sending refused (78), --maildir still works' '
	sed "/from:/d" dz.yaml >nofrom.yaml &&
	expect_exit 78 dz-notify -c nofrom.yaml >out 2>err && grep -q "notify.from" err &&
	dz-notify -c nofrom.yaml --maildir md2 >out 2>/dev/null
'

test_expect_success 'a bad provider directory or template: 78, nothing planned' '
	printf "version: 1\nproviders:\n  - name: X\n    domains: [BAD]\n" >bad.yaml &&
	sed "s|providers: .*|providers: $TRASH/bad.yaml|" dz.yaml >badp.yaml &&
	expect_exit 78 dz-notify -c badp.yaml >out 2>err && grep -q "bad.yaml:4" err &&
	mkdir -p tpl && printf "Subject: x {{#open}}\n" >tpl/notice.en.txt &&
	{ cat dz.yaml; } | sed "s|^  mta:|  templates: $TRASH/tpl\n  mta:|" >badt.yaml &&
	cg=$(submit s-g 30 false "{}" https://pix.example/tpl) && judge_all $cg 2 adult_ncii &&
	n=$(sqlite3 store/store.db "SELECT count(*) FROM notices") &&
	expect_exit 78 dz-notify -c badt.yaml >out 2>err && grep -q "notice.en.txt: line 1" err &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM notices")" = "$n" &&
	printf "Subject: Own words {{reference}}\n\nOwn body for {{provider}}.\n" >tpl/notice.en.txt &&
	dz-notify -c badt.yaml >out 2>/dev/null &&
	grep -q "^Subject: Own words" sent/8 && grep -q "Own body for Pixhost" sent/8
'

test_expect_success 'usage errors and --help' '
	expect_exit 64 dz-notify --remind 0 2>err &&
	expect_exit 64 dz-notify --dry-run --maildir x 2>err &&
	expect_exit 64 dz-notify extra 2>err &&
	dz-notify --help >out && grep -q "^usage: dz-notify" out
'

test_expect_success 'no store: exit 66' '
	sed "s|store: .*|store: $TRASH/none|" dz.yaml >nostore.yaml &&
	expect_exit 66 dz-notify -c nostore.yaml 2>err && test ! -e none
'

if command -v python3 >/dev/null 2>&1; then
	python3 "$TOP/t/rdap-fixture.py" "$TOP/t/data/rdap" rdap.port rdap.log 2>rdap.err &
	rdap_pid=$!
	test_atexit 'kill $rdap_pid 2>/dev/null'
	for i in $(seq 100); do test -s rdap.port && break; sleep 0.1; done
fi
test_expect_success '--resolve: an unknown host gets the RDAP abuse contact (local fixture)' '
	test -s rdap.port &&
	write_config "  rdap: http://127.0.0.1:$(cat rdap.port)/nested
  rdap_allow_loopback: true" &&
	ch=$(submit s-h 30 false "{}" http://127.0.0.1/hosted.jpg) && judge_all $ch 2 adult_ncii &&
	dz-notify >r7 2>/dev/null &&
	has r7 ".type == \"unresolved\" and .item == \"$ch-1\"" &&
	n=$(sent) && dz-notify --resolve >r8 2>/dev/null &&
	has r8 ".type == \"notice\" and .to == \"abuse@hosting.example\" and .provider == \"EXAMPLE-HOSTING-NET\"" &&
	test "$(sent)" = $((n + 1))
'

test_expect_success 'the store stays consistent' '
	sqlite3 store/store.db "PRAGMA integrity_check" >ic && echo ok >want && test_cmp want ic
'

test_done
