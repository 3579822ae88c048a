/*
 * lib/store/storenotice: the notices' part of the store. See storenotice.h;
 * the tables are in lib/store/store.c's schema 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hex.h"
#include "store/store.h"
#include "store/storeint.h"
#include "store/storenotice.h"

/* A reported URL a provider should act on. */
#define URL_LIVE "i.url IS NOT NULL AND i.state = 'illegal'" \
	" AND i.removed_at IS NULL AND c.withdrawn_at IS NULL"

static const char sql_urls_due[] =
    "SELECT i.id, i.case_id, i.url, i.category FROM items i"
    " JOIN cases c ON c.id = i.case_id WHERE " URL_LIVE
    " AND NOT EXISTS (SELECT 1 FROM notice_items ni"
    "  JOIN notices n ON n.id = ni.notice_id WHERE ni.item_id = i.id"
    "  AND n.kind = 'provider' AND n.state <> 'cancelled')"
    " ORDER BY i.rowid";

static const char sql_urls_to_remind[] =
    "SELECT i.id, i.case_id, i.url, i.category, i.still_online_at,"
    " n.provider, n.recipient,"
    " n.language, n.message_id, n.id, n.sent_at,"
    " (SELECT count(*) FROM notice_items si JOIN notices s"
    "  ON s.id = si.notice_id WHERE si.item_id = i.id"
    "  AND s.kind = 'reminder' AND s.state = 'sent') FROM items i"
    " JOIN cases c ON c.id = i.case_id"
    " JOIN notice_items ni ON ni.item_id = i.id"
    " JOIN notices n ON n.id = ni.notice_id AND n.kind = 'provider'"
    "  AND n.state = 'sent'"
    " WHERE " URL_LIVE " AND n.sent_at <= ?1 AND n.delivery <> 'manual'"
    " AND c.state = 'open' AND i.outcome IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.item_id = i.id)"
    " AND NOT EXISTS (SELECT 1 FROM notice_items ri"
    "  JOIN notices r ON r.id = ri.notice_id WHERE ri.item_id = i.id"
    "  AND r.kind = 'reminder' AND (r.state = 'pending'"
    "  OR (r.state = 'sent' AND r.sent_at > ?1)))"
    " ORDER BY i.rowid";

static const char sql_cases_to_answer[] =
    "SELECT id, language, minor FROM cases c WHERE state = 'closed'"
    " AND followup = 1 AND purged_at IS NULL AND contact IS NOT NULL"
    " AND withdrawn_at IS NULL AND NOT EXISTS (SELECT 1 FROM notices n"
    "  WHERE n.case_id = c.id AND n.kind = 'victim') ORDER BY rowid";

static const char sql_covered[] =
    "SELECT 1 FROM notice_items ni JOIN notices n ON n.id = ni.notice_id"
    " WHERE ni.item_id = ?1 AND n.kind = 'provider'"
    " AND n.state <> 'cancelled'";

static const char sql_notice_insert[] =
    "INSERT INTO notices (id, kind, provider, recipient, case_id, language,"
    " message_id, in_reply_to, created_at, category)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

static const char sql_notice_item_insert[] =
    "INSERT INTO notice_items (notice_id, item_id) VALUES (?1, ?2)";

#define NOTICE_COLS "id, kind, provider, recipient, case_id, language," \
	" message_id, in_reply_to, created_at, state, attempts, sent_at," \
	" category"

static const char sql_pending[] =
    "SELECT " NOTICE_COLS " FROM notices WHERE state = 'pending'"
    " ORDER BY created_at, rowid";

static const char sql_notice_by_msgid[] =
    "SELECT " NOTICE_COLS " FROM notices WHERE message_id = ?1";

static const char sql_notice_urls[] =
    "SELECT i.id, i.case_id, i.url, i.category, i.still_online_at"
    " FROM notice_items ni"
    " JOIN items i ON i.id = ni.item_id WHERE ni.notice_id = ?1"
    " ORDER BY i.rowid";

static const char sql_case_hashes[] =
    "SELECT h.signal, h.value FROM hashes h JOIN items i ON i.id = h.item_id"
    " WHERE i.case_id = ?1 AND h.withdrawn_at IS NULL ORDER BY h.rowid";

static const char sql_case_counts[] =
    "SELECT (SELECT count(*) FROM items WHERE case_id = ?1"
    "  AND hashed_at IS NOT NULL),"
    " (SELECT count(*) FROM items WHERE case_id = ?1 AND url IS NOT NULL"
    "  AND state = 'illegal'),"
    " (SELECT count(DISTINCT i.id) FROM items i"
    "  JOIN notice_items ni ON ni.item_id = i.id"
    "  JOIN notices n ON n.id = ni.notice_id WHERE i.case_id = ?1"
    "  AND n.kind = 'provider' AND n.state = 'sent'),"
    " (SELECT count(*) FROM items WHERE case_id = ?1"
    "  AND removed_at IS NOT NULL)";

static const char sql_case_providers[] =
    "SELECT DISTINCT n.provider FROM notices n"
    " JOIN notice_items ni ON ni.notice_id = n.id"
    " JOIN items i ON i.id = ni.item_id WHERE i.case_id = ?1"
    " AND n.kind = 'provider' AND n.state = 'sent' ORDER BY n.provider";

static const char sql_notice_sent[] =
    "UPDATE notices SET state = 'sent', sent_at = ?2, delivery = ?3,"
    " attempts = attempts + 1, last_error = NULL"
    " WHERE id = ?1 AND state = 'pending'";

static const char sql_notice_failed[] =
    "UPDATE notices SET attempts = attempts + 1, last_error = ?2,"
    " state = CASE WHEN ?3 THEN 'cancelled' ELSE state END"
    " WHERE id = ?1 AND state = 'pending'";

static const char sql_notice_case[] =
    "SELECT case_id FROM notices WHERE id = ?1";

static const char sql_unkeyed[] =
    "SELECT id, url FROM items WHERE url IS NOT NULL AND url_key IS NULL"
    " ORDER BY rowid";

static const char sql_set_key[] =
    "UPDATE items SET url_key = ?2 WHERE id = ?1"
    " AND url_key IS NOT ?2";

static const char sql_notice_of_key[] =
    "SELECT n.id FROM items i JOIN notice_items ni ON ni.item_id = i.id"
    " JOIN notices n ON n.id = ni.notice_id WHERE i.url_key = ?1"
    " AND n.kind = 'provider' AND n.state <> 'cancelled'"
    " ORDER BY n.rowid LIMIT 1";

static const char sql_item_url[] =
    "SELECT url, removed_at, case_id FROM items WHERE id = ?1";

static const char sql_item_removed[] =
    "UPDATE items SET removed_at = ?2, updated_at = ?2"
    " WHERE id = ?1 AND removed_at IS NULL";

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Step st (bound already), calling row(st) for each row; reset it. */
static int
each(struct dz_store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *,
    void *), void *ctx, struct dz_err *err, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (row(st, ctx)) {
			dzs_done(st);
			return 0;
		}
	dzs_done(st);
	return rc == SQLITE_DONE ? 0 : dzs_fail(s, rc, err, what);
}

struct url_ctx {
	dz_store_url_fn fn;
	void *ctx;
	int remind;
};

static int
url_row(sqlite3_stmt *st, void *arg)
{
	struct url_ctx *c = arg;
	struct dz_store_url u;

	memset(&u, 0, sizeof u);
	u.item_id = col(st, 0);
	u.case_id = col(st, 1);
	u.url = col(st, 2);
	u.category = col(st, 3);
	if (c->remind >= 0)
		u.still_online_at = col(st, 4);
	if (c->remind > 0) {
		u.provider = col(st, 5);
		u.recipient = col(st, 6);
		u.language = col(st, 7);
		u.first_message_id = col(st, 8);
		u.first_notice = col(st, 9);
		u.first_sent_at = col(st, 10);
		u.reminders = sqlite3_column_int(st, 11);
	}
	if (!u.item_id || !u.case_id || !u.url || !u.category)
		return 0;	/* the schema's checks make this impossible */
	return c->fn(&u, c->ctx);
}

int
dz_store_urls_due(struct dz_store *s, dz_store_url_fn fn, void *ctx,
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_urls_due, err);
	struct url_ctx c = { fn, ctx, -1 };

	return st ? each(s, st, url_row, &c, err,
	    "cannot list the URLs to notify") : -1;
}

int
dz_store_urls_to_remind(struct dz_store *s, const char *before,
    dz_store_url_fn fn, void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_urls_to_remind, err);
	struct url_ctx c = { fn, ctx, 1 };

	if (!st)
		return -1;
	dzs_bind_text(st, 1, before);
	return each(s, st, url_row, &c, err, "cannot list the URLs to remind");
}

struct case_ctx {
	dz_store_case_fn fn;
	void *ctx;
};

static int
case_row(sqlite3_stmt *st, void *arg)
{
	struct case_ctx *c = arg;

	return col(st, 0) ? c->fn(col(st, 0), col(st, 1),
	    sqlite3_column_int(st, 2), c->ctx) : 0;
}

int
dz_store_cases_to_answer(struct dz_store *s, dz_store_case_fn fn,
    void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_cases_to_answer, err);
	struct case_ctx c = { fn, ctx };

	return st ? each(s, st, case_row, &c, err,
	    "cannot list the cases to answer") : -1;
}

int
dz_store_notice_insert(struct dz_store *s, const struct dz_store_notice *n,
    const char *const *items, size_t nitems, const char *actor,
    struct dz_err *err)
{
	sqlite3_stmt *st;
	char detail[96];
	size_t i;
	int rc;

	if (dzs_need_tx(s, err))
		return -1;
	if (!n->id || strlen(n->id) != DZ_NOTICE_ID_LEN || !n->message_id ||
	    !n->language || !n->created_at)
		return dz_err_set(err, EX_SOFTWARE, "incomplete notice");
	if (!strcmp(n->kind, "provider")) {
		for (i = 0; i < nitems; i++) {
			if (!(st = dzs_stmt(s, sql_covered, err)))
				return -1;
			dzs_bind_text(st, 1, items[i]);
			rc = sqlite3_step(st);
			dzs_done(st);
			if (rc == SQLITE_ROW)
				return dz_err_set(err, EX_DATAERR, "item %s is "
				    "already in a notice", items[i]);
			if (rc != SQLITE_DONE)
				return dzs_fail(s, rc, err,
				    "cannot look up the item's notices");
		}
	}
	if (!(st = dzs_stmt(s, sql_notice_insert, err)))
		return -1;
	dzs_bind_text(st, 1, n->id);
	dzs_bind_text(st, 2, n->kind);
	dzs_bind_text(st, 3, n->provider);
	dzs_bind_text(st, 4, n->recipient);
	dzs_bind_text(st, 5, n->case_id);
	dzs_bind_text(st, 6, n->language);
	dzs_bind_text(st, 7, n->message_id);
	dzs_bind_text(st, 8, n->in_reply_to);
	dzs_bind_text(st, 9, n->created_at);
	dzs_bind_text(st, 10, n->category);
	if (dzs_run(s, st, err, "cannot record the notice"))
		return -1;
	for (i = 0; i < nitems; i++) {
		if (!(st = dzs_stmt(s, sql_notice_item_insert, err)))
			return -1;
		dzs_bind_text(st, 1, n->id);
		dzs_bind_text(st, 2, items[i]);
		if (dzs_run(s, st, err, "cannot record the notice's items"))
			return -1;
	}
	snprintf(detail, sizeof detail, "%s %s, %zu url%s", n->kind, n->id,
	    nitems, nitems == 1 ? "" : "s");
	return dz_store_audit(s, actor, "notice", n->case_id, NULL, detail,
	    n->created_at, err);
}

struct notice_ctx {
	dz_store_notice_fn fn;
	void *ctx;
};

static int
notice_row(sqlite3_stmt *st, void *arg)
{
	struct notice_ctx *c = arg;
	struct dz_store_notice n;

	n.id = col(st, 0);
	n.kind = col(st, 1);
	n.provider = col(st, 2);
	n.recipient = col(st, 3);
	n.case_id = col(st, 4);
	n.language = col(st, 5);
	n.message_id = col(st, 6);
	n.in_reply_to = col(st, 7);
	n.created_at = col(st, 8);
	n.state = col(st, 9);
	n.attempts = sqlite3_column_int(st, 10);
	n.sent_at = col(st, 11);
	n.category = col(st, 12);
	if (!n.id || !n.kind || !n.language || !n.message_id || !n.created_at)
		return 0;
	return c->fn(&n, c->ctx);
}

int
dz_store_notices_pending(struct dz_store *s, dz_store_notice_fn fn,
    void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_pending, err);
	struct notice_ctx c = { fn, ctx };

	return st ? each(s, st, notice_row, &c, err,
	    "cannot list the pending notices") : -1;
}

struct found_ctx {
	dz_store_notice_fn fn;
	void *ctx;
	int found;
};

static int
found_row(const struct dz_store_notice *n, void *arg)
{
	struct found_ctx *f = arg;

	f->found = 1;
	f->fn(n, f->ctx);
	return 1;	/* message ids are unique: no other row */
}

int
dz_store_notice_by_message_id(struct dz_store *s, const char *msgid,
    dz_store_notice_fn fn, void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_notice_by_msgid, err);
	struct found_ctx f = { fn, ctx, 0 };
	struct notice_ctx c = { found_row, &f };

	if (!st)
		return -1;
	dzs_bind_text(st, 1, msgid);
	if (each(s, st, notice_row, &c, err, "cannot look up the notice"))
		return -1;
	return f.found;
}

int
dz_store_notice_urls(struct dz_store *s, const char *notice_id,
    dz_store_url_fn fn, void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_notice_urls, err);
	struct url_ctx c = { fn, ctx, 0 };

	if (!st)
		return -1;
	dzs_bind_text(st, 1, notice_id);
	return each(s, st, url_row, &c, err, "cannot list the notice's URLs");
}

struct hash_ctx {
	dz_store_hash_fn fn;
	void *ctx;
};

static int
hash_row(sqlite3_stmt *st, void *arg)
{
	struct hash_ctx *c = arg;

	return col(st, 0) && col(st, 1) ? c->fn(col(st, 0), col(st, 1),
	    c->ctx) : 0;
}

int
dz_store_case_hashes(struct dz_store *s, const char *case_id,
    dz_store_hash_fn fn, void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_case_hashes, err);
	struct hash_ctx c = { fn, ctx };

	if (!st)
		return -1;
	dzs_bind_text(st, 1, case_id);
	return each(s, st, hash_row, &c, err, "cannot list the case's hashes");
}

void
dz_store_case_summary_release(struct dz_store_case_summary *sum)
{
	for (size_t i = 0; i < sum->nproviders; i++)
		free(sum->providers[i]);
	free(sum->providers);
	memset(sum, 0, sizeof *sum);
}

struct providers_ctx {
	struct dz_store_case_summary *sum;
	int oom;
};

static int
provider_row(sqlite3_stmt *st, void *arg)
{
	struct providers_ctx *c = arg;
	struct dz_store_case_summary *sum = c->sum;
	char **np, *name = col(st, 0) ? strdup(col(st, 0)) : NULL;

	if (!name || !(np = realloc(sum->providers, (sum->nproviders + 1) *
	    sizeof *np))) {
		free(name);
		c->oom = 1;
		return 1;
	}
	sum->providers = np;
	sum->providers[sum->nproviders++] = name;
	return 0;
}

int
dz_store_case_summary(struct dz_store *s, const char *case_id,
    struct dz_store_case_summary *sum, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_case_counts, err);
	struct providers_ctx c = { sum, 0 };
	int rc;

	memset(sum, 0, sizeof *sum);
	if (!st)
		return -1;
	dzs_bind_text(st, 1, case_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		dzs_done(st);
		return dzs_fail(s, rc, err, "cannot sum up the case");
	}
	sum->hashed = sqlite3_column_int64(st, 0);
	sum->urls = sqlite3_column_int64(st, 1);
	sum->urls_notified = sqlite3_column_int64(st, 2);
	sum->urls_removed = sqlite3_column_int64(st, 3);
	dzs_done(st);
	if (!(st = dzs_stmt(s, sql_case_providers, err)))
		return -1;
	dzs_bind_text(st, 1, case_id);
	rc = each(s, st, provider_row, &c, err, "cannot sum up the case");
	if (rc || c.oom) {
		dz_store_case_summary_release(sum);
		return rc ? -1 : dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	return 0;
}

/* The case a notice concerns (victim's), into case_id[11]; "" if none. */
static int
notice_case(struct dz_store *s, const char *id, char case_id[11],
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_notice_case, err);
	int rc;

	case_id[0] = '\0';
	if (!st)
		return -1;
	dzs_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && col(st, 0))
		snprintf(case_id, 11, "%s", col(st, 0));
	dzs_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dzs_fail(s, rc, err, "cannot look up the notice");
	return 0;
}

static int
outcome(struct dz_store *s, const char *sql, const char *id, const char *a2,
    const char *a3, int cancel, const char *now, const char *actor,
    const char *what, struct dz_err *err)
{
	sqlite3_stmt *st;
	char case_id[11], detail[128];

	if (dz_store_begin(s, err))
		return -1;
	if (!(st = dzs_stmt(s, sql, err)))
		goto fail;
	dzs_bind_text(st, 1, id);
	dzs_bind_text(st, 2, a2);
	if (sql == sql_notice_failed)
		sqlite3_bind_int(st, 3, cancel);
	else
		dzs_bind_text(st, 3, a3);
	if (dzs_run(s, st, err, "cannot record the notice's delivery"))
		goto fail;
	if (dzs_changes(s) != 1) {
		dz_err_set(err, EX_DATAERR, "notice %s is not pending", id);
		goto fail;
	}
	if (notice_case(s, id, case_id, err))
		goto fail;
	snprintf(detail, sizeof detail, "%s %s", what, id);
	if (dz_store_audit(s, actor, "notice", case_id[0] ? case_id : NULL,
	    NULL, detail, now, err) || dz_store_commit(s, err))
		goto fail;
	return 0;
fail:
	dz_store_rollback(s);
	return -1;
}

int
dz_store_notice_sent(struct dz_store *s, const char *id,
    const char *delivery, const char *now, const char *actor,
    struct dz_err *err)
{
	return outcome(s, sql_notice_sent, id, now, delivery, 0, now, actor,
	    "sent", err);
}

int
dz_store_notice_failed(struct dz_store *s, const char *id,
    const char *reason, int cancel, const char *now, const char *actor,
    struct dz_err *err)
{
	return outcome(s, sql_notice_failed, id, reason, NULL, cancel, now,
	    actor, cancel ? "cancelled" : "failed", err);
}

static const char sql_notice_manual[] =
    "UPDATE notices SET state = 'sent', sent_at = ?2, delivery = 'manual'"
    " WHERE id = ?1";

int
dz_store_notice_manual(struct dz_store *s, const char *item_id,
    const char *provider, const char *actor, const char *now,
    struct dz_err *err)
{
	struct dz_store_notice n;
	sqlite3_stmt *st;
	unsigned char r[DZ_NOTICE_ID_LEN / 2];
	char id[DZ_NOTICE_ID_LEN + 1], msgid[64];
	const char *items[1] = { item_id };
	int rc, has_url;

	if (dzs_need_tx(s, err))
		return -1;
	if (!item_id || !(st = dzs_stmt(s, sql_item_url, err)))
		return item_id ? -1 : dz_err_set(err, EX_DATAERR,
		    "no such item");
	dzs_bind_text(st, 1, item_id);
	rc = sqlite3_step(st);
	has_url = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
	dzs_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dzs_fail(s, rc, err, "cannot look up the item");
	if (rc == SQLITE_DONE)
		return dz_err_set(err, EX_DATAERR, "no such item");
	if (!has_url)
		return dz_err_set(err, EX_DATAERR, "the item has no URL");
	if (dzs_random(r, (int)sizeof r) != 1)
		return dz_err_set(err, EX_SOFTWARE, "no random bytes");
	dz_hex_encode(id, r, sizeof r);
	snprintf(msgid, sizeof msgid, "<%s@manual.invalid>", id);
	memset(&n, 0, sizeof n);
	n.id = id;
	n.kind = "provider";
	n.provider = provider;
	n.recipient = "manual";
	n.language = "en";
	n.message_id = msgid;
	n.created_at = now;
	if (dz_store_notice_insert(s, &n, items, 1, actor, err) ||
	    !(st = dzs_stmt(s, sql_notice_manual, err)))
		return -1;
	dzs_bind_text(st, 1, id);
	dzs_bind_text(st, 2, now);
	return dzs_run(s, st, err, "cannot record the notice");
}

int
dz_store_item_removed(struct dz_store *s, const char *item_id,
    const char *actor, const char *now, struct dz_err *err)
{
	sqlite3_stmt *st;
	char case_id[11];
	int rc, has_url, again;

	if (dzs_need_tx(s, err))
		return -1;
	if (!item_id || !(st = dzs_stmt(s, sql_item_url, err)))
		return item_id ? -1 : dz_err_set(err, EX_DATAERR,
		    "no such item");
	dzs_bind_text(st, 1, item_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		dzs_done(st);
		return rc == SQLITE_DONE ? dz_err_set(err, EX_DATAERR,
		    "no such item") : dzs_fail(s, rc, err,
		    "cannot look up the item");
	}
	has_url = sqlite3_column_type(st, 0) != SQLITE_NULL;
	again = sqlite3_column_type(st, 1) != SQLITE_NULL;
	snprintf(case_id, sizeof case_id, "%s", col(st, 2) ? col(st, 2) : "");
	dzs_done(st);
	if (!has_url)
		return dz_err_set(err, EX_DATAERR, "the item has no URL");
	if (!again) {
		if (!(st = dzs_stmt(s, sql_item_removed, err)))
			return -1;
		dzs_bind_text(st, 1, item_id);
		dzs_bind_text(st, 2, now);
		if (dzs_run(s, st, err, "cannot record the removal"))
			return -1;
	}
	return dz_store_audit(s, actor, "removed", case_id, item_id,
	    again ? "again" : NULL, now, err);
}

/* ---------- one notice per URL ---------- */

struct unkeyed_ctx {
	dz_store_unkeyed_fn fn;
	void *ctx;
};

static int
unkeyed_row(sqlite3_stmt *st, void *arg)
{
	struct unkeyed_ctx *c = arg;

	return col(st, 0) && col(st, 1) ? c->fn(col(st, 0), col(st, 1),
	    c->ctx) : 0;
}

int
dz_store_urls_unkeyed(struct dz_store *s, dz_store_unkeyed_fn fn, void *ctx,
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_unkeyed, err);
	struct unkeyed_ctx c = { fn, ctx };

	return st ? each(s, st, unkeyed_row, &c, err,
	    "cannot list the URLs without a key") : -1;
}

int
dz_store_item_url_key(struct dz_store *s, const char *item_id,
    const char *key, struct dz_err *err)
{
	sqlite3_stmt *st;

	if (dzs_need_tx(s, err))
		return -1;
	if (!(st = dzs_stmt(s, sql_set_key, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	dzs_bind_text(st, 2, key);
	return dzs_run(s, st, err, "cannot record the URL's key");
}

int
dz_store_notice_of_key(struct dz_store *s, const char *key,
    char id[DZ_NOTICE_ID_LEN + 1], struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_notice_of_key, err);
	int rc, found = 0;

	id[0] = '\0';
	if (!st)
		return -1;
	dzs_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && col(st, 0) &&
	    strlen(col(st, 0)) == DZ_NOTICE_ID_LEN) {
		memcpy(id, col(st, 0), DZ_NOTICE_ID_LEN + 1);
		found = 1;
	}
	dzs_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dzs_fail(s, rc, err, "cannot look up the URL's notice");
	return found;
}

int
dz_store_notice_share(struct dz_store *s, const char *notice_id,
    const char *item_id, const char *case_id, const char *actor,
    const char *now, struct dz_err *err)
{
	sqlite3_stmt *st;
	char detail[96];
	int rc;

	if (dzs_need_tx(s, err))
		return -1;
	if (!(st = dzs_stmt(s, sql_covered, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	rc = sqlite3_step(st);
	dzs_done(st);
	if (rc == SQLITE_ROW)
		return dz_err_set(err, EX_DATAERR, "item %s is already in a "
		    "notice", item_id);
	if (rc != SQLITE_DONE)
		return dzs_fail(s, rc, err, "cannot look up the item's notices");
	if (!(st = dzs_stmt(s, sql_notice_item_insert, err)))
		return -1;
	dzs_bind_text(st, 1, notice_id);
	dzs_bind_text(st, 2, item_id);
	if (dzs_run(s, st, err, "cannot record the notice's items"))
		return -1;
	snprintf(detail, sizeof detail, "provider %s, shared", notice_id);
	return dz_store_audit(s, actor, "notice", case_id, item_id, detail,
	    now, err);
}

/* ---------- what providers did ---------- */

static const char sql_still_online[] =
    "UPDATE items SET still_online_at = ?2 WHERE id = ?1";

static const char sql_escalate[] =
    "INSERT INTO escalations (item_id, notice_id, provider, reminders,"
    " created_at) VALUES (?1, ?2, ?3, ?4, ?5)";

static const char sql_no_answer[] =
    "UPDATE items SET outcome = 'no_answer', outcome_at = ?2,"
    " updated_at = ?2 WHERE id = ?1 AND outcome IS NULL";

/* The item's case into case_id; 0, or -1 (EX_DATAERR: none, no URL). */
static int
item_with_url(struct dz_store *s, const char *item_id, char case_id[11],
    struct dz_err *err)
{
	sqlite3_stmt *st;
	int rc, has_url;

	if (!item_id)
		return dz_err_set(err, EX_DATAERR, "no such item");
	if (!(st = dzs_stmt(s, sql_item_url, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		dzs_done(st);
		return rc == SQLITE_DONE ? dz_err_set(err, EX_DATAERR,
		    "no such item") : dzs_fail(s, rc, err,
		    "cannot look up the item");
	}
	has_url = sqlite3_column_type(st, 0) != SQLITE_NULL;
	snprintf(case_id, 11, "%s", col(st, 2) ? col(st, 2) : "");
	dzs_done(st);
	if (!has_url)
		return dz_err_set(err, EX_DATAERR, "the item has no URL");
	return 0;
}

int
dz_store_item_still_online(struct dz_store *s, const char *item_id,
    const char *actor, const char *now, struct dz_err *err)
{
	sqlite3_stmt *st;
	char case_id[11];

	if (dzs_need_tx(s, err) || item_with_url(s, item_id, case_id, err))
		return -1;
	if (!(st = dzs_stmt(s, sql_still_online, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	dzs_bind_text(st, 2, now);
	if (dzs_run(s, st, err, "cannot record the check"))
		return -1;
	return dz_store_audit(s, actor, "still_online", case_id, item_id,
	    NULL, now, err);
}

int
dz_store_escalate(struct dz_store *s, const struct dz_store_url *u,
    const char *actor, const char *now, struct dz_err *err)
{
	sqlite3_stmt *st;
	char detail[96];

	if (dzs_need_tx(s, err))
		return -1;
	if (!(st = dzs_stmt(s, sql_escalate, err)))
		return -1;
	dzs_bind_text(st, 1, u->item_id);
	dzs_bind_text(st, 2, u->first_notice);
	dzs_bind_text(st, 3, u->provider);
	sqlite3_bind_int(st, 4, u->reminders);
	dzs_bind_text(st, 5, now);
	if (dzs_run(s, st, err, "cannot record the escalation"))
		return -1;
	if (!(st = dzs_stmt(s, sql_no_answer, err)))
		return -1;
	dzs_bind_text(st, 1, u->item_id);
	dzs_bind_text(st, 2, now);
	if (dzs_run(s, st, err, "cannot record the provider's silence"))
		return -1;
	snprintf(detail, sizeof detail, "no_answer to %s after %d reminder%s",
	    u->first_notice, u->reminders, u->reminders == 1 ? "" : "s");
	return dz_store_audit(s, actor, "escalation", u->case_id, u->item_id,
	    detail, now, err);
}

static const char sql_refused[] =
    "UPDATE items SET outcome = 'refused', outcome_reason = ?2,"
    " outcome_at = ?3, updated_at = ?3 WHERE id = ?1";

int
dz_store_item_refused(struct dz_store *s, const char *item_id,
    const char *reason, const char *actor, const char *now,
    struct dz_err *err)
{
	sqlite3_stmt *st;
	char case_id[11];

	if (dzs_need_tx(s, err) || item_with_url(s, item_id, case_id, err))
		return -1;
	if (!(st = dzs_stmt(s, sql_refused, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	dzs_bind_text(st, 2, reason);
	dzs_bind_text(st, 3, now);
	if (dzs_run(s, st, err, "cannot record the refusal"))
		return -1;
	return dz_store_audit(s, actor, "refused", case_id, item_id, NULL, now,
	    err);
}
