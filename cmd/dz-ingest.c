/*
 * dz-ingest: the one door into the store. Options, the record loop and the
 * exit code; the work is in lib/ingest.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/cli.h"
#include "core/config.h"
#include "core/err.h"
#include "work/ingest.h"
#include "core/proc.h"
#include "core/out.h"
#include "core/reader.h"
#include "core/record.h"

#define PROG "dz-ingest"

static const char usage_text[] =
"usage: dz-ingest [-hqV] [-c config] [--by name] [--remove-files] [file ...]\n"
"       dz-ingest [-hqV] [-c config] --spool dir\n"
"       dz-ingest [-c config] --init\n";

static const char help_text[] =
"\n"
"Take reports (submission records) and analysts' and operators' records\n"
"(verdict, close, withdraw, removed, notified) into the store: media\n"
"encrypted, one case per submission, one ack record per input on standard\n"
"output.\n"
"\n"
"  -c, --config FILE  configuration (else $DZ_CONFIG, /etc/dz/dz.yaml, defaults)\n"
"      --spool DIR    ingest the submissions waiting in DIR/new/\n"
"      --remove-files unlink the uploaded files once they are in the store\n"
"      --by NAME      who is acting, for the audit log (default dz-ingest)\n"
"      --init         create the store and a new master key file\n"
"  -q, --quiet        no diagnostics on stderr\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n"
"\n"
"Exit status: 0 all handled, 65 some input invalid (see its error record),\n"
"64 usage, 66 input not found, 74 I/O error, 75 store busy, 78 configuration.\n"
"See dz-ingest(1).\n";

enum { OPT_SPOOL = 256, OPT_REMOVE, OPT_BY, OPT_INIT };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "remove-files", no_argument, NULL, OPT_REMOVE },
	{ "by", required_argument, NULL, OPT_BY },
	{ "init", no_argument, NULL, OPT_INIT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct state {
	int quiet;
	int status;
	int fatal;
};

/* An ack that says some plaintext uploads could not be removed. */
static void
warn_left(const struct state *st, const json_t *rec)
{
	json_int_t n = json_integer_value(json_object_get(rec, "uploads_left"));

	if (n > 0 && !st->quiet)
		dz_cli_warn("%lld uploaded file(s) of submission '%s' could not "
		    "be removed; remove them by hand", (long long)n,
		    json_string_value(json_object_get(rec, "submission")));
}

static int
emit(json_t *rec, void *ctx)
{
	struct state *st = ctx;
	struct dz_err err;
	int rc = 0;

	if (rec)
		warn_left(st, rec);
	if (rec && !st->quiet &&
	    strcmp(json_string_value(json_object_get(rec, "type")), "error") == 0 &&
	    json_object_get(rec, "spool"))
		dz_cli_fail(EX_DATAERR, "ingest spool entry",
		    json_string_value(json_object_get(rec, "spool")),
		    json_string_value(json_object_get(rec, "reason")));
	if (!rec || dz_record_write(stdout, rec, &err)) {
		dz_cli_fail(EX_IOERR, "write output", NULL, rec ? err.msg :
		    "out of memory");
		st->status = EX_IOERR;
		st->fatal = 1;
		rc = -1;
	}
	json_decref(rec);
	return rc;
}

/* An input that failed: error record and diagnostic, then go on. */
static void
report(struct state *st, const char *src, long line, const json_t *rec,
    const char *reason, const json_t *errors)
{
	const char *sub = rec ? json_string_value(json_object_get(rec,
	    "submission")) : NULL;
	json_t *e = dz_record_error(PROG, reason);

	if (!st->status)
		st->status = EX_DATAERR;
	if (!st->quiet)
		dz_cli_error(EX_DATAERR, "%s:%ld: %s", src, line, reason);
	if (e) {
		json_object_set_new(e, "line", json_integer(line));
		if (sub)
			json_object_set_new(e, "submission", json_string(sub));
		if (errors && json_object_set(e, "errors", (json_t *)errors)) {
			json_decref(e);
			e = NULL;
		}
	}
	emit(e, st);
}

static int
run_stream(struct dz_ingest *in, struct state *st, FILE *f, const char *src,
    int remove_files)
{
	struct dz_err err;
	struct dz_reader *rd = dz_reader_new(f, '\n', 1 << 20, DZ_READER_STRIP_CR,
	    &err);
	const char *line;
	size_t len;
	int rc;

	if (!rd) {
		st->status = dz_cli_fail(err.code, "ingest", NULL, err.msg);
		st->fatal = 1;
		return -1;
	}
	while (!st->fatal && (rc = dz_reader_next(rd, &line, &len, &err)) != 0) {
		long lineno = (long)dz_reader_lineno(rd);
		json_t *rec, *out;

		if (rc == -2) {
			st->status = f == stdin ? dz_cli_fail(EX_IOERR,
			    "read standard input", NULL, err.msg) :
			    dz_cli_fail(EX_IOERR, "read", src, err.msg);
			break;
		}
		if (rc == 1 && len == 0)
			continue;
		if (rc == -1 || !(rec = dz_record_parse(line, len, &err))) {
			report(st, src, lineno, NULL, err.msg, NULL);
			continue;
		}
		out = dz_ingest_record(in, rec, NULL, 0, remove_files, &err);
		if (out) {
			emit(out, st);
		} else if (err.code == EX_DATAERR) {
			report(st, src, lineno, rec, err.msg,
			    dz_ingest_errors(in));
		} else {
			st->status = dz_cli_fail(err.code, "ingest", NULL,
			    err.msg);
			st->fatal = 1;
		}
		json_decref(rec);
	}
	dz_reader_free(rd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dz_config cfg;
	struct dz_err err;
	struct state st = { 0 };
	struct dz_ingest *in;
	const char *cfg_path = NULL, *spool = NULL, *by = NULL;
	int c, init = 0, remove_files = 0;

	dz_cli_init(PROG, usage_text, help_text);
	if (dz_proc_harden(&err))
		return dz_cli_fail(EX_SOFTWARE, "start", NULL, err.msg);
	while ((c = getopt_long(argc, argv, "c:hqV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 'q': st.quiet = 1; break;
		case 'h': return dz_cli_help();
		case 'V': return dz_cli_version(DZ_VERSION);
		case OPT_SPOOL: spool = optarg; break;
		case OPT_REMOVE: remove_files = 1; break;
		case OPT_BY: by = optarg; break;
		case OPT_INIT: init = 1; break;
		default: return dz_cli_misuse();
		}
	}
	argc -= optind;
	argv += optind;
	if ((spool && argc) || (init && (spool || argc)))
		return dz_cli_usage("--spool and --init take no file operands");
	if (spool && remove_files)
		return dz_cli_usage("--spool always removes what it stored; "
		    "--remove-files is for standard input");
	if ((c = dz_cli_config(&cfg, cfg_path)) != 0)
		return c;
	if (init) {
		int rc = dz_ingest_init(&cfg, &err) ? dz_cli_fail(err.code,
		    "initialise store", cfg.store, err.msg) : 0;
		if (!rc && !st.quiet)
			dz_cli_say("created the store '%s' and the master key "
			    "'%s'", cfg.store, cfg.master_key);
		dz_config_release(&cfg);
		return rc;
	}
	dz_out_init(stdout);
	in = dz_ingest_open(&cfg, by, &err);
	if (!in) {
		c = dz_cli_fail(err.code, "open store", cfg.store, err.msg);
		dz_config_release(&cfg);
		return c;
	}
	if (!st.quiet && dz_ingest_swept(in))
		dz_cli_say("removed %d blob files left by an interrupted run",
		    dz_ingest_swept(in));
	if (spool) {
		int bad = 0;
		if (dz_ingest_spool(in, spool, emit, &st, &bad, &err))
			st.status = dz_cli_fail(err.code, "ingest spool", spool,
			    err.msg);
		else if (bad && !st.status)
			st.status = EX_DATAERR;
	} else if (argc == 0) {
		run_stream(in, &st, stdin, "stdin", remove_files);
	} else {
		for (int i = 0; i < argc && !st.fatal; i++) {
			FILE *f = strcmp(argv[i], "-") ? fopen(argv[i], "r") : stdin;
			if (!f) {
				st.status = dz_cli_fail(EX_NOINPUT, "open",
				    argv[i], strerror(errno));
				continue;
			}
			run_stream(in, &st, f, argv[i], remove_files);
			if (f != stdin)
				fclose(f);
		}
	}
	dz_ingest_close(in);
	dz_config_release(&cfg);
	if (dz_out_close(stdout, &err)) {
		if (!st.fatal)
			dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
		return EX_IOERR;
	}
	return st.status;
}
