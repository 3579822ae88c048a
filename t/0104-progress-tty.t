#!/bin/bash
# The progress line of dz-hash and dz-match, end to end: on a terminal
# (a pty from script(1), whose output is captured) it shows done/total,
# errors and rate, is redrawn in place with "\r" at most four times a
# second, is erased before a diagnostic and ends with a newline; it is
# not there when standard error is a file or a pipe, when standard output
# is the terminal too, with --no-progress or with -q. lib/core/progress's own
# unit test is t/0013.
. "$(dirname "$0")/lib.sh"

export XDG_STATE_HOME=$TRASH/xdg
: >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml
unset DZ_PROGRESS_FORCE

if ! command -v script >/dev/null 2>&1 || ! command -v convert >/dev/null 2>&1; then
	say "Bail out! script (util-linux) or ImageMagick is not installed (run scripts/deps)"
	exit 1
fi
if ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	say "1..0 # skip script(1) cannot open a pseudo-terminal here"
	exit 0
fi

# on_tty CMD: run the shell command CMD with its standard streams on a
# pty; what the pty showed goes to standard output, CMD's exit status is
# script's.
on_tty() {
	script -qec "$1" /dev/null </dev/null
}

# draws FILE: the lines drawn, one per line: FILE cut at each "\r" or
# "\n", the empty pieces dropped.
draws() {
	tr '\r' '\n' <"$1" | grep -v '^ *$'
}

test_expect_success 'setup: synthetic images, a file that is not one' '
	convert -seed 1 -size 96x96 plasma: -blur 0x2 a.png &&
	convert -seed 2 -size 96x96 plasma: -blur 0x2 b.png &&
	convert -seed 3 -size 96x96 plasma: -blur 0x2 c.png &&
	echo "not an image" >junk.png &&
	mkdir many &&
	convert -seed 4 -size 1024x768 plasma: -blur 0x3 -quality 85 big.jpg &&
	for i in $(seq -w 1 400); do ln big.jpg many/$i.jpg || return 1; done
'

# --- dz-hash on a terminal ---------------------------------------------

test_expect_success 'dz-hash, stderr a terminal: done/total, errors, a final line' '
	expect_exit 65 on_tty "dz-hash a.png junk.png b.png c.png >out" >tty &&
	draws tty >lines &&
	grep -q "^dz-hash: [0-9]/4 files" lines &&
	tail -n 1 lines | grep -Eq "^dz-hash: 4/4 files, 1 error(, [0-9.]+/s)?$" &&
	test $(jq -s length out) = 4 &&
	test $(jq -s "map(select(.type == \"error\")) | length" out) = 1
'

test_expect_success 'dz-hash: every draw starts with "\r", the run ends with a newline' '
	perl -0ne "
		s/^\r//;			# the first draw
		for (split /\r/) {
			next if /^ *\$/;	# an erased line
			exit 1 unless /^dz-hash: / || /^\n/;
		}
		exit 1 unless /\n\z/ && !/\e/;
	" tty
'

test_expect_success 'dz-hash: the line is erased before a diagnostic, which stands alone' '
	perl -0ne "exit !/\r *\rdz-hash: cannot hash .junk\.png.: [^\r\n]*\r?\n/" tty &&
	! grep -a "files.*cannot\|cannot.*files" lines &&
	test $(grep -c "^dz-hash: cannot hash" lines) = 1
'

test_expect_success 'dz-hash: the records on stdout hold no progress' '
	! grep -q "files" out && ! grep -q "$(printf "\r")" out
'

test_expect_success 'dz-hash: names on stdin: the total is not known, not shown' '
	printf "a.png\nb.png\n" >list &&
	on_tty "dz-hash <list >out" >tty2 &&
	draws tty2 >lines2 &&
	tail -n 1 lines2 | grep -Eq "^dz-hash: 2 files(, [0-9.]+/s)?$" &&
	! grep -q "/2 files" lines2
'

# 400 files in a second or two: a draw when the line is first drawn, one
# every quarter second, and the last.
test_expect_success 'dz-hash: at most four draws a second' '
	start=$(date +%s.%N) &&
	on_tty "dz-hash --exact -j 1 many/*.jpg >out" >tty3 &&
	end=$(date +%s.%N) &&
	test $(wc -l <out) = 400 &&
	n=$(grep -o "dz-hash: " tty3 | wc -l) &&
	max=$(echo "($end - $start) * 4 + 2" | bc) &&
	echo "draws: $n, at most $max" &&
	test $n -le ${max%.*} && test $n -lt 100 &&
	draws tty3 | tail -n 1 | grep -Eq "^dz-hash: 400/400 files, [0-9.]+/s$"
'

test_expect_success 'dz-hash: the line is cut to the width of the terminal' '
	on_tty "stty cols 20; dz-hash a.png b.png junk.png >out" >tty4;
	draws tty4 | grep "^dz-hash: [0-9]" >lines4 &&
	test -s lines4 &&
	awk "length > 19 { exit 1 }" lines4 &&
	tail -n 1 lines4 | grep -qx "dz-hash: 3/3 files"
'

test_expect_success 'dz-hash: stdout the terminal too: no progress line' '
	on_tty "dz-hash a.png b.png" >tty5 &&
	draws tty5 >lines5 &&
	test $(grep -c "^{\"type\":\"hash\"" lines5) = 2 &&
	! grep -q "files" lines5
'

test_expect_success 'dz-hash --progress: shown even with stdout the terminal' '
	on_tty "dz-hash --progress a.png b.png" >tty6 &&
	grep -q "dz-hash: 2/2 files" tty6
'

test_expect_success 'dz-hash --no-progress on a terminal: only the diagnostic' '
	expect_exit 65 on_tty "dz-hash --no-progress a.png junk.png >out" >tty7 &&
	draws tty7 >lines7 &&
	grep -q "^dz-hash: cannot hash .junk.png." lines7 &&
	test $(wc -l <lines7) = 1
'

test_expect_success 'dz-hash -q on a terminal: nothing; -q --progress: the line only' '
	expect_exit 65 on_tty "dz-hash -q a.png junk.png >out" >tty8 &&
	! test -s tty8 &&
	expect_exit 65 on_tty "dz-hash -q --progress a.png junk.png >out" >tty9 &&
	draws tty9 >lines9 &&
	tail -n 1 lines9 | grep -Eq "^dz-hash: 2/2 files, 1 error" &&
	! grep -q "cannot" lines9
'

# --- dz-hash without a terminal ---------------------------------------

test_expect_success 'dz-hash, stderr a file: the diagnostic only, no "\r"' '
	expect_exit 65 dz-hash a.png junk.png b.png >out 2>err &&
	test $(wc -l <err) = 1 &&
	grep -q "^dz-hash: cannot hash .junk.png.: " err &&
	! grep -q "$(printf "\r")" err && ! grep -q "files" err
'

test_expect_success 'dz-hash, stderr a pipe: the same' '
	{ dz-hash a.png junk.png b.png 2>&1 >out; echo $? >rc; } | cat >err &&
	test "$(cat rc)" = 65 &&
	test $(wc -l <err) = 1 && ! grep -q "files" err
'

test_expect_success 'dz-hash, stderr /dev/null, stdout a pipe: runs, nothing drawn' '
	{ dz-hash a.png b.png 2>/dev/null; echo $? >rc; } | cat >out &&
	test "$(cat rc)" = 0 && test $(wc -l <out) = 2
'

# --- dz-match ------------------------------------------------------------

test_expect_success 'setup: a bank of a.png and b.png' '
	dz-hash a.png b.png >hashes.jsonl &&
	jq -r "\"+ auto \(.pdq) \(.quality) adult_ncii\"" hashes.jsonl >bank.spec &&
	test-bank-tool build --seed 5 bank.dzb <bank.spec
'

M="dz-match --insecure --no-state --bank bank.dzb"

test_expect_success 'dz-match, stderr a terminal: inputs done/total, matches, errors' '
	expect_exit 65 on_tty "$M a.png junk.png b.png c.png >out" >mtty &&
	draws mtty >mlines &&
	tail -n 1 mlines |
		grep -Eq "^dz-match: 4/4 inputs, 2 matches, 1 error(, [0-9.]+/s)?$" &&
	perl -0ne "exit !/\r *\rdz-match: cannot match .junk\.png.: [^\r\n]*\r?\n/" mtty &&
	! grep -a "inputs.*cannot\|cannot.*inputs" mlines &&
	test $(jq -s "map(select(.type == \"match\")) | length" out) = 2
'

test_expect_success 'dz-match --hashes from stdin: no total' '
	on_tty "$M --hashes <hashes.jsonl >out" >mtty2 &&
	draws mtty2 | tail -n 1 |
		grep -Eq "^dz-match: 2 inputs, 2 matches(, [0-9.]+/s)?$"
'

test_expect_success 'dz-match: stdout the terminal, --no-progress, -q: no line' '
	on_tty "$M a.png" >mtty3 && ! grep -q "inputs" mtty3 &&
	on_tty "$M --no-progress a.png >out" >mtty4 && ! grep -q "inputs" mtty4 &&
	expect_exit 65 on_tty "$M -q a.png junk.png >out" >mtty5 &&
	! grep -q "inputs\|cannot" mtty5
'

test_expect_success 'dz-match, stderr a file or a pipe: the diagnostic only' '
	expect_exit 65 $M a.png junk.png >out 2>err &&
	! grep -q "inputs" err && grep -q "^dz-match: cannot match .junk.png." err &&
	! grep -q "$(printf "\r")" err &&
	{ $M a.png junk.png 2>&1 >out; echo $? >rc; } | cat >err2 &&
	test "$(cat rc)" = 65 && test_cmp err err2
'

test_done
