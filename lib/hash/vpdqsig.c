/*
 * lib/hash/vpdqsig: vPDQ signatures as data. See vpdqsig.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "hash/vpdqsig.h"

void
dz_vpdqsig_release(struct dz_vpdqsig *v)
{
	free(v->v);
	memset(v, 0, sizeof *v);
}

int
dz_vpdqsig_add(struct dz_vpdqsig *v, const struct dz_vpdqsig_frame *f)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct dz_vpdqsig_frame *nv = realloc(v->v, cap * sizeof *nv);

		if (!nv)
			return -1;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = *f;
	return 0;
}

json_t *
dz_vpdqsig_to_json(const struct dz_vpdqsig *v)
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
dz_vpdqsig_from_json(const json_t *j, struct dz_vpdqsig *v, size_t max_frames,
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
		struct dz_vpdqsig_frame f;
		json_t *fr = json_array_get(e, 0), *t = json_array_get(e, 1);
		json_t *q = json_array_get(e, 2), *h = json_array_get(e, 3);

		if (!json_is_array(e) || json_array_size(e) != 4 ||
		    !json_is_integer(fr) || json_integer_value(fr) < 0 ||
		    !json_is_number(t) || json_number_value(t) < 0 ||
		    !json_is_integer(q) || json_integer_value(q) < 0 ||
		    json_integer_value(q) > 100 || !json_is_string(h) ||
		    dz_pdq_from_hex(json_string_value(h), &f.hash)) {
			dz_vpdqsig_release(v);
			return dz_err_set(err, EX_DATAERR, "malformed vpdq: "
			    "frame %zu", i);
		}
		f.frame = json_integer_value(fr);
		f.t = json_number_value(t);
		f.quality = (int)json_integer_value(q);
		if (dz_vpdqsig_add(v, &f)) {
			dz_vpdqsig_release(v);
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		}
	}
	return 0;
}

/*
 * Of a's frames of at least min_quality (*n of them), how many (*m) are
 * within distance of such a frame of b.
 */
static void
frames_found(const struct dz_vpdqsig *a, const struct dz_vpdqsig *b,
    int distance, int min_quality, size_t *n, size_t *m)
{
	*n = *m = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].quality < min_quality)
			continue;
		(*n)++;
		for (size_t k = 0; k < b->n; k++)
			if (b->v[k].quality >= min_quality &&
			    dz_pdq_distance(&a->v[i].hash, &b->v[k].hash) <=
			    distance) {
				(*m)++;
				break;
			}
	}
}

int
dz_vpdqsig_match(const struct dz_vpdqsig *q, const struct dz_vpdqsig *b,
    int distance, int min_quality, double query_pct, double bank_pct,
    double *q_pct, double *b_pct)
{
	size_t qn, qm, bn, bm;

	frames_found(q, b, distance, min_quality, &qn, &qm);
	frames_found(b, q, distance, min_quality, &bn, &bm);
	*q_pct = qn ? 100.0 * (double)qm / (double)qn : 0;
	*b_pct = bn ? 100.0 * (double)bm / (double)bn : 0;
	return qn > 0 && *q_pct >= query_pct && *b_pct >= bank_pct;
}
