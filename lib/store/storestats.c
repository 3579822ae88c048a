/*
 * lib/store/storestats: the statistics' SQL. See storestats.h; the tables are
 * in lib/store/store.c's schema.
 */
#include "core/err.h"
#include "store/store.h"
#include "store/storeint.h"
#include "store/storestats.h"

static const char sql_cases[] =
    "SELECT received_at, coalesce(declared_age, -1), minor, followup,"
    " withdrawn_at FROM cases ORDER BY rowid";

/* At most one provider notice that is not cancelled covers an item. */
#define COVER(col) "(SELECT n." col " FROM notice_items ni" \
	" JOIN notices n ON n.id = ni.notice_id WHERE ni.item_id = i.id" \
	" AND n.kind = 'provider' AND n.state <> 'cancelled'" \
	" ORDER BY n.rowid LIMIT 1)"

static const char sql_items[] =
    "SELECT c.received_at, c.withdrawn_at, i.has_media, i.media_type, i.url,"
    " i.state, i.category, i.verdict_at, i.hashed_at, i.removed_at, "
    COVER("state") ", " COVER("delivery") ", " COVER("sent_at")
    " FROM items i JOIN cases c ON c.id = i.case_id ORDER BY i.rowid";

/* A notice's rows: one per distinct URL (items may share one). */
static const char sql_notices[] =
    "SELECT n.rowid, n.kind, n.provider, n.state, n.delivery, n.created_at,"
    " n.sent_at, min(i.category), min(i.removed_at), max(i.id IS NOT NULL),"
    " min(i.outcome)"
    " FROM notices n"
    " LEFT JOIN notice_items ni ON ni.notice_id = n.id"
    " LEFT JOIN items i ON i.id = ni.item_id"
    " GROUP BY n.rowid, coalesce(i.url_key, i.url, i.id)"
    " ORDER BY n.rowid, min(i.rowid)";

static const char sql_hashes[] =
    "SELECT signal, added_at, withdrawn_at, shared FROM hashes"
    " WHERE signal IN ('pdq', 'video_md5', 'vpdq') ORDER BY rowid";

static const char sql_exports[] =
    "SELECT kind, created_at FROM exports ORDER BY seq";

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Step the statement of sql, calling row(st) for each row. */
static int
walk(struct dz_store *s, const char *sql, int (*row)(sqlite3_stmt *,
    void *), void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql, err);
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (row(st, ctx)) {
			dzs_done(st);
			return 0;
		}
	dzs_done(st);
	return rc == SQLITE_DONE ? 0 :
	    dzs_fail(s, rc, err, "cannot read the store for statistics");
}

struct fn_ctx {
	union {
		dz_store_stats_case_fn c;
		dz_store_stats_item_fn i;
		dz_store_stats_notice_fn n;
		dz_store_stats_hash_fn h;
		dz_store_stats_export_fn e;
	} fn;
	void *ctx;
};

static int
case_row(sqlite3_stmt *st, void *arg)
{
	struct fn_ctx *f = arg;
	struct dz_store_stats_case c;

	c.received_at = col(st, 0);
	c.declared_age = sqlite3_column_int(st, 1);
	c.minor = sqlite3_column_int(st, 2);
	c.followup = sqlite3_column_int(st, 3);
	c.withdrawn_at = col(st, 4);
	if (!c.received_at)
		return 0;	/* NOT NULL in the schema */
	return f->fn.c(&c, f->ctx);
}

int
dz_store_stats_cases(struct dz_store *s, dz_store_stats_case_fn fn,
    void *ctx, struct dz_err *err)
{
	struct fn_ctx f = { .fn.c = fn, .ctx = ctx };

	return walk(s, sql_cases, case_row, &f, err);
}

static int
item_row(sqlite3_stmt *st, void *arg)
{
	struct fn_ctx *f = arg;
	struct dz_store_stats_item it;

	it.received_at = col(st, 0);
	it.withdrawn_at = col(st, 1);
	it.has_media = sqlite3_column_int(st, 2);
	it.media_type = col(st, 3);
	it.url = col(st, 4);
	it.state = col(st, 5);
	it.category = col(st, 6);
	it.verdict_at = col(st, 7);
	it.hashed_at = col(st, 8);
	it.removed_at = col(st, 9);
	it.notice_state = col(st, 10);
	it.notice_delivery = col(st, 11);
	it.notice_sent_at = col(st, 12);
	if (!it.received_at || !it.state)
		return 0;	/* NOT NULL in the schema */
	return f->fn.i(&it, f->ctx);
}

int
dz_store_stats_items(struct dz_store *s, dz_store_stats_item_fn fn,
    void *ctx, struct dz_err *err)
{
	struct fn_ctx f = { .fn.i = fn, .ctx = ctx };

	return walk(s, sql_items, item_row, &f, err);
}

static int
notice_row(sqlite3_stmt *st, void *arg)
{
	struct fn_ctx *f = arg;
	struct dz_store_stats_notice n;

	n.number = sqlite3_column_int64(st, 0);
	n.kind = col(st, 1);
	n.provider = col(st, 2);
	n.state = col(st, 3);
	n.delivery = col(st, 4);
	n.created_at = col(st, 5);
	n.sent_at = col(st, 6);
	n.category = col(st, 7);
	n.removed_at = col(st, 8);
	n.has_item = sqlite3_column_int(st, 9);
	n.outcome = col(st, 10);
	if (!n.kind || !n.state || !n.created_at)
		return 0;	/* NOT NULL in the schema */
	return f->fn.n(&n, f->ctx);
}

int
dz_store_stats_notices(struct dz_store *s, dz_store_stats_notice_fn fn,
    void *ctx, struct dz_err *err)
{
	struct fn_ctx f = { .fn.n = fn, .ctx = ctx };

	return walk(s, sql_notices, notice_row, &f, err);
}

static int
hash_row(sqlite3_stmt *st, void *arg)
{
	struct fn_ctx *f = arg;
	struct dz_store_stats_hash h;

	h.signal = col(st, 0);
	h.added_at = col(st, 1);
	h.withdrawn_at = col(st, 2);
	h.shared = sqlite3_column_int(st, 3);
	if (!h.signal || !h.added_at)
		return 0;	/* NOT NULL in the schema */
	return f->fn.h(&h, f->ctx);
}

int
dz_store_stats_hashes(struct dz_store *s, dz_store_stats_hash_fn fn,
    void *ctx, struct dz_err *err)
{
	struct fn_ctx f = { .fn.h = fn, .ctx = ctx };

	return walk(s, sql_hashes, hash_row, &f, err);
}

static int
export_row(sqlite3_stmt *st, void *arg)
{
	struct fn_ctx *f = arg;
	struct dz_store_stats_export e;

	e.kind = col(st, 0);
	e.created_at = col(st, 1);
	if (!e.kind || !e.created_at)
		return 0;	/* NOT NULL in the schema */
	return f->fn.e(&e, f->ctx);
}

int
dz_store_stats_exports(struct dz_store *s, dz_store_stats_export_fn fn,
    void *ctx, struct dz_err *err)
{
	struct fn_ctx f = { .fn.e = fn, .ctx = ctx };

	return walk(s, sql_exports, export_row, &f, err);
}
