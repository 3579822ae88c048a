/*
 * lib/crypto/crypt: AES-256-GCM through OpenSSL 3 EVP. See crypt.h for the
 * formats. Errors carry fixed texts (and strerror): never a key, a path
 * or a byte of data.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/crypt.h"
#include "crypto/gcmint.h"
#include "core/hex.h"
#include "core/fdio.h"
#include "core/err.h"

#define NONCE_BYTES DZ_GCM_NONCE

void
dz_crypt_free_wiped(void *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

int
dz_crypt_random(uint8_t *buf, size_t len, struct dz_err *err)
{
	while (len > 0) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		if (RAND_bytes(buf, n) != 1)
			return dz_err_set(err, EX_SOFTWARE,
			    "the random number generator failed");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static size_t
aad_len(const char *aad)
{
	return aad ? strlen(aad) : 0;
}

/* ---------- fields and wrapped keys ---------- */

int
dz_crypt_seal(const uint8_t key[DZ_KEY_BYTES], const char *aad,
    const uint8_t *in, size_t len, uint8_t *out, struct dz_err *err)
{
	EVP_CIPHER_CTX *ctx;
	int rc;

	if (len > SIZE_MAX - DZ_SEAL_OVERHEAD)
		return dz_err_set(err, EX_SOFTWARE, "value too large to seal");
	if (dz_crypt_random(out, NONCE_BYTES, err))
		return -1;
	if (!(ctx = dz_gcm_new(key, 1)))
		return dz_err_set(err, EX_SOFTWARE, "cannot set up AES-256-GCM");
	rc = dz_gcm_seal(ctx, out, (const uint8_t *)aad, aad_len(aad), in, len,
	    out + NONCE_BYTES, out + NONCE_BYTES + len);
	EVP_CIPHER_CTX_free(ctx);
	if (rc) {
		OPENSSL_cleanse(out, len + DZ_SEAL_OVERHEAD);
		return dz_err_set(err, EX_SOFTWARE, "encryption failed");
	}
	return 0;
}

/* Open with a fixed error message for each caller. */
static int
open_sealed(const uint8_t key[DZ_KEY_BYTES], const char *aad,
    const uint8_t *in, size_t len, uint8_t *out, const char *what,
    struct dz_err *err)
{
	EVP_CIPHER_CTX *ctx;
	size_t n;
	int rc;

	if (len < DZ_SEAL_OVERHEAD)
		return dz_err_set(err, EX_DATAERR, "%s", what);
	n = len - DZ_SEAL_OVERHEAD;
	if (!(ctx = dz_gcm_new(key, 0)))
		return dz_err_set(err, EX_SOFTWARE, "cannot set up AES-256-GCM");
	rc = dz_gcm_open(ctx, in, (const uint8_t *)aad, aad_len(aad),
	    in + NONCE_BYTES, n, in + NONCE_BYTES + n, out);
	EVP_CIPHER_CTX_free(ctx);
	if (rc)
		return dz_err_set(err, EX_DATAERR, "%s", what);
	return 0;
}

int
dz_crypt_open(const uint8_t key[DZ_KEY_BYTES], const char *aad,
    const uint8_t *in, size_t len, uint8_t *out, struct dz_err *err)
{
	return open_sealed(key, aad, in, len, out,
	    "sealed value is corrupt or belongs elsewhere", err);
}

int
dz_crypt_wrap(const uint8_t master[DZ_KEY_BYTES],
    const uint8_t key[DZ_KEY_BYTES], const char *aad,
    uint8_t out[DZ_WRAPPED_KEY_BYTES], struct dz_err *err)
{
	return dz_crypt_seal(master, aad, key, DZ_KEY_BYTES, out, err);
}

int
dz_crypt_unwrap(const uint8_t master[DZ_KEY_BYTES],
    const uint8_t in[DZ_WRAPPED_KEY_BYTES], const char *aad,
    uint8_t key[DZ_KEY_BYTES], struct dz_err *err)
{
	return open_sealed(master, aad, in, DZ_WRAPPED_KEY_BYTES, key,
	    "wrapped key does not open with this master key and owner", err);
}

#define CHECK_AAD "check:master-key"

int
dz_crypt_check_make(const uint8_t master[DZ_KEY_BYTES],
    uint8_t out[DZ_KEYCHECK_BYTES], struct dz_err *err)
{
	return dz_crypt_seal(master, CHECK_AAD, NULL, 0, out, err);
}

int
dz_crypt_check_open(const uint8_t master[DZ_KEY_BYTES],
    const uint8_t check[DZ_KEYCHECK_BYTES], struct dz_err *err)
{
	uint8_t none[1];

	return open_sealed(master, CHECK_AAD, check, DZ_KEYCHECK_BYTES, none,
	    "", err) ? dz_err_set(err, EX_CONFIG, "wrong master key: it "
	    "does not open the store's key check value") : 0;
}

void
dz_crypt_aad(char out[DZ_AAD_MAX], const char *kind, const char *id)
{
	snprintf(out, DZ_AAD_MAX, "%s:%s", kind, id);
}

/* ---------- the master key file ---------- */

/* Value of hex digit c, or -1; no branch on c. */
static int
hex_value(unsigned char c)
{
	int d = c - '0', l = (c | 0x20) - 'a' + 10;
	int is_d = ((d >= 0) & (d <= 9));
	int is_l = ((l >= 10) & (l <= 15));

	return (d & -is_d) | (l & -is_l) | (-1 & -(1 - (is_d | is_l)));
}

int
dz_crypt_master_load(const char *path, uint8_t key[DZ_KEY_BYTES],
    struct dz_err *err)
{
	uint8_t text[2 * DZ_KEY_BYTES + 2];	/* one byte more than allowed */
	struct stat st;
	ssize_t n;
	int fd, bad = 0, rc = -1;

	/* O_NONBLOCK: a FIFO must be refused, not waited on. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return dz_err_set(err, EX_CONFIG,
			    "master key file must not be a symlink");
		return dz_err_set(err,
		    e == ENOENT || e == ENOTDIR ? EX_NOINPUT :
		    e == EACCES || e == EPERM ? EX_CONFIG : EX_SOFTWARE,
		    "cannot open master key file: %s", strerror(e));
	}
	if (fstat(fd, &st) != 0) {
		dz_err_set(err, EX_SOFTWARE, "cannot stat master key file: %s",
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		dz_err_set(err, EX_CONFIG, "master key file is not a regular file");
		goto out;
	}
	if (st.st_uid != geteuid()) {
		dz_err_set(err, EX_CONFIG,
		    "master key file is owned by uid %lu, not by this user",
		    (unsigned long)st.st_uid);
		goto out;
	}
	if (st.st_mode & 077) {
		dz_err_set(err, EX_CONFIG,
		    "master key file is accessible to group or others (mode %04o); "
		    "it must be 0600", (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((n = dz_fd_read_full(fd, text, sizeof text)) < 0) {
		dz_err_set(err, EX_IOERR, "cannot read master key file: %s",
		    strerror(errno));
		goto out;
	}
	if (n == 2 * DZ_KEY_BYTES + 1)
		bad |= text[2 * DZ_KEY_BYTES] != '\n';
	else if (n != 2 * DZ_KEY_BYTES)
		bad = 1;
	for (size_t i = 0; i < DZ_KEY_BYTES && !bad; i++) {
		int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
		bad |= (hi | lo) < 0;
		key[i] = (uint8_t)(((unsigned)hi & 0xf) << 4 | ((unsigned)lo & 0xf));
	}
	if (bad) {
		OPENSSL_cleanse(key, DZ_KEY_BYTES);
		dz_err_set(err, EX_CONFIG,
		    "master key file is malformed: it must hold 64 hex digits");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(text, sizeof text);
	close(fd);
	return rc;
}

int
dz_crypt_master_create(const char *path, struct dz_err *err)
{
	uint8_t key[DZ_KEY_BYTES], text[2 * DZ_KEY_BYTES + 1];
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return dz_err_set(err, EX_CANTCREAT,
			    "master key file exists already; not replacing it");
		return dz_err_set(err, EX_CANTCREAT,
		    "cannot create master key file: %s", strerror(errno));
	}
	if (fchmod(fd, 0600) != 0) {	/* whatever the umask made of it */
		dz_err_set(err, EX_CANTCREAT, "cannot set the master key file's "
		    "mode: %s", strerror(errno));
		goto out;
	}
	if (dz_crypt_random(key, sizeof key, err))
		goto out;
	dz_hex_put((char *)text, key, sizeof key);
	text[2 * DZ_KEY_BYTES] = '\n';
	if (dz_fd_write_full(fd, text, sizeof text) != 0) {
		dz_err_set(err, EX_IOERR, "cannot write master key file: %s",
		    strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0) {
		dz_err_set(err, EX_IOERR, "cannot sync master key file: %s",
		    strerror(errno));
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		dz_err_set(err, EX_IOERR, "cannot write master key file: %s",
		    strerror(errno));
		goto out;
	}
	rc = dz_fd_sync_parent(path, "the master key file", err);
out:
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(text, sizeof text);
	if (fd >= 0)
		close(fd);
	if (rc)		/* we made it with O_EXCL: leave nothing half-made */
		unlink(path);
	return rc;
}
