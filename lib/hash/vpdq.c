/*
 * lib/hash/vpdq: vPDQ signatures. See vpdq.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/luma.h"
#include "hash/vpdq.h"

void
dz_vpdq_opts_default(struct dz_vpdq_opts *o)
{
	dz_video_limits_default(&o->lim);
	o->seconds = 1.0;
	o->collapse = DZ_VPDQ_COLLAPSE;
	o->skip_unwanted = 1;
}

struct run {
	const struct dz_vpdq_opts *o;
	struct dz_video_info *info;
	struct dz_pdq_filter *filter;
	struct dz_vpdqsig *out;
};

static int
want(void *ctx, int64_t n, double t)
{
	struct run *r = ctx;
	int64_t every = (int64_t)(r->o->seconds * r->info->fps);

	(void)t;
	return every < 1 || n % every == 0;
}

static int
begin(void *ctx, int w, int h, int orientation, struct dz_err *err)
{
	struct run *r = ctx;

	(void)orientation;
	dz_pdq_filter_free(r->filter);
	r->filter = dz_pdq_filter_new(w, h, err);
	return r->filter ? 0 : -1;
}

static int
rows(void *ctx, const float *luma, int n, struct dz_err *err)
{
	struct run *r = ctx;

	return dz_pdq_filter_rows(r->filter, luma, n, err);
}

static int
done(void *ctx, int64_t n, double t, struct dz_err *err)
{
	struct run *r = ctx;
	struct dz_pdq_result res;
	struct dz_vpdqsig_frame f;

	if (dz_pdq_filter_finish(r->filter, 0, &res, err))
		return -1;
	dz_pdq_filter_free(r->filter);
	r->filter = NULL;
	f.frame = n;
	f.t = t;
	f.quality = res.quality;
	f.hash = res.hash;
	if (dz_vpdqsig_add(r->out, &f))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 0;
}

/* Frames in time order; each near the last kept one goes. */
static int
by_frame(const void *a, const void *b)
{
	const struct dz_vpdqsig_frame *x = a, *y = b;

	return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static void
collapse(struct dz_vpdqsig *v, int distance)
{
	size_t k = 0;

	if (v->n == 0)
		return;		/* v->v is NULL: no qsort (UB), nothing to do */
	qsort(v->v, v->n, sizeof *v->v, by_frame);
	for (size_t i = 0; i < v->n; i++) {
		if (k && v->v[i].frame == v->v[k - 1].frame)
			continue;	/* the same frame twice */
		if (distance >= 0 && k &&
		    dz_pdq_distance(&v->v[i].hash, &v->v[k - 1].hash) <=
		    distance)
			continue;
		v->v[k++] = v->v[i];
	}
	v->n = k;
}

int
dz_vpdq_hash(const uint8_t *buf, size_t len, const struct dz_vpdq_opts *o,
    struct dz_vpdqsig *out, struct dz_video_info *info, struct dz_err *err)
{
	struct run r = { o, info, NULL, out };
	struct dz_luma_sink luma = { begin, rows, &r };
	struct dz_video_sink sink = { want, &luma, done, &r };
	int rc;

	memset(out, 0, sizeof *out);
	rc = dz_video_decode(buf, len, &o->lim, o->skip_unwanted, &sink, info,
	    err);
	dz_pdq_filter_free(r.filter);
	if (rc) {
		dz_vpdqsig_release(out);
		return -1;
	}
	collapse(out, o->collapse);
	if (out->n == 0) {
		/* frames decoded, none at a whole second (timestamps that
		 * go nowhere): a signature of no frame matches nothing and
		 * would not read back (dz_vpdqsig_from_json) */
		dz_vpdqsig_release(out);
		return dz_err_set(err, EX_DATAERR, "no frame of the video "
		    "could be hashed");
	}
	return 0;
}
