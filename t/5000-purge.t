#!/bin/bash
# dz-purge: retention from the dates in the store. Media of items never
# judged illegal after its limit (of a withdrawn case at once), personal
# data after the case closes, withdrawn hashes (tombstones kept for
# partners), rejected spool entries; nothing purged left in the database,
# its WAL or the blob directory (the canary test); --dry-run; idempotence;
# the clock moved back; a purge beside running ingests. t/5001 kills it.
. "$(dirname "$0")/lib.sh"

export DZ_NOW=2026-05-01T10:00:00Z
cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
retention:
  personal_data_days: 14
  unverified_media_days: 30
  withdrawn_hash_days: 30
  rejected_days: 7
export:
  signing_key: $TRASH/k.key
  public_key: $TRASH/k.pub
EOF
export DZ_CONFIG=$TRASH/dz.yaml
convert -size 80x80 gradient:red-blue a.png
convert -size 80x80 gradient:green-yellow b.png
convert -size 80x80 gradient:white-black c.png
EMAIL=canary-purge-4e1b@example.org
DESC='canary description: a sentence nobody else writes 93aa'

submit() {	# submit ID FILE [CONTACT_JSON] -> case id
	jq -cn --arg id "$1" --arg f "$2" --argjson c "${3:-null}" --arg d "$DESC" \
		'{type:"submission",submission:$id,age:30,files:[$f],
		  followup:($c != null),contact:$c,
		  description:(if $c != null then $d else null end)}' >s.jsonl &&
	dz-ingest s.jsonl >ack && jq -r .case ack
}
rec() { printf '%s\n' "$@" | dz-ingest >/dev/null; }
blobs() { ls store/blobs | wc -l; }
store_files() { find store -type f; }
has() { jq -s -e "any(.[]; $2)" "$1" >/dev/null; }

test_expect_success 'setup: a closed case with a contact, an open one, a withdrawn one' '
	dz-ingest --init 2>/dev/null && dz-export keygen 2>/dev/null &&
	ca=$(submit s-a a.png "{\"email\":\"$EMAIL\",\"name\":\"Canary Name\"}") &&
	cb=$(submit s-b b.png) && cc=$(submit s-c c.png) &&
	rec "{\"type\":\"verdict\",\"item\":\"$ca-1\",\"illegal\":true,\"category\":\"adult_ncii\"}" \
	    "{\"type\":\"verdict\",\"item\":\"$cc-1\",\"illegal\":true,\"category\":\"adult_ncii\"}" &&
	dz-hash --store >h.jsonl && test $(jq -s length h.jsonl) = 2 &&
	dz-export bank -o full.jsonl >/dev/null &&
	rec "{\"type\":\"close\",\"case\":\"$ca\"}" &&
	test $(blobs) = 1
'

test_expect_success 'canary setup: the sealed personal data, as the store holds it' '
	sqlite3 store/store.db "SELECT hex(contact) FROM cases WHERE id = '\''$ca'\''" | xxd -r -p >sealed-contact &&
	sqlite3 store/store.db "SELECT hex(description) FROM cases WHERE id = '\''$ca'\''" | xxd -r -p >sealed-desc &&
	sqlite3 store/store.db "SELECT hex(case_key) FROM cases WHERE id = '\''$ca'\''" | xxd -r -p >wrapped-key &&
	test $(stat -c %s sealed-contact) -gt 32 && test $(stat -c %s wrapped-key) = 60 &&
	printf "%s" "$EMAIL" >plain-email && printf "%s" "$DESC" >plain-desc &&
	! "$TOP/t/canary.pl" sealed-contact $(store_files) >/dev/null
'

test_expect_success 'nothing is due yet: no record, nothing changed' '
	dz-purge >out && ! test -s out && test $(blobs) = 1
'

test_expect_success '--dry-run lists what would go and changes nothing' '
	DZ_NOW=2026-06-15T10:00:00Z dz-purge --dry-run >dry &&
	has dry ".what == \"media\" and .item == \"$cb-1\" and .reason == \"unverified\" and .dry_run" &&
	has dry ".what == \"personal_data\" and .case == \"$ca\"" &&
	test $(blobs) = 1 &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM cases WHERE purged_at IS NULL")" = 3
'

test_expect_success 'a withdrawn case: its media goes at once' '
	cd2=$(submit s-d a.png) && rec "{\"type\":\"withdraw\",\"case\":\"$cd2\"}" &&
	echo $cd2 >cd2 &&
	test $(blobs) = 2 &&
	dz-purge >p0 && has p0 ".what == \"media\" and .item == \"$cd2-1\" and .reason == \"withdrawn\"" &&
	test $(blobs) = 1
'

cd2=$(cat cd2 2>/dev/null)
test_expect_success 'after the limits: unverified media and personal data go, one record each' '
	DZ_NOW=2026-06-15T10:00:00Z dz-purge >p1 &&
	has p1 ".what == \"media\" and .item == \"$cb-1\"" &&
	has p1 ".what == \"personal_data\" and .case == \"$ca\" and .reason == \"closed\"" &&
	has p1 ".what == \"personal_data\" and .case == \"$cd2\" and .reason == \"withdrawn\"" &&
	test $(jq -s length p1) = 3 && test $(blobs) = 0 &&
	test "$(sqlite3 store/store.db "SELECT media_key IS NULL AND blob IS NULL AND media_purged_at IS NOT NULL FROM items WHERE id = '\''$cb-1'\''")" = 1 &&
	expect_exit 65 dz-export media $cb-1 2>err >/dev/null && grep -q "destroyed" err
'

test_expect_success 'canary: nothing purged is found in the database, its WAL or the blobs' '
	ls store >files && ! grep -q -- "-journal" files &&
	for s in sealed-contact sealed-desc wrapped-key plain-email plain-desc; do
		"$TOP/t/canary.pl" $s $(store_files) || return 1
	done &&
	dz-export cases --contact >cases.jsonl && ! grep -q canary cases.jsonl &&
	! grep -q -a -i canary $(store_files)
'

test_expect_success 'audit entries stay, and hold no personal data' '
	sqlite3 store/store.db "SELECT action, coalesce(detail, \"\") FROM audit" >audit &&
	grep -q "^purge|media unverified" audit && grep -q "^purge|$" audit &&
	! grep -q -i canary audit
'

test_expect_success 'a second run purges nothing again' '
	DZ_NOW=2026-06-15T10:00:00Z dz-purge >p2 && ! test -s p2
'

test_expect_success 'withdrawn hashes: digests removed, a shared PDQ kept as a tombstone' '
	DZ_NOW=2026-06-10T10:00:00Z rec "{\"type\":\"withdraw\",\"case\":\"$cc\"}" &&
	DZ_NOW=2026-06-15T10:00:00Z dz-purge >p3 && ! has p3 ".what == \"hashes\"" &&
	DZ_NOW=2026-07-20T10:00:00Z dz-purge >p4 &&
	has p4 ".what == \"hashes\" and .item == \"$cc-1\" and .removed == 2 and .tombstones == 1" &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM hashes WHERE item_id = '\''$cc-1'\''")" = 0 &&
	test "$(sqlite3 store/store.db "SELECT signal FROM hashes WHERE item_id IS NULL")" = pdq &&
	DZ_NOW=2026-07-20T10:00:00Z dz-export bank --since last -o d.jsonl >r &&
	jq -e ".withdrawals == 1" r &&
	e=$(jq -r "select(.item == \"$cc-1\" and .pdq) | .entry" h.jsonl) &&
	has d.jsonl ".type == \"withdrawal\" and .id == \"$e\""
'

test_expect_success 'a PDQ never shared is removed whole' '
	ce=$(submit s-e b.png) &&
	rec "{\"type\":\"verdict\",\"item\":\"$ce-1\",\"illegal\":true,\"category\":\"adult_ncii\"}" &&
	DZ_NOW=2026-07-20T10:00:00Z dz-hash --store >he.jsonl &&
	rec "{\"type\":\"withdraw\",\"case\":\"$ce\"}" &&
	DZ_NOW=2026-09-01T10:00:00Z dz-purge >p5 &&
	has p5 ".what == \"hashes\" and .item == \"$ce-1\" and .removed == 3 and .tombstones == 0"
'

test_expect_success 'a shared video: its vPDQ and MD5 kept as tombstones, withdrawn by a cumulative delta' '
	ffmpeg -v error -f lavfi -i testsrc=duration=4:size=160x120:rate=10 -pix_fmt yuv420p v.mp4 &&
	cv=$(submit s-v v.mp4) &&
	rec "{\"type\":\"verdict\",\"item\":\"$cv-1\",\"illegal\":true,\"category\":\"adult_ncii\"}" &&
	DZ_NOW=2026-09-01T10:00:00Z dz-hash --store >hv.jsonl &&
	DZ_NOW=2026-09-01T10:00:00Z dz-export bank -o vfull.jsonl >r1 &&
	jq -s -e "any(.[]; .type == \"entry\" and .signal == \"vpdq\")" vfull.jsonl &&
	DZ_NOW=2026-09-02T10:00:00Z rec "{\"type\":\"withdraw\",\"case\":\"$cv\"}" &&
	DZ_NOW=2026-10-15T10:00:00Z dz-purge >p7 &&
	has p7 ".what == \"hashes\" and .item == \"$cv-1\" and .removed == 1 and .tombstones == 2" &&
	sqlite3 store/store.db "SELECT signal FROM hashes WHERE item_id IS NULL ORDER BY 1" >tombs &&
	printf "pdq\nvideo_md5\nvpdq\n" >expect && test_cmp expect tombs &&
	DZ_NOW=2026-10-15T10:00:00Z dz-export bank --since full -o vdelta.jsonl >r2 &&
	jq -e ".withdrawals == 2" r2 &&
	e=$(jq -r .entry hv.jsonl) && m=$(jq -r .md5_entry hv.jsonl) &&
	has vdelta.jsonl ".type == \"withdrawal\" and .id == \"$e\"" &&
	has vdelta.jsonl ".type == \"withdrawal\" and .id == \"$m\""
'

test_expect_success 'the clock moved back restores nothing and fails nothing' '
	before=$(sqlite3 store/store.db "SELECT count(*) FROM cases WHERE purged_at IS NOT NULL") &&
	DZ_NOW=2026-01-01T00:00:00Z dz-purge >p6 && ! test -s p6 &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM cases WHERE purged_at IS NOT NULL")" = "$before" &&
	dz-export cases --contact >c2.jsonl && ! grep -q canary c2.jsonl
'

test_expect_success 'rejected spool entries older than the limit go; younger ones stay' '
	mkdir -p spool/rejected/old spool/rejected/young &&
	echo plaintext >spool/rejected/old/upload.jpg && echo "{}" >spool/rejected/old/error.json &&
	echo plaintext >spool/rejected/young/upload.jpg && echo "{}" >spool/rejected/young/error.json &&
	touch -d 2026-04-01 spool/rejected/old/error.json &&
	touch -d 2026-04-29 spool/rejected/young/error.json &&
	dz-purge --spool spool >p7 &&
	has p7 ".what == \"rejected\" and .entry == \"old\"" &&
	test ! -e spool/rejected/old && test -e spool/rejected/young/upload.jpg
'

test_expect_success 'a rejected entry goes whole, subdirectories too; one that cannot be removed stops nothing else (issue 15)' '
	d=spool9/rejected/a-deep && mkdir -p $d &&
	for i in $(seq 70); do d=$d/d; done && mkdir -p $d && echo plaintext >$d/upload.jpg &&
	echo "{}" >spool9/rejected/a-deep/error.json &&
	mkdir -p spool9/rejected/b-sub/sub && echo plaintext >spool9/rejected/b-sub/sub/upload.jpg &&
	echo plaintext >spool9/rejected/b-sub/upload.jpg && echo "{}" >spool9/rejected/b-sub/error.json &&
	mkdir outside9 && echo keep >outside9/keep && ln -s "$TRASH/outside9" spool9/rejected/c-link &&
	touch -d 2026-04-01 spool9/rejected/a-deep/error.json spool9/rejected/b-sub/error.json &&
	touch -h -d 2026-04-01 spool9/rejected/c-link &&
	expect_exit 74 dz-purge --spool spool9 >p9 2>e9 &&
	has p9 ".what == \"rejected\" and .entry == \"b-sub\"" &&
	has p9 ".what == \"rejected\" and .entry == \"c-link\"" &&
	! has p9 ".entry == \"a-deep\"" &&
	test ! -e spool9/rejected/b-sub && test ! -L spool9/rejected/c-link &&
	test -f outside9/keep && test -d spool9/rejected/a-deep &&
	test -f spool9/rejected/a-deep/error.json &&
	grep -q "cannot remove 1 rejected spool entry, the first .a-deep." e9
'

test_expect_success 'a rejected/ that is a link is not followed (issue 15)' '
	mkdir -p spool10 victim10/old && echo keep >victim10/old/keep &&
	echo "{}" >victim10/old/error.json && touch -d 2026-04-01 victim10/old/error.json &&
	ln -s "$TRASH/victim10" spool10/rejected &&
	expect_exit 66 dz-purge --spool spool10 >p10 2>e10 &&
	test -f victim10/old/keep && ! test -s p10
'
test_expect_success 'a spool with no rejected/ yet, or none at all: nothing to do' '
	mkdir -p spool11/new && dz-purge --spool spool11 >p11 && dz-purge --spool no-such-spool >p12
'

test_expect_success 'a purge killed mid-way (key erased, file left) is finished by the next' '
	cf=$(submit s-f c.png) && b=$(sqlite3 store/store.db "SELECT blob FROM items WHERE id = '\''$cf-1'\''") &&
	sqlite3 store/store.db "UPDATE items SET media_key = NULL WHERE id = '\''$cf-1'\''" &&
	test -e store/blobs/$b && dz-purge >p8 && test ! -e store/blobs/$b &&
	test "$(sqlite3 store/store.db "SELECT blob IS NULL FROM items WHERE id = '\''$cf-1'\''")" = 1
'

test_expect_success 'beside running ingests: nothing lost, nothing failed' '
	for i in $(seq 60); do printf "{\"type\":\"submission\",\"submission\":\"c-%s\",\"age\":30,\"files\":[\"b.png\"]}\n" $i; done >c.jsonl &&
	split -l 10 c.jsonl part. &&
	( for p in part.*; do dz-ingest $p >>acks || echo "ingest $?" >>ingest-fail; done ) &
	ing=$! &&
	fails=0 &&
	for i in $(seq 15); do
		DZ_NOW=2026-09-01T10:00:00Z dz-purge >>purged 2>>perr || fails=$((fails + 1))
	done &&
	wait $ing &&
	test ! -e ingest-fail && test $fails = 0 &&
	test $(jq -s "map(select(.type == \"ack\")) | length" acks) = 60 &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM cases WHERE submission_id LIKE '\''c-%'\''")" = 60 &&
	DZ_NOW=2026-09-01T10:00:00Z dz-purge >/dev/null && test $(blobs) = 0 &&
	sqlite3 store/store.db "PRAGMA integrity_check" >ic && echo ok >want && test_cmp want ic
'

test_expect_success 'a reader holding the log: deletions made, exit 75; an ingest meanwhile is not failed' '
	cz=$(submit s-z a.png) && rec "{\"type\":\"withdraw\",\"case\":\"$cz\"}" || return 1
	(echo "BEGIN; SELECT count(*) FROM cases;"; sleep 25) | sqlite3 store/store.db >/dev/null &
	reader=$!
	sleep 1
	(DZ_NOW=2026-09-01T10:00:00Z dz-purge >p9 2>e9; echo $? >rc9) &
	purge=$!
	sleep 2
	printf "{\"type\":\"submission\",\"submission\":\"during\",\"age\":30,\"urls\":[\"https://x.example/1\"]}\n" |
		dz-ingest >ack-during
	ingest=$?
	wait $purge
	kill $reader 2>/dev/null
	wait
	test $ingest = 0 && jq -e ".type == \"ack\"" ack-during &&
	test "$(cat rc9)" = 75 && grep -q "write-ahead log is still in use" e9 &&
	has p9 ".what == \"media\" and .item == \"$cz-1\"" &&
	DZ_NOW=2026-09-01T10:00:00Z dz-purge >p10 && ! test -s p10 &&
	! test -s store/store.db-wal
'

test_expect_success 'usage, lock and no store' '
	expect_exit 64 dz-purge extra 2>err &&
	expect_exit 64 dz-purge --bogus 2>err &&
	expect_exit 75 flock store/purge.lock dz-purge 2>err && grep -q "another dz-purge" err &&
	sed "s|store: .*|store: $TRASH/none|" dz.yaml >ns.yaml &&
	expect_exit 66 dz-purge -c ns.yaml 2>err && test ! -e none &&
	dz-purge --help >out && grep -q "^usage: dz-purge" out
'

test_done
