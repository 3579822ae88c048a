#!/bin/bash
# lib/core/hex: the one hex encoder and decoder (C unit test), and no
# copy of it left elsewhere in lib/ and cmd/.
. "$(dirname "$0")/lib.sh"

test_expect_success 'dz_hex_*: lengths, digits, the case policy' '
	test-hex >out && cat out && ! grep -q "^not ok" out && grep -q "^1\.\.18$" out
'

# Files other work had open when lib/core/hex came (issue 14): their
# copies go when that work lands, and so do these names.
PENDING="lib/crypto/crypt.c lib/work/ingest.c lib/work/purge.c lib/work/notify.c
lib/work/export.c lib/notice/resolve.c lib/notice/mail.c"

test_expect_success 'no other file in lib/ or cmd/ spells the hex digits' '
	(cd "$TOP" && git ls-files -- "lib/*.c" "cmd/*.c" |
		xargs grep -l "0123456789abcdef\"\|0123456789ABCDEF\"" -- ) >hits || :
	for f in lib/core/hex.c $PENDING; do
		grep -vx "$f" hits >h2 || :; mv h2 hits
	done
	if test -s hits; then cat hits; return 1; fi
'

test_done
