#!/bin/bash
# lib/notice/mail: real delivery. Two messages go through dz_mail_sendmail and
# msmtp to a real SMTP server (aiosmtpd, t/lib-smtp.sh); what arrives is
# compared byte for byte with what was formatted, and Python's email
# package decodes it back to the original subject, names and body.
. "$(dirname "$0")/lib.sh"
. "$TOP/t/lib-smtp.sh"

tool=$TOP/t/unit/test-mail-tool
smtp_require
smtp_sink_start "$TRASH/sink"

subject1='Signalement de contenu illicite – référence 3K7Q'
cat >spec1 <<EOF
from: Équipe de signalement <notices@hotline.example>
to: abuse@host.example
cc: "Hébergeur, SARL" <legal@host.example>
subject: $subject1
message-id: <3k7q.1@hotline.example>
date: 2026-12-05T10:00:00Z
extra: Auto-Submitted: auto-generated
extra: X-DZ-Reference: 3K7Q-2B9F

Madame, Monsieur,

Nous vous signalons un contenu intime publié sans le consentement de la personne représentée, à l'adresse indiquée ci-dessous. Merci de le retirer et de nous répondre en citant la référence 3K7Q-2B9F.
.
From the hotline, with thanks — l'équipe 😀
EOF
sed '1,/^$/d' spec1 >body1

cat >spec2 <<'EOF'
from: notices@hotline.example
to: abuse@host.example
subject: Reminder: takedown notice 3K7Q
message-id: <3k7q.2@hotline.example>
in-reply-to: <3k7q.1@hotline.example>
date: 2026-12-12T10:00:00Z
extra: Auto-Submitted: auto-generated

Reminder of our notice of 5 December.
EOF
sed '1,/^$/d' spec2 >body2

# PATH and DZ_NOW as the other tests; msmtp reads no configuration file
# once --host is given.
test_expect_success 'the server listens on the loopback' '
	test -n "$SMTP_PORT" && test -d sink/new
'
test_expect_success 'the French notice is sent through msmtp' '
	"$tool" format <spec1 >sent1 &&
	"$tool" send "$SMTP_MTA" <spec1
'
test_expect_success 'the reminder is sent too' '
	"$tool" format <spec2 >sent2 &&
	"$tool" send "$SMTP_MTA" <spec2
'
test_expect_success 'the sink holds exactly two messages' '
	ls sink/new >list && test "$(wc -l <list)" = 2
'
for n in 1 2; do
	test_expect_success "message $n arrived byte for byte (but the server's X- lines)" '
		f=$(grep -l "^Message-ID: <3k7q.'$n'@hotline.example>\$" sink/new/*) &&
		test -n "$f" && cp "$f" got'$n' &&
		grep -v "^X-\(Peer\|MailFrom\|RcptTo\): " got'$n' >got'$n'.bare &&
		test_cmp sent'$n' got'$n'.bare
	'
done
test_expect_success 'the envelope: sender from From, recipients To and Cc' '
	grep -qx "X-MailFrom: notices@hotline.example" got1 &&
	grep -qx "X-RcptTo: abuse@host.example, legal@host.example" got1 &&
	grep -qx "X-RcptTo: abuse@host.example" got2
'

# Python's email package (policy=default) as an independent decoder.
cat >decode.py <<'EOF'
import email, email.policy, sys
with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
def box(h):
    return ", ".join('%s|%s' % (a.display_name, a.addr_spec)
                     for a in m[h].addresses) if m[h] else "-"
print("subject:", m["subject"])
print("from:", box("from"))
print("to:", box("to"))
print("cc:", box("cc"))
print("message-id:", m["message-id"])
print("in-reply-to:", m["in-reply-to"] or "-")
print("references:", m["references"] or "-")
print("auto-submitted:", m["auto-submitted"])
print("type:", m.get_content_type(), m.get_content_charset(),
      m["content-transfer-encoding"])
sys.stdout.write(m.get_content())
EOF
cat >want1 <<EOF
subject: $subject1
from: Équipe de signalement|notices@hotline.example
to: |abuse@host.example
cc: Hébergeur, SARL|legal@host.example
message-id: <3k7q.1@hotline.example>
in-reply-to: -
references: -
auto-submitted: auto-generated
type: text/plain utf-8 quoted-printable
EOF
cat body1 >>want1
cat >want2 <<EOF
subject: Reminder: takedown notice 3K7Q
from: |notices@hotline.example
to: |abuse@host.example
cc: -
message-id: <3k7q.2@hotline.example>
in-reply-to: <3k7q.1@hotline.example>
references: <3k7q.1@hotline.example>
auto-submitted: auto-generated
type: text/plain utf-8 quoted-printable
EOF
cat body2 >>want2
for n in 1 2; do
	test_expect_success "python decodes message $n to the original" '
		PYTHONIOENCODING=utf-8 "$SMTP_PYTHON" decode.py got'$n' >dec'$n' &&
		test_cmp want'$n' dec'$n'
	'
done

cat >spec3 <<'EOF'
from: notices@hotline.example
to: abuse@host.example
subject: Hello\nBcc: victim@elsewhere.example
message-id: <3k7q.3@hotline.example>

body
EOF
test_expect_success 'a header injection is refused before anything is sent' '
	expect_exit 65 "$tool" send "$SMTP_MTA" <spec3 2>err &&
	grep -qx "test-mail-tool: line break in Subject" err &&
	ls sink/new >list && test "$(wc -l <list)" = 2
'

smtp_sink_stop

test_expect_success 'server gone: msmtp exits 75, so does dz_mail_sendmail' '
	expect_exit 75 "$tool" send "$SMTP_MTA" <spec2 2>err &&
	grep -qx "test-mail-tool: mail command failed temporarily (exit 75)" err
'

test_done
