/*
 * lib/hash/vpdqsig: a video's vPDQ signature as data, without the decoder:
 * its frames, their JSON form, and the comparison of two signatures.
 * Programs that read signatures (dz-export, dz-match) need no libav*.
 *
 * Matching (dz_vpdqsig_match) follows the reference: a query video matches
 * a bank video when the share of its frames (of quality at least the
 * floor) that are within the distance of some frame of the bank video
 * reaches query_pct, and the share of the bank video's frames matched by
 * some query frame reaches bank_pct.
 *
 * May use: core/ (err), hash/ (pdq); jansson. Never libav*.
 */
#ifndef DZ_VPDQSIG_H
#define DZ_VPDQSIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hash/pdq.h"

struct dz_err;

#define DZ_VPDQSIG_QUERY_PCT 80.0
#define DZ_VPDQSIG_BANK_PCT 0.0

struct dz_vpdqsig_frame {
	int64_t frame;			/* 0-based, presentation order */
	double t;			/* seconds: frame / fps */
	int quality;
	struct dz_pdq hash;
};

/* A signature; v is owned (dz_vpdqsig_release). */
struct dz_vpdqsig {
	struct dz_vpdqsig_frame *v;
	size_t n, cap;
};

void dz_vpdqsig_release(struct dz_vpdqsig *v);

/* Append a frame (for parsing records and banks). 0, or -1 (ENOMEM). */
int dz_vpdqsig_add(struct dz_vpdqsig *v, const struct dz_vpdqsig_frame *f);

/*
 * The signature as JSON: [[frame, time, quality, "pdq hex"], ...] (time
 * with 3 decimals), and back. Parsing checks every member; EX_DATAERR
 * "malformed vpdq" (with what) on failure. NULL/-1 when out of memory.
 */
json_t *dz_vpdqsig_to_json(const struct dz_vpdqsig *v);
int dz_vpdqsig_from_json(const json_t *j, struct dz_vpdqsig *v,
    size_t max_frames, struct dz_err *err);

/*
 * Compare query q with bank video b: frames of quality < min_quality on
 * either side are ignored. *q_pct and *b_pct get the matched shares (0 to
 * 100). Returns 1 when both reach their thresholds, 0 when not.
 */
int dz_vpdqsig_match(const struct dz_vpdqsig *q, const struct dz_vpdqsig *b,
    int distance, int min_quality, double query_pct, double bank_pct,
    double *q_pct, double *b_pct);

#endif
