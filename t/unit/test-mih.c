/*
 * t/unit/test-mih: lib/bank/mih finds exactly what the brute-force oracle finds.
 *
 * Random banks with a query planted at every distance 0..32 from a bank
 * hash, duplicates, a clustered bank, the flat image through
 * dz_mih_view, and hundreds of damaged or hostile images, which must be
 * refused (or, when still well-formed, queried without reading out of
 * bounds: run under ASan with make check SANITIZE=1).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "bank/mih.h"
#include "hash/pdq.h"
#include "tap.h"
#include "util.h"

#define MAXR 31

/* ---------- collecting hits ---------- */

struct hits {
	uint64_t *v;		/* index << 32 | distance */
	size_t n, cap;
	size_t stop_after;	/* 0: never stop */
	int bad;		/* not ascending, or distance out of range */
};

static int
collect(uint32_t index, int distance, void *ctx)
{
	struct hits *h = ctx;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = realloc(h->v, h->cap * sizeof *h->v);
		if (!h->v)
			abort();
	}
	if (distance < 0 || distance > 256 ||
	    (h->n && index <= h->v[h->n - 1] >> 32))
		h->bad = 1;
	h->v[h->n++] = (uint64_t)index << 32 | (uint32_t)distance;
	return h->stop_after && h->n >= h->stop_after;
}

static int
same(const struct hits *a, const struct hits *b)
{
	return a->n == b->n && !a->bad && !b->bad &&
	    (a->n == 0 || !memcmp(a->v, b->v, a->n * sizeof *a->v));
}

/*
 * Query m and the oracle with each query at radius r; count the queries
 * whose answers differ, and those the index did not probe for.
 */
struct run {
	int mismatches, scanned, queries, errors;
	uint64_t hits;
};

static void
compare(const struct dz_mih *m, const struct dz_pdq *bank, uint32_t n,
    const struct dz_pdq *q, int nq, int r, struct dz_mih_scratch *s,
    struct run *out)
{
	struct hits a = { 0 }, b = { 0 };
	struct dz_mih_qstats qs;
	struct dz_err err;

	memset(out, 0, sizeof *out);
	for (int i = 0; i < nq; i++) {
		int rc;

		a.n = b.n = 0;
		a.bad = b.bad = 0;
		rc = dz_mih_query(m, &q[i], r, s, collect, &a, &err);
		dz_pdq_brute_query(bank, n, &q[i], r, collect, &b);
		if (rc < 0 || (size_t)rc != a.n)
			out->errors++;
		if (!same(&a, &b)) {
			if (out->mismatches++ < 3)
				diag("query %d radius %d: index %zu hits, oracle %zu",
				    i, r, a.n, b.n);
		}
		dz_mih_scratch_qstats(s, &qs);
		if (qs.method != DZ_MIH_INDEX)
			out->scanned++;
		out->hits += b.n;
		out->queries++;
	}
	free(a.v);
	free(b.v);
}

/* nq queries: one planted at each distance 0..32, then random ones */
static struct dz_pdq *
make_queries(struct rng *r, const struct dz_pdq *bank, uint32_t n, int nq)
{
	struct dz_pdq *q = calloc((size_t)nq, sizeof *q);

	if (!q)
		abort();
	for (int i = 0; i < nq; i++) {
		if (n && i <= 32) {
			q[i] = bank[below(r, n)];
			flip_to_distance(r, &q[i], i);
		} else {
			random_hash(r, &q[i]);
		}
	}
	return q;
}

static struct dz_pdq *
random_bank(struct rng *r, uint32_t n)
{
	struct dz_pdq *b = calloc(n ? n : 1, sizeof *b);

	if (!b)
		abort();
	for (uint32_t i = 0; i < n; i++)
		random_hash(r, &b[i]);
	return b;
}

/* ---------- the tests ---------- */

static void
test_random_banks(struct rng *r, struct dz_mih_scratch *s)
{
	static const uint32_t sizes[] = { 0, 1, 1000, 100000 };
	static const int radii[] = { 0, 10, 31, 32 };

	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		uint32_t n = sizes[k];
		struct dz_pdq *bank = random_bank(r, n), *q;
		struct dz_err err;
		struct dz_mih *m = dz_mih_build(bank, n, MAXR, &err);
		struct dz_mih_stats st;
		int nq = 33 + 20;

		if (!ok(m != NULL, "n=%u: build", n)) {
			diag("%s", err.msg);
			free(bank);
			continue;
		}
		dz_mih_stats(m, &st);
		ok(st.n == n && st.unique == n && st.tables >= 10 &&
		    st.max_radius == MAXR, "n=%u: stats (%d tables of %d..%d bits, "
		    "%zu bytes)", n, st.tables, st.bits[st.tables - 1], st.bits[0],
		    st.bytes);
		q = make_queries(r, bank, n, nq);
		for (size_t j = 0; j < sizeof radii / sizeof *radii; j++) {
			struct run run;

			dz_mih_scratch_force(s, 0);
			compare(m, bank, n, q, nq, radii[j], s, &run);
			ok(!run.mismatches && !run.errors,
			    "n=%u radius %d: same hits as the oracle "
			    "(%d queries, %llu hits, %d scanned)", n, radii[j],
			    run.queries, (unsigned long long)run.hits, run.scanned);
			if (n == 100000 && radii[j] <= MAXR)
				ok(run.scanned == 0, "n=%u radius %d: every query "
				    "used the index", n, radii[j]);
			if (radii[j] > MAXR)
				ok(run.scanned == run.queries, "n=%u radius %d: "
				    "above max_radius, every query scans", n,
				    radii[j]);
			if (n && radii[j] <= MAXR) {
				dz_mih_scratch_force(s, DZ_MIH_FORCE_INDEX);
				compare(m, bank, n, q, nq, radii[j], s, &run);
				ok(!run.mismatches && !run.errors && !run.scanned,
				    "n=%u radius %d, index forced: same hits",
				    n, radii[j]);
			}
		}
		dz_mih_scratch_force(s, 0);
		free(q);
		dz_mih_free(m);
		free(bank);
	}
}

/* every radius 0..MAXR on one bank, the index forced */
static void
test_every_radius(struct rng *r, struct dz_mih_scratch *s)
{
	uint32_t n = 3000;
	struct dz_pdq *bank = random_bank(r, n), *q = make_queries(r, bank, n, 40);
	struct dz_mih *m = dz_mih_build(bank, n, MAXR, NULL);
	int bad = 0, total = 0;

	dz_mih_scratch_force(s, DZ_MIH_FORCE_INDEX);
	for (int rad = 0; rad <= MAXR; rad++) {
		struct run run;

		compare(m, bank, n, q, 40, rad, s, &run);
		bad += run.mismatches + run.errors;
		total += run.queries;
	}
	dz_mih_scratch_force(s, 0);
	ok(m && !bad, "n=%u: every radius 0..%d, index forced: same hits "
	    "(%d queries)", n, MAXR, total);
	free(q);
	dz_mih_free(m);
	free(bank);
}

static void
test_duplicates(struct rng *r, struct dz_mih_scratch *s)
{
	uint32_t n = 5000;
	struct dz_pdq *bank = random_bank(r, n), *q;
	struct dz_mih *m;
	struct dz_mih_stats st;
	struct hits h = { 0 };
	struct run run;
	int every = 1;

	/* 10 hashes, each copied about 200 times over the bank */
	for (uint32_t i = 0; i < 2000; i++)
		bank[below(r, n)] = bank[i % 10];
	m = dz_mih_build(bank, n, MAXR, NULL);
	dz_mih_stats(m, &st);
	ok(st.unique < n - 1500, "duplicates: %u unique of %u", st.unique, n);
	q = make_queries(r, bank, n, 53);
	for (int i = 0; i < 10; i++) {
		uint32_t want = 0;

		q[i] = bank[i];
		for (uint32_t j = 0; j < n; j++)
			want += !memcmp(&bank[j], &bank[i], sizeof bank[i]);
		h.n = 0;
		dz_mih_query(m, &bank[i], 0, s, collect, &h, NULL);
		every &= h.n == want && !h.bad;
	}
	ok(every, "duplicates: a query at distance 0 reports every copy");
	compare(m, bank, n, q, 53, MAXR, s, &run);
	ok(!run.mismatches && !run.errors, "duplicates radius %d: same hits "
	    "(%llu hits)", MAXR, (unsigned long long)run.hits);
	dz_mih_scratch_force(s, DZ_MIH_FORCE_INDEX);
	compare(m, bank, n, q, 53, 12, s, &run);
	ok(!run.mismatches && !run.errors, "duplicates radius 12, index "
	    "forced: same hits");
	dz_mih_scratch_force(s, 0);
	free(h.v);
	free(q);
	dz_mih_free(m);
	free(bank);
}

/* many hashes near a few centres, exact copies, near-zero hashes */
static struct dz_pdq *
clustered_bank(struct rng *r, uint32_t n)
{
	struct dz_pdq *b = random_bank(r, n), centre[20];

	for (int c = 0; c < 20; c++)
		random_hash(r, &centre[c]);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t kind = below(r, 100);

		if (kind < 40) {
			b[i] = centre[below(r, 20)];
			flip_to_distance(r, &b[i], (int)below(r, 13));
		} else if (kind < 45) {
			b[i] = centre[below(r, 20)];
		} else if (kind < 50) {
			memset(&b[i], 0, sizeof b[i]);
			flip_to_distance(r, &b[i], (int)below(r, 5));
		} else if (kind < 55 && i) {
			b[i] = b[below(r, i)];
		}
	}
	return b;
}

static void
test_clustered(struct rng *r, struct dz_mih_scratch *s)
{
	uint32_t n = 50000;
	struct dz_pdq *bank = clustered_bank(r, n), *q;
	struct dz_mih *m = dz_mih_build(bank, n, MAXR, NULL);
	struct dz_mih_stats st;
	struct run run;

	dz_mih_stats(m, &st);
	ok(m && st.oversized_buckets > 0, "clustered: %u unique, %llu "
	    "oversized buckets holding %llu entries, largest %u", st.unique,
	    (unsigned long long)st.oversized_buckets,
	    (unsigned long long)st.oversized_entries, st.largest_bucket);
	q = make_queries(r, bank, n, 53);
	for (int rad = 0; rad <= 32; rad += 8) {
		int radius = rad == 32 ? MAXR : rad;

		compare(m, bank, n, q, 53, radius, s, &run);
		ok(!run.mismatches && !run.errors, "clustered radius %d: same "
		    "hits (%llu hits, %d of %d scanned)", radius,
		    (unsigned long long)run.hits, run.scanned, run.queries);
		dz_mih_scratch_force(s, DZ_MIH_FORCE_INDEX);
		compare(m, bank, n, q, 53, radius, s, &run);
		ok(!run.mismatches && !run.errors && !run.scanned,
		    "clustered radius %d, index forced: same hits", radius);
		dz_mih_scratch_force(s, 0);
	}
	free(q);
	dz_mih_free(m);
	free(bank);
}

/* an 8-byte aligned copy of the image */
static uint64_t *
image_of(const struct dz_mih *m, size_t *len)
{
	uint64_t *buf;

	*len = dz_mih_serialized_size(m);
	buf = malloc(*len);
	if (!buf || dz_mih_serialize(m, buf, *len, NULL) < 0)
		abort();
	return buf;
}

static void
test_view(struct rng *r, struct dz_mih_scratch *s)
{
	uint32_t n = 20000;
	struct dz_pdq *bank = clustered_bank(r, n), *q, *other;
	struct dz_mih *m = dz_mih_build(bank, n, MAXR, NULL), *v;
	struct dz_err err;
	size_t len, blen;
	uint64_t *buf = image_of(m, &len);
	const void *bytes = dz_mih_bytes(m, &blen);
	struct run run;

	ok(blen == len && !memcmp(bytes, buf, len), "view: dz_mih_bytes is "
	    "the serialized image (%zu bytes)", len);
	ok(dz_mih_serialize(m, buf, len - 1, &err) < 0 &&
	    err.code == EX_SOFTWARE, "view: serialize refuses a short buffer");
	v = dz_mih_view(buf, len, bank, n, &err);
	if (!ok(v != NULL, "view: the image is accepted"))
		diag("%s", err.msg);
	q = make_queries(r, bank, n, 53);
	for (int rad = 0; v && rad <= 32; rad += 16) {
		int radius = rad == 32 ? MAXR : rad;

		compare(v, bank, n, q, 53, radius, s, &run);
		ok(!run.mismatches && !run.errors, "view radius %d: same hits",
		    radius);
		dz_mih_scratch_force(s, DZ_MIH_FORCE_INDEX);
		compare(v, bank, n, q, 53, radius, s, &run);
		ok(!run.mismatches && !run.errors, "view radius %d, index "
		    "forced: same hits", radius);
		dz_mih_scratch_force(s, 0);
	}
	if (v) {
		struct dz_mih_stats a, b;

		dz_mih_stats(m, &a);
		dz_mih_stats(v, &b);
		ok(a.unique == b.unique && a.tables == b.tables &&
		    a.oversized_buckets == b.oversized_buckets &&
		    a.largest_bucket == b.largest_bucket &&
		    a.seed == b.seed && a.bytes == b.bytes,
		    "view: same statistics as the built index");
	}
	dz_mih_free(v);

	ok(!dz_mih_view(buf, len, bank, n - 1, &err) && err.code == EX_DATAERR,
	    "view: refused for a bank of another size (%s)", err.msg);
	other = random_bank(r, n);
	ok(!dz_mih_view(buf, len, other, n, &err) && err.code == EX_DATAERR,
	    "view: refused for another bank of the same size (%s)", err.msg);
	ok(!dz_mih_view((char *)buf + 8, len - 8, bank, n, &err),
	    "view: refused at the wrong place (%s)", err.msg);
	{
		char *mis = malloc(len + 8);

		memcpy(mis + 4, buf, len);
		ok(!dz_mih_view(mis + 4, len, bank, n, &err) &&
		    err.code == EX_SOFTWARE, "view: refused misaligned (%s)",
		    err.msg);
		free(mis);
	}
	free(other);
	free(q);
	free(buf);
	dz_mih_free(m);
	free(bank);
}

/* ---------- damaged and hostile images ---------- */

static void
reseal(uint64_t *buf, size_t len)
{
	buf[3] = 0;
	buf[3] = dz_mih_checksum(buf, len);
}

/*
 * An accepted (possibly hostile) view is queried at several radii, index
 * forced and not: every index reported must be < n. Returns 0 if fine.
 */
static int
query_all(const struct dz_mih *v, uint32_t n, const struct dz_pdq *q, int nq,
    struct dz_mih_scratch *s)
{
	struct hits h = { 0 };
	int bad = 0;

	for (int f = 0; f <= DZ_MIH_FORCE_INDEX; f++) {
		dz_mih_scratch_force(s, f);
		for (int i = 0; i < nq; i++) {
			h.n = 0;
			if (dz_mih_query(v, &q[i], i % 33, s, collect, &h, NULL) < 0)
				bad = 1;
			for (size_t k = 0; k < h.n; k++)
				bad |= (h.v[k] >> 32) >= n;
		}
	}
	dz_mih_scratch_force(s, 0);
	free(h.v);
	return bad;
}

struct field {
	const char *what;
	size_t at;		/* byte offset */
	int size;		/* 4 or 8 */
	uint64_t value;
};

static void
test_hostile(struct rng *r, struct dz_mih_scratch *s)
{
	uint32_t n = 400;
	struct dz_pdq *bank = random_bank(r, n), *q;
	struct dz_mih *m, *v;
	struct dz_err err;
	size_t len;
	uint64_t *img, *buf;
	int refused, wrong, crashed, accepted;
	const size_t off0 = 128;	/* offsets of table 0 */
	uint32_t u32;
	struct dz_mih_stats st0;

	for (uint32_t i = 0; i < 40; i++)	/* some duplicates */
		bank[below(r, n)] = bank[i];
	m = dz_mih_build(bank, n, MAXR, NULL);
	dz_mih_stats(m, &st0);
	img = image_of(m, &len);
	buf = malloc(len);
	q = make_queries(r, bank, n, 40);

	/* truncated, at every 8-byte boundary and a few odd lengths */
	refused = wrong = 0;
	for (size_t l = 0; l < len; l += (l < 256 ? 1 : 8)) {
		memcpy(buf, img, l);
		v = dz_mih_view(buf, l, bank, n, &err);
		refused += !v;
		wrong += v || err.code != EX_DATAERR;
		dz_mih_free(v);
	}
	ok(!wrong, "hostile: every truncation refused with EX_DATAERR "
	    "(%d lengths)", refused);

	/* random byte flips: the checksum refuses them all */
	wrong = 0;
	for (int i = 0; i < 300; i++) {
		int k = 1 + (int)below(r, 4);

		memcpy(buf, img, len);
		for (int j = 0; j < k; j++)
			((unsigned char *)buf)[below(r, (uint32_t)len)] ^=
			    (unsigned char)(1 + below(r, 255));
		v = dz_mih_view(buf, len, bank, n, &err);
		wrong += v || err.code != EX_DATAERR;
		dz_mih_free(v);
	}
	ok(!wrong, "hostile: 300 images with flipped bytes refused with "
	    "EX_DATAERR");

	/* hostile fields with a valid checksum */
	{
		const struct field f[] = {
			{ "version", 8, 4, 2 },
			{ "header size", 12, 4, 64 },
			{ "image size", 16, 8, 1 << 20 },
			{ "n", 40, 4, 401 },
			{ "unique > n", 44, 4, 401 },
			{ "unique", 44, 4, 100 },
			{ "duplicates", 48, 4, 0 },
			{ "no tables", 52, 4, 0 },
			{ "too many tables", 52, 4, 33 },
			{ "max radius", 56, 4, 257 },
			{ "reserved", 60, 4, 1 },
			{ "fingerprint", 64, 8, 12345 },
			{ "table width", 72, 4, 0x1d1d1d1d },
			{ "width sum", 72 + 31, 4, 1 },
			{ "first offset", off0, 4, 1 },
			{ "an offset", off0 + 4 * 100, 4, 0xfffffff0 },
			{ "last offset", off0 + ((size_t)4 << st0.bits[0]), 4, 7 },
			{ "an offset past the ids", off0 + 4 * 3, 4, 5000 },
		};
		size_t nf = sizeof f / sizeof *f;

		wrong = 0;
		for (size_t i = 0; i < nf; i++) {
			memcpy(buf, img, len);
			if (f[i].size == 4) {
				u32 = (uint32_t)f[i].value;
				memcpy((char *)buf + f[i].at, &u32, 4);
			} else {
				memcpy((char *)buf + f[i].at, &f[i].value, 8);
			}
			reseal(buf, len);
			v = dz_mih_view(buf, len, bank, n, &err);
			if (v || err.code != EX_DATAERR) {
				diag("hostile %s accepted", f[i].what);
				wrong++;
			}
			dz_mih_free(v);
		}
		ok(!wrong, "hostile: %zu bad header fields and offsets "
		    "refused with EX_DATAERR", nf);
	}

	/* ids and duplicates out of range, found through the layout */
	{
		struct dz_mih_stats st;
		size_t ids, dupmap, dup_rep;
		size_t ntab, mid;
		uint32_t bad_ids[] = { n, n + 1, 0xffffffff };

		dz_mih_stats(m, &st);
		ntab = (size_t)st.tables;
		ids = 128;
		for (size_t t = 0; t < ntab; t++)
			ids += ((4 * (((size_t)1 << st.bits[t]) + 1)) + 63) & ~(size_t)63;
		dupmap = ids + ((4 * ntab * st.unique + 63) & ~(size_t)63);
		dup_rep = dupmap + (((n + 63) / 64 * 8 + 63) & ~(size_t)63);
		mid = ids + 4 * (ntab * st.unique / 2);
		wrong = 0;
		for (size_t i = 0; i < 3; i++) {
			memcpy(buf, img, len);
			memcpy((char *)buf + mid, &bad_ids[i], 4);
			reseal(buf, len);
			v = dz_mih_view(buf, len, bank, n, &err);
			wrong += v || err.code != EX_DATAERR;
			dz_mih_free(v);
		}
		ok(!wrong, "hostile: ids >= n refused with EX_DATAERR");
		ok(st.unique < n, "hostile: the bank has %u duplicates",
		    n - st.unique);
		wrong = 0;
		for (size_t i = 0; i < 3; i++) {
			memcpy(buf, img, len);
			memcpy((char *)buf + dup_rep, &bad_ids[i], 4);
			reseal(buf, len);
			v = dz_mih_view(buf, len, bank, n, &err);
			wrong += v || err.code != EX_DATAERR;
			dz_mih_free(v);
		}
		/* the duplicate map must mark the reps */
		memcpy(buf, img, len);
		memset((char *)buf + dupmap, 0, (n + 63) / 64 * 8);
		reseal(buf, len);
		v = dz_mih_view(buf, len, bank, n, &err);
		wrong += v || err.code != EX_DATAERR;
		dz_mih_free(v);
		ok(!wrong, "hostile: bad duplicates refused with EX_DATAERR");

		/* a duplicate that is not a copy of its representative: the
		 * index would report it at the representative's distance */
		{
			uint32_t rep, c;
			size_t ndup = n - st.unique;
			size_t dup_idx = dup_rep + ((4 * ndup + 63) & ~(size_t)63);

			memcpy(buf, img, len);
			memcpy(&rep, (char *)buf + dup_rep, 4);
			for (c = rep + 1; c < n && !memcmp(&bank[c], &bank[rep],
			    sizeof bank[rep]); c++)
				;
			memcpy((char *)buf + dup_idx, &c, 4);
			reseal(buf, len);
			v = dz_mih_view(buf, len, bank, n, &err);
			ok(!v && err.code == EX_DATAERR &&
			    strstr(err.msg, "duplicate"), "hostile: a duplicate "
			    "that is not a copy of its representative is refused "
			    "(%s)", err.msg);
			dz_mih_free(v);
		}
	}

	/*
	 * Random damage with the checksum fixed up: refused with EX_DATAERR,
	 * or, if still well-formed, queried without harm.
	 */
	refused = accepted = wrong = crashed = 0;
	for (int i = 0; i < 400; i++) {
		int k = 1 + (int)below(r, 3);

		memcpy(buf, img, len);
		for (int j = 0; j < k; j++) {
			size_t at = 24 + below(r, (uint32_t)(len - 24));

			if (i % 2)	/* whole 32-bit words: plausible values */
				memcpy((char *)buf + (at & ~(size_t)3),
				    &(uint32_t){ below(r, i % 4 == 1 ? n + 4 :
				    0xffffffff) }, 4);
			else
				((unsigned char *)buf)[at] ^=
				    (unsigned char)(1 + below(r, 255));
		}
		reseal(buf, len);
		v = dz_mih_view(buf, len, bank, n, &err);
		if (!v) {
			refused++;
			wrong += err.code != EX_DATAERR;
			continue;
		}
		accepted++;
		crashed += query_all(v, n, q, 40, s);
		dz_mih_free(v);
	}
	ok(!wrong && !crashed, "hostile: 400 resealed random mutations: %d "
	    "refused with EX_DATAERR, %d accepted and queried in bounds",
	    refused, accepted);

	/* the untouched image still works */
	memcpy(buf, img, len);
	v = dz_mih_view(buf, len, bank, n, &err);
	ok(v && !query_all(v, n, q, 40, s), "hostile: the intact image works");
	dz_mih_free(v);
	free(q);
	free(buf);
	free(img);
	dz_mih_free(m);
	free(bank);
}

/* ---------- the API's edges ---------- */

static void
test_api(struct rng *r)
{
	uint32_t n = 2000;
	struct dz_pdq *bank = random_bank(r, n), q;
	struct dz_mih *m;
	struct dz_err err;
	struct hits h = { 0 }, all = { 0 };
	int rc;

	ok(!dz_mih_build(bank, n, -1, &err) && err.code == EX_SOFTWARE,
	    "api: negative max_radius refused");
	ok(!dz_mih_build(bank, n, 257, &err) && err.code == EX_SOFTWARE,
	    "api: max_radius above 256 refused");
	ok(!dz_mih_build(NULL, 5, 31, &err), "api: no hashes refused");
	m = dz_mih_build(bank, n, MAXR, &err);
	q = bank[7];
	ok(dz_mih_query(m, &q, -1, NULL, collect, &h, &err) == -1 &&
	    err.code == EX_SOFTWARE, "api: negative radius refused");
	ok(dz_pdq_brute_query(bank, n, &q, -1, collect, &h) == 0 && h.n == 0,
	    "api: oracle with a negative radius finds nothing");

	rc = dz_mih_query(m, &q, 256, NULL, collect, &all, &err);
	ok(rc == (int)n && all.n == n && !all.bad, "api: radius 256 finds the "
	    "whole bank, in order (no scratch given)");
	h.stop_after = 5;
	rc = dz_mih_query(m, &q, 256, NULL, collect, &h, &err);
	ok(rc == 5 && h.n == 5, "api: a nonzero return stops the query");
	h.n = 0;
	rc = dz_pdq_brute_query(bank, n, &q, 256, collect, &h);
	ok(rc == 5 && h.n == 5, "api: and stops the oracle");
	h.n = 0;
	h.stop_after = 1;
	rc = dz_mih_query(m, &q, 0, NULL, collect, &h, &err);
	ok(rc == 1 && h.n == 1 && h.v[0] >> 32 == 7, "api: distance 0 finds "
	    "the hash itself");
	ok(dz_mih_query(m, &q, 31, NULL, NULL, NULL, &err) >= 1,
	    "api: no callback: just the count");
	free(h.v);
	free(all.v);
	dz_mih_free(m);
	dz_mih_free(NULL);
	dz_mih_scratch_free(NULL);
	free(bank);
}

/* ---------- concurrent queries on one index ---------- */

struct worker {
	const struct dz_mih *m;
	const struct dz_pdq *bank, *q;
	uint32_t n;
	int nq, mismatches;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct dz_mih_scratch *s = dz_mih_scratch_new(NULL);
	struct run run;

	for (int rep = 0; rep < 3; rep++) {
		compare(w->m, w->bank, w->n, w->q, w->nq, MAXR, s, &run);
		w->mismatches += run.mismatches + run.errors;
	}
	dz_mih_scratch_free(s);
	return NULL;
}

static void
test_threads(struct rng *r)
{
	uint32_t n = 30000;
	struct dz_pdq *bank = random_bank(r, n);
	struct dz_mih *m = dz_mih_build(bank, n, MAXR, NULL);
	struct worker w[4];
	pthread_t th[4];
	int bad = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ m, bank, make_queries(r, bank, n, 40),
		    n, 40, 0 };
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].mismatches;
		free((void *)w[i].q);
	}
	ok(!bad, "threads: 4 threads querying one index agree with the oracle");
	dz_mih_free(m);
	free(bank);
}

int
main(void)
{
	struct rng r = { 20260115 };
	struct dz_mih_scratch *s = dz_mih_scratch_new(NULL);

	test_random_banks(&r, s);
	test_every_radius(&r, s);
	test_duplicates(&r, s);
	test_clustered(&r, s);
	test_view(&r, s);
	test_hostile(&r, s);
	test_api(&r);
	test_threads(&r);
	dz_mih_scratch_free(s);
	return tap_done();
}
