/*
 * lib/store/storecase: the SQL of the desk's views. See storecase.h; the
 * tables are in lib/store/store.c's schema.
 *
 * A query names its columns as the record's keys; a name ending in '?'
 * is a flag (a JSON boolean, the '?' dropped), and the first column is
 * the record's type. So a new part or kind of waiting work is one
 * statement here and one line in a table.
 */
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"
#include "store/storecase.h"
#include "store/storeint.h"

/* The case's items, and the notices that cover one of them. */
#define CASE_ITEMS "SELECT id FROM items WHERE case_id = ?1"
#define CASE_NOTICES "SELECT ni.notice_id FROM notice_items ni" \
	" WHERE ni.item_id IN (" CASE_ITEMS ")"

static const char sql_items[] =
    "SELECT 'item' AS type, id AS item, case_id AS \"case\", state, url,"
    " media_type,"
    " media_size, has_media AS \"has_media?\", category, verdict_at,"
    " hashed_at, removed_at, media_purged_at"
    " FROM items WHERE case_id = ?1 ORDER BY seq";

static const char sql_notices[] =
    "SELECT 'notice' AS type, n.id AS notice, n.kind, n.provider, n.state,"
    " n.message_id, n.in_reply_to, n.created_at, n.sent_at,"
    " n.delivery, n.attempts, n.last_error,"
    " (SELECT count(*) FROM notice_items ni WHERE ni.notice_id = n.id)"
    "  AS urls,"
    " (SELECT group_concat(ni.item_id, ' ') FROM notice_items ni"
    "  JOIN items i ON i.id = ni.item_id"
    "  WHERE ni.notice_id = n.id AND i.case_id = ?1) AS items"
    " FROM notices n WHERE n.case_id = ?1 OR n.id IN (" CASE_NOTICES ")"
    " ORDER BY n.rowid";

/*
 * A provider notice is audited without a case (it may cover several):
 * its entries are the case's when they name one of its notices.
 */
static const char sql_events[] =
    "SELECT 'event' AS type, a.at, a.action, a.actor, a.item_id AS item,"
    " a.detail FROM audit a WHERE a.case_id = ?1"
    " OR (a.case_id IS NULL AND a.action = 'notice' AND EXISTS"
    "  (SELECT 1 FROM (" CASE_NOTICES ") cn"
    "  WHERE instr(a.detail, cn.notice_id) > 0))"
    " ORDER BY a.seq";

static const char sql_hashes[] =
    "SELECT 'entry' AS type, h.entry_id AS entry, h.item_id AS item,"
    " h.signal, h.value, h.quality, h.category, h.added_at, h.withdrawn_at,"
    " h.shared AS \"shared?\""
    " FROM hashes h JOIN items i ON i.id = h.item_id WHERE i.case_id = ?1"
    " ORDER BY h.rowid";

static const char sql_known[] =
    "SELECT 'known' AS type, h.entry_id AS entry, h.item_id AS item,"
    " h.known_entry AS known, ki.case_id AS known_case,"
    " k.item_id AS known_item"
    " FROM hashes h JOIN items i ON i.id = h.item_id"
    " LEFT JOIN hashes k ON k.entry_id = h.known_entry"
    " LEFT JOIN items ki ON ki.id = k.item_id"
    " WHERE i.case_id = ?1 AND h.known_entry IS NOT NULL ORDER BY h.rowid";

static const char *const case_sql[DZ_CASE_NPARTS] = {
	[DZ_CASE_ITEMS] = sql_items,
	[DZ_CASE_NOTICES] = sql_notices,
	[DZ_CASE_EVENTS] = sql_events,
	[DZ_CASE_HASHES] = sql_hashes,
	[DZ_CASE_KNOWN] = sql_known,
};

static const char sql_entry_case[] =
    "SELECT i.case_id FROM hashes h JOIN items i ON i.id = h.item_id"
    " WHERE h.entry_id = ?1";

/* ---------- the queue: one statement per kind ---------- */

#define OPEN_CASE "c.state = 'open' AND c.withdrawn_at IS NULL"

static const char sql_q_review[] =
    "SELECT 'queue' AS type, 'review' AS kind, c.id AS \"case\","
    " i.id AS item, i.created_at AS since, c.minor AS \"minor?\""
    " FROM items i JOIN cases c ON c.id = i.case_id"
    " WHERE i.state = 'review' AND " OPEN_CASE
    " ORDER BY c.minor DESC, i.created_at, i.rowid";

static const char sql_q_answer[] =
    "SELECT 'queue' AS type,"
    " CASE WHEN instr(n.last_error, 'phone') > 0 THEN 'call_back'"
    "  ELSE 'answer_failed' END AS kind,"
    " n.case_id AS \"case\", n.id AS notice, n.created_at AS since,"
    " n.last_error AS reason"
    " FROM notices n JOIN cases c ON c.id = n.case_id"
    " WHERE n.kind = 'victim' AND n.state = 'cancelled'"
    " AND c.purged_at IS NULL AND c.withdrawn_at IS NULL"
    " ORDER BY n.rowid";

static const char sql_q_close[] =
    "SELECT 'queue' AS type, 'close' AS kind, c.id AS \"case\","
    " coalesce(c.withdrawn_at, (SELECT max(max(i.verdict_at,"
    "  coalesce(i.removed_at, ''), coalesce(i.hashed_at, '')))"
    "  FROM items i WHERE i.case_id = c.id), c.received_at) AS since,"
    " c.minor AS \"minor?\""
    " FROM cases c WHERE c.state = 'open' AND (c.withdrawn_at IS NOT NULL"
    " OR NOT EXISTS (SELECT 1 FROM items i WHERE i.case_id = c.id"
    "  AND (i.state = 'review' OR (i.state = 'illegal'"
    "  AND ((i.url IS NOT NULL AND i.removed_at IS NULL)"
    "  OR (i.has_media AND i.hashed_at IS NULL"
    "  AND i.media_purged_at IS NULL))))))"
    " ORDER BY c.rowid";

static const char sql_q_overdue[] =
    "SELECT 'queue' AS type, 'overdue' AS kind, n.id AS notice,"
    " n.provider, n.sent_at AS since, n.message_id,"
    " (SELECT count(*) FROM notice_items ni JOIN items i"
    "  ON i.id = ni.item_id JOIN cases c ON c.id = i.case_id"
    "  WHERE ni.notice_id = n.id AND i.removed_at IS NULL"
    "  AND c.withdrawn_at IS NULL) AS urls"
    " FROM notices n WHERE n.kind = 'provider' AND n.state = 'sent'"
    " AND n.sent_at < ?1 AND urls > 0 ORDER BY n.sent_at, n.rowid";

static const char sql_q_escalation[] =
    "SELECT 'queue' AS type, 'escalation' AS kind, c.id AS \"case\","
    " e.item_id AS item, e.notice_id AS notice, e.provider,"
    " e.reminders, e.created_at AS since, c.minor AS \"minor?\""
    " FROM escalations e JOIN items i ON i.id = e.item_id"
    " JOIN cases c ON c.id = i.case_id"
    " WHERE e.done_at IS NULL AND i.removed_at IS NULL AND " OPEN_CASE
    " ORDER BY c.minor DESC, e.created_at, e.rowid";

static const char *const queue_sql[DZ_QUEUE_NKINDS] = {
	[DZ_QUEUE_REVIEW] = sql_q_review,
	[DZ_QUEUE_ANSWER] = sql_q_answer,
	[DZ_QUEUE_CLOSE] = sql_q_close,
	[DZ_QUEUE_OVERDUE] = sql_q_overdue,
	[DZ_QUEUE_ESCALATION] = sql_q_escalation,
};

/* The current row of st as a record, keys from the column names. */
static json_t *
row_record(sqlite3_stmt *st)
{
	json_t *r = json_object(), *v;
	int i, n = sqlite3_column_count(st);
	char key[64];

	if (!r)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		size_t len = name ? strlen(name) : 0;
		int flag = len > 1 && name[len - 1] == '?';

		if (!name || len >= sizeof key)
			goto fail;
		memcpy(key, name, len - (size_t)flag);
		key[len - (size_t)flag] = '\0';
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL:
			v = json_null();
			break;
		case SQLITE_INTEGER:
			v = flag ? json_boolean(sqlite3_column_int64(st, i)) :
			    json_integer(sqlite3_column_int64(st, i));
			break;
		default:
			v = json_string((const char *)
			    sqlite3_column_text(st, i));
			break;
		}
		if (json_object_set_new(r, key, v))
			goto fail;
	}
	return r;
fail:
	json_decref(r);
	return NULL;
}

/* Step sql with ?1 bound to a1, one record per row to fn. */
static int
walk(struct dz_store *s, const char *sql, const char *a1,
    dz_store_row_fn fn, void *ctx, struct dz_err *err, const char *what)
{
	sqlite3_stmt *st = dzs_stmt(s, sql, err);

	if (!st)
		return -1;
	dzs_bind_text(st, 1, a1);
	return dzs_rows(s, st, row_record, fn, ctx, err, what);
}

int
dz_store_case_part(struct dz_store *s, const char *case_id,
    enum dz_case_part part, dz_store_row_fn fn, void *ctx,
    struct dz_err *err)
{
	if ((unsigned)part >= DZ_CASE_NPARTS || !case_id)
		return dz_err_set(err, EX_SOFTWARE, "no such part of a case");
	return walk(s, case_sql[part], case_id, fn, ctx, err,
	    "cannot read the case");
}

int
dz_store_case_of_entry(struct dz_store *s, const char *entry_id,
    char case_id[DZ_CASE_ID_LEN + 1], struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_entry_case, err);
	const char *v;
	int rc;

	case_id[0] = '\0';
	if (!st)
		return -1;
	dzs_bind_text(st, 1, entry_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (v = (const char *)sqlite3_column_text(st, 0)) &&
	    strlen(v) == DZ_CASE_ID_LEN)
		memcpy(case_id, v, DZ_CASE_ID_LEN + 1);
	dzs_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dzs_fail(s, rc, err, "cannot look up the entry");
	return case_id[0] != '\0';
}

int
dz_store_queue(struct dz_store *s, enum dz_queue_kind kind,
    const char *before, dz_store_row_fn fn, void *ctx, struct dz_err *err)
{
	if ((unsigned)kind >= DZ_QUEUE_NKINDS)
		return dz_err_set(err, EX_SOFTWARE, "no such kind of work");
	return walk(s, queue_sql[kind], before, fn, ctx, err,
	    "cannot read what waits");
}
