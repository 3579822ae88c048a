#!/bin/bash
# dz-match --hashes: hashes matched against a signed bank, checked against
# the brute-force oracle at every planted distance 0..32, in every bank
# format; hash records, bare hashes, pass-through, error records, the
# quality floor, -j, and the exit codes.
. "$(dirname "$0")/lib.sh"

export XDG_STATE_HOME=$TRASH/xdg
: >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml

test_expect_success 'unit test t/unit/test-match passes' '
	"$TOP/t/unit/test-match" >unit.out 2>&1 || { grep -v "^ok" unit.out; false; }
'

if ! command -v minisign >/dev/null 2>&1; then
	say "Bail out! minisign is not installed (run scripts/deps)"
	exit 1
fi

# sign BANK [COMMENT_FROM [SECKEY]]: a minisign signature with the bank's
# metadata.
sign() {
	minisign -S -s "${3:-sec}" -m "$1" -t "$(test-bank-tool comment "${2:-$1}")" >/dev/null
}

test_expect_success 'setup: a key, a bank of 5000 hashes with planted matches, signed' '
	minisign -G -W -p pub -s sec >/dev/null &&
	test-bank-tool plant --seed 1 --n 5000 b.dzb >q.txt &&
	test $(wc -l <q.txt) = 34 &&
	sign b.dzb && test -s b.dzb.minisig
'

test_expect_success 'planted distances 0..32: matched exactly up to 31' '
	dz-match -p pub --no-state --bank b.dzb --hashes q.txt >out &&
	jq -r "select(.line <= 33) | \"\(.line) \(.distance)\"" out >got &&
	for k in $(seq 1 32); do echo "$k $((k - 1))"; done >expect &&
	test_cmp expect got &&
	jq -r "select(.line == 34) | .distance" out | sort -n >got &&
	seq 0 31 >expect && test_cmp expect got
'

test_expect_success 'a match record has every field, "type" first' '
	head -1 out >first &&
	jq -e "(keys_unsorted == [\"type\",\"file\",\"line\",\"entry\",\"signal\",\"distance\",\"category\",\"bank\",\"bank_seq\",\"quality\"]) and
		.type == \"match\" and .file == \"q.txt\" and .line == 1 and .distance == 0 and
		(.entry | test(\"^[0-9a-f]{32}$\")) and .signal == \"pdq\" and
		.category == \"adult_ncii\" and .bank == \"b.dzb\" and
		.bank_seq == 1 and .quality == 100" first
'

test_expect_success 'for one input: matches in bank entry order' '
	jq -r "select(.line == 34) | .entry" out >got && sort got >sorted &&
	test_cmp sorted got
'

# More queries: 300 random hashes near random planted ones.
test_expect_success 'setup: queries at random distances from the planted hashes' '
	: >q2.txt &&
	for s in $(seq 1 300); do
		h=$(sed -n "$((s % 34 + 1))p" q.txt | cut -d, -f1) &&
		test-bank-tool near "$h" $((s % 45)) --seed $s >>q2.txt || return 1
	done &&
	cat q.txt >>q2.txt && test $(wc -l <q2.txt) = 334
'

for t in 0 10 31 32 64; do
	test_expect_success "threshold $t: the index finds what brute force finds" '
		dz-match -p pub --no-state -t '$t' --bank b.dzb --hashes q2.txt >idx;
		rc1=$?
		dz-match -p pub --no-state -t '$t' --bank b.dzb --hashes --brute q2.txt >brute;
		rc2=$?
		test $rc1 = $rc2 && test_cmp brute idx &&
		test -s idx &&
		jq -e "select(.distance > '$t')" idx >over; test ! -s over
	'
done

test_expect_success 'setup: a bank of a second issuer, and the bank in JSON Lines and CSV' '
	minisign -G -W -p pub2 -s sec2 >/dev/null &&
	test-bank-tool plant --seed 2 --n 3000 c.dzb >qc.txt &&
	sign c.dzb c.dzb sec2 &&
	test-bank-tool convert b.dzb b.jsonl jsonl && sign b.jsonl &&
	test-bank-tool convert b.dzb b.csv csv && sign b.csv b.dzb &&
	head -1 b.csv >hdr && echo signal_type,signal_str,collab,category,tags >expect &&
	test_cmp expect hdr
'

test_expect_success 'per-bank thresholds: -t applies to the banks after it' '
	cat q2.txt qc.txt >q3.txt &&
	dz-match -p pub -p pub2 --no-state -t 10 --bank b.dzb -t 25 --bank c.dzb --hashes q3.txt >idx &&
	dz-match -p pub -p pub2 --no-state -t 10 --bank b.dzb -t 25 --bank c.dzb --hashes --brute q3.txt >brute &&
	test_cmp brute idx &&
	jq -r "select(.bank == \"b.dzb\") | .distance" idx | sort -n | tail -1 >maxb &&
	jq -r "select(.bank == \"c.dzb\") | .distance" idx | sort -n | tail -1 >maxc &&
	echo 10 >expect && test_cmp expect maxb &&
	echo 25 >expect && test_cmp expect maxc
'

test_expect_success 'several banks: for one input, bank order as given, then entry order' '
	h0=$(sed -n 1p q.txt | cut -d, -f1) &&
	{ echo "+ ffffffffffffffffffffffffffffffff $h0 100 minor" &&
	  echo "+ 00000000000000000000000000000001 $(test-bank-tool near $h0 3 --seed 1) 90 other"; } >x.spec &&
	test-bank-tool build --format jsonl x.jsonl <x.spec && sign x.jsonl x.jsonl sec2 &&
	echo "$h0" >one.txt &&
	dz-match -p pub -p pub2 --no-state --bank x.jsonl --bank b.dzb --hashes one.txt >out &&
	jq -c "[.bank, .distance, .category]" out >got &&
	printf "%s\n" "[\"x.jsonl\",3,\"other\"]" "[\"x.jsonl\",0,\"minor\"]" \
		"[\"b.dzb\",0,\"adult_ncii\"]" >expect &&
	test_cmp expect got
'

test_expect_success 'two banks of one issuer that do not chain are refused' '
	expect_exit 65 dz-match -p pub -p pub2 --no-state --bank x.jsonl --bank c.dzb --hashes one.txt >out 2>err &&
	grep -q "^dz-match: cannot load bank .c.dzb.: export 1 was given twice$" err
'

test_expect_success 'the three formats give the same matches' '
	for f in dzb jsonl csv; do
		dz-match -p pub --no-state --bank b.$f --hashes q2.txt >out.$f || return 1
		jq -c "del(.bank)" out.$f >cmp.$f || return 1
	done &&
	test_cmp cmp.dzb cmp.jsonl && test_cmp cmp.dzb cmp.csv &&
	jq -e "select(.bank == \"b.csv\") | .bank_seq == 1" out.csv >/dev/null
'

test_expect_success 'a bank signed by lib/crypto/sign (test-sign-tool) is accepted too' '
	test-sign-tool keygen dz.key dz.pub &&
	cp b.dzb ours.dzb &&
	test-sign-tool sign dz.key ours.dzb ours.dzb.minisig "$(test-bank-tool comment ours.dzb)" &&
	dz-match -p dz.pub --no-state --bank ours.dzb --hashes q.txt >out &&
	test $(wc -l <out) = 64 &&
	minisign -Vm ours.dzb -p dz.pub >/dev/null
'

test_expect_success 'the key can come from match.public_key' '
	printf "match:\n  public_key: %s\n" "$TRASH/pub" >key.yaml &&
	dz-match -c key.yaml --no-state --bank b.dzb --hashes q.txt >out &&
	test $(wc -l <out) = 64
'

h0=$(sed -n 1p q.txt | cut -d, -f1)
h5=$(sed -n 6p q.txt | cut -d, -f1)
far=$(test-bank-tool random-hash --seed 999)

cat >note.jsonl <<'EOF'
{"type":"note","text":"caf\u00e9 \"q\" ☺","n":[1,{"a":null}]}
EOF

test_expect_success '--hashes: records of other types pass through unchanged' '
	cat note.jsonl >in.jsonl &&
	printf "%s\n" "{\"type\":\"hash\",\"path\":\"a.jpg\",\"pdq\":\"$h0\",\"quality\":90,\"md5\":\"x\"}" \
		"{\"type\":\"error\",\"program\":\"dz-hash\",\"path\":\"z.png\",\"reason\":\"truncated PNG data\"}" \
		"{\"type\":\"hash\",\"path\":\"v.mp4\",\"md5\":\"y\"}" >>in.jsonl &&
	dz-match -p pub --no-state --bank b.dzb --hashes in.jsonl >out &&
	test $(wc -l <out) = 4 &&
	sed -n 1p in.jsonl | jq -c . >expect && sed -n 1p out | jq -c . >got && test_cmp expect got &&
	sed -n 3,4p in.jsonl >expect && sed -n 3,4p out >got && test_cmp expect got &&
	sed -n 2p out | jq -e ".type == \"match\" and .path == \"a.jpg\" and .quality == 90 and .distance == 0"
'

test_expect_success '--hashes: a record path that is not UTF-8 keeps its path_hex' '
	echo "{\"type\":\"hash\",\"path\":\"caf\ufffd.jpg\",\"path_hex\":\"636166e92e6a7067\",\"pdq\":\"$h0\",\"quality\":90}" >in.jsonl &&
	dz-match -p pub --no-state --bank b.dzb --hashes in.jsonl >out &&
	jq -e "(keys_unsorted[0:3] == [\"type\",\"path\",\"path_hex\"]) and .path_hex == \"636166e92e6a7067\"" out
'

test_expect_success '--hashes: bare hashes, with a quality and a file name' '
	printf "%s\n" "$h0" "$h5,77" "$h0,100,dir/a, b.jpg" "$far" >in.txt &&
	dz-match -p pub --no-state --bank b.dzb --hashes <in.txt >out &&
	test $(wc -l <out) = 3 &&
	sed -n 1p out | jq -e ".line == 1 and (has(\"quality\") | not)" &&
	sed -n 2p out | jq -e ".line == 2 and .quality == 77 and .distance == 5" &&
	sed -n 3p out | jq -e ".path == \"dir/a, b.jpg\" and (has(\"line\") | not)"
'

test_expect_success '--hashes: CRLF lines are read too' '
	printf "%s\r\n" "$h0" "$h5" >crlf.txt &&
	dz-match -p pub --no-state --bank b.dzb --hashes crlf.txt >out &&
	test $(wc -l <out) = 2
'

test_expect_success 'bad lines become error records with their line number; exit 65' '
	printf "%s\n" "$h0" "{\"type\":" "not a hash" \
		"{\"type\":\"hash\",\"pdq\":\"xyz\",\"quality\":50}" \
		"{\"type\":\"hash\",\"pdq\":\"$h5\"}" "$h5,101" "" "$h5" >in.txt &&
	expect_exit 65 dz-match -p pub --no-state --bank b.dzb --hashes in.txt >out 2>err &&
	jq -c "select(.type == \"error\") | [.line, .program]" out >got &&
	printf "%s\n" "[2,\"dz-match\"]" "[3,\"dz-match\"]" "[4,\"dz-match\"]" \
		"[5,\"dz-match\"]" "[6,\"dz-match\"]" >expect &&
	test_cmp expect got &&
	jq -r "select(.type == \"match\") | .line" out >got &&
	printf "1\n8\n" >expect && test_cmp expect got &&
	sed -n 4p out | jq -e ".reason == \"malformed pdq\" and .record.pdq == \"xyz\"" &&
	grep -q "^dz-match: .in.txt.: line 3: not a hash record nor a PDQ hash$" err &&
	test $(wc -l <err) = 5
'

test_expect_success 'an error reason never quotes the input' '
	printf "%s\n" "secret-name-here" "{\"type\":\"hash\",\"pdq\":\"secret\",\"quality\":1}" >in.txt &&
	expect_exit 65 dz-match -p pub --no-state --bank b.dzb --hashes in.txt >out 2>err &&
	jq -r .reason out >reasons && ! grep -q secret reasons && ! grep -q secret err
'

test_expect_success 'an over-long line is an error record, and the next line is read' '
	{ head -c 17000000 /dev/zero | tr "\0" a; echo; echo "$h0"; } >long.txt &&
	expect_exit 65 dz-match -p pub --no-state --bank b.dzb --hashes long.txt >out 2>err &&
	jq -se "length == 2 and .[0].type == \"error\" and .[0].line == 1 and
		(.[0].reason | test(\"too long\")) and .[1].type == \"match\" and .[1].line == 2" out &&
	grep -q "^dz-match: .long.txt.: line 1: too long" err
'

test_expect_success 'inputs below the quality floor are not matched; -v says so' '
	printf "%s\n" "$h0,49" "$h5,50" >in.txt &&
	dz-match -p pub --no-state --bank b.dzb --hashes in.txt >out 2>err &&
	jq -r .line out >got && echo 2 >expect && test_cmp expect got &&
	! test -s err &&
	dz-match -v -p pub --no-state --bank b.dzb --hashes in.txt >out 2>err &&
	grep -q "^dz-match: line 1: quality 49 is below 50: not matched$" err &&
	grep -q "^dz-match: 1 input below quality 50 was not matched$" err
'

test_expect_success '--min-quality and match.min_quality set the floor' '
	printf "%s\n" "$h0,30" >in.txt &&
	expect_exit 1 dz-match -p pub --no-state --bank b.dzb --hashes in.txt >out &&
	! test -s out &&
	dz-match -p pub --no-state --min-quality 30 --bank b.dzb --hashes in.txt >out &&
	test $(wc -l <out) = 1 &&
	printf "match:\n  min_quality: 20\n" >q.yaml &&
	dz-match -c q.yaml -p pub --no-state --bank b.dzb --hashes in.txt >out &&
	test $(wc -l <out) = 1
'

test_expect_success 'match.pdq_threshold is the default threshold' '
	printf "match:\n  pdq_threshold: 4\n" >t.yaml &&
	dz-match -c t.yaml -p pub --no-state --bank b.dzb --hashes q.txt >out &&
	jq -r "select(.line <= 33) | .distance" out >got &&
	seq 0 4 >expect && test_cmp expect got
'

test_expect_success '--dihedral matches through the pdq_dihedral of a hash record' '
	echo "{\"type\":\"hash\",\"path\":\"r.jpg\",\"pdq\":\"$far\",\"quality\":100,\"pdq_dihedral\":{\"orig\":\"$far\",\"rot90\":\"$far\",\"rot180\":\"$h5\",\"rot270\":\"$far\",\"flipx\":\"$h0\",\"flipy\":\"$far\",\"flipplus1\":\"$far\",\"flipminus1\":\"$h0\"}}" >in.jsonl &&
	expect_exit 1 dz-match -p pub --no-state --bank b.dzb --hashes in.jsonl >out &&
	! test -s out &&
	dz-match -p pub --no-state --dihedral --bank b.dzb --hashes in.jsonl >out &&
	jq -c "[.path, .distance, .transform]" out >got &&
	printf "%s\n" "[\"r.jpg\",0,\"flipx\"]" "[\"r.jpg\",5,\"rot180\"]" >expect0 &&
	sort got >g && sort expect0 >e && test_cmp e g
'

test_expect_success '-j 2 writes the same output as -j 1' '
	for i in 1 2 3 4 5 6; do cat q2.txt; done >big.txt &&
	echo "{\"type\":\"note\"}" >>big.txt && echo junk >>big.txt && cat q.txt >>big.txt &&
	for j in 1 2 7; do
		expect_exit 65 dz-match -p pub -p pub2 --no-state --bank b.dzb --bank c.dzb \
			--hashes -j $j big.txt >j$j 2>/dev/null || return 1
	done &&
	test_cmp j1 j2 && test_cmp j1 j7 && test $(wc -l <j1) -gt 300
'

test_expect_success 'exit 0 when something matched, 1 when nothing did' '
	echo "$h0" >m.txt && echo "$far" >n.txt &&
	expect_exit 0 dz-match -p pub --no-state --bank b.dzb --hashes m.txt >out &&
	expect_exit 1 dz-match -p pub --no-state --bank b.dzb --hashes n.txt >out &&
	! test -s out &&
	expect_exit 1 dz-match -p pub --no-state --bank b.dzb --hashes </dev/null >out
'

test_expect_success 'a file of hashes that cannot be opened: exit 66, the others still read' '
	expect_exit 66 dz-match -p pub --no-state --bank b.dzb --hashes nosuch.txt m.txt >out 2>err &&
	grep -q "cannot open .nosuch.txt." err && test $(wc -l <out) = 1
'

test_expect_success 'a directory as a file of hashes: exit 66, said why' '
	mkdir -p adir &&
	expect_exit 66 dz-match -p pub --no-state --bank b.dzb --hashes adir m.txt >out 2>err &&
	grep -q "cannot open .adir.: Is a directory" err && test $(wc -l <out) = 1
'

test_expect_success 'two files of hashes: each record names its file and line' '
	head -1 q.txt >one.txt && head -1 q.txt >two.txt &&
	dz-match -p pub --no-state --bank b.dzb --hashes one.txt two.txt >out &&
	jq -r "[.file, .line] | @tsv" out >got &&
	printf "one.txt\t1\ntwo.txt\t1\n" >expect && test_cmp expect got &&
	head -1 q.txt | dz-match -p pub --no-state --bank b.dzb --hashes >out &&
	jq -e "has(\"file\") | not" out
'

test_expect_success 'a file name with control characters is shown without them' '
	name=$(printf "esc\033[31mred\ttab") && echo "not a hash" >"$name" &&
	expect_exit 65 dz-match -p pub --no-state --bank b.dzb --hashes "$name" >out 2>err &&
	! grep -q "$(printf "\033")" err && grep -q "esc?\[31mred?tab" err &&
	jq -e ".file | (startswith(\"esc\") and endswith(\"tab\") and length == 15)" out
'

test_expect_success 'output to a full device: exit 74' '
	expect_exit 74 dz-match -p pub --no-state --bank b.dzb --hashes q.txt >/dev/full 2>err &&
	grep -q "cannot write output" err
'

test_expect_success '-h prints the usage on stdout and exits 0' '
	dz-match -h >out && grep -q "^usage: dz-match" out && grep -q -- "--verify-only" out
'

for args in "--hashes" "-t 10 --bank b.dzb -t 20 --hashes" "-t x --bank b.dzb" \
	"-t 257 --bank b.dzb" "--min-quality 101 --bank b.dzb" "--bank b.dzb --nope" \
	"--bank b.dzb -0 --hashes" "--bank b.dzb --state s --no-state" \
	"--bank b.dzb --verify-only x.jpg" "--bank b.dzb -j 0" "--bank b.dzb -0 x.jpg"; do
	test_expect_success "usage error: dz-match $args" '
		expect_exit 64 dz-match -p pub --no-state '"$args"' </dev/null >out 2>err &&
		grep -q "usage: dz-match" err && ! test -s out
	'
done

test_done
