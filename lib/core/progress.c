#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/progress.h"

#define REDRAW_NS (250 * 1000 * 1000LL)

static long long
ns_between(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL +
	    (b->tv_nsec - a->tv_nsec);
}

void
dz_progress_init(struct dz_progress *p, const char *prog, const char *unit,
    int enabled)
{
	const char *force;

	memset(p, 0, sizeof *p);
	p->prog = prog;
	p->unit = unit;
	if (enabled < 0) {
		force = getenv("DZ_PROGRESS_FORCE");
		enabled = (force && strcmp(force, "1") == 0) ||
		    (isatty(2) && !isatty(1));
	}
	p->enabled = enabled != 0;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

/* Columns of the terminal on stderr; 0 when unknown. */
static int
columns(void)
{
	struct winsize ws;

	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

/* printf at *len into buf, which stays a string however long the text. */
static void
append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

static void
draw(struct dz_progress *p, const struct timespec *now, int final)
{
	long long ns = ns_between(&p->start, now);
	char line[256] = "";
	size_t len = 0;
	int n, cols;

	append(line, sizeof line, &len, "%s: %" PRIu64, p->prog, p->done);
	if (p->total)
		append(line, sizeof line, &len, "/%" PRIu64, p->total);
	append(line, sizeof line, &len, " %s", p->unit);
	if (p->errors)
		append(line, sizeof line, &len, ", %" PRIu64 " error%s",
		    p->errors, p->errors == 1 ? "" : "s");
	/* A rate over less than a quarter second means nothing. */
	if (ns >= REDRAW_NS)
		append(line, sizeof line, &len, ", %.1f/s",
		    (double)p->done * 1e9 / (double)ns);
	/*
	 * Wider than the terminal, the line would wrap and "\r" not undo it:
	 * keep the fields that fit (or as many characters as fit).
	 */
	if ((cols = columns()) > 1 && len > (size_t)cols - 1) {
		char next = line[cols - 1], *comma;

		len = (size_t)cols - 1;
		line[len] = '\0';
		if (next != ',' && (comma = strrchr(line, ',')))
			len = (size_t)(comma - line);
	}
	line[len] = '\0';
	n = (int)len;
	if (cols > 1 && p->width > cols - 1)
		p->width = cols - 1;	/* the terminal shrank */
	/* Pad over the end of a longer previous line. */
	fprintf(stderr, "\r%s%*s%s", line, p->width > n ? p->width - n : 0, "",
	    final ? "\n" : "");
	fflush(stderr);
	p->width = final ? 0 : n;
	p->visible = !final;
	p->drawn = 1;
	p->last = *now;
}

void
dz_progress_total(struct dz_progress *p, uint64_t total)
{
	p->total = total;
}

void
dz_progress_errors(struct dz_progress *p, uint64_t errors)
{
	p->errors = errors;
}

void
dz_progress_tick(struct dz_progress *p, uint64_t done)
{
	struct timespec now;

	if (!p->enabled)
		return;
	p->done = done;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Cleared for a diagnostic: back at once; else at most 4 times/s. */
	if (p->visible && ns_between(&p->last, &now) < REDRAW_NS)
		return;
	draw(p, &now, 0);
}

void
dz_progress_clear(struct dz_progress *p)
{
	if (!p->enabled || !p->visible)
		return;
	fprintf(stderr, "\r%*s\r", p->width, "");
	fflush(stderr);
	p->width = 0;
	p->visible = 0;
}

void
dz_progress_end(struct dz_progress *p)
{
	struct timespec now;

	if (!p->enabled)
		return;
	if (p->drawn) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		draw(p, &now, 1);
	}
	p->enabled = 0;
}
