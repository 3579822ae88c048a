/*
 * lib/crypto/gcmint.h: AES-256-GCM on one message (gcm.c), the primitive
 * under crypt.c (fields, wrapped keys) and blob.c (media). Private to
 * lib/crypto: code outside it uses crypt.h and blob.h, and must not
 * include this file.
 *
 * May use: OpenSSL only.
 */
#ifndef DZ_GCMINT_H
#define DZ_GCMINT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define DZ_GCM_KEY 32
#define DZ_GCM_NONCE 12
#define DZ_GCM_TAG 16

/*
 * A context for AES-256-GCM with key set and 12-byte nonces, for
 * encryption (enc 1) or decryption (enc 0); NULL on failure. Free it with
 * EVP_CIPHER_CTX_free, which cleanses the key schedule.
 */
EVP_CIPHER_CTX *dz_gcm_new(const uint8_t key[DZ_GCM_KEY], int enc);

/*
 * Encrypt in[0..len) to out (len bytes) and the tag, under a new nonce
 * iv; aad is authenticated, not encrypted. 0 or -1.
 */
int dz_gcm_seal(EVP_CIPHER_CTX *ctx, const uint8_t iv[DZ_GCM_NONCE],
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[DZ_GCM_TAG]);

/*
 * Decrypt and authenticate: 0, or -1 with out[0..len) wiped, so that no
 * caller ever sees unverified plaintext.
 */
int dz_gcm_open(EVP_CIPHER_CTX *ctx, const uint8_t iv[DZ_GCM_NONCE],
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    const uint8_t tag[DZ_GCM_TAG], uint8_t *out);

#endif
