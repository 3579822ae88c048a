/*
 * lib/bank/mih: exact Hamming-radius search over PDQ hashes by multi-index
 * hashing; see mih.h for the idea and the image format.
 *
 * A query is latency-bound: at 10 million hashes and radius 31 it looks up
 * about 3,000 table keys and compares about 3,000 candidates, nearly every
 * one a cache miss. So it runs in stages over the whole query, each stage
 * prefetching what the next one reads: (1) list the probe keys of every
 * table and prefetch their offsets, (2) read the offsets into ranges of
 * ids and prefetch the ids, (3) read the ids, prefetching each candidate's
 * hash, in batches of BATCH, (4) compare the batch with the query. The
 * hits are then sorted, made unique (a close hash is found in several
 * tables) and expanded with the bank's duplicates.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/err.h"
#include "bank/mih.h"
#include "hash/pdq.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lib/bank/mih reads its little-endian image in place"
#endif

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_POPCNT_TARGET 1
#endif

#define HDR_SIZE 128
#define SECTION 64		/* every section starts on a cache line */
#define SEED 0x6469737275707431ULL	/* "disrupt1": the permutation */
#define BATCH 512		/* candidates prefetched, then compared */
#define PROBE_LIMIT (1u << 20)	/* more probes than this: scan instead */
#define MIN_BITS 8		/* widths tables are built with */
#define MAX_BITS 28

/* Header field offsets. */
enum {
	H_MAGIC = 0, H_VERSION = 8, H_HDRSIZE = 12, H_SIZE = 16, H_CHECKSUM = 24,
	H_SEED = 32, H_N = 40, H_UNIQUE = 44, H_NDUP = 48, H_M = 52,
	H_MAXRADIUS = 56, H_ZERO = 60, H_FINGERPRINT = 64, H_BITS = 72,
	H_END = 104
};

static const unsigned char magic[8] = {
	0x89, 'D', 'Z', 'M', 'I', 'H', '\r', '\n'
};

struct table {
	const uint32_t *off;	/* 2^bits + 1 */
	const uint32_t *ids;	/* unique */
	int bits, start;	/* substring of the permuted hash */
};

struct dz_mih {
	const struct dz_pdq *hashes;
	uint32_t n, unique, ndup;
	int m, max_radius;
	uint64_t seed;
	struct table t[DZ_MIH_MAX_TABLES];
	const uint64_t *dupmap;
	const uint32_t *dup_rep, *dup_idx;
	const unsigned char *img;
	size_t len;
	unsigned char *own;	/* img, for a built index */
	struct dz_mih_stats st;
	/* lut[j][v]: the bits of byte j of a hash, of value v, permuted */
	uint64_t lut[32][256][4];
};

struct range {
	const uint32_t *p;
	uint32_t len;
};

struct dz_mih_scratch {
	const uint32_t **probe;
	size_t probe_cap;
	struct range *range;
	size_t range_cap;
	uint64_t *hit;		/* index << 32 | distance */
	size_t nhit, hit_cap;
	int force;
	struct dz_mih_qstats qs;
	uint32_t cand[BATCH];
};

struct layout {
	uint64_t off[DZ_MIH_MAX_TABLES], ids, dupmap, dup_rep, dup_idx, total;
};

/* ---------- small helpers ---------- */

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void
put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint64_t
rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
section(uint64_t x)
{
	return (x + SECTION - 1) & ~(uint64_t)(SECTION - 1);
}

static int
layout(int m, const int *bits, uint32_t n, uint32_t unique, uint32_t ndup,
    struct layout *L)
{
	uint64_t pos = HDR_SIZE;

	for (int t = 0; t < m; t++) {
		L->off[t] = pos;
		pos = section(pos + 4 * ((UINT64_C(1) << bits[t]) + 1));
	}
	L->ids = pos;
	pos = section(pos + 4 * (uint64_t)m * unique);
	L->dupmap = pos;
	pos = section(pos + 8 * (((uint64_t)n + 63) / 64));
	L->dup_rep = pos;
	pos = section(pos + 4 * (uint64_t)ndup);
	L->dup_idx = pos;
	pos = section(pos + 4 * (uint64_t)ndup);
	L->total = pos;
	return pos <= SIZE_MAX ? 0 : -1;
}

/* ---------- the checksum (xxh64-like rounds) ---------- */

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL

static uint64_t
round1(uint64_t acc, uint64_t w)
{
	return rotl(acc + w * P2, 31) * P1;
}

/*
 * Each round is a bijection of its lane for a given word, and the lanes
 * merge bijectively, so changing any one word always changes the sum.
 */
uint64_t
dz_mih_checksum(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	uint64_t a0 = P1 + P2, a1 = P2, a2 = 0, a3 = (uint64_t)0 - P1, h;
	size_t nw, i;

	if (!buf || len < HDR_SIZE || len % 8)
		return 0;
	nw = len / 8;
	/* word 3 is the checksum itself */
	a0 = round1(a0, get64(b));
	a1 = round1(a1, get64(b + 8));
	a2 = round1(a2, get64(b + 16));
	a3 = round1(a3, 0);
	for (i = 4; i + 4 <= nw; i += 4) {
		a0 = round1(a0, get64(b + 8 * i));
		a1 = round1(a1, get64(b + 8 * i + 8));
		a2 = round1(a2, get64(b + 8 * i + 16));
		a3 = round1(a3, get64(b + 8 * i + 24));
	}
	if (i < nw)
		a0 = round1(a0, get64(b + 8 * i++));
	if (i < nw)
		a1 = round1(a1, get64(b + 8 * i++));
	if (i < nw)
		a2 = round1(a2, get64(b + 8 * i++));
	h = rotl(a0, 1) + rotl(a1, 7) + rotl(a2, 12) + rotl(a3, 18);
	h ^= (uint64_t)len;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

/*
 * Binds an image to its bank without reading all of it: n and 64 hashes
 * spread over the bank (all of them when fewer).
 */
static uint64_t
fingerprint(const struct dz_pdq *h, uint32_t n)
{
	uint64_t f = round1(P3, n);
	uint32_t k = n < 64 ? n : 64;

	for (uint32_t i = 0; i < k; i++) {
		uint32_t at = (uint32_t)((uint64_t)i * n / k);

		for (int w = 0; w < 4; w++)
			f = round1(f, h[at].w[w]);
	}
	if (n)
		for (int w = 0; w < 4; w++)
			f = round1(f, h[n - 1].w[w]);
	f ^= f >> 33;
	f *= P2;
	return f ^ (f >> 29);
}

/* ---------- popcount, with the POPCNT instruction when there is one ---------- */

static inline __attribute__((always_inline)) int
dist_words(const uint64_t *a, const uint64_t *q)
{
	return __builtin_popcountll(a[0] ^ q[0]) +
	    __builtin_popcountll(a[1] ^ q[1]) +
	    __builtin_popcountll(a[2] ^ q[2]) +
	    __builtin_popcountll(a[3] ^ q[3]);
}

/* hits of cand[0..nc-1] as index << 32 | distance */
static inline __attribute__((always_inline)) size_t
verify_body(const struct dz_pdq *H, const uint32_t *cand, size_t nc,
    const uint64_t *q, int r, uint64_t *out)
{
	size_t nh = 0;

	for (size_t i = 0; i < nc; i++) {
		int d = dist_words(H[cand[i]].w, q);

		if (d <= r)
			out[nh++] = (uint64_t)cand[i] << 32 | (uint32_t)d;
	}
	return nh;
}

/* matches of H[0..len-1] as offset << 32 | distance */
static inline __attribute__((always_inline)) size_t
scan_body(const struct dz_pdq *H, uint32_t len, const uint64_t *q, int r,
    uint64_t *out)
{
	size_t nh = 0;

	for (uint32_t i = 0; i < len; i++) {
		int d = dist_words(H[i].w, q);

		if (d <= r)
			out[nh++] = (uint64_t)i << 32 | (uint32_t)d;
	}
	return nh;
}

static size_t
verify_plain(const struct dz_pdq *H, const uint32_t *cand, size_t nc,
    const uint64_t *q, int r, uint64_t *out)
{
	return verify_body(H, cand, nc, q, r, out);
}

static size_t
scan_plain(const struct dz_pdq *H, uint32_t len, const uint64_t *q, int r,
    uint64_t *out)
{
	return scan_body(H, len, q, r, out);
}

#ifdef HAVE_POPCNT_TARGET
__attribute__((target("popcnt"))) static size_t
verify_popcnt(const struct dz_pdq *H, const uint32_t *cand, size_t nc,
    const uint64_t *q, int r, uint64_t *out)
{
	return verify_body(H, cand, nc, q, r, out);
}

__attribute__((target("popcnt"))) static size_t
scan_popcnt(const struct dz_pdq *H, uint32_t len, const uint64_t *q, int r,
    uint64_t *out)
{
	return scan_body(H, len, q, r, out);
}

/*
 * The CPU model is filled in by a constructor of the compiler's runtime
 * (so no __builtin_cpu_init, which would race between threads).
 */
static int
have_popcnt(void)
{
	return __builtin_cpu_supports("popcnt");
}
#else
#define have_popcnt() 0
#define verify_popcnt verify_plain
#define scan_popcnt scan_plain
#endif

static size_t
verify(const struct dz_pdq *H, const uint32_t *cand, size_t nc,
    const uint64_t *q, int r, uint64_t *out)
{
	if (have_popcnt())
		return verify_popcnt(H, cand, nc, q, r, out);
	return verify_plain(H, cand, nc, q, r, out);
}

/*
 * The checks of dz_mih_view read the whole image: branch-free blocks of 16
 * that compilers vectorise, with AVX2 (unsigned max) when there is some.
 * nk is a multiple of 16 (bits >= MIN_BITS).
 */
static inline __attribute__((always_inline)) int
buckets_body(const uint32_t *off, size_t nk, uint32_t *largest)
{
	uint32_t top = 0, down = 0;

	for (size_t k = 0; k < nk; k += 16) {
		const uint32_t *a = off + k;

		for (int i = 0; i < 16; i++) {
			uint32_t sz = a[i + 1] - a[i];

			down |= a[i + 1] < a[i];
			top = sz > top ? sz : top;
		}
	}
	*largest = top;
	return down ? -1 : 0;
}

static inline __attribute__((always_inline)) uint32_t
max_body(const uint32_t *v, size_t len)
{
	uint32_t top = 0;
	size_t i;

	for (i = 0; i + 16 <= len; i += 16)
		for (int j = 0; j < 16; j++)
			top = v[i + j] > top ? v[i + j] : top;
	for (; i < len; i++)
		top = v[i] > top ? v[i] : top;
	return top;
}

#ifdef HAVE_POPCNT_TARGET
__attribute__((target("avx2"))) static int
buckets_avx2(const uint32_t *off, size_t nk, uint32_t *largest)
{
	return buckets_body(off, nk, largest);
}

__attribute__((target("avx2"))) static uint32_t
max_avx2(const uint32_t *v, size_t len)
{
	return max_body(v, len);
}

static int
have_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}
#else
#define have_avx2() 0
#define buckets_avx2 buckets_body
#define max_avx2 max_body
#endif

/* Offsets never decrease (else -1); the largest bucket. */
static int
buckets(const uint32_t *off, size_t nk, uint32_t *largest)
{
	if (have_avx2())
		return buckets_avx2(off, nk, largest);
	return buckets_body(off, nk, largest);
}

static int
all_below(const uint32_t *v, size_t len, uint32_t n)
{
	if (!len)
		return 1;
	return (have_avx2() ? max_avx2(v, len) : max_body(v, len)) < n;
}

/* ---------- the oracle ---------- */

#define SCAN_BLOCK 1024

int
dz_pdq_brute_query(const struct dz_pdq *hashes, uint32_t n,
    const struct dz_pdq *q, int radius, dz_mih_hit_fn fn, void *ctx)
{
	uint64_t out[SCAN_BLOCK], calls = 0;
	int pop = have_popcnt();

	if (radius < 0 || !n)
		return 0;
	for (uint32_t base = 0; base < n; base += SCAN_BLOCK) {
		uint32_t len = n - base < SCAN_BLOCK ? n - base : SCAN_BLOCK;
		size_t nh = pop ? scan_popcnt(hashes + base, len, q->w, radius, out)
		    : scan_plain(hashes + base, len, q->w, radius, out);

		for (size_t i = 0; i < nh; i++) {
			calls++;
			if (fn && fn(base + (uint32_t)(out[i] >> 32),
			    (int)(uint32_t)out[i], ctx))
				return calls > INT_MAX ? INT_MAX : (int)calls;
		}
	}
	return calls > INT_MAX ? INT_MAX : (int)calls;
}

/* ---------- the bit permutation ---------- */

static void
make_lut(struct dz_mih *m)
{
	int perm[256], to[256];
	uint64_t x = m->seed;

	for (int i = 0; i < 256; i++)
		perm[i] = i;
	for (int i = 255; i > 0; i--) {
		int j = (int)(splitmix(&x) % (uint64_t)(i + 1)), tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
	}
	/* permuted bit p is source bit perm[p] */
	for (int p = 0; p < 256; p++)
		to[perm[p]] = p;
	for (int j = 0; j < 32; j++) {
		memset(m->lut[j][0], 0, sizeof m->lut[j][0]);
		for (int v = 1; v < 256; v++) {
			int k = __builtin_ctz((unsigned)v), p = to[8 * j + k];

			memcpy(m->lut[j][v], m->lut[j][v & (v - 1)],
			    sizeof m->lut[j][v]);
			m->lut[j][v][p / 64] |= UINT64_C(1) << (p % 64);
		}
	}
}

static inline void
permute(const struct dz_mih *m, const struct dz_pdq *h, uint64_t p[4])
{
	uint64_t p0 = 0, p1 = 0, p2 = 0, p3 = 0;

	for (int j = 0; j < 32; j++) {
		const uint64_t *e = m->lut[j][(h->w[j / 8] >> (8 * (j % 8))) & 255];

		p0 ^= e[0];
		p1 ^= e[1];
		p2 ^= e[2];
		p3 ^= e[3];
	}
	p[0] = p0;
	p[1] = p1;
	p[2] = p2;
	p[3] = p3;
}

/* bits [start, start + bits) of the permuted hash p */
static inline uint32_t
key_of(const uint64_t p[4], int start, int bits)
{
	int w = start / 64, o = start % 64;
	uint64_t v = p[w] >> o;

	if (o + bits > 64)
		v |= p[w + 1] << (64 - o);
	return (uint32_t)(v & ((UINT64_C(1) << bits) - 1));
}

/* ---------- shape, setup, statistics ---------- */

/* m tables of about round(log2 n) bits each, widest first */
static int
choose_tables(uint32_t n, int bits[DZ_MIH_MAX_TABLES])
{
	int lg = n ? 31 - __builtin_clz(n) : 0, m, base, extra;

	if (n && (uint64_t)n * n >= UINT64_C(1) << (2 * lg + 1))
		lg++;
	if (lg < 8)
		lg = 8;
	if (lg > MAX_BITS)
		lg = MAX_BITS;
	m = 256 / lg;
	if (m < 10)		/* so that no table is wider than MAX_BITS */
		m = 10;
	if (m > DZ_MIH_MAX_TABLES)
		m = DZ_MIH_MAX_TABLES;
	base = 256 / m;
	extra = 256 % m;
	for (int t = 0; t < DZ_MIH_MAX_TABLES; t++)
		bits[t] = t < m ? base + (t < extra) : 0;
	return m;
}

static struct dz_mih *
new_index(const struct dz_pdq *hashes, uint32_t n, uint64_t seed,
    struct dz_err *err)
{
	struct dz_mih *m = calloc(1, sizeof *m);

	if (!m) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	m->hashes = hashes;
	m->n = n;
	m->seed = seed;
	make_lut(m);
	return m;
}

/* Point m into img, whose header and layout are already checked. */
static void
attach(struct dz_mih *m, const unsigned char *img, size_t len,
    const int *bits, const struct layout *L)
{
	int start = 0;

	m->img = img;
	m->len = len;
	for (int t = 0; t < m->m; t++) {
		m->t[t].off = (const uint32_t *)(const void *)(img + L->off[t]);
		m->t[t].ids = (const uint32_t *)(const void *)(img + L->ids) +
		    (size_t)t * m->unique;
		m->t[t].bits = bits[t];
		m->t[t].start = start;
		start += bits[t];
	}
	m->dupmap = (const uint64_t *)(const void *)(img + L->dupmap);
	m->dup_rep = (const uint32_t *)(const void *)(img + L->dup_rep);
	m->dup_idx = (const uint32_t *)(const void *)(img + L->dup_idx);
	m->st.n = m->n;
	m->st.unique = m->unique;
	m->st.tables = m->m;
	for (int t = 0; t < DZ_MIH_MAX_TABLES; t++)
		m->st.bits[t] = t < m->m ? bits[t] : 0;
	m->st.max_radius = m->max_radius;
	m->st.seed = m->seed;
	m->st.bytes = len;
	m->st.memory = len + sizeof *m;
}

/*
 * Check one table's offsets (0 first, never decreasing, unique last) and
 * add its buckets to the statistics. -1 if they are bad.
 */
static int
scan_offsets(struct dz_mih *m, const struct table *t)
{
	const uint32_t *off = t->off;
	size_t nk = (size_t)1 << t->bits;
	uint64_t mean = m->unique >> t->bits;
	uint32_t limit = mean * DZ_MIH_OVERSIZE > DZ_MIH_OVERSIZE ?
	    (uint32_t)(mean * DZ_MIH_OVERSIZE) : DZ_MIH_OVERSIZE;
	uint32_t largest;

	if (off[0] != 0 || off[nk] != m->unique)
		return -1;
	if (buckets(off, nk, &largest) < 0)
		return -1;
	if (largest > m->st.largest_bucket)
		m->st.largest_bucket = largest;
	if (largest <= limit)
		return 0;
	for (size_t k = 0; k < nk; k++) {
		uint32_t sz = off[k + 1] - off[k];

		if (sz > limit) {
			m->st.oversized_buckets++;
			m->st.oversized_entries += sz;
		}
	}
	return 0;
}

/* ---------- build ---------- */

static uint64_t
mix_hash(const struct dz_pdq *h)
{
	uint64_t x = h->w[0] * P1 + h->w[1];

	x = rotl(x, 29) * P2 + h->w[2];
	x = rotl(x, 29) * P1 + h->w[3];
	x ^= x >> 32;
	x *= P3;
	return x ^ (x >> 29);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The first index of every distinct hash, in order (reps), and the others
 * as rep << 32 | index, sorted (dups).
 */
static int
dedupe(const struct dz_pdq *h, uint32_t n, uint32_t *reps, uint32_t *unique,
    uint64_t **dupsp, uint32_t *ndup, struct dz_err *err)
{
	int cbits = 4;
	size_t cap, mask, dcap = 0;
	uint64_t *slot, *dups = NULL;
	uint32_t nu = 0, nd = 0;

	while (cbits < 40 && (UINT64_C(1) << cbits) < 2 * (uint64_t)n)
		cbits++;
	if ((UINT64_C(1) << cbits) > SIZE_MAX / 8)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	cap = (size_t)1 << cbits;
	mask = cap - 1;
	slot = malloc(cap * 8);
	if (!slot)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	memset(slot, 0xff, cap * 8);	/* index UINT32_MAX never occurs */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t x = mix_hash(&h[i]), tag = x >> 32, s;
		size_t pos = x & mask;

		if (n - i > 16)
			__builtin_prefetch(&slot[mix_hash(&h[i + 16]) & mask]);
		while ((s = slot[pos]) != UINT64_MAX) {
			uint32_t j = (uint32_t)s;

			if (s >> 32 == tag && !memcmp(&h[j], &h[i], sizeof h[i]))
				break;
			pos = (pos + 1) & mask;
		}
		if (s == UINT64_MAX) {
			slot[pos] = tag << 32 | i;
			reps[nu++] = i;
			continue;
		}
		if (nd == dcap) {
			size_t nc = dcap ? 2 * dcap : 1024;
			uint64_t *p = realloc(dups, nc * sizeof *p);

			if (!p) {
				free(slot);
				free(dups);
				return dz_err_set(err, EX_SOFTWARE, "out of memory");
			}
			dups = p;
			dcap = nc;
		}
		dups[nd++] = (uint64_t)(uint32_t)s << 32 | i;
	}
	free(slot);
	if (nd)
		qsort(dups, nd, sizeof *dups, cmp_u64);
	*unique = nu;
	*dupsp = dups;
	*ndup = nd;
	return 0;
}

/* Zeroed memory for the image, on huge pages when large. */
static unsigned char *
alloc_image(size_t len)
{
	size_t align = len >= ((size_t)4 << 20) ? (size_t)2 << 20 : SECTION;
	void *p;

	if (posix_memalign(&p, align, len))
		return NULL;
#ifdef MADV_HUGEPAGE
	if (align > SECTION)
		(void)madvise(p, len, MADV_HUGEPAGE);	/* only advice */
#endif
	memset(p, 0, len);
	return p;
}

/*
 * Counting sort of the unique hashes into every table. Count key k in
 * off[k + 2] (the section has room for it), so that after the running sum
 * off[k + 1] is where bucket k starts; filling then moves it to where
 * bucket k ends, which is where k + 1 starts: the final offsets.
 *
 * Every step is a cache miss in a table of tens of megabytes, so the
 * hashes go by batches of FILL_BATCH: first their keys, with the counters
 * they touch prefetched, then the counts (or the ids' places, also
 * prefetched), then the ids.
 */
#define FILL_BATCH 64

static void
batch_keys(const struct dz_mih *m, const uint32_t *reps, uint32_t nb,
    uint32_t (*key)[DZ_MIH_MAX_TABLES], uint32_t *const *off, int bias)
{
	uint64_t p[4];

	for (uint32_t j = 0; j < nb; j++) {
		permute(m, &m->hashes[reps[j]], p);
		for (int t = 0; t < m->m; t++) {
			key[j][t] = key_of(p, m->t[t].start, m->t[t].bits) + bias;
			__builtin_prefetch(&off[t][key[j][t]], 1);
		}
	}
}

static void
fill_tables(struct dz_mih *m, unsigned char *img, const struct layout *L,
    const uint32_t *reps)
{
	uint32_t *off[DZ_MIH_MAX_TABLES], *ids[DZ_MIH_MAX_TABLES];
	uint32_t key[FILL_BATCH][DZ_MIH_MAX_TABLES];
	int mt = m->m;

	for (int t = 0; t < mt; t++) {
		off[t] = (uint32_t *)(void *)(img + L->off[t]);
		ids[t] = (uint32_t *)(void *)(img + L->ids) + (size_t)t * m->unique;
	}
	for (uint32_t u = 0; u < m->unique; u += FILL_BATCH) {
		uint32_t nb = m->unique - u < FILL_BATCH ? m->unique - u :
		    FILL_BATCH;

		batch_keys(m, reps + u, nb, key, off, 2);
		for (uint32_t j = 0; j < nb; j++)
			for (int t = 0; t < mt; t++)
				off[t][key[j][t]]++;
	}
	for (int t = 0; t < mt; t++) {
		size_t nk = (size_t)1 << m->t[t].bits;

		for (size_t k = 2; k <= nk + 1; k++)
			off[t][k] += off[t][k - 1];
	}
	for (uint32_t u = 0; u < m->unique; u += FILL_BATCH) {
		uint32_t nb = m->unique - u < FILL_BATCH ? m->unique - u :
		    FILL_BATCH;

		batch_keys(m, reps + u, nb, key, off, 1);
		for (uint32_t j = 0; j < nb; j++)
			for (int t = 0; t < mt; t++) {
				key[j][t] = off[t][key[j][t]]++;
				__builtin_prefetch(&ids[t][key[j][t]], 1);
			}
		for (uint32_t j = 0; j < nb; j++)
			for (int t = 0; t < mt; t++)
				ids[t][key[j][t]] = reps[u + j];
	}
	for (int t = 0; t < mt; t++)
		off[t][((size_t)1 << m->t[t].bits) + 1] = 0;	/* padding */
}

struct dz_mih *
dz_mih_build(const struct dz_pdq *hashes, uint32_t n, int max_radius,
    struct dz_err *err)
{
	struct dz_mih *m;
	int bits[DZ_MIH_MAX_TABLES];
	uint32_t *reps = NULL, *dup_rep, *dup_idx;
	uint64_t *dups = NULL, *dupmap;
	struct layout L;
	unsigned char *img;

	if ((!hashes && n) || max_radius < 0 || max_radius > DZ_MIH_MAX_RADIUS) {
		dz_err_set(err, EX_SOFTWARE, "dz_mih_build: bad arguments");
		return NULL;
	}
	if (!(m = new_index(hashes, n, SEED, err)))
		return NULL;
	m->max_radius = max_radius;
	m->m = choose_tables(n, bits);
	reps = malloc(n ? (size_t)n * sizeof *reps : 1);
	if (!reps) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	if (dedupe(hashes, n, reps, &m->unique, &dups, &m->ndup, err) < 0)
		goto fail;
	if (layout(m->m, bits, n, m->unique, m->ndup, &L) < 0 ||
	    !(img = alloc_image((size_t)L.total))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	m->own = img;
	attach(m, img, (size_t)L.total, bits, &L);
	fill_tables(m, img, &L, reps);
	free(reps);
	reps = NULL;

	dupmap = (uint64_t *)(void *)(img + L.dupmap);
	dup_rep = (uint32_t *)(void *)(img + L.dup_rep);
	dup_idx = (uint32_t *)(void *)(img + L.dup_idx);
	for (uint32_t k = 0; k < m->ndup; k++) {
		uint32_t rep = (uint32_t)(dups[k] >> 32);

		dup_rep[k] = rep;
		dup_idx[k] = (uint32_t)dups[k];
		dupmap[rep / 64] |= UINT64_C(1) << (rep % 64);
	}
	free(dups);
	dups = NULL;

	memcpy(img + H_MAGIC, magic, sizeof magic);
	put32(img + H_VERSION, DZ_MIH_VERSION);
	put32(img + H_HDRSIZE, HDR_SIZE);
	put64(img + H_SIZE, L.total);
	put64(img + H_SEED, m->seed);
	put32(img + H_N, n);
	put32(img + H_UNIQUE, m->unique);
	put32(img + H_NDUP, m->ndup);
	put32(img + H_M, (uint32_t)m->m);
	put32(img + H_MAXRADIUS, (uint32_t)max_radius);
	put64(img + H_FINGERPRINT, fingerprint(hashes, n));
	for (int t = 0; t < m->m; t++)
		img[H_BITS + t] = (unsigned char)bits[t];
	put64(img + H_CHECKSUM, dz_mih_checksum(img, (size_t)L.total));

	for (int t = 0; t < m->m; t++)
		if (scan_offsets(m, &m->t[t]) < 0) {
			dz_err_set(err, EX_SOFTWARE, "dz_mih_build: bad table");
			goto fail;
		}
	return m;
fail:
	free(reps);
	free(dups);
	dz_mih_free(m);
	return NULL;
}

/* ---------- view ---------- */

static struct dz_mih *
bad_image(struct dz_mih *m, struct dz_err *err, const char *why)
{
	dz_err_set(err, EX_DATAERR, "bad index: %s", why);
	dz_mih_free(m);
	return NULL;
}

struct dz_mih *
dz_mih_view(const void *buf, size_t len, const struct dz_pdq *hashes,
    uint32_t n, struct dz_err *err)
{
	const unsigned char *b = buf;
	struct dz_mih *m;
	int bits[DZ_MIH_MAX_TABLES], sum = 0, mt;
	uint32_t unique, ndup, maxr;
	struct layout L;

	if (!buf || (!hashes && n)) {
		dz_err_set(err, EX_SOFTWARE, "dz_mih_view: bad arguments");
		return NULL;
	}
	if ((uintptr_t)buf % 8) {
		dz_err_set(err, EX_SOFTWARE, "index image not 8-byte aligned");
		return NULL;
	}
	if (len < HDR_SIZE)
		return bad_image(NULL, err, "truncated header");
	if (memcmp(b + H_MAGIC, magic, sizeof magic))
		return bad_image(NULL, err, "not an index");
	if (get32(b + H_VERSION) != DZ_MIH_VERSION) {
		dz_err_set(err, EX_DATAERR, "bad index: version %u not supported",
		    get32(b + H_VERSION));
		return NULL;
	}
	if (get32(b + H_HDRSIZE) != HDR_SIZE)
		return bad_image(NULL, err, "bad header size");
	if (get64(b + H_SIZE) != len)
		return bad_image(NULL, err, "size does not match");
	if (len % 8 || dz_mih_checksum(b, len) != get64(b + H_CHECKSUM))
		return bad_image(NULL, err, "checksum mismatch");
	if (get32(b + H_N) != n)
		return bad_image(NULL, err, "built for another bank");
	unique = get32(b + H_UNIQUE);
	ndup = get32(b + H_NDUP);
	mt = (int)get32(b + H_M);
	maxr = get32(b + H_MAXRADIUS);
	if (unique > n || ndup != n - unique)
		return bad_image(NULL, err, "bad hash counts");
	if (get32(b + H_M) < 1 || get32(b + H_M) > DZ_MIH_MAX_TABLES)
		return bad_image(NULL, err, "bad number of tables");
	if (maxr > DZ_MIH_MAX_RADIUS || get32(b + H_ZERO))
		return bad_image(NULL, err, "bad header");
	for (int t = 0; t < DZ_MIH_MAX_TABLES; t++) {
		bits[t] = b[H_BITS + t];
		if (t < mt ? bits[t] < MIN_BITS || bits[t] > MAX_BITS :
		    bits[t] != 0)
			return bad_image(NULL, err, "bad table width");
		sum += bits[t];
	}
	for (int i = H_END; i < HDR_SIZE; i++)
		if (b[i])
			return bad_image(NULL, err, "bad header");
	if (sum != 256)
		return bad_image(NULL, err, "tables do not cover the hash");
	if (layout(mt, bits, n, unique, ndup, &L) < 0 || L.total != len)
		return bad_image(NULL, err, "size does not match");
	if (get64(b + H_FINGERPRINT) != fingerprint(hashes, n))
		return bad_image(NULL, err, "built for another bank");

	if (!(m = new_index(hashes, n, get64(b + H_SEED), err)))
		return NULL;
	m->unique = unique;
	m->ndup = ndup;
	m->m = mt;
	m->max_radius = (int)maxr;
	attach(m, b, len, bits, &L);
	for (int t = 0; t < mt; t++)
		if (scan_offsets(m, &m->t[t]) < 0)
			return bad_image(m, err, "bad offsets");
	if (!all_below(m->t[0].ids, (size_t)mt * unique, n))
		return bad_image(m, err, "id out of range");
	if (n % 64 && m->dupmap[n / 64] >> (n % 64))
		return bad_image(m, err, "bad duplicate map");
	for (uint32_t k = 0; k < ndup; k++) {
		uint32_t r = m->dup_rep[k], i = m->dup_idx[k];

		if (r >= i || i >= n || !(m->dupmap[r / 64] >> (r % 64) & 1) ||
		    memcmp(&hashes[r], &hashes[i], sizeof hashes[r]) != 0)
			return bad_image(m, err, "bad duplicate");
		if (k && (r < m->dup_rep[k - 1] ||
		    (r == m->dup_rep[k - 1] && i <= m->dup_idx[k - 1])))
			return bad_image(m, err, "duplicates out of order");
	}
	return m;
}

/* ---------- the rest of the object ---------- */

void
dz_mih_free(struct dz_mih *m)
{
	if (!m)
		return;
	free(m->own);
	free(m);
}

size_t
dz_mih_serialized_size(const struct dz_mih *m)
{
	return m->len;
}

int
dz_mih_serialize(const struct dz_mih *m, void *buf, size_t len,
    struct dz_err *err)
{
	if (!buf || len < m->len)
		return dz_err_set(err, EX_SOFTWARE,
		    "index needs %zu bytes, buffer has %zu", m->len, len);
	memcpy(buf, m->img, m->len);
	return 0;
}

const void *
dz_mih_bytes(const struct dz_mih *m, size_t *len)
{
	if (len)
		*len = m->len;
	return m->img;
}

void
dz_mih_stats(const struct dz_mih *m, struct dz_mih_stats *st)
{
	*st = m->st;
}

struct dz_mih_scratch *
dz_mih_scratch_new(struct dz_err *err)
{
	struct dz_mih_scratch *s = calloc(1, sizeof *s);

	if (!s)
		dz_err_set(err, EX_SOFTWARE, "out of memory");
	return s;
}

void
dz_mih_scratch_free(struct dz_mih_scratch *s)
{
	if (!s)
		return;
	free(s->probe);
	free(s->range);
	free(s->hit);
	free(s);
}

void
dz_mih_scratch_qstats(const struct dz_mih_scratch *s, struct dz_mih_qstats *qs)
{
	*qs = s->qs;
}

void
dz_mih_scratch_force(struct dz_mih_scratch *s, int how)
{
	s->force = how;
}

/* ---------- query ---------- */

static int
grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t nc = *cap ? *cap : 256;
	void *np;

	if (need <= *cap)
		return 0;
	while (nc < need) {
		if (nc > SIZE_MAX / 2 / size)
			return -1;
		nc *= 2;
	}
	if (!(np = realloc(*p, nc * size)))
		return -1;
	*p = np;
	*cap = nc;
	return 0;
}

/* keys within distance depth of a bits-wide key: sum of C(bits, d) */
static uint64_t
nprobes(int bits, int depth)
{
	uint64_t c = 1, sum = 1;

	for (int d = 1; d <= depth && d <= bits; d++) {
		c = c * (uint64_t)(bits - d + 1) / (uint64_t)d;
		sum += c;
	}
	return sum;
}

/* How deep table t is probed for radius r (-1: not at all). */
static int
depth_of(const struct dz_mih *m, int t, int r)
{
	int s = r / m->m, a = r % m->m;

	return t <= a ? s : s - 1;
}

/* every key within distance depth of key, its offset prefetched */
static size_t
enum_probes(const uint32_t *off, uint32_t key, int bits, int depth,
    const uint32_t **out)
{
	size_t np = 0;
	int c[MAX_BITS];

#define EMIT(k) do { \
	const uint32_t *p_ = off + (k); \
	__builtin_prefetch(p_, 0, 1); \
	if (((uintptr_t)(p_ + 1) & 63) == 0) \
		__builtin_prefetch(p_ + 1, 0, 1); \
	out[np++] = p_; \
} while (0)
	EMIT(key);
	if (depth >= 1)
		for (int i = 0; i < bits; i++)
			EMIT(key ^ 1u << i);
	if (depth >= 2)
		for (int i = 1; i < bits; i++)
			for (int j = 0; j < i; j++)
				EMIT(key ^ 1u << i ^ 1u << j);
	for (int d = 3; d <= depth && d <= bits; d++) {
		for (int x = 0; x < d; x++)
			c[x] = x;
		for (;;) {
			uint32_t mask = 0;
			int x;

			for (x = 0; x < d; x++)
				mask |= 1u << c[x];
			EMIT(key ^ mask);
			for (x = d - 1; x >= 0 && c[x] == bits - d + x; x--)
				;
			if (x < 0)
				break;
			c[x]++;
			for (int y = x + 1; y < d; y++)
				c[y] = c[y - 1] + 1;
		}
	}
#undef EMIT
	return np;
}

struct scan_ctx {
	dz_mih_hit_fn fn;
	void *ctx;
};

static int
scan(const struct dz_mih *m, const struct dz_pdq *q, int radius,
    struct dz_mih_scratch *s, dz_mih_hit_fn fn, void *ctx)
{
	int calls = dz_pdq_brute_query(m->hashes, m->n, q, radius, fn, ctx);

	s->qs.method = DZ_MIH_SCAN;
	s->qs.candidates = m->n;
	s->qs.hits = (uint64_t)calls;
	return calls;
}

static int
flush(const struct dz_mih *m, struct dz_mih_scratch *s, size_t nc,
    const uint64_t *q, int radius)
{
	if (grow(&s->hit, &s->hit_cap, s->nhit + nc, sizeof *s->hit) < 0)
		return -1;
	s->nhit += verify(m->hashes, s->cand, nc, q, radius, s->hit + s->nhit);
	s->qs.candidates += nc;
	return 0;
}

/* first k with dup_rep[k] >= rep */
static uint32_t
first_dup(const struct dz_mih *m, uint32_t rep)
{
	uint32_t lo = 0, hi = m->ndup;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->dup_rep[mid] < rep)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sort and unique the hits, add the duplicates, call fn on each. */
static int
report(const struct dz_mih *m, struct dz_mih_scratch *s, dz_mih_hit_fn fn,
    void *ctx)
{
	size_t nu = 0, nall;
	uint64_t calls = 0;

	if (s->nhit > 1)
		qsort(s->hit, s->nhit, sizeof *s->hit, cmp_u64);
	for (size_t i = 0; i < s->nhit; i++)
		if (!nu || s->hit[i] >> 32 != s->hit[nu - 1] >> 32)
			s->hit[nu++] = s->hit[i];
	s->nhit = nall = nu;
	for (size_t i = 0; i < nu; i++) {
		uint32_t rep = (uint32_t)(s->hit[i] >> 32);

		if (!(m->dupmap[rep / 64] >> (rep % 64) & 1))
			continue;
		for (uint32_t k = first_dup(m, rep);
		    k < m->ndup && m->dup_rep[k] == rep; k++) {
			if (grow(&s->hit, &s->hit_cap, nall + 1,
			    sizeof *s->hit) < 0)
				return -1;
			s->hit[nall++] = (uint64_t)m->dup_idx[k] << 32 |
			    (uint32_t)s->hit[i];
		}
	}
	if (nall > nu)
		qsort(s->hit, nall, sizeof *s->hit, cmp_u64);
	s->nhit = nall;
	for (size_t i = 0; i < nall; i++) {
		calls++;
		if (fn && fn((uint32_t)(s->hit[i] >> 32), (int)(uint32_t)s->hit[i],
		    ctx))
			break;
	}
	s->qs.hits = calls;
	return calls > INT_MAX ? INT_MAX : (int)calls;
}

static int
query(const struct dz_mih *m, const struct dz_pdq *q, int radius,
    struct dz_mih_scratch *s, dz_mih_hit_fn fn, void *ctx)
{
	size_t tstart[DZ_MIH_MAX_TABLES + 1], np = 0, nr = 0, nc = 0;
	uint64_t probes = 0, est = 0, total = 0, p[4];
	int force_index = s->force == DZ_MIH_FORCE_INDEX;

	memset(&s->qs, 0, sizeof s->qs);
	s->nhit = 0;
	if (radius > m->max_radius || s->force == DZ_MIH_FORCE_SCAN ||
	    !m->unique)
		return scan(m, q, radius, s, fn, ctx);

	/*
	 * Cost: a probe or a candidate is a cache miss, which costs about as
	 * much as streaming two hashes through a scan.
	 */
	for (int t = 0; t < m->m; t++) {
		int depth = depth_of(m, t, radius);
		uint64_t k;

		if (depth < 0)
			continue;
		k = nprobes(m->t[t].bits, depth);
		probes += k;
		est += k * m->unique >> m->t[t].bits;
	}
	if (probes > PROBE_LIMIT ||
	    (!force_index && 2 * (probes + est) > m->n))
		return scan(m, q, radius, s, fn, ctx);
	if (grow(&s->probe, &s->probe_cap, (size_t)probes, sizeof *s->probe) < 0 ||
	    grow(&s->range, &s->range_cap, (size_t)probes, sizeof *s->range) < 0)
		return -1;

	/* 1: the probe keys, their offsets prefetched */
	permute(m, q, p);
	for (int t = 0; t < m->m; t++) {
		int depth = depth_of(m, t, radius);

		tstart[t] = np;
		if (depth >= 0)
			np += enum_probes(m->t[t].off,
			    key_of(p, m->t[t].start, m->t[t].bits),
			    m->t[t].bits, depth, s->probe + np);
	}
	tstart[m->m] = np;
	s->qs.method = DZ_MIH_INDEX;
	s->qs.probes = np;

	/* 2: ranges of ids, prefetched; bounded even if the image changed */
	for (int t = 0; t < m->m; t++) {
		const uint32_t *ids = m->t[t].ids;

		for (size_t i = tstart[t]; i < tstart[t + 1]; i++) {
			uint32_t lo = s->probe[i][0], hi = s->probe[i][1];

			if (hi > m->unique)
				hi = m->unique;
			if (lo >= hi)
				continue;
			__builtin_prefetch(ids + lo, 0, 1);
			s->range[nr].p = ids + lo;
			s->range[nr++].len = hi - lo;
			total += hi - lo;
		}
	}
	/* a huge cluster: the scan is cheaper */
	if (!force_index && 2 * total > m->n)
		return scan(m, q, radius, s, fn, ctx);

	/* 3 and 4: candidates, their hashes prefetched, then compared */
	for (size_t i = 0; i < nr; i++) {
		const uint32_t *ids = s->range[i].p;

		for (uint32_t k = 0; k < s->range[i].len; k++) {
			uint32_t id = ids[k];

			if (id >= m->n)
				continue;
			__builtin_prefetch(&m->hashes[id], 0, 1);
			s->cand[nc++] = id;
			if (nc == BATCH) {
				if (flush(m, s, nc, q->w, radius) < 0)
					return -1;
				nc = 0;
			}
		}
	}
	if (nc && flush(m, s, nc, q->w, radius) < 0)
		return -1;
	return report(m, s, fn, ctx);
}

int
dz_mih_query(const struct dz_mih *m, const struct dz_pdq *q, int radius,
    struct dz_mih_scratch *s, dz_mih_hit_fn fn, void *ctx,
    struct dz_err *err)
{
	struct dz_mih_scratch *own = NULL;
	int rc;

	if (!m || !q || radius < 0)
		return dz_err_set(err, EX_SOFTWARE, "dz_mih_query: bad arguments");
	if (radius > DZ_MIH_MAX_RADIUS)
		radius = DZ_MIH_MAX_RADIUS;
	if (!s && !(s = own = dz_mih_scratch_new(err)))
		return -1;
	rc = query(m, q, radius, s, fn, ctx);
	dz_mih_scratch_free(own);
	if (rc < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return rc;
}
