/*
 * lib/crypto/crypt: encryption at rest (OpenSSL 3 EVP), and nothing else:
 * the master key file, wrapped keys and sealed fields. It uses lib/core
 * and OpenSSL only.
 *
 * Keys. A 32-byte master key lives in a file outside the store, mode 0600,
 * owned by the user, not a symlink; anything else is refused. It wraps
 * (AES-256-GCM) the per-item media keys and the per-case keys that are
 * kept in the store. Destroying a wrapped key destroys what it encrypts.
 *
 * Blobs (media) are lib/crypto/blob's (blob.h).
 *
 * Fields (personal data). dz_crypt_seal: AES-256-GCM under a case key,
 * random 12-byte nonce, caller's associated data (binds a value to its
 * case and column): nonce | ciphertext | tag.
 *
 * Every buffer that held a key or plaintext is wiped (OPENSSL_cleanse)
 * before it is freed.
 *
 * May use: core/ (err, fdio); crypto/ (gcmint); OpenSSL.
 */
#ifndef DZ_CRYPT_H
#define DZ_CRYPT_H

#include <stddef.h>
#include <stdint.h>

struct dz_err;

#define DZ_KEY_BYTES 32
#define DZ_WRAPPED_KEY_BYTES (12 + 32 + 16)
#define DZ_SEAL_OVERHEAD (12 + 16)

/*
 * The associated data that binds a wrapped key or a sealed field to its
 * owner, "KIND:ID": "case:ID" and "item:ITEM-ID" for wrapped keys,
 * "contact:ID" and "description:ID" for a case's sealed fields. Every
 * writer and reader of the store builds it here, so they cannot drift.
 */
#define DZ_AAD_MAX 64
void dz_crypt_aad(char out[DZ_AAD_MAX], const char *kind, const char *id);

/* Random bytes from the OpenSSL DRBG. */
int dz_crypt_random(uint8_t *buf, size_t len, struct dz_err *err);

/*
 * Read the master key file: exactly 64 hex digits and an optional newline.
 * Refused (EX_CONFIG) if it is a symlink, not a regular file, readable or
 * writable by group or others, or malformed.
 */
int dz_crypt_master_load(const char *path, uint8_t key[DZ_KEY_BYTES],
    struct dz_err *err);

/* Create a new master key file (O_EXCL, mode 0600, fsync'd). */
int dz_crypt_master_create(const char *path, struct dz_err *err);

/* Wrap / unwrap a key under the master key; aad binds it to its owner. */
int dz_crypt_wrap(const uint8_t master[DZ_KEY_BYTES],
    const uint8_t key[DZ_KEY_BYTES], const char *aad,
    uint8_t out[DZ_WRAPPED_KEY_BYTES], struct dz_err *err);
int dz_crypt_unwrap(const uint8_t master[DZ_KEY_BYTES],
    const uint8_t in[DZ_WRAPPED_KEY_BYTES], const char *aad,
    uint8_t key[DZ_KEY_BYTES], struct dz_err *err);

/*
 * Seal / open a field. out must hold len + DZ_SEAL_OVERHEAD bytes (seal)
 * or len - DZ_SEAL_OVERHEAD (open). Open fails (EX_DATAERR) on tampering.
 */
int dz_crypt_seal(const uint8_t key[DZ_KEY_BYTES], const char *aad,
    const uint8_t *in, size_t len, uint8_t *out, struct dz_err *err);
int dz_crypt_open(const uint8_t key[DZ_KEY_BYTES], const char *aad,
    const uint8_t *in, size_t len, uint8_t *out, struct dz_err *err);

/*
 * The master key's check value: an empty value sealed under the master
 * key (associated data "check:master-key"), DZ_KEYCHECK_BYTES long, made
 * at --init and kept with the store (lib/store/storekeycheck). A key
 * that did not make it cannot open it, so a wrong but well-formed key is
 * refused before it seals anything.
 */
#define DZ_KEYCHECK_BYTES DZ_SEAL_OVERHEAD
int dz_crypt_check_make(const uint8_t master[DZ_KEY_BYTES],
    uint8_t out[DZ_KEYCHECK_BYTES], struct dz_err *err);
/* 0, or -1 with EX_CONFIG "wrong master key: ..." if it does not open. */
int dz_crypt_check_open(const uint8_t master[DZ_KEY_BYTES],
    const uint8_t check[DZ_KEYCHECK_BYTES], struct dz_err *err);

/* Wipe then free (NULL is fine). */
void dz_crypt_free_wiped(void *p, size_t len);

#endif
