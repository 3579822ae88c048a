#!/bin/bash
# make install and make uninstall into a scratch root (DESTDIR, PREFIX):
# every program, page, share/dz/ file and the bash completion, with sane
# modes; the installed programs run and say their version, the installed
# pages render; uninstall leaves no file behind. And --version: every
# program prints "NAME VERSION", VERSION being the Makefile's, exits 0,
# and exits 74 when standard output is /dev/full.
. "$(dirname "$0")/lib.sh"

ROOT=$TRASH/root
P=$ROOT/usr/local
PROGS="dz-hash dz-ingest dz-match dz-notify dz-purge dz-export"
VERSION=$(sed -n 's/^VERSION = *//p' "$TOP/Makefile")

# -o all: install what is built, never rebuild it (make check has built
# it, maybe with other flags), so that the tests running beside this one
# keep their programs.
mk() {
	make -s --no-print-directory -C "$TOP" -o all "$@" \
		DESTDIR="$ROOT" PREFIX=/usr/local
}

test_expect_success 'the Makefile says the version, once' '
	echo "$VERSION" | grep -Eqx "[0-9]+\.[0-9]+\.[0-9]+" &&
	test $(grep -c "^VERSION *=" "$TOP/Makefile") = 1
'

for prog in $PROGS; do
	test_expect_success "$prog --version and -V: \"$prog $VERSION\", exit 0" '
		echo "$prog $VERSION" >expect &&
		$prog --version >out 2>err && test_cmp expect out && ! test -s err &&
		$prog -V >out 2>err && test_cmp expect out && ! test -s err
	'
	test_expect_success "$prog --version >/dev/full: exit 74, said on stderr" '
		expect_exit 74 $prog --version >/dev/full 2>err &&
		grep -q "^$prog: cannot write output" err
	'
done

test_expect_success 'make install DESTDIR PREFIX=/usr/local' '
	mk install >log 2>&1 || { cat log; false; }
'

# find's view of the root: mode, type, path, link target.
listing() {
	(cd "$ROOT" && find . -mindepth 1 \( -type f -o -type l \) \
		-printf "%m %y %p %l\n" | sort)
}

test_expect_success 'every file is where it belongs, with its mode' '
	{
		for p in $PROGS; do
			echo "755 f ./usr/local/bin/$p "
		done
		for m in "$TOP"/man/*.[1-9]; do
			m=${m##*/}
			echo "644 f ./usr/local/share/man/man${m##*.}/$m "
		done
		echo "644 f ./usr/local/share/dz/providers.yaml "
		for t in "$TOP"/share/dz/templates/*.txt; do
			echo "644 f ./usr/local/share/dz/templates/${t##*/} "
		done
		echo "644 f ./usr/local/share/bash-completion/completions/dz "
		for p in $PROGS; do
			echo "777 l ./usr/local/share/bash-completion/completions/$p dz"
		done
	} | sort >expect &&
	listing >got &&
	test_cmp expect got
'

test_expect_success 'the installed files are copies of the tree, pages in man1, man5, man7' '
	for m in "$TOP"/man/*.[1-9]; do
		n=${m##*/}
		cmp "$m" "$P/share/man/man${n##*.}/$n" || return 1
	done &&
	ls "$P/share/man" >secs && printf "man1\nman5\nman7\n" >expect &&
	test_cmp expect secs &&
	cmp "$TOP/share/dz/providers.yaml" "$P/share/dz/providers.yaml" &&
	for t in "$TOP"/share/dz/templates/*.txt; do
		cmp "$t" "$P/share/dz/templates/${t##*/}" || return 1
	done &&
	cmp "$TOP/share/bash-completion/dz" \
		"$P/share/bash-completion/completions/dz-match"
'

test_expect_success 'no directory is writable by group or others' '
	(cd "$ROOT" && find . -type d -perm /022) >bad &&
	! test -s bad
'

test_expect_success 'the installed programs run: --version, --help' '
	for p in $PROGS; do
		env PATH="$P/bin:/usr/bin:/bin" $p --version >out &&
		echo "$p $VERSION" >expect && test_cmp expect out &&
		env PATH="$P/bin:/usr/bin:/bin" $p --help >help &&
		head -n 1 help | grep -q "^usage: $p " || return 1
	done
'

test_expect_success 'the installed programs need nothing from the tree' '
	mkdir elsewhere && cd elsewhere &&
	convert -size 64x64 xc:gray50 -seed 4 +noise Random i.png &&
	"$P/bin/dz-hash" i.png >out && jq -e ".type == \"hash\"" out
'

if command -v man >/dev/null 2>&1; then
	test_expect_success 'man -l renders an installed page' '
		MANWIDTH=80 man -l "$P/share/man/man1/dz-hash.1" >page 2>err &&
		grep -q "dz-hash" page && grep -q "EXIT STATUS" page
	'
	test_expect_success 'man finds the installed pages by name under MANPATH' '
		MANPATH=$P/share/man MANWIDTH=80 man 5 dz-records >page 2>err &&
		grep -q "dz-records" page &&
		MANPATH=$P/share/man MANWIDTH=80 man 7 dz >page 2>err &&
		grep -qi "pipeline" page
	'
else
	skip 'man -l renders an installed page: man is not installed'
	skip 'man finds the installed pages: man is not installed'
fi
if command -v mandoc >/dev/null 2>&1; then
	test_expect_success 'mandoc renders every installed page' '
		for m in "$P"/share/man/man*/*; do
			mandoc -Tascii "$m" >page && test -s page || return 1
		done
	'
else
	skip 'mandoc renders every installed page: mandoc is not installed'
fi

test_expect_success 'the installed completion loads through its per-program link' '
	bash -c ". \"$P/share/bash-completion/completions/dz-export\" &&
		complete -p dz-hash dz-ingest dz-match dz-notify dz-purge dz-export" >out &&
	test $(grep -c "^complete -F _dz " out) = 6
'

test_expect_success 'make install again: same files, no error' '
	mk install >log 2>&1 || { cat log; false; }
	listing >got2 && test_cmp got got2
'

test_expect_success 'make uninstall leaves no file, link or directory of ours' '
	mk uninstall >log 2>&1 || { cat log; false; }
	listing >left && test_cmp /dev/null left &&
	! test -e "$P/share/dz"
'

test_expect_success 'make uninstall again: nothing to do, no error' '
	mk uninstall >log 2>&1 || { cat log; false; }
'

test_done
