/*
 * dz-export: the read views of the store. Options, the subcommand and the
 * exit code; the work is in lib/store/store, lib/work/export, lib/work/bankexport,
 * lib/work/case, lib/work/queue and lib/work/stats.
 */
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/clock.h"
#include "core/cli.h"
#include "core/config.h"
#include "crypto/crypt.h"
#include "core/err.h"
#include "work/export.h"
#include "core/proc.h"
#include "core/progress.h"
#include "notice/provider.h"
#include "core/out.h"
#include "core/record.h"
#include "store/store.h"
#include "store/storekeycheck.h"
#include "store/storesecrets.h"
#include "work/bankexport.h"
#include "work/case.h"
#include "work/queue.h"
#include "crypto/sign.h"
#include "work/stats.h"
#include "work/statshtml.h"

#define PROG "dz-export"

static const char usage_text[] =
"usage: dz-export [-hV] [-c config] cases [--state state] [--contact]\n"
"       dz-export [-hV] [-c config] items [--state state]\n"
"       dz-export [-hV] [-c config] case [--contact] [--entry] [--format fmt] id\n"
"       dz-export [-hV] [-c config] queue [--format fmt] [--overdue days]\n"
"                 [--spool dir]\n"
"       dz-export [-hV] [-c config] media item\n"
"       dz-export [-hV] [-c config] bank [-o file]... [--since seq|last|full]\n"
"                 [--format fmt] [-s seckey] [--signature file] [--unsigned]\n"
"                 [--collab name] [--allow-empty]\n"
"       dz-export [-hV] [-c config] keygen [-s seckey] [-p pubkey]\n"
"       dz-export [-hV] [-c config] stats [--from date] [--to date]\n"
"                 [--format fmt] [--lang fr|en]\n";

static const char help_text[] =
"\n"
"Read views of the store for operators, as JSON Lines on standard output.\n"
"\n"
"  cases              one record per case (open, closed), no personal data\n"
"  items              one record per item (review, illegal, not_illegal)\n"
"  case ID            one case's file: items, notices, events, hashes\n"
"  queue              what waits for a person; exit 1 when nothing does\n"
"  media ITEM         decrypt one item's media to standard output, which\n"
"                     must be a pipe (to a viewer), never a file or terminal\n"
"\n"
"  bank               the partner bank: verified, active PDQ hashes of quality\n"
"                     50 or more, signed; a full snapshot or a delta\n"
"  keygen             make the key pair that signs banks\n"
"  stats              figures for the yearly report (DSA Article 22(3)):\n"
"                     reports, verdicts, notices by provider and by type\n"
"                     of content, outcomes, delays, hashes, answers; no\n"
"                     personal data; the store is only read\n"
"\n"
"  -c, --config FILE  configuration (else $DZ_CONFIG, /etc/dz/dz.yaml, defaults)\n"
"      --state STATE  only records in this state\n"
"      --contact      add the victim's contact and description\n"
"      --entry        case: ID is a hash entry's; the file of its case\n"
"      --overdue DAYS queue: notices unanswered after DAYS days (14)\n"
"      --spool DIR    queue: also the entries of DIR/rejected/\n"
"  -o, --output FILE  bank: write FILE and FILE.minisig; the format follows the\n"
"                     name (.csv, .dzb; JSON Lines otherwise); %n in FILE\n"
"                     stands for the export number; '-' (the default) is\n"
"                     standard output, in JSON Lines\n"
"      --since SEQ    bank: a delta since export SEQ ('last': the latest\n"
"                     export, 'full': the latest full export)\n"
"      --format FMT   bank: jsonl, csv or dzb, whatever the file names say;\n"
"                     stats: jsonl (the default) or html, a page with charts;\n"
"                     case and queue: jsonl (the default) or text\n"
"      --from DATE    stats: the period's start, included: YYYY-MM-DD (UTC)\n"
"                     or an RFC 3339 time (default: the first report)\n"
"      --to DATE      stats: the period's end, excluded (default: now);\n"
"                     a year is --from 2026-01-01 --to 2027-01-01\n"
"      --lang LANG    stats --format html: the page in fr or en (default en)\n"
"  -s, --signing-key FILE  secret key (else export.signing_key; keygen:\n"
"                     the file to make, else that or dz-bank.key)\n"
"  -p, --public-key FILE   keygen: public key file (else export.public_key,\n"
"                     or dz-bank.pub)\n"
"      --signature FILE  bank on standard output: write its signature here\n"
"      --unsigned     bank: write no signature (partners need --insecure)\n"
"      --collab NAME  bank: issuer name in the bank (default disrupt)\n"
"      --allow-empty  bank: write a delta even when nothing changed\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n"
"\n"
"Exit status: 0 ok (queue: something waits), 1 queue: nothing waits, 64 usage (or media to a file or terminal, or a period\n"
"that ends before it starts), 65 no such item, media, case or entry (or no\n"
"base export), 66 no store or key file, 70 internal error, 73 cannot create a\n"
"file, 74 I/O error, 75 store busy or another export running, 78\n"
"configuration. See dz-export(1).\n";

enum { OPT_STATE = 256, OPT_CONTACT, OPT_SINCE, OPT_FORMAT, OPT_UNSIGNED,
	OPT_COLLAB, OPT_ALLOW_EMPTY, OPT_SIGNATURE, OPT_FROM, OPT_TO, OPT_ENTRY,
	OPT_OVERDUE, OPT_SPOOL, OPT_LANG };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "contact", no_argument, NULL, OPT_CONTACT },
	{ "output", required_argument, NULL, 'o' },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "signing-key", required_argument, NULL, 's' },
	{ "public-key", required_argument, NULL, 'p' },
	{ "unsigned", no_argument, NULL, OPT_UNSIGNED },
	{ "signature", required_argument, NULL, OPT_SIGNATURE },
	{ "collab", required_argument, NULL, OPT_COLLAB },
	{ "allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "entry", no_argument, NULL, OPT_ENTRY },
	{ "overdue", required_argument, NULL, OPT_OVERDUE },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "lang", required_argument, NULL, OPT_LANG },
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
valid_collab(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > DZ_BANK_COLLAB_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

static int
write_row(json_t *row, void *arg)
{
	struct list_ctx *ctx = arg;
	int rc = 0;

	if (ctx->master && dz_store_secrets_add(ctx->store, ctx->master, row,
	    DZ_SECRETS_CONTACT | DZ_SECRETS_DESCRIPTION, &ctx->err)) {
		ctx->status = ctx->err.code;
		rc = -1;
	} else if (dz_record_write(stdout, row, &ctx->err)) {
		ctx->status = EX_IOERR;
		rc = -1;
	}
	if (ctx->master)
		dz_store_secrets_wipe(row);
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

/* Options of the bank and keygen views. */
struct bank_args {
	struct dz_bankexport_file files[DZ_BANKEXPORT_MAX_FILES];
	size_t nfiles;
	const char *since, *format, *seckey, *pubkey, *collab, *signature;
	int unsigned_, allow_empty;
};

static int
run_keygen(const struct dz_config *cfg, const struct bank_args *b)
{
	struct dz_err err;
	const char *sec = b->seckey ? b->seckey :
	    cfg->signing_key ? cfg->signing_key : "dz-bank.key";
	const char *pub = b->pubkey ? b->pubkey :
	    cfg->public_key ? cfg->public_key : "dz-bank.pub";
	struct dz_sign_pub pk;
	char id[17];

	if (dz_sign_keygen(sec, pub, NULL, &err))
		return dz_cli_fail(err.code, "make key pair", NULL, err.msg);
	if (dz_sign_pub_load(pub, &pk, &err))
		return dz_cli_fail(err.code, "make key pair", NULL, err.msg);
	dz_sign_keyid_hex(pk.id, id);
	dz_cli_say("key %s: secret key '%s' (keep it 0600, apart from the "
	    "store), public key '%s' (give it to partners)", id, sec, pub);
	return 0;
}

static int
run_bank(struct dz_store *store, const struct dz_config *cfg,
    struct bank_args *b)
{
	struct dz_bankexport_opts o;
	struct dz_sign_key key;
	struct dz_progress progress;
	struct dz_err err;
	json_t *rec = NULL;
	int have_key = 0, rc = 0;

	memset(&o, 0, sizeof o);
	memset(&key, 0, sizeof key);
	o.since = DZ_BANKEXPORT_FULL;
	if (b->since) {
		uint64_t v;

		if (strcmp(b->since, "last") == 0) {
			o.since = DZ_BANKEXPORT_LAST;
		} else if (strcmp(b->since, "full") == 0) {
			o.since = DZ_BANKEXPORT_LAST_FULL;
		} else if (dz_cli_parse_uint(b->since, 1, INT64_MAX, &v,
		    &err)) {
			return dz_cli_invalid("--since", b->since, "expected an "
			    "export number, 'last' or 'full'");
		} else {
			o.since = (int64_t)v;
		}
	}
	o.files = b->files;
	o.nfiles = b->nfiles;
	o.collab = b->collab;
	o.signature = b->signature;
	o.allow_empty = b->allow_empty;
	o.actor = PROG;
	/*
	 * A progress line while the hashes are read, when stderr is a
	 * terminal: a large bank takes a while. Standard output holds only
	 * the export record at the end, unless the bank itself goes there:
	 * then only if that is not the same terminal.
	 */
	dz_progress_init(&progress, PROG, "hashes",
	    b->nfiles == 1 && strcmp(b->files[0].path, "-") == 0 ? -1 :
	    isatty(STDERR_FILENO) ? 1 : -1);
	o.progress = &progress;
	if (!b->unsigned_) {
		const char *sec = b->seckey ? b->seckey : cfg->signing_key;
		if (!sec)
			return dz_cli_fail(EX_CONFIG, "export bank", NULL,
			    "no signing key: give -s or set export.signing_key "
			    "(dz-export keygen makes one), or write --unsigned");
		if (dz_sign_key_load(sec, &key, &err))
			return dz_cli_fail(err.code, "load signing key", sec,
			    err.msg);
		have_key = 1;
		o.key = &key;
	}
	rc = dz_bankexport_run(store, &o, &rec, &err);
	dz_progress_end(&progress);
	if (rc) {
		rc = err.code == EX_USAGE ? dz_cli_usage("%s", err.msg) :
		    dz_cli_fail(err.code, "export bank", NULL, err.msg);
	} else if (b->nfiles == 1 && strcmp(b->files[0].path, "-") == 0) {
		json_decref(rec);	/* standard output holds the bank */
	} else {
		if (dz_record_write(stdout, rec, &err))
			rc = dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
		json_decref(rec);
	}
	if (have_key)
		dz_sign_key_release(&key);
	if (dz_out_close(stdout, &err) && !rc)
		rc = dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
	return rc;
}

/* Options of the stats view. */
struct stats_args {
	const char *from, *to, *lang;
	int html;
	struct dz_stats_opts o;
};

static int
emit_stat(json_t *rec, void *arg)
{
	struct dz_err *err = arg;
	int rc = dz_record_write(stdout, rec, err);

	json_decref(rec);
	return rc;
}

static int
run_stats(struct dz_store *store, const struct dz_config *cfg,
    struct stats_args *a)
{
	struct dz_providers providers;
	struct dz_stats st;
	struct dz_err err;
	int rc = 0;

	if (dz_providers_open(&providers, cfg->providers,
	    cfg->providers_replace, &err))
		return dz_cli_fail(err.code, "load provider directory", NULL,
		    err.msg);
	a->o.providers = &providers;
	if (dz_stats_collect(store, &a->o, &st, &err)) {
		dz_providers_release(&providers);
		return err.code == EX_USAGE ? dz_cli_usage("%s", err.msg) :
		    dz_cli_fail(err.code, "compute stats", NULL, err.msg);
	}
	dz_providers_release(&providers);
	if (a->html ? dz_statshtml_write(stdout, &st, cfg->hotline,
	    a->lang, &err) :
	    dz_stats_records(&st, emit_stat, &err, &err))
		rc = dz_cli_fail(err.code == EX_SOFTWARE ? EX_SOFTWARE :
		    EX_IOERR, "write output", NULL, err.msg);
	dz_stats_release(&st);
	if (dz_out_close(stdout, &err) && !rc)
		rc = dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
	return rc;
}

/*
 * The period of stats: each bound a date or an RFC 3339 time, to
 * defaulting to now; a usage error when one is malformed or the period
 * ends before it starts.
 */
static int
stats_period(struct stats_args *a)
{
	char now[DZ_TIME_LEN];

	if (dz_clock_now(now) || dz_clock_parse(now, &a->o.now))
		return dz_cli_fail(EX_SOFTWARE, "read the clock", NULL,
		    "DZ_NOW is not an RFC 3339 time");
	if (a->from && dz_stats_parse_time(a->from, &a->o.from))
		return dz_cli_usage("--from: not a date (YYYY-MM-DD) or an "
		    "RFC 3339 time");
	a->o.has_from = a->from != NULL;
	a->o.to = a->o.now;
	if (a->to && dz_stats_parse_time(a->to, &a->o.to))
		return dz_cli_usage("--to: not a date (YYYY-MM-DD) or an "
		    "RFC 3339 time");
	if (a->o.has_from && a->o.from > a->o.to)
		return dz_cli_usage(a->to ? "--from is after --to" :
		    "--from is in the future");
	return 0;
}

/* Options of the case and queue views. */
struct desk_args {
	const char *spool;
	int entry, text, overdue;
};

struct desk_ctx {
	struct list_ctx list;
	int text;
	int (*text_fn)(FILE *, const json_t *, struct dz_err *);
};

static int
write_desk(json_t *row, void *arg)
{
	struct desk_ctx *d = arg;
	struct list_ctx *ctx = &d->list;
	const char *type = json_string_value(json_object_get(row, "type"));
	int rc = 0, is_case = type && strcmp(type, "case") == 0;

	if (ctx->master && is_case && dz_store_secrets_add(ctx->store,
	    ctx->master, row, DZ_SECRETS_CONTACT | DZ_SECRETS_DESCRIPTION,
	    &ctx->err)) {
		ctx->status = ctx->err.code;
		rc = -1;
	} else if (d->text ? d->text_fn(stdout, row, &ctx->err) :
	    dz_record_write(stdout, row, &ctx->err)) {
		ctx->status = EX_IOERR;
		rc = -1;
	}
	if (ctx->master && is_case)
		dz_store_secrets_wipe(row);
	json_decref(row);
	return rc;
}

static int
run_case(struct dz_store *store, const uint8_t *master, const char *id,
    const struct desk_args *a)
{
	struct desk_ctx d = { { store, master, { 0, "" }, 0 }, a->text,
	    dz_case_text };
	char case_id[DZ_CASE_ID_LEN + 1];
	struct dz_err err;
	int rc = 0;

	if (a->entry) {
		if (dz_case_of_entry(store, id, case_id, &err))
			return dz_cli_fail(err.code, "find the case of entry",
			    dz_case_entry_ok(id) ? id : NULL, err.msg);
		id = case_id;
	}
	if (dz_case_file(store, id, write_desk, &d, &err)) {
		if (d.list.status)
			rc = dz_cli_fail(d.list.status, d.list.status ==
			    EX_IOERR ? "write output" : "export case", NULL,
			    d.list.err.msg);
		else
			rc = dz_cli_fail(err.code, "export case",
			    dz_case_id_ok(id) ? id : NULL, err.msg);
	}
	if (dz_out_close(stdout, &err) && !rc)
		rc = dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
	return rc;
}

static int
run_queue(struct dz_store *store, const struct dz_config *cfg,
    const struct desk_args *a)
{
	struct desk_ctx d = { { store, NULL, { 0, "" }, 0 }, a->text,
	    dz_queue_text };
	struct dz_queue_opts o;
	struct dz_providers providers;
	char now[DZ_TIME_LEN];
	struct dz_err err;
	size_t n = 0;
	int rc = 0;

	if (dz_clock_now(now))
		return dz_cli_fail(EX_SOFTWARE, "read the clock", NULL,
		    "DZ_NOW is not an RFC 3339 time");
	if (dz_providers_load(&providers, cfg->providers, &err))
		return dz_cli_fail(err.code, "load provider directory", NULL,
		    err.msg);
	memset(&o, 0, sizeof o);
	o.now = now;
	o.overdue_days = a->overdue;
	o.providers = &providers;
	o.spool = a->spool;
	if (dz_queue_run(store, &o, write_desk, &d, &n, &err))
		rc = d.list.status ? dz_cli_fail(d.list.status, "write output",
		    NULL, d.list.err.msg) : dz_cli_fail(err.code,
		    "list the queue", a->spool && err.code == EX_NOINPUT ?
		    a->spool : NULL, err.msg);
	dz_providers_release(&providers);
	if (dz_out_close(stdout, &err) && !rc)
		rc = dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
	return rc ? rc : n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct bank_args bank = { .nfiles = 0 };
	struct stats_args stats;
	struct desk_args desk = { NULL, 0, 0, 14 };
	struct dz_config cfg;
	struct dz_err err;
	struct dz_store *store = NULL;
	uint8_t master[DZ_KEY_BYTES];
	const char *cfg_path = NULL, *state = NULL, *what;
	int c, contact = 0, rc = 0, have_master = 0, k = 0;
	int is_bank, is_keygen, is_stats, is_case, is_queue;

	dz_cli_init(PROG, usage_text, help_text);
	if (dz_proc_harden(&err))
		return dz_cli_fail(EX_SOFTWARE, "start", NULL, err.msg);
	memset(&stats, 0, sizeof stats);
	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 'h':
			return dz_out_text(stdout, usage_text, help_text, &err) ?
			    dz_cli_fail(EX_IOERR, "write output", NULL, err.msg) : 0;
		case 'V':
			return dz_out_text(stdout, PROG " " DZ_VERSION "\n", NULL,
			    &err) ? dz_cli_fail(EX_IOERR, "write output", NULL, err.msg) :
			    0;
		default: return dz_cli_misuse();
		}
	}
	if (optind >= argc)
		return dz_cli_usage("which view? cases, items, case, queue, "
		    "media, bank, keygen or stats");
	what = argv[optind];
	/* options after the subcommand */
	optind++;
	while ((c = getopt_long(argc, argv, "c:ho:p:s:V", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case OPT_STATE: state = optarg; break;
		case OPT_CONTACT: contact = 1; break;
		case 'o':
			if (bank.nfiles == sizeof bank.files / sizeof bank.files[0])
				return dz_cli_usage("too many -o files");
			bank.files[bank.nfiles++].path = optarg;
			break;
		case OPT_SINCE: bank.since = optarg; break;
		case OPT_FORMAT: bank.format = optarg; break;
		case 's': bank.seckey = optarg; break;
		case 'p': bank.pubkey = optarg; break;
		case OPT_UNSIGNED: bank.unsigned_ = 1; break;
		case OPT_COLLAB: bank.collab = optarg; break;
		case OPT_ALLOW_EMPTY: bank.allow_empty = 1; break;
		case OPT_SIGNATURE: bank.signature = optarg; break;
		case OPT_FROM: stats.from = optarg; break;
		case OPT_TO: stats.to = optarg; break;
		case OPT_ENTRY: desk.entry = 1; break;
		case OPT_SPOOL: desk.spool = optarg; break;
		case OPT_OVERDUE:
			if ((rc = dz_cli_int("--overdue", optarg, 1, 3650,
			    &desk.overdue)) != 0)
				return rc;
			break;
		case OPT_LANG: stats.lang = optarg; break;
		case 'h':
			return dz_out_text(stdout, usage_text, help_text, &err) ?
			    dz_cli_fail(EX_IOERR, "write output", NULL, err.msg) : 0;
		default: return dz_cli_misuse();
		}
	}
	if (strcmp(what, "cases") && strcmp(what, "items") &&
	    strcmp(what, "media") && strcmp(what, "bank") &&
	    strcmp(what, "keygen") && strcmp(what, "stats") &&
	    strcmp(what, "case") && strcmp(what, "queue"))
		return dz_cli_usage("unknown view (cases, items, case, queue, "
		    "media, bank, keygen or stats)");
	is_bank = strcmp(what, "bank") == 0;
	is_keygen = strcmp(what, "keygen") == 0;
	is_stats = strcmp(what, "stats") == 0;
	is_case = strcmp(what, "case") == 0;
	is_queue = strcmp(what, "queue") == 0;
	if (!is_bank && (bank.nfiles || bank.since ||
	    (bank.format && !is_stats && !is_case && !is_queue) ||
	    bank.unsigned_ || bank.collab ||
	    bank.allow_empty || bank.signature))
		return dz_cli_usage("-o, --since, --signature, --unsigned, "
		    "--collab and --allow-empty go with bank, --format with "
		    "bank, stats, case or queue");
	if (!is_case && desk.entry)
		return dz_cli_usage("--entry goes with case");
	if (!is_queue && (desk.spool || desk.overdue != 14))
		return dz_cli_usage("--spool and --overdue go with queue");
	if (!is_stats && (stats.from || stats.to))
		return dz_cli_usage("--from and --to go with stats");
	if (!is_bank && !is_keygen && bank.seckey)
		return dz_cli_usage("-s goes with bank and keygen");
	if (!is_keygen && bank.pubkey)
		return dz_cli_usage("-p goes with keygen");
	if (is_bank || is_keygen) {
		size_t i;

		if (argc != optind || state || contact)
			return dz_cli_usage("bank and keygen take no operands");
		if (is_bank && bank.nfiles == 0)
			bank.files[bank.nfiles++].path = "-";
		if (is_bank && bank.signature && (bank.nfiles != 1 ||
		    strcmp(bank.files[0].path, "-") || bank.unsigned_))
			return dz_cli_usage("--signature goes with a signed bank "
			    "on standard output");
		if (is_bank && bank.collab && !valid_collab(bank.collab))
			return dz_cli_usage("--collab: 1 to 31 letters, digits, '.', '_' or '-'");
		for (i = 0; i < bank.nfiles; i++) {
			enum dz_bank_format f = 0;
			if (bank.format) {
				f = strcmp(bank.format, "jsonl") == 0 ? DZ_BANK_JSONL :
				    strcmp(bank.format, "csv") == 0 ? DZ_BANK_CSV :
				    strcmp(bank.format, "dzb") == 0 ? DZ_BANK_DZB : 0;
				if (!f)
					return dz_cli_usage("--format: jsonl, csv or dzb");
			} else if (!(f = dz_bankexport_format_of(bank.files[i].path))) {
				f = DZ_BANK_JSONL;
			}
			bank.files[i].format = f;
		}
	} else if (is_stats) {
		if (argc != optind || state || contact)
			return dz_cli_usage("stats takes no operands, nor --state "
			    "or --contact");
		if (bank.format && strcmp(bank.format, "jsonl") &&
		    strcmp(bank.format, "html"))
			return dz_cli_usage("--format: jsonl or html with stats");
		stats.html = bank.format && strcmp(bank.format, "html") == 0;
		if (stats.lang && (!stats.html || (strcmp(stats.lang, "fr") &&
		    strcmp(stats.lang, "en"))))
			return dz_cli_usage("--lang: fr or en, with stats "
			    "--format html");
		if ((rc = stats_period(&stats)) != 0)
			return rc;
	} else if (is_case || is_queue) {
		if (is_case && argc - optind != 1)
			return dz_cli_usage("case takes one id");
		if (is_queue && argc != optind)
			return dz_cli_usage("queue takes no operands");
		if (state || (is_queue && contact))
			return dz_cli_usage("--state goes with cases and items, "
			    "--contact with cases and case");
		if (bank.format && strcmp(bank.format, "jsonl") &&
		    strcmp(bank.format, "text"))
			return dz_cli_usage("--format: jsonl or text with %s",
			    what);
		desk.text = bank.format && strcmp(bank.format, "text") == 0;
	} else if (strcmp(what, "media") == 0) {
		if (argc - optind != 1 || state || contact)
			return dz_cli_usage("media takes exactly one item id");
		if (dz_export_media_sink_ok(STDOUT_FILENO, &err))
			return dz_cli_fail(err.code, "export media", NULL,
			    err.msg);
	} else {
		if (argc != optind)
			return dz_cli_usage("cases and items take no operands");
		if (state && !valid_state(what, state))
			return dz_cli_usage("unknown --state for this view");
		if (contact && strcmp(what, "cases"))
			return dz_cli_usage("--contact goes with cases");
	}

	if ((rc = dz_cli_config(&cfg, cfg_path)) != 0)
		return rc;
	if (is_keygen) {
		rc = run_keygen(&cfg, &bank);
		dz_config_release(&cfg);
		return rc;
	}
	if (strcmp(what, "media") == 0 || contact) {
		if (dz_crypt_master_load(cfg.master_key, master, &err)) {
			rc = dz_cli_fail(err.code, "load master key",
			    cfg.master_key, err.msg);
			goto out;
		}
		have_master = 1;
	}
	if (access(cfg.store, F_OK) != 0) {
		rc = dz_cli_fail(EX_NOINPUT, "open store", cfg.store,
		    DZ_CLI_NO_STORE);
		goto out;
	}
	if (have_master &&
	    (k = dz_store_keycheck_load(cfg.store, master, &err)) < 0) {
		rc = dz_cli_fail(err.code, "load master key", cfg.master_key, err.msg);
		goto out;
	}
	if (is_stats || ((is_case || is_queue) && !have_master) ?
	    dz_store_open_readonly(cfg.store, &store, &err) :
	    dz_store_open(cfg.store, &store, &err)) {
		rc = dz_cli_fail(err.code, "open store", cfg.store, err.msg);
		goto out;
	}
	if (have_master && k == 1 &&
	    dz_store_keycheck_record(store, cfg.store, master, &err)) {
		rc = dz_cli_fail(err.code, "load master key", cfg.master_key, err.msg);
		goto out;
	}
	dz_out_init(stdout);
	if (is_stats) {
		rc = run_stats(store, &cfg, &stats);
	} else if (is_bank) {
		rc = run_bank(store, &cfg, &bank);
	} else if (is_case) {
		rc = run_case(store, contact ? master : NULL, argv[optind],
		    &desk);
	} else if (is_queue) {
		rc = run_queue(store, &cfg, &desk);
	} else if (strcmp(what, "media") == 0) {
		if (dz_export_media(store, master, argv[optind], STDOUT_FILENO, &err))
			rc = dz_cli_fail(err.code, "export media", argv[optind],
			    err.msg);
	} else {
		struct list_ctx ctx = { store, contact ? master : NULL, { 0, "" }, 0 };
		int r = strcmp(what, "cases") == 0 ?
		    dz_store_list_cases(store, state, write_row, &ctx, &err) :
		    dz_store_list_items(store, state, write_row, &ctx, &err);
		const char *verb = strcmp(what, "cases") == 0 ? "list cases" :
		    "list items";

		if (ctx.status)
			rc = dz_cli_fail(ctx.status, ctx.status == EX_IOERR ?
			    "write output" : verb, NULL, ctx.err.msg);
		else if (r)
			rc = dz_cli_fail(err.code, verb, NULL, err.msg);
		if (dz_out_close(stdout, &err) && !rc)
			rc = dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
	}
out:
	if (have_master)
		OPENSSL_cleanse(master, sizeof master);
	dz_store_close(store);
	dz_config_release(&cfg);
	return rc;
}
