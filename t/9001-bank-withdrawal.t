#!/bin/bash
# The whole way of a hash to a partner and back: reports hashed at the
# hotline, a full bank, a partner matching edited copies; a case
# withdrawn, a delta, and the partner no longer matching it once the
# delta is applied, in each of the three bank formats. A hash withdrawn
# before any export gave it out is never published by the withdrawal.
. "$(dirname "$0")/lib.sh"
require_testdata

store_config export match
export XDG_STATE_HOME=$TRASH/partner-state

L=$TESTDATA/pdq/labelme-subset
cp "$L/q2821.jpg" a.jpg
cp "$L/q0746.jpg" b.jpg
cp "$L/q1050.jpg" c.jpg
mkdir -p partner
# the partner's own uploads: edited copies of a and b, and an unrelated image
convert a.jpg -resize 80% -quality 85 partner/a-small.jpg
convert b.jpg -modulate 110 partner/b-bright.jpg
cp "$L/q0003.jpg" partner/unrelated.jpg

ingest_case() {	# ingest_case SUBMISSION FILE -> prints the case id
	printf '{"type":"submission","submission":"%s","age":30,"files":["%s"]}\n' "$1" "$2" >s.jsonl &&
	dz-ingest s.jsonl >ack && jq -r .case ack
}
judge() {	# judge CASE: its only item illegal, then hashed
	printf '{"type":"verdict","item":"%s-1","illegal":true,"category":"adult_ncii"}\n' "$1" >v.jsonl &&
	dz-ingest v.jsonl >/dev/null && dz-hash --store >>hashes.jsonl
}
withdraw() {
	printf '{"type":"withdraw","case":"%s"}\n' "$1" >w.jsonl && dz-ingest w.jsonl >/dev/null
}
matched() {	# matched OUT: the partner files that matched, sorted
	jq -r 'select(.type == "match") | .path' "$1" | sed 's,.*/,,' | sort -u
}

test_expect_success 'setup: two cases hashed at the hotline, a key pair' '
	dz-ingest --init 2>/dev/null && dz-export keygen 2>/dev/null &&
	ca=$(ingest_case s-a a.jpg) && judge $ca &&
	cb=$(ingest_case s-b b.jpg) && judge $cb &&
	echo $ca >ca && echo $cb >cb &&
	test $(jq -s length hashes.jsonl) = 2
'
ca=$(cat ca 2>/dev/null) cb=$(cat cb 2>/dev/null)

test_expect_success 'a full bank in three formats; the partner matches the edited copies' '
	dz-export bank -o full.dzb -o full.jsonl -o full.csv >rec &&
	jq -e ".seq == 1 and .entries == 2" rec &&
	for f in dzb jsonl csv; do
		expect_exit 0 dz-match --state st.$f --bank full.$f partner/*.jpg >m.$f || return 1
		matched m.$f >got.$f &&
		printf "%s\n" a-small.jpg b-bright.jpg >want && test_cmp want got.$f || return 1
	done
'

test_expect_success 'case a withdrawn at the hotline: a delta with its tombstone' '
	withdraw $ca &&
	dz-export bank --since last -o d2.dzb -o d2.jsonl -o d2.csv >rec &&
	jq -e ".seq == 2 and .kind == \"delta\" and .withdrawals == 1 and .entries == 0" rec &&
	ea=$(jq -r "select(.item == \"$ca-1\" and .pdq) | .entry" hashes.jsonl) &&
	jq -e "select(.type == \"withdrawal\") | .id == \"$ea\"" d2.jsonl &&
	grep -q "NEGATIVE_CLASS,adult_ncii dz:id=$ea " d2.csv
'

test_expect_success 'full + delta: the withdrawn image no longer matches, in every format' '
	for f in dzb jsonl csv; do
		expect_exit 0 dz-match --state st.$f --bank full.$f --bank d2.$f partner/*.jpg >m2.$f || return 1
		matched m2.$f >got2.$f && echo b-bright.jpg >want && test_cmp want got2.$f || return 1
	done
'

test_expect_success 'the partner cannot go back to the full bank alone once it has the delta' '
	expect_exit 65 dz-match --state st.dzb --bank full.dzb partner/a-small.jpg >out 2>err &&
	grep -q "rollback" err && ! test -s out
'

test_expect_success 'a full export made after the withdrawal leaves the image out' '
	dz-export bank -o full3.jsonl >rec && jq -e ".seq == 3 and .entries == 1" rec &&
	! grep -q "$(jq -r "select(.item == \"$ca-1\") | .pdq" hashes.jsonl)" full3.jsonl &&
	expect_exit 1 dz-match --no-state --bank full3.jsonl partner/a-small.jpg >out
'

test_expect_success 'a hash withdrawn before any export had it is not published by its withdrawal' '
	cc=$(ingest_case s-c c.jpg) && judge $cc &&
	pc=$(jq -r "select(.item == \"$cc-1\") | .pdq" hashes.jsonl) && test ${#pc} = 64 &&
	withdraw $cc &&
	dz-export bank --since last -o d4.jsonl -o d4.csv >rec &&
	! grep -q "$pc" d4.jsonl d4.csv &&
	dz-export bank --since 1 -o d5.jsonl >rec &&
	! grep -q "$pc" d5.jsonl &&
	jq -e ".withdrawals == 1" rec
'

test_expect_success 'the store stays consistent' '
	sqlite3 store/store.db "PRAGMA integrity_check" >ic && echo ok >want && test_cmp want ic
'

test_done
