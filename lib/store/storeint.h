/*
 * lib/store/storeint.h: what lib/store/store.c lends the other files of
 * the store module (storehashes.c, storenotice.c, storepurge.c,
 * storestats.c), which own the SQL of their part of the schema. Code
 * outside lib/store must not include this file.
 *
 * May use: core/ (err), crypto/ (wrapped keys); SQLite.
 */
#ifndef DZ_STOREINT_H
#define DZ_STOREINT_H

#include <stdint.h>

#include <sqlite3.h>

#include "crypto/crypt.h"

struct dz_err;
struct dz_store;

/* The signals that partners are given, in SQL. */
#define DZS_BANK_SIGNALS "signal IN ('pdq', 'video_md5', 'vpdq')"

/*
 * The next hash revision: above every hash row's and every export's, so
 * that a purge deleting rows can never make a number come back that an
 * export has already covered.
 */
#define DZS_NEXT_REV "(SELECT max(coalesce((SELECT max(rev) FROM hashes), 0)," \
	" coalesce((SELECT max(rev) FROM exports), 0)) + 1)"

/*
 * The prepared statement for sql, which must be a string constant: it is
 * cached by its address for the life of the store. NULL with err.
 */
sqlite3_stmt *dzs_stmt(struct dz_store *s, const char *sql,
    struct dz_err *err);
/* Reset a statement and drop its bindings. */
void dzs_done(sqlite3_stmt *st);
/* Bind text (NULL binds NULL); the text must outlive the step. */
void dzs_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Step a statement that returns no row, then reset it: 0 or -1. */
int dzs_run(struct dz_store *s, sqlite3_stmt *st, struct dz_err *err,
    const char *what);
/* Fill err from SQLite's result code rc: always -1. */
int dzs_fail(struct dz_store *s, int rc, struct dz_err *err,
    const char *what);
/*
 * Step st (bound already) to its end, each row made a record by row(),
 * reset it, and only then hand the records to fn in order (fn owns each;
 * a non-zero return stops the delivery). No statement, so no read
 * transaction, is open while fn writes to a pipe that may block: a
 * stalled reader never holds back the checkpoints of dz-purge or
 * dz-hash. 0, or -1 with err (what names the read).
 */
struct json_t;
int dzs_rows(struct dz_store *s, sqlite3_stmt *st,
    struct json_t *(*row)(sqlite3_stmt *), int (*fn)(struct json_t *, void *),
    void *ctx, struct dz_err *err, const char *what);
/* -1 with EX_SOFTWARE outside a transaction. */
int dzs_need_tx(struct dz_store *s, struct dz_err *err);
/* Rows changed by the last statement. */
int dzs_changes(struct dz_store *s);
/* The store's random source (RAND_bytes; tests may replace it). */
int dzs_random(unsigned char *buf, int n);
/* -1 with EX_SOFTWARE when now is NULL or empty. */
int dzs_need_now(const char *now, struct dz_err *err);
/* A blob name is a plain file name under blobs/: no path, no dot file. */
int dzs_valid_blob_name(const char *b);
/* Copy a wrapped key column; 0, or -1 if absent or the wrong size. */
int dzs_col_key(sqlite3_stmt *st, int i, uint8_t key[DZ_WRAPPED_KEY_BYTES]);

#endif
