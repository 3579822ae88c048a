/*
 * lib/work/statshtml: the figures of lib/work/stats as one small HTML page, for
 * the yearly report: tables, and bar charts drawn as inline SVG by this
 * code. The page is whole in itself: no script, no image, font, style
 * sheet or link to fetch, and a Content-Security-Policy
 *	default-src 'none'; style-src 'unsafe-inline'
 * that forbids a browser to fetch anything even if some text slipped
 * through. Every string from outside the code (the hotline's name,
 * provider names) is escaped.
 *
 * May use: core/ (err), work/ (stats: its own unit).
 */
#ifndef DZ_STATSHTML_H
#define DZ_STATSHTML_H

#include <stdio.h>

struct dz_err;
struct dz_stats;

/*
 * Write the page to out in lang, "en" (NULL: en) or "fr" (EX_USAGE for
 * another), dates written out ("7 December 2026", "7 décembre 2026")
 * in <time> elements whose datetime attribute holds the RFC 3339 time.
 * hotline: the hotline's name for the title, or NULL. EX_IOERR when
 * writing fails.
 */
int dz_statshtml_write(FILE *out, const struct dz_stats *st,
    const char *hotline, const char *lang, struct dz_err *err);

#endif
