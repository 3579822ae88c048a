/*
 * lib/core/runner: inputs through lib/core/pool, in order (see runner.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cli.h"
#include "core/input.h"
#include "core/pool.h"
#include "core/progress.h"
#include "core/out.h"
#include "core/reader.h"
#include "core/record.h"
#include "core/runner.h"

struct dz_runner {
	const struct dz_runner_opts *o;
	FILE *out;
	struct dz_progress prog;
	uint64_t done, errors;
	int fatal;		/* output failed: stop, said once */
	int ioerr;		/* reading the inputs failed */
	int noinput;		/* a file operand could not be opened */
	int oom;		/* out of memory, or no thread */
};

static void
job_free(struct dz_runner *r, struct dz_runner_job *j)
{
	if (!j)
		return;
	if (r->o->ops->release)
		r->o->ops->release(j, r->o->ctx);
	free(j->data);
	free(j->path);
	free(j);
}

static struct dz_runner_job *
job_new(struct dz_runner *r, const char *path)
{
	struct dz_runner_job *j = calloc(1, sizeof *j);

	if (j && r->o->data_size && !(j->data = calloc(1, r->o->data_size))) {
		free(j);
		j = NULL;
	}
	if (j && path && !(j->path = strdup(path))) {
		free(j->data);
		free(j);
		j = NULL;
	}
	if (!j && !r->oom) {
		dz_cli_fail(EX_SOFTWARE, "run", NULL, "out of memory");
		r->oom = 1;
	}
	return j;
}

static int
write_failed(struct dz_runner *r, const char *reason)
{
	if (!r->fatal)
		dz_cli_fail(EX_IOERR, "write output", NULL, reason);
	r->fatal = 1;
	return -1;
}

int
dz_runner_write(struct dz_runner *r, json_t *rec)
{
	struct dz_err err;

	if (!rec)
		return write_failed(r, "out of memory");
	if (dz_record_write(r->out, rec, &err)) {
		json_decref(rec);
		return write_failed(r, err.msg);
	}
	json_decref(rec);
	return 0;
}

FILE *
dz_runner_out(struct dz_runner *r)
{
	return r->out;
}

int
dz_runner_check(struct dz_runner *r)
{
	return ferror(r->out) ? write_failed(r, NULL) : 0;
}

uint64_t
dz_runner_done(const struct dz_runner *r)
{
	return r->done;
}

uint64_t
dz_runner_errors(const struct dz_runner *r)
{
	return r->errors;
}

/* A failed job: the diagnostic, then its error record. */
static int
report(struct dz_runner *r, const struct dz_runner_job *j)
{
	const struct dz_runner_opts *o = r->o;
	const char *why = j->err.msg;
	char tn[256];
	json_t *e;

	dz_progress_errors(&r->prog, ++r->errors);
	if (!o->quiet) {
		if (j->path)
			dz_cli_fail(EX_DATAERR, o->verb, j->path, why);
		else if (j->line > 0 && strncmp(why, "line ", 5) != 0)
			dz_cli_error(EX_DATAERR, "%s%s%sline %ld: %s",
			    j->file ? "'" : "", j->file ? dz_out_term_name(j->file,
			    tn, sizeof tn) : "", j->file ? "': " : "", j->line,
			    why);
		else
			dz_cli_error(EX_DATAERR, "%s%s%s%s", j->file ? "'" : "",
			    j->file ? dz_out_term_name(j->file, tn, sizeof tn) : "",
			    j->file ? "': " : "", why);
	}
	if (o->no_errors)
		return 0;
	e = dz_record_error(dz_cli_prog(), why);
	if (e && j->path)
		dz_record_set_path(e, "path", j->path);
	if (e && j->file && o->file_in_errors)
		dz_record_set_path(e, "file", j->file);
	if (e && j->line > 0)
		json_object_set_new(e, "line", json_integer(j->line));
	if (e && o->ops->error_fields)
		o->ops->error_fields(e, j, o->ctx);
	return dz_runner_write(r, e);
}

static void
work(void *arg, void *ctx)
{
	struct dz_runner_job *j = arg;
	const struct dz_runner *r = ctx;

	if (!j->failed && r->o->ops->work &&
	    r->o->ops->work(j, r->o->ctx, &j->err))
		j->failed = 1;
}

static int
done(void *arg, void *ctx)
{
	struct dz_runner_job *j = arg;
	struct dz_runner *r = ctx;
	int rc;

	if (r->fatal) {
		job_free(r, j);
		return -1;
	}
	rc = j->failed ? report(r, j) : r->o->ops->emit(r, j, r->o->ctx);
	dz_progress_tick(&r->prog, ++r->done);
	job_free(r, j);
	return rc || r->fatal ? -1 : 0;
}

static int
submit(struct dz_pool *pool, struct dz_runner *r, struct dz_runner_job *j)
{
	if (dz_pool_submit(pool, j)) {
		job_free(r, j);
		return -1;
	}
	return 0;
}

static void
run_names(struct dz_pool *pool, struct dz_runner *r, char **names, int n)
{
	struct dz_err err;
	struct dz_names *it = dz_names_new(names, n, stdin, r->o->delim, &err);
	const char *name;
	int rc;

	if (!it) {
		dz_cli_fail(err.code, "read file names", NULL, err.msg);
		r->oom = 1;
		return;
	}
	while (!r->fatal && (rc = dz_names_next(it, &name, &err)) != 0) {
		struct dz_runner_job *j;

		if (rc == -2) {
			dz_cli_fail(err.code, "read file names", NULL, err.msg);
			r->ioerr = 1;
			break;
		}
		/* in a list on stdin, "-" is a file of that name */
		j = job_new(r, rc == -1 ? NULL : n == 0 &&
		    strcmp(name, "-") == 0 ? "./-" : name);
		if (!j)
			break;
		if (rc == -1) {
			j->failed = 1;
			j->err = err;
		}
		if (submit(pool, r, j))
			break;
	}
	dz_names_free(it);
}

static void
run_lines(struct dz_pool *pool, struct dz_runner *r, FILE *in,
    const char *file)
{
	const struct dz_runner_opts *o = r->o;
	struct dz_err err;
	struct dz_reader *rd = dz_reader_new(in, '\n', o->max_line,
	    DZ_READER_STRIP_CR, &err);
	const char *line;
	size_t len;
	int rc;

	if (!rd) {
		dz_cli_fail(err.code, "run", NULL, err.msg);
		r->oom = 1;
		return;
	}
	while (!r->fatal && (rc = dz_reader_next(rd, &line, &len, &err)) != 0) {
		struct dz_runner_job *j;

		if (rc == -2) {
			dz_cli_fail(err.code, file ? "read" : "read standard input",
			    file, err.msg);
			r->ioerr = 1;
			break;
		}
		if (rc == 1 && len == 0)
			continue;
		if (!(j = job_new(r, NULL)))
			break;
		j->line = (long)dz_reader_lineno(rd);
		j->file = file;
		if (rc == -1) {
			j->failed = 1;
			j->err = err;
		} else if (!o->ops->parse) {
			j->failed = 1;
			dz_err_set(&j->err, EX_DATAERR, "unexpected line");
		} else if (o->ops->parse(j, line, len, o->ctx, &j->err)) {
			j->failed = 1;
		}
		if (submit(pool, r, j))
			break;
	}
	dz_reader_free(rd);
}

/* Lines mode: each operand a file of lines ("-": standard input). */
static void
run_files(struct dz_pool *pool, struct dz_runner *r, char **files, int n)
{
	if (n == 0) {
		run_lines(pool, r, stdin, NULL);
		return;
	}
	for (int i = 0; i < n && !r->fatal; i++) {
		FILE *f = strcmp(files[i], "-") ? fopen(files[i], "r") : stdin;
		struct stat sb;

		if (f && fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
			fclose(f);
			f = NULL;
			errno = EISDIR;
		}
		if (!f) {
			dz_cli_fail(EX_NOINPUT, "open", files[i], strerror(errno));
			r->noinput = 1;
			continue;
		}
		run_lines(pool, r, f, f == stdin ? NULL : files[i]);
		if (f != stdin)
			fclose(f);
	}
}

int
dz_runner_run(const struct dz_runner_opts *o, char **operands, int n,
    FILE *out)
{
	struct dz_runner r;
	struct dz_pool *pool;
	struct dz_err err;

	memset(&r, 0, sizeof r);
	r.o = o;
	r.out = out;
	dz_progress_init(&r.prog, dz_cli_prog(), o->unit, o->progress);
	if (!o->lines && n > 0)
		dz_progress_total(&r.prog, (uint64_t)n);
	dz_cli_set_progress(&r.prog);
	if (!(pool = dz_pool_new(o->jobs, work, done, &r, &err))) {
		dz_cli_set_progress(NULL);
		return dz_cli_fail(EX_SOFTWARE, "start", NULL, err.msg);
	}
	if (o->lines)
		run_files(pool, &r, operands, n);
	else
		run_names(pool, &r, operands, n);
	dz_pool_finish(pool);
	dz_pool_free(pool);
	dz_progress_end(&r.prog);
	dz_cli_set_progress(NULL);
	if (r.fatal || r.ioerr)
		return EX_IOERR;
	if (r.oom)
		return EX_SOFTWARE;
	if (r.noinput)
		return EX_NOINPUT;
	return r.errors ? EX_DATAERR : 0;
}
