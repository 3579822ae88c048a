/*
 * t/fuzz/jpeg.c: JPEG through lib/hash/hash (lib/media/image, lib/media/jpegimage), in
 * the default and the exact mode, and lib/media/exif's orientation parser on
 * the raw bytes (it reads APP1 "Exif" payloads and PNG eXIf chunks).
 */
#include "media/exif.h"

#include "fuzz.h"
#include "fzimage.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dz_image_format want[] = { DZ_IMG_JPEG };
	int o = dz_exif_orientation(data, size);

	if (o < 1 || o > 8)
		fz_fail("EXIF orientation out of range");
	/* the same from 6 bytes on: what follows "Exif\0\0" */
	if (size > 6 && ((o = dz_exif_orientation(data + 6, size - 6)) < 1 ||
	    o > 8))
		fz_fail("EXIF orientation out of range");
	fz_image_run(data, size, want, 1);
	return 0;
}
