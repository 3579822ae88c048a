/*
 * t/fuzz/fzimage.h: the image harnesses (jpeg, png, avimage) share one
 * body, fzimage.c; each names the formats it keeps.
 */
#ifndef DZ_FZIMAGE_H
#define DZ_FZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "media/image.h"

/*
 * Hash data as dz-hash does if dz_image_sniff finds one of the formats in
 * want[0..nwant) (other inputs return at once, so the fuzzer spends its
 * time on the decoder it is for): the default mode, with dihedral
 * hashes; then, for images of at most a megapixel, a JPEG in the exact
 * mode and an image with an EXIF orientation without applying it.
 * Limits are tighter than dz-hash's so that one input takes milliseconds.
 */
void fz_image_run(const uint8_t *data, size_t size,
    const enum dz_image_format *want, int nwant);

#endif
