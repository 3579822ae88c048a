#!/bin/bash
# lib/crypto/sign: the C unit test, then a cross-check with the real minisign(1)
# both ways: what we sign, stock `minisign -V` accepts (and refuses once
# tampered with); what `minisign -S` signs, dz_sign_verify accepts (and
# refuses once tampered with). t/unit/test-sign-tool drives lib/sign.
. "$(dirname "$0")/lib.sh"

tool=$TOP/t/unit/test-sign-tool

test_expect_success 'unit test t/unit/test-sign passes' '
	"$TOP/t/unit/test-sign" >unit.out 2>&1 || { grep -v "^ok" unit.out; false; }
'

# Our key pair, a bank and its signature.
test_expect_success 'keygen makes a 0600 secret key and a public key' '
	"$tool" keygen dz.key dz.pub &&
	test "$(stat -c %a dz.key)" = 600 &&
	test "$(stat -c %a dz.pub)" = 644 &&
	test "$(wc -l <dz.pub)" = 2 &&
	grep -q "^untrusted comment: disrupt public key [0-9A-F]\{1,16\}\$" dz.pub
'
test_expect_success 'keygen refuses to replace a key' '
	expect_exit 73 "$tool" keygen dz.key other.pub 2>err &&
	grep -q "exists already" err && test ! -e other.pub
'
printf 'pdq,%064d\npdq,%064d\n' 1 2 >bank
printf 'bank 2026-01-15\tv1 caf\303\251' >tc.expected
tc=$(cat tc.expected)

test_expect_success 'sign a bank' '
	"$tool" sign dz.key bank bank.minisig "$tc" &&
	test "$(wc -l <bank.minisig)" = 4
'
test_expect_success 'our verify accepts it and prints the trusted comment' '
	"$tool" verify dz.pub bank bank.minisig >out &&
	printf "%s\n" "$tc" >expect && test_cmp expect out
'

if ! command -v minisign >/dev/null 2>&1; then
	for t in $(seq 18); do
		skip "minisign is not installed (run scripts/deps)"
	done
	test_done
fi

# ---------- ours, checked by minisign ----------

test_expect_success 'minisign -V accepts our signature and prints the trusted comment' '
	minisign -Vm bank -x bank.minisig -p dz.pub >out &&
	printf "Signature and comment signature verified\nTrusted comment: %s\n" "$tc" >expect &&
	test_cmp expect out
'
test_expect_success 'minisign -V -H (prehashed only) accepts it; -Q prints the comment alone' '
	minisign -V -H -Q -m bank -x bank.minisig -p dz.pub >out &&
	printf "%s\n" "$tc" >expect && test_cmp expect out
'
test_expect_success 'minisign -P takes the bare key line of our public key' '
	minisign -Vm bank -x bank.minisig -P "$(sed -n 2p dz.pub)" >out &&
	grep -q "^Trusted comment: " out
'
test_expect_success 'minisign rejects our signature once one byte of the bank changes' '
	sed "1s/^pdq,0/pdq,1/" bank >bank.bad && ! cmp -s bank bank.bad &&
	expect_exit 1 minisign -Vm bank.bad -x bank.minisig -p dz.pub >out 2>err &&
	grep -q "Signature verification failed" err &&
	must_fail "$tool" verify dz.pub bank.bad bank.minisig 2>err &&
	grep -q "signature does not match the data" err
'
test_expect_success 'minisign rejects our signature with a tampered trusted comment' '
	sed "3s/v1/v2/" bank.minisig >tc.minisig &&
	expect_exit 1 minisign -Vm bank -x tc.minisig -p dz.pub >out 2>err &&
	grep -q "Comment signature verification failed" err &&
	expect_exit 65 "$tool" verify dz.pub bank tc.minisig 2>err &&
	grep -q "trusted comment was tampered with" err
'
test_expect_success 'minisign rejects our signature under another public key' '
	"$tool" keygen other.key other.pub &&
	expect_exit 1 minisign -Vm bank -x bank.minisig -p other.pub >out 2>err &&
	grep -q "key id" err
'
test_expect_success 'we print key ids exactly as minisign does' '
	id=$(sed -n "1s/.* //p" dz.pub) &&
	grep -q "is $id\$" err &&
	expect_exit 65 "$tool" verify other.pub bank bank.minisig 2>err2 &&
	grep -q "(key id $id, expected " err2
'
test_expect_success 'minisign accepts our signature of an empty file' '
	: >empty && "$tool" sign dz.key empty empty.minisig "" &&
	minisign -V -Q -m empty -x empty.minisig -p dz.pub >out &&
	echo >expect && test_cmp expect out
'
test_expect_success 'minisign accepts our longest trusted comment (8173 bytes)' '
	long=$(head -c 8173 /dev/zero | tr "\0" x) &&
	"$tool" sign dz.key bank long.minisig "$long" &&
	minisign -V -Q -m bank -x long.minisig -p dz.pub >out &&
	printf "%s\n" "$long" >expect && test_cmp expect out &&
	expect_exit 65 "$tool" sign dz.key bank toolong.minisig "${long}x" 2>err &&
	grep -q "trusted comment is too long" err && test ! -e toolong.minisig
'
test_expect_success 'minisign accepts our signature of 5 MB' '
	head -c 5000000 /dev/urandom >big &&
	"$tool" sign dz.key big big.minisig "big" &&
	minisign -V -H -Q -m big -x big.minisig -p dz.pub >out &&
	echo big >expect && test_cmp expect out
'

# ---------- minisign's, checked by us ----------

test_expect_success 'minisign -G -W makes an unencrypted key pair' '
	minisign -G -W -p ms.pub -s ms.key </dev/null >out 2>&1 &&
	test -s ms.pub && test -s ms.key
'
test_expect_success 'dz_sign_verify accepts a minisign -S signature' '
	minisign -S -s ms.key -m bank -x ms.minisig -t "$tc" </dev/null >out 2>&1 &&
	"$tool" verify ms.pub bank ms.minisig >out &&
	printf "%s\n" "$tc" >expect && test_cmp expect out &&
	"$tool" verify-P "$(sed -n 2p ms.pub)" bank ms.minisig >out &&
	test_cmp expect out
'
test_expect_success 'dz_sign_verify returns minisign'"'"'s default trusted comment as minisign does' '
	minisign -S -s ms.key -m bank -x default.minisig </dev/null >out 2>&1 &&
	"$tool" verify ms.pub bank default.minisig >ours &&
	minisign -V -Q -m bank -x default.minisig -p ms.pub >theirs &&
	test_cmp theirs ours && grep -q "^timestamp:[0-9]*	file:bank	hashed\$" ours
'
test_expect_success 'dz_sign_verify rejects a minisign signature of a tampered file' '
	expect_exit 65 "$tool" verify ms.pub bank.bad ms.minisig 2>err &&
	grep -q "signature does not match the data" err
'
test_expect_success 'dz_sign_verify rejects a minisign signature with a tampered trusted comment' '
	sed "3s/v1/v2/" ms.minisig >mstc.minisig &&
	expect_exit 65 "$tool" verify ms.pub bank mstc.minisig 2>err &&
	grep -q "trusted comment was tampered with" err
'
test_expect_success 'dz_sign_verify names the key ids when the key is wrong' '
	expect_exit 65 "$tool" verify dz.pub bank ms.minisig 2>err &&
	msid=$(sed -n "1s/.* //p" ms.pub) && id=$(sed -n "1s/.* //p" dz.pub) &&
	grep -q "signature was made with another key (key id $msid, expected $id)" err
'
test_expect_success 'dz_sign_verify accepts a legacy minisign -l signature, and rejects it tampered' '
	minisign -S -l -s ms.key -m bank -x legacy.minisig -t legacy </dev/null >out 2>&1 &&
	test "$(sed -n 2p legacy.minisig | base64 -d | head -c 2)" = Ed &&
	"$tool" verify ms.pub bank legacy.minisig >out &&
	echo legacy >expect && test_cmp expect out &&
	expect_exit 65 "$tool" verify ms.pub bank.bad legacy.minisig 2>err &&
	grep -q "signature does not match the data" err
'
test_expect_success 'a minisign secret key is not one of ours' '
	chmod 600 ms.key &&
	expect_exit 78 "$tool" sign ms.key bank x.minisig 2>err &&
	grep -q "signing key file is malformed" err
'

test_done
