/*
 * lib/store/storestats: the statistics' part of lib/store/store, for dz-export stats
 * (lib/work/stats): read-only walks over what dz-purge leaves, row by row, for
 * lib/work/stats to count. Purging erases case keys, contact data,
 * descriptions, media keys and withdrawn hashes; it deletes no case, no
 * item, no notice and no export, so these rows are all there for as long
 * as the store is.
 *
 * Rows hold no personal data, with one exception: the URL of an item,
 * lent for the provider directory lookup of a URL that was never
 * notified. It must never be written anywhere. Strings are borrowed for
 * the length of the callback; times are RFC 3339 text as stored (a case's
 * reception time as the submission gave it, with any offset), or NULL.
 * Call these within dz_store_read_begin ... dz_store_read_end, so that
 * every walk sees the same store. fn returns nonzero to stop; the walk
 * then returns 0.
 *
 * May use: core/ (err); store/ (store, storeint).
 */
#ifndef DZ_STORESTATS_H
#define DZ_STORESTATS_H

#include <stdint.h>

struct dz_err;
struct dz_store;

/* A case (a report). */
struct dz_store_stats_case {
	const char *received_at;
	int declared_age;		/* -1 when not given */
	int minor;			/* declared age under 18 */
	int followup;			/* the person asked for an answer */
	const char *withdrawn_at;
};

/* An item (a reported URL or an uploaded file), with its case's dates. */
struct dz_store_stats_item {
	const char *received_at;	/* its case's */
	const char *withdrawn_at;	/* its case's */
	int has_media;
	const char *media_type;		/* "image/png"...; NULL for a URL */
	const char *url;		/* the lookup only: never written */
	const char *state;		/* "review", "illegal", "not_illegal" */
	const char *category;		/* with "illegal" */
	const char *verdict_at;		/* the latest verdict */
	const char *hashed_at;		/* media turned into hashes */
	const char *removed_at;		/* the URL was reported taken down */
	/*
	 * The provider notice that covers the item, if any that is not
	 * cancelled: its state ("pending", "sent"), its delivery ("manual"
	 * for one sent by hand) and when it was sent.
	 */
	const char *notice_state;
	const char *notice_delivery;
	const char *notice_sent_at;
};

/*
 * A notice and one URL it covers: a notice covering n distinct URLs
 * (items of several cases may share one) comes as n rows in a row, with
 * the same number; a victim's answer covers none and
 * comes as one row whose item members are NULL.
 */
struct dz_store_stats_notice {
	int64_t number;			/* the same for the rows of a notice */
	const char *kind;		/* "provider", "reminder", "victim" */
	const char *provider;		/* its name, as recorded */
	const char *state;		/* "pending", "sent", "cancelled" */
	const char *delivery;		/* "sendmail", "maildir", "manual" */
	const char *created_at;
	const char *sent_at;
	const char *category;		/* the item's, with a verdict "illegal" */
	const char *removed_at;		/* the item's */
	const char *outcome;		/* "refused", "no_answer" or NULL */
	int has_item;
};

/* A hash that partner banks carry (pdq, video_md5, vpdq). */
struct dz_store_stats_hash {
	const char *signal;
	const char *added_at;
	const char *withdrawn_at;
	int shared;			/* an export gave it to partners */
};

/* A bank export. */
struct dz_store_stats_export {
	const char *kind;		/* "full", "delta" */
	const char *created_at;
};

typedef int (*dz_store_stats_case_fn)(const struct dz_store_stats_case *c,
    void *ctx);
typedef int (*dz_store_stats_item_fn)(const struct dz_store_stats_item *it,
    void *ctx);
typedef int (*dz_store_stats_notice_fn)(
    const struct dz_store_stats_notice *n, void *ctx);
typedef int (*dz_store_stats_hash_fn)(const struct dz_store_stats_hash *h,
    void *ctx);
typedef int (*dz_store_stats_export_fn)(
    const struct dz_store_stats_export *e, void *ctx);

int dz_store_stats_cases(struct dz_store *s, dz_store_stats_case_fn fn,
    void *ctx, struct dz_err *err);
int dz_store_stats_items(struct dz_store *s, dz_store_stats_item_fn fn,
    void *ctx, struct dz_err *err);
int dz_store_stats_notices(struct dz_store *s, dz_store_stats_notice_fn fn,
    void *ctx, struct dz_err *err);
int dz_store_stats_hashes(struct dz_store *s, dz_store_stats_hash_fn fn,
    void *ctx, struct dz_err *err);
int dz_store_stats_exports(struct dz_store *s, dz_store_stats_export_fn fn,
    void *ctx, struct dz_err *err);

#endif
