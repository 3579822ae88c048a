/*
 * t/unit/test-reader: lib/core/reader, the bounded line reader.
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
#include "core/reader.h"
#include "tap.h"
#include "util.h"

/* A stream reading data (n bytes) from a temporary file, already removed. */
static FILE *
feed(const void *data, size_t n)
{
	return feed_in(tmpdir(), data, n);
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

int
main(void)
{
	test_reader();
	test_long_line();
	test_reader_nul_mode();
	return tap_done();
}
