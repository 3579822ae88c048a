#!/bin/bash
# notify.providers merged over the built-in provider directory entry by
# entry; notify.providers_replace: true for the file alone.
. "$(dirname "$0")/lib.sh"

test_expect_success 'dz_providers_open: merged entry by entry, or replaced' '
	test-providermerge >out && cat out && ! grep -q "^not ok" out && grep -q "^1\.\.12$" out
'
test_expect_success 'notify.providers_replace is a boolean setting' '
	printf "notify:\n  providers_replace: maybe\n" >bad.yaml &&
	expect_exit 78 dz-notify -c bad.yaml --dry-run </dev/null >out 2>err &&
	grep -q "providers_replace" err
'

# The texts of dz.yaml per language: notify.trusted_flagger, notify.help.
cat >providers.yaml <<EOF
version: 1
providers:
  - name: Pixhost
    domains: [pix.example]
    abuse: abuse@pix.example
    language: en
  - name: Vidéo Libre
    domains: [video.example]
    abuse: signalement@video.example
    language: fr
EOF
cat >fake-sendmail <<EOF
#!/bin/sh
n=\$(ls $TRASH/sent 2>/dev/null | wc -l)
mkdir -p $TRASH/sent && cat >"$TRASH/sent/\$((n + 1))"
EOF
chmod +x fake-sendmail
cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
notify:
  from: "Hotline test <notices@hotline.example>"
  providers: $TRASH/providers.yaml
  mta: $TRASH/fake-sendmail
  trusted_flagger: {fr: Signaleur de confiance FR-CANARY, en: Trusted flagger EN-CANARY}
EOF
body() {	# body FILE: the decoded body of a sent message
	python3 -c 'import email, sys; print(email.message_from_binary_file(open(sys.argv[1], "rb")).get_payload(decode=True).decode())' "$1"
}

test_expect_success 'trusted_flagger per language: each notice in its own' '
	export DZ_CONFIG=$TRASH/dz.yaml &&
	dz-ingest --init 2>/dev/null &&
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"l-1\",\"age\":30,\"urls\":[\"https://pix.example/1\",\"https://video.example/2\"]}" >s.jsonl &&
	dz-ingest s.jsonl >ack && c=$(jq -r .case ack) &&
	printf "%s\n" "{\"type\":\"verdict\",\"item\":\"$c-1\",\"illegal\":true,\"category\":\"adult_ncii\"}" \
		"{\"type\":\"verdict\",\"item\":\"$c-2\",\"illegal\":true,\"category\":\"adult_ncii\"}" >v.jsonl &&
	dz-ingest v.jsonl >/dev/null && dz-notify >rec 2>err &&
	en=$(grep -l "To: abuse@pix.example" sent/*) && fr=$(grep -l "To: signalement@video.example" sent/*) &&
	body "$en" >en.txt && body "$fr" >fr.txt &&
	grep -q EN-CANARY en.txt && ! grep -q FR-CANARY en.txt &&
	grep -q FR-CANARY fr.txt && ! grep -q EN-CANARY fr.txt
'
test_expect_success 'a string stays every language'"'"'s; a mapping may give one' '
	printf "notify:\n  trusted_flagger: One text\n  help: {en: Help in English}\n" >one.yaml &&
	dz-notify -c one.yaml --dry-run </dev/null >out 2>err; test $? != 78
'
test_expect_success 'a language other than fr and en, or one given twice: 78' '
	printf "notify:\n  trusted_flagger: {de: Text}\n" >bad1.yaml &&
	expect_exit 78 dz-notify -c bad1.yaml </dev/null >out 2>err &&
	grep -q "trusted_flagger: expected the language fr or en" err &&
	printf "notify:\n  help: {fr: a, fr: b}\n" >bad2.yaml &&
	expect_exit 78 dz-notify -c bad2.yaml </dev/null >out 2>err && grep -q "help" err
'

test_expect_success 'a video in a notice: its MD5 and its count of vPDQ frames, no signature' '
	cp "$TESTDATA/vpdq/videos/pattern-sd-grey-bar.mp4" v.mp4 &&
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"l-2\",\"age\":30,\"urls\":[\"https://pix.example/v\"],\"files\":[\"v.mp4\"]}" >s2.jsonl &&
	dz-ingest s2.jsonl >ack2 && c=$(jq -r .case ack2) &&
	printf "{\"type\":\"verdict\",\"item\":\"%s-%s\",\"illegal\":true,\"category\":\"adult_ncii\"}\n" "$c" 1 "$c" 2 >v2.jsonl &&
	dz-ingest v2.jsonl >/dev/null && dz-hash --store >h.jsonl 2>herr &&
	jq -e "select(.vpdq) | .vpdq | length > 0" h.jsonl >/dev/null &&
	n=$(jq -s "[.[] | select(.vpdq)][0].vpdq | length" h.jsonl) &&
	md5=$(md5sum v.mp4 | cut -d" " -f1) &&
	rm -rf sent && dz-notify >rec2 2>err2 &&
	m=$(grep -l "To: abuse@pix.example" sent/*) && body "$m" >v.txt &&
	grep -q "^   [a-z_]*md5 $md5$" v.txt && grep -q "^   vpdq_frames $n$" v.txt &&
	! grep -q "\[\[" v.txt && test "$(awk "length > 200" v.txt | wc -l)" = 0
'

test_expect_success 'French templates: no article or "de" before a name they cannot inflect' '
	grep -q "^À l.attention du service juridique : Vidéo Libre$" fr.txt &&
	! grep -q "équipe de Vidéo" fr.txt &&
	! grep -n -E "(^|[^[:alpha:]])([Dd]e|[Àà]|[Ll]e|[Ll]a|[Dd]u|[Aa]u) \{\{(provider|hotline\.name)\}\}" \
		"$TOP"/share/dz/templates/*.fr.txt
'

test_done
