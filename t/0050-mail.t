#!/bin/bash
# lib/notice/mail: the C unit test (formatting round trips, refusals, Maildir,
# the sendmail pipe with fake commands), then the same paths from the
# shell through t/unit/test-mail-tool. Real SMTP delivery: t/0051-mail-smtp.t.
. "$(dirname "$0")/lib.sh"

tool=$TOP/t/unit/test-mail-tool

test_expect_success 'unit test t/unit/test-mail passes' '
	"$TOP/t/unit/test-mail" >unit.out 2>&1 || { grep -v "^ok" unit.out; false; }
'

cat >spec <<'EOF'
from: Hotline <notices@hotline.example>
to: abuse@host.example
subject: Signalement – référence 3K7Q
message-id: <3k7q.1@hotline.example>

Bonjour,
.
EOF

test_expect_success 'format: Date from DZ_NOW, encoded subject, QP body' '
	"$tool" format <spec >msg &&
	grep -qx "Date: Thu, 15 Jan 2026 12:00:00 +0000" msg &&
	grep -q "^Subject: =?UTF-8?Q?Signalement_=E2=80=93_r=C3=A9f=C3=A9rence_3K7Q?=\$" msg &&
	sed "1,/^\$/d" msg >body &&
	printf "Bonjour,\n=2E\n" >expect && test_cmp expect body
'
test_expect_success 'maildir: prints the name, the file is in new/ with mode 0600' '
	"$tool" maildir md <spec >name &&
	test "$(stat -c %a "md/new/$(cat name)")" = 600 &&
	test_cmp msg "md/new/$(cat name)" &&
	test -z "$(ls md/tmp)" && test "$(stat -c %a md)" = 700
'
test_expect_success 'send: a command given as words, no shell' '
	printf "#!/bin/sh\nexec cat >\"\$1\"\n" >mta && chmod +x mta &&
	"$tool" send "./mta   got" <spec && test_cmp msg got
'
test_expect_success 'send: a missing command is EX_UNAVAILABLE' '
	expect_exit 69 "$tool" send "./no-such-mta -t" <spec 2>err &&
	grep -q "^test-mail-tool: cannot run mail command '\''./no-such-mta'\''" err
'
# Is process $1 running? A killed one may stay a zombie for a while
# until whoever inherited it reaps it: that one is dead.
running() {
	local st
	st=$(sed -n "s/^[0-9]* (.*) \([A-Za-z]\).*/\1/p" "/proc/$1/stat" 2>/dev/null) &&
		[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

test_expect_success 'send: a timeout is EX_TEMPFAIL and kills the command group' '
	printf "#!/bin/sh\nsleep 30 &\necho \$! >helper.pid\nwait\n" >slow &&
	chmod +x slow &&
	TEST_MAIL_TIMEOUT=1.5 expect_exit 75 "$tool" send ./slow <spec 2>err &&
	grep -qx "test-mail-tool: mail command timed out after 1.5 s" err &&
	test -s helper.pid &&
	for i in $(seq 100); do
		running "$(cat helper.pid)" || break
		sleep 0.02
	done &&
	! running "$(cat helper.pid)"
'
test_expect_success 'an injected header is refused, its text never printed' '
	sed "s/^subject: .*/subject: x\\\\nBcc: victim@elsewhere.example/" spec >bad &&
	grep -q "^subject: x\\\\nBcc" bad &&
	expect_exit 65 "$tool" format <bad >out 2>err &&
	test ! -s out && ! grep -q "victim" err
'

test_done
