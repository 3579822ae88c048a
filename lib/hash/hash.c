#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "hash/hash.h"
#include "media/luma.h"
#include "media/media.h"

void
dz_hash_opts_default(struct dz_hash_opts *o)
{
	memset(o, 0, sizeof *o);
	dz_image_opts_default(&o->img);
	dz_vpdq_opts_default(&o->vpdq);
}

int
dz_hash_media(const uint8_t *buf, size_t len, const struct dz_hash_opts *o,
    struct dz_hash_result *r, struct dz_err *err)
{
	const char *mime = dz_media_sniff(buf, len);

	if (!dz_media_is_video(mime))
		return dz_hash_image(buf, len, o, r, err);
	memset(r, 0, sizeof *r);
	r->video = mime;
	if (dz_digest_buf(buf, len, &r->digest, err))
		return -1;
	return dz_vpdq_hash(buf, len, &o->vpdq, &r->vpdq, &r->vinfo, err);
}

void
dz_hash_result_release(struct dz_hash_result *r)
{
	dz_vpdqsig_release(&r->vpdq);
}

/* "mp4" of "video/mp4", "matroska" of "video/x-matroska". */
static const char *
short_format(const char *mime)
{
	const char *s = strchr(mime, '/');

	s = s ? s + 1 : mime;
	return strncmp(s, "x-", 2) ? s : s + 2;
}

static int
video_fields(json_t *rec, const struct dz_hash_result *r)
{
	const struct dz_video_info *v = &r->vinfo;
	json_t *sig = dz_vpdqsig_to_json(&r->vpdq);
	int bad = 0;

	bad |= json_object_set_new(rec, "format",
	    json_string(short_format(r->video)));
	bad |= json_object_set_new(rec, "codec", json_string(v->codec));
	bad |= json_object_set_new(rec, "width", json_integer(v->width));
	bad |= json_object_set_new(rec, "height", json_integer(v->height));
	bad |= json_object_set_new(rec, "fps",
	    json_real(round(v->fps * 1000) / 1000));
	bad |= json_object_set_new(rec, "duration",
	    json_real(round(v->duration * 1000) / 1000));
	bad |= json_object_set_new(rec, "frames",
	    json_integer((json_int_t)(v->frames + v->skipped)));
	bad |= json_object_set_new(rec, "vpdq", sig);
	bad |= json_object_set_new(rec, "md5", json_string(r->digest.md5));
	bad |= json_object_set_new(rec, "sha256",
	    json_string(r->digest.sha256));
	return bad ? -1 : 0;
}

/*
 * Between decoder and PDQ filter: applies the EXIF orientation. Upright
 * images stream straight through; orientation 2 mirrors each row; the
 * others need the whole plane, kept until the decoder is done and then
 * fed to the filter as the rows of the image as displayed.
 */
struct orient {
	struct dz_pdq_filter *filter;
	uint64_t max_memory;
	int w, h;		/* as delivered by the decoder */
	int orientation;
	float *plane;		/* w * h, orientations 3-8 */
	float *tmp;		/* one row (orientation 2) or a block of rows */
	int rows;
};

static int
orient_begin(void *ctx, int w, int h, int orientation, struct dz_err *err)
{
	struct orient *o = ctx;
	int swap = orientation >= 5 && orientation <= 8;

	if (orientation < 1 || orientation > 8)
		orientation = 1;
	o->w = w;
	o->h = h;
	o->orientation = orientation;
	o->filter = dz_pdq_filter_new(swap ? h : w, swap ? w : h, err);
	if (!o->filter)
		return -1;
	if (orientation == 2) {
		o->tmp = malloc((size_t)w * sizeof(float));
		if (!o->tmp)
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
	} else if (orientation > 2) {
		uint64_t need = (uint64_t)w * (uint64_t)h * sizeof(float);
		if (need > o->max_memory)
			return dz_err_set(err, EX_DATAERR,
			    "rotating the image needs %llu bytes, over the "
			    "memory limit", (unsigned long long)need);
		o->plane = malloc((size_t)need);
		o->tmp = malloc((size_t)16 * (size_t)(w > h ? w : h) *
		    sizeof(float));
		if (!o->plane || !o->tmp)
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	return 0;
}

static int
orient_rows(void *ctx, const float *luma, int nrows, struct dz_err *err)
{
	struct orient *o = ctx;

	if (nrows > o->h - o->rows)
		return dz_err_set(err, EX_SOFTWARE, "decoder gave too many rows");
	if (o->orientation == 1) {
		o->rows += nrows;
		return dz_pdq_filter_rows(o->filter, luma, nrows, err);
	}
	if (o->orientation == 2) {
		for (int r = 0; r < nrows; r++) {
			const float *src = luma + (size_t)r * (size_t)o->w;
			for (int x = 0; x < o->w; x++)
				o->tmp[x] = src[o->w - 1 - x];
			if (dz_pdq_filter_rows(o->filter, o->tmp, 1, err))
				return -1;
		}
		o->rows += nrows;
		return 0;
	}
	memcpy(o->plane + (size_t)o->rows * (size_t)o->w, luma,
	    (size_t)nrows * (size_t)o->w * sizeof(float));
	o->rows += nrows;
	return 0;
}

/* Orientations 3 and 4: rows of the stored plane, bottom up. */
static int
orient_flip_rows(struct orient *o, struct dz_err *err)
{
	for (int y = o->h - 1; y >= 0; y--) {
		const float *src = o->plane + (size_t)y * (size_t)o->w;
		if (o->orientation == 3) {
			for (int x = 0; x < o->w; x++)
				o->tmp[x] = src[o->w - 1 - x];
			src = o->tmp;
		}
		if (dz_pdq_filter_rows(o->filter, src, 1, err))
			return -1;
	}
	return 0;
}

/*
 * Orientations 5-8: displayed row y' is a stored column, read top down
 * (5, 8) or bottom up (6, 7); stored column y' (5, 6) or w-1-y' (7, 8).
 * Sixteen displayed rows are built at once so each stored row is read as
 * one contiguous run.
 */
static int
orient_columns(struct orient *o, struct dz_err *err)
{
	const int W = o->h, H = o->w;	/* displayed size */
	const int rev_col = o->orientation == 7 || o->orientation == 8;
	const int bottom_up = o->orientation == 6 || o->orientation == 7;

	for (int y0 = 0; y0 < H; y0 += 16) {
		int n = H - y0 < 16 ? H - y0 : 16;
		for (int xs = 0; xs < o->h; xs++) {	/* stored row */
			const float *src = o->plane + (size_t)xs * (size_t)o->w;
			int xd = bottom_up ? o->h - 1 - xs : xs;
			for (int k = 0; k < n; k++) {
				int col = rev_col ? o->w - 1 - (y0 + k) : y0 + k;
				o->tmp[(size_t)k * W + xd] = src[col];
			}
		}
		if (dz_pdq_filter_rows(o->filter, o->tmp, n, err))
			return -1;
	}
	return 0;
}

static int
orient_finish(struct orient *o, struct dz_err *err)
{
	if (o->rows != o->h)
		return dz_err_set(err, EX_DATAERR, "image ended after %d of %d rows",
		    o->rows, o->h);
	switch (o->orientation) {
	case 3:
	case 4:
		return orient_flip_rows(o, err);
	case 5:
	case 6:
	case 7:
	case 8:
		return orient_columns(o, err);
	default:
		return 0;
	}
}

int
dz_hash_image(const uint8_t *buf, size_t len, const struct dz_hash_opts *opts,
    struct dz_hash_result *r, struct dz_err *err)
{
	struct dz_image_opts io = opts->img;
	struct orient o = { 0 };
	struct dz_luma_sink sink = { orient_begin, orient_rows, &o };
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (dz_digest_buf(buf, len, &r->digest, err))
		return -1;
	io.fast_min_side = opts->exact ? 0 : DZ_HASH_FAST_MIN_SIDE;
	o.max_memory = io.lim.max_memory;
	if (dz_image_decode(buf, len, &io, &sink, &r->info, err))
		goto out;
	if (!o.filter) {
		dz_err_set(err, EX_SOFTWARE, "decoder delivered no image");
		goto out;
	}
	if (orient_finish(&o, err))
		goto out;
	if (dz_pdq_filter_finish(o.filter, opts->dihedral, &r->pdq, err))
		goto out;
	if (o.orientation >= 5) {
		r->width = r->info.height;
		r->height = r->info.width;
	} else {
		r->width = r->info.width;
		r->height = r->info.height;
	}
	rc = 0;
out:
	dz_pdq_filter_free(o.filter);
	free(o.plane);
	free(o.tmp);
	return rc;
}

int
dz_hash_record_fields(json_t *rec, const struct dz_hash_result *r,
    int dihedral)
{
	char hex[65];
	json_t *d;
	int k, bad = 0;

	if (r->video)
		return video_fields(rec, r);
	bad |= json_object_set_new(rec, "format",
	    json_string(dz_image_format_name(r->info.format)));
	bad |= json_object_set_new(rec, "width", json_integer(r->width));
	bad |= json_object_set_new(rec, "height", json_integer(r->height));
	dz_pdq_to_hex(&r->pdq.hash, hex);
	bad |= json_object_set_new(rec, "pdq", json_string(hex));
	bad |= json_object_set_new(rec, "quality",
	    json_integer(r->pdq.quality));
	bad |= json_object_set_new(rec, "md5", json_string(r->digest.md5));
	bad |= json_object_set_new(rec, "sha256",
	    json_string(r->digest.sha256));
	if (dihedral) {
		if (!(d = json_object()))
			return -1;
		for (k = 0; k < DZ_PDQ_NDIHEDRAL; k++) {
			dz_pdq_to_hex(&r->pdq.dihedral[k], hex);
			bad |= json_object_set_new(d, dz_pdq_dihedral_name[k],
			    json_string(hex));
		}
		bad |= json_object_set_new(rec, "pdq_dihedral", d);
	}
	return bad ? -1 : 0;
}
