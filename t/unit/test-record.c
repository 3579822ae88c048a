/*
 * t/unit/test-record: lib/core/record (parsing, writing, paths, error
 * records) and lib/core/out (the output stream).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/out.h"
#include "core/record.h"
#include "tap.h"
#include "util.h"

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
	test_parse();
	test_write();
	test_set_path();
	test_out();
	test_put();
	test_loadf();
	return tap_done();
}
