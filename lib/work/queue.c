/*
 * lib/work/queue: the desk's queue. See queue.h. To add a kind: a query
 * in lib/store/storecase (or a function here when the store alone cannot
 * tell), then one line in kinds[] below, then dz-export(1) and
 * dz-records(5).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/out.h"
#include "notice/provider.h"
#include "store/spool.h"
#include "store/store.h"
#include "store/storecase.h"
#include "store/storenotice.h"
#include "work/queue.h"

struct run {
	const struct dz_queue_opts *o;
	dz_store_row_fn fn;
	void *ctx;
	size_t n;
	int stopped;
	char before[DZ_TIME_LEN];
	struct dz_err *err;
};

static int
emit(struct run *r, json_t *rec)
{
	if (!rec)
		return dz_err_set(r->err, EX_SOFTWARE, "out of memory");
	r->n++;
	if (r->fn(rec, r->ctx)) {
		r->stopped = 1;
		return dz_err_set(r->err, EX_IOERR, "stopped");
	}
	return 0;
}

static int
store_row(json_t *row, void *arg)
{
	return emit(arg, row) != 0;
}

/* The kinds the store's SQL tells. */
static int
store_kind(struct run *r, enum dz_queue_kind k, struct dz_store *s)
{
	if (dz_store_queue(s, k, r->before, store_row, r, r->err))
		return -1;
	return r->stopped ? -1 : 0;
}

static int
kind_review(struct run *r, struct dz_store *s)
{
	return store_kind(r, DZ_QUEUE_REVIEW, s);
}

static int
kind_answer(struct run *r, struct dz_store *s)
{
	return store_kind(r, DZ_QUEUE_ANSWER, s);
}

static int
kind_overdue(struct run *r, struct dz_store *s)
{
	return store_kind(r, DZ_QUEUE_OVERDUE, s);
}

static int
kind_escalation(struct run *r, struct dz_store *s)
{
	return store_kind(r, DZ_QUEUE_ESCALATION, s);
}

static int
kind_close(struct run *r, struct dz_store *s)
{
	return store_kind(r, DZ_QUEUE_CLOSE, s);
}

/*
 * URLs due a first notice that dz-notify cannot send: those of a provider
 * with a form and no address, then those of no known provider. Two
 * passes, so that each kind comes together.
 */
struct url_pass {
	struct run *r;
	int unresolved;		/* this pass's kind */
	int failed;
};

static int
url_due(const struct dz_store_url *u, void *arg)
{
	struct url_pass *p = arg;
	const struct dz_provider *pv = NULL;
	char host[256];
	json_t *rec;
	int ok = u->url && dz_url_host(u->url, host, sizeof host) == 0;

	if (ok)
		pv = dz_providers_find(p->r->o->providers, host);
	if (p->unresolved ? pv != NULL : (!pv || pv->abuse || !pv->form))
		return 0;
	rec = json_pack("{s:s,s:s,s:s,s:s}", "type", "queue", "kind",
	    p->unresolved ? "unresolved" : "notify_by_hand", "case",
	    u->case_id, "item", u->item_id);
	if (rec && pv)
		json_object_set_new(rec, "provider", json_string(pv->name));
	else if (rec)
		json_object_set_new(rec, "host", ok ? json_string(host) :
		    json_null());
	if (emit(p->r, rec)) {
		p->failed = 1;
		return 1;
	}
	return 0;
}

static int
urls_pass(struct run *r, struct dz_store *s, int unresolved)
{
	struct url_pass p = { r, unresolved, 0 };

	if (!r->o->providers)
		return 0;
	if (dz_store_urls_due(s, url_due, &p, r->err))
		return -1;
	return p.failed ? -1 : 0;
}

static int
kind_by_hand(struct run *r, struct dz_store *s)
{
	return urls_pass(r, s, 0);
}

static int
kind_unresolved(struct run *r, struct dz_store *s)
{
	return urls_pass(r, s, 1);
}

/*
 * Rejected spool entries: their names only, and only when a name is a
 * plain one (the form backend chose it: it is hostile).
 */
static int
kind_rejected(struct run *r, struct dz_store *s)
{
	struct dz_spool sp;
	char **names = NULL;
	size_t n = 0, i;
	int k, rc = -1;

	(void)s;
	if (!r->o->spool)
		return 0;
	if (dz_spool_open(&sp, r->o->spool, 0, r->err))
		goto out;
	if ((k = dz_spool_rejected_open(&sp, 0, r->err)) <= 0) {
		rc = k;
		goto out;
	}
	if (dz_spool_list(sp.rejected_fd, &names, &n, r->err))
		goto out;
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		int plain = len <= 64 && strspn(names[i],
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-") == len;
		json_t *rec = json_pack("{s:s,s:s}", "type", "queue", "kind",
		    "rejected");

		if (rec)
			json_object_set_new(rec, "entry", plain ?
			    json_string(names[i]) : json_null());
		if (emit(r, rec))
			goto out;
	}
	rc = 0;
out:
	dz_spool_names_free(names, n);
	dz_spool_release(&sp);
	return rc;
}

/* The kinds, in the order they are listed. */
static int (*const kinds[])(struct run *, struct dz_store *) = {
	kind_review, kind_answer, kind_by_hand, kind_unresolved,
	kind_overdue, kind_escalation, kind_close, kind_rejected,
};

int
dz_queue_run(struct dz_store *s, const struct dz_queue_opts *o,
    dz_store_row_fn fn, void *ctx, size_t *n, struct dz_err *err)
{
	struct run r;
	time_t now;
	size_t i;
	int rc = 0;

	memset(&r, 0, sizeof r);
	r.o = o;
	r.fn = fn;
	r.ctx = ctx;
	r.err = err;
	*n = 0;
	if (!o->now || dz_clock_parse(o->now, &now) || o->overdue_days < 1)
		return dz_err_set(err, EX_SOFTWARE, "bad queue options");
	dz_clock_format(now - (time_t)o->overdue_days * 86400, r.before);
	if (dz_store_read_begin(s, err))
		return -1;
	for (i = 0; i < sizeof kinds / sizeof kinds[0] && rc == 0; i++)
		rc = kinds[i](&r, s);
	dz_store_read_end(s);
	*n = r.n;
	return rc;
}

int
dz_queue_text(FILE *f, const json_t *rec, struct dz_err *err)
{
	static const char *const keys[] = { "case", "item", "notice",
		"provider", "host", "entry", "urls", "since", NULL };
	const char *const *k;
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	char buf[256];
	json_t *v;

	fprintf(f, "%-14s", dz_out_term_name(kind ? kind : "?", buf,
	    sizeof buf));
	for (k = keys; *k; k++) {
		v = json_object_get(rec, *k);
		if (json_is_string(v))
			fprintf(f, " %s %s", *k, dz_out_term_name(
			    json_string_value(v), buf, sizeof buf));
		else if (json_is_integer(v))
			fprintf(f, " %s %lld", *k,
			    (long long)json_integer_value(v));
	}
	if (json_is_true(json_object_get(rec, "minor")))
		fputs(" minor", f);
	fputc('\n', f);
	if (ferror(f))
		return dz_err_set(err, EX_IOERR, "write error");
	return 0;
}
