#!/bin/bash
# dz-match: which banks are trusted. Signatures (minisign's format) over
# the exact bytes, tampering, wrong keys, missing signatures, truncated
# and malformed banks; chains of a full export and its deltas; rollback
# and replay refused through the state file; --verify-only.
. "$(dirname "$0")/lib.sh"

export XDG_STATE_HOME=$TRASH/xdg
: >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml
STATE=$XDG_STATE_HOME/dz/match.state

if ! command -v minisign >/dev/null 2>&1; then
	say "Bail out! minisign is not installed (run scripts/deps)"
	exit 1
fi

sign() {	# sign BANK [SECKEY [COMMENT_FROM]]
	minisign -S -s "${2:-sec}" -m "$1" -t "$(test-bank-tool comment "${3:-$1}")" >/dev/null
}

# Hashes: hA..hE in the banks; qX a query for each.
hA=$(test-bank-tool random-hash --seed 11)
hB=$(test-bank-tool random-hash --seed 12)
hC=$(test-bank-tool random-hash --seed 13)
hC2=$(test-bank-tool random-hash --seed 14)
hE=$(test-bank-tool random-hash --seed 15)
iA=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
iB=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
iC=cccccccccccccccccccccccccccccccc
iE=eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
qA=$(test-bank-tool near "$hA" 4 --seed 1)
printf '%s\n' "$qA" >qa.txt

test_expect_success 'setup: keys, a full export 1 in each format, signed' '
	minisign -G -W -p pub -s sec >/dev/null &&
	minisign -G -W -p pub2 -s sec2 >/dev/null &&
	printf "%s\n" "+ $iA $hA 100 adult_ncii" "+ $iB $hB 90 minor" "+ $iC $hC 80 other" >full.spec &&
	test-bank-tool build --seq 1 b1.dzb <full.spec && sign b1.dzb &&
	test-bank-tool build --seq 1 --format jsonl b1.jsonl <full.spec && sign b1.jsonl &&
	test-bank-tool build --seq 1 --format csv b1.csv <full.spec && sign b1.csv sec b1.dzb
'

test_expect_success 'a good bank is accepted and recorded in the default state file' '
	dz-match -p pub --bank b1.dzb --hashes qa.txt >out &&
	jq -e ".entry == \"$iA\" and .distance == 4 and .bank_seq == 1" out &&
	test "$(stat -c %a "$XDG_STATE_HOME/dz")" = 700 &&
	test "$(stat -c %a "$STATE")" = 600 &&
	keyid=$(sed -n "1s/.*minisign public key //p" pub) &&
	grep -q "^issuer $keyid 1 $(test-bank-tool digest b1.dzb)\$" "$STATE" &&
	grep -q "^verified $keyid 1 [0-9a-f]\{64\} $(stat -c "%d %i %s" b1.dzb) " "$STATE"
'

test_expect_success 'all three formats verify, as minisign -V does' '
	for f in dzb jsonl csv; do
		minisign -Vm b1.$f -p pub >/dev/null &&
		dz-match -p pub --bank b1.$f --hashes qa.txt >out.$f || return 1
	done &&
	jq -e ".bank_seq == 1" out.csv
'

flip_byte() {	# flip_byte FILE OFFSET: change one byte
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d " ")
	printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# In b1.dzb, byte 452 is in the date an entry was added: the file still
# loads, and only the signature can tell. Byte 300 is in a hash: the
# file's own index no longer fits it.
test_expect_success 'one byte of the bank changed: refused, exit 65' '
	cp b1.dzb t.dzb && cp b1.dzb.minisig t.dzb.minisig &&
	flip_byte t.dzb 452 && ! cmp -s b1.dzb t.dzb &&
	test-bank-tool info t.dzb >/dev/null &&
	expect_exit 65 dz-match -p pub --bank t.dzb --hashes qa.txt >out 2>err &&
	echo "dz-match: cannot load bank '\''t.dzb'\'': signature does not match the data" >expect &&
	test_cmp expect err && ! test -s out &&
	cp b1.dzb t1.dzb && cp b1.dzb.minisig t1.dzb.minisig && flip_byte t1.dzb 300 &&
	expect_exit 65 dz-match -p pub --bank t1.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .t1.dzb.: " err && ! test -s out
'

test_expect_success 'one hash digit changed in a JSON Lines bank: refused' '
	sed "2s/\"value\":\"\(.\)/\"value\":\"X\1/; 2s/\"value\":\"X0/\"value\":\"1/; 2s/\"value\":\"X./\"value\":\"0/" \
		b1.jsonl >t.jsonl && ! cmp -s b1.jsonl t.jsonl &&
	cp b1.jsonl.minisig t.jsonl.minisig &&
	expect_exit 65 dz-match -p pub --bank t.jsonl --hashes qa.txt >out 2>err &&
	grep -q "signature does not match the data" err
'

test_expect_success 'one byte of the signature changed: refused' '
	cp b1.dzb t2.dzb && cp b1.dzb.minisig t2.dzb.minisig &&
	sed -i "2s/^\(.\{40\}\)\(.\)/\1#\2/; 2s/#A/B/; 2s/#./A/" t2.dzb.minisig &&
	! cmp -s b1.dzb.minisig t2.dzb.minisig &&
	expect_exit 65 dz-match -p pub --bank t2.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .t2.dzb.: signature does not match the data$" err
'

test_expect_success 'the trusted comment changed: refused' '
	cp b1.dzb.minisig t2.dzb.minisig &&
	sed -i "3s/seq=1 /seq=9 /" t2.dzb.minisig && ! cmp -s b1.dzb.minisig t2.dzb.minisig &&
	expect_exit 65 dz-match -p pub --bank t2.dzb --hashes qa.txt >out 2>err &&
	grep -q "trusted comment was tampered with" err
'

test_expect_success 'a signature file that is not one: refused' '
	echo garbage >t2.dzb.minisig &&
	expect_exit 65 dz-match -p pub --bank t2.dzb --hashes qa.txt >out 2>err &&
	grep -q "malformed signature file" err
'

test_expect_success 'signed with another key: refused, naming both key ids' '
	expect_exit 65 dz-match -p pub2 --bank b1.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .b1.dzb.: signature was made with another key (key id [0-9A-F]*, expected [0-9A-F]*)$" err
'

test_expect_success 'several keys: each bank is checked with the key it names' '
	test-bank-tool build --seq 1 --collab other k2.dzb <full.spec &&
	sign k2.dzb sec2 &&
	dz-match --no-state -p pub2 -p pub --bank b1.dzb --bank k2.dzb --hashes qa.txt >out &&
	test $(wc -l <out) = 2 &&
	expect_exit 65 dz-match --no-state -p pub --bank b1.dzb --bank k2.dzb --hashes qa.txt >out 2>err &&
	grep -q "cannot load bank .k2.dzb.: signature was made with another key" err
'

test_expect_success 'a signature that does not fit the metadata: refused' '
	test-bank-tool build --seq 2 b2.dzb <full.spec &&
	cp b2.dzb t3.dzb && minisign -S -s sec -m t3.dzb -t "$(test-bank-tool comment b1.dzb)" >/dev/null &&
	expect_exit 65 dz-match -p pub --bank t3.dzb --hashes qa.txt >out 2>err &&
	grep -q "bank file and signature disagree on" err &&
	cp b1.dzb t4.dzb && minisign -S -s sec -m t4.dzb -t "hello" >/dev/null &&
	expect_exit 65 dz-match -p pub --bank t4.dzb --hashes qa.txt >out 2>err &&
	grep -q "not a disrupt bank signature" err
'

test_expect_success 'no signature: exit 66' '
	cp b1.dzb u.dzb &&
	expect_exit 66 dz-match -p pub --bank u.dzb --hashes qa.txt >out 2>err &&
	echo "dz-match: cannot load bank '\''u.dzb'\'': cannot open signature '\''u.dzb.minisig'\'': No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'no signature with --insecure: matched, with one warning' '
	test-bank-tool build --collab other u2.dzb <full.spec &&
	dz-match --insecure --state ins.state -p pub --bank u.dzb --bank u2.dzb --hashes qa.txt >out 2>err &&
	test $(wc -l <out) = 2 && test $(wc -l <err) = 1 &&
	grep -q "^dz-match: warning: 2 banks are not signed (--insecure): their content is not verified$" err
'

test_expect_success '--insecure banks are never recorded in the state' '
	! test -e ins.state
'

test_expect_success '--insecure needs no key; a bad signature is still refused' '
	dz-match --insecure --no-state --bank u.dzb --hashes qa.txt >out 2>err &&
	test $(wc -l <out) = 1 &&
	expect_exit 65 dz-match --insecure --no-state -p pub --bank t.dzb --hashes qa.txt >out 2>err &&
	grep -q "signature does not match" err &&
	expect_exit 78 dz-match --insecure --no-state --bank b1.dzb --hashes qa.txt >out 2>err &&
	grep -q "no public key" err
'

test_expect_success 'an unsigned CSV bank has no export number: bank_seq 0' '
	cp b1.csv u.csv &&
	dz-match --insecure --no-state --bank u.csv --hashes qa.txt >out 2>/dev/null &&
	jq -e ".bank_seq == 0 and .category == \"adult_ncii\"" out
'

test_expect_success 'no key at all: exit 78' '
	expect_exit 78 dz-match --no-state --bank b1.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: no public key to verify the banks with: give -p or set match.public_key$" err &&
	expect_exit 78 dz-match --no-state -p nosuch.pub --bank b1.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load public key .nosuch.pub.: " err
'

test_expect_success 'a bank that cannot be opened: exit 66' '
	expect_exit 66 dz-match -p pub --bank nosuch.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .nosuch.dzb.: " err
'

test_expect_success 'a truncated bank: refused, exit 65' '
	head -c 1000 b1.dzb >tr.dzb && cp b1.dzb.minisig tr.dzb.minisig &&
	expect_exit 65 dz-match -p pub --bank tr.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .tr.dzb.: " err &&
	head -n 3 b1.jsonl >tr.jsonl && cp b1.jsonl.minisig tr.jsonl.minisig &&
	expect_exit 65 dz-match -p pub --bank tr.jsonl --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .tr.jsonl.: " err
'

test_expect_success 'a bank with a bad hash line: refused even when signed, exit 65' '
	sed "3s/\"value\":\"[0-9a-f]*\"/\"value\":\"0123\"/" b1.jsonl >bad.jsonl &&
	! cmp -s b1.jsonl bad.jsonl && sign bad.jsonl sec b1.jsonl &&
	expect_exit 65 dz-match -p pub --bank bad.jsonl --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .bad.jsonl.: line 3" err && ! test -s out
'

test_expect_success 'rollback: an older export is refused once a newer one was accepted' '
	sign b2.dzb &&
	dz-match -p pub --bank b2.dzb --hashes qa.txt >out &&
	jq -e ".bank_seq == 2" out &&
	expect_exit 65 dz-match -p pub --bank b1.dzb --hashes qa.txt >out 2>err &&
	echo "dz-match: cannot load bank '\''b1.dzb'\'': bank seq 1 is older than seq 2 already accepted (rollback)" >expect &&
	test_cmp expect err && ! test -s out
'

test_expect_success 'the same export again is accepted; the state does not change' '
	cp "$STATE" state.before &&
	dz-match -p pub --bank b2.dzb --hashes qa.txt >out &&
	test_cmp state.before "$STATE"
'

test_expect_success 'replay: another export under a number already accepted is refused' '
	printf "%s\n" "+ $iA $hA 100 adult_ncii" >other.spec &&
	test-bank-tool build --seq 2 r2.dzb <other.spec && sign r2.dzb &&
	expect_exit 65 dz-match -p pub --bank r2.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .r2.dzb.: bank seq 2 differs from the seq 2 already accepted (replay or forgery)$" err
'

test_expect_success '--no-state skips the check (and records nothing)' '
	cp "$STATE" state.before &&
	dz-match -p pub --no-state --bank b1.dzb --hashes qa.txt >out &&
	test_cmp state.before "$STATE"
'

test_expect_success '--state FILE and match.state choose the state file' '
	dz-match -p pub --state my.state --bank b1.dzb --hashes qa.txt >out &&
	grep -q "^issuer [0-9A-F]* 1 " my.state &&
	printf "match:\n  state: %s\n" "$TRASH/conf.state" >s.yaml &&
	dz-match -c s.yaml -p pub --bank b2.dzb --hashes qa.txt >out &&
	grep -q "^issuer [0-9A-F]* 2 " conf.state &&
	expect_exit 65 dz-match -c s.yaml -p pub --bank b1.dzb --hashes qa.txt >out 2>err &&
	grep -q rollback err
'

test_expect_success 'a damaged state file: exit 78, nothing matched' '
	echo "issuer nonsense" >bad.state &&
	expect_exit 78 dz-match -p pub --state bad.state --bank b1.dzb --hashes qa.txt >out 2>err &&
	grep -q "^dz-match: cannot use state file .bad.state.: line 1: not a dz-match state file$" err &&
	! test -s out
'

# A chain: full export 5; delta 6 withdraws B, replaces C by C2, adds E;
# delta 7 withdraws E.
test_expect_success 'setup: a full export 5 and deltas 6 and 7' '
	test-bank-tool build --seq 5 c5.dzb <full.spec && sign c5.dzb &&
	printf "%s\n" "- $iB $hB minor" "+ $iC $hC2 100 minor" "+ $iE $hE 100 other" >d6.spec &&
	test-bank-tool build --seq 6 --kind delta --since 5 --base c5.dzb --prev c5.dzb \
		--format jsonl d6.jsonl <d6.spec && sign d6.jsonl &&
	printf "%s\n" "- $iE $hE other" >d7.spec &&
	test-bank-tool build --seq 7 --kind delta --since 6 --base d6.jsonl --prev d6.jsonl \
		d7.dzb <d7.spec && sign d7.dzb &&
	test-bank-tool build --seq 7 --kind delta --since 5 --base c5.dzb d7b.dzb <d7.spec &&
	sign d7b.dzb &&
	printf "%s\n" "$hA" "$hB" "$hC" "$hC2" "$hE" >all.txt
'

test_expect_success 'the full export alone matches A, B and C' '
	dz-match -p pub --state chain.state --bank c5.dzb --hashes all.txt >out &&
	jq -r "[.line, .entry] | @tsv" out >got &&
	printf "1\t$iA\n2\t$iB\n3\t$iC\n" >expect && test_cmp expect got
'

test_expect_success 'full + delta 6: B withdrawn, C replaced by C2, E added' '
	dz-match -p pub --state chain.state --bank c5.dzb --bank d6.jsonl --hashes all.txt >out &&
	jq -r "[.line, .entry, .bank, .bank_seq, .category] | @tsv" out >got &&
	printf "1\t$iA\tc5.dzb\t5\tadult_ncii\n4\t$iC\td6.jsonl\t6\tminor\n5\t$iE\td6.jsonl\t6\tother\n" >expect &&
	test_cmp expect got &&
	grep -q "^issuer [0-9A-F]* 6 $(test-bank-tool digest d6.jsonl)\$" chain.state
'

test_expect_success 'full + deltas 6 and 7, in any order: E withdrawn again' '
	dz-match -p pub --state chain.state --bank d7.dzb --bank c5.dzb --bank d6.jsonl --hashes all.txt >out &&
	jq -r ".entry" out >got && printf "$iA\n$iC\n" >expect && test_cmp expect got &&
	grep -q "^issuer [0-9A-F]* 7 " chain.state
'

test_expect_success 'a delta that skips one: refused' '
	expect_exit 65 dz-match -p pub --no-state --bank c5.dzb --bank d7.dzb --hashes all.txt >out 2>err &&
	echo "dz-match: cannot load bank '\''d7.dzb'\'': delta 7 applies to export 6, not 5" >expect &&
	test_cmp expect err
'

test_expect_success 'a delta without its full export: refused' '
	expect_exit 65 dz-match -p pub --no-state --bank d6.jsonl --hashes all.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .d6.jsonl.: delta 6 applies to export 5, which was not given (start with a full export)$" err
'

test_expect_success 'a delta since 5 with the right base, after delta 6: refused' '
	expect_exit 65 dz-match -p pub --no-state --bank c5.dzb --bank d6.jsonl --bank d7b.dzb --hashes all.txt >out 2>err &&
	grep -q "delta 7 applies to export 5, not 6" err
'

test_expect_success 'a delta for another export 5: refused' '
	test-bank-tool build --seq 6 --kind delta --since 5 --prev c5.dzb d6x.dzb <d6.spec && sign d6x.dzb &&
	expect_exit 65 dz-match -p pub --no-state --bank c5.dzb --bank d6x.dzb --hashes all.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .d6x.dzb.: delta 6 applies to another export 5 (its digest differs)$" err
'

test_expect_success 'the state checks the newest export of the chain' '
	expect_exit 65 dz-match -p pub --state chain.state --bank c5.dzb --bank d6.jsonl --hashes all.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .d6.jsonl.: bank seq 6 is older than seq 7 already accepted (rollback)$" err
'

test_expect_success '--verify-only: checks, records, reads no input, exits 0' '
	rm -f v.state &&
	echo "not read" | dz-match --verify-only -p pub --state v.state --bank c5.dzb --bank d6.jsonl >out 2>err &&
	! test -s out &&
	grep -q "^dz-match: bank .c5.dzb.: export 5 (full), 3 entries, 0 withdrawals, 2 superseded, threshold 31: signature verified, key [0-9A-F]*$" err &&
	grep -q "^dz-match: bank .d6.jsonl.: export 6 (delta since 5), 2 entries, 1 withdrawal, threshold 31: signature verified" err &&
	grep -q "^issuer [0-9A-F]* 6 " v.state &&
	test $(grep -c "^verified " v.state) = 2 &&
	expect_exit 65 dz-match --verify-only -p pub --state v.state --bank t.dzb 2>err &&
	grep -q "signature does not match" err
'

test_expect_success '-v describes the banks on stderr' '
	dz-match -v -p pub --no-state -t 12 --bank c5.dzb --hashes all.txt >out 2>err &&
	grep -q "^dz-match: bank .c5.dzb.: export 5 (full), 3 entries, 0 withdrawals, threshold 12: signature verified" err
'

test_expect_success 'an unchanged verified file: only the comment is checked again' '
	cp b1.dzb vc.dzb && cp b1.dzb.minisig vc.dzb.minisig &&
	dz-match -v -p pub --state vc.state --bank vc.dzb --hashes qa.txt >out1 2>err1 &&
	grep -q "threshold 31: signature verified, key" err1 &&
	dz-match -v -p pub --state vc.state --bank vc.dzb --hashes qa.txt >out2 2>err2 &&
	grep -q "threshold 31: signature verified (file unchanged since), key" err2 &&
	test_cmp out1 out2 &&
	dz-match -v -p pub --no-state --bank vc.dzb --hashes qa.txt >out3 2>err3 &&
	grep -q "threshold 31: signature verified, key" err3
'

test_expect_success 'a verified file changed since, its mtime put back: verified again, refused' '
	cp b1.dzb vc.orig && touch -r vc.dzb vc.orig &&
	dz-match -p pub --state vc.state --bank vc.dzb --hashes qa.txt >out &&
	# the first entry'\''s "added" day, 256 days later: still a valid bank
	printf "\\120" | dd of=vc.dzb bs=1 seek=453 conv=notrunc 2>/dev/null &&
	touch -r vc.orig vc.dzb &&
	! cmp -s vc.dzb vc.orig &&
	test "$(stat -c %Y.%y vc.dzb)" = "$(stat -c %Y.%y vc.orig)" &&
	expect_exit 65 dz-match -v -p pub --state vc.state --bank vc.dzb --hashes qa.txt >out 2>err &&
	grep -q "signature does not match the data" err &&
	! test -s out
'

test_expect_success 'a verified file with a forged trusted comment: refused' '
	cp b1.dzb vc.dzb &&
	dz-match -p pub --state vc2.state --bank vc.dzb --hashes qa.txt >out &&
	sed "3s/entries=3/entries=4/" vc.dzb.minisig >forged && cat forged >vc.dzb.minisig &&
	! cmp -s forged b1.dzb.minisig &&
	expect_exit 65 dz-match -p pub --state vc2.state --bank vc.dzb --hashes qa.txt >out 2>err &&
	grep -q "trusted comment was tampered with" err
'

# A state directory that cannot be written: as an unprivileged user when
# the tests run as root. That user may not reach the tree (a clone under a
# 0700 directory, as mktemp -d makes), so as root the run happens in a
# world-readable copy under /tmp: the program, the key, the banks, the state.
ro_base=.
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null 2>&1 &&
		ro_base=$(mktemp -d /tmp/dz-3001.XXXXXX) &&
		chmod 755 "$ro_base" &&
		cp "$TOP/cmd/dz-match" "$ro_base"/ &&
		find . -maxdepth 1 -type f ! -name ".*" -exec cp {} "$ro_base"/ \; &&
		chmod a+r "$ro_base"/* &&
		setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ro_base/dz-match"
	then
		as_user() { DZ_CONFIG="$ro_base/dz.yaml" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
		ro_prog=$ro_base/dz-match
		test_atexit "rm -rf '$ro_base'"
	fi
else
	as_user() { "$@"; }
	ro_prog=$TOP/cmd/dz-match
fi

if [ "$(id -u)" = 0 ] && [ -z "${ro_prog:-}" ]; then
	skip 'a read-only state directory: running as root, and no unprivileged user can reach a copy of the program (setpriv, /tmp)'
else
test_expect_success 'a read-only state directory: matching goes on while nothing is new' '
	cd "$ro_base" &&
	mkdir -p ro && dz-match -p pub --state ro/s --bank c5.dzb --bank d6.jsonl --hashes all.txt >expect &&
	chmod 755 ro && chmod 644 ro/s && chmod 444 ro/s.lock && chmod a+rx . &&
	if [ "$(id -u)" != 0 ]; then chmod 555 ro; fi &&
	as_user "$ro_prog" -p pub --state ro/s --bank c5.dzb --bank d6.jsonl --hashes all.txt >got &&
	test_cmp expect got &&
	expect_exit 73 as_user "$ro_prog" -p pub --state ro/s --bank c5.dzb --bank d6.jsonl --bank d7.dzb --hashes all.txt >got 2>err &&
	grep -q "^dz-match: cannot use state file .ro/s.: cannot write the state file" err && ! test -s got
'
fi
chmod 755 ro "$ro_base/ro" 2>/dev/null

test_done
