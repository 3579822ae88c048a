/*
 * lib/vpdq: vPDQ signatures. See vpdq.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "luma.h"
#include "vpdq.h"

void
dz_vpdq_opts_default(struct dz_vpdq_opts *o)
{
	dz_video_limits_default(&o->lim);
	o->seconds = 1.0;
	o->collapse = DZ_VPDQ_COLLAPSE;
	o->skip_unwanted = 1;
}

void
dz_vpdq_release(struct dz_vpdq *v)
{
	free(v->v);
	memset(v, 0, sizeof *v);
}

int
dz_vpdq_add(struct dz_vpdq *v, const struct dz_vpdq_frame *f)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct dz_vpdq_frame *nv = realloc(v->v, cap * sizeof *nv);

		if (!nv)
			return -1;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = *f;
	return 0;
}

struct run {
	const struct dz_vpdq_opts *o;
	struct dz_video_info *info;
	struct dz_pdq_filter *filter;
	struct dz_vpdq *out;
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
	struct dz_vpdq_frame f;

	if (dz_pdq_filter_finish(r->filter, 0, &res, err))
		return -1;
	dz_pdq_filter_free(r->filter);
	r->filter = NULL;
	f.frame = n;
	f.t = t;
	f.quality = res.quality;
	f.hash = res.hash;
	if (dz_vpdq_add(r->out, &f))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 0;
}

/* Frames in time order; each near the last kept one goes. */
static int
by_frame(const void *a, const void *b)
{
	const struct dz_vpdq_frame *x = a, *y = b;

	return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static void
collapse(struct dz_vpdq *v, int distance)
{
	size_t k = 0;

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
    struct dz_vpdq *out, struct dz_video_info *info, struct dz_err *err)
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
		dz_vpdq_release(out);
		return -1;
	}
	collapse(out, o->collapse);
	return 0;
}

json_t *
dz_vpdq_to_json(const struct dz_vpdq *v)
{
	json_t *a = json_array();
	char hex[65];

	for (size_t i = 0; a && i < v->n; i++) {
		json_t *f;

		dz_pdq_to_hex(&v->v[i].hash, hex);
		f = json_pack("[I,f,i,s]", (json_int_t)v->v[i].frame,
		    round(v->v[i].t * 1000) / 1000, v->v[i].quality, hex);
		if (!f || json_array_append_new(a, f)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int
dz_vpdq_from_json(const json_t *j, struct dz_vpdq *v, size_t max_frames,
    struct dz_err *err)
{
	size_t i;
	json_t *e;

	memset(v, 0, sizeof *v);
	if (!json_is_array(j) || json_array_size(j) == 0)
		return dz_err_set(err, EX_DATAERR,
		    "malformed vpdq: not a list of frames");
	if (json_array_size(j) > max_frames)
		return dz_err_set(err, EX_DATAERR,
		    "malformed vpdq: too many frames");
	json_array_foreach(j, i, e) {
		struct dz_vpdq_frame f;
		json_t *fr = json_array_get(e, 0), *t = json_array_get(e, 1);
		json_t *q = json_array_get(e, 2), *h = json_array_get(e, 3);

		if (!json_is_array(e) || json_array_size(e) != 4 ||
		    !json_is_integer(fr) || json_integer_value(fr) < 0 ||
		    !json_is_number(t) || json_number_value(t) < 0 ||
		    !json_is_integer(q) || json_integer_value(q) < 0 ||
		    json_integer_value(q) > 100 || !json_is_string(h) ||
		    dz_pdq_from_hex(json_string_value(h), &f.hash)) {
			dz_vpdq_release(v);
			return dz_err_set(err, EX_DATAERR, "malformed vpdq: "
			    "frame %zu", i);
		}
		f.frame = json_integer_value(fr);
		f.t = json_number_value(t);
		f.quality = (int)json_integer_value(q);
		if (dz_vpdq_add(v, &f)) {
			dz_vpdq_release(v);
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		}
	}
	return 0;
}

int
dz_vpdq_match(const struct dz_vpdq *q, const struct dz_vpdq *b,
    int distance, int min_quality, double query_pct, double bank_pct,
    double *q_pct, double *b_pct)
{
	size_t qn = 0, qm = 0, bn = 0, bm = 0;

	for (size_t i = 0; i < q->n; i++) {
		if (q->v[i].quality < min_quality)
			continue;
		qn++;
		for (size_t k = 0; k < b->n; k++)
			if (b->v[k].quality >= min_quality &&
			    dz_pdq_distance(&q->v[i].hash, &b->v[k].hash) <=
			    distance) {
				qm++;
				break;
			}
	}
	for (size_t k = 0; k < b->n; k++) {
		if (b->v[k].quality < min_quality)
			continue;
		bn++;
		for (size_t i = 0; i < q->n; i++)
			if (q->v[i].quality >= min_quality &&
			    dz_pdq_distance(&q->v[i].hash, &b->v[k].hash) <=
			    distance) {
				bm++;
				break;
			}
	}
	*q_pct = qn ? 100.0 * (double)qm / (double)qn : 0;
	*b_pct = bn ? 100.0 * (double)bm / (double)bn : 0;
	return qn > 0 && *q_pct >= query_pct && *b_pct >= bank_pct;
}
