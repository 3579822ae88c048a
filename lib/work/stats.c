/*
 * lib/work/stats: the figures of dz-export stats. See stats.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "notice/provider.h"
#include "work/stats.h"
#include "store/store.h"
#include "store/storestats.h"

static const char *const kind_names[DZ_STATS_KINDS] = {
	"image", "video", "url"
};
static const char *const state_names[DZ_STATS_STATES] = {
	"review", "illegal", "not_illegal"
};
static const char *const cat_names[DZ_STATS_CATS] = {
	"adult_ncii", "minor", "other"
};
static const char *const outcome_names[DZ_STATS_OUTCOMES] = {
	"removed", "withdrawn", "pending", "due", "manual", "unresolved"
};

const char *
dz_stats_kind_name(enum dz_stats_kind k)
{
	return (unsigned)k < DZ_STATS_KINDS ? kind_names[k] : "?";
}

const char *
dz_stats_state_name(enum dz_stats_state s)
{
	return (unsigned)s < DZ_STATS_STATES ? state_names[s] : "?";
}

const char *
dz_stats_cat_name(enum dz_stats_cat c)
{
	return (unsigned)c < DZ_STATS_CATS ? cat_names[c] : "?";
}

const char *
dz_stats_outcome_name(enum dz_stats_outcome o)
{
	return (unsigned)o < DZ_STATS_OUTCOMES ? outcome_names[o] : "?";
}

static int
lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* ---------- times ---------- */

int
dz_stats_parse_time(const char *s, time_t *t)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	char buf[32];
	int y, m, d;

	if (!s)
		return -1;
	if (strlen(s) == 10) {	/* a date: its midnight, UTC */
		snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
		s = buf;
	}
	/* dz_clock_parse checks the form and the ranges, not the month's
	 * length: timegm would make 2026-02-30 of March 2nd */
	if (dz_clock_parse(s, t) || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1;
	if (d > mdays[m - 1] || (m == 2 && d == 29 &&
	    !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return -1;
	return 0;
}

/* A time of the store: 1 in the period, 0 not (or NULL), -1 malformed. */
static int
in_period(const struct dz_stats_opts *o, const char *s, time_t *t)
{
	time_t v;

	if (!s)
		return 0;
	if (dz_clock_parse(s, &v))
		return -1;
	if (t)
		*t = v;
	return (!o->has_from || v >= o->from) && v < o->to;
}

/* ---------- delays ---------- */

struct delays {
	int64_t *v;			/* seconds */
	size_t n, cap;
};

static int
delay_add(struct delays *d, time_t from, time_t to)
{
	if (to < from)
		return 0;	/* not a delay: the order of events says so */
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		int64_t *v = realloc(d->v, cap * sizeof *v);

		if (!v)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = (int64_t)(to - from);
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Seconds to tenths of a day, rounded half up (s >= 0). */
static int64_t
tenths(int64_t s)
{
	return (s * 10 + 43200) / 86400;
}

static void
delay_figures(struct delays *d, struct dz_stats_delay *out)
{
	size_t n = d->n;

	memset(out, 0, sizeof *out);
	if (!n)
		return;
	qsort(d->v, n, sizeof *d->v, cmp_i64);
	out->count = (int64_t)n;
	out->median_tenths = n % 2 ? tenths(d->v[n / 2]) :
	    tenths((d->v[n / 2 - 1] + d->v[n / 2]) / 2);
	out->p90_tenths = tenths(d->v[(9 * n + 9) / 10 - 1]);
}

/* ---------- counting ---------- */

struct run {
	const struct dz_stats_opts *o;
	struct dz_stats *st;
	struct dz_err *err;
	struct delays verdict, removal;
	/* the notice being counted (its rows come together) */
	int64_t number;
	int cats;			/* bit i: category i seen */
	struct dz_stats_provider *group;
	/* distinct provider names (as recorded) of the period's notices */
	char **names;
	size_t nnames;
	int failed;
};

static int
bad_time(struct run *r)
{
	r->failed = 1;
	dz_err_set(r->err, EX_DATAERR, "a time in the store is malformed");
	return 1;
}

static int
oom(struct run *r)
{
	r->failed = 1;
	dz_err_set(r->err, EX_SOFTWARE, "out of memory");
	return 1;
}

static int
count_case(const struct dz_store_stats_case *c, void *arg)
{
	struct run *r = arg;
	struct dz_stats *st = r->st;
	int in = in_period(r->o, c->received_at, NULL);

	if (in < 0)
		return bad_time(r);
	if (!in)
		return 0;
	st->reports++;
	if (c->withdrawn_at)
		st->withdrawn++;
	if (c->followup)
		st->followup++;
	if (c->minor)
		st->minor++;
	else if (c->declared_age >= 18)
		st->adult++;
	else
		st->age_unknown++;
	return 0;
}

static enum dz_stats_kind
kind_of(const struct dz_store_stats_item *it)
{
	if (!it->has_media)
		return DZ_STATS_URL;
	if (it->media_type && strncmp(it->media_type, "video/", 6) == 0)
		return DZ_STATS_VIDEO;
	return DZ_STATS_IMAGE;
}

/* What became of a URL judged illegal, in a report of the period. */
static enum dz_stats_outcome
outcome_of(const struct run *r, const struct dz_store_stats_item *it)
{
	const struct dz_provider *p;
	char host[DZ_HOST_MAX + 1];

	if (it->removed_at)
		return DZ_STATS_REMOVED;
	if (it->withdrawn_at)
		return DZ_STATS_WITHDRAWN;
	if (it->notice_state && strcmp(it->notice_state, "sent") == 0)
		return DZ_STATS_PENDING;
	if (it->notice_state)
		return DZ_STATS_DUE;	/* planned, not delivered yet */
	/* not notified: what dz-notify would do with it now */
	if (!it->url || dz_url_host(it->url, host, sizeof host) ||
	    !r->o->providers || !(p = dz_providers_find(r->o->providers, host)))
		return DZ_STATS_UNRESOLVED;
	return p->abuse || p->dsa_contact ? DZ_STATS_DUE : DZ_STATS_MANUAL;
}

static int
count_item(const struct dz_store_stats_item *it, void *arg)
{
	struct run *r = arg;
	struct dz_stats *st = r->st;
	enum dz_stats_kind k = kind_of(it);
	int state = lookup(state_names, DZ_STATS_STATES, it->state);
	int cat = lookup(cat_names, DZ_STATS_CATS, it->category);
	time_t received, verdict;
	int in, h;

	/* media hashed in the period, whatever the period of its report */
	if ((h = in_period(r->o, it->hashed_at, NULL)) < 0)
		return bad_time(r);
	if (h)
		st->hashed[k]++;
	if ((in = in_period(r->o, it->received_at, &received)) < 0)
		return bad_time(r);
	if (!in || state < 0)
		return 0;
	st->items[k][state]++;
	if (state == DZ_STATS_ILLEGAL && cat >= 0)
		st->illegal[cat][k]++;
	if (state != DZ_STATS_REVIEW && it->verdict_at) {
		if (dz_clock_parse(it->verdict_at, &verdict))
			return bad_time(r);
		if (delay_add(&r->verdict, received, verdict))
			return oom(r);
	}
	if (state == DZ_STATS_ILLEGAL && k == DZ_STATS_URL)
		st->outcome[outcome_of(r, it)]++;
	return 0;
}

/* The group of a provider name: the directory's entry, or the others. */
static struct dz_stats_provider *
group_of(struct run *r, const char *recorded)
{
	struct dz_stats *st = r->st;
	const char *name = NULL;
	struct dz_stats_provider *g;
	size_t i;

	for (i = 0; recorded && r->o->providers && i < r->o->providers->n; i++)
		if (strcmp(r->o->providers->v[i].name, recorded) == 0) {
			name = r->o->providers->v[i].name;
			break;
		}
	for (i = 0; i < st->nprovider; i++) {
		g = &st->provider[i];
		if ((!g->name && !name) ||
		    (g->name && name && strcmp(g->name, name) == 0))
			return g;
	}
	g = realloc(st->provider, (st->nprovider + 1) * sizeof *g);
	if (!g)
		return NULL;
	st->provider = g;
	g = &st->provider[st->nprovider];
	memset(g, 0, sizeof *g);
	if (name && !(g->name = strdup(name)))
		return NULL;
	st->nprovider++;
	return g;
}

/* Count a distinct provider name of the period's notices. */
static int
name_seen(struct run *r, const char *name)
{
	char **v;
	size_t i;

	for (i = 0; i < r->nnames; i++)
		if (strcmp(r->names[i], name) == 0)
			return 0;
	if (!(v = realloc(r->names, (r->nnames + 1) * sizeof *v)))
		return -1;
	r->names = v;
	if (!(v[r->nnames] = strdup(name)))
		return -1;
	r->nnames++;
	return 0;
}

static int
count_notice(const struct dz_store_stats_notice *n, void *arg)
{
	struct run *r = arg;
	struct dz_stats *st = r->st;
	int first = n->number != r->number, provider, cat, sent;
	time_t sent_at, removed_at;

	if (first) {
		r->number = n->number;
		r->cats = 0;
		r->group = NULL;
	}
	sent = strcmp(n->state, "sent") == 0;
	if (strcmp(n->kind, "victim") == 0) {
		int in = in_period(r->o, sent ? n->sent_at : n->created_at,
		    NULL);

		if (in < 0)
			return bad_time(r);
		if (in && first && sent)
			st->answers_sent++;
		else if (in && first && strcmp(n->state, "cancelled") == 0)
			st->answers_cancelled++;
		return 0;
	}
	if (!sent)
		return 0;
	switch (in_period(r->o, n->sent_at, &sent_at)) {
	case -1:
		return bad_time(r);
	case 0:
		return 0;
	}
	provider = strcmp(n->kind, "provider") == 0;
	if (first) {
		if (!(r->group = group_of(r, n->provider)) ||
		    (n->provider && name_seen(r, n->provider)))
			return oom(r);
		if (!provider) {
			st->reminders++;
			r->group->reminders++;
		} else if (n->delivery && strcmp(n->delivery, "manual") == 0) {
			st->manual++;
			r->group->manual++;
		} else {
			st->notices++;
			r->group->notices++;
		}
	}
	if (!provider || !n->has_item)
		return 0;
	st->urls++;
	r->group->urls++;
	cat = lookup(cat_names, DZ_STATS_CATS, n->category);
	if (cat >= 0) {
		st->cat_urls[cat]++;
		if (!(r->cats & 1 << cat))
			st->cat_notices[cat]++;
		r->cats |= 1 << cat;
	}
	if (!n->removed_at && n->outcome && !strcmp(n->outcome, "refused")) {
		st->refused++;
		r->group->refused++;
	} else if (!n->removed_at && n->outcome &&
	    !strcmp(n->outcome, "no_answer")) {
		st->no_answer++;
		r->group->no_answer++;
	}
	if (n->removed_at) {
		st->removed++;
		r->group->removed++;
		if (cat >= 0)
			st->cat_removed[cat]++;
		if (dz_clock_parse(n->removed_at, &removed_at))
			return bad_time(r);
		if (delay_add(&r->removal, sent_at, removed_at))
			return oom(r);
	}
	return 0;
}

static int
count_hash(const struct dz_store_stats_hash *h, void *arg)
{
	struct run *r = arg;
	int in = in_period(r->o, h->added_at, NULL);

	if (in < 0)
		return bad_time(r);
	if (in && h->shared) {
		r->st->shared++;
		if (h->withdrawn_at)
			r->st->shared_withdrawn++;
	}
	return 0;
}

static int
count_export(const struct dz_store_stats_export *e, void *arg)
{
	struct run *r = arg;
	int in = in_period(r->o, e->created_at, NULL);

	if (in < 0)
		return bad_time(r);
	if (in && strcmp(e->kind, "full") == 0)
		r->st->exports_full++;
	else if (in)
		r->st->exports_delta++;
	return 0;
}

static int
cmp_provider(const void *a, const void *b)
{
	const struct dz_stats_provider *x = a, *y = b;

	if (!x->name || !y->name)
		return !x->name - !y->name;	/* the others last */
	return strcmp(x->name, y->name);
}

void
dz_stats_release(struct dz_stats *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nprovider; i++)
		free(st->provider[i].name);
	free(st->provider);
	st->provider = NULL;
	st->nprovider = 0;
}

int
dz_stats_collect(struct dz_store *s, const struct dz_stats_opts *o,
    struct dz_stats *st, struct dz_err *err)
{
	struct run r;
	int rc;

	memset(st, 0, sizeof *st);
	if (o->has_from && o->from > o->to)
		return dz_err_set(err, EX_USAGE,
		    "the period starts after it ends");
	if (o->has_from)
		dz_clock_format(o->from, st->from);
	dz_clock_format(o->to, st->to);
	dz_clock_format(o->now, st->made);
	memset(&r, 0, sizeof r);
	r.o = o;
	r.st = st;
	r.err = err;
	r.number = -1;
	if (dz_store_read_begin(s, err))
		return -1;
	rc = dz_store_stats_cases(s, count_case, &r, err);
	if (!rc && !r.failed)
		rc = dz_store_stats_items(s, count_item, &r, err);
	if (!rc && !r.failed)
		rc = dz_store_stats_notices(s, count_notice, &r, err);
	if (!rc && !r.failed)
		rc = dz_store_stats_hashes(s, count_hash, &r, err);
	if (!rc && !r.failed)
		rc = dz_store_stats_exports(s, count_export, &r, err);
	dz_store_read_end(s);
	if (!rc && !r.failed) {
		delay_figures(&r.verdict, &st->verdict);
		delay_figures(&r.removal, &st->removal);
		st->providers = (int64_t)r.nnames;
		if (st->nprovider > 1)	/* qsort wants an array */
			qsort(st->provider, st->nprovider,
			    sizeof *st->provider, cmp_provider);
	}
	free(r.verdict.v);
	free(r.removal.v);
	for (size_t i = 0; i < r.nnames; i++)
		free(r.names[i]);
	free(r.names);
	if (rc || r.failed) {
		dz_stats_release(st);
		return -1;
	}
	return 0;
}

/* ---------- records ---------- */

static json_t *
delay_json(const struct dz_stats_delay *d, int p90)
{
	int64_t v = p90 ? d->p90_tenths : d->median_tenths;

	return d->count ? json_real((double)v / 10.0) : json_null();
}

/* The count object of kinds, states, categories or outcomes. */
static int
put_counts(json_t *rec, const char *const *names, const int64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		if (json_object_set_new(rec, names[i],
		    json_integer((json_int_t)v[i])))
			return -1;
	return 0;
}

#define I(v) ((json_int_t)(v))

int
dz_stats_records(const struct dz_stats *st, dz_stats_emit_fn fn, void *ctx,
    struct dz_err *err)
{
	json_t *rec;
	int64_t total;
	int i, k;

#define EMIT(r) do { \
	if (!(rec = (r))) \
		return dz_err_set(err, EX_SOFTWARE, "out of memory"); \
	if (fn(rec, ctx)) \
		return -1; \
} while (0)

	EMIT(json_pack("{s:s,s:s,s:s?,s:s,s:s}", "type", "stats", "stat",
	    "period", "from", st->from[0] ? st->from : NULL, "to", st->to,
	    "made", st->made));
	EMIT(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "type", "stats",
	    "stat", "reports", "reports", I(st->reports), "withdrawn",
	    I(st->withdrawn), "adult", I(st->adult), "minor", I(st->minor),
	    "age_unknown", I(st->age_unknown), "followup", I(st->followup)));
	for (k = 0; k < DZ_STATS_KINDS; k++) {
		total = 0;
		for (i = 0; i < DZ_STATS_STATES; i++)
			total += st->items[k][i];
		rec = json_pack("{s:s,s:s,s:s,s:I}", "type", "stats", "stat",
		    "items", "kind", kind_names[k], "items", I(total));
		if (rec && put_counts(rec, state_names, st->items[k],
		    DZ_STATS_STATES)) {
			json_decref(rec);
			rec = NULL;
		}
		EMIT(rec);
	}
	for (i = 0; i < DZ_STATS_CATS; i++) {
		total = 0;
		for (k = 0; k < DZ_STATS_KINDS; k++)
			total += st->illegal[i][k];
		rec = json_pack("{s:s,s:s,s:s,s:I}", "type", "stats", "stat",
		    "illegal", "category", cat_names[i], "items", I(total));
		if (rec && put_counts(rec, kind_names, st->illegal[i],
		    DZ_STATS_KINDS)) {
			json_decref(rec);
			rec = NULL;
		}
		EMIT(rec);
	}
	total = 0;
	for (i = 0; i < DZ_STATS_OUTCOMES; i++)
		total += st->outcome[i];
	rec = json_pack("{s:s,s:s,s:I}", "type", "stats", "stat", "outcomes",
	    "urls", I(total));
	if (rec && put_counts(rec, outcome_names, st->outcome,
	    DZ_STATS_OUTCOMES)) {
		json_decref(rec);
		rec = NULL;
	}
	EMIT(rec);
	EMIT(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "type",
	    "stats", "stat", "notices", "notices", I(st->notices), "manual",
	    I(st->manual), "reminders", I(st->reminders), "urls", I(st->urls),
	    "removed", I(st->removed), "refused", I(st->refused), "no_answer",
	    I(st->no_answer), "providers", I(st->providers)));
	for (size_t p = 0; p < st->nprovider; p++) {
		const struct dz_stats_provider *g = &st->provider[p];

		EMIT(json_pack("{s:s,s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		    "type", "stats", "stat", "provider", "provider", g->name,
		    "notices", I(g->notices), "manual", I(g->manual),
		    "reminders", I(g->reminders), "urls", I(g->urls),
		    "removed", I(g->removed), "refused", I(g->refused),
		    "no_answer", I(g->no_answer)));
	}
	for (i = 0; i < DZ_STATS_CATS; i++)
		EMIT(json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "type", "stats",
		    "stat", "notice_category", "category", cat_names[i],
		    "notices", I(st->cat_notices[i]), "urls",
		    I(st->cat_urls[i]), "removed", I(st->cat_removed[i])));
	EMIT(json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "type", "stats", "stat",
	    "delay", "delay", "verdict", "count", I(st->verdict.count),
	    "median_days", delay_json(&st->verdict, 0), "p90_days",
	    delay_json(&st->verdict, 1)));
	EMIT(json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "type", "stats", "stat",
	    "delay", "delay", "removal", "count", I(st->removal.count),
	    "median_days", delay_json(&st->removal, 0), "p90_days",
	    delay_json(&st->removal, 1)));
	EMIT(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "type", "stats",
	    "stat", "hashes", "images", I(st->hashed[DZ_STATS_IMAGE]),
	    "videos", I(st->hashed[DZ_STATS_VIDEO]), "shared", I(st->shared),
	    "shared_withdrawn", I(st->shared_withdrawn), "exports_full",
	    I(st->exports_full), "exports_delta", I(st->exports_delta)));
	EMIT(json_pack("{s:s,s:s,s:I,s:I}", "type", "stats", "stat",
	    "answers", "sent", I(st->answers_sent), "cancelled",
	    I(st->answers_cancelled)));
#undef EMIT
	return 0;
}
