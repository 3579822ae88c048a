/*
 * t/unit/test-crypt: lib/crypto/crypt keeps media and personal data sealed: round
 * trips, every kind of tampering refused, the on-disk format checked
 * against an independent encoder, and the master key file's rules.
 * Scratch files live in a mkdtemp directory under $TMPDIR, removed at
 * the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto/blob.h"
#include "crypto/crypt.h"
#include "core/err.h"
#include "tap.h"
#include "util.h"

#define CHUNK DZ_BLOB_CHUNK
#define CT_CHUNK (CHUNK + 16)
#define HDR 16

static const char corrupt[] = "blob is corrupt or truncated";
static char dir[4096];
static int scratch = -1;	/* an unlinked file for blobs under test */

struct mem {
	uint8_t *p;
	size_t n;
};

static void
fill_random(uint8_t *p, size_t n)
{
	struct dz_err e;

	if (dz_crypt_random(p, n, &e)) {
		printf("Bail out! %s\n", e.msg);
		exit(1);
	}
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The scratch file holds exactly p[0..n), positioned at 0. */
static int
scratch_fd(const uint8_t *p, size_t n)
{
	if (ftruncate(scratch, 0) != 0 || lseek(scratch, 0, SEEK_SET) != 0 ||
	    write_all(scratch, p, n) != 0 || lseek(scratch, 0, SEEK_SET) != 0)
		bail_out("scratch file");
	return scratch;
}

/* The whole of fd from offset 0. */
static struct mem
slurp(int fd)
{
	struct mem m = { NULL, 0 };
	struct stat st;

	if (fstat(fd, &st) != 0)
		bail_out("fstat");
	m.n = (size_t)st.st_size;
	m.p = xmalloc(m.n);
	if (pread(fd, m.p, m.n, 0) != (ssize_t)m.n)
		bail_out("pread");
	return m;
}

/* Encrypt data with the writer, in pieces of at most piece bytes. */
static struct mem
encrypt(const uint8_t key[DZ_KEY_BYTES], const uint8_t *data, size_t n,
    size_t piece)
{
	struct dz_blob_writer *w;
	struct dz_err e;
	struct mem m;
	size_t off = 0;

	scratch_fd(NULL, 0);
	if (!(w = dz_blob_writer_new(scratch, key, &e)))
		goto fail;
	while (off < n) {
		size_t k = n - off < piece ? n - off : piece;
		if (dz_blob_write(w, data + off, k, &e))
			goto fail;
		off += k;
	}
	if (dz_blob_writer_finish(w, &e))
		goto fail;
	dz_blob_writer_free(w);
	m = slurp(scratch);
	return m;
fail:
	printf("Bail out! blob writer: %s\n", e.msg);
	exit(1);
}

/*
 * Read blob bytes with the streaming reader. Returns the last result of
 * dz_blob_read (0 at the end, -1 on failure); *prefix_ok says whether
 * every byte handed out equals orig at its offset.
 */
static int
stream(const uint8_t key[DZ_KEY_BYTES], const uint8_t *blob, size_t n,
    const uint8_t *orig, size_t orign, size_t *got, int *prefix_ok,
    struct dz_err *e)
{
	struct dz_blob_reader *r;
	const uint8_t *p;
	size_t len;
	int k;

	*got = 0;
	*prefix_ok = 1;
	dz_err_clear(e);
	if (!(r = dz_blob_reader_new(scratch_fd(blob, n), key, e)))
		return -1;
	while ((k = dz_blob_read(r, &p, &len, e)) == 1) {
		if (len == 0 || len > CHUNK || *got + len > orign ||
		    memcmp(orig + *got, p, len) != 0)
			*prefix_ok = 0;
		*got += len;
	}
	dz_blob_reader_free(r);
	return k;
}

static int
decrypt_all(const uint8_t key[DZ_KEY_BYTES], const uint8_t *blob, size_t n,
    uint64_t max, uint8_t **out, size_t *outn, struct dz_err *e)
{
	dz_err_clear(e);
	return dz_blob_read_all(scratch_fd(blob, n), key, max, out, outn, e);
}

/*
 * An independent encoder, straight from the format in blob.h, one fresh
 * EVP context per chunk. eager: seal a chunk as soon as it is full (so a
 * blob of whole chunks ends with an empty final chunk); otherwise the
 * final chunk is the last full one, as lib/crypto/crypt writes.
 */
static struct mem
ref_encode(const uint8_t key[DZ_KEY_BYTES], const uint8_t prefix[7],
    uint32_t chunk, const uint8_t *data, size_t n, int eager)
{
	size_t nchunks = n == 0 ? 1 : (n + chunk - 1) / chunk, off = 0, o;
	struct mem m;

	if (eager && n % chunk == 0)
		nchunks = n / chunk + 1;
	m.n = HDR + n + 16 * nchunks;
	m.p = xmalloc(m.n);
	memcpy(m.p, "DZB1", 4);
	m.p[4] = (uint8_t)(chunk >> 24);
	m.p[5] = (uint8_t)(chunk >> 16);
	m.p[6] = (uint8_t)(chunk >> 8);
	m.p[7] = (uint8_t)chunk;
	memcpy(m.p + 8, prefix, 7);
	m.p[15] = 0;
	o = HDR;
	for (size_t i = 0; i < nchunks; i++) {
		size_t len = n - off < chunk ? n - off : chunk;
		uint8_t iv[12];
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
		int k;

		memcpy(iv, prefix, 7);
		iv[7] = (uint8_t)(i >> 24);
		iv[8] = (uint8_t)(i >> 16);
		iv[9] = (uint8_t)(i >> 8);
		iv[10] = (uint8_t)i;
		iv[11] = i == nchunks - 1;
		if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) != 1 ||
		    EVP_EncryptUpdate(c, NULL, &k, m.p, HDR) != 1 ||
		    (len && EVP_EncryptUpdate(c, m.p + o, &k, data + off, (int)len) != 1) ||
		    EVP_EncryptFinal_ex(c, m.p + o + len, &k) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, m.p + o + len) != 1) {
			printf("Bail out! reference encoder failed\n");
			exit(1);
		}
		EVP_CIPHER_CTX_free(c);
		off += len;
		o += len + 16;
	}
	return m;
}

static size_t
blob_size(size_t n)
{
	return HDR + n + 16 * (n == 0 ? 1 : (n + CHUNK - 1) / CHUNK);
}

/* Does hay hold any w-byte window of pat? */
static int
has_window(const uint8_t *hay, size_t hn, const uint8_t *pat, size_t pn,
    size_t w)
{
	for (size_t j = 0; j + w <= hn; j++)
		for (size_t i = 0; i + w <= pn; i++)
			if (hay[j] == pat[i] && memcmp(hay + j, pat + i, w) == 0)
				return 1;
	return 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* ---------- random, wrap, seal ---------- */

static void
test_random(void)
{
	uint8_t a[32], b[32];
	struct dz_err e;

	ok(dz_crypt_random(a, sizeof a, &e) == 0 &&
	    dz_crypt_random(b, sizeof b, &e) == 0 && memcmp(a, b, 32) != 0,
	    "random: two draws differ");
	ok(dz_crypt_random(a, 0, &e) == 0, "random: zero bytes is fine");
}

/* The master key's check value (issue 15, finding 8). */
static void
test_check(void)
{
	uint8_t master[32], other[32], c[DZ_KEYCHECK_BYTES], c2[DZ_KEYCHECK_BYTES];
	uint8_t w[DZ_WRAPPED_KEY_BYTES];
	struct dz_err e;
	int bad = 0, n = 0;

	fill_random(master, 32);
	fill_random(other, 32);
	ok(dz_crypt_check_make(master, c, &e) == 0 &&
	    dz_crypt_check_open(master, c, &e) == 0,
	    "check value: made and opened by the same key");
	ok(dz_crypt_check_make(master, c2, &e) == 0 && memcmp(c, c2, sizeof c),
	    "check value: a fresh nonce every time");
	dz_err_clear(&e);
	ok(dz_crypt_check_open(other, c, &e) == -1 && e.code == EX_CONFIG &&
	    strstr(e.msg, "wrong master key") == e.msg,
	    "check value: another key is refused, EX_CONFIG (%s)", e.msg);
	for (size_t i = 0; i < sizeof c; i++)
		for (int b = 0; b < 8; b++) {
			memcpy(c2, c, sizeof c);
			c2[i] ^= (uint8_t)(1 << b);
			n++;
			if (dz_crypt_check_open(master, c2, &e) != -1)
				bad++;
		}
	ok(bad == 0, "check value: each of %d single-bit flips fails", n);
	/* a field sealed empty under the master key is not a check value */
	ok(dz_crypt_seal(master, "case:X", NULL, 0, c2, &e) == 0 &&
	    dz_crypt_check_open(master, c2, &e) == -1,
	    "check value: bound to its own associated data");
	ok(dz_crypt_wrap(master, other, "check:master-key", w, &e) == 0 &&
	    dz_crypt_check_open(master, w, &e) == -1,
	    "check value: a wrapped key's first bytes do not pass for one");
}

static void
test_wrap(void)
{
	uint8_t master[32], other[32], key[32], got[32];
	uint8_t w[DZ_WRAPPED_KEY_BYTES], w2[DZ_WRAPPED_KEY_BYTES];
	struct dz_err e;
	int bad = 0, n = 0;

	fill_random(master, 32);
	fill_random(other, 32);
	fill_random(key, 32);
	ok(dz_crypt_wrap(master, key, "item:42", w, &e) == 0 &&
	    dz_crypt_unwrap(master, w, "item:42", got, &e) == 0 &&
	    memcmp(key, got, 32) == 0, "wrap: round trip");
	ok(dz_crypt_wrap(master, key, "item:42", w2, &e) == 0 &&
	    memcmp(w, w2, sizeof w) != 0, "wrap: a fresh nonce every time");
	ok(!has_window(w, sizeof w, key, 32, 8),
	    "wrap: no 8 bytes of the key show in the wrapped form");
	memset(got, 0xaa, 32);
	dz_err_clear(&e);
	ok(dz_crypt_unwrap(master, w, "item:43", got, &e) == -1 &&
	    e.code == EX_DATAERR && all_zero(got, 32),
	    "unwrap: another owner (aad) fails and leaves no key behind");
	ok(dz_crypt_unwrap(master, w, "item:4", got, &e) == -1 &&
	    dz_crypt_unwrap(master, w, "", got, &e) == -1 &&
	    dz_crypt_unwrap(master, w, NULL, got, &e) == -1,
	    "unwrap: aad prefix, empty or missing aad fail");
	dz_err_clear(&e);
	ok(dz_crypt_unwrap(other, w, "item:42", got, &e) == -1 &&
	    e.code == EX_DATAERR && strchr(e.msg, ':') == NULL,
	    "unwrap: another master key fails (%s)", e.msg);
	for (size_t i = 0; i < sizeof w; i++)
		for (int b = 0; b < 8; b++) {
			memcpy(w2, w, sizeof w);
			w2[i] ^= (uint8_t)(1 << b);
			n++;
			if (dz_crypt_unwrap(master, w2, "item:42", got, &e) != -1)
				bad++;
		}
	ok(bad == 0, "unwrap: each of %d single-bit flips fails", n);
	ok(dz_crypt_wrap(master, key, NULL, w, &e) == 0 &&
	    dz_crypt_unwrap(master, w, "", got, &e) == 0 &&
	    memcmp(key, got, 32) == 0, "wrap: NULL aad is the empty aad");
}

static void
test_seal(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 100, 4096 };
	uint8_t key[32], other[32], *in, *out, *back, *t;
	struct dz_err e;

	fill_random(key, 32);
	fill_random(other, 32);
	for (size_t j = 0; j < sizeof lens / sizeof *lens; j++) {
		size_t n = lens[j], sn = n + DZ_SEAL_OVERHEAD;
		int bad = 0, flips = 0;

		in = xmalloc(n);
		out = xmalloc(sn);
		back = xmalloc(n);
		t = xmalloc(sn);
		fill_random(in, n);
		ok(dz_crypt_seal(key, "contact:c1", in, n, out, &e) == 0 &&
		    dz_crypt_open(key, "contact:c1", out, sn, back, &e) == 0 &&
		    memcmp(in, back, n) == 0, "seal: round trip of %zu bytes", n);
		/* every bit of short values, a sample of long ones */
		for (size_t i = 0; i < sn; i += sn > 200 ? 13 : 1) {
			memcpy(t, out, sn);
			t[i] ^= (uint8_t)(1 << (i % 8));
			memset(back, 0x55, n);
			flips++;
			dz_err_clear(&e);
			if (dz_crypt_open(key, "contact:c1", t, sn, back, &e) != -1 ||
			    e.code != EX_DATAERR || !all_zero(back, n))
				bad++;
		}
		ok(bad == 0, "open: %d bit flips of a %zu-byte value fail, "
		    "output wiped", flips, n);
		ok(dz_crypt_open(key, "description:c1", out, sn, back, &e) == -1 &&
		    dz_crypt_open(key, "contact:c2", out, sn, back, &e) == -1 &&
		    dz_crypt_open(other, "contact:c1", out, sn, back, &e) == -1,
		    "open: %zu bytes under another column, case or key fails", n);
		ok(dz_crypt_open(key, "contact:c1", out, sn - 1, back, &e) == -1 &&
		    (n == 0 || dz_crypt_open(key, "contact:c1", out + 1, sn - 1,
		    back, &e) == -1),
		    "open: %zu bytes less a byte at either end fails", n);
		if (n >= 16)
			ok(!has_window(out, sn, in, n, 8),
			    "seal: no 8 bytes of the %zu show in the sealed form", n);
		free(in);
		free(out);
		free(back);
		free(t);
	}
	dz_err_clear(&e);
	ok(dz_crypt_open(key, "x", (const uint8_t *)"short", 5, NULL, &e) == -1 &&
	    e.code == EX_DATAERR, "open: shorter than nonce and tag fails");
}

/* ---------- blobs ---------- */

static void
test_roundtrip(const uint8_t key[32], size_t n)
{
	uint8_t *data = xmalloc(n), *out = NULL;
	struct mem m, ref, m2;
	struct dz_err e;
	size_t outn, got;
	int pok, k;

	fill_random(data, n);
	m = encrypt(key, data, n, n ? n : 1);
	ok(m.n == blob_size(n) && memcmp(m.p, "DZB1\0\1\0\0", 8) == 0 &&
	    m.p[15] == 0, "blob %zu: %zu bytes, header DZB1, chunk 65536", n, m.n);
	ref = ref_encode(key, m.p + 8, CHUNK, data, n, 0);
	ok(ref.n == m.n && memcmp(ref.p, m.p, m.n) == 0,
	    "blob %zu: byte for byte what the format in blob.h says", n);
	ok(decrypt_all(key, m.p, m.n, UINT64_MAX, &out, &outn, &e) == 0 &&
	    out && outn == n && memcmp(out, data, n) == 0,
	    "blob %zu: dz_blob_read_all gives the plaintext back", n);
	dz_crypt_free_wiped(out, outn);
	k = stream(key, m.p, m.n, data, n, &got, &pok, &e);
	ok(k == 0 && pok && got == n, "blob %zu: streamed back chunk by chunk", n);
	free(m.p);
	free(ref.p);
	/* other write patterns give the same plaintext back */
	m = encrypt(key, data, n, 7);
	m2 = encrypt(key, data, n, CHUNK + 1);
	ok(m.n == blob_size(n) && m2.n == m.n &&
	    memcmp(m.p + 8, m2.p + 8, 7) != 0 &&
	    stream(key, m.p, m.n, data, n, &got, &pok, &e) == 0 && pok &&
	    got == n && stream(key, m2.p, m2.n, data, n, &got, &pok, &e) == 0 &&
	    pok && got == n,
	    "blob %zu: writes of 7 and 65537 bytes, fresh nonce prefix each", n);
	free(m.p);
	free(m2.p);
	free(data);
}

/* The reader takes any blob that follows the format, not only ours. */
static void
test_reader_format(const uint8_t key[32])
{
	static const struct {
		uint32_t chunk;
		size_t n;
		int eager;
	} c[] = {
		{ CHUNK, 2 * CHUNK, 1 },	/* full chunks, then an empty final */
		{ CHUNK, 0, 1 },
		{ 1, 10, 0 },
		{ 1, 10, 1 },
		{ 100, 1000, 1 },
		{ 100, 1001, 0 },
		{ 16u << 20, 5, 0 },		/* the largest chunk size */
	};
	uint8_t data[2 * CHUNK], prefix[7], *out;
	struct dz_err e;
	size_t outn, got;
	int pok;

	fill_random(data, sizeof data);
	fill_random(prefix, 7);
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		struct mem m = ref_encode(key, prefix, c[i].chunk, data, c[i].n,
		    c[i].eager);
		ok(decrypt_all(key, m.p, m.n, UINT64_MAX, &out, &outn, &e) == 0 &&
		    outn == c[i].n && memcmp(out, data, outn) == 0 &&
		    stream(key, m.p, m.n, data, c[i].n, &got, &pok, &e) == 0 &&
		    pok && got == c[i].n,
		    "reader: chunk size %u, %zu bytes%s", c[i].chunk, c[i].n,
		    c[i].eager ? ", empty final chunk" : "");
		dz_crypt_free_wiped(out, outn);
		free(m.p);
	}
}

/* Every tampered blob must fail with the one message, having handed out
 * nothing but a true prefix of the plaintext. */
static int
must_fail_blob(const uint8_t key[32], const uint8_t *blob, size_t n,
    const uint8_t *data, size_t dn, const char *what, size_t at)
{
	uint8_t *out = (uint8_t *)"x";
	size_t outn = 1, got;
	struct dz_err e;
	int pok, k, ra;

	k = stream(key, blob, n, data, dn, &got, &pok, &e);
	if (k != -1 || !pok || e.code != EX_DATAERR || strcmp(e.msg, corrupt)) {
		diag("%s at %zu: stream gave %d, prefix %s, code %d '%s'", what,
		    at, k, pok ? "ok" : "WRONG", e.code, e.msg);
		return 0;
	}
	ra = decrypt_all(key, blob, n, UINT64_MAX, &out, &outn, &e);
	if (ra != -1 || out != NULL || outn != 0 || e.code != EX_DATAERR) {
		diag("%s at %zu: read_all gave %d", what, at, ra);
		if (ra == 0)
			dz_crypt_free_wiped(out, outn);
		return 0;
	}
	return 1;
}

static void
test_tamper(const uint8_t key[32])
{
	const size_t dn = 2 * CHUNK + 1000;	/* 3 chunks, the last short */
	const size_t b1 = HDR + CT_CHUNK, b2 = HDR + 2 * CT_CHUNK;
	uint8_t *data = xmalloc(dn), other[32], *t;
	struct mem m, mo, ms, m2;
	int bad = 0, n = 0;
	size_t cuts[64], nc = 0;

	fill_random(data, dn);
	fill_random(other, 32);
	m = encrypt(key, data, dn, dn);
	t = xmalloc(m.n + 2 * CT_CHUNK);

	for (size_t i = 0; i < m.n; i += 97) {
		memcpy(t, m.p, m.n);
		t[i] ^= (uint8_t)(1 << (i % 8));
		n++;
		bad += !must_fail_blob(key, t, m.n, data, dn, "bit flip", i);
	}
	ok(bad == 0, "blob: %d bit flips (every 97th byte) all fail, no wrong "
	    "plaintext handed out", n);

	cuts[nc++] = 0;
	cuts[nc++] = 1;
	cuts[nc++] = 8;
	cuts[nc++] = 15;
	cuts[nc++] = HDR;
	cuts[nc++] = HDR + 1;
	cuts[nc++] = HDR + 15;
	cuts[nc++] = HDR + 16;
	cuts[nc++] = HDR + 17;
	cuts[nc++] = b1 - 16;
	cuts[nc++] = b1 - 1;
	cuts[nc++] = b1;		/* exactly at a chunk boundary */
	cuts[nc++] = b1 + 1;
	cuts[nc++] = b1 + 16;
	cuts[nc++] = b2 - 1;
	cuts[nc++] = b2;		/* exactly at the last boundary */
	cuts[nc++] = b2 + 1;
	cuts[nc++] = b2 + 15;
	cuts[nc++] = b2 + 16;
	cuts[nc++] = m.n - 17;
	cuts[nc++] = m.n - 16;
	cuts[nc++] = m.n - 1;
	bad = 0;
	for (size_t i = 0; i < nc; i++)
		bad += !must_fail_blob(key, m.p, cuts[i], data, dn, "cut", cuts[i]);
	n = (int)nc;
	for (size_t c = 3; c < m.n; c += 1009, n++)
		bad += !must_fail_blob(key, m.p, c, data, dn, "cut", c);
	ok(bad == 0, "blob: truncated at %d offsets (header, chunk boundaries, "
	    "every 1009th byte) all fail", n);

	bad = 0;
	memcpy(t, m.p, m.n);
	t[m.n] = 0;
	bad += !must_fail_blob(key, t, m.n + 1, data, dn, "append 0", m.n);
	fill_random(t + m.n, 16);
	bad += !must_fail_blob(key, t, m.n + 16, data, dn, "append 16", m.n);
	memcpy(t + m.n, m.p + b2, m.n - b2);	/* the final chunk again */
	bad += !must_fail_blob(key, t, m.n + (m.n - b2), data, dn,
	    "append final", m.n);
	memcpy(t + m.n, m.p + HDR, CT_CHUNK);	/* chunk 0 again */
	bad += !must_fail_blob(key, t, m.n + CT_CHUNK, data, dn,
	    "append chunk 0", m.n);
	ok(bad == 0, "blob: bytes or chunks after the final chunk fail");

	bad = 0;
	memcpy(t, m.p, m.n);
	memcpy(t + HDR, m.p + b1, CT_CHUNK);
	memcpy(t + b1, m.p + HDR, CT_CHUNK);
	bad += !must_fail_blob(key, t, m.n, data, dn, "swap 0 1", 0);
	memcpy(t, m.p, m.n);
	memcpy(t + b1, m.p + HDR, CT_CHUNK);
	bad += !must_fail_blob(key, t, m.n, data, dn, "chunk 0 twice", 0);
	memcpy(t, m.p, b1);			/* drop chunk 1 */
	memcpy(t + b1, m.p + b2, m.n - b2);
	bad += !must_fail_blob(key, t, m.n - CT_CHUNK, data, dn, "drop 1", 0);
	memcpy(t, m.p, HDR);			/* final chunk first */
	memcpy(t + HDR, m.p + b2, m.n - b2);
	bad += !must_fail_blob(key, t, HDR + (m.n - b2), data, dn,
	    "final first", 0);
	ok(bad == 0, "blob: swapped, repeated, dropped or moved chunks fail");

	bad = 0;
	mo = encrypt(other, data, dn, dn);	/* same data, another key */
	ms = encrypt(key, data, dn, dn);	/* same data and key, another blob */
	memcpy(t, m.p, m.n);
	memcpy(t + b1, mo.p + b1, CT_CHUNK);
	bad += !must_fail_blob(key, t, m.n, data, dn, "splice other key", b1);
	memcpy(t, m.p, m.n);
	memcpy(t + b2, mo.p + b2, m.n - b2);
	bad += !must_fail_blob(key, t, m.n, data, dn, "splice other final", b2);
	memcpy(t, m.p, m.n);
	memcpy(t + b1, ms.p + b1, CT_CHUNK);
	bad += !must_fail_blob(key, t, m.n, data, dn, "splice same key", b1);
	memcpy(t, m.p, m.n);
	memcpy(t, ms.p, HDR);			/* another blob's header */
	bad += !must_fail_blob(key, t, m.n, data, dn, "other header", 0);
	ok(bad == 0, "blob: a chunk or header from another blob (other key, "
	    "or same key) fails");
	bad = !must_fail_blob(other, m.p, m.n, data, dn, "wrong key", 0);
	ok(bad == 0, "blob: the wrong key fails");
	free(mo.p);
	free(ms.p);

	bad = 0;
	memcpy(t, m.p, m.n);
	t[3] = '2';
	bad += !must_fail_blob(key, t, m.n, data, dn, "magic DZB2", 0);
	memcpy(t, "dzb1", 4);
	bad += !must_fail_blob(key, t, m.n, data, dn, "magic dzb1", 0);
	memcpy(t, m.p, m.n);
	memcpy(t + 4, "\0\0\0\0", 4);
	bad += !must_fail_blob(key, t, m.n, data, dn, "chunk size 0", 0);
	memcpy(t + 4, "\1\0\0\1", 4);
	bad += !must_fail_blob(key, t, m.n, data, dn, "chunk size 16M+1", 0);
	memcpy(t + 4, "\0\0\200\0", 4);
	bad += !must_fail_blob(key, t, m.n, data, dn, "chunk size 32768", 0);
	memcpy(t, m.p, m.n);
	t[15] = 1;
	bad += !must_fail_blob(key, t, m.n, data, dn, "reserved byte", 0);
	ok(bad == 0, "blob: a changed magic, chunk size or reserved byte fails");
	free(t);
	free(m.p);

	/* a blob whose final chunk is full: cut at the boundary, or append */
	t = xmalloc(2 * CHUNK);
	fill_random(t, 2 * CHUNK);
	m2 = encrypt(key, t, 2 * CHUNK, 2 * CHUNK);
	m = (struct mem){ xmalloc(m2.n + 1), m2.n + 1 };
	memcpy(m.p, m2.p, m2.n);
	m.p[m2.n] = 0;
	ok(m2.n == HDR + 2 * CT_CHUNK &&
	    must_fail_blob(key, m2.p, b1, t, 2 * CHUNK, "cut full", b1) &&
	    must_fail_blob(key, m.p, m.n, t, 2 * CHUNK, "append full", m2.n),
	    "blob: with a full final chunk, a cut at the boundary or a byte "
	    "more fails");
	free(m.p);
	free(m2.p);
	free(t);
	free(data);
}

static void
test_read_all_limit(const uint8_t key[32])
{
	const size_t n = 3 * CHUNK;
	uint8_t *data = xmalloc(n), *out;
	struct dz_err e;
	struct mem m;
	size_t outn;

	fill_random(data, n);
	m = encrypt(key, data, n, n);
	ok(decrypt_all(key, m.p, m.n, n, &out, &outn, &e) == 0 && outn == n &&
	    memcmp(out, data, n) == 0, "read_all: a blob of exactly max bytes");
	dz_crypt_free_wiped(out, outn);
	ok(decrypt_all(key, m.p, m.n, n - 1, &out, &outn, &e) == -1 &&
	    out == NULL && e.code == EX_DATAERR, "read_all: one byte over max "
	    "fails (%s)", e.msg);
	free(m.p);
	m = encrypt(key, data, 0, 1);
	ok(decrypt_all(key, m.p, m.n, 0, &out, &outn, &e) == 0 && out != NULL &&
	    outn == 0, "read_all: an empty blob with max 0");
	dz_crypt_free_wiped(out, outn);
	free(m.p);
	free(data);
}

static void
test_misuse(const uint8_t key[32])
{
	struct dz_blob_writer *w;
	struct dz_blob_reader *r;
	struct dz_err e;
	const uint8_t *p;
	size_t len;
	int fd;

	scratch_fd(NULL, 0);
	w = dz_blob_writer_new(scratch, key, &e);
	ok(w && dz_blob_write(w, (const uint8_t *)"abc", 3, &e) == 0 &&
	    dz_blob_write(w, NULL, 0, &e) == 0 &&
	    dz_blob_writer_finish(w, &e) == 0 &&
	    dz_blob_write(w, (const uint8_t *)"d", 1, &e) == -1 &&
	    e.code == EX_SOFTWARE && dz_blob_writer_finish(w, &e) == -1,
	    "writer: writing or finishing after the end is refused");
	dz_blob_writer_free(w);
	dz_blob_writer_free(NULL);
	lseek(scratch, 0, SEEK_SET);
	r = dz_blob_reader_new(scratch, key, &e);
	ok(r && dz_blob_read(r, &p, &len, &e) == 1 && len == 3 &&
	    memcmp(p, "abc", 3) == 0 && dz_blob_read(r, &p, &len, &e) == 0 &&
	    dz_blob_read(r, &p, &len, &e) == 0 && p == NULL && len == 0,
	    "reader: 0 again after the final chunk");
	dz_blob_reader_free(r);
	dz_blob_reader_free(NULL);

	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	dz_err_clear(&e);
	ok(fd >= 0 && dz_blob_writer_new(fd, key, &e) == NULL &&
	    e.code == EX_IOERR, "writer: a full disk fails (%s)", e.msg);
	if (fd >= 0)
		close(fd);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	dz_err_clear(&e);
	ok(fd >= 0 && dz_blob_writer_new(fd, key, &e) == NULL &&
	    e.code == EX_IOERR, "writer: a read-only descriptor fails");
	dz_err_clear(&e);
	ok(fd >= 0 && dz_blob_reader_new(fd, key, &e) == NULL &&
	    e.code == EX_DATAERR, "reader: an empty file fails");
	if (fd >= 0)
		close(fd);
	dz_crypt_free_wiped(NULL, 10);
}

/* A file size limit makes a chunk's write come up short, then fail. */
static void
test_short_write(const uint8_t key[32])
{
	pid_t pid;
	int st;

	scratch_fd(NULL, 0);
	pid = fork();
	if (pid < 0)
		bail_out("fork");
	if (pid == 0) {
		struct rlimit rl = { 1000, 1000 };
		uint8_t buf[CHUNK + 1] = { 0 };
		struct dz_blob_writer *w;
		struct dz_err e;
		int rc;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(2);
		if (!(w = dz_blob_writer_new(scratch, key, &e)))
			_exit(3);
		rc = dz_blob_write(w, buf, sizeof buf, &e);
		if (rc != -1 || e.code != EX_IOERR)
			_exit(4);
		if (dz_blob_write(w, buf, 1, &e) != -1 || e.code != EX_SOFTWARE)
			_exit(5);
		dz_blob_writer_free(w);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		bail_out("waitpid");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "writer: a short write then EFBIG fails with EX_IOERR, and the "
	    "writer stays failed (child status %d)", st);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/* Through pipes, under a 1 ms interval timer: EINTR and short reads and
 * writes on both sides. */
static void
test_pipes(const uint8_t key[32])
{
	const size_t n = 5 * CHUNK + 333;
	uint8_t *data = xmalloc(n), *out = NULL;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, stop = { { 0, 0 },
	    { 0, 0 } };
	struct sigaction sa;
	struct dz_err e;
	struct mem m;
	size_t outn = 0;
	int fds[2], st, rc;
	pid_t pid;

	fill_random(data, n);
	m = encrypt(key, data, n, n);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	/* reader side: a child trickles the blob into a pipe */
	if (pipe(fds) != 0 || (pid = fork()) < 0)
		bail_out("pipe/fork");
	if (pid == 0) {
		size_t off = 0, k = 1;
		close(fds[0]);
		while (off < m.n) {
			k = k * 7 % 9001 + 1;
			if (k > m.n - off)
				k = m.n - off;
			if (write_all(fds[1], m.p + off, k))
				_exit(1);
			off += k;
			if (k % 5 == 0)
				usleep(100);
		}
		_exit(0);
	}
	close(fds[1]);
	setitimer(ITIMER_REAL, &it, NULL);
	rc = dz_blob_read_all(fds[0], key, UINT64_MAX, &out, &outn, &e);
	setitimer(ITIMER_REAL, &stop, NULL);
	close(fds[0]);
	waitpid(pid, &st, 0);
	ok(rc == 0 && outn == n && memcmp(out, data, n) == 0 &&
	    WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "reader: a blob trickled through a pipe, under signals");
	dz_crypt_free_wiped(out, outn);

	/* writer side: a child decrypts from a pipe while we write into it */
	if (pipe(fds) != 0 || (pid = fork()) < 0)
		bail_out("pipe/fork");
	if (pid == 0) {
		close(fds[1]);
		usleep(20000);
		if (dz_blob_read_all(fds[0], key, UINT64_MAX, &out, &outn, &e) ||
		    outn != n || memcmp(out, data, n) != 0)
			_exit(1);
		_exit(0);
	}
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);	/* a failing child must not kill us */
	setitimer(ITIMER_REAL, &it, NULL);
	{
		struct dz_blob_writer *w = dz_blob_writer_new(fds[1], key, &e);
		size_t off = 0;
		rc = w ? 0 : -1;
		while (!rc && off < n) {
			size_t k = n - off < 10000 ? n - off : 10000;
			rc = dz_blob_write(w, data + off, k, &e);
			off += k;
		}
		if (!rc)
			rc = dz_blob_writer_finish(w, &e);
		dz_blob_writer_free(w);
	}
	setitimer(ITIMER_REAL, &stop, NULL);
	close(fds[1]);
	waitpid(pid, &st, 0);
	ok(rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "writer: into a pipe, under signals, read back by another process");
	signal(SIGALRM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	free(m.p);
	free(data);
}

/* No 32-byte window of a known pattern, nor the key, in the file. */
static void
test_canary(const uint8_t key[32])
{
	const size_t n = 3 * CHUNK + 100;
	static const size_t at[] = { 0, 1000, CHUNK - 32, 2 * CHUNK + 5,
	    3 * CHUNK + 36 };
	uint8_t pat[64], *data = xmalloc(n);
	struct mem m;

	fill_random(pat, sizeof pat);
	fill_random(data, n);
	for (size_t i = 0; i < sizeof at / sizeof *at; i++)
		memcpy(data + at[i], pat, sizeof pat);
	m = encrypt(key, data, n, 4096);
	ok(has_window(data, n, pat, sizeof pat, 32) &&
	    !has_window(m.p, m.n, pat, sizeof pat, 32),
	    "canary: no 32-byte window of the pattern in the blob file");
	ok(!has_window(m.p, m.n, key, 32, 16),
	    "canary: no 16 bytes of the key in the blob file");
	free(m.p);
	free(data);
}

/* ---------- the master key file ---------- */

static void
put(const char *path, const char *text, size_t n, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, (const uint8_t *)text, n) != 0 ||
	    fchmod(fd, mode) != 0 || close(fd) != 0)
		bail_out("writing a key file");
}

/* Load must fail with code; the message must not name the file. */
static int
refused(const char *path, int code, const char *what)
{
	uint8_t key[32];
	struct dz_err e;

	dz_err_clear(&e);
	if (dz_crypt_master_load(path, key, &e) != -1 || e.code != code ||
	    strstr(e.msg, dir) != NULL) {
		diag("%s: code %d, '%s'", what, e.code, e.msg);
		return 0;
	}
	diag("%s: %s", what, e.msg);
	return 1;
}

static void
test_master(void)
{
	static const char hex[] =
	    "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0";
	static const uint8_t want[32] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x0f,
	    0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4,
	    0xc3, 0xd2, 0xe1, 0xf0 };
	char path[4200], link_[4200], sub[4200], upper[80], buf[80];
	uint8_t key[32], key2[32];
	struct dz_err e;
	struct stat st;
	int fd, good;
	ssize_t n;

	snprintf(path, sizeof path, "%s/master.key", dir);
	snprintf(link_, sizeof link_, "%s/link.key", dir);
	snprintf(sub, sizeof sub, "%s/sub", dir);

	ok(dz_crypt_master_create(path, &e) == 0 && stat(path, &st) == 0 &&
	    S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 &&
	    st.st_size == 65, "master: create makes a 0600 file of 65 bytes");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
	if (fd >= 0)
		close(fd);
	good = n == 65 && buf[64] == '\n';
	for (int i = 0; i < 64 && good; i++)
		good = strchr("0123456789abcdef", buf[i]) != NULL && buf[i];
	ok(good, "master: 64 lowercase hex digits and a newline");
	ok(dz_crypt_master_load(path, key, &e) == 0 && !all_zero(key, 32),
	    "master: create then load");
	dz_err_clear(&e);
	ok(dz_crypt_master_create(path, &e) == -1 && e.code == EX_CANTCREAT &&
	    dz_crypt_master_load(path, key2, &e) == 0 &&
	    memcmp(key, key2, 32) == 0,
	    "master: create refuses an existing file and leaves it alone");
	unlink(path);

	put(path, hex, 64, 0600);
	ok(dz_crypt_master_load(path, key, &e) == 0 && memcmp(key, want, 32) == 0,
	    "master: 64 digits without a newline give the right bytes");
	snprintf(upper, sizeof upper, "%s\n", hex);
	for (char *c = upper; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	put(path, upper, 65, 0400);
	ok(dz_crypt_master_load(path, key, &e) == 0 && memcmp(key, want, 32) == 0,
	    "master: upper case, newline, mode 0400 are fine");

	snprintf(buf, sizeof buf, "%s\n", hex);
	put(path, buf, 65, 0644);
	ok(refused(path, EX_CONFIG, "0644"), "master: mode 0644 refused");
	put(path, buf, 65, 0640);
	ok(refused(path, EX_CONFIG, "0640"), "master: mode 0640 refused");
	put(path, buf, 65, 0604);
	ok(refused(path, EX_CONFIG, "0604"), "master: mode 0604 refused");
	put(path, buf, 65, 0620);
	ok(refused(path, EX_CONFIG, "0620"), "master: mode 0620 refused");
	put(path, buf, 65, 0600);
	unlink(link_);
	ok(symlink(path, link_) == 0 && refused(link_, EX_CONFIG, "symlink"),
	    "master: a symlink to a good key file is refused");
	ok(mkdir(sub, 0700) == 0 && refused(sub, EX_CONFIG, "directory"),
	    "master: a directory is refused");
	rmdir(sub);
	ok(mkfifo(sub, 0600) == 0 && refused(sub, EX_CONFIG, "fifo"),
	    "master: a FIFO is refused, without waiting on it");
	unlink(sub);
	{
		static const struct {
			const char *text;
			size_t n;
			const char *what;
		} bad[] = {
			{ "", 0, "empty" },
			{ "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f", 63, "63 digits" },
			{ "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f\n", 64, "63 digits and a newline" },
			{ "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f00", 65, "65 digits" },
			{ "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1fg", 64, "a g" },
			{ "0011223344556677 899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0", 64, "a space" },
			{ "0011223344556677\0""899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0", 64, "a NUL" },
			{ "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0\n\n", 66, "two newlines" },
			{ "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0\r\n", 66, "CRLF" },
			{ "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0 ", 65, "a trailing space" },
			{ "0x112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0", 64, "0x" },
		};
		int nbad = 0;
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			put(path, bad[i].text, bad[i].n, 0600);
			nbad += !refused(path, EX_CONFIG, bad[i].what);
		}
		ok(nbad == 0, "master: %zu malformed key files refused",
		    sizeof bad / sizeof *bad);
	}
	unlink(path);
	ok(refused(path, EX_NOINPUT, "missing"), "master: a missing file is "
	    "EX_NOINPUT");
	snprintf(sub, sizeof sub, "%s/nodir/master.key", dir);
	ok(refused(sub, EX_NOINPUT, "missing directory"),
	    "master: a missing directory is EX_NOINPUT");
	if (geteuid() == 0) {
		put(path, buf, 65, 0600);
		ok(chown(path, 65534, 65534) == 0 &&
		    refused(path, EX_CONFIG, "owner"),
		    "master: a file owned by another user is refused");
		unlink(path);
	} else {
		ok(1, "master: owner check # skip needs root to chown");
	}
	/* create must not follow a symlink, even a dangling one */
	unlink(link_);
	snprintf(sub, sizeof sub, "%s/target.key", dir);
	ok(symlink(sub, link_) == 0 && dz_crypt_master_create(link_, &e) == -1 &&
	    e.code == EX_CANTCREAT && access(sub, F_OK) != 0,
	    "master: create refuses a dangling symlink and creates nothing");
	unlink(link_);
	snprintf(sub, sizeof sub, "%s/nodir/master.key", dir);
	ok(dz_crypt_master_create(sub, &e) == -1 && e.code == EX_CANTCREAT,
	    "master: create in a missing directory fails (%s)", e.msg);
}

/* Remove what test_master may have left, then the directory. */
static void
cleanup(void)
{
	static const char *names[] = { "master.key", "link.key", "sub",
	    "target.key" };
	char p[4200];

	if (!dir[0])
		return;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		if (unlink(p) != 0)
			rmdir(p);
	}
	if (rmdir(dir) != 0)
		printf("# cannot remove %s: %s\n", dir, strerror(errno));
	dir[0] = '\0';
}

int
main(void)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 3 * 65536,
	    (1 << 20) + 7 };
	char name[4200];
	uint8_t key[32];

	scratch_dir(dir, sizeof dir, "dz-crypt");
	atexit(cleanup);
	snprintf(name, sizeof name, "%s/scratch.XXXXXX", dir);
	if ((scratch = mkstemp(name)) < 0)
		bail_out("mkstemp");
	unlink(name);

	test_random();
	test_wrap();
	test_check();
	test_seal();
	fill_random(key, 32);
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
		test_roundtrip(key, sizes[i]);
	test_reader_format(key);
	test_tamper(key);
	test_read_all_limit(key);
	test_misuse(key);
	test_short_write(key);
	test_pipes(key);
	test_canary(key);
	test_master();

	close(scratch);
	cleanup();
	return tap_done();
}
