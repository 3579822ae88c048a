/*
 * lib/media/image, the part that needs no decoder: recognising a format by its
 * first bytes. Kept apart from lib/media/image.c so that a program that only
 * sniffs (dz-ingest) does not link the decoders and FFmpeg.
 */
#include <string.h>

#include "media/image.h"

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

