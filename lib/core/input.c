#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/input.h"
#include "core/reader.h"

/*** File names ***/

struct dz_names {
	char **ops;
	int n, i;
	int delim;
	struct dz_reader *r;
};

struct dz_names *
dz_names_new(char **operands, int n, FILE *list, int delim,
    struct dz_err *err)
{
	struct dz_names *it;

	if (n < 0 || (n > 0 && !operands) || (n == 0 && !list)) {
		dz_err_set(err, EX_SOFTWARE, "dz_names_new: bad arguments");
		return NULL;
	}
	if (!(it = calloc(1, sizeof *it))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	it->ops = operands;
	it->n = n;
	it->delim = delim;
	if (n == 0 && !(it->r = dz_reader_new(list, delim, DZ_NAME_MAX, 0, err))) {
		free(it);
		return NULL;
	}
	return it;
}

int
dz_names_next(struct dz_names *it, const char **name, struct dz_err *err)
{
	size_t len;
	int rc;

	*name = NULL;
	if (!it->r) {
		if (it->i >= it->n)
			return 0;
		it->i++;
		if (it->ops[it->i - 1][0] == '\0') {
			dz_err_set(err, EX_DATAERR, "argument %d: empty name", it->i);
			return -1;
		}
		*name = it->ops[it->i - 1];
		return 1;
	}
	rc = dz_reader_next(it->r, name, &len, err);
	if (rc == 1 && len == 0) {
		*name = NULL;
		dz_err_set(err, EX_DATAERR, "%s %zu: empty name",
		    it->delim == '\n' ? "line" : "entry",
		    dz_reader_lineno(it->r));
		return -1;
	}
	return rc;
}

void
dz_names_free(struct dz_names *it)
{
	if (!it)
		return;
	dz_reader_free(it->r);
	free(it);
}

/*** Reading a file ***/

/* 0 if st is a type we read, else -1 with err. */
static int
check_type(const struct stat *st, int is_stdin, struct dz_err *err)
{
	if (S_ISREG(st->st_mode) || S_ISFIFO(st->st_mode))
		return 0;
	if (is_stdin && S_ISSOCK(st->st_mode))
		return 0;
	if (S_ISDIR(st->st_mode))
		return dz_err_set(err, EX_NOINPUT, "is a directory");
	return dz_err_set(err, EX_NOINPUT, "not a regular file");
}

static int
open_input(const char *path, struct stat *st, struct dz_err *err)
{
	char eb[128];
	int fd, fl;

	if (stat(path, st) < 0)
		return dz_err_set(err, EX_NOINPUT, "cannot open: %s",
		    dz_err_strerror(errno, eb, sizeof eb));
	if (check_type(st, 0, err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return dz_err_set(err, EX_NOINPUT, "cannot open: %s",
		    dz_err_strerror(errno, eb, sizeof eb));
	/* Check again what we opened: the name may have changed meanwhile. */
	if (fstat(fd, st) < 0) {
		dz_err_set(err, EX_NOINPUT, "cannot open: %s",
		    dz_err_strerror(errno, eb, sizeof eb));
		goto fail;
	}
	if (check_type(st, 0, err) < 0)
		goto fail;
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		dz_err_set(err, EX_SOFTWARE, "cannot open: %s",
		    dz_err_strerror(errno, eb, sizeof eb));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* read(), retrying on EINTR and waiting when fd is non-blocking. */
static ssize_t
read_some(int fd, uint8_t *p, size_t n)
{
	struct pollfd pfd;
	ssize_t r;

	for (;;) {
		r = read(fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
}

int
dz_file_read(const char *path, uint64_t max_bytes, uint8_t **bufp,
    size_t *lenp, struct dz_err *err)
{
	int is_stdin = strcmp(path, "-") == 0, fd;
	/* We hold at most limit + 1 bytes: one more tells "too large". */
	uint64_t limit = max_bytes ? max_bytes : UINT64_MAX - 1;
	uint64_t hold = limit + 1 < SIZE_MAX ? limit + 1 : SIZE_MAX;
	uint8_t *buf = NULL, *p;
	size_t n = 0, cap;
	struct stat st;
	char eb[128];
	ssize_t r;

	*bufp = NULL;
	*lenp = 0;
	if (is_stdin) {
		fd = 0;
		if (fstat(fd, &st) < 0)
			return dz_err_set(err, EX_NOINPUT,
			    "cannot read standard input: %s",
			    dz_err_strerror(errno, eb, sizeof eb));
		if (check_type(&st, 1, err) < 0)
			return -1;
	} else if ((fd = open_input(path, &st, err)) < 0) {
		return -1;
	}

	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > limit) {
		dz_err_set(err, EX_DATAERR,
		    "file too large: %jd bytes exceeds limit %" PRIu64,
		    (intmax_t)st.st_size, max_bytes);
		goto fail;
	}
	/* A regular file: its size plus one byte to see the end at once. */
	if (S_ISREG(st.st_mode))
		cap = (uint64_t)st.st_size + 1 < hold ?
		    (size_t)st.st_size + 1 : (size_t)hold;
	else
		cap = 65536 < hold ? 65536 : (size_t)hold;
	if (!(buf = malloc(cap))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	for (;;) {
		if (n == cap) {
			if ((uint64_t)n >= hold)
				break;
			cap = (uint64_t)cap * 2 < hold && cap < SIZE_MAX / 2 ?
			    cap * 2 : (size_t)hold;
			if (!(p = realloc(buf, cap))) {
				dz_err_set(err, EX_SOFTWARE, "out of memory");
				goto fail;
			}
			buf = p;
		}
		if ((r = read_some(fd, buf + n, cap - n)) < 0) {
			dz_err_set(err, EX_IOERR, "read error: %s",
			    dz_err_strerror(errno, eb, sizeof eb));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if ((uint64_t)n > limit) {
		dz_err_set(err, EX_DATAERR, "file too large: more than %" PRIu64
		    " bytes", max_bytes);
		goto fail;
	}
	if (!is_stdin)
		close(fd);
	*bufp = buf;
	*lenp = n;
	return 0;
fail:
	free(buf);
	if (!is_stdin)
		close(fd);
	return -1;
}
