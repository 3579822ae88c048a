/*
 * lib/core/progress: a progress line on standard error for long runs.
 *
 * May use: core/ only (nothing of it today: libc alone).
 *
 *	dz-hash: 1234 files, 56.7/s
 *	dz-hash: 1234/5000 files, 2 errors, 56.7/s
 *
 * The count done, "/total" when the caller knows the total
 * (dz_progress_total), the errors once there is one (dz_progress_errors),
 * and the rate, an average since dz_progress_init (left out during the
 * first quarter second). On a terminal narrower than the line, the line
 * is cut to its width, so that "\r" always goes back to its start.
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
	uint64_t total;		/* 0: unknown */
	uint64_t errors;
	struct timespec start, last;
};

/* prog: "dz-hash"; unit: "files". */
void dz_progress_init(struct dz_progress *p, const char *prog,
    const char *unit, int enabled);

/*
 * The number of units the whole run will do, when known before it starts
 * (file operands, say); 0, the default, is unknown. Shown as "done/total"
 * from the next draw.
 */
void dz_progress_total(struct dz_progress *p, uint64_t total);

/*
 * The number of inputs that failed so far; shown as ", N errors" from the
 * next draw, once it is not 0.
 */
void dz_progress_errors(struct dz_progress *p, uint64_t errors);

/*
 * done units so far: drawn at once the first time and after a clear, else
 * only when the last draw is at least 250 ms old.
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
