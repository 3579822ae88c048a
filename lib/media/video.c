/*
 * lib/media/video: hardened video decoding into luma sinks. See video.h.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

#include "media/avio.h"
#include "core/err.h"
#include "media/luma.h"
#include "media/video.h"

#define CHUNK_ROWS 16

void
dz_video_limits_default(struct dz_video_limits *l)
{
	l->max_streams = 16;
	l->max_pixels = 8192ULL * 4352;
	l->max_seconds = 4 * 3600.0;
	l->max_frames = 1000000;
	l->max_decode_seconds = 600;
}

struct dec {
	struct dz_avio in;
	AVCodecContext *ctx;
	AVPacket *pkt;
	AVFrame *frame;
	struct SwsContext *sws;
	uint8_t *rgb;
	size_t rgb_size;
	float *luma;
	size_t luma_size;
	int stream;
	double fps, tb;
	int64_t start;		/* timestamp of frame 0 */
	int64_t next;		/* number of the next frame without a time */
	int64_t last;		/* highest frame number seen */
	const struct dz_video_limits *lim;
	struct dz_video_sink *sink;
	struct dz_video_info *info;
	struct dz_err *err;
};

static void
quiet(void)
{
	av_log_set_level(AV_LOG_QUIET);
}

/* What an FFmpeg failure becomes. */
static int
av_fail(struct dec *d, int ret)
{
	if (d->in.nested_opens)
		return dz_err_set(d->err, EX_DATAERR, "the video asks to open "
		    "other files or URLs: refused");
	switch (ret) {
	case AVERROR(ENOMEM):
		return dz_err_set(d->err, EX_SOFTWARE,
		    "out of memory decoding the video");
	case AVERROR_EXIT:
		return dz_err_set(d->err, EX_DATAERR, "decoding took longer "
		    "than the limit of %.0f s", d->lim->max_decode_seconds);
	case AVERROR_EOF:
		return dz_err_set(d->err, EX_DATAERR, "truncated video data");
	case AVERROR_DECODER_NOT_FOUND:
	case AVERROR_DEMUXER_NOT_FOUND:
	case AVERROR_PATCHWELCOME:
	case AVERROR(ENOSYS):
		return dz_err_set(d->err, EX_DATAERR, "unsupported video format "
		    "or codec");
	case AVERROR(EPERM):
		return dz_err_set(d->err, EX_DATAERR, "the video needs something "
		    "refused (another file, a URL, a codec not allowed)");
	default:
		return dz_err_set(d->err, EX_DATAERR, "corrupt video data");
	}
}

/* Frame number of a timestamp (in the stream's time base). */
static int64_t
number_of(struct dec *d, int64_t ts)
{
	if (ts == AV_NOPTS_VALUE)
		return d->next;
	if (d->start == AV_NOPTS_VALUE)
		d->start = ts;
	return llrint((double)(ts - d->start) * d->tb * d->fps);
}

/* Convert and hand over one wanted frame. */
static int
emit(struct dec *d, const AVFrame *f, int64_t n, double t)
{
	struct dz_luma_sink *sink = d->sink->luma;
	size_t w = (size_t)f->width, h = (size_t)f->height;
	int linesize[4] = { (int)(w * 3), 0, 0, 0 };
	uint8_t *planes[4] = { NULL, NULL, NULL, NULL };

	d->sws = sws_getCachedContext(d->sws, f->width, f->height, f->format,
	    f->width, f->height, AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
	if (!d->sws)
		return dz_err_set(d->err, EX_DATAERR, "cannot convert the "
		    "video's pixel format");
	if (w * h * 3 + DZ_SWS_SLACK > d->rgb_size) {
		free(d->rgb);
		d->rgb_size = w * h * 3 + DZ_SWS_SLACK;
		if (!(d->rgb = malloc(d->rgb_size))) {
			d->rgb_size = 0;
			return dz_err_set(d->err, EX_SOFTWARE, "out of memory");
		}
	}
	if (w * CHUNK_ROWS > d->luma_size) {
		free(d->luma);
		d->luma_size = w * CHUNK_ROWS;
		if (!(d->luma = malloc(d->luma_size * sizeof *d->luma))) {
			d->luma_size = 0;
			return dz_err_set(d->err, EX_SOFTWARE, "out of memory");
		}
	}
	planes[0] = d->rgb;
	if (sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0,
	    f->height, planes, linesize) != f->height)
		return dz_err_set(d->err, EX_DATAERR, "cannot convert a frame");
	if (sink->begin(sink->ctx, f->width, f->height, 1, d->err))
		return -1;
	for (size_t y = 0; y < h; y += CHUNK_ROWS) {
		size_t rows = h - y < CHUNK_ROWS ? h - y : CHUNK_ROWS;

		dz_luma_from_rgb(d->luma, d->rgb + y * w * 3, rows * w);
		if (sink->rows(sink->ctx, d->luma, (int)rows, d->err))
			return -1;
	}
	return d->sink->done(d->sink->ctx, n, t, d->err);
}

/* Every frame the decoder has ready. */
static int
drain(struct dec *d)
{
	const struct dz_video_limits *lim = d->lim;
	int ret;

	for (;;) {
		AVFrame *f = d->frame;
		int64_t n;
		double t;

		ret = avcodec_receive_frame(d->ctx, f);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0)
			return av_fail(d, ret);
		n = number_of(d, f->best_effort_timestamp);
		if (n < 0)
			n = d->next;
		d->next = n + 1;
		if (n > d->last)
			d->last = n;
		t = (double)n / d->fps;
		if (++d->info->frames > lim->max_frames)
			return dz_err_set(d->err, EX_DATAERR, "more than %llu "
			    "frames", (unsigned long long)lim->max_frames);
		if (t > lim->max_seconds)
			return dz_err_set(d->err, EX_DATAERR, "longer than the "
			    "limit of %.0f s", lim->max_seconds);
		if (f->width <= 0 || f->height <= 0 ||
		    (uint64_t)f->width * (uint64_t)f->height > lim->max_pixels)
			return dz_err_set(d->err, EX_DATAERR, "frame over the "
			    "limit of %llu pixels",
			    (unsigned long long)lim->max_pixels);
		if (!d->info->width) {
			d->info->width = f->width;
			d->info->height = f->height;
		}
		if (t > d->info->duration)
			d->info->duration = t + 1.0 / d->fps;
		if (d->sink->want(d->sink->ctx, n, t) && emit(d, f, n, t))
			return -1;
		av_frame_unref(f);
		if (d->in.deadline && av_gettime_relative() > d->in.deadline)
			return av_fail(d, AVERROR_EXIT);
	}
}

static int
open_input(struct dec *d, const uint8_t *buf, size_t len)
{
	const struct dz_video_limits *lim = d->lim;
	AVDictionary *opts = NULL;
	const AVCodec *codec = NULL;
	AVStream *st;
	char num[32];
	int ret;

	snprintf(num, sizeof num, "%d", lim->max_streams);
	if (av_dict_set(&opts, "max_streams", num, 0) < 0 ||
	    av_dict_set(&opts, "probesize", "5000000", 0) < 0 ||
	    av_dict_set(&opts, "analyzeduration", "5000000", 0) < 0 ||
	    /* external data references are followed, so that io_open
	     * sees them and the file is refused, not half read */
	    av_dict_set(&opts, "enable_drefs", "1", 0) < 0 ||
	    av_dict_set(&opts, "use_absolute_path", "0", 0) < 0) {
		av_dict_free(&opts);
		return dz_err_set(d->err, EX_SOFTWARE, "out of memory");
	}
	d->in.deadline = av_gettime_relative() +
	    (int64_t)(lim->max_decode_seconds * 1e6);
	ret = dz_avio_open(&d->in, buf, len, NULL, DZ_VIDEO_FORMATS,
	    DZ_VIDEO_CODECS, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return ret == AVERROR_INVALIDDATA && !d->in.nested_opens ?
		    dz_err_set(d->err, EX_DATAERR, "not a video format read "
		    "here") : av_fail(d, ret);
	snprintf(d->info->container, sizeof d->info->container, "%s",
	    d->in.fmt->iformat->name);
	if (d->in.nested_opens)
		return av_fail(d, AVERROR(EPERM));
	if (d->in.fmt->nb_streams > (unsigned)lim->max_streams)
		return dz_err_set(d->err, EX_DATAERR, "more than %d streams",
		    lim->max_streams);
	/* what the header claims, before anything is decoded; and no
	 * stream of a kind nobody knows (an AVI subtitle stream carrying
	 * a file, say) */
	for (unsigned i = 0; i < d->in.fmt->nb_streams; i++) {
		const AVCodecParameters *cp = d->in.fmt->streams[i]->codecpar;

		if (cp->codec_type == AVMEDIA_TYPE_UNKNOWN)
			return dz_err_set(d->err, EX_DATAERR, "a stream of an "
			    "unknown kind: refused");
		if (cp->codec_type == AVMEDIA_TYPE_VIDEO &&
		    (uint64_t)(cp->width > 0 ? cp->width : 0) *
		    (uint64_t)(cp->height > 0 ? cp->height : 0) >
		    lim->max_pixels)
			return dz_err_set(d->err, EX_DATAERR, "frames over the "
			    "limit of %llu pixels",
			    (unsigned long long)lim->max_pixels);
	}
	/* the codec whitelist holds video decoders only: no audio or
	 * subtitle decoder is ever opened, not even to probe */
	ret = avformat_find_stream_info(d->in.fmt, NULL);
	if (ret < 0 || d->in.nested_opens)
		return av_fail(d, ret < 0 ? ret : AVERROR(EPERM));
	ret = av_find_best_stream(d->in.fmt, AVMEDIA_TYPE_VIDEO, -1, -1,
	    &codec, 0);
	if (ret < 0 || !codec)
		return dz_err_set(d->err, EX_DATAERR, ret ==
		    AVERROR_STREAM_NOT_FOUND ? "no video stream" :
		    "unsupported video codec");
	d->stream = ret;
	for (unsigned i = 0; i < d->in.fmt->nb_streams; i++)
		if ((int)i != d->stream)
			d->in.fmt->streams[i]->discard = AVDISCARD_ALL;
	st = d->in.fmt->streams[d->stream];
	if ((uint64_t)st->codecpar->width * (uint64_t)st->codecpar->height >
	    lim->max_pixels)
		return dz_err_set(d->err, EX_DATAERR, "frames over the limit of "
		    "%llu pixels", (unsigned long long)lim->max_pixels);
	snprintf(d->info->codec, sizeof d->info->codec, "%s", codec->name);
	{
		AVRational r = av_guess_frame_rate(d->in.fmt, st, NULL);

		d->fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 25.0;
		if (d->fps < 0.1 || d->fps > 1000)
			return dz_err_set(d->err, EX_DATAERR, "implausible frame "
			    "rate");
	}
	d->info->fps = d->fps;
	d->tb = av_q2d(st->time_base);
	d->start = st->start_time;
	if (!(d->ctx = avcodec_alloc_context3(codec)))
		return dz_err_set(d->err, EX_SOFTWARE, "out of memory");
	ret = avcodec_parameters_to_context(d->ctx, st->codecpar);
	if (ret < 0)
		return av_fail(d, ret);
	d->ctx->thread_count = 1;
	d->ctx->max_pixels = lim->max_pixels > INT64_MAX ? INT64_MAX :
	    (int64_t)lim->max_pixels;
	d->ctx->pkt_timebase = st->time_base;
	if (!(d->ctx->codec_whitelist = av_strdup(DZ_VIDEO_CODECS)))
		return dz_err_set(d->err, EX_SOFTWARE, "out of memory");
	ret = avcodec_open2(d->ctx, codec, NULL);
	return ret < 0 ? av_fail(d, ret) : 0;
}

static int
run(struct dec *d, const uint8_t *buf, size_t len, int skip_unwanted)
{
	int ret;

	if (open_input(d, buf, len))
		return -1;
	if (!(d->pkt = av_packet_alloc()) || !(d->frame = av_frame_alloc()))
		return dz_err_set(d->err, EX_SOFTWARE, "out of memory");
	for (;;) {
		ret = av_read_frame(d->in.fmt, d->pkt);
		if (ret == AVERROR_EOF)
			break;
		if (ret < 0)
			return av_fail(d, ret);
		if (d->pkt->stream_index != d->stream) {
			av_packet_unref(d->pkt);
			continue;
		}
		if (skip_unwanted) {
			int64_t n = d->pkt->pts == AV_NOPTS_VALUE ? -1 :
			    number_of(d, d->pkt->pts);

			d->ctx->skip_frame = n >= 0 && !d->sink->want(
			    d->sink->ctx, n, (double)n / d->fps) ?
			    AVDISCARD_NONREF : AVDISCARD_DEFAULT;
		}
		ret = avcodec_send_packet(d->ctx, d->pkt);
		av_packet_unref(d->pkt);
		if (ret < 0 && ret != AVERROR(EAGAIN) &&
		    ret != AVERROR_INVALIDDATA)
			return av_fail(d, ret);
		if (drain(d))
			return -1;
	}
	d->ctx->skip_frame = AVDISCARD_DEFAULT;
	ret = avcodec_send_packet(d->ctx, NULL);
	if (ret < 0 && ret != AVERROR_EOF)
		return av_fail(d, ret);
	if (drain(d))
		return -1;
	if (!d->info->frames)
		return dz_err_set(d->err, EX_DATAERR, "no frame could be "
		    "decoded");
	d->info->skipped = (uint64_t)(d->last + 1) > d->info->frames ?
	    (uint64_t)(d->last + 1) - d->info->frames : 0;
	return 0;
}

int
dz_video_decode(const uint8_t *buf, size_t len,
    const struct dz_video_limits *lim, int skip_unwanted,
    struct dz_video_sink *sink, struct dz_video_info *info,
    struct dz_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct dec d;
	int rc;

	pthread_once(&once, quiet);
	memset(info, 0, sizeof *info);
	memset(&d, 0, sizeof d);
	d.lim = lim;
	d.sink = sink;
	d.info = info;
	d.err = err;
	d.start = AV_NOPTS_VALUE;
	d.last = -1;
	rc = run(&d, buf, len, skip_unwanted);
	info->nested_opens = d.in.nested_opens;
	if (!rc && d.in.nested_opens)
		rc = av_fail(&d, AVERROR(EPERM));
	sws_freeContext(d.sws);
	free(d.rgb);
	free(d.luma);
	av_frame_free(&d.frame);
	av_packet_free(&d.pkt);
	avcodec_free_context(&d.ctx);
	dz_avio_close(&d.in);
	return rc;
}
