/*
 * lib/hash/pdq: the PDQ perceptual hash, bit-identical to the reference.
 *
 * The luminance image is pushed row by row into a streaming filter (two
 * rounds of horizontal then vertical box filter, then decimation to
 * 64x64), so memory is O(width * window), never the whole image. From the
 * 64x64 image come the quality and a 16x16 DCT; thresholding the DCT at its
 * median gives the hash, and the same DCT gives all eight dihedral hashes.
 * The steps and their floating-point order are documented in
 * shared/testdata/pdq/ALGORITHM.md; lib/ must be built without fused
 * multiply-add or fast-math (the Makefile sees to it).
 *
 * May use: core/ (err, hex).
 */
#ifndef DZ_PDQ_H
#define DZ_PDQ_H

#include <stdint.h>

struct dz_err;

/* A 256-bit hash; bit k (0 = least significant) is w[k / 64] bit k % 64. */
struct dz_pdq {
	uint64_t w[4];
};

enum dz_pdq_dihedral {
	DZ_PDQ_ORIG,
	DZ_PDQ_ROT90,		/* 90 degrees counter-clockwise */
	DZ_PDQ_ROT180,
	DZ_PDQ_ROT270,		/* 90 degrees clockwise */
	DZ_PDQ_FLIPX,		/* top and bottom swapped */
	DZ_PDQ_FLIPY,		/* left and right swapped */
	DZ_PDQ_FLIPPLUS1,	/* transpose */
	DZ_PDQ_FLIPMINUS1,	/* mirror about the anti-diagonal */
	DZ_PDQ_NDIHEDRAL
};

/* "orig", "rot90", ... as in the reference's dihedral CSV header. */
extern const char *const dz_pdq_dihedral_name[DZ_PDQ_NDIHEDRAL];

struct dz_pdq_result {
	struct dz_pdq hash;
	int quality;		/* 0-100 */
	struct dz_pdq dihedral[DZ_PDQ_NDIHEDRAL];	/* when asked for */
};

/* Smallest side that can be hashed; smaller images hash to zero, quality 0. */
#define DZ_PDQ_MIN_SIDE 5

struct dz_pdq_filter;

/* A filter for a width x height luminance image. NULL (ENOMEM) on failure. */
struct dz_pdq_filter *dz_pdq_filter_new(int width, int height,
    struct dz_err *err);

/* Push nrows rows of width floats each, top to bottom. */
int dz_pdq_filter_rows(struct dz_pdq_filter *f, const float *luma, int nrows,
    struct dz_err *err);

/*
 * After all height rows: the hash and quality, and the eight dihedral
 * hashes when dihedral is nonzero. -1 if rows are missing.
 */
int dz_pdq_filter_finish(struct dz_pdq_filter *f, int dihedral,
    struct dz_pdq_result *r, struct dz_err *err);

void dz_pdq_filter_free(struct dz_pdq_filter *f);

/*
 * The steps after the filter, exposed for tests against the reference's
 * intermediate dumps. a64 is the 64x64 decimated luminance, row-major.
 */
int dz_pdq_quality(const float a64[64 * 64]);
void dz_pdq_dct16(const float a64[64 * 64], float dct[16 * 16]);
void dz_pdq_from_dct(const float dct[16 * 16], struct dz_pdq *h);
void dz_pdq_dihedral_from_dct(const float dct[16 * 16],
    struct dz_pdq out[DZ_PDQ_NDIHEDRAL]);

/* 64 lowercase hex digits and a NUL. */
void dz_pdq_to_hex(const struct dz_pdq *h, char hex[65]);
/* Parse exactly 64 hex digits (either case). 0, or -1 if malformed. */
int dz_pdq_from_hex(const char *hex, struct dz_pdq *h);

/* Hamming distance, 0-256. */
int dz_pdq_distance(const struct dz_pdq *a, const struct dz_pdq *b);

#endif
