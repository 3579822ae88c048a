/*
 * lib/media/avio: untrusted bytes in memory handed to libavformat, locked down.
 * For lib/media/avimage (stills) and lib/video.
 *
 * FFmpeg never sees a file name. It reads through our own AVIOContext
 * over the buffer; the demuxers it may pick and the codecs it may open
 * are the lists given; no protocol is allowed; and every nested open a
 * demuxer attempts (an HLS or concat playlist, an MP4 data reference, a
 * subtitle stream holding a playlist) goes to our io_open, which refuses
 * it and says so in nested_opens. A deadline, when set, interrupts any
 * blocking read.
 *
 * May use: FFmpeg.
 */
#ifndef DZ_AVIO_H
#define DZ_AVIO_H

#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

/*
 * Bytes to allocate past the end of any buffer sws_scale writes into: its
 * SIMD paths store whole vectors, a few bytes beyond the last pixel
 * (valgrind saw 16 on 720-pixel RGB24 rows).
 */
#define DZ_SWS_SLACK 64

struct dz_avio {
	const uint8_t *buf;
	size_t len, pos;
	AVIOContext *io;
	AVFormatContext *fmt;	/* after dz_avio_open */
	int nested_opens;	/* nested opens refused */
	int64_t deadline;	/* av_gettime_relative() limit; 0: none */
};

/*
 * Open buf[0..len) as a container: with ifmt NULL, probed among the
 * demuxers named in formats (a comma list of FFmpeg names); codecs is
 * the comma list of decoders any stream may use. opts are demuxer
 * options (what is used is removed). Returns 0, or a negative AVERROR
 * (a->fmt is then NULL); in both cases call dz_avio_close.
 */
int dz_avio_open(struct dz_avio *a, const uint8_t *buf, size_t len,
    const AVInputFormat *ifmt, const char *formats, const char *codecs,
    AVDictionary **opts);
void dz_avio_close(struct dz_avio *a);

#endif
