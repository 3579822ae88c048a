#!/bin/bash
# scripts/match-parallel: dz-match --hashes over GNU parallel --pipe gives
# the matches of a single dz-match, in the same order, over a few hundred
# records split into many blocks; and its exit status is dz-match's: 1
# when nothing matched, a failed worker's status when one failed (a bad
# line, a signal), the bank's when it is refused, 64 on misuse.
. "$(dirname "$0")/lib.sh"

MP=$TOP/scripts/match-parallel
export XDG_STATE_HOME=$TRASH/xdg
: >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml

for tool in parallel minisign; do
	if ! command -v $tool >/dev/null 2>&1; then
		say "Bail out! $tool is not installed (run scripts/deps)"
		exit 1
	fi
done

# gen.awk: n hash records, a third of them random, the others at a
# distance 0..39 of a planted hash (from test-bank-tool plant); seeded.
cat >gen.awk <<'EOF'
function hexrand(   i, x) {
	x = ""
	for (i = 0; i < 64; i++)
		x = x substr(H, int(rand() * 16) + 1, 1)
	return x
}
function near(h, d,   i, b, p, k, v, used) {	# h with d distinct bits flipped
	split("", used)
	for (i = 0; i < d; i++) {
		do b = int(rand() * 256); while (b in used)
		used[b] = 1
		p = int(b / 4) + 1; k = 2 ^ (b % 4)
		v = index(H, substr(h, p, 1)) - 1
		v = int(v / k) % 2 ? v - k : v + k
		h = substr(h, 1, p - 1) substr(H, v + 1, 1) substr(h, p + 1)
	}
	return h
}
BEGIN { H = "0123456789abcdef" }
{ q[NR] = $1 }
END {
	for (s = 1; s <= n; s++) {
		srand(s)
		h = s % 3 == 0 ? hexrand() : near(q[s % 34 + 1], s % 40)
		printf "{\"type\":\"hash\",\"path\":\"upload-%03d.jpg\",\"pdq\":\"%s\",\"quality\":90}\n", s, h
	}
}
EOF

test_expect_success 'setup: a signed bank of 5000 hashes, 400 hash records near and far' '
	minisign -G -W -p pub -s sec >/dev/null &&
	test-bank-tool plant --seed 1 --n 5000 b.dzb >q.txt &&
	minisign -S -s sec -m b.dzb -t "$(test-bank-tool comment b.dzb)" >/dev/null &&
	awk -F, -v n=400 -f gen.awk q.txt >hashes.jsonl &&
	test $(wc -l <hashes.jsonl) = 400 && test $(wc -c <hashes.jsonl) -gt 40000
'

test_expect_success 'one dz-match: the reference' '
	expect_exit 0 dz-match -p pub --state st1 --hashes --bank b.dzb hashes.jsonl >single &&
	test $(jq -s length single) -gt 100
'

# A dz-match that counts its runs, and one that dies by SIGKILL on a block
# that holds upload-150.
cat >count-dz-match <<EOF
#!/bin/sh
case "\$*" in *--verify-only*) ;; *) echo x >>"$TRASH/workers" ;; esac
exec "$TOP/cmd/dz-match" "\$@"
EOF
cat >kill-dz-match <<EOF
#!/bin/bash
case "\$*" in *--verify-only*) exec "$TOP/cmd/dz-match" "\$@" ;; esac
in=\$(cat)
case \$in in *upload-150.jpg*) kill -9 \$\$ ;; esac
printf "%s\n" "\$in" | exec "$TOP/cmd/dz-match" "\$@"
EOF
chmod +x count-dz-match kill-dz-match
mkdir wrap wrapk
ln -s ../count-dz-match wrap/dz-match
ln -s ../kill-dz-match wrapk/dz-match

test_expect_success 'in parallel over blocks of 4k: the same matches, in the same order' '
	: >workers &&
	PATH=$TRASH/wrap:$PATH expect_exit 0 "$MP" -j 4 --block 4k -p pub --state st2 b.dzb \
		<hashes.jsonl >par 2>err &&
	! test -s err &&
	sort single >s1 && sort par >s2 && test_cmp s1 s2 &&
	test_cmp single par
'

test_expect_success 'the input was split among many workers' '
	test $(wc -l <workers) -ge 10
'

test_expect_success 'options and a bank name with a space reach every worker' '
	cp b.dzb "b 2.dzb" && cp b.dzb.minisig "b 2.dzb.minisig" &&
	expect_exit 0 dz-match -p pub --state st1 --hashes -t 10 --bank "b 2.dzb" \
		hashes.jsonl >single10 &&
	expect_exit 0 "$MP" --block 16k -p pub --state st2 -t 10 "b 2.dzb" <hashes.jsonl >par10 &&
	test_cmp single10 par10 &&
	jq -e "select(.distance > 10)" par10 >over; test ! -s over
'

test_expect_success 'nothing matched: exit 1, no output' '
	for s in $(seq 1 30); do
		printf "{\"type\":\"hash\",\"path\":\"r%s\",\"pdq\":\"%s\",\"quality\":90}\n" \
			$s "$(test-bank-tool random-hash --seed 90$s)" || return 1
	done >none.jsonl &&
	expect_exit 1 dz-match -p pub --state st1 --hashes --bank b.dzb none.jsonl >o1 &&
	expect_exit 1 "$MP" --block 1k -p pub --state st2 b.dzb <none.jsonl >o2 &&
	! test -s o1 && ! test -s o2
'

test_expect_success 'empty input: exit 1' '
	expect_exit 1 "$MP" -p pub --state st2 b.dzb </dev/null >o &&
	! test -s o
'

test_expect_success 'a bad line in one block: that worker exits 65, so does the script' '
	{ head -n 200 hashes.jsonl; echo "not a record"; tail -n 200 hashes.jsonl; } >bad.jsonl &&
	expect_exit 65 dz-match -p pub --state st1 --hashes --bank b.dzb bad.jsonl >sb 2>/dev/null &&
	expect_exit 65 "$MP" --block 16k -p pub --state st2 b.dzb <bad.jsonl >pb 2>err &&
	grep -q "exited 65" err &&
	jq -c "select(.type == \"match\")" sb >m1 && jq -c "select(.type == \"match\")" pb >m2 &&
	test_cmp m1 m2 && test $(jq -s "[.[] | select(.type == \"error\")] | length" pb) = 1
'

test_expect_success 'a worker killed by a signal: the script fails' '
	PATH=$TRASH/wrapk:$PATH must_fail "$MP" -j 2 --block 16k -p pub --state st2 b.dzb \
		<hashes.jsonl >pk 2>err &&
	grep -q "killed by signal 9" err
'

test_expect_success 'a bank refused (wrong key): 65 before any worker starts' '
	minisign -G -W -p pub3 -s sec3 >/dev/null &&
	: >workers &&
	PATH=$TRASH/wrap:$PATH expect_exit 65 "$MP" -p pub3 --state st3 b.dzb \
		<hashes.jsonl >o 2>err &&
	! test -s o && test -s err && ! test -s workers
'

test_expect_success 'a bank that does not exist: 66' '
	expect_exit 66 "$MP" -p pub --state st2 nosuch.dzb <hashes.jsonl >o 2>err &&
	! test -s o
'

test_expect_success 'misuse: 64; -h: 0' '
	expect_exit 64 "$MP" -p pub <hashes.jsonl 2>err && grep -q "^usage:" err &&
	expect_exit 64 "$MP" --frobnicate b.dzb <hashes.jsonl 2>err &&
	expect_exit 64 "$MP" -j x b.dzb <hashes.jsonl 2>err &&
	expect_exit 0 "$MP" -h >out && grep -q "^usage:" out
'

test_done
