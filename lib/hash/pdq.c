/*
 * PDQ, written from the algorithm in shared/testdata/pdq/ALGORITHM.md.
 *
 * The reference filters a whole float image four times (rows, columns,
 * rows, columns), walking columns with a stride of the image width, which
 * is what makes it slow. Here the same arithmetic runs as a pipeline over
 * rows as they arrive:
 *
 *   rows --H1--> ring --V1--> --H2 (only at the 64 sampled columns)--> V2
 *
 * H passes run on LANES rows at once, interleaved so that one vector holds
 * the same column of LANES rows; every lane does exactly the reference's
 * scalar operations in the reference's order (add the entering value, then
 * subtract the leaving one, then divide by the count), so the result is
 * bit-identical. V passes keep one running sum per column and are
 * vectorised across columns. The second vertical pass is only computed for
 * the 64 sampled columns and only emitted at the 64 sampled rows.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hex.h"
#include "hash/pdq.h"

#ifdef __SSE2__
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#define LANES 4
typedef float vf __attribute__((vector_size(LANES * sizeof(float))));

const char *const dz_pdq_dihedral_name[DZ_PDQ_NDIHEDRAL] = {
	"orig", "rot90", "rot180", "rot270",
	"flipx", "flipy", "flipplus1", "flipminus1",
};

/* One-dimensional box filter along a sequence of "rows" (vertical pass). */
struct vpass {
	int n;			/* floats per row */
	int w, half;		/* window and (w + 2) / 2 */
	int nin;		/* rows in the whole sequence */
	int ri, li, cnt;	/* rows added, rows subtracted, window count */
	float *sum;		/* n running sums */
	int nslot;		/* ring slots: w + 1 + LANES */
	float *ring;		/* row r lives in slot r % nslot */
};

struct dz_pdq_filter {
	int width, height;
	int wr, wc;		/* horizontal and vertical windows */
	int tiny;
	int rows_in;
	int samp_col[64], samp_row[64];

	/* H1: LANES input rows gathered, interleaved, filtered. */
	float *h1_in[LANES];
	int h1_n;
	vf *ibuf, *obuf;	/* width vectors each */
	float *h1_out[LANES];

	struct vpass v1;

	/* H2: LANES V1 rows gathered; outputs at the 64 sampled columns. */
	float *h2_in[LANES];
	int h2_n;

	struct vpass v2;	/* over 64 columns */
	float v2_row[64];
	int v2_out;		/* rows V2 has emitted */
	int next_samp;		/* next index into samp_row */
	float a64[64 * 64];
};

static int
vpass_init(struct vpass *v, int n, int w, int nin)
{
	memset(v, 0, sizeof *v);
	v->n = n;
	v->w = w;
	v->half = (w + 2) / 2;
	v->nin = nin;
	v->nslot = w + 1 + LANES;
	v->sum = calloc((size_t)n, sizeof(float));
	v->ring = malloc((size_t)n * (size_t)v->nslot * sizeof(float));
	return v->sum && v->ring ? 0 : -1;
}

static void
vpass_release(struct vpass *v)
{
	free(v->sum);
	free(v->ring);
}

/*
 * Where input row ri + ahead will be kept (ahead < LANES): a producer may
 * write the row there and pass that pointer to vpass_push, saving a copy.
 */
static float *
vpass_slot(struct vpass *v, int ahead)
{
	return v->ring + (size_t)((v->ri + ahead) % v->nslot) * (size_t)v->n;
}

/*
 * Add one input row. Returns 1 and fills out when an output row is due.
 * Phases as the reference: the first half-1 rows only accumulate; then the
 * window grows to w; then each row enters while row ri-w leaves.
 */
static int
vpass_push(struct vpass *v, const float *row, float *out)
{
	const int n = v->n, w = v->w;
	float *restrict sum = v->sum;
	float *slot = vpass_slot(v, 0);
	int emit;

	if (v->ri < w) {
		v->cnt++;
		for (int x = 0; x < n; x++)
			sum[x] += row[x];
		emit = v->ri >= v->half - 1;
	} else {
		const float *old = v->ring + (size_t)(v->li % v->nslot) * (size_t)n;
		for (int x = 0; x < n; x++) {
			float s = sum[x] + row[x];
			sum[x] = s - old[x];
		}
		v->li++;
		emit = 1;
	}
	if (row != slot)
		memcpy(slot, row, (size_t)n * sizeof(float));
	v->ri++;
	if (emit) {
		const float c = (float)v->cnt;
		for (int x = 0; x < n; x++)
			out[x] = sum[x] / c;
	}
	return emit;
}

/* After all rows: the last half-1 outputs as the window shrinks. */
static int
vpass_drain(struct vpass *v, float *out)
{
	const int n = v->n;
	float *restrict sum = v->sum;
	const float *old;
	float c;

	if (v->ri < v->nin || v->li >= v->nin - v->w + v->half - 1)
		return 0;
	old = v->ring + (size_t)(v->li % v->nslot) * (size_t)n;
	for (int x = 0; x < n; x++)
		sum[x] -= old[x];
	v->li++;
	v->cnt--;
	c = (float)v->cnt;
	for (int x = 0; x < n; x++)
		out[x] = sum[x] / c;
	return 1;
}

/* rows[l][x] -> buf[x][l] for LANES rows of n floats. */
static void
interleave(vf *restrict buf, const float *const rows[LANES], int n)
{
	float *b = (float *)buf;
	int x = 0;

#ifdef __SSE2__
	for (; x + 4 <= n; x += 4) {
		__m128 r0 = _mm_loadu_ps(rows[0] + x), r1 = _mm_loadu_ps(rows[1] + x);
		__m128 r2 = _mm_loadu_ps(rows[2] + x), r3 = _mm_loadu_ps(rows[3] + x);
		_MM_TRANSPOSE4_PS(r0, r1, r2, r3);
		_mm_store_ps(b + 4 * x, r0);
		_mm_store_ps(b + 4 * x + 4, r1);
		_mm_store_ps(b + 4 * x + 8, r2);
		_mm_store_ps(b + 4 * x + 12, r3);
	}
#endif
	for (; x < n; x++)
		for (int l = 0; l < LANES; l++)
			b[x * LANES + l] = rows[l][x];
}

static void
deinterleave(float *const rows[LANES], const vf *restrict buf, int n)
{
	const float *b = (const float *)buf;
	int x = 0;

#ifdef __SSE2__
	for (; x + 4 <= n; x += 4) {
		__m128 r0 = _mm_load_ps(b + 4 * x), r1 = _mm_load_ps(b + 4 * x + 4);
		__m128 r2 = _mm_load_ps(b + 4 * x + 8), r3 = _mm_load_ps(b + 4 * x + 12);
		_MM_TRANSPOSE4_PS(r0, r1, r2, r3);
		_mm_storeu_ps(rows[0] + x, r0);
		_mm_storeu_ps(rows[1] + x, r1);
		_mm_storeu_ps(rows[2] + x, r2);
		_mm_storeu_ps(rows[3] + x, r3);
	}
#endif
	for (; x < n; x++)
		for (int l = 0; l < LANES; l++)
			rows[l][x] = b[x * LANES + l];
}

/*
 * Box filter of window w along n interleaved columns, every lane at once.
 * With out, every output is stored; otherwise only the outputs at the
 * sorted column indexes samp[0..63] go to sout[0..63].
 */
static inline __attribute__((always_inline)) void
box_lanes(const vf *restrict in, int n, int w, vf *restrict out,
    const int *samp, vf *restrict sout)
{
	const int half = (w + 2) / 2;
	vf sum = { 0 };
	int ri = 0, li = 0, oi = 0, cnt = 0, sj = 0;

#define EMIT(v) do {							\
	if (out)							\
		out[oi] = (v);						\
	else								\
		while (sj < 64 && samp[sj] == oi)			\
			sout[sj++] = (v);				\
	oi++;								\
} while (0)

	for (int k = 0; k < half - 1; k++) {
		sum += in[ri++];
		cnt++;
	}
	for (int k = 0; k < w - half + 1; k++) {
		sum += in[ri++];
		cnt++;
		EMIT(sum / (float)cnt);
	}
	{
		const float c = (float)cnt;
		for (int k = 0; k < n - w; k++) {
			sum += in[ri++];
			sum -= in[li++];
			EMIT(sum / c);
		}
	}
	for (int k = 0; k < half - 1; k++) {
		sum -= in[li++];
		cnt--;
		EMIT(sum / (float)cnt);
	}
#undef EMIT
}

static void
box_full(const vf *in, int n, int w, vf *out)
{
	box_lanes(in, n, w, out, NULL, NULL);
}

static void
box_sampled(const vf *in, int n, int w, const int *samp, vf *sout)
{
	box_lanes(in, n, w, NULL, samp, sout);
}

static void v2_take(struct dz_pdq_filter *f, const float *row64);

/* H2 on the gathered V1 rows, then each lane's 64 outputs into V2. */
static void
h2_flush(struct dz_pdq_filter *f)
{
	vf sout[64];

	if (f->h2_n == 0)
		return;
	for (int l = f->h2_n; l < LANES; l++)
		memset(f->h2_in[l], 0, (size_t)f->width * sizeof(float));
	interleave(f->ibuf, (const float *const *)f->h2_in, f->width);
	box_sampled(f->ibuf, f->width, f->wr, f->samp_col, sout);
	for (int l = 0; l < f->h2_n; l++) {
		float row64[64];
		for (int j = 0; j < 64; j++)
			row64[j] = sout[j][l];
		v2_take(f, row64);
	}
	f->h2_n = 0;
}

static void
v2_emit(struct dz_pdq_filter *f, const float *row64)
{
	while (f->next_samp < 64 && f->samp_row[f->next_samp] == f->v2_out) {
		memcpy(f->a64 + 64 * f->next_samp, row64, 64 * sizeof(float));
		f->next_samp++;
	}
	f->v2_out++;
}

static void
v2_take(struct dz_pdq_filter *f, const float *row64)
{
	if (vpass_push(&f->v2, row64, f->v2_row))
		v2_emit(f, f->v2_row);
}

/* V1 writes its output straight into the next H2 input row. */
static float *
v1_out(struct dz_pdq_filter *f)
{
	return f->h2_in[f->h2_n];
}

static void
v1_emit(struct dz_pdq_filter *f)
{
	if (++f->h2_n == LANES)
		h2_flush(f);
}

/*
 * H1 on LANES rows (n of them real), written straight into V1's ring,
 * then each row through V1.
 */
static void
h1_run(struct dz_pdq_filter *f, const float *const rows[LANES], int n)
{
	float *dst[LANES];

	interleave(f->ibuf, rows, f->width);
	box_full(f->ibuf, f->width, f->wr, f->obuf);
	for (int l = 0; l < LANES; l++)
		dst[l] = l < n ? vpass_slot(&f->v1, l) : f->h1_out[l];
	deinterleave(dst, f->obuf, f->width);
	for (int l = 0; l < n; l++)
		if (vpass_push(&f->v1, dst[l], v1_out(f)))
			v1_emit(f);
}

static void
h1_flush(struct dz_pdq_filter *f)
{
	if (f->h1_n == 0)
		return;
	for (int l = f->h1_n; l < LANES; l++)
		memset(f->h1_in[l], 0, (size_t)f->width * sizeof(float));
	h1_run(f, (const float *const *)f->h1_in, f->h1_n);
	f->h1_n = 0;
}

void
dz_pdq_filter_free(struct dz_pdq_filter *f)
{
	if (!f)
		return;
	for (int l = 0; l < LANES; l++) {
		free(f->h1_in[l]);
		free(f->h1_out[l]);
		free(f->h2_in[l]);
	}
	free(f->ibuf);
	free(f->obuf);
	vpass_release(&f->v1);
	vpass_release(&f->v2);
	free(f);
}

struct dz_pdq_filter *
dz_pdq_filter_new(int width, int height, struct dz_err *err)
{
	struct dz_pdq_filter *f;
	size_t wbytes;
	int fail = 0;

	if (width <= 0 || height <= 0) {
		dz_err_set(err, EX_DATAERR, "bad image size %dx%d", width, height);
		return NULL;
	}
	f = calloc(1, sizeof *f);
	if (!f)
		goto nomem;
	f->width = width;
	f->height = height;
	f->tiny = width < DZ_PDQ_MIN_SIDE || height < DZ_PDQ_MIN_SIDE;
	if (f->tiny)
		return f;
	f->wr = (width + 127) / 128;
	f->wc = (height + 127) / 128;
	for (int i = 0; i < 64; i++) {
		f->samp_row[i] = (int)(((i + 0.5) * height) / 64);
		f->samp_col[i] = (int)(((i + 0.5) * width) / 64);
	}
	wbytes = (size_t)width * sizeof(float);
	for (int l = 0; l < LANES; l++) {
		fail |= !(f->h1_in[l] = malloc(wbytes));
		fail |= !(f->h1_out[l] = malloc(wbytes));
		fail |= !(f->h2_in[l] = malloc(wbytes));
	}
	fail |= !(f->ibuf = aligned_alloc(sizeof(vf), (size_t)width * sizeof(vf)));
	fail |= !(f->obuf = aligned_alloc(sizeof(vf), (size_t)width * sizeof(vf)));
	fail |= vpass_init(&f->v1, width, f->wc, height);
	fail |= vpass_init(&f->v2, 64, f->wc, height);
	if (fail)
		goto nomem;
	return f;
nomem:
	dz_pdq_filter_free(f);
	dz_err_set(err, EX_SOFTWARE, "out of memory for a %dx%d image", width,
	    height);
	return NULL;
}

int
dz_pdq_filter_rows(struct dz_pdq_filter *f, const float *luma, int nrows,
    struct dz_err *err)
{
	if (nrows < 0 || nrows > f->height - f->rows_in)
		return dz_err_set(err, EX_SOFTWARE, "more rows than the image has");
	if (f->tiny) {
		f->rows_in += nrows;
		return 0;
	}
	for (int r = 0; r < nrows; r++) {
		const float *row = luma + (size_t)r * (size_t)f->width;
		if (f->h1_n == 0 && nrows - r >= LANES) {
			/* a whole group in the caller's buffer: no copy */
			const float *rows[LANES];
			for (int l = 0; l < LANES; l++)
				rows[l] = row + (size_t)l * (size_t)f->width;
			h1_run(f, rows, LANES);
			r += LANES - 1;
			continue;
		}
		memcpy(f->h1_in[f->h1_n++], row, (size_t)f->width * sizeof(float));
		if (f->h1_n == LANES)
			h1_flush(f);
	}
	f->rows_in += nrows;
	return 0;
}

int
dz_pdq_filter_finish(struct dz_pdq_filter *f, int dihedral,
    struct dz_pdq_result *r, struct dz_err *err)
{
	float dct[256];

	memset(r, 0, sizeof *r);
	if (f->rows_in != f->height)
		return dz_err_set(err, EX_DATAERR, "image has %d rows of %d",
		    f->rows_in, f->height);
	if (f->tiny)
		return 0;
	h1_flush(f);
	while (vpass_drain(&f->v1, v1_out(f)))
		v1_emit(f);
	h2_flush(f);
	while (vpass_drain(&f->v2, f->v2_row))
		v2_emit(f, f->v2_row);
	if (f->next_samp != 64)
		return dz_err_set(err, EX_SOFTWARE, "pdq filter lost rows");
	r->quality = dz_pdq_quality(f->a64);
	dz_pdq_dct16(f->a64, dct);
	if (dihedral) {
		dz_pdq_dihedral_from_dct(dct, r->dihedral);
		r->hash = r->dihedral[DZ_PDQ_ORIG];
	} else {
		dz_pdq_from_dct(dct, &r->hash);
	}
	return 0;
}

int
dz_pdq_quality(const float a[64 * 64])
{
	int sum = 0, q;

	for (int i = 0; i < 63; i++)
		for (int j = 0; j < 64; j++) {
			int d = (int)(((a[i * 64 + j] - a[(i + 1) * 64 + j]) *
			    100) / 255);
			sum += abs(d);
		}
	for (int i = 0; i < 64; i++)
		for (int j = 0; j < 63; j++) {
			int d = (int)(((a[i * 64 + j] - a[i * 64 + j + 1]) *
			    100) / 255);
			sum += abs(d);
		}
	q = sum / 90;
	return q > 100 ? 100 : q;
}

static float dct_matrix[16][64];
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

static void
dct_matrix_init(void)
{
	const float scale = sqrtf(2.0f / 64.0f);

	for (int i = 0; i < 16; i++)
		for (int k = 0; k < 64; k++)
			dct_matrix[i][k] = (float)(scale *
			    cos(M_PI / 2 / 64.0 * (i + 1) * (2 * k + 1)));
}

void
dz_pdq_dct16(const float a[64 * 64], float out[16 * 16])
{
	float t[16][64];

	pthread_once(&dct_once, dct_matrix_init);
	/* T = D A: each sum in ascending k, accumulated in float. */
	for (int i = 0; i < 16; i++) {
		for (int j = 0; j < 64; j++)
			t[i][j] = 0.0f;
		for (int k = 0; k < 64; k++) {
			const float d = dct_matrix[i][k];
			for (int j = 0; j < 64; j++)
				t[i][j] += d * a[k * 64 + j];
		}
	}
	/* B = T D^T */
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++) {
			float s = 0.0f;
			for (int k = 0; k < 64; k++)
				s += t[i][k] * dct_matrix[j][k];
			out[i * 16 + j] = s;
		}
}

static int
cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* Bit i*16+j set when m[i][j] is above the lower median of the 256. */
static void
threshold(const float m[256], struct dz_pdq *h)
{
	float sorted[256], med;

	memcpy(sorted, m, sizeof sorted);
	qsort(sorted, 256, sizeof(float), cmp_float);
	med = sorted[127];
	memset(h, 0, sizeof *h);
	for (int k = 0; k < 256; k++)
		if (m[k] > med)
			h->w[k / 64] |= UINT64_C(1) << (k % 64);
}

void
dz_pdq_from_dct(const float dct[256], struct dz_pdq *h)
{
	threshold(dct, h);
}

void
dz_pdq_dihedral_from_dct(const float a[256], struct dz_pdq out[DZ_PDQ_NDIHEDRAL])
{
	float b[DZ_PDQ_NDIHEDRAL][256];

	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++) {
			const float v = a[i * 16 + j];
			const int ie = i % 2 == 0, je = j % 2 == 0;
			const int odd = (i + j) % 2 == 1;

			b[DZ_PDQ_ORIG][i * 16 + j] = v;
			b[DZ_PDQ_ROT90][j * 16 + i] = je ? -v : v;
			b[DZ_PDQ_ROT180][i * 16 + j] = odd ? -v : v;
			b[DZ_PDQ_ROT270][j * 16 + i] = ie ? -v : v;
			b[DZ_PDQ_FLIPX][i * 16 + j] = ie ? -v : v;
			b[DZ_PDQ_FLIPY][i * 16 + j] = je ? -v : v;
			b[DZ_PDQ_FLIPPLUS1][j * 16 + i] = v;
			b[DZ_PDQ_FLIPMINUS1][j * 16 + i] = odd ? -v : v;
		}
	for (int d = 0; d < DZ_PDQ_NDIHEDRAL; d++)
		threshold(b[d], &out[d]);
}

/*
 * Hex digit n holds bits 255-4n .. 252-4n: the hash is its words 3 to 0,
 * each most significant byte first, as bytes.
 */
void
dz_pdq_to_hex(const struct dz_pdq *h, char hex[65])
{
	uint8_t b[32];

	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(h->w[3 - i / 8] >> (56 - 8 * (i % 8)));
	dz_hex_encode(hex, b, sizeof b);
}

int
dz_pdq_from_hex(const char *hex, struct dz_pdq *h)
{
	uint8_t b[32];

	memset(h, 0, sizeof *h);
	if (dz_hex_decode(hex, strnlen(hex, 65), b, sizeof b, DZ_HEX_ANY))
		return -1;
	for (int i = 0; i < 32; i++)
		h->w[3 - i / 8] |= (uint64_t)b[i] << (56 - 8 * (i % 8));
	return 0;
}

int
dz_pdq_distance(const struct dz_pdq *a, const struct dz_pdq *b)
{
	int d = 0;

	for (int i = 0; i < 4; i++)
		d += __builtin_popcountll(a->w[i] ^ b->w[i]);
	return d;
}
