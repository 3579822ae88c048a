/*
 * lib/jpeg: JPEG through libjpeg-turbo, from memory, into a luma sink.
 *
 * libjpeg reports fatal errors through error_exit, which must not return:
 * ours longjmps back to run(). Warnings (corrupt or truncated entropy
 * data, which libjpeg would paper over with grey blocks) are errors here,
 * except the few that say nothing about the pixels.
 *
 * Everything that changes between setjmp and a longjmp lives in struct
 * jdec, owned by dz_jpegimage_decode(), so no local of the function that calls
 * setjmp is read after the jump. No state is global: decoders run in
 * several threads at once.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "core/err.h"
#include "media/exif.h"
#include "media/jpegimage.h"
#include "media/luma.h"

/* Rows asked of jpeg_read_scanlines and pushed to the sink at a time. */
enum { CHUNK_ROWS = 16 };

struct jdec {
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr jerr;
	struct jpeg_progress_mgr progress;
	jmp_buf jb;
	int created;		/* cinfo needs jpeg_destroy_decompress */
	int max_scans;
	/* Filled before a longjmp. */
	int code;
	char msg[DZ_ERR_MAX];

	unsigned char *pix;	/* CHUNK_ROWS rows of libjpeg's output */
	unsigned char *rgb;	/* CMYK only: the same rows as RGB */
	float *luma;		/* CHUNK_ROWS rows of luminance */
};

static _Noreturn void
fail(struct jdec *d, int code, const char *msg)
{
	d->code = code;
	snprintf(d->msg, sizeof d->msg, "%s", msg);
	longjmp(d->jb, 1);
}

/*
 * prefix, then libjpeg's own message for the current code, without its
 * "Corrupt JPEG data: " and starting lowercase. libjpeg's messages hold
 * numbers from the headers at most, never image content.
 */
static _Noreturn void
fail_libjpeg(struct jdec *d, const char *prefix)
{
	static const char corrupt[] = "Corrupt JPEG data: ";
	char buf[JMSG_LENGTH_MAX];
	char *m = buf;

	d->jerr.format_message((j_common_ptr)&d->cinfo, buf);
	if (strncmp(m, corrupt, sizeof corrupt - 1) == 0)
		m += sizeof corrupt - 1;
	if (*m >= 'A' && *m <= 'Z')
		*m = (char)(*m - 'A' + 'a');
	d->code = EX_DATAERR;
	snprintf(d->msg, sizeof d->msg, "%s: %s", prefix, m);
	longjmp(d->jb, 1);
}

static void
on_error(j_common_ptr c)
{
	struct jdec *d = c->client_data;

	switch (c->err->msg_code) {
	case JERR_OUT_OF_MEMORY:
		fail(d, EX_SOFTWARE, "out of memory decoding JPEG");
	case JERR_NO_BACKING_STORE:
	case JERR_TFILE_CREATE:
		/* jpeg_mem_available() said no: over max_memory_to_use. */
		fail(d, EX_DATAERR, "JPEG needs more memory than the limit");
	case JERR_INPUT_EMPTY:
		fail(d, EX_DATAERR, "empty JPEG data");
	case JERR_NO_SOI:
		fail(d, EX_DATAERR, "not a JPEG file");
	case JERR_NO_IMAGE:
		fail(d, EX_DATAERR, "JPEG data holds no image");
	case JERR_BAD_PRECISION:
		fail(d, EX_DATAERR, "unsupported JPEG sample precision");
	default:
		fail_libjpeg(d, "corrupt JPEG data");
	}
}

/*
 * msg_level -1 is a warning: libjpeg found damage and carries on with
 * made-up pixels. We stop instead, except for warnings about metadata.
 * Levels 0 and up are trace messages: ignored.
 */
static void
on_message(j_common_ptr c, int msg_level)
{
	struct jdec *d = c->client_data;

	if (msg_level != -1)
		return;
	switch (c->err->msg_code) {
	case JWRN_ADOBE_XFORM:
	case JWRN_JFIF_MAJOR:
	case JWRN_BOGUS_ICC:
	/*
	 * Stray bytes before a marker are skipped and the image is intact;
	 * some cameras write them. Refusing would leave a victim's photo
	 * unhashed.
	 */
	case JWRN_EXTRANEOUS_DATA:
		c->err->num_warnings++;
		return;
	case JWRN_JPEG_EOF:
		fail(d, EX_DATAERR, "truncated JPEG data");
	default:
		fail_libjpeg(d, "corrupt JPEG data");
	}
}

static void
on_output(j_common_ptr c)
{
	(void)c;
}

/*
 * The scan limit recommended by libjpeg-turbo (djpeg -maxscans): a
 * progressive JPEG may hold thousands of scans, each re-reading the whole
 * coefficient buffer. In jpeg_start_decompress the monitor is called before
 * every chunk of input is consumed, and input_scan_number counts the SOS
 * markers seen so far.
 */
static void
on_progress(j_common_ptr c)
{
	struct jdec *d = c->client_data;
	j_decompress_ptr di = (j_decompress_ptr)c;

	if (c->is_decompressor && d->max_scans > 0 &&
	    di->input_scan_number > d->max_scans) {
		d->code = EX_DATAERR;
		snprintf(d->msg, sizeof d->msg,
		    "JPEG has more than %d scans", d->max_scans);
		longjmp(d->jb, 1);
	}
}

/* The orientation from the first APP1 segment that holds EXIF. */
static int
exif_orientation(j_decompress_ptr cinfo)
{
	static const char tag[6] = "Exif\0";	/* "Exif\0\0" */

	for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
		if (m->marker != JPEG_APP0 + 1 || m->data_length < sizeof tag ||
		    memcmp(m->data, tag, sizeof tag) != 0)
			continue;
		return dz_exif_orientation(m->data + sizeof tag,
		    m->data_length - sizeof tag);
	}
	return 1;
}

/*
 * CMYK to RGB as ImageMagick 6 (Q16, no HDRI) does it, since the reference
 * hash of a CMYK JPEG was made by ImageMagick. ImageMagick reads every CMYK
 * JPEG as Adobe-inverted, so an ink is C = 257 * (255 - c) for a stored
 * sample c, and converts with R = QR - (C * (QR - K) / QR + K), QR = 65535.
 * Substituting gives exactly R = 257 * c * k / 255 (never a tie, 255 being
 * odd), which it rounds to a 16-bit quantum and then scales to 8 bits with
 * ((q + 128) - ((q + 128) >> 8)) >> 8. YCCK files reach us as CMYK too
 * (libjpeg converts). Measured against `convert CMYK.jpg rgb:-`: identical.
 */
static unsigned char
cmyk_channel(unsigned c, unsigned k)
{
	unsigned long q = (2UL * 257 * c * k + 255) / 510;

	return (unsigned char)(((q + 128) - ((q + 128) >> 8)) >> 8);
}

static void
cmyk_to_rgb(unsigned char *rgb, const unsigned char *cmyk, size_t n)
{
	for (size_t i = 0; i < n; i++, rgb += 3, cmyk += 4) {
		rgb[0] = cmyk_channel(cmyk[0], cmyk[3]);
		rgb[1] = cmyk_channel(cmyk[1], cmyk[3]);
		rgb[2] = cmyk_channel(cmyk[2], cmyk[3]);
	}
}

/*
 * The largest DCT scale 1/4 or 1/2 keeping the short side >= min. 1/8
 * (DC only) is not used: on 24-megapixel photos it moved the hash by up to
 * 12 bits, over the 10 the reference allows (scripts/bench/distance).
 */
static int
fast_denom(unsigned w, unsigned h, int min_side)
{
	static const int denoms[] = { 4, 2 };
	unsigned side = w < h ? w : h;

	if (min_side <= 0)
		return 1;
	for (size_t i = 0; i < sizeof denoms / sizeof denoms[0]; i++) {
		unsigned d = (unsigned)denoms[i];

		if ((side + d - 1) / d >= (unsigned)min_side)
			return denoms[i];
	}
	return 1;
}

/* Called under run()'s setjmp: libjpeg errors longjmp out of here. */
static int
body(struct jdec *d, const uint8_t *buf, size_t len,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_image_info *info, struct dz_err *err)
{
	j_decompress_ptr cinfo = &d->cinfo;
	const struct dz_image_limits *lim = &o->lim;
	enum { GREY, RGB, CMYK } kind;
	JSAMPROW rows[CHUNK_ROWS];
	unsigned w, h, ow, oh;
	size_t stride;
	int orientation = 1, denom = 1;

	cinfo->err = jpeg_std_error(&d->jerr);
	d->jerr.error_exit = on_error;
	d->jerr.emit_message = on_message;
	d->jerr.output_message = on_output;
	cinfo->client_data = d;
	/* Safe to destroy even if creation fails half way (mem is NULL). */
	d->created = 1;
	jpeg_create_decompress(cinfo);
	cinfo->client_data = d;
	cinfo->mem->max_memory_to_use =
	    lim->max_memory > (uint64_t)LONG_MAX ? LONG_MAX :
	    (long)lim->max_memory;
	d->progress.progress_monitor = on_progress;
	cinfo->progress = &d->progress;

	jpeg_mem_src(cinfo, buf, (unsigned long)len);
	if (o->orient)
		jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
	jpeg_read_header(cinfo, TRUE);

	w = cinfo->image_width;
	h = cinfo->image_height;
	info->width = (int)w;
	info->height = (int)h;
	if ((uint64_t)w * h > lim->max_pixels)
		return dz_err_set(err, EX_DATAERR,
		    "image too large: %ux%u pixels exceeds limit %llu", w, h,
		    (unsigned long long)lim->max_pixels);
	if (o->orient)
		orientation = exif_orientation(cinfo);
	info->orientation = orientation;

	switch (cinfo->jpeg_color_space) {
	case JCS_GRAYSCALE:
		kind = GREY;
		break;
	case JCS_YCbCr:
	case JCS_RGB:
		kind = RGB;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		kind = CMYK;
		break;
	default:
		return dz_err_set(err, EX_DATAERR,
		    "unsupported JPEG colour space (%d components)",
		    cinfo->num_components);
	}

	/* Default islow IDCT and fancy upsampling: what the reference used. */
	if (kind != CMYK)
		denom = fast_denom(w, h, o->fast_min_side);
	if (denom > 1) {
		/* The Y channel only: libjpeg skips the chroma entirely. */
		cinfo->scale_num = 1;
		cinfo->scale_denom = (unsigned)denom;
		cinfo->out_color_space = JCS_GRAYSCALE;
		kind = GREY;
	} else if (kind == GREY) {
		cinfo->out_color_space = JCS_GRAYSCALE;
	} else if (kind == RGB) {
		cinfo->out_color_space = JCS_RGB;
	} else {
		cinfo->out_color_space = JCS_CMYK;
	}
	info->scale_denom = denom;
	jpeg_calc_output_dimensions(cinfo);
	ow = cinfo->output_width;
	oh = cinfo->output_height;

	stride = (size_t)ow * (size_t)cinfo->output_components;
	d->pix = malloc(stride * CHUNK_ROWS);
	d->luma = malloc((size_t)ow * CHUNK_ROWS * sizeof *d->luma);
	if (kind == CMYK)
		d->rgb = malloc((size_t)ow * 3 * CHUNK_ROWS);
	if (!d->pix || !d->luma || (kind == CMYK && !d->rgb))
		return dz_err_set(err, EX_SOFTWARE, "out of memory decoding JPEG");
	for (int i = 0; i < CHUNK_ROWS; i++)
		rows[i] = d->pix + (size_t)i * stride;

	if (sink->begin(sink->ctx, (int)ow, (int)oh, orientation, err) < 0)
		return -1;
	/* A progressive file is read whole here, under the scan limit. */
	jpeg_start_decompress(cinfo);

	while (cinfo->output_scanline < oh) {
		unsigned n = 0;
		size_t npix;

		while (n < CHUNK_ROWS && cinfo->output_scanline < oh)
			n += jpeg_read_scanlines(cinfo, rows + n,
			    CHUNK_ROWS - n);
		npix = (size_t)n * ow;
		switch (kind) {
		case GREY:
			dz_luma_from_grey(d->luma, d->pix, npix);
			break;
		case RGB:
			dz_luma_from_rgb(d->luma, d->pix, npix);
			break;
		case CMYK:
			cmyk_to_rgb(d->rgb, d->pix, npix);
			dz_luma_from_rgb(d->luma, d->rgb, npix);
			break;
		}
		if (sink->rows(sink->ctx, d->luma, (int)n, err) < 0)
			return -1;
	}
	/*
	 * No jpeg_finish_decompress: every row has been delivered, and a
	 * file that lacks only its EOI marker is accepted. Damage inside the
	 * entropy data has already failed above.
	 */
	return 0;
}

static int
run(struct jdec *d, const uint8_t *buf, size_t len,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_image_info *info, struct dz_err *err)
{
	if (setjmp(d->jb))
		return dz_err_set(err, d->code, "%s", d->msg);
	return body(d, buf, len, o, sink, info, err);
}

int
dz_jpegimage_decode(const uint8_t *buf, size_t len,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_image_info *info, struct dz_err *err)
{
	struct jdec *d;
	int rc;

	dz_image_info_init(info, DZ_IMG_JPEG);
	if (len == 0)
		return dz_err_set(err, EX_DATAERR, "empty JPEG data");
	/* Heap, not stack: jmp_buf and libjpeg's structs are large. */
	d = calloc(1, sizeof *d);
	if (!d)
		return dz_err_set(err, EX_SOFTWARE, "out of memory decoding JPEG");
	d->max_scans = o->lim.max_scans;
	rc = run(d, buf, len, o, sink, info, err);
	if (d->created)
		jpeg_destroy_decompress(&d->cinfo);
	free(d->pix);
	free(d->rgb);
	free(d->luma);
	free(d);
	return rc;
}
