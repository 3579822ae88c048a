/*
 * lib/media/exif: find the orientation tag (0x0112) in IFD0 of a TIFF structure.
 *
 * Only IFD0 is read, so there is no chain of offsets to follow and no loop
 * to guard against. Every read is checked against len first; offsets are
 * 32-bit values compared as size_t, so no sum can overflow.
 */
#include <stddef.h>
#include <stdint.h>

#include "media/exif.h"

enum { TAG_ORIENTATION = 0x0112, TYPE_SHORT = 3, ENTRY_SIZE = 12 };

static unsigned
get16(const uint8_t *p, int le)
{
	return le ? (unsigned)p[0] | (unsigned)p[1] << 8 :
	    (unsigned)p[0] << 8 | (unsigned)p[1];
}

static uint32_t
get32(const uint8_t *p, int le)
{
	return le ?
	    (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24 :
	    (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int
dz_exif_orientation(const uint8_t *buf, size_t len)
{
	size_t ifd, n, pos;
	int le;

	if (!buf || len < 8)
		return 1;
	if (buf[0] == 'I' && buf[1] == 'I')
		le = 1;
	else if (buf[0] == 'M' && buf[1] == 'M')
		le = 0;
	else
		return 1;
	if (get16(buf + 2, le) != 42)
		return 1;

	ifd = get32(buf + 4, le);
	if (ifd > len || len - ifd < 2)
		return 1;
	n = get16(buf + ifd, le);
	pos = ifd + 2;
	for (size_t i = 0; i < n; i++, pos += ENTRY_SIZE) {
		unsigned tag, type, v;
		uint32_t count;

		if (len - pos < ENTRY_SIZE)
			return 1;
		tag = get16(buf + pos, le);
		if (tag != TAG_ORIENTATION)
			continue;
		type = get16(buf + pos + 2, le);
		count = get32(buf + pos + 4, le);
		if (type != TYPE_SHORT || count != 1)
			return 1;
		/* A single SHORT sits left-justified in the value field. */
		v = get16(buf + pos + 8, le);
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}
