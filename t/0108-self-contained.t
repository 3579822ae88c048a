#!/bin/bash
# The tree carries what its tests read: nothing under t/, scripts/ or the
# Makefile reaches for a directory beside the repository, and the
# reference vectors the tests name are in t/data/reference with their
# provenance. (.ci/run runs the whole suite in a bare clone: the proof.)
. "$(dirname "$0")/lib.sh"

R=$TOP/t/data/reference

test_expect_success 'no test, script or make rule reads ../shared' '
	(cd "$TOP" && git ls-files -- t scripts Makefile "t/*.mk" ".ci" | grep -v "^t/data/reference/" |
		xargs grep -ln "\.\./shared\|shared/testdata" -- 2>/dev/null) >hits || :
	grep -v "^\.ci/run$\|^t/0108-self-contained\.t$" hits >bad || :
	if test -s bad; then cat bad; return 1; fi
'

test_expect_success 'the default test data is the copy in the tree' '
	test -d "$R/pdq" && test -d "$R/vpdq" &&
	grep -q "^TESTDATA=\${DZ_TESTDATA:-\$TOP/t/data/reference}$" "$TOP/t/lib.sh" &&
	{ test -n "${DZ_TESTDATA-}" || test "$TESTDATA" = "$R"; } &&
	grep -q "t/data/reference" "$TOP/scripts/bench/common.sh" &&
	grep -q "t/data/reference" "$TOP/scripts/fuzz-seeds" &&
	grep -q "t/data/reference" "$TOP/scripts/crash-trials"
'

test_expect_success 'every file a test names from the reference data is there' '
	(cd "$TOP" && grep -ohE "TESTDATA[}]?/(pdq|vpdq)/[A-Za-z0-9_./-]+\.(jpg|png|mp4|webp|csv|txt)" \
		t/*.t t/*.sh scripts/fuzz-seeds) | sed "s|^TESTDATA}*/||" | sort -u >named &&
	test -s named &&
	while read -r f; do test -f "$R/$f" || { echo "missing: $f"; return 1; }; done <named &&
	for c in "$R"/pdq/expected-*.csv; do
		tail -n +2 "$c" | cut -d, -f1 | while read -r f; do
			test -f "$R/pdq/$f" || { echo "missing: pdq/$f ($c)"; exit 1; }
		done || return 1
	done
'

test_expect_success 'the data says where it came from, under which licence' '
	test -s "$R/README.md" && grep -q "baefb4ed67b6cdc1d4c82dbaef858d50866ac424" "$R/README.md" &&
	grep -q "BSD License" "$R/LICENSE" &&
	for d in "$R"/pdq/*/ "$R"/vpdq/videos/; do
		n=${d#"$R"/}; n=${n%/}
		grep -q "$n" "$R/README.md" || { echo "not in README: $n"; return 1; }
	done
'

test_done
