#!/bin/bash
# The manual pages: mandoc finds nothing to warn about, each page has the
# sections its manual section needs, every program has a page, and each
# program's usage says what its SYNOPSIS says.
. "$(dirname "$0")/lib.sh"

MAN=$TOP/man
pages=$(cd "$MAN" && ls | grep -E '\.[1-9]$')

test_expect_success 'man/ holds manual pages' '
	test -n "$pages"
'

# Every page: lint clean at level warning and above.
if command -v mandoc >/dev/null 2>&1; then
	for page in $pages; do
		test_expect_success "$page: mandoc -Tlint -W warning is clean" '
			mandoc -Tlint -W warning "$MAN/$page" >lint.out 2>&1
			rc=$?
			cat lint.out
			test $rc = 0 && ! test -s lint.out
		'
	done
else
	for page in $pages; do
		skip "$page: mandoc is not installed (make deps)"
	done
fi

# The sections a page needs, by manual section.
has_section() {
	if ! grep -qx "\.Sh $2" "$MAN/$1"; then
		echo "$1: no $2 section"
		return 1
	fi
}

for page in $pages; do
	test_expect_success "$page: has the sections its manual section needs" '
		sec=${page##*.}
		rc=0
		has_section "$page" NAME || rc=1
		has_section "$page" DESCRIPTION || rc=1
		if [ "$sec" = 1 ]; then
			has_section "$page" SYNOPSIS || rc=1
			has_section "$page" "EXIT STATUS" || rc=1
		fi
		case $sec in 1|7)
			has_section "$page" EXAMPLES || rc=1
		esac
		return $rc
	'
done

# Every program in cmd/ has its page in section 1.
progs=$(cd "$TOP/cmd" 2>/dev/null && ls | sed -n 's/\.c$//p')
for prog in $progs; do
	test_expect_success "$prog has a manual page" '
		test -f "$MAN/$prog.1"
	'
done

# The usage a program prints with -h and the SYNOPSIS of its page say the
# same thing: the same words, whatever the line breaks and indentation.
normalise() {
	tr -s ' \t\n' '   ' | sed -e 's/ *| */|/g' -e 's/^ //' -e 's/ $//'
}

synopsis_of() {
	mandoc -Tascii "$1" | sed 's/.\x08//g' |
	sed -n '/^SYNOPSIS$/,/^[A-Z]/{/^[A-Z]/!p}' | normalise
}

usage_of() {
	sed -n '1,/^$/{/^$/!p}' "$1" | sed 's/^usage://' | normalise
}

for page in $pages; do
	case $page in *.1) ;; *) continue ;; esac
	prog=${page%.1}
	if ! command -v mandoc >/dev/null 2>&1; then
		skip "$prog: usage matches SYNOPSIS (mandoc is not installed)"
	elif ! test -x "$TOP/cmd/$prog"; then
		skip "$prog: usage matches SYNOPSIS ($prog is not built)"
	else
		test_expect_success "$prog: usage matches SYNOPSIS" '
			"$TOP/cmd/$prog" -h >help.out &&
			usage_of help.out >usage &&
			synopsis_of "$MAN/$page" >synopsis &&
			test -s usage &&
			test_cmp usage synopsis
		'
	fi
done

test_done
