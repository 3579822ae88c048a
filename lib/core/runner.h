/*
 * lib/core/runner: "inputs through the pool, results in input order, an
 * error record for each failure", the loop dz-hash and dz-match share.
 *
 * May use: core/ only (input, record, pool, progress, cli, err). The
 * program's own work comes in through struct dz_runner_ops.
 *
 * Inputs, one job each:
 *   names  (lines == 0)  file operands, else names on standard input, one
 *                        a line (delim '\n') or NUL-separated (delim '\0');
 *                        in a list, "-" is the file "./-". job->path is
 *                        the name.
 *   lines  (lines == 1)  the non-empty lines of each file operand ("-":
 *                        standard input), else of standard input; ops->parse
 *                        turns each into a job on the submitting thread.
 *                        job->file is the operand (NULL: standard input),
 *                        job->line the line number.
 *
 *	struct dz_runner_opts o = { .verb = "hash", .unit = "files", .ops =
 *	    &ops, .ctx = &ctx, .jobs = jobs, ... };
 *	status = dz_runner_run(&o, argv, argc, stdout);
 *
 * Threads: ops->work runs on lib/core/pool's workers, in any order; parse,
 * emit, error_fields and release run on the calling thread, emit in input
 * order. A job whose input was bad (an unreadable line, a bad name, a
 * parse that failed) or whose work failed is reported by the runner:
 *
 *   on stderr, unless quiet:  PROG: cannot VERB 'PATH': REASON
 *                             PROG: 'FILE': line N: REASON
 *                             PROG: line N: REASON  (standard input)
 *                             PROG: REASON          (a bad name in a list)
 *   on out:  {"type":"error","program":PROG,"reason":REASON, "path",
 *            "file" (with file_in_errors), "line", and what
 *            ops->error_fields adds}
 *
 * The progress line (lib/core/progress) counts the jobs delivered and the
 * errors; it is erased before every message that goes through lib/core/cli.
 *
 * A file operand that cannot be opened, or a read error in one, is said
 * ("cannot open 'f': REASON", "cannot read 'f': REASON") and the next
 * operands are still read; a read error in a list of names ends the list.
 *
 * The status dz_runner_run returns, the first that applies: EX_IOERR when
 * writing out failed (said once: "cannot write output: REASON") or reading
 * a list or a file of lines failed; EX_SOFTWARE when out of memory or no
 * thread could start; EX_NOINPUT when a file operand of lines could not
 * be opened; EX_DATAERR when some job failed; else 0.
 */
#ifndef DZ_RUNNER_H
#define DZ_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/err.h"

struct dz_runner;

/* One input in flight. The runner allocates and frees it. */
struct dz_runner_job {
	char *path;		/* the file to work on, malloc'd, freed by the
				 * runner; NULL: none (lines mode) */
	const char *file;	/* lines: the operand read (argv); NULL: stdin */
	long line;		/* lines: line number; 0: none */
	int failed;		/* err says why; the runner reports it */
	struct dz_err err;
	void *data;		/* the program's: opts.data_size zeroed bytes,
				 * ops->release frees what it points to, the
				 * runner frees data itself */
};

struct dz_runner_ops {
	/*
	 * Lines mode, calling thread: make job of one line (len bytes,
	 * NUL-terminated, not kept after the call). -1 with err: the line is
	 * bad, reported as an error record. NULL: every line a bad line.
	 */
	int (*parse)(struct dz_runner_job *job, const char *line, size_t len,
	    void *ctx, struct dz_err *err);
	/* Worker thread: the work; -1 with err fails the job. */
	int (*work)(struct dz_runner_job *job, void *ctx, struct dz_err *err);
	/*
	 * Calling thread, input order, for a job that did not fail: write its
	 * records with dz_runner_write (or to dz_runner_out and then
	 * dz_runner_check). Nonzero stops the run (output failed).
	 */
	int (*emit)(struct dz_runner *r, struct dz_runner_job *job, void *ctx);
	/* Calling thread: members to add to a failed job's error record. */
	void (*error_fields)(json_t *rec, const struct dz_runner_job *job,
	    void *ctx);
	/* Calling thread: free job->data (NULL is fine). */
	void (*release)(struct dz_runner_job *job, void *ctx);
};

struct dz_runner_opts {
	const char *verb;	/* "hash": "cannot hash 'a.png': ..." */
	const char *unit;	/* progress unit ("files"), not copied: the
				 * program may rewrite it from emit */
	int jobs;		/* threads for ops->work (-j) */
	int progress;		/* lib/core/progress's enabled: -1, 0, 1 */
	int quiet;		/* no diagnostics for failed inputs */
	int lines;		/* 0: names of files; 1: lines of files */
	int delim;		/* names on standard input: '\n' or '\0' */
	size_t max_line;	/* lines: longest line (0: the reader's) */
	int no_errors;		/* write no error records (dz-hash csv) */
	int file_in_errors;	/* lines: error records name "file" */
	size_t data_size;	/* bytes of each job's data (0: data NULL) */
	const struct dz_runner_ops *ops;
	void *ctx;		/* handed to every op */
};

/*
 * Run every input (operands[0..n-1], or standard input) through ops, the
 * records to out (prepared with dz_out_init; not closed). Returns the
 * status above. Prints through lib/core/cli (dz_cli_init first).
 */
int dz_runner_run(const struct dz_runner_opts *o, char **operands, int n,
    FILE *out);

/*
 * From emit: write rec (taken: always released) to the output. 0, or -1
 * after "cannot write output: REASON" (once per run); NULL rec is out of
 * memory.
 */
int dz_runner_write(struct dz_runner *r, json_t *rec);

/* From emit: the output stream, for text that is not a record. */
FILE *dz_runner_out(struct dz_runner *r);

/* After writing to dz_runner_out: 0, or -1 after "cannot write output". */
int dz_runner_check(struct dz_runner *r);

/* The jobs delivered so far, and those that failed. */
uint64_t dz_runner_done(const struct dz_runner *r);
uint64_t dz_runner_errors(const struct dz_runner *r);

#endif
