/*
 * lib/notice/resolve: who to notify about a host that the provider directory
 * does not know. The host's first address (getaddrinfo, IPv4 or IPv6),
 * then RDAP: {base}/ip/{addr}, and when the network names no abuse
 * contact, {base}/domain/{last two labels of the host}, where the
 * registrar's abuse contact usually is. There is no public suffix list:
 * for "video.example.co.uk" the fallback asks about "co.uk" and finds
 * nothing useful. An IP address given as the host has no domain to fall
 * back on. Only a 404 or a well-formed answer without an abuse e-mail
 * leads to the fallback; a malformed answer or a failure is returned.
 *
 * HTTP/1.1 GET is done here (plain TCP for http://, TLS 1.2+ through
 * OpenSSL for https://, with the system's trust store, SNI and host name
 * checks). Every answer is untrusted: sizes are bounded, the HTTP and the
 * JSON are parsed strictly, the e-mail address is checked before use.
 * Reasons name hosts (hosting domains are not personal data), never the
 * content of an answer. Redirects go to http:// or https:// URLs only,
 * never from https to http. The bytes received for one answer are capped
 * at twice max_bytes plus 96 KiB, so chunked coding with tiny chunks can
 * fail as too large.
 *
 * Time: one deadline for a whole lookup, DZ_RESOLVE_DEADLINE_FACTOR times
 * timeout_ms: both DNS queries (each run in a thread of its own, left
 * behind if the deadline comes first), every request, every redirect and
 * the domain fallback. No wait lasts longer than timeout_ms either.
 * Nothing here touches the store: callers must not hold a transaction
 * across a lookup.
 *
 * Where: an RDAP server (the base URL, or where a redirect leads) is
 * connected to only at an address dz_resolve_addr_class finds public, on
 * port 80 or 443, checked on the address resolved, the one connected to.
 * A looked-up host at such an address is refused too (EX_DATAERR): there
 * is no abuse contact to find for it. allow_loopback lets a test server
 * on the loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) through, on
 * any port; nothing else.
 *
 * While dz_resolve_abuse runs, SIGPIPE is blocked in the calling thread
 * (a server closing early makes a write fail, not kill the program).
 *
 * May use: core/ (err); OpenSSL, jansson.
 */
#ifndef DZ_RESOLVE_H
#define DZ_RESOLVE_H

#include <stddef.h>

struct dz_err;

#define DZ_RESOLVE_BASE "https://rdap.org"	/* a bootstrap redirector */
#define DZ_RESOLVE_TIMEOUT_MS 10000
#define DZ_RESOLVE_MAX_BYTES (1u << 20)
#define DZ_RESOLVE_MAX_REDIRECTS 5
#define DZ_HTTP_HEADER_MAX 16384	/* status line and headers */

#define DZ_RESOLVE_DEADLINE_FACTOR 4

/*
 * A zeroed field (or a NULL struct) takes the default above. timeout_ms
 * bounds each wait (DNS, connect, TLS handshake, each read and write), and
 * the whole lookup, redirects and fallback included, gets
 * DZ_RESOLVE_DEADLINE_FACTOR times it: a server dripping bytes or
 * redirecting forever cannot hold the caller. A negative max_redirects
 * follows none.
 */
struct dz_resolve_opts {
	const char *rdap_base;	/* "https://rdap.org", "http://127.0.0.1:N/x" */
	int timeout_ms;
	size_t max_bytes;	/* cap on one answer's body */
	int max_redirects;	/* per request */
	int allow_loopback;	/* a test server on the loopback, any port */
};

struct dz_resolved {
	char addr[64];		/* the host's first address */
	char abuse[256];	/* the abuse e-mail address */
	char name[256];		/* the network's or contact's name, or "" */
	char source[512];	/* the RDAP URL that answered, after redirects */
};

/*
 * Find the abuse contact of host (a DNS name or an IP address). 0 with r
 * filled, or -1 with err:
 *   EX_DATAERR      invalid host name, a host at a refused address,
 *                   malformed HTTP or RDAP answer, answer
 *                   too large, invalid abuse e-mail, no abuse contact,
 *                   too many or bad redirects
 *   EX_UNAVAILABLE  cannot resolve the host, cannot connect, TLS failure,
 *                   the server refused the request, an RDAP server at a
 *                   refused address or port
 *   EX_TEMPFAIL     timeout, temporary DNS failure, HTTP 429 or 5xx
 *   EX_CONFIG       rdap_base is not an http:// or https:// URL
 *   EX_SOFTWARE     out of memory
 */
int dz_resolve_abuse(const char *host, const struct dz_resolve_opts *o,
    struct dz_resolved *r, struct dz_err *err);

/*
 * Why an address must not be connected to: "loopback", "private"
 * (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10),
 * "link-local" (169.254/16, fe80::/10), "multicast" (224/4, ff00::/8),
 * "reserved" (0/8, 240/4 and broadcast, documentation and benchmarking
 * nets, ::, 2001:db8::/32, 100::/64), or NULL for a public address. An
 * IPv6 address that carries an IPv4 one (IPv4-mapped ::ffff:0:0/96,
 * IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged by
 * the IPv4 address. Any other family is "reserved". _text takes the
 * numeric form, and says "invalid" for anything else.
 */
struct sockaddr;
const char *dz_resolve_addr_class(const struct sockaddr *sa);
const char *dz_resolve_addr_class_text(const char *ip);

/*
 * The pieces below are public so that t/unit/test-resolve can feed them
 * hostile input.
 */

struct dz_http_answer {
	int status;		/* 100..999 */
	char location[512];	/* the Location header, "" if none */
	char *body;		/* decoded, NUL-terminated, owned by a */
	size_t len;		/* its length, at most max_bytes */
	/* the parser's own progress, zero before the first call */
	size_t head_len, scanned, chunk_at, chunk_total;
	unsigned long long clen;
	int has_clen, chunked;
};

/*
 * Parse the bytes of an HTTP/1.1 answer received so far (eof: the peer
 * has closed). Call it again with the same a each time buf has grown: a,
 * zeroed before the first call, keeps the parser's progress, so the work
 * stays linear in the answer's size. Returns 1 when more bytes are
 * needed; 0 when the answer is complete (a filled, with a body for any
 * status but a redirect); -1 with err (EX_DATAERR) when it is malformed,
 * truncated, or its head is over DZ_HTTP_HEADER_MAX or its body over
 * max_bytes. Content-Length, chunked coding and reading to the end are
 * understood; a redirect (301, 302, 303, 307, 308) is complete at the end
 * of its head.
 */
int dz_resolve_parse_http(const char *buf, size_t len, int eof,
    size_t max_bytes, struct dz_http_answer *a, struct dz_err *err);

/* Free a's body and zero a, ready for a new answer. */
void dz_resolve_http_release(struct dz_http_answer *a);

/*
 * Read an RDAP answer (an IP network or a domain). The first entity with
 * the role "abuse", searched depth first through nested "entities", that
 * has an e-mail in its jCard gives r->abuse; r->name is the object's
 * "name", else the "fn" of the entity holding the abuse entity, else the
 * abuse entity's own. Returns 0 (found), 1 (well-formed, no abuse e-mail;
 * r->abuse and r->name empty) or -1 with err (EX_DATAERR): not JSON, a
 * field of the wrong type, entities nested deeper than 16, or an abuse
 * e-mail that dz_resolve_email_ok refuses. Other fields of r are kept.
 */
int dz_resolve_parse_rdap(const char *json, size_t len, struct dz_resolved *r,
    struct dz_err *err);

/*
 * 1 if s is an e-mail address safe to put in a mail header: at most 254
 * bytes, printable ASCII, one '@' with something on each side, no space
 * and none of "(),:;<>[\]. 0 otherwise.
 */
int dz_resolve_email_ok(const char *s);

#endif
