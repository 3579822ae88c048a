/*
 * t/fuzz/avimage.c: WebP, GIF, BMP and TIFF through lib/hash/hash and
 * lib/media/avimage (libavformat, libavcodec behind lib/media/avio).
 */
#include "fuzz.h"
#include "fzimage.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dz_image_format want[] = {
		DZ_IMG_WEBP, DZ_IMG_GIF, DZ_IMG_BMP, DZ_IMG_TIFF
	};

	fz_image_run(data, size, want, 4);
	return 0;
}
