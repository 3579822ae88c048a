/*
 * scripts/bench/matchbench: how fast lib/bank/mih answers PDQ radius queries,
 * next to the brute-force oracle on the same bank in the same run.
 *
 * Banks of 1 and 10 million hashes, uniform random and clustered (10% of
 * the hashes within 0-20 bits of 1,000 centres, 2% exact copies, 0.2%
 * near-zero "flat image" hashes). Per bank: 1,000 queries planted at
 * distance 1-31 from a random bank hash and 1,000 random ones, radius 31,
 * one thread. Prints the build time, the index's size, the process's peak
 * RSS, queries per second, recall against brute force on a subset of the
 * queries, and the brute-force rate; for the 10 million uniform bank also
 * the time to map the index from a file (dz_mih_view) and answer the first
 * 100 queries. Then the targets, PASS or MISS. The exit status is 0
 * whatever the figures, not 0 only when something fails.
 *
 * Run by scripts/bench/match (make bench); -q leaves out the 10 million
 * banks.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "bank/mih.h"
#include "hash/pdq.h"
#include "../../t/unit/util.h"	/* struct rng, rnd, below */

#define RADIUS 31
#define NPLANTED 1000
#define NRANDOM 1000
#define NQ (NPLANTED + NRANDOM)
#define FIRST 100		/* queries timed with the mmap load */

/* targets, at 10 million hashes */
#define T_QPS 3000.0
#define T_RSS (1.5e9)
#define T_BUILD 30.0
#define T_LOAD 1.0

static const char *prog = "bench/matchbench";

/* flip exactly d distinct bits */
static void
flip(struct rng *r, struct dz_pdq *h, int d)
{
	uint64_t done[4] = { 0 };

	while (d > 0) {
		int b = (int)below(r, 256);

		if (done[b / 64] >> (b % 64) & 1)
			continue;
		done[b / 64] |= (uint64_t)1 << (b % 64);
		h->w[b / 64] ^= (uint64_t)1 << (b % 64);
		d--;
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
peak_rss(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss * 1024;
}

static void
die(int status, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(status);
}

static void *
xalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, (size_t)2 << 20, len ? len : 1))
		die(EX_OSERR, "%s", "out of memory");
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

/* ---------- banks and queries ---------- */

static struct dz_pdq *
make_bank(struct rng *r, uint32_t n, int clustered)
{
	struct dz_pdq *b = xalloc((size_t)n * sizeof *b), centre[1000];

	for (int c = 0; c < 1000; c++)
		for (int w = 0; w < 4; w++)
			centre[c].w[w] = rnd(r);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t kind = clustered ? below(r, 1000) : 999;

		if (kind < 100) {		/* 10%: near a centre */
			b[i] = centre[below(r, 1000)];
			flip(r, &b[i], (int)below(r, 21));
		} else if (kind < 120 && i) {	/* 2%: a copy */
			b[i] = b[below(r, i)];
		} else if (kind < 122) {	/* 0.2%: flat images */
			memset(&b[i], 0, sizeof b[i]);
			flip(r, &b[i], (int)below(r, 7));
		} else {
			for (int w = 0; w < 4; w++)
				b[i].w[w] = rnd(r);
		}
	}
	return b;
}

/* planted at distance 1..RADIUS from a bank hash, then random */
static void
make_queries(struct rng *r, const struct dz_pdq *b, uint32_t n,
    struct dz_pdq *q)
{
	for (int i = 0; i < NQ; i++) {
		if (i < NPLANTED) {
			q[i] = b[below(r, n)];
			flip(r, &q[i], 1 + (int)below(r, RADIUS));
		} else {
			for (int w = 0; w < 4; w++)
				q[i].w[w] = rnd(r);
		}
	}
}

/* ---------- hits ---------- */

struct tally {
	uint64_t count, sum;	/* of the indexes */
};

static int
on_tally(uint32_t index, int distance, void *ctx)
{
	struct tally *t = ctx;

	t->count++;
	t->sum += (uint64_t)index * 2654435761u + (uint64_t)distance;
	return 0;
}

struct list {
	uint32_t *v;
	size_t n, cap;
};

static int
on_list(uint32_t index, int distance, void *ctx)
{
	struct list *l = ctx;

	(void)distance;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		if (!(l->v = realloc(l->v, l->cap * sizeof *l->v)))
			die(EX_OSERR, "%s", "out of memory");
	}
	l->v[l->n++] = index;
	return 0;
}

/* |a and b|, both ascending */
static size_t
common(const struct list *a, const struct list *b)
{
	size_t i = 0, j = 0, c = 0;

	while (i < a->n && j < b->n) {
		if (a->v[i] == b->v[j]) {
			c++;
			i++;
			j++;
		} else if (a->v[i] < b->v[j]) {
			i++;
		} else {
			j++;
		}
	}
	return c;
}

/* ---------- one bank ---------- */

struct result {
	double build, qps, qps_planted, qps_random, brute_qps;
	double load, recall, mapped_qps, cold_load;
	size_t bytes;
	uint64_t found, want, extra;
	int view_same, view_ok;
};

static void
query_all(const struct dz_mih *m, const struct dz_pdq *q, int from, int to,
    struct dz_mih_scratch *s, struct tally *t, uint64_t *probes,
    uint64_t *cands, int *scans)
{
	struct dz_err err;
	struct dz_mih_qstats qs;

	for (int i = from; i < to; i++) {
		struct tally one = { 0, 0 };

		if (dz_mih_query(m, &q[i], RADIUS, s, on_tally, &one, &err) < 0)
			die(EX_SOFTWARE, "query: %s", err.msg);
		if (t)
			t[i] = one;
		if (probes) {
			dz_mih_scratch_qstats(s, &qs);
			*probes += qs.probes;
			*cands += qs.candidates;
			*scans += qs.method == DZ_MIH_SCAN;
		}
	}
}

/*
 * Write the image to a temporary file, drop the built index, map the file
 * read-only and time dz_mih_view plus the first FIRST queries; then all
 * queries on the mapped index, checked against the built one's answers.
 */
static void
mapped(struct dz_mih **mp, const struct dz_pdq *bank, uint32_t n,
    const struct dz_pdq *q, struct dz_mih_scratch *s, const struct tally *t,
    struct result *res)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[4096];
	size_t len, done = 0;
	const char *img = dz_mih_bytes(*mp, &len);
	struct dz_err err;
	struct dz_mih *v;
	struct tally *tv = calloc(NQ, sizeof *tv);
	void *map;
	double t0;
	int fd;

	snprintf(path, sizeof path, "%s/dz-matchbench.XXXXXX", dir);
	if (!tv || (fd = mkstemp(path)) < 0)
		die(EX_CANTCREAT, "cannot create a file in '%s'", dir);
	unlink(path);
	while (done < len) {
		ssize_t w = write(fd, img + done,
		    len - done > (1 << 26) ? 1 << 26 : len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(EX_IOERR, "cannot write the index to '%s'", dir);
		done += (size_t)w;
	}
	dz_mih_free(*mp);
	*mp = NULL;

	for (int cold = 0; cold < 2; cold++) {
		if (cold && (fdatasync(fd) < 0 ||
		    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0))
			break;
		t0 = now();
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			die(EX_OSERR, "%s", "cannot map the index");
		if (!(v = dz_mih_view(map, len, bank, n, &err)))
			die(EX_SOFTWARE, "view: %s", err.msg);
		query_all(v, q, 0, FIRST, s, tv, NULL, NULL, NULL);
		if (cold) {
			res->cold_load = now() - t0;
		} else {
			res->load = now() - t0;
			t0 = now();
			query_all(v, q, FIRST, NQ, s, tv, NULL, NULL, NULL);
			res->mapped_qps = (NQ - FIRST) / (now() - t0);
		}
		dz_mih_free(v);
		munmap(map, len);
	}
	res->view_same = 1;
	for (int i = 0; i < NQ; i++)
		res->view_same &= tv[i].count == t[i].count &&
		    tv[i].sum == t[i].sum;
	res->view_ok = 1;
	close(fd);
	free(tv);
}

static void
run_bank(struct rng *r, uint32_t n, int clustered, int with_map, int nbrute,
    struct result *res)
{
	struct dz_pdq *bank, *q = xalloc(NQ * sizeof *q);
	struct dz_mih *m;
	struct dz_mih_stats st;
	struct dz_mih_scratch *s;
	struct dz_err err;
	struct tally *t = calloc(NQ, sizeof *t);
	struct list *lm = calloc((size_t)nbrute, sizeof *lm);
	struct list *lb = calloc((size_t)nbrute, sizeof *lb);
	uint64_t probes = 0, cands = 0, hits_planted = 0, hits_random = 0;
	int scans = 0, bmin, bmax;
	double t0, tp, tr;

	memset(res, 0, sizeof *res);
	if (!t || !lm || !lb)
		die(EX_OSERR, "%s", "out of memory");
	bank = make_bank(r, n, clustered);
	make_queries(r, bank, n, q);
	printf("match: %u hashes, %s; radius %d; one thread\n", n,
	    clustered ? "clustered (10% near 1,000 centres, 2% copies, "
	    "0.2% near zero)" : "uniform random", RADIUS);
	fflush(stdout);

	t0 = now();
	if (!(m = dz_mih_build(bank, n, RADIUS, &err)))
		die(EX_SOFTWARE, "build: %s", err.msg);
	res->build = now() - t0;
	dz_mih_stats(m, &st);
	res->bytes = st.memory;
	bmin = bmax = st.bits[0];
	for (int i = 0; i < st.tables; i++) {
		bmin = st.bits[i] < bmin ? st.bits[i] : bmin;
		bmax = st.bits[i] > bmax ? st.bits[i] : bmax;
	}
	printf("  build %35.2f s     %d tables of %d-%d bits, %u unique\n",
	    res->build, st.tables, bmin, bmax, st.unique);
	printf("  index memory %28.1f MB    %llu oversized buckets "
	    "(%llu entries), largest %u\n", (double)st.memory / 1e6,
	    (unsigned long long)st.oversized_buckets,
	    (unsigned long long)st.oversized_entries, st.largest_bucket);

	if (!(s = dz_mih_scratch_new(&err)))
		die(EX_SOFTWARE, "%s", err.msg);
	query_all(m, q, 0, 200, s, NULL, NULL, NULL, NULL);	/* warm-up */
	t0 = now();
	query_all(m, q, 0, NPLANTED, s, t, &probes, &cands, &scans);
	tp = now() - t0;
	t0 = now();
	query_all(m, q, NPLANTED, NQ, s, t, &probes, &cands, &scans);
	tr = now() - t0;
	for (int i = 0; i < NQ; i++)
		*(i < NPLANTED ? &hits_planted : &hits_random) += t[i].count;
	res->qps_planted = NPLANTED / tp;
	res->qps_random = NRANDOM / tr;
	res->qps = NQ / (tp + tr);
	printf("  index, %4d planted queries %14.0f q/s   %.1f hits/query\n",
	    NPLANTED, res->qps_planted, (double)hits_planted / NPLANTED);
	printf("  index, %4d random queries %15.0f q/s   %.2f hits/query\n",
	    NRANDOM, res->qps_random, (double)hits_random / NRANDOM);
	printf("  index, all %d queries %19.0f q/s   %.0f probes, %.0f "
	    "candidates per query, %d scanned\n", NQ, res->qps,
	    (double)probes / NQ, (double)cands / NQ, scans);

	/* recall: half planted, half random */
	for (int k = 0; k < nbrute; k++) {
		int i = k < nbrute / 2 ? k : NPLANTED + k - nbrute / 2;

		if (dz_mih_query(m, &q[i], RADIUS, s, on_list, &lm[k], &err) < 0)
			die(EX_SOFTWARE, "query: %s", err.msg);
	}
	t0 = now();
	for (int k = 0; k < nbrute; k++) {
		int i = k < nbrute / 2 ? k : NPLANTED + k - nbrute / 2;

		dz_pdq_brute_query(bank, n, &q[i], RADIUS, on_list, &lb[k]);
	}
	res->brute_qps = nbrute / (now() - t0);
	for (int k = 0; k < nbrute; k++) {
		size_t c = common(&lm[k], &lb[k]);

		res->found += c;
		res->want += lb[k].n;
		res->extra += lm[k].n - c;
		free(lm[k].v);
		free(lb[k].v);
	}
	res->recall = res->want ? (double)res->found / (double)res->want : 1;
	printf("  brute force, %d queries %17.1f q/s   index / brute force: "
	    "%.0fx\n", nbrute, res->brute_qps, res->qps / res->brute_qps);
	printf("  recall on those %d queries %14.2f %%   %llu of %llu hits, "
	    "%llu extra\n", nbrute, 100 * res->recall,
	    (unsigned long long)res->found, (unsigned long long)res->want,
	    (unsigned long long)res->extra);

	if (with_map) {
		mapped(&m, bank, n, q, s, t, res);
		printf("  mmap load: view + first %d queries %6.3f s     "
		    "(index in the page cache)\n", FIRST, res->load);
		if (res->cold_load > 0)
			printf("  the same, page cache dropped %11.3f s\n",
			    res->cold_load);
		printf("  index from mmap, %d queries %12.0f q/s   "
		    "answers %s the built index's\n", NQ - FIRST,
		    res->mapped_qps, res->view_same ? "same as" : "DIFFER from");
	}
	printf("  peak RSS so far %25.1f MB\n\n", peak_rss() / 1e6);
	fflush(stdout);
	dz_mih_scratch_free(s);
	dz_mih_free(m);
	free(bank);
	free(q);
	free(t);
	free(lm);
	free(lb);
}

static void
target(const char *label, const char *value, int pass, const char *goal)
{
	printf("  %-38s %12s  %-10s %s\n", label, value, goal,
	    pass ? "PASS" : "MISS");
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: matchbench [-hq]\n\n"
	    "  -q  quick: the 1 million banks only\n");
}

int
main(int argc, char **argv)
{
	struct rng r = { 20260115 };
	struct result u1, c1, u10, c10;
	int quick = 0, c, recall_ok;
	double rss;
	char v[64];

	while ((c = getopt(argc, argv, "hq")) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'q':
			quick = 1;
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	run_bank(&r, 1000000, 0, 0, 400, &u1);
	run_bank(&r, 1000000, 1, 0, 400, &c1);
	if (!quick) {
		run_bank(&r, 10000000, 0, 1, 200, &u10);
		run_bank(&r, 10000000, 1, 0, 200, &c10);
	}
	rss = peak_rss();
	recall_ok = u1.recall == 1 && c1.recall == 1 && !u1.extra && !c1.extra;
	printf("  %-38s %12s  %-10s %s\n", "target", "value", "goal", "result");
	if (quick) {
		printf("  (DZ_BENCH_QUICK: 10 million banks left out; "
		    "1 million figures)\n");
		snprintf(v, sizeof v, "%.0f", u1.qps);
		target("1M uniform, r=31 queries/s", v, u1.qps >= T_QPS,
		    ">= 3000");
	} else {
		recall_ok &= u10.recall == 1 && c10.recall == 1 &&
		    !u10.extra && !c10.extra && u10.view_same;
		snprintf(v, sizeof v, "%.0f", u10.qps);
		target("10M uniform, r=31 queries/s", v, u10.qps >= T_QPS,
		    ">= 3000");
		snprintf(v, sizeof v, "%.0f", c10.qps);
		printf("  %-38s %12s  (context)\n", "10M clustered, r=31 queries/s",
		    v);
	}
	snprintf(v, sizeof v, "%s", recall_ok ? "100%" : "< 100%");
	target("recall against brute force, all banks", v, recall_ok, "100%");
	snprintf(v, sizeof v, "%.2f GB", rss / 1e9);
	target("peak RSS", v, rss < T_RSS, "< 1.5 GB");
	if (!quick) {
		snprintf(v, sizeof v, "%.1f s", u10.build);
		target("10M uniform build", v, u10.build < T_BUILD, "< 30 s");
		snprintf(v, sizeof v, "%.2f s", u10.load);
		target("10M mmap load + 100 queries", v, u10.load < T_LOAD,
		    "< 1 s");
	}
	if (fflush(stdout) || ferror(stdout))
		die(EX_IOERR, "%s", "cannot write the report");
	return 0;
}
