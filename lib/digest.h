/*
 * lib/digest: the cryptographic digests of a file's bytes (OpenSSL 3 EVP).
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

#endif
