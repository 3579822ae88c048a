#include <string.h>

#include <openssl/evp.h>

#include "crypto/digest.h"
#include "core/err.h"
#include "core/hex.h"

static int
one(const EVP_MD *type, const uint8_t *buf, size_t len, char *hex,
    struct dz_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(buf, len, md, &n, type, NULL))
		return dz_err_set(err, EX_SOFTWARE, "digest failed");
	dz_hex_encode(hex, md, n);
	return 0;
}

int
dz_digest_buf(const uint8_t *buf, size_t len, struct dz_digest *d,
    struct dz_err *err)
{
	if (one(EVP_md5(), buf, len, d->md5, err) ||
	    one(EVP_sha256(), buf, len, d->sha256, err))
		return -1;
	return 0;
}

int
dz_digest_md5_parse(const char *hex, size_t len, uint8_t out[16])
{
	uint8_t b[16] = { 0 };

	if (!hex || dz_hex_decode(hex, len, b, sizeof b, DZ_HEX_ANY))
		return -1;
	memcpy(out, b, 16);
	return 0;
}
