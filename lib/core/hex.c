#include <stdint.h>

#include "core/hex.h"

/*
 * Each digit's value plus one, with a bit saying which case a letter is
 * in; 0 for every other byte. The loops below need no branch per digit.
 */
#define D(c, v) [c] = (v) + 1
#define L(c, v) [c] = ((v) + 1) | CASE_LOWER
#define U(c, v) [c] = ((v) + 1) | CASE_UPPER
enum { CASE_LOWER = 0x20, CASE_UPPER = 0x40 };

static const uint8_t digit[256] = {
	D('0', 0), D('1', 1), D('2', 2), D('3', 3), D('4', 4),
	D('5', 5), D('6', 6), D('7', 7), D('8', 8), D('9', 9),
	L('a', 10), L('b', 11), L('c', 12), L('d', 13), L('e', 14),
	L('f', 15),
	U('A', 10), U('B', 11), U('C', 12), U('D', 13), U('E', 14),
	U('F', 15),
};
#undef D
#undef L
#undef U

/* The case bits a policy refuses. */
static unsigned
refused(unsigned flags)
{
	return (flags & DZ_HEX_LOWER ? 0u : CASE_LOWER) |
	    (flags & DZ_HEX_UPPER ? 0u : CASE_UPPER);
}

char *
dz_hex_put(char *out, const void *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = in;

	for (size_t i = 0; i < n; i++) {
		*out++ = digits[b[i] >> 4];
		*out++ = digits[b[i] & 0xf];
	}
	return out;
}

char *
dz_hex_encode(char *out, const void *in, size_t n)
{
	*dz_hex_put(out, in, n) = '\0';
	return out;
}

int
dz_hex_decode(const char *s, size_t len, void *out, size_t n,
    unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned bad = 0, no = refused(flags);
	uint8_t *b = out;

	if (len / 2 != n || len % 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = digit[p[2 * i]], lo = digit[p[2 * i + 1]];

		bad |= (hi == 0) | (lo == 0) | (hi & no) | (lo & no);
		b[i] = (uint8_t)(((hi & 0x1f) - 1) << 4 | ((lo & 0x1f) - 1));
	}
	return bad ? -1 : 0;
}

int
dz_hex_digit(int c, unsigned flags)
{
	unsigned d;

	if (c < 0 || c > 255)
		return -1;
	d = digit[c];
	if (d == 0 || (d & refused(flags)))
		return -1;
	return (int)(d & 0x1f) - 1;
}
