/*
 * lib/work/queue: the desk's queue (dz-export queue): everything that
 * waits for a person today, one record each with its kind, so that cron
 * can mail it. Records carry ids, kinds, dates and counts, never a
 * contact or a description. In this order:
 *   review          an item to judge: minors first, then the oldest
 *   call_back       an answer to give by phone (the contact has no
 *                   e-mail address)
 *   answer_failed   an answer dz-notify could not send
 *   notify_by_hand  an illegal URL whose provider takes reports only on
 *                   a web form (dz-ingest "notified" records it done)
 *   unresolved      an illegal URL whose host is in no provider entry
 *   overdue         a provider notice with URLs not removed, sent more
 *                   than the given days ago
 *   close           an open case with nothing left to do
 *   rejected        a spool entry dz-ingest refused (its files are
 *                   still there, in the clear), with --spool
 * Each kind is one function in queue.c's table; the SQL of the store's
 * kinds is lib/store/storecase's.
 *
 * May use: core/ (err, out, clock); store/ (store, storecase,
 *   storenotice, spool); notice/ (provider); jansson.
 */
#ifndef DZ_QUEUE_H
#define DZ_QUEUE_H

#include <stdio.h>

#include <jansson.h>

#include "store/store.h"

struct dz_err;
struct dz_providers;
struct dz_store;

struct dz_queue_opts {
	const char *now;			/* RFC 3339 */
	int overdue_days;			/* > 0 */
	const struct dz_providers *providers;
	const char *spool;			/* NULL: no rejected kind */
};

/*
 * Every record that waits, to fn (which owns it; nonzero stops, and the
 * run returns -1 with EX_IOERR), read in one snapshot of the store; the
 * count into *n. -1 with err.
 */
int dz_queue_run(struct dz_store *s, const struct dz_queue_opts *o,
    dz_store_row_fn fn, void *ctx, size_t *n, struct dz_err *err);

/* One record as a line of text (kind, ids, since). 0 or -1 (EX_IOERR). */
int dz_queue_text(FILE *f, const json_t *rec, struct dz_err *err);

#endif
