#include <string.h>

#include <openssl/evp.h>

#include "crypto/digest.h"
#include "core/err.h"

static void
to_hex(char *out, const unsigned char *md, unsigned int n)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
one(const EVP_MD *type, const uint8_t *buf, size_t len, char *hex,
    struct dz_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(buf, len, md, &n, type, NULL))
		return dz_err_set(err, EX_SOFTWARE, "digest failed");
	to_hex(hex, md, n);
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

	if (!hex || len != 32)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int c = (unsigned char)hex[i], d = c >= '0' && c <= '9' ?
		    c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		b[i / 2] = (uint8_t)(b[i / 2] << 4 | d);
	}
	memcpy(out, b, 16);
	return 0;
}
