/*
 * lib/store/storehashes: the hashes' and the bank exports' part of the
 * store. See storehashes.h; the tables are in lib/store/store.c's schema
 * 2 (and 4, for videos).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/err.h"
#include "core/hex.h"
#include "store/store.h"
#include "store/storehashes.h"
#include "store/storeint.h"

static const char sql_hashable_ids[] =
    "SELECT items.id FROM items"
    " JOIN cases ON cases.id = items.case_id"
    " WHERE items.state = 'illegal' AND items.media_key IS NOT NULL"
    " AND cases.withdrawn_at IS NULL ORDER BY items.rowid";

static const char sql_hashable_get[] =
    "SELECT items.media_type, items.media_size,"
    " items.category, items.media_key, items.blob FROM items"
    " JOIN cases ON cases.id = items.case_id"
    " WHERE items.id = ?1 AND items.state = 'illegal'"
    " AND items.media_key IS NOT NULL AND cases.withdrawn_at IS NULL";

static const char sql_hash_insert[] =
    "INSERT INTO hashes (entry_id, item_id, signal,"
    " value, quality, category, known_entry, added_at, rev)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, " DZS_NEXT_REV ")"
    " ON CONFLICT (item_id, signal, value) DO NOTHING";

static const char sql_hash_find[] =
    "SELECT entry_id FROM hashes WHERE item_id = ?1"
    " AND signal = ?2 AND value = ?3";

static const char sql_item_media_gone[] =
    "UPDATE items SET media_key = NULL,"
    " hashed_at = ?2, updated_at = ?2"
    " WHERE id = ?1 AND media_key IS NOT NULL";

static const char sql_list_pdq[] =
    "SELECT entry_id, value, quality FROM hashes"
    " WHERE signal = 'pdq' AND withdrawn_at IS NULL ORDER BY rowid";

static const char sql_export_get[] =
    "SELECT seq, kind, coalesce(since, 0), rev, digest,"
    " entries, withdrawals, created_at, files FROM exports"
    " WHERE seq = coalesce(nullif(?1, 0),"
    " (SELECT max(seq) FROM exports))";

static const char sql_export_next[] =
    "SELECT coalesce(max(seq), 0) + 1 FROM exports";

static const char sql_export_insert[] =
    "INSERT INTO exports (seq, kind, since, rev,"
    " digest, entries, withdrawals, created_at, files)"
    " VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6, ?7, ?8, ?9)";

static const char sql_hash_rev[] =
    "SELECT " DZS_NEXT_REV " - 1";

static const char sql_export_last_full[] =
    "SELECT coalesce(max(seq), 0) FROM exports"
    " WHERE kind = 'full'";

static const char sql_bank_full[] =
    "SELECT entry_id, signal, value,"
    " coalesce(quality, 100), category, added_at, NULL FROM hashes"
    " WHERE " DZS_BANK_SIGNALS " AND withdrawn_at IS NULL"
    " AND coalesce(quality, 100) >= ?1 ORDER BY entry_id";

static const char sql_bank_delta[] =
    "SELECT entry_id, signal, value,"
    " coalesce(quality, 100), category, added_at, withdrawn_at"
    " FROM hashes WHERE " DZS_BANK_SIGNALS
    " AND rev > ?1 AND rev <= ?2 AND coalesce(quality, 100) >= ?3"
    " AND (withdrawn_at IS NULL OR shared = 1) ORDER BY entry_id";

static const char sql_bank_shared[] =
    "UPDATE hashes SET shared = 1 WHERE " DZS_BANK_SIGNALS
    " AND withdrawn_at IS NULL AND coalesce(quality, 100) >= ?1"
    " AND rev <= ?2 AND shared = 0";

void
dz_store_ids_free(char **ids, size_t n)
{
	size_t i;

	if (!ids)
		return;
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
dz_store_hashable_ids(struct dz_store *s, char ***ids, size_t *n,
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_hashable_ids, err);
	char **v = NULL, **nv;
	size_t len = 0, cap = 0;
	const char *id;
	int rc;

	*ids = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(nv = realloc(v, cap * sizeof *v)))
				goto oom;
			v = nv;
		}
		if (!id || !(v[len] = strdup(id)))
			goto oom;
		len++;
	}
	dzs_done(st);
	if (rc != SQLITE_DONE) {
		dz_store_ids_free(v, len);
		return dzs_fail(s, rc, err, "cannot list the items to hash");
	}
	*ids = v;
	*n = len;
	return 0;
oom:
	dzs_done(st);
	dz_store_ids_free(v, len);
	return dz_err_set(err, EX_SOFTWARE, "out of memory");
}

int
dz_store_hashable_get(struct dz_store *s, const char *item_id,
    struct dz_store_hashable *h, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_hashable_get, err);
	const char *mt, *cat, *b;
	int rc;

	memset(h, 0, sizeof *h);
	if (!st)
		return -1;
	dzs_bind_text(st, 1, item_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		dzs_done(st);
		return rc == SQLITE_DONE ? 0 :
		    dzs_fail(s, rc, err, "cannot look up the item");
	}
	mt = (const char *)sqlite3_column_text(st, 0);
	cat = (const char *)sqlite3_column_text(st, 2);
	b = (const char *)sqlite3_column_text(st, 4);
	if (!cat || dz_category_parse(cat, &h->category) ||
	    dzs_col_key(st, 3, h->wrapped_key) || !dzs_valid_blob_name(b) ||
	    strlen(b) >= sizeof h->blob || strlen(item_id) >= sizeof h->id) {
		dzs_done(st);
		memset(h, 0, sizeof *h);
		return dz_err_set(err, EX_DATAERR,
		    "the item's media record is corrupt");
	}
	snprintf(h->id, sizeof h->id, "%s", item_id);
	snprintf(h->media_type, sizeof h->media_type, "%s", mt ? mt : "");
	h->media_size = (uint64_t)sqlite3_column_int64(st, 1);
	snprintf(h->blob, sizeof h->blob, "%s", b);
	dzs_done(st);
	return 1;
}

static int
hex_entry_id(struct dz_store *s, char out[DZ_ENTRY_ID_LEN + 1],
    struct dz_err *err)
{
	unsigned char r[DZ_ENTRY_ID_LEN / 2];

	(void)s;
	if (dzs_random(r, (int)sizeof r) != 1)
		return dz_err_set(err, EX_SOFTWARE,
		    "cannot draw a random entry id");
	dz_hex_encode(out, r, sizeof r);
	return 0;
}

int
dz_store_item_hashed(struct dz_store *s, const char *item_id,
    struct dz_store_hash *h, size_t n, const char *actor, const char *now,
    struct dz_err *err)
{
	struct dz_store_hashable it;
	sqlite3_stmt *st;
	const char *cat, *id;
	char case_id[DZ_CASE_ID_LEN + 1];
	size_t i;
	int rc;

	if (dzs_need_tx(s, err) || dzs_need_now(now, err))
		return -1;
	rc = dz_store_hashable_get(s, item_id, &it, err);
	memset(it.wrapped_key, 0, sizeof it.wrapped_key);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return dz_err_set(err, EX_DATAERR,
		    "the item is no longer due for hashing");
	cat = dz_category_name(it.category);
	for (i = 0; i < n; i++) {
		if (!h[i].signal || !h[i].value)
			return dz_err_set(err, EX_SOFTWARE, "empty hash");
		if (hex_entry_id(s, h[i].entry_id, err) ||
		    !(st = dzs_stmt(s, sql_hash_insert, err)))
			return -1;
		dzs_bind_text(st, 1, h[i].entry_id);
		dzs_bind_text(st, 2, item_id);
		dzs_bind_text(st, 3, h[i].signal);
		dzs_bind_text(st, 4, h[i].value);
		if (h[i].quality >= 0)
			sqlite3_bind_int(st, 5, h[i].quality);
		else
			sqlite3_bind_null(st, 5);
		dzs_bind_text(st, 6, cat);
		dzs_bind_text(st, 7, h[i].known_entry);
		dzs_bind_text(st, 8, now);
		if (dzs_run(s, st, err, "cannot record a hash"))
			return -1;
		if (dzs_changes(s) == 1)
			continue;
		/* already there (an earlier run): report its entry id */
		if (!(st = dzs_stmt(s, sql_hash_find, err)))
			return -1;
		dzs_bind_text(st, 1, item_id);
		dzs_bind_text(st, 2, h[i].signal);
		dzs_bind_text(st, 3, h[i].value);
		rc = sqlite3_step(st);
		id = rc == SQLITE_ROW ?
		    (const char *)sqlite3_column_text(st, 0) : NULL;
		if (!id || strlen(id) != DZ_ENTRY_ID_LEN) {
			dzs_done(st);
			return dzs_fail(s,
			    rc == SQLITE_ROW ? SQLITE_CORRUPT : rc, err,
			    "cannot look up a hash");
		}
		memcpy(h[i].entry_id, id, DZ_ENTRY_ID_LEN + 1);
		dzs_done(st);
	}
	if (!(st = dzs_stmt(s, sql_item_media_gone, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	dzs_bind_text(st, 2, now);
	if (dzs_run(s, st, err, "cannot destroy the item's media key"))
		return -1;
	if (dzs_changes(s) != 1)
		return dz_err_set(err, EX_SOFTWARE,
		    "the item changed meanwhile");
	snprintf(case_id, sizeof case_id, "%s", item_id);
	return dz_store_audit(s, actor, "hash", case_id, item_id,
	    "media destroyed", now, err);
}

int
dz_store_list_pdq(struct dz_store *s, dz_store_pdq_fn fn, void *ctx,
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_list_pdq, err);
	const char *id, *v;
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		v = (const char *)sqlite3_column_text(st, 1);
		if (!id || !v)
			continue;
		if (fn(id, v, sqlite3_column_int(st, 2), ctx)) {
			dzs_done(st);
			return 0;
		}
	}
	dzs_done(st);
	return rc == SQLITE_DONE ? 0 :
	    dzs_fail(s, rc, err, "cannot list the hashes");
}

void
dz_store_export_release(struct dz_store_export *e)
{
	if (e) {
		free(e->files);
		e->files = NULL;
	}
}

int
dz_store_export_get(struct dz_store *s, int64_t seq,
    struct dz_store_export *e, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_export_get, err);
	const char *k, *d, *c, *f;
	int rc;

	memset(e, 0, sizeof *e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		dzs_done(st);
		return rc == SQLITE_DONE ? 0 :
		    dzs_fail(s, rc, err, "cannot look up the exports");
	}
	e->seq = sqlite3_column_int64(st, 0);
	k = (const char *)sqlite3_column_text(st, 1);
	e->since = sqlite3_column_int64(st, 2);
	e->rev = sqlite3_column_int64(st, 3);
	d = (const char *)sqlite3_column_text(st, 4);
	e->entries = sqlite3_column_int64(st, 5);
	e->withdrawals = sqlite3_column_int64(st, 6);
	c = (const char *)sqlite3_column_text(st, 7);
	f = (const char *)sqlite3_column_text(st, 8);
	snprintf(e->kind, sizeof e->kind, "%s", k ? k : "");
	snprintf(e->digest, sizeof e->digest, "%s", d ? d : "");
	snprintf(e->created_at, sizeof e->created_at, "%s", c ? c : "");
	e->files = strdup(f ? f : "[]");
	dzs_done(st);
	if (!e->files)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 1;
}

static int
scalar_int64(struct dz_store *s, const char *sql, int64_t *v,
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql, err);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		dzs_done(st);
		return dzs_fail(s, rc, err, "cannot read the store");
	}
	*v = sqlite3_column_int64(st, 0);
	dzs_done(st);
	return 0;
}

int
dz_store_hash_rev(struct dz_store *s, int64_t *rev, struct dz_err *err)
{
	return scalar_int64(s, sql_hash_rev, rev, err);
}

int
dz_store_export_last_full(struct dz_store *s, int64_t *seq,
    struct dz_err *err)
{
	if (scalar_int64(s, sql_export_last_full, seq, err))
		return -1;
	if (*seq == 0)
		return dz_err_set(err, EX_DATAERR, "there is no full export yet");
	return 0;
}

int
dz_store_export_insert(struct dz_store *s, const struct dz_store_export *e,
    const char *actor, struct dz_err *err)
{
	sqlite3_stmt *st;
	int64_t next;
	char detail[64];

	if (dzs_need_tx(s, err) || dzs_need_now(e->created_at, err) ||
	    scalar_int64(s, sql_export_next, &next, err))
		return -1;
	if (e->seq != next)
		return dz_err_set(err, EX_DATAERR,
		    "export %lld is not the next one (%lld)",
		    (long long)e->seq, (long long)next);
	if (!(st = dzs_stmt(s, sql_export_insert, err)))
		return -1;
	sqlite3_bind_int64(st, 1, e->seq);
	dzs_bind_text(st, 2, e->kind);
	sqlite3_bind_int64(st, 3, e->since);
	sqlite3_bind_int64(st, 4, e->rev);
	dzs_bind_text(st, 5, e->digest);
	sqlite3_bind_int64(st, 6, e->entries);
	sqlite3_bind_int64(st, 7, e->withdrawals);
	dzs_bind_text(st, 8, e->created_at);
	dzs_bind_text(st, 9, e->files ? e->files : "[]");
	if (dzs_run(s, st, err, "cannot record the export"))
		return -1;
	/* what partners now hold: later withdrawals become tombstones */
	if (!(st = dzs_stmt(s, sql_bank_shared, err)))
		return -1;
	sqlite3_bind_int(st, 1, e->min_quality);
	sqlite3_bind_int64(st, 2, e->rev);
	if (dzs_run(s, st, err, "cannot record the export"))
		return -1;
	snprintf(detail, sizeof detail, "bank %lld %s", (long long)e->seq,
	    e->kind);
	return dz_store_audit(s, actor, "export", NULL, NULL, detail,
	    e->created_at, err);
}

int
dz_store_bank_rows(struct dz_store *s, int64_t since_rev, int64_t upto_rev,
    int min_quality, dz_store_bank_fn fn, void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s,
	    since_rev < 0 ? sql_bank_full : sql_bank_delta, err);
	struct dz_store_bank_row r;
	int rc;

	if (!st)
		return -1;
	if (since_rev < 0) {
		sqlite3_bind_int(st, 1, min_quality);
	} else {
		sqlite3_bind_int64(st, 1, since_rev);
		sqlite3_bind_int64(st, 2, upto_rev);
		sqlite3_bind_int(st, 3, min_quality);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.entry_id = (const char *)sqlite3_column_text(st, 0);
		r.signal = (const char *)sqlite3_column_text(st, 1);
		r.value = (const char *)sqlite3_column_text(st, 2);
		r.quality = sqlite3_column_int(st, 3);
		r.category = (const char *)sqlite3_column_text(st, 4);
		r.added_at = (const char *)sqlite3_column_text(st, 5);
		r.withdrawn_at = (const char *)sqlite3_column_text(st, 6);
		if (!r.entry_id || !r.signal || !r.value || !r.category ||
		    !r.added_at) {
			dzs_done(st);
			return dz_err_set(err, EX_DATAERR,
			    "a hash row is incomplete");
		}
		if (fn(&r, ctx)) {
			dzs_done(st);
			return 0;
		}
	}
	dzs_done(st);
	return rc == SQLITE_DONE ? 0 :
	    dzs_fail(s, rc, err, "cannot list the bank's hashes");
}
