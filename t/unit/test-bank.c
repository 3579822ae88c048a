/*
 * t/unit/test-bank: lib/bank/bank, the partner hash bank and its three files.
 *
 * Random banks (entries, tombstones, full and delta metadata) go through
 * every format and come back identical, with the same content digest
 * recomputed from what was loaded; the digest is checked against the
 * canonical text built here independently; the index agrees with the
 * brute-force oracle. Then the signed comment and its checks, and
 * hundreds of damaged .dzb, JSON Lines and CSV files, each of which must
 * be refused with EX_DATAERR and a message that quotes no content (run
 * under ASan/UBSan with make check SANITIZE=1).
 *
 * Scratch files live in a mkdtemp directory under $TMPDIR, removed at the
 * end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bank/bank.h"
#include "crypto/digest.h"
#include "core/err.h"
#include "bank/mih.h"
#include "hash/pdq.h"
#include "tap.h"
#include "util.h"

#define MAX_DAY 2932896u	/* 9999-12-31 */

static char dir[4096];
static int nfile;
static char *written[1024];	/* by write_bank: removed at the end */
static int nwritten;

static void
die(const char *what)
{
	fprintf(stderr, "test-bank: %s: %s\n", what, strerror(errno));
	exit(99);
}

/* ---------- random numbers (struct rng: util.h) ---------- */

static void
random_bytes(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(r);
}

/* ---------- files ---------- */

static char *
tmpname(const char *ext)
{
	static char buf[4200];

	snprintf(buf, sizeof buf, "%s/f%d%s", dir, nfile++, ext);
	return buf;
}

static void
put_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || (len && write(fd, p, len) != (ssize_t)len) || close(fd))
		die(path);
}

static uint8_t *
get_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die(path);
	if (!(p = malloc((size_t)st.st_size + 1)))
		die("malloc");
	if (read(fd, p, (size_t)st.st_size) != st.st_size)
		die(path);
	close(fd);
	p[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return p;
}

/* Write b in format f to a new file: its name (kept until the end), or NULL. */
static const char *
write_bank(const struct dz_bank *b, enum dz_bank_format f, struct dz_err *err)
{
	const char *path = tmpname(f == DZ_BANK_DZB ? ".dzb" :
	    f == DZ_BANK_CSV ? ".csv" : ".jsonl");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;

	if (fd < 0 || nwritten == 1024 || !(written[nwritten] = strdup(path)))
		die(path);
	path = written[nwritten++];
	rc = dz_bank_write(b, f, fd, err);
	if (close(fd))
		die(path);
	return rc < 0 ? NULL : path;
}

/* Load bytes as a bank file. */
static int
load_buf(const void *p, size_t len, struct dz_bank **b, struct dz_err *err)
{
	const char *path = tmpname(".bank");
	int rc;

	put_file(path, p, len);
	rc = dz_bank_load(path, 0, b, err);
	unlink(path);
	return rc;
}

static int
load_str(const char *s, struct dz_bank **b, struct dz_err *err)
{
	return load_buf(s, strlen(s), b, err);
}

/* ---------- banks ---------- */

static void
fill_meta(struct rng *r, struct dz_bank_meta *m, int delta)
{
	memset(m, 0, sizeof *m);
	m->seq = delta ? 2 + below(r, 100) : 1 + below(r, 100);
	m->kind = delta ? DZ_BANK_DELTA : DZ_BANK_FULL;
	m->since = delta ? 1 + below(r, (uint32_t)m->seq - 1) : 0;
	if (m->seq > 1) {
		m->has_prev = 1;
		random_bytes(r, m->prev, 32);
	}
	if (delta) {
		m->has_base = 1;
		random_bytes(r, m->base, 32);
	}
	snprintf(m->created, sizeof m->created,
	    "20%02u-%02u-%02uT%02u:%02u:%02uZ", 26 + below(r, 70),
	    1 + below(r, 12), 1 + below(r, 28), below(r, 24), below(r, 60),
	    below(r, 60));
	strcpy(m->collab, below(r, 2) ? "disrupt" : "Hot.Line_2-x");
}

/* Banks built with md5 and vpdq entries too (1) or PDQ only (0). */
static int mixed;

/* n entries (some sharing hashes), t tombstones, meta; finished. */
static struct dz_bank *
meta_bank(struct rng *r, uint32_t n, uint32_t t, const struct dz_bank_meta *m)
{
	struct dz_bank *b;
	struct dz_err err = { 0 };

	if (!(b = dz_bank_new(m, &err))) {
		diag("dz_bank_new: %s", err.msg);
		return NULL;
	}
	for (uint32_t i = 0; i < n;) {
		uint8_t id[16];
		struct dz_pdq h;
		uint32_t day = below(r, 4) ? 20000 + below(r, 2000) :
		    below(r, MAX_DAY + 1), frames = 1;
		int sig = mixed ? 1 + (int)below(r, 3) : DZ_BANK_PDQ;
		int cat = 1 + (int)below(r, 3);

		random_bytes(r, id, 16);
		if (sig == DZ_BANK_VPDQ)
			frames = 1 + below(r, 6);
		for (uint32_t f = 0; f < frames && i < n; f++, i++) {
			if (sig == DZ_BANK_MD5) {
				memset(&h, 0, sizeof h);
				random_bytes(r, (uint8_t *)&h, 16);
			} else if (i && below(r, 10) == 0 &&
			    b->attr[i - 1].signal != DZ_BANK_MD5) {
				h = b->pdq[i - 1];	/* a copy */
			} else {
				random_hash(r, &h);
			}
			if (dz_bank_add_signal(b, id, sig, &h,
			    (int)below(r, 101), cat, day, &err) < 0) {
				diag("dz_bank_add: %s", err.msg);
				dz_bank_free(b);
				return NULL;
			}
		}
	}
	for (uint32_t i = 0; i < t; i++) {
		uint8_t id[16];
		struct dz_pdq h;
		int sig = mixed ? 1 + (int)below(r, 3) : DZ_BANK_PDQ;

		random_bytes(r, id, 16);
		random_hash(r, &h);
		if (sig == DZ_BANK_MD5)
			memset((uint8_t *)&h + 16, 0, 16);
		if (dz_bank_add_tomb_signal(b, id, sig, &h,
		    1 + (int)below(r, 3), below(r, MAX_DAY + 1), &err) < 0) {
			diag("dz_bank_add_tomb: %s", err.msg);
			dz_bank_free(b);
			return NULL;
		}
	}
	if (dz_bank_finish(b, &err) < 0) {
		diag("dz_bank_finish: %s", err.msg);
		dz_bank_free(b);
		return NULL;
	}
	return b;
}

static int
meta_eq(const struct dz_bank_meta *a, const struct dz_bank_meta *b)
{
	return a->seq == b->seq && a->kind == b->kind && a->since == b->since &&
	    !memcmp(a->digest, b->digest, 32) && !a->has_prev == !b->has_prev &&
	    (!a->has_prev || !memcmp(a->prev, b->prev, 32)) &&
	    !a->has_base == !b->has_base &&
	    (!a->has_base || !memcmp(a->base, b->base, 32)) &&
	    !strcmp(a->created, b->created) && !strcmp(a->collab, b->collab);
}

static int
content_eq(const struct dz_bank *a, const struct dz_bank *b)
{
	return a->n == b->n && a->ntomb == b->ntomb &&
	    (!a->n || (!memcmp(a->pdq, b->pdq, 32 * a->n) &&
	    !memcmp(a->id, b->id, 16 * a->n) &&
	    !memcmp(a->attr, b->attr, 8 * a->n))) &&
	    (!a->ntomb || !memcmp(a->tomb, b->tomb, 56 * a->ntomb));
}

/* A new bank with a's metadata and content, finished: its digest. */
static int
redigest(const struct dz_bank *a, const struct dz_bank_meta *meta,
    uint8_t out[32])
{
	struct dz_bank *b;
	struct dz_err err = { 0 };

	if (!(b = dz_bank_new(meta, &err)))
		return -1;
	for (uint64_t i = 0; i < a->n; i++)
		if (dz_bank_add_signal(b, a->id[i], a->attr[i].signal,
		    &a->pdq[i], a->attr[i].quality, a->attr[i].category,
		    a->attr[i].added, &err) < 0)
			goto fail;
	for (uint64_t i = 0; i < a->ntomb; i++)
		if (dz_bank_add_tomb_signal(b, a->tomb[i].id,
		    a->tomb[i].signal, &a->tomb[i].pdq, a->tomb[i].category,
		    a->tomb[i].withdrawn, &err) < 0)
			goto fail;
	if (dz_bank_finish(b, &err) < 0)
		goto fail;
	memcpy(out, b->meta.digest, 32);
	dz_bank_free(b);
	return 0;
fail:
	diag("redigest: %s", err.msg);
	dz_bank_free(b);
	return -1;
}

static struct dz_bank *
random_bank(struct rng *r, uint32_t n, uint32_t t, int delta)
{
	struct dz_bank_meta m;

	fill_meta(r, &m, delta);
	return meta_bank(r, n, t, &m);
}

/* ---------- collecting query hits ---------- */

struct hits {
	uint64_t *v;
	size_t n, cap;
};

static int
collect(uint32_t index, int distance, void *ctx)
{
	struct hits *h = ctx;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		if (!(h->v = realloc(h->v, h->cap * sizeof *h->v)))
			abort();
	}
	h->v[h->n++] = (uint64_t)index << 32 | (uint32_t)distance;
	return 0;
}

/* Queries planted near entries and random ones: index == oracle. */
static int
index_agrees(struct dz_bank *b, struct rng *r)
{
	const struct dz_mih *m;
	struct dz_err err = { 0 };
	struct hits a = { 0 }, o = { 0 };
	int bad = 0;

	m = dz_bank_index(b, &err);
	if (b->n == 0)
		return m == NULL && err.code == 0;
	if (!m) {
		diag("dz_bank_index: %s", err.msg);
		return 0;
	}
	if (dz_bank_index(b, &err) != m)
		return 0;	/* kept */
	for (int i = 0; i < 60; i++) {
		struct dz_pdq q;
		int radius = i % 3 == 0 ? 31 :
		    i % 3 == 1 ? DZ_BANK_INDEX_RADIUS : 8;

		if (i < 40) {
			q = b->pdq[below(r, (uint32_t)b->n)];
			flip_to_distance(r, &q, (int)below(r, 40));
		} else {
			random_hash(r, &q);
		}
		a.n = o.n = 0;
		if (dz_mih_query(m, &q, radius, NULL, collect, &a, &err) < 0)
			bad++;
		dz_pdq_brute_query(b->pdq, (uint32_t)b->n, &q, radius, collect,
		    &o);
		if (a.n != o.n || (a.n && memcmp(a.v, o.v, a.n * sizeof *a.v)))
			bad++;
	}
	free(a.v);
	free(o.v);
	return bad == 0;
}

/* ---------- the canonical text, built here ---------- */

static const char *const sig_name[] = { "?", "pdq", "md5", "vpdq" };

/* A value as the canonical text spells it: 64 hex digits, an MD5 32. */
static void
value_hex(int signal, const struct dz_pdq *v, char out[65])
{
	if (signal != DZ_BANK_MD5) {
		dz_pdq_to_hex(v, out);
		return;
	}
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", ((const uint8_t *)v)[i]);
}

static void
canon_digest(const struct dz_bank *b, uint8_t out[32])
{
	size_t cap = 256 + 200 * (b->n + b->ntomb), len = 0;
	char *t = malloc(cap), idh[33], vh[65], day[11], ph[65], bh[65];
	const struct dz_bank_meta *m = &b->meta;
	struct dz_digest d;
	struct dz_err err = { 0 };

	if (!t)
		abort();
	strcpy(ph, "-");
	strcpy(bh, "-");
	if (m->has_prev)
		dz_bank_digest_hex(m->prev, ph);
	if (m->has_base)
		dz_bank_digest_hex(m->base, bh);
	len += (size_t)sprintf(t + len, "disrupt-bank-v1\nseq=%" PRIu64
	    " kind=%s since=%" PRIu64 " prev=%s base=%s created=%s\n", m->seq,
	    m->kind == DZ_BANK_FULL ? "full" : "delta", m->since, ph, bh,
	    m->created);
	for (uint64_t i = 0; i < b->n; i++) {
		dz_bank_id_hex(b->id[i], idh);
		value_hex(b->attr[i].signal, &b->pdq[i], vh);
		dz_bank_day_format(b->attr[i].added, day);
		len += (size_t)sprintf(t + len, "+ %s %s %s %d %s %s\n", idh,
		    sig_name[b->attr[i].signal], vh, b->attr[i].quality,
		    dz_bank_category_name(b->attr[i].category), day);
	}
	for (uint64_t i = 0; i < b->ntomb; i++) {
		dz_bank_id_hex(b->tomb[i].id, idh);
		value_hex(b->tomb[i].signal, &b->tomb[i].pdq, vh);
		dz_bank_day_format(b->tomb[i].withdrawn, day);
		len += (size_t)sprintf(t + len, "- %s %s %s %s %s\n", idh,
		    sig_name[b->tomb[i].signal], vh,
		    dz_bank_category_name(b->tomb[i].category), day);
	}
	if (dz_digest_buf((const uint8_t *)t, len, &d, &err) < 0)
		abort();
	for (int i = 0; i < 32; i++) {
		unsigned v;

		sscanf(d.sha256 + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	free(t);
}

/* ---------- days and small conversions ---------- */

static void
test_days(void)
{
	char s[11], g[32];
	uint32_t d;
	int bad = 0, badparse = 0;
	static const char *const wrong[] = {
		"", "1969-12-31", "2023-02-29", "2100-02-29", "2024-13-01",
		"2024-00-10", "2024-01-00", "2024-04-31", "2024-1-01",
		"2024-01-01x", " 2024-01-01", "2024/01/01", "+024-01-01",
		"10000-01-01", "2024-01-0a",
	};
	static const char *const times[] = {
		"2026-11-23T24:00:00Z", "2026-11-23T10:60:00Z",
		"2026-11-23T10:00:60Z", "2026-11-23 10:00:00Z",
		"2026-11-23T10:00:00", "2026-11-23T10:00:00+00:00",
		"2026-11-23T10:00:00.5Z", "2026-11-23t10:00:00z",
		"2026-02-30T10:00:00Z", "",
	};

	/* every day against gmtime */
	for (uint32_t day = 0; day <= MAX_DAY; day++) {
		time_t t = (time_t)day * 86400;
		struct tm tm;

		gmtime_r(&t, &tm);
		snprintf(g, sizeof g, "%04d-%02d-%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday);
		dz_bank_day_format(day, s);
		if (strcmp(s, g))
			bad++;
		if (dz_bank_day_parse(s, &d) || d != day)
			badparse++;
	}
	ok(bad == 0, "day_format agrees with gmtime for 1970..9999 (%d off)",
	    bad);
	ok(badparse == 0, "day_parse inverts day_format (%d off)", badparse);
	ok(!dz_bank_day_parse("1970-01-01", &d) && d == 0 &&
	    !dz_bank_day_parse("2000-03-01", &d) && d == 11017 &&
	    !dz_bank_day_parse("2024-02-29", &d) && d == 19782 &&
	    !dz_bank_day_parse("9999-12-31", &d) && d == MAX_DAY,
	    "known days");
	dz_bank_day_format(MAX_DAY + 1000, s);
	ok(!strcmp(s, "9999-12-31"), "days past 9999 format as 9999-12-31");
	bad = 0;
	for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++)
		if (dz_bank_day_parse(wrong[i], &d) == 0) {
			diag("accepted '%s'", wrong[i]);
			bad++;
		}
	ok(bad == 0, "malformed dates refused");
	ok(!dz_bank_day_of("2026-11-23T10:00:00Z", &d) && d == 20780 &&
	    !dz_bank_day_of("1970-01-01T23:59:59Z", &d) && d == 0,
	    "day_of an RFC 3339 time");
	bad = 0;
	for (size_t i = 0; i < sizeof times / sizeof *times; i++)
		if (dz_bank_day_of(times[i], &d) == 0) {
			diag("accepted '%s'", times[i]);
			bad++;
		}
	ok(bad == 0, "malformed times refused");
}

static void
test_small(void)
{
	uint8_t id[16], back[16];
	char hex[33], dh[65];

	ok(!strcmp(dz_bank_category_name(1), "adult_ncii") &&
	    !strcmp(dz_bank_category_name(2), "minor") &&
	    !strcmp(dz_bank_category_name(3), "other") &&
	    !dz_bank_category_name(0) && !dz_bank_category_name(4) &&
	    !dz_bank_category_name(-1), "category names");
	ok(dz_bank_category_parse("adult_ncii") == 1 &&
	    dz_bank_category_parse("minor") == 2 &&
	    dz_bank_category_parse("other") == 3 &&
	    dz_bank_category_parse("Minor") == -1 &&
	    dz_bank_category_parse("") == -1 &&
	    dz_bank_category_parse("adult") == -1 &&
	    dz_bank_category_parse(NULL) == -1, "category parse");
	for (int i = 0; i < 16; i++)
		id[i] = (uint8_t)(i * 17 + 1);
	dz_bank_id_hex(id, hex);
	ok(!strcmp(hex, "0112233445566778899aabbccddeef00") &&
	    !dz_bank_id_parse(hex, back) && !memcmp(id, back, 16),
	    "id hex round trip");
	ok(dz_bank_id_parse("0112233445566778899AABBCCDDEEFF0", back) &&
	    dz_bank_id_parse("0112233445566778899aabbccddeeff", back) &&
	    dz_bank_id_parse("0112233445566778899aabbccddeeff00", back) &&
	    dz_bank_id_parse("0112233445566778899aabbccddeefg0", back) &&
	    dz_bank_id_parse("", back), "bad ids refused");
	dz_bank_digest_hex((const uint8_t *)"\x00\x01\xfe\xff"
	    "0123456789012345678901234567", dh);
	ok(strlen(dh) == 64 && !strncmp(dh, "0001feff3031", 12),
	    "digest hex");
}

/* ---------- building ---------- */

static void
test_build_errors(struct rng *r)
{
	struct dz_bank_meta m, good;
	struct dz_bank *b;
	struct dz_err err = { 0 };
	uint8_t id[16] = { 1 }, id2[16] = { 2 };
	struct dz_pdq h = { { 1, 2, 3, 4 } };
	int bad = 0;

	fill_meta(r, &good, 1);

	m = good;
	m.seq = 0;
	b = dz_bank_new(&m, &err);
	ok(!b && err.code == EX_DATAERR && strstr(err.msg, "seq"),
	    "seq 0 refused (%s)", err.msg);
#define BADMETA(what, stmt) do { \
		m = good; stmt; \
		if ((b = dz_bank_new(&m, &err)) || err.code != EX_DATAERR || \
		    !strstr(err.msg, what)) { \
			diag("not refused: %s (%s)", #stmt, \
			    b ? "-" : err.msg); \
			bad++; \
		} \
		dz_bank_free(b); \
	} while (0)
	BADMETA("kind", m.kind = 3);
	BADMETA("since", m.since = m.seq);
	BADMETA("since", m.since = 0);
	BADMETA("since", (m.kind = DZ_BANK_FULL, m.has_base = 0, m.since = 1));
	BADMETA("base", (m.kind = DZ_BANK_FULL, m.since = 0));
	BADMETA("base", m.has_base = 0);
	BADMETA("prev", m.has_prev = 0);
	BADMETA("prev", (m.seq = 1, m.kind = DZ_BANK_FULL, m.since = 0,
	    m.has_base = 0));
	BADMETA("created", strcpy(m.created, "2026-11-23T10:00:00"));
	BADMETA("created", strcpy(m.created, "2026-11-23"));
	BADMETA("created", memset(m.created, '1', sizeof m.created));
	BADMETA("collab", m.collab[0] = '\0');
	BADMETA("collab", strcpy(m.collab, "dis rupt"));
	BADMETA("collab", strcpy(m.collab, "dis,rupt"));
	BADMETA("collab", strcpy(m.collab, "d\xc3\xa9"));
	BADMETA("collab", memset(m.collab, 'a', sizeof m.collab));
	BADMETA("seq", m.seq = UINT64_MAX);
	ok(bad == 0, "malformed metadata refused by dz_bank_new");

	b = dz_bank_new(&good, &err);
	ok(b != NULL, "dz_bank_new");
	ok(dz_bank_add(b, id, &h, 101, 1, 0, &err) < 0 &&
	    err.code == EX_DATAERR, "quality 101 refused");
	ok(dz_bank_add(b, id, &h, -1, 1, 0, &err) < 0 &&
	    err.code == EX_DATAERR, "quality -1 refused");
	ok(dz_bank_add(b, id, &h, 50, 0, 0, &err) < 0 &&
	    err.code == EX_DATAERR &&
	    dz_bank_add(b, id, &h, 50, 4, 0, &err) < 0 &&
	    err.code == EX_DATAERR &&
	    dz_bank_add_tomb(b, id, &h, 9, 0, &err) < 0 &&
	    err.code == EX_DATAERR, "unknown category refused");
	ok(dz_bank_add(b, id, &h, 50, 1, MAX_DAY + 1, &err) < 0 &&
	    err.code == EX_DATAERR, "a day past 9999 refused");
	ok(b->n == 0 && b->ntomb == 0, "nothing added");
	ok(dz_bank_write(b, DZ_BANK_JSONL, 1, &err) < 0 &&
	    err.code == EX_SOFTWARE, "unfinished bank not written");
	ok(dz_bank_add(b, id, &h, 50, 1, 0, &err) == 0 &&
	    dz_bank_add(b, id, &h, 60, 2, 0, &err) == 0 &&
	    dz_bank_finish(b, &err) < 0 && err.code == EX_DATAERR &&
	    !strcmp(err.msg, "duplicate entry id"),
	    "duplicate entry ids refused");
	dz_bank_free(b);

	b = dz_bank_new(&good, &err);
	ok(dz_bank_add(b, id, &h, 50, 1, 0, &err) == 0 &&
	    dz_bank_add_tomb(b, id2, &h, 2, 0, &err) == 0 &&
	    dz_bank_add_tomb(b, id, &h, 2, 0, &err) == 0 &&
	    dz_bank_finish(b, &err) < 0 && err.code == EX_DATAERR &&
	    strstr(err.msg, "duplicate entry id"),
	    "an id both entry and withdrawal refused (%s)", err.msg);
	dz_bank_free(b);

	b = dz_bank_new(&good, &err);
	ok(dz_bank_add_tomb(b, id2, &h, 2, 0, &err) == 0 &&
	    dz_bank_add_tomb(b, id2, &h, 2, 0, &err) == 0 &&
	    dz_bank_finish(b, &err) < 0 && err.code == EX_DATAERR,
	    "duplicate withdrawal ids refused (%s)", err.msg);
	dz_bank_free(b);

	b = dz_bank_new(&good, &err);
	ok(dz_bank_add(b, id2, &h, 0, 3, 5, &err) == 0 &&
	    dz_bank_add(b, id, &h, 100, 1, MAX_DAY, &err) == 0 &&
	    dz_bank_finish(b, &err) == 0 && b->n == 2 &&
	    !memcmp(b->id[0], id, 16) && b->attr[0].quality == 100 &&
	    b->attr[1].category == 3 && dz_bank_finish(b, &err) < 0 &&
	    dz_bank_add(b, id, &h, 1, 1, 1, &err) < 0 &&
	    err.code == EX_SOFTWARE, "finish sorts; no adding afterwards");
	ok(dz_bank_find(b, id) == 0 && dz_bank_find(b, id2) == 1 &&
	    dz_bank_find(b, (const uint8_t[16]){ 3 }) == -1, "find");
	{
		size_t len = 1;

		ok(dz_bank_raw(b, &len) == NULL && len == 0,
		    "a built bank has no raw bytes");
	}
	dz_bank_free(b);
}

/* Radix sort and tie-breaking on the last 8 bytes. */
static void
test_sort(struct rng *r)
{
	struct dz_bank_meta m;
	struct dz_bank *b;
	struct dz_err err = { 0 };
	struct dz_pdq h = { { 0 } };
	int sorted = 1, rc = 0;

	fill_meta(r, &m, 0);
	b = dz_bank_new(&m, &err);
	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t id[16];

		random_bytes(r, id, 16);
		if (i % 3 == 0)
			memset(id, 0x42, 8);	/* a long run, one prefix */
		if (i % 7 == 0)
			memset(id, 0, 6);
		h.w[0] = i;
		rc |= dz_bank_add(b, id, &h, (int)(i % 101), 1, i, &err);
	}
	rc |= dz_bank_finish(b, &err);
	for (uint64_t i = 1; i < b->n; i++)
		if (memcmp(b->id[i - 1], b->id[i], 16) >= 0)
			sorted = 0;
	/* the arrays moved together */
	for (uint64_t i = 0; i < b->n; i++)
		if (b->attr[i].added != b->pdq[i].w[0] ||
		    b->attr[i].quality != b->pdq[i].w[0] % 101)
			sorted = 0;
	ok(rc == 0 && sorted && b->n == 20000,
	    "20000 ids with shared prefixes sort, arrays together");
	dz_bank_free(b);
}

/* ---------- round trips ---------- */

static void
check_jsonl_lines(const char *path)
{
	size_t len;
	uint8_t *p = get_file(path, &len);
	char *s = (char *)p, *e = s + len, *nl;
	int bad = 0, lines = 0;

	while (s < e && (nl = memchr(s, '\n', (size_t)(e - s)))) {
		json_error_t je;
		json_t *j = json_loadb(s, (size_t)(nl - s), 0, &je);
		char *back = j ? json_dumps(j, JSON_COMPACT |
		    JSON_PRESERVE_ORDER) : NULL;

		if (!back || strlen(back) != (size_t)(nl - s) ||
		    memcmp(back, s, (size_t)(nl - s)))
			bad++;
		free(back);
		json_decref(j);
		lines++;
		s = nl + 1;
	}
	ok(bad == 0 && s == e && lines > 0,
	    "JSON Lines are compact jansson output, keys in order (%d lines)",
	    lines);
	free(p);
}

static void
round_trip(struct rng *r, uint32_t n, uint32_t t, int delta)
{
	static const enum dz_bank_format fmts[] = {
		DZ_BANK_JSONL, DZ_BANK_CSV, DZ_BANK_DZB
	};
	static const char *const names[] = { "", "jsonl", "csv", "dzb" };
	struct dz_bank *b = random_bank(r, n, t, delta);
	struct dz_err err = { 0 };
	uint8_t dg[32];
	char *comment = NULL;

	if (!ok(b != NULL, "n=%u t=%u %s: built", n, t,
	    delta ? "delta" : "full"))
		return;
	canon_digest(b, dg);
	ok(!memcmp(dg, b->meta.digest, 32),
	    "n=%u t=%u: digest is SHA-256 of the canonical text", n, t);
	if (dz_bank_comment(b, &comment, &err) < 0)
		diag("comment: %s", err.msg);
	for (size_t k = 0; k < 3; k++) {
		enum dz_bank_format f = fmts[k];
		const char *nm = names[f];
		const char *path = write_bank(b, f, &err);
		struct dz_bank *l = NULL, *l2 = NULL;
		struct dz_bank_meta cm;
		uint64_t ce, ct;
		size_t rawlen, flen;
		const uint8_t *raw;
		uint8_t *file, rd[32];
		int found = 1;
		char path2[4200];

		if (!ok(path != NULL, "%s n=%u t=%u: written", nm, n, t)) {
			diag("%s", err.msg);
			continue;
		}
		snprintf(path2, sizeof path2, "%s", path);
		if (!ok(dz_bank_load(path2, 0, &l, &err) == 0,
		    "%s n=%u: loaded", nm, n)) {
			diag("%s", err.msg);
			continue;
		}
		ok(l->format == f, "%s: format recognised", nm);
		ok(content_eq(b, l), "%s n=%u t=%u: same content", nm, n, t);
		if (f == DZ_BANK_CSV) {
			ok(l->meta.seq == 0 && !strcmp(l->meta.collab,
			    n + t ? b->meta.collab : ""),
			    "csv: no metadata but the collab");
			ok(dz_bank_comment(l, &(char *){ NULL }, &err) < 0,
			    "csv: no comment before the metadata is known");
			ok(dz_bank_comment_parse(comment, &cm, &ce, &ct,
			    &err) == 0 &&
			    dz_bank_meta_check(l, &cm, ce, ct, &err) == 0,
			    "csv: metadata copied in from the comment");
			ok(dz_bank_meta_check(l, &cm, ce, ct, &err) == 0,
			    "csv: then it agrees");
		}
		ok(meta_eq(&b->meta, &l->meta), "%s: same metadata", nm);
		ok(redigest(l, &l->meta, rd) == 0 &&
		    !memcmp(rd, b->meta.digest, 32),
		    "%s: same digest recomputed from the loaded bank", nm);
		for (uint64_t i = 0; i < l->n; i++) {
			int64_t at = dz_bank_find(l, b->id[i]);

			/* a video's frames: its first row, which spans i */
			if (at < 0 || (uint64_t)at > i ||
			    (uint64_t)at + dz_bank_run(l, (uint64_t)at) <= i ||
			    (at && !memcmp(l->id[at - 1], b->id[i], 16)))
				found = 0;
		}
		for (uint64_t i = 0; i < l->ntomb; i++)
			if (dz_bank_find(l, l->tomb[i].id) != -1)
				found = 0;
		ok(found, "%s: find every id, no tombstone", nm);
		ok(index_agrees(l, r), "%s: index agrees with the oracle", nm);
		raw = dz_bank_raw(l, &rawlen);
		file = get_file(path2, &flen);
		ok(raw && rawlen == flen && !memcmp(raw, file, flen),
		    "%s: raw bytes are the file", nm);
		/* written again from what was loaded: the same file */
		if (f != DZ_BANK_CSV || n + t) {
			const char *p2 = write_bank(l, f, &err);
			size_t len2;
			uint8_t *again = p2 ? get_file(p2, &len2) : NULL;

			ok(again && len2 == flen && !memcmp(again, file, flen),
			    "%s: the loaded bank written again: the same "
			    "bytes", nm);
			free(again);
			if (p2)
				unlink(p2);
		}
		if (f == DZ_BANK_JSONL)
			check_jsonl_lines(path2);
		/* max_bytes */
		if (f != DZ_BANK_DZB) {
			ok(dz_bank_load(path2, flen - 1, &l2, &err) < 0 &&
			    err.code == EX_DATAERR && !l2 &&
			    strstr(err.msg, "too large"),
			    "%s: max_bytes refuses one byte more", nm);
			ok(dz_bank_load(path2, flen, &l2, &err) == 0,
			    "%s: max_bytes allows the exact size", nm);
			dz_bank_free(l2);
		}
		free(file);
		unlink(path2);
		dz_bank_free(l);
	}
	free(comment);
	dz_bank_free(b);
}

/* JSON Lines in another spelling: spaces, key order, uppercase hash. */
static void
test_jsonl_spelling(struct rng *r)
{
	struct dz_bank *b = random_bank(r, 3, 2, 1), *l = NULL, *l2 = NULL;
	struct dz_err err = { 0 };
	const char *path = write_bank(b, DZ_BANK_JSONL, &err);
	size_t len;
	uint8_t *p = get_file(path, &len);
	char *out = malloc(4 * len + 100), *s = (char *)p, *e = s + len, *nl;
	size_t ol = 0;

	while ((nl = memchr(s, '\n', (size_t)(e - s)))) {
		json_t *j = json_loadb(s, (size_t)(nl - s), 0, NULL), *v;
		const char *key;
		void *tmp;
		char *d;

		/* reverse key order, upper-case the PDQ value */
		json_t *rev = json_object();
		const char *keys[16];
		int nk = 0;

		json_object_foreach_safe(j, tmp, key, v)
			keys[nk++] = key;
		for (int i = nk - 1; i >= 0; i--) {
			json_t *x = json_object_get(j, keys[i]);

			if (!strcmp(keys[i], "value")) {
				char up[65];

				snprintf(up, sizeof up, "%s",
				    json_string_value(x));
				for (int c = 0; up[c]; c++)
					if (up[c] >= 'a' && up[c] <= 'f')
						up[c] = (char)(up[c] - 32);
				json_object_set_new(rev, keys[i],
				    json_string(up));
			} else {
				json_object_set(rev, keys[i], x);
			}
		}
		d = json_dumps(rev, JSON_INDENT(0) | JSON_PRESERVE_ORDER);
		for (char *c = d; *c; c++)
			out[ol++] = *c == '\n' ? ' ' : *c;
		out[ol++] = '\r';	/* JSON whitespace */
		out[ol++] = '\n';
		free(d);
		json_decref(rev);
		json_decref(j);
		s = nl + 1;
	}
	ok(load_buf(out, ol, &l, &err) == 0 && content_eq(b, l) &&
	    meta_eq(&b->meta, &l->meta),
	    "JSON Lines in another spelling load the same");
	if (err.code)
		diag("%s", err.msg);
	/* the last line without its newline */
	ok(load_buf(p, len - 1, &l2, &err) == 0 && content_eq(b, l2),
	    "JSON Lines: a missing final newline is fine");
	dz_bank_free(l);
	dz_bank_free(l2);
	free(out);
	free(p);
	unlink(path);
	dz_bank_free(b);
}

/* CSV with CRLF and rows shuffled. */
static void
test_csv_order(struct rng *r)
{
	struct dz_bank *b = random_bank(r, 200, 30, 0), *l = NULL;
	struct dz_err err = { 0 };
	const char *path = write_bank(b, DZ_BANK_CSV, &err);
	size_t len, nl = 0, ol = 0;
	uint8_t *p = get_file(path, &len);
	char **line = malloc(300 * sizeof *line), *out = malloc(2 * len);
	char *s = (char *)p, *end = s + len;

	for (char *c = s; c < end; c++)
		if (*c == '\n') {
			*c = '\0';
			line[nl++] = s;
			s = c + 1;
		}
	for (size_t i = nl - 1; i > 1; i--) {	/* shuffle rows, keep header */
		size_t j = 1 + below(r, (uint32_t)i);
		char *tmp = line[i];

		line[i] = line[j];
		line[j] = tmp;
	}
	for (size_t i = 0; i < nl; i++)
		ol += (size_t)sprintf(out + ol, "%s\r\n", line[i]);
	ok(load_buf(out, ol, &l, &err) == 0 && l->format == DZ_BANK_CSV &&
	    content_eq(b, l), "CSV: CRLF, rows in any order");
	if (err.code)
		diag("%s", err.msg);
	dz_bank_free(l);
	free(line);
	free(out);
	free(p);
	unlink(path);
	dz_bank_free(b);
}

/* Reading a .dzb from a pipe (no mmap) and other inputs. */
static void
test_inputs(struct rng *r)
{
	struct dz_bank *b = random_bank(r, 50, 5, 1), *l = NULL;
	struct dz_err err = { 0 };
	const char *path = write_bank(b, DZ_BANK_DZB, &err);
	size_t len;
	uint8_t *p = get_file(path, &len);
	int fds[2], saved;
	pid_t pid = -1;
	int fd;

	if (pipe(fds) < 0 || (pid = fork()) < 0)
		die("pipe");
	if (pid == 0) {
		close(fds[0]);
		if (write(fds[1], p, len) != (ssize_t)len)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	saved = dup(0);
	dup2(fds[0], 0);
	close(fds[0]);
	ok(dz_bank_load("-", 0, &l, &err) == 0 && l->format == DZ_BANK_DZB &&
	    content_eq(b, l) && index_agrees(l, r),
	    ".dzb from standard input (a pipe)");
	if (err.code)
		diag("%s", err.msg);
	dup2(saved, 0);
	close(saved);
	waitpid(pid, NULL, 0);
	dz_bank_free(l);
	l = NULL;

	ok(dz_bank_load(tmpname(".none"), 0, &l, &err) < 0 &&
	    err.code == EX_NOINPUT && !l, "missing file: EX_NOINPUT (%s)",
	    err.msg);
	ok(dz_bank_load(dir, 0, &l, &err) < 0 && err.code == EX_NOINPUT,
	    "directory: EX_NOINPUT (%s)", err.msg);
	ok(load_buf("", 0, &l, &err) < 0 && err.code == EX_DATAERR,
	    "empty file: EX_DATAERR (%s)", err.msg);

	fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		ok(dz_bank_write(b, DZ_BANK_JSONL, fd, &err) < 0 &&
		    err.code == EX_IOERR, "/dev/full: EX_IOERR (%s)", err.msg);
		ok(dz_bank_write(b, DZ_BANK_DZB, fd, &err) < 0 &&
		    err.code == EX_IOERR, ".dzb to /dev/full: EX_IOERR");
		close(fd);
	} else {
		ok(1, "# skip no /dev/full");
		ok(1, "# skip no /dev/full");
	}
	free(p);
	unlink(path);
	dz_bank_free(b);
}

/* ---------- the comment ---------- */

static void
test_comment(struct rng *r)
{
	struct dz_bank *b, *f;
	struct dz_bank_meta m, m2;
	struct dz_err err = { 0 };
	uint64_t ne, nt;
	char *c = NULL, *c2 = NULL, buf[1024], dg[65], pv[65], bs[65];
	int bad = 0;

	fill_meta(r, &m, 1);
	m.seq = 7;
	m.since = 5;
	b = meta_bank(r, 10, 3, &m);
	fill_meta(r, &m, 0);
	m.seq = 1;
	m.has_prev = 0;
	f = meta_bank(r, 0, 0, &m);
	ok(dz_bank_comment(b, &c, &err) == 0, "comment");
	dz_bank_digest_hex(b->meta.digest, dg);
	dz_bank_digest_hex(b->meta.prev, pv);
	dz_bank_digest_hex(b->meta.base, bs);
	snprintf(buf, sizeof buf, "disrupt-bank v1 seq=%" PRIu64 " kind=delta "
	    "since=%" PRIu64 " digest=%s prev=%s base=%s created=%s collab=%s "
	    "entries=10 withdrawals=3", b->meta.seq, b->meta.since, dg, pv, bs,
	    b->meta.created, b->meta.collab);
	ok(c && !strcmp(c, buf), "comment text as documented");
	ok(dz_bank_comment_parse(c, &m, &ne, &nt, &err) == 0 &&
	    meta_eq(&m, &b->meta) && ne == 10 && nt == 3, "comment round trip");
	ok(dz_bank_meta_check(b, &m, ne, nt, &err) == 0, "meta_check agrees");
	ok(dz_bank_comment(f, &c2, &err) == 0 &&
	    dz_bank_comment_parse(c2, &m2, &ne, &nt, &err) == 0 &&
	    meta_eq(&m2, &f->meta) && ne == 0 && nt == 0 &&
	    strstr(c2, " seq=1 kind=full since=0 ") &&
	    strstr(c2, " prev=- base=- "), "full export comment round trip");

	/* disagreements, one field at a time */
#define DISAGREE(field, stmt) do { \
		struct dz_bank_meta x = m; uint64_t e2 = 10, t2 = 3; \
		stmt; \
		if (dz_bank_meta_check(b, &x, e2, t2, &err) == 0 || \
		    err.code != EX_DATAERR || !strstr(err.msg, field)) { \
			diag("no disagreement: %s (%s)", #stmt, err.msg); \
			bad++; \
		} \
	} while (0)
	DISAGREE("disagree on seq", x.seq++);
	DISAGREE("disagree on since", x.since = 6);
	DISAGREE("disagree on kind", (x.kind = DZ_BANK_FULL, x.since = 0,
	    x.has_base = 0));
	DISAGREE("disagree on digest", x.digest[31] ^= 1);
	DISAGREE("disagree on prev", x.prev[0] ^= 1);
	DISAGREE("disagree on base", x.base[5] ^= 0x80);
	DISAGREE("disagree on created",
	    x.created[17] = x.created[17] == '0' ? '1' : '0');
	DISAGREE("disagree on collab", strcpy(x.collab, "other"));
	DISAGREE("disagree on entries", e2 = 11);
	DISAGREE("disagree on withdrawals", t2 = 2);
	DISAGREE("malformed bank metadata", x.seq = 0);
	ok(bad == 0, "meta_check names each disagreement");

	/* CSV: counts and collab still checked before copying in */
	{
		const char *path = write_bank(b, DZ_BANK_CSV, &err);
		struct dz_bank *l = NULL;
		struct dz_bank_meta x = m;

		ok(dz_bank_load(path, 0, &l, &err) == 0, "csv loaded");
		ok(dz_bank_meta_check(l, &m, 9, 3, &err) < 0 &&
		    strstr(err.msg, "entries") && l->meta.seq == 0,
		    "csv: counts checked (%s)", err.msg);
		strcpy(x.collab, "someone-else");
		ok(dz_bank_meta_check(l, &x, 10, 3, &err) < 0 &&
		    strstr(err.msg, "collab") && l->meta.seq == 0,
		    "csv: the rows' collab checked (%s)", err.msg);
		ok(dz_bank_meta_check(l, &m, 10, 3, &err) == 0 &&
		    meta_eq(&l->meta, &b->meta), "csv: copied in");
		x = m;
		x.digest[0] ^= 1;
		ok(dz_bank_meta_check(l, &x, 10, 3, &err) < 0 &&
		    strstr(err.msg, "digest"), "csv: afterwards compared");
		dz_bank_free(l);
		unlink(path);
	}
	free(c);
	free(c2);
	dz_bank_free(b);
	dz_bank_free(f);
}

static void
test_comment_malformed(void)
{
	static const char D[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char good[1024], buf[1100];
	struct dz_bank_meta m;
	uint64_t ne, nt;
	struct dz_err err = { 0 };
	int bad = 0;
	/* edits of the good comment: replace from -> to */
	static const struct {
		const char *from, *to, *field;
	} edits[] = {
		{ "disrupt-bank v1", "disrupt-bank v2", "version" },
		{ "disrupt-bank v1 ", "disrupt-bank  v1 ", "version" },
		{ "seq=7", "seq=07", "seq" },
		{ "seq=7", "seq=+7", "seq" },
		{ "seq=7", "seq=-7", "seq" },
		{ "seq=7", "seq=", "seq" },
		{ "seq=7", "seq=7x", "seq" },
		{ "seq=7", "seq=0", "seq" },
		{ "seq=7", "seq=99999999999999999999", "seq" },
		{ "seq=7", "seq=18446744073709551615", "seq" },
		{ "seq=7 ", "seq=7  ", "seq" },
		{ "seq=7 ", "sequence=7 ", "seq" },
		{ "seq=7", "seq=5", "since" },
		{ "kind=delta", "kind=Delta", "kind" },
		{ "kind=delta", "kind=full", "since" },
		{ "since=6", "since=7", "since" },
		{ "since=6", "since=0", "since" },
		{ "since=6", "since=06", "since" },
		{ "digest=0", "digest=", "digest" },
		{ "digest=0123", "digest=X123", "digest" },
		{ "digest=0123", "digest=0A23", "digest" },
		{ "prev=0123", "prev=-0123", "prev" },
		{ "base=0123", "base=-", "base" },
		{ "base=0123456789abcdef0123456789abcdef"
		  "0123456789abcdef0123456789abcdef",
		  "base=0123456789abcdef", "base" },
		{ "created=2026-11-23T10:00:00Z", "created=2026-11-23T10:00:00",
		  "created" },
		{ "created=2026-11-23T10:00:00Z",
		  "created=2026-13-23T10:00:00Z", "created" },
		{ "created=2026-11-23T10:00:00Z", "created=", "created" },
		{ "collab=disrupt", "collab=", "collab" },
		{ "collab=disrupt", "collab=dis/rupt", "collab" },
		{ "collab=disrupt",
		  "collab=disruptdisruptdisruptdisruptdisrupt", "collab" },
		{ "entries=12", "entries=012", "entries" },
		{ "entries=12", "entries=4294967296", "entries" },
		{ "withdrawals=3", "withdrawals=3 ", "withdrawals" },
		{ "withdrawals=3", "withdrawals=3 extra=1", "trailing" },
		{ "withdrawals=3", "withdrawals=3\n", "withdrawals" },
		{ " withdrawals=3", "", "withdrawals" },
		{ "collab=disrupt entries", "entries", "collab" },
		{ "kind=delta since=6", "since=6 kind=delta", "kind" },
	};

	snprintf(good, sizeof good, "disrupt-bank v1 seq=7 kind=delta since=6 "
	    "digest=%s prev=%s base=%s created=2026-11-23T10:00:00Z "
	    "collab=disrupt entries=12 withdrawals=3", D, D, D);
	ok(dz_bank_comment_parse(good, &m, &ne, &nt, &err) == 0 &&
	    m.seq == 7 && m.kind == DZ_BANK_DELTA && m.since == 6 &&
	    m.has_prev && m.has_base && ne == 12 && nt == 3 &&
	    !strcmp(m.created, "2026-11-23T10:00:00Z") &&
	    !strcmp(m.collab, "disrupt"), "a good comment parses");
	for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
		const char *at = strstr(good, edits[i].from);
		size_t pre;

		if (!at) {
			diag("edit %zu does not apply", i);
			bad++;
			continue;
		}
		pre = (size_t)(at - good);
		snprintf(buf, sizeof buf, "%.*s%s%s", (int)pre, good,
		    edits[i].to, at + strlen(edits[i].from));
		if (dz_bank_comment_parse(buf, &m, &ne, &nt, &err) == 0 ||
		    err.code != EX_DATAERR ||
		    strncmp(err.msg, "malformed bank metadata: ", 25) ||
		    !strstr(err.msg, edits[i].field)) {
			diag("edit %zu (%s -> %s): %s", i, edits[i].from,
			    edits[i].to, err.msg);
			bad++;
		}
	}
	ok(bad == 0, "%zu malformed comments refused, naming the field",
	    sizeof edits / sizeof *edits);
	ok(dz_bank_comment_parse("timestamp:1234 file:x.dzb", &m, &ne, &nt,
	    &err) < 0 && err.code == EX_DATAERR &&
	    !strcmp(err.msg, "not a disrupt bank signature"),
	    "another comment: not a disrupt bank signature");
	ok(dz_bank_comment_parse("", &m, &ne, &nt, &err) < 0 &&
	    !strcmp(err.msg, "not a disrupt bank signature"), "empty comment");
	/* seq 1, full: prev and base absent */
	snprintf(buf, sizeof buf, "disrupt-bank v1 seq=1 kind=full since=0 "
	    "digest=%s prev=- base=- created=2026-01-01T00:00:00Z collab=a "
	    "entries=0 withdrawals=0", D);
	ok(dz_bank_comment_parse(buf, &m, &ne, &nt, &err) == 0 && !m.has_prev &&
	    !m.has_base, "seq 1 full");
	snprintf(buf, sizeof buf, "disrupt-bank v1 seq=1 kind=full since=0 "
	    "digest=%s prev=%s base=- created=2026-01-01T00:00:00Z collab=a "
	    "entries=0 withdrawals=0", D, D);
	ok(dz_bank_comment_parse(buf, &m, &ne, &nt, &err) < 0 &&
	    strstr(err.msg, "prev"), "seq 1 with prev refused");
	snprintf(buf, sizeof buf, "disrupt-bank v1 seq=2 kind=full since=0 "
	    "digest=%s prev=- base=- created=2026-01-01T00:00:00Z collab=a "
	    "entries=0 withdrawals=0", D);
	ok(dz_bank_comment_parse(buf, &m, &ne, &nt, &err) < 0 &&
	    strstr(err.msg, "prev"), "seq 2 without prev refused");
	snprintf(buf, sizeof buf, "disrupt-bank v1 seq=2 kind=full since=0 "
	    "digest=%s prev=%s base=%s created=2026-01-01T00:00:00Z collab=a "
	    "entries=0 withdrawals=0", D, D, D);
	ok(dz_bank_comment_parse(buf, &m, &ne, &nt, &err) < 0 &&
	    strstr(err.msg, "base"), "full with base refused");
}

/* ---------- hostile files ---------- */

#define BUF 20000

/* Refused with EX_DATAERR, a message, and none of the secret in it. */
static int
refused(int rc, struct dz_bank *b, const struct dz_err *err,
    const char *secret)
{
	return rc < 0 && !b && err->code == EX_DATAERR && err->msg[0] &&
	    (!secret || !strstr(err->msg, secret));
}

/* Load p[0..len): refused (err->msg is "loaded" if it was not). */
static int
reject(const void *p, size_t len, struct dz_err *err, const char *secret)
{
	struct dz_bank *l = NULL;
	int rc = load_buf(p, len, &l, err), r = refused(rc, l, err, secret);

	if (l)
		snprintf(err->msg, sizeof err->msg, "loaded");
	dz_bank_free(l);
	return r;
}

/* Append to buf[BUF] at *len. */
__attribute__((format(printf, 3, 4))) static void
addf(char *buf, size_t *len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*len += (size_t)vsnprintf(buf + *len, BUF - *len, fmt, ap);
	va_end(ap);
	if (*len >= BUF)
		abort();
}

static void
test_dzb_hostile(struct rng *r)
{
	struct dz_bank *b = random_bank(r, 20, 5, 1), *l;
	struct dz_err err = { 0 };
	const char *path = write_bank(b, DZ_BANK_DZB, &err);
	size_t len;
	uint8_t *good = get_file(path, &len), *p = malloc(len);
	int bad = 0, loaded = 0, count = 0;
	uint64_t n = b->n, t = b->ntomb, attr, tomb, idx;

	unlink(path);
	attr = (256 + 32 * n + 63) / 64 * 64;
	attr = (attr + 16 * n + 63) / 64 * 64;
	tomb = (attr + 8 * n + 63) / 64 * 64;
	memcpy(&idx, good + 224, 8);
	ok(idx == (tomb + 56 * t + 63) / 64 * 64 && len % 64 == 0,
	    ".dzb layout as documented (index at %" PRIu64 ", %zu bytes)", idx,
	    len);
	ok(!memcmp(good, "\211DZBANK\n", 8) && good[8] == 1 &&
	    good[12] == 0 && good[13] == 1, ".dzb magic, version, header size");

	/* truncated: every offset in the header, then every 8th */
	for (size_t cut = 0; cut < len; cut += cut < 256 ? 1 : 8) {
		if (!reject(good, cut, &err, NULL)) {
			if (bad++ < 5)
				diag("truncated at %zu: %s", cut, err.msg);
		}
		count++;
	}
	ok(bad == 0, ".dzb truncated at %d places: all refused", count);
	/* grown by a section */
	memcpy(p, good, len);
	{
		uint8_t *big = calloc(1, len + 64);

		memcpy(big, good, len);
		ok(reject(big, len + 64, &err, NULL),
		    ".dzb with trailing bytes refused (%s)", err.msg);
		free(big);
	}

	/* single-byte flips over the header and every non-hash section */
	bad = 0;
	count = 0;
	for (size_t i = 0; i < len; i++) {
		static const uint8_t masks[] = { 0x01, 0x80, 0xff };

		if (i >= 256 && i < 256 + 32 * n)
			continue;	/* the hashes: any value is valid */
		if (i >= 256 + 32 * n && i < idx && i % 3)
			continue;	/* a third of the rest is plenty */
		if (i >= idx && i % 61)
			continue;	/* the index: lib/bank/mih's own test */
		/* magic to size, kind to t, index fields and padding: always */
		int must = i < 24 || (i >= 40 && i < 64) ||
		    (i >= 224 && i < 256) ||
		    (i >= attr + 8 * n && i < tomb) ||
		    (i >= tomb + 56 * t && i < idx);

		for (size_t k = 0; k < 3; k++) {
			memcpy(p, good, len);
			p[i] ^= masks[k];
			l = NULL;
			count++;
			if (load_buf(p, len, &l, &err) == 0) {
				loaded++;
				if (must) {
					diag("flip at %zu loaded", i);
					bad++;
				}
				/* still valid: an in-range field changed */
				if (content_eq(b, l) &&
				    meta_eq(&b->meta, &l->meta)) {
					diag("flip at %zu not seen", i);
					bad++;
				}
				dz_bank_free(l);
			} else if (err.code != EX_DATAERR || !err.msg[0]) {
				diag("flip at %zu: code %d %s", i, err.code,
				    err.msg);
				bad++;
			}
		}
	}
	ok(bad == 0, ".dzb: %d single-byte flips refused or read as a "
	    "different valid bank (%d)", count, loaded);

	/* header fields that must be refused whatever they become */
	bad = 0;
	{
		static const struct {
			size_t off, len;
			uint64_t v;
			const char *what;
		} f[] = {
			{ 8, 4, 2, "version" }, { 12, 4, 128, "header size" },
			{ 16, 8, 0, "size" }, { 16, 8, UINT64_MAX, "size" },
			{ 40, 4, 0, "kind" }, { 40, 4, 3, "kind" },
			{ 44, 4, 4, "flags" }, { 44, 4, 0, "flags" },
			{ 48, 8, UINT64_MAX, "n" }, { 48, 8, 1ull << 32, "n" },
			{ 48, 8, 0xfffffff0ull, "n" }, { 48, 8, 21, "n" },
			{ 48, 8, 19, "n" }, { 48, 8, 0, "n" },
			{ 56, 8, UINT64_MAX, "t" },
			{ 56, 8, UINT64_MAX / 56 + 1, "t" },
			{ 56, 8, 1ull << 58, "t" }, { 56, 8, 6, "t" },
			{ 56, 8, 4, "t" },
			{ 224, 8, 0, "index offset" },
			{ 224, 8, UINT64_MAX - 63, "index offset" },
			{ 224, 8, 1ull << 40, "index offset" },
			{ 232, 8, 0, "index size" },
			{ 232, 8, UINT64_MAX, "index size" },
			{ 232, 8, UINT64_MAX - 255, "index size" },
			{ 232, 8, 64, "index size" },
			{ 240, 8, 1, "padding" },
			{ 248, 8, 1ull << 63, "padding" },
			{ 24, 8, 0, "seq" }, { 24, 8, UINT64_MAX, "seq" },
			{ 32, 8, 0, "since" }, { 32, 8, UINT64_MAX, "since" },
			{ 160, 8, 0x3030303030303030ull, "created" },
			{ 184, 8, 1, "created padding" },
			{ 192, 8, 0, "collab" },
			{ 200, 8, 0x2020202020202020ull, "collab" },
			{ 216, 8, 0x41, "collab padding" },
		};

		for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
			memcpy(p, good, len);
			memcpy(p + f[i].off, &f[i].v, f[i].len);
			if (!reject(p, len, &err, NULL)) {
				diag("%s = %#" PRIx64 " not refused", f[i].what,
				    f[i].v);
				bad++;
			}
		}
		ok(bad == 0, "%zu hostile header fields refused",
		    sizeof f / sizeof *f);
	}
	/* size in the header matching a truncated file */
	bad = 0;
	for (size_t cut = 256; cut < len; cut += 64) {
		uint64_t sz = cut;

		memcpy(p, good, len);
		memcpy(p + 16, &sz, 8);
		if (!reject(p, cut, &err, NULL))
			bad++;
	}
	ok(bad == 0, "truncated with a matching size field: refused");
	/* attributes */
	{
		static const struct {
			size_t off;
			uint8_t v;
			const char *what;
		} a[] = {
			{ 0, 101, "quality" }, { 0, 255, "quality" },
			{ 1, 0, "category" }, { 1, 4, "category" },
			{ 2, 0, "signal" }, { 2, 4, "signal" },
			{ 2, 2, "MD5 tail" },
			{ 3, 1, "zero" },
			{ 7, 0xff, "added" },
		};

		bad = 0;
		for (size_t i = 0; i < sizeof a / sizeof *a; i++) {
			memcpy(p, good, len);
			p[attr + 8 * (n / 2) + a[i].off] = a[i].v;
			if (!reject(p, len, &err, NULL)) {
				diag("attr %s not refused", a[i].what);
				bad++;
			}
		}
		for (size_t i = 0; i < 4; i++) {
			static const size_t off[] = { 48, 49, 50, 55 };
			static const uint8_t v[] = { 0, 0, 1, 0xff };

			memcpy(p, good, len);
			p[tomb + 56 * (t / 2) + off[i]] = v[i];
			if (!reject(p, len, &err, NULL)) {
				diag("tomb byte %zu not refused", off[i]);
				bad++;
			}
		}
		ok(bad == 0, "bad entry and withdrawal attributes refused");
	}
	/* ids out of order, duplicated, shared with a tombstone */
	{
		uint8_t *id = p + (256 + 32 * n + 63) / 64 * 64;
		int r1, r2, r3;

		memcpy(p, good, len);
		memcpy(id + 16 * 3, id + 16 * 2, 16);
		r1 = reject(p, len, &err, NULL) &&
		    strstr(err.msg, "duplicate");
		memcpy(p, good, len);
		memcpy(id + 16 * 3, good + (id - p) + 16 * 4, 16);
		memcpy(id + 16 * 4, good + (id - p) + 16 * 3, 16);
		r2 = reject(p, len, &err, NULL) &&
		    strstr(err.msg, "order");
		memcpy(p, good, len);
		memcpy(p + tomb + 56 * 4, p + tomb + 56 * 3, 16);
		r3 = reject(p, len, &err, NULL);
		ok(r1 && r2 && r3,
		    ".dzb ids duplicated or out of order refused");
	}
	/* a hash changed: the index no longer fits the bank */
	memcpy(p, good, len);
	p[256 + 5] ^= 1;
	ok(reject(p, len, &err, NULL) &&
	    strstr(err.msg, "index"),
	    "a changed hash: the index is refused (%s)", err.msg);
	free(p);
	free(good);
	dz_bank_free(b);
}

/* Export 1, full: no prev, no base, and their bytes must stay zero. */
static void
test_dzb_first(struct rng *r)
{
	struct dz_bank_meta m;
	struct dz_bank *b;
	struct dz_err err = { 0 };
	const char *path;
	size_t len;
	uint8_t *p;
	int bad = 0;
	static const size_t off[] = { 96, 127, 128, 159, 44 };

	fill_meta(r, &m, 0);
	m.seq = 1;
	m.has_prev = 0;
	b = meta_bank(r, 5, 1, &m);
	path = write_bank(b, DZ_BANK_DZB, &err);
	p = get_file(path, &len);
	ok(!reject(p, len, &err, NULL), "export 1 loads");
	for (size_t i = 0; i < sizeof off / sizeof *off; i++) {
		p[off[i]] ^= 1;
		if (!reject(p, len, &err, NULL)) {
			diag("byte %zu: %s", off[i], err.msg);
			bad++;
		}
		p[off[i]] ^= 1;
	}
	ok(bad == 0, "export 1: prev and base bytes zero, no flags");
	free(p);
	dz_bank_free(b);
}

/* A .dzb with no entries (no index) and one with entries but no index. */
static void
test_dzb_noindex(struct rng *r)
{
	struct dz_bank *e = random_bank(r, 0, 3, 0);
	struct dz_bank *b = random_bank(r, 8, 0, 0);
	struct dz_bank *l = NULL;
	struct dz_err err = { 0 };
	const char *path = write_bank(e, DZ_BANK_DZB, &err);
	size_t len;
	uint8_t *p = get_file(path, &len);
	uint64_t v;

	memcpy(&v, p + 232, 8);
	ok(v == 0 && len == 256 + 192, "no entries: no index, %zu bytes", len);
	ok(dz_bank_load(path, 0, &l, &err) == 0 && l->n == 0 &&
	    l->ntomb == 3 && dz_bank_index(l, &err) == NULL && err.code == 0,
	    "no entries: loads, dz_bank_index NULL without error");
	dz_bank_free(l);
	free(p);
	unlink(path);

	/* strip the index off a bank with entries: built on first use */
	path = write_bank(b, DZ_BANK_DZB, &err);
	p = get_file(path, &len);
	memcpy(&v, p + 224, 8);
	len = v;
	memset(p + 224, 0, 16);
	memcpy(p + 16, &len, 8);
	l = NULL;
	ok(load_buf(p, len, &l, &err) == 0 && content_eq(b, l) &&
	    index_agrees(l, r), "a .dzb without its index: built on first use");
	if (err.code)
		diag("%s", err.msg);
	dz_bank_free(l);
	free(p);
	unlink(path);
	dz_bank_free(e);
	dz_bank_free(b);
}

static void
test_jsonl_hostile(struct rng *r)
{
	struct dz_bank *b = random_bank(r, 4, 2, 1), *l = NULL;
	struct dz_err err = { 0 };
	const char *path = write_bank(b, DZ_BANK_JSONL, &err);
	size_t len;
	uint8_t *good = get_file(path, &len);
	char *line[8], *text = malloc(len + 1), buf[BUF], idh[33];
	int nl = 0, bad = 0, ncase = 0;

	memcpy(text, good, len);
	text[len] = '\0';
	for (char *s = text, *c; (c = strchr(s, '\n')); s = c + 1) {
		*c = '\0';
		line[nl++] = s;
	}
	ok(nl == 7 && load_buf(good, len, &l, &err) == 0,
	    "the good file loads");
	dz_bank_free(l);
	dz_bank_id_hex(b->id[1], idh);

	/*
	 * Each case: the lines in order (indexes into line[], or -1 for the
	 * replacement text), the line the error must name (0: any).
	 */
	struct jcase {
		const char *what;
		int order[10];
		const char *repl;
		int eline;
	} cases[] = {
		{ "missing bank line", { 1, 2, 3, 4, 5, 6, 99 }, NULL, 1 },
		{ "bank line not first", { 1, 0, 2, 3, 4, 5, 6, 99 }, NULL, 1 },
		{ "two bank lines", { 0, 0, 1, 2, 3, 4, 5, 6, 99 }, NULL, 2 },
		{ "unsorted entries", { 0, 2, 1, 3, 4, 5, 6, 99 }, NULL, 3 },
		{ "duplicate entry", { 0, 1, 1, 3, 4, 5, 6, 99 }, NULL, 3 },
		{ "unsorted withdrawals", { 0, 1, 2, 3, 4, 6, 5, 99 }, NULL,
		  7 },
		{ "duplicate withdrawal", { 0, 1, 2, 3, 4, 5, 5, 99 }, NULL,
		  7 },
		{ "entry after withdrawal", { 0, 1, 2, 3, 5, 4, 6, 99 }, NULL,
		  6 },
		{ "an entry missing", { 0, 1, 2, 3, 5, 6, 99 }, NULL, 0 },
		{ "an entry too many", { 0, 1, 2, 3, 4, -1, 5, 6, 99 },
		  "{\"type\":\"entry\",\"id\":\""
		  "ffffffffffffffffffffffffffffffff\","
		  "\"signal\":\"pdq\",\"value\":\""
		  "00000000000000000000000000000000"
		  "00000000000000000000000000000000\",\"quality\":1,"
		  "\"category\":\"other\",\"added\":\"2026-01-01\"}", 6 },
		{ "a withdrawal missing", { 0, 1, 2, 3, 4, 5, 99 }, NULL, 0 },
		{ "trailing garbage", { 0, 1, 2, 3, 4, 5, 6, -1, 99 },
		  "garbage", 8 },
		{ "trailing empty line", { 0, 1, 2, 3, 4, 5, 6, -1, 99 },
		  "", 8 },
		{ "empty line inside", { 0, 1, -1, 2, 3, 4, 5, 6, 99 }, "", 3 },
		{ "not JSON", { 0, 1, -1, 3, 4, 5, 6, 99 },
		  "{\"type\":\"entry\",", 3 },
		{ "a JSON array", { 0, 1, -1, 3, 4, 5, 6, 99 }, "[1,2]", 3 },
		{ "NUL byte", { 0, 1, -1, 3, 4, 5, 6, 99 },
		  "{\"type\":\"en\\u0000try\"}", 3 },
		{ "unknown type", { 0, 1, -1, 3, 4, 5, 6, 99 },
		  "{\"type\":\"x\"}", 3 },
	};
	/* edits of line 2 (entry 2): from -> to */
	static const struct {
		const char *from, *to, *what;
	} edits[] = {
		{ "\"value\":\"", "\"value\":\"0", "bad PDQ hash" },
		{ "\"value\":\"", "\"value\":\"g", "bad PDQ hash" },
		{ "\"value\":\"", "\"value\":1, \"x\":\"", "bad PDQ hash" },
		{ "\"id\":\"", "\"id\":\"0", "bad id" },
		{ "\"id\":\"", "\"id\":\"A", "bad id" },
		{ "\"signal\":\"pdq\"", "\"signal\":\"md5\"", "bad MD5" },
		{ "\"signal\":\"pdq\"", "\"signal\":\"tmk\"", "signal" },
		{ "\"signal\":\"pdq\",", "", "signal" },
		{ "\"quality\":", "\"quality\":1000", "quality" },
		{ "\"quality\":", "\"quality\":-", "quality" },
		{ "\"quality\":", "\"quality\":\"1\",\"q\":", "quality" },
		{ "\"category\":\"", "\"category\":\"x", "category" },
		{ "\"added\":\"", "\"added\":\"1", "date" },
		{ "\"added\":\"", "\"added\":\"1969-12-31\",\"x\":\"", "date" },
		{ "\"added\"", "\"withdrawn\"", "date" },
		{ "{", "{\"extra\":1,", "unknown field" },
		{ "{", "{\"type\":\"entry\",", "invalid JSON" },
		{ "}", "}}", "invalid JSON" },
		{ "}", "} x", "invalid JSON" },
	};
	/* edits of line 0 (the bank line) */
	static const struct {
		const char *from, *to, *what;
	} bedits[] = {
		{ "\"version\":1", "\"version\":2", "version" },
		{ "\"version\":1,", "", "version" },
		{ "\"entries\":4", "\"entries\":5", "fewer entries" },
		{ "\"entries\":4", "\"entries\":3", "more entries" },
		{ "\"entries\":4", "\"entries\":4000000000", "fewer entries" },
		{ "\"entries\":4", "\"entries\":-4", "entries" },
		{ "\"entries\":4", "\"entries\":4.0", "entries" },
		{ "\"entries\":4", "\"entries\":99999999999999999999",
		  "invalid JSON" },
		{ "\"withdrawals\":2", "\"withdrawals\":3",
		  "fewer withdrawals" },
		{ "\"withdrawals\":2", "\"withdrawals\":1",
		  "more withdrawals" },
		{ "\"kind\":\"delta\"", "\"kind\":\"full\"", "since" },
		{ "\"kind\":\"delta\"", "\"kind\":\"other\"", "kind" },
		{ "\"since\":", "\"since\":-", "since" },
		{ "\"digest\":\"", "\"digest\":\"0", "digest" },
		{ "\"prev\":\"", "\"prev\":\"x", "prev" },
		{ "\"base\":\"", "\"base\":null,\"x\":\"", "unknown field" },
		{ "\"base\":\"", "\"base\":null,\"digest\":\"",
		  "invalid JSON" },
		{ "\"base\":\"", "\"base\":null,\"bass\":\"", "unknown field" },
		{ "\"type\":\"bank\",", "", "not a bank line" },
		{ "\"created\":\"", "\"created\":\"x", "created" },
		{ "\"collab\":\"", "\"collab\":\"a b", "collab" },
		{ "\"collab\":\"",
		  "\"collab\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "collab" },
		{ "{", "{\"extra\":null,", "unknown field" },
		{ "\"type\":\"bank\"", "\"type\":\"Bank\"", "not a bank line" },
	};

	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		size_t bl = 0;
		char want[32];

		for (int k = 0; cases[c].order[k] != 99; k++) {
			int o = cases[c].order[k];

			addf(buf, &bl, "%s\n",
			    o < 0 ? cases[c].repl : line[o]);
		}
		snprintf(want, sizeof want, "line %d: ", cases[c].eline);
		ncase++;
		if (!reject(buf, bl, &err, idh) ||
		    (cases[c].eline && strncmp(err.msg, want, strlen(want)))) {
			diag("%s: %s", cases[c].what, err.msg);
			bad++;
		}
	}
	for (int which = 0; which < 2; which++) {
		size_t ne = which ? sizeof bedits / sizeof *bedits :
		    sizeof edits / sizeof *edits;

		for (size_t i = 0; i < ne; i++) {
			const char *from = which ? bedits[i].from :
			    edits[i].from;
			const char *to = which ? bedits[i].to : edits[i].to;
			const char *what = which ? bedits[i].what :
			    edits[i].what;
			int target = which ? 0 : 2;
			size_t bl = 0;

			for (int k = 0; k < nl; k++) {
				const char *s = line[k], *at;

				if (k == target && (at = strstr(s, from)))
					addf(buf, &bl, "%.*s%s%s\n",
					    (int)(at - s), s, to,
					    at + strlen(from));
				else
					addf(buf, &bl, "%s\n", s);
			}
			ncase++;
			if (!reject(buf, bl, &err, idh) ||
			    !strstr(err.msg, what)) {
				diag("%s -> %s: %s", from, to,
				    err.msg);
				bad++;
			}
		}
	}
	/* an overlong line, and an id both entry and withdrawal */
	{
		size_t bl = 0;

		addf(buf, &bl, "%s\n", line[0]);

		memset(buf + bl, ' ', 5000);
		bl += 5000;
		addf(buf, &bl, "%s\n", line[1]);
		for (int k = 2; k < nl; k++)
			addf(buf, &bl, "%s\n",
			    line[k]);
		ncase++;
		if (!reject(buf, bl, &err, NULL) ||
		    !strstr(err.msg, "line 2: too long")) {
			diag("overlong: %s", err.msg);
			bad++;
		}
	}
	{
		struct dz_bank_meta m = b->meta;
		struct dz_bank *x = dz_bank_new(&m, &err);
		const char *p2;
		uint8_t *f2;
		size_t l2;
		char *s, *e, *wd;
		uint8_t ff[16];

		/* build a file whose withdrawal shares entry 0's id */
		memset(ff, 0xff, sizeof ff);
		dz_bank_add(x, b->id[0], &b->pdq[0], 1, 1, 1, &err);
		dz_bank_add_tomb(x, ff, &b->pdq[0], 1, 1, &err);
		dz_bank_finish(x, &err);
		p2 = write_bank(x, DZ_BANK_JSONL, &err);
		f2 = get_file(p2, &l2);
		s = (char *)f2;
		e = s + l2;
		wd = strstr(s, "ffffffffffffffffffffffffffffffff");
		dz_bank_id_hex(b->id[0], idh);
		if (wd)
			memcpy(wd, idh, 32);
		ncase++;
		if (!wd || !reject(f2, (size_t)(e - s), &err, idh) ||
		    !strstr(err.msg, "duplicate")) {
			diag("entry and withdrawal id: %s", err.msg);
			bad++;
		}
		free(f2);
		unlink(p2);
		dz_bank_free(x);
	}
	ok(bad == 0, "%d hostile JSON Lines files refused with a line number "
	    "and no content", ncase);
	free(text);
	free(good);
	unlink(path);
	dz_bank_free(b);
}

static void
test_csv_hostile(struct rng *r)
{
	struct dz_bank *b = random_bank(r, 4, 2, 0), *l = NULL;
	struct dz_err err = { 0 };
	const char *path = write_bank(b, DZ_BANK_CSV, &err);
	size_t len;
	uint8_t *good = get_file(path, &len);
	char *line[8], *text = malloc(len + 1), buf[BUF], idh[33];
	int nl = 0, bad = 0, ncase = 0;
	/* edits of one row (2: an entry, 5: a withdrawal) */
	static const struct {
		int row;
		const char *from, *to, *what;
	} edits[] = {
		{ 0, "signal_type", "signal", "line 1: bad CSV header" },
		{ 0, "tags", "tags,extra", "line 1: bad CSV header" },
		{ 0, "signal_type", "\xef\xbb\xbfsignal_type",
		  "line 1: bad CSV" },
		{ 2, "pdq,", "md5,", "line 3: unsupported signal type" },
		{ 2, "pdq,", "PDQ,", "line 3: unsupported signal type" },
		{ 2, "pdq,", "pdq,0", "line 3: bad PDQ hash" },
		{ 2, "pdq,", "pdq,\"", "line 3: quoted" },
		{ 2, "_CLASS,", "_CLASS,\"", "line 3: quoted" },
		{ 2, "_CLASS,", "_CLASS,x,", "line 3: not 5 fields" },
		{ 2, "_CLASS,", "_CLASS;", "line 3: not 5 fields" },
		{ 2, " dz:added", ",dz:added", "line 3: not 5 fields" },
		{ 2, "_CLASS,", "_CLASS,other,", "line 3: not 5 fields" },
		{ 2, "dz:id=", "dz:id=0", "line 3: bad tags" },
		{ 2, "dz:id=", "dz:id=A", "line 3: bad tags" },
		{ 2, "dz:id=", "dz:ID=", "line 3: bad tags" },
		{ 2, "dz:quality=", "dz:quality=101 dz:x=",
		  "line 3: bad tags" },
		{ 2, "dz:quality=", "dz:quality=0", "line 3: bad tags" },
		{ 2, "dz:quality=", "dz:quality=-", "line 3: bad tags" },
		{ 2, " dz:quality=", "  dz:quality=", "line 3: bad tags" },
		{ 2, "dz:added=", "dz:added=x", "line 3: bad tags" },
		{ 2, "dz:added=", "dz:withdrawn=2026-01-01 dz:added=",
		  "line 3: bad tags" },
		{ 2, "dz:added=", "dz:added=2026-01-01 dz:added=",
		  "line 3: bad tags" },
		{ 2, "dz:id=", "dz:id=00000000000000000000000000000000 dz:id=",
		  "line 3: bad tags" },
		{ 2, "dz:id=", "tag dz:id=", "line 3: bad tags" },
		{ 2, " dz:quality=", " dz:qualityx=", "line 3: bad tags" },
		{ 5, " dz:withdrawn=", " dz:quality=5 dz:withdrawn=",
		  "line 6: bad tags" },
		{ 5, " dz:withdrawn=2", " dz:withdrawn=1", "line 6: bad tags" },
		{ 5, " dz:id=", " ", "line 6: bad tags" },
		{ 2, "POSITIVE_CLASS,", "adult_ncii,", "line 3: unknown category" },
		{ 2, "POSITIVE_CLASS,", "positive_class,", "line 3: unknown category" },
		{ 2, "POSITIVE_CLASS,", "NEGATIVE_CLASS,",
		  "line 3: category does not fit the tags" },
		{ 5, "NEGATIVE_CLASS,", "POSITIVE_CLASS,",
		  "line 6: category does not fit the tags" },
		{ 2, ",adult_ncii ", ",x ", "line 3: bad tags" },
		{ 2, ",minor ", ",x ", "line 3: bad tags" },
		{ 2, ",other ", ",x ", "line 3: bad tags" },
		{ 2, " dz:id=", " minor dz:id=", "line 3: bad tags" },
		{ 5, ",adult_ncii dz:", ",dz:", "line 6: bad tags" },
		{ 5, ",minor dz:", ",dz:", "line 6: bad tags" },
		{ 5, ",other dz:", ",dz:", "line 6: bad tags" },
	};

	memcpy(text, good, len);
	text[len] = '\0';
	for (char *s = text, *c; (c = strchr(s, '\n')); s = c + 1) {
		*c = '\0';
		line[nl++] = s;
	}
	ok(nl == 7, "csv: header and 6 rows");
	for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
		size_t bl = 0;
		int applied = 0;

		for (int k = 0; k < nl; k++) {
			const char *s = line[k], *at;

			at = k == edits[i].row ? strstr(s, edits[i].from) :
			    NULL;
			if (at) {
				applied = 1;
				addf(buf, &bl, "%.*s%s%s\n", (int)(at - s), s,
				    edits[i].to, at + strlen(edits[i].from));
			} else {
				addf(buf, &bl, "%s\n", s);
			}
		}
		if (!applied)
			continue;	/* e.g. that row has another category */
		ncase++;
		dz_bank_id_hex(b->id[1], idh);
		if (!reject(buf, bl, &err, idh) ||
		    !strstr(err.msg, edits[i].what)) {
			diag("%s -> %s: %s", edits[i].from, edits[i].to,
			    err.msg);
			bad++;
		}
	}
	/* whole-file cases */
	{
		static const struct {
			const char *what;
			int order[10];
			const char *repl, *msg;
		} c[] = {
			{ "duplicate entry", { 0, 1, 2, 2, 3, 4, 5, 6, 99 },
			  NULL, "duplicate entry id" },
			{ "duplicate withdrawal",
			  { 0, 1, 2, 3, 4, 5, 6, 6, 99 }, NULL,
			  "duplicate withdrawal id" },
			{ "no header", { 1, 2, 3, 4, 5, 6, 99 }, NULL,
			  "line 1: bad" },
			{ "empty line", { 0, 1, -1, 2, 3, 4, 5, 6, 99 }, "",
			  "line 3: empty line" },
			{ "trailing empty line",
			  { 0, 1, 2, 3, 4, 5, 6, -1, 99 }, "",
			  "line 8: empty line" },
			{ "lone CR", { 0, 1, 2, 3, 4, 5, 6, -1, 99 }, "\r",
			  "line 8: empty line" },
			{ "trailing garbage", { 0, 1, 2, 3, 4, 5, 6, -1, 99 },
			  "garbage", "line 8: not 5 fields" },
			{ "collab differs", { 0, 1, -1, 99 },
			  "pdq,0000000000000000000000000000000000000000"
			  "000000000000000000000000,someone,other,"
			  "dz:id=ffffffffffffffffffffffffffffffff "
			  "dz:quality=1 dz:added=2026-01-01",
			  "line 3: collab differs" },
		};

		for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
			size_t bl = 0;

			for (int k = 0; c[i].order[k] != 99; k++) {
				int o = c[i].order[k];

				addf(buf, &bl, "%s\n",
				    o < 0 ? c[i].repl : line[o]);
			}
			ncase++;
			if (!reject(buf, bl, &err, idh) ||
			    !strstr(err.msg, c[i].msg)) {
				diag("%s: %s", c[i].what, err.msg);
				bad++;
			}
		}
	}
	/* an entry and a withdrawal with one id */
	{
		char idw[33], *at;
		size_t bl = 0;

		dz_bank_id_hex(b->tomb[0].id, idw);
		dz_bank_id_hex(b->id[0], idh);
		for (int k = 0; k < nl; k++)
			addf(buf, &bl, "%s\n",
			    line[k]);
		at = strstr(buf, idw);
		memcpy(at, idh, 32);
		ncase++;
		if (!reject(buf, bl, &err, idh) ||
		    !strstr(err.msg, "duplicate")) {
			diag("entry and withdrawal: %s", err.msg);
			bad++;
		}
	}
	/* overlong row */
	{
		size_t bl = (size_t)snprintf(buf, sizeof buf, "%s\n%s", line[0],
		    line[1]);

		memset(buf + bl, ' ', 5000);
		bl += 5000;
		buf[bl++] = '\n';
		ncase++;
		if (!reject(buf, bl, &err, NULL) ||
		    !strstr(err.msg, "line 2: too long")) {
			diag("overlong: %s", err.msg);
			bad++;
		}
	}
	ok(bad == 0, "%d hostile CSV files refused with a line number and no "
	    "content", ncase);
	ok(load_str("signal_type,signal_str,collab,category,tags\n", &l,
	    &err) == 0 && l->n == 0 && l->ntomb == 0 &&
	    l->format == DZ_BANK_CSV,
	    "csv: a header alone is an empty bank");
	dz_bank_free(l);
	ok(load_str("signal_type,signal_str,collab,category,tags", &l, &err) ==
	    0 && l->n == 0, "csv: header without newline");
	dz_bank_free(l);
	free(text);
	free(good);
	unlink(path);
	dz_bank_free(b);
}

/*
 * Every byte value in a hash digit and in an id digit, in a CSV file:
 * accepted exactly when it is a hex digit (either case for the hash, as
 * dz_pdq_from_hex; lower case for the id), and then read as one.
 */
static void
test_hex_digits(struct rng *r)
{
	struct dz_bank *b = random_bank(r, 1, 0, 0), *l;
	struct dz_err err = { 0 };
	const char *path = write_bank(b, DZ_BANK_CSV, &err);
	size_t len;
	uint8_t *good = get_file(path, &len);
	char *row = strstr((char *)good, "\npdq,") + 5;
	char *idp = strstr(row, "dz:id=") + 6;
	int bad = 0;

	for (int c = 0; c < 256; c++) {
		for (int pos = 0; pos < 64; pos += 21) {
			uint8_t *p = malloc(len);
			struct dz_pdq want;
			char hex[65];
			int valid = (c >= '0' && c <= '9') ||
			    (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

			memcpy(p, good, len);
			p[(size_t)(row - (char *)good) + (size_t)pos] =
			    (uint8_t)c;
			memcpy(hex, p + (row - (char *)good), 64);
			hex[64] = '\0';
			l = NULL;
			if (load_buf(p, len, &l, &err) == 0) {
				if (!valid || dz_pdq_from_hex(hex, &want) ||
				    memcmp(&want, &l->pdq[0], 32))
					bad++;
			} else if (valid || err.code != EX_DATAERR) {
				bad++;
			}
			dz_bank_free(l);
			/* the id: lower case only */
			memcpy(p, good, len);
			p[(size_t)(idp - (char *)good) + (size_t)pos / 2] =
			    (uint8_t)c;
			l = NULL;
			valid = (c >= '0' && c <= '9') ||
			    (c >= 'a' && c <= 'f');
			if ((load_buf(p, len, &l, &err) == 0) != valid)
				bad++;
			dz_bank_free(l);
			free(p);
		}
	}
	ok(bad == 0, "every byte in a hash or id digit: hex digits only");
	free(good);
	dz_bank_free(b);
}

/* Random garbage and near-miss prefixes: refused, never a crash. */
static void
test_fuzz(struct rng *r)
{
	static const char *const starts[] = {
		"\x89", "\211DZBANK\n", "{", "{\"type\":\"bank\"",
		"signal_type,signal_str,collab,category,tags\n", "",
	};
	uint8_t buf[1024];
	struct dz_err err = { 0 };
	int bad = 0;

	for (int i = 0; i < 600; i++) {
		const char *s = starts[i % 6];
		size_t sl = strlen(s), len = sl + below(r, 600);

		memcpy(buf, s, sl);
		random_bytes(r, buf + sl, len - sl);
		if (i % 3 == 0)	/* printable */
			for (size_t k = sl; k < len; k++)
				buf[k] = (uint8_t)(' ' + buf[k] % 95);
		if (!reject(buf, len, &err, NULL)) {
			diag("garbage %d: %s", i, err.msg);
			bad++;
		}
	}
	ok(bad == 0, "600 garbage files refused");
}

/* ---------- video entries: MD5 rows and vPDQ runs ---------- */

/* Replace the first occurrence of from in text (in place, room enough). */
static int
edit(char *text, const char *from, const char *to)
{
	char *at = strstr(text, from);
	size_t fl = strlen(from), tl = strlen(to);

	if (!at)
		return -1;
	memmove(at + tl, at + fl, strlen(at + fl) + 1);
	memcpy(at, to, tl);
	return 0;
}

/* Load text edited (from -> to): refused with a message containing what. */
static int
edit_refused(const char *good, const char *from, const char *to, const char *what)
{
	char *text = malloc(strlen(good) + strlen(to) + 1);
	struct dz_bank *l = NULL;
	struct dz_err err = { 0 };
	int rc;

	if (!text)
		abort();
	strcpy(text, good);
	if (edit(text, from, to) < 0) {
		diag("edit: no %s", from);
		free(text);
		return 0;
	}
	rc = load_str(text, &l, &err);
	free(text);
	if (rc == 0 || err.code != EX_DATAERR || !strstr(err.msg, what)) {
		diag("%s -> %s: %s", from, to, rc ? err.msg : "loaded");
		dz_bank_free(l);
		return 0;
	}
	return 1;
}

static void
test_video_signals(struct rng *r)
{
	struct dz_bank_meta m;
	struct dz_bank *b, *l;
	struct dz_err err = { 0 };
	uint8_t a[16] = { 0xaa }, c[16] = { 0xcc }, d[16] = { 0x0d };
	struct dz_pdq f[3], md5 = { { 0 } }, h;
	const char *path;
	uint8_t *text;
	size_t len;
	int64_t i;
	int ok_frames = 1;

	fill_meta(r, &m, 0);
	for (int k = 0; k < 3; k++)
		random_hash(r, &f[k]);
	random_hash(r, &h);
	memcpy(&md5, "0123456789abcdef", 16);
	b = dz_bank_new(&m, &err);
	/* the frames of video c added among other entries */
	ok(b && dz_bank_add_signal(b, c, DZ_BANK_VPDQ, &f[0], 90, 1, 20000,
	    &err) == 0 &&
	    dz_bank_add(b, a, &h, 80, 1, 20000, &err) == 0 &&
	    dz_bank_add_signal(b, c, DZ_BANK_VPDQ, &f[1], 70, 1, 20000,
	    &err) == 0 &&
	    dz_bank_add_signal(b, d, DZ_BANK_MD5, &md5, 100, 2, 20001,
	    &err) == 0 &&
	    dz_bank_add_signal(b, c, DZ_BANK_VPDQ, &f[2], 60, 1, 20000,
	    &err) == 0 &&
	    dz_bank_add_tomb_signal(b, (const uint8_t[16]){ 0xee },
	    DZ_BANK_VPDQ, &f[0], 1, 20002, &err) == 0 &&
	    dz_bank_finish(b, &err) == 0 && b->n == 5,
	    "a bank with an image, a video's MD5 and a 3-frame vPDQ");
	if (!b || b->n != 5) {
		diag("%s", err.msg);
		dz_bank_free(b);
		return;
	}
	i = dz_bank_find(b, c);
	for (int k = 0; k < 3; k++)
		if (i < 0 || memcmp(&b->pdq[i + k], &f[k], sizeof f[k]) ||
		    b->attr[i + k].signal != DZ_BANK_VPDQ)
			ok_frames = 0;
	ok(i == 2 && ok_frames, "frames grouped under their id, in order");
	ok(dz_bank_run(b, 2) == 3 && dz_bank_run(b, 3) == 3 &&
	    dz_bank_run(b, 4) == 3 && dz_bank_run(b, 0) == 1 &&
	    dz_bank_run(b, 1) == 1 && dz_bank_run(b, 5) == 0 &&
	    dz_bank_find(b, a) == 1,
	    "dz_bank_run: a video's frames, 1 for anything else");
	ok(dz_bank_find(b, d) == 0 && b->attr[0].signal == DZ_BANK_MD5,
	    "the MD5 entry");

	/* the three formats keep them, and the CSV names ThreatExchange's */
	path = write_bank(b, DZ_BANK_CSV, &err);
	text = get_file(path, &len);
	ok(strstr((char *)text, "\nvideo_md5,30313233343536373839616263646566,")
	    && strstr((char *)text, "\nvpdq,"),
	    "CSV: video_md5 and vpdq rows");
	ok(edit_refused((char *)text, "video_md5,", "md5,", "line 2: unsupported "
	    "signal type"), "CSV: md5 is not a CSV signal name");
	ok(edit_refused((char *)text, "video_md5,3031", "video_md5,303", "line 2: "
	    "bad MD5"), "CSV: a short MD5 refused");
	ok(edit_refused((char *)text, "video_md5,30313233343536373839616263646566",
	    "video_md5,3031323334353637383961626364656630313233343536373839616"
	    "263646566", "line 2: bad MD5"), "CSV: a 64-digit MD5 refused");
	ok(edit_refused((char *)text, "\nvpdq,", "\ntmk,", "unsupported signal"),
	    "CSV: an unknown signal refused");
	free(text);

	path = write_bank(b, DZ_BANK_JSONL, &err);
	text = get_file(path, &len);
	ok(strstr((char *)text, "\"signal\":\"md5\",\"value\":"
	    "\"30313233343536373839616263646566\"") &&
	    strstr((char *)text, "\"signal\":\"vpdq\""),
	    "JSON Lines: md5 and vpdq lines");
	ok(edit_refused((char *)text, "\"signal\":\"md5\",\"value\":\"3031",
	    "\"signal\":\"md5\",\"value\":\"303", "line 2: bad MD5"),
	    "JSON Lines: a short MD5 refused");
	ok(edit_refused((char *)text, "\"signal\":\"md5\"", "\"signal\":\"pdq\"",
	    "line 2: bad PDQ hash"), "JSON Lines: an MD5 is no PDQ");
	ok(edit_refused((char *)text, "\"signal\":\"vpdq\"", "\"signal\":\"tmk\"",
	    "unsupported signal type"), "JSON Lines: unknown signal refused");
	ok(edit_refused((char *)text, "\"quality\":70,\"category\":\"adult_ncii\"",
	    "\"quality\":70,\"category\":\"minor\"", "duplicate entry id"),
	    "JSON Lines: a frame with another category is a duplicate id");
	ok(edit_refused((char *)text, "\"signal\":\"vpdq\"", "\"signal\":\"pdq\"",
	    "duplicate entry id"),
	    "JSON Lines: an image row sharing a video's id refused");
	free(text);

	for (int k = 1; k <= 3; k++) {
		l = NULL;
		path = write_bank(b, (enum dz_bank_format)k, &err);
		ok(path && dz_bank_load(path, 0, &l, &err) == 0 &&
		    content_eq(b, l) && dz_bank_run(l, 3) == 3,
		    "format %d: video entries round trip", k);
		dz_bank_free(l);
	}
	dz_bank_free(b);

	b = dz_bank_new(&m, &err);
	md5.w[3] = 1;
	ok(dz_bank_add_signal(b, d, DZ_BANK_MD5, &md5, 100, 1, 1, &err) < 0 &&
	    err.code == EX_DATAERR && dz_bank_add_signal(b, d, 4, &h, 100, 1,
	    1, &err) < 0 && dz_bank_add_signal(b, d, 0, &h, 100, 1, 1,
	    &err) < 0 && dz_bank_add_tomb_signal(b, d, 9, &h, 1, 1, &err) < 0,
	    "an MD5 with bits past 16 bytes, an unknown signal refused");
	ok(dz_bank_add_signal(b, c, DZ_BANK_VPDQ, &f[0], 90, 1, 5, &err) == 0
	    && dz_bank_add_signal(b, c, DZ_BANK_VPDQ, &f[1], 90, 1, 6, &err)
	    == 0 && dz_bank_finish(b, &err) < 0 && err.code == EX_DATAERR,
	    "frames of one id on two days refused");
	dz_bank_free(b);

	mixed = 1;
	round_trip(r, 1, 1, 0);
	round_trip(r, 400, 40, 1);
	mixed = 0;
}

int
main(void)
{
	struct rng r = { 20261123 };
	scratch_dir(dir, sizeof dir, "test-bank");

	test_days();
	test_small();
	test_build_errors(&r);
	test_sort(&r);
	round_trip(&r, 0, 0, 0);
	round_trip(&r, 1, 0, 1);
	round_trip(&r, 0, 3, 1);
	round_trip(&r, 100, 17, 0);
	round_trip(&r, 3000, 200, 1);
	test_jsonl_spelling(&r);
	test_csv_order(&r);
	test_inputs(&r);
	test_comment(&r);
	test_comment_malformed();
	test_dzb_hostile(&r);
	test_dzb_first(&r);
	test_dzb_noindex(&r);
	test_jsonl_hostile(&r);
	test_csv_hostile(&r);
	test_hex_digits(&r);
	test_fuzz(&r);
	test_video_signals(&r);

	for (int i = 0; i < nwritten; i++) {
		unlink(written[i]);
		free(written[i]);
	}
	if (rmdir(dir) < 0)
		diag("scratch directory %s not empty", dir);
	return tap_done();
}
