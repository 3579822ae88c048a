#!/bin/bash
# The master key's check value (issue 15, finding 8): a wrong but
# well-formed master key is refused with 78 "wrong master key" by every
# program that loads the key, before anything is sealed under it; a store
# made before check values existed gets one from the first run whose key
# opens its data.
. "$(dirname "$0")/lib.sh"
require_testdata

cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
EOF
sed "s|master\\.key|wrong.key|" dz.yaml >wrong.yaml
export DZ_CONFIG=$TRASH/dz.yaml
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n" >wrong.key &&
	echo >>wrong.key)
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" photo.jpg

sub() {	# sub ID
	printf '{"type":"submission","submission":"%s","age":24,"urls":["https://example.com/p/1"],"files":["photo.jpg"],"contact":{"email":"victim@example.org"},"followup":true}\n' "$1"
}
cases() { sqlite3 store/store.db "SELECT count(*) FROM cases"; }
wrong_key() {	# wrong_key CMD...: exits 78, says so, and the store is unchanged
	local before
	before=$(cases) &&
	expect_exit 78 "$@" >out 2>err &&
	grep -q "wrong master key" err &&
	test "$(cases)" = "$before"
}

test_expect_success '--init writes the key check value, mode 0600' '
	dz-ingest --init 2>err &&
	test -f store/master-key.check &&
	test "$(stat -c %a store/master-key.check)" = 600 &&
	test "$(stat -c %s store/master-key.check)" = 28
'
test_expect_success 'the right key works' '
	sub s-1 >in.jsonl && dz-ingest in.jsonl >ack &&
	id=$(jq -r .case ack) && test -n "$id" &&
	printf "{\"type\":\"verdict\",\"item\":\"%s-2\",\"illegal\":true,\"category\":\"adult_ncii\"}\n" "$id" >v.jsonl &&
	dz-ingest v.jsonl >/dev/null
'
id=$(jq -r .case ack 2>/dev/null)

test_expect_success 'dz-ingest: a wrong key seals nothing' '
	sub s-2 >in2.jsonl &&
	wrong_key dz-ingest -c wrong.yaml in2.jsonl &&
	test ! -s out
'
test_expect_success 'dz-hash --store: a wrong key' '
	wrong_key dz-hash -c wrong.yaml --store &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM items WHERE hashed_at IS NOT NULL")" = 0
'
test_expect_success 'dz-export cases --contact and media: a wrong key' '
	wrong_key dz-export -c wrong.yaml cases --contact &&
	! grep -q victim out &&
	wrong_key dz-export -c wrong.yaml media "$id-2" </dev/null | cat
'
test_expect_success 'dz-notify: a wrong key' '
	wrong_key dz-notify -c wrong.yaml --dry-run
'
test_expect_success 'dz-purge does not load the master key: a wrong one does not stop it' '
	dz-purge -c wrong.yaml --dry-run >out 2>err
'
test_expect_success 'a malformed check value is refused' '
	cp store/master-key.check check.good &&
	head -c 27 check.good >store/master-key.check &&
	expect_exit 78 dz-export cases --contact >out 2>err &&
	grep -q "check value is malformed" err &&
	cp check.good store/master-key.check
'
test_expect_success 'the right key still opens what it sealed' '
	dz-export cases --contact >out &&
	jq -e "select(.case == \"$id\") | .contact.email == \"victim@example.org\"" out
'

# A store made before check values: none in the directory.
test_expect_success 'an older store: a wrong key is refused, nothing recorded' '
	rm store/master-key.check &&
	wrong_key dz-ingest -c wrong.yaml in2.jsonl &&
	test ! -e store/master-key.check &&
	wrong_key dz-export -c wrong.yaml cases --contact &&
	test ! -e store/master-key.check
'
test_expect_success 'an older store: the first run with the right key records it' '
	dz-export cases --contact >out &&
	jq -e "select(.case == \"$id\") | .contact.email == \"victim@example.org\"" out &&
	test -f store/master-key.check &&
	test "$(stat -c %a store/master-key.check)" = 600 &&
	wrong_key dz-notify -c wrong.yaml --dry-run
'
test_expect_success 'an older store whose cases were purged: proven by an item key' '
	rm store/master-key.check &&
	sqlite3 store/store.db "UPDATE cases SET case_key = NULL, contact = NULL, description = NULL, purged_at = received_at" &&
	wrong_key dz-ingest -c wrong.yaml in2.jsonl &&
	test ! -e store/master-key.check &&
	dz-ingest in2.jsonl >/dev/null && test -f store/master-key.check
'
test_expect_success 'an older store with nothing sealed: the key is recorded' '
	mkdir empty && cat >empty.yaml <<-EOF &&
	store: $TRASH/empty/store
	master_key: $TRASH/wrong.key
	EOF
	dz-ingest -c empty.yaml </dev/null &&
	rm empty/store/master-key.check &&
	dz-ingest -c empty.yaml </dev/null &&
	test -f empty/store/master-key.check &&
	sed "s|wrong\\.key|master.key|" empty.yaml >empty2.yaml &&
	expect_exit 78 dz-ingest -c empty2.yaml </dev/null 2>err &&
	grep -q "wrong master key" err
'

test_expect_success '--init over a store that has its key: refused, no new key left' '
	mv master.key master.key.real &&
	expect_exit 78 dz-ingest --init 2>err &&
	grep -q "wrong master key" err && test ! -e master.key &&
	rm store/master-key.check &&
	expect_exit 78 dz-ingest --init 2>err &&
	grep -q "wrong master key" err && test ! -e master.key &&
	test ! -e store/master-key.check &&
	mv master.key.real master.key &&
	dz-export cases --contact >out && test -f store/master-key.check
'

test_done
