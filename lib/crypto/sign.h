/*
 * lib/crypto/sign: Ed25519 signatures that the stock minisign(1) tool verifies
 * (OpenSSL 3 EVP), so a partner can check a hash bank with
 * `minisign -Vm bank -p disrupt.pub` and need not trust our code.
 *
 * Formats. Every line ends in "\n"; base64 is the standard alphabet with
 * '=' padding. A key id is 8 random bytes, shown as minisign shows it: the
 * bytes read as a little-endian number, in uppercase hex without leading
 * zeros (printf's %PRIX64), so at most 16 digits.
 *
 *   Public key file (minisign's, byte for byte):
 *     untrusted comment: <text>
 *     base64("Ed" | key id (8) | Ed25519 public key (32))     56 chars
 *   A bare base64 line (what `minisign -P` takes) is accepted too.
 *
 *   Signature file (minisign's, byte for byte):
 *     untrusted comment: signature from disrupt key <KEY ID>
 *     base64("ED" | key id (8) | sig (64))                       100 chars
 *     trusted comment: <text>
 *     base64(global sig (64))                                   88 chars
 *   where sig = Ed25519(BLAKE2b-512(data)) and global sig =
 *   Ed25519(sig | trusted comment bytes). We always sign "ED" (prehashed,
 *   minisign's default, accepted by `minisign -V -H`); dz_sign_verify also
 *   accepts legacy "Ed" signatures, made over the raw data (minisign -l).
 *   Only the trusted comment is signed; the untrusted one is not.
 *
 *   Secret key file (ours; minisign never reads it):
 *     disrupt-signing-key-v1
 *     base64(key id (8) | Ed25519 private seed (32) | public key (32))
 *   96 base64 chars, then "\n". Created with mode 0600 under a temporary
 *   name, fsync'd and linked into place only if the name is free, so it
 *   is never replaced and never seen half-written. Loading refuses it
 *   (EX_CONFIG) if it is a symlink, not a regular file, not owned by this
 *   user, readable or writable by group or others, malformed, or if its
 *   public key is not the one its seed makes. Key bytes are wiped
 *   (OPENSSL_cleanse) after use.
 *
 * Limits (minisign's own, so whatever we write it reads): an untrusted
 * comment line holds at most 1022 bytes before its newline, so a comment
 * text at most DZ_SIGN_COMMENT_MAX; a trusted comment at most
 * DZ_SIGN_TRUSTED_MAX bytes. Comments are one line: no CR, LF or NUL.
 *
 * Errors: malformed key files EX_CONFIG, malformed public keys or
 * signatures and failed verification EX_DATAERR, with fixed texts that
 * never hold key material or data.
 *
 * May use: core/ (err, fdio); crypto/ (crypt); OpenSSL.
 */
#ifndef DZ_SIGN_H
#define DZ_SIGN_H

#include <stddef.h>
#include <stdint.h>

struct dz_err;
struct evp_pkey_st;		/* OpenSSL's EVP_PKEY */

#define DZ_SIGN_KEYID_BYTES 8
#define DZ_SIGN_PUBLIC_BYTES 32
#define DZ_SIGN_COMMENT_MAX 1003	/* 1022 - strlen("untrusted comment: ") */
#define DZ_SIGN_TRUSTED_MAX 8173	/* what minisign 0.11 signs and reads */

/* A public key: plain bytes, nothing to release. */
struct dz_sign_pub {
	uint8_t id[DZ_SIGN_KEYID_BYTES];
	uint8_t pk[DZ_SIGN_PUBLIC_BYTES];
};

/*
 * A loaded secret key. Filled by dz_sign_key_load; the caller owns it
 * and must call dz_sign_key_release (which frees and wipes the private
 * key) when done. pub is the matching public key.
 */
struct dz_sign_key {
	struct dz_sign_pub pub;
	struct evp_pkey_st *pkey;
};

/*
 * Make a new key pair: the secret key file at seckey_path (mode 0600)
 * and the public key file at pubkey_path (mode 0644), each fsync'd with
 * its directory. Refuses (EX_CANTCREAT) to replace either file; on
 * failure neither is left behind. comment is the public key's untrusted
 * comment (one line); NULL means "disrupt public key <KEY ID>".
 */
int dz_sign_keygen(const char *seckey_path, const char *pubkey_path,
    const char *comment, struct dz_err *err);

/* Load a secret key file into *key (see the rules above). */
int dz_sign_key_load(const char *path, struct dz_sign_key *key,
    struct dz_err *err);

/* Free and wipe what *key holds; *key may be zeroed or released already. */
void dz_sign_key_release(struct dz_sign_key *key);

/*
 * Sign data[0..len) with a prehashed ("ED") minisign signature carrying
 * trusted_comment (one line, at most DZ_SIGN_TRUSTED_MAX bytes; NULL is
 * ""). On success *sig_text is a malloc'd NUL-terminated signature file
 * that the caller frees; the signature is checked against the key's
 * public half before it is returned.
 */
int dz_sign_buf(const struct dz_sign_key *key, const uint8_t *data,
    size_t len, const char *trusted_comment, char **sig_text,
    struct dz_err *err);

/*
 * Parse a public key: a minisign public key file (comment line and key
 * line) or a bare base64 key line, each with or without a final newline
 * (LF or CRLF). Nothing else is allowed. EX_DATAERR "malformed public
 * key: ..." on failure.
 */
int dz_sign_pub_parse(const char *text, size_t len, struct dz_sign_pub *pub,
    struct dz_err *err);

/* Read a public key file (at most 2 KiB) and parse it. */
int dz_sign_pub_load(const char *path, struct dz_sign_pub *pub,
    struct dz_err *err);

/*
 * Format pub as a public key file with the untrusted comment (one line;
 * NULL means "disrupt public key <KEY ID>"). *text is malloc'd,
 * NUL-terminated, owned by the caller.
 */
int dz_sign_pub_format(const struct dz_sign_pub *pub, const char *comment,
    char **text, struct dz_err *err);

/*
 * Verify sig_text[0..sig_len) (a minisign signature file) for
 * data[0..len) under pub: the key id, the signature over the data ("ED"
 * prehashed or legacy "Ed") and the global signature over the trusted
 * comment. On success, if trusted_comment_out is not NULL, it gets a
 * malloc'd NUL-terminated copy of the trusted comment, owned by the
 * caller. Fails with EX_DATAERR and one of:
 *   "malformed signature file: <what>"
 *   "signature was made with another key (key id X, expected Y)"
 *   "signature does not match the data"
 *   "trusted comment was tampered with"
 * Only once it returns 0 may the trusted comment be believed.
 */
int dz_sign_verify(const struct dz_sign_pub *pub, const uint8_t *data,
    size_t len, const char *sig_text, size_t sig_len,
    char **trusted_comment_out, struct dz_err *err);

/*
 * The same checks but the one over the data: the key id and the global
 * signature over the trusted comment. For a caller that knows by other
 * means that the data is what an earlier dz_sign_verify accepted (an
 * unchanged file, say) and needs only the comment's word. Same errors,
 * but never "signature does not match the data".
 */
int dz_sign_verify_comment(const struct dz_sign_pub *pub,
    const char *sig_text, size_t sig_len, char **trusted_comment_out,
    struct dz_err *err);

/*
 * The key id a minisign signature file names, read without checking
 * anything else: the second line's base64 starts with "ED" or "Ed" and
 * the 8 bytes of the id (12 bytes from its first 16 characters). 0, or
 * -1 if text[0..len) does not look like that (dz_sign_verify then says
 * what is wrong). For a caller with several keys that must pick one.
 */
int dz_sign_sig_keyid(const char *text, size_t len,
    uint8_t id[DZ_SIGN_KEYID_BYTES]);

/* The key id as minisign prints it: %PRIX64 of the little-endian number
 * (at most 16 digits) and a NUL. */
void dz_sign_keyid_hex(const uint8_t id[DZ_SIGN_KEYID_BYTES], char out[17]);

#endif
