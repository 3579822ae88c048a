/*
 * dz-match: match media files, or their hashes, against signed hash banks.
 * Options, the input loop and the exit code; the work is in lib/work/match
 * (banks, trust, queries, records) and lib/hash.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bank/bank.h"
#include "bank/trust.h"
#include "core/cli.h"
#include "core/config.h"
#include "crypto/digest.h"
#include "core/err.h"
#include "hash/hash.h"
#include "core/input.h"
#include "work/match.h"
#include "core/proc.h"
#include "core/out.h"
#include "core/record.h"
#include "core/runner.h"
#include "crypto/sign.h"

#define PROG "dz-match"

static const char usage_text[] =
"usage: dz-match [-0hqvV] [-c config] [-j jobs] [-p pubkey]... [-t threshold] --bank bank\n"
"                [[-t threshold] --bank bank]... [--insecure] [--state file|--no-state]\n"
"                [--dihedral] [--exact] [--min-quality q] [--max-bytes n]\n"
"                [--max-duration s] [--vpdq-query-pct p] [--vpdq-bank-pct p]\n"
"                [--progress|--no-progress] [file ...]\n"
"       dz-match --hashes [options] [file ...]\n"
"       dz-match --verify-only [options]\n";

static const char help_text[] =
"\n"
"Match images and videos against signed hash banks: one record per (input,\n"
"bank entry) that matches: PDQ hashes within the bank's threshold; for a\n"
"video, its vPDQ frames against bank videos and images, and its MD5. Media\n"
"come from the operands, else one name per line on standard input; with\n"
"--hashes, hash records (or bare PDQ hashes) come from the operands or\n"
"standard input.\n"
"\n"
"  -0, --null           names on standard input are NUL-separated (find -print0)\n"
"  -c, --config FILE    read this configuration file (see dz.yaml(5))\n"
"  -j, --jobs N         hash and match with N threads; output stays in order\n"
"  -p, --public-key F   trust banks signed with this minisign public key\n"
"                       (repeatable; default: match.public_key)\n"
"  -t, --threshold N    PDQ distance limit (0-256) of the banks named after it\n"
"                       (default: match.pdq_threshold, 31)\n"
"  -b, --bank FILE      a bank (JSON Lines, CSV or .dzb), signed by FILE.minisig\n"
"      --insecure       accept banks that have no signature file\n"
"      --state FILE     where accepted bank numbers are kept (rollback check)\n"
"      --no-state       keep no state: weakens rollback and replay protection\n"
"      --verify-only    verify the banks, record them in the state, and exit\n"
"      --hashes         read hash records or bare PDQ hashes, not media\n"
"      --dihedral       also match rotated and mirrored copies\n"
"      --exact          decode images at full resolution, as the reference\n"
"      --min-quality Q  ignore inputs of PDQ quality below Q (default 50)\n"
"      --max-bytes N    refuse media files larger than N bytes (268435456)\n"
"      --max-duration S refuse videos longer than S seconds (14400)\n"
"      --vpdq-query-pct P  a bank video matches when P percent of the query's\n"
"                       frames are near one of its frames (default 80)\n"
"      --vpdq-bank-pct P   and P percent of its frames are near one of the\n"
"                       query's (default 0)\n"
"      --progress       show progress on stderr (default: on a terminal, no -q)\n"
"      --no-progress    never show progress\n"
"  -q, --quiet          no diagnostics on stderr for failed inputs\n"
"  -v, --verbose        say what was loaded and which inputs were skipped\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n"
"\n"
"Exit status: 0 some input matched, 1 none matched, 65 a bank was refused\n"
"or some input failed, 66 a bank cannot be opened, 64 usage, 73 the state\n"
"cannot be written, 74 input or output error, 78 configuration or key\n"
"error. See dz-match(1).\n";

enum { OPT_BANK = 'b', OPT_INSECURE = 256, OPT_STATE, OPT_NO_STATE,
	OPT_VERIFY_ONLY, OPT_HASHES, OPT_DIHEDRAL, OPT_EXACT, OPT_MIN_QUALITY,
	OPT_MAX_BYTES, OPT_PROGRESS, OPT_NO_PROGRESS, OPT_BRUTE,
	OPT_VPDQ_QUERY_PCT, OPT_VPDQ_BANK_PCT, OPT_MAX_DURATION };

static const struct option longopts[] = {
	{ "null", no_argument, NULL, '0' },
	{ "config", required_argument, NULL, 'c' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "public-key", required_argument, NULL, 'p' },
	{ "threshold", required_argument, NULL, 't' },
	{ "bank", required_argument, NULL, OPT_BANK },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "no-state", no_argument, NULL, OPT_NO_STATE },
	{ "verify-only", no_argument, NULL, OPT_VERIFY_ONLY },
	{ "hashes", no_argument, NULL, OPT_HASHES },
	{ "dihedral", no_argument, NULL, OPT_DIHEDRAL },
	{ "exact", no_argument, NULL, OPT_EXACT },
	{ "min-quality", required_argument, NULL, OPT_MIN_QUALITY },
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "max-duration", required_argument, NULL, OPT_MAX_DURATION },
	{ "vpdq-query-pct", required_argument, NULL, OPT_VPDQ_QUERY_PCT },
	{ "vpdq-bank-pct", required_argument, NULL, OPT_VPDQ_BANK_PCT },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	/* Not documented: compare with every entry, the tests' oracle. */
	{ "brute", no_argument, NULL, OPT_BRUTE },
	{ NULL, 0, NULL, 0 },
};

struct bank_arg {
	const char *path;
	int threshold;		/* -1: the configuration's */
};

/* The command line. */
struct args {
	struct bank_arg *banks;
	const char **keypaths;
	const char *conf_path, *state_path;
	int nbanks, nkeys, no_state, verify_only, t_after, threshold;
	int min_quality;	/* -1: the configuration's */
	struct dz_match_opts mo;
};

struct cfg {
	struct dz_hash_opts hash;
	uint64_t max_bytes;
	int min_quality;
	int dihedral, hashes, quiet, verbose;
	struct dz_match_video_opts video;
	const struct dz_match_set *set;
	uint64_t matched_inputs, matches, below;
	char unit[64];		/* "inputs, 3 matches": the progress unit */
};

/* A job's data: a parsed line (--hashes), the quality, the hits. */
struct mjob {
	struct dz_match_in in;	/* --hashes: the line */
	int below;		/* quality below the floor: not matched */
	int quality;		/* of the input, -1 unknown */
	struct dz_match_hits hits;
};

static pthread_key_t scratch_key;

static void
scratch_destroy(void *p)
{
	dz_match_scratch_free(p);
}

/* The per-thread scratch of the queries. */
static struct dz_match_scratch *
scratch(struct dz_err *err)
{
	struct dz_match_scratch *sc = pthread_getspecific(scratch_key);

	if (!sc && (sc = dz_match_scratch_new(err)) &&
	    pthread_setspecific(scratch_key, sc) != 0) {
		dz_match_scratch_free(sc);
		sc = NULL;
		dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	return sc;
}

static int
match(struct mjob *m, const struct cfg *cfg, const struct dz_pdq *h, int nh,
    struct dz_err *err)
{
	struct dz_match_scratch *sc;

	if (m->quality >= 0 && m->quality < cfg->min_quality) {
		m->below = 1;
		return 0;
	}
	if (!(sc = scratch(err)) ||
	    dz_match_query(cfg->set, h, nh, sc, &m->hits, err) < 0)
		return -1;
	return 0;
}

/* A video: its frames (those of quality >= the floor) and its MD5. */
static int
match_video(struct mjob *m, const struct cfg *cfg, const struct dz_vpdqsig *v,
    const uint8_t *md5, struct dz_err *err)
{
	struct dz_match_scratch *sc;

	if (!(sc = scratch(err)) ||
	    dz_match_query_video(cfg->set, v, md5, &cfg->video, sc, &m->hits,
	    err) < 0)
		return -1;
	return 0;
}

/* A media file: hash it, then match its hashes. */
static int
match_file(struct mjob *m, const struct cfg *cfg, const char *path,
    struct dz_err *err)
{
	struct dz_hash_result r;
	struct dz_pdq h[DZ_PDQ_NDIHEDRAL];
	uint8_t *buf = NULL, md5[16];
	size_t len = 0;
	int rc;

	memset(&r, 0, sizeof r);
	rc = dz_file_read(path, cfg->max_bytes, &buf, &len, err) ||
	    dz_hash_media(buf, len, &cfg->hash, &r, err) ? -1 : 0;
	free(buf);
	if (!rc && r.video) {
		rc = match_video(m, cfg, &r.vpdq, dz_digest_md5_parse(
		    r.digest.md5, 32, md5) ? NULL : md5, err);
	} else if (!rc) {
		m->quality = r.pdq.quality;
		h[0] = r.pdq.hash;
		for (int k = 1; k < DZ_PDQ_NDIHEDRAL; k++)
			h[k] = r.pdq.dihedral[k];
		rc = match(m, cfg, h, cfg->dihedral ? DZ_PDQ_NDIHEDRAL : 1, err);
	}
	dz_hash_result_release(&r);
	return rc;
}

static int
parse(struct dz_runner_job *j, const char *line, size_t len, void *ctx,
    struct dz_err *err)
{
	struct mjob *m = j->data;

	(void)ctx;
	m->quality = -1;
	return dz_match_in_parse(line, len, &m->in, err);
}

static int
work(struct dz_runner_job *j, void *ctx, struct dz_err *err)
{
	const struct cfg *cfg = ctx;
	struct mjob *m = j->data;

	if (j->path) {
		m->quality = -1;
		return match_file(m, cfg, j->path, err);
	}
	if (m->in.kind == DZ_MATCH_IN_VIDEO)
		return match_video(m, cfg, m->in.vpdq, m->in.has_md5 ?
		    m->in.md5 : NULL, err);
	if (m->in.kind == DZ_MATCH_IN_HASH) {
		m->quality = m->in.quality;
		return match(m, cfg, m->in.pdq, cfg->dihedral &&
		    m->in.ndihedral == DZ_PDQ_NDIHEDRAL ? DZ_PDQ_NDIHEDRAL : 1,
		    err);
	}
	return 0;
}

/* The input's name in a match record: "path" (and "path_hex"), or "line". */
static int
set_input(json_t *rec, const struct dz_runner_job *j)
{
	const struct mjob *m = j->data;
	json_t *p, *ph;

	if (j->path)
		return dz_record_set_path(rec, "path", j->path);
	if (m->in.path)
		return dz_record_set_path(rec, "path", m->in.path);
	if (m->in.rec && json_is_string(p = json_object_get(m->in.rec, "path"))) {
		if (json_object_set(rec, "path", p))
			return -1;
		ph = json_object_get(m->in.rec, "path_hex");
		return ph && json_is_string(ph) ?
		    json_object_set(rec, "path_hex", ph) : 0;
	}
	if (j->file && dz_record_set_path(rec, "file", j->file))
		return -1;
	return json_object_set_new(rec, "line", json_integer(j->line));
}

static int
emit(struct dz_runner *r, struct dz_runner_job *j, void *ctx)
{
	struct cfg *cfg = ctx;
	struct mjob *m = j->data;
	char tn[256];
	int rc = 0;

	if (!j->path && m->in.kind == DZ_MATCH_IN_PASS)
		return dz_runner_write(r, json_incref(m->in.rec));
	if (m->below) {
		cfg->below++;
		if (cfg->verbose && j->path)
			dz_cli_say("'%s': quality %d is below %d: not matched",
			    dz_out_term_name(j->path, tn, sizeof tn), m->quality,
			    cfg->min_quality);
		else if (cfg->verbose)
			dz_cli_say("line %ld: quality %d is below %d: not "
			    "matched", j->line, m->quality, cfg->min_quality);
		return 0;
	}
	for (size_t i = 0; i < m->hits.n && rc == 0; i++) {
		json_t *rec = dz_record_new("match");

		if (rec && (set_input(rec, j) || dz_match_record_fill(cfg->set,
		    &m->hits.v[i], m->quality, rec))) {
			json_decref(rec);
			rec = NULL;
		}
		rc = dz_runner_write(r, rec);
	}
	cfg->matches += m->hits.n;
	cfg->matched_inputs += m->hits.n > 0;
	snprintf(cfg->unit, sizeof cfg->unit, "inputs, %" PRIu64 " %s",
	    cfg->matches, cfg->matches == 1 ? "match" : "matches");
	return rc;
}

static void
error_fields(json_t *e, const struct dz_runner_job *j, void *ctx)
{
	const struct mjob *m = j->data;

	(void)ctx;
	if (m->in.rec)
		json_object_set(e, "record", m->in.rec);
}

static void
release(struct dz_runner_job *j, void *ctx)
{
	struct mjob *m = j->data;

	(void)ctx;
	if (m) {
		dz_match_in_release(&m->in);
		free(m->hits.v);
	}
}

static const struct dz_runner_ops ops = {
	parse, work, emit, error_fields, release,
};

/* -v and --verify-only: what a bank turned out to be. */
static void
describe(const struct dz_match_bank *b)
{
	const struct dz_bank_meta *m = &b->bank->meta;
	char id[17] = "-";

	if (b->is_signed)
		dz_sign_keyid_hex(b->keyid, id);
	fprintf(stderr, PROG ": bank '%s': ", b->path);
	if (m->seq)
		fprintf(stderr, "export %" PRIu64 " (%s", m->seq,
		    m->kind == DZ_BANK_DELTA ? "delta since " : "full");
	else
		fprintf(stderr, "export of unknown number (");
	if (m->seq && m->kind == DZ_BANK_DELTA)
		fprintf(stderr, "%" PRIu64, m->since);
	fprintf(stderr, "), %" PRIu64 " entr%s, %" PRIu64 " withdrawal%s",
	    b->bank->n, b->bank->n == 1 ? "y" : "ies", b->bank->ntomb,
	    b->bank->ntomb == 1 ? "" : "s");
	if (b->ndead)
		fprintf(stderr, ", %" PRIu64 " superseded", b->ndead);
	fprintf(stderr, ", threshold %d: %s%s\n", b->threshold,
	    !b->is_signed ? "NOT SIGNED" : b->cache_hit ?
	    "signature verified (file unchanged since), key " :
	    "signature verified, key ", b->is_signed ? id : "");
}

/* The options; 0, or the exit code (-h, -V, a usage error). */
static int
parse_args(int argc, char **argv, struct args *a, struct cfg *cfg,
    struct dz_runner_opts *ro, int *done)
{
	int c, rc = 0;

	while (!rc && (c = getopt_long(argc, argv, "0b:c:hj:p:qt:vV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case '0': ro->delim = '\0'; break;
		case 'c': a->conf_path = optarg; break;
		case 'j': rc = dz_cli_int("-j", optarg, 1, 256, &ro->jobs); break;
		case 'p': a->keypaths[a->nkeys++] = optarg; break;
		case 't':
			rc = dz_cli_int("-t", optarg, 0, 256, &a->threshold);
			a->t_after = 1;
			break;
		case OPT_BANK:
			a->banks[a->nbanks].path = optarg;
			a->banks[a->nbanks++].threshold = a->threshold;
			a->t_after = 0;
			break;
		case 'q': cfg->quiet = 1; break;
		case 'v': cfg->verbose = 1; break;
		case 'h': *done = 1; return dz_cli_help();
		case 'V': *done = 1; return dz_cli_version(DZ_VERSION);
		case OPT_INSECURE: a->mo.insecure = 1; break;
		case OPT_STATE: a->state_path = optarg; break;
		case OPT_NO_STATE: a->no_state = 1; break;
		case OPT_VERIFY_ONLY: a->verify_only = 1; break;
		case OPT_HASHES: cfg->hashes = 1; break;
		case OPT_DIHEDRAL: cfg->dihedral = 1; break;
		case OPT_EXACT: cfg->hash.exact = 1; break;
		case OPT_MIN_QUALITY:
			rc = dz_cli_int("--min-quality", optarg, 0, 100,
			    &a->min_quality);
			break;
		case OPT_MAX_BYTES:
			rc = dz_cli_uint("--max-bytes", optarg, 1,
			    (uint64_t)SIZE_MAX / 2, &cfg->max_bytes);
			break;
		case OPT_PROGRESS: ro->progress = 1; break;
		case OPT_NO_PROGRESS: ro->progress = 0; break;
		case OPT_BRUTE: a->mo.brute = 1; break;
		case OPT_MAX_DURATION: {
			uint64_t v = 0;

			rc = dz_cli_uint("--max-duration", optarg, 1, 1000000, &v);
			cfg->hash.vpdq.lim.max_seconds = (double)v;
			break;
		}
		case OPT_VPDQ_QUERY_PCT:
			rc = dz_cli_pct("--vpdq-query-pct", optarg,
			    &cfg->video.query_pct);
			break;
		case OPT_VPDQ_BANK_PCT:
			rc = dz_cli_pct("--vpdq-bank-pct", optarg,
			    &cfg->video.bank_pct);
			break;
		default: return dz_cli_misuse();
		}
	}
	if (rc)
		return rc;
	if (a->nbanks == 0)
		return dz_cli_usage("no bank: give at least one --bank");
	if (a->t_after)
		return dz_cli_usage("-t sets the threshold of the banks named "
		    "after it: put it before --bank");
	if (a->state_path && a->no_state)
		return dz_cli_usage("--state and --no-state do not go together");
	if (cfg->hashes && ro->delim == '\0')
		return dz_cli_usage("-0 lists file names; it does not go with "
		    "--hashes");
	if (ro->delim == '\0' && optind < argc)
		return dz_cli_usage("-0 reads names from standard input; give no "
		    "file operands");
	if (a->verify_only && optind < argc)
		return dz_cli_usage("--verify-only reads no input; give no file "
		    "operands");
	return 0;
}

/* The trusted keys: -p, else match.public_key. 0 or the exit code. */
static int
load_keys(struct args *a, const char *conf_key, struct dz_sign_pub **keys)
{
	struct dz_err err;

	if (a->nkeys == 0 && conf_key)
		a->keypaths[a->nkeys++] = conf_key;
	if (a->nkeys && !(*keys = calloc((size_t)a->nkeys, sizeof **keys)))
		return dz_cli_fail(EX_SOFTWARE, "load public keys", NULL,
		    "out of memory");
	for (int i = 0; i < a->nkeys; i++)
		if (dz_sign_pub_load(a->keypaths[i], &(*keys)[i], &err))
			return dz_cli_fail(EX_CONFIG, "load public key",
			    a->keypaths[i], err.msg);
	if (a->nkeys == 0 && !a->mo.insecure)
		return dz_cli_error(EX_CONFIG, "no public key to verify the "
		    "banks with: give -p or set match.public_key");
	a->mo.keys = *keys;
	a->mo.nkeys = a->nkeys;
	return 0;
}

/* Banks loaded, verified and sealed into *set. 0 or the exit code. */
static int
load_banks(struct args *a, const struct dz_config *conf,
    struct dz_match_set **set, char **default_state)
{
	struct dz_err err;
	size_t nu;

	if (!a->no_state && !a->state_path)
		a->state_path = conf->match_state;
	if (!a->no_state && !a->state_path) {
		if (dz_trust_default_path(default_state, &err))
			return dz_cli_error(EX_CONFIG, "%s (give --state or "
			    "--no-state)", err.msg);
		a->state_path = *default_state;
	}
	a->mo.max_bank_bytes = DZ_MATCH_BANK_MAX;
	a->mo.state = a->no_state ? NULL : a->state_path;
	a->mo.no_index = a->verify_only;
	if (!(*set = dz_match_set_new(&a->mo, &err)))
		return dz_cli_fail(err.code, "use state file", a->state_path,
		    err.msg);
	for (int i = 0; i < a->nbanks; i++)
		if (dz_match_set_add(*set, a->banks[i].path,
		    a->banks[i].threshold >= 0 ? a->banks[i].threshold :
		    conf->pdq_threshold, &err))
			return dz_cli_fail(err.code, "load bank", a->banks[i].path,
			    err.msg);
	if ((nu = dz_match_set_unsigned(*set)) != 0)
		dz_cli_warn("%zu bank%s not signed (--insecure): %s content is "
		    "not verified", nu, nu == 1 ? " is" : "s are",
		    nu == 1 ? "its" : "their");
	if (dz_match_set_seal(*set, &err)) {
		if ((*set)->bad_bank != (size_t)-1)
			return dz_cli_fail(err.code, "load bank",
			    (*set)->banks[(*set)->bad_bank].path, err.msg);
		if (err.code != EX_SOFTWARE && a->state_path)
			return dz_cli_fail(err.code, "use state file",
			    a->state_path, err.msg);
		return dz_cli_fail(err.code, "load the banks", NULL, err.msg);
	}
	return 0;
}

/* The matching itself: 0 some input matched, 1 none, or the failure. */
static int
run(struct cfg *cfg, struct dz_runner_opts *ro, char **argv, int argc)
{
	struct dz_err err;
	int rc;

	snprintf(cfg->unit, sizeof cfg->unit, "inputs, 0 matches");
	/* -q: nothing on stderr, unless --progress asks for it. */
	if (ro->progress < 0 && cfg->quiet)
		ro->progress = 0;
	ro->quiet = cfg->quiet;
	ro->lines = cfg->hashes;
	if (pthread_key_create(&scratch_key, scratch_destroy) != 0)
		return dz_cli_fail(EX_SOFTWARE, "start", NULL, "out of memory");
	dz_out_init(stdout);
	rc = dz_runner_run(ro, argv, argc, stdout);
	/* Work ran on this thread too when -j 1. */
	scratch_destroy(pthread_getspecific(scratch_key));
	pthread_setspecific(scratch_key, NULL);
	if (cfg->verbose && cfg->below)
		dz_cli_say("%" PRIu64 " input%s below quality %d %s not matched",
		    cfg->below, cfg->below == 1 ? "" : "s", cfg->min_quality,
		    cfg->below == 1 ? "was" : "were");
	if (dz_out_close(stdout, &err)) {
		if (rc != EX_IOERR)
			dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
		return EX_IOERR;
	}
	return rc ? rc : cfg->matched_inputs ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct args a = { .threshold = -1, .min_quality = -1 };
	struct cfg cfg = { .max_bytes = 256ULL << 20,
	    .video = { .query_pct = DZ_VPDQSIG_QUERY_PCT,
	    .bank_pct = DZ_VPDQSIG_BANK_PCT } };
	struct dz_runner_opts ro = { .verb = "match", .unit = cfg.unit,
	    .jobs = 1, .progress = -1, .delim = '\n',
	    .max_line = DZ_MATCH_LINE_MAX, .file_in_errors = 1,
	    .data_size = sizeof(struct mjob), .ops = &ops, .ctx = &cfg };
	struct dz_config conf;
	struct dz_match_set *set = NULL;
	struct dz_sign_pub *keys = NULL;
	struct dz_err err;
	char *default_state = NULL;
	int rc, done = 0, conf_loaded = 0;

	dz_cli_init(PROG, usage_text, help_text);
	if (dz_proc_harden(&err))
		return dz_cli_fail(EX_SOFTWARE, "start", NULL, err.msg);
	a.banks = calloc((size_t)argc + 1, sizeof *a.banks);
	a.keypaths = calloc((size_t)argc + 1, sizeof *a.keypaths);
	if (!a.banks || !a.keypaths) {
		rc = dz_cli_fail(EX_SOFTWARE, "start", NULL, "out of memory");
		goto out;
	}
	dz_hash_opts_default(&cfg.hash);
	if ((rc = parse_args(argc, argv, &a, &cfg, &ro, &done)) || done)
		goto out;
	if ((rc = dz_cli_config(&conf, a.conf_path)) != 0)
		goto out;
	conf_loaded = 1;
	cfg.min_quality = a.min_quality >= 0 ? a.min_quality : conf.min_quality;
	cfg.video.min_quality = cfg.min_quality;
	cfg.hash.dihedral = cfg.dihedral;
	if ((rc = load_keys(&a, conf.match_public_key, &keys)) ||
	    (rc = load_banks(&a, &conf, &set, &default_state)))
		goto out;
	if (set->state_warning && cfg.verbose)
		dz_cli_warn("state file '%s': the verified banks were not "
		    "recorded: %s", a.state_path, set->warn.msg);
	if (cfg.verbose || (a.verify_only && !cfg.quiet))
		for (size_t i = 0; i < set->nbanks; i++)
			describe(&set->banks[i]);
	cfg.set = set;
	if (!a.verify_only)
		rc = run(&cfg, &ro, argv + optind, argc - optind);
out:
	dz_match_set_free(set);
	if (conf_loaded)
		dz_config_release(&conf);
	free(keys);
	free(default_state);
	free(a.banks);
	free(a.keypaths);
	return rc;
}
