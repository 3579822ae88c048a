/*
 * lib/media/luma: pixels to PDQ luminance, and the sink decoders push rows into.
 *
 * Every image decoder (lib/jpeg, lib/png, lib/media/avimage) produces rows of
 * float luminance and hands them to a struct dz_luma_sink, so no decoder
 * ever holds a whole RGB image unless its format forces it to. Luminance is
 * computed exactly as the PDQ reference does: (0.299f*R + 0.587f*G) +
 * 0.114f*B in float for colour pixels, the value itself for grey pixels.
 * Alpha is ignored (not composited).
 *
 * May use: the C library only.
 */
#ifndef DZ_LUMA_H
#define DZ_LUMA_H

#include <stddef.h>
#include <stdint.h>

struct dz_err;

struct dz_luma_sink {
	/*
	 * Called once before any row: the size of the pixel grid the decoder
	 * will deliver (after any DCT scaling, before EXIF orientation) and
	 * the EXIF orientation (1-8; 1 when absent or when orientation is not
	 * to be applied). Returns 0, or -1 with err filled to stop decoding.
	 */
	int (*begin)(void *ctx, int width, int height, int orientation,
	    struct dz_err *err);
	/* nrows consecutive rows of width floats each, top to bottom. */
	int (*rows)(void *ctx, const float *luma, int nrows, struct dz_err *err);
	void *ctx;
};

/* Convert n pixels to luminance. */
void dz_luma_from_rgb(float *out, const uint8_t *rgb, size_t n);
void dz_luma_from_rgba(float *out, const uint8_t *rgba, size_t n);
void dz_luma_from_grey(float *out, const uint8_t *grey, size_t n);
/* Grey with alpha (2 bytes a pixel): the grey value. */
void dz_luma_from_greya(float *out, const uint8_t *ga, size_t n);

#endif
