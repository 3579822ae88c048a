/*
 * lib/core/hex: bytes as hexadecimal digits and back, the one copy.
 *
 * Digits are written in lower case. Reading takes a policy: which case
 * a caller accepts is part of its format (a bank's digests are lower
 * case only, a minisign key id upper case only, a PDQ either), so each
 * caller says it with DZ_HEX_LOWER, DZ_HEX_UPPER or both (DZ_HEX_ANY).
 *
 * Never allocates, prints or exits.
 *
 * May use: no other module.
 */
#ifndef DZ_HEX_H
#define DZ_HEX_H

#include <stddef.h>

/* Which letters dz_hex_decode() and dz_hex_digit() accept. */
#define DZ_HEX_LOWER 0x1	/* a-f */
#define DZ_HEX_UPPER 0x2	/* A-F */
#define DZ_HEX_ANY (DZ_HEX_LOWER | DZ_HEX_UPPER)

/*
 * Write the n bytes at in as 2n lower case digits at out, without a
 * terminating NUL (for records built in a buffer). Returns out + 2n.
 */
char *dz_hex_put(char *out, const void *in, size_t n);

/*
 * The same, then a NUL: out must hold 2n + 1 bytes. Returns out.
 */
char *dz_hex_encode(char *out, const void *in, size_t n);

/*
 * Read exactly n bytes from the len digits at s into out: 0, or -1 when
 * len is not 2n or a character is not a digit the case policy flags
 * accepts (out is then partly written; callers that must keep it whole
 * decode into a temporary). s need not be NUL-terminated.
 */
int dz_hex_decode(const char *s, size_t len, void *out, size_t n,
    unsigned flags);

/* The value 0-15 of the digit c under the case policy flags, or -1. */
int dz_hex_digit(int c, unsigned flags);

#endif
