/*
 * t/fuzz/png.c: PNG through lib/hash/hash (lib/media/image, lib/media/pngimage, its eXIf
 * chunk through lib/media/exif), in the default and the exact mode.
 */
#include "fuzz.h"
#include "fzimage.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dz_image_format want[] = { DZ_IMG_PNG };

	fz_image_run(data, size, want, 1);
	return 0;
}
