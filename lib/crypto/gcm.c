/*
 * lib/crypto/gcm: AES-256-GCM on one message through OpenSSL 3 EVP, for
 * crypt.c and blob.c. See gcmint.h.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/gcmint.h"

#define UPDATE_MAX (1 << 30)		/* bytes per EVP update call */

/*
 * Encrypt in[0..len) to out with tag. ctx was set up for encryption with
 * the key already; each call sets a new nonce. Returns 0 or -1.
 */
int
dz_gcm_seal(EVP_CIPHER_CTX *ctx, const uint8_t iv[DZ_GCM_NONCE],
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[DZ_GCM_TAG])
{
	int n;

	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1)
		return -1;
	while (aadlen > 0) {
		int k = aadlen > UPDATE_MAX ? UPDATE_MAX : (int)aadlen;
		if (EVP_EncryptUpdate(ctx, NULL, &n, aad, k) != 1)
			return -1;
		aad += k;
		aadlen -= (size_t)k;
	}
	while (len > 0) {
		int k = len > UPDATE_MAX ? UPDATE_MAX : (int)len;
		if (EVP_EncryptUpdate(ctx, out, &n, in, k) != 1 || n != k)
			return -1;
		in += k;
		out += k;
		len -= (size_t)k;
	}
	if (EVP_EncryptFinal_ex(ctx, out, &n) != 1 || n != 0)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, DZ_GCM_TAG, tag) != 1)
		return -1;
	return 0;
}

/*
 * Decrypt and authenticate. On failure out[0..len) may hold unverified
 * plaintext: it is wiped here, so the caller never sees it.
 */
int
dz_gcm_open(EVP_CIPHER_CTX *ctx, const uint8_t iv[DZ_GCM_NONCE],
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    const uint8_t tag[DZ_GCM_TAG], uint8_t *out)
{
	uint8_t *o = out;
	size_t left = len;
	int n;

	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1)
		goto fail;
	while (aadlen > 0) {
		int k = aadlen > UPDATE_MAX ? UPDATE_MAX : (int)aadlen;
		if (EVP_DecryptUpdate(ctx, NULL, &n, aad, k) != 1)
			goto fail;
		aad += k;
		aadlen -= (size_t)k;
	}
	while (left > 0) {
		int k = left > UPDATE_MAX ? UPDATE_MAX : (int)left;
		if (EVP_DecryptUpdate(ctx, o, &n, in, k) != 1 || n != k)
			goto fail;
		in += k;
		o += k;
		left -= (size_t)k;
	}
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, DZ_GCM_TAG,
	    (void *)tag) != 1)
		goto fail;
	if (EVP_DecryptFinal_ex(ctx, o, &n) != 1 || n != 0)
		goto fail;
	return 0;
fail:
	if (len)
		OPENSSL_cleanse(out, len);
	return -1;
}

/* A context for AES-256-GCM with key set, 12-byte nonces; NULL on failure. */
EVP_CIPHER_CTX *
dz_gcm_new(const uint8_t key[DZ_GCM_KEY], int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, DZ_GCM_NONCE,
	    NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1) {
		EVP_CIPHER_CTX_free(ctx);	/* cleanses the key schedule */
		return NULL;
	}
	return ctx;
}
