/*
 * lib/media/avimage: WebP, GIF, BMP and TIFF stills through FFmpeg, from memory,
 * into a luma sink. Only the first frame is decoded.
 *
 * FFmpeg never sees a file name: it reads through lib/media/avio, our own
 * AVIOContext over the buffer, the demuxer is chosen by us from the magic
 * bytes, the format, codec and protocol whitelists name nothing else, and
 * every nested open is refused, so no demuxer can be talked into opening
 * another file or a URL.
 *
 * FFmpeg holds the decoded frame whole; before it gets to allocate it we
 * check the dimensions in the file's header against lim.max_pixels (and
 * the decoder's max_pixels does the same from inside). Conversion to
 * luminance then streams a few rows at a time.
 *
 * A lossy WebP is yuv420p. The reference hashes came from ImageMagick,
 * which decodes WebP with libwebp, so we convert it the way libwebp does
 * ("fancy" chroma upsampling and libwebp's fixed-point BT.601 formula),
 * written here from the arithmetic; swscale gets within 12 levels only.
 * Everything else goes through libswscale to RGB24, or GRAY8 for grey
 * sources. Alpha is dropped, never composited.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "media/avimage.h"
#include "media/avio.h"
#include "core/err.h"
#include "media/exif.h"
#include "media/luma.h"

enum {
	CHUNK_ROWS = 16,
	MAX_PACKETS = 64,	/* packets read while waiting for a frame */
};

static const char format_whitelist[] = "webp_pipe,gif,bmp_pipe,tiff_pipe";
static const char codec_whitelist[] = "webp,gif,bmp,tiff";

struct kind {
	enum dz_image_format format;
	const char *name;	/* for messages */
	const char *demuxer;
	enum AVCodecID codec;
};

static const struct kind kinds[] = {
	{ DZ_IMG_WEBP, "WebP", "webp_pipe", AV_CODEC_ID_WEBP },
	{ DZ_IMG_GIF, "GIF", "gif", AV_CODEC_ID_GIF },
	{ DZ_IMG_BMP, "BMP", "bmp_pipe", AV_CODEC_ID_BMP },
	{ DZ_IMG_TIFF, "TIFF", "tiff_pipe", AV_CODEC_ID_TIFF },
};

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

/* lib/ never prints: silence FFmpeg's log once, for the whole process. */
static void
quiet(void)
{
	av_log_set_level(AV_LOG_QUIET);
}

static unsigned
le16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static const struct kind *
sniff(const uint8_t *b, size_t len)
{
	if (len >= 12 && memcmp(b, "RIFF", 4) == 0 &&
	    memcmp(b + 8, "WEBP", 4) == 0)
		return &kinds[0];
	if (len >= 6 && (memcmp(b, "GIF87a", 6) == 0 ||
	    memcmp(b, "GIF89a", 6) == 0))
		return &kinds[1];
	if (len >= 2 && b[0] == 'B' && b[1] == 'M')
		return &kinds[2];
	if (len >= 4 && (memcmp(b, "II*\0", 4) == 0 ||
	    memcmp(b, "MM\0*", 4) == 0))
		return &kinds[3];
	return NULL;
}

/*
 * WebP: the RIFF chunks must all lie inside the file (FFmpeg's VP8 decoder
 * would otherwise decode a cut file into made-up rows). Sets *exif to the
 * EXIF chunk if there is one. Returns 0, or -1 with err filled.
 */
static int
webp_check(const uint8_t *b, size_t len, const uint8_t **exif,
    size_t *nexif, struct dz_err *err)
{
	size_t end, pos;
	uint32_t riff = le32(b + 4);

	if (riff < 4 || riff > len - 8 || (size_t)riff + 8 > len)
		return dz_err_set(err, EX_DATAERR, riff < 4 ?
		    "corrupt WebP data: bad RIFF size" : "truncated WebP data");
	end = (size_t)riff + 8;
	for (pos = 12; pos < end;) {
		size_t n;

		if (end - pos < 8)
			return dz_err_set(err, EX_DATAERR,
			    "truncated WebP data");
		n = le32(b + pos + 4);
		if (n > end - pos - 8)
			return dz_err_set(err, EX_DATAERR,
			    "truncated WebP data");
		if (memcmp(b + pos, "EXIF", 4) == 0 && !*exif) {
			*exif = b + pos + 8;
			*nexif = n;
		}
		pos += 8 + n + (n & 1);
	}
	return 0;
}

/*
 * GIF: walk the blocks up to the end of the first image's data, so a cut
 * file is called truncated (FFmpeg would decode what is there).
 */
static int
gif_check(const uint8_t *b, size_t len, struct dz_err *err)
{
	size_t pos = 13;

	if (len < 13)
		return dz_err_set(err, EX_DATAERR, "truncated GIF data");
	if (b[10] & 0x80)
		pos += (size_t)3 << ((b[10] & 7) + 1);
	for (;;) {
		int image = 0;

		if (pos >= len)
			return dz_err_set(err, EX_DATAERR,
			    "truncated GIF data");
		switch (b[pos++]) {
		case 0x21:	/* extension: label, then sub-blocks */
			pos++;
			break;
		case 0x2c:	/* image: descriptor, colour table, LZW size */
			if (len - pos < 9)
				return dz_err_set(err, EX_DATAERR,
				    "truncated GIF data");
			if (b[pos + 8] & 0x80)
				pos += (size_t)3 << ((b[pos + 8] & 7) + 1);
			pos += 9 + 1;
			image = 1;
			break;
		case 0x3b:
			return dz_err_set(err, EX_DATAERR,
			    "GIF data holds no image");
		default:
			return dz_err_set(err, EX_DATAERR,
			    "corrupt GIF data: unknown block");
		}
		for (;;) {	/* sub-blocks, up to the empty one */
			if (pos >= len)
				return dz_err_set(err, EX_DATAERR,
				    "truncated GIF data");
			if (b[pos] == 0)
				break;
			pos += 1 + (size_t)b[pos];
		}
		pos++;
		if (image)
			return 0;
	}
}

/* TIFF: ImageWidth and ImageLength from IFD0, SHORT or LONG. */
static int
tiff_size(const uint8_t *b, size_t len, uint64_t *w, uint64_t *h)
{
	int le = b[0] == 'I';
	size_t ifd, n, pos;
	int found = 0;

#define G16(p) (le ? le16(p) : (unsigned)(p)[0] << 8 | (p)[1])
#define G32(p) (le ? le32(p) : (uint32_t)(p)[0] << 24 | \
    (uint32_t)(p)[1] << 16 | (uint32_t)(p)[2] << 8 | (p)[3])
	if (len < 8)
		return -1;
	ifd = G32(b + 4);
	if (ifd > len || len - ifd < 2)
		return -1;
	n = G16(b + ifd);
	pos = ifd + 2;
	for (size_t i = 0; i < n && len - pos >= 12; i++, pos += 12) {
		unsigned tag = G16(b + pos), type = G16(b + pos + 2);
		uint64_t v;

		if (tag != 256 && tag != 257)
			continue;
		if (type == 3)
			v = G16(b + pos + 8);
		else if (type == 4)
			v = G32(b + pos + 8);
		else
			continue;
		*(tag == 256 ? w : h) = v;
		found |= tag == 256 ? 1 : 2;
	}
#undef G16
#undef G32
	return found == 3 ? 0 : -1;
}

/*
 * The size the header claims, so a huge image is refused before FFmpeg
 * allocates it. Returns -1 when the header is too short to tell; the
 * decoder's own max_pixels check still applies then.
 */
static int
header_size(const struct kind *k, const uint8_t *b, size_t len,
    uint64_t *w, uint64_t *h)
{
	switch (k->format) {
	case DZ_IMG_WEBP:
		if (len < 30)
			return -1;
		if (memcmp(b + 12, "VP8X", 4) == 0) {
			*w = 1 + (uint64_t)(le32(b + 24) & 0xffffff);
			*h = 1 + (uint64_t)(le32(b + 27) & 0xffffff);
		} else if (memcmp(b + 12, "VP8 ", 4) == 0) {
			*w = le16(b + 26) & 0x3fff;
			*h = le16(b + 28) & 0x3fff;
		} else if (memcmp(b + 12, "VP8L", 4) == 0) {
			uint32_t v = le32(b + 21);

			*w = 1 + (v & 0x3fff);
			*h = 1 + (v >> 14 & 0x3fff);
		} else {
			return -1;
		}
		return 0;
	case DZ_IMG_GIF:
		if (len < 10)
			return -1;
		*w = le16(b + 6);
		*h = le16(b + 8);
		return 0;
	case DZ_IMG_BMP:
		if (len < 26)
			return -1;
		if (le32(b + 14) == 12) {
			*w = le16(b + 18);
			*h = le16(b + 20);
		} else {
			int64_t sw = (int32_t)le32(b + 18);
			int64_t sh = (int32_t)le32(b + 22);

			*w = (uint64_t)(sw < 0 ? -sw : sw);
			*h = (uint64_t)(sh < 0 ? -sh : sh);
		}
		return 0;
	case DZ_IMG_TIFF:
		return tiff_size(b, len, w, h);
	default:
		return -1;
	}
}

/* What every FFmpeg failure becomes. */
static int
av_fail(struct dz_err *err, int ret, const struct kind *k,
    const struct dz_image_opts *o)
{
	switch (ret) {
	case AVERROR(ENOMEM):
		return dz_err_set(err, EX_SOFTWARE, "out of memory decoding %s",
		    k->name);
	case AVERROR(EINVAL):
		/* What av_image_check_size2() says, under max_pixels too. */
		return dz_err_set(err, EX_DATAERR,
		    "bad %s dimensions, or image over the limit of %llu pixels",
		    k->name, (unsigned long long)o->lim.max_pixels);
	case AVERROR_EOF:
		return dz_err_set(err, EX_DATAERR, "truncated %s data",
		    k->name);
	case AVERROR_PATCHWELCOME:
	case AVERROR(ENOSYS):
		return dz_err_set(err, EX_DATAERR, "unsupported %s variant",
		    k->name);
	default:
		return dz_err_set(err, EX_DATAERR, "corrupt %s data", k->name);
	}
}

/*
 * libwebp's YUV to RGB, from its arithmetic: BT.601 limited range,
 * R = 1.164 (Y-16) + 1.596 (V-128), G = 1.164 (Y-16) - 0.391 (U-128)
 * - 0.813 (V-128), B = 1.164 (Y-16) + 2.018 (U-128), with the coefficients
 * in 14-bit fixed point (1.164 = 19077/16384 ...), each product shifted
 * down by 8, the offsets folded into one constant with a rounding half
 * (1 << 5) added, and the sum shifted down by the remaining 6 bits and
 * clamped to 0..255.
 */
static inline uint8_t
clamp6(int v)
{
	return v < 0 ? 0 : v > 16383 ? 255 : (uint8_t)(v >> 6);
}

static inline int
mulhi(int v, int c)
{
	return (v * c) >> 8;
}

static inline void
webp_rgb(uint8_t *rgb, int y, int u, int v)
{
	int yy = mulhi(y, 19077);

	rgb[0] = clamp6(yy + mulhi(v, 26149) - 14234);
	rgb[1] = clamp6(yy - mulhi(u, 6419) - mulhi(v, 13320) + 8708);
	rgb[2] = clamp6(yy + mulhi(u, 33050) - 17685);
}

/*
 * libwebp's "fancy" chroma upsampling for one output row: each output
 * pixel's chroma is close to (9 a + 3 b + 3 c + d + 8) / 16, with a the
 * nearest chroma sample, b and c the next ones across and down, d the
 * diagonal one, computed in libwebp's two rounding steps (a diagonal mean
 * first, then the mean with the nearest sample). near is the chroma row
 * nearest the output row, far the other one (the same row at the top and
 * bottom edges). The first column, and the last when w is even, only mix
 * vertically: (3 near + far + 2) / 4.
 */
static void
webp_upsample(uint8_t *out, const uint8_t *near, const uint8_t *far, int w)
{
	int pairs = (w - 1) >> 1;

	out[0] = (uint8_t)((3 * near[0] + far[0] + 2) >> 2);
	for (int x = 1; x <= pairs; x++) {
		int a = near[x - 1], b = near[x], c = far[x - 1], e = far[x];
		int sum = a + b + c + e + 8;
		int diag_bc = (sum + 2 * (b + c)) >> 3;	/* weights 1 3 3 1 */
		int diag_ae = (sum + 2 * (a + e)) >> 3;	/* weights 3 1 1 3 */

		out[2 * x - 1] = (uint8_t)((diag_bc + a) >> 1);
		out[2 * x] = (uint8_t)((diag_ae + b) >> 1);
	}
	if (!(w & 1)) {
		int cw = (w + 1) / 2;

		out[w - 1] = (uint8_t)((3 * near[cw - 1] + far[cw - 1] + 2) >> 2);
	}
}

struct conv {
	int rows;		/* rows per push: CHUNK_ROWS, or h if less */
	uint8_t *pix;		/* that many rows of RGB24 or GRAY8 */
	uint8_t *u, *v;		/* one upsampled chroma row each */
	uint16_t *wide;		/* one row of RGB48 or GRAY16 */
	uint8_t *whole;		/* swscale of a vertically subsampled frame */
	float *luma;
	struct SwsContext *sws;
};

static int
push(struct conv *c, int w, int n, int grey, struct dz_luma_sink *sink,
    struct dz_err *err)
{
	if (grey)
		dz_luma_from_grey(c->luma, c->pix, (size_t)n * (size_t)w);
	else
		dz_luma_from_rgb(c->luma, c->pix, (size_t)n * (size_t)w);
	return sink->rows(sink->ctx, c->luma, n, err);
}

/*
 * 16 bits to 8 as ImageMagick's ScaleQuantumToChar() and libpng's
 * png_set_scale_16 do it (the nearest value, v / 257 rounded), so a 16-bit
 * TIFF gives what a 16-bit PNG of the same pixels gives.
 */
static void
narrow16(uint8_t *out, const uint16_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = in[i] + 128u;

		out[i] = (uint8_t)((v - (v >> 8)) >> 8);
	}
}

static int
emit_webp_yuv(struct conv *c, const AVFrame *f, struct dz_luma_sink *sink,
    struct dz_err *err)
{
	int w = f->width, h = f->height, ch = (h + 1) / 2, n = 0;

	for (int y = 0; y < h; y++) {
		const uint8_t *yr = f->data[0] + (ptrdiff_t)y * f->linesize[0];
		int near, far;
		uint8_t *rgb = c->pix + (size_t)n * (size_t)w * 3;

		if (y == 0) {
			near = far = 0;
		} else if (y & 1) {
			near = (y - 1) / 2;
			far = (y + 1) / 2 < ch ? (y + 1) / 2 : ch - 1;
		} else {
			near = y / 2;
			far = y / 2 - 1;
		}
		webp_upsample(c->u,
		    f->data[1] + (ptrdiff_t)near * f->linesize[1],
		    f->data[1] + (ptrdiff_t)far * f->linesize[1], w);
		webp_upsample(c->v,
		    f->data[2] + (ptrdiff_t)near * f->linesize[2],
		    f->data[2] + (ptrdiff_t)far * f->linesize[2], w);
		for (int x = 0; x < w; x++)
			webp_rgb(rgb + 3 * x, yr[x], c->u[x], c->v[x]);
		if (++n == c->rows || y == h - 1) {
			if (push(c, w, n, 0, sink, err) < 0)
				return -1;
			n = 0;
		}
	}
	return 0;
}

/* Does any component have more than 8 bits? */
static int
is_wide(const AVPixFmtDescriptor *d)
{
	for (int i = 0; i < d->nb_components; i++)
		if (d->comp[i].depth > 8)
			return 1;
	return 0;
}

/*
 * Through libswscale to RGB24 or GRAY8, or for deeper sources to RGB48 or
 * GRAY16 and then down to 8 bits with narrow16() (swscale's own 16 to 8
 * bit step neither rounds nor truncates).
 */
static int
emit_sws(struct conv *c, const AVFrame *f, int grey,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_err *err)
{
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(f->format);
	int wide = is_wide(desc);
	enum AVPixelFormat dst = grey ?
	    (wide ? AV_PIX_FMT_GRAY16 : AV_PIX_FMT_GRAY8) :
	    (wide ? AV_PIX_FMT_RGB48 : AV_PIX_FMT_RGB24);
	int flags = SWS_BICUBIC | SWS_FULL_CHR_H_INT | SWS_ACCURATE_RND |
	    SWS_BITEXACT;
	int w = f->width, h = f->height;
	size_t nsamp = (size_t)w * (grey ? 1 : 3);
	size_t dstrow = nsamp * (wide ? 2 : 1);

	if (wide) {
		c->wide = malloc(dstrow + DZ_SWS_SLACK);
		if (!c->wide)
			return dz_err_set(err, EX_SOFTWARE,
			    "out of memory converting pixels");
	}
	if (desc->log2_chroma_h == 0) {
		/* Rows are independent: convert them one at a time. */
		int pal = (desc->flags & AV_PIX_FMT_FLAG_PAL) != 0;

		c->sws = sws_getContext(w, 1, f->format, w, 1, dst, flags,
		    NULL, NULL, NULL);
		if (!c->sws)
			return dz_err_set(err, EX_SOFTWARE,
			    "cannot convert pixel format %s", desc->name);
		for (int y = 0, n = 0; y < h; y++) {
			const uint8_t *src[4] = { NULL };
			uint8_t *row = c->pix + (size_t)n * nsamp;
			uint8_t *dstp[4] = { wide ? (uint8_t *)c->wide : row };
			int dstride[4] = { (int)dstrow };

			for (int i = 0; i < 4 && f->data[i]; i++)
				src[i] = pal && i == 1 ? f->data[i] :
				    f->data[i] + (ptrdiff_t)y * f->linesize[i];
			if (sws_scale(c->sws, src, f->linesize, 0, 1, dstp,
			    dstride) != 1)
				return dz_err_set(err, EX_SOFTWARE,
				    "pixel format conversion failed");
			if (wide)
				narrow16(row, c->wide, nsamp);
			if (++n == c->rows || y == h - 1) {
				if (push(c, w, n, grey, sink, err) < 0)
					return -1;
				n = 0;
			}
		}
		return 0;
	}

	/* Chroma shared between rows: convert the frame whole. */
	if ((uint64_t)dstrow * (uint64_t)h > o->lim.max_memory)
		return dz_err_set(err, EX_DATAERR,
		    "image too large: %dx%d needs more memory than the limit",
		    w, h);
	c->whole = malloc(dstrow * (size_t)h + DZ_SWS_SLACK);
	c->sws = sws_getContext(w, h, f->format, w, h, dst, flags, NULL, NULL,
	    NULL);
	if (!c->whole || !c->sws)
		return dz_err_set(err, EX_SOFTWARE, "out of memory converting pixels");
	{
		uint8_t *dstp[4] = { c->whole };
		int dstride[4] = { (int)dstrow };

		if (sws_scale(c->sws, (const uint8_t *const *)f->data,
		    f->linesize, 0, h, dstp, dstride) != h)
			return dz_err_set(err, EX_SOFTWARE,
			    "pixel format conversion failed");
	}
	for (int y = 0; y < h; y += c->rows) {
		int n = h - y < c->rows ? h - y : c->rows;
		const uint8_t *src = c->whole + (size_t)y * dstrow;

		if (wide)
			narrow16(c->pix, (const uint16_t *)(const void *)src,
			    (size_t)n * nsamp);
		else
			memcpy(c->pix, src, (size_t)n * nsamp);
		if (push(c, w, n, grey, sink, err) < 0)
			return -1;
	}
	return 0;
}

/* Grey sources (GRAY8/16, YA8, monochrome) give grey values. */
static int
is_grey(enum AVPixelFormat fmt)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);

	return d && !(d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_RGB)) &&
	    d->nb_components <= 2;
}

struct av {
	struct dz_avio in;
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	struct conv conv;
};

static int
decode_first_frame(struct av *a, const uint8_t *buf, size_t len,
    const struct kind *k, const struct dz_image_opts *o, struct dz_err *err)
{
	const AVInputFormat *ifmt = av_find_input_format(k->demuxer);
	const AVCodec *codec;
	AVDictionary *opts = NULL;
	int ret;

	if (!ifmt || !(codec = avcodec_find_decoder(k->codec)))
		return dz_err_set(err, EX_SOFTWARE,
		    "this FFmpeg cannot decode %s", k->name);

	if (av_dict_set(&opts, "probesize", "32", 0) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	ret = dz_avio_open(&a->in, buf, len, ifmt, format_whitelist,
	    codec_whitelist, &opts);
	av_dict_free(&opts);
	a->fmt = a->in.fmt;
	if (ret < 0)
		return av_fail(err, ret, k, o);
	if (a->fmt->nb_streams < 1)
		return dz_err_set(err, EX_DATAERR, "%s data holds no image",
		    k->name);

	a->dec = avcodec_alloc_context3(codec);
	if (!a->dec)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	ret = avcodec_parameters_to_context(a->dec,
	    a->fmt->streams[0]->codecpar);
	if (ret < 0)
		return av_fail(err, ret, k, o);
	a->dec->max_pixels = o->lim.max_pixels > INT64_MAX ? INT64_MAX :
	    (int64_t)o->lim.max_pixels;
	a->dec->thread_count = 1;
	/*
	 * Stop at damage rather than conceal it, except in TIFF, where
	 * "explode" also refuses every tag FFmpeg does not know (even
	 * Orientation).
	 */
	if (k->format != DZ_IMG_TIFF)
		a->dec->err_recognition |= AV_EF_EXPLODE;
	a->dec->codec_whitelist = av_strdup(codec_whitelist);
	if (!a->dec->codec_whitelist)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	ret = avcodec_open2(a->dec, codec, NULL);
	if (ret < 0)
		return av_fail(err, ret, k, o);

	a->pkt = av_packet_alloc();
	a->frame = av_frame_alloc();
	if (!a->pkt || !a->frame)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	for (int i = 0; i < MAX_PACKETS; i++) {
		ret = av_read_frame(a->fmt, a->pkt);
		if (ret == AVERROR_EOF) {
			/* Whatever the decoder still holds. */
			ret = avcodec_send_packet(a->dec, NULL);
			if (ret < 0)
				return av_fail(err, ret, k, o);
			ret = avcodec_receive_frame(a->dec, a->frame);
			if (ret == 0)
				return 0;
			return av_fail(err, ret == AVERROR(EAGAIN) ?
			    AVERROR_EOF : ret, k, o);
		}
		if (ret < 0)
			return av_fail(err, ret, k, o);
		if (a->pkt->stream_index != 0) {
			av_packet_unref(a->pkt);
			continue;
		}
		ret = avcodec_send_packet(a->dec, a->pkt);
		av_packet_unref(a->pkt);
		if (ret < 0 && ret != AVERROR(EAGAIN))
			return av_fail(err, ret, k, o);
		ret = avcodec_receive_frame(a->dec, a->frame);
		if (ret == 0)
			return 0;
		if (ret != AVERROR(EAGAIN))
			return av_fail(err, ret, k, o);
	}
	return dz_err_set(err, EX_DATAERR, "%s data holds no image", k->name);
}

static void
av_release(struct av *a)
{
	av_frame_free(&a->frame);
	av_packet_free(&a->pkt);
	avcodec_free_context(&a->dec);
	dz_avio_close(&a->in);
	a->fmt = NULL;
	sws_freeContext(a->conv.sws);
	free(a->conv.pix);
	free(a->conv.u);
	free(a->conv.v);
	free(a->conv.whole);
	free(a->conv.wide);
	free(a->conv.luma);
}

static int
decode(struct av *a, const uint8_t *buf, size_t len,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_image_info *info, struct dz_err *err)
{
	const struct kind *k = sniff(buf, len);
	const uint8_t *exif = NULL;
	size_t nexif = 0;
	uint64_t hw = 0, hh = 0;
	const AVFrame *f;
	int w, h, grey, webp_yuv;

	if (!k)
		return dz_err_set(err, EX_DATAERR, len ? "unknown image format" :
		    "empty image data");
	info->format = k->format;
	if (k->format == DZ_IMG_WEBP &&
	    webp_check(buf, len, &exif, &nexif, err) < 0)
		return -1;
	if (k->format == DZ_IMG_GIF && gif_check(buf, len, err) < 0)
		return -1;
	if (header_size(k, buf, len, &hw, &hh) == 0) {
		info->width = hw > INT32_MAX ? INT32_MAX : (int)hw;
		info->height = hh > INT32_MAX ? INT32_MAX : (int)hh;
		if (hw != 0 && hh > o->lim.max_pixels / hw)
			return dz_err_set(err, EX_DATAERR,
			    "image too large: %llux%llu pixels exceeds limit "
			    "%llu", (unsigned long long)hw,
			    (unsigned long long)hh,
			    (unsigned long long)o->lim.max_pixels);
		/* FFmpeg holds the frame whole, at up to 8 bytes a pixel. */
		if (hw != 0 && hh > o->lim.max_memory / 8 / hw)
			return dz_err_set(err, EX_DATAERR,
			    "image too large: %llux%llu needs more memory "
			    "than the limit", (unsigned long long)hw,
			    (unsigned long long)hh);
	}
	if (o->orient) {
		if (exif) {
			if (nexif >= 6 && memcmp(exif, "Exif\0", 6) == 0) {
				exif += 6;
				nexif -= 6;
			}
			info->orientation = dz_exif_orientation(exif, nexif);
		} else if (k->format == DZ_IMG_TIFF) {
			info->orientation = dz_exif_orientation(buf, len);
		}
	}

	if (decode_first_frame(a, buf, len, k, o, err) < 0)
		return -1;
	f = a->frame;
	w = f->width;
	h = f->height;
	info->width = w;
	info->height = h;
	if (w <= 0 || h <= 0)
		return dz_err_set(err, EX_DATAERR, "corrupt %s data: no pixels",
		    k->name);
	if ((uint64_t)w * (uint64_t)h > o->lim.max_pixels)
		return dz_err_set(err, EX_DATAERR,
		    "image too large: %dx%d pixels exceeds limit %llu", w, h,
		    (unsigned long long)o->lim.max_pixels);
	if ((f->flags & AV_FRAME_FLAG_CORRUPT) || f->decode_error_flags)
		return dz_err_set(err, EX_DATAERR, "corrupt %s data", k->name);
	if (!av_pix_fmt_desc_get(f->format))
		return dz_err_set(err, EX_SOFTWARE, "unknown pixel format");

	webp_yuv = k->format == DZ_IMG_WEBP &&
	    (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVA420P);
	grey = !webp_yuv && is_grey(f->format);
	/* No more rows than the image has: a very wide image is short. */
	a->conv.rows = h < CHUNK_ROWS ? h : CHUNK_ROWS;
	a->conv.pix = malloc((size_t)w * (size_t)a->conv.rows * 3 +
	    DZ_SWS_SLACK);
	a->conv.luma = malloc((size_t)w * (size_t)a->conv.rows *
	    sizeof *a->conv.luma);
	a->conv.u = malloc((size_t)w);
	a->conv.v = malloc((size_t)w);
	if (!a->conv.pix || !a->conv.luma || !a->conv.u || !a->conv.v)
		return dz_err_set(err, EX_SOFTWARE, "out of memory converting pixels");

	if (sink->begin(sink->ctx, w, h, info->orientation, err) < 0)
		return -1;
	if (webp_yuv)
		return emit_webp_yuv(&a->conv, f, sink, err);
	return emit_sws(&a->conv, f, grey, o, sink, err);
}

int
dz_avimage_decode(const uint8_t *buf, size_t len,
    const struct dz_image_opts *o, struct dz_luma_sink *sink,
    struct dz_image_info *info, struct dz_err *err)
{
	struct av a;
	int rc;

	pthread_once(&quiet_once, quiet);
	dz_image_info_init(info, DZ_IMG_UNKNOWN);
	memset(&a, 0, sizeof a);
	rc = decode(&a, buf, len, o, sink, info, err);
	av_release(&a);
	return rc;
}
