/*
 * t/fuzz/fzimage.c: the body of the image harnesses, see fzimage.h.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "hash/hash.h"
#include "media/image.h"

#include "fuzz.h"
#include "fzimage.h"

/* For a JPEG, big enough for the default mode's DCT scaling (a shorter
 * side of 1200 and more); otherwise, and for the exact mode, small
 * enough to stay fast. */
#define FZ_JPEG_MAX_PIXELS (4ULL << 20)
#define FZ_MAX_PIXELS (1ULL << 20)
#define FZ_MAX_MEMORY (64ULL << 20)
#define FZ_MAX_SCANS 40

static void
check_result(const struct dz_hash_result *r, uint64_t max_pixels)
{
	if (r->pdq.quality < 0 || r->pdq.quality > 100)
		fz_fail("quality out of range");
	if (r->info.orientation < 1 || r->info.orientation > 8)
		fz_fail("orientation out of range");
	if (r->info.width <= 0 || r->info.height <= 0 ||
	    (uint64_t)r->info.width * (uint64_t)r->info.height > max_pixels)
		fz_fail("image size out of the limits and not refused");
}

void
fz_image_run(const uint8_t *data, size_t size,
    const enum dz_image_format *want, int nwant)
{
	enum dz_image_format f = dz_image_sniff(data, size);
	struct dz_hash_opts o;
	struct dz_hash_result r;
	struct dz_err err;
	int i, rc;

	for (i = 0; i < nwant && want[i] != f; i++)
		;
	if (i == nwant)
		return;

	dz_hash_opts_default(&o);
	o.img.lim.max_pixels = f == DZ_IMG_JPEG ? FZ_JPEG_MAX_PIXELS :
	    FZ_MAX_PIXELS;
	o.img.lim.max_memory = FZ_MAX_MEMORY;
	o.img.lim.max_scans = FZ_MAX_SCANS;
	o.dihedral = 1;

	/* the default mode: DCT scaling for large JPEGs, dihedral hashes */
	dz_err_clear(&err);
	rc = dz_hash_image(data, size, &o, &r, &err);
	if (rc == 0)
		check_result(&r, o.img.lim.max_pixels);
	else if (err.code == 0 || err.msg[0] == '\0')
		fz_fail("failure without a reason");
	dz_hash_result_release(&r);
	if (r.info.width <= 0 || r.info.height <= 0 ||
	    (uint64_t)r.info.width * (uint64_t)r.info.height > FZ_MAX_PIXELS)
		return;		/* the header was bad or the image big */
	o.dihedral = 0;
	o.img.lim.max_pixels = FZ_MAX_PIXELS;

	/* the exact mode (dz-hash --exact): another decoder path for a
	 * JPEG only */
	if (f == DZ_IMG_JPEG) {
		o.exact = 1;
		dz_err_clear(&err);
		if (dz_hash_image(data, size, &o, &r, &err) == 0)
			check_result(&r, FZ_MAX_PIXELS);
		dz_hash_result_release(&r);
	}

	/* without the EXIF orientation (dz-hash --no-orient) */
	if (r.info.orientation != 1) {
		o.img.orient = 0;
		dz_err_clear(&err);
		if (dz_hash_image(data, size, &o, &r, &err) == 0) {
			check_result(&r, FZ_MAX_PIXELS);
			if (r.width != r.info.width)
				fz_fail("orientation applied under --no-orient");
		}
		dz_hash_result_release(&r);
	}
}
