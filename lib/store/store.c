#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "core/err.h"
#include "store/store.h"
#include "store/storeint.h"

/*
 * Schema, version 1. Times are RFC 3339 text as the caller gives them.
 *
 * cases: one per submission (submission_id is the form backend's id, the
 *   idempotence key). case_key is the case's own key wrapped by the master
 *   key; contact and description are sealed under it. A purge sets all
 *   three to NULL and purged_at. state is open or closed; closed_at is set
 *   exactly when closed. withdrawn_at is set when the victim withdraws.
 * items: one per reported URL or file, id "<case>-<seq>". has_media says
 *   the item came with a file; media_key (wrapped) and blob (file name
 *   under blobs/) belong to it, and a NULL media_key means the media was
 *   destroyed. state is review, illegal or not_illegal; an illegal item
 *   has a category, the others none; verdict_at is set once reviewed.
 * audit: append-only log of actions, ids and times; never personal data.
 *
 * Tables are STRICT (SQLite 3.37 or later). A migration is a list of
 * statements run in one transaction that also sets PRAGMA user_version;
 * to change the schema, append one and never edit a published one.
 */
static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE cases ("
	" id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 10),"
	" submission_id TEXT NOT NULL UNIQUE,"
	" received_at TEXT NOT NULL,"
	" created_at TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'open'"
	"  CHECK (state IN ('open', 'closed')),"
	" minor INTEGER NOT NULL CHECK (minor IN (0, 1)),"
	" declared_age INTEGER,"
	" language TEXT,"
	" followup INTEGER NOT NULL CHECK (followup IN (0, 1)),"
	" case_key BLOB CHECK (case_key IS NULL OR length(case_key) = 60),"
	" contact BLOB,"
	" description BLOB,"
	" closed_at TEXT,"
	" withdrawn_at TEXT,"
	" purged_at TEXT,"
	" CHECK ((state = 'closed') = (closed_at IS NOT NULL)),"
	" CHECK (case_key IS NOT NULL OR purged_at IS NOT NULL),"
	" CHECK (purged_at IS NULL OR (case_key IS NULL AND contact IS NULL"
	"  AND description IS NULL))"
	") STRICT;"
	"CREATE TABLE items ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" case_id TEXT NOT NULL REFERENCES cases(id),"
	" seq INTEGER NOT NULL CHECK (seq > 0),"
	" url TEXT,"
	" media_type TEXT,"
	" media_size INTEGER CHECK (media_size IS NULL OR media_size >= 0),"
	" has_media INTEGER NOT NULL CHECK (has_media IN (0, 1)),"
	" media_key BLOB CHECK (media_key IS NULL OR length(media_key) = 60),"
	" blob TEXT UNIQUE,"
	" state TEXT NOT NULL DEFAULT 'review'"
	"  CHECK (state IN ('review', 'illegal', 'not_illegal')),"
	" category TEXT CHECK (category IN ('adult_ncii', 'minor', 'other')),"
	" verdict_at TEXT,"
	" created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL,"
	" UNIQUE (case_id, seq),"
	" CHECK ((state = 'illegal') = (category IS NOT NULL)),"
	" CHECK ((state = 'review') = (verdict_at IS NULL)),"
	" CHECK (has_media OR (media_key IS NULL AND blob IS NULL))"
	") STRICT;"
	"CREATE INDEX items_state ON items(state);"
	"CREATE TABLE audit ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at TEXT NOT NULL,"
	" actor TEXT,"
	" action TEXT NOT NULL,"
	" case_id TEXT,"
	" item_id TEXT,"
	" detail TEXT"
	") STRICT;"
	"CREATE INDEX audit_case ON audit(case_id);",
	/* 2: hashes and the partner bank's exports */
	"ALTER TABLE items ADD COLUMN hashed_at TEXT;"
	"CREATE TABLE hashes ("
	" entry_id TEXT PRIMARY KEY NOT NULL CHECK (length(entry_id) = 32),"
	" item_id TEXT NOT NULL REFERENCES items(id),"
	" signal TEXT NOT NULL CHECK (signal IN ('pdq', 'md5', 'sha256')),"
	" value TEXT NOT NULL,"
	" quality INTEGER CHECK (quality IS NULL OR quality BETWEEN 0 AND 100),"
	" category TEXT NOT NULL"
	"  CHECK (category IN ('adult_ncii', 'minor', 'other')),"
	" known_entry TEXT,"
	" added_at TEXT NOT NULL,"
	" withdrawn_at TEXT,"
	" rev INTEGER NOT NULL CHECK (rev > 0),"
	" UNIQUE (item_id, signal, value)"
	") STRICT;"
	"CREATE INDEX hashes_rev ON hashes(rev);"
	"CREATE INDEX hashes_item ON hashes(item_id);"
	"CREATE TABLE exports ("
	" seq INTEGER PRIMARY KEY CHECK (seq > 0),"
	" kind TEXT NOT NULL CHECK (kind IN ('full', 'delta')),"
	" since INTEGER CHECK ((kind = 'full') = (since IS NULL)),"
	" rev INTEGER NOT NULL CHECK (rev >= 0),"
	" digest TEXT NOT NULL CHECK (length(digest) = 64),"
	" entries INTEGER NOT NULL CHECK (entries >= 0),"
	" withdrawals INTEGER NOT NULL CHECK (withdrawals >= 0),"
	" created_at TEXT NOT NULL,"
	" files TEXT NOT NULL"
	") STRICT;",
	/*
	 * 3: notices, retention. A hash row may outlive its item (item_id
	 * NULL once purged: a withdrawn PDQ kept as a tombstone for deltas),
	 * and remembers whether an export ever gave it to partners (shared):
	 * only those are sent as tombstones. For rows from before, shared is
	 * guessed from the exports made since the row last changed.
	 */
	"ALTER TABLE items ADD COLUMN removed_at TEXT;"
	"ALTER TABLE items ADD COLUMN media_purged_at TEXT;"
	"CREATE TABLE hashes3 ("
	" entry_id TEXT PRIMARY KEY NOT NULL CHECK (length(entry_id) = 32),"
	" item_id TEXT REFERENCES items(id),"
	" signal TEXT NOT NULL CHECK (signal IN ('pdq', 'md5', 'sha256')),"
	" value TEXT NOT NULL,"
	" quality INTEGER CHECK (quality IS NULL OR quality BETWEEN 0 AND 100),"
	" category TEXT NOT NULL"
	"  CHECK (category IN ('adult_ncii', 'minor', 'other')),"
	" known_entry TEXT,"
	" added_at TEXT NOT NULL,"
	" withdrawn_at TEXT,"
	" rev INTEGER NOT NULL CHECK (rev > 0),"
	" shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),"
	" purged_at TEXT,"
	" UNIQUE (item_id, signal, value),"
	" CHECK ((item_id IS NULL) = (purged_at IS NOT NULL)),"
	" CHECK (purged_at IS NULL OR withdrawn_at IS NOT NULL)"
	") STRICT;"
	"INSERT INTO hashes3 (entry_id, item_id, signal, value, quality,"
	" category, known_entry, added_at, withdrawn_at, rev, shared)"
	" SELECT entry_id, item_id, signal, value, quality, category,"
	" known_entry, added_at, withdrawn_at, rev,"
	" signal = 'pdq' AND EXISTS (SELECT 1 FROM exports"
	"  WHERE exports.rev >= hashes.rev"
	"  OR (hashes.withdrawn_at IS NOT NULL"
	"  AND exports.created_at >= hashes.added_at))"
	" FROM hashes;"
	"DROP TABLE hashes;"
	"ALTER TABLE hashes3 RENAME TO hashes;"
	"CREATE INDEX hashes_rev ON hashes(rev);"
	"CREATE INDEX hashes_item ON hashes(item_id);"
	"CREATE TABLE notices ("
	" id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16),"
	" kind TEXT NOT NULL CHECK (kind IN ('provider', 'reminder', 'victim')),"
	" provider TEXT,"
	" recipient TEXT,"
	" case_id TEXT REFERENCES cases(id),"
	" language TEXT NOT NULL,"
	" message_id TEXT NOT NULL UNIQUE,"
	" in_reply_to TEXT,"
	" created_at TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending'"
	"  CHECK (state IN ('pending', 'sent', 'cancelled')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" sent_at TEXT,"
	" delivery TEXT,"
	" CHECK ((state = 'sent') = (sent_at IS NOT NULL)),"
	" CHECK ((kind = 'victim') = (case_id IS NOT NULL)),"
	" CHECK ((kind = 'victim') = (recipient IS NULL))"
	") STRICT;"
	"CREATE INDEX notices_state ON notices(state);"
	"CREATE TABLE notice_items ("
	" notice_id TEXT NOT NULL REFERENCES notices(id),"
	" item_id TEXT NOT NULL REFERENCES items(id),"
	" PRIMARY KEY (notice_id, item_id)"
	") STRICT;"
	"CREATE INDEX notice_items_item ON notice_items(item_id);",
	/*
	 * 4: videos. A video's hashes are its file's MD5 ("video_md5", the
	 * name ThreatExchange gives it, shared with partners; an image's
	 * "md5" is not), SHA-256 and vPDQ signature ("vpdq": the JSON array
	 * of lib/hash/vpdq as value, quality the best frame's). SQLite cannot
	 * change a CHECK in place: the table is copied.
	 */
	"CREATE TABLE hashes4 ("
	" entry_id TEXT PRIMARY KEY NOT NULL CHECK (length(entry_id) = 32),"
	" item_id TEXT REFERENCES items(id),"
	" signal TEXT NOT NULL"
	"  CHECK (signal IN ('pdq', 'md5', 'sha256', 'video_md5', 'vpdq')),"
	" value TEXT NOT NULL,"
	" quality INTEGER CHECK (quality IS NULL OR quality BETWEEN 0 AND 100),"
	" category TEXT NOT NULL"
	"  CHECK (category IN ('adult_ncii', 'minor', 'other')),"
	" known_entry TEXT,"
	" added_at TEXT NOT NULL,"
	" withdrawn_at TEXT,"
	" rev INTEGER NOT NULL CHECK (rev > 0),"
	" shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),"
	" purged_at TEXT,"
	" UNIQUE (item_id, signal, value),"
	" CHECK ((item_id IS NULL) = (purged_at IS NOT NULL)),"
	" CHECK (purged_at IS NULL OR withdrawn_at IS NOT NULL)"
	") STRICT;"
	"INSERT INTO hashes4 (entry_id, item_id, signal, value, quality,"
	" category, known_entry, added_at, withdrawn_at, rev, shared, purged_at)"
	" SELECT entry_id, item_id, signal, value, quality, category,"
	" known_entry, added_at, withdrawn_at, rev, shared, purged_at"
	" FROM hashes ORDER BY rowid;"
	"DROP TABLE hashes;"
	"ALTER TABLE hashes4 RENAME TO hashes;"
	"CREATE INDEX hashes_rev ON hashes(rev);"
	"CREATE INDEX hashes_item ON hashes(item_id);",
	/*
	 * 5: notices per URL, one legal ground each. url_key is an item's
	 * URL normalised by lib/work/notify (filled when dz-notify plans):
	 * one URL reported in several cases is notified once, and every
	 * item of it is covered by that notice. A provider notice or
	 * reminder records its category (the legal ground it cites).
	 */
	"ALTER TABLE items ADD COLUMN url_key TEXT;"
	"CREATE INDEX items_url_key ON items(url_key);"
	"ALTER TABLE notices ADD COLUMN category TEXT"
	" CHECK (category IS NULL"
	"  OR category IN ('adult_ncii', 'minor', 'other'));"
	/*
	 * ... and what providers did. still_online_at: when an operator
	 * last saw the content still there (a reminder says so only then).
	 * outcome: what the provider answered, besides removed_at: refused
	 * (outcome_reason, the provider's words) or no_answer (set when the
	 * reminders ran out). escalations: an item whose reminders ran out,
	 * for the desk's queue (a complaint to the DSA coordinator) until
	 * done_at.
	 */
	"ALTER TABLE items ADD COLUMN still_online_at TEXT;"
	"ALTER TABLE items ADD COLUMN outcome TEXT"
	" CHECK (outcome IS NULL OR outcome IN ('refused', 'no_answer'));"
	"ALTER TABLE items ADD COLUMN outcome_reason TEXT;"
	"ALTER TABLE items ADD COLUMN outcome_at TEXT;"
	"CREATE TABLE escalations ("
	" item_id TEXT PRIMARY KEY NOT NULL REFERENCES items(id),"
	" notice_id TEXT NOT NULL REFERENCES notices(id),"
	" provider TEXT,"
	" reminders INTEGER NOT NULL CHECK (reminders >= 0),"
	" created_at TEXT NOT NULL,"
	" done_at TEXT"
	") STRICT;"
	"CREATE INDEX escalations_open ON escalations(done_at);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

#define CASE_COLS "id, submission_id, state, received_at, minor, language," \
	" followup, (SELECT count(*) FROM items WHERE case_id = cases.id)," \
	" closed_at, withdrawn_at, purged_at"
#define ITEM_COLS "id, case_id, state, url, media_type, media_size," \
	" has_media, category, verdict_at"

/* Every statement, prepared once on first use; values are always bound. */
enum {
	S_CASE_EXISTS, S_CASE_BY_SUB, S_CASE_INSERT, S_ITEM_INSERT, S_AUDIT,
	S_ITEM_VERDICT_GET, S_ITEM_VERDICT_SET, S_CASE_STATE, S_CASE_CLOSE,
	S_CASE_WITHDRAW, S_CASE_PURGE, S_LIST_CASES, S_CASE_GET, S_LIST_ITEMS,
	S_CASE_SECRETS, S_ITEM_MEDIA, S_BLOB_REF, S_HASH_WITHDRAW_ITEM,
	S_HASH_WITHDRAW_CASE, S_HASH_REINSTATE_ITEM,
	S_COUNT
};

static const char *const sql_text[S_COUNT] = {
	[S_CASE_EXISTS] = "SELECT 1 FROM cases WHERE id = ?1",
	[S_CASE_BY_SUB] = "SELECT id FROM cases WHERE submission_id = ?1",
	[S_CASE_INSERT] = "INSERT INTO cases (id, submission_id, received_at,"
	    " created_at, state, minor, declared_age, language, followup,"
	    " case_key, contact, description)"
	    " VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_ITEM_INSERT] = "INSERT INTO items (id, case_id, seq, url, media_type,"
	    " media_size, has_media, media_key, blob, state, created_at,"
	    " updated_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'review', ?10, ?10)",
	[S_AUDIT] = "INSERT INTO audit (at, actor, action, case_id, item_id,"
	    " detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_ITEM_VERDICT_GET] = "SELECT items.case_id, items.state,"
	    " items.category, cases.withdrawn_at FROM items"
	    " JOIN cases ON cases.id = items.case_id WHERE items.id = ?1",
	[S_ITEM_VERDICT_SET] = "UPDATE items SET state = ?2, category = ?3,"
	    " verdict_at = ?4, updated_at = ?4 WHERE id = ?1",
	[S_CASE_STATE] = "SELECT state, withdrawn_at, purged_at FROM cases"
	    " WHERE id = ?1",
	[S_CASE_CLOSE] = "UPDATE cases SET state = 'closed', closed_at = ?2"
	    " WHERE id = ?1 AND state = 'open'",
	[S_CASE_WITHDRAW] = "UPDATE cases SET withdrawn_at = ?2"
	    " WHERE id = ?1 AND withdrawn_at IS NULL",
	[S_CASE_PURGE] = "UPDATE cases SET case_key = NULL, contact = NULL,"
	    " description = NULL, purged_at = ?2"
	    " WHERE id = ?1 AND purged_at IS NULL",
	[S_LIST_CASES] = "SELECT " CASE_COLS " FROM cases"
	    " WHERE ?1 IS NULL OR state = ?1 ORDER BY rowid",
	[S_CASE_GET] = "SELECT " CASE_COLS " FROM cases WHERE id = ?1",
	[S_LIST_ITEMS] = "SELECT " ITEM_COLS " FROM items"
	    " WHERE ?1 IS NULL OR state = ?1 ORDER BY rowid",
	[S_CASE_SECRETS] = "SELECT case_key, contact, description FROM cases"
	    " WHERE id = ?1",
	[S_ITEM_MEDIA] = "SELECT has_media, media_key, blob FROM items"
	    " WHERE id = ?1",
	[S_BLOB_REF] = "SELECT 1 FROM items WHERE blob = ?1"
	    " AND media_key IS NOT NULL",
	[S_HASH_WITHDRAW_ITEM] = "UPDATE hashes SET withdrawn_at = ?2,"
	    " rev = " DZS_NEXT_REV
	    " WHERE item_id = ?1 AND withdrawn_at IS NULL",
	[S_HASH_WITHDRAW_CASE] = "UPDATE hashes SET withdrawn_at = ?2,"
	    " rev = " DZS_NEXT_REV
	    " WHERE withdrawn_at IS NULL"
	    " AND item_id IN (SELECT id FROM items WHERE case_id = ?1)",
	[S_HASH_REINSTATE_ITEM] = "UPDATE hashes SET withdrawn_at = NULL,"
	    " category = ?2, rev = " DZS_NEXT_REV
	    " WHERE item_id = ?1"
	    " AND (withdrawn_at IS NOT NULL OR category <> ?2)",
};

/* One connection, used by one thread at a time (SQLITE_OPEN_NOMUTEX). */
#define EXT_STMT_MAX 64	/* statements of lib/store/store*.c beyond this file */

struct dz_store {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	struct { const char *sql; sqlite3_stmt *st; } ext[EXT_STMT_MAX];
	char *dir;
	char *blob_dir;
	int version;
};

#define BUSY_TIMEOUT_MS 10000
#define NEW_ID_TRIES 16

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The random source for case ids; tests may replace it. */
static int (*store_random)(unsigned char *, int) = RAND_bytes;

/* ---------- errors and statements ---------- */

static int
ex_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EX_TEMPFAIL;
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return EX_IOERR;
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return EX_CANTCREAT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CONSTRAINT:
		return EX_DATAERR;
	case SQLITE_NOMEM:
		return EX_SOFTWARE;
	default:
		return EX_SOFTWARE;
	}
}

/*
 * Fill err from the connection's last error. SQLite's messages name
 * tables, columns and constraints, never the values bound to a statement.
 */
static int
db_fail(struct dz_store *s, int rc, struct dz_err *err, const char *what)
{
	return dz_err_set(err, ex_code(rc), "%s: %s", what,
	    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

static sqlite3_stmt *
stmt(struct dz_store *s, int which, struct dz_err *err)
{
	int rc;

	if (!s->st[which]) {
		rc = sqlite3_prepare_v3(s->db, sql_text[which], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[which], NULL);
		if (rc != SQLITE_OK) {
			db_fail(s, rc, err, "cannot prepare a statement");
			return NULL;
		}
	} else if (sqlite3_stmt_busy(s->st[which])) {
		dz_err_set(err, EX_SOFTWARE, "store statement used re-entrantly");
		return NULL;
	}
	return s->st[which];
}

/* Reset st and drop its bindings (which may point at caller memory). */
static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_blob(sqlite3_stmt *st, int i, const void *v, size_t len)
{
	if (v)
		sqlite3_bind_blob64(st, i, v, len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Step a statement expected to return no row; reset it either way. */
static int
run(struct dz_store *s, sqlite3_stmt *st, struct dz_err *err, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		db_fail(s, rc, err, what);
		done(st);
		return -1;
	}
	done(st);
	return 0;
}

/* Run SQL text that holds no values (pragmas, DDL, transactions). */
static int
exec(struct dz_store *s, const char *sql, struct dz_err *err, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(s, rc, err, what);
}

static int
need_tx(struct dz_store *s, struct dz_err *err)
{
	if (sqlite3_get_autocommit(s->db))
		return dz_err_set(err, EX_SOFTWARE,
		    "store write outside a transaction");
	return 0;
}

static int
need_now(const char *now, struct dz_err *err)
{
	if (!now || !*now)
		return dz_err_set(err, EX_SOFTWARE, "no time given");
	return 0;
}

/* ---------- for the other lib/store/store*.c files (storeint.h) ---------- */

sqlite3_stmt *
dzs_stmt(struct dz_store *s, const char *sql, struct dz_err *err)
{
	int i, rc;

	for (i = 0; i < EXT_STMT_MAX && s->ext[i].sql; i++)
		if (s->ext[i].sql == sql)
			break;
	if (i == EXT_STMT_MAX) {
		dz_err_set(err, EX_SOFTWARE, "too many store statements");
		return NULL;
	}
	if (!s->ext[i].st) {
		rc = sqlite3_prepare_v3(s->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &s->ext[i].st, NULL);
		if (rc != SQLITE_OK) {
			db_fail(s, rc, err, "cannot prepare a statement");
			return NULL;
		}
		s->ext[i].sql = sql;
	} else if (sqlite3_stmt_busy(s->ext[i].st)) {
		dz_err_set(err, EX_SOFTWARE, "store statement used re-entrantly");
		return NULL;
	}
	return s->ext[i].st;
}

void
dzs_done(sqlite3_stmt *st)
{
	done(st);
}

void
dzs_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	bind_text(st, i, v);
}

int
dzs_run(struct dz_store *s, sqlite3_stmt *st, struct dz_err *err,
    const char *what)
{
	return run(s, st, err, what);
}

int
dzs_fail(struct dz_store *s, int rc, struct dz_err *err, const char *what)
{
	return db_fail(s, rc, err, what);
}

int
dzs_rows(struct dz_store *s, sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *),
    int (*fn)(json_t *, void *), void *ctx, struct dz_err *err,
    const char *what)
{
	json_t *rows = json_array(), *r;
	size_t i;
	int rc;

	if (!rows) {
		done(st);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!(r = row(st)) || json_array_append_new(rows, r)) {
			done(st);
			json_decref(rows);
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		}
	done(st);
	if (rc != SQLITE_DONE) {
		json_decref(rows);
		return db_fail(s, rc, err, what);
	}
	for (i = 0; i < json_array_size(rows); i++)
		if (fn(json_incref(json_array_get(rows, i)), ctx))
			break;
	json_decref(rows);
	return 0;
}

int
dzs_need_tx(struct dz_store *s, struct dz_err *err)
{
	return need_tx(s, err);
}

int
dzs_changes(struct dz_store *s)
{
	return sqlite3_changes(s->db);
}

int
dzs_random(unsigned char *buf, int n)
{
	return store_random(buf, n);
}

int
dzs_need_now(const char *now, struct dz_err *err)
{
	return need_now(now, err);
}

static int
valid_case_id(const char *id)
{
	size_t i;

	if (!id)
		return 0;
	for (i = 0; i < DZ_CASE_ID_LEN; i++)
		if (!id[i] || !strchr(crockford, id[i]))
			return 0;
	return id[i] == '\0';
}

int
dzs_valid_blob_name(const char *b)
{
	if (!b || !*b || *b == '.' || strlen(b) > NAME_MAX)
		return 0;
	for (; *b; b++)
		if (*b == '/' || (unsigned char)*b < 0x20)
			return 0;
	return 1;
}

/* ---------- opening ---------- */

static int
pragma_int(struct dz_store *s, const char *sql, int *out, struct dz_err *err)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, "cannot read the store settings");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(s, rc, err, "cannot read the store settings");
		sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int
set_wal(struct dz_store *s, struct dz_err *err)
{
	sqlite3_stmt *st;
	const char *mode;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1,
	    &st, NULL);

	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, "cannot set WAL mode");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(s, rc, err, "cannot set WAL mode");
		sqlite3_finalize(st);
		return -1;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	rc = mode && strcmp(mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!rc)
		return dz_err_set(err, EX_CANTCREAT,
		    "the store's file system does not support WAL mode");
	return 0;
}

static int
migrate(struct dz_store *s, struct dz_err *err)
{
	char sql[64];
	int v;

	if (pragma_int(s, "PRAGMA user_version", &v, err))
		return -1;
	if (v > SCHEMA_VERSION)
		return dz_err_set(err, EX_CONFIG,
		    "the store has schema version %d; this program knows "
		    "versions up to %d", v, SCHEMA_VERSION);
	while (v < SCHEMA_VERSION) {
		if (exec(s, "BEGIN IMMEDIATE", err, "cannot upgrade the store"))
			return -1;
		/* another process may have migrated while we waited */
		if (pragma_int(s, "PRAGMA user_version", &v, err))
			goto fail;
		if (v >= SCHEMA_VERSION) {
			if (exec(s, "COMMIT", err, "cannot upgrade the store"))
				goto fail;
			break;
		}
		/* our own constant, not a value: PRAGMA takes no parameters */
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (exec(s, migrations[v], err, "cannot upgrade the store") ||
		    exec(s, sql, err, "cannot upgrade the store") ||
		    exec(s, "COMMIT", err, "cannot upgrade the store"))
			goto fail;
		v++;
	}
	s->version = v;
	return 0;
fail:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* mkdir mode 0700; an existing directory is fine. 1 if created. */
static int
make_dir(const char *path, const char *what, struct dz_err *err)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 1;
	if (errno != EEXIST)
		return dz_err_set(err, EX_CANTCREAT, "cannot create the %s: %s",
		    what, strerror(errno));
	if (stat(path, &st) != 0)
		return dz_err_set(err, EX_CANTCREAT, "cannot open the %s: %s",
		    what, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dz_err_set(err, EX_CANTCREAT, "the %s is not a directory",
		    what);
	return 0;
}

/* malloc'd "a/b" (or "a" alone when b is NULL); NULL when out of memory. */
static char *
path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s%s", a, b ? "/" : "", b ? b : "");
	return p;
}

/* fsync the directory path, or the one that holds it when parent is set. */
static int
sync_dir(const char *path, int parent, struct dz_err *err)
{
	char *d = path_join(path, NULL), *slash;
	int fd, rc, e;

	if (!d)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (parent) {
		size_t n = strlen(d);
		while (n > 1 && d[n - 1] == '/')
			d[--n] = '\0';
		slash = strrchr(d, '/');
		if (!slash)
			strcpy(d, ".");
		else if (slash == d)
			d[1] = '\0';
		else
			*slash = '\0';
	}
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e = errno;
	free(d);
	if (fd >= 0) {
		rc = fsync(fd);
		e = errno;
		close(fd);
		if (rc == 0)
			return 0;
	}
	return dz_err_set(err, EX_IOERR, "cannot sync the store directory: %s",
	    strerror(e));
}


/* What every connection to the store gets, read-write or read-only. */
static void
harden_connection(sqlite3 *db)
{
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
}

static int
open_db(struct dz_store *s, const char *dir, struct dz_err *err)
{
	char *path;
	int rc, created, blobs_created;

	created = make_dir(dir, "store directory", err);
	if (created < 0)
		return -1;
	if (!(s->dir = path_join(dir, NULL)) ||
	    !(s->blob_dir = path_join(dir, "blobs")))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	blobs_created = make_dir(s->blob_dir, "blob directory", err);
	if (blobs_created < 0)
		return -1;
	if (!(path = path_join(dir, "store.db")))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
	    SQLITE_OPEN_EXRESCODE, NULL);
	free(path);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, "cannot open the store database");
	harden_connection(s->db);
	if (exec(s, "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;"
	    " PRAGMA trusted_schema = OFF", err, "cannot set up the store") ||
	    set_wal(s, err) ||
	    exec(s, "PRAGMA synchronous = FULL", err,
	    "cannot set up the store") ||
	    migrate(s, err))
		return -1;
	if ((blobs_created && sync_dir(dir, 0, err)) ||
	    (created && sync_dir(dir, 1, err)))
		return -1;
	return 0;
}

int
dz_store_open(const char *dir, struct dz_store **out, struct dz_err *err)
{
	struct dz_store *s;
	mode_t old;
	int rc;

	*out = NULL;
	if (!(s = calloc(1, sizeof *s)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	/*
	 * Everything the store creates is private: directories 0700, the
	 * database 0600 (SQLite gives -wal and -shm the database's mode).
	 * The umask is process-wide: open the store before starting threads.
	 */
	old = umask(077);
	rc = open_db(s, dir, err);
	umask(old);
	if (rc) {
		dz_store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

static int
open_db_readonly(struct dz_store *s, const char *dir, struct dz_err *err)
{
	struct stat st;
	char *path;
	int rc, v;

	if (!(s->dir = path_join(dir, NULL)) ||
	    !(s->blob_dir = path_join(dir, "blobs")) ||
	    !(path = path_join(dir, "store.db")))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		free(path);
		return dz_err_set(err, EX_NOINPUT, "there is no store database "
		    "in the store directory");
	}
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
	    NULL);
	free(path);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, "cannot open the store database");
	harden_connection(s->db);
	if (exec(s, "PRAGMA query_only = ON; PRAGMA trusted_schema = OFF",
	    err, "cannot set up the store") ||
	    pragma_int(s, "PRAGMA user_version", &v, err))
		return -1;
	if (v > SCHEMA_VERSION)
		return dz_err_set(err, EX_CONFIG,
		    "the store has schema version %d; this program knows "
		    "versions up to %d", v, SCHEMA_VERSION);
	if (v < SCHEMA_VERSION)
		return dz_err_set(err, EX_CONFIG,
		    "the store has schema version %d, older than %d: "
		    "'dz-export cases >/dev/null' upgrades it", v,
		    SCHEMA_VERSION);
	s->version = v;
	return 0;
}

int
dz_store_open_readonly(const char *dir, struct dz_store **out,
    struct dz_err *err)
{
	struct dz_store *s;

	*out = NULL;
	if (!(s = calloc(1, sizeof *s)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (open_db_readonly(s, dir, err)) {
		dz_store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
dz_store_close(struct dz_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (int i = 0; i < EXT_STMT_MAX; i++)
		sqlite3_finalize(s->ext[i].st);
	sqlite3_close(s->db);	/* rolls back an open transaction */
	free(s->dir);
	free(s->blob_dir);
	free(s);
}

const char *
dz_store_blob_dir(const struct dz_store *s)
{
	return s->blob_dir;
}

int
dz_store_lock(struct dz_store *s, const char *name, const char *busy,
    struct dz_err *err)
{
	char *path = path_join(s->dir, name);
	int fd;

	if (!path)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return dz_err_set(err, EX_CANTCREAT, "cannot open the lock "
		    "'%s': %s", name, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return dz_err_set(err, EX_TEMPFAIL, "%s", busy);
		return dz_err_set(err, EX_IOERR, "cannot lock '%s': %s", name,
		    strerror(e));
	}
	return fd;
}

int
dz_store_schema_version(struct dz_store *s)
{
	return s->version;
}

/* ---------- transactions ---------- */

int
dz_store_begin(struct dz_store *s, struct dz_err *err)
{
	if (!sqlite3_get_autocommit(s->db))
		return dz_err_set(err, EX_SOFTWARE,
		    "a store transaction is already open");
	return exec(s, "BEGIN IMMEDIATE", err, "cannot start a transaction");
}

int
dz_store_commit(struct dz_store *s, struct dz_err *err)
{
	if (sqlite3_get_autocommit(s->db))
		return dz_err_set(err, EX_SOFTWARE, "no store transaction to commit");
	return exec(s, "COMMIT", err, "cannot commit");
}

void
dz_store_rollback(struct dz_store *s)
{
	if (s && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int
dz_store_read_begin(struct dz_store *s, struct dz_err *err)
{
	if (!sqlite3_get_autocommit(s->db))
		return dz_err_set(err, EX_SOFTWARE,
		    "a store transaction is already open");
	/* BEGIN alone takes no lock: the first read takes the snapshot */
	if (exec(s, "BEGIN DEFERRED", err, "cannot start a transaction") ||
	    exec(s, "SELECT count(*) FROM sqlite_schema", err,
	    "cannot read the store")) {
		dz_store_rollback(s);
		return -1;
	}
	return 0;
}

void
dz_store_read_end(struct dz_store *s)
{
	dz_store_rollback(s);	/* nothing was written: ending is rolling back */
}

/* ---------- ids ---------- */

int
dz_store_new_case_id(struct dz_store *s, char id[DZ_CASE_ID_LEN + 1],
    struct dz_err *err)
{
	sqlite3_stmt *st;
	unsigned char r[7];
	uint64_t bits;
	int rc;

	for (int tries = 0; tries < NEW_ID_TRIES; tries++) {
		if (store_random(r, sizeof r) != 1)
			return dz_err_set(err, EX_SOFTWARE,
			    "no random bytes for a case id");
		bits = 0;
		for (size_t i = 0; i < sizeof r; i++)
			bits = bits << 8 | r[i];
		bits >>= 6;	/* 56 -> 50 bits */
		for (int i = DZ_CASE_ID_LEN - 1; i >= 0; i--, bits >>= 5)
			id[i] = crockford[bits & 31];
		id[DZ_CASE_ID_LEN] = '\0';

		if (!(st = stmt(s, S_CASE_EXISTS, err)))
			return -1;
		bind_text(st, 1, id);
		rc = sqlite3_step(st);
		done(st);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return db_fail(s, rc, err, "cannot look up a case id");
	}
	id[0] = '\0';
	return dz_err_set(err, EX_SOFTWARE,
	    "no free case id after %d tries", NEW_ID_TRIES);
}

/* ---------- writes ---------- */

int
dz_store_case_by_submission(struct dz_store *s, const char *submission_id,
    char id[DZ_CASE_ID_LEN + 1], struct dz_err *err)
{
	sqlite3_stmt *st = stmt(s, S_CASE_BY_SUB, err);
	const char *v;
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, submission_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, 0);
		if (!valid_case_id(v)) {
			done(st);
			return dz_err_set(err, EX_DATAERR,
			    "the store holds a malformed case id");
		}
		memcpy(id, v, DZ_CASE_ID_LEN + 1);
		done(st);
		return 1;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, err, "cannot look up the submission");
	return 0;
}

int
dz_store_case_insert(struct dz_store *s, const struct dz_case *c,
    const char *now, struct dz_err *err)
{
	sqlite3_stmt *st;

	if (need_tx(s, err) || need_now(now, err))
		return -1;
	if (!valid_case_id(c->id))
		return dz_err_set(err, EX_DATAERR, "malformed case id");
	if (!c->submission_id || !*c->submission_id || !c->received_at)
		return dz_err_set(err, EX_DATAERR,
		    "a case needs a submission id and a reception time");
	if (!(st = stmt(s, S_CASE_INSERT, err)))
		return -1;
	bind_text(st, 1, c->id);
	bind_text(st, 2, c->submission_id);
	bind_text(st, 3, c->received_at);
	bind_text(st, 4, now);
	sqlite3_bind_int(st, 5, !!c->minor);
	if (c->declared_age >= 0)
		sqlite3_bind_int(st, 6, c->declared_age);
	else
		sqlite3_bind_null(st, 6);
	bind_text(st, 7, c->language);
	sqlite3_bind_int(st, 8, !!c->followup);
	bind_blob(st, 9, c->wrapped_key, sizeof c->wrapped_key);
	bind_blob(st, 10, c->contact, c->contact_len);
	bind_blob(st, 11, c->description, c->description_len);
	if (run(s, st, err, "cannot insert the case"))
		return -1;
	return dz_store_audit(s, NULL, "ingest", c->id, NULL, NULL, now, err);
}

/* "<case_id>-<n>", n a decimal number from 1 without leading zeros. */
static long
item_seq(const char *item_id, const char *case_id)
{
	const char *p;
	long n = 0;

	if (!valid_case_id(case_id) ||
	    strncmp(item_id, case_id, DZ_CASE_ID_LEN) != 0 ||
	    item_id[DZ_CASE_ID_LEN] != '-')
		return -1;
	p = item_id + DZ_CASE_ID_LEN + 1;
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || n > 99999999)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

int
dz_store_item_insert(struct dz_store *s, const struct dz_item *it,
    const char *now, struct dz_err *err)
{
	sqlite3_stmt *st;
	long seq;

	if (need_tx(s, err) || need_now(now, err))
		return -1;
	if (!memchr(it->id, '\0', sizeof it->id) || !it->case_id ||
	    (seq = item_seq(it->id, it->case_id)) < 0)
		return dz_err_set(err, EX_DATAERR,
		    "malformed item id (want the case id, '-' and a number)");
	if (it->has_media && !dzs_valid_blob_name(it->blob))
		return dz_err_set(err, EX_DATAERR,
		    "an item with media needs a blob file name");
	if (it->media_size > INT64_MAX)
		return dz_err_set(err, EX_DATAERR, "media size out of range");
	if (!(st = stmt(s, S_ITEM_INSERT, err)))
		return -1;
	bind_text(st, 1, it->id);
	bind_text(st, 2, it->case_id);
	sqlite3_bind_int64(st, 3, seq);
	bind_text(st, 4, it->url);
	if (it->has_media) {
		bind_text(st, 5, it->media_type);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)it->media_size);
		sqlite3_bind_int(st, 7, 1);
		bind_blob(st, 8, it->wrapped_key, sizeof it->wrapped_key);
		bind_text(st, 9, it->blob);
	} else {
		sqlite3_bind_null(st, 5);
		sqlite3_bind_null(st, 6);
		sqlite3_bind_int(st, 7, 0);
		sqlite3_bind_null(st, 8);
		sqlite3_bind_null(st, 9);
	}
	bind_text(st, 10, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		int rc = sqlite3_extended_errcode(s->db);
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			dz_err_set(err, EX_DATAERR,
			    "cannot insert the item: no such case");
		else
			db_fail(s, rc, err, "cannot insert the item");
		done(st);
		return -1;
	}
	done(st);
	return dz_store_audit(s, NULL, "item", it->case_id, it->id,
	    it->has_media ? "media" : "url", now, err);
}

int
dz_store_audit(struct dz_store *s, const char *actor, const char *action,
    const char *case_id, const char *item_id, const char *detail,
    const char *now, struct dz_err *err)
{
	sqlite3_stmt *st;

	if (need_now(now, err))
		return -1;
	if (!action || !*action)
		return dz_err_set(err, EX_SOFTWARE, "audit entry without action");
	if (!(st = stmt(s, S_AUDIT, err)))
		return -1;
	bind_text(st, 1, now);
	bind_text(st, 2, actor);
	bind_text(st, 3, action);
	bind_text(st, 4, case_id);
	bind_text(st, 5, item_id);
	bind_text(st, 6, detail);
	return run(s, st, err, "cannot write the audit log");
}

const char *
dz_verdict_name(enum dz_verdict v)
{
	return v == DZ_VERDICT_ILLEGAL ? "illegal" : "not_illegal";
}

static const char *const category_names[] = {
	[DZ_CAT_NONE] = "none",
	[DZ_CAT_ADULT_NCII] = "adult_ncii",
	[DZ_CAT_MINOR] = "minor",
	[DZ_CAT_OTHER] = "other",
};

const char *
dz_category_name(enum dz_category c)
{
	if ((unsigned)c >= sizeof category_names / sizeof category_names[0])
		return "none";
	return category_names[c];
}

int
dz_category_parse(const char *str, enum dz_category *c)
{
	for (size_t i = 0; str && i < sizeof category_names /
	    sizeof category_names[0]; i++)
		if (strcmp(str, category_names[i]) == 0) {
			*c = (enum dz_category)i;
			return 0;
		}
	return -1;
}

int
dz_store_item_verdict(struct dz_store *s, const char *item_id,
    enum dz_verdict v, enum dz_category cat, const char *actor,
    const char *now, struct dz_err *err)
{
	sqlite3_stmt *st;
	char case_id[DZ_CASE_ID_LEN + 1], detail[80], old[40];
	const char *state = dz_verdict_name(v), *col, *ocat;
	const char *catname = NULL;
	int rc, withdrawn;

	if (need_tx(s, err) || need_now(now, err))
		return -1;
	if (v != DZ_VERDICT_ILLEGAL && v != DZ_VERDICT_NOT_ILLEGAL)
		return dz_err_set(err, EX_SOFTWARE, "unknown verdict");
	if (v == DZ_VERDICT_ILLEGAL) {
		if (cat != DZ_CAT_ADULT_NCII && cat != DZ_CAT_MINOR &&
		    cat != DZ_CAT_OTHER)
			return dz_err_set(err, EX_DATAERR,
			    "an illegal verdict needs a category");
		catname = dz_category_name(cat);
	}
	if (!item_id)
		return dz_err_set(err, EX_DATAERR, "no such item");
	if (!(st = stmt(s, S_ITEM_VERDICT_GET, err)))
		return -1;
	bind_text(st, 1, item_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		done(st);
		if (rc == SQLITE_DONE)
			return dz_err_set(err, EX_DATAERR, "no such item");
		return db_fail(s, rc, err, "cannot look up the item");
	}
	col = (const char *)sqlite3_column_text(st, 0);
	snprintf(case_id, sizeof case_id, "%s", col ? col : "");
	col = (const char *)sqlite3_column_text(st, 1);
	ocat = (const char *)sqlite3_column_text(st, 2);
	snprintf(old, sizeof old, "%s%s%s", col ? col : "", ocat ? " " : "",
	    ocat ? ocat : "");
	withdrawn = sqlite3_column_type(st, 3) != SQLITE_NULL;
	done(st);
	if (withdrawn)
		return dz_err_set(err, EX_DATAERR, "the case was withdrawn");

	snprintf(detail, sizeof detail, "%s%s%s", state, catname ? " " : "",
	    catname ? catname : "");
	if (strcmp(old, "review") != 0) {
		size_t n = strlen(detail);
		if (strcmp(old, detail) == 0)
			snprintf(detail + n, sizeof detail - n, "; again");
		else
			snprintf(detail + n, sizeof detail - n, "; replaces %s",
			    old);
	}

	if (!(st = stmt(s, S_ITEM_VERDICT_SET, err)))
		return -1;
	bind_text(st, 1, item_id);
	bind_text(st, 2, state);
	bind_text(st, 3, catname);
	bind_text(st, 4, now);
	if (run(s, st, err, "cannot record the verdict"))
		return -1;
	/* the item's hashes follow its verdict (and its category) */
	if (!(st = stmt(s, v == DZ_VERDICT_ILLEGAL ? S_HASH_REINSTATE_ITEM :
	    S_HASH_WITHDRAW_ITEM, err)))
		return -1;
	bind_text(st, 1, item_id);
	bind_text(st, 2, v == DZ_VERDICT_ILLEGAL ? catname : now);
	if (run(s, st, err, "cannot update the item's hashes"))
		return -1;
	return dz_store_audit(s, actor, "verdict", case_id, item_id, detail,
	    now, err);
}

/* The state of a case: 0, or -1 with "no such case". */
static int
case_state(struct dz_store *s, const char *case_id, int *closed,
    int *withdrawn, int *purged, struct dz_err *err)
{
	sqlite3_stmt *st = case_id ? stmt(s, S_CASE_STATE, err) : NULL;
	const char *state;
	int rc;

	if (!case_id)
		return dz_err_set(err, EX_DATAERR, "no such case");
	if (!st)
		return -1;
	bind_text(st, 1, case_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		done(st);
		if (rc == SQLITE_DONE)
			return dz_err_set(err, EX_DATAERR, "no such case");
		return db_fail(s, rc, err, "cannot look up the case");
	}
	state = (const char *)sqlite3_column_text(st, 0);
	*closed = state && strcmp(state, "closed") == 0;
	*withdrawn = sqlite3_column_type(st, 1) != SQLITE_NULL;
	*purged = sqlite3_column_type(st, 2) != SQLITE_NULL;
	done(st);
	return 0;
}

/* Run a one-case UPDATE (?1 id, ?2 now). */
static int
case_update(struct dz_store *s, int which, const char *case_id,
    const char *now, struct dz_err *err, const char *what)
{
	sqlite3_stmt *st = stmt(s, which, err);

	if (!st)
		return -1;
	bind_text(st, 1, case_id);
	bind_text(st, 2, now);
	if (run(s, st, err, what))
		return -1;
	if (sqlite3_changes(s->db) != 1)
		return dz_err_set(err, EX_SOFTWARE, "%s: case changed meanwhile",
		    what);
	return 0;
}

int
dz_store_case_close(struct dz_store *s, const char *case_id,
    const char *actor, const char *now, struct dz_err *err)
{
	int closed, withdrawn, purged;

	if (need_tx(s, err) || need_now(now, err) ||
	    case_state(s, case_id, &closed, &withdrawn, &purged, err))
		return -1;
	if (closed)
		return dz_err_set(err, EX_DATAERR, "case is already closed");
	if (case_update(s, S_CASE_CLOSE, case_id, now, err,
	    "cannot close the case"))
		return -1;
	return dz_store_audit(s, actor, "close", case_id, NULL, NULL, now, err);
}

int
dz_store_case_withdraw(struct dz_store *s, const char *case_id,
    const char *actor, const char *now, struct dz_err *err)
{
	int closed, withdrawn, purged;

	if (need_tx(s, err) || need_now(now, err) ||
	    case_state(s, case_id, &closed, &withdrawn, &purged, err))
		return -1;
	if (!withdrawn && case_update(s, S_CASE_WITHDRAW, case_id, now, err,
	    "cannot withdraw the case"))
		return -1;
	if (!withdrawn) {
		/* its hashes leave the bank: tombstones in the next delta */
		sqlite3_stmt *st = stmt(s, S_HASH_WITHDRAW_CASE, err);

		if (!st)
			return -1;
		bind_text(st, 1, case_id);
		bind_text(st, 2, now);
		if (run(s, st, err, "cannot withdraw the case's hashes"))
			return -1;
	}
	return dz_store_audit(s, actor, "withdraw", case_id, NULL,
	    withdrawn ? "again" : NULL, now, err);
}

int
dz_store_case_purge_personal(struct dz_store *s, const char *case_id,
    const char *actor, const char *now, struct dz_err *err)
{
	int closed, withdrawn, purged;

	if (need_tx(s, err) || need_now(now, err) ||
	    case_state(s, case_id, &closed, &withdrawn, &purged, err))
		return -1;
	if (!purged && case_update(s, S_CASE_PURGE, case_id, now, err,
	    "cannot purge the case"))
		return -1;
	return dz_store_audit(s, actor, "purge", case_id, NULL,
	    purged ? "again" : NULL, now, err);
}

int
dz_store_checkpoint_wait(struct dz_store *s, int wait_ms, struct dz_err *err)
{
	int rc;

	sqlite3_busy_timeout(s->db, wait_ms);
	rc = dz_store_checkpoint(s, err);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	return rc;
}

int
dz_store_checkpoint(struct dz_store *s, struct dz_err *err)
{
	int rc, log = 0, copied = 0;

	if (!sqlite3_get_autocommit(s->db))
		return dz_err_set(err, EX_SOFTWARE,
		    "cannot checkpoint inside a transaction");
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    &log, &copied);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, "cannot checkpoint the store");
	return 0;
}

/* ---------- reads ---------- */

static json_t *
col_string(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	return v ? json_string(v) : json_null();
}

static int
set(json_t *o, const char *k, json_t *v)
{
	/* a NULL v (out of memory) makes json_object_set_new fail */
	return json_object_set_new(o, k, v);
}

static json_t *
case_row(sqlite3_stmt *st)
{
	json_t *r = json_object();

	if (!r || set(r, "type", json_string("case")) ||
	    set(r, "case", col_string(st, 0)) ||
	    set(r, "submission", col_string(st, 1)) ||
	    set(r, "state", col_string(st, 2)) ||
	    set(r, "received_at", col_string(st, 3)) ||
	    set(r, "minor", json_boolean(sqlite3_column_int(st, 4))) ||
	    set(r, "language", col_string(st, 5)) ||
	    set(r, "followup", json_boolean(sqlite3_column_int(st, 6))) ||
	    set(r, "items", json_integer(sqlite3_column_int64(st, 7))) ||
	    set(r, "closed_at", col_string(st, 8)) ||
	    set(r, "withdrawn_at", col_string(st, 9)) ||
	    set(r, "purged_at", col_string(st, 10))) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static json_t *
item_row(sqlite3_stmt *st)
{
	json_t *r = json_object();
	int media = sqlite3_column_int(st, 6);

	if (!r || set(r, "type", json_string("item")) ||
	    set(r, "item", col_string(st, 0)) ||
	    set(r, "case", col_string(st, 1)) ||
	    set(r, "state", col_string(st, 2)) ||
	    set(r, "url", col_string(st, 3)) ||
	    set(r, "media_type", col_string(st, 4)) ||
	    set(r, "media_size", media ?
	    json_integer(sqlite3_column_int64(st, 5)) : json_null()) ||
	    set(r, "has_media", json_boolean(media)) ||
	    set(r, "category", col_string(st, 7)) ||
	    set(r, "verdict_at", col_string(st, 8))) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static int
list(struct dz_store *s, int which, json_t *(*row)(sqlite3_stmt *),
    const char *state, dz_store_row_fn fn, void *ctx, struct dz_err *err)
{
	sqlite3_stmt *st = stmt(s, which, err);

	if (!st)
		return -1;
	bind_text(st, 1, state);
	return dzs_rows(s, st, row, fn, ctx, err, "cannot read the store");
}

int
dz_store_list_cases(struct dz_store *s, const char *state,
    dz_store_row_fn fn, void *ctx, struct dz_err *err)
{
	return list(s, S_LIST_CASES, case_row, state, fn, ctx, err);
}

int
dz_store_list_items(struct dz_store *s, const char *state,
    dz_store_row_fn fn, void *ctx, struct dz_err *err)
{
	return list(s, S_LIST_ITEMS, item_row, state, fn, ctx, err);
}

int
dz_store_case_get(struct dz_store *s, const char *case_id, json_t **row,
    struct dz_err *err)
{
	sqlite3_stmt *st = stmt(s, S_CASE_GET, err);
	int rc;

	*row = NULL;
	if (!st)
		return -1;
	bind_text(st, 1, case_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !(*row = case_row(st))) {
		done(st);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	done(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, err, "cannot look up the case");
	return 0;
}

/* A malloc'd copy of a BLOB column (NULL and 0 when the column is NULL). */
static int
col_blob(sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
{
	const void *p;
	int n;

	*out = NULL;
	*len = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	p = sqlite3_column_blob(st, i);
	n = sqlite3_column_bytes(st, i);
	if (!(*out = malloc(n ? (size_t)n : 1)))
		return -1;
	if (n)
		memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int
dzs_col_key(sqlite3_stmt *st, int i, uint8_t key[DZ_WRAPPED_KEY_BYTES])
{
	if (sqlite3_column_type(st, i) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, i) != DZ_WRAPPED_KEY_BYTES)
		return -1;
	memcpy(key, sqlite3_column_blob(st, i), DZ_WRAPPED_KEY_BYTES);
	return 0;
}

int
dz_store_case_secrets(struct dz_store *s, const char *case_id,
    uint8_t wrapped_key[DZ_WRAPPED_KEY_BYTES], uint8_t **contact,
    size_t *contact_len, uint8_t **description, size_t *description_len,
    struct dz_err *err)
{
	sqlite3_stmt *st = stmt(s, S_CASE_SECRETS, err);
	int rc;

	*contact = *description = NULL;
	*contact_len = *description_len = 0;
	memset(wrapped_key, 0, DZ_WRAPPED_KEY_BYTES);
	if (!st)
		return -1;
	bind_text(st, 1, case_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		done(st);
		if (rc == SQLITE_DONE)
			return dz_err_set(err, EX_DATAERR, "no such case");
		return db_fail(s, rc, err, "cannot look up the case");
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		done(st);	/* purged: nothing left */
		return 0;
	}
	if (dzs_col_key(st, 0, wrapped_key)) {
		done(st);
		return dz_err_set(err, EX_DATAERR, "the case key is corrupt");
	}
	if (col_blob(st, 1, contact, contact_len) ||
	    col_blob(st, 2, description, description_len)) {
		done(st);
		free(*contact);
		*contact = NULL;
		*contact_len = 0;
		memset(wrapped_key, 0, DZ_WRAPPED_KEY_BYTES);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	done(st);
	return 0;
}

int
dz_store_item_media(struct dz_store *s, const char *item_id,
    uint8_t wrapped_key[DZ_WRAPPED_KEY_BYTES], char **blob,
    struct dz_err *err)
{
	sqlite3_stmt *st = stmt(s, S_ITEM_MEDIA, err);
	const char *b;
	int rc;

	*blob = NULL;
	if (!st)
		return -1;
	bind_text(st, 1, item_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		done(st);
		if (rc == SQLITE_DONE)
			return dz_err_set(err, EX_DATAERR, "no such item");
		return db_fail(s, rc, err, "cannot look up the item");
	}
	if (!sqlite3_column_int(st, 0)) {
		done(st);
		return dz_err_set(err, EX_DATAERR, "the item has no media");
	}
	if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
		done(st);
		return dz_err_set(err, EX_DATAERR,
		    "the item's media was destroyed");
	}
	b = (const char *)sqlite3_column_text(st, 2);
	if (dzs_col_key(st, 1, wrapped_key) || !dzs_valid_blob_name(b)) {
		done(st);
		return dz_err_set(err, EX_DATAERR,
		    "the item's media record is corrupt");
	}
	*blob = strdup(b);
	done(st);
	if (!*blob) {
		memset(wrapped_key, 0, DZ_WRAPPED_KEY_BYTES);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	return 0;
}

int
dz_store_blob_referenced(struct dz_store *s, const char *blob,
    struct dz_err *err)
{
	sqlite3_stmt *st = stmt(s, S_BLOB_REF, err);
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, blob);
	rc = sqlite3_step(st);
	done(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, err, "cannot look up the blob");
	return 0;
}

int
dz_store_check(struct dz_store *s, struct dz_err *err)
{
	sqlite3_stmt *st;
	const char *v;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, "cannot check the store");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(s, rc, err, "cannot check the store");
		sqlite3_finalize(st);
		return -1;
	}
	v = (const char *)sqlite3_column_text(st, 0);
	if (!v || strcmp(v, "ok") != 0) {
		dz_err_set(err, EX_DATAERR, "integrity check failed: %.120s",
		    v ? v : "?");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);

	rc = sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st,
	    NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, "cannot check the store");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, 0);
		dz_err_set(err, EX_DATAERR,
		    "foreign key check failed in table %.60s", v ? v : "?");
		sqlite3_finalize(st);
		return -1;
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, rc, err, "cannot check the store");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

