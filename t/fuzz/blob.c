/*
 * t/fuzz/blob.c: lib/crypto/crypt's readers of stored ciphertext, under a fixed
 * test key.
 *
 * 1. The input as a blob file: dz_blob_read_all from a memory file (a
 *    regular file: its size bounds the buffer) and from a pipe (it does
 *    not), and the chunk reader dz_blob_read one chunk at a time.
 * 2. The input as a recipe: a blob is made here, independently of lib/
 *    (the layout of blob.h, OpenSSL directly, a fixed nonce prefix),
 *    from a plaintext, a chunk size and a tampering the input chooses
 *    (none, cut, bit flip, chunks swapped, a chunk dropped, bytes added,
 *    the last-chunk flag moved). Untouched, lib/ must read it back
 *    exactly; tampered, it must refuse it.
 * 3. Sealed fields and wrapped keys: dz_crypt_open and dz_crypt_unwrap on
 *    the input, and a field sealed by lib/ opens, and no longer does with
 *    one bit flipped.
 *
 * Recipe layout: byte 0 chunk size - 1 (1..256 bytes), byte 1 tampering
 * (low 3 bits: what; the rest: where), bytes 2-3 a position, then the
 * plaintext.
 */
#define _GNU_SOURCE		/* pipe2, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto/blob.h"
#include "crypto/crypt.h"
#include "core/err.h"

#include "fuzz.h"

#define MAX_BLOB (1u << 20)	/* what a pipe is made to hold */

/* ---- 1. raw blobs ---- */

static int
read_fd(int fd, uint8_t **buf, size_t *len)
{
	struct dz_err err;
	int rc = dz_blob_read_all(fd, fz_test_key, 1u << 20, buf, len, &err);

	if (rc && (err.code != EX_DATAERR || *buf))
		fz_fail("dz_blob_read_all failed oddly");
	return rc;
}

/* The whole of data through a pipe (the pipe is made big enough). */
static int
read_pipe(const uint8_t *data, size_t size, uint8_t **buf, size_t *len)
{
	int p[2], rc;
	size_t off = 0;

	if (pipe2(p, O_CLOEXEC) != 0)
		fz_fail("pipe failed");
	if (fcntl(p[1], F_SETPIPE_SZ, (int)MAX_BLOB) < 0 && size > 65536) {
		close(p[0]);
		close(p[1]);
		return -2;	/* cannot hold it: skipped */
	}
	while (off < size) {
		ssize_t n = write(p[1], data + off, size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fz_fail("cannot fill the pipe");
		off += (size_t)n;
	}
	close(p[1]);
	rc = read_fd(p[0], buf, len);
	close(p[0]);
	return rc;
}

/* Read data as a blob every way; 0 and the plaintext, or -1. */
static int
read_blob(const uint8_t *data, size_t size, uint8_t **out, size_t *outlen)
{
	struct dz_blob_reader *r;
	struct dz_err err;
	uint8_t *buf = NULL, *pbuf = NULL;
	size_t len = 0, plen = 0, total = 0;
	int rc, prc, k;

	fz_memfile(data, size);
	rc = read_fd(fz_memfile_fd(), &buf, &len);
	if (size <= MAX_BLOB && (prc = read_pipe(data, size, &pbuf,
	    &plen)) != -2) {
		if (prc != rc || (!rc && (plen != len ||
		    memcmp(pbuf, buf, len))))
			fz_fail("a blob reads differently from a pipe");
		dz_crypt_free_wiped(pbuf, plen);
	}
	/* chunk by chunk: the same bytes */
	if ((r = dz_blob_reader_new(fz_memfile_fd(), fz_test_key, &err))) {
		const uint8_t *p;
		size_t n;

		while ((k = dz_blob_read(r, &p, &n, &err)) == 1) {
			if (!rc && (total + n > len || memcmp(buf + total, p,
			    n)))
				fz_fail("chunks differ from the whole blob");
			total += n;
		}
		if ((k == 0) != (rc == 0) || (!rc && total != len))
			fz_fail("chunks and the whole blob disagree");
		dz_blob_reader_free(r);
	} else if (!rc) {
		fz_fail("a blob read whole has no reader");
	}
	if (rc) {
		*out = NULL;
		*outlen = 0;
		return -1;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* ---- 2. blobs made here ---- */

#define HDR 16
#define TAG 16

struct blob {
	uint8_t *p;
	size_t len, cap;
};

static void
put(struct blob *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		uint8_t *q = realloc(b->p, cap);

		if (!q)
			fz_fail("out of memory");
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* One chunk sealed as lib/crypto/crypt seals it. */
static void
seal_chunk(EVP_CIPHER_CTX *ctx, const uint8_t hdr[HDR], uint32_t num,
    int last, const uint8_t *pt, size_t n, struct blob *out)
{
	uint8_t iv[12], tag[TAG], *ct = malloc(n ? n : 1);
	int k;

	if (!ct)
		fz_fail("out of memory");
	memcpy(iv, hdr + 8, 7);
	iv[7] = (uint8_t)(num >> 24);
	iv[8] = (uint8_t)(num >> 16);
	iv[9] = (uint8_t)(num >> 8);
	iv[10] = (uint8_t)num;
	iv[11] = (uint8_t)last;
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &k, hdr, HDR) != 1 ||
	    (n && EVP_EncryptUpdate(ctx, ct, &k, pt, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &k) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, tag) != 1)
		fz_fail("encryption failed");
	put(out, ct, n);
	put(out, tag, TAG);
	free(ct);
}

/*
 * The blob of pt[0..n) in chunks of csize; flag_at >= 0 puts the last
 * flag on chunk number flag_at instead of the real last one, and ends
 * there.
 */
static void
make_blob(const uint8_t *pt, size_t n, uint32_t csize, long flag_at,
    struct blob *out)
{
	static const uint8_t prefix[7] = { 'f', 'u', 'z', 'z', 'i', 'n', 'g' };
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t hdr[HDR] = { 'D', 'Z', 'B', '1' };
	size_t off = 0;
	uint32_t num = 0;

	hdr[4] = (uint8_t)(csize >> 24);
	hdr[5] = (uint8_t)(csize >> 16);
	hdr[6] = (uint8_t)(csize >> 8);
	hdr[7] = (uint8_t)csize;
	memcpy(hdr + 8, prefix, 7);
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL,
	    NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, fz_test_key, NULL) != 1)
		fz_fail("cannot set up AES-256-GCM");
	put(out, hdr, HDR);
	/* the writer's rule: a full chunk is sealed only when more data
	 * follows, so the last chunk is empty only for an empty blob */
	for (;;) {
		size_t k = n - off > csize ? csize : n - off;
		int last = off + k == n;

		if (flag_at >= 0 && num == (uint32_t)flag_at)
			last = 1;
		seal_chunk(ctx, hdr, num, last, pt + off, k, out);
		off += k;
		num++;
		if (last)
			break;
	}
	EVP_CIPHER_CTX_free(ctx);
}

static void
recipe(const uint8_t *data, size_t size)
{
	struct blob b = { 0 };
	uint32_t csize;
	unsigned what, pos;
	const uint8_t *pt;
	size_t n, chunk_bytes, nchunks;
	uint8_t *got;
	size_t gotlen;
	long flag_at = -1;
	int tampered = 1;

	if (size < 4)
		return;
	csize = (uint32_t)data[0] + 1;
	what = data[1] & 7;
	pos = (unsigned)data[2] << 8 | data[3];
	pt = data + 4;
	n = size - 4;
	nchunks = n / csize + (n % csize != 0) + (n == 0);
	chunk_bytes = csize + TAG;
	/* a last flag on an earlier chunk makes a well-formed blob of a
	 * shorter plaintext: not tampering the reader could see */
	if (what == 6) {
		flag_at = (long)(pos % nchunks);
		if ((size_t)(flag_at + 1) * csize < n)
			n = (size_t)(flag_at + 1) * csize;
	}
	tampered = what != 0 && what != 6;
	make_blob(pt, n, csize, flag_at, &b);

	switch (what) {
	case 1:		/* cut */
		b.len = pos % b.len;
		break;
	case 2:		/* one bit flipped */
		b.p[(size_t)pos / 8 % b.len] ^= (uint8_t)(1u << (pos % 8));
		break;
	case 3:		/* two chunks swapped */
		if (nchunks < 3) {
			tampered = 0;
			break;
		}
		{
			size_t i = pos % (nchunks - 2), j = i + 1;
			uint8_t *tmp = malloc(chunk_bytes);

			if (!tmp)
				fz_fail("out of memory");
			memcpy(tmp, b.p + HDR + i * chunk_bytes, chunk_bytes);
			memcpy(b.p + HDR + i * chunk_bytes,
			    b.p + HDR + j * chunk_bytes, chunk_bytes);
			memcpy(b.p + HDR + j * chunk_bytes, tmp, chunk_bytes);
			free(tmp);
			/* two equal chunks swap into the same bytes? no:
			 * their numbers are in the nonce */
		}
		break;
	case 4:		/* a full chunk dropped */
		if (nchunks < 2) {
			tampered = 0;
			break;
		}
		{
			size_t i = pos % (nchunks - 1);

			memmove(b.p + HDR + i * chunk_bytes,
			    b.p + HDR + (i + 1) * chunk_bytes,
			    b.len - HDR - (i + 1) * chunk_bytes);
			b.len -= chunk_bytes;
		}
		break;
	case 5:		/* bytes added after the end */
		put(&b, data, 1 + pos % size);
		break;
	case 7:		/* the header's reserved byte set */
		b.p[15] = (uint8_t)(1 + pos % 255);
		break;
	default:
		break;
	}
	if (read_blob(b.p, b.len, &got, &gotlen) == 0) {
		if (tampered)
			fz_fail("a tampered blob was accepted");
		if (gotlen != n || memcmp(got, pt, n))
			fz_fail("a blob does not read back as written");
		dz_crypt_free_wiped(got, gotlen);
	} else if (!tampered) {
		fz_fail("a good blob was refused");
	}
	free(b.p);
}

/* ---- 3. sealed fields, wrapped keys ---- */

static void
fields(const uint8_t *data, size_t size)
{
	struct dz_err err;
	uint8_t *out = malloc(size + DZ_SEAL_OVERHEAD);
	uint8_t key[DZ_KEY_BYTES];
	char aad[DZ_AAD_MAX];

	if (!out)
		fz_fail("out of memory");
	dz_crypt_aad(aad, "contact", "00000000000000000000000000000001");
	if (size >= DZ_SEAL_OVERHEAD)
		dz_crypt_open(fz_test_key, aad, data, size, out, &err);
	if (size >= DZ_WRAPPED_KEY_BYTES)
		dz_crypt_unwrap(fz_test_key, data, aad, key, &err);

	/* sealed by lib/, opened; one bit flipped, refused */
	{
		uint8_t *sealed = malloc(size + DZ_SEAL_OVERHEAD);
		size_t bit = size ? data[0] * 131u + size : 0;

		if (!sealed)
			fz_fail("out of memory");
		if (dz_crypt_seal(fz_test_key, aad, data, size, sealed, &err))
			fz_fail("dz_crypt_seal failed");
		if (dz_crypt_open(fz_test_key, aad, sealed,
		    size + DZ_SEAL_OVERHEAD, out, &err) ||
		    (size && memcmp(out, data, size)))
			fz_fail("a sealed field does not open");
		bit %= 8 * (size + DZ_SEAL_OVERHEAD);
		sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (dz_crypt_open(fz_test_key, aad, sealed,
		    size + DZ_SEAL_OVERHEAD, out, &err) == 0)
			fz_fail("a tampered sealed field opens");
		free(sealed);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pt;
	size_t len;

	if (read_blob(data, size, &pt, &len) == 0)
		dz_crypt_free_wiped(pt, len);
	recipe(data, size);
	fields(data, size);
	return 0;
}
