/*
 * lib/store/store: the system of record. Owns the SQLite schema, its migrations
 * and every SQL statement; no program writes SQL of its own. This file
 * has the cases, items and audit log; storehashes.h, storenotice.h,
 * storepurge.h and storestats.h the other parts of the schema.
 *
 * Layout under the store directory (created mode 0700):
 *   store.db (+ -wal, -shm)  cases, items, audit log, schema version
 *   blobs/                   encrypted media, one file per item (lib/crypto/crypt)
 * The database runs in WAL mode with synchronous=FULL, secure_delete=ON,
 * foreign keys on and a busy timeout; every write happens inside
 * dz_store_begin (BEGIN IMMEDIATE) ... dz_store_commit.
 *
 * Personal data (contact, description) is stored only sealed under the
 * case's own key (lib/crypto/crypt), which is stored wrapped by the master key.
 * The audit log never holds personal data: actions, ids and times.
 *
 * Case ids are 10 Crockford base32 characters (50 random bits), easy to
 * read over the phone; item ids are the case id, '-', and a number.
 *
 * May use: core/ (err), crypto/ (wrapped keys); SQLite, jansson.
 */
#ifndef DZ_STORE_H
#define DZ_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/crypt.h"

struct dz_err;
struct dz_store;

#define DZ_CASE_ID_LEN 10
#define DZ_ITEM_ID_MAX 24

/* Open (creating and migrating as needed) the store in dir. */
int dz_store_open(const char *dir, struct dz_store **s, struct dz_err *err);
/*
 * Open the existing store in dir for reading only (statistics): the
 * database is opened read-only and with query_only set, nothing is
 * created or migrated, no lock is taken. EX_NOINPUT when there is no
 * store.db; EX_CONFIG when its schema is not this program's (a later
 * one, or an earlier one that a program opening it for writing must
 * upgrade first). The store's write functions fail on it.
 */
int dz_store_open_readonly(const char *dir, struct dz_store **s,
    struct dz_err *err);
void dz_store_close(struct dz_store *s);
/* The blobs directory (owned by the store). */
const char *dz_store_blob_dir(const struct dz_store *s);
/*
 * Take the exclusive lock file name (created 0600 in the store
 * directory) without waiting: the open descriptor, which holds the lock
 * until closed, or -1 with EX_TEMPFAIL and the message busy when another
 * process holds it.
 */
int dz_store_lock(struct dz_store *s, const char *name, const char *busy,
    struct dz_err *err);
int dz_store_schema_version(struct dz_store *s);

int dz_store_begin(struct dz_store *s, struct dz_err *err);
int dz_store_commit(struct dz_store *s, struct dz_err *err);
void dz_store_rollback(struct dz_store *s);
/*
 * A read transaction: every read until dz_store_read_end sees the same
 * state of the store (one snapshot), and takes no write lock.
 */
int dz_store_read_begin(struct dz_store *s, struct dz_err *err);
void dz_store_read_end(struct dz_store *s);

/* A fresh random case id (not yet in the store), NUL-terminated. */
int dz_store_new_case_id(struct dz_store *s, char id[DZ_CASE_ID_LEN + 1],
    struct dz_err *err);

struct dz_case {
	char id[DZ_CASE_ID_LEN + 1];
	const char *submission_id;	/* unique: the idempotence key */
	const char *received_at;	/* RFC 3339 UTC */
	int declared_age;		/* -1 when not given */
	int minor;			/* declared age < 18 */
	const char *language;		/* "fr", "en", ...; may be NULL */
	int followup;			/* the victim wants an answer */
	uint8_t wrapped_key[DZ_WRAPPED_KEY_BYTES];
	const uint8_t *contact;		/* sealed JSON, or NULL */
	size_t contact_len;
	const uint8_t *description;	/* sealed text, or NULL */
	size_t description_len;
};

struct dz_item {
	char id[DZ_ITEM_ID_MAX];
	const char *case_id;
	const char *url;		/* may be NULL */
	const char *media_type;		/* "image/jpeg", ...; NULL without media */
	uint64_t media_size;
	int has_media;
	uint8_t wrapped_key[DZ_WRAPPED_KEY_BYTES];	/* when has_media */
	const char *blob;		/* file name under blobs/ */
};

/* 1 and the case id if submission_id is known, 0 if not, -1 on error. */
int dz_store_case_by_submission(struct dz_store *s, const char *submission_id,
    char id[DZ_CASE_ID_LEN + 1], struct dz_err *err);

/* Within a transaction. New cases are "open"; new items are "review". */
int dz_store_case_insert(struct dz_store *s, const struct dz_case *c,
    const char *now, struct dz_err *err);
int dz_store_item_insert(struct dz_store *s, const struct dz_item *it,
    const char *now, struct dz_err *err);

/*
 * State changes, within a transaction; each writes an audit entry.
 * Return 0, or -1 with EX_DATAERR when the case or item does not exist
 * or the change is not allowed from its state (a closed case stays
 * closed; a verdict on an item with a verdict replaces it and says so in
 * the audit log). An illegal verdict needs a category; a not_illegal one
 * keeps none. No verdict on an item of a withdrawn case. Withdrawing a
 * withdrawn case changes nothing and is audited as "again".
 */
enum dz_verdict { DZ_VERDICT_ILLEGAL, DZ_VERDICT_NOT_ILLEGAL };
enum dz_category { DZ_CAT_NONE, DZ_CAT_ADULT_NCII, DZ_CAT_MINOR, DZ_CAT_OTHER };
int dz_store_item_verdict(struct dz_store *s, const char *item_id,
    enum dz_verdict v, enum dz_category cat, const char *actor,
    const char *now, struct dz_err *err);
int dz_store_case_close(struct dz_store *s, const char *case_id,
    const char *actor, const char *now, struct dz_err *err);
int dz_store_case_withdraw(struct dz_store *s, const char *case_id,
    const char *actor, const char *now, struct dz_err *err);
/*
 * Forget a case's personal data: its wrapped key, sealed contact and
 * description become NULL and purged_at is set (secure_delete zeroes the
 * old bytes in the pages). Within a transaction; EX_DATAERR if the case
 * does not exist. Purging a purged case changes nothing and is audited as
 * "again". Follow the commit with dz_store_checkpoint so that no copy is
 * left in the WAL.
 */
int dz_store_case_purge_personal(struct dz_store *s, const char *case_id,
    const char *actor, const char *now, struct dz_err *err);
/*
 * Copy the WAL into the database and truncate it to zero bytes (outside
 * a transaction). EX_TEMPFAIL when readers kept it from finishing.
 * dz_store_checkpoint_wait waits at most wait_ms for them (then
 * EX_TEMPFAIL), so that writers it holds back meanwhile wait no longer.
 */
int dz_store_checkpoint(struct dz_store *s, struct dz_err *err);
int dz_store_checkpoint_wait(struct dz_store *s, int wait_ms,
    struct dz_err *err);
/* Free-form audit entry (no personal data in detail); in or out of a
 * transaction. */
int dz_store_audit(struct dz_store *s, const char *actor, const char *action,
    const char *case_id, const char *item_id, const char *detail,
    const char *now, struct dz_err *err);

const char *dz_verdict_name(enum dz_verdict v);	/* "illegal", "not_illegal" */
/* "adult_ncii", "minor", "other"; "none" for DZ_CAT_NONE */
const char *dz_category_name(enum dz_category c);
int dz_category_parse(const char *s, enum dz_category *c);	/* 0 / -1 */

/*
 * Read side. Each row is a JSON record ({"type":"case",...} or
 * {"type":"item",...}) with no personal data: ids, states, dates, flags,
 * URL, media type and size, verdict, category. fn owns row (it must
 * json_decref it) and returns nonzero to stop; the list then returns 0.
 * Rows come in insertion order. state NULL means all.
 */
typedef int (*dz_store_row_fn)(json_t *row, void *ctx);
int dz_store_list_cases(struct dz_store *s, const char *state,
    dz_store_row_fn fn, void *ctx, struct dz_err *err);
int dz_store_list_items(struct dz_store *s, const char *state,
    dz_store_row_fn fn, void *ctx, struct dz_err *err);

/* One case record as listed: 1 and *row (caller owns), 0 if no such case. */
int dz_store_case_get(struct dz_store *s, const char *case_id, json_t **row,
    struct dz_err *err);

/*
 * The sealed personal data of a case, for an explicit --contact view.
 * *contact and *description are malloc'd (caller frees), NULL when absent
 * or purged; wrapped_key is zeroed once purged.
 */
int dz_store_case_secrets(struct dz_store *s, const char *case_id,
    uint8_t wrapped_key[DZ_WRAPPED_KEY_BYTES], uint8_t **contact,
    size_t *contact_len, uint8_t **description, size_t *description_len,
    struct dz_err *err);

/* The media of an item: wrapped key and blob file name (caller frees). */
int dz_store_item_media(struct dz_store *s, const char *item_id,
    uint8_t wrapped_key[DZ_WRAPPED_KEY_BYTES], char **blob,
    struct dz_err *err);

/*
 * Is this blob file name referenced by an item whose media is still live
 * (key not yet destroyed)? 1 / 0 / -1. A 0 means the file is an orphan.
 */
int dz_store_blob_referenced(struct dz_store *s, const char *blob,
    struct dz_err *err);

/* PRAGMA integrity_check and foreign_key_check: 0 when clean. */
int dz_store_check(struct dz_store *s, struct dz_err *err);

#endif
