/*
 * t/unit/test-resolve-tool: lib/notice/resolve from the shell, so that
 * t/4001-resolve.t can run it against a local RDAP fixture server. Not a
 * test by itself.
 *
 *   test-resolve-tool HOST BASEURL [TIMEOUT_MS [MAX_BYTES [MAX_REDIRECTS
 *       [ALLOW_LOOPBACK]]]]
 *
 * ALLOW_LOOPBACK is 1 unless given: the fixture server is on 127.0.0.1.
 *
 * Prints "addr: ", "abuse: ", "name: " and "source: " lines on stdout.
 * Failures print "test-resolve-tool: <reason>" on stderr and exit with
 * lib's sysexits code.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "notice/resolve.h"

int
main(int argc, char **argv)
{
	struct dz_resolve_opts o = { NULL, 2000, 0, DZ_RESOLVE_MAX_REDIRECTS, 1 };
	struct dz_resolved r;
	struct dz_err err = { 0 };

	if (argc < 3 || argc > 7) {
		fputs("usage: test-resolve-tool HOST BASEURL [TIMEOUT_MS [MAX_BYTES "
		    "[MAX_REDIRECTS [ALLOW_LOOPBACK]]]]\n", stderr);
		return EX_USAGE;
	}
	o.rdap_base = argv[2];
	if (argc > 3)
		o.timeout_ms = atoi(argv[3]);
	if (argc > 4)
		o.max_bytes = strtoul(argv[4], NULL, 10);
	if (argc > 5)
		o.max_redirects = atoi(argv[5]);
	if (argc > 6)
		o.allow_loopback = atoi(argv[6]);
	if (dz_resolve_abuse(argv[1], &o, &r, &err)) {
		fprintf(stderr, "test-resolve-tool: %s\n", err.msg);
		return err.code ? err.code : EX_SOFTWARE;
	}
	printf("addr: %s\nabuse: %s\nname: %s\nsource: %s\n", r.addr, r.abuse,
	    r.name, r.source);
	return fflush(stdout) ? EX_IOERR : 0;
}
