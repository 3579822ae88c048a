/*
 * lib/hash/vpdq: the vPDQ signature of a video: one PDQ hash per second of
 * video (as the reference's "-r 1" does: frames whose number is a
 * multiple of the frame rate, rounded down), each with its frame number,
 * time and quality; consecutive hashes within a small distance of the
 * last one kept are collapsed into it. Decoding is lib/media/video's, with its
 * limits; hashing is lib/hash/pdq's at the frame's full size. The signature
 * itself (struct dz_vpdqsig, its JSON, matching) is lib/hash/vpdqsig's.
 *
 * May use: core/, media/ (luma, video), hash/ (pdq, vpdqsig).
 */
#ifndef DZ_VPDQ_H
#define DZ_VPDQ_H

#include <stddef.h>
#include <stdint.h>

#include "hash/pdq.h"
#include "media/video.h"
#include "hash/vpdqsig.h"

struct dz_err;

#define DZ_VPDQ_COLLAPSE 4		/* bits: consecutive frames collapsed */

struct dz_vpdq_opts {
	struct dz_video_limits lim;
	double seconds;			/* per hash: 1 */
	int collapse;			/* DZ_VPDQ_COLLAPSE; -1: keep all */
	int skip_unwanted;		/* do not decode frames not needed */
};

void dz_vpdq_opts_default(struct dz_vpdq_opts *o);

/*
 * Hash the video in buf. 0 (the signature has a frame at least), or -1
 * with err: lib/media/video's errors, or EX_DATAERR when no frame could be
 * hashed.
 */
int dz_vpdq_hash(const uint8_t *buf, size_t len,
    const struct dz_vpdq_opts *o, struct dz_vpdqsig *out,
    struct dz_video_info *info, struct dz_err *err);

#endif
