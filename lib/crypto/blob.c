/*
 * lib/crypto/blob: media encrypted at rest, in chunks. See blob.h for the
 * format. Errors carry fixed texts (and strerror): never a key, a path
 * or a byte of data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/blob.h"
#include "crypto/gcmint.h"
#include "core/fdio.h"
#include "core/err.h"

#define NONCE_BYTES DZ_GCM_NONCE
#define TAG_BYTES DZ_GCM_TAG
#define PREFIX_BYTES 7
#define HEADER_BYTES 16			/* "DZB1" | u32 | prefix | 0 */
#define CHUNK_MAX (16u << 20)		/* largest chunk size a reader accepts */

static const char blob_magic[4] = { 'D', 'Z', 'B', '1' };
static const char blob_corrupt[] = "blob is corrupt or truncated";

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
	if (!(w->ctx = dz_gcm_new(key, 1))) {
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
	if (dz_gcm_seal(w->ctx, iv, w->header, HEADER_BYTES, w->buf, w->have,
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
	if (!(r->ctx = dz_gcm_new(key, 0))) {
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
	if (dz_gcm_open(r->ctx, iv, r->header, HEADER_BYTES, r->ct, ptlen,
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
