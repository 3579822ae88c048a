/*
 * t/unit/test-resolve: lib/notice/resolve's parsers on well-formed and hostile
 * input: HTTP answers whole and byte by byte, chunked coding, broken
 * heads and sizes; RDAP JSON with nested entities, wrong types, deep
 * nesting and bad e-mail addresses; then random mutations (no crash, no
 * leak, under SANITIZE=1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "notice/resolve.h"
#include "tap.h"

#define MAX (1u << 20)

static struct dz_http_answer a;
static struct dz_err err;

/* Parse s whole: the return code; a keeps the result. */
static int
http(const char *s, size_t len, int eof, size_t max)
{
	dz_resolve_http_release(&a);
	dz_err_clear(&err);
	return dz_resolve_parse_http(s, len, eof, max, &a, &err);
}

static int
http_s(const char *s, int eof)
{
	return http(s, strlen(s), eof, MAX);
}

/* Parse s fed one byte more at a time: 1 before the last byte, then 0. */
static int
bytewise(const char *s)
{
	size_t n = strlen(s);

	dz_resolve_http_release(&a);
	for (size_t i = 0; i < n; i++)
		if (dz_resolve_parse_http(s, i, 0, MAX, &a, &err) != 1)
			return -1;
	return dz_resolve_parse_http(s, n, 0, MAX, &a, &err);
}

/* s is refused with a reason containing why. */
static int
refused(const char *s, int eof, const char *why)
{
	int rc = http_s(s, eof);

	if (rc != -1 || !strstr(err.msg, why))
		diag("rc %d, reason '%s', wanted '%s'", rc, err.msg, why);
	return rc == -1 && err.code == EX_DATAERR && strstr(err.msg, why) != NULL;
}

static void
test_http(void)
{
	const char *ok200 = "HTTP/1.1 200 OK\r\nContent-Type: application/rdap+json\r\n"
	    "Content-Length: 7\r\n\r\n{\"a\":1}";
	const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
	    "3;x=y\r\n{\"a\r\n4 \r\n\":1}\r\n0\r\nX-T: 1\r\n\r\n";
	const char *s;
	char *big;
	size_t bn = 10u << 20;

	ok(http_s(ok200, 0) == 0 && a.status == 200 && a.len == 7 &&
	    strcmp(a.body, "{\"a\":1}") == 0, "Content-Length: complete at once");
	ok(bytewise(ok200) == 0 && a.len == 7, "Content-Length: byte by byte");
	ok(http(ok200, strlen(ok200) - 1, 1, MAX) == -1 &&
	    strstr(err.msg, "truncated"), "Content-Length: cut short at eof");
	ok(http_s(chunked, 0) == 0 && a.len == 7 && !strcmp(a.body, "{\"a\":1}"),
	    "chunked, with extension and trailer");
	ok(bytewise(chunked) == 0 && !strcmp(a.body, "{\"a\":1}"),
	    "chunked: byte by byte");
	ok(http_s("HTTP/1.0 200 OK\r\n\r\n{}", 0) == 1 &&
	    http_s("HTTP/1.0 200 OK\r\n\r\n{}", 1) == 0 && a.len == 2,
	    "no length: complete at eof only");
	ok(http_s("HTTP/1.1 302 Found\r\nLocation: /ip/x\r\n\r\n", 0) == 0 &&
	    a.status == 302 && !strcmp(a.location, "/ip/x") && !a.body,
	    "redirect: complete at the end of its head");
	ok(http_s("HTTP/1.1 204 No Content\r\n\r\n", 0) == 0 && a.len == 0,
	    "204: empty body");
	ok(http_s("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n0\r\n\r\n", 0) == 0 && a.len == 0 && !a.body[0],
	    "204 with chunks: still no body");
	ok(http_s("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 0) == 0 &&
	    a.status == 404, "a status line without a reason");
	ok(http_s("HTTP/1.1 200 OK\r\n", 0) == 1, "head not complete: more needed");

	/* Sizes. */
	ok(refused("HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n", 0,
	    "HTTP body too large"), "Content-Length over max_bytes");
	ok(http("HTTP/1.1 200 OK\r\n\r\n12345", 24, 0, 4) == -1 &&
	    strstr(err.msg, "too large"), "no length: over max_bytes before eof");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "100001\r\n", 0, "HTTP body too large"), "chunk over max_bytes");
	s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
	ok(http(s, strlen(s), 0, 5) == -1 &&
	    strstr(err.msg, "too large"), "chunks adding up over max_bytes");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "ffffffffffffffffffff\r\n", 0, "malformed HTTP chunk"), "huge chunk size");
	ok(refused("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    0, "content length"), "huge Content-Length");
	big = malloc(bn + 1);
	memcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ", 24);
	memset(big + 24, 'a', bn - 24);
	big[bn] = '\0';
	ok(http(big, bn, 0, MAX) == -1 && strstr(err.msg, "head too large"),
	    "a 10 MB header");
	ok(http(big, 17000, 0, MAX) == -1 && strstr(err.msg, "head too large"),
	    "a header line over the head limit, before eof");
	ok(http(big, 100, 0, MAX) == 1, "a long header in progress: more needed");
	free(big);

	/* Truncation. */
	ok(refused("", 1, "truncated"), "nothing at all");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1", 1,
	    "truncated"), "truncated chunk size");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
	    1, "truncated"), "truncated chunk data");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
	    1, "truncated"), "no end of the trailers");
	big = malloc(20000);
	s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ";
	memset(big, 'a', 20000);
	memcpy(big, s, strlen(s));
	ok(http(big, 20000, 0, MAX) == -1 && strstr(err.msg, "head too large"),
	    "an endless trailer line");
	free(big);

	/* Malformed chunks. */
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "\r\n", 0, "malformed HTTP chunk"), "empty chunk size");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "-1\r\n", 0, "malformed HTTP chunk"), "negative chunk size");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2x\r\n", 0, "malformed HTTP chunk"), "junk after the chunk size");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nabcd\r\n", 0, "malformed HTTP chunk"), "chunk longer than its size");

	/* Malformed heads. */
	ok(refused("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", 0,
	    "malformed HTTP header"), "header line without a colon");
	ok(refused("HTTP/1.1 200 OK\r\nA : b\r\n\r\n", 0,
	    "malformed HTTP header"), "space before the colon");
	ok(refused("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", 0,
	    "malformed HTTP header"), "obsolete line folding");
	ok(refused("HTTP/1.1 200 OK\r\n: b\r\n\r\n", 0,
	    "malformed HTTP header"), "empty header name");
	ok(http("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", 27, 0, MAX) == -1,
	    "NUL in a header");
	ok(refused("HTTP/1.1 200 OK\r\nA: b\nB: c\r\n\r\n", 0,
	    "malformed HTTP header"), "bare LF in a header");
	ok(refused("HTTP/2 200\r\n\r\n", 0, "status line"), "HTTP/2 status line");
	ok(refused("HTTP/1.1 20 OK\r\n\r\n", 0, "status line"), "two-digit status");
	ok(refused("HTTP/1.1 099 OK\r\n\r\n", 0, "status line"), "status below 100");
	ok(refused("ICY 200 OK\r\n\r\n", 0, "status line"), "not HTTP");
	ok(refused("\r\n\r\n", 0, "status line"), "empty head");
	ok(refused("HTTP/1.1 100 Continue\r\n\r\n", 0, "interim"), "interim answer");
	ok(refused("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 0,
	    "content length"), "Content-Length not a number");
	ok(refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0,
	    "content length"), "negative Content-Length");
	ok(refused("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n", 0,
	    "content length"), "Content-Length list");
	ok(refused("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    0, "conflicting"), "conflicting Content-Lengths");
	ok(http_s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n{}",
	    0) == 0, "repeated equal Content-Lengths");
	ok(refused("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
	    0, "both"), "Content-Length and chunked together");
	ok(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0,
	    "transfer coding"), "unsupported transfer coding");
	ok(refused("HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\n\r\n", 0,
	    "location"), "two Locations");
	{
		char loc[700] = "HTTP/1.1 302 Found\r\nLocation: /";
		memset(loc + strlen(loc), 'a', 600);
		strcat(loc, "\r\n\r\n");
		ok(refused(loc, 0, "location"), "Location too long");
	}
	dz_resolve_http_release(&a);
}

static const char *
rdap(const char *json, int want)
{
	static struct dz_resolved r;
	int rc;

	dz_err_clear(&err);
	strcpy(r.addr, "192.0.2.1");
	rc = dz_resolve_parse_rdap(json, strlen(json), &r, &err);
	if (rc != want)
		diag("rc %d, wanted %d: %s", rc, want, err.msg);
	if (rc != want || strcmp(r.addr, "192.0.2.1"))
		return NULL;
	if (rc < 0)
		return err.code == EX_DATAERR ? err.msg : NULL;
	return rc == 0 ? r.abuse : "";
}

/* Same, and the name found. */
static const char *
rdap_name(const char *json)
{
	static struct dz_resolved r;

	if (dz_resolve_parse_rdap(json, strlen(json), &r, &err) != 0)
		return "(failed)";
	return r.name;
}

#define ABUSE(email) "{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\"," \
	"[[\"version\",{},\"text\",\"4.0\"],[\"email\",{},\"text\",\"" email "\"]]]}"

static int
rdap_is(const char *json, int want, const char *what)
{
	const char *s = rdap(json, want);

	return s && strstr(s, what) != NULL;
}

static void
test_rdap(void)
{
	const char *nested = "{\"objectClassName\":\"ip network\",\"name\":\"NET-1\","
	    "\"entities\":[{\"roles\":[\"registrant\"],\"vcardArray\":[\"vcard\","
	    "[[\"fn\",{},\"text\",\"Org\"]]],\"entities\":["
	    "{\"roles\":[\"technical\"],\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\",\"noc@x.example\"]]]},"
	    "{\"roles\":[\"abuse\"]},"	/* no e-mail: not the one */
	    ABUSE("abuse@x.example") "]}]}";
	char deep[4096], *p;
	char longname[2048];

	ok(rdap_is(nested, 0, "abuse@x.example"), "nested abuse entity found");
	ok(!strcmp(rdap_name(nested), "NET-1"), "name: the network's");
	ok(!strcmp(rdap_name("{\"entities\":[{\"roles\":[\"registrar\"],"
	    "\"vcardArray\":[\"vcard\",[[\"fn\",{},\"text\",\"Registrar\"]]],"
	    "\"entities\":[" ABUSE("a@r.example") "]}]}"), "Registrar"),
	    "name: else the entity holding the abuse entity");
	ok(!strcmp(rdap_name("{\"entities\":[{\"roles\":[\"ABUSE\"],\"vcardArray\":"
	    "[\"vcard\",[[\"FN\",{},\"text\",\"Desk\"],[\"EMAIL\",{},\"text\",\"a@b.example\"]]]}]}"),
	    "Desk"), "name: else the abuse entity's own; names case-insensitive");
	ok(!strcmp(rdap_name("{\"name\":\"A\\u0007B\",\"entities\":[" ABUSE("a@b.example") "]}"), ""),
	    "a name with a control character is dropped");
	p = longname + sprintf(longname, "{\"name\":\"a");
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "\\u00e9");
	sprintf(p, "\",\"entities\":[" ABUSE("a@b.example") "]}");
	p = (char *)rdap_name(longname);
	ok(strlen(p) == 255 && (p[254] & 0xc0) == 0x80 && (p[253] & 0xc0) == 0xc0,
	    "a long name is cut between UTF-8 sequences (%zu bytes)", strlen(p));
	ok(rdap_is("{\"name\":\"NET\",\"entities\":[{\"roles\":[\"registrant\"]}]}", 1, ""),
	    "no abuse entity: 1");
	ok(rdap_is("{}", 1, ""), "an empty object: 1");

	ok(rdap_is("", -1, "malformed RDAP"), "empty input");
	ok(rdap_is("{\"entities\":[", -1, "malformed RDAP"), "truncated JSON");
	ok(rdap_is("[]", -1, "malformed RDAP"), "an array");
	ok(rdap_is("{\"a\":1,\"a\":2}", -1, "malformed RDAP"), "duplicate keys");
	ok(rdap_is("{\"name\":\"a\\u0000b\"}", -1, "malformed RDAP"), "NUL in a string");
	ok(dz_resolve_parse_rdap("{}\0{}", 5, &(struct dz_resolved){ 0 }, &err) == -1,
	    "NUL byte in the input");
	ok(rdap_is("{\"name\":1}", -1, "malformed"), "name not a string");
	ok(rdap_is("{\"entities\":{}}", -1, "malformed"), "entities an object");
	ok(rdap_is("{\"entities\":[1]}", -1, "malformed"), "an entity not an object");
	ok(rdap_is("{\"entities\":[{\"roles\":\"abuse\"}]}", -1, "malformed"),
	    "roles a string");
	ok(rdap_is("{\"entities\":[{\"roles\":[1]}]}", -1, "malformed"), "a role a number");
	ok(rdap_is("{\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":{}}]}", -1,
	    "malformed"), "vcardArray an object");
	ok(rdap_is("{\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":[\"x\",[]]}]}",
	    -1, "malformed"), "vcardArray not a vcard");
	ok(rdap_is("{\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\"]]]}]}",
	    -1, "malformed"), "a property of three items");
	ok(rdap_is("{\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\",7]]]}]}",
	    -1, "malformed"), "an e-mail a number");
	ok(rdap_is("{\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\",[[\"email\",[],\"text\",\"a@b\"]]]}]}",
	    -1, "malformed"), "parameters not an object");

	/* Nesting: 16 levels of entities are read, 17 refused. */
	for (int levels = 16; levels <= 17; levels++) {
		p = deep;
		for (int i = 1; i < levels; i++)
			p += sprintf(p, "{\"entities\":[");
		p += sprintf(p, "{\"entities\":[" ABUSE("deep@x.example") "]}");
		for (int i = 1; i < levels; i++)
			p += sprintf(p, "]}");
		ok(levels == 16 ? rdap_is(deep, 0, "deep@x.example") :
		    rdap_is(deep, -1, "malformed"), "%d levels of entities", levels);
	}

	/* E-mail addresses. */
	ok(rdap_is("{\"entities\":[" ABUSE("abuse@x.example\\nBcc: v@y.example") "]}",
	    -1, "invalid abuse e-mail"), "e-mail with a newline");
	ok(!strstr(err.msg, "Bcc") && !strstr(err.msg, "x.example"),
	    "the reason does not echo the answer");
	ok(rdap_is("{\"entities\":[" ABUSE("a@x.example, v@y.example") "]}", -1,
	    "invalid abuse e-mail"), "e-mail with a comma (a second recipient)");
	ok(rdap_is("{\"entities\":[" ABUSE("Abuse <a@x.example>") "]}", -1,
	    "invalid abuse e-mail"), "e-mail with a display name");
	ok(rdap_is("{\"entities\":[" ABUSE("") "]}", -1, "invalid abuse e-mail"),
	    "an empty e-mail");
	ok(dz_resolve_email_ok("abuse@hosting.example") && dz_resolve_email_ok("a+b@c"),
	    "plain addresses accepted");
	ok(!dz_resolve_email_ok("abuse") && !dz_resolve_email_ok("@x.example") &&
	    !dz_resolve_email_ok("a@") && !dz_resolve_email_ok("a@b@c") &&
	    !dz_resolve_email_ok("a b@c") && !dz_resolve_email_ok("a@b\r") &&
	    !dz_resolve_email_ok("a@b\t") && !dz_resolve_email_ok("a@b;c") &&
	    !dz_resolve_email_ok("\"a\"@b") && !dz_resolve_email_ok("a@b\x7f") &&
	    !dz_resolve_email_ok("a@\xc3\xa9.example"),
	    "odd addresses refused");
	{
		char e[300];
		memset(e, 'a', sizeof e);
		e[0] = 'x';
		e[1] = '@';
		e[254] = '\0';
		ok(dz_resolve_email_ok(e), "254 bytes accepted");
		e[254] = 'a';
		e[255] = '\0';
		ok(!dz_resolve_email_ok(e), "255 bytes refused");
	}
}

/* Random mutations of good answers: the parsers must only ever refuse. */
static void
test_mutations(void)
{
	static const char *seeds[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 302 Found\r\nLocation: http://x/\r\n\r\n",
		("{\"name\":\"N\",\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\","
		    "[[\"fn\",{},\"text\",\"F\"],[\"email\",{},\"text\",\"a@b.example\"]]]}]}"),
	};
	unsigned long long x = 88172645463325252ULL;
	int crashed = 0, n = 0;

	for (int round = 0; round < 20000; round++) {
		const char *seed = seeds[round % 4];
		size_t len = strlen(seed), cut;
		char buf[256];
		struct dz_resolved r;

		memcpy(buf, seed, len + 1);
		for (int k = 0; k < 1 + round % 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[x % len] = (char)(x >> 32);
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		cut = round % 3 ? len : x % (len + 1);
		if (round % 4 == 3) {
			if (dz_resolve_parse_rdap(buf, cut, &r, &err) == 0 &&
			    !dz_resolve_email_ok(r.abuse))
				crashed++;
		} else {
			for (size_t i = 0; i <= cut; i += 1 + i / 8)
				if (dz_resolve_parse_http(buf, i, 0, 64, &a, &err) != 1)
					break;
			dz_resolve_http_release(&a);
			if (dz_resolve_parse_http(buf, cut, 1, 64, &a, &err) == 0 &&
			    a.len > 64)
				crashed++;
			dz_resolve_http_release(&a);
		}
		n++;
	}
	ok(crashed == 0, "%d random mutations: nothing accepted beyond its limits", n);
}

/* The address classifier (issue 15, finding 10). */
static void
test_addr(void)
{
	static const struct { const char *ip, *want; } v[] = {
		{ "93.184.216.34", NULL }, { "8.8.8.8", NULL },
		{ "1.1.1.1", NULL }, { "2606:4700::1111", NULL },
		{ "2a00:1450:4007:80f::200e", NULL },
		{ "127.0.0.1", "loopback" }, { "127.255.255.254", "loopback" },
		{ "::1", "loopback" },
		{ "10.0.0.1", "private" }, { "172.16.0.1", "private" },
		{ "172.31.255.255", "private" }, { "172.32.0.1", NULL },
		{ "172.15.255.255", NULL }, { "192.168.1.1", "private" },
		{ "100.64.0.1", "private" }, { "100.128.0.1", NULL },
		{ "fc00::1", "private" }, { "fd12:3456::1", "private" },
		{ "fec0::1", "private" },
		{ "169.254.169.254", "link-local" }, { "fe80::1", "link-local" },
		{ "febf::1", "link-local" },
		{ "224.0.0.1", "multicast" }, { "239.255.255.250", "multicast" },
		{ "ff02::1", "multicast" }, { "ff0e::1", "multicast" },
		{ "0.0.0.0", "reserved" }, { "0.1.2.3", "reserved" },
		{ "255.255.255.255", "reserved" }, { "240.0.0.1", "reserved" },
		{ "192.0.2.1", "reserved" }, { "198.51.100.7", "reserved" },
		{ "203.0.113.9", "reserved" }, { "198.18.0.1", "reserved" },
		{ "::", "reserved" }, { "2001:db8::1", "reserved" },
		{ "100::1", "reserved" },
		/* IPv6 forms that carry an IPv4 address */
		{ "::ffff:127.0.0.1", "loopback" }, { "::ffff:7f00:1", "loopback" },
		{ "::ffff:10.1.2.3", "private" },
		{ "::ffff:169.254.169.254", "link-local" },
		{ "::ffff:224.0.0.1", "multicast" },
		{ "::ffff:93.184.216.34", NULL },
		{ "::127.0.0.1", "loopback" }, { "::10.0.0.1", "private" },
		{ "64:ff9b::7f00:1", "loopback" }, { "64:ff9b::a00:1", "private" },
		{ "64:ff9b::808:808", NULL },
		{ "2002:7f00:1::1", "loopback" }, { "2002:c0a8:101::1", "private" },
		{ "2002:808:808::1", NULL },
		{ "localhost", "invalid" }, { "", "invalid" },
		{ "127.1", "invalid" }, { "::ffff:1.2.3", "invalid" },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		const char *got = dz_resolve_addr_class_text(v[i].ip);
		ok(got == v[i].want || (got && v[i].want &&
		    !strcmp(got, v[i].want)), "address '%s': %s (got %s)",
		    v[i].ip, v[i].want ? v[i].want : "public",
		    got ? got : "public");
	}
}

int
main(void)
{
	test_addr();
	test_http();
	test_rdap();
	test_mutations();
	return tap_done();
}
