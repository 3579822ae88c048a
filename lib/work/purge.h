/*
 * lib/work/purge: one dz-purge run, the retention the hotline promised.
 *
 *   1. Take the store's purge.lock (EX_TEMPFAIL if another run has it).
 *   2. Finish what a killed run left: blob files of media whose key is
 *      already erased are unlinked and their names cleared.
 *   3. List what is due (lib/store/storepurge), from the dates in the store and
 *      the retention settings: media of items not judged illegal after
 *      retention.unverified_media_days (of a withdrawn case, at once);
 *      contact data and descriptions retention.personal_data_days after
 *      the case was closed or withdrawn; withdrawn hashes after
 *      retention.withdrawn_hash_days (tombstones of shared PDQs kept).
 *   4. Each deletion in its own transaction, one record each; then the
 *      blob files unlinked (step 2 again).
 *   5. With a spool, rejected submissions older than
 *      retention.rejected_days removed (their uploads are plaintext),
 *      through lib/store/spool: whole trees, never following a link. One that
 *      cannot be removed does not stop the others or the rest of the run;
 *      the run then ends with -1 and EX_IOERR saying how many were left.
 *   6. A WAL checkpoint that truncates, so that no copy of what went
 *      stays in the write-ahead log (retried for a while when readers
 *      hold it; EX_TEMPFAIL if they still do).
 * Each step is idempotent: a run killed anywhere is finished by the next.
 * Transactions are short, so a dz-ingest running meanwhile waits at most
 * for one of them. With dry_run, step 3 only: the records say what would
 * go, with "dry_run": true. Records hold ids, never personal data.
 *
 * May use: core/, store/ (store, storepurge, spool); no other unit of work.
 */
#ifndef DZ_PURGE_H
#define DZ_PURGE_H

#include <jansson.h>

struct dz_config;
struct dz_err;
struct dz_store;

struct dz_purge_opts {
	const struct dz_config *cfg;
	const char *spool;		/* dz-ingest's spool, or NULL */
	int dry_run;
	const char *actor;
};

typedef int (*dz_purge_emit_fn)(json_t *rec, void *ctx);
int dz_purge_run(struct dz_store *s, const struct dz_purge_opts *o,
    dz_purge_emit_fn emit, void *ctx, struct dz_err *err);

#endif
