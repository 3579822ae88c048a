#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/reader.h"

enum { RD_OK, RD_EOF, RD_FAILED };

struct dz_reader {
	FILE *f;
	int delim;
	unsigned flags;
	size_t max;		/* longest line accepted */
	char *buf;
	size_t cap;
	size_t lineno;
	int state;
	struct dz_err fail;	/* repeated by every call after RD_FAILED */
};

struct dz_reader *
dz_reader_new(FILE *f, int delim, size_t max_line, unsigned flags,
    struct dz_err *err)
{
	struct dz_reader *r;

	if (!f || (delim != '\n' && delim != '\0') ||
	    (flags & ~(unsigned)DZ_READER_STRIP_CR)) {
		dz_err_set(err, EX_SOFTWARE, "dz_reader_new: bad arguments");
		return NULL;
	}
	if (max_line == 0)
		max_line = DZ_READER_MAX_DEFAULT;
	if (max_line > SIZE_MAX / 2) {
		dz_err_set(err, EX_SOFTWARE, "dz_reader_new: line limit too large");
		return NULL;
	}
	if (!(r = calloc(1, sizeof *r))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	r->f = f;
	r->delim = delim;
	r->flags = delim == '\n' ? flags : 0;
	r->max = max_line;
	return r;
}

/* Make room for at least need bytes (need <= r->max + 2). */
static int
reader_grow(struct dz_reader *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 256;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap > r->max + 2)
		cap = r->max + 2;
	if (!(p = realloc(r->buf, cap)))
		return -1;
	r->buf = p;
	r->cap = cap;
	return 0;
}

static int
reader_fail(struct dz_reader *r, struct dz_err *err, int code,
    const char *what, int e)
{
	char eb[128];

	r->state = RD_FAILED;
	if (e)
		dz_err_set(&r->fail, code, "%s: %s", what,
		    dz_err_strerror(e, eb, sizeof eb));
	else
		dz_err_set(&r->fail, code, "%s", what);
	if (err)
		*err = r->fail;
	return -2;
}

int
dz_reader_next(struct dz_reader *r, const char **line, size_t *len,
    struct dz_err *err)
{
	const char *noun = r->delim == '\n' ? "line" : "entry";
	int strip = r->flags & DZ_READER_STRIP_CR;
	/* Room for one more byte that may be the CR we strip. */
	size_t limit = r->max + (strip ? 1 : 0);
	size_t n = 0;
	int c, any = 0, too_long = 0, nul = 0, oom = 0;

	*line = NULL;
	*len = 0;
	if (r->state == RD_EOF)
		return 0;
	if (r->state == RD_FAILED) {
		if (err)
			*err = r->fail;
		return -2;
	}

	flockfile(r->f);
	while ((c = getc_unlocked(r->f)) != EOF) {
		any = 1;
		if (c == r->delim)
			break;
		if (c == '\0')
			nul = 1;
		if (too_long || oom)
			continue;	/* skip to the delimiter, storing nothing */
		if (n == limit) {
			too_long = 1;
			continue;
		}
		if (n + 1 >= r->cap && reader_grow(r, n + 2) < 0) {
			oom = 1;
			continue;
		}
		r->buf[n++] = (char)c;
	}
	if (c == EOF && ferror(r->f)) {
		int e = errno;

		funlockfile(r->f);
		return reader_fail(r, err, EX_IOERR, "read error", e);
	}
	funlockfile(r->f);
	if (c == EOF) {
		r->state = RD_EOF;
		if (!any)
			return 0;
	}
	if (oom)
		return reader_fail(r, err, EX_SOFTWARE, "out of memory", 0);
	r->lineno++;
	if (!too_long && strip && n > 0 && r->buf[n - 1] == '\r')
		n--;
	if (!too_long && n > r->max)
		too_long = 1;
	if (too_long) {
		dz_err_set(err, EX_DATAERR, "%s %zu: too long (more than %zu bytes)",
		    noun, r->lineno, r->max);
		return -1;
	}
	if (nul && r->delim == '\n') {
		dz_err_set(err, EX_DATAERR, "%s %zu: contains a NUL byte", noun,
		    r->lineno);
		return -1;
	}
	if (!r->buf && reader_grow(r, 1) < 0)
		return reader_fail(r, err, EX_SOFTWARE, "out of memory", 0);
	r->buf[n] = '\0';
	*line = r->buf;
	*len = n;
	return 1;
}

size_t
dz_reader_lineno(const struct dz_reader *r)
{
	return r->lineno;
}

void
dz_reader_free(struct dz_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}
