/*
 * lib/core/cli: what every program in cmd/ does the same way: its name,
 * -h/--help and -V/--version, strict parsing of numeric option values, and
 * the shape of its messages on standard error.
 *
 * May use: core/ only (err, record for dz_out_term_name and dz_out_text,
 * progress, config). Used by cmd/ and lib/core/runner.
 *
 * Like lib/core/progress, this is a documented exception to "lib/ never
 * prints": the message helpers write to standard error (or to the stream
 * given to dz_cli_set_stream) because that is all they are for. Nothing
 * here exits: each helper returns the exit code, and the program returns
 * it (`return dz_cli_usage(...)`), so cmd/ still decides to die.
 *
 * Messages, one set for all six programs (PROG is the name given to
 * dz_cli_init; a quoted SUBJECT is a file name, an option value or an id,
 * passed through dz_out_term_name so that it cannot drive the terminal, and
 * never personal data: no address, no description, no file content):
 *
 *	PROG: cannot VERB 'SUBJECT': REASON	dz_cli_fail, a subject
 *	PROG: cannot VERB: REASON		dz_cli_fail, subject NULL
 *	PROG: invalid value for OPT: 'VALUE': REASON   + usage, exit 64
 *	PROG: unexpected operand 'ARG'		+ usage, exit 64
 *	PROG: REASON				+ usage, exit 64 (dz_cli_usage)
 *	PROG: warning: TEXT			dz_cli_warn
 *	PROG: TEXT				dz_cli_say (notes, counts)
 *
 * VERB may carry its object: "open configuration", "load bank", "write
 * output". REASON is a lib/ dz_err reason, lowercase, no full stop.
 * Examples:
 *
 *	dz-purge: cannot open configuration '/x': No such file or directory
 *	dz-purge: unexpected operand 'x'
 *	dz-hash: invalid value for -j: 'abc': expected a whole number from 1 to 256
 *	dz-match: cannot load bank 'b.dzb': signature does not match the data
 *	dz-notify: cannot write output: write error: No space left on device
 *
 * State: one program per process, so the name, the usage texts, the stream
 * and the progress line live in this module (set once, at the start of
 * main, on the main thread). Message helpers are called from one thread
 * only (lib/core/pool's done side, never its workers).
 */
#ifndef DZ_CLI_H
#define DZ_CLI_H

#include <stdint.h>
#include <stdio.h>

struct dz_config;
struct dz_err;
struct dz_progress;

/*
 * prog: "dz-hash" (not copied; a string literal). usage: the usage text,
 * printed on -h and after every usage error; help: the rest of -h (may be
 * NULL). Both not copied.
 */
void dz_cli_init(const char *prog, const char *usage, const char *help);

/* The name given to dz_cli_init. */
const char *dz_cli_prog(void);

/* Messages go to f (tests); stderr by default. */
void dz_cli_set_stream(FILE *f);

/*
 * A progress line to erase before each message (NULL: none); not owned,
 * must outlive its use.
 */
void dz_cli_set_progress(struct dz_progress *p);

/*
 * -h: usage and help on standard output, which is then closed; -V:
 * "PROG VERSION". Return 0, or EX_IOERR after "cannot write output:
 * REASON" when standard output failed (>/dev/full).
 */
int dz_cli_help(void);
int dz_cli_version(const char *version);

/*** Messages: each returns code (or EX_USAGE) for `return dz_cli_...` ***/

/* "PROG: cannot VERB 'SUBJECT': REASON"; subject NULL: no quoted part. */
int dz_cli_fail(int code, const char *verb, const char *subject,
    const char *reason);

/* "PROG: REASON" and the usage text; EX_USAGE. */
int dz_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* getopt already said what was wrong: the usage text alone; EX_USAGE. */
int dz_cli_misuse(void);

/* "PROG: unexpected operand 'ARG'" and the usage text; EX_USAGE. */
int dz_cli_operand(const char *arg);

/* "PROG: invalid value for OPT: 'VALUE': REASON" and the usage; EX_USAGE. */
int dz_cli_invalid(const char *opt, const char *value, const char *reason);

/* "PROG: warning: TEXT". */
void dz_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "PROG: TEXT": a note that is not a failure (counts, -v). */
void dz_cli_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "PROG: TEXT" returning code: a failure that is not "cannot VERB". */
int dz_cli_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*** Numbers ***/

/*
 * A whole number in decimal: one or more ASCII digits and nothing else
 * (no sign, no space, no "0x", no trailing junk), from min to max. 0 and
 * *v, or -1 with err EX_USAGE, reason "expected a whole number from MIN
 * to MAX" (or "... MIN or more" when max is UINT64_MAX): also on overflow.
 */
int dz_cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v,
    struct dz_err *err);

/*
 * A percentage from 0 to 100: digits, optionally '.' and more digits
 * ("80", "12.5", "100.0"); nothing else. -1 with err EX_USAGE "expected
 * a percentage from 0 to 100".
 */
int dz_cli_parse_pct(const char *s, double *v, struct dz_err *err);

/*
 * The same for option opt ("-j", "--max-bytes"): 0 and *v, or, after
 * dz_cli_invalid(opt, s, reason), EX_USAGE.
 */
int dz_cli_uint(const char *opt, const char *s, uint64_t min, uint64_t max,
    uint64_t *v);
int dz_cli_int(const char *opt, const char *s, int min, int max, int *v);
int dz_cli_pct(const char *opt, const char *s, double *v);

/*
 * The reason when the configured store does not exist:
 *	PROG: cannot open store '/var/lib/dz/store': no store (create one
 *	with dz-ingest --init)
 */
#define DZ_CLI_NO_STORE "no store (create one with dz-ingest --init)"

/*** Configuration ***/

/*
 * dz_config_load(c, path); on failure the message and its exit code:
 *	PROG: cannot open configuration '/x': No such file or directory
 *	PROG: invalid configuration: dz.yaml:12: unknown key 'retention.foo'
 * 0, or the exit code (c is then released).
 */
int dz_cli_config(struct dz_config *c, const char *path);

#endif
