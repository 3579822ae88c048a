/*
 * dz-export: the read views of the store. Options, the subcommand and the
 * exit code; the work is in lib/store and lib/export.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "crypt.h"
#include "err.h"
#include "export.h"
#include "proc.h"
#include "record.h"
#include "store.h"

#define PROG "dz-export"
#ifndef DZ_VERSION
#define DZ_VERSION "0.1.0"
#endif

static const char usage_text[] =
"usage: dz-export [-hV] [-c config] cases [--state state] [--contact]\n"
"       dz-export [-hV] [-c config] items [--state state]\n"
"       dz-export [-hV] [-c config] media item\n";

static const char help_text[] =
"\n"
"Read views of the store for operators, as JSON Lines on standard output.\n"
"\n"
"  cases              one record per case (open, closed), no personal data\n"
"  items              one record per item (review, illegal, not_illegal)\n"
"  media ITEM         decrypt one item's media to standard output, which\n"
"                     must be a pipe (to a viewer), never a file or terminal\n"
"\n"
"  -c, --config FILE  configuration (else $DZ_CONFIG, /etc/dz/dz.yaml, defaults)\n"
"      --state STATE  only records in this state\n"
"      --contact      add the victim's contact and description (cases)\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n"
"\n"
"Exit status: 0 ok, 64 usage (or media to a file or terminal), 65 no such\n"
"item or media, 74 I/O error, 78 configuration. See dz-export(1).\n";

enum { OPT_STATE = 256, OPT_CONTACT };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "contact", no_argument, NULL, OPT_CONTACT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct list_ctx {
	struct dz_store *store;
	const uint8_t *master;	/* with --contact */
	struct dz_err err;
	int status;
};

static int
fail(int code, const char *what, const char *msg)
{
	fprintf(stderr, PROG ": %s: %s\n", what, msg);
	return code;
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, PROG ": %s\n%s", msg, usage_text);
	return EX_USAGE;
}

static int
write_row(json_t *row, void *arg)
{
	struct list_ctx *ctx = arg;
	int rc = 0;

	if (ctx->master && dz_export_add_secrets(ctx->store, ctx->master, row,
	    &ctx->err)) {
		ctx->status = ctx->err.code;
		rc = -1;
	} else if (dz_record_write(stdout, row, &ctx->err)) {
		ctx->status = EX_IOERR;
		rc = -1;
	}
	json_decref(row);
	return rc;
}

static int
valid_state(const char *what, const char *s)
{
	static const char *const cs[] = { "open", "closed", NULL };
	static const char *const is[] = { "review", "illegal", "not_illegal", NULL };
	const char *const *v = strcmp(what, "cases") == 0 ? cs : is;

	for (; *v; v++)
		if (strcmp(*v, s) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct dz_config cfg;
	struct dz_err err;
	struct dz_store *store = NULL;
	uint8_t master[DZ_KEY_BYTES];
	const char *cfg_path = NULL, *state = NULL, *what;
	int c, contact = 0, rc = 0, have_master = 0;

	if (dz_proc_harden(&err))
		return fail(EX_SOFTWARE, "cannot start", err.msg);
	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			return 0;
		case 'V':
			puts(PROG " " DZ_VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("which view? cases, items or media");
	what = argv[optind];
	/* options after the subcommand */
	optind++;
	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case OPT_STATE: state = optarg; break;
		case OPT_CONTACT: contact = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	if (strcmp(what, "cases") && strcmp(what, "items") && strcmp(what, "media"))
		return usage_error("unknown view (cases, items or media)");
	if (strcmp(what, "media") == 0) {
		if (argc - optind != 1 || state || contact)
			return usage_error("media takes exactly one item id");
		if (dz_export_media_sink_ok(STDOUT_FILENO, &err))
			return fail(err.code, "media", err.msg);
	} else {
		if (argc != optind)
			return usage_error("cases and items take no operands");
		if (state && !valid_state(what, state))
			return usage_error("unknown --state for this view");
		if (contact && strcmp(what, "cases"))
			return usage_error("--contact goes with cases");
	}

	if (dz_config_load(&cfg, cfg_path, &err))
		return fail(err.code, "configuration", err.msg);
	if (strcmp(what, "media") == 0 || contact) {
		if (dz_crypt_master_load(cfg.master_key, master, &err)) {
			rc = fail(err.code, "master key", err.msg);
			goto out;
		}
		have_master = 1;
	}
	if (access(cfg.store, F_OK) != 0) {
		rc = fail(EX_NOINPUT, "no store", "create one with dz-ingest --init");
		goto out;
	}
	if (dz_store_open(cfg.store, &store, &err)) {
		rc = fail(err.code, "cannot open the store", err.msg);
		goto out;
	}
	dz_out_init(stdout);
	if (strcmp(what, "media") == 0) {
		if (dz_export_media(store, master, argv[optind], STDOUT_FILENO, &err))
			rc = fail(err.code, "media", err.msg);
	} else {
		struct list_ctx ctx = { store, contact ? master : NULL, { 0, "" }, 0 };
		int r = strcmp(what, "cases") == 0 ?
		    dz_store_list_cases(store, state, write_row, &ctx, &err) :
		    dz_store_list_items(store, state, write_row, &ctx, &err);
		if (ctx.status)
			rc = fail(ctx.status, what, ctx.err.msg);
		else if (r)
			rc = fail(err.code, what, err.msg);
		if (dz_out_close(stdout, &err) && !rc)
			rc = fail(EX_IOERR, "cannot write output", err.msg);
	}
out:
	if (have_master)
		explicit_bzero(master, sizeof master);
	dz_store_close(store);
	dz_config_release(&cfg);
	return rc;
}
