/*
 * dz-match: match media files, or their hashes, against signed hash banks.
 * Options, the input loop and the exit code; the work is in lib/match
 * (banks, trust, queries, records) and lib/hash.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bank/bank.h"
#include "bank/trust.h"
#include "core/config.h"
#include "crypto/digest.h"
#include "core/err.h"
#include "hash/hash.h"
#include "core/input.h"
#include "work/match.h"
#include "core/pool.h"
#include "core/proc.h"
#include "core/progress.h"
#include "core/out.h"
#include "core/reader.h"
#include "core/record.h"
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

struct cfg {
	struct dz_hash_opts hash;
	uint64_t max_bytes;
	int min_quality;
	int dihedral, hashes, quiet, verbose;
	struct dz_match_video_opts video;
	const struct dz_match_set *set;
};

enum { JOB_MEDIA = 1, JOB_LINE, JOB_ERROR };

/* One input in flight. */
struct job {
	int kind;
	char *path;		/* JOB_MEDIA: the file */
	long line;		/* JOB_LINE (and its errors): line number */
	const char *file;	/* JOB_LINE: the operand it is in; NULL: stdin */
	struct dz_match_in in;	/* JOB_LINE: the parsed line */
	int failed;		/* err says why */
	int below;		/* quality below the floor: not matched */
	int quality;		/* of the input, -1 unknown */
	struct dz_err err;
	struct dz_match_hits hits;
};

struct state {
	struct cfg *cfg;
	FILE *out;
	int failed;		/* some input failed */
	int fatal;		/* output failed: stop */
	int ioerr;		/* reading the input list failed */
	uint64_t done, errors, matched_inputs, matches, below;
	struct dz_progress prog;
	char unit[64];		/* "inputs, 3 matches": the progress unit */
};

static pthread_key_t scratch_key;

static void
scratch_destroy(void *p)
{
	dz_match_scratch_free(p);
}

static void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	exit(EX_USAGE);
}

static uint64_t
parse_num(const char *s, const char *opt, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		usage_error("%s needs a whole number", opt);
	v = strtoull(s, &end, 10);
	if (*end || v < min || v > max)
		usage_error("%s: number out of range", opt);
	return v;
}

/* A percentage, 0 to 100, decimals allowed. */
static double
parse_pct(const char *s, const char *opt)
{
	char *end;
	double v;

	if (*s < '0' || *s > '9')
		usage_error("%s needs a percentage from 0 to 100", opt);
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !(v >= 0 && v <= 100))
		usage_error("%s needs a percentage from 0 to 100", opt);
	return v;
}

static void
oom(void)
{
	fprintf(stderr, PROG ": out of memory\n");
	exit(EX_SOFTWARE);
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

static void
match(struct job *j, const struct cfg *cfg, const struct dz_pdq *h, int nh)
{
	struct dz_match_scratch *sc;

	if (j->quality >= 0 && j->quality < cfg->min_quality) {
		j->below = 1;
		return;
	}
	if (!(sc = scratch(&j->err)) ||
	    dz_match_query(cfg->set, h, nh, sc, &j->hits, &j->err) < 0)
		j->failed = 1;
}

/* A video: its frames (those of quality >= the floor) and its MD5. */
static void
match_video(struct job *j, const struct cfg *cfg, const struct dz_vpdqsig *v,
    const uint8_t *md5)
{
	struct dz_match_scratch *sc;

	if (!(sc = scratch(&j->err)) ||
	    dz_match_query_video(cfg->set, v, md5, &cfg->video, sc, &j->hits,
	    &j->err) < 0)
		j->failed = 1;
}

static void
work(void *arg, void *ctx)
{
	struct job *j = arg;
	const struct cfg *cfg = ((const struct state *)ctx)->cfg;

	if (j->failed)
		return;
	if (j->kind == JOB_MEDIA) {
		struct dz_hash_result r;
		struct dz_pdq h[DZ_PDQ_NDIHEDRAL];
		uint8_t *buf = NULL;
		size_t len = 0;
		int rc;

		memset(&r, 0, sizeof r);
		rc = dz_file_read(j->path, cfg->max_bytes, &buf, &len, &j->err) ||
		    dz_hash_media(buf, len, &cfg->hash, &r, &j->err);
		free(buf);
		if (rc) {
			dz_hash_result_release(&r);
			j->failed = 1;
			return;
		}
		if (r.video) {
			uint8_t md5[16];

			match_video(j, cfg, &r.vpdq, dz_digest_md5_parse(
			    r.digest.md5, 32, md5) ? NULL : md5);
			dz_hash_result_release(&r);
			return;
		}
		j->quality = r.pdq.quality;
		h[0] = r.pdq.hash;
		for (int k = 1; k < DZ_PDQ_NDIHEDRAL; k++)
			h[k] = r.pdq.dihedral[k];
		match(j, cfg, h, cfg->dihedral ? DZ_PDQ_NDIHEDRAL : 1);
	} else if (j->kind == JOB_LINE && j->in.kind == DZ_MATCH_IN_VIDEO) {
		match_video(j, cfg, j->in.vpdq, j->in.has_md5 ? j->in.md5 :
		    NULL);
	} else if (j->kind == JOB_LINE && j->in.kind == DZ_MATCH_IN_HASH) {
		j->quality = j->in.quality;
		match(j, cfg, j->in.pdq, cfg->dihedral &&
		    j->in.ndihedral == DZ_PDQ_NDIHEDRAL ? DZ_PDQ_NDIHEDRAL : 1);
	}
}

static void
job_free(struct job *j)
{
	free(j->path);
	dz_match_in_release(&j->in);
	free(j->hits.v);
	free(j);
}

static struct job *
job_new(int kind)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j)
		oom();
	j->kind = kind;
	j->quality = -1;
	return j;
}

static int
emit(struct state *st, json_t *rec)
{
	struct dz_err err;

	if (!rec || dz_record_write(st->out, rec, &err)) {
		json_decref(rec);
		dz_progress_clear(&st->prog);
		if (!st->fatal)
			fprintf(stderr, PROG ": cannot write output: %s\n",
			    rec ? err.msg : "out of memory");
		st->fatal = 1;
		return -1;
	}
	json_decref(rec);
	return 0;
}

static int
emit_error(struct state *st, const struct job *j)
{
	char tn[256];
	json_t *e;

	st->failed = 1;
	dz_progress_errors(&st->prog, ++st->errors);
	if (!st->cfg->quiet) {
		dz_progress_clear(&st->prog);
		if (j->path)
			fprintf(stderr, PROG ": cannot match '%s': %s\n",
			    dz_out_term_name(j->path, tn, sizeof tn), j->err.msg);
		else if (j->line > 0 && strncmp(j->err.msg, "line ", 5) != 0)
			fprintf(stderr, PROG ": %s%s%sline %ld: %s\n",
			    j->file ? "'" : "", j->file ? dz_out_term_name(j->file,
			    tn, sizeof tn) : "", j->file ? "': " : "", j->line,
			    j->err.msg);
		else
			fprintf(stderr, PROG ": %s%s%s%s\n", j->file ? "'" : "",
			    j->file ? dz_out_term_name(j->file, tn, sizeof tn) : "",
			    j->file ? "': " : "", j->err.msg);
	}
	e = dz_record_error(PROG, j->err.msg);
	if (e && j->path)
		dz_record_set_path(e, "path", j->path);
	if (e && j->file)
		dz_record_set_path(e, "file", j->file);
	if (e && j->line > 0)
		json_object_set_new(e, "line", json_integer(j->line));
	if (e && j->in.rec)
		json_object_set(e, "record", j->in.rec);
	return emit(st, e);
}

/* The input's name in a match record: "path" (and "path_hex"), or "line". */
static int
set_input(json_t *rec, const struct job *j)
{
	json_t *p, *ph;

	if (j->kind == JOB_MEDIA)
		return dz_record_set_path(rec, "path", j->path);
	if (j->in.path)
		return dz_record_set_path(rec, "path", j->in.path);
	if (j->in.rec && json_is_string(p = json_object_get(j->in.rec, "path"))) {
		if (json_object_set(rec, "path", p))
			return -1;
		ph = json_object_get(j->in.rec, "path_hex");
		return ph && json_is_string(ph) ?
		    json_object_set(rec, "path_hex", ph) : 0;
	}
	if (j->file && dz_record_set_path(rec, "file", j->file))
		return -1;
	return json_object_set_new(rec, "line", json_integer(j->line));
}

static void
say_below(struct state *st, const struct job *j)
{
	char tn[256];

	dz_progress_clear(&st->prog);
	if (j->path)
		fprintf(stderr, PROG ": '%s': quality %d is below %d: not "
		    "matched\n", dz_out_term_name(j->path, tn, sizeof tn),
		    j->quality, st->cfg->min_quality);
	else
		fprintf(stderr, PROG ": line %ld: quality %d is below %d: not "
		    "matched\n", j->line, j->quality, st->cfg->min_quality);
}

static int
done(void *arg, void *ctx)
{
	struct job *j = arg;
	struct state *st = ctx;
	int rc = 0;

	if (st->fatal) {
		job_free(j);
		return -1;
	}
	if (j->failed || j->kind == JOB_ERROR) {
		rc = emit_error(st, j);
	} else if (j->kind == JOB_LINE && j->in.kind == DZ_MATCH_IN_PASS) {
		rc = emit(st, json_incref(j->in.rec));
	} else if (j->below) {
		st->below++;
		if (st->cfg->verbose)
			say_below(st, j);
	} else {
		for (size_t i = 0; i < j->hits.n && rc == 0; i++) {
			json_t *rec = dz_record_new("match");

			if (rec && (set_input(rec, j) ||
			    dz_match_record_fill(st->cfg->set, &j->hits.v[i],
			    j->quality, rec))) {
				json_decref(rec);
				rec = NULL;
			}
			rc = emit(st, rec);
		}
		st->matches += j->hits.n;
		st->matched_inputs += j->hits.n > 0;
	}
	snprintf(st->unit, sizeof st->unit, "inputs, %" PRIu64 " %s",
	    st->matches, st->matches == 1 ? "match" : "matches");
	dz_progress_tick(&st->prog, ++st->done);
	job_free(j);
	return rc;
}

/* Files named by operands, or listed on stdin. */
static void
run_names(struct dz_pool *pool, struct state *st, char **names, int n,
    int delim)
{
	struct dz_err err;
	struct dz_names *it = dz_names_new(names, n, stdin, delim, &err);
	const char *name;
	int rc;

	if (!it)
		oom();
	while (!st->fatal && (rc = dz_names_next(it, &name, &err)) != 0) {
		struct job *j;

		if (rc == -2) {
			dz_progress_clear(&st->prog);
			fprintf(stderr, PROG ": cannot read file names: %s\n",
			    err.msg);
			st->ioerr = 1;
			break;
		}
		if (rc == -1) {
			j = job_new(JOB_ERROR);
			j->err = err;
		} else {
			j = job_new(JOB_MEDIA);
			/* in a list on stdin, "-" is a file of that name */
			j->path = strdup(n == 0 && strcmp(name, "-") == 0 ?
			    "./-" : name);
			if (!j->path)
				oom();
		}
		if (dz_pool_submit(pool, j)) {
			job_free(j);
			break;
		}
	}
	dz_names_free(it);
}

/* --hashes: lines of one stream. */
static void
run_lines(struct dz_pool *pool, struct state *st, FILE *in, const char *src,
    const char *file)
{
	struct dz_err err;
	struct dz_reader *rd = dz_reader_new(in, '\n', DZ_MATCH_LINE_MAX,
	    DZ_READER_STRIP_CR, &err);
	const char *line;
	char tn[256];
	size_t len;
	int rc;

	if (!rd)
		oom();
	while (!st->fatal && (rc = dz_reader_next(rd, &line, &len, &err)) != 0) {
		struct job *j;

		if (rc == -2) {
			dz_progress_clear(&st->prog);
			fprintf(stderr, PROG ": cannot read '%s': %s\n",
			    dz_out_term_name(src, tn, sizeof tn), err.msg);
			st->ioerr = 1;
			break;
		}
		if (rc == 1 && len == 0)
			continue;
		j = job_new(JOB_LINE);
		j->line = (long)dz_reader_lineno(rd);
		j->file = file;
		if (rc == -1) {
			j->failed = 1;
			j->err = err;
		} else if (dz_match_in_parse(line, len, &j->in, &j->err)) {
			j->failed = 1;
		}
		if (dz_pool_submit(pool, j)) {
			job_free(j);
			break;
		}
	}
	dz_reader_free(rd);
}

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

static int
load_keys(struct dz_sign_pub **keys, const char **paths, int n,
    const char *conf_key)
{
	struct dz_err err;

	if (n == 0 && conf_key) {
		paths[0] = conf_key;
		n = 1;
	}
	if (n && !(*keys = calloc((size_t)n, sizeof **keys)))
		oom();
	for (int i = 0; i < n; i++)
		if (dz_sign_pub_load(paths[i], &(*keys)[i], &err)) {
			fprintf(stderr, PROG ": public key '%s': %s\n", paths[i],
			    err.msg);
			exit(EX_CONFIG);
		}
	return n;
}

int
main(int argc, char **argv)
{
	struct cfg cfg = { 0 };
	struct state st = { 0 };
	struct dz_match_opts mo = { 0 };
	struct dz_config conf;
	struct dz_match_set *set = NULL;
	struct dz_sign_pub *keys = NULL;
	struct bank_arg *banks;
	struct dz_pool *pool;
	struct dz_err err;
	const char **keypaths;
	const char *conf_path = NULL, *state_path = NULL;
	char *default_state = NULL;
	int c, delim = '\n', jobs = 1, progress = -1, threshold = -1;
	int nbanks = 0, nkeys = 0, no_state = 0, verify_only = 0, t_after = 0;
	int min_quality = -1, conf_loaded = 0, rc;

	if (dz_proc_harden(&err)) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EX_SOFTWARE;
	}
	banks = calloc((size_t)argc + 1, sizeof *banks);
	keypaths = calloc((size_t)argc + 1, sizeof *keypaths);
	if (!banks || !keypaths)
		oom();
	dz_hash_opts_default(&cfg.hash);
	cfg.max_bytes = 256ULL << 20;
	cfg.video.query_pct = DZ_VPDQSIG_QUERY_PCT;
	cfg.video.bank_pct = DZ_VPDQSIG_BANK_PCT;
	while ((c = getopt_long(argc, argv, "0b:c:hj:p:qt:vV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case '0': delim = '\0'; break;
		case 'c': conf_path = optarg; break;
		case 'j': jobs = (int)parse_num(optarg, "-j", 1, 256); break;
		case 'p': keypaths[nkeys++] = optarg; break;
		case 't':
			threshold = (int)parse_num(optarg, "-t", 0, 256);
			t_after = 1;
			break;
		case OPT_BANK:
			banks[nbanks].path = optarg;
			banks[nbanks++].threshold = threshold;
			t_after = 0;
			break;
		case 'q': cfg.quiet = 1; break;
		case 'v': cfg.verbose = 1; break;
		case 'h':
			rc = dz_out_text(stdout, usage_text, help_text, &err) ?
			    (fprintf(stderr, PROG ": cannot write output: %s\n",
			    err.msg), EX_IOERR) : 0;
			goto out;
		case 'V':
			rc = dz_out_text(stdout, PROG " " DZ_VERSION "\n", NULL,
			    &err) ? (fprintf(stderr, PROG ": cannot write "
			    "output: %s\n", err.msg), EX_IOERR) : 0;
			goto out;
		case OPT_INSECURE: mo.insecure = 1; break;
		case OPT_STATE: state_path = optarg; break;
		case OPT_NO_STATE: no_state = 1; break;
		case OPT_VERIFY_ONLY: verify_only = 1; break;
		case OPT_HASHES: cfg.hashes = 1; break;
		case OPT_DIHEDRAL: cfg.dihedral = 1; break;
		case OPT_EXACT: cfg.hash.exact = 1; break;
		case OPT_MIN_QUALITY:
			min_quality = (int)parse_num(optarg, "--min-quality", 0,
			    100);
			break;
		case OPT_MAX_BYTES:
			cfg.max_bytes = parse_num(optarg, "--max-bytes", 1,
			    (uint64_t)SIZE_MAX / 2);
			break;
		case OPT_PROGRESS: progress = 1; break;
		case OPT_NO_PROGRESS: progress = 0; break;
		case OPT_BRUTE: mo.brute = 1; break;
		case OPT_MAX_DURATION:
			cfg.hash.vpdq.lim.max_seconds = (double)parse_num(
			    optarg, "--max-duration", 1, 1000000);
			break;
		case OPT_VPDQ_QUERY_PCT:
			cfg.video.query_pct = parse_pct(optarg,
			    "--vpdq-query-pct");
			break;
		case OPT_VPDQ_BANK_PCT:
			cfg.video.bank_pct = parse_pct(optarg,
			    "--vpdq-bank-pct");
			break;
		default:
			fputs(usage_text, stderr);
			rc = EX_USAGE;
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (nbanks == 0)
		usage_error("%s", "no bank: give at least one --bank");
	if (t_after)
		usage_error("%s", "-t sets the threshold of the banks named "
		    "after it: put it before --bank");
	if (state_path && no_state)
		usage_error("%s", "--state and --no-state do not go together");
	if (cfg.hashes && delim == '\0')
		usage_error("%s", "-0 lists file names; it does not go with "
		    "--hashes");
	if (delim == '\0' && argc > 0)
		usage_error("%s", "-0 reads names from standard input; give no "
		    "file operands");
	if (verify_only && argc > 0)
		usage_error("%s", "--verify-only reads no input; give no file "
		    "operands");

	if (dz_config_load(&conf, conf_path, &err)) {
		fprintf(stderr, PROG ": configuration: %s\n", err.msg);
		rc = err.code;
		goto out;
	}
	conf_loaded = 1;
	cfg.min_quality = min_quality >= 0 ? min_quality : conf.min_quality;
	cfg.video.min_quality = cfg.min_quality;
	cfg.hash.dihedral = cfg.dihedral;
	nkeys = load_keys(&keys, keypaths, nkeys, conf.match_public_key);
	if (nkeys == 0 && !mo.insecure) {
		fprintf(stderr, PROG ": no public key to verify the banks "
		    "with: give -p or set match.public_key\n");
		rc = EX_CONFIG;
		goto out;
	}
	if (!no_state && !state_path)
		state_path = conf.match_state;
	if (!no_state && !state_path) {
		if (dz_trust_default_path(&default_state, &err)) {
			fprintf(stderr, PROG ": %s (give --state or "
			    "--no-state)\n", err.msg);
			rc = EX_CONFIG;
			goto out;
		}
		state_path = default_state;
	}
	mo.keys = keys;
	mo.nkeys = nkeys;
	mo.max_bank_bytes = DZ_MATCH_BANK_MAX;
	mo.state = no_state ? NULL : state_path;
	mo.no_index = verify_only;

	if (!(set = dz_match_set_new(&mo, &err))) {
		fprintf(stderr, PROG ": state file '%s': %s\n", state_path,
		    err.msg);
		rc = err.code;
		goto out;
	}
	for (int i = 0; i < nbanks; i++) {
		int thr = banks[i].threshold >= 0 ? banks[i].threshold :
		    conf.pdq_threshold;

		if (dz_match_set_add(set, banks[i].path, thr, &err)) {
			fprintf(stderr, PROG ": bank '%s': %s\n", banks[i].path,
			    err.msg);
			rc = err.code;
			goto out;
		}
	}
	if (dz_match_set_unsigned(set))
		fprintf(stderr, PROG ": warning: %zu bank%s not signed "
		    "(--insecure): %s content is not verified\n",
		    dz_match_set_unsigned(set),
		    dz_match_set_unsigned(set) == 1 ? " is" : "s are",
		    dz_match_set_unsigned(set) == 1 ? "its" : "their");
	if (dz_match_set_seal(set, &err)) {
		if (set->bad_bank != (size_t)-1)
			fprintf(stderr, PROG ": bank '%s': %s\n",
			    set->banks[set->bad_bank].path, err.msg);
		else if (err.code != EX_SOFTWARE && state_path)
			fprintf(stderr, PROG ": state file '%s': %s\n",
			    state_path, err.msg);
		else
			fprintf(stderr, PROG ": %s\n", err.msg);
		rc = err.code;
		goto out;
	}
	if (set->state_warning && cfg.verbose)
		fprintf(stderr, PROG ": warning: state file '%s': the verified "
		    "banks were not recorded: %s\n", state_path, set->warn.msg);
	if (cfg.verbose || (verify_only && !cfg.quiet))
		for (size_t i = 0; i < set->nbanks; i++)
			describe(&set->banks[i]);
	if (verify_only) {
		rc = 0;
		goto out;
	}

	cfg.set = set;
	st.cfg = &cfg;
	st.out = stdout;
	snprintf(st.unit, sizeof st.unit, "inputs, 0 matches");
	dz_out_init(stdout);
	/* -q: nothing on stderr, unless --progress asks for it. */
	dz_progress_init(&st.prog, PROG, st.unit, progress < 0 && cfg.quiet ?
	    0 : progress);
	if (!cfg.hashes && argc > 0)
		dz_progress_total(&st.prog, (uint64_t)argc);
	if (pthread_key_create(&scratch_key, scratch_destroy) != 0)
		oom();
	pool = dz_pool_new(jobs, work, done, &st, &err);
	if (!pool) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		rc = EX_SOFTWARE;
		goto out;
	}
	rc = 0;
	if (!cfg.hashes) {
		run_names(pool, &st, argv, argc, delim);
	} else if (argc == 0) {
		run_lines(pool, &st, stdin, "standard input", NULL);
	} else {
		for (int i = 0; i < argc && !st.fatal; i++) {
			FILE *f = strcmp(argv[i], "-") ? fopen(argv[i], "r") : stdin;
			struct stat sb;
			char tn[256];

			if (f && fstat(fileno(f), &sb) == 0 &&
			    S_ISDIR(sb.st_mode)) {
				fclose(f);
				f = NULL;
				errno = EISDIR;
			}
			if (!f) {
				dz_progress_clear(&st.prog);
				fprintf(stderr, PROG ": cannot open '%s': %s\n",
				    dz_out_term_name(argv[i], tn, sizeof tn),
				    strerror(errno));
				rc = EX_NOINPUT;
				continue;
			}
			run_lines(pool, &st, f, argv[i], f == stdin ? NULL :
			    argv[i]);
			if (f != stdin)
				fclose(f);
		}
	}
	dz_pool_finish(pool);
	dz_pool_free(pool);
	/* Work ran on this thread too when -j 1. */
	scratch_destroy(pthread_getspecific(scratch_key));
	pthread_setspecific(scratch_key, NULL);
	dz_progress_end(&st.prog);
	if (cfg.verbose && st.below)
		fprintf(stderr, PROG ": %" PRIu64 " input%s below quality %d "
		    "%s not matched\n", st.below, st.below == 1 ? "" : "s",
		    cfg.min_quality, st.below == 1 ? "was" : "were");
	if (dz_out_close(stdout, &err)) {
		if (!st.fatal)
			fprintf(stderr, PROG ": cannot write output: %s\n",
			    err.msg);
		st.fatal = 1;
	}
	if (st.fatal || st.ioerr)
		rc = EX_IOERR;
	else if (!rc)
		rc = st.failed ? EX_DATAERR : st.matched_inputs ? 0 : 1;
out:
	dz_match_set_free(set);
	if (conf_loaded)
		dz_config_release(&conf);
	free(keys);
	free(default_state);
	free(banks);
	free(keypaths);
	return rc;
}
