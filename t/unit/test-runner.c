/*
 * t/unit/test-runner: lib/core/runner delivers in input order whatever
 * the thread count, reports each failure once (an error record in its
 * place, a diagnostic), and returns the status of the whole run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/cli.h"
#include "core/err.h"
#include "core/runner.h"
#include "tap.h"
#include "util.h"

#define NNAMES 300

struct ctx {
	int parsed, released, emitted;
};

struct data {
	long n;			/* the number the input carries */
	int parsed;
};

/* A name or line "bad..." fails in work; "n<digits>" carries a number. */
static int
parse(struct dz_runner_job *j, const char *line, size_t len, void *arg,
    struct dz_err *err)
{
	struct ctx *c = arg;
	struct data *d = j->data;

	c->parsed++;
	d->parsed = 1;
	if (len && line[0] == '!')
		return dz_err_set(err, EX_DATAERR, "cannot parse");
	d->n = strtol(line + (line[0] == 'n'), NULL, 10);
	return 0;
}

static int
work(struct dz_runner_job *j, void *arg, struct dz_err *err)
{
	struct data *d = j->data;
	struct timespec ts = { 0, (rand() % 50) * 1000L };
	const char *s = j->path ? j->path : "";

	(void)arg;
	nanosleep(&ts, NULL);	/* shuffle the finishing order */
	if (strncmp(s, "bad", 3) == 0)
		return dz_err_set(err, EX_DATAERR, "bad input");
	if (j->path)
		d->n = strtol(s + 1, NULL, 10);
	return 0;
}

static int
emit(struct dz_runner *r, struct dz_runner_job *j, void *arg)
{
	struct ctx *c = arg;
	struct data *d = j->data;
	json_t *rec = json_pack("{s:s,s:I}", "type", "x", "n", (json_int_t)d->n);

	c->emitted++;
	return dz_runner_write(r, rec);
}

static void
error_fields(json_t *e, const struct dz_runner_job *j, void *arg)
{
	const struct data *d = j->data;

	(void)arg;
	json_object_set_new(e, "parsed", json_boolean(d->parsed));
}

static void
release(struct dz_runner_job *j, void *arg)
{
	struct ctx *c = arg;

	(void)j;
	c->released++;
}

static const struct dz_runner_ops ops = {
	parse, work, emit, error_fields, release,
};

/* The records written to f, as a JSON array. */
static json_t *
records(FILE *f)
{
	json_t *a = json_array(), *rec;
	char line[4096];

	fflush(f);
	rewind(f);
	while (fgets(line, sizeof line, f))
		if ((rec = json_loads(line, 0, NULL)))
			json_array_append_new(a, rec);
	return a;
}

static char *
slurp(FILE *f)
{
	static char buf[1 << 16];

	return drain(f, buf, sizeof buf);
}

static void
names(FILE *msgs, int jobs)
{
	static char store[NNAMES][16];
	char *argv[NNAMES];
	struct ctx c = { 0 };
	struct dz_runner_opts o = { .verb = "try", .unit = "things",
	    .jobs = jobs, .progress = 0, .delim = '\n',
	    .data_size = sizeof(struct data), .ops = &ops, .ctx = &c };
	FILE *out = tmpfile();
	json_t *a;
	size_t i;
	int rc, order = 1, errors = 0, nerr = 0;
	const char *m;

	for (i = 0; i < NNAMES; i++) {
		snprintf(store[i], sizeof store[i], i % 7 == 3 ? "bad%zu" :
		    "n%zu", i);
		argv[i] = store[i];
	}
	rc = dz_runner_run(&o, argv, NNAMES, out);
	a = records(out);
	for (i = 0; i < json_array_size(a); i++) {
		json_t *rec = json_array_get(a, i);
		const char *type = json_string_value(json_object_get(rec,
		    "type"));

		if (i % 7 == 3) {
			errors++;
			if (strcmp(type, "error") ||
			    strcmp(json_string_value(json_object_get(rec, "path")),
			    store[i]) ||
			    strcmp(json_string_value(json_object_get(rec,
			    "reason")), "bad input") ||
			    strcmp(json_string_value(json_object_get(rec,
			    "program")), "dz-test") ||
			    !json_is_false(json_object_get(rec, "parsed")))
				order = 0;
		} else if (strcmp(type, "x") ||
		    json_integer_value(json_object_get(rec, "n")) != (json_int_t)i) {
			order = 0;
		}
	}
	ok(json_array_size(a) == NNAMES && order,
	    "-j %d: %d records in input order, errors in their place", jobs,
	    NNAMES);
	ok(rc == EX_DATAERR, "-j %d: some failed: EX_DATAERR (%d)", jobs, rc);
	ok(c.released == NNAMES && c.parsed == 0,
	    "-j %d: every job released once, names not parsed", jobs);
	for (m = slurp(msgs); (m = strstr(m, "dz-test: cannot try 'bad")); m++)
		nerr++;
	ok(nerr == errors, "-j %d: one diagnostic per failure (%d of %d)",
	    jobs, nerr, errors);
	json_decref(a);
	fclose(out);
}

static void
lines(FILE *msgs)
{
	char path[] = "/tmp/dz-test-runner.XXXXXX";
	char *argv[3];
	struct ctx c = { 0 };
	struct dz_runner_opts o = { .verb = "try", .unit = "things", .jobs = 2,
	    .progress = 0, .lines = 1, .file_in_errors = 1, .max_line = 64,
	    .data_size = sizeof(struct data), .ops = &ops, .ctx = &c };
	FILE *out = tmpfile(), *f;
	json_t *a, *e;
	const char *m;
	int fd, rc;

	if ((fd = mkstemp(path)) < 0 || !(f = fdopen(fd, "w"))) {
		ok(0, "a temporary file");
		return;
	}
	fputs("n1\n\nn2\r\n!x\n", f);
	for (int i = 0; i < 100; i++)
		fputc('y', f);
	fputs("\nn5", f);	/* no final newline */
	fclose(f);
	argv[0] = path;
	argv[1] = "/nonexistent/dz-test-runner";
	rc = dz_runner_run(&o, argv, 2, out);
	a = records(out);
	m = slurp(msgs);
	ok(json_array_size(a) == 5, "lines: one record a non-empty line (%zu)",
	    json_array_size(a));
	ok(json_integer_value(json_object_get(json_array_get(a, 0), "n")) == 1 &&
	    json_integer_value(json_object_get(json_array_get(a, 1), "n")) == 2 &&
	    json_integer_value(json_object_get(json_array_get(a, 4), "n")) == 5,
	    "lines: in order, CRLF and a last line without newline read");
	e = json_array_get(a, 2);
	ok(!strcmp(json_string_value(json_object_get(e, "type")), "error") &&
	    json_integer_value(json_object_get(e, "line")) == 4 &&
	    !strcmp(json_string_value(json_object_get(e, "file")), path) &&
	    !strcmp(json_string_value(json_object_get(e, "reason")),
	    "cannot parse") && json_is_true(json_object_get(e, "parsed")),
	    "lines: a line parse refused is an error record with file and line");
	e = json_array_get(a, 3);
	ok(!strcmp(json_string_value(json_object_get(e, "type")), "error") &&
	    json_integer_value(json_object_get(e, "line")) == 5 &&
	    strstr(json_string_value(json_object_get(e, "reason")), "too long"),
	    "lines: an over-long line is an error record, the next line read");
	ok(strstr(m, ": line 4: cannot parse\n") &&
	    strstr(m, "': line 5: too long") && !strstr(m, "line 5: line 5"),
	    "lines: diagnostics name the file and line, once");
	ok(strstr(m, "dz-test: cannot open '/nonexistent/dz-test-runner': No "
	    "such file or directory\n") != NULL, "lines: an operand that "
	    "cannot be opened is said");
	ok(rc == EX_NOINPUT, "lines: an operand not opened wins over bad lines: "
	    "EX_NOINPUT (%d)", rc);
	ok(c.parsed == 4 && c.released == 5, "lines: parse called per good "
	    "line (%d), release per job (%d)", c.parsed, c.released);
	json_decref(a);
	fclose(out);
	unlink(path);
}

static void
output_fails(FILE *msgs)
{
	static char store[50][16];
	char *argv[50];
	struct ctx c = { 0 };
	struct dz_runner_opts o = { .verb = "try", .unit = "things", .jobs = 3,
	    .progress = 0, .data_size = sizeof(struct data), .ops = &ops,
	    .ctx = &c };
	FILE *out = fopen("/dev/full", "w");
	const char *m, *p;
	int rc, n = 0;

	if (!out || setvbuf(out, NULL, _IONBF, 0)) {
		ok(0, "/dev/full");
		return;
	}
	for (int i = 0; i < 50; i++) {
		snprintf(store[i], sizeof store[i], "n%d", i);
		argv[i] = store[i];
	}
	rc = dz_runner_run(&o, argv, 50, out);
	m = slurp(msgs);
	for (p = m; (p = strstr(p, "cannot write output")); p++)
		n++;
	ok(rc == EX_IOERR && n == 1, "output failing: EX_IOERR (%d), said once "
	    "(%d)", rc, n);
	ok(c.emitted == 1 && c.released < 50, "output failing: nothing "
	    "emitted after the failure (%d), no more input taken (%d jobs)",
	    c.emitted, c.released);
	fclose(out);
}

int
main(void)
{
	FILE *msgs = tmpfile();

	if (!msgs)
		return 2;
	srand(1);
	dz_cli_init("dz-test", "usage: dz-test\n", NULL);
	dz_cli_set_stream(msgs);
	names(msgs, 1);
	names(msgs, 4);
	lines(msgs);
	output_fails(msgs);
	return tap_done();
}
