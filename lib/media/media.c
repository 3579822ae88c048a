#include <string.h>

#include "media/image.h"
#include "media/media.h"

static int
at(const uint8_t *b, size_t len, size_t off, const char *m, size_t n)
{
	return len >= off + n && memcmp(b + off, m, n) == 0;
}

const char *
dz_media_sniff(const uint8_t *b, size_t len)
{
	switch (dz_image_sniff(b, len)) {
	case DZ_IMG_JPEG: return "image/jpeg";
	case DZ_IMG_PNG: return "image/png";
	case DZ_IMG_WEBP: return "image/webp";
	case DZ_IMG_GIF: return "image/gif";
	case DZ_IMG_BMP: return "image/bmp";
	case DZ_IMG_TIFF: return "image/tiff";
	default: break;
	}
	if (at(b, len, 4, "ftyp", 4)) {
		if (at(b, len, 8, "qt  ", 4))
			return "video/quicktime";
		if (at(b, len, 8, "3g", 2))
			return "video/3gpp";
		return "video/mp4";
	}
	if (at(b, len, 0, "\x1a\x45\xdf\xa3", 4))
		return "video/x-matroska";
	if (at(b, len, 0, "RIFF", 4) && at(b, len, 8, "AVI ", 4))
		return "video/x-msvideo";
	if (at(b, len, 0, "FLV\x01", 4))
		return "video/x-flv";
	if (at(b, len, 0, "OggS", 4))
		return "video/ogg";
	if (at(b, len, 0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8))
		return "video/x-ms-asf";
	if (at(b, len, 0, "\x00\x00\x01\xba", 4))
		return "video/mpeg";
	/* MPEG-TS: sync byte every 188 bytes */
	if (len >= 377 && b[0] == 0x47 && b[188] == 0x47 && b[376] == 0x47)
		return "video/mp2t";
	return NULL;
}

int
dz_media_is_video(const char *mime)
{
	return mime && strncmp(mime, "video/", 6) == 0;
}
