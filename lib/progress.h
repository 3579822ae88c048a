/*
 * lib/progress: a progress line on standard error for long runs.
 *
 *	dz-hash: 1234 files, 56.7/s
 *
 * (the rate, an average since dz_progress_init, is left out during the
 * first quarter second).
 * This is the one documented exception to "lib/ never prints": when
 * enabled, and only then, these functions write to stderr. The first tick
 * draws the line; later ticks redraw it in place ("\r", padded with
 * spaces, no terminal escapes) at most four times a second; the end leaves
 * the final count on its own line. It holds only counts, never a file
 * name.
 *
 * Enabling (dz_progress_init's enabled):
 *    1  always on;  0  always off (e.g. -q);
 *   -1  automatic: on when stderr is a terminal and stdout is not (when
 *       records go to the terminal they are progress enough, and a
 *       progress line would garble them), or when the environment has
 *       DZ_PROGRESS_FORCE=1 (a hook for tests: on even without a tty).
 *
 * The struct belongs to the caller (usually on the stack); its fields are
 * private. One struct per thread: calls on one struct are not locked, and
 * they should come from the thread that writes diagnostics.
 */
#ifndef DZ_PROGRESS_H
#define DZ_PROGRESS_H

#include <stdint.h>
#include <time.h>

struct dz_progress {
	const char *prog;	/* not copied: must outlive the struct */
	const char *unit;	/* likewise */
	int enabled;
	int visible;		/* a line is on screen now */
	int drawn;		/* a line was drawn at some point */
	int width;		/* length of the line on screen */
	uint64_t done;
	struct timespec start, last;
};

/* prog: "dz-hash"; unit: "files". */
void dz_progress_init(struct dz_progress *p, const char *prog,
    const char *unit, int enabled);

/*
 * done units so far: drawn at once the first time, then again only when
 * the last draw is at least 250 ms old.
 */
void dz_progress_tick(struct dz_progress *p, uint64_t done);

/*
 * Erase the line (before printing a diagnostic); the next tick draws it
 * again. Does nothing when no line is visible.
 */
void dz_progress_clear(struct dz_progress *p);

/*
 * The final count and overall rate with a newline, only if a line was
 * ever drawn (no tick: nothing). Later ticks draw nothing.
 */
void dz_progress_end(struct dz_progress *p);

#endif
