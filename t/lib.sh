# t/lib.sh: sourced by every t/NNNN-*.t; prints TAP.
#
#   test_expect_success 'what it checks' 'shell commands'
#   test_cmp EXPECTED ACTUAL       diff -u, fails on any difference
#   must_fail CMD...               CMD fails with an exit code, not a signal
#   expect_exit N CMD...           CMD exits with exactly N
#   test_done                      prints the plan and sets the exit status
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
TESTDATA=${DZ_TESTDATA:-$TOP/../shared/testdata}
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

test_expect_success() {
	local desc=$1 body=$2 rc
	(eval "$body") >"$TRASH/.out" 2>&1
	rc=$?
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
