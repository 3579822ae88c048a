/*
 * lib/work/stats: the figures of dz-export stats, for the yearly report that
 * the Digital Services Act asks of a trusted flagger (Article 22(3): the
 * notices, by provider, by type of content and by the action taken) and
 * for the hotline's own account of its work.
 *
 * Everything is counted from what dz-purge leaves in the store (lib/
 * storestats), so the figures of a period are the same before and after
 * a purge. Nothing in a struct dz_stats is personal data: counts, delays,
 * the period's bounds, and the names of providers that the provider
 * directory lists. A provider recorded under another name (one found by
 * RDAP, or typed by an operator) is counted in one group with no name.
 *
 * The period is [from, to): from included, to excluded. Two bases:
 *   - the period's reports: cases received in the period, their items,
 *     and what became of them by the time of the run (verdicts,
 *     withdrawals, outcomes of their URLs, delay to the verdict);
 *   - the period's events: notices and reminders sent, answers sent or
 *     cancelled, media hashed, hashes added, exports made in the period;
 *     the outcome of the URLs those notices named (removal reported at
 *     any time), and the delay from notice to removal.
 *
 * May use: core/, notice/ (provider), store/ (store, storestats).
 */
#ifndef DZ_STATS_H
#define DZ_STATS_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "core/clock.h"

struct dz_err;
struct dz_providers;
struct dz_store;

enum dz_stats_kind { DZ_STATS_IMAGE, DZ_STATS_VIDEO, DZ_STATS_URL,
	DZ_STATS_KINDS };
enum dz_stats_state { DZ_STATS_REVIEW, DZ_STATS_ILLEGAL,
	DZ_STATS_NOT_ILLEGAL, DZ_STATS_STATES };
/* The categories of an illegal verdict, as lib/store/store names them. */
enum dz_stats_cat { DZ_STATS_ADULT_NCII, DZ_STATS_MINOR, DZ_STATS_OTHER,
	DZ_STATS_CATS };
/*
 * What became of a URL judged illegal: reported removed; its case
 * withdrawn; a notice sent (by mail or by hand), no removal reported yet;
 * a notice due (its provider takes mail: planned or not yet); waiting for
 * an operator to use its provider's form; no provider known for its host.
 */
enum dz_stats_outcome { DZ_STATS_REMOVED, DZ_STATS_WITHDRAWN,
	DZ_STATS_PENDING, DZ_STATS_DUE, DZ_STATS_MANUAL, DZ_STATS_UNRESOLVED,
	DZ_STATS_OUTCOMES };

/* "image", "video", "url"; "review", ...; "adult_ncii", ...; "removed"... */
const char *dz_stats_kind_name(enum dz_stats_kind k);
const char *dz_stats_state_name(enum dz_stats_state s);
const char *dz_stats_cat_name(enum dz_stats_cat c);
const char *dz_stats_outcome_name(enum dz_stats_outcome o);

/* A delay in tenths of a day: the median and the 90th percentile. */
struct dz_stats_delay {
	int64_t count;			/* delays measured; 0: no figure */
	int64_t median_tenths;		/* the mean of the middle two if even */
	int64_t p90_tenths;		/* nearest rank */
};

struct dz_stats_provider {
	char *name;			/* the directory's; NULL: all others */
	int64_t notices;		/* provider notices sent by mail */
	int64_t manual;			/* ... sent by hand */
	int64_t reminders;
	int64_t urls;			/* URLs the notices named */
	int64_t removed;		/* ... reported removed since */
	int64_t refused;		/* ... the provider refused to remove */
	int64_t no_answer;		/* ... no answer after the reminders */
};

struct dz_stats {
	char from[DZ_TIME_LEN];		/* "" when the period has no start */
	char to[DZ_TIME_LEN];		/* excluded */
	char made[DZ_TIME_LEN];		/* the time of the run */

	/* the period's reports */
	int64_t reports, withdrawn, followup;
	int64_t adult, minor, age_unknown;	/* by declared age */
	int64_t items[DZ_STATS_KINDS][DZ_STATS_STATES];
	int64_t illegal[DZ_STATS_CATS][DZ_STATS_KINDS];
	int64_t outcome[DZ_STATS_OUTCOMES];	/* their URLs judged illegal */
	struct dz_stats_delay verdict;		/* report to latest verdict */

	/* the period's notices (provider notices sent, by mail or hand) */
	int64_t notices, manual, reminders, urls, removed, providers;
	int64_t refused, no_answer;		/* the providers' other outcomes */
	struct dz_stats_provider *provider;	/* by name, the others last */
	size_t nprovider;
	int64_t cat_notices[DZ_STATS_CATS];	/* naming a URL of the category */
	int64_t cat_urls[DZ_STATS_CATS];
	int64_t cat_removed[DZ_STATS_CATS];
	struct dz_stats_delay removal;		/* notice to reported removal */

	/* the period's other events */
	int64_t hashed[DZ_STATS_KINDS];		/* media hashed (no URL) */
	int64_t shared, shared_withdrawn;	/* bank hashes added, shared */
	int64_t exports_full, exports_delta;
	int64_t answers_sent, answers_cancelled;
};

struct dz_stats_opts {
	int has_from;
	time_t from;			/* with has_from */
	time_t to;			/* excluded */
	time_t now;			/* the time of the run */
	const struct dz_providers *providers;	/* the directory */
};

/*
 * Count the figures of the period from the store, in one read
 * transaction. st is the caller's; release it with dz_stats_release.
 * EX_USAGE when from is after to; EX_DATAERR for a malformed time in the
 * store; the store's codes otherwise.
 */
int dz_stats_collect(struct dz_store *s, const struct dz_stats_opts *o,
    struct dz_stats *st, struct dz_err *err);
void dz_stats_release(struct dz_stats *st);

/*
 * The figures as "stats" records (dz-records(5)), in a fixed order: fn
 * owns each record and returns nonzero to stop (this then returns -1
 * with err untouched). EX_SOFTWARE when out of memory.
 */
typedef int (*dz_stats_emit_fn)(json_t *rec, void *ctx);
int dz_stats_records(const struct dz_stats *st, dz_stats_emit_fn fn,
    void *ctx, struct dz_err *err);

/*
 * A bound of the period: "YYYY-MM-DD" (midnight UTC) or an RFC 3339 time
 * ("2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00"), a date that
 * exists. 0, or -1.
 */
int dz_stats_parse_time(const char *s, time_t *t);

#endif
