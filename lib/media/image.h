/*
 * lib/media/image: recognise an image by its bytes and decode it, with limits,
 * into a struct dz_luma_sink.
 *
 * The whole file is in memory (it was read to be digested, or decrypted
 * from the store); nothing here touches the filesystem. Dispatch is by
 * content, never by file name: JPEG to lib/jpeg, PNG to lib/png, WebP, GIF,
 * BMP and TIFF to lib/avimage.
 *
 * May use: core/ (err); media/ (avimage, jpegimage, pngimage).
 */
#ifndef DZ_IMAGE_H
#define DZ_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct dz_err;
struct dz_luma_sink;

enum dz_image_format {
	DZ_IMG_UNKNOWN = 0,
	DZ_IMG_JPEG,
	DZ_IMG_PNG,
	DZ_IMG_WEBP,
	DZ_IMG_GIF,
	DZ_IMG_BMP,
	DZ_IMG_TIFF,
};

struct dz_image_limits {
	uint64_t max_pixels;	/* width * height of the stored image */
	uint64_t max_memory;	/* bytes a decoder may allocate for pixels */
	int max_scans;		/* progressive JPEG scans */
};

#define DZ_IMAGE_MAX_PIXELS_DEFAULT (100ULL * 1000 * 1000)
#define DZ_IMAGE_MAX_MEMORY_DEFAULT (1024ULL * 1024 * 1024)
#define DZ_IMAGE_MAX_SCANS_DEFAULT 100

struct dz_image_opts {
	struct dz_image_limits lim;
	int orient;		/* apply EXIF orientation (1) or not (0) */
	/*
	 * 0: decode at full resolution. N > 0: a JPEG may be decoded at a
	 * reduced DCT scale (1/2, 1/4, 1/8) as long as the shorter side of
	 * the scaled image stays >= N pixels; such a decode delivers the
	 * JPEG's own Y channel as luminance (no chroma decoding).
	 */
	int fast_min_side;
};

struct dz_image_info {
	enum dz_image_format format;
	int width, height;	/* stored image, full resolution */
	int orientation;	/* EXIF orientation found (1 when none) */
	int scale_denom;	/* 1, 2, 4 or 8: DCT scaling used */
};

void dz_image_opts_default(struct dz_image_opts *o);

/* *info before decoding: format, no size yet, orientation 1, no scaling. */
void dz_image_info_init(struct dz_image_info *info,
    enum dz_image_format format);

/* What the bytes look like; DZ_IMG_UNKNOWN for anything else. */
enum dz_image_format dz_image_sniff(const uint8_t *buf, size_t len);

/* "jpeg", "png", "webp", "gif", "bmp", "tiff" or "unknown". */
const char *dz_image_format_name(enum dz_image_format f);

/*
 * Decode buf into sink. Returns 0, or -1 with err filled: EX_DATAERR for
 * anything wrong with the data (unknown type, corrupt, truncated, over a
 * limit), EX_SOFTWARE/EX_SOFTWARE for failures of our own.
 */
int dz_image_decode(const uint8_t *buf, size_t len,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_image_info *info, struct dz_err *err);

#endif
