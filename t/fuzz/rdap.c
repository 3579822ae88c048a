/*
 * t/fuzz/rdap.c: what dz-notify reads from the network and from
 * submissions (lib/notice/resolve, lib/notice/provider): an HTTP/1.1 answer
 * (dz_resolve_parse_http, fed all at once and, as it arrives from a
 * socket, a few bytes at a time: both must agree), its body as RDAP JSON
 * (dz_resolve_parse_rdap), and the input as a URL (dz_url_host) and as
 * an e-mail address (dz_resolve_email_ok, dz_provider_address_ok).
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "notice/provider.h"
#include "notice/resolve.h"

#include "fuzz.h"

#define FZ_MAX_BODY 8192

/* All at once (as if the peer had closed), or in pieces. */
static int
http(const char *buf, size_t size, int pieces, struct dz_http_answer *a)
{
	struct dz_err err;
	size_t len = 0;
	int rc;

	memset(a, 0, sizeof *a);
	if (!pieces)
		return dz_resolve_parse_http(buf, size, 1, FZ_MAX_BODY, a,
		    &err);
	do {
		size_t step = 1 + (len < size ? (unsigned char)buf[len] % 13 :
		    0);

		len = size - len < step ? size : len + step;
		rc = dz_resolve_parse_http(buf, len, len == size, FZ_MAX_BODY,
		    a, &err);
		if (rc == 1 && len == size)
			fz_fail("dz_resolve_parse_http wants more after eof");
	} while (rc == 1);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dz_http_answer whole, piecewise;
	struct dz_resolved r;
	struct dz_err err;
	char *s = fz_strndup(data, size);
	char host[DZ_HOST_MAX + 1];
	int rc1, rc2;

	rc1 = http(s, size, 0, &whole);
	rc2 = http(s, size, 1, &piecewise);
	if (rc1 != rc2)
		fz_fail("an HTTP answer parses differently in pieces");
	if (rc1 == 0) {
		if (whole.status != piecewise.status ||
		    strcmp(whole.location, piecewise.location) ||
		    whole.len != piecewise.len ||
		    (!whole.body) != (!piecewise.body) ||
		    (whole.body && memcmp(whole.body, piecewise.body,
		    whole.len)))
			fz_fail("an HTTP answer reads differently in pieces");
		if (whole.body && whole.len > FZ_MAX_BODY)
			fz_fail("an HTTP body over the limit");
		if (whole.body) {
			memset(&r, 0, sizeof r);
			if (dz_resolve_parse_rdap(whole.body, whole.len, &r,
			    &err) == 0 && !dz_resolve_email_ok(r.abuse))
				fz_fail("an abuse address not checked");
		}
	}
	dz_resolve_http_release(&whole);
	dz_resolve_http_release(&piecewise);

	memset(&r, 0, sizeof r);
	if (dz_resolve_parse_rdap(s, size, &r, &err) == 0 &&
	    !dz_resolve_email_ok(r.abuse))
		fz_fail("an abuse address not checked");

	if (dz_url_host(s, host, sizeof host) == 0 &&
	    (strlen(host) == 0 || strlen(host) > DZ_HOST_MAX))
		fz_fail("dz_url_host gave a bad host");
	dz_resolve_email_ok(s);
	dz_provider_address_ok(s);
	free(s);
	return 0;
}
