#!/bin/bash
# The layers of lib/ (CONTRIBUTING.md, "Layout"): scripts/check-layers reads
# the #include graph of lib/ and cmd/ and finds no crossing in the tree;
# on small made-up trees it finds each kind of crossing it is there for.
. "$(dirname "$0")/lib.sh"

CHECK=$TOP/scripts/check-layers

test_expect_success 'the tree keeps the rule' '
	"$CHECK" "$TOP" >out 2>&1 || { cat out; return 1; }
	! test -s out
'

test_expect_success 'every folder of lib/ is one the rule knows' '
	for d in "$TOP"/lib/*/; do
		d=$(basename "$d") &&
		case $d in
		core | crypto | media | hash | store | bank | notice | work) ;;
		*) echo "lib/$d"; return 1 ;;
		esac
	done
'

test_expect_success 'no C file is left in lib/ outside a folder' '
	! ls "$TOP"/lib/*.[ch] 2>/dev/null
'

# A made-up tree that keeps the rule, then one crossing at a time.
mk() { # mk FILE [INCLUDE...]: a header or source with a May use line
	local f=$1; shift
	mkdir -p "$(dirname "$f")"
	{
		printf "/*\n * %s: a test module.\n *\n * May use: core/.\n */\n" "$f"
		for i; do printf "#include \"%s\"\n" "$i"; done
	} >"$f"
}
good_tree() {
	rm -rf tree && mkdir tree && (
		cd tree &&
		mk lib/core/err.h && mk lib/core/err.c core/err.h &&
		mk lib/crypto/crypt.h core/err.h && mk lib/crypto/crypt.c crypto/crypt.h core/err.h &&
		mk lib/store/store.h && mk lib/store/storeint.h &&
		mk lib/store/store.c store/store.h store/storeint.h crypto/crypt.h &&
		mk lib/work/ingest.h && mk lib/work/ingest.c work/ingest.h store/store.h &&
		mk lib/work/stats.h && mk lib/work/statshtml.h work/stats.h &&
		mk lib/work/purge.h && mk lib/work/purge.c work/purge.h core/err.h &&
		mk cmd/dz-ingest.c work/ingest.h core/err.h
	)
}

# refused PATTERN: check-layers fails on tree, its complaints (in out)
# matching the grep PATTERN.
refused() {
	expect_exit 1 "$CHECK" tree >out && grep -q "$1" out
}

test_expect_success 'a tree that keeps the rule passes' '
	good_tree && "$CHECK" tree >out && ! test -s out
'

test_expect_success 'a folder using a folder above it is refused' '
	good_tree && mk tree/lib/crypto/sign.c store/store.h &&
	refused "^lib/crypto/sign.c: lib/crypto may not use lib/store (includes store/store.h)$"
'

test_expect_success 'a folder using a sibling it may not use is refused' '
	good_tree && mk tree/lib/media/image.h && mk tree/lib/crypto/x.c media/image.h &&
	refused "lib/crypto may not use lib/media"
'

test_expect_success 'a unit of work including another unit is refused' '
	good_tree && mk tree/lib/work/purge.c work/purge.h work/ingest.h &&
	refused "^lib/work/purge.c: unit of work purge includes work/ingest.h, another unit$"
'

test_expect_success 'the parts of one unit of work may include each other' '
	good_tree && "$CHECK" tree >out && ! grep -q statshtml out
'

test_expect_success 'a private header included from another folder is refused, cmd/ too' '
	good_tree && mk tree/lib/work/ingest.c work/ingest.h store/storeint.h &&
	refused "^lib/work/ingest.c: includes store/storeint.h, private to lib/store$" &&
	good_tree && mk tree/cmd/dz-ingest.c store/storeint.h &&
	refused "^cmd/dz-ingest.c: includes store/storeint.h, private to lib/store$"
'

test_expect_success 'an include without its folder, or of a missing header, is refused' '
	good_tree && mk tree/cmd/dz-ingest.c err.h &&
	expect_exit 1 "$CHECK" tree >out &&
	grep -q "^cmd/dz-ingest.c: includes \"err.h\", which is not lib/FOLDER/NAME.h$" out &&
	good_tree && mk tree/lib/core/err.c core/nothere.h &&
	refused "which is not in lib/"
'

test_expect_success 'a header without a May use line, or claiming too much, is refused' '
	good_tree && printf "/*\n * no line here\n */\n" >tree/lib/core/err.h &&
	expect_exit 1 "$CHECK" tree >out &&
	grep -q "^lib/core/err.h: the opening comment has no \"May use:\" line$" out &&
	good_tree && printf "/*\n * x\n *\n * May use: core/, store/ (store).\n */\n" >tree/lib/crypto/crypt.h &&
	refused "^lib/crypto/crypt.h: says it may use store/, which lib/crypto may not$" &&
	good_tree && printf "int x;\n" >tree/lib/core/err.h &&
	refused "^lib/core/err.h: no opening comment$"
'

test_expect_success 'a folder the map does not know is refused' '
	good_tree && mk tree/lib/misc/x.h && mk tree/lib/misc/x.c core/err.h &&
	refused "lib/misc is not a folder of the map"
'

test_expect_success 'a tree without lib/ folders is an error, not a pass' '
	mkdir -p empty/lib && expect_exit 2 "$CHECK" empty 2>err &&
	grep -q "no folders" err
'

test_done
