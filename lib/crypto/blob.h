/*
 * lib/crypto/blob: media encrypted at rest.
 *
 * May use: core/ (err, fdio), crypto/ (crypt: the key size, wiping;
 * gcmint.h); OpenSSL.
 *
 * A fresh random key per item; the plaintext is cut into
 * chunks of DZ_BLOB_CHUNK bytes, each sealed with AES-256-GCM under nonce
 * = 7-byte random prefix || 4-byte big-endian chunk number || 1-byte
 * "last chunk" flag, with the blob header as associated data. So a bit
 * flip, a truncation, a reordering or a chunk from another blob fails
 * authentication, and a video is never whole in memory. Layout:
 *   header: "DZB1" | u32 chunk size | 7-byte nonce prefix | 1 byte 0
 *   chunks: ciphertext (chunk size, the last one shorter) | 16-byte tag
 * The last chunk (possibly empty) has the flag set; anything after it, or
 * a stream ending without it, is an error.
 *
 * Every buffer that held plaintext is wiped (OPENSSL_cleanse) before it
 * is freed.
 */
#ifndef DZ_BLOB_H
#define DZ_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypt.h"

struct dz_err;

#define DZ_BLOB_CHUNK 65536

/* Streaming blob encryption to a file descriptor. */
struct dz_blob_writer;
struct dz_blob_writer *dz_blob_writer_new(int fd,
    const uint8_t key[DZ_KEY_BYTES], struct dz_err *err);
int dz_blob_write(struct dz_blob_writer *w, const uint8_t *buf, size_t len,
    struct dz_err *err);
/* Writes the final chunk; does not fsync or close fd. */
int dz_blob_writer_finish(struct dz_blob_writer *w, struct dz_err *err);
void dz_blob_writer_free(struct dz_blob_writer *w);

/* Streaming blob decryption from a file descriptor. */
struct dz_blob_reader;
struct dz_blob_reader *dz_blob_reader_new(int fd,
    const uint8_t key[DZ_KEY_BYTES], struct dz_err *err);
/*
 * Next authenticated plaintext chunk: returns 1 with *buf (owned by the
 * reader, valid until the next call) and *len, 0 after the final chunk,
 * -1 (EX_DATAERR "blob is corrupt or truncated") on any failure.
 */
int dz_blob_read(struct dz_blob_reader *r, const uint8_t **buf, size_t *len,
    struct dz_err *err);
void dz_blob_reader_free(struct dz_blob_reader *r);

/* Whole blob into a malloc'd buffer (at most max bytes); caller wipes+frees. */
int dz_blob_read_all(int fd, const uint8_t key[DZ_KEY_BYTES], uint64_t max,
    uint8_t **buf, size_t *len, struct dz_err *err);

#endif
