/*
 * t/unit/test-record: lib/record, the JSON Lines reader and writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/out.h"
#include "core/reader.h"
#include "core/record.h"
#include "tap.h"

static const char *
tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

/* A stream reading data (n bytes) from a temporary file, already removed. */
static FILE *
feed(const void *data, size_t n)
{
	char path[4096];
	FILE *f;
	int fd;

	snprintf(path, sizeof path, "%s/dz-test-record.XXXXXX", tmpdir());
	if ((fd = mkstemp(path)) < 0)
		return NULL;
	unlink(path);
	if ((n && write(fd, data, n) != (ssize_t)n) ||
	    lseek(fd, 0, SEEK_SET) < 0 || !(f = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	return f;
}

#define FEED(s) feed(s, sizeof(s) - 1)

/* Read one line and compare it with want (NULL: expect rc instead). */
static int
next_is(struct dz_reader *r, const char *want, size_t wlen)
{
	struct dz_err err;
	const char *line;
	size_t len;
	int rc = dz_reader_next(r, &line, &len, &err);

	if (rc != 1) {
		diag("rc %d (%s)", rc, rc < 0 ? err.msg : "eof");
		return 0;
	}
	if (len != wlen || memcmp(line, want, len) != 0 || line[len] != '\0') {
		diag("got %zu bytes '%.*s'", len, (int)len, line);
		return 0;
	}
	return 1;
}

static int
next_rc(struct dz_reader *r, int want, struct dz_err *err)
{
	const char *line = "x";
	size_t len = 1;
	int rc = dz_reader_next(r, &line, &len, err);

	if (rc != want)
		diag("rc %d, wanted %d", rc, want);
	return rc == want && (rc == 1 || line == NULL);
}

static void
test_reader(void)
{
	struct dz_reader *r;
	struct dz_err err;
	FILE *f;

	/* CRLF */
	f = FEED("a\r\nbc\r\n\r\nd\re\n");
	r = dz_reader_new(f, '\n', 0, DZ_READER_STRIP_CR, &err);
	ok(r != NULL, "reader_new");
	ok(next_is(r, "a", 1), "crlf: CR stripped");
	ok(next_is(r, "bc", 2), "crlf: second line");
	ok(next_is(r, "", 0), "crlf: empty CRLF line has length 0");
	ok(next_is(r, "d\re", 3), "crlf: CR inside a line kept");
	ok(next_rc(r, 0, &err), "crlf: eof");
	ok(dz_reader_lineno(r) == 4, "crlf: 4 lines");
	dz_reader_free(r);
	fclose(f);

	f = FEED("a\r\n");
	r = dz_reader_new(f, '\n', 0, 0, &err);
	ok(next_is(r, "a\r", 2), "no STRIP_CR: CR kept");
	dz_reader_free(r);
	fclose(f);

	/* Missing final newline */
	f = FEED("one\ntwo");
	r = dz_reader_new(f, '\n', 0, 0, &err);
	ok(next_is(r, "one", 3) && next_is(r, "two", 3),
	    "missing final newline: last line returned");
	ok(next_rc(r, 0, &err) && next_rc(r, 0, &err),
	    "then eof, and eof again");
	ok(dz_reader_lineno(r) == 2, "lineno 2");
	dz_reader_free(r);
	fclose(f);

	/* Empty input */
	f = FEED("");
	r = dz_reader_new(f, '\n', 0, DZ_READER_STRIP_CR, &err);
	ok(next_rc(r, 0, &err), "empty input: eof at once");
	ok(dz_reader_lineno(r) == 0, "empty input: lineno 0");
	dz_reader_free(r);
	fclose(f);

	/* Empty lines */
	f = FEED("\n\nx\n\n");
	r = dz_reader_new(f, '\n', 0, 0, &err);
	ok(next_is(r, "", 0) && next_is(r, "", 0) && next_is(r, "x", 1) &&
	    next_is(r, "", 0) && next_rc(r, 0, &err),
	    "empty lines returned with length 0");
	dz_reader_free(r);
	fclose(f);

	/* NUL byte in '\n' mode */
	f = feed("ok\na\0b\nafter\n", 13);
	r = dz_reader_new(f, '\n', 0, 0, &err);
	ok(next_is(r, "ok", 2), "nul: line before");
	ok(next_rc(r, -1, &err), "nul: line with NUL is bad");
	ok(err.code == EX_DATAERR &&
	    strcmp(err.msg, "line 2: contains a NUL byte") == 0,
	    "nul: message '%s'", err.msg);
	ok(next_is(r, "after", 5) && dz_reader_lineno(r) == 3,
	    "nul: next line read, lineno 3");
	ok(next_rc(r, 0, &err), "nul: eof");
	dz_reader_free(r);
	fclose(f);

	/* Limit: exactly max is fine, one more is not; CR not counted. */
	f = FEED("0123456789abcdef\n0123456789abcdefg\n0123456789abcdef\r\nz");
	r = dz_reader_new(f, '\n', 16, DZ_READER_STRIP_CR, &err);
	ok(next_is(r, "0123456789abcdef", 16), "limit: 16 bytes accepted");
	ok(next_rc(r, -1, &err), "limit: 17 bytes refused");
	ok(strcmp(err.msg, "line 2: too long (more than 16 bytes)") == 0,
	    "limit: message '%s'", err.msg);
	ok(next_is(r, "0123456789abcdef", 16), "limit: 16 bytes + CRLF accepted");
	ok(next_is(r, "z", 1) && next_rc(r, 0, &err), "limit: then z, eof");
	dz_reader_free(r);
	fclose(f);

	f = FEED("0123456789abcdefg");
	r = dz_reader_new(f, '\n', 16, 0, &err);
	ok(next_rc(r, -1, &err) && next_rc(r, 0, &err),
	    "limit: over-long last line without newline refused, then eof");
	dz_reader_free(r);
	fclose(f);
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* A 10 MB line with max_line 16: skipped without being stored. */
static void
test_long_line(void)
{
	static char chunk[65536];
	char path[4096];
	struct dz_reader *r;
	struct dz_err err;
	long before, after;
	FILE *f;
	int fd, i, good = 1;

	snprintf(path, sizeof path, "%s/dz-test-record.XXXXXX", tmpdir());
	fd = mkstemp(path);
	ok(fd >= 0, "long: temporary file");
	if (fd < 0)
		return;
	unlink(path);
	memset(chunk, 'x', sizeof chunk);
	good &= write(fd, "first\n", 6) == 6;
	for (i = 0; i < 160; i++)	/* 10 MiB */
		good &= write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk;
	good &= write(fd, "\nsecond\n", 8) == 8;
	good &= lseek(fd, 0, SEEK_SET) == 0;
	ok(good && (f = fdopen(fd, "r")) != NULL, "long: 10 MiB line written");
	if (!good)
		return;

	before = maxrss_kb();
	r = dz_reader_new(f, '\n', 16, DZ_READER_STRIP_CR, &err);
	ok(next_is(r, "first", 5), "long: line before");
	ok(next_rc(r, -1, &err), "long: 10 MiB line skipped");
	ok(err.code == EX_DATAERR &&
	    strcmp(err.msg, "line 2: too long (more than 16 bytes)") == 0,
	    "long: message '%s'", err.msg);
	ok(next_is(r, "second", 6) && dz_reader_lineno(r) == 3,
	    "long: next line read");
	ok(next_rc(r, 0, &err), "long: eof");
	after = maxrss_kb();
	ok(after - before < 2048, "long: memory bounded (max RSS grew %ld KiB)",
	    after - before);
	dz_reader_free(r);
	fclose(f);
}

static void
test_reader_nul_mode(void)
{
	struct dz_reader *r;
	struct dz_err err;
	FILE *f;

	f = feed("a\nb\0c\r\0\0last", 12);
	r = dz_reader_new(f, '\0', 0, DZ_READER_STRIP_CR, &err);
	ok(next_is(r, "a\nb", 3), "-0: name with a newline");
	ok(next_is(r, "c\r", 2), "-0: CR kept (STRIP_CR is for '\\n' only)");
	ok(next_is(r, "", 0), "-0: empty entry");
	ok(next_is(r, "last", 4), "-0: unterminated last entry");
	ok(next_rc(r, 0, &err), "-0: eof");
	dz_reader_free(r);
	fclose(f);

	f = feed("0123456789\0ok\0", 14);
	r = dz_reader_new(f, '\0', 4, 0, &err);
	ok(next_rc(r, -1, &err) &&
	    strcmp(err.msg, "entry 1: too long (more than 4 bytes)") == 0,
	    "-0: too long: '%s'", err.msg);
	ok(next_is(r, "ok", 2), "-0: next entry");
	dz_reader_free(r);
	fclose(f);

	/* A read error: a directory opened as a stream. */
	f = fopen(tmpdir(), "r");
	if (!f) {
		ok(1, "# skip cannot fopen a directory here");
		ok(1, "# skip");
	} else {
		r = dz_reader_new(f, '\n', 0, 0, &err);
		ok(next_rc(r, -2, &err) && err.code == EX_IOERR &&
		    strncmp(err.msg, "read error: ", 12) == 0,
		    "read error: -2 EX_IOERR '%s'", err.msg);
		ok(next_rc(r, -2, &err) && err.code == EX_IOERR,
		    "read error: sticky");
		dz_reader_free(r);
		fclose(f);
	}

	ok(dz_reader_new(stdin, 'x', 0, 0, &err) == NULL &&
	    err.code == EX_SOFTWARE, "reader_new: bad delimiter refused");
}

static int
parse_fails(const char *s, size_t n, const char *want, const char *secret)
{
	struct dz_err err;
	json_t *j = dz_record_parse(s, n, &err);

	if (j) {
		json_decref(j);
		diag("parsed");
		return 0;
	}
	if (err.code != EX_DATAERR || strcmp(err.msg, want) != 0) {
		diag("code %d message '%s'", err.code, err.msg);
		return 0;
	}
	if (secret && strstr(err.msg, secret)) {
		diag("message quotes the input");
		return 0;
	}
	return 1;
}

#define PARSE_FAILS(s, want, secret) parse_fails(s, sizeof(s) - 1, want, secret)

static void
test_parse(void)
{
	struct dz_err err;
	json_t *j;

	j = dz_record_parse("{\"type\":\"x\",\"n\":\"\xc3\xa9\"}",
	    strlen("{\"type\":\"x\",\"n\":\"\xc3\xa9\"}"), &err);
	ok(j && json_is_object(j) &&
	    strcmp(json_string_value(json_object_get(j, "n")), "\xc3\xa9") == 0,
	    "parse: object with UTF-8");
	json_decref(j);
	j = dz_record_parse("  {}  ", 6, &err);
	ok(j && json_object_size(j) == 0, "parse: {} with blanks");
	json_decref(j);

	ok(PARSE_FAILS("{\"a\":secretword}",
	    "invalid JSON: invalid token at byte 15", "secret"),
	    "parse: invalid token, input not quoted");
	ok(PARSE_FAILS("{\"a\":1",
	    "invalid JSON: premature end of input at byte 6", NULL),
	    "parse: truncated");
	ok(PARSE_FAILS("[1,2]", "record is not a JSON object", NULL),
	    "parse: array refused");
	ok(PARSE_FAILS("42", "invalid JSON: '[' or '{' expected at byte 2", "42"),
	    "parse: number refused");
	ok(PARSE_FAILS("", "invalid JSON: premature end of input at byte 0", NULL),
	    "parse: empty line refused");
	ok(PARSE_FAILS("{\"a\":\"caf\xe9\"}",
	    "invalid JSON: invalid UTF-8 at byte 9", "caf"),
	    "parse: invalid UTF-8");
	ok(PARSE_FAILS("{\"a\":\"\xed\xa0\x80\"}",
	    "invalid JSON: invalid UTF-8 at byte 6", NULL),
	    "parse: UTF-8 surrogate refused");
	ok(PARSE_FAILS("{\"victim\":1,\"victim\":2}",
	    "invalid JSON: duplicate object key at byte 20", "victim"),
	    "parse: duplicate key, key not quoted");
	ok(PARSE_FAILS("{\"a\":1} garbage",
	    "invalid JSON: trailing data after the object at byte 15", "garbage"),
	    "parse: trailing data");
	ok(PARSE_FAILS("{\"a\":\"x\\u0000y\"}",
	    "invalid JSON: \\u0000 in a string at byte 15", NULL),
	    "parse: \\u0000 refused");
	ok(PARSE_FAILS("{\"a\":\"\\ud800\"}",
	    "invalid JSON: invalid Unicode escape at byte 13", "d800"),
	    "parse: lone surrogate escape");
	ok(PARSE_FAILS("{\"a\":\"\x01\"}",
	    "invalid JSON: control character in a string at byte 6", NULL),
	    "parse: raw control character");
	ok(PARSE_FAILS("{\"a\":99999999999999999999}",
	    "invalid JSON: number out of range at byte 25", "9999"),
	    "parse: integer overflow");
}

/* rec written to a memory stream, compared with want. */
static int
writes_as(const json_t *rec, const char *want)
{
	struct dz_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return 0;
	rc = dz_record_write(f, rec, &err);
	fclose(f);
	if (rc || strcmp(buf, want) != 0) {
		diag("rc %d, got '%s'", rc, buf ? buf : "");
		free(buf);
		return 0;
	}
	free(buf);
	return 1;
}

static void
test_write(void)
{
	struct dz_err err;
	json_t *rec, *arr;
	const char *k;

	rec = json_object();
	json_object_set_new(rec, "b", json_integer(2));
	json_object_set_new(rec, "a", json_string("\xc3\xa9/\x01"));
	json_object_set_new(rec, "type", json_string("hash"));
	json_object_set_new(rec, "c", json_pack("{s:i,s:b}", "z", 1, "y", 0));
	ok(writes_as(rec, "{\"type\":\"hash\",\"b\":2,\"a\":\"\xc3\xa9/\\u0001\","
	    "\"c\":{\"z\":1,\"y\":false}}\n"),
	    "write: type first, then insertion order, UTF-8 as is");
	k = json_object_iter_key(json_object_iter(rec));
	ok(strcmp(k, "b") == 0 && json_object_size(rec) == 4,
	    "write: record itself not reordered");
	json_decref(rec);

	rec = dz_record_new("match");
	json_object_set_new(rec, "x", json_real(0.5));
	json_object_set_new(rec, "n", json_integer(-3));
	ok(writes_as(rec, "{\"type\":\"match\",\"x\":0.5,\"n\":-3}\n"),
	    "write: type already first");
	json_decref(rec);

	rec = json_pack("{s:s}", "path", "a");
	ok(writes_as(rec, "{\"path\":\"a\"}\n"), "write: no type");
	json_decref(rec);

	arr = json_array();
	ok(dz_record_write(stdout, arr, &err) == -1 && err.code == EX_SOFTWARE,
	    "write: not an object refused");
	json_decref(arr);

	rec = dz_record_error("dz-hash", "truncated PNG data");
	dz_record_set_path(rec, "path", "a b.png");
	json_object_set_new(rec, "line", json_integer(12));
	ok(writes_as(rec, "{\"type\":\"error\",\"program\":\"dz-hash\","
	    "\"reason\":\"truncated PNG data\",\"path\":\"a b.png\",\"line\":12}\n"),
	    "error record");
	json_decref(rec);

	rec = dz_record_error("dz-hash", "bad \xff");
	ok(writes_as(rec, "{\"type\":\"error\",\"program\":\"dz-hash\","
	    "\"reason\":\"bad \xef\xbf\xbd\"}\n"),
	    "error record: invalid UTF-8 in reason replaced");
	json_decref(rec);
}

static void
test_set_path(void)
{
	json_t *rec = dz_record_new("hash");

	ok(dz_record_set_path(rec, "path", "dir/caf\xc3\xa9.jpg") == 0 &&
	    writes_as(rec, "{\"type\":\"hash\",\"path\":\"dir/caf\xc3\xa9.jpg\"}\n"),
	    "set_path: valid UTF-8 as is, no _hex");
	ok(dz_record_set_path(rec, "path", "caf\xe9.jpg") == 0 &&
	    writes_as(rec, "{\"type\":\"hash\",\"path\":\"caf\xef\xbf\xbd.jpg\","
	    "\"path_hex\":\"636166e92e6a7067\"}\n"),
	    "set_path: Latin-1 byte replaced, raw bytes in path_hex");
	ok(dz_record_set_path(rec, "path", "ok") == 0 &&
	    writes_as(rec, "{\"type\":\"hash\",\"path\":\"ok\"}\n"),
	    "set_path: valid again removes stale path_hex");
	ok(dz_record_set_path(rec, "p", "\xc0\xaf|\xed\xa0\x80|\xe2\x82") == 0 &&
	    strcmp(json_string_value(json_object_get(rec, "p")),
	    "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd") == 0 &&
	    strcmp(json_string_value(json_object_get(rec, "p_hex")),
	    "c0af7ceda0807ce282") == 0,
	    "set_path: overlong, surrogate, truncated: one U+FFFD per byte");
	ok(dz_record_set_path(rec, "q", "\xf0\x9f\x98\x80\xf4\x90\x80\x80") == 0 &&
	    strcmp(json_string_value(json_object_get(rec, "q")),
	    "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") == 0,
	    "set_path: 4-byte sequence kept, above U+10FFFF replaced");
	json_decref(rec);
	rec = json_array();
	ok(dz_record_set_path(rec, "p", "x") == -1, "set_path: not an object");
	json_decref(rec);
}

static void
test_out(void)
{
	struct dz_err err;
	json_t *rec = dz_record_new("hash");
	char path[4096], buf[256];
	struct stat st;
	int fds[2], fd;
	FILE *f;
	ssize_t n;

	/* /dev/full: the failure must show at the latest at close. */
	f = fopen("/dev/full", "w");
	if (!f) {
		ok(1, "# skip no /dev/full");
	} else {
		int wrc;

		dz_out_init(f);
		wrc = dz_record_write(f, rec, &err);
		ok(dz_out_close(f, &err) == -1 && err.code == EX_IOERR &&
		    strcmp(err.msg, "write error: No space left on device") == 0,
		    "/dev/full: close fails: '%s' (write returned %d)", err.msg, wrc);
	}

	/* A pipe is line buffered: the record is there before any flush. */
	if (pipe(fds) == 0 && (f = fdopen(fds[1], "w"))) {
		dz_out_init(f);
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
		dz_record_write(f, rec, &err);
		n = read(fds[0], buf, sizeof buf);
		ok(n == 16 && memcmp(buf, "{\"type\":\"hash\"}\n", 16) == 0,
		    "pipe: record flushed at once");
		ok(dz_out_close(f, &err) == 0, "pipe: close ok");
		close(fds[0]);
	}

	/* A regular file keeps full buffering. */
	snprintf(path, sizeof path, "%s/dz-test-record.XXXXXX", tmpdir());
	if ((fd = mkstemp(path)) >= 0 && (f = fdopen(fd, "w"))) {
		dz_out_init(f);
		dz_record_write(f, rec, &err);
		fstat(fd, &st);
		ok(st.st_size == 0, "file: still buffered after a record");
		ok(dz_out_close(f, &err) == 0, "file: close ok");
		ok(stat(path, &st) == 0 && st.st_size == 16, "file: record written");
		unlink(path);
	}
	json_decref(rec);
}

/* A record is whole or absent: a member that could not be made drops it. */
static void
test_put(void)
{
	json_t *rec = dz_record_new("ack"), *none = NULL;

	dz_record_put(&rec, "case", json_string("C1"));
	ok(rec && json_object_size(rec) == 2, "put: a member added");
	dz_record_put(&rec, "item", NULL);	/* as if json_string() failed */
	ok(rec == NULL, "put: a member missing drops the record");
	dz_record_put(&rec, "case", json_string("C2"));
	ok(rec == NULL, "put: on a dropped record, the value is released");
	dz_record_put(&none, "x", json_integer(1));
	ok(none == NULL, "put: NULL stays NULL");
}

/* A whole file as one JSON value; a fault of the input is no "oom". */
static void
test_loadf(void)
{
	json_error_t je;
	json_t *j;
	int oom = -1;
	FILE *f = tmpfile();

	if (!f) {
		ok(0, "loadf: tmpfile");
		return;
	}
	fputs("{\"a\": [1, 2]}", f);
	rewind(f);
	j = dz_record_loadf(f, &je, &oom);
	ok(j && json_is_object(j) && oom == 0, "loadf: an object");
	json_decref(j);
	fclose(f);
	f = tmpfile();
	fputs("{\"a\": 1, \"a\": 2}", f);
	rewind(f);
	j = dz_record_loadf(f, &je, &oom);
	ok(!j && oom == 0 && je.text[0], "loadf: a duplicate key is the input's fault");
	fclose(f);
}

int
main(void)
{
	test_reader();
	test_long_line();
	test_reader_nul_mode();
	test_parse();
	test_write();
	test_set_path();
	test_out();
	test_put();
	test_loadf();
	return tap_done();
}
