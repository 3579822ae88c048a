#include <string.h>

#include "media/avimage.h"
#include "core/err.h"
#include "media/image.h"
#include "media/jpegimage.h"
#include "media/pngimage.h"

void
dz_image_opts_default(struct dz_image_opts *o)
{
	memset(o, 0, sizeof *o);
	o->lim.max_pixels = DZ_IMAGE_MAX_PIXELS_DEFAULT;
	o->lim.max_memory = DZ_IMAGE_MAX_MEMORY_DEFAULT;
	o->lim.max_scans = DZ_IMAGE_MAX_SCANS_DEFAULT;
	o->orient = 1;
	o->fast_min_side = 0;
}

void
dz_image_info_init(struct dz_image_info *info, enum dz_image_format format)
{
	memset(info, 0, sizeof *info);
	info->format = format;
	info->orientation = 1;
	info->scale_denom = 1;
}

int
dz_image_decode(const uint8_t *buf, size_t len, const struct dz_image_opts *o,
    struct dz_luma_sink *sink, struct dz_image_info *info, struct dz_err *err)
{
	enum dz_image_format f;

	dz_image_info_init(info, DZ_IMG_UNKNOWN);
	if (len == 0)
		return dz_err_set(err, EX_DATAERR, "empty file");
	f = dz_image_sniff(buf, len);
	info->format = f;
	switch (f) {
	case DZ_IMG_JPEG:
		return dz_jpegimage_decode(buf, len, o, sink, info, err);
	case DZ_IMG_PNG:
		return dz_pngimage_decode(buf, len, o, sink, info, err);
	case DZ_IMG_WEBP:
	case DZ_IMG_GIF:
	case DZ_IMG_BMP:
	case DZ_IMG_TIFF:
		return dz_avimage_decode(buf, len, o, sink, info, err);
	default:
		return dz_err_set(err, EX_DATAERR, "not a supported image type");
	}
}
