/*
 * lib/media/exif: the one EXIF fact we use, the orientation tag (0x0112).
 *
 * May use: the C library only.
 */
#ifndef DZ_EXIF_H
#define DZ_EXIF_H

#include <stddef.h>
#include <stdint.h>

/*
 * buf holds a TIFF structure (what follows "Exif\0\0" in a JPEG APP1
 * segment, or a PNG eXIf chunk). Returns the orientation 1-8, or 1 when
 * the tag is absent, out of range or the structure is malformed. Never
 * reads outside buf.
 */
int dz_exif_orientation(const uint8_t *buf, size_t len);

#endif
