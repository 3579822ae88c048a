/*
 * t/unit/test-vpdq-tool: lib/hash/vpdq from the shell, for t/2020-hash-video.t.
 * Not a test by itself.
 *
 *   test-vpdq-tool hash [--all] [--no-skip] [--seconds S] FILE
 *	prints "frame,quality,hash,time" lines as the reference's
 *	vpdq-hash-video does (time with 3 decimals), then on stderr
 *	"frames F skipped K fps R"; --all keeps every sampled frame (no
 *	collapsing), --no-skip decodes every frame.
 * Failures print "test-vpdq-tool: <reason>" and exit with lib's code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/input.h"
#include "hash/vpdq.h"

int
main(int argc, char **argv)
{
	struct dz_vpdq_opts o;
	struct dz_video_info info;
	struct dz_vpdqsig v;
	struct dz_err err;
	uint8_t *buf;
	size_t len;
	int i;

	dz_vpdq_opts_default(&o);
	if (argc < 3 || strcmp(argv[1], "hash")) {
		fprintf(stderr, "usage: test-vpdq-tool hash [--all] [--no-skip] "
		    "[--seconds S] FILE\n");
		return 64;
	}
	for (i = 2; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--all"))
			o.collapse = -1;
		else if (!strcmp(argv[i], "--no-skip"))
			o.skip_unwanted = 0;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc - 1)
			o.seconds = atof(argv[++i]);
		else
			return 64;
	}
	if (dz_file_read(argv[argc - 1], 0, &buf, &len, &err) ||
	    dz_vpdq_hash(buf, len, &o, &v, &info, &err)) {
		fprintf(stderr, "test-vpdq-tool: %s\n", err.msg);
		return err.code;
	}
	for (size_t k = 0; k < v.n; k++) {
		char hex[65];

		dz_pdq_to_hex(&v.v[k].hash, hex);
		printf("%lld,%d,%s,%.3f\n", (long long)v.v[k].frame,
		    v.v[k].quality, hex, v.v[k].t);
	}
	fprintf(stderr, "frames %llu skipped %llu fps %g %s %s %dx%d\n",
	    (unsigned long long)info.frames,
	    (unsigned long long)info.skipped, info.fps, info.container,
	    info.codec, info.width, info.height);
	dz_vpdqsig_release(&v);
	free(buf);
	return 0;
}
