/*
 * lib/core/proc: process-wide protections every program applies at start.
 *
 * May use: core/ (err); OpenSSL.
 */
#ifndef DZ_PROC_H
#define DZ_PROC_H

struct dz_err;

/*
 * No core dumps: a crash while media or keys are in memory must not write
 * them to disk. Not dumpable (PR_SET_DUMPABLE 0): no other process of the
 * same user may read this one's memory through /proc or ptrace. Also sets up libcrypto's default context (see proc.c).
 * Returns 0, or -1 (EX_SOFTWARE) if the limit cannot be set or libcrypto
 * has no memory.
 */
int dz_proc_harden(struct dz_err *err);

#endif
