/*
 * lib/core/hex: bytes to lower case digits and back, with the case
 * policy each caller chooses; lengths and digits checked exactly.
 */
#include <stdint.h>
#include <string.h>

#include "core/hex.h"
#include "tap.h"

int
main(void)
{
	static const uint8_t b[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	uint8_t all[256], back[256], got[6];
	char h[2 * sizeof all + 1], p[16];
	int i, bad;

	ok(strcmp(dz_hex_encode(h, b, sizeof b), "00017f80abff") == 0,
	    "encode: lower case, two digits per byte, high nibble first");
	ok(strcmp(dz_hex_encode(h, b, 0), "") == 0, "encode: nothing is \"\"");
	memset(p, 'x', sizeof p);
	ok(dz_hex_put(p, b, 2) == p + 4 && memcmp(p, "0001x", 5) == 0,
	    "put: no NUL, returns the end");

	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	dz_hex_encode(h, all, sizeof all);
	ok(strlen(h) == 512 && dz_hex_decode(h, 512, back, 256,
	    DZ_HEX_LOWER) == 0 && memcmp(all, back, 256) == 0,
	    "every byte encodes and decodes back");

	ok(dz_hex_decode("abFF01", 6, got, 3, DZ_HEX_ANY) == 0 &&
	    got[0] == 0xab && got[1] == 0xff && got[2] == 0x01,
	    "decode, either case: mixed case is read");
	ok(dz_hex_decode("ABFF01", 6, got, 3, DZ_HEX_UPPER) == 0 &&
	    got[0] == 0xab, "decode, upper case only: upper case is read");
	ok(dz_hex_decode("abff01", 6, got, 3, DZ_HEX_LOWER) == 0 &&
	    got[1] == 0xff, "decode, lower case only: lower case is read");
	ok(dz_hex_decode("abFf01", 6, got, 3, DZ_HEX_LOWER) < 0,
	    "lower case only: one upper case digit refuses the whole");
	ok(dz_hex_decode("ABfF01", 6, got, 3, DZ_HEX_UPPER) < 0,
	    "upper case only: one lower case digit refuses the whole");
	ok(dz_hex_decode("0123456789", 10, got, 5, DZ_HEX_LOWER) == 0 &&
	    dz_hex_decode("0123456789", 10, got, 5, DZ_HEX_UPPER) == 0,
	    "digits 0-9 are in both cases");

	ok(dz_hex_decode("abc", 3, got, 1, DZ_HEX_ANY) < 0 &&
	    dz_hex_decode("abc", 3, got, 2, DZ_HEX_ANY) < 0,
	    "odd length refused");
	ok(dz_hex_decode("abcd", 4, got, 1, DZ_HEX_ANY) < 0 &&
	    dz_hex_decode("ab", 2, got, 2, DZ_HEX_ANY) < 0,
	    "a length other than 2n refused");
	ok(dz_hex_decode("", 0, got, 0, DZ_HEX_ANY) == 0,
	    "no digits for no bytes");
	ok(dz_hex_decode("abcdef0123", 4, got, 2, DZ_HEX_LOWER) == 0 &&
	    got[0] == 0xab && got[1] == 0xcd,
	    "only len characters are read (no NUL needed)");

	bad = 0;
	for (i = 0; i < 256; i++) {
		char s[2] = { '0', (char)i };
		int want = (i >= '0' && i <= '9') || (i >= 'a' && i <= 'f') ||
		    (i >= 'A' && i <= 'F');

		if ((dz_hex_decode(s, 2, got, 1, DZ_HEX_ANY) == 0) != want)
			bad++;
		s[0] = (char)i, s[1] = '0';
		if ((dz_hex_decode(s, 2, got, 1, DZ_HEX_ANY) == 0) != want)
			bad++;
	}
	ok(bad == 0, "of the 256 bytes, only 0-9a-fA-F are digits, in "
	    "either place");
	ok(dz_hex_decode("0g", 2, got, 1, DZ_HEX_ANY) < 0 &&
	    dz_hex_decode("0 ", 2, got, 1, DZ_HEX_ANY) < 0 &&
	    dz_hex_decode("\0" "0", 2, got, 1, DZ_HEX_ANY) < 0 &&
	    dz_hex_decode("\xe1" "0", 2, got, 1, DZ_HEX_ANY) < 0,
	    "bad digits refused: g, space, NUL, a high byte");

	ok(dz_hex_digit('0', DZ_HEX_LOWER) == 0 &&
	    dz_hex_digit('9', DZ_HEX_UPPER) == 9 &&
	    dz_hex_digit('a', DZ_HEX_LOWER) == 10 &&
	    dz_hex_digit('F', DZ_HEX_UPPER) == 15 &&
	    dz_hex_digit('f', DZ_HEX_ANY) == 15,
	    "digit: values");
	ok(dz_hex_digit('A', DZ_HEX_LOWER) == -1 &&
	    dz_hex_digit('a', DZ_HEX_UPPER) == -1 &&
	    dz_hex_digit('g', DZ_HEX_ANY) == -1 &&
	    dz_hex_digit(-1, DZ_HEX_ANY) == -1 &&
	    dz_hex_digit(0x130, DZ_HEX_ANY) == -1,
	    "digit: the case policy, non-digits, out of range");
	return tap_done();
}
