/*
 * dz-notify: takedown notices to hosting providers, reminders, and
 * answers to victims. Options and the exit code; the work is in
 * lib/notify.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/cli.h"
#include "core/config.h"
#include "crypto/crypt.h"
#include "core/err.h"
#include "work/notify.h"
#include "core/proc.h"
#include "notice/provider.h"
#include "core/out.h"
#include "core/record.h"
#include "notice/resolve.h"
#include "store/store.h"
#include "store/storekeycheck.h"

#define PROG "dz-notify"

static const char usage_text[] =
"usage: dz-notify [-hqV] [-c config] [--maildir dir | --dry-run] [--remind days]\n"
"                 [--resolve]\n";

static const char help_text[] =
"\n"
"Send what the hotline owes: a notice to the hosting provider of every URL\n"
"judged illegal (one message per provider, its URLs grouped), reminders for\n"
"URLs still online, and an answer to every victim who asked for one once\n"
"their case is closed. One notice record per message on standard output.\n"
"Running it again sends nothing twice; a failed delivery is retried.\n"
"\n"
"  -c, --config FILE  configuration (else $DZ_CONFIG, /etc/dz/dz.yaml, defaults)\n"
"      --maildir DIR  deliver into the Maildir DIR instead of notify.mta\n"
"      --dry-run      print the messages that would go (an mbox) on standard\n"
"                     output; record and send nothing\n"
"      --remind DAYS  also remind providers of URLs still reported DAYS days\n"
"                     after their notice (and every DAYS days after that)\n"
"      --resolve      for a domain the provider directory does not know, look\n"
"                     up the abuse contact (DNS, then RDAP at notify.rdap)\n"
"  -q, --quiet        no diagnostics on stderr\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n"
"\n"
"Exit status: 0 all sent, 64 usage, 66 no store or key, 69 a message could\n"
"not be delivered or can never be sent, 74 output error, 75 a delivery\n"
"failed for now, another dz-notify is running or the store is busy (try\n"
"again), 78 configuration or a wrong master key.\n"
"See dz-notify(1).\n";

enum { OPT_MAILDIR = 256, OPT_DRY_RUN, OPT_REMIND, OPT_RESOLVE };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "maildir", required_argument, NULL, OPT_MAILDIR },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "remind", required_argument, NULL, OPT_REMIND },
	{ "resolve", no_argument, NULL, OPT_RESOLVE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct out {
	int quiet;
	int dry;
	struct dz_err err;
	int failed_write;
};

/* Each record: to standard output (or, in a dry run, only the operator's
 * lines to stderr), and a word on stderr for what needs a person. */
static int
emit(json_t *rec, void *arg)
{
	struct out *o = arg;
	const char *type = json_string_value(json_object_get(rec, "type"));
	const char *state = json_string_value(json_object_get(rec, "state"));
	const char *item = json_string_value(json_object_get(rec, "item"));
	const char *reason = json_string_value(json_object_get(rec, "reason"));
	int rc = 0;

	if (!o->quiet && type && reason) {
		if (!strcmp(type, "error"))
			dz_cli_say("notice %s cannot be sent: %s",
			    json_string_value(json_object_get(rec, "notice")),
			    reason);
		else if (!strcmp(type, "notice"))
			dz_cli_say("notice %s %s: %s",
			    json_string_value(json_object_get(rec, "notice")),
			    state && !strcmp(state, "cancelled") ?
			    "cancelled" : "not delivered", reason);
		else
			dz_cli_say("item %s: %s%s%s", item ? item :
			    "?", !strcmp(type, "manual") ? "notify by hand: " :
			    "", reason, !strcmp(type, "manual") ? "" :
			    " (add it to the provider directory)");
	}
	if (!o->dry && dz_record_write(stdout, rec, &o->err)) {
		o->failed_write = 1;
		rc = -1;
	}
	json_decref(rec);
	return rc;
}

/* lib/notice/resolve behind lib/work/notify's hook. */
static int
resolve(const char *host, char *name, size_t name_size, char *address,
    size_t address_size, void *ctx, struct dz_err *err)
{
	const struct dz_resolve_opts *ro = ctx;
	struct dz_resolved r;

	if (dz_resolve_abuse(host, ro, &r, err))
		return -1;
	if (!r.abuse[0])
		return dz_err_set(err, EX_UNAVAILABLE, "no abuse contact "
		    "found");
	snprintf(name, name_size, "%s", r.name[0] ? r.name : host);
	snprintf(address, address_size, "%s", r.abuse);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dz_notify_opts no;
	struct dz_resolve_opts ro;
	struct dz_providers providers;
	struct dz_config cfg;
	struct dz_store *store = NULL;
	struct dz_err err;
	struct out out;
	uint8_t master[DZ_KEY_BYTES];
	const char *cfg_path = NULL, *maildir = NULL;
	int c, dry = 0, remind = 0, use_resolver = 0, rc = 0, nfailed = 0;
	int temporary = 1, have_master = 0, have_providers = 0, k;
	int unsendable = 0;

	dz_cli_init(PROG, usage_text, help_text);
	if (dz_proc_harden(&err))
		return dz_cli_fail(EX_SOFTWARE, "start", NULL, err.msg);
	memset(&out, 0, sizeof out);
	while ((c = getopt_long(argc, argv, "c:hqV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case OPT_MAILDIR: maildir = optarg; break;
		case OPT_DRY_RUN: dry = 1; break;
		case OPT_REMIND:
			if ((rc = dz_cli_int("--remind", optarg, 1, 3650,
			    &remind)) != 0)
				return rc;
			break;
		case OPT_RESOLVE: use_resolver = 1; break;
		case 'q': out.quiet = 1; break;
		case 'h': return dz_cli_help();
		case 'V': return dz_cli_version(DZ_VERSION);
		default: return dz_cli_misuse();
		}
	}
	if (optind != argc)
		return dz_cli_operand(argv[optind]);
	if (dry && maildir)
		return dz_cli_usage("--maildir and --dry-run do not go together");
	out.dry = dry;

	if ((rc = dz_cli_config(&cfg, cfg_path)) != 0)
		return rc;
	if (dz_providers_open(&providers, cfg.providers,
	    cfg.providers_replace, &err)) {
		rc = dz_cli_fail(err.code, "load provider directory", NULL,
		    err.msg);
		goto done;
	}
	have_providers = 1;
	if (dz_crypt_master_load(cfg.master_key, master, &err)) {
		rc = dz_cli_fail(err.code, "load master key", cfg.master_key,
		    err.msg);
		goto done;
	}
	have_master = 1;
	if (access(cfg.store, F_OK) != 0) {
		rc = dz_cli_fail(EX_NOINPUT, "open store", cfg.store,
		    DZ_CLI_NO_STORE);
		goto done;
	}
	if ((k = dz_store_keycheck_load(cfg.store, master, &err)) < 0) {
		rc = dz_cli_fail(err.code, "load master key", cfg.master_key, err.msg);
		goto done;
	}
	if (dz_store_open(cfg.store, &store, &err)) {
		rc = dz_cli_fail(err.code, "open store", cfg.store, err.msg);
		goto done;
	}
	if (k == 1 && dz_store_keycheck_record(store, cfg.store, master, &err)) {
		rc = dz_cli_fail(err.code, "load master key", cfg.master_key, err.msg);
		goto done;
	}

	memset(&no, 0, sizeof no);
	no.cfg = &cfg;
	no.providers = &providers;
	no.master = master;
	no.delivery = dry ? DZ_NOTIFY_DRY_RUN : maildir ? DZ_NOTIFY_MAILDIR :
	    DZ_NOTIFY_SENDMAIL;
	no.maildir = maildir;
	no.dry_out = stdout;
	no.remind_days = remind;
	no.actor = PROG;
	if (use_resolver) {
		memset(&ro, 0, sizeof ro);	/* zero: the defaults */
		ro.rdap_base = cfg.rdap;
		ro.timeout_ms = cfg.rdap_timeout * 1000;
		ro.allow_loopback = cfg.rdap_allow_loopback;
		no.resolve = resolve;
		no.resolve_ctx = &ro;
	}
	dz_out_init(stdout);
	if (dz_notify_run(store, &no, emit, &out, &nfailed, &temporary,
	    &unsendable, &err)) {
		if (out.failed_write)
			rc = dz_cli_fail(EX_IOERR, "write output", NULL,
			    out.err.msg);
		else
			rc = dz_cli_fail(err.code, "send notices", NULL, err.msg);
	} else if (nfailed) {
		if (!out.quiet)
			dz_cli_say("%d message%s not delivered; they will be "
			    "retried on the next run", nfailed,
			    nfailed == 1 ? "" : "s");
		rc = temporary ? EX_TEMPFAIL : EX_UNAVAILABLE;
	}
	if (!rc && unsendable) {
		if (!out.quiet)
			dz_cli_say("%d message%s cannot be sent "
			    "and %s cancelled", unsendable, unsendable == 1 ?
			    "" : "s", unsendable == 1 ? "was" : "were");
		rc = EX_UNAVAILABLE;
	}
	if (dz_out_close(stdout, &err) && !rc)
		rc = dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
done:
	if (have_master)
		OPENSSL_cleanse(master, sizeof master);
	if (have_providers)
		dz_providers_release(&providers);
	dz_store_close(store);
	dz_config_release(&cfg);
	return rc;
}
