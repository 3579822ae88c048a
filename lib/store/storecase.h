/*
 * lib/store/storecase: the SQL of the desk's views (dz-export case and
 * dz-export queue): the whole file of one case, the case an entry id
 * belongs to, and what waits for a person. Each part and each kind of
 * waiting work is one query; the rows are JSON records with no personal
 * data (ids, states, dates, counts, the URLs dz-export items shows).
 *
 * May use: core/ (err); store/ (store, storeint); SQLite, jansson.
 */
#ifndef DZ_STORECASE_H
#define DZ_STORECASE_H

#include "store/store.h"

struct dz_err;
struct dz_store;

/*
 * The parts of a case file, in the order a reader wants them. Records
 * (each {"type": ...}):
 *   item    each item: state, URL, media type and size, category, the
 *           dates of its verdict, hashing, removal and media purge
 *   notice  each notice that covers one of its items, or answers it:
 *           kind, provider, state, Message-ID, dates,
 *           delivery, attempts, the last failure, its items of this case
 *   event   the audit log of the case in order (intake, verdicts and by
 *           whom, hashing, notices planned, sent, failed or cancelled,
 *           removals, closing, withdrawal, purges)
 *   entry   each hash of its items (signal, value, quality, category,
 *           added, withdrawn, shared with partners)
 *   known   each hash that was near an earlier entry, with the case and
 *           item that entry belongs to (null once purged)
 */
enum dz_case_part {
	DZ_CASE_ITEMS, DZ_CASE_NOTICES, DZ_CASE_EVENTS, DZ_CASE_HASHES,
	DZ_CASE_KNOWN, DZ_CASE_NPARTS
};

/* Rows of one part of case_id's file, in order; fn owns each row. */
int dz_store_case_part(struct dz_store *s, const char *case_id,
    enum dz_case_part part, dz_store_row_fn fn, void *ctx,
    struct dz_err *err);

/*
 * The case the hash entry entry_id belongs to: 1 and case_id, 0 when no
 * such entry (or its item was purged), -1 with err.
 */
int dz_store_case_of_entry(struct dz_store *s, const char *entry_id,
    char case_id[DZ_CASE_ID_LEN + 1], struct dz_err *err);

/*
 * The kinds of waiting work the store can tell by itself, one query
 * each; rows are {"type":"queue","kind":...} with the ids and the date
 * the work has waited since ("since"). before is an RFC 3339 time: only
 * DZ_QUEUE_OVERDUE uses it (notices sent before it).
 *   review   an item to judge, in an open case not withdrawn: minors
 *            first, then the oldest
 *   call_back, answer_failed  an answer to a victim that dz-notify
 *            cancelled: a phone number only, or it could not be sent;
 *            until the case's personal data is purged
 *   close    an open case with nothing left to do: every item judged,
 *            every illegal URL removed, every illegal media hashed (or
 *            the case withdrawn)
 *   overdue  a provider notice sent before `before` with URLs not yet
 *            reported removed (the count in "urls")
 *   escalation  a URL whose provider did not answer its notice and
 *            notify.max_reminders reminders (dz-notify set its outcome
 *            to no_answer): a complaint to the regulator is due; minors
 *            first, then the oldest
 */
enum dz_queue_kind {
	DZ_QUEUE_REVIEW, DZ_QUEUE_ANSWER, DZ_QUEUE_CLOSE, DZ_QUEUE_OVERDUE,
	DZ_QUEUE_ESCALATION, DZ_QUEUE_NKINDS
};
int dz_store_queue(struct dz_store *s, enum dz_queue_kind kind,
    const char *before, dz_store_row_fn fn, void *ctx, struct dz_err *err);

#endif
