#!/bin/bash
# The bash completion, share/bash-completion/dz, against the programs
# themselves: it offers exactly the options each --help lists (and each
# dz-export view its usage lists), each option's table in cmd/*.c has no
# option --help leaves out, an option that takes an argument completes
# that argument (file and directory names, or the words the program
# accepts) and a flag does not swallow the next word. A program that gains
# an option, an argument or a view makes this test fail until the
# completion knows it.
. "$(dirname "$0")/lib.sh"

COMPLETION=$TOP/share/bash-completion/dz
PROGS=$(cd "$TOP/cmd" && ls | sed -n 's/\.c$//p')
: >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml

# Options a program has on purpose left out of --help (and so of the
# completion): PROG:OPTION.
HIDDEN="dz-match:--brute"

# comp WORD...: what the completion offers when the last WORD is being
# completed, one per line, sorted; "compopt -o default" (file names) or
# "compopt -o dirnames" when it leaves the names to readline. The
# completion runs in this shell, under set -u as a user's shell may be.
if ! . "$COMPLETION"; then
	say "Bail out! $COMPLETION does not load"
	exit 1
fi
compopt() { echo "compopt $*"; }
comp() {
	{
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_dz "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	} | grep -v '^$' | LC_ALL=C sort
}

# help_opts PROG: "OPTION METAVAR" for each option of PROG --help ("-" for
# a flag): "-c FILE", "--config FILE", "-q -".
help_opts() {
	awk '
		/^ +-/ {
			line = $0
			n = split(line, w, " ")
			# "-c," "--config" then maybe a metavar in capitals
			for (k = 0; k < n && w[k + 1] ~ /^-/; k++)
				sub(/,$/, "", w[k + 1])
			arg = k < n && w[k + 1] ~ /^[A-Z][A-Z0-9_]*$/ ? w[k + 1] : "-"
			for (i = 1; i <= k; i++)
				print w[i], arg
		}' "help.$1" | LC_ALL=C sort -u
}

# alias_of PROG OPTION: the other name of OPTION in PROG --help (-o and
# --output), if it has one.
alias_of() {
	awk -v o="$2" '
		/^ +-[A-Za-z0-9], --/ {
			s = $1; sub(/,$/, "", s); l = $2
			if (s == o) print l
			if (l == o) print s
		}' "help.$1"
}

# src_opts PROG: the options of cmd/PROG.c: "--name required|no|optional"
# from its struct option table, "-c required|no" from its getopt strings.
src_opts() {
	sed -n 's/^[[:space:]]*{ "\([a-z0-9-]*\)", \([a-z]*\)_argument,.*/--\1 \2/p' \
		"$TOP/cmd/$1.c"
	grep -o 'getopt_long(argc, argv, "[^"]*"' "$TOP/cmd/$1.c" |
	sed 's/.*"\(.*\)"/\1/' | tr -d '+' | fold -w 1 | awk '
		$0 == ":" { arg[last] = "required"; next }
		{ last = $0; if (!($0 in arg)) arg[$0] = "no" }
		END { for (c in arg) print "-" c, arg[c] }'
}

# usage_entries PROG: each synopsis of PROG's usage, on one line.
usage_entries() {
	sed -n '1,/^$/p' "help.$1" | sed 's/^usage: //' | awk -v p="$1" '
		$1 == p { if (e != "") print e; e = $0; next }
		NF { e = e " " $0 }
		END { if (e != "") print e }'
}

# usage_views PROG: each synopsis of PROG (dz-export) as "VIEW<tab>what
# comes before it<tab>what comes after it"; the view is the first word
# outside brackets.
usage_views() {
	usage_entries "$1" | awk '{
		depth = 0; view = ""; pre = ""; post = ""
		for (i = 2; i <= NF; i++) {
			t = $i
			if (view == "" && depth == 0 && t !~ /^\[/) {
				view = t
				continue
			}
			if (view == "")
				pre = pre " " t
			else
				post = post " " t
			depth += gsub(/\[/, "[", t) - gsub(/\]/, "]", t)
		}
		print view "\t" pre "\t" post
	}'
}

# The options in a piece of usage: "[-hV] [-c config] [--state s]" gives
# -h, -V, -c, --state.
usage_opts() {
	tr ' ' '\n' | sed -n 's/^\[\{1,2\}\(-[^]|]*\).*/\1/p' | awk '
		/^--/ { print; next }
		{ for (i = 2; i <= length($0); i++) print "-" substr($0, i, 1) }'
}

test_expect_success 'each program'\''s --help' '
	for p in $PROGS; do
		$p --help >help.$p || return 1
	done
'

test_expect_success 'the completion is valid bash and registers every program' '
	bash -n "$COMPLETION" &&
	bash -c ". \"$COMPLETION\" && complete -p $(echo $PROGS)" >out &&
	test $(grep -c "^complete -F _dz " out) = $(echo $PROGS | wc -w)
'

for prog in $PROGS; do
	test_expect_success "$prog: its option table and --help list the same options" '
		help_opts $prog | awk "{ print \$1, (\$2 == \"-\" ? \"no\" : \"required\") }" |
			LC_ALL=C sort >help &&
		src_opts $prog | awk -v p=$prog -v hidden="$HIDDEN" "
			BEGIN { n = split(hidden, h, \" \"); for (i = 1; i <= n; i++) skip[h[i]] }
			!((p \":\" \$1) in skip)" | LC_ALL=C sort -u >src &&
		test_cmp help src
	'
done

# Everything but dz-export: one set of options, everywhere.
for prog in $PROGS; do
	[ $prog = dz-export ] && continue
	test_expect_success "$prog: the completion offers exactly the options of --help" '
		help_opts $prog | cut -d" " -f1 >expect &&
		comp $prog - >got &&
		test_cmp expect got &&
		comp $prog --no-such-prefix >none && ! test -s none
	'
	test_expect_success "$prog: each option's argument is completed, no more" '
		help_opts $prog >opts
		rc=0
		while read -r opt arg; do
			comp $prog "$opt" - >after
			case $arg in
			-)	# a flag: the next word is an option again
				grep -qx -- --help after ||
					{ echo "$opt: swallows the next word"; rc=1; } ;;
			FILE|F)
				echo "compopt -o default" >expect
				comp $prog "$opt" "" >got
				test_cmp expect got || { echo "$opt: no file names"; rc=1; }
				test_cmp expect after || rc=1 ;;
			DIR)
				echo "compopt -o dirnames" >expect
				comp $prog "$opt" "" >got
				test_cmp expect got || { echo "$opt: no directories"; rc=1; }
				test_cmp expect after || rc=1 ;;
			*)	# a value: never an option, never a file name
				grep -q -- "^-\|compopt" after &&
					{ echo "$opt $arg: not taken as an argument"; rc=1; }
				comp $prog "$opt" "" >got
				grep -q compopt got &&
					{ echo "$opt $arg: file names offered"; rc=1; } ;;
			esac
		done <opts
		return $rc
	'
done

# dz-export: its views, and the options of each.
test_expect_success 'dz-export: the views are those of its usage' '
	usage_views dz-export | cut -f1 | LC_ALL=C sort -u >expect &&
	comp dz-export "" >got &&
	test_cmp expect got &&
	comp dz-export -c conf.yaml "" >got2 && test_cmp expect got2
'

# In dz-export's usage, "[-hV] [-c config]" come before the view; its
# second getopt loop also takes -c and -h after it.
test_expect_success 'dz-export: before the view, the options its usage puts there' '
	usage_views dz-export | cut -f2 | usage_opts | LC_ALL=C sort -u >short &&
	for o in $(cat short); do echo $o; alias_of dz-export $o; done |
		LC_ALL=C sort -u >expect &&
	comp dz-export - >got &&
	test_cmp expect got
'

views=$(comp dz-export "")
for view in $views; do
	test_expect_success "dz-export $view: the options its usage lists, -c and -h" '
		usage_views dz-export | awk -F "\t" -v v=$view "\$1 == v" | cut -f3 |
			usage_opts >short &&
		{ echo -c; echo -h; cat short; } >short2 &&
		for o in $(cat short2); do echo $o; alias_of dz-export $o; done |
			LC_ALL=C sort -u >expect &&
		comp dz-export $view - >got &&
		test_cmp expect got
	'
done

test_expect_success 'dz-export: every option of --help is offered in some view' '
	help_opts dz-export | cut -d" " -f1 >expect &&
	{ comp dz-export -; for v in $views; do comp dz-export $v -; done; } |
		LC_ALL=C sort -u >got &&
	test_cmp expect got
'

test_expect_success 'dz-export: each option'\''s argument is completed, in each view' '
	help_opts dz-export >opts
	rc=0
	for view in "" $views; do
		for opt in $(comp dz-export $view -); do
			arg=$(awk -v o="$opt" "\$1 == o { print \$2 }" opts)
			comp dz-export $view "$opt" - >after
			comp dz-export $view "$opt" "" >got
			case $arg in
			-) grep -qx -- --help after || { echo "$view $opt: swallows"; rc=1; } ;;
			FILE) grep -qx "compopt -o default" got ||
				{ echo "$view $opt: no file names"; rc=1; } ;;
			DIR) grep -qx "compopt -o dirnames" got ||
				{ echo "$view $opt: no directories"; rc=1; } ;;
			*) ! grep -q -- "^-\|compopt" after && ! grep -q compopt got ||
				{ echo "$view $opt $arg: wrong"; rc=1; } ;;
			esac
		done
	done
	return $rc
'

test_expect_success 'dz-export media: no operand to complete, the item id is typed' '
	comp dz-export media "" >got && ! test -s got
'

# The words offered for an option: those its usage shows ("json|csv"),
# and each one accepted where a wrong one is a usage error (64).
test_expect_success 'dz-hash --format: the usage'\''s words, each accepted' '
	usage_entries dz-hash | grep -o "\[--format [^]]*\]" | head -n 1 |
		sed "s/\[--format //; s/\]//" | tr "|" "\n" | LC_ALL=C sort >expect &&
	comp dz-hash --format "" >got && test_cmp expect got &&
	for v in $(cat got); do
		expect_exit 65 dz-hash --format $v no-such-file >/dev/null 2>&1 || return 1
	done &&
	expect_exit 64 dz-hash --format bogus no-such-file 2>/dev/null &&
	comp dz-hash --format = c >got2 && echo csv >expect2 && test_cmp expect2 got2 &&
	comp dz-hash --format=c >got3 && echo --format=csv >expect3 && test_cmp expect3 got3
'

test_expect_success 'dz-export bank --since: the usage'\''s words but the number' '
	usage_entries dz-export | grep -o "\[--since [^]]*\]" |
		sed "s/\[--since //; s/\]//" | tr "|" "\n" | grep -vx seq | LC_ALL=C sort >expect &&
	comp dz-export bank --since "" >got && test_cmp expect got
'

test_expect_success 'dz-export bank --format: each word accepted, a wrong one refused' '
	comp dz-export bank --format "" >got && test -s got &&
	for v in $(cat got); do
		dz-export bank --format $v -o out.$v >/dev/null 2>err
		test $? != 64 || { cat err; return 1; }
	done &&
	expect_exit 64 dz-export bank --format bogus 2>/dev/null
'

test_expect_success 'dz-export cases|items --state: each view its states' '
	for view in cases items; do
		comp dz-export $view --state "" >got && test -s got &&
		for v in $(cat got); do
			dz-export $view --state $v >/dev/null 2>err
			test $? != 64 || { echo "$view $v"; cat err; return 1; }
		done || return 1
	done &&
	expect_exit 64 dz-export items --state open 2>/dev/null &&
	expect_exit 64 dz-export cases --state review 2>/dev/null
'

test_expect_success 'operands: file names for dz-hash, dz-match, dz-ingest; none after --' '
	echo "compopt -o default" >expect &&
	for p in dz-hash dz-match dz-ingest; do
		comp $p "" >got && test_cmp expect got || return 1
	done &&
	comp dz-hash -- -x >got && test_cmp expect got &&
	comp dz-hash -j 4 "" >got && test_cmp expect got &&
	comp dz-match -b bank.dzb -t 10 -b = x "" >got && test_cmp expect got
'

test_expect_success 'no operand: dz-notify and dz-purge offer their options' '
	comp dz-notify "" >got && grep -qx -- --dry-run got &&
	comp dz-purge -q "" >got && grep -qx -- --spool got
'

test_done
