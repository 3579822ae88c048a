#!/bin/bash
# t/lib.sh itself: bodies run in the script's shell, test_when_finished,
# test_atexit, and a body that ends the shell is a failure, not a silence.
. "$(dirname "$0")/lib.sh"

# run_script NAME BODY: a test script of its own, run as prove would.
run_script() {
	mkdir -p scripts &&
	{
		printf '#!/bin/bash\n. "%s/t/lib.sh"\n' "$TOP"
		printf '%s\n' "$2"
	} >"scripts/$1.t" &&
	# Its scratch directory is t/trash.NAME: give it a name of its own.
	cp "scripts/$1.t" "$TOP/t/.testlib-$1-$$.t" &&
	(cd "$TOP" && bash "t/.testlib-$1-$$.t") >"$1.tap" 2>"$1.err"
	local rc=$?
	rm -f "$TOP/t/.testlib-$1-$$.t"
	rm -rf "$TOP/t/trash..testlib-$1-$$"
	return $rc
}

test_expect_success 'a value set in one test is there in the next' '
	run_script keep "
test_expect_success one \"id=K7 && n=3\"
test_expect_success two \"test \\\"\\\$id\\\" = K7 && test \\\$n = 3\"
test_done" &&
	grep -qx "ok 1 - one" keep.tap && grep -qx "ok 2 - two" keep.tap &&
	grep -qx "1..2" keep.tap
'

outer=before
test_expect_success 'a test body changes the script'"'"'s variables' '
	outer=after
'
test_expect_success '... and the next test sees it' '
	test "$outer" = after
'

test_expect_success 'the working directory is put back after a test' '
	mkdir -p sub && cd sub
'
test_expect_success '... so the next test starts where the script was' '
	test "$PWD" = "$TRASH"
'

test_expect_success 'test_when_finished runs after a passing test' '
	run_script clean "
test_expect_success pass \"test_when_finished \\\"touch cleaned\\\" && true\"
test_expect_success seen \"test -e cleaned\"
test_done" &&
	grep -qx "ok 1 - pass" clean.tap && grep -qx "ok 2 - seen" clean.tap
'

test_expect_success '... and after a failing one, which stays failed' '
	must_fail run_script cleanfail "
test_expect_success fails \"test_when_finished \\\"touch cleaned\\\" && false\"
test_expect_success seen \"test -e cleaned\"
test_done" &&
	grep -qx "not ok 1 - fails" cleanfail.tap && grep -qx "ok 2 - seen" cleanfail.tap
'

test_expect_success 'a clean-up that fails makes its test fail' '
	must_fail run_script badclean "
test_expect_success body-ok \"test_when_finished false && true\"
test_done" &&
	grep -qx "not ok 1 - body-ok" badclean.tap &&
	grep -q "clean-up failed" badclean.tap
'

test_expect_success 'test_when_finished outside a test is refused' '
	run_script outside "
test_when_finished true && echo wrongly-taken
test_expect_success after true
test_done" &&
	! grep -q wrongly-taken outside.tap &&
	grep -q "only inside a test" outside.err
'

test_expect_success 'return ends a body early with its status' '
	must_fail run_script ret "
test_expect_success early \"false || return 1; touch not-reached\"
test_expect_success after \"! test -e not-reached\"
test_done" &&
	grep -qx "not ok 1 - early" ret.tap && grep -qx "ok 2 - after" ret.tap
'

test_expect_success 'a body that exits the shell is reported as a failure with its output' '
	must_fail run_script died "
test_expect_success first true
test_expect_success dies \"echo last-words && exit 0\"
test_expect_success never true
test_done" &&
	grep -qx "ok 1 - first" died.tap && grep -qx "not ok 2 - dies" died.tap &&
	grep -q "last-words" died.tap && ! grep -q "never" died.tap
'

test_expect_success 'an unset variable under set -u is a failure too' '
	must_fail run_script unset "
test_expect_success typo \"echo \\\$no_such_variable\"
test_done" &&
	grep -qx "not ok 1 - typo" unset.tap
'

test_expect_success 'test_atexit hooks run when the script ends, in reverse order' '
	run_script hooks "
test_atexit \"echo first-registered >>\\\"\\\$TOP/t/.testlib-hooks-$$.out\\\"\"
test_atexit \"echo second-registered >>\\\"\\\$TOP/t/.testlib-hooks-$$.out\\\"\"
test_expect_success one true
test_done" &&
	printf "second-registered\nfirst-registered\n" >expect &&
	mv "$TOP/t/.testlib-hooks-$$.out" got && test_cmp expect got
'

test_expect_success 'a body reads nothing from the script'"'"'s standard input' '
	run_script stdin "
test_expect_success no-input \"! read -r line\"
test_done" </dev/zero &&
	grep -qx "ok 1 - no-input" stdin.tap
'

test_expect_success 'store_config writes the sections named, and DZ_CONFIG' '
	(
		store_config export match notify &&
		test "$DZ_CONFIG" = "$TRASH/dz.yaml" &&
		grep -qx "store: $TRASH/store" dz.yaml &&
		grep -qx "master_key: $TRASH/master.key" dz.yaml &&
		grep -qx "  signing_key: $TRASH/k.key" dz.yaml &&
		test "$(grep -c "public_key: $TRASH/k.pub" dz.yaml)" = 2 &&
		grep -qx "  providers: $TRASH/providers.yaml" dz.yaml &&
		grep -qx "    domains: \[pix.example\]" providers.yaml &&
		store_config && ! grep -q "export\|match\|notify" dz.yaml &&
		! store_config nosuch 2>err && grep -q "no section .nosuch." err
	)
'

test_done
