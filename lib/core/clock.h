/*
 * lib/core/clock: the time, as RFC 3339 UTC text ("2026-11-23T10:00:00Z").
 * DZ_NOW in the environment, when set to such a text, replaces the clock
 * (tests and reproducible runs).
 *
 * May use: the C library only.
 */
#ifndef DZ_CLOCK_H
#define DZ_CLOCK_H

#include <time.h>

#define DZ_TIME_LEN 21		/* "YYYY-MM-DDTHH:MM:SSZ" and a NUL */

/* Now, as text. Returns 0, or -1 if DZ_NOW is set but malformed. */
int dz_clock_now(char out[DZ_TIME_LEN]);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" (or with a numeric offset) to a time_t. */
int dz_clock_parse(const char *s, time_t *t);

/* Format t as text. */
void dz_clock_format(time_t t, char out[DZ_TIME_LEN]);
/* The RFC 3339 time days days before now (RFC 3339 too): 0, or -1 when
 * now does not parse. */
int dz_clock_days_before(const char *now, int days, char out[DZ_TIME_LEN]);

#endif
