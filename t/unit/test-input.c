/*
 * t/unit/test-input: lib/core/input, file names and reading files into memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/input.h"
#include "tap.h"
#include "util.h"

static char tmp[4096];		/* our scratch directory under $TMPDIR */

static FILE *
feed(const void *data, size_t n)
{
	return feed_in(tmp, data, n);
}

/* A file named name in tmp holding n bytes of data; returns its path. */
static const char *
mkfile(const char *name, const void *data, size_t n)
{
	static char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/%s", tmp, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (n && write(fd, data, n) != (ssize_t)n))
		diag("cannot write %s", path);
	if (fd >= 0)
		close(fd);
	return path;
}

static int
name_is(struct dz_names *it, const char *want, size_t wlen)
{
	struct dz_err err;
	const char *name;
	int rc = dz_names_next(it, &name, &err);

	if (rc != 1) {
		diag("rc %d (%s)", rc, rc < 0 ? err.msg : "end");
		return 0;
	}
	if (strlen(name) != wlen || memcmp(name, want, wlen) != 0) {
		diag("got '%s'", name);
		return 0;
	}
	return 1;
}

/* The next call returns rc (with err's message msg when msg is set). */
static int
name_rc(struct dz_names *it, int want, const char *msg)
{
	struct dz_err err;
	const char *name = "x";
	int rc = dz_names_next(it, &name, &err);

	if (rc != want || name != NULL) {
		diag("rc %d, wanted %d", rc, want);
		return 0;
	}
	if (msg && (err.code != EX_DATAERR || strcmp(err.msg, msg) != 0)) {
		diag("code %d message '%s'", err.code, err.msg);
		return 0;
	}
	return 1;
}

static void
test_names(void)
{
	char *ops[] = { "a.jpg", "-", "", "dir/b c.png" };
	char big[20000 + 2];
	struct dz_names *it;
	struct dz_err err;
	FILE *f;

	it = dz_names_new(ops, 4, NULL, '\n', &err);
	ok(it != NULL, "operands: new");
	ok(name_is(it, "a.jpg", 5), "operands: first");
	ok(name_is(it, "-", 1), "operands: '-' as is");
	ok(name_rc(it, -1, "argument 3: empty name"), "operands: empty refused");
	ok(name_is(it, "dir/b c.png", 11), "operands: then the next");
	ok(name_rc(it, 0, NULL) && name_rc(it, 0, NULL), "operands: end, twice");
	dz_names_free(it);

	f = feed("x.jpg\n\n y \r\n-\nlast", 18);
	it = dz_names_new(NULL, 0, f, '\n', &err);
	ok(name_is(it, "x.jpg", 5), "list: first");
	ok(name_rc(it, -1, "line 2: empty name"), "list: empty line refused");
	ok(name_is(it, " y \r", 4), "list: blanks and CR kept");
	ok(name_is(it, "-", 1), "list: '-' as is");
	ok(name_is(it, "last", 4), "list: unterminated last name");
	ok(name_rc(it, 0, NULL), "list: end");
	dz_names_free(it);
	fclose(f);

	f = feed("a\nb\0\0c\0", 7);
	it = dz_names_new(NULL, 0, f, '\0', &err);
	ok(name_is(it, "a\nb", 3), "-0: name with a newline");
	ok(name_rc(it, -1, "entry 2: empty name"), "-0: empty entry refused");
	ok(name_is(it, "c", 1) && name_rc(it, 0, NULL), "-0: last, end");
	dz_names_free(it);
	fclose(f);

	f = feed("a\0b\nc\n", 6);
	it = dz_names_new(NULL, 0, f, '\n', &err);
	ok(name_rc(it, -1, "line 1: contains a NUL byte"), "list: NUL refused");
	ok(name_is(it, "c", 1), "list: next name after NUL");
	dz_names_free(it);
	fclose(f);

	memset(big, 'x', sizeof big - 2);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = 'y';
	f = feed(big, sizeof big);
	it = dz_names_new(NULL, 0, f, '\n', &err);
	ok(name_rc(it, -1, "line 1: too long (more than 16384 bytes)"),
	    "list: 20000-byte name refused");
	ok(name_is(it, "y", 1), "list: next name after it");
	dz_names_free(it);
	fclose(f);

	f = fopen(tmp, "r");
	if (f) {
		it = dz_names_new(NULL, 0, f, '\n', &err);
		ok(dz_names_next(it, &(const char *){ NULL }, &err) == -2 &&
		    err.code == EX_IOERR, "list: read error is -2: '%s'", err.msg);
		dz_names_free(it);
		fclose(f);
	} else {
		ok(1, "# skip cannot fopen a directory");
	}
	ok(dz_names_new(NULL, 0, NULL, '\n', &err) == NULL &&
	    err.code == EX_SOFTWARE, "no operands and no list: refused");
}

static int
read_fails(const char *path, uint64_t max, int code, const char *msg)
{
	struct dz_err err;
	uint8_t *buf = (uint8_t *)"x";
	size_t len = 1;
	int rc = dz_file_read(path, max, &buf, &len, &err);

	if (rc != -1 || buf != NULL || len != 0) {
		diag("rc %d", rc);
		free(rc == 0 ? buf : NULL);
		return 0;
	}
	if (err.code != code || strcmp(err.msg, msg) != 0) {
		diag("code %d message '%s'", err.code, err.msg);
		return 0;
	}
	return 1;
}

static int
read_gives(const char *path, uint64_t max, const void *want, size_t wlen)
{
	struct dz_err err;
	uint8_t *buf = NULL;
	size_t len = 0;
	int good;

	if (dz_file_read(path, max, &buf, &len, &err) < 0) {
		diag("failed: %s", err.msg);
		return 0;
	}
	good = buf != NULL && len == wlen && memcmp(buf, want, wlen) == 0;
	if (!good)
		diag("got %zu bytes", len);
	free(buf);
	return good;
}

/*
 * Run dz_file_read("-") with stdin a pipe fed by a child writing n bytes
 * (pattern i % 251). Returns the dz_file_read result; *got_len set.
 */
static int
read_stdin_pipe(size_t n, uint64_t max, size_t *got_len, int *content_ok,
    struct dz_err *err)
{
	int fds[2], saved, rc, status;
	uint8_t *buf = NULL;
	size_t len = 0, i;
	pid_t pid;

	if (pipe(fds) < 0)
		return -2;
	if ((pid = fork()) == 0) {
		static uint8_t chunk[4096];
		size_t off = 0, k;

		close(fds[0]);
		while (off < n) {
			k = n - off < sizeof chunk ? n - off : sizeof chunk;
			for (i = 0; i < k; i++)
				chunk[i] = (uint8_t)((off + i) % 251);
			if (write(fds[1], chunk, k) != (ssize_t)k)
				_exit(1);
			off += k;
		}
		_exit(0);
	}
	close(fds[1]);
	saved = dup(0);
	dup2(fds[0], 0);
	close(fds[0]);
	rc = dz_file_read("-", max, &buf, &len, err);
	dup2(saved, 0);	/* closes the pipe: a writer still going gets EPIPE */
	close(saved);
	waitpid(pid, &status, 0);
	*got_len = len;
	*content_ok = 1;
	for (i = 0; i < len; i++)
		if (buf[i] != (uint8_t)(i % 251)) {
			*content_ok = 0;
			break;
		}
	free(buf);
	return rc;
}

static void
test_file_read(void)
{
	static const uint8_t bin[] = { 0xff, 0xd8, 0, 1, '\n', 0, 0xd9 };
	char path[4200], hundred[100];
	struct dz_err err;
	const char *p;
	uint8_t *buf;
	size_t len;
	int content_ok, rc, fd, saved;

	snprintf(path, sizeof path, "%s/missing", tmp);
	ok(read_fails(path, 0, EX_NOINPUT,
	    "cannot open: No such file or directory"), "missing file");
	ok(read_fails(tmp, 0, EX_NOINPUT, "is a directory"), "directory");
	ok(read_fails("/dev/null", 0, EX_NOINPUT, "not a regular file"),
	    "/dev/null (a character device) refused");

	p = mkfile("bin", bin, sizeof bin);
	ok(read_gives(p, 0, bin, sizeof bin), "binary file read whole");

	memset(hundred, 'h', sizeof hundred);
	p = mkfile("hundred", hundred, sizeof hundred);
	ok(read_fails(p, 99, EX_DATAERR,
	    "file too large: 100 bytes exceeds limit 99"), "over the limit");
	ok(read_gives(p, 100, hundred, 100), "exactly at the limit");
	ok(read_gives(p, 0, hundred, 100), "limit 0: no limit");

	p = mkfile("empty", "", 0);
	buf = NULL;
	len = 1;
	rc = dz_file_read(p, 10, &buf, &len, &err);
	ok(rc == 0 && buf != NULL && len == 0, "empty file: non-NULL, length 0");
	free(buf);

	/* stdin a pipe */
	rc = read_stdin_pipe(300000, 1 << 20, &len, &content_ok, &err);
	ok(rc == 0 && len == 300000 && content_ok,
	    "stdin pipe: 300000 bytes read whole");
	rc = read_stdin_pipe(300000, 300000, &len, &content_ok, &err);
	ok(rc == 0 && len == 300000 && content_ok, "stdin pipe: exactly the limit");
	rc = read_stdin_pipe(300001, 300000, &len, &content_ok, &err);
	ok(rc == -1 && err.code == EX_DATAERR &&
	    strcmp(err.msg, "file too large: more than 300000 bytes") == 0,
	    "stdin pipe: over the limit: '%s'", err.msg);
	rc = read_stdin_pipe(0, 10, &len, &content_ok, &err);
	ok(rc == 0 && len == 0, "stdin pipe: empty");

	/* stdin a regular file */
	p = mkfile("stdin", bin, sizeof bin);
	fd = open(p, O_RDONLY);
	saved = dup(0);
	dup2(fd, 0);
	close(fd);
	ok(read_gives("-", 0, bin, sizeof bin), "stdin a regular file");
	ok(read_fails("-", 3, EX_DATAERR, "file too large: 7 bytes exceeds limit 3"),
	    "stdin a regular file over the limit");
	/* stdin a device */
	fd = open("/dev/null", O_RDONLY);
	dup2(fd, 0);
	close(fd);
	ok(read_fails("-", 0, EX_NOINPUT, "not a regular file"),
	    "stdin /dev/null refused");
	dup2(saved, 0);
	close(saved);

	/* A FIFO without a writer reads as empty instead of hanging. */
	snprintf(path, sizeof path, "%s/fifo", tmp);
	if (mkfifo(path, 0600) == 0) {
		alarm(10);
		buf = NULL;
		rc = dz_file_read(path, 0, &buf, &len, &err);
		alarm(0);
		ok(rc == 0 && len == 0, "FIFO without writer: empty, no hang");
		free(buf);
		unlink(path);
	} else {
		ok(1, "# skip mkfifo failed");
	}

	/* Never creates anything: the scratch directory holds only ours. */
	snprintf(path, sizeof path, "%s/hundred", tmp);
	unlink(path);
	snprintf(path, sizeof path, "%s/bin", tmp);
	unlink(path);
	snprintf(path, sizeof path, "%s/empty", tmp);
	unlink(path);
	snprintf(path, sizeof path, "%s/stdin", tmp);
	unlink(path);
	ok(rmdir(tmp) == 0, "scratch directory empty at the end");
}

int
main(void)
{
	scratch_dir(tmp, sizeof tmp, "dz-test-input");
	test_names();
	test_file_read();
	return tap_done();
}
