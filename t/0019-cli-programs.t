#!/bin/bash
# lib/core/cli through the six programs: -h, -V, -h to a full disk, the
# messages in one shape (PROG: cannot VERB 'SUBJECT': REASON, invalid
# value for OPT, unexpected operand), strict numbers.
. "$(dirname "$0")/lib.sh"

progs="dz-ingest dz-hash dz-match dz-notify dz-purge dz-export"
printf 'store: %s\nmaster_key: %s\n' "$TRASH/none" "$TRASH/none.key" >ns.yaml

test_expect_success '-h, -V: stdout, exit 0; to a full disk: 74 and why' '
	for p in $progs; do
		$p -h >out 2>err && grep -q "^usage: $p" out && ! test -s err &&
		$p -V >out 2>err && grep -qx "$p [0-9][0-9.]*" out &&
		expect_exit 74 $p -h >/dev/full 2>err &&
		grep -qx "$p: cannot write output: write error: No space left on device" err ||
		{ echo "$p"; cat err; return 1; }
	done
'

test_expect_success 'an unknown option: getopt says why, then the usage; 64' '
	for p in $progs; do
		expect_exit 64 $p --frobnicate >out 2>err && ! test -s out &&
		grep -q "^usage: $p" err || { echo "$p"; return 1; }
	done
'

test_expect_success 'a configuration that cannot be opened names itself' '
	for cmd in "dz-ingest" "dz-purge" "dz-notify" "dz-export cases" \
	    "dz-hash --store" "dz-match --insecure --bank b.jsonl"; do
		expect_exit 66 $cmd -c "$TRASH/nosuch.yaml" </dev/null >out 2>err &&
		grep -qx "${cmd%% *}: cannot open configuration '\''$TRASH/nosuch.yaml'\'': No such file or directory" err ||
		{ echo "$cmd"; cat err; return 1; }
	done
'

test_expect_success 'a bad configuration: invalid configuration, the key named' '
	printf "store: x\nnosuch_key: 1\n" >bad.yaml &&
	expect_exit 78 dz-purge -c bad.yaml 2>err &&
	grep -q "^dz-purge: invalid configuration: bad.yaml:2: " err
'

test_expect_success 'no store: cannot open store, and how to make one' '
	for cmd in "dz-purge" "dz-export cases"; do
		expect_exit 66 $cmd -c ns.yaml >out 2>err &&
		grep -qx "${cmd%% *}: cannot open store '\''$TRASH/none'\'': no store (create one with dz-ingest --init)" err ||
		{ echo "$cmd"; cat err; return 1; }
	done
'

test_expect_success 'an operand where none is taken: unexpected operand, usage, 64' '
	for p in dz-purge dz-notify; do
		expect_exit 64 $p x >out 2>err &&
		head -n 1 err >first && echo "$p: unexpected operand '\''x'\''" >expect &&
		test_cmp expect first && grep -q "^usage: $p" err || return 1
	done
'

test_expect_success 'bad numbers: invalid value for OPT, the value quoted, 64' '
	expect_exit 64 dz-hash -j abc x 2>err &&
	grep -qx "dz-hash: invalid value for -j: '\''abc'\'': expected a whole number from 1 to 256" err &&
	expect_exit 64 dz-hash -j 257 x 2>err && grep -q "invalid value for -j: '\''257'\''" err &&
	expect_exit 64 dz-hash -j " 2" x 2>err && grep -q "invalid value for -j" err &&
	expect_exit 64 dz-hash --max-pixels 18446744073709551616 x 2>err &&
	grep -qx "dz-hash: invalid value for --max-pixels: '\''18446744073709551616'\'': expected a whole number from 1 or more" err &&
	expect_exit 64 dz-match -t 257 --bank b 2>err &&
	grep -qx "dz-match: invalid value for -t: '\''257'\'': expected a whole number from 0 to 256" err &&
	expect_exit 64 dz-match --vpdq-query-pct 100.5 --bank b 2>err &&
	grep -qx "dz-match: invalid value for --vpdq-query-pct: '\''100.5'\'': expected a percentage from 0 to 100" err &&
	expect_exit 64 dz-match --min-quality -1 --bank b 2>err &&
	grep -q "^dz-match: invalid value for --min-quality: '\''-1'\''" err &&
	expect_exit 64 dz-notify --remind +5 2>err &&
	grep -qx "dz-notify: invalid value for --remind: '\''+5'\'': expected a whole number from 1 to 3650" err &&
	printf "store: %s\nmaster_key: %s\n" "$TRASH/st" "$TRASH/st.key" >st.yaml &&
	dz-ingest -q -c st.yaml --init &&
	expect_exit 64 dz-export -c st.yaml bank --unsigned --since 1x 2>err &&
	grep -qx "dz-export: invalid value for --since: '\''1x'\'': expected an export number, '\''last'\'' or '\''full'\''" err
'

test_expect_success 'a subject with control characters is shown without them' '
	expect_exit 64 dz-hash -j "$(printf "1\033[2J")" x 2>err &&
	grep -q "invalid value for -j: '\''1?\[2J'\''" err
'

test_done
