/*
 * t/unit/test-decode: lib/jpeg, lib/png, lib/media/avimage and lib/exif.
 *
 * The luma of every test image must equal, bit for bit, the luma of what
 * the reference decoders produce (djpeg for JPEG, ImageMagick for PNG and
 * WebP), computed with lib/luma. Bad input must fail cleanly with
 * EX_DATAERR. Fixtures are synthetic, made here at run time, or come from
 * the reference vectors ($DZ_TESTDATA, default t/data/reference from the
 * top of the repository).
 *
 * Needs djpeg and ImageMagick's convert on PATH. DZ_FUZZ_ITERS sets the
 * number of mutations per file in the fuzz checks (default 300, 150
 * under sanitizers).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jpeglib.h>
#include <libpng16/png.h>

#include "media/avimage.h"
#include "core/err.h"
#include "media/exif.h"
#include "media/image.h"
#include "media/jpegimage.h"
#include "media/luma.h"
#include "media/pngimage.h"
#include "tap.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char testdata[PATH_MAX];

/* snprintf that refuses to truncate (paths). */
__attribute__((format(printf, 3, 4))) static void
pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n) {
		fprintf(stderr, "path too long\n");
		exit(99);
	}
}
static char scratch[64];

/* ---- helpers ---------------------------------------------------------- */

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t r;

		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				exit(99);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static int
write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* s in single quotes for sh. */
static void
shq(char *out, size_t n, const char *s)
{
	size_t o = 0;

	if (n < 3)
		return;
	out[o++] = '\'';
	for (; *s && o + 5 < n; s++) {
		if (*s == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *s;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
}

/* The whole stdout of cmd, or NULL if it fails. */
static uint8_t *
run_capture(const char *cmd, size_t *len)
{
	FILE *p = popen(cmd, "r");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	int st;

	if (!p)
		return NULL;
	for (;;) {
		size_t r;

		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			if (!buf)
				exit(99);
		}
		r = fread(buf + n, 1, cap - n, p);
		n += r;
		if (r == 0)
			break;
	}
	st = pclose(p);
	if (st != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int
run_cmd(const char *cmd)
{
	int st = system(cmd);

	return st == 0 ? 0 : -1;
}

static void
td_path(char *out, size_t n, const char *rel)
{
	pathf(out, n, "%s/pdq/%s", testdata, rel);
}

static void
tmp_path(char *out, size_t n, const char *name)
{
	pathf(out, n, "%s/%s", scratch, name);
}

/* xorshift: reproducible pseudo-random bytes. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd32(void)
{
	return (uint32_t)(xorshift64(&rng_state) >> 16);
}

/* ---- a recording sink -------------------------------------------------- */

struct rec {
	int began, w, h, orient;
	int keep;		/* store the luma */
	float *luma;
	size_t nrows;
	double sum;
	int fail_begin;		/* begin returns -1 */
	int fail_after;		/* rows returns -1 once this many rows came */
	int bad;		/* the decoder broke the sink protocol */
};

static int
rec_begin(void *ctx, int w, int h, int orient, struct dz_err *err)
{
	struct rec *r = ctx;

	if (r->began++ || w <= 0 || h <= 0 || orient < 1 || orient > 8)
		r->bad = 1;
	r->w = w;
	r->h = h;
	r->orient = orient;
	if (r->fail_begin)
		return dz_err_set(err, EX_SOFTWARE, "sink refuses");
	if (r->keep && w > 0 && h > 0)
		r->luma = xmalloc((size_t)w * (size_t)h * sizeof *r->luma);
	return 0;
}

static int
rec_rows(void *ctx, const float *luma, int n, struct dz_err *err)
{
	struct rec *r = ctx;
	size_t npix = (size_t)n * (size_t)r->w;

	if (!r->began || n <= 0 || r->nrows + (size_t)n > (size_t)r->h) {
		r->bad = 1;
		return dz_err_set(err, EX_SOFTWARE, "sink protocol broken");
	}
	if (r->keep)
		memcpy(r->luma + r->nrows * (size_t)r->w, luma,
		    npix * sizeof *luma);
	for (size_t i = 0; i < npix; i++)
		r->sum += luma[i];
	r->nrows += (size_t)n;
	if (r->fail_after && r->nrows >= (size_t)r->fail_after)
		return dz_err_set(err, EX_SOFTWARE, "sink stops");
	return 0;
}

static void
rec_init(struct rec *r, struct dz_luma_sink *s, int keep)
{
	memset(r, 0, sizeof *r);
	r->keep = keep;
	s->begin = rec_begin;
	s->rows = rec_rows;
	s->ctx = r;
}

static void
rec_free(struct rec *r)
{
	free(r->luma);
	r->luma = NULL;
}

static struct dz_image_opts
opts_default(void)
{
	struct dz_image_opts o;

	memset(&o, 0, sizeof o);
	o.lim.max_pixels = DZ_IMAGE_MAX_PIXELS_DEFAULT;
	o.lim.max_memory = DZ_IMAGE_MAX_MEMORY_DEFAULT;
	o.lim.max_scans = DZ_IMAGE_MAX_SCANS_DEFAULT;
	o.orient = 1;
	return o;
}

/* Dispatch by magic, as lib/media/image would. */
static int
decode_any(const uint8_t *buf, size_t len, const struct dz_image_opts *o,
    struct dz_luma_sink *s, struct dz_image_info *info, struct dz_err *err)
{
	dz_err_clear(err);
	memset(info, 0, sizeof *info);
	if (len >= 2 && buf[0] == 0xff && buf[1] == 0xd8)
		return dz_jpegimage_decode(buf, len, o, s, info, err);
	if (len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
		return dz_pngimage_decode(buf, len, o, s, info, err);
	return dz_avimage_decode(buf, len, o, s, info, err);
}

/* Decode a file at full resolution, keeping the luma. */
static int
decode_file(const char *path, const struct dz_image_opts *o, struct rec *r,
    struct dz_image_info *info, struct dz_err *err)
{
	struct dz_luma_sink s;
	uint8_t *buf;
	size_t len;
	int rc;

	rec_init(r, &s, 1);
	buf = read_file(path, &len);
	if (!buf)
		return dz_err_set(err, EX_NOINPUT, "cannot read");
	rc = decode_any(buf, len, o, &s, info, err);
	free(buf);
	return rc;
}

/* ---- reference pixels -------------------------------------------------- */

struct ref {
	int w, h;
	float *luma;
};

static const uint8_t *
pnm_int(const uint8_t *p, const uint8_t *end, int *v)
{
	long n = 0;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
		    *p == '\r'))
			p++;
		if (p < end && *p == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		break;
	}
	if (p >= end || *p < '0' || *p > '9')
		return NULL;
	while (p < end && *p >= '0' && *p <= '9' && n < 1000000)
		n = n * 10 + (*p++ - '0');
	*v = (int)n;
	return p;
}

/* Binary PGM/PPM, maxval 255, to luma (grey value or the RGB formula). */
static int
ref_pnm(const uint8_t *b, size_t len, struct ref *f)
{
	const uint8_t *p = b + 2, *end = b + len;
	int maxval, ch;
	size_t npix;

	if (len < 3 || b[0] != 'P' || (b[1] != '5' && b[1] != '6'))
		return -1;
	ch = b[1] == '6' ? 3 : 1;
	if (!(p = pnm_int(p, end, &f->w)) || !(p = pnm_int(p, end, &f->h)) ||
	    !(p = pnm_int(p, end, &maxval)) || maxval != 255 || p >= end)
		return -1;
	p++;
	npix = (size_t)f->w * (size_t)f->h;
	if ((size_t)(end - p) < npix * (size_t)ch)
		return -1;
	f->luma = xmalloc(npix * sizeof *f->luma);
	if (ch == 3)
		dz_luma_from_rgb(f->luma, p, npix);
	else
		dz_luma_from_grey(f->luma, p, npix);
	return 0;
}

static int
ref_djpeg(const char *path, const char *args, struct ref *f)
{
	char q[PATH_MAX + 16], cmd[2 * PATH_MAX];
	uint8_t *out;
	size_t n;
	int rc;

	shq(q, sizeof q, path);
	snprintf(cmd, sizeof cmd, "djpeg %s %s", args, q);
	out = run_capture(cmd, &n);
	if (!out)
		return -1;
	rc = ref_pnm(out, n, f);
	free(out);
	return rc;
}

/*
 * ImageMagick's decode to 8 bits: rgb:- (colour) or gray:- (grey). With
 * wide, read its 16-bit samples and round them to 8 bits as its own
 * ScaleQuantumToChar() does: "-depth 8" in ImageMagick 6.9.11 truncates
 * instead (v / 257 rounded down), which no reference hash relies on.
 */
static int
ref_magick(const char *path, int w, int h, int grey, int wide,
    struct ref *f)
{
	char q[PATH_MAX + 16], cmd[2 * PATH_MAX];
	size_t npix = (size_t)w * (size_t)h, nsamp = npix * (grey ? 1 : 3), n;
	uint8_t *out;

	shq(q, sizeof q, path);
	snprintf(cmd, sizeof cmd, "convert %s[0] -depth %d -endian MSB %s:-",
	    q, wide ? 16 : 8, grey ? "gray" : "rgb");
	out = run_capture(cmd, &n);
	if (!out)
		return -1;
	if (n != nsamp * (wide ? 2 : 1)) {
		free(out);
		return -1;
	}
	if (wide) {
		for (size_t i = 0; i < nsamp; i++) {
			unsigned v = ((unsigned)out[2 * i] << 8 |
			    out[2 * i + 1]) + 128u;

			out[i] = (uint8_t)((v - (v >> 8)) >> 8);
		}
	}
	f->w = w;
	f->h = h;
	f->luma = xmalloc(npix * sizeof *f->luma);
	if (grey)
		dz_luma_from_grey(f->luma, out, npix);
	else
		dz_luma_from_rgb(f->luma, out, npix);
	free(out);
	return 0;
}

/* Bit-identical? Also the mean and largest absolute difference. */
static int
same_luma(const struct rec *r, const struct ref *f, double *mean,
    double *max)
{
	size_t npix;
	double sum = 0, mx = 0;

	*mean = *max = -1;
	if (!r->luma || !f->luma || r->w != f->w || r->h != f->h ||
	    r->nrows != (size_t)r->h)
		return 0;
	npix = (size_t)r->w * (size_t)r->h;
	for (size_t i = 0; i < npix; i++) {
		double d = r->luma[i] - f->luma[i];

		d = d < 0 ? -d : d;
		sum += d;
		if (d > mx)
			mx = d;
	}
	*mean = sum / (double)npix;
	*max = mx;
	return memcmp(r->luma, f->luma, npix * sizeof *r->luma) == 0;
}

/* ---- synthetic fixtures ------------------------------------------------ */

static uint8_t
pattern(int x, int y, int c)
{
	return (uint8_t)((x * (3 + c) + y * (5 - c) + ((x ^ y) & 0x3f)) & 0xff);
}

/*
 * A JPEG made with libjpeg: baseline when scans is NULL and nscans 0,
 * libjpeg's simple progression when scans is NULL and nscans -1.
 */
static uint8_t *
make_jpeg(int w, int h, int grey, const jpeg_scan_info *scans, int nscans,
    size_t *len)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *out = NULL;
	unsigned long n = 0;
	int comps = grey ? 1 : 3;
	JSAMPLE *row = xmalloc((size_t)w * (size_t)comps);

	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &n);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = comps;
	c.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 90, TRUE);
	if (scans) {
		c.scan_info = scans;
		c.num_scans = nscans;
	} else if (nscans < 0) {
		jpeg_simple_progression(&c);
	}
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW rp = row;

		for (int x = 0; x < w; x++)
			for (int k = 0; k < comps; k++)
				row[x * comps + k] = pattern(x,
				    (int)c.next_scanline, k);
		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	*len = n;
	return out;
}

/*
 * A valid progressive script of 3 * (11 + 63 * 11) = 2112 scans: every
 * coefficient of every component sent in its own scan, bit plane by bit
 * plane (first at Al 10, then ten refinements).
 */
static jpeg_scan_info *
many_scans(int *nscans)
{
	int n = 0, cap = 3 * 64 * 11;
	jpeg_scan_info *s = xmalloc((size_t)cap * sizeof *s);

	for (int c = 0; c < 3; c++) {
		for (int k = 0; k < 64; k++) {
			for (int ah = 0; ah <= 10; ah++) {
				jpeg_scan_info *si = &s[n++];

				memset(si, 0, sizeof *si);
				si->comps_in_scan = 1;
				si->component_index[0] = c;
				si->Ss = k;
				si->Se = k;
				si->Ah = ah == 0 ? 0 : 11 - ah;
				si->Al = ah == 0 ? 10 : 10 - ah;
			}
		}
	}
	*nscans = n;
	return s;
}

struct wbuf {
	uint8_t *p;
	size_t n, cap;
};

static void
wbuf_write(png_structp png, png_bytep d, size_t n)
{
	struct wbuf *w = png_get_io_ptr(png);

	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2;
		w->p = realloc(w->p, w->cap);
		if (!w->p)
			exit(99);
	}
	memcpy(w->p + w->n, d, n);
	w->n += n;
}

static void
wbuf_flush(png_structp png)
{
	(void)png;
}

/* An 8-bit grey PNG of zeros (a decompression bomb when large). */
static uint8_t *
make_png_zeros(int w, int h, int interlace, size_t *len)
{
	struct wbuf b = { NULL, 0, 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    NULL, NULL);
	png_infop info = png_create_info_struct(png);
	uint8_t *row = calloc((size_t)w, 1);
	int passes;

	if (!png || !info || !row)
		exit(99);
	png_set_write_fn(png, &b, wbuf_write, wbuf_flush);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
	    PNG_COLOR_TYPE_GRAY, interlace ? PNG_INTERLACE_ADAM7 :
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 9);
	png_set_filter(png, 0, PNG_FILTER_NONE);
	png_write_info(png, info);
	passes = png_set_interlace_handling(png);
	for (int p = 0; p < passes; p++)
		for (int y = 0; y < h; y++)
			png_write_row(png, row);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	*len = b.n;
	return b.p;
}

static uint32_t
crc32_png(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

static void
put32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
put16le(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static size_t
png_chunk(uint8_t *out, const char *type, const uint8_t *data, uint32_t n)
{
	put32be(out, n);
	memcpy(out + 4, type, 4);
	if (n)
		memcpy(out + 8, data, n);
	put32be(out + 8 + n, crc32_png(out + 4, n + 4));
	return 12 + n;
}

/* A PNG whose valid IHDR claims w x h, with a token IDAT. */
static size_t
make_png_header(uint8_t *out, uint32_t w, uint32_t h)
{
	static const uint8_t idat[] = { 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00,
		0x00, 0x01 };
	uint8_t ihdr[13] = { 0 };
	size_t n = 8;

	memcpy(out, "\x89PNG\r\n\x1a\n", 8);
	put32be(ihdr, w);
	put32be(ihdr + 4, h);
	ihdr[8] = 8;		/* depth */
	ihdr[9] = 0;		/* grey */
	n += png_chunk(out + n, "IHDR", ihdr, 13);
	n += png_chunk(out + n, "IDAT", idat, sizeof idat);
	n += png_chunk(out + n, "IEND", NULL, 0);
	return n;
}

/* A 24-bit BMP header claiming w x h, with 64 bytes of pixels. */
static size_t
make_bmp_header(uint8_t *out, int32_t w, int32_t h)
{
	memset(out, 0, 54 + 64);
	out[0] = 'B';
	out[1] = 'M';
	put32le(out + 2, 54 + 64);
	put32le(out + 10, 54);
	put32le(out + 14, 40);
	put32le(out + 18, (uint32_t)w);
	put32le(out + 22, (uint32_t)h);
	put16le(out + 26, 1);
	put16le(out + 28, 24);
	return 54 + 64;
}

/* A little-endian TIFF claiming w x h (8-bit grey, one strip). */
static size_t
make_tiff_header(uint8_t *out, uint32_t w, uint32_t h)
{
	static const struct {
		unsigned tag, type;
		uint32_t v;
	} e[] = {
		{ 256, 4, 0 }, { 257, 4, 0 }, { 258, 3, 8 }, { 259, 3, 1 },
		{ 262, 3, 1 }, { 273, 4, 8 + 2 + 9 * 12 + 4 }, { 277, 3, 1 },
		{ 278, 4, 0 }, { 279, 4, 64 },
	};
	size_t n = 8, ne = sizeof e / sizeof e[0];

	memcpy(out, "II*\0", 4);
	put32le(out + 4, 8);
	put16le(out + n, (unsigned)ne);
	n += 2;
	for (size_t i = 0; i < ne; i++, n += 12) {
		uint32_t v = e[i].tag == 256 ? w : e[i].tag == 257 ||
		    e[i].tag == 278 ? h : e[i].v;

		put16le(out + n, e[i].tag);
		put16le(out + n + 2, e[i].type);
		put32le(out + n + 4, 1);
		if (e[i].type == 3) {
			put16le(out + n + 8, v);
			put16le(out + n + 10, 0);
		} else {
			put32le(out + n + 8, v);
		}
	}
	put32le(out + n, 0);
	n += 4;
	memset(out + n, 0x80, 64);
	return n + 64;
}

/* ---- tests -------------------------------------------------------------- */

static int
is_grey_png(const uint8_t *b, size_t len)
{
	return len > 25 && (b[25] == 0 || b[25] == 4);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the files in pdq/dir ending in ext. */
static char **
list_dir(const char *dir, const char *ext, size_t *n)
{
	char path[PATH_MAX];
	char **names = NULL;
	size_t cap = 0;
	DIR *d;
	struct dirent *de;

	*n = 0;
	td_path(path, sizeof path, dir);
	if (!(d = opendir(path)))
		return NULL;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), el = strlen(ext);

		if (l <= el || strcmp(de->d_name + l - el, ext) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				exit(99);
		}
		names[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, *n, sizeof *names, cmp_names);
	return names;
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
test_jpeg_reference(void)
{
	static const char *dirs[] = { "bridge-mods", "dih", "exif-rotn",
		"labelme-subset", "misc", "modes" };
	struct dz_image_opts o = opts_default();

	o.orient = 0;
	for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
		size_t n;
		char **names = list_dir(dirs[d], ".jpg", &n);

		for (size_t i = 0; i < n; i++) {
			char rel[PATH_MAX], path[PATH_MAX];
			struct dz_image_info info;
			struct dz_err err;
			struct rec r;
			struct ref f = { 0, 0, NULL };
			double mean = 0, max = 0;
			int rc;

			pathf(rel, sizeof rel, "%s/%s", dirs[d], names[i]);
			td_path(path, sizeof path, rel);
			rc = decode_file(path, &o, &r, &info, &err);
			if (strcmp(rel, "modes/CMYK.jpg") == 0) {
				/* djpeg cannot write CMYK as PPM. */
				if (rc == 0)
					ref_magick(path, r.w, r.h, 0, 0, &f);
				ok(rc == 0 && same_luma(&r, &f, &mean, &max),
				    "%s: luma equals ImageMagick's CMYK "
				    "conversion", rel);
				diag("%s: mean |luma diff| %.6f, max %.3f", rel,
				    mean, max);
			} else {
				if (rc == 0)
					ref_djpeg(path, "-ppm", &f);
				ok(rc == 0 && same_luma(&r, &f, &mean, &max) &&
				    info.width == r.w && info.height == r.h &&
				    info.scale_denom == 1 &&
				    info.format == DZ_IMG_JPEG && !r.bad,
				    "%s: luma equals djpeg's, bit for bit", rel);
				if (rc != 0)
					diag("error: %s", err.msg);
				else if (max != 0)
					diag("mean %.6f max %.3f", mean, max);
			}
			free(f.luma);
			rec_free(&r);
		}
		free_names(names, n);
	}
}

static void
test_png_reference(void)
{
	static const char *dirs[] = { "misc", "modes" };
	struct dz_image_opts o = opts_default();

	for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
		size_t n;
		char **names = list_dir(dirs[d], ".png", &n);

		for (size_t i = 0; i < n; i++) {
			char rel[PATH_MAX], path[PATH_MAX];
			struct dz_image_info info;
			struct dz_err err;
			struct rec r;
			struct ref f = { 0, 0, NULL };
			double mean, max;
			uint8_t *buf;
			size_t len;
			int rc, grey;

			pathf(rel, sizeof rel, "%s/%s", dirs[d], names[i]);
			td_path(path, sizeof path, rel);
			buf = read_file(path, &len);
			grey = buf && is_grey_png(buf, len);
			free(buf);
			rc = decode_file(path, &o, &r, &info, &err);
			if (rc == 0)
				ref_magick(path, r.w, r.h, grey, 0, &f);
			ok(rc == 0 && same_luma(&r, &f, &mean, &max) &&
			    info.format == DZ_IMG_PNG && !r.bad,
			    "%s: luma equals ImageMagick's %s decode", rel,
			    grey ? "grey" : "RGB");
			if (rc != 0)
				diag("error: %s", err.msg);
			else if (max != 0)
				diag("mean %.6f max %.3f", mean, max);
			free(f.luma);
			rec_free(&r);
		}
		free_names(names, n);
	}
}

static void
test_webp_reference(void)
{
	struct dz_image_opts o = opts_default();
	char path[PATH_MAX];
	struct dz_image_info info;
	struct dz_err err;
	struct rec r;
	struct ref f = { 0, 0, NULL };
	double mean, max;
	int rc;

	td_path(path, sizeof path, "modes/LAB.webp");
	rc = decode_file(path, &o, &r, &info, &err);
	if (rc == 0)
		ref_magick(path, r.w, r.h, 0, 0, &f);
	ok(rc == 0 && same_luma(&r, &f, &mean, &max) &&
	    info.format == DZ_IMG_WEBP && info.width == 1600 &&
	    info.height == 1004 && !r.bad,
	    "modes/LAB.webp: luma equals ImageMagick's (libwebp) decode");
	if (rc != 0)
		diag("error: %s", err.msg);
	else
		diag("LAB.webp: mean |luma diff| %.6f, max %.3f", mean, max);
	free(f.luma);
	rec_free(&r);
}

/* Synthetic images written by ImageMagick, read back by both. */
static void
test_synthetic_magick(void)
{
	static const struct {
		const char *name, *make;
		int grey, wide;
		enum dz_image_format fmt;
	} t[] = {
		{ "grad.gif", "-size 97x61 gradient:red-blue", 0, 0,
		    DZ_IMG_GIF },
		{ "circle.gif", "-size 80x50 pattern:checkerboard "
		    "-fill red -draw 'circle 40,25 40,5'", 0, 0, DZ_IMG_GIF },
		{ "grad.bmp", "-size 97x61 gradient:red-blue -type TrueColor",
		    0, 0, DZ_IMG_BMP },
		{ "pal.bmp", "-size 33x17 pattern:checkerboard -type Palette",
		    0, 0, DZ_IMG_BMP },
		{ "bgra.bmp", "-size 41x23 gradient:red-blue -alpha set "
		    "-channel A -evaluate set 50% +channel -define "
		    "bmp:format=bmp4", 0, 0, DZ_IMG_BMP },
		{ "grad.tif", "-size 97x61 gradient:red-blue -depth 8 "
		    "-compress lzw", 0, 0, DZ_IMG_TIFF },
		{ "grey.tif", "-size 64x40 gradient: -colorspace Gray "
		    "-type Grayscale -depth 8", 1, 0, DZ_IMG_TIFF },
		{ "rgb16.tif", "-size 31x21 gradient:red-blue -depth 16",
		    0, 1, DZ_IMG_TIFF },
		{ "grey16.tif", "-size 31x21 gradient: -colorspace Gray "
		    "-depth 16", 1, 1, DZ_IMG_TIFF },
		{ "lossless.webp", "-size 97x61 gradient:red-blue -define "
		    "webp:lossless=true", 0, 0, DZ_IMG_WEBP },
		{ "lossy.webp", "-size 97x61 plasma:red-blue -seed 1 "
		    "-quality 60", 0, 0, DZ_IMG_WEBP },
		{ "lossy-odd.webp", "-size 33x7 gradient:red-blue -quality 50",
		    0, 0, DZ_IMG_WEBP },
		{ "lossy-alpha.webp", "-size 34x8 gradient:red-blue -alpha "
		    "set -channel A -evaluate set 40% +channel -quality 50",
		    0, 0, DZ_IMG_WEBP },
		{ "rgb16.png", "-size 31x21 gradient:red-blue -depth 16",
		    0, 1, DZ_IMG_PNG },
		{ "grey16.png", "-size 31x21 gradient: -colorspace Gray "
		    "-depth 16", 1, 1, DZ_IMG_PNG },
		{ "interlaced.png", "-size 123x77 gradient:red-blue -depth 8 "
		    "-interlace PNG", 0, 0, DZ_IMG_PNG },
		{ "rgba.png", "-size 40x30 gradient:red-blue -alpha set "
		    "-channel A -evaluate set 30% +channel -depth 8", 0, 0,
		    DZ_IMG_PNG },
		{ "greya.png", "-size 40x30 gradient: -colorspace Gray -alpha "
		    "set -channel A -evaluate set 30% +channel -depth 8 "
		    "-define png:color-type=4", 1, 0, DZ_IMG_PNG },
		{ "grey2.png", "-size 40x30 gradient: -colorspace Gray "
		    "-depth 2 -define png:bit-depth=2 "
		    "-define png:color-type=0", 1, 0, DZ_IMG_PNG },
		{ "paltrns.png", "-size 40x30 pattern:checkerboard "
		    "-transparent white -type PaletteAlpha", 0, 0, DZ_IMG_PNG },
	};
	struct dz_image_opts o = opts_default();

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char path[PATH_MAX], q[PATH_MAX + 16], cmd[3 * PATH_MAX];
		struct dz_image_info info;
		struct dz_err err;
		struct rec r;
		struct ref f = { 0, 0, NULL };
		double mean, max;
		int rc;

		tmp_path(path, sizeof path, t[i].name);
		shq(q, sizeof q, path);
		snprintf(cmd, sizeof cmd, "convert %s %s", t[i].make, q);
		if (run_cmd(cmd) < 0) {
			ok(0, "%s: convert made the fixture", t[i].name);
			continue;
		}
		rc = decode_file(path, &o, &r, &info, &err);
		if (rc == 0)
			ref_magick(path, r.w, r.h, t[i].grey, t[i].wide, &f);
		ok(rc == 0 && same_luma(&r, &f, &mean, &max) &&
		    info.format == t[i].fmt && !r.bad,
		    "%s: luma equals ImageMagick's decode", t[i].name);
		if (rc != 0)
			diag("error: %s", err.msg);
		else if (max != 0)
			diag("%s: mean %.6f max %.3f", t[i].name, mean, max);
		free(f.luma);
		rec_free(&r);
	}
}

static void
test_grey_jpeg(void)
{
	struct dz_image_opts o = opts_default();
	char path[PATH_MAX];
	struct dz_image_info info;
	struct dz_err err;
	struct rec r;
	struct ref f = { 0, 0, NULL };
	double mean, max;
	size_t len;
	uint8_t *jpg = make_jpeg(203, 97, 1, NULL, 0, &len);
	int rc;

	tmp_path(path, sizeof path, "grey.jpg");
	write_file(path, jpg, len);
	free(jpg);
	rc = decode_file(path, &o, &r, &info, &err);
	if (rc == 0)
		ref_djpeg(path, "-pnm", &f);
	ok(rc == 0 && same_luma(&r, &f, &mean, &max),
	    "grey JPEG: luma is djpeg's grey value");
	free(f.luma);
	rec_free(&r);

	/* The fast path on a grey JPEG: djpeg -scale 1/2. */
	o.fast_min_side = 40;
	rc = decode_file(path, &o, &r, &info, &err);
	if (rc == 0)
		ref_djpeg(path, "-pnm -scale 1/2", &f);
	ok(rc == 0 && info.scale_denom == 2 && r.w == 102 && r.h == 49 &&
	    same_luma(&r, &f, &mean, &max),
	    "grey JPEG, fast path 1/2: equals djpeg -scale 1/2");
	free(f.luma);
	rec_free(&r);
}

/* Decode only far enough to see the orientation. */
static void
test_orientation(void)
{
	static const int want[] = { 1, 3, 6, 8 };

	for (int orient = 1; orient >= 0; orient--) {
		for (size_t i = 0; i < 4; i++) {
			struct dz_image_opts o = opts_default();
			char rel[64], path[PATH_MAX];
			struct dz_image_info info;
			struct dz_luma_sink s;
			struct dz_err err;
			struct rec r;
			uint8_t *buf;
			size_t len;
			int rc, exp = orient ? want[i] : 1;

			o.orient = orient;
			pathf(rel, sizeof rel, "exif-rotn/exif-rotn-%d.jpg",
			    want[i]);
			td_path(path, sizeof path, rel);
			buf = read_file(path, &len);
			rec_init(&r, &s, 0);
			r.fail_begin = 1;
			rc = buf ? decode_any(buf, len, &o, &s, &info, &err) : 0;
			ok(rc == -1 && r.began == 1 && r.orient == exp &&
			    info.orientation == exp && info.width == 4032 &&
			    info.height == 3024 && err.code == EX_SOFTWARE &&
			    strcmp(err.msg, "sink refuses") == 0,
			    "%s with orient=%d: orientation %d", rel, orient,
			    exp);
			free(buf);
		}
	}
}

/* info.orientation and what begin() got, via a full decode. */
static int
orientation_of(const uint8_t *buf, size_t len, int orient, int *begin)
{
	struct dz_image_opts o = opts_default();
	struct dz_image_info info;
	struct dz_luma_sink s;
	struct dz_err err;
	struct rec r;
	int rc;

	o.orient = orient;
	rec_init(&r, &s, 0);
	rc = decode_any(buf, len, &o, &s, &info, &err);
	*begin = r.orient;
	if (rc != 0) {
		diag("error: %s", err.msg);
		return -1;
	}
	return info.orientation;
}

/* EXIF orientation in PNG (eXIf), WebP (EXIF chunk) and TIFF (IFD0). */
static void
test_orientation_other(void)
{
	/* Orientation 6, big-endian. */
	static const uint8_t exif[] = {
		'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1,
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0,
		0, 0, 0, 0,
	};
	char path[PATH_MAX];
	uint8_t *b, *m;
	size_t len, n;
	int got, begin;

	/* PNG: an eXIf chunk right after IHDR. */
	b = make_png_zeros(8, 8, 0, &len);
	m = xmalloc(len + 12 + sizeof exif);
	memcpy(m, b, 33);
	n = 33 + png_chunk(m + 33, "eXIf", exif, sizeof exif);
	memcpy(m + n, b + 33, len - 33);
	n += len - 33;
	got = orientation_of(m, n, 1, &begin);
	ok(got == 6 && begin == 6, "PNG eXIf: orientation 6");
	got = orientation_of(m, n, 0, &begin);
	ok(got == 1 && begin == 1, "PNG eXIf with orient=0: orientation 1");
	free(m);
	free(b);

	/* WebP: VP8X + the lossless fixture's VP8L chunk + EXIF. */
	tmp_path(path, sizeof path, "lossless.webp");
	b = read_file(path, &len);
	if (b && len > 12) {
		size_t vp8l = len - 12, total;

		m = xmalloc(12 + 18 + vp8l + 8 + sizeof exif);
		n = 12;
		memcpy(m + n, "VP8X", 4);
		put32le(m + n + 4, 10);
		memset(m + n + 8, 0, 10);
		m[n + 8] = 0x08;	/* EXIF present */
		put32le(m + n + 12, 97 - 1);	/* 24 bits, then 24 bits */
		put32le(m + n + 15, 61 - 1);
		m[n + 18] = 0;
		n += 18;
		memcpy(m + n, b + 12, vp8l);
		n += vp8l;
		memcpy(m + n, "EXIF", 4);
		put32le(m + n + 4, sizeof exif);
		memcpy(m + n + 8, exif, sizeof exif);
		n += 8 + sizeof exif;
		total = n;
		memcpy(m, "RIFF", 4);
		put32le(m + 4, (uint32_t)(total - 8));
		memcpy(m + 8, "WEBP", 4);
		got = orientation_of(m, total, 1, &begin);
		ok(got == 6 && begin == 6, "WebP EXIF chunk: orientation 6");
		got = orientation_of(m, total, 0, &begin);
		ok(got == 1 && begin == 1,
		    "WebP EXIF chunk with orient=0: orientation 1");
		free(m);
	} else {
		ok(0, "lossless.webp fixture exists");
	}
	free(b);

	/* TIFF: the Orientation tag of IFD0. */
	tmp_path(path, sizeof path, "orient.tif");
	{
		char q[PATH_MAX + 16], cmd[2 * PATH_MAX];

		shq(q, sizeof q, path);
		snprintf(cmd, sizeof cmd, "convert -size 20x10 gradient: "
		    "-depth 8 -orient RightTop %s", q);
		run_cmd(cmd);
	}
	b = read_file(path, &len);
	got = b ? orientation_of(b, len, 1, &begin) : -1;
	ok(got == 6 && begin == 6, "TIFF Orientation tag: orientation 6");
	got = b ? orientation_of(b, len, 0, &begin) : -1;
	ok(got == 1 && begin == 1, "TIFF with orient=0: orientation 1");
	free(b);
}

static void
test_fast_path(void)
{
	struct dz_image_opts o = opts_default();
	char path[PATH_MAX];
	struct dz_image_info info;
	struct dz_err err;
	struct rec r;
	struct ref f = { 0, 0, NULL };
	double mean = 0, max = 0;
	int rc;

	td_path(path, sizeof path, "exif-rotn/exif-rotn-1.jpg");
	o.fast_min_side = 512;
	rc = decode_file(path, &o, &r, &info, &err);
	ok(rc == 0 && info.scale_denom == 4 && info.width == 4032 &&
	    info.height == 3024 && r.w == 1008 && r.h == 756 &&
	    r.nrows == 756 && !r.bad,
	    "fast path: 4032x3024 with min side 512 decodes at 1/4 to "
	    "1008x756");
	if (rc == 0)
		ref_djpeg(path, "-pnm -grayscale -scale 1/4", &f);
	ok(rc == 0 && same_luma(&r, &f, &mean, &max),
	    "fast path: luma equals djpeg -grayscale -scale 1/4 (the Y "
	    "channel)");
	free(f.luma);
	rec_free(&r);

	o.fast_min_side = 3024;
	rc = decode_file(path, &o, &r, &info, &err);
	ok(rc == 0 && info.scale_denom == 1 && r.w == 4032,
	    "fast path: min side 3024 keeps full resolution");
	rec_free(&r);

	o.fast_min_side = 757;
	rc = decode_file(path, &o, &r, &info, &err);
	ok(rc == 0 && info.scale_denom == 2 && r.h == 1512,
	    "fast path: min side 757 picks 1/2 (3024/4 = 756)");
	rec_free(&r);
	o.fast_min_side = 100;
	rc = decode_file(path, &o, &r, &info, &err);
	ok(rc == 0 && info.scale_denom == 4 && r.w == 1008 && r.h == 756,
	    "fast path: never below 1/4, even with a small min side");
	rec_free(&r);

	/* Small image: no scaling, so exactly the exact-mode luma. */
	td_path(path, sizeof path, "misc/wee.jpg");
	o.fast_min_side = 512;
	rc = decode_file(path, &o, &r, &info, &err);
	if (rc == 0)
		ref_djpeg(path, "-ppm", &f);
	ok(rc == 0 && info.scale_denom == 1 && same_luma(&r, &f, &mean, &max),
	    "fast path: a 34x42 JPEG is decoded in full colour as usual");
	free(f.luma);
	rec_free(&r);

	/* CMYK never takes the fast path. */
	td_path(path, sizeof path, "modes/CMYK.jpg");
	o.fast_min_side = 64;
	rc = decode_file(path, &o, &r, &info, &err);
	ok(rc == 0 && info.scale_denom == 1 && r.w == 1600,
	    "fast path: never for CMYK");
	rec_free(&r);

	(void)rc;
}

/* Each must fail with EX_DATAERR and a message containing want. */
static void
expect_bad(const char *what, const uint8_t *buf, size_t len,
    const struct dz_image_opts *o,
    int (*dec)(const uint8_t *, size_t, const struct dz_image_opts *,
    struct dz_luma_sink *, struct dz_image_info *, struct dz_err *),
    const char *want)
{
	struct dz_image_info info;
	struct dz_luma_sink s;
	struct dz_err err;
	struct rec r;
	int rc;

	rec_init(&r, &s, 0);
	dz_err_clear(&err);
	rc = dec(buf, len, o, &s, &info, &err);
	ok(rc == -1 && err.code == EX_DATAERR && strstr(err.msg, want) &&
	    !r.bad, "%s: refused (%s)", what, err.msg);
	rec_free(&r);
}

static uint8_t *
load(const char *rel, size_t *len)
{
	char path[PATH_MAX];
	uint8_t *b;

	td_path(path, sizeof path, rel);
	b = read_file(path, len);
	if (!b) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(99);
	}
	return b;
}

static size_t
find_sos_data(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 4 < len; i++)
		if (b[i] == 0xff && b[i + 1] == 0xda)
			return i + 2 + ((size_t)b[i + 2] << 8 | b[i + 3]);
	return 0;
}

static void
test_bad_input(void)
{
	struct dz_image_opts o = opts_default();
	uint8_t *b, *junk, hdr[512];
	size_t len, n;

	expect_bad("empty buffer (jpeg)", (const uint8_t *)"", 0, &o,
	    dz_jpegimage_decode, "empty");
	expect_bad("empty buffer (png)", (const uint8_t *)"", 0, &o,
	    dz_pngimage_decode, "empty");
	expect_bad("empty buffer (avimage)", (const uint8_t *)"", 0, &o,
	    dz_avimage_decode, "empty");

	b = load("dih/bridge-1-original.jpg", &len);
	expect_bad("baseline JPEG cut in half", b, len / 2, &o,
	    dz_jpegimage_decode, "truncated JPEG data");
	expect_bad("baseline JPEG cut after 700 bytes", b, 700, &o,
	    dz_jpegimage_decode, "JPEG");
	expect_bad("JPEG with a bad SOI", b + 1, len - 1, &o, dz_jpegimage_decode,
	    "not a JPEG file");
	/*
	 * Damage in the entropy-coded data: libjpeg warns and fills in, we
	 * refuse. A marker inside the data ends the segment early, which
	 * libjpeg always notices. Random bytes often decode unnoticed: JPEG
	 * has no checksum, and libjpeg-turbo's fast Huffman decoder turns
	 * invalid codes into zeros without a warning.
	 */
	{
		size_t sos = find_sos_data(b, len), at = sos + (len - sos) / 3;
		uint8_t *c = xmalloc(len);
		int undetected = 0;

		memcpy(c, b, len);
		c[at] = 0xff;
		c[at + 1] = 0xd9;
		expect_bad("JPEG with an EOI marker inside the entropy data", c,
		    len, &o, dz_jpegimage_decode, "corrupt JPEG data");
		memcpy(c, b, len);
		for (size_t i = 0; i < 256; i++)
			c[at + i] = i % 64 == 63 ? 0xc1 : i % 64 == 62 ? 0xff :
			    (uint8_t)(rnd32() % 0xff);
		expect_bad("JPEG with markers inside the entropy data", c, len,
		    &o, dz_jpegimage_decode, "corrupt JPEG data");
		for (int t = 0; t < 8; t++) {
			struct dz_image_info info;
			struct dz_luma_sink s;
			struct dz_err err;
			struct rec r;

			memcpy(c, b, len);
			for (size_t i = 0; i < 256; i++)
				c[at + (size_t)t * 5000 + i] = (uint8_t)rnd32();
			rec_init(&r, &s, 0);
			if (dz_jpegimage_decode(c, len, &o, &s, &info, &err) == 0)
				undetected++;
		}
		diag("random garbage in the entropy data: %d of 8 decoded "
		    "unnoticed", undetected);
		free(c);
	}
	{
		/* 1 MB cap: the coefficient buffer of this progressive
		 * 1004x1600 file alone is larger. */
		struct dz_image_opts lo = opts_default();
		uint8_t *p = load("dih/bridge-2-rotate-90.jpg", &n);

		lo.lim.max_memory = 1 << 20;
		expect_bad("progressive JPEG over a 1 MB memory limit", p, n,
		    &lo, dz_jpegimage_decode, "memory");
		expect_bad("progressive JPEG cut in half", p, n / 2, &o,
		    dz_jpegimage_decode, "truncated JPEG data");
		lo = opts_default();
		lo.lim.max_pixels = 1000000;
		expect_bad("JPEG over a 1 MP pixel limit", p, n, &lo,
		    dz_jpegimage_decode, "image too large: 1004x1600");
		free(p);
	}
	free(b);

	/* Random bytes, behind each format's magic, and bare. */
	junk = xmalloc(8192);
	for (size_t i = 0; i < 8192; i++)
		junk[i] = (uint8_t)rnd32();
	junk[0] = 0xff;
	junk[1] = 0xd8;
	expect_bad("random bytes after a JPEG SOI", junk, 8192, &o,
	    dz_jpegimage_decode, "JPEG");
	memcpy(junk, "\x89PNG\r\n\x1a\n", 8);
	expect_bad("random bytes after a PNG signature", junk, 8192, &o,
	    dz_pngimage_decode, "corrupt PNG data");
	memcpy(junk, "RIFF\x00\x10\x00\x00WEBPVP8 ", 16);
	expect_bad("random bytes in a WebP container", junk, 8192, &o,
	    dz_avimage_decode, "WebP");
	memcpy(junk, "GIF89a", 6);
	expect_bad("random bytes after a GIF signature", junk, 8192, &o,
	    dz_avimage_decode, "GIF");
	junk[0] = 0x13;
	expect_bad("random bytes (avimage)", junk, 8192, &o,
	    dz_avimage_decode, "unknown image format");
	free(junk);

	b = load("misc/c.png", &len);
	expect_bad("PNG cut in half", b, len / 2, &o, dz_pngimage_decode,
	    "truncated PNG data");
	expect_bad("PNG cut after its signature", b, 8, &o, dz_pngimage_decode,
	    "truncated PNG data");
	b[40] ^= 0x55;	/* inside the first chunk after IHDR, or its CRC */
	expect_bad("PNG with a flipped byte", b, len, &o, dz_pngimage_decode,
	    "corrupt PNG data");
	free(b);

	n = make_png_header(hdr, 100000, 100000);
	expect_bad("PNG header claiming 100000x100000", hdr, n, &o,
	    dz_pngimage_decode, "image too large: 100000x100000");
	n = make_png_header(hdr, 1u << 25, 1);
	expect_bad("PNG header claiming a width of 2^25", hdr, n, &o,
	    dz_pngimage_decode, "corrupt PNG data");

	{
		uint8_t *bomb = make_png_zeros(20000, 20000, 0, &n);
		struct dz_image_opts lo = opts_default();

		diag("20000x20000 PNG of zeros: %zu bytes", n);
		expect_bad("20000x20000 PNG bomb, default limits", bomb, n, &o,
		    dz_pngimage_decode, "image too large: 20000x20000");
		lo.lim.max_pixels = 1000000;
		expect_bad("20000x20000 PNG bomb, 1 MP limit", bomb, n, &lo,
		    dz_pngimage_decode, "exceeds limit 1000000");
		free(bomb);
		bomb = make_png_zeros(3000, 3000, 1, &n);
		lo = opts_default();
		lo.lim.max_memory = 4000000;
		expect_bad("interlaced 3000x3000 PNG over a 4 MB memory limit",
		    bomb, n, &lo, dz_pngimage_decode, "memory");
		free(bomb);
	}

	/* Truncated GIF and WebP. */
	{
		char path[PATH_MAX];

		tmp_path(path, sizeof path, "grad.gif");
		b = read_file(path, &len);
		if (b) {
			expect_bad("GIF cut in half", b, len / 2, &o,
			    dz_avimage_decode, "truncated GIF data");
			expect_bad("GIF cut after its header", b, 13, &o,
			    dz_avimage_decode, "truncated GIF data");
			free(b);
		} else {
			ok(0, "grad.gif fixture exists");
		}
	}
	b = load("modes/LAB.webp", &len);
	expect_bad("WebP cut in half", b, len / 2, &o, dz_avimage_decode,
	    "truncated WebP data");
	expect_bad("WebP cut after its RIFF header", b, 12, &o,
	    dz_avimage_decode, "truncated WebP data");
	{
		struct dz_image_opts lo = opts_default();

		lo.lim.max_pixels = 1000000;
		expect_bad("WebP over a 1 MP limit", b, len, &lo,
		    dz_avimage_decode, "image too large: 1600x1004");
	}
	/* A VP8 frame without its start code. */
	b[23] ^= 0x55;
	expect_bad("WebP with a broken VP8 start code", b, len, &o,
	    dz_avimage_decode, "corrupt WebP data");
	free(b);

	n = make_bmp_header(hdr, 100000, 100000);
	expect_bad("BMP header claiming 100000x100000", hdr, n, &o,
	    dz_avimage_decode, "image too large: 100000x100000");
	n = make_bmp_header(hdr, 100000, -100000);
	expect_bad("top-down BMP claiming 100000x100000", hdr, n, &o,
	    dz_avimage_decode, "image too large: 100000x100000");
	n = make_bmp_header(hdr, 400, 300);
	expect_bad("BMP 400x300 with 64 bytes of pixels", hdr, n, &o,
	    dz_avimage_decode, "BMP");
	n = make_tiff_header(hdr, 100000, 100000);
	expect_bad("TIFF header claiming 100000x100000", hdr, n, &o,
	    dz_avimage_decode, "image too large: 100000x100000");
	n = make_tiff_header(hdr, 4000000000u, 4000000000u);
	expect_bad("TIFF header claiming 4e9x4e9", hdr, n, &o,
	    dz_avimage_decode, "image too large");
	n = make_tiff_header(hdr, 8, 8);
	{
		struct dz_image_info info;
		struct dz_luma_sink s;
		struct dz_err err;
		struct rec r;
		int rc;

		rec_init(&r, &s, 1);
		rc = dz_avimage_decode(hdr, n, &o, &s, &info, &err);
		ok(rc == 0 && r.w == 8 && r.h == 8 && r.nrows == 8 &&
		    info.format == DZ_IMG_TIFF && r.luma[0] == 128.0f,
		    "crafted 8x8 grey TIFF decodes (grey value 128)");
		rec_free(&r);
	}
}

static void
test_scans(void)
{
	struct dz_image_opts o = opts_default();
	struct dz_image_info info;
	struct dz_luma_sink s;
	struct dz_err err;
	struct rec r;
	int nscans, rc;
	jpeg_scan_info *scans = many_scans(&nscans);
	size_t len;
	uint8_t *jpg = make_jpeg(64, 48, 0, scans, nscans, &len);
	char path[PATH_MAX];
	struct ref f = { 0, 0, NULL };
	double mean, max;

	diag("progressive JPEG with %d scans: %zu bytes", nscans, len);
	expect_bad("progressive JPEG with 2112 scans, limit 100", jpg, len,
	    &o, dz_jpegimage_decode, "more than 100 scans");
	o.lim.max_scans = 3000;
	rec_init(&r, &s, 1);
	rc = dz_jpegimage_decode(jpg, len, &o, &s, &info, &err);
	tmp_path(path, sizeof path, "scans.jpg");
	write_file(path, jpg, len);
	if (rc == 0)
		ref_djpeg(path, "-ppm", &f);
	ok(rc == 0 && same_luma(&r, &f, &mean, &max),
	    "the same file decodes with max_scans 3000, as djpeg does");
	if (rc != 0)
		diag("error: %s", err.msg);
	free(f.luma);
	rec_free(&r);
	free(jpg);
	free(scans);
}

/* The sink can stop the decoder at any time; its error comes back. */
static void
test_sink_stops(void)
{
	static const char *files[] = { "dih/bridge-1-original.jpg",
		"dih/bridge-2-rotate-90.jpg", "misc/c.png", "modes/LAB.webp",
		"modes/CMYK.jpg" };
	struct dz_image_opts o = opts_default();

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct dz_image_info info;
		struct dz_luma_sink s;
		struct dz_err err;
		struct rec r;
		size_t len;
		uint8_t *b = load(files[i], &len);
		int rc;

		rec_init(&r, &s, 0);
		r.fail_after = 40;
		rc = decode_any(b, len, &o, &s, &info, &err);
		ok(rc == -1 && err.code == EX_SOFTWARE &&
		    strcmp(err.msg, "sink stops") == 0 && r.nrows >= 40 &&
		    r.nrows < 60, "%s: stops when the sink says so", files[i]);
		free(b);
	}
}

/* A decode that streams rows holds a few rows, not the image. */
static void
test_bounded_memory(void)
{
	struct dz_image_opts o = opts_default();
	struct dz_image_info info;
	struct dz_luma_sink s;
	struct dz_err err;
	struct rec r;
	struct rusage ru0, ru1;
	size_t n;
	uint8_t *bomb = make_png_zeros(4000, 4000, 0, &n);
	int rc;

	getrusage(RUSAGE_SELF, &ru0);
	rec_init(&r, &s, 0);
	rc = dz_pngimage_decode(bomb, n, &o, &s, &info, &err);
	getrusage(RUSAGE_SELF, &ru1);
	ok(rc == 0 && r.nrows == 4000 && r.sum == 0,
	    "4000x4000 PNG of zeros (%zu bytes) decodes", n);
	diag("peak RSS grew by %ld KiB while decoding it (16000 KiB image)",
	    ru1.ru_maxrss - ru0.ru_maxrss);
	if (SANITIZED)
		ok(1, "# skip RSS check under sanitizers");
	else
		ok(ru1.ru_maxrss - ru0.ru_maxrss < 4096,
		    "it decodes in bounded memory (< 4 MiB growth)");
	free(bomb);
}

static void
test_info_init(void)
{
	struct dz_image_info info;

	memset(&info, 0x5a, sizeof info);
	dz_image_info_init(&info, DZ_IMG_PNG);
	ok(info.format == DZ_IMG_PNG && info.width == 0 && info.height == 0 &&
	    info.orientation == 1 && info.scale_denom == 1,
	    "dz_image_info_init: the format, no size, orientation 1, scale 1");
}

static void
test_exif(void)
{
	/* Big-endian: Make, Orientation 6, Software; then next IFD 0. */
	static const uint8_t mm[] = {
		'M', 'M', 0, 42, 0, 0, 0, 8,
		0, 3,
		0x01, 0x0f, 0, 2, 0, 0, 0, 4, 'A', 'c', 'm', 0,
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0,
		0x01, 0x31, 0, 2, 0, 0, 0, 4, 'x', 'y', 'z', 0,
		0, 0, 0, 0,
	};
	static const uint8_t ii[] = {
		'I', 'I', 42, 0, 8, 0, 0, 0,
		2, 0,
		0x0f, 0x01, 2, 0, 4, 0, 0, 0, 'A', 'c', 'm', 0,
		0x12, 0x01, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0,
		0, 0, 0, 0,
	};
	uint8_t buf[sizeof mm];
	int bad = 0;

	ok(dz_exif_orientation(mm, sizeof mm) == 6, "exif: MM orientation 6");
	ok(dz_exif_orientation(ii, sizeof ii) == 3, "exif: II orientation 3");
	ok(dz_exif_orientation(NULL, 0) == 1 &&
	    dz_exif_orientation(mm, 7) == 1, "exif: empty or short is 1");
	ok(dz_exif_orientation(mm, 33) == 1,
	    "exif: cut inside the orientation entry is 1");
	ok(dz_exif_orientation(mm, 34) == 6,
	    "exif: cut right after the orientation entry still finds it");
	memcpy(buf, mm, sizeof mm);
	buf[31] = 9;
	ok(dz_exif_orientation(buf, sizeof buf) == 1, "exif: value 9 is 1");
	buf[31] = 0;
	ok(dz_exif_orientation(buf, sizeof buf) == 1, "exif: value 0 is 1");
	memcpy(buf, mm, sizeof mm);
	buf[25] = 4;	/* type LONG */
	ok(dz_exif_orientation(buf, sizeof buf) == 1, "exif: LONG type is 1");
	memcpy(buf, mm, sizeof mm);
	buf[29] = 2;	/* count 2 */
	ok(dz_exif_orientation(buf, sizeof buf) == 1, "exif: count 2 is 1");
	memcpy(buf, mm, sizeof mm);
	buf[4] = 0xff;	/* IFD offset far beyond the end */
	ok(dz_exif_orientation(buf, sizeof buf) == 1,
	    "exif: IFD offset out of bounds is 1");
	memcpy(buf, mm, sizeof mm);
	buf[8] = 0xff;	/* 65280+ entries */
	ok(dz_exif_orientation(buf, sizeof buf) == 6,
	    "exif: too many entries claimed: reads only what is there");
	memcpy(buf, mm, sizeof mm);
	buf[7] = (uint8_t)(sizeof mm - 1);
	ok(dz_exif_orientation(buf, sizeof buf) == 1,
	    "exif: IFD starting at the last byte is 1");
	memcpy(buf, mm, sizeof mm);
	buf[3] = 43;
	ok(dz_exif_orientation(buf, sizeof buf) == 1, "exif: not 42 is 1");

	/* Mutations, each in a buffer of exactly its length (for ASan). */
	for (int i = 0; i < 20000; i++) {
		const uint8_t *src = i & 1 ? mm : ii;
		size_t n = i & 1 ? sizeof mm : sizeof ii, len = n;
		uint8_t *m;
		int v, flips = 1 + (int)(rnd32() % 4);

		if (rnd32() % 4 == 0)
			len = rnd32() % (n + 1);
		m = xmalloc(len);
		memcpy(m, src, len);
		for (int k = 0; k < flips && len; k++) {
			size_t at = rnd32() % len;

			m[at] = rnd32() % 3 ? (uint8_t)rnd32() :
			    (uint8_t)(m[at] ^ (1u << (rnd32() % 8)));
		}
		v = dz_exif_orientation(m, len);
		if (v < 1 || v > 8)
			bad++;
		free(m);
	}
	ok(bad == 0, "exif: 20000 mutated blocks give 1..8 and no crash");
}

static int
printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* Mutated files through the decoders: errors, never crashes. */
static void
test_fuzz_decoders(void)
{
	static const char *files[] = { "pdq/misc/wee.jpg", "tmp/grad.gif",
		"tmp/pal.bmp", "tmp/grad.tif", "tmp/lossless.webp",
		"tmp/lossy.webp", "tmp/grey2.png", "tmp/interlaced.png",
		"tmp/scans-small.jpg" };
	struct dz_image_opts o = opts_default();
	const char *env = getenv("DZ_FUZZ_ITERS");
	int iters = env && atoi(env) > 0 ? atoi(env) : SANITIZED ? 150 : 300;

	{
		/* A small progressive file for the mix. */
		char path[PATH_MAX];
		size_t len;
		uint8_t *jpg = make_jpeg(40, 24, 0, NULL, -1, &len);

		tmp_path(path, sizeof path, "scans-small.jpg");
		write_file(path, jpg, len);
		free(jpg);
	}

	for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
		char path[PATH_MAX];
		uint8_t *orig;
		size_t len;
		int okays = 0, fails = 0, wrong = 0;

		if (strncmp(files[fi], "tmp/", 4) == 0)
			tmp_path(path, sizeof path, files[fi] + 4);
		else
			pathf(path, sizeof path, "%s/%s", testdata,
			    files[fi]);
		orig = read_file(path, &len);
		if (!orig) {
			ok(0, "fuzz: %s exists", files[fi]);
			continue;
		}
		for (int i = 0; i < iters; i++) {
			size_t n = len;
			uint8_t *m;
			struct dz_image_info info;
			struct dz_luma_sink s;
			struct dz_err err;
			struct rec r;
			int rc, flips = 1 + (int)(rnd32() % 8);

			if (rnd32() % 5 == 0)
				n = rnd32() % len + 1;
			m = xmalloc(n);
			memcpy(m, orig, n);
			for (int k = 0; k < flips; k++) {
				/* Headers matter most: favour the start. */
				size_t at = rnd32() % 2 ? rnd32() % (n < 256 ? n :
				    256) : rnd32() % n;

				m[at] = (uint8_t)rnd32();
			}
			/* Keep the magic so the right decoder runs. */
			memcpy(m, orig, n < 4 ? n : 4);
			rec_init(&r, &s, 0);
			rc = decode_any(m, n, &o, &s, &info, &err);
			if (rc == 0 && !r.bad && r.nrows == (size_t)r.h)
				okays++;
			else if (rc == -1 && err.code != 0 && err.msg[0] &&
			    printable(err.msg) && !r.bad)
				fails++;
			else
				wrong++;
			free(m);
		}
		ok(wrong == 0, "fuzz %s: %d mutations, %d decoded, %d refused, "
		    "%d wrong", files[fi], iters, okays, fails, wrong);
		free(orig);
	}
}

struct job {
	const char *files[6];
	double sums[6];
	int fails;
};

static void *
thread_main(void *arg)
{
	struct job *j = arg;
	struct dz_image_opts o = opts_default();

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 6 && j->files[i]; i++) {
			struct dz_image_info info;
			struct dz_luma_sink s;
			struct dz_err err;
			struct rec r;
			uint8_t *b;
			size_t len;

			b = read_file(j->files[i], &len);
			rec_init(&r, &s, 0);
			if (!b || decode_any(b, len, &o, &s, &info, &err) != 0)
				j->fails++;
			else if (round == 0)
				j->sums[i] = r.sum;
			else if (j->sums[i] != r.sum)
				j->fails++;
			free(b);
		}
	}
	return NULL;
}

static void
test_threads(void)
{
	char p[6][PATH_MAX];
	struct job jobs[4];
	pthread_t th[4];
	int fails = 0, differ = 0;

	td_path(p[0], sizeof p[0], "dih/bridge-1-original.jpg");
	td_path(p[1], sizeof p[1], "dih/bridge-2-rotate-90.jpg");
	td_path(p[2], sizeof p[2], "misc/c.png");
	td_path(p[3], sizeof p[3], "modes/LAB.webp");
	tmp_path(p[4], sizeof p[4], "grad.gif");
	tmp_path(p[5], sizeof p[5], "grad.tif");
	for (int t = 0; t < 4; t++) {
		memset(&jobs[t], 0, sizeof jobs[t]);
		for (int i = 0; i < 6; i++)
			jobs[t].files[(i + t) % 6] = p[i];
		pthread_create(&th[t], NULL, thread_main, &jobs[t]);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		fails += jobs[t].fails;
	}
	/* The same file gives the same sum in every thread. */
	for (int i = 0; i < 6; i++) {
		double s0 = jobs[0].sums[i];

		for (int t = 1; t < 4; t++)
			if (jobs[t].sums[(i + t) % 6] != s0)
				differ++;
	}
	ok(fails == 0 && differ == 0,
	    "4 threads decoding JPEG, PNG, WebP, GIF, TIFF at once agree");
}

static void
find_testdata(void)
{
	const char *env = getenv("DZ_TESTDATA");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		pathf(testdata, sizeof testdata, "%s", env);
		return;
	}
	/* t/unit/test-decode -> <top>/t/data/reference */
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *s;

		exe[n] = '\0';
		for (int i = 0; i < 3 && (s = strrchr(exe, '/')); i++)
			*s = '\0';
		pathf(testdata, sizeof testdata, "%s/t/data/reference",
		    exe);
	}
}

int
main(void)
{
	char check[PATH_MAX], q[128], cmd[256];
	const char *tmp = getenv("TMPDIR");
	struct stat st;

	find_testdata();
	td_path(check, sizeof check, "dih/bridge-1-original.jpg");
	if (stat(check, &st) != 0) {
		printf("Bail out! reference vectors not found at '%s' "
		    "(set DZ_TESTDATA)\n", testdata);
		return 1;
	}
	if (run_cmd("command -v djpeg >/dev/null && "
	    "command -v convert >/dev/null") < 0) {
		printf("Bail out! djpeg and ImageMagick's convert are needed\n");
		return 1;
	}
	snprintf(scratch, sizeof scratch, "%s/dz-decode.XXXXXX",
	    tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}

	test_bounded_memory();	/* first: the RSS high-water mark is low */
	test_info_init();
	test_exif();
	test_jpeg_reference();
	test_png_reference();
	test_webp_reference();
	test_synthetic_magick();
	test_grey_jpeg();
	test_orientation();
	test_orientation_other();
	test_fast_path();
	test_scans();
	test_bad_input();
	test_sink_stops();
	test_fuzz_decoders();
	test_threads();

	shq(q, sizeof q, scratch);
	snprintf(cmd, sizeof cmd, "rm -rf %s", q);
	run_cmd(cmd);
	return tap_done();
}
