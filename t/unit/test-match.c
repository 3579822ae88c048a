/*
 * t/unit/test-match: lib/bank/trust (the state file) and lib/work/match (bank
 * sets: signatures, chains, state; queries against the brute-force
 * oracle; the input lines of --hashes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bank/bank.h"
#include "bank/trust.h"
#include "core/err.h"
#include "work/match.h"
#include "hash/pdq.h"
#include "core/record.h"
#include "crypto/sign.h"
#include "tap.h"
#include "util.h"
#include "hash/vpdqsig.h"

static char dir[256];

static char *
path_of(const char *name)
{
	return path_in(dir, name);
}

static struct rng rs = { 42 };

static uint64_t
rng(void)
{
	return rnd(&rs);
}

static void
meta_init(struct dz_bank_meta *m, uint64_t seq, int delta, uint64_t since,
    const uint8_t *base)
{
	memset(m, 0, sizeof *m);
	m->seq = seq;
	m->kind = delta ? DZ_BANK_DELTA : DZ_BANK_FULL;
	m->since = since;
	m->has_prev = seq > 1;
	memset(m->prev, 0xa5, 32);
	if (delta) {
		m->has_base = 1;
		memcpy(m->base, base, 32);
	}
	snprintf(m->created, sizeof m->created, "2026-01-15T12:00:00Z");
	snprintf(m->collab, sizeof m->collab, "disrupt");
}

static int
write_file(const char *p, const void *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc = fd < 0 || write(fd, buf, len) != (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return rc ? -1 : 0;
}

static int
save_bank(struct dz_bank *b, enum dz_bank_format f, const char *p)
{
	struct dz_err e;
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644), rc;

	if (fd < 0)
		return -1;
	rc = dz_bank_write(b, f, fd, &e);
	close(fd);
	if (rc)
		diag("write %s: %s", p, e.msg);
	return rc;
}

static uint8_t *
slurp(const char *p, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(p, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* Sign the bank file p (whose metadata is b's) into p.minisig. */
static int
sign_bank(const struct dz_sign_key *key, const struct dz_bank *b,
    const char *p)
{
	struct dz_err e;
	char *comment, *sig, sp[600];
	uint8_t *data;
	size_t len;
	int rc;

	if (dz_bank_comment(b, &comment, &e))
		return -1;
	if (!(data = slurp(p, &len))) {
		free(comment);
		return -1;
	}
	rc = dz_sign_buf(key, data, len, comment, &sig, &e);
	free(data);
	free(comment);
	if (rc)
		return -1;
	snprintf(sp, sizeof sp, "%s.minisig", p);
	rc = write_file(sp, sig, strlen(sig));
	free(sig);
	return rc;
}

/* ---------- lib/bank/trust ---------- */

static void
test_trust_text(void)
{
	static const char *bad[] = {
		"nope\n",
		"disrupt-match-state v1\nissuer 0ABC 1 00\n",
		"disrupt-match-state v1\nissuer abc 1 "
		    "0000000000000000000000000000000000000000000000000000000000000000\n",
		"disrupt-match-state v1\nissuer ABC 01 "
		    "0000000000000000000000000000000000000000000000000000000000000000\n",
		"disrupt-match-state v1\nissuer ABC 1  "
		    "0000000000000000000000000000000000000000000000000000000000000000\n",
		"disrupt-match-state v1\nissuer ABC 1 "
		    "0000000000000000000000000000000000000000000000000000000000000000",
		"disrupt-match-state v1\nissuer ABC 1 "
		    "0000000000000000000000000000000000000000000000000000000000000000\n"
		    "issuer ABC 2 "
		    "0000000000000000000000000000000000000000000000000000000000000000\n",
		"disrupt-match-state v1\nverified ABC 1 "
		    "0000000000000000000000000000000000000000000000000000000000000000"
		    " 1 2 3 4.5 6.000000007\n",
		"disrupt-match-state v1\nsomething else\n",
	};
	struct dz_trust t, u;
	struct dz_trust_file f;
	struct dz_err e;
	uint8_t k1[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, k2[8] = { 9 }, d[32];
	char *text, *text2;

	ok(dz_trust_parse("", 0, &t, &e) == 0 && t.niss == 0 && t.nfiles == 0,
	    "trust: an empty file is an empty state");
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		memset(&e, 0, sizeof e);
		ok(dz_trust_parse(bad[i], strlen(bad[i]), &t, &e) == -1 &&
		    e.code == EX_CONFIG && strncmp(e.msg, "line ", 5) == 0,
		    "trust: malformed state %zu refused (%s)", i, e.msg);
	}
	memset(&t, 0, sizeof t);
	memset(d, 0x3c, sizeof d);
	ok(dz_trust_accept(&t, k1, 5, d, &e) == 1 &&
	    dz_trust_accept(&t, k2, 1, d, &e) == 1 &&
	    dz_trust_accept(&t, k1, 4, d, &e) == 0 &&
	    dz_trust_accept(&t, k1, 5, d, &e) == 0 &&
	    dz_trust_issuer(&t, k1)->seq == 5, "trust: accept keeps the newest");
	memset(&f, 0, sizeof f);
	memcpy(f.keyid, k1, 8);
	f.seq = 5;
	memcpy(f.digest, d, 32);
	f.dev = 2049;
	f.ino = 77;
	f.size = 1234;
	f.mtime_sec = 1700000000;
	f.mtime_nsec = 5;
	f.ctime_sec = -3;
	f.ctime_nsec = 999999999;
	ok(dz_trust_cache_put(&t, &f, &e) == 1 &&
	    dz_trust_cache_put(&t, &f, &e) == 0 && dz_trust_cached(&t, &f),
	    "trust: a verified file is cached once");
	ok(dz_trust_format(&t, &text, &e) == 0, "trust: format");
	ok(dz_trust_parse(text, strlen(text), &u, &e) == 0 && u.niss == 2 &&
	    u.nfiles == 1 && dz_trust_cached(&u, &f) &&
	    dz_trust_issuer(&u, k2)->seq == 1, "trust: parse(format(x)) == x");
	ok(dz_trust_format(&u, &text2, &e) == 0 && strcmp(text, text2) == 0,
	    "trust: format is stable");
	free(text);
	free(text2);
	dz_trust_release(&u);

	f.mtime_nsec = 6;
	ok(!dz_trust_cached(&t, &f), "trust: another mtime is not cached");
	ok(dz_trust_cache_put(&t, &f, &e) == 1 && t.nfiles == 1,
	    "trust: the same inode replaces its entry");
	for (int i = 0; i < DZ_TRUST_CACHE_MAX + 10; i++) {
		f.ino = 1000 + (uint64_t)i;
		dz_trust_cache_put(&t, &f, &e);
	}
	f.ino = 1000;
	ok(t.nfiles == DZ_TRUST_CACHE_MAX && !dz_trust_cached(&t, &f),
	    "trust: the cache keeps the newest %d files", DZ_TRUST_CACHE_MAX);

	ok(dz_trust_check(&t, k1, 6, d, &e) == 0, "trust: newer seq accepted");
	ok(dz_trust_check(&t, k1, 5, d, &e) == 0, "trust: same export accepted");
	ok(dz_trust_check(&t, k1, 4, d, &e) == -1 && e.code == EX_DATAERR &&
	    strcmp(e.msg, "bank seq 4 is older than seq 5 already accepted "
	    "(rollback)") == 0, "trust: rollback refused: %s", e.msg);
	d[0] ^= 1;
	ok(dz_trust_check(&t, k1, 5, d, &e) == -1 && strstr(e.msg, "replay"),
	    "trust: same seq, other digest refused: %s", e.msg);
	ok(dz_trust_check(&t, (uint8_t[8]){ 7 }, 1, d, &e) == 0,
	    "trust: an unknown issuer is accepted");
	dz_trust_release(&t);
}

struct upd {
	int ret;
	uint64_t seq;
};

static int
upd_apply(struct dz_trust *t, void *ctx, struct dz_err *err)
{
	struct upd *u = ctx;
	uint8_t k[8] = { 0x11 }, d[32] = { 0 };

	if (u->ret < 0)
		return dz_err_set(err, EX_DATAERR, "refused by apply");
	if (u->ret == 1 && dz_trust_accept(t, k, u->seq, d, err) < 0)
		return -1;
	return u->ret;
}

static void
test_trust_files(void)
{
	struct dz_err e;
	struct dz_trust t;
	struct upd u = { 0, 0 };
	struct stat st;
	char *p, sp[512];

	snprintf(sp, sizeof sp, "%s", path_of("s1/s2/match.state"));

	ok(dz_trust_read(sp, &t, &e) == 0 && t.niss == 0,
	    "trust: a missing state file is an empty state");
	ok(dz_trust_mkdir_parent(sp, &e) == 0 &&
	    stat(path_of("s1/s2"), &st) == 0 && (st.st_mode & 0777) == 0700 &&
	    stat(path_of("s1"), &st) == 0 && (st.st_mode & 0777) == 0700,
	    "trust: the state directory is made 0700");
	ok(dz_trust_update(sp, upd_apply, &u, &e) == 0 &&
	    stat(sp, &st) != 0, "trust: nothing to write, nothing written");
	u.ret = 1;
	u.seq = 3;
	ok(dz_trust_update(sp, upd_apply, &u, &e) == 0 && stat(sp, &st) == 0 &&
	    (st.st_mode & 0777) == 0600, "trust: update writes a 0600 file");
	ok(stat(path_of("s1/s2/match.state.lock"), &st) == 0,
	    "trust: beside its lock file");
	ok(dz_trust_read(sp, &t, &e) == 0 && t.niss == 1 && t.iss[0].seq == 3,
	    "trust: what was written reads back");
	dz_trust_release(&t);
	u.ret = -1;
	ok(dz_trust_update(sp, upd_apply, &u, &e) == -1 &&
	    e.code == EX_DATAERR && strcmp(e.msg, "refused by apply") == 0,
	    "trust: apply's error is passed on");
	ok(dz_trust_read(sp, &t, &e) == 0 && t.iss[0].seq == 3,
	    "trust: and nothing changed");
	dz_trust_release(&t);
	ok(write_file(sp, "junk\n", 5) == 0 &&
	    dz_trust_update(sp, upd_apply, &u, &e) == -1 &&
	    e.code == EX_CONFIG, "trust: a damaged state file is an error");

	setenv("XDG_STATE_HOME", "/x/state", 1);
	ok(dz_trust_default_path(&p, &e) == 0 &&
	    strcmp(p, "/x/state/dz/match.state") == 0,
	    "trust: default under $XDG_STATE_HOME");
	free(p);
	setenv("XDG_STATE_HOME", "relative", 1);
	setenv("HOME", "/home/p", 1);
	ok(dz_trust_default_path(&p, &e) == 0 &&
	    strcmp(p, "/home/p/.local/state/dz/match.state") == 0,
	    "trust: else under $HOME/.local/state");
	free(p);
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	ok(dz_trust_default_path(&p, &e) == -1 && e.code == EX_CONFIG,
	    "trust: neither: a configuration error");
}

/* ---------- lib/work/match: input lines ---------- */

static void
test_input_lines(void)
{
	static const char h[] =
	    "f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22";
	struct dz_match_in in;
	struct dz_err e;
	struct dz_pdq want;
	char line[2048];
	int rc;

	dz_pdq_from_hex(h, &want);
#define PARSE(s) (dz_match_in_release(&in), \
	rc = dz_match_in_parse((s), strlen(s), &in, &e))

	memset(&in, 0, sizeof in);
	snprintf(line, sizeof line, "{\"type\":\"hash\",\"path\":\"a.jpg\","
	    "\"pdq\":\"%s\",\"quality\":87}", h);
	PARSE(line);
	ok(rc == 0 && in.kind == DZ_MATCH_IN_HASH && in.quality == 87 &&
	    !memcmp(&in.pdq[0], &want, sizeof want) && in.ndihedral == 0 &&
	    in.rec, "lines: a hash record");
	snprintf(line, sizeof line, "{\"type\":\"hash\",\"pdq\":\"%s\","
	    "\"quality\":87,\"pdq_dihedral\":{\"orig\":\"%s\",\"rot90\":\"%s\","
	    "\"rot180\":\"%s\",\"rot270\":\"%s\",\"flipx\":\"%s\",\"flipy\":"
	    "\"%s\",\"flipplus1\":\"%s\",\"flipminus1\":\"%.63s1\"}}", h, h, h,
	    h, h, h, h, h, h);
	PARSE(line);
	ok(rc == 0 && in.ndihedral == DZ_PDQ_NDIHEDRAL &&
	    dz_pdq_distance(&in.pdq[7], &want) == 2 &&
	    !memcmp(&in.pdq[6], &want, sizeof want), "lines: with pdq_dihedral");
	snprintf(line, sizeof line, "{\"type\":\"hash\",\"pdq\":\"%s\","
	    "\"quality\":87,\"pdq_dihedral\":{\"orig\":\"%s\"}}", h, h);
	PARSE(line);
	ok(rc == -1 && e.code == EX_DATAERR && in.rec,
	    "lines: an incomplete pdq_dihedral is an error, record kept");
	snprintf(line, sizeof line, "{\"type\":\"hash\",\"pdq\":\"%.63sg\","
	    "\"quality\":87}", h);
	PARSE(line);
	ok(rc == -1 && strcmp(e.msg, "malformed pdq") == 0,
	    "lines: a bad pdq: %s", e.msg);
	snprintf(line, sizeof line, "{\"type\":\"hash\",\"pdq\":\"%s\"}", h);
	PARSE(line);
	ok(rc == -1 && strstr(e.msg, "quality"), "lines: no quality: %s",
	    e.msg);
	snprintf(line, sizeof line, "{\"type\":\"hash\",\"pdq\":\"%s\","
	    "\"quality\":101}", h);
	PARSE(line);
	ok(rc == -1, "lines: quality 101 refused");
	PARSE("{\"type\":\"note\",\"pdq\":1}");
	ok(rc == 0 && in.kind == DZ_MATCH_IN_PASS, "lines: other types pass");
	PARSE("{\"type\":\"hash\",\"md5\":\"x\"}");
	ok(rc == 0 && in.kind == DZ_MATCH_IN_PASS,
	    "lines: a hash record without pdq passes");
	PARSE("{\"pdq\":1}");
	ok(rc == 0 && in.kind == DZ_MATCH_IN_PASS,
	    "lines: a record without type passes");
	PARSE("{\"type\":");
	ok(rc == -1 && e.code == EX_DATAERR && !in.rec,
	    "lines: bad JSON: %s", e.msg);
	PARSE(h);
	ok(rc == 0 && in.kind == DZ_MATCH_IN_HASH && in.quality == -1 &&
	    !in.rec && !in.path && !memcmp(&in.pdq[0], &want, sizeof want),
	    "lines: a bare hash");
	snprintf(line, sizeof line, "%s,64", h);
	PARSE(line);
	ok(rc == 0 && in.quality == 64 && !in.path, "lines: HASH,QUALITY");
	snprintf(line, sizeof line, "%s,100,dir/a, b.jpg", h);
	PARSE(line);
	ok(rc == 0 && in.quality == 100 && in.path &&
	    strcmp(in.path, "dir/a, b.jpg") == 0, "lines: HASH,QUALITY,NAME");
	for (size_t i = 0; i < 64; i++)
		line[i] = (char)(h[i] >= 'a' ? h[i] - 32 : h[i]);
	line[64] = '\0';
	PARSE(line);
	ok(rc == 0 && !memcmp(&in.pdq[0], &want, sizeof want),
	    "lines: upper-case hex");
	{
		static const char *bad[] = { "", "abc", "x", ",50" };
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			PARSE(bad[i]);
			ok(rc == -1 && e.code == EX_DATAERR,
			    "lines: bad line %zu: %s", i, e.msg);
		}
	}
	snprintf(line, sizeof line, "%s,", h);
	PARSE(line);
	ok(rc == -1, "lines: HASH, refused");
	snprintf(line, sizeof line, "%s,101", h);
	PARSE(line);
	ok(rc == -1, "lines: HASH,101 refused");
	snprintf(line, sizeof line, "%s,50,", h);
	PARSE(line);
	ok(rc == -1, "lines: an empty name refused");
	snprintf(line, sizeof line, "%s0", h);
	PARSE(line);
	ok(rc == -1, "lines: 65 digits refused");
	dz_match_in_release(&in);
#undef PARSE
}

/* ---------- lib/work/match: queries ---------- */

struct built {
	struct dz_bank *b;
	struct dz_pdq q[80];	/* queries */
	int nq;
};

/* A bank of n random entries and planted ones; queries in w->q. */
static struct dz_bank *
plant(uint64_t seq, int n, struct built *w)
{
	struct dz_bank_meta m;
	struct dz_bank *b;
	struct dz_err e;
	struct dz_pdq h, q;
	uint8_t id[16];

	meta_init(&m, seq, 0, 0, NULL);
	if (!(b = dz_bank_new(&m, &e)))
		return NULL;
	for (int i = 0; i < n; i++) {
		random_hash(&rs, &h);
		random_id(&rs, id);
		dz_bank_add(b, id, &h, 90, DZ_BANK_CAT_OTHER, 20000, &e);
	}
	w->nq = 0;
	for (int d = 0; d <= 40; d++) {
		random_hash(&rs, &q);
		flip_distinct(&rs, &q, d, &h);
		random_id(&rs, id);
		dz_bank_add(b, id, &h, 100, DZ_BANK_CAT_ADULT_NCII, 20000, &e);
		w->q[w->nq++] = q;
	}
	random_hash(&rs, &q);
	for (int d = 0; d <= 40; d += 2) {
		flip_distinct(&rs, &q, d, &h);
		random_id(&rs, id);
		dz_bank_add(b, id, &h, 100, DZ_BANK_CAT_MINOR, 20000, &e);
	}
	/* duplicates of one hash under several ids */
	for (int k = 0; k < 3; k++) {
		random_id(&rs, id);
		dz_bank_add(b, id, &h, 100, DZ_BANK_CAT_MINOR, 20000, &e);
	}
	w->q[w->nq++] = q;
	for (int i = 0; i < 10; i++)
		random_hash(&rs, &w->q[w->nq++]);
	if (dz_bank_finish(b, &e)) {
		diag("finish: %s", e.msg);
		dz_bank_free(b);
		return NULL;
	}
	w->b = b;
	return b;
}

/* A copy of b's entries under another collab (another unsigned group). */
static struct dz_bank *
recollab(const struct dz_bank *b, const char *collab)
{
	struct dz_bank_meta m = b->meta;
	struct dz_bank *c;
	struct dz_err e;

	snprintf(m.collab, sizeof m.collab, "%s", collab);
	if (!(c = dz_bank_new(&m, &e)))
		return NULL;
	for (uint64_t i = 0; i < b->n; i++)
		dz_bank_add(c, b->id[i], &b->pdq[i], b->attr[i].quality,
		    b->attr[i].category, b->attr[i].added, &e);
	if (dz_bank_finish(c, &e)) {
		dz_bank_free(c);
		return NULL;
	}
	return c;
}

static int
same_hits(const struct dz_match_hits *a, const struct dz_match_hits *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].bank != b->v[i].bank ||
		    a->v[i].entry != b->v[i].entry ||
		    a->v[i].distance != b->v[i].distance ||
		    a->v[i].transform != b->v[i].transform)
			return 0;
	return 1;
}

static void
test_queries(void)
{
	static const char *fmt_name[] = { "", "jsonl", "csv", "dzb" };
	struct built w;
	struct dz_err e;
	struct dz_match_opts o = { 0 };
	struct dz_match_set *s, *sb;
	struct dz_match_scratch *sc;
	struct dz_match_hits h = { 0 }, hb = { 0 };
	int thr[] = { 0, 10, 31, 32, 64, 90 };

	if (!plant(1, 3000, &w)) {
		ok(0, "queries: build a bank");
		return;
	}
	/* One group per threshold and format: all are export 1. */
	for (size_t t = 0; t < sizeof thr / sizeof *thr; t++)
		for (int f = DZ_BANK_JSONL; f <= DZ_BANK_DZB; f++) {
			char name[32];
			struct dz_bank *c;

			snprintf(name, sizeof name, "t%zu%s", t, fmt_name[f]);
			c = recollab(w.b, name);
			snprintf(name, sizeof name, "q%zu.%s", t, fmt_name[f]);
			if (!c || save_bank(c, (enum dz_bank_format)f,
			    path_of(name)))
				ok(0, "queries: write %s", name);
			dz_bank_free(c);
		}
	o.insecure = 1;
	s = dz_match_set_new(&o, &e);
	o.brute = 1;
	sb = dz_match_set_new(&o, &e);
	for (size_t t = 0; t < sizeof thr / sizeof *thr; t++)
		for (int f = DZ_BANK_JSONL; f <= DZ_BANK_DZB; f++) {
			char name[32];
			snprintf(name, sizeof name, "q%zu.%s", t, fmt_name[f]);
			if (dz_match_set_add(s, path_of(name), thr[t], &e) ||
			    dz_match_set_add(sb, path_of(name), thr[t], &e))
				diag("add: %s", e.msg);
		}
	ok(s->nbanks == 18 && dz_match_set_unsigned(s) == 18,
	    "queries: 18 unsigned banks loaded");
	ok(dz_match_set_seal(s, &e) == 0 && dz_match_set_seal(sb, &e) == 0,
	    "queries: sealed (%s)", e.msg);
	sc = dz_match_scratch_new(&e);
	{
		int bad = 0, total = 0;
		for (int i = 0; i < w.nq; i++) {
			int r1 = dz_match_query(s, &w.q[i], 1, sc, &h, &e);
			int r2 = dz_match_query(sb, &w.q[i], 1, NULL, &hb, &e);
			total += r1;
			if (r1 != r2 || !same_hits(&h, &hb))
				bad++;
		}
		ok(bad == 0 && total > 0, "queries: index == brute force on %d "
		    "queries, %d hits", w.nq, total);
	}
	/* The planted distances: query d finds its entry iff d <= t. */
	{
		int bad = 0;
		for (int d = 0; d <= 40; d++) {
			dz_match_query(s, &w.q[d], 1, sc, &h, &e);
			for (size_t t = 0; t < sizeof thr / sizeof *thr; t++) {
				int found = 0;
				for (size_t k = 0; k < h.n; k++)
					if (h.v[k].bank / 3 == t &&
					    h.v[k].distance == d)
						found++;
				if (found != (d <= thr[t] ? 3 : 0))
					bad++;
			}
		}
		ok(bad == 0, "queries: planted distances 0..40 found exactly "
		    "within each bank's threshold");
	}
	/* Order: by bank, then entry; duplicates all reported. */
	{
		int sorted = 1;
		dz_match_query(s, &w.q[41], 1, sc, &h, &e);
		for (size_t k = 1; k < h.n; k++)
			if (h.v[k].bank < h.v[k - 1].bank ||
			    (h.v[k].bank == h.v[k - 1].bank &&
			    h.v[k].entry <= h.v[k - 1].entry))
				sorted = 0;
		ok(sorted && h.n > 0, "queries: hits sorted by bank then entry");
	}
	/* Eight transforms: one hit per entry, the smallest distance. */
	{
		struct dz_pdq eight[8];
		int good = 1;

		for (int k = 0; k < 8; k++)
			flip_distinct(&rs, &w.q[41], k == 3 ? 0 : 5 + k, &eight[k]);
		dz_match_query(s, eight, 8, sc, &h, &e);
		for (size_t k = 1; k < h.n; k++)
			if (h.v[k].bank == h.v[k - 1].bank &&
			    h.v[k].entry == h.v[k - 1].entry)
				good = 0;
		dz_match_query(s, &eight[3], 1, sc, &hb, &e);
		ok(good && h.n >= hb.n, "queries: one hit per entry over eight "
		    "transforms");
		good = 1;
		for (size_t k = 0; k < h.n; k++)
			if (h.v[k].distance == 0 && h.v[k].transform != 3)
				good = 0;
		ok(good, "queries: the transform with the smallest distance is "
		    "reported");
	}
	{
		json_t *rec = dz_record_new("match");
		char *txt = NULL;
		dz_match_query(s, &w.q[0], 1, sc, &h, &e);
		json_object_set_new(rec, "path", json_string("a.jpg"));
		ok(h.n > 0 && dz_match_record_fill(s, &h.v[0], 77, rec) == 0,
		    "queries: record filled");
		txt = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
		ok(txt && strstr(txt, "\"type\": \"match\"") == NULL &&
		    strstr(txt, "\"distance\":0,\"category\":\"adult_ncii\"") &&
		    strstr(txt, "\"bank_seq\":1,\"quality\":77") &&
		    !strstr(txt, "transform"), "queries: record %s", txt);
		free(txt);
		json_decref(rec);
	}
	free(h.v);
	free(hb.v);
	dz_match_scratch_free(sc);
	dz_match_set_free(s);
	dz_match_set_free(sb);
	dz_bank_free(w.b);
}

/* ---------- lib/work/match: chains, signatures, state ---------- */

struct chain_files {
	struct dz_pdq a, b, c, c2, e;	/* the hashes of the entries */
};

static int
make_chain(struct chain_files *cf, struct dz_sign_key *key)
{
	struct dz_bank_meta m;
	struct dz_bank *f, *d, *d2;
	struct dz_err e;
	uint8_t ia[16], ib[16], ic[16], ie[16];

	random_id(&rs, ia);
	random_id(&rs, ib);
	random_id(&rs, ic);
	random_id(&rs, ie);
	random_hash(&rs, &cf->a);
	random_hash(&rs, &cf->b);
	random_hash(&rs, &cf->c);
	random_hash(&rs, &cf->c2);
	random_hash(&rs, &cf->e);
	meta_init(&m, 5, 0, 0, NULL);
	f = dz_bank_new(&m, &e);
	dz_bank_add(f, ia, &cf->a, 100, 1, 20000, &e);
	dz_bank_add(f, ib, &cf->b, 100, 1, 20000, &e);
	dz_bank_add(f, ic, &cf->c, 100, 1, 20000, &e);
	if (dz_bank_finish(f, &e))
		return -1;
	/* delta 6: withdraws b, replaces c, adds e */
	meta_init(&m, 6, 1, 5, f->meta.digest);
	d = dz_bank_new(&m, &e);
	dz_bank_add_tomb(d, ib, &cf->b, 1, 20001, &e);
	dz_bank_add(d, ic, &cf->c2, 100, 2, 20001, &e);
	dz_bank_add(d, ie, &cf->e, 100, 3, 20001, &e);
	if (dz_bank_finish(d, &e))
		return -1;
	/* delta 7 since 6 */
	meta_init(&m, 7, 1, 6, d->meta.digest);
	d2 = dz_bank_new(&m, &e);
	dz_bank_add_tomb(d2, ie, &cf->e, 3, 20002, &e);
	if (dz_bank_finish(d2, &e))
		return -1;
	if (save_bank(f, DZ_BANK_DZB, path_of("c5.dzb")) ||
	    save_bank(d, DZ_BANK_JSONL, path_of("c6.jsonl")) ||
	    save_bank(d2, DZ_BANK_CSV, path_of("c7.csv")) ||
	    sign_bank(key, f, path_of("c5.dzb")) ||
	    sign_bank(key, d, path_of("c6.jsonl")) ||
	    sign_bank(key, d2, path_of("c7.csv")))
		return -1;
	/* a delta 6 that applies to another export 5 */
	meta_init(&m, 6, 1, 5, (const uint8_t[32]){ 0x77, 0x77 });
	dz_bank_free(d);
	d = dz_bank_new(&m, &e);
	dz_bank_add(d, ie, &cf->e, 100, 3, 20001, &e);
	if (dz_bank_finish(d, &e) || save_bank(d, DZ_BANK_DZB,
	    path_of("c6other.dzb")) || sign_bank(key, d, path_of("c6other.dzb")))
		return -1;
	/* an older full export 3 */
	meta_init(&m, 3, 0, 0, NULL);
	dz_bank_free(f);
	f = dz_bank_new(&m, &e);
	dz_bank_add(f, ia, &cf->a, 100, 1, 20000, &e);
	if (dz_bank_finish(f, &e) || save_bank(f, DZ_BANK_DZB,
	    path_of("c3.dzb")) || sign_bank(key, f, path_of("c3.dzb")))
		return -1;
	/* another export 5, other content */
	meta_init(&m, 5, 0, 0, NULL);
	dz_bank_free(f);
	f = dz_bank_new(&m, &e);
	dz_bank_add(f, ie, &cf->e, 100, 1, 20000, &e);
	if (dz_bank_finish(f, &e) || save_bank(f, DZ_BANK_DZB,
	    path_of("c5other.dzb")) || sign_bank(key, f, path_of("c5other.dzb")))
		return -1;
	dz_bank_free(f);
	dz_bank_free(d);
	dz_bank_free(d2);
	return 0;
}

/* Open a set over the banks named in list (NULL-terminated). */
static struct dz_match_set *
open_set(const struct dz_match_opts *o, const char **list, struct dz_err *e)
{
	struct dz_match_set *s = dz_match_set_new(o, e);

	if (!s)
		return NULL;
	for (; *list; list++)
		if (dz_match_set_add(s, path_of(*list), 31, e)) {
			dz_match_set_free(s);
			return NULL;
		}
	if (dz_match_set_seal(s, e)) {
		if (s->bad_bank != (size_t)-1)
			diag("(bad bank: %s)", s->banks[s->bad_bank].path);
		dz_match_set_free(s);
		return NULL;
	}
	return s;
}

static int
hits_for(struct dz_match_set *s, const struct dz_pdq *q)
{
	struct dz_match_hits h = { 0 };
	struct dz_err e;
	int n = dz_match_query(s, q, 1, NULL, &h, &e);

	free(h.v);
	return n;
}

static void
test_chains(void)
{
	struct chain_files cf;
	struct dz_sign_key key, other;
	struct dz_sign_pub keys[2];
	struct dz_match_opts o = { 0 };
	struct dz_match_set *s;
	struct dz_trust t;
	struct dz_err e;
	char sp[512], rp[512];

	snprintf(sp, sizeof sp, "%s", path_of("chain.state"));
	snprintf(rp, sizeof rp, "%s", path_of("replay.state"));

	if (dz_sign_keygen(path_of("k.key"), path_of("k.pub"), NULL, &e) ||
	    dz_sign_key_load(path_of("k.key"), &key, &e) ||
	    dz_sign_keygen(path_of("o.key"), path_of("o.pub"), NULL, &e) ||
	    dz_sign_key_load(path_of("o.key"), &other, &e) ||
	    make_chain(&cf, &key)) {
		ok(0, "chains: setup (%s)", e.msg);
		return;
	}
	keys[0] = other.pub;
	keys[1] = key.pub;
	o.keys = keys;
	o.nkeys = 2;
	o.state = sp;

	s = open_set(&o, (const char *[]){ "c5.dzb", NULL }, &e);
	ok(s && s->banks[0].is_signed && hits_for(s, &cf.b) == 1 &&
	    hits_for(s, &cf.c) == 1, "chains: full export 5 alone (%s)",
	    s ? "" : e.msg);
	dz_match_set_free(s);
	ok(dz_trust_read(sp, &t, &e) == 0 && t.niss == 1 &&
	    t.iss[0].seq == 5 && t.nfiles == 1, "chains: export 5 recorded");
	dz_trust_release(&t);

	s = open_set(&o, (const char *[]){ "c6.jsonl", "c5.dzb", NULL }, &e);
	ok(s != NULL, "chains: full 5 + delta 6, in any order (%s)",
	    s ? "" : e.msg);
	if (s) {
		ok(hits_for(s, &cf.a) == 1, "chains: an untouched entry matches");
		ok(hits_for(s, &cf.b) == 0, "chains: a withdrawn entry does not");
		ok(hits_for(s, &cf.c) == 0 && hits_for(s, &cf.c2) == 1,
		    "chains: a replaced entry matches by its new hash only");
		ok(hits_for(s, &cf.e) == 1, "chains: an added entry matches");
		ok(s->banks[1].ndead == 2 && s->banks[0].ndead == 0,
		    "chains: two entries of export 5 superseded");
	}
	dz_match_set_free(s);
	ok(dz_trust_read(sp, &t, &e) == 0 && t.iss[0].seq == 6,
	    "chains: delta 6 recorded");
	dz_trust_release(&t);

	s = open_set(&o, (const char *[]){ "c5.dzb", "c6.jsonl", "c7.csv",
	    NULL }, &e);
	ok(s && hits_for(s, &cf.e) == 0 && hits_for(s, &cf.c2) == 1,
	    "chains: a signed CSV delta 7 withdraws what delta 6 added (%s)",
	    s ? "" : e.msg);
	dz_match_set_free(s);

	s = open_set(&o, (const char *[]){ "c5.dzb", "c6.jsonl", NULL }, &e);
	ok(!s && e.code == EX_DATAERR && strcmp(e.msg, "bank seq 6 is older "
	    "than seq 7 already accepted (rollback)") == 0,
	    "chains: rollback to 6 refused: %s", e.msg);
	s = open_set(&o, (const char *[]){ "c6.jsonl", NULL }, &e);
	ok(!s && strstr(e.msg, "start with a full export"),
	    "chains: a delta alone: %s", e.msg);
	o.state = NULL;
	s = open_set(&o, (const char *[]){ "c5.dzb", "c7.csv", NULL }, &e);
	ok(!s && strcmp(e.msg, "delta 7 applies to export 6, not 5") == 0,
	    "chains: a gap: %s", e.msg);
	s = open_set(&o, (const char *[]){ "c5.dzb", "c6other.dzb", NULL }, &e);
	ok(!s && strstr(e.msg, "digest differs"), "chains: another base: %s",
	    e.msg);
	s = open_set(&o, (const char *[]){ "c3.dzb", "c5.dzb", NULL }, &e);
	ok(!s && strstr(e.msg, "full export 5 replaces export 3"),
	    "chains: two full exports: %s", e.msg);
	s = open_set(&o, (const char *[]){ "c5.dzb", "c5.dzb", NULL }, &e);
	ok(!s && strstr(e.msg, "given twice"), "chains: twice: %s", e.msg);
	o.state = sp;
	s = open_set(&o, (const char *[]){ "c3.dzb", NULL }, &e);
	ok(!s && strstr(e.msg, "rollback"), "chains: older full export: %s",
	    e.msg);
	/* accept 5other under a fresh state, then the real 5 is a replay */
	o.state = rp;
	s = open_set(&o, (const char *[]){ "c5other.dzb", NULL }, &e);
	ok(s != NULL, "chains: a fresh state takes any export");
	dz_match_set_free(s);
	s = open_set(&o, (const char *[]){ "c5.dzb", NULL }, &e);
	ok(!s && strstr(e.msg, "replay"), "chains: same seq, other content: "
	    "%s", e.msg);

	/* Signatures. */
	o.state = NULL;
	o.nkeys = 1;		/* the other key only */
	s = open_set(&o, (const char *[]){ "c5.dzb", NULL }, &e);
	ok(!s && e.code == EX_DATAERR && strstr(e.msg, "signature was made "
	    "with another key"), "signatures: wrong key: %s", e.msg);
	o.nkeys = 2;
	o.insecure = 0;
	s = open_set(&o, (const char *[]){ "q0.dzb", NULL }, &e);
	ok(!s && e.code == EX_NOINPUT && strstr(e.msg, "cannot open "
	    "signature"), "signatures: missing: %s", e.msg);
	o.nkeys = 0;
	o.insecure = 1;
	s = open_set(&o, (const char *[]){ "c5.dzb", NULL }, &e);
	ok(!s && e.code == EX_CONFIG, "signatures: a signature but no key: "
	    "%s", e.msg);
	o.nkeys = 2;
	{
		size_t len;
		uint8_t *sig = slurp(path_of("c5.dzb.minisig"), &len);
		sig[len - 10] = sig[len - 10] == 'A' ? 'B' : 'A';
		write_file(path_of("c5.dzb.minisig"), sig, len);
		free(sig);
	}
	s = open_set(&o, (const char *[]){ "c5.dzb", NULL }, &e);
	ok(!s && e.code == EX_DATAERR, "signatures: a bad signature is "
	    "refused even with insecure: %s", e.msg);
	dz_sign_key_release(&key);
	dz_sign_key_release(&other);
}

/* ---------- lib/work/match: videos ---------- */

/* A query video: frames near (distance d) of the bank frames given. */
static void
vq_add(struct dz_vpdqsig *v, const struct dz_pdq *h, int d, int quality)
{
	struct dz_vpdqsig_frame f = { 0 };

	f.frame = (int64_t)v->n * 30;
	f.t = (double)v->n;
	f.quality = quality;
	flip_distinct(&rs, h, d, &f.hash);
	if (dz_vpdqsig_add(v, &f))
		abort();
}

/* Hits of kind k in h: how many, and the first. */
static int
nkind(const struct dz_match_hits *h, int k, const struct dz_match_hit **first)
{
	int n = 0;

	*first = NULL;
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].kind == k && n++ == 0)
			*first = &h->v[i];
	return n;
}

static int
same_video_hits(const struct dz_match_hits *a, const struct dz_match_hits *b)
{
	if (!same_hits(a, b))
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind != b->v[i].kind ||
		    a->v[i].frame != b->v[i].frame ||
		    a->v[i].bank_frame != b->v[i].bank_frame ||
		    a->v[i].query_pct != b->v[i].query_pct ||
		    a->v[i].bank_pct != b->v[i].bank_pct)
			return 0;
	return 1;
}

static void
test_videos(void)
{
	struct dz_bank_meta m;
	struct dz_bank *b, *d;
	struct dz_err e;
	struct dz_match_opts o = { 0 };
	struct dz_match_set *s, *sb, *sd;
	struct dz_match_scratch *sc;
	struct dz_match_hits h = { 0 }, hb = { 0 };
	struct dz_match_video_opts vo = { 50, 80, 0 };
	struct dz_pdq vf[10], img, md5 = { { 0 } }, other_md5 = { { 0 } }, x;
	uint8_t vid[16], mid[16], iid[16];
	struct dz_vpdqsig q[6];
	const struct dz_match_hit *k;
	const char *list[] = { "v.dzb", "vd.jsonl", NULL };
	int bad = 0;

	memset(q, 0, sizeof q);
	meta_init(&m, 1, 0, 0, NULL);
	b = dz_bank_new(&m, &e);
	for (int i = 0; i < 2000; i++) {	/* noise: images and videos */
		uint8_t id[16];
		int frames = (int)(rng() % 20) + 1;

		random_id(&rs, id);
		for (int f = 0; f < (i % 4 == 0 ? frames : 1); f++) {
			random_hash(&rs, &x);
			dz_bank_add_signal(b, id, i % 4 == 0 ? DZ_BANK_VPDQ :
			    DZ_BANK_PDQ, &x, 90, DZ_BANK_CAT_OTHER, 20000, &e);
		}
	}
	random_id(&rs, vid);
	for (int f = 0; f < 10; f++) {
		random_hash(&rs, &vf[f]);
		dz_bank_add_signal(b, vid, DZ_BANK_VPDQ, &vf[f], 90,
		    DZ_BANK_CAT_ADULT_NCII, 20001, &e);
	}
	random_id(&rs, mid);
	memcpy(&md5, "0123456789abcdef", 16);
	memcpy(&other_md5, "0123456789abcdeF", 16);
	dz_bank_add_signal(b, mid, DZ_BANK_MD5, &md5, 100,
	    DZ_BANK_CAT_ADULT_NCII, 20001, &e);
	random_id(&rs, iid);
	random_hash(&rs, &img);
	dz_bank_add(b, iid, &img, 100, DZ_BANK_CAT_MINOR, 20001, &e);
	ok(dz_bank_finish(b, &e) == 0 && save_bank(b, DZ_BANK_DZB,
	    path_of("v.dzb")) == 0, "videos: a bank of images, videos, an "
	    "MD5 (%s)", e.msg);

	o.insecure = 1;
	s = dz_match_set_new(&o, &e);
	o.brute = 1;
	sb = dz_match_set_new(&o, &e);
	ok(dz_match_set_add(s, path_of(list[0]), 31, &e) == 0 &&
	    dz_match_set_add(sb, path_of(list[0]), 31, &e) == 0 &&
	    dz_match_set_seal(s, &e) == 0 && dz_match_set_seal(sb, &e) == 0 &&
	    s->banks[0].nmd5 == 1, "videos: loaded, one MD5 row (%s)", e.msg);
	sc = dz_match_scratch_new(&e);

	/* q0: the video's frames, 10 bits off; q1: its first half */
	for (int f = 0; f < 10; f++)
		vq_add(&q[0], &vf[f], 10, 90);
	for (int f = 0; f < 5; f++)
		vq_add(&q[1], &vf[f], 5, 90);
	/* q2: 7 of 10 frames near, 3 unrelated; q3: 5 near, 5 poor ones */
	for (int f = 0; f < 10; f++) {
		random_hash(&rs, &x);
		vq_add(&q[2], f < 7 ? &vf[f] : &x, f < 7 ? 3 : 0, 90);
		vq_add(&q[3], f % 2 ? &vf[f] : &x, 0, f % 2 ? 90 : 10);
	}
	/* q4: unrelated frames, and the bank image at frame 4, 12 bits off */
	for (int f = 0; f < 8; f++) {
		random_hash(&rs, &x);
		vq_add(&q[4], f == 4 ? &img : &x, f == 4 ? 12 : 0, 80);
	}

	ok(dz_match_query_video(s, &q[0], (const uint8_t *)&md5, &vo, sc, &h,
	    &e) == 2 && nkind(&h, DZ_MATCH_VIDEO, &k) == 1 &&
	    !memcmp(s->banks[0].bank->id[k->entry], vid, 16) &&
	    k->distance == 10 && k->query_pct == 100 && k->bank_pct == 100 &&
	    nkind(&h, DZ_MATCH_MD5, &k) == 1 &&
	    !memcmp(s->banks[0].bank->id[k->entry], mid, 16),
	    "videos: a near copy matches by vPDQ, the file by MD5");
	ok(dz_match_query_video(s, &q[0], (const uint8_t *)&other_md5, &vo,
	    sc, &h, &e) == 1 && dz_match_query_video(s, &q[0], NULL, &vo, sc,
	    &h, &e) == 1 && h.v[0].kind == DZ_MATCH_VIDEO,
	    "videos: another MD5, or none: vPDQ only");
	ok(dz_match_query_video(s, &q[1], NULL, &vo, sc, &h, &e) == 1 &&
	    h.v[0].query_pct == 100 && h.v[0].bank_pct == 50,
	    "videos: half the video: query share 100, bank share 50");
	vo.bank_pct = 60;
	ok(dz_match_query_video(s, &q[1], NULL, &vo, sc, &h, &e) == 0,
	    "videos: ... no match when the bank share must reach 60");
	vo.bank_pct = 0;
	ok(dz_match_query_video(s, &q[2], NULL, &vo, sc, &h, &e) == 0,
	    "videos: 70 percent of frames near: no match at 80");
	vo.query_pct = 70;
	ok(dz_match_query_video(s, &q[2], NULL, &vo, sc, &h, &e) == 1 &&
	    h.v[0].query_pct == 70 && h.v[0].bank_pct == 70,
	    "videos: ... a match at 70");
	vo.query_pct = 80;
	ok(dz_match_query_video(s, &q[3], NULL, &vo, sc, &h, &e) == 1 &&
	    h.v[0].query_pct == 100 && h.v[0].bank_pct == 50,
	    "videos: frames below the quality floor are neither queried nor "
	    "counted");
	ok(dz_match_query_video(s, &q[4], NULL, &vo, sc, &h, &e) == 1 &&
	    h.v[0].kind == DZ_MATCH_FRAME && h.v[0].frame == 120 &&
	    h.v[0].t == 4 && h.v[0].quality == 80 && h.v[0].distance == 12 &&
	    !memcmp(s->banks[0].bank->id[h.v[0].entry], iid, 16),
	    "videos: a bank image found in a frame, with the frame");
	flip_distinct(&rs, &vf[6], 7, &x);
	ok(dz_match_query(s, &x, 1, sc, &h, &e) == 1 &&
	    h.v[0].kind == DZ_MATCH_FRAME && h.v[0].bank_frame == 6 &&
	    h.v[0].distance == 7 &&
	    !memcmp(s->banks[0].bank->id[h.v[0].entry], vid, 16) &&
	    s->banks[0].bank->attr[h.v[0].entry].signal == DZ_BANK_VPDQ,
	    "videos: an image near a bank video's frame 6");
	ok(dz_match_query(s, &md5, 1, sc, &h, &e) == 0 &&
	    dz_match_query(sb, &md5, 1, NULL, &h, &e) == 0,
	    "videos: an MD5 row is never a PDQ hit");
	for (int i = 0; i < 5; i++) {
		int r1 = dz_match_query_video(s, &q[i], (const uint8_t *)&md5,
		    &vo, sc, &h, &e);
		int r2 = dz_match_query_video(sb, &q[i], (const uint8_t *)&md5,
		    &vo, NULL, &hb, &e);
		if (r1 != r2 || !same_video_hits(&h, &hb))
			bad++;
	}
	ok(bad == 0, "videos: index == brute force");
	{
		json_t *rec = dz_record_new("match");
		char *txt = NULL;

		dz_match_query_video(s, &q[1], NULL, &vo, sc, &h, &e);
		ok(h.n == 1 && dz_match_record_fill(s, &h.v[0], -1, rec) == 0 &&
		    (txt = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER)) &&
		    strstr(txt, "\"signal\":\"vpdq\",\"distance\":5,") &&
		    strstr(txt, "\"query_match_pct\":100.0,"
		    "\"bank_match_pct\":50.0") && !strstr(txt, "quality"),
		    "videos: the record of a video match");
		json_decref(rec);
		rec = dz_record_new("match");
		dz_match_query_video(s, &q[4], NULL, &vo, sc, &h, &e);
		free(txt);
		ok(h.n == 1 && dz_match_record_fill(s, &h.v[0], -1, rec) == 0 &&
		    (txt = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER)) &&
		    strstr(txt, "\"signal\":\"pdq\",\"distance\":12,") &&
		    strstr(txt, "\"quality\":80,\"frame\":120,\"timestamp\":4.0"),
		    "videos: the record of an image found in a video");
		free(txt);
		json_decref(rec);
	}

	/* a delta withdraws the video: all its frames go */
	{
		uint8_t base[32];

		memcpy(base, b->meta.digest, 32);
		meta_init(&m, 2, 1, 1, base);
		d = dz_bank_new(&m, &e);
		dz_bank_add_tomb_signal(d, vid, DZ_BANK_VPDQ, &vf[0],
		    DZ_BANK_CAT_ADULT_NCII, 20002, &e);
		ok(dz_bank_finish(d, &e) == 0 && save_bank(d, DZ_BANK_JSONL,
		    path_of(list[1])) == 0,
		    "videos: a delta withdrawing the video");
	}
	o.brute = 0;
	sd = open_set(&o, list, &e);
	flip_distinct(&rs, &vf[9], 3, &x);
	ok(sd && sd->banks[0].ndead == 10 &&
	    dz_match_query_video(sd, &q[0], (const uint8_t *)&md5, &vo, sc, &h,
	    &e) == 1 && h.v[0].kind == DZ_MATCH_MD5 &&
	    dz_match_query(sd, &x, 1, sc, &h, &e) == 0,
	    "videos: after it, no frame of the video is found (%s)", e.msg);
	dz_match_set_free(sd);
	for (int i = 0; i < 6; i++)
		dz_vpdqsig_release(&q[i]);
	free(h.v);
	free(hb.v);
	dz_match_scratch_free(sc);
	dz_match_set_free(s);
	dz_match_set_free(sb);
	dz_bank_free(b);
	dz_bank_free(d);
}

int
main(void)
{
	scratch_dir(dir, sizeof dir, "test-match");
	test_trust_text();
	test_trust_files();
	test_input_lines();
	test_queries();
	test_chains();
	test_videos();
	tap_scratch_done(dir);
	return tap_done();
}
