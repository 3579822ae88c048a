#!/bin/bash
# dz-export stats --format html --lang fr|en: the page in French or in
# English, its dates written out, the same figures in both.
. "$(dirname "$0")/lib.sh"

cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
EOF
export DZ_CONFIG=$TRASH/dz.yaml DZ_NOW=2026-12-07T10:00:00Z

test_expect_success 'setup: a store with a report judged illegal' '
	dz-ingest --init 2>/dev/null &&
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"l-1\",\"age\":30,\"urls\":[\"https://pix.example/1\"],\"received_at\":\"2026-12-02T09:00:00Z\"}" >s.jsonl &&
	dz-ingest s.jsonl >ack && c=$(jq -r .case ack) &&
	printf "{\"type\":\"verdict\",\"item\":\"%s-1\",\"illegal\":true,\"category\":\"adult_ncii\"}\n" "$c" >v.jsonl &&
	dz-ingest v.jsonl >/dev/null
'
page() {	# page LANG: the page of December 2026 in LANG into LANG.html
	dz-export stats --from 2026-12-01 --to 2027-01-01 --format html --lang "$1" >"$1.html"
}
figures() {	# figures FILE: every id and its figure
	grep -o "id=\"[a-z0-9-]*\">[0-9.]*<" "$1"
}

test_expect_success 'French: lang="fr", French words, dates written out' '
	page fr &&
	grep -q "<html lang=\"fr\">" fr.html &&
	grep -q "Signalements reçus dans la période" fr.html &&
	grep -q "<time id=\"from\" datetime=\"2026-12-01T00:00:00Z\">1er décembre 2026</time>" fr.html &&
	grep -q "<time id=\"to\" datetime=\"2027-01-01T00:00:00Z\">1er janvier 2027</time>" fr.html &&
	grep -q "<time id=\"made\" datetime=\"2026-12-07T10:00:00Z\">7 décembre 2026</time>" fr.html &&
	! grep -q -e "Reports received" -e "Notices to hosting" -e "Delays, in days" -e "December" fr.html
'
test_expect_success 'English: lang="en", dates written out' '
	page en &&
	grep -q "<html lang=\"en\">" en.html &&
	grep -q "Reports received in the period" en.html &&
	grep -q ">1 December 2026</time>" en.html && grep -q ">7 December 2026</time>" en.html &&
	! grep -q -e "Signalements" -e "décembre" en.html
'
test_expect_success 'the default is English, the same page' '
	dz-export stats --from 2026-12-01 --to 2027-01-01 --format html >default.html &&
	test_cmp en.html default.html
'
test_expect_success 'the same figures in both languages' '
	figures fr.html >fr.fig && figures en.html >en.fig &&
	test -s en.fig && grep -q "id=\"reports\">1<" en.fig && test_cmp en.fig fr.fig
'
test_expect_success '--lang: fr or en, and only with --format html (64)' '
	expect_exit 64 dz-export stats --format html --lang de >out 2>err &&
	grep -q "fr or en" err &&
	expect_exit 64 dz-export stats --lang fr >out 2>err
'

test_done
