/*
 * lib/crypt: AES-256-GCM through OpenSSL 3 EVP. See crypt.h for the
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
#include "core/fdio.h"
#include "core/err.h"

#define NONCE_BYTES 12
#define TAG_BYTES 16
#define PREFIX_BYTES 7
#define HEADER_BYTES 16			/* "DZB1" | u32 | prefix | 0 */
#define CHUNK_MAX (16u << 20)		/* largest chunk size a reader accepts */
#define UPDATE_MAX (1 << 30)		/* bytes per EVP update call */

static const char blob_magic[4] = { 'D', 'Z', 'B', '1' };
static const char blob_corrupt[] = "blob is corrupt or truncated";

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

/* ---------- AES-256-GCM on one message ---------- */

/*
 * Encrypt in[0..len) to out with tag. ctx was set up for encryption with
 * the key already; each call sets a new nonce. Returns 0 or -1.
 */
static int
gcm_seal(EVP_CIPHER_CTX *ctx, const uint8_t iv[NONCE_BYTES],
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[TAG_BYTES])
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
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) != 1)
		return -1;
	return 0;
}

/*
 * Decrypt and authenticate. On failure out[0..len) may hold unverified
 * plaintext: it is wiped here, so the caller never sees it.
 */
static int
gcm_open(EVP_CIPHER_CTX *ctx, const uint8_t iv[NONCE_BYTES],
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    const uint8_t tag[TAG_BYTES], uint8_t *out)
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
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES,
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
static EVP_CIPHER_CTX *
gcm_new(const uint8_t key[DZ_KEY_BYTES], int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES,
	    NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1) {
		EVP_CIPHER_CTX_free(ctx);	/* cleanses the key schedule */
		return NULL;
	}
	return ctx;
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
	if (!(ctx = gcm_new(key, 1)))
		return dz_err_set(err, EX_SOFTWARE, "cannot set up AES-256-GCM");
	rc = gcm_seal(ctx, out, (const uint8_t *)aad, aad_len(aad), in, len,
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
	if (!(ctx = gcm_new(key, 0)))
		return dz_err_set(err, EX_SOFTWARE, "cannot set up AES-256-GCM");
	rc = gcm_open(ctx, in, (const uint8_t *)aad, aad_len(aad),
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
	static const char digits[] = "0123456789abcdef";
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
	for (size_t i = 0; i < DZ_KEY_BYTES; i++) {
		text[2 * i] = (uint8_t)digits[key[i] >> 4];
		text[2 * i + 1] = (uint8_t)digits[key[i] & 0xf];
	}
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

/* ---------- blobs ---------- */

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Nonce of chunk i: prefix (header bytes 8..14) | be32 i | last. */
static void
chunk_nonce(uint8_t iv[NONCE_BYTES], const uint8_t header[HEADER_BYTES],
    uint32_t i, int last)
{
	memcpy(iv, header + 8, PREFIX_BYTES);
	put_be32(iv + PREFIX_BYTES, i);
	iv[NONCE_BYTES - 1] = last ? 1 : 0;
}

struct dz_blob_writer {
	int fd;
	EVP_CIPHER_CTX *ctx;
	uint8_t header[HEADER_BYTES];
	uint32_t next;		/* number of the next chunk */
	int state;		/* 0 writing, 1 finished, -1 failed */
	size_t have;		/* plaintext bytes in buf */
	uint8_t buf[DZ_BLOB_CHUNK];
	uint8_t out[DZ_BLOB_CHUNK + TAG_BYTES];
};

void
dz_blob_writer_free(struct dz_blob_writer *w)
{
	if (!w)
		return;
	EVP_CIPHER_CTX_free(w->ctx);
	dz_crypt_free_wiped(w, sizeof *w);
}

struct dz_blob_writer *
dz_blob_writer_new(int fd, const uint8_t key[DZ_KEY_BYTES], struct dz_err *err)
{
	struct dz_blob_writer *w = calloc(1, sizeof *w);

	if (!w) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	w->fd = fd;
	memcpy(w->header, blob_magic, 4);
	put_be32(w->header + 4, DZ_BLOB_CHUNK);
	if (dz_crypt_random(w->header + 8, PREFIX_BYTES, err))
		goto fail;
	w->header[15] = 0;
	if (!(w->ctx = gcm_new(key, 1))) {
		dz_err_set(err, EX_SOFTWARE, "cannot set up AES-256-GCM");
		goto fail;
	}
	if (dz_fd_write_full(fd, w->header, HEADER_BYTES) != 0) {
		dz_err_set(err, EX_IOERR, "cannot write blob: %s",
		    strerror(errno));
		goto fail;
	}
	return w;
fail:
	dz_blob_writer_free(w);
	return NULL;
}

/* Seal and write the buffered chunk. */
static int
emit(struct dz_blob_writer *w, int last, struct dz_err *err)
{
	uint8_t iv[NONCE_BYTES];

	if (w->next == UINT32_MAX && !last) {	/* no number for the next one */
		w->state = -1;
		return dz_err_set(err, EX_DATAERR, "blob too large");
	}
	chunk_nonce(iv, w->header, w->next, last);
	if (gcm_seal(w->ctx, iv, w->header, HEADER_BYTES, w->buf, w->have,
	    w->out, w->out + w->have) != 0) {
		w->state = -1;
		return dz_err_set(err, EX_SOFTWARE, "encryption failed");
	}
	if (dz_fd_write_full(w->fd, w->out, w->have + TAG_BYTES) != 0) {
		w->state = -1;
		return dz_err_set(err, EX_IOERR, "cannot write blob: %s",
		    strerror(errno));
	}
	OPENSSL_cleanse(w->buf, w->have);
	w->next++;
	w->have = 0;
	return 0;
}

static int
writer_usable(struct dz_blob_writer *w, struct dz_err *err)
{
	if (w->state == 1)
		return dz_err_set(err, EX_SOFTWARE, "blob written after its end");
	if (w->state < 0)
		return dz_err_set(err, EX_SOFTWARE, "blob written after a failure");
	return 0;
}

int
dz_blob_write(struct dz_blob_writer *w, const uint8_t *buf, size_t len,
    struct dz_err *err)
{
	if (writer_usable(w, err))
		return -1;
	while (len > 0) {
		size_t n;

		/* A full buffer is sealed only once more data comes, so that
		 * the final chunk is never empty unless the blob is. */
		if (w->have == DZ_BLOB_CHUNK && emit(w, 0, err))
			return -1;
		n = DZ_BLOB_CHUNK - w->have;
		if (n > len)
			n = len;
		memcpy(w->buf + w->have, buf, n);
		w->have += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int
dz_blob_writer_finish(struct dz_blob_writer *w, struct dz_err *err)
{
	if (writer_usable(w, err) || emit(w, 1, err))
		return -1;
	w->state = 1;
	return 0;
}

struct dz_blob_reader {
	int fd;
	EVP_CIPHER_CTX *ctx;
	uint8_t header[HEADER_BYTES];
	uint32_t chunk;		/* plaintext bytes of a full chunk */
	uint32_t next;		/* number of the next chunk */
	int state;		/* 0 reading, 1 after the final chunk, -1 failed */
	int eof;
	size_t have;		/* ciphertext bytes in ct */
	uint8_t *ct;		/* chunk + TAG_BYTES + 1 (one byte read ahead) */
	uint8_t *pt;		/* chunk */
};

void
dz_blob_reader_free(struct dz_blob_reader *r)
{
	if (!r)
		return;
	EVP_CIPHER_CTX_free(r->ctx);
	free(r->ct);
	dz_crypt_free_wiped(r->pt, r->chunk);
	free(r);
}

static int
reader_io(struct dz_blob_reader *r, struct dz_err *err)
{
	if (r)
		r->state = -1;
	return dz_err_set(err, EX_IOERR, "cannot read blob: %s", strerror(errno));
}

struct dz_blob_reader *
dz_blob_reader_new(int fd, const uint8_t key[DZ_KEY_BYTES], struct dz_err *err)
{
	struct dz_blob_reader *r = calloc(1, sizeof *r);
	ssize_t n;

	if (!r) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	r->fd = fd;
	if ((n = dz_fd_read_full(fd, r->header, HEADER_BYTES)) < 0) {
		reader_io(NULL, err);
		goto fail;
	}
	r->chunk = get_be32(r->header + 4);
	if (n != HEADER_BYTES || memcmp(r->header, blob_magic, 4) != 0 ||
	    r->header[15] != 0 || r->chunk == 0 || r->chunk > CHUNK_MAX) {
		r->chunk = 0;
		dz_err_set(err, EX_DATAERR, "%s", blob_corrupt);
		goto fail;
	}
	r->ct = malloc((size_t)r->chunk + TAG_BYTES + 1);
	r->pt = malloc(r->chunk);
	if (!r->ct || !r->pt) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	if (!(r->ctx = gcm_new(key, 0))) {
		dz_err_set(err, EX_SOFTWARE, "cannot set up AES-256-GCM");
		goto fail;
	}
	return r;
fail:
	dz_blob_reader_free(r);
	return NULL;
}

int
dz_blob_read(struct dz_blob_reader *r, const uint8_t **buf, size_t *len,
    struct dz_err *err)
{
	const size_t full = (size_t)r->chunk + TAG_BYTES;
	uint8_t iv[NONCE_BYTES];
	size_t ctlen, ptlen;
	int last;

	*buf = NULL;
	*len = 0;
	if (r->state == 1)
		return 0;
	if (r->state < 0)
		return dz_err_set(err, EX_DATAERR, "%s", blob_corrupt);
	/* Read one full chunk and one byte more: that byte tells whether
	 * this chunk must be the final one. */
	while (r->have < full + 1 && !r->eof) {
		ssize_t n = read(r->fd, r->ct + r->have, full + 1 - r->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return reader_io(r, err);
		if (n == 0)
			r->eof = 1;
		r->have += (size_t)n;
	}
	last = r->have <= full;
	ctlen = last ? r->have : full;
	if (ctlen < TAG_BYTES || (!last && r->next == UINT32_MAX)) {
		r->state = -1;
		return dz_err_set(err, EX_DATAERR, "%s", blob_corrupt);
	}
	ptlen = ctlen - TAG_BYTES;
	chunk_nonce(iv, r->header, r->next, last);
	if (gcm_open(r->ctx, iv, r->header, HEADER_BYTES, r->ct, ptlen,
	    r->ct + ptlen, r->pt) != 0) {
		r->state = -1;
		return dz_err_set(err, EX_DATAERR, "%s", blob_corrupt);
	}
	r->next++;
	if (last) {
		r->state = 1;
		r->have = 0;
		if (ptlen == 0)
			return 0;
	} else {
		r->ct[0] = r->ct[full];
		r->have = 1;
	}
	*buf = r->pt;
	*len = ptlen;
	return 1;
}

/* Grow *p from *cap to at least need bytes (at most max), wiping the old copy. */
static int
grow_wiped(uint8_t **p, size_t *cap, size_t used, size_t need, size_t max,
    struct dz_err *err)
{
	size_t ncap = *cap < max / 2 ? *cap * 2 : max;
	uint8_t *q;

	if (ncap < need)
		ncap = need;
	if (!(q = malloc(ncap)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	memcpy(q, *p, used);
	dz_crypt_free_wiped(*p, *cap);
	*p = q;
	*cap = ncap;
	return 0;
}

int
dz_blob_read_all(int fd, const uint8_t key[DZ_KEY_BYTES], uint64_t max,
    uint8_t **buf, size_t *len, struct dz_err *err)
{
	struct dz_blob_reader *r;
	uint8_t *out = NULL;
	size_t cap = 0, used = 0, limit;
	const uint8_t *p;
	size_t n;
	struct stat st;
	int k;

	*buf = NULL;
	*len = 0;
	limit = max > SIZE_MAX ? SIZE_MAX : (size_t)max;
	if (!(r = dz_blob_reader_new(fd, key, err)))
		return -1;
	/* A regular file tells how much plaintext it can hold at most:
	 * its size less the header and at least one tag. */
	cap = 4096;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > HEADER_BYTES + TAG_BYTES)
		cap = (uint64_t)st.st_size - HEADER_BYTES - TAG_BYTES > limit ?
		    limit : (size_t)st.st_size - HEADER_BYTES - TAG_BYTES;
	if (cap == 0)
		cap = 1;
	if (!(out = malloc(cap))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	while ((k = dz_blob_read(r, &p, &n, err)) == 1) {
		if (n > limit - used) {
			dz_err_set(err, EX_DATAERR, "blob is larger than the limit");
			goto fail;
		}
		if (used + n > cap &&
		    grow_wiped(&out, &cap, used, used + n, limit, err))
			goto fail;
		memcpy(out + used, p, n);
		used += n;
	}
	if (k < 0)
		goto fail;
	dz_blob_reader_free(r);
	*buf = out;
	*len = used;
	return 0;
fail:
	dz_blob_reader_free(r);
	dz_crypt_free_wiped(out, cap);
	return -1;
}
