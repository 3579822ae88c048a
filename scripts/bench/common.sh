# shellcheck shell=bash disable=SC2034  # the variables are used by the sourcing scripts
# Sourced by the scripts in scripts/bench/: paths, defaults and helpers.
#
# Environment:
#   DZ_BENCH_DIR  where the photo set is built (default scripts/bench/.data)
#   DZ_TESTDATA   the reference vectors (default t/data/reference)
#   DZ_HASH       the dz-hash binary to measure (default cmd/dz-hash)

export LC_ALL=C
# /usr/local/bin may hold a stand-in 'convert': we want ImageMagick's.
PATH=/usr/bin:/bin:$PATH

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH_SRC/../.." && pwd)
DZ_BENCH_DIR=${DZ_BENCH_DIR:-$TOP/scripts/bench/.data}
DZ_TESTDATA=${DZ_TESTDATA:-$TOP/t/data/reference}
DZ_HASH=${DZ_HASH:-$TOP/cmd/dz-hash}
prog=bench/${0##*/}

# sysexits(3), as everywhere in disrupt.
EX_USAGE=64 EX_DATAERR=65 EX_NOINPUT=66 EX_UNAVAILABLE=69 EX_SOFTWARE=70
export EX_USAGE EX_DATAERR EX_NOINPUT EX_UNAVAILABLE EX_SOFTWARE

# die STATUS MESSAGE...
die() {
	local status=$1
	shift
	printf '%s: %s\n' "$prog" "$*" >&2
	exit "$status"
}

need_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			die "$EX_UNAVAILABLE" "cannot find '$t': run 'make deps'"
	done
}

need_dz_hash() {
	[[ -x $DZ_HASH ]] ||
		die "$EX_UNAVAILABLE" "cannot run '$DZ_HASH': build it first with 'make'"
}

# The photo sets, one directory each; 12mp is the speed set.
BENCH_SETS=(5mp 8mp 12mp 24mp)
