/*
 * lib/core/cli: program name, -h/-V, numbers and messages (see cli.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/config.h"
#include "core/err.h"
#include "core/progress.h"
#include "core/out.h"
#include "core/record.h"

static const char *cli_prog = "dz";
static const char *cli_usage = "";
static const char *cli_help;
static FILE *cli_stream;
static struct dz_progress *cli_progress;

void
dz_cli_init(const char *prog, const char *usage, const char *help)
{
	cli_prog = prog;
	cli_usage = usage ? usage : "";
	cli_help = help;
}

const char *
dz_cli_prog(void)
{
	return cli_prog;
}

void
dz_cli_set_stream(FILE *f)
{
	cli_stream = f;
}

void
dz_cli_set_progress(struct dz_progress *p)
{
	cli_progress = p;
}

/* The stream, the progress line erased, the "PROG: " written. */
static FILE *
begin(void)
{
	FILE *f = cli_stream ? cli_stream : stderr;

	if (cli_progress)
		dz_progress_clear(cli_progress);
	fprintf(f, "%s: ", cli_prog);
	return f;
}

static void
vsay(const char *prefix, const char *fmt, va_list ap)
{
	FILE *f = begin();

	fputs(prefix, f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

int
dz_cli_help(void)
{
	struct dz_err err;

	if (dz_out_text(stdout, cli_usage, cli_help, &err))
		return dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
	return 0;
}

int
dz_cli_version(const char *version)
{
	struct dz_err err;
	char line[128];

	snprintf(line, sizeof line, "%s %s\n", cli_prog, version);
	if (dz_out_text(stdout, line, NULL, &err))
		return dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
	return 0;
}

int
dz_cli_fail(int code, const char *verb, const char *subject,
    const char *reason)
{
	FILE *f = begin();
	char tn[256];

	fprintf(f, "cannot %s", verb);
	if (subject)
		fprintf(f, " '%s'", dz_out_term_name(subject, tn, sizeof tn));
	if (reason && *reason)
		fprintf(f, ": %s", reason);
	fputc('\n', f);
	return code;
}

int
dz_cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
	return dz_cli_misuse();
}

int
dz_cli_misuse(void)
{
	FILE *f = cli_stream ? cli_stream : stderr;

	if (cli_progress)
		dz_progress_clear(cli_progress);
	fputs(cli_usage, f);
	return EX_USAGE;
}

int
dz_cli_operand(const char *arg)
{
	char tn[256];

	return dz_cli_usage("unexpected operand '%s'",
	    dz_out_term_name(arg, tn, sizeof tn));
}

int
dz_cli_invalid(const char *opt, const char *value, const char *reason)
{
	char tn[256];

	return dz_cli_usage("invalid value for %s: '%s': %s", opt,
	    dz_out_term_name(value, tn, sizeof tn), reason);
}

void
dz_cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("warning: ", fmt, ap);
	va_end(ap);
}

void
dz_cli_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

int
dz_cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
	return code;
}

static int
range_error(uint64_t min, uint64_t max, struct dz_err *err)
{
	if (max == UINT64_MAX)
		return dz_err_set(err, EX_USAGE, "expected a whole number from "
		    "%llu or more", (unsigned long long)min);
	return dz_err_set(err, EX_USAGE, "expected a whole number from %llu "
	    "to %llu", (unsigned long long)min, (unsigned long long)max);
}

int
dz_cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v,
    struct dz_err *err)
{
	uint64_t n = 0;
	const char *p;

	if (!s || !*s)
		return range_error(min, max, err);
	for (p = s; *p; p++) {
		unsigned d = (unsigned char)*p - '0';

		if (d > 9)
			return range_error(min, max, err);
		if (n > (UINT64_MAX - d) / 10)
			return range_error(min, max, err);	/* overflow */
		n = n * 10 + d;
	}
	if (n < min || n > max)
		return range_error(min, max, err);
	*v = n;
	return 0;
}

int
dz_cli_parse_pct(const char *s, double *v, struct dz_err *err)
{
	size_t i = strspn(s, "0123456789"), digits = i, frac = 0;
	char *end;
	double d;

	if (s[i] == '.') {
		frac = strspn(s + i + 1, "0123456789");
		i += 1 + frac;
	}
	if (digits == 0 || s[i] || (s[digits] == '.' && frac == 0))
		return dz_err_set(err, EX_USAGE, "expected a percentage from 0 "
		    "to 100");
	d = strtod(s, &end);
	if (*end || !(d >= 0 && d <= 100))
		return dz_err_set(err, EX_USAGE, "expected a percentage from 0 "
		    "to 100");
	*v = d;
	return 0;
}

int
dz_cli_uint(const char *opt, const char *s, uint64_t min, uint64_t max,
    uint64_t *v)
{
	struct dz_err err;

	if (dz_cli_parse_uint(s, min, max, v, &err))
		return dz_cli_invalid(opt, s, err.msg);
	return 0;
}

int
dz_cli_int(const char *opt, const char *s, int min, int max, int *v)
{
	uint64_t n;
	int rc;

	if (min < 0)
		min = 0;		/* no option takes a negative number */
	rc = dz_cli_uint(opt, s, (uint64_t)min, (uint64_t)max, &n);
	if (!rc)
		*v = (int)n;
	return rc;
}

int
dz_cli_pct(const char *opt, const char *s, double *v)
{
	struct dz_err err;

	if (dz_cli_parse_pct(s, v, &err))
		return dz_cli_invalid(opt, s, err.msg);
	return 0;
}

int
dz_cli_config(struct dz_config *c, const char *path)
{
	struct dz_err err;

	if (!dz_config_load(c, path, &err))
		return 0;
	/* lib/core/config says "cannot open configuration '/x': ..." */
	if (err.code == EX_NOINPUT)
		return dz_cli_error(err.code, "%s", err.msg);
	if (err.code == EX_CONFIG)
		return dz_cli_error(err.code, "invalid configuration: %s",
		    err.msg);
	return dz_cli_fail(err.code, "load configuration", NULL, err.msg);
}
