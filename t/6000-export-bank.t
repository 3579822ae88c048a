#!/bin/bash
# dz-export bank and keygen: signed snapshots and deltas of the hashes,
# verified by the stock minisign tool; withdrawals reach partners.
. "$(dirname "$0")/lib.sh"
require_testdata

store_config export

L=$TESTDATA/pdq/labelme-subset
cp "$L/q2821.jpg" a.jpg
cp "$L/q0746.jpg" b.jpg
cp "$L/q1050.jpg" c.jpg
convert -size 300x300 xc:gray60 flat.png

verdict() {	# verdict ITEM illegal|not_illegal [CATEGORY]
	# (override_minor: the analyst judged it shows an adult, whatever
	# the age the case declared)
	if [ "$2" = illegal ]; then
		printf '{"type":"verdict","item":"%s","illegal":true,"category":"%s","override_minor":true}\n' "$1" "${3:-adult_ncii}"
	else
		printf '{"type":"verdict","item":"%s","illegal":false}\n' "$1"
	fi
}

test_expect_success 'setup: two cases, four images judged illegal and hashed' '
	dz-ingest --init 2>/dev/null &&
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"s-1\",\"age\":25,\"urls\":[\"https://example.com/u\"],\"files\":[\"a.jpg\",\"flat.png\"],\"contact\":{\"email\":\"canary-7f3a@example.org\",\"name\":\"Canary Name\"},\"description\":\"canary description 51c2\"}" \
		"{\"type\":\"submission\",\"submission\":\"s-2\",\"age\":16,\"files\":[\"b.jpg\",\"c.jpg\"]}" >sub.jsonl &&
	dz-ingest sub.jsonl >acks &&
	c1=$(jq -r "select(.submission == \"s-1\") | .case" acks) &&
	c2=$(jq -r "select(.submission == \"s-2\") | .case" acks) &&
	{ verdict $c1-2 illegal; verdict $c1-3 illegal; verdict $c2-1 illegal minor; verdict $c2-2 illegal; } >v.jsonl &&
	dz-ingest v.jsonl >/dev/null &&
	dz-hash --store >hashes.jsonl &&
	test $(jq -s "length" hashes.jsonl) = 4
'
c1=$(jq -r 'select(.submission == "s-1") | .case' acks 2>/dev/null)
c2=$(jq -r 'select(.submission == "s-2") | .case' acks 2>/dev/null)

test_expect_success 'bank with no signing key: exit 78 with a hint' '
	sed "/^export:/,\$d" dz.yaml >nokey.yaml &&
	expect_exit 78 dz-export -c nokey.yaml bank -o nokey.dzb 2>err &&
	grep -q "dz-export keygen" err && test ! -e nokey.dzb
'

test_expect_success 'keygen makes a 0600 secret key and a minisign public key' '
	dz-export keygen 2>err && test "$(stat -c %a k.key)" = 600 &&
	head -1 k.pub | grep -q "^untrusted comment:" && grep -q "^key [0-9A-F]*:\| key " err
'

test_expect_success 'keygen never replaces a key: exit 73' '
	cp k.key k.key.orig && expect_exit 73 dz-export keygen 2>err &&
	cmp k.key k.key.orig
'

test_expect_success 'a full export in three formats, each signed' '
	dz-export bank -o full.dzb -o full.csv -o full.jsonl >rec &&
	jq -e ".type == \"export\" and .seq == 1 and .kind == \"full\" and
		.entries == 3 and .withdrawals == 0 and .signed == true and
		(.files | length == 3)" rec &&
	for f in full.dzb full.csv full.jsonl; do test -s $f && test -s $f.minisig || return 1; done &&
	! ls *.tmp 2>/dev/null | grep -q .
'

test_expect_success 'the stock minisign tool verifies every file' '
	for f in full.dzb full.csv full.jsonl; do
		minisign -Vm $f -p k.pub >mv.out 2>&1 || { cat mv.out; return 1; }
		grep -qi "^trusted comment: disrupt-bank v1 seq=1 kind=full since=0 digest=" mv.out || return 1
	done
'

test_expect_success 'only hashes leave: no case, item, URL, personal data, digest of a file or low quality hash' '
	! grep -q -e "$c1" -e "$c2" -e example.com -e canary -e Canary full.jsonl full.csv &&
	! grep -a -q -e "$c1" -e "$c2" -e example.com -e canary -e Canary full.dzb &&
	md5=$(jq -r "select(.item == \"$c1-2\") | .md5" hashes.jsonl) &&
	! grep -q "$md5" full.jsonl &&
	low=$(jq -r "select(.low_quality) | .pdq" hashes.jsonl) && test -n "$low" &&
	! grep -q "$low" full.jsonl full.csv
'

test_expect_success 'entries carry the store entry ids, values, categories, dates' '
	jq -r "select(.low_quality | not) | [.entry, .pdq] | @tsv" hashes.jsonl | sort >want &&
	jq -r "select(.type == \"entry\") | [.id, .value] | @tsv" full.jsonl | sort >got &&
	test_cmp want got &&
	jq -se ".[0].type == \"bank\" and .[0].seq == 1 and .[0].prev == null and
		any(.[]; .type == \"entry\" and .category == \"minor\" and .added == \"2026-01-15\")" full.jsonl &&
	head -1 full.csv | grep -qx "signal_type,signal_str,collab,category,tags" &&
	grep -q "^pdq,[0-9a-f]\{64\},disrupt,POSITIVE_CLASS,adult_ncii dz:id=[0-9a-f]\{32\} dz:quality=[0-9]* dz:added=2026-01-15$" full.csv
'

test_expect_success 'a delta with nothing new is not written' '
	dz-export bank --since last -o d0.jsonl >rec &&
	jq -e ".empty == true and .since == 1" rec && test ! -e d0.jsonl
'

e_c2a=$(jq -r "select(.item == \"$c2-1\") | .entry" hashes.jsonl)
e_c2b=$(jq -r "select(.item == \"$c2-2\") | .entry" hashes.jsonl)
e_c1=$(jq -r "select(.item == \"$c1-2\") | .entry" hashes.jsonl)
test_expect_success 'a withdrawn case and a changed verdict become tombstones in a delta' '
	{ printf "{\"type\":\"withdraw\",\"case\":\"%s\"}\n" $c2; verdict $c1-2 not_illegal; } >w.jsonl &&
	dz-ingest w.jsonl >/dev/null &&
	dz-export bank --since last -o d2.jsonl >rec &&
	jq -e ".seq == 2 and .kind == \"delta\" and .since == 1 and .entries == 0 and .withdrawals == 3" rec &&
	jq -r "select(.type == \"withdrawal\") | .id" d2.jsonl | sort >got &&
	printf "%s\n" $e_c2a $e_c2b $e_c1 | sort >want && test_cmp want got &&
	minisign -Vm d2.jsonl -p k.pub >/dev/null
'

test_expect_success 'the delta chains to the export before it' '
	d1=$(jq -r "select(.type == \"bank\") | .digest" full.jsonl) &&
	test ${#d1} = 64 &&
	jq -se "any(.[]; .type == \"bank\" and .prev == \"$d1\" and .base == \"$d1\" and .since == 1)" d2.jsonl
'

test_expect_success 'judged illegal again: the entry comes back (same id) in the next delta' '
	verdict $c1-2 illegal other >v2.jsonl && dz-ingest v2.jsonl >/dev/null &&
	dz-export bank --since last -o d3.dzb -o d3.jsonl >rec &&
	jq -e ".seq == 3 and .entries == 1 and .withdrawals == 0" rec &&
	jq -se "any(.[]; .type == \"entry\" and .id == \"$e_c1\" and .category == \"other\")" d3.jsonl
'

test_expect_success 'a delta since an older export gathers everything since then' '
	dz-export bank --since 1 -o d4.jsonl >rec &&
	jq -e ".seq == 4 and .since == 1 and .entries == 1 and .withdrawals == 2" rec
'

test_expect_success '--since an export that does not exist: exit 65' '
	expect_exit 65 dz-export bank --since 99 -o x.jsonl 2>err && grep -q "no export 99" err &&
	test ! -e x.jsonl
'

test_expect_success 'usage errors: bad --since, stray options, a file named twice' '
	expect_exit 64 dz-export bank --since soon -o a.jsonl 2>err &&
	expect_exit 64 dz-export items -o a.jsonl 2>err &&
	expect_exit 64 dz-export bank -o a.jsonl --collab "two words" 2>err &&
	expect_exit 64 dz-export items --signature s.minisig 2>err &&
	expect_exit 64 dz-export bank -o a.jsonl --signature s.minisig 2>err &&
	before=$(sqlite3 store/store.db "SELECT count(*) FROM exports") &&
	expect_exit 64 dz-export bank -o same.jsonl -o same.jsonl 2>err &&
	grep -q "named twice" err &&
	expect_exit 64 dz-export bank -o "e-%n.jsonl" -o "e-$((before + 1)).jsonl" 2>err &&
	expect_exit 64 dz-export bank -o - -o x.jsonl 2>err &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM exports")" = "$before" &&
	! ls same.jsonl* e-* 2>/dev/null | grep -q .
'

test_expect_success 'a name with another suffix is JSON Lines' '
	dz-export bank -o bank.txt >rec &&
	jq -e ".files[0].format == \"jsonl\"" rec &&
	head -1 bank.txt | jq -e ".type == \"bank\"" &&
	minisign -Vm bank.txt -p k.pub >/dev/null
'

test_expect_success 'no -o: JSON Lines on standard output, the signature in --signature' '
	expect_exit 64 dz-export bank >out 2>err && grep -q -- "--signature" err &&
	! test -s out &&
	dz-export bank --signature std.minisig >std.jsonl &&
	head -1 std.jsonl | jq -e ".type == \"bank\" and .kind == \"full\"" &&
	minisign -Vm std.jsonl -x std.minisig -p k.pub >/dev/null &&
	dz-export bank --unsigned --format csv >std.csv &&
	head -1 std.csv | grep -qx "signal_type,signal_str,collab,category,tags"
'

test_expect_success 'a relative name is recorded absolute: recovered from another directory' '
	mkdir -p wd1 wd2 &&
	(cd wd1 && dz-export bank -o rel.jsonl >../rec) &&
	jq -e ".files[0].path == \"$TRASH/wd1/rel.jsonl\"" rec &&
	mv wd1/rel.jsonl wd1/rel.jsonl.tmp && mv wd1/rel.jsonl.minisig wd1/rel.jsonl.minisig.tmp &&
	(cd wd2 && dz-export bank --since last -o x.jsonl >../rec2) &&
	jq -e ".recovered == 1" rec2 &&
	minisign -Vm wd1/rel.jsonl -p k.pub >/dev/null
'

test_expect_success 'one export at a time: a second run exits 75' '
	expect_exit 75 flock store/export.lock dz-export bank -o busy.jsonl 2>err &&
	grep -q "another dz-export bank is running" err && test ! -e busy.jsonl
'

test_expect_success 'a crash between commit and rename: the next run publishes the files' '
	dz-export bank -o r.dzb -o r.csv >rec && seq=$(jq .seq rec) &&
	mv r.dzb r.dzb.tmp && mv r.dzb.minisig r.dzb.minisig.tmp &&
	mv r.csv r.csv.tmp && mv r.csv.minisig r.csv.minisig.tmp &&
	dz-export bank -o r.dzb -o r.csv >rec2 &&
	test $(jq .seq rec2) = $((seq + 1)) &&
	minisign -Vm r.dzb -p k.pub >/dev/null && minisign -Vm r.csv -p k.pub >/dev/null &&
	! ls r.*.tmp 2>/dev/null | grep -q .
'

test_expect_success 'a crash between the bank and its signature: the signature is published next time' '
	dz-export bank -o g.jsonl >rec && mv g.jsonl.minisig g.jsonl.minisig.tmp &&
	cp g.jsonl.minisig.tmp old.minisig &&
	dz-export bank --since last -o other.jsonl >rec2 &&
	jq -e ".empty == true and .recovered == 1" rec2 &&
	cmp g.jsonl.minisig old.minisig && minisign -Vm g.jsonl -p k.pub >/dev/null
'

test_expect_success '%n in a file name is the export number; --since full' '
	dz-export bank -o "n-%n.jsonl" >rec && n=$(jq .seq rec) &&
	test -s n-$n.jsonl && test -s n-$n.jsonl.minisig &&
	jq -e ".files[0].path == \"$TRASH/n-$n.jsonl\"" rec &&
	{ printf "{\"type\":\"withdraw\",\"case\":\"%s\"}\n" $c1; } >w2.jsonl && dz-ingest w2.jsonl >/dev/null &&
	dz-export bank --since last -o "n-%n.jsonl" >rec && test $(jq .seq rec) = $((n + 1)) &&
	dz-export bank --since full -o "cum-%n.jsonl" >rec &&
	jq -e ".since == $n and .withdrawals == 1" rec
'

test_expect_success 'a stale temporary file of an unrecorded export is discarded' '
	echo garbage >s.jsonl.tmp &&
	dz-export bank -o s.jsonl >rec && minisign -Vm s.jsonl -p k.pub >/dev/null &&
	test ! -e s.jsonl.tmp
'

test_expect_success '--unsigned writes no signature' '
	dz-export bank -o u.jsonl >/dev/null && test -e u.jsonl.minisig &&
	dz-export bank --unsigned -o u.jsonl >rec &&
	jq -e ".signed == false" rec && test ! -e u.jsonl.minisig
'

test_expect_success 'the export log is in the store, with no personal data' '
	test $(sqlite3 store/store.db "SELECT count(*) FROM exports") = $(jq .seq rec) &&
	sqlite3 store/store.db "PRAGMA integrity_check" >ic && echo ok >expect && test_cmp expect ic
'

test_done
