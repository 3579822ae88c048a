/*
 * lib/media/video: decode an untrusted video held in memory, with limits, and
 * hand the frames a caller wants to a luma sink.
 *
 * Input goes through lib/media/avio: our AVIOContext over the buffer, the
 * demuxers of DZ_VIDEO_FORMATS and the decoders of DZ_VIDEO_CODECS only,
 * no protocol, every nested open refused (an HLS or concat playlist, an
 * MP4 data reference, an AVI subtitle stream holding a playlist). Only
 * the best video stream is read; audio, subtitles and the rest are
 * discarded before decoding. Limits (struct dz_video_limits): streams,
 * pixels per frame, duration, frames decoded, wall-clock decode time.
 *
 * Frames are numbered in presentation order from 0, from their
 * timestamps and the stream's frame rate (a frame without a timestamp
 * takes the next number). For each frame the sink's want() says whether
 * it is needed; only those are converted, with libswscale (SWS_AREA) to
 * RGB24 at full size as the vPDQ reference does, then to luminance rows.
 * With skip_unwanted, frames that no later frame needs as a reference
 * (non-reference frames, where the codec marks them) and that are not
 * wanted are not decoded at all.
 *
 * May use: core/ (err); media/ (avio, luma); FFmpeg.
 */
#ifndef DZ_VIDEO_H
#define DZ_VIDEO_H

#include <stddef.h>
#include <stdint.h>

struct dz_err;
struct dz_luma_sink;

#define DZ_VIDEO_FORMATS "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv," \
	"mpegts,mpeg,ogg,asf"
/* FFmpeg's decoder names: MS-MPEG4 v3 (DivX 3) is decoded by "msmpeg4". */
#define DZ_VIDEO_CODECS "h264,hevc,vp8,vp9,av1,libdav1d,mpeg4,mpeg2video," \
	"mpeg1video,mjpeg,h263,flv,theora,wmv1,wmv2,wmv3,vc1,msmpeg4"

struct dz_video_limits {
	int max_streams;		/* 16 */
	uint64_t max_pixels;		/* per frame: 8192 x 4352 */
	double max_seconds;		/* of video: 4 hours */
	uint64_t max_frames;		/* decoded: 1,000,000 */
	double max_decode_seconds;	/* wall clock: 600 */
};

void dz_video_limits_default(struct dz_video_limits *l);

struct dz_video_info {
	char container[32];		/* "mov,mp4,...": FFmpeg's demuxer */
	char codec[32];			/* "h264" */
	int width, height;		/* of the first frame */
	double fps;			/* frames per second */
	double duration;		/* seconds, from the last frame seen */
	uint64_t frames;		/* frames decoded */
	uint64_t skipped;		/* frames not decoded (skip_unwanted) */
	int nested_opens;		/* refused */
};

struct dz_video_sink {
	/* Is frame n (at t seconds) needed? */
	int (*want)(void *ctx, int64_t n, double t);
	/* Then its luminance goes to luma (begin, rows), then done(). */
	struct dz_luma_sink *luma;
	int (*done)(void *ctx, int64_t n, double t, struct dz_err *err);
	void *ctx;
};

/*
 * Decode buf[0..len). Returns 0, or -1 with err: EX_DATAERR for anything
 * wrong with the data (not a video we read, corrupt, truncated, over a
 * limit, a nested open attempted), EX_SOFTWARE for our own failures.
 */
int dz_video_decode(const uint8_t *buf, size_t len,
    const struct dz_video_limits *lim, int skip_unwanted,
    struct dz_video_sink *sink, struct dz_video_info *info,
    struct dz_err *err);

#endif
