/*
 * lib/media/avio: a locked-down libavformat input over memory. See avio.h.
 */
#include <errno.h>
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/time.h>

#include "media/avio.h"

#define IO_BUF (32 * 1024)

static int
mem_read(void *opaque, uint8_t *out, int n)
{
	struct dz_avio *m = opaque;
	size_t left = m->len - m->pos;

	if (left == 0)
		return AVERROR_EOF;
	if (n < 0)
		return AVERROR(EINVAL);
	if ((size_t)n > left)
		n = (int)left;
	memcpy(out, m->buf + m->pos, (size_t)n);
	m->pos += (size_t)n;
	return n;
}

static int64_t
mem_seek(void *opaque, int64_t off, int whence)
{
	struct dz_avio *m = opaque;
	int64_t base;

	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return (int64_t)m->len;
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)m->pos;
		break;
	case SEEK_END:
		base = (int64_t)m->len;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (off < -base || off > (int64_t)m->len - base)
		return AVERROR(EINVAL);
	m->pos = (size_t)(base + off);
	return (int64_t)m->pos;
}

/* Every nested open: refused. */
static int
deny_open(struct AVFormatContext *s, AVIOContext **pb, const char *url,
    int flags, AVDictionary **options)
{
	struct dz_avio *a = s->opaque;

	(void)url;
	(void)flags;
	(void)options;
	*pb = NULL;
	if (a)
		a->nested_opens++;
	return AVERROR(EPERM);
}

static int
interrupted(void *opaque)
{
	struct dz_avio *a = opaque;

	return a->deadline && av_gettime_relative() > a->deadline;
}

int
dz_avio_open(struct dz_avio *a, const uint8_t *buf, size_t len,
    const AVInputFormat *ifmt, const char *formats, const char *codecs,
    AVDictionary **opts)
{
	unsigned char *iobuf;
	int ret;

	a->buf = buf;
	a->len = len;
	a->pos = 0;
	a->fmt = NULL;
	a->io = NULL;
	a->nested_opens = 0;
	if (!(iobuf = av_malloc(IO_BUF)))
		return AVERROR(ENOMEM);
	a->io = avio_alloc_context(iobuf, IO_BUF, 0, a, mem_read, NULL,
	    mem_seek);
	if (!a->io) {
		av_free(iobuf);
		return AVERROR(ENOMEM);
	}
	if (!(a->fmt = avformat_alloc_context()))
		return AVERROR(ENOMEM);
	a->fmt->pb = a->io;
	a->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	a->fmt->opaque = a;
	a->fmt->io_open = deny_open;
	a->fmt->interrupt_callback.callback = interrupted;
	a->fmt->interrupt_callback.opaque = a;
	a->fmt->format_whitelist = av_strdup(formats);
	a->fmt->codec_whitelist = av_strdup(codecs);
	a->fmt->protocol_whitelist = av_strdup("");
	if (!a->fmt->format_whitelist || !a->fmt->codec_whitelist ||
	    !a->fmt->protocol_whitelist)
		return AVERROR(ENOMEM);
	/* On failure this frees a->fmt, though not our AVIOContext. */
	ret = avformat_open_input(&a->fmt, "", ifmt, opts);
	if (ret < 0)
		a->fmt = NULL;
	return ret;
}

void
dz_avio_close(struct dz_avio *a)
{
	avformat_close_input(&a->fmt);
	if (a->io) {
		av_freep(&a->io->buffer);
		avio_context_free(&a->io);
	}
}
