/*
 * t/fuzz/video.c: a video through lib/media/media's sniffing, then lib/hash/vpdq
 * (lib/media/video's demuxing and decoding behind lib/media/avio, PDQ per second),
 * with limits small enough that one input takes a fraction of a second.
 * The signature must survive its JSON form (lib/hash/vpdqsig) unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "media/media.h"
#include "hash/vpdq.h"

#include "fuzz.h"

static void
same_signature(const struct dz_vpdqsig *a, const struct dz_vpdqsig *b)
{
	if (a->n != b->n)
		fz_fail("vpdq JSON round trip changed the frame count");
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].frame != b->v[i].frame ||
		    a->v[i].quality != b->v[i].quality ||
		    memcmp(&a->v[i].hash, &b->v[i].hash, sizeof a->v[i].hash))
			fz_fail("vpdq JSON round trip changed a frame");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dz_vpdq_opts o;
	struct dz_vpdqsig sig, back;
	struct dz_video_info info;
	struct dz_err err;
	const char *mime;
	json_t *j;

	mime = dz_media_sniff(data, size);
	if (mime && !strchr(mime, '/'))
		fz_fail("malformed MIME type");

	dz_vpdq_opts_default(&o);
	o.lim.max_streams = 8;
	o.lim.max_pixels = 320 * 240;
	o.lim.max_seconds = 600;
	o.lim.max_frames = 300;
	o.lim.max_decode_seconds = 3;
	dz_err_clear(&err);
	if (dz_vpdq_hash(data, size, &o, &sig, &info, &err) != 0) {
		if (err.code == 0 || err.msg[0] == '\0')
			fz_fail("failure without a reason");
		return 0;
	}
	if (info.frames == 0 || info.frames > o.lim.max_frames ||
	    info.width <= 0 || info.height <= 0 ||
	    (uint64_t)info.width * (uint64_t)info.height > o.lim.max_pixels)
		fz_fail("video info out of the limits");
	for (size_t i = 0; i < sig.n; i++)
		if (sig.v[i].quality < 0 || sig.v[i].quality > 100)
			fz_fail("frame quality out of range");

	if (sig.n == 0)
		fz_fail("an empty signature and no error");
	if (!(j = dz_vpdqsig_to_json(&sig)))
		fz_fail("dz_vpdqsig_to_json failed");
	memset(&back, 0, sizeof back);
	if (dz_vpdqsig_from_json(j, &back, sig.n, &err) != 0)
		fz_fail("a signature's own JSON does not parse");
	same_signature(&sig, &back);
	json_decref(j);
	dz_vpdqsig_release(&back);
	dz_vpdqsig_release(&sig);
	return 0;
}
