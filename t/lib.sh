# t/lib.sh: sourced by every t/NNNN-*.t; prints TAP.
#
#   test_expect_success 'what it checks' 'shell commands'
#   test_when_finished 'shell commands'   (inside a test) run them after it,
#                                  pass or fail; if they fail, the test fails
#   test_atexit 'shell commands'   run them when the script ends (servers)
#   test_cmp EXPECTED ACTUAL       diff -u, fails on any difference
#   must_fail CMD...               CMD fails with an exit code, not a signal
#   expect_exit N CMD...           CMD exits with exactly N
#   test_done                      prints the plan and sets the exit status
#   store_config [SECTION...]      writes dz.yaml (and DZ_CONFIG) for a store
#                                  in the scratch directory; see below
#
# A test body runs in the script's own shell, as a function: what it sets
# (ids, counts) is there for the tests after it; it ends early with
# "return 1", never "exit". The working directory is put back after each
# test. A body that kills the shell (exit, an unset variable under set -u)
# is reported as a failure, with its output, before the script stops.
#
# Each script runs in its own scratch directory t/trash.NAME, removed on
# success. Output is always written to files, never piped, so exit codes
# are not lost.

set -u
export LC_ALL=C TZ=UTC
export DZ_NOW=${DZ_NOW:-2026-01-15T12:00:00Z}

TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH=$TOP/cmd:$TOP/t/unit:$PATH
export PATH
TESTDATA=${DZ_TESTDATA:-$TOP/t/data/reference}
T_NAME=$(basename "$0" .t)
TRASH=$TOP/t/trash.$T_NAME
rm -rf "$TRASH" && mkdir -p "$TRASH" && cd "$TRASH" || exit 1

t_count=0
t_failed=0

say() { printf '%s\n' "$*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

t_result() {
	t_count=$((t_count + 1))
	if [ "$1" = 0 ]; then
		say "ok $t_count - $2"
	else
		t_failed=$((t_failed + 1))
		say "not ok $t_count - $2"
	fi
}

# The body, as a function of the script's shell, so that "return" ends it.
t_eval() {
	eval "$1"
}

t_in_test=
t_cleanup=
t_exit_hooks=

# The script's end: hooks registered with test_atexit, and a test whose body
# ended the shell reported as failed, output included.
t_exit() {
	local rc=$?
	if [ -n "$t_in_test" ]; then
		exec >&7 2>&8
		t_count=$((t_count + 1))
		say "not ok $t_count - $t_in_test"
		diag "the test ended the script (status $rc): use return, not exit"
		sed 's/^/#  | /' "$TRASH/.out" | head -n 60
		t_in_test=
		rc=1
	fi
	[ -z "$t_exit_hooks" ] || eval "$t_exit_hooks"
	exit $rc
}
# The script's own output, for t_exit: a body's output goes to .out.
exec 7>&1 8>&2
trap t_exit EXIT

test_atexit() {
	t_exit_hooks="$1
$t_exit_hooks"
}

test_when_finished() {
	if [ -z "$t_in_test" ]; then
		echo "test_when_finished: only inside a test" >&2
		return 1
	fi
	t_cleanup="$1
$t_cleanup"
}

test_expect_success() {
	local desc=$1 body=$2 rc crc t_here=$PWD
	t_in_test=$desc t_cleanup=
	t_eval "$body" >"$TRASH/.out" 2>&1 </dev/null
	rc=$?
	if [ -n "$t_cleanup" ]; then
		(eval "$t_cleanup") >>"$TRASH/.out" 2>&1
		crc=$?
		if [ $crc != 0 ] && [ $rc = 0 ]; then
			echo "test_when_finished: clean-up failed ($crc)" >>"$TRASH/.out"
			rc=$crc
		fi
	fi
	t_in_test= t_cleanup=
	cd "$t_here" || exit 1
	if [ $rc != 0 ]; then
		diag "failed ($rc): $desc" "$body"
		sed 's/^/#  | /' "$TRASH/.out" | head -n 60
	fi
	t_result $rc "$desc"
}

skip() {
	t_count=$((t_count + 1))
	say "ok $t_count # skip $1"
}

test_cmp() {
	diff -u "$1" "$2"
}

must_fail() {
	"$@"
	local rc=$?
	if [ $rc = 0 ]; then
		echo "must_fail: '$*' succeeded" >&2
		return 1
	elif [ $rc -gt 128 ]; then
		echo "must_fail: '$*' died by signal $((rc - 128))" >&2
		return 1
	fi
	return 0
}

expect_exit() {
	local want=$1 rc
	shift
	"$@"
	rc=$?
	if [ $rc != "$want" ]; then
		echo "expect_exit: '$*' exited $rc, wanted $want" >&2
		return 1
	fi
	return 0
}

require_testdata() {
	if [ ! -d "$TESTDATA/pdq" ]; then
		say "Bail out! reference vectors not found at $TESTDATA (set DZ_TESTDATA)"
		exit 1
	fi
}

test_done() {
	say "1..$t_count"
	if [ $t_failed = 0 ]; then
		cd "$TOP" && rm -rf "$TRASH"
		exit 0
	fi
	exit 1
}

# awk functions for tests on hashes: hd(a, b) is the Hamming distance of
# two hex strings of equal length. Works with mawk (no xor()).
HD_AWK='
function hd_init(   x, y, b, n) {
	for (x = 0; x < 16; x++)
		for (y = 0; y < 16; y++) {
			n = 0
			for (b = 1; b < 16; b *= 2)
				if (int(x / b) % 2 != int(y / b) % 2)
					n++
			HD_T[x "," y] = n
		}
	HD_HEX = "0123456789abcdef"
}
function hd(a, b,   i, d) {
	if (!HD_HEX) hd_init()
	if (length(a) != length(b)) return 999
	d = 0
	for (i = 1; i <= length(a); i++)
		d += HD_T[(index(HD_HEX, substr(a, i, 1)) - 1) "," (index(HD_HEX, substr(b, i, 1)) - 1)]
	return d
}
'

# check_hashes EXPECTED ACTUAL NHASH TOLERANCE_SPEC: compares the CSVs
# EXPECTED (path,h1..hN,quality with a header) and ACTUAL (h1..hN,quality,
# path as dz-hash --format csv prints) and emits one TAP line per expected
# row. TOLERANCE_SPEC is "default[,path=tol...]" in bits.
check_hashes() {
	awk -F, -v n="$3" -v tolspec="$4" -v base="$t_count" "$HD_AWK"'
	BEGIN {
		k = split(tolspec, t, ",")
		deftol = t[1]
		for (i = 2; i <= k; i++) { split(t[i], kv, "="); tol[kv[1]] = kv[2] }
	}
	FNR == NR { got[$NF] = $0; next }
	FNR == 1 { next }
	{
		c++
		path = $1; lim = (path in tol) ? tol[path] : deftol
		if (!(path in got)) { printf "not ok %d - %s: no output\n", base + c, path; bad++; next }
		split(got[path], g, ",")
		worst = 0
		for (i = 1; i <= n; i++) { d = hd($(i + 1), g[i]); if (d > worst) worst = d }
		qok = (g[n + 1] == $(n + 2))
		if (worst <= lim && qok)
			printf "ok %d - %s: distance %d (limit %d), quality %s\n", base + c, path, worst, lim, g[n + 1]
		else {
			printf "not ok %d - %s: distance %d (limit %d), quality %s want %s\n", base + c, path, worst, lim, g[n + 1], $(n + 2)
			bad++
		}
	}
	END { print c > "'"$TRASH"'/.count"; print bad + 0 > "'"$TRASH"'/.bad" }
	' "$2" "$1"
	t_count=$((t_count + $(cat "$TRASH/.count")))
	t_failed=$((t_failed + $(cat "$TRASH/.bad")))
}

# store_config [SECTION...]: write $TRASH/dz.yaml with a store and a master
# key in $TRASH, then each section named, and export DZ_CONFIG=it:
#   export   dz-export's signing and public key, $TRASH/k.key and k.pub
#   match    dz-match's public key, the export one ($TRASH/k.pub)
#   notify   a hotline's notice settings, with $TRASH/providers.yaml
#            (written too: one provider, Pixhost, for pix.example)
# A test adds its other settings after it with cat >>dz.yaml.
store_config() {
	local s

	{
		printf 'store: %s\nmaster_key: %s\n' "$TRASH/store" \
			"$TRASH/master.key"
		for s in "$@"; do
			case $s in
			export)
				printf 'export:\n  signing_key: %s\n  public_key: %s\n' \
					"$TRASH/k.key" "$TRASH/k.pub" ;;
			match)
				printf 'match:\n  public_key: %s\n' "$TRASH/k.pub" ;;
			notify)
				printf '%s\n' 'notify:' \
					'  from: "Hotline test <notices@hotline.example>"' \
					'  hotline: Hotline test' \
					"  address: 1 rue de l'Exemple, 75000 Paris" \
					'  trusted_flagger: Hotline test is a trusted flagger designated by Arcom.' \
					"  providers: $TRASH/providers.yaml"
				printf '%s\n' 'version: 1' 'providers:' \
					'  - name: Pixhost' '    domains: [pix.example]' \
					'    abuse: abuse@pix.example' >"$TRASH/providers.yaml" ;;
			*)
				echo "store_config: no section '$s'" >&2
				return 1 ;;
			esac
		done
	} >"$TRASH/dz.yaml" || return 1
	DZ_CONFIG=$TRASH/dz.yaml
	export DZ_CONFIG
}
