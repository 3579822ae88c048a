/*
 * lib/crypto/digest: the cryptographic digests of a file's bytes (OpenSSL 3 EVP).
 *
 * May use: core/ (err, hex); OpenSSL.
 */
#ifndef DZ_DIGEST_H
#define DZ_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct dz_err;

struct dz_digest {
	char md5[33];		/* lowercase hex, NUL-terminated */
	char sha256[65];
};

/* MD5 and SHA-256 of buf. Returns 0, or -1 (EX_SOFTWARE) if OpenSSL fails. */
int dz_digest_buf(const uint8_t *buf, size_t len, struct dz_digest *d,
    struct dz_err *err);

/* 32 hex digits (either case) of length len to the 16 bytes of an MD5:
 * 0, or -1 when it is not exactly that. */
int dz_digest_md5_parse(const char *hex, size_t len, uint8_t out[16]);

#endif
