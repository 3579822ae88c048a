/*
 * lib/png: PNG through libpng 1.6, from memory, into a luma sink.
 *
 * libpng reports errors through our error function, which longjmps to the
 * setjmp in run(); it never prints (warnings are dropped). Rows stream to
 * the sink CHUNK_ROWS at a time, so a non-interlaced image of any size
 * decodes in a few rows of memory; an interlaced one has to be held whole,
 * within lim.max_memory.
 *
 * The pixels are what ImageMagick (which made the reference hashes) reads:
 * palette to RGB, 1/2/4-bit grey stretched to 8 bits (1 -> 255), 16 bits
 * scaled to 8 with rounding (png_set_scale_16 gives exactly ImageMagick's
 * ((v + 128) - ((v + 128) >> 8)) >> 8 for all 65536 values), no gamma
 * correction, tRNS and alpha ignored. Grey images give the grey value.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "core/err.h"
#include "media/exif.h"
#include "media/luma.h"
#include "media/pngimage.h"

enum {
	CHUNK_ROWS = 16,
	MAX_SIDE = 1 << 24,		/* png_set_user_limits */
	MAX_CHUNK = 8 << 20,		/* png_set_chunk_malloc_max */
};

/*
 * Ancillary chunks we have no use for: libpng skips them (checks their CRC
 * but neither stores nor inflates text or profiles). tRNS goes too: with
 * it, png_set_palette_to_rgb would add an alpha channel we would only drop.
 */
static const png_byte skip_chunks[] =
    "bKGD\0cHRM\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0sBIT\0"
    "sCAL\0sPLT\0sRGB\0tEXt\0tIME\0tRNS\0zTXt\0";

struct pdec {
	png_structp png;
	png_infop info;
	const uint8_t *buf;
	size_t len, pos;
	int truncated;		/* the reader ran past the end */
	int code;
	char msg[DZ_ERR_MAX];

	png_bytep pix;		/* a chunk of rows, or the whole image */
	png_bytepp rowp;	/* interlaced: a pointer per row */
	float *luma;
};

static void
on_error(png_structp png, png_const_charp msg)
{
	struct pdec *d = png_get_error_ptr(png);

	d->code = EX_DATAERR;
	if (d->truncated) {
		snprintf(d->msg, sizeof d->msg, "truncated PNG data");
	} else {
		const char *colon = strstr(msg, ": ");
		int n;

		/*
		 * libpng names the chunk first ("IDAT: ..."). A name that
		 * is not printable is shown as escaped file bytes: drop it.
		 */
		if (colon && memchr(msg, '[', (size_t)(colon - msg)))
			msg = colon + 2;
		n = snprintf(d->msg, sizeof d->msg, "corrupt PNG data: %s",
		    msg);
		size_t at = sizeof "corrupt PNG data: " - 1;

		if (n > 0 && (size_t)n > at && d->msg[at] >= 'A' &&
		    d->msg[at] <= 'Z')
			d->msg[at] = (char)(d->msg[at] - 'A' + 'a');
	}
	png_longjmp(png, 1);
}

static void
on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void
on_read(png_structp png, png_bytep out, size_t n)
{
	struct pdec *d = png_get_io_ptr(png);

	if (d->len - d->pos < n) {
		d->truncated = 1;
		png_error(png, "truncated");
	}
	memcpy(out, d->buf + d->pos, n);
	d->pos += n;
}

static void
to_luma(float *out, const png_byte *pix, size_t n, int channels)
{
	switch (channels) {
	case 1:
		dz_luma_from_grey(out, pix, n);
		break;
	case 2:
		dz_luma_from_greya(out, pix, n);
		break;
	case 3:
		dz_luma_from_rgb(out, pix, n);
		break;
	default:
		dz_luma_from_rgba(out, pix, n);
		break;
	}
}

/* Called under run()'s setjmp: libpng errors longjmp out of here. */
static int
body(struct pdec *d, const struct dz_image_opts *o,
    struct dz_luma_sink *sink, struct dz_image_info *info,
    struct dz_err *err)
{
	png_structp png = d->png;
	png_infop pi = d->info;
	png_uint_32 w, h, chunk;
	int depth, ctype, interlace, channels, passes;
	size_t rowbytes;
	int orientation = 1;

	png_set_read_fn(png, d, on_read);
	png_set_user_limits(png, MAX_SIDE, MAX_SIDE);
	png_set_chunk_malloc_max(png, MAX_CHUNK);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skip_chunks,
	    (int)(sizeof skip_chunks / 5));
	png_read_info(png, pi);

	png_get_IHDR(png, pi, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
	info->width = (int)w;
	info->height = (int)h;
	if ((uint64_t)w * h > o->lim.max_pixels)
		return dz_err_set(err, EX_DATAERR,
		    "image too large: %ux%u pixels exceeds limit %llu",
		    (unsigned)w, (unsigned)h,
		    (unsigned long long)o->lim.max_pixels);

	if (o->orient) {
		png_uint_32 nexif = 0;
		png_bytep exif = NULL;

		if (png_get_eXIf_1(png, pi, &nexif, &exif) && exif)
			orientation = dz_exif_orientation(exif, nexif);
	}
	info->orientation = orientation;

	if (ctype == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (depth == 16)
		png_set_scale_16(png);
	passes = png_set_interlace_handling(png);
	png_read_update_info(png, pi);
	channels = png_get_channels(png, pi);
	rowbytes = png_get_rowbytes(png, pi);
	if (png_get_bit_depth(png, pi) != 8 || channels < 1 || channels > 4 ||
	    rowbytes != (size_t)w * (size_t)channels)
		return dz_err_set(err, EX_SOFTWARE,
		    "unexpected PNG row layout after transformations");

	/* No more rows than the image has: a very wide image is short. */
	chunk = h < CHUNK_ROWS ? h : CHUNK_ROWS;
	d->luma = malloc((size_t)w * chunk * sizeof *d->luma);
	if (!d->luma)
		return dz_err_set(err, EX_SOFTWARE, "out of memory decoding PNG");

	if (passes > 1) {
		/* Interlaced: every pass touches every row; hold them all. */
		if ((uint64_t)rowbytes * h > o->lim.max_memory)
			return dz_err_set(err, EX_DATAERR,
			    "interlaced image too large: %ux%u needs more "
			    "memory than the limit",
			    (unsigned)w, (unsigned)h);
		d->pix = malloc(rowbytes * h);
		d->rowp = malloc(h * sizeof *d->rowp);
		if (!d->pix || !d->rowp)
			return dz_err_set(err, EX_SOFTWARE,
			    "out of memory decoding PNG");
		for (png_uint_32 y = 0; y < h; y++)
			d->rowp[y] = d->pix + (size_t)y * rowbytes;
		if (sink->begin(sink->ctx, (int)w, (int)h, orientation,
		    err) < 0)
			return -1;
		png_read_image(png, d->rowp);
		for (png_uint_32 y = 0; y < h; y += chunk) {
			png_uint_32 n = h - y < chunk ? h - y : chunk;

			to_luma(d->luma, d->rowp[y], (size_t)n * w, channels);
			if (sink->rows(sink->ctx, d->luma, (int)n, err) < 0)
				return -1;
		}
		return 0;
	}

	d->pix = malloc(rowbytes * chunk);
	if (!d->pix)
		return dz_err_set(err, EX_SOFTWARE, "out of memory decoding PNG");
	if (sink->begin(sink->ctx, (int)w, (int)h, orientation, err) < 0)
		return -1;
	for (png_uint_32 y = 0; y < h; y += chunk) {
		png_uint_32 n = h - y < chunk ? h - y : chunk;

		for (png_uint_32 i = 0; i < n; i++)
			png_read_row(png, d->pix + (size_t)i * rowbytes, NULL);
		to_luma(d->luma, d->pix, (size_t)n * w, channels);
		if (sink->rows(sink->ctx, d->luma, (int)n, err) < 0)
			return -1;
	}
	/*
	 * No png_read_end: every row has been delivered; what follows the
	 * image data (text, a missing IEND) does not change the pixels.
	 */
	return 0;
}

static int
run(struct pdec *d, const struct dz_image_opts *o,
    struct dz_luma_sink *sink, struct dz_image_info *info,
    struct dz_err *err)
{
	if (setjmp(png_jmpbuf(d->png)))
		return dz_err_set(err, d->code, "%s", d->msg);
	return body(d, o, sink, info, err);
}

int
dz_pngimage_decode(const uint8_t *buf, size_t len,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_image_info *info, struct dz_err *err)
{
	struct pdec *d;
	int rc;

	dz_image_info_init(info, DZ_IMG_PNG);
	if (len == 0)
		return dz_err_set(err, EX_DATAERR, "empty PNG data");
	d = calloc(1, sizeof *d);
	if (!d)
		return dz_err_set(err, EX_SOFTWARE, "out of memory decoding PNG");
	d->buf = buf;
	d->len = len;
	d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, on_error,
	    on_warning);
	if (d->png)
		d->info = png_create_info_struct(d->png);
	if (!d->png || !d->info)
		rc = dz_err_set(err, EX_SOFTWARE, "out of memory decoding PNG");
	else
		rc = run(d, o, sink, info, err);
	if (d->png)
		png_destroy_read_struct(&d->png, d->info ? &d->info : NULL,
		    NULL);
	free(d->pix);
	free(d->rowp);
	free(d->luma);
	free(d);
	return rc;
}
