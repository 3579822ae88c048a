#!/bin/bash
# dz-notify through a real mail transfer: the notices and the victim's
# answer go, through msmtp (notify.mta), to an SMTP server listening on
# the loopback (aiosmtpd, t/lib-smtp.sh); each arrives once, to the right
# envelope recipient, and decodes to what the templates say. With the
# server down, the delivery fails for now (75) and the next run, the
# server back, sends the same message once.
. "$(dirname "$0")/lib.sh"
. "$TOP/t/lib-smtp.sh"

smtp_require
smtp_sink_start "$TRASH/sink"
export DZ_NOW=2026-04-01T08:00:00Z
cat >providers.yaml <<'EOF2'
version: 1
providers:
  - name: Pixhost
    domains: [pix.example]
    abuse: abuse@pix.example
EOF2
cat >dz.yaml <<EOF2
store: $TRASH/store
master_key: $TRASH/master.key
notify:
  from: "Hotline test <notices@hotline.example>"
  hotline: Hotline test
  language: en
  providers: $TRASH/providers.yaml
  mta: $SMTP_MTA
EOF2
export DZ_CONFIG=$TRASH/dz.yaml
convert -size 64x64 gradient:red-blue a.png

rcpt() {	# rcpt FILE: the envelope recipients the server saw
	sed -n 's/^X-RcptTo: //p' "$1"
}

test_expect_success 'setup: a case with two URLs, judged, closed, a victim who asked' '
	dz-ingest --init 2>/dev/null &&
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"s1\",\"age\":30,\"followup\":true,\"language\":\"en\",\"contact\":{\"email\":\"person@example.org\"},\"urls\":[\"https://pix.example/1\",\"https://pix.example/2\"],\"files\":[\"a.png\"]}" >s.jsonl &&
	dz-ingest s.jsonl >ack && c=$(jq -r .case ack) &&
	for i in 1 2 3; do printf "{\"type\":\"verdict\",\"item\":\"%s-%s\",\"illegal\":true,\"category\":\"adult_ncii\"}\n" $c $i; done >v.jsonl &&
	printf "{\"type\":\"close\",\"case\":\"%s\"}\n" $c >>v.jsonl &&
	dz-ingest v.jsonl >/dev/null && dz-hash --store >/dev/null
'

test_expect_success 'the notice and the answer go through the SMTP server, once each' '
	dz-notify >rec 2>err &&
	test $(jq -s "map(select(.type == \"notice\" and .state == \"sent\")) | length" rec) = 2 &&
	test $(ls sink/new | wc -l) = 2 &&
	n=$(grep -l "^X-RcptTo: abuse@pix.example" sink/new/*) && test "$(rcpt $n)" = abuse@pix.example &&
	v=$(grep -l "^X-RcptTo: person@example.org" sink/new/*) && test "$(rcpt $v)" = person@example.org &&
	mid=$(jq -r "select(.provider == \"Pixhost\") | .message_id" rec) &&
	grep -q "^Message-ID: $mid" $n &&
	dz-notify >rec2 2>/dev/null && test $(ls sink/new | wc -l) = 2
'

test_expect_success 'what arrived decodes to the templates'"'"' text' '
	n=$(grep -l "^X-RcptTo: abuse@pix.example" sink/new/*) &&
	python3 - "$n" >notice.txt <<-PY &&
	import email, sys
	m = email.message_from_binary_file(open(sys.argv[1], "rb"))
	print(m["Subject"]); print(m.get_payload(decode=True).decode())
	PY
	grep -q "^Notice of illegal content under Article 16 DSA - Hotline test ref" notice.txt &&
	grep -q "^   https://pix.example/1$" notice.txt && grep -q "^   https://pix.example/2$" notice.txt &&
	! grep -q person@example.org notice.txt
'

test_expect_success 'the server down: 75, nothing lost; back up: sent once' '
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"s2\",\"age\":30,\"urls\":[\"https://pix.example/3\"]}" >s2.jsonl &&
	dz-ingest s2.jsonl >ack2 && c2=$(jq -r .case ack2) &&
	printf "{\"type\":\"verdict\",\"item\":\"%s-1\",\"illegal\":true,\"category\":\"adult_ncii\"}\n" $c2 | dz-ingest >/dev/null &&
	smtp_sink_stop &&
	expect_exit 75 dz-notify >rec3 2>err3 &&
	jq -e ".state == \"pending\"" rec3 &&
	smtp_sink_start "$TRASH/sink2" &&
	sed "s|^  mta: .*|  mta: $SMTP_MTA|" dz.yaml >dz2.yaml &&
	dz-notify -c dz2.yaml >rec4 2>/dev/null &&
	jq -e ".state == \"sent\"" rec4 &&
	test $(ls sink2/new | wc -l) = 1 &&
	grep -q "^X-RcptTo: abuse@pix.example" sink2/new/* &&
	dz-notify -c dz2.yaml >rec5 2>/dev/null && test $(ls sink2/new | wc -l) = 1
'

test_done
