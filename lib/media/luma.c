#include "media/luma.h"

/*
 * Kept as written: the reference adds R and G first, then B, in float.
 * The Makefile builds with -ffp-contract=off so no multiply-add is fused.
 */
static const float kr = 0.299f, kg = 0.587f, kb = 0.114f;

void
dz_luma_from_rgb(float *out, const uint8_t *rgb, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (kr * (float)rgb[3 * i] + kg * (float)rgb[3 * i + 1]) +
		    kb * (float)rgb[3 * i + 2];
}

void
dz_luma_from_rgba(float *out, const uint8_t *rgba, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (kr * (float)rgba[4 * i] + kg * (float)rgba[4 * i + 1]) +
		    kb * (float)rgba[4 * i + 2];
}

void
dz_luma_from_grey(float *out, const uint8_t *grey, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (float)grey[i];
}

void
dz_luma_from_greya(float *out, const uint8_t *ga, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (float)ga[2 * i];
}
