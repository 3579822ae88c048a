#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/hex.h"
#include "core/err.h"
#include "notice/resolve.h"

#define LINE_MAX_CHUNK 1024	/* a chunk-size line, extensions included */
#define MAX_DEPTH 16		/* nested RDAP entities */

static int
bad(struct dz_err *err, const char *why)
{
	return dz_err_set(err, EX_DATAERR, "%s", why);
}

/* Append " from 'host'" to err's reason. */
static int
from(struct dz_err *err, const char *host)
{
	char m[DZ_ERR_MAX];

	if (!err)
		return -1;
	memcpy(m, err->msg, sizeof m);
	return dz_err_set(err, err->code, "%s from '%.80s'", m, host);
}

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

int
dz_resolve_email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strnlen(s, 255);

	if (n < 3 || n > 254 || !at || at == s || !at[1] || strchr(at + 1, '@'))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"(),:;<>[\\]", *p))
			return 0;
	return 1;
}

/* ---- HTTP answers ---- */

/* memmem(3), which C11 and POSIX lack. */
static const char *
find(const char *p, size_t n, const char *s, size_t sn)
{
	for (const char *e = p + n; (size_t)(e - p) >= sn; p++) {
		if (!(p = memchr(p, s[0], (size_t)(e - p) - sn + 1)))
			return NULL;
		if (!memcmp(p, s, sn))
			return p;
	}
	return NULL;
}

/* Field values and reason phrases: HTAB, SP, visible ASCII, obs-text. */
static int
text_ok(const char *p, const char *e)
{
	for (; p < e; p++) {
		unsigned char c = (unsigned char)*p;
		if (c != '\t' && (c < ' ' || c == 0x7f))
			return 0;
	}
	return 1;
}

static int
is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	    status == 307 || status == 308;
}

static int
hexval(char c)
{
	return dz_hex_digit((unsigned char)c, DZ_HEX_ANY);
}

/* One header field: name (token) ':' OWS value OWS. */
static int
header(const char *p, const char *nl, struct dz_http_answer *a, struct dz_err *err)
{
	const char *colon = memchr(p, ':', (size_t)(nl - p)), *v, *ve;
	size_t nlen;

	if (!colon || colon == p)
		return bad(err, "malformed HTTP header");
	for (const char *q = p; q < colon; q++)
		if (!is_alnum((unsigned char)*q) && !strchr("!#$%&'*+-.^_`|~", *q))
			return bad(err, "malformed HTTP header");
	for (v = colon + 1; v < nl && (*v == ' ' || *v == '\t'); v++)
		;
	for (ve = nl; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
		;
	if (!text_ok(v, ve))
		return bad(err, "malformed HTTP header");
	nlen = (size_t)(colon - p);
	if (nlen == 14 && !strncasecmp(p, "content-length", nlen)) {
		unsigned long long n = 0;
		if (v == ve || ve - v > 18)
			return bad(err, "malformed HTTP content length");
		for (const char *q = v; q < ve; q++) {
			if (*q < '0' || *q > '9')
				return bad(err, "malformed HTTP content length");
			n = n * 10 + (unsigned)(*q - '0');
		}
		if (a->has_clen && a->clen != n)
			return bad(err, "conflicting HTTP content lengths");
		a->has_clen = 1;
		a->clen = n;
	} else if (nlen == 17 && !strncasecmp(p, "transfer-encoding", nlen)) {
		if (a->chunked || ve - v != 7 || strncasecmp(v, "chunked", 7))
			return bad(err, "unsupported HTTP transfer coding");
		a->chunked = 1;
	} else if (nlen == 8 && !strncasecmp(p, "location", nlen)) {
		if (a->location[0] || v == ve ||
		    (size_t)(ve - v) >= sizeof a->location)
			return bad(err, "malformed HTTP location");
		memcpy(a->location, v, (size_t)(ve - v));
		a->location[ve - v] = '\0';
	}
	return 0;
}

/* The status line and header fields; buf[0, hlen) ends with CRLF CRLF. */
static int
parse_head(const char *buf, size_t hlen, struct dz_http_answer *a, struct dz_err *err)
{
	const char *end = buf + hlen - 2, *p = buf;
	const char *nl = find(p, (size_t)(end - p), "\r\n", 2);

	if (nl - p < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ' || p[9] < '1' || p[9] > '9' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9' || (nl - p > 12 && p[12] != ' ') ||
	    !text_ok(p + 12, nl))
		return bad(err, "malformed HTTP status line");
	a->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	for (p = nl + 2; p < end; p = nl + 2) {
		nl = find(p, (size_t)(end - p), "\r\n", 2);
		if (header(p, nl, a, err))
			return -1;
	}
	if (a->chunked && a->has_clen)
		return bad(err, "both HTTP content length and chunked coding");
	return 0;
}

/*
 * Walk the chunks of body p[0, n) from *at (the start of a chunk-size
 * line), *total bytes decoded before it, copying the data to out if not
 * NULL. 0: complete; 1: more needed; -1: err.
 */
static int
dechunk(const char *p, size_t n, int eof, size_t max, char *out, size_t *at,
    size_t *total, struct dz_err *err)
{
	for (;;) {
		size_t i = *at, size = 0, k, ll, start;
		size_t look = n - i < LINE_MAX_CHUNK + 2 ? n - i : LINE_MAX_CHUNK + 2;
		const char *nl = find(p + i, look, "\r\n", 2), *q;

		if (!nl) {
			if (n - i > LINE_MAX_CHUNK)
				return bad(err, "malformed HTTP chunk");
			return eof ? bad(err, "truncated HTTP answer") : 1;
		}
		ll = (size_t)(nl - (p + i));
		for (k = 0; k < ll && hexval(p[i + k]) >= 0; k++) {
			if (k == 15)
				return bad(err, "malformed HTTP chunk");
			size = size * 16 + (size_t)hexval(p[i + k]);
		}
		for (q = p + i + k; q < nl && (*q == ' ' || *q == '\t'); q++)
			;
		if (k == 0 || (q < nl && *q != ';') || !text_ok(q, nl))
			return bad(err, "malformed HTTP chunk");
		if (size > max - *total)
			return bad(err, "HTTP body too large");
		i += ll + 2;
		if (size == 0) {	/* the last chunk, trailers, an empty line */
			for (start = i;; i = (size_t)(nl - p) + 2) {
				if (i - start > DZ_HTTP_HEADER_MAX)
					return bad(err, "HTTP head too large");
				nl = find(p + i, n - i, "\r\n", 2);
				if (!nl && n - start > DZ_HTTP_HEADER_MAX)
					return bad(err, "HTTP head too large");
				if (!nl)
					return eof ?
					    bad(err, "truncated HTTP answer") : 1;
				if (nl == p + i)
					return 0;
			}
		}
		if (n - i < size + 2)
			return eof ? bad(err, "truncated HTTP answer") : 1;
		if (memcmp(p + i + size, "\r\n", 2))
			return bad(err, "malformed HTTP chunk");
		if (out)
			memcpy(out + *total, p + i, size);
		*total += size;
		*at = i + size + 2;
	}
}

int
dz_resolve_parse_http(const char *buf, size_t len, int eof, size_t max,
    struct dz_http_answer *a, struct dz_err *err)
{
	const char *body;
	size_t n, at = 0, total = 0;
	int rc, chunks = 0;

	if (!a->head_len) {
		size_t lim = len < DZ_HTTP_HEADER_MAX ? len : DZ_HTTP_HEADER_MAX;
		size_t from_ = a->scanned > 3 ? a->scanned - 3 : 0;
		const char *e = lim > from_ ?
		    find(buf + from_, lim - from_, "\r\n\r\n", 4) : NULL;

		if (!e) {
			a->scanned = lim;
			if (len >= DZ_HTTP_HEADER_MAX)
				return bad(err, "HTTP head too large");
			return eof ? bad(err, "truncated HTTP answer") : 1;
		}
		if (parse_head(buf, (size_t)(e + 4 - buf), a, err))
			return -1;
		a->head_len = (size_t)(e + 4 - buf);
	}
	if (a->status < 200)
		return bad(err, "unexpected interim HTTP answer");
	if (is_redirect(a->status))
		return 0;
	body = buf + a->head_len;
	n = len - a->head_len;
	if (a->status == 204 || a->status == 304) {
		n = 0;
	} else if (a->chunked) {
		rc = dechunk(body, n, eof, max, NULL, &a->chunk_at,
		    &a->chunk_total, err);
		if (rc)
			return rc;
		n = a->chunk_total;
		chunks = 1;
	} else if (a->has_clen) {
		if (a->clen > max)
			return bad(err, "HTTP body too large");
		if (n < a->clen)
			return eof ? bad(err, "truncated HTTP answer") : 1;
		n = (size_t)a->clen;
	} else {
		if (n > max)
			return bad(err, "HTTP body too large");
		if (!eof)
			return 1;
	}
	if (!(a->body = malloc(n + 1)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (chunks)
		dechunk(body, len - a->head_len, eof, max, a->body, &at,
		    &total, NULL);
	else
		memcpy(a->body, body, n);
	a->body[n] = '\0';
	a->len = n;
	return 0;
}

void
dz_resolve_http_release(struct dz_http_answer *a)
{
	free(a->body);
	memset(a, 0, sizeof *a);
}

/* ---- RDAP ---- */

struct found {
	const char *email, *fn, *parent_fn;
};

/* 0 with *has set if e's "roles" holds role, -1 if they are malformed. */
static int
has_role(json_t *e, const char *role, int *has)
{
	json_t *roles = json_object_get(e, "roles"), *x;
	size_t i;

	*has = 0;
	if (!roles)
		return 0;
	if (!json_is_array(roles))
		return -1;
	json_array_foreach(roles, i, x) {
		if (!json_is_string(x))
			return -1;
		if (!strcasecmp(json_string_value(x), role))
			*has = 1;
	}
	return 0;
}

/*
 * The first "email" and "fn" of e's jCard (NULL if none):
 * ["vcard", [["email", {}, "text", "abuse@x"], ...]]. -1 if malformed.
 */
static int
vcard(json_t *e, const char **email, const char **fn)
{
	json_t *v = json_object_get(e, "vcardArray"), *props, *prop;
	size_t i;

	*email = *fn = NULL;
	if (!v)
		return 0;
	props = json_array_get(v, 1);
	if (!json_is_array(v) || json_array_size(v) != 2 ||
	    !json_is_string(json_array_get(v, 0)) ||
	    strcmp(json_string_value(json_array_get(v, 0)), "vcard") ||
	    !json_is_array(props))
		return -1;
	json_array_foreach(props, i, prop) {
		json_t *val = json_array_get(prop, 3);
		const char *pn = json_string_value(json_array_get(prop, 0));
		const char **dst = NULL;

		if (!json_is_array(prop) || json_array_size(prop) < 4 || !pn ||
		    !json_is_object(json_array_get(prop, 1)) ||
		    !json_is_string(json_array_get(prop, 2)))
			return -1;
		if (!strcasecmp(pn, "email"))
			dst = email;
		else if (!strcasecmp(pn, "fn"))
			dst = fn;
		if (dst && !json_is_string(val))
			return -1;
		if (dst && !*dst)
			*dst = json_string_value(val);
	}
	return 0;
}

/* Depth first through obj's "entities": 1 found, 0 not, -1 malformed. */
static int
find_abuse(json_t *obj, const char *parent_fn, int depth, struct found *f)
{
	json_t *ents = json_object_get(obj, "entities"), *e;
	size_t i;

	if (!ents)
		return 0;
	if (!json_is_array(ents) || depth >= MAX_DEPTH)
		return -1;
	json_array_foreach(ents, i, e) {
		const char *email, *fn;
		int abuse, rc;

		if (!json_is_object(e) || has_role(e, "abuse", &abuse) ||
		    vcard(e, &email, &fn))
			return -1;
		if (abuse && email) {
			f->email = email;
			f->fn = fn;
			f->parent_fn = parent_fn;
			return 1;
		}
		if ((rc = find_abuse(e, fn, depth + 1, f)) != 0)
			return rc;
	}
	return 0;
}

/* Copy the first non-empty name; none if it holds control characters. */
static void
set_name(char out[256], const char *a, const char *b, const char *c)
{
	const char *s = a && *a ? a : b && *b ? b : c && *c ? c : "";
	size_t n = strnlen(s, 255);

	out[0] = '\0';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return;
	while (n > 0 && s[n] && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;		/* do not cut a UTF-8 sequence */
	memcpy(out, s, n);
	out[n] = '\0';
}

int
dz_resolve_parse_rdap(const char *json, size_t len, struct dz_resolved *r,
    struct dz_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *name;
	struct found f = { 0 };
	int rc;

	r->abuse[0] = r->name[0] = '\0';
	if (!json_is_object(root)) {
		json_decref(root);
		return bad(err, "malformed RDAP answer");
	}
	name = json_object_get(root, "name");
	rc = name && !json_is_string(name) ? -1 : find_abuse(root, NULL, 0, &f);
	if (rc < 0) {
		bad(err, "malformed RDAP answer");
	} else if (rc == 0) {
		rc = 1;
	} else if (!dz_resolve_email_ok(f.email)) {
		rc = bad(err, "invalid abuse e-mail in RDAP answer");
	} else {
		strcpy(r->abuse, f.email);	/* at most 254 bytes */
		set_name(r->name, json_string_value(name), f.parent_fn, f.fn);
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* ---- URLs ---- */

struct url {
	int tls;
	char host[256];		/* without brackets */
	char port[6];
	char hostport[264];	/* for the Host header */
	char path[512];
	char text[512];		/* the whole URL */
};

/* http[s]://host[:port][/path]; no user info, no fragment kept. */
static int
url_parse(const char *s, struct url *u)
{
	size_t n = strlen(s), hl;
	const char *p, *end, *h, *he, *port = NULL;

	if (n >= sizeof u->text)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return -1;
	if (!strncasecmp(s, "http://", 7)) {
		u->tls = 0;
		p = s + 7;
	} else if (!strncasecmp(s, "https://", 8)) {
		u->tls = 1;
		p = s + 8;
	} else {
		return -1;
	}
	end = p + strcspn(p, "/?#");
	if (end == p || memchr(p, '@', (size_t)(end - p)))
		return -1;
	h = p;
	if (*p == '[') {
		h = p + 1;
		if (!(he = memchr(p, ']', (size_t)(end - p))))
			return -1;
		if (he + 1 < end && he[1] != ':')
			return -1;
		port = he + 1 < end ? he + 2 : NULL;
	} else {
		he = memchr(p, ':', (size_t)(end - p));
		port = he ? he + 1 : NULL;
		if (!he)
			he = end;
	}
	hl = (size_t)(he - h);
	if (hl == 0 || hl >= sizeof u->host)
		return -1;
	for (const char *q = h; q < he; q++)
		if (!is_alnum((unsigned char)*q) && *q != '-' && *q != '.' &&
		    *q != '_' && !(*p == '[' && *q == ':'))
			return -1;
	memcpy(u->host, h, hl);
	u->host[hl] = '\0';
	if (port) {
		long v = 0;
		if (port == end || end - port > 5)
			return -1;
		for (const char *q = port; q < end; q++) {
			if (*q < '0' || *q > '9')
				return -1;
			v = v * 10 + (*q - '0');
		}
		if (v < 1 || v > 65535)
			return -1;
		snprintf(u->port, sizeof u->port, "%ld", v);
	} else {
		strcpy(u->port, u->tls ? "443" : "80");
	}
	if ((size_t)(end - p) >= sizeof u->hostport)
		return -1;
	memcpy(u->hostport, p, (size_t)(end - p));
	u->hostport[end - p] = '\0';
	snprintf(u->path, sizeof u->path, "%s%.*s", *end == '/' ? "" : "/",
	    (int)strcspn(end, "#"), end);
	memcpy(u->text, s, n + 1);
	return 0;
}

/* Where a redirect from u to loc leads: u is replaced. */
static int
url_follow(struct url *u, const char *loc, struct dz_err *err)
{
	char abs[1024];
	struct url next;

	if (!*loc)
		return bad(err, "redirect without a location");
	if (loc[0] == '/' && loc[1] != '/')
		snprintf(abs, sizeof abs, "%s://%s%s", u->tls ? "https" : "http",
		    u->hostport, loc);
	else
		snprintf(abs, sizeof abs, "%s", loc);
	if (url_parse(abs, &next))
		return bad(err, "bad redirect");
	if (u->tls && !next.tls)
		return bad(err, "redirect from https to http refused");
	*u = next;
	return 0;
}

/* ---- addresses ---- */

static const char *
v4_class(const uint8_t a[4])
{
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
	static const struct { uint32_t net, mask; const char *what; } nets[] = {
		{ 0x00000000, 0xff000000, "reserved" },		/* 0/8 */
		{ 0x0a000000, 0xff000000, "private" },		/* 10/8 */
		{ 0x64400000, 0xffc00000, "private" },		/* 100.64/10 */
		{ 0x7f000000, 0xff000000, "loopback" },		/* 127/8 */
		{ 0xa9fe0000, 0xffff0000, "link-local" },	/* 169.254/16 */
		{ 0xac100000, 0xfff00000, "private" },		/* 172.16/12 */
		{ 0xc0000000, 0xffffff00, "reserved" },		/* 192.0.0/24 */
		{ 0xc0000200, 0xffffff00, "reserved" },		/* 192.0.2/24 */
		{ 0xc0a80000, 0xffff0000, "private" },		/* 192.168/16 */
		{ 0xc6120000, 0xfffe0000, "reserved" },		/* 198.18/15 */
		{ 0xc6336400, 0xffffff00, "reserved" },		/* 198.51.100/24 */
		{ 0xcb007100, 0xffffff00, "reserved" },		/* 203.0.113/24 */
		{ 0xe0000000, 0xf0000000, "multicast" },	/* 224/4 */
		{ 0xf0000000, 0xf0000000, "reserved" },		/* 240/4, broadcast */
	};

	for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
		if ((x & nets[i].mask) == nets[i].net)
			return nets[i].what;
	return NULL;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static const char *
v6_class(const uint8_t a[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };

	if (all_zero(a, 15))
		return a[15] == 1 ? "loopback" : "reserved";	/* ::1, :: */
	/* IPv4-mapped, IPv4-compatible and NAT64: the IPv4 address inside */
	if (!memcmp(a, mapped, 12) || all_zero(a, 12) || !memcmp(a, nat64, 12))
		return v4_class(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02)		/* 6to4, 2002::/16 */
		return v4_class(a + 2);
	if ((a[0] & 0xfe) == 0xfc)			/* fc00::/7 */
		return "private";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)	/* fe80::/10 */
		return "link-local";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)	/* fec0::/10, site-local */
		return "private";
	if (a[0] == 0xff)				/* ff00::/8 */
		return "multicast";
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return "reserved";			/* 2001:db8::/32 */
	if (a[0] == 0x01 && all_zero(a + 1, 7))		/* 100::/64, discard */
		return "reserved";
	return NULL;
}

const char *
dz_resolve_addr_class(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_class((const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return v6_class((const uint8_t *)
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return "reserved";
}

const char *
dz_resolve_addr_class_text(const char *ip)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return v4_class(a);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return v6_class(a);
	return "invalid";
}

/* Whether o lets us talk to sa on port: NULL, or why not. */
static const char *
refused(const struct sockaddr *sa, const char *port,
    const struct dz_resolve_opts *o)
{
	const char *c = dz_resolve_addr_class(sa);

	if (c && !(o->allow_loopback && !strcmp(c, "loopback")))
		return c;
	if (!c && strcmp(port, "80") && strcmp(port, "443"))
		return "port";
	return NULL;
}

/*
 * getaddrinfo within a deadline. The system resolver has its own
 * timeouts, which may be long: it runs in a thread of its own, and when
 * the deadline comes first that thread is left to finish and free its
 * answer alone.
 */
struct gai {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char host[256], port[8];
	struct addrinfo hints, *res;
	int rc, done, abandoned;
};

static void
gai_free(struct gai *g)
{
	if (g->res)
		freeaddrinfo(g->res);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static void *
gai_thread(void *arg)
{
	struct gai *g = arg;
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(g->host, g->port[0] ? g->port : NULL, &g->hints,
	    &res), abandoned;

	pthread_mutex_lock(&g->mu);
	g->rc = rc;
	g->res = rc ? NULL : res;
	g->done = 1;
	abandoned = g->abandoned;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (abandoned)
		gai_free(g);
	return NULL;
}

static long long now_ms(void);

/* 0 with *res (freeaddrinfo it), an EAI_ code, or EAI_AGAIN with
 * *timed_out set when the deadline passed. */
static int
resolve_by(const char *host, const char *port, const struct addrinfo *hints,
    long long deadline, struct addrinfo **res, int *timed_out)
{
	pthread_condattr_t ca;
	pthread_attr_t ta;
	pthread_t t;
	struct gai *g = calloc(1, sizeof *g);
	int rc;

	*res = NULL;
	*timed_out = 0;
	if (!g)
		return EAI_MEMORY;
	snprintf(g->host, sizeof g->host, "%s", host);
	snprintf(g->port, sizeof g->port, "%s", port ? port : "");
	g->hints = *hints;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &ta, gai_thread, g);
	pthread_attr_destroy(&ta);
	if (rc) {
		gai_free(g);
		return EAI_AGAIN;
	}
	pthread_mutex_lock(&g->mu);
	while (!g->done) {
		long long d = deadline;
		struct timespec ts = { (time_t)(d / 1000),
		    (long)(d % 1000) * 1000000 };

		if (now_ms() >= deadline ||
		    (pthread_cond_timedwait(&g->cv, &g->mu, &ts) == ETIMEDOUT &&
		    !g->done)) {
			g->abandoned = 1;	/* the thread frees g */
			pthread_mutex_unlock(&g->mu);
			*timed_out = 1;
			return EAI_AGAIN;
		}
	}
	pthread_mutex_unlock(&g->mu);
	rc = g->rc;
	*res = g->res;
	g->res = NULL;
	gai_free(g);
	return rc;
}

/* ---- connections ---- */

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int timeout_ms;
	long long deadline;	/* CLOCK_MONOTONIC ms: the whole request */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on c->fd: 0, or -1 with errno (ETIMEDOUT). */
static int
wait_fd(struct conn *c, short events)
{
	for (;;) {
		long long left = c->deadline - now_ms();
		int t = left < c->timeout_ms ? (int)left : c->timeout_ms, n;
		struct pollfd pfd = { .fd = c->fd, .events = events };

		if (t <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, t);
		if (n > 0)
			return 0;
		if (n == 0)
			errno = ETIMEDOUT;
		if (n == 0 || errno != EINTR)
			return -1;
	}
}

/* After an SSL call failed with SSL_get_error e: wait as it asks (0), or -1. */
static int
tls_wait(struct conn *c, int e)
{
	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(c, POLLIN);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(c, POLLOUT);
	if (e != SSL_ERROR_SYSCALL || !errno)
		errno = EPROTO;
	return -1;
}

static int
tls_open(struct conn *c, const struct url *u, struct dz_err *err)
{
	unsigned char ip[16];
	int literal = inet_pton(AF_INET, u->host, ip) == 1 ||
	    inet_pton(AF_INET6, u->host, ip) == 1;
	long v;

	ERR_clear_error();
	if (!(c->ctx = SSL_CTX_new(TLS_client_method())) ||
	    !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) ||
	    SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		return dz_err_set(err, EX_SOFTWARE, "cannot set up TLS");
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	/* Ends are checked by the HTTP framing, and JSON cut short is invalid. */
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!(c->ssl = SSL_new(c->ctx)) || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    (literal ?
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host) != 1 :
	    SSL_set_tlsext_host_name(c->ssl, u->host) != 1 ||
	    SSL_set1_host(c->ssl, u->host) != 1))
		return dz_err_set(err, EX_SOFTWARE, "cannot set up TLS");
	SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	for (;;) {
		int rc;

		errno = 0;
		if ((rc = SSL_connect(c->ssl)) == 1)
			return 0;
		if (tls_wait(c, SSL_get_error(c->ssl, rc)) == 0)
			continue;
		if (errno == ETIMEDOUT)
			return dz_err_set(err, EX_TEMPFAIL,
			    "TLS handshake timed out with '%.80s'", u->host);
		if ((v = SSL_get_verify_result(c->ssl)) != X509_V_OK)
			return dz_err_set(err, EX_UNAVAILABLE,
			    "TLS certificate refused (%s) for '%.80s'",
			    X509_verify_cert_error_string(v), u->host);
		return dz_err_set(err, EX_UNAVAILABLE,
		    "TLS handshake failed with '%.80s'", u->host);
	}
}

static int
conn_open(struct conn *c, const struct url *u, const struct dz_resolve_opts *o,
    struct dz_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	const char *why = NULL;
	int late, rc = resolve_by(u->host, u->port, &hints, c->deadline, &res,
	    &late), e = 0;
	socklen_t elen = sizeof e;

	if (late)
		return dz_err_set(err, EX_TEMPFAIL, "timed out resolving RDAP "
		    "server '%.80s'", u->host);
	if (rc)
		return dz_err_set(err, rc == EAI_AGAIN ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "cannot resolve RDAP server '%.80s'", u->host);
	for (ai = res; ai && e != ETIMEDOUT; ai = ai->ai_next) {
		const char *no = refused(ai->ai_addr, u->port, o);

		if (no) {	/* checked on the address we would connect to */
			if (!why)
				why = no;
			continue;
		}
		c->fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (c->fd < 0) {
			e = errno;
			continue;
		}
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		if (e == EINPROGRESS) {
			if (wait_fd(c, POLLOUT))
				e = errno;
			else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &elen))
				e = errno;
			if (e == 0)
				break;
		}
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (c->fd < 0 && why && !e) {
		if (!strcmp(why, "port"))
			return dz_err_set(err, EX_UNAVAILABLE, "RDAP server "
			    "'%.80s' refused: port %s is not 80 or 443", u->host,
			    u->port);
		return dz_err_set(err, EX_UNAVAILABLE, "RDAP server '%.80s' "
		    "refused: a %s address", u->host, why);
	}
	if (c->fd < 0)
		return dz_err_set(err, e == ETIMEDOUT ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "cannot connect to RDAP server '%.80s': %s", u->host,
		    e == ETIMEDOUT ? "timed out" : strerror(e));
	return u->tls ? tls_open(c, u, err) : 0;
}

static void
conn_close(struct conn *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
}

static int
conn_write(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		size_t k;
		ssize_t w;
		int rc;

		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			rc = SSL_write_ex(c->ssl, p, n, &k);
			if (rc != 1 && tls_wait(c, SSL_get_error(c->ssl, rc)))
				return -1;
			if (rc != 1)
				continue;
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno != EINTR && errno != EAGAIN)
				return -1;
			if (w < 0 && errno == EAGAIN && wait_fd(c, POLLOUT))
				return -1;
			if (w < 0)
				continue;
			k = (size_t)w;
		}
		p += k;
		n -= k;
	}
	return 0;
}

/* Up to n bytes: the count, 0 at the end, -1 with errno. */
static ssize_t
conn_read(struct conn *c, char *p, size_t n)
{
	for (;;) {
		size_t k;
		ssize_t r;
		int rc, e;

		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			rc = SSL_read_ex(c->ssl, p, n, &k);
			if (rc == 1)
				return (ssize_t)k;
			e = SSL_get_error(c->ssl, rc);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (tls_wait(c, e))
				return -1;
		} else {
			r = recv(c->fd, p, n, 0);
			if (r >= 0)
				return r;
			if (errno != EINTR && errno != EAGAIN)
				return -1;
			if (errno == EAGAIN && wait_fd(c, POLLIN))
				return -1;
		}
	}
}

/* One GET: 0 with a complete, or -1 with err. */
static int
http_get(const struct url *u, const struct dz_resolve_opts *o,
    long long deadline, struct dz_http_answer *a, struct dz_err *err)
{
	struct conn c = { .fd = -1, .timeout_ms = o->timeout_ms,
	    .deadline = deadline };
	size_t cap = 2 * (size_t)DZ_HTTP_HEADER_MAX + 2 * o->max_bytes + 65536;
	size_t len = 0, size = 0;
	char req[1200], *buf = NULL, *nb;
	int rc = -1, n;
	ssize_t k;

	n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Accept: application/rdap+json\r\nUser-Agent: disrupt\r\n"
	    "Connection: close\r\n\r\n", u->path, u->hostport);
	memset(a, 0, sizeof *a);
	if (now_ms() >= deadline) {
		rc = dz_err_set(err, EX_TEMPFAIL, "timed out before asking RDAP "
		    "server '%.80s'", u->host);
		goto out;
	}
	if (conn_open(&c, u, o, err))
		goto out;
	if (conn_write(&c, req, (size_t)n))
		goto io;
	do {
		if (len == size) {
			if (size == cap) {
				bad(err, "HTTP answer too large");
				goto from;
			}
			size = size ? (size > cap / 2 ? cap : 2 * size) : 16384;
			if (!(nb = realloc(buf, size))) {
				rc = dz_err_set(err, EX_SOFTWARE, "out of memory");
				goto out;
			}
			buf = nb;
		}
		if ((k = conn_read(&c, buf + len, size - len)) < 0)
			goto io;
		len += (size_t)k;
		rc = dz_resolve_parse_http(buf, len, k == 0, o->max_bytes, a, err);
	} while (rc == 1);
	if (rc == 0)
		goto out;
	goto from;
io:
	rc = dz_err_set(err, errno == ETIMEDOUT ? EX_TEMPFAIL : EX_UNAVAILABLE,
	    "%s talking to RDAP server '%.80s'", errno == ETIMEDOUT ? "timed out" :
	    errno == EPROTO ? "TLS error" : strerror(errno), u->host);
	goto out;
from:
	rc = from(err, u->host);
out:
	if (rc)
		dz_resolve_http_release(a);
	conn_close(&c);
	free(buf);
	return rc;
}

/* GET url with redirects, and read the RDAP answer: 0 found, 1 none, -1. */
static int
lookup(const char *url, const struct dz_resolve_opts *o, long long deadline,
    struct dz_resolved *r, struct dz_err *err)
{
	struct dz_http_answer a;
	struct url u;
	int rc, hops = 0;

	if (url_parse(url, &u))
		return dz_err_set(err, EX_CONFIG, "invalid RDAP base URL");
	while (!(rc = http_get(&u, o, deadline, &a, err)) &&
	    is_redirect(a.status)) {
		if (hops++ >= o->max_redirects)
			rc = bad(err, "too many redirects");
		else
			rc = url_follow(&u, a.location, err);
		dz_resolve_http_release(&a);
		if (rc)
			return from(err, u.host);
	}
	if (rc)
		return -1;
	if (a.status == 200) {
		rc = dz_resolve_parse_rdap(a.body, a.len, r, err);
		if (rc < 0)
			from(err, u.host);
	} else if (a.status == 404) {
		rc = 1;
	} else {
		rc = dz_err_set(err, a.status == 429 || a.status >= 500 ?
		    EX_TEMPFAIL : EX_UNAVAILABLE, "RDAP server '%.80s' answered %d",
		    u.host, a.status);
	}
	if (rc >= 0)
		strcpy(r->source, u.text);
	dz_resolve_http_release(&a);
	return rc;
}

/* A DNS name or an IP address: letters, digits, '-', '_', '.', ':'. */
static int
host_ok(const char *h)
{
	size_t n = strnlen(h, 254);

	if (n == 0 || n > 253 || h[0] == '.' || strstr(h, ".."))
		return 0;
	for (; *h; h++)
		if (!is_alnum((unsigned char)*h) && !strchr("-_.:", *h))
			return 0;
	return 1;
}

/* The last two labels of a DNS name, lowercase, no final dot. */
static void
last_two_labels(const char *host, char out[256])
{
	size_t n = strlen(host), i, dots = 0;

	if (n && host[n - 1] == '.')
		n--;
	for (i = n; i > 0; i--)
		if (host[i - 1] == '.' && ++dots == 2)
			break;
	snprintf(out, 256, "%.*s", (int)(n - i), host + i);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

int
dz_resolve_abuse(const char *host, const struct dz_resolve_opts *opts,
    struct dz_resolved *r, struct dz_err *err)
{
	struct dz_resolve_opts o = { DZ_RESOLVE_BASE, DZ_RESOLVE_TIMEOUT_MS,
	    DZ_RESOLVE_MAX_BYTES, DZ_RESOLVE_MAX_REDIRECTS, 0 };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct timespec zero = { 0, 0 };
	char url[1024], domain[256];
	unsigned char ip[16];
	sigset_t sigpipe, old, pending;
	const char *cls;
	long long deadline;
	size_t blen;
	int rc, had, late;

	memset(r, 0, sizeof *r);
	if (opts) {
		o.rdap_base = opts->rdap_base ? opts->rdap_base : o.rdap_base;
		o.timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : o.timeout_ms;
		o.max_bytes = opts->max_bytes ? opts->max_bytes : o.max_bytes;
		o.max_redirects = opts->max_redirects < 0 ? 0 :
		    opts->max_redirects ? opts->max_redirects : o.max_redirects;
		o.allow_loopback = opts->allow_loopback;
	}
	/* one deadline for all of it: DNS, requests, redirects, fallback */
	deadline = now_ms() + DZ_RESOLVE_DEADLINE_FACTOR * (long long)o.timeout_ms;
	if (!host_ok(host))
		return dz_err_set(err, EX_DATAERR, "invalid host name");
	rc = resolve_by(host, NULL, &hints, deadline, &res, &late);
	if (late)
		return dz_err_set(err, EX_TEMPFAIL, "timed out resolving host "
		    "'%.80s'", host);
	if (rc)
		return dz_err_set(err, rc == EAI_AGAIN ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "cannot resolve host '%.80s'", host);
	cls = dz_resolve_addr_class(res->ai_addr);
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, r->addr, sizeof r->addr,
	    NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rc)
		return dz_err_set(err, EX_UNAVAILABLE, "cannot resolve host '%.80s'",
		    host);
	r->addr[strcspn(r->addr, "%")] = '\0';	/* no IPv6 scope */
	if (cls && !(o.allow_loopback && !strcmp(cls, "loopback"))) {
		r->addr[0] = '\0';
		return dz_err_set(err, EX_DATAERR, "host '%.80s' is at a %s "
		    "address: no abuse contact to look up", host, cls);
	}

	blen = strlen(o.rdap_base);
	while (blen > 0 && o.rdap_base[blen - 1] == '/')
		blen--;
	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigpipe, &old);
	had = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);

	snprintf(url, sizeof url, "%.*s/ip/%s", (int)blen, o.rdap_base, r->addr);
	rc = lookup(url, &o, deadline, r, err);
	if (rc == 1 && inet_pton(AF_INET, host, ip) != 1 &&
	    inet_pton(AF_INET6, host, ip) != 1) {
		last_two_labels(host, domain);
		snprintf(url, sizeof url, "%.*s/domain/%s", (int)blen,
		    o.rdap_base, domain);
		rc = lookup(url, &o, deadline, r, err);
	}
	if (rc == 1)
		rc = dz_err_set(err, EX_DATAERR, "no abuse contact for '%.80s'",
		    host);

	if (!had && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
		sigtimedwait(&sigpipe, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		r->abuse[0] = r->name[0] = r->source[0] = '\0';
	return rc ? -1 : 0;
}
