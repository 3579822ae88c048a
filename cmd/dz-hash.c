/*
 * dz-hash: hash images into PDQ, MD5 and SHA-256 records.
 * Options, the input loop and the exit code; the work is in lib/hash.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/err.h"
#include "hash/hash.h"
#include "core/input.h"
#include "core/pool.h"
#include "core/proc.h"
#include "core/progress.h"
#include "core/out.h"
#include "core/reader.h"
#include "core/record.h"
#include "core/config.h"
#include "work/hashstore.h"

#define PROG "dz-hash"

static const char usage_text[] =
"usage: dz-hash [-0hqV] [--dihedral] [--exact] [--no-orient] [--format json|csv]\n"
"               [-j jobs] [--max-pixels n] [--max-bytes n] [--max-duration s]\n"
"               [--progress|--no-progress] [file ...]\n"
"       dz-hash --records [options] [file ...]\n"
"       dz-hash --store [-q] [-c config] [--item id] [--dihedral] [--exact]\n";

static const char help_text[] =
"\n"
"Hash images (JPEG, PNG, WebP, GIF, BMP, TIFF) into PDQ, MD5 and SHA-256,\n"
"and videos (MP4, MOV, Matroska, WebM, AVI, ...) into a vPDQ signature (a\n"
"PDQ hash per second), MD5 and SHA-256. Files come from the operands, else\n"
"one name per line on standard input; '-' reads the file itself from\n"
"standard input. One JSON Lines record per input on standard output.\n"
"\n"
"  -0, --null         names on standard input are NUL-separated (find -print0)\n"
"      --records      read JSON Lines records and hash the file in each \"path\"\n"
"      --dihedral     add the eight rotated/mirrored PDQ hashes\n"
"      --exact        decode at full resolution, identical to the reference\n"
"      --no-orient    ignore the EXIF orientation\n"
"      --format FMT   json (default) or csv (hash,quality,filename)\n"
"  -j, --jobs N       hash with N threads; output stays in input order\n"
"      --max-pixels N refuse images with more than N pixels (100000000)\n"
"      --max-bytes N  refuse files larger than N bytes (268435456)\n"
"      --max-duration S  refuse videos longer than S seconds (14400)\n"
"      --progress     show progress on stderr (default: on a terminal, no -q)\n"
"      --no-progress  never show progress\n"
"      --store        hash the store's items judged illegal, then destroy\n"
"                     their media (records name the item, not a file)\n"
"      --item ID      with --store: only this item\n"
"  -c, --config FILE  configuration for --store (else $DZ_CONFIG, /etc/dz/dz.yaml)\n"
"  -q, --quiet        no diagnostics on stderr\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n"
"\n"
"Exit status: 0 all hashed, 65 some input failed (see its error record),\n"
"64 usage, 74 output or input error, 75 store busy, 78 configuration.\n"
"See dz-hash(1).\n";

enum { OPT_DIHEDRAL = 256, OPT_EXACT, OPT_NO_ORIENT, OPT_FORMAT, OPT_RECORDS,
	OPT_MAX_PIXELS, OPT_MAX_BYTES, OPT_MAX_DURATION, OPT_PROGRESS,
	OPT_NO_PROGRESS, OPT_STORE,
	OPT_ITEM };

static const struct option longopts[] = {
	{ "null", no_argument, NULL, '0' },
	{ "records", no_argument, NULL, OPT_RECORDS },
	{ "dihedral", no_argument, NULL, OPT_DIHEDRAL },
	{ "exact", no_argument, NULL, OPT_EXACT },
	{ "no-orient", no_argument, NULL, OPT_NO_ORIENT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "jobs", required_argument, NULL, 'j' },
	{ "max-pixels", required_argument, NULL, OPT_MAX_PIXELS },
	{ "max-duration", required_argument, NULL, OPT_MAX_DURATION },
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "store", no_argument, NULL, OPT_STORE },
	{ "item", required_argument, NULL, OPT_ITEM },
	{ "config", required_argument, NULL, 'c' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct cfg {
	struct dz_hash_opts hash;
	uint64_t max_bytes;
	int csv, quiet, records;
};

/* One input in flight: a file to hash, or a record to pass through. */
struct job {
	char *path;		/* NULL: nothing to hash */
	json_t *rec;		/* --records: the input record */
	long line;		/* --records: its line number */
	int failed;
	struct dz_err err;
	struct dz_hash_result res;
};

struct state {
	struct cfg *cfg;
	FILE *out;
	int status;		/* exit status so far */
	int fatal;		/* output failed: stop */
	struct dz_progress prog;
	uint64_t done, errors;
};

static void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	exit(EX_USAGE);
}

static uint64_t
parse_count(const char *s, const char *opt, uint64_t max)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		usage_error("%s needs a positive number", opt);
	v = strtoull(s, &end, 10);
	if (*end || v == 0 || v > max)
		usage_error("%s needs a positive number", opt);
	return v;
}

static void
work(void *arg, void *ctx)
{
	struct job *j = arg;
	const struct cfg *cfg = ((const struct state *)ctx)->cfg;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (!j->path || j->failed)
		return;
	if (dz_file_read(j->path, cfg->max_bytes, &buf, &len, &j->err) ||
	    dz_hash_media(buf, len, &cfg->hash, &j->res, &j->err))
		j->failed = 1;
	free(buf);
}

static void
job_free(struct job *j)
{
	dz_hash_result_release(&j->res);
	free(j->path);
	json_decref(j->rec);
	free(j);
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
		st->status = EX_IOERR;
		return -1;
	}
	json_decref(rec);
	return 0;
}

static int
emit_csv(struct state *st, const struct job *j)
{
	const struct dz_hash_result *r = &j->res;
	char hex[65];

	if (r->video) {		/* a line for each frame of the signature */
		for (size_t i = 0; i < r->vpdq.n; i++) {
			dz_pdq_to_hex(&r->vpdq.v[i].hash, hex);
			fprintf(st->out, "%s,%d,%s\n", hex,
			    r->vpdq.v[i].quality, j->path);
		}
	} else if (st->cfg->hash.dihedral)
		for (int k = 0; k < DZ_PDQ_NDIHEDRAL; k++) {
			dz_pdq_to_hex(&r->pdq.dihedral[k], hex);
			fprintf(st->out, "%s,", hex);
		}
	else {
		dz_pdq_to_hex(&r->pdq.hash, hex);
		fprintf(st->out, "%s,", hex);
	}
	if (!r->video)
		fprintf(st->out, "%d,%s\n", r->pdq.quality, j->path);
	if (ferror(st->out)) {
		dz_progress_clear(&st->prog);
		fprintf(stderr, PROG ": cannot write output\n");
		st->fatal = 1;
		st->status = EX_IOERR;
		return -1;
	}
	return 0;
}

/* Report a failed input: error record on stdout, diagnostic on stderr. */
static int
emit_error(struct state *st, const char *path, long line, json_t *orig,
    const char *reason)
{
	char tn[256];
	json_t *e;

	st->status = st->status ? st->status : EX_DATAERR;
	dz_progress_errors(&st->prog, ++st->errors);
	if (!st->cfg->quiet) {
		dz_progress_clear(&st->prog);
		if (path)
			fprintf(stderr, PROG ": cannot hash '%s': %s\n",
			    dz_out_term_name(path, tn, sizeof tn), reason);
		else
			fprintf(stderr, PROG ": line %ld: %s\n", line, reason);
	}
	if (st->cfg->csv)
		return 0;
	e = dz_record_error(PROG, reason);
	if (e && path)
		dz_record_set_path(e, "path", path);
	if (e && line > 0)
		json_object_set_new(e, "line", json_integer(line));
	if (e && orig)
		json_object_set(e, "record", orig);
	return emit(st, e);
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
	if (j->failed) {
		rc = emit_error(st, j->path, j->line, j->rec, j->err.msg);
	} else if (!j->path) {
		rc = emit(st, json_incref(j->rec));	/* pass through */
	} else if (st->cfg->csv) {
		rc = emit_csv(st, j);
	} else if (j->rec) {
		json_t *rec = json_incref(j->rec);
		dz_hash_record_fields(rec, &j->res, st->cfg->hash.dihedral);
		rc = emit(st, rec);
	} else {
		json_t *rec = dz_record_new("hash");
		if (rec) {
			dz_record_set_path(rec, "path", j->path);
			dz_hash_record_fields(rec, &j->res, st->cfg->hash.dihedral);
		}
		rc = emit(st, rec);
	}
	dz_progress_tick(&st->prog, ++st->done);
	job_free(j);
	return rc;
}

static struct job *
job_new(const char *path)
{
	struct job *j = calloc(1, sizeof *j);

	if (j && path && !(j->path = strdup(path))) {
		free(j);
		j = NULL;
	}
	if (!j) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(EX_SOFTWARE);
	}
	return j;
}

/* Files named by operands, or listed on stdin. */
static int
run_names(struct dz_pool *pool, struct state *st, char **names, int n,
    int delim)
{
	struct dz_err err;
	struct dz_names *it = dz_names_new(names, n, stdin, delim, &err);
	const char *name;
	int rc;

	if (!it) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EX_SOFTWARE;
	}
	while ((rc = dz_names_next(it, &name, &err)) != 0) {
		struct job *j;

		if (rc == -2) {
			dz_progress_clear(&st->prog);
			fprintf(stderr, PROG ": cannot read file names: %s\n",
			    err.msg);
			st->status = EX_IOERR;
			break;
		}
		if (rc == -1) {
			j = job_new(NULL);
			j->failed = 1;
			j->err = err;
		} else {
			/* in a list on stdin, "-" is a file of that name */
			j = job_new(n == 0 && strcmp(name, "-") == 0 ? "./-" : name);
		}
		if (dz_pool_submit(pool, j))
			break;
	}
	dz_names_free(it);
	return 0;
}

/* --records: records from one stream, hashed where they carry a path. */
static int
run_records(struct dz_pool *pool, struct state *st, FILE *in, const char *src)
{
	struct dz_err err;
	struct dz_reader *rd = dz_reader_new(in, '\n', 1 << 20, DZ_READER_STRIP_CR,
	    &err);
	const char *line;
	size_t len;
	int rc;

	if (!rd) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return -1;
	}
	while ((rc = dz_reader_next(rd, &line, &len, &err)) != 0) {
		struct job *j;
		json_t *path;

		if (rc == -2) {
			dz_progress_clear(&st->prog);
			fprintf(stderr, PROG ": cannot read '%s': %s\n", src,
			    err.msg);
			st->status = EX_IOERR;
			break;
		}
		if (rc == 1 && len == 0)
			continue;
		j = job_new(NULL);
		j->line = (long)dz_reader_lineno(rd);
		if (rc == -1 || !(j->rec = dz_record_parse(line, len, &err))) {
			j->failed = 1;
			j->err = err;
		} else if ((path = json_object_get(j->rec, "path")) &&
		    json_is_string(path)) {
			j->path = strdup(json_string_value(path));
			if (!j->path) {
				fprintf(stderr, PROG ": out of memory\n");
				exit(EX_SOFTWARE);
			}
		}
		if (dz_pool_submit(pool, j))
			break;
	}
	dz_reader_free(rd);
	return 0;
}

static int
store_emit(json_t *rec, void *ctx)
{
	struct dz_err err;
	int rc = dz_record_write(ctx, rec, &err);

	json_decref(rec);
	return rc;
}

/* dz-hash --store: the work is lib/hashstore's. */
static int
run_store(const struct cfg *cfg, const char *cfg_path, const char *item)
{
	struct dz_config conf;
	struct dz_hashstore *h;
	struct dz_err err, cerr;
	unsigned hashed = 0, failed = 0;
	int rc;

	if (dz_config_load(&conf, cfg_path, &err)) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return err.code;
	}
	if (!(h = dz_hashstore_open(&conf, &cfg->hash, PROG, &err))) {
		fprintf(stderr, PROG ": cannot open the store: %s\n", err.msg);
		dz_config_release(&conf);
		return err.code;
	}
	dz_out_init(stdout);
	rc = dz_hashstore_run(h, item, store_emit, stdout, &hashed, &failed,
	    &err);
	dz_hashstore_close(h);
	dz_config_release(&conf);
	if (dz_out_close(stdout, &cerr)) {
		fprintf(stderr, PROG ": cannot write output: %s\n", cerr.msg);
		return EX_IOERR;
	}
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return err.code;
	}
	if (!cfg->quiet && failed)
		fprintf(stderr, PROG ": %u item%s not hashed (see the error "
		    "records)\n", failed, failed == 1 ? "" : "s");
	return failed ? EX_DATAERR : 0;
}

int
main(int argc, char **argv)
{
	const char *cfg_path = NULL, *item = NULL;
	int store = 0;
	struct cfg cfg = { 0 };
	struct state st = { 0 };
	struct dz_pool *pool;
	struct dz_err err;
	int c, delim = '\n', jobs = 1, progress = -1;

	if (dz_proc_harden(&err)) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EX_SOFTWARE;
	}
	dz_hash_opts_default(&cfg.hash);
	cfg.max_bytes = 256ULL << 20;
	while ((c = getopt_long(argc, argv, "0c:hj:qV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case OPT_STORE: store = 1; break;
		case OPT_ITEM: item = optarg; break;
		case '0': delim = '\0'; break;
		case 'j': jobs = (int)parse_count(optarg, "-j", 256); break;
		case 'q': cfg.quiet = 1; break;
		case 'h':
			return dz_out_text(stdout, usage_text, help_text, &err) ?
			    (fprintf(stderr, PROG ": cannot write output: %s\n",
			    err.msg), EX_IOERR) : 0;
		case 'V':
			return dz_out_text(stdout, PROG " " DZ_VERSION "\n", NULL,
			    &err) ? (fprintf(stderr, PROG ": cannot write "
			    "output: %s\n", err.msg), EX_IOERR) : 0;
		case OPT_RECORDS: cfg.records = 1; break;
		case OPT_DIHEDRAL: cfg.hash.dihedral = 1; break;
		case OPT_EXACT: cfg.hash.exact = 1; break;
		case OPT_NO_ORIENT: cfg.hash.img.orient = 0; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "csv") == 0)
				cfg.csv = 1;
			else if (strcmp(optarg, "json") == 0)
				cfg.csv = 0;
			else
				usage_error("unknown format '%s'", optarg);
			break;
		case OPT_MAX_PIXELS:
			cfg.hash.img.lim.max_pixels =
			    parse_count(optarg, "--max-pixels", UINT64_MAX);
			break;
		case OPT_MAX_BYTES:
			cfg.max_bytes = parse_count(optarg, "--max-bytes",
			    (uint64_t)SIZE_MAX / 2);
			break;
		case OPT_MAX_DURATION:
			cfg.hash.vpdq.lim.max_seconds = (double)parse_count(
			    optarg, "--max-duration", 1000000);
			break;
		case OPT_PROGRESS: progress = 1; break;
		case OPT_NO_PROGRESS: progress = 0; break;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (store) {
		if (argc > 0 || cfg.records || cfg.csv || delim == '\0' ||
		    jobs != 1 || progress != -1 || cfg.max_bytes != 256ULL << 20)
			usage_error("%s", "--store takes no files, -0, -j, --records, "
			    "--format, --max-bytes or --progress");
		return run_store(&cfg, cfg_path, item);
	}
	if (item || cfg_path)
		usage_error("%s", "--item and -c go with --store");
	if (cfg.records && cfg.csv)
		usage_error("%s", "--records writes records, not csv");
	if (cfg.records && delim == '\0')
		usage_error("%s", "-0 lists file names; it does not go with --records");
	if (delim == '\0' && argc > 0)
		usage_error("%s", "-0 reads names from standard input; give no file operands");

	st.cfg = &cfg;
	st.out = stdout;
	dz_out_init(stdout);
	/* -q: nothing on stderr, unless --progress asks for it. */
	dz_progress_init(&st.prog, PROG, "files", progress < 0 && cfg.quiet ?
	    0 : progress);
	if (!cfg.records && argc > 0)
		dz_progress_total(&st.prog, (uint64_t)argc);
	pool = dz_pool_new(jobs, work, done, &st, &err);
	if (!pool) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EX_SOFTWARE;
	}

	if (!cfg.records) {
		int rc = run_names(pool, &st, argv, argc, delim);
		if (rc)
			return rc;
	} else if (argc == 0) {
		run_records(pool, &st, stdin, "standard input");
	} else {
		for (int i = 0; i < argc && !st.fatal; i++) {
			FILE *f = strcmp(argv[i], "-") ? fopen(argv[i], "r") : stdin;
			if (!f) {
				dz_progress_clear(&st.prog);
				fprintf(stderr, PROG ": cannot open '%s'\n", argv[i]);
				st.status = EX_NOINPUT;
				continue;
			}
			run_records(pool, &st, f, argv[i]);
			if (f != stdin)
				fclose(f);
		}
	}
	dz_pool_finish(pool);
	dz_pool_free(pool);
	dz_progress_end(&st.prog);
	if (dz_out_close(stdout, &err)) {
		if (!st.fatal)
			fprintf(stderr, PROG ": cannot write output: %s\n", err.msg);
		return EX_IOERR;
	}
	return st.status;
}
