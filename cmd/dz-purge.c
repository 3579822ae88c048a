/*
 * dz-purge: retention. Options and the exit code; the work is in
 * lib/purge.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/cli.h"
#include "core/config.h"
#include "core/err.h"
#include "core/proc.h"
#include "work/purge.h"
#include "core/out.h"
#include "core/record.h"
#include "store/store.h"

#define PROG "dz-purge"

static const char usage_text[] =
"usage: dz-purge [-hnqV] [-c config] [--spool dir]\n";

static const char help_text[] =
"\n"
"Delete what the hotline promised to forget, when its time has come, from\n"
"the dates in the store: the media of items never judged illegal, contact\n"
"data and descriptions after a case is closed, withdrawn hashes (keeping\n"
"tombstones for partners), and rejected spool entries. One purge record per\n"
"deletion on standard output; nothing deleted stays in the database, its\n"
"write-ahead log or the blob directory.\n"
"\n"
"  -c, --config FILE  configuration (else $DZ_CONFIG, /etc/dz/dz.yaml, defaults)\n"
"  -n, --dry-run      list what would go, delete nothing\n"
"      --spool DIR    also remove DIR/rejected/ entries (dz-ingest --spool)\n"
"                     older than retention.rejected_days\n"
"  -q, --quiet        no diagnostics on stderr\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n"
"\n"
"Exit status: 0 done, 64 usage, 66 no store, 74 I/O error, 75 another\n"
"dz-purge running or the store busy (try again), 78 configuration.\n"
"See dz-purge(1).\n";

enum { OPT_SPOOL = 256 };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct out {
	struct dz_err err;
	int failed;
};

static int
emit(json_t *rec, void *arg)
{
	struct out *o = arg;
	int rc = dz_record_write(stdout, rec, &o->err);

	if (rc)
		o->failed = 1;
	json_decref(rec);
	return rc;
}

int
main(int argc, char **argv)
{
	struct dz_purge_opts po;
	struct dz_config cfg;
	struct dz_store *store = NULL;
	struct dz_err err;
	struct out out = { { 0, "" }, 0 };
	const char *cfg_path = NULL, *spool = NULL;
	int c, dry = 0, quiet = 0, rc = 0;

	dz_cli_init(PROG, usage_text, help_text);
	if (dz_proc_harden(&err))
		return dz_cli_fail(EX_SOFTWARE, "start", NULL, err.msg);
	while ((c = getopt_long(argc, argv, "c:hnqV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 'n': dry = 1; break;
		case OPT_SPOOL: spool = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': return dz_cli_help();
		case 'V': return dz_cli_version(DZ_VERSION);
		default: return dz_cli_misuse();
		}
	}
	if (optind != argc)
		return dz_cli_operand(argv[optind]);
	if ((rc = dz_cli_config(&cfg, cfg_path)) != 0)
		return rc;
	if (access(cfg.store, F_OK) != 0) {
		rc = quiet ? EX_NOINPUT : dz_cli_fail(EX_NOINPUT, "open store",
		    cfg.store, DZ_CLI_NO_STORE);
		goto done;
	}
	if (dz_store_open(cfg.store, &store, &err)) {
		rc = dz_cli_fail(err.code, "open store", cfg.store, err.msg);
		goto done;
	}
	memset(&po, 0, sizeof po);
	po.cfg = &cfg;
	po.spool = spool;
	po.dry_run = dry;
	po.actor = PROG;
	dz_out_init(stdout);
	if (dz_purge_run(store, &po, emit, &out, &err)) {
		if (out.failed)
			rc = dz_cli_fail(EX_IOERR, "write output", NULL,
			    out.err.msg);
		else
			rc = dz_cli_fail(err.code, "purge", NULL, err.msg);
	}
	if (dz_out_close(stdout, &err) && !rc)
		rc = dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
done:
	dz_store_close(store);
	dz_config_release(&cfg);
	return rc;
}
