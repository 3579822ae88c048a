/*
 * lib/crypto/sign: minisign-compatible Ed25519 signatures through OpenSSL 3 EVP.
 * See sign.h for the file formats. Parsing is strict and bounded: every
 * line has a length limit, base64 must decode to exactly the expected
 * number of bytes in its one canonical spelling, and nothing may follow
 * the last line. Errors carry fixed texts: never a key, a path or data.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/crypt.h"
#include "core/err.h"
#include "core/fdio.h"
#include "crypto/sign.h"

#define ALG_BYTES 2
#define SEED_BYTES 32
#define SIG_BYTES 64
#define HASH_BYTES 64			/* BLAKE2b-512 */
#define PUB_BLOB (ALG_BYTES + DZ_SIGN_KEYID_BYTES + DZ_SIGN_PUBLIC_BYTES)
#define SIG_BLOB (ALG_BYTES + DZ_SIGN_KEYID_BYTES + SIG_BYTES)
#define SEC_BLOB (DZ_SIGN_KEYID_BYTES + SEED_BYTES + DZ_SIGN_PUBLIC_BYTES)
#define B64_LEN(n) (((n) + 2) / 3 * 4)

/*
 * minisign reads a comment line with fgets into 1024 bytes, the trusted
 * comment line into 8192: so at most 1022 and 8190 bytes before "\n".
 */
#define COMMENT_LINE_MAX 1022
#define TRUSTED_LINE_MAX 8190
#define PUBFILE_MAX 2048

static const char untrusted_prefix[] = "untrusted comment: ";
static const char trusted_prefix[] = "trusted comment: ";
static const char sig_from[] = "signature from disrupt key ";
static const char pub_default[] = "disrupt public key ";
static const char seckey_magic[] = "disrupt-signing-key-v1\n";
static const char alg_raw[ALG_BYTES] = { 'E', 'd' };	 /* legacy */
static const char alg_hashed[ALG_BYTES] = { 'E', 'D' }; /* prehashed */
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const uint8_t empty[1];

#define PLEN(s) (sizeof(s) - 1)

/* ---------- base64, strict ---------- */

/* out gets B64_LEN(n) characters and a NUL. */
static void
b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[v >> 12 & 63];
		*out++ = b64_alphabet[v >> 6 & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[v >> 12 & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[v >> 12 & 63];
		*out++ = b64_alphabet[v >> 6 & 63];
		*out++ = '=';
	}
	*out = '\0';
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode s[0..slen) into exactly n bytes. Only the canonical encoding
 * passes: length B64_LEN(n), the padding that n implies, no whitespace,
 * and zero in the unused low bits. Returns 0, or -1 (out is then wiped).
 */
static int
b64_decode_exact(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t pad = (3 - n % 3) % 3, full = slen / 4, o = 0;
	int bad = 0;

	if (slen != B64_LEN(n))
		return -1;
	for (size_t q = 0; q < full && !bad; q++) {
		const unsigned char *c = (const unsigned char *)s + 4 * q;
		int last = q + 1 == full;
		int v[4];
		size_t k = last ? 3 - pad : 3;	/* bytes in this quantum */

		for (int j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad) {
				bad |= c[j] != '=';
				v[j] = 0;
			} else {
				v[j] = b64_value(c[j]);
				bad |= v[j] < 0;
			}
		}
		if (bad)
			break;
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* The bits past the last byte must be zero. */
		if ((k == 1 && (w & 0xffff)) || (k == 2 && (w & 0xff)))
			bad = 1;
		uint8_t b[3] = { (uint8_t)(w >> 16), (uint8_t)(w >> 8),
			(uint8_t)w };
		for (size_t j = 0; j < k && !bad; j++)
			out[o++] = b[j];
	}
	if (bad || o != n) {
		OPENSSL_cleanse(out, n);
		return -1;
	}
	return 0;
}

/* ---------- small helpers ---------- */

/* What makes a key or signature text unreadable at once, or NULL. */
static const char *
text_problem(const char *text, size_t len)
{
	if (!text || len == 0)
		return "empty";
	if (memchr(text, '\0', len))
		return "NUL byte";
	return NULL;
}

int
dz_sign_sig_keyid(const char *text, size_t len,
    uint8_t id[DZ_SIGN_KEYID_BYTES])
{
	const char *nl = memchr(text, '\n', len);
	uint8_t raw[12];

	/* 16 characters of the second line are the first 12 bytes. */
	if (!nl || (size_t)(nl + 1 - text) + 16 > len ||
	    b64_decode_exact(nl + 1, 16, raw, sizeof raw) != 0)
		return -1;
	if (raw[0] != 'E' || (raw[1] != 'D' && raw[1] != 'd'))
		return -1;
	memcpy(id, raw + 2, DZ_SIGN_KEYID_BYTES);
	return 0;
}

void
dz_sign_keyid_hex(const uint8_t id[DZ_SIGN_KEYID_BYTES], char out[17])
{
	uint64_t v = 0;

	/*
	 * minisign prints the id as a little-endian 64-bit number with
	 * printf's %PRIX64: upper case, no leading zeros.
	 */
	for (int i = DZ_SIGN_KEYID_BYTES - 1; i >= 0; i--)
		v = v << 8 | id[i];
	snprintf(out, 17, "%" PRIX64, v);
}

/* 0 if c (NULL counts as "") is one line of at most max bytes. */
static int
check_comment(const char *c, size_t max, const char *what, struct dz_err *err)
{
	size_t n = c ? strlen(c) : 0;

	if (n > max)
		return dz_err_set(err, EX_DATAERR, "%s is too long (at most "
		    "%zu bytes)", what, max);
	if (n && strpbrk(c, "\r\n"))
		return dz_err_set(err, EX_DATAERR, "%s must be a single line",
		    what);
	return 0;
}

/*
 * The next line of text[*pos..len): *line and *n without its end ("\n",
 * and a "\r" before it); *ended tells whether a "\n" ended it. Returns 0
 * at the end of the text, -1 if the line is longer than max bytes before
 * its "\n", else 1.
 */
static int
next_line(const char *text, size_t len, size_t *pos, size_t max,
    const char **line, size_t *n, int *ended)
{
	const char *start = text + *pos, *nl;
	size_t left = len - *pos, raw;

	if (left == 0)
		return 0;
	nl = memchr(start, '\n', left);
	raw = nl ? (size_t)(nl - start) : left;
	if (raw > max)
		return -1;
	*pos += raw + (nl != NULL);
	*ended = nl != NULL;
	*line = start;
	*n = raw;
	if (*n > 0 && start[*n - 1] == '\r')
		(*n)--;
	return 1;
}

static int
has_prefix(const char *line, size_t n, const char *prefix, size_t plen)
{
	return n >= plen && memcmp(line, prefix, plen) == 0;
}

/* ---------- Ed25519 and BLAKE2b-512 ---------- */

static EVP_PKEY *
key_from_seed(const uint8_t seed[SEED_BYTES])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    SEED_BYTES);
}

static int
ed_sign(EVP_PKEY *pkey, const uint8_t *msg, size_t len,
    uint8_t sig[SIG_BYTES], struct dz_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = SIG_BYTES;
	int ok;

	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, len ? msg : empty, len) == 1 &&
	    siglen == SIG_BYTES;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return dz_err_set(err, EX_SOFTWARE, "Ed25519 signing failed");
	return 0;
}

/* 1 if sig is pk's signature of msg, 0 if not, -1 on an internal error. */
static int
ed_verify(const uint8_t pk[DZ_SIGN_PUBLIC_BYTES], const uint8_t *msg,
    size_t len, const uint8_t sig[SIG_BYTES], struct dz_err *err)
{
	EVP_PKEY *pkey;
	EVP_MD_CTX *ctx;
	int rc;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk,
	    DZ_SIGN_PUBLIC_BYTES);
	if (!pkey)
		return dz_err_set(err, EX_DATAERR,
		    "public key is not a valid Ed25519 key");
	if (!(ctx = EVP_MD_CTX_new()) ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1) {
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_free(pkey);
		return dz_err_set(err, EX_SOFTWARE,
		    "cannot set up Ed25519 verification");
	}
	rc = EVP_DigestVerify(ctx, sig, SIG_BYTES, len ? msg : empty, len);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc == 1;
}

static int
blake2b512(const uint8_t *data, size_t len, uint8_t out[HASH_BYTES],
    struct dz_err *err)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "BLAKE2B-512", NULL);
	unsigned int n = 0;
	int ok;

	ok = md && EVP_Digest(len ? data : empty, len, out, &n, md, NULL) == 1 &&
	    n == HASH_BYTES;
	EVP_MD_free(md);
	if (!ok)
		return dz_err_set(err, EX_SOFTWARE, "BLAKE2b-512 failed");
	return 0;
}

/* ---------- files ---------- */

/*
 * Create path holding text[0..len) with mode, never replacing a file:
 * written and fsync'd under a temporary name, then hard-linked to path
 * (link fails if path exists), so path is either absent or complete.
 * Does not sync the directory. what names the file in messages.
 */
static int
create_file(const char *path, const char *text, size_t len, mode_t mode,
    const char *what, struct dz_err *err)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof ".tmpXXXXXX");
	int fd, rc = -1;

	if (!tmp)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
	if ((fd = mkstemp(tmp)) < 0) {		/* O_EXCL, mode 0600 */
		dz_err_set(err, EX_CANTCREAT, "cannot create %s: %s", what,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, mode) != 0) {
		dz_err_set(err, EX_CANTCREAT, "cannot set the mode of %s: %s",
		    what, strerror(errno));
		goto out;
	}
	if (dz_fd_write_full(fd, text, len) != 0 || fsync(fd) != 0) {
		dz_err_set(err, EX_IOERR, "cannot write %s: %s", what,
		    strerror(errno));
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		dz_err_set(err, EX_IOERR, "cannot write %s: %s", what,
		    strerror(errno));
		goto out;
	}
	if ((rc = link(tmp, path)) != 0) {
		if (errno == EEXIST)
			dz_err_set(err, EX_CANTCREAT, "%s exists already; not "
			    "replacing it", what);
		else
			dz_err_set(err, EX_CANTCREAT, "cannot create %s: %s",
			    what, strerror(errno));
	}
out:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

/* ---------- public keys ---------- */

int
dz_sign_pub_format(const struct dz_sign_pub *pub, const char *comment,
    char **text, struct dz_err *err)
{
	uint8_t blob[PUB_BLOB];
	char b64[B64_LEN(PUB_BLOB) + 1], id[17];
	size_t size;
	int n;

	*text = NULL;
	if (check_comment(comment, DZ_SIGN_COMMENT_MAX, "public key comment",
	    err))
		return -1;
	memcpy(blob, alg_raw, ALG_BYTES);
	memcpy(blob + ALG_BYTES, pub->id, DZ_SIGN_KEYID_BYTES);
	memcpy(blob + ALG_BYTES + DZ_SIGN_KEYID_BYTES, pub->pk,
	    DZ_SIGN_PUBLIC_BYTES);
	b64_encode(blob, sizeof blob, b64);
	dz_sign_keyid_hex(pub->id, id);
	size = PLEN(untrusted_prefix) + PLEN(pub_default) + 16 +
	    (comment ? strlen(comment) : 0) + sizeof b64 + 2;
	if (!(*text = malloc(size)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (comment)
		n = snprintf(*text, size, "%s%s\n%s\n", untrusted_prefix,
		    comment, b64);
	else
		n = snprintf(*text, size, "%s%s%s\n%s\n", untrusted_prefix,
		    pub_default, id, b64);
	if (n < 0 || (size_t)n >= size) {
		free(*text);
		*text = NULL;
		return dz_err_set(err, EX_SOFTWARE, "cannot format public key");
	}
	return 0;
}

static int
bad_pub(struct dz_err *err, const char *what)
{
	return dz_err_set(err, EX_DATAERR, "malformed public key: %s", what);
}

int
dz_sign_pub_parse(const char *text, size_t len, struct dz_sign_pub *pub,
    struct dz_err *err)
{
	uint8_t blob[PUB_BLOB];
	const char *line, *why;
	size_t pos = 0, n;
	int ended, r;

	if ((why = text_problem(text, len)))
		return bad_pub(err, why);
	r = next_line(text, len, &pos, COMMENT_LINE_MAX, &line, &n, &ended);
	if (r < 0)
		return bad_pub(err, "line too long");
	if (has_prefix(line, n, untrusted_prefix, PLEN(untrusted_prefix))) {
		if (!ended)
			return bad_pub(err, "no key after the comment");
		r = next_line(text, len, &pos, B64_LEN(PUB_BLOB) + 1, &line,
		    &n, &ended);
		if (r == 0)
			return bad_pub(err, "no key after the comment");
		if (r < 0)
			return bad_pub(err, "bad key line");
	} else if (pos != len) {
		return bad_pub(err, "first line is not an untrusted comment");
	}
	if (pos != len)
		return bad_pub(err, "extra data after the key");
	if (b64_decode_exact(line, n, blob, sizeof blob) != 0)
		return bad_pub(err, "bad key line");
	if (memcmp(blob, alg_raw, ALG_BYTES) != 0)
		return bad_pub(err, "unsupported signature algorithm");
	memcpy(pub->id, blob + ALG_BYTES, DZ_SIGN_KEYID_BYTES);
	memcpy(pub->pk, blob + ALG_BYTES + DZ_SIGN_KEYID_BYTES,
	    DZ_SIGN_PUBLIC_BYTES);
	return 0;
}

int
dz_sign_pub_load(const char *path, struct dz_sign_pub *pub,
    struct dz_err *err)
{
	uint8_t buf[PUBFILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return dz_err_set(err, errno == ENOENT || errno == ENOTDIR ||
		    errno == EACCES ? EX_NOINPUT : EX_IOERR,
		    "cannot open public key file: %s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		dz_err_set(err, EX_IOERR, "cannot stat public key file: %s",
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		dz_err_set(err, EX_DATAERR, "public key file is not a regular "
		    "file");
		goto out;
	}
	if ((n = dz_fd_read_full(fd, buf, sizeof buf)) < 0) {
		dz_err_set(err, EX_IOERR, "cannot read public key file: %s",
		    strerror(errno));
		goto out;
	}
	if (n > PUBFILE_MAX) {
		bad_pub(err, "file too long");
		goto out;
	}
	rc = dz_sign_pub_parse((const char *)buf, (size_t)n, pub, err);
out:
	close(fd);
	return rc;
}

/* ---------- secret keys ---------- */

void
dz_sign_key_release(struct dz_sign_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);	/* wipes the private key */
	key->pkey = NULL;
	memset(&key->pub, 0, sizeof key->pub);
}

/* Fill key from a seed; checks the public key if want_pk is not NULL. */
static int
key_make(struct dz_sign_key *key, const uint8_t id[DZ_SIGN_KEYID_BYTES],
    const uint8_t seed[SEED_BYTES], const uint8_t *want_pk)
{
	size_t n = DZ_SIGN_PUBLIC_BYTES;

	key->pkey = key_from_seed(seed);
	if (!key->pkey ||
	    EVP_PKEY_get_raw_public_key(key->pkey, key->pub.pk, &n) != 1 ||
	    n != DZ_SIGN_PUBLIC_BYTES ||
	    (want_pk && CRYPTO_memcmp(want_pk, key->pub.pk, n) != 0)) {
		dz_sign_key_release(key);
		return -1;
	}
	memcpy(key->pub.id, id, DZ_SIGN_KEYID_BYTES);
	return 0;
}

int
dz_sign_key_load(const char *path, struct dz_sign_key *key,
    struct dz_err *err)
{
	enum { TEXT = PLEN(seckey_magic) + B64_LEN(SEC_BLOB) };
	uint8_t text[TEXT + 2];		/* one byte more than allowed */
	uint8_t blob[SEC_BLOB];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	memset(key, 0, sizeof *key);
	/* O_NONBLOCK: a FIFO must be refused, not waited on. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return dz_err_set(err, EX_CONFIG,
			    "signing key file must not be a symlink");
		return dz_err_set(err,
		    e == ENOENT || e == ENOTDIR ? EX_NOINPUT :
		    e == EACCES || e == EPERM ? EX_CONFIG : EX_SOFTWARE,
		    "cannot open signing key file: %s", strerror(e));
	}
	if (fstat(fd, &st) != 0) {
		dz_err_set(err, EX_SOFTWARE, "cannot stat signing key file: %s",
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		dz_err_set(err, EX_CONFIG,
		    "signing key file is not a regular file");
		goto out;
	}
	if (st.st_uid != geteuid()) {
		dz_err_set(err, EX_CONFIG,
		    "signing key file is owned by uid %lu, not by this user",
		    (unsigned long)st.st_uid);
		goto out;
	}
	if (st.st_mode & 077) {
		dz_err_set(err, EX_CONFIG,
		    "signing key file is accessible to group or others "
		    "(mode %04o); it must be 0600",
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((n = dz_fd_read_full(fd, text, sizeof text)) < 0) {
		dz_err_set(err, EX_IOERR, "cannot read signing key file: %s",
		    strerror(errno));
		goto out;
	}
	if ((n != TEXT && !(n == TEXT + 1 && text[TEXT] == '\n')) ||
	    memcmp(text, seckey_magic, PLEN(seckey_magic)) != 0 ||
	    b64_decode_exact((const char *)text + PLEN(seckey_magic),
	    B64_LEN(SEC_BLOB), blob, sizeof blob) != 0) {
		dz_err_set(err, EX_CONFIG, "signing key file is malformed");
		goto out;
	}
	if (key_make(key, blob, blob + DZ_SIGN_KEYID_BYTES,
	    blob + DZ_SIGN_KEYID_BYTES + SEED_BYTES) != 0) {
		dz_err_set(err, EX_CONFIG, "signing key file is corrupt: its "
		    "public key does not match its private key");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(text, sizeof text);
	OPENSSL_cleanse(blob, sizeof blob);
	close(fd);
	return rc;
}

int
dz_sign_keygen(const char *seckey_path, const char *pubkey_path,
    const char *comment, struct dz_err *err)
{
	uint8_t blob[SEC_BLOB];		/* id | seed | public key */
	char sectext[PLEN(seckey_magic) + B64_LEN(SEC_BLOB) + 2];
	char *pubtext = NULL;
	struct dz_sign_key key = { 0 };
	struct stat st;
	int rc = -1;

	if (check_comment(comment, DZ_SIGN_COMMENT_MAX, "public key comment",
	    err))
		return -1;
	/* Fail early, before making anything; link() has the last word. */
	if (lstat(seckey_path, &st) == 0)
		return dz_err_set(err, EX_CANTCREAT, "signing key file exists "
		    "already; not replacing it");
	if (lstat(pubkey_path, &st) == 0)
		return dz_err_set(err, EX_CANTCREAT, "public key file exists "
		    "already; not replacing it");
	if (dz_crypt_random(blob, DZ_SIGN_KEYID_BYTES + SEED_BYTES, err))
		goto out;
	if (key_make(&key, blob, blob + DZ_SIGN_KEYID_BYTES, NULL) != 0) {
		dz_err_set(err, EX_SOFTWARE, "cannot make an Ed25519 key");
		goto out;
	}
	memcpy(blob + DZ_SIGN_KEYID_BYTES + SEED_BYTES, key.pub.pk,
	    DZ_SIGN_PUBLIC_BYTES);
	memcpy(sectext, seckey_magic, PLEN(seckey_magic));
	b64_encode(blob, sizeof blob, sectext + PLEN(seckey_magic));
	strcat(sectext, "\n");
	if (dz_sign_pub_format(&key.pub, comment, &pubtext, err))
		goto out;
	if (create_file(seckey_path, sectext, strlen(sectext), 0600,
	    "signing key file", err))
		goto out;
	if (create_file(pubkey_path, pubtext, strlen(pubtext), 0644,
	    "public key file", err)) {
		unlink(seckey_path);	/* ours: link() made it just now */
		goto out;
	}
	if (dz_fd_sync_parent(seckey_path, "the secret key", err) ||
	    dz_fd_sync_parent(pubkey_path, "the public key", err))
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(blob, sizeof blob);
	OPENSSL_cleanse(sectext, sizeof sectext);
	dz_sign_key_release(&key);
	free(pubtext);
	return rc;
}

/* ---------- signatures ---------- */

/* sig | comment, malloc'd, for the global signature. */
static uint8_t *
global_message(const uint8_t sig[SIG_BYTES], const char *tc, size_t tclen,
    struct dz_err *err)
{
	uint8_t *m = malloc(SIG_BYTES + tclen);

	if (!m) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	memcpy(m, sig, SIG_BYTES);
	if (tclen)
		memcpy(m + SIG_BYTES, tc, tclen);
	return m;
}

int
dz_sign_buf(const struct dz_sign_key *key, const uint8_t *data, size_t len,
    const char *trusted_comment, char **sig_text, struct dz_err *err)
{
	uint8_t hash[HASH_BYTES], blob[SIG_BLOB], gsig[SIG_BYTES];
	uint8_t *sig = blob + ALG_BYTES + DZ_SIGN_KEYID_BYTES, *gm = NULL;
	char b64sig[B64_LEN(SIG_BLOB) + 1], b64g[B64_LEN(SIG_BYTES) + 1];
	char id[17];
	const char *tc = trusted_comment ? trusted_comment : "";
	size_t tclen, size;
	int n, rc = -1;

	*sig_text = NULL;
	if (!key || !key->pkey)
		return dz_err_set(err, EX_SOFTWARE, "no signing key loaded");
	if (check_comment(tc, DZ_SIGN_TRUSTED_MAX, "trusted comment", err))
		return -1;
	tclen = strlen(tc);
	if (blake2b512(data, len, hash, err))
		return -1;
	memcpy(blob, alg_hashed, ALG_BYTES);
	memcpy(blob + ALG_BYTES, key->pub.id, DZ_SIGN_KEYID_BYTES);
	if (ed_sign(key->pkey, hash, sizeof hash, sig, err))
		return -1;
	if (!(gm = global_message(sig, tc, tclen, err)))
		return -1;
	if (ed_sign(key->pkey, gm, SIG_BYTES + tclen, gsig, err))
		goto out;
	/* Check both against the public key, as minisign does. */
	if (ed_verify(key->pub.pk, hash, sizeof hash, sig, err) != 1 ||
	    ed_verify(key->pub.pk, gm, SIG_BYTES + tclen, gsig, err) != 1) {
		dz_err_set(err, EX_SOFTWARE, "a fresh signature does not "
		    "verify with the key's public half");
		goto out;
	}
	b64_encode(blob, sizeof blob, b64sig);
	b64_encode(gsig, sizeof gsig, b64g);
	dz_sign_keyid_hex(key->pub.id, id);
	size = PLEN(untrusted_prefix) + PLEN(sig_from) + 16 + 1 +
	    sizeof b64sig + PLEN(trusted_prefix) + tclen + 1 + sizeof b64g + 1;
	if (!(*sig_text = malloc(size))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto out;
	}
	n = snprintf(*sig_text, size, "%s%s%s\n%s\n%s%s\n%s\n",
	    untrusted_prefix, sig_from, id, b64sig, trusted_prefix, tc, b64g);
	if (n < 0 || (size_t)n >= size) {
		free(*sig_text);
		*sig_text = NULL;
		dz_err_set(err, EX_SOFTWARE, "cannot format signature");
		goto out;
	}
	rc = 0;
out:
	free(gm);
	return rc;
}

struct sigfile {
	uint8_t blob[SIG_BLOB];		/* alg | key id | sig */
	uint8_t gsig[SIG_BYTES];
	const char *tc;			/* into the caller's text */
	size_t tclen;
};

static int
bad_sig(struct dz_err *err, const char *what)
{
	return dz_err_set(err, EX_DATAERR, "malformed signature file: %s",
	    what);
}

static int
parse_sig(const char *text, size_t len, struct sigfile *sf,
    struct dz_err *err)
{
	const char *line, *why;
	size_t pos = 0, n;
	int ended, r;

	if ((why = text_problem(text, len)))
		return bad_sig(err, why);

	r = next_line(text, len, &pos, COMMENT_LINE_MAX, &line, &n, &ended);
	if (r < 0)
		return bad_sig(err, "untrusted comment too long");
	if (!has_prefix(line, n, untrusted_prefix, PLEN(untrusted_prefix)))
		return bad_sig(err, "no untrusted comment line");
	if (!ended)
		return bad_sig(err, "truncated");

	r = next_line(text, len, &pos, B64_LEN(SIG_BLOB) + 1, &line, &n,
	    &ended);
	if (r == 0 || (r > 0 && !ended))
		return bad_sig(err, "truncated");
	if (r < 0 || b64_decode_exact(line, n, sf->blob, sizeof sf->blob))
		return bad_sig(err, "bad signature line");
	if (memcmp(sf->blob, alg_hashed, ALG_BYTES) != 0 &&
	    memcmp(sf->blob, alg_raw, ALG_BYTES) != 0)
		return bad_sig(err, "unsupported signature algorithm");

	r = next_line(text, len, &pos, TRUSTED_LINE_MAX, &line, &n, &ended);
	if (r == 0)
		return bad_sig(err, "truncated");
	if (r < 0)
		return bad_sig(err, "trusted comment too long");
	if (!has_prefix(line, n, trusted_prefix, PLEN(trusted_prefix)))
		return bad_sig(err, "no trusted comment line");
	if (!ended)
		return bad_sig(err, "truncated");
	sf->tc = line + PLEN(trusted_prefix);
	sf->tclen = n - PLEN(trusted_prefix);
	if (sf->tclen > DZ_SIGN_TRUSTED_MAX)
		return bad_sig(err, "trusted comment too long");
	if (memchr(sf->tc, '\r', sf->tclen))
		return bad_sig(err, "carriage return in the trusted comment");

	r = next_line(text, len, &pos, B64_LEN(SIG_BYTES) + 1, &line, &n,
	    &ended);
	if (r == 0)
		return bad_sig(err, "truncated");
	if (r < 0 || b64_decode_exact(line, n, sf->gsig, sizeof sf->gsig))
		return bad_sig(err, "bad global signature line");
	if (pos != len)
		return bad_sig(err, "extra data after the signature");
	return 0;
}

/* Parse a signature file and check that it names pub's key. */
static int
sig_open(const struct dz_sign_pub *pub, const char *sig_text, size_t sig_len,
    struct sigfile *sf, struct dz_err *err)
{
	const uint8_t *id = sf->blob + ALG_BYTES;

	if (parse_sig(sig_text, sig_len, sf, err))
		return -1;
	if (memcmp(id, pub->id, DZ_SIGN_KEYID_BYTES) != 0) {
		char got[17], want[17];

		dz_sign_keyid_hex(id, got);
		dz_sign_keyid_hex(pub->id, want);
		return dz_err_set(err, EX_DATAERR, "signature was made with "
		    "another key (key id %s, expected %s)", got, want);
	}
	return 0;
}

/*
 * The global signature over signature | trusted comment; on success a
 * copy of the comment goes to *out (when out is not NULL).
 */
static int
sig_comment(const struct dz_sign_pub *pub, const struct sigfile *sf,
    char **out, struct dz_err *err)
{
	uint8_t *gm;
	int r;

	if (!(gm = global_message(sf->blob + ALG_BYTES + DZ_SIGN_KEYID_BYTES,
	    sf->tc, sf->tclen, err)))
		return -1;
	r = ed_verify(pub->pk, gm, SIG_BYTES + sf->tclen, sf->gsig, err);
	free(gm);
	if (r != 1)
		return r < 0 ? -1 : dz_err_set(err, EX_DATAERR,
		    "trusted comment was tampered with");
	if (!out)
		return 0;
	if (!(*out = malloc(sf->tclen + 1)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	memcpy(*out, sf->tc, sf->tclen);
	(*out)[sf->tclen] = '\0';
	return 0;
}

int
dz_sign_verify(const struct dz_sign_pub *pub, const uint8_t *data,
    size_t len, const char *sig_text, size_t sig_len,
    char **trusted_comment_out, struct dz_err *err)
{
	struct sigfile sf;
	uint8_t hash[HASH_BYTES];
	const uint8_t *sig, *msg = data;
	size_t msglen = len;
	int r;

	if (trusted_comment_out)
		*trusted_comment_out = NULL;
	if (sig_open(pub, sig_text, sig_len, &sf, err))
		return -1;
	sig = sf.blob + ALG_BYTES + DZ_SIGN_KEYID_BYTES;
	if (memcmp(sf.blob, alg_hashed, ALG_BYTES) == 0) {
		if (blake2b512(data, len, hash, err))
			return -1;
		msg = hash;
		msglen = sizeof hash;
	}
	if ((r = ed_verify(pub->pk, msg, msglen, sig, err)) != 1)
		return r < 0 ? -1 : dz_err_set(err, EX_DATAERR,
		    "signature does not match the data");
	return sig_comment(pub, &sf, trusted_comment_out, err);
}

int
dz_sign_verify_comment(const struct dz_sign_pub *pub, const char *sig_text,
    size_t sig_len, char **trusted_comment_out, struct dz_err *err)
{
	struct sigfile sf;

	if (trusted_comment_out)
		*trusted_comment_out = NULL;
	if (sig_open(pub, sig_text, sig_len, &sf, err))
		return -1;
	return sig_comment(pub, &sf, trusted_comment_out, err);
}
