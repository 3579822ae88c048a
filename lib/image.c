#include <string.h>

#include "avimage.h"
#include "err.h"
#include "image.h"
#include "jpegimage.h"
#include "pngimage.h"

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

static int
has(const uint8_t *buf, size_t len, size_t off, const char *magic, size_t n)
{
	return len >= off + n && memcmp(buf + off, magic, n) == 0;
}

enum dz_image_format
dz_image_sniff(const uint8_t *buf, size_t len)
{
	if (has(buf, len, 0, "\xff\xd8\xff", 3))
		return DZ_IMG_JPEG;
	if (has(buf, len, 0, "\x89PNG\r\n\x1a\n", 8))
		return DZ_IMG_PNG;
	if (has(buf, len, 0, "RIFF", 4) && has(buf, len, 8, "WEBP", 4))
		return DZ_IMG_WEBP;
	if (has(buf, len, 0, "GIF87a", 6) || has(buf, len, 0, "GIF89a", 6))
		return DZ_IMG_GIF;
	if (has(buf, len, 0, "BM", 2) && len >= 26)
		return DZ_IMG_BMP;
	if (has(buf, len, 0, "II*\0", 4) || has(buf, len, 0, "MM\0*", 4))
		return DZ_IMG_TIFF;
	return DZ_IMG_UNKNOWN;
}

const char *
dz_image_format_name(enum dz_image_format f)
{
	switch (f) {
	case DZ_IMG_JPEG: return "jpeg";
	case DZ_IMG_PNG: return "png";
	case DZ_IMG_WEBP: return "webp";
	case DZ_IMG_GIF: return "gif";
	case DZ_IMG_BMP: return "bmp";
	case DZ_IMG_TIFF: return "tiff";
	default: return "unknown";
	}
}

int
dz_image_decode(const uint8_t *buf, size_t len, const struct dz_image_opts *o,
    struct dz_luma_sink *sink, struct dz_image_info *info, struct dz_err *err)
{
	enum dz_image_format f;

	memset(info, 0, sizeof *info);
	info->orientation = 1;
	info->scale_denom = 1;
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
