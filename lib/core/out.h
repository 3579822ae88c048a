/*
 * lib/core/out: the output stream of a program.
 *
 * Records go out through stdio: dz_out_init() before the first write
 * chooses the buffering (a record reaches the next stage of a pipe at
 * once), dz_out_close() at the end reports any write error seen on the
 * way (>/dev/full must fail loudly, exit 74). dz_out_text() is -h and -V;
 * dz_out_term_name() makes a file name safe to show on a terminal.
 *
 * Nothing here prints on its own or exits.
 *
 * May use: core/ (err).
 */
#ifndef DZ_OUT_H
#define DZ_OUT_H

#include <stddef.h>
#include <stdio.h>

struct dz_err;

/*
 * A file name fit for a terminal, into out[n]: every control character
 * (and DEL) becomes '?', so that a name cannot move the cursor or change
 * colours on the operator's screen; cut at n - 1 bytes. Returns out.
 */
const char *dz_out_term_name(const char *name, char *out, size_t n);

/*
 * Write the texts a and b (b may be NULL) to out and close it, as -h and
 * -V do: 0, or -1 with EX_IOERR when the writing failed (>/dev/full).
 */
int dz_out_text(FILE *out, const char *a, const char *b, struct dz_err *err);

/*
 * Call before the first write to out: when out is a pipe, a socket or a
 * terminal, make it line buffered so that each record reaches the next
 * stage at once; a regular file keeps full buffering.
 */
void dz_out_init(FILE *out);

/*
 * Flush and close out, reporting any write error seen on it, now or
 * earlier: returns 0, or -1 with EX_IOERR "write error: No space left on
 * device". out is closed in both cases.
 */
int dz_out_close(FILE *out, struct dz_err *err);

#endif
