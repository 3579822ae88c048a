/*
 * lib/store/storepurge: retention's SQL. See storepurge.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/store.h"
#include "store/storeint.h"
#include "store/storepurge.h"

static const char sql_media_due[] =
    "SELECT i.case_id, i.id, CASE WHEN c.withdrawn_at IS NOT NULL"
    " THEN 'withdrawn' WHEN i.state = 'not_illegal' THEN 'not_illegal'"
    " ELSE 'unverified' END FROM items i JOIN cases c ON c.id = i.case_id"
    " WHERE i.media_key IS NOT NULL AND (c.withdrawn_at IS NOT NULL"
    " OR (i.state <> 'illegal' AND i.created_at <= ?1)) ORDER BY i.rowid";

static const char sql_personal_due[] =
    "SELECT id, NULL, CASE WHEN closed_at IS NOT NULL AND closed_at <= ?1"
    " THEN 'closed' ELSE 'withdrawn' END FROM cases"
    " WHERE purged_at IS NULL AND ((closed_at IS NOT NULL AND"
    " closed_at <= ?1) OR (withdrawn_at IS NOT NULL AND withdrawn_at <= ?1))"
    " ORDER BY rowid";

static const char sql_hashes_due[] =
    "SELECT i.case_id, h.item_id, 'withdrawn' FROM hashes h"
    " JOIN items i ON i.id = h.item_id WHERE h.withdrawn_at IS NOT NULL"
    " AND h.withdrawn_at <= ?1 GROUP BY h.item_id ORDER BY min(h.rowid)";

static const char sql_purge_media[] =
    "UPDATE items SET media_key = NULL, media_purged_at = ?2,"
    " updated_at = ?2 WHERE id = ?1 AND media_key IS NOT NULL";

static const char sql_blobs_left[] =
    "SELECT id, blob FROM items WHERE media_key IS NULL"
    " AND blob IS NOT NULL ORDER BY rowid";

static const char sql_blob_cleared[] =
    "UPDATE items SET blob = NULL WHERE id = ?1 AND media_key IS NULL";

static const char sql_hashes_delete[] =
    "DELETE FROM hashes WHERE item_id = ?1 AND withdrawn_at IS NOT NULL"
    " AND (NOT " DZS_BANK_SIGNALS " OR shared = 0)";

static const char sql_hashes_tomb[] =
    "UPDATE hashes SET item_id = NULL, known_entry = NULL, purged_at = ?2"
    " WHERE item_id = ?1 AND withdrawn_at IS NOT NULL AND " DZS_BANK_SIGNALS
    " AND shared = 1";

static const char sql_case_of[] = "SELECT case_id FROM items WHERE id = ?1";

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Run one of the due queries; what names its rows. */
static int
due(struct dz_store *s, const char *sql, const char *before,
    const char *what, dz_store_purge_fn fn, void *ctx, int *stop,
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql, err);
	int rc;

	if (!st)
		return -1;
	dzs_bind_text(st, 1, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!col(st, 0))
			continue;
		if (fn(what, col(st, 0), col(st, 1), col(st, 2), ctx)) {
			*stop = 1;
			dzs_done(st);
			return 0;
		}
	}
	dzs_done(st);
	return rc == SQLITE_DONE ? 0 :
	    dzs_fail(s, rc, err, "cannot list what is due to go");
}

int
dz_store_purge_due(struct dz_store *s, const struct dz_store_purge_policy *p,
    dz_store_purge_fn fn, void *ctx, struct dz_err *err)
{
	int stop = 0;

	if (due(s, sql_media_due, p->media_before, "media", fn, ctx, &stop,
	    err) || stop)
		return stop ? 0 : -1;
	if (due(s, sql_personal_due, p->personal_before, "personal_data", fn,
	    ctx, &stop, err) || stop)
		return stop ? 0 : -1;
	return due(s, sql_hashes_due, p->hashes_before, "hashes", fn, ctx,
	    &stop, err);
}

/* The case of an item, into case_id[16] ("" when none). */
static int
case_of(struct dz_store *s, const char *item_id, char case_id[16],
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_case_of, err);
	int rc;

	case_id[0] = '\0';
	if (!st)
		return -1;
	dzs_bind_text(st, 1, item_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && col(st, 0))
		snprintf(case_id, 16, "%s", col(st, 0));
	dzs_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dzs_fail(s, rc, err, "cannot look up the item");
	return 0;
}

int
dz_store_purge_media(struct dz_store *s, const char *item_id,
    const char *reason, const char *actor, const char *now,
    struct dz_err *err)
{
	sqlite3_stmt *st;
	char case_id[16], detail[64];
	int changed;

	if (dzs_need_tx(s, err) || case_of(s, item_id, case_id, err))
		return -1;
	if (!(st = dzs_stmt(s, sql_purge_media, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	dzs_bind_text(st, 2, now);
	if (dzs_run(s, st, err, "cannot destroy the media"))
		return -1;
	changed = dzs_changes(s);
	if (!changed)
		return 0;
	snprintf(detail, sizeof detail, "media %s", reason ? reason : "");
	if (dz_store_audit(s, actor, "purge", case_id, item_id, detail, now,
	    err))
		return -1;
	return 1;
}

/* A blob file whose key is gone, left by a killed run. */
struct left {
	char item[32];
	char blob[64];
};

static int
blobs_left(struct dz_store *s, struct left **v, size_t *n,
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_blobs_left, err);
	struct left *nv;
	int rc;

	*v = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *item = col(st, 0), *blob = col(st, 1);

		if (!item || !blob || strlen(item) >= sizeof nv->item ||
		    strlen(blob) >= sizeof nv->blob || strchr(blob, '/'))
			continue;	/* not a name this store makes */
		if (!(nv = realloc(*v, (*n + 1) * sizeof *nv))) {
			dzs_done(st);
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		}
		*v = nv;
		snprintf(nv[*n].item, sizeof nv[*n].item, "%s", item);
		snprintf(nv[*n].blob, sizeof nv[*n].blob, "%s", blob);
		(*n)++;
	}
	dzs_done(st);
	return rc == SQLITE_DONE ? 0 :
	    dzs_fail(s, rc, err, "cannot list the blob files left");
}

int
dz_store_finish_blobs(struct dz_store *s, struct dz_err *err)
{
	struct left *v;
	size_t n;
	int dfd = -1, rc = 0;

	/* the list is read whole first: a write while a read is still open
	 * on the connection could not wait for a writer holding the lock */
	if (blobs_left(s, &v, &n, err)) {
		free(v);
		return -1;
	}
	if (n && (dfd = open(dz_store_blob_dir(s), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		rc = dz_err_set(err, EX_IOERR, "cannot open the blob "
		    "directory: %s", strerror(errno));
	for (size_t i = 0; !rc && i < n; i++) {
		if ((unlinkat(dfd, v[i].blob, 0) != 0 && errno != ENOENT) ||
		    fsync(dfd) != 0)
			rc = dz_err_set(err, EX_IOERR, "cannot remove a "
			    "destroyed item's blob file: %s", strerror(errno));
		else if (dz_store_blob_cleared(s, v[i].item, err))
			rc = -1;
	}
	if (dfd >= 0)
		close(dfd);
	free(v);
	return rc;
}

int
dz_store_blob_cleared(struct dz_store *s, const char *item_id,
    struct dz_err *err)
{
	sqlite3_stmt *st = dzs_stmt(s, sql_blob_cleared, err);

	if (!st)
		return -1;
	dzs_bind_text(st, 1, item_id);
	return dzs_run(s, st, err, "cannot clear the blob file name");
}

int
dz_store_purge_hashes(struct dz_store *s, const char *item_id,
    const char *actor, const char *now, int *deleted, int *kept,
    struct dz_err *err)
{
	sqlite3_stmt *st;
	char case_id[16], detail[64];

	*deleted = *kept = 0;
	if (dzs_need_tx(s, err) || case_of(s, item_id, case_id, err))
		return -1;
	if (!(st = dzs_stmt(s, sql_hashes_delete, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	if (dzs_run(s, st, err, "cannot remove the withdrawn hashes"))
		return -1;
	*deleted = dzs_changes(s);
	if (!(st = dzs_stmt(s, sql_hashes_tomb, err)))
		return -1;
	dzs_bind_text(st, 1, item_id);
	dzs_bind_text(st, 2, now);
	if (dzs_run(s, st, err, "cannot remove the withdrawn hashes"))
		return -1;
	*kept = dzs_changes(s);
	if (!*deleted && !*kept)
		return 0;
	snprintf(detail, sizeof detail, "hashes: %d removed, %d tombstones",
	    *deleted, *kept);
	return dz_store_audit(s, actor, "purge", case_id, item_id, detail, now,
	    err);
}
