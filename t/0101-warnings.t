#!/bin/bash
# Warnings as errors with both compilers: every file of lib/, cmd/ and
# t/unit/ compiles with gcc and with clang at -O2 with -Werror and the
# project's warning flags (`make warnings`). Nothing is written.
# slow: every C file compiled twice, by gcc and by clang (make check-quick leaves it out; `make warnings` by hand)
. "$(dirname "$0")/lib.sh"

for c in gcc clang; do
	if ! command -v $c >/dev/null 2>&1; then
		say "Bail out! $c is not installed (run scripts/deps)"
		exit 1
	fi
done

test_expect_success 'gcc and clang -Werror: clean' '
	make -s -C "$TOP" warnings >out 2>&1 || { head -n 40 out; false; } &&
	grep -q "^warnings: gcc: clean" out && grep -q "^warnings: clang: clean" out
'

test_done
