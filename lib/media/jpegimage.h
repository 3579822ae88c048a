/*
 * lib/media/jpegimage: decode JPEG through libjpeg-turbo into a struct dz_luma_sink,
 * within the limits of struct dz_image_opts. Called by lib/media/image, which has
 * already recognised the format. The buffer is the whole file, in memory.
 *
 * May use: core/ (err); media/ (exif, image, luma); libjpeg-turbo.
 */
#ifndef DZ_JPEGIMAGE_H
#define DZ_JPEGIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "media/image.h"

struct dz_err;
struct dz_luma_sink;

/*
 * Fill info (format, stored width and height, orientation, scale_denom),
 * call sink->begin once, then sink->rows for every row. Returns 0, or -1
 * with err filled (EX_DATAERR for bad or over-limit data).
 */
int dz_jpegimage_decode(const uint8_t *buf, size_t len,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_image_info *info, struct dz_err *err);

#endif
