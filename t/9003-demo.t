#!/bin/bash
# scripts/demo: the whole pipeline runs, exits 0, and what it says is
# true: its claims are checked against what it left in its directory
# (kept with DZ_DEMO_KEEP=1). A step that fails makes the demo fail, and
# its directory is removed either way unless kept.
# slow: the whole demo pipeline, images, video and all (make check-quick leaves it out; make check and CI run it)
. "$(dirname "$0")/lib.sh"

mkdir tmp
test_expect_success 'the demo runs to the end and exits 0' '
	DZ_DEMO_KEEP=1 TMPDIR=$TRASH/tmp "$TOP/scripts/demo" >out 2>err &&
	grep -q "^== Done" out &&
	! test -s err
'
work=$(sed -n "s/^demo: kept //p" out 2>/dev/null)
export DZ_CONFIG=$work/dz.yaml

test_expect_success 'it kept its directory, under TMPDIR' '
	test -n "$work" && test -d "$work" &&
	case $work in "$TRASH"/tmp/dz-demo.*) ;; *) false ;; esac
'

test_expect_success 'three reports, seven items, three hashed, the uploads removed' '
	test $(jq -s length "$work/acks.jsonl") = 3 &&
	test $(jq -s length "$work/items.jsonl") = 7 &&
	test $(jq -s length "$work/hashes.jsonl") = 3 &&
	test $(find "$work/uploads" -type f | wc -l) = 0 &&
	grep -q "uploads left in the clear: 0$" out
'

test_expect_success 'claim: every edited copy recognised, no unrelated image matched' '
	grep -q "recognised: 8 of 8 edited copies; unrelated images matched: 0 of 3$" out &&
	awk -F"\t" "\$2 == \"copy\" { print \"uploads/\" \$1 }" "$work/partner/manifest.tsv" |
		sort >want &&
	jq -r "select(.type == \"match\") | .path" "$work/partner/matches.jsonl" | sort -u >got &&
	test_cmp want got &&
	test $(grep -c "not matched$" out) = 3
'

test_expect_success 'claim: a notice per provider, the victim answered after the close only' '
	grep -q "answers to victims: 0 " out &&
	jq -e "select(.type == \"notice\") | .kind == \"provider\"" "$work/notices1.jsonl" >/dev/null &&
	test $(jq -s length "$work/notices1.jsonl") = 2 &&
	test $(jq -s length "$work/notices2.jsonl") = 1 &&
	jq -e ".kind == \"victim\" and .state == \"sent\"" "$work/notices2.jsonl" &&
	test $(ls "$work/outbox/new" | wc -l) = 3 &&
	grep -l "^To: someone@example.org" "$work"/outbox/new/* >victim &&
	test $(wc -l <victim) = 1 &&
	grep -q "^     To: abuse@hosting.example$" out &&
	grep -q "^     To: someone@example.org$" out
'

test_expect_success 'claim: the bank is signed, and holds the three hashes only' '
	grep -q "export 1 (full): 3 entries, signed: true" out &&
	test -f "$work/bank/full.dzb.minisig" &&
	if command -v minisign >/dev/null; then
		minisign -Vm "$work/bank/full.dzb" -p "$work/bank/dz-bank.pub" >mv &&
		grep -q "Signature and comment signature verified" out
	fi &&
	expect_exit 0 dz-match --no-state --hashes --bank "$work/bank/full.dzb" \
		"$work/hashes.jsonl" >m &&
	test $(jq -s length m) = 3
'

test_expect_success 'claim: personal data purged, no media left' '
	grep -q "personal data purged: 3 cases, contact data left: 0, media left: 0$" out &&
	dz-export cases --contact >cases &&
	test $(jq -s "[.[] | select(.contact or .description)] | length" cases) = 0 &&
	test $(jq -s "[.[] | select(.purged_at)] | length" cases) = 3 &&
	test $(find "$work/store/blobs" -type f | wc -l) = 0 &&
	! grep -rq "someone@example.org" "$work/store"
'

test_expect_success 'a step that fails makes the demo fail; its directory is removed' '
	mkdir tmp2 &&
	fake=$TRASH/fake && mkdir -p "$fake/scripts" "$fake/cmd" &&
	cp "$TOP/scripts/demo" "$fake/scripts/" &&
	for p in dz-ingest dz-hash dz-notify dz-export dz-match dz-purge; do
		ln -s "$TOP/cmd/$p" "$fake/cmd/$p" || return 1
	done &&
	rm "$fake/cmd/dz-hash" &&
	printf "#!/bin/sh\necho \"dz-hash: injected failure\" >&2\nexit 74\n" >"$fake/cmd/dz-hash" &&
	chmod +x "$fake/cmd/dz-hash" &&
	TMPDIR=$TRASH/tmp2 must_fail "$fake/scripts/demo" >out2 2>err2 &&
	grep -q "injected failure" err2 &&
	grep -q "^demo: failed at line" err2 &&
	! grep -q "^== Done" out2 &&
	test -z "$(ls tmp2)"
'

test_done
