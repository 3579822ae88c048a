/*
 * lib/hash/hash: turn a media file's bytes into signals.
 *
 * For an image: MD5 and SHA-256 of the bytes, then decode (lib/media/image),
 * apply the EXIF orientation, and stream the luminance through the PDQ
 * filter (lib/hash/pdq). The bytes are in memory and stay there; nothing is
 * written anywhere. Safe to call from several threads at once.
 *
 * May use: core/, crypto/ (digest), media/ (decoding), hash/; jansson.
 */
#ifndef DZ_HASH_H
#define DZ_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/digest.h"
#include "media/image.h"
#include "hash/pdq.h"
#include "media/video.h"
#include "hash/vpdq.h"

struct dz_err;

/*
 * Default mode: a JPEG whose shorter side is at least twice this is
 * decoded at DCT scale 1/2 or 1/4, the smaller one that keeps the shorter
 * side at or above it (see dz-hash(1), "Accuracy of the default mode").
 */
#define DZ_HASH_FAST_MIN_SIDE 600

struct dz_hash_opts {
	struct dz_image_opts img;
	struct dz_vpdq_opts vpdq;	/* videos */
	int exact;		/* full-resolution decode, reference-identical */
	int dihedral;		/* also the eight dihedral hashes */
};

struct dz_hash_result {
	struct dz_image_info info;
	int width, height;	/* as displayed: after orientation */
	struct dz_pdq_result pdq;
	struct dz_digest digest;
	/* a video: the rest is for images */
	const char *video;	/* "video/mp4", ...; NULL for an image */
	struct dz_vpdqsig vpdq;	/* owned: dz_hash_result_release */
	struct dz_video_info vinfo;
};

void dz_hash_opts_default(struct dz_hash_opts *o);

/*
 * Hash an image held in buf. Returns 0, or -1 with err filled (EX_DATAERR:
 * not an image, corrupt, over a limit; EX_SOFTWARE: out of memory). The
 * digests are filled even when decoding fails.
 */
int dz_hash_image(const uint8_t *buf, size_t len, const struct dz_hash_opts *o,
    struct dz_hash_result *r, struct dz_err *err);

/*
 * Hash what buf holds, an image (dz_hash_image) or a video (MD5, SHA-256
 * and the vPDQ signature, lib/hash/vpdq), as its first bytes say. Release r
 * with dz_hash_result_release either way.
 */
int dz_hash_media(const uint8_t *buf, size_t len,
    const struct dz_hash_opts *o, struct dz_hash_result *r,
    struct dz_err *err);
void dz_hash_result_release(struct dz_hash_result *r);

/*
 * Add a hash record's fields for r to rec (see dz-records(5)): format,
 * width, height, pdq, quality, md5, sha256, and pdq_dihedral (an object
 * of the eight transforms) when dihedral is set; for a video, format,
 * codec, width, height, fps, duration, frames, vpdq, md5 and sha256. 0,
 * or -1 when out of memory.
 */
int dz_hash_record_fields(json_t *rec, const struct dz_hash_result *r,
    int dihedral);

#endif
