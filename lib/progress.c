#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

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

static void
draw(struct dz_progress *p, const struct timespec *now, int final)
{
	long long ns = ns_between(&p->start, now);
	char line[256];
	int n;

	/* A rate over less than a quarter second means nothing. */
	if (ns >= REDRAW_NS)
		n = snprintf(line, sizeof line, "%s: %" PRIu64 " %s, %.1f/s",
		    p->prog, p->done, p->unit, (double)p->done * 1e9 / (double)ns);
	else
		n = snprintf(line, sizeof line, "%s: %" PRIu64 " %s", p->prog,
		    p->done, p->unit);
	if (n < 0)
		return;
	if (n >= (int)sizeof line)
		n = (int)sizeof line - 1;
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
dz_progress_tick(struct dz_progress *p, uint64_t done)
{
	struct timespec now;

	if (!p->enabled)
		return;
	p->done = done;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && ns_between(&p->last, &now) < REDRAW_NS)
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
