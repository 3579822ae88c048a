/*
 * lib/bank/mih: exact Hamming-radius search over a bank of PDQ hashes
 * (multi-index hashing over flat arrays).
 *
 * The 256 bits of every hash are shuffled by a fixed pseudo-random bit
 * permutation (PDQ's neighbouring bits are correlated; the shuffle spreads
 * them) and cut into m disjoint substrings of about log2(n) bits, one
 * table per substring. By the pigeonhole principle a hash within distance
 * r of the query differs from it in at most floor(r / m) bits in one of the
 * substrings (more precisely: with r = s*m + a, in at most s bits in one
 * of the first a + 1 tables or in at most s - 1 bits in one of the
 * others), so probing every key that close in every table finds every
 * match: the search is exact, never approximate. Each table is laid out
 * as a counting sort: offsets[2^bits + 1] and the ids sorted by key.
 *
 * Identical hashes are indexed once; a hit on one reports every index of
 * the bank that holds it. When a query would read more candidates than a
 * plain scan costs (radius above the index's max_radius, a tiny bank, a
 * query into a huge cluster of near-identical hashes), it scans the bank
 * instead: the answer is the same.
 *
 *	idx = dz_mih_build(hashes, n, 31, &err);
 *	s = dz_mih_scratch_new(&err);		// one per thread
 *	nhits = dz_mih_query(idx, &q, 31, s, on_hit, ctx, &err);
 *	dz_mih_scratch_free(s);
 *	dz_mih_free(idx);
 *
 * Ownership: the hashes array stays the caller's; it must not change and
 * must outlive the index. An index from dz_mih_build owns its memory;
 * one from dz_mih_view borrows the caller's buffer, which must outlive it.
 * Both are freed with dz_mih_free. An index is never modified after
 * dz_mih_build or dz_mih_view returns: any number of threads may query one
 * index at once, each with its own scratch (or none).
 *
 * The flat image (dz_mih_serialize, dz_mih_bytes) is what a bank file
 * embeds; dz_mih_view uses it in place, from read-only memory (mmap), with
 * no rebuilding. All integers are little-endian, every section starts on a
 * 64-byte boundary of the image:
 *
 *	header, 128 bytes:
 *	  0  magic "\x89DZMIH\r\n"     8  u32 version (1)
 *	 12  u32 header size (128)    16  u64 image size
 *	 24  u64 checksum of the image, computed with this field zero
 *	 32  u64 permutation seed     40  u32 n (hashes in the bank)
 *	 44  u32 unique hashes        48  u32 duplicates (n - unique)
 *	 52  u32 m (tables)           56  u32 max_radius
 *	 60  u32 zero                 64  u64 fingerprint of the bank
 *	 72  u8 bits[32]: bits of each table (0 past m; they sum to 256)
 *	104  zero
 *	offsets of table 0..m-1: u32[2^bits + 1] each
 *	ids: u32[m * unique], table t from t * unique, each bucket ascending
 *	duplicate map: u64[(n + 63) / 64], bit i set when index i is indexed
 *	  and other indexes hold the same hash
 *	dup_rep, dup_idx: u32[duplicates] each, sorted by (rep, idx): index
 *	  dup_idx holds the same hash as the indexed dup_rep < dup_idx
 *
 * The permutation is part of the version: Fisher-Yates over bits 0..255,
 * j = splitmix64(seed) % (i + 1) for i = 255 down to 1; permuted bit p is
 * hash bit perm[p]; table t's key is permuted bits [start, start + bits),
 * bit 0 first, the tables in order.
 *
 * dz_mih_view checks all of it (checksum, sizes, monotone offsets ending
 * at unique, ids and duplicates < n, the bank's fingerprint) and the query
 * code bounds every read again, so a corrupt or hostile image is refused
 * (EX_DATAERR) and can never make a query read out of bounds.
 *
 * May use: core/ (err), hash/ (pdq).
 */
#ifndef DZ_MIH_H
#define DZ_MIH_H

#include <stddef.h>
#include <stdint.h>

struct dz_err;
struct dz_pdq;

#define DZ_MIH_VERSION 1
#define DZ_MIH_MAX_TABLES 32
#define DZ_MIH_MAX_RADIUS 256
/* A bucket above max(64, 64 * mean bucket size) counts as oversized. */
#define DZ_MIH_OVERSIZE 64

struct dz_mih;
struct dz_mih_scratch;

/*
 * Called once per hit, in ascending index order, with the index into the
 * bank and its distance (0..radius) from the query. Return 0 to go on;
 * anything else ends the query early.
 */
typedef int (*dz_mih_hit_fn)(uint32_t index, int distance, void *ctx);

/*
 * Index hashes[0..n-1] for queries of radius up to max_radius (0..256;
 * larger queries scan the bank). NULL on failure: EX_SOFTWARE "out of
 * memory" or bad arguments. The index holds about 4 * (m * n + sum over
 * the tables of 2^bits) bytes: 0.91 GB for 10 million unique hashes
 * (11 tables of 23 or 24 bits), 0.18 GB for 1 million (12 of 21 or 22).
 * Building takes about 10 seconds for 10 million hashes on one core.
 */
struct dz_mih *dz_mih_build(const struct dz_pdq *hashes, uint32_t n,
    int max_radius, struct dz_err *err);

/*
 * An index over the flat image buf[0..len-1] (8-byte aligned; from
 * dz_mih_serialize, typically mmapped), for the same hashes[0..n-1] it
 * was built from. Reads and checks the whole image once, then never
 * copies it. NULL with EX_DATAERR when the image is damaged, hostile, of
 * another version or for another bank; EX_SOFTWARE when out of memory or
 * buf is misaligned.
 */
struct dz_mih *dz_mih_view(const void *buf, size_t len,
    const struct dz_pdq *hashes, uint32_t n, struct dz_err *err);

/* Frees the index (not the hashes, nor a view's buffer). NULL is fine. */
void dz_mih_free(struct dz_mih *m);

/* Size in bytes of the flat image. */
size_t dz_mih_serialized_size(const struct dz_mih *m);

/*
 * Copy the flat image to buf. -1 with EX_SOFTWARE if len is smaller than
 * dz_mih_serialized_size(m).
 */
int dz_mih_serialize(const struct dz_mih *m, void *buf, size_t len,
    struct dz_err *err);

/*
 * The flat image itself, without a copy (to write it to a file): owned by
 * the index (or a view's buffer), valid until dz_mih_free.
 */
const void *dz_mih_bytes(const struct dz_mih *m, size_t *len);

/*
 * The image's checksum, computed as dz_mih_view does (the checksum field
 * taken as zero), for tools and tests that edit an image; 0 if len is not
 * a multiple of 8 or is shorter than the header.
 */
uint64_t dz_mih_checksum(const void *buf, size_t len);

struct dz_mih_stats {
	uint32_t n;		/* hashes in the bank */
	uint32_t unique;	/* distinct hashes, each indexed once */
	int tables;		/* m */
	int bits[DZ_MIH_MAX_TABLES];	/* bits of each table's substring */
	int max_radius;
	uint64_t seed;		/* of the bit permutation */
	size_t bytes;		/* flat image */
	size_t memory;		/* image and the index's own heap */
	uint32_t largest_bucket;	/* entries */
	uint64_t oversized_buckets;	/* over all tables, see DZ_MIH_OVERSIZE */
	uint64_t oversized_entries;	/* entries in those buckets */
};

void dz_mih_stats(const struct dz_mih *m, struct dz_mih_stats *st);

/*
 * Scratch space for queries, reused from one query to the next: one per
 * thread. NULL with EX_SOFTWARE "out of memory".
 */
struct dz_mih_scratch *dz_mih_scratch_new(struct dz_err *err);
void dz_mih_scratch_free(struct dz_mih_scratch *s);

/* How a query ran. */
enum dz_mih_method {
	DZ_MIH_NONE,		/* no query yet */
	DZ_MIH_INDEX,		/* probed the tables */
	DZ_MIH_SCAN		/* scanned the whole bank */
};

struct dz_mih_qstats {
	enum dz_mih_method method;
	uint64_t probes;	/* table keys looked up */
	uint64_t candidates;	/* bank entries compared with the query */
	uint64_t hits;
};

/* Figures of the last query run with s. */
void dz_mih_scratch_qstats(const struct dz_mih_scratch *s,
    struct dz_mih_qstats *qs);

/*
 * For tests and benchmarks: DZ_MIH_FORCE_INDEX probes the tables even when
 * a scan would be cheaper, as long as the radius is at most max_radius and
 * the probes fit in scratch space (about a million); DZ_MIH_FORCE_SCAN
 * always scans; 0 (the default) chooses.
 */
#define DZ_MIH_FORCE_INDEX 1
#define DZ_MIH_FORCE_SCAN 2
void dz_mih_scratch_force(struct dz_mih_scratch *s, int how);

/*
 * Call fn for every index i with dz_pdq_distance(&hashes[i], q) <= radius
 * (radius 0..256), in ascending order, each exactly once. s may be NULL
 * (scratch is then allocated for the call). Returns the number of calls
 * made (saturated at INT_MAX), or -1: EX_SOFTWARE for a negative radius or
 * out of memory.
 */
int dz_mih_query(const struct dz_mih *m, const struct dz_pdq *q, int radius,
    struct dz_mih_scratch *s, dz_mih_hit_fn fn, void *ctx,
    struct dz_err *err);

/*
 * The oracle: every i in 0..n-1 with distance <= radius, in ascending
 * order, by comparing q with each hash. Returns the number of calls made
 * (saturated at INT_MAX); 0 when radius < 0.
 */
int dz_pdq_brute_query(const struct dz_pdq *hashes, uint32_t n,
    const struct dz_pdq *q, int radius, dz_mih_hit_fn fn, void *ctx);

#endif
