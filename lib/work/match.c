/*
 * lib/work/match: banks verified, chained and indexed; queries; records. See
 * match.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "bank/bank.h"
#include "bank/trust.h"
#include "crypto/digest.h"
#include "core/err.h"
#include "core/input.h"
#include "work/match.h"
#include "bank/mih.h"
#include "hash/pdq.h"
#include "core/record.h"
#include "crypto/sign.h"
#include "hash/vpdqsig.h"

/* What the set keeps beyond its public fields. */
struct priv {
	struct dz_trust state;		/* as read at the start */
	int have_state;
	struct dz_trust_file *verified;	/* files fully verified now */
	size_t nverified;
};

struct dz_match_set *
dz_match_set_new(const struct dz_match_opts *opts, struct dz_err *err)
{
	struct dz_match_set *s = calloc(1, sizeof *s);
	struct priv *p = calloc(1, sizeof *p);

	if (!s || !p) {
		free(s);
		free(p);
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	s->opts = *opts;
	s->priv = p;
	s->bad_bank = (size_t)-1;
	if (opts->state) {
		if (dz_trust_read(opts->state, &p->state, err)) {
			free(p);
			free(s);
			return NULL;
		}
		p->have_state = 1;
	}
	return s;
}

void
dz_match_set_free(struct dz_match_set *s)
{
	struct priv *p;

	if (!s)
		return;
	p = s->priv;
	for (size_t i = 0; i < s->nbanks; i++) {
		free(s->banks[i].path);
		free(s->banks[i].dead);
		free(s->banks[i].md5_rows);
		dz_bank_free(s->banks[i].bank);
	}
	free(s->banks);
	if (p) {
		dz_trust_release(&p->state);
		free(p->verified);
		free(p);
	}
	free(s);
}

size_t
dz_match_set_unsigned(const struct dz_match_set *s)
{
	return s->nunsigned;
}

int
dz_match_dead(const struct dz_match_bank *b, uint64_t i)
{
	return b->dead && (b->dead[i / 64] >> (i % 64) & 1);
}

/* ---------- signatures ---------- */

static const struct dz_sign_pub *
key_for(const struct dz_match_set *s, const uint8_t id[8])
{
	for (int i = 0; i < s->opts.nkeys; i++)
		if (memcmp(s->opts.keys[i].id, id, 8) == 0)
			return &s->opts.keys[i];
	return NULL;
}

static int
same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The verified-cache entry of a signed bank file with this stat. */
static void
trust_file(struct dz_trust_file *f, const uint8_t keyid[8],
    const struct dz_bank_meta *meta, const struct stat *st)
{
	memset(f, 0, sizeof *f);
	memcpy(f->keyid, keyid, 8);
	f->seq = meta->seq;
	memcpy(f->digest, meta->digest, 32);
	dz_trust_file_from_stat(f, st);
}

/*
 * Is the bank file, as st describes it, in the verified cache under the
 * export its signature's trusted comment names? Only the key id and the
 * global signature over that comment are checked here, which is cheap;
 * the signature over the file's bytes was checked when the entry was
 * made, and the file has not changed since (same device, inode, size,
 * mtime and ctime). Any failure just means "not cached": the full check
 * that follows says what is wrong.
 */
static int
cached(struct dz_match_set *s, const struct dz_sign_pub *key, const char *sig,
    size_t siglen, const struct stat *st)
{
	struct priv *p = s->priv;
	struct dz_trust_file f;
	struct dz_bank_meta meta;
	struct dz_err e;
	uint64_t entries, withdrawals;
	char *tc = NULL;
	int hit;

	if (!p->have_state || !st ||
	    dz_sign_verify_comment(key, sig, siglen, &tc, &e))
		return 0;
	hit = dz_bank_comment_parse(tc, &meta, &entries, &withdrawals,
	    &e) == 0;
	free(tc);
	if (!hit)
		return 0;
	trust_file(&f, key->id, &meta, st);
	return dz_trust_cached(&p->state, &f);
}

/*
 * Verify the signature sig[0..siglen) of bank mb->bank and believe its
 * trusted comment: over the file's exact bytes, unless the file (st, or
 * NULL when it may have changed while loading) is in the verified cache.
 * Sets mb->keyid, mb->is_signed and mb->cache_hit, and remembers a fully
 * verified file for the cache.
 */
static int
verify_bank(struct dz_match_set *s, struct dz_match_bank *mb, const char *sig,
    size_t siglen, const struct stat *st, struct dz_err *err)
{
	struct priv *p = s->priv;
	struct dz_bank *b = mb->bank;
	const struct dz_sign_pub *key;
	const uint8_t *raw;
	struct dz_bank_meta meta;
	uint64_t entries, withdrawals;
	char *tc = NULL;
	size_t rawlen;
	uint8_t id[8];
	int rc;

	if (s->opts.nkeys == 0)
		return dz_err_set(err, EX_CONFIG, "no public key to check its "
		    "signature with (give -p or set match.public_key)");
	if (dz_sign_sig_keyid(sig, siglen, id) == 0) {
		if (!(key = key_for(s, id))) {
			char got[17], want[17];

			dz_sign_keyid_hex(id, got);
			dz_sign_keyid_hex(s->opts.keys[0].id, want);
			if (s->opts.nkeys == 1)
				return dz_err_set(err, EX_DATAERR, "signature "
				    "was made with another key (key id %s, "
				    "expected %s)", got, want);
			return dz_err_set(err, EX_DATAERR, "signature was "
			    "made with another key (key id %s, not one of "
			    "the %d keys given)", got, s->opts.nkeys);
		}
	} else
		key = &s->opts.keys[0];	/* lib/crypto/sign says what is wrong */
	mb->cache_hit = cached(s, key, sig, siglen, st);
	if (mb->cache_hit)
		rc = dz_sign_verify_comment(key, sig, siglen, &tc, err);
	else if (!(raw = dz_bank_raw(b, &rawlen)))
		return dz_err_set(err, EX_SOFTWARE, "bank has no file bytes");
	else
		rc = dz_sign_verify(key, raw, rawlen, sig, siglen, &tc, err);
	if (rc)
		return -1;
	rc = dz_bank_comment_parse(tc, &meta, &entries, &withdrawals, err);
	free(tc);
	if (rc || dz_bank_meta_check(b, &meta, entries, withdrawals, err))
		return -1;
	memcpy(mb->keyid, key->id, 8);
	mb->is_signed = 1;
	if (p->have_state && st) {
		struct dz_trust_file *v;

		v = realloc(p->verified, (p->nverified + 1) * sizeof *v);
		if (!v)
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		p->verified = v;
		trust_file(&p->verified[p->nverified++], mb->keyid, &meta, st);
	}
	return 0;
}

int
dz_match_set_add(struct dz_match_set *s, const char *path, int threshold,
    struct dz_err *err)
{
	struct dz_match_bank mb, *nb;
	struct stat st0, st1, sst;
	struct dz_err e2;
	uint8_t *sig = NULL;
	size_t siglen = 0, n = strlen(path) + sizeof ".minisig";
	char *sigpath;
	int stat_ok;

	if (threshold < 0 || threshold > 256)
		return dz_err_set(err, EX_USAGE, "threshold out of range");
	memset(&mb, 0, sizeof mb);
	mb.threshold = threshold;
	if (!(mb.path = strdup(path)) || !(sigpath = malloc(n))) {
		free(mb.path);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	snprintf(sigpath, n, "%s.minisig", path);

	stat_ok = stat(path, &st0) == 0;
	if (dz_bank_load(path, s->opts.max_bank_bytes, &mb.bank, err))
		goto fail;
	stat_ok = stat_ok && stat(path, &st1) == 0 && same_stat(&st0, &st1);

	if (stat(sigpath, &sst) != 0 && errno == ENOENT) {
		if (!s->opts.insecure) {
			dz_err_set(err, EX_NOINPUT, "cannot open signature "
			    "'%s': %s", sigpath, strerror(ENOENT));
			goto fail;
		}
		s->nunsigned++;
	} else {
		if (dz_file_read(sigpath, DZ_MATCH_SIG_MAX, &sig, &siglen,
		    &e2)) {
			if (e2.code == EX_DATAERR)
				dz_err_set(err, EX_DATAERR, "malformed "
				    "signature file: too large");
			else
				dz_err_set(err, e2.code, "signature '%s': %s",
				    sigpath, e2.msg);
			goto fail;
		}
		if (verify_bank(s, &mb, (const char *)sig, siglen,
		    stat_ok ? &st1 : NULL, err))
			goto fail;
	}
	if (mb.bank->n > DZ_BANK_MAX_ENTRIES) {
		dz_err_set(err, EX_DATAERR, "too many entries");
		goto fail;
	}
	nb = realloc(s->banks, (s->nbanks + 1) * sizeof *nb);
	if (!nb) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	s->banks = nb;
	s->banks[s->nbanks++] = mb;
	free(sig);
	free(sigpath);
	return 0;
fail:
	free(sig);
	free(sigpath);
	free(mb.path);
	dz_bank_free(mb.bank);
	return -1;
}

/* ---------- chains ---------- */

/* Sort order[0..m) by seq, then by the order given (m is small). */
static void
sort_by_seq(const struct dz_match_set *s, size_t *order, size_t m)
{
	for (size_t i = 1; i < m; i++) {
		size_t x = order[i], j = i;
		uint64_t sx = s->banks[x].bank->meta.seq;

		while (j > 0 && s->banks[order[j - 1]].bank->meta.seq > sx) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = x;
	}
}

static int
mark_dead(struct dz_match_bank *b, int64_t i, struct dz_err *err)
{
	if (i < 0)
		return 0;
	if (!b->dead) {
		b->dead = calloc((b->bank->n + 63) / 64, sizeof *b->dead);
		if (!b->dead)
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	/* a video's frames die together */
	for (uint64_t k = (uint64_t)i, e = k + dz_bank_run(b->bank, k); k < e;
	    k++)
		if (!(b->dead[k / 64] >> (k % 64) & 1)) {
			b->dead[k / 64] |= 1ull << (k % 64);
			b->ndead++;
		}
	return 0;
}

/* Check the chain order[0..m) and mark what later banks supersede. */
static int
chain(struct dz_match_set *s, const size_t *order, size_t m,
    struct dz_err *err)
{
	for (size_t j = 0; j < m; j++) {
		struct dz_match_bank *mb = &s->banks[order[j]];
		const struct dz_bank_meta *me = &mb->bank->meta;

		mb->chain_pos = (int)j;
		if (j == 0) {
			if (me->kind == DZ_BANK_DELTA) {
				s->bad_bank = order[j];
				return dz_err_set(err, EX_DATAERR, "delta %"
				    PRIu64 " applies to export %" PRIu64
				    ", which was not given (start with a "
				    "full export)", me->seq, me->since);
			}
			continue;
		}
		const struct dz_bank_meta *pm = &s->banks[order[j - 1]].bank->meta;
		s->bad_bank = order[j];
		if (me->seq == pm->seq)
			return dz_err_set(err, EX_DATAERR, "export %" PRIu64
			    " was given twice", me->seq);
		if (me->kind != DZ_BANK_DELTA)
			return dz_err_set(err, EX_DATAERR, "full export %"
			    PRIu64 " replaces export %" PRIu64 " (give only "
			    "the newest full export and its deltas)",
			    me->seq, pm->seq);
		if (me->since != pm->seq)
			return dz_err_set(err, EX_DATAERR, "delta %" PRIu64
			    " applies to export %" PRIu64 ", not %" PRIu64,
			    me->seq, me->since, pm->seq);
		if (!me->has_base || memcmp(me->base, pm->digest, 32) != 0)
			return dz_err_set(err, EX_DATAERR, "delta %" PRIu64
			    " applies to another export %" PRIu64 " (its "
			    "digest differs)", me->seq, me->since);
		s->bad_bank = (size_t)-1;

		/* Its entries and tombstones supersede earlier entries. */
		for (size_t k = 0; k < j; k++) {
			struct dz_match_bank *eb = &s->banks[order[k]];

			for (uint64_t i = 0; i < mb->bank->n; i++)
				if ((i == 0 || memcmp(mb->bank->id[i - 1],
				    mb->bank->id[i], DZ_BANK_ID_BYTES)) &&
				    mark_dead(eb, dz_bank_find(eb->bank,
				    mb->bank->id[i]), err))
					return -1;
			for (uint64_t i = 0; i < mb->bank->ntomb; i++)
				if (mark_dead(eb, dz_bank_find(eb->bank,
				    mb->bank->tomb[i].id), err))
					return -1;
		}
	}
	return 0;
}

static int
chains(struct dz_match_set *s, struct dz_err *err)
{
	size_t *order = malloc((s->nbanks + 1) * sizeof *order);
	int ngroups = 0, rc = 0;

	if (!order)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	for (size_t i = 0; i < s->nbanks; i++)
		s->banks[i].group = -1;
	for (size_t i = 0; i < s->nbanks && rc == 0; i++) {
		struct dz_match_bank *b = &s->banks[i];
		size_t m = 0;

		if (b->group >= 0)
			continue;
		b->group = ngroups;
		order[m++] = i;
		/* An unsigned bank without metadata (CSV) stands alone. */
		if (b->is_signed || b->bank->meta.seq != 0)
			for (size_t k = i + 1; k < s->nbanks; k++) {
				struct dz_match_bank *o = &s->banks[k];

				if (o->group >= 0 || o->is_signed != b->is_signed)
					continue;
				if (b->is_signed ? memcmp(o->keyid, b->keyid, 8)
				    != 0 : o->bank->meta.seq == 0 ||
				    strcmp(o->bank->meta.collab,
				    b->bank->meta.collab) != 0)
					continue;
				o->group = ngroups;
				order[m++] = k;
			}
		ngroups++;
		sort_by_seq(s, order, m);
		if (b->is_signed || b->bank->meta.seq != 0)
			rc = chain(s, order, m, err);
	}
	free(order);
	return rc;
}

/* ---------- state ---------- */

/* Is bank i the newest of a signed group? */
static int
newest_signed(const struct dz_match_set *s, size_t i)
{
	const struct dz_match_bank *b = &s->banks[i];

	if (!b->is_signed)
		return 0;
	for (size_t k = 0; k < s->nbanks; k++)
		if (s->banks[k].group == b->group &&
		    s->banks[k].chain_pos > b->chain_pos)
			return 0;
	return 1;
}

struct apply_ctx {
	struct dz_match_set *s;
	int cache;		/* also record the verified files */
};

/* Check and record, on a fresh copy of the state: 1 if it changed. */
static int
apply(struct dz_trust *t, void *arg, struct dz_err *err)
{
	struct apply_ctx *c = arg;
	struct dz_match_set *s = c->s;
	struct priv *p = s->priv;
	int changed = 0, r;

	for (size_t i = 0; i < s->nbanks; i++) {
		const struct dz_match_bank *b = &s->banks[i];

		if (!newest_signed(s, i))
			continue;
		if (dz_trust_check(t, b->keyid, b->bank->meta.seq,
		    b->bank->meta.digest, err)) {
			s->bad_bank = i;
			return -1;
		}
		if ((r = dz_trust_accept(t, b->keyid, b->bank->meta.seq,
		    b->bank->meta.digest, err)) < 0)
			return -1;
		changed |= r;
	}
	for (size_t i = 0; c->cache && i < p->nverified; i++) {
		if ((r = dz_trust_cache_put(t, &p->verified[i], err)) < 0)
			return -1;
		changed |= r;
	}
	return changed;
}

static int
state(struct dz_match_set *s, struct dz_err *err)
{
	struct priv *p = s->priv;
	struct apply_ctx c = { s, 1 };
	struct dz_trust copy;
	int r, seq_change = 0, cache_change = 0;

	if (!p->have_state)
		return 0;
	/*
	 * A dry run on the state read at the start: refuse early, and touch
	 * the file (or its directory) only when something is new.
	 */
	memset(&copy, 0, sizeof copy);
	for (size_t i = 0; i < p->state.niss; i++)
		if (dz_trust_accept(&copy, p->state.iss[i].keyid,
		    p->state.iss[i].seq, p->state.iss[i].digest, err) < 0)
			goto fail;
	c.cache = 0;
	if ((r = apply(&copy, &c, err)) < 0)
		goto fail;
	seq_change = r;
	for (size_t i = 0; i < p->nverified; i++)
		if (!dz_trust_cached(&p->state, &p->verified[i]))
			cache_change = 1;
	dz_trust_release(&copy);
	if (!seq_change && !cache_change)
		return 0;

	c.cache = 1;
	if (dz_trust_mkdir_parent(s->opts.state, err) ||
	    dz_trust_update(s->opts.state, apply, &c, err)) {
		if (seq_change || err->code == EX_DATAERR ||
		    err->code == EX_CONFIG || err->code == EX_SOFTWARE)
			return -1;
		/* Only the cache was to be written: not worth failing. */
		s->state_warning = 1;
		s->warn = *err;
		dz_err_clear(err);
	}
	return 0;
fail:
	dz_trust_release(&copy);
	return -1;
}

/* MD5 rows by value (then row), for binary search. */
static const struct dz_bank *md5_sort_bank;

static int
by_md5(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = memcmp(&md5_sort_bank->pdq[x], &md5_sort_bank->pdq[y], 16);

	return c ? c : (x > y) - (x < y);
}

/* The bank's MD5 rows, sorted by value: b->md5_rows[0..nmd5). */
static int
md5_table(struct dz_match_bank *b, struct dz_err *err)
{
	const struct dz_bank *k = b->bank;
	size_t n = 0;

	for (uint64_t i = 0; i < k->n; i++)
		n += k->attr[i].signal == DZ_BANK_MD5;
	if (n == 0)
		return 0;
	if (!(b->md5_rows = malloc(n * sizeof *b->md5_rows)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	for (uint64_t i = 0; i < k->n; i++)
		if (k->attr[i].signal == DZ_BANK_MD5)
			b->md5_rows[b->nmd5++] = (uint32_t)i;
	md5_sort_bank = k;	/* seal runs on one thread */
	qsort(b->md5_rows, b->nmd5, sizeof *b->md5_rows, by_md5);
	return 0;
}

int
dz_match_set_seal(struct dz_match_set *s, struct dz_err *err)
{
	s->bad_bank = (size_t)-1;
	if (chains(s, err) || state(s, err))
		return -1;
	for (size_t i = 0; i < s->nbanks; i++) {
		struct dz_match_bank *b = &s->banks[i];

		if (md5_table(b, err))
			return -1;

		if (b->bank->n == 0 || s->opts.brute)
			continue;
		if (s->opts.no_index && b->bank->format != DZ_BANK_DZB)
			continue;
		dz_err_clear(err);
		if (!(b->index = dz_bank_index(b->bank, err))) {
			s->bad_bank = i;
			if (err->code == 0)
				dz_err_set(err, EX_SOFTWARE, "no index");
			return -1;
		}
	}
	return 0;
}

/* ---------- queries ---------- */

struct dz_match_scratch {
	struct dz_mih_scratch *mih;
};

struct dz_match_scratch *
dz_match_scratch_new(struct dz_err *err)
{
	struct dz_match_scratch *sc = calloc(1, sizeof *sc);

	if (!sc) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	if (!(sc->mih = dz_mih_scratch_new(err))) {
		free(sc);
		return NULL;
	}
	return sc;
}

void
dz_match_scratch_free(struct dz_match_scratch *sc)
{
	if (!sc)
		return;
	dz_mih_scratch_free(sc->mih);
	free(sc);
}

struct qctx {
	struct dz_match_hits *out;
	const struct dz_match_bank *b;
	uint32_t bank;
	int transform;
	const struct dz_vpdqsig_frame *frame;	/* a query video's frame */
	int oom;
};

static int
push(struct dz_match_hits *h, const struct dz_match_hit *x)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		struct dz_match_hit *v = realloc(h->v, cap * sizeof *v);

		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = *x;
	return 0;
}

/*
 * A row within the threshold. An image's PDQ row is a hit on that entry;
 * a frame row of a bank video is a hit on the video (its first row),
 * kind DZ_MATCH_FRAME for an image query and a candidate (kind
 * DZ_MATCH_VIDEO, to be decided) for a video query. An MD5 row is no PDQ.
 */
static int
on_hit(uint32_t index, int distance, void *arg)
{
	struct qctx *q = arg;
	const struct dz_bank *bk = q->b->bank;
	struct dz_match_hit x = { 0 };
	int sig = bk->attr[index].signal;

	if (sig == DZ_BANK_MD5 || dz_match_dead(q->b, index))
		return 0;
	x.bank = q->bank;
	x.entry = index;
	x.distance = distance;
	x.transform = q->transform;
	x.quality = -1;
	x.frame = -1;
	if (sig == DZ_BANK_VPDQ) {
		x.entry = (uint32_t)dz_bank_find(bk, bk->id[index]);
		x.bank_frame = index - x.entry;
		x.kind = q->frame ? DZ_MATCH_VIDEO : DZ_MATCH_FRAME;
	} else {
		x.kind = q->frame ? DZ_MATCH_FRAME : DZ_MATCH_IMAGE;
	}
	if (q->frame && sig == DZ_BANK_PDQ) {
		x.frame = q->frame->frame;
		x.t = q->frame->t;
		x.quality = q->frame->quality;
	}
	if (push(q->out, &x)) {
		q->oom = 1;
		return 1;
	}
	return 0;
}

/* By entry, then kind; the smallest distance, then the first transform
 * and the earliest frame first. */
static int
by_entry(const void *a, const void *b)
{
	const struct dz_match_hit *x = a, *y = b;

	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	if (x->transform != y->transform)
		return x->transform < y->transform ? -1 : 1;
	return (x->frame > y->frame) - (x->frame < y->frame);
}

/* Sort out[start..) and keep the first hit of each (entry, kind). */
static void
one_per_entry(struct dz_match_hits *out, size_t start)
{
	size_t w;

	if (out->n - start < 2)
		return;
	qsort(out->v + start, out->n - start, sizeof *out->v, by_entry);
	w = start + 1;
	for (size_t i = start + 1; i < out->n; i++)
		if (out->v[i].entry != out->v[w - 1].entry ||
		    out->v[i].kind != out->v[w - 1].kind)
			out->v[w++] = out->v[i];
	out->n = w;
}

/* Query bank b with one hash; hits appended by on_hit. */
static int
query_one(const struct dz_match_set *s, struct qctx *q,
    const struct dz_pdq *h, struct dz_match_scratch *sc, struct dz_err *err)
{
	const struct dz_match_bank *b = q->b;
	int r;

	if (s->opts.brute || !b->index)
		r = dz_pdq_brute_query(b->bank->pdq, (uint32_t)b->bank->n, h,
		    b->threshold, on_hit, q);
	else
		r = dz_mih_query(b->index, h, b->threshold, sc ? sc->mih : NULL,
		    on_hit, q, err);
	if (q->oom)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return r < 0 ? -1 : 0;
}

int
dz_match_query(const struct dz_match_set *s, const struct dz_pdq *hashes,
    int nhashes, struct dz_match_scratch *sc, struct dz_match_hits *out,
    struct dz_err *err)
{
	out->n = 0;
	for (size_t bi = 0; bi < s->nbanks; bi++) {
		const struct dz_match_bank *b = &s->banks[bi];
		size_t start = out->n;
		struct qctx q = { out, b, (uint32_t)bi, 0, NULL, 0 };

		if (b->bank->n == 0)
			continue;
		for (int t = 0; t < nhashes; t++) {
			q.transform = t;
			if (query_one(s, &q, &hashes[t], sc, err))
				return -1;
		}
		one_per_entry(out, start);
	}
	return out->n > INT32_MAX ? INT32_MAX : (int)out->n;
}

/* The bank video whose first row is e, as a signature (frame k: row e+k). */
static int
bank_video(const struct dz_bank *bk, uint32_t e, struct dz_vpdqsig *v)
{
	uint64_t n = dz_bank_run(bk, e);

	memset(v, 0, sizeof *v);
	if (!(v->v = malloc((n ? n : 1) * sizeof *v->v)))
		return -1;
	v->cap = v->n = (size_t)n;
	for (uint64_t k = 0; k < n; k++) {
		v->v[k].frame = (int64_t)k;
		v->v[k].t = (double)k;
		v->v[k].quality = bk->attr[e + k].quality;
		v->v[k].hash = bk->pdq[e + k];
	}
	return 0;
}

/* MD5 rows of b equal to md5 (not dead): hits of kind DZ_MATCH_MD5. */
static int
md5_hits(const struct dz_match_bank *b, uint32_t bi, const uint8_t md5[16],
    struct dz_match_hits *out)
{
	const struct dz_bank *bk = b->bank;
	size_t lo = 0, hi = b->nmd5;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(&bk->pdq[b->md5_rows[mid]], md5, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < b->nmd5 && !memcmp(&bk->pdq[b->md5_rows[lo]], md5, 16);
	    lo++) {
		struct dz_match_hit x = { 0 };

		if (dz_match_dead(b, b->md5_rows[lo]))
			continue;
		x.bank = bi;
		x.entry = b->md5_rows[lo];
		x.kind = DZ_MATCH_MD5;
		x.quality = -1;
		x.frame = -1;
		if (push(out, &x))
			return -1;
	}
	return 0;
}

int
dz_match_query_video(const struct dz_match_set *s, const struct dz_vpdqsig *v,
    const uint8_t *md5, const struct dz_match_video_opts *o,
    struct dz_match_scratch *sc, struct dz_match_hits *out,
    struct dz_err *err)
{
	out->n = 0;
	for (size_t bi = 0; bi < s->nbanks; bi++) {
		const struct dz_match_bank *b = &s->banks[bi];
		size_t start = out->n, w;
		struct qctx q = { out, b, (uint32_t)bi, 0, NULL, 0 };

		if (b->bank->n == 0)
			continue;
		if (md5 && md5_hits(b, (uint32_t)bi, md5, out))
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		for (size_t f = 0; v && f < v->n; f++) {
			if (v->v[f].quality < o->min_quality)
				continue;
			q.frame = &v->v[f];
			if (query_one(s, &q, &v->v[f].hash, sc, err))
				return -1;
		}
		one_per_entry(out, start);
		/* each bank video with a frame near one of ours: compare */
		for (size_t i = w = start; i < out->n; i++) {
			struct dz_match_hit *x = &out->v[i];
			struct dz_vpdqsig bv;
			int m;

			if (x->kind == DZ_MATCH_VIDEO) {
				if (bank_video(b->bank, x->entry, &bv))
					return dz_err_set(err, EX_SOFTWARE,
					    "out of memory");
				m = dz_vpdqsig_match(v, &bv, b->threshold,
				    o->min_quality, o->query_pct, o->bank_pct,
				    &x->query_pct, &x->bank_pct);
				dz_vpdqsig_release(&bv);
				if (!m)
					continue;
				x->bank_frame = 0;
			}
			out->v[w++] = *x;
		}
		out->n = w;
	}
	return out->n > INT32_MAX ? INT32_MAX : (int)out->n;
}

static const char *
signal_name(const struct dz_match_hit *hit, int signal)
{
	if (hit->kind == DZ_MATCH_MD5)
		return "video_md5";
	return signal == DZ_BANK_VPDQ ? "vpdq" : signal == DZ_BANK_PDQ ?
	    "pdq" : "unknown";
}

/* A share in percent, to 0.1. */
static json_t *
pct(double x)
{
	return json_real(floor(x * 10 + 0.5) / 10);
}

int
dz_match_record_fill(const struct dz_match_set *s,
    const struct dz_match_hit *hit, int quality, json_t *rec)
{
	const struct dz_match_bank *b = &s->banks[hit->bank];
	const struct dz_bank_attr *a = &b->bank->attr[hit->entry];
	const char *cat = dz_bank_category_name(a->category);
	char id[33];
	int rc = 0;

	dz_bank_id_hex(b->bank->id[hit->entry], id);
	rc |= json_object_set_new(rec, "entry", json_string(id));
	rc |= json_object_set_new(rec, "signal",
	    json_string(signal_name(hit, a->signal)));
	rc |= json_object_set_new(rec, "distance",
	    json_integer(hit->distance));
	rc |= json_object_set_new(rec, "category",
	    json_string(cat ? cat : "unknown"));
	rc |= dz_record_set_path(rec, "bank", b->path);
	rc |= json_object_set_new(rec, "bank_seq",
	    json_integer((json_int_t)b->bank->meta.seq));
	if (hit->quality >= 0)
		quality = hit->quality;
	if (quality >= 0)
		rc |= json_object_set_new(rec, "quality", json_integer(quality));
	if (hit->transform > 0 && hit->transform < DZ_PDQ_NDIHEDRAL)
		rc |= json_object_set_new(rec, "transform",
		    json_string(dz_pdq_dihedral_name[hit->transform]));
	if (hit->kind == DZ_MATCH_FRAME && a->signal == DZ_BANK_VPDQ)
		rc |= json_object_set_new(rec, "bank_frame",
		    json_integer(hit->bank_frame));
	if (hit->kind == DZ_MATCH_FRAME && hit->frame >= 0) {
		rc |= json_object_set_new(rec, "frame",
		    json_integer(hit->frame));
		rc |= json_object_set_new(rec, "timestamp",
		    json_real(floor(hit->t * 1000 + 0.5) / 1000));
	}
	if (hit->kind == DZ_MATCH_VIDEO) {
		rc |= json_object_set_new(rec, "query_match_pct",
		    pct(hit->query_pct));
		rc |= json_object_set_new(rec, "bank_match_pct",
		    pct(hit->bank_pct));
	}
	return rc ? -1 : 0;
}

/* ---------- input lines ---------- */

void
dz_match_in_release(struct dz_match_in *in)
{
	if (!in)
		return;
	json_decref(in->rec);
	free(in->path);
	if (in->vpdq)
		dz_vpdqsig_release(in->vpdq);
	free(in->vpdq);
	memset(in, 0, sizeof *in);
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
parse_bare(const char *line, size_t len, struct dz_match_in *in,
    struct dz_err *err)
{
	char hex[65];
	size_t i = 64;

	for (size_t k = 0; k < 64; k++)
		if (k >= len || !is_hex(line[k]))
			return dz_err_set(err, EX_DATAERR, "not a hash record "
			    "nor a PDQ hash");
	memcpy(hex, line, 64);
	hex[64] = '\0';
	if (dz_pdq_from_hex(hex, &in->pdq[0]))
		return dz_err_set(err, EX_DATAERR, "malformed PDQ hash");
	if (i == len)
		return 0;
	if (line[i] != ',')
		return dz_err_set(err, EX_DATAERR, "not a hash record nor a "
		    "PDQ hash");
	i++;
	{
		int q = 0, nd = 0;

		while (i < len && line[i] >= '0' && line[i] <= '9' && nd < 4) {
			q = q * 10 + (line[i++] - '0');
			nd++;
		}
		if (nd == 0 || q > 100 || (i < len && line[i] != ','))
			return dz_err_set(err, EX_DATAERR, "malformed quality "
			    "(a whole number from 0 to 100)");
		in->quality = q;
	}
	if (i == len)
		return 0;
	i++;			/* the comma; the rest is a file name */
	if (i == len || memchr(line + i, '\0', len - i))
		return dz_err_set(err, EX_DATAERR, "empty file name");
	if (!(in->path = strndup(line + i, len - i)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 0;
}

/* A video's hash record: "vpdq" and, when there, "md5". */
static int
parse_video(json_t *rec, struct dz_match_in *in, struct dz_err *err)
{
	json_t *md5 = json_object_get(rec, "md5");

	in->kind = DZ_MATCH_IN_VIDEO;
	if (!(in->vpdq = calloc(1, sizeof *in->vpdq)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (dz_vpdqsig_from_json(json_object_get(rec, "vpdq"), in->vpdq,
	    DZ_MATCH_VPDQ_MAX, err))
		return -1;
	if (!md5)
		return 0;
	if (!json_is_string(md5) || dz_digest_md5_parse(json_string_value(md5),
	    json_string_length(md5), in->md5))
		return dz_err_set(err, EX_DATAERR, "malformed md5");
	in->has_md5 = 1;
	return 0;
}

static int
parse_record(json_t *rec, struct dz_match_in *in, struct dz_err *err)
{
	json_t *type = json_object_get(rec, "type");
	json_t *pdq = json_object_get(rec, "pdq"), *q, *dh;
	json_int_t qv;

	in->rec = rec;
	if (json_is_string(type) && !strcmp(json_string_value(type), "hash")
	    && !pdq && json_object_get(rec, "vpdq"))
		return parse_video(rec, in, err);
	if (!json_is_string(type) || strcmp(json_string_value(type), "hash")
	    || !pdq) {
		in->kind = DZ_MATCH_IN_PASS;
		return 0;
	}
	in->kind = DZ_MATCH_IN_HASH;
	if (!json_is_string(pdq) || json_string_length(pdq) != 64 ||
	    dz_pdq_from_hex(json_string_value(pdq), &in->pdq[0]))
		return dz_err_set(err, EX_DATAERR, "malformed pdq");
	q = json_object_get(rec, "quality");
	if (!json_is_integer(q) || (qv = json_integer_value(q)) < 0 ||
	    qv > 100)
		return dz_err_set(err, EX_DATAERR, "hash record without a "
		    "quality from 0 to 100");
	in->quality = (int)qv;
	if ((dh = json_object_get(rec, "pdq_dihedral"))) {
		if (!json_is_object(dh))
			return dz_err_set(err, EX_DATAERR,
			    "malformed pdq_dihedral");
		for (int k = 1; k < DZ_PDQ_NDIHEDRAL; k++) {
			json_t *v = json_object_get(dh, dz_pdq_dihedral_name[k]);
			if (!json_is_string(v) || json_string_length(v) != 64 ||
			    dz_pdq_from_hex(json_string_value(v), &in->pdq[k]))
				return dz_err_set(err, EX_DATAERR,
				    "malformed pdq_dihedral");
		}
		in->ndihedral = DZ_PDQ_NDIHEDRAL;
	}
	return 0;
}

int
dz_match_in_parse(const char *line, size_t len, struct dz_match_in *in,
    struct dz_err *err)
{
	size_t i = 0;
	json_t *rec;

	memset(in, 0, sizeof *in);
	in->quality = -1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] == '{') {
		if (!(rec = dz_record_parse(line, len, err)))
			return -1;
		return parse_record(rec, in, err);	/* in->rec kept */
	}
	in->kind = DZ_MATCH_IN_HASH;
	if (parse_bare(line, len, in, err)) {
		dz_match_in_release(in);
		return -1;
	}
	return 0;
}
