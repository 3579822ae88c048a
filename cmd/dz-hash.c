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

#include "core/cli.h"
#include "core/err.h"
#include "hash/hash.h"
#include "core/input.h"
#include "core/proc.h"
#include "core/out.h"
#include "core/record.h"
#include "core/config.h"
#include "core/runner.h"
#include "work/hashstore.h"

#define PROG "dz-hash"
#define DEFAULT_MAX_BYTES (256ULL << 20)

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

/* --store and what goes with it. */
struct store_args {
	const char *cfg_path, *item;
	int store;
};

/* A job's data: the record read (--records) and the hashes. */
struct hjob {
	json_t *rec;
	struct dz_hash_result res;
};

/* --records: a line is a record, hashed when it has a "path". */
static int
parse(struct dz_runner_job *j, const char *line, size_t len, void *ctx,
    struct dz_err *err)
{
	struct hjob *h = j->data;
	json_t *path;

	(void)ctx;
	if (!(h->rec = dz_record_parse(line, len, err)))
		return -1;
	if ((path = json_object_get(h->rec, "path")) && json_is_string(path) &&
	    !(j->path = strdup(json_string_value(path))))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 0;
}

static int
work(struct dz_runner_job *j, void *ctx, struct dz_err *err)
{
	const struct cfg *cfg = ctx;
	struct hjob *h = j->data;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (!j->path)
		return 0;	/* a record without a path: passed through */
	rc = dz_file_read(j->path, cfg->max_bytes, &buf, &len, err) ||
	    dz_hash_media(buf, len, &cfg->hash, &h->res, err) ? -1 : 0;
	free(buf);
	return rc;
}

static int
emit_csv(struct dz_runner *r, const struct cfg *cfg,
    const struct dz_runner_job *j)
{
	const struct dz_hash_result *res = &((struct hjob *)j->data)->res;
	FILE *out = dz_runner_out(r);
	char hex[65];

	if (res->video) {	/* a line for each frame of the signature */
		for (size_t i = 0; i < res->vpdq.n; i++) {
			dz_pdq_to_hex(&res->vpdq.v[i].hash, hex);
			fprintf(out, "%s,%d,%s\n", hex, res->vpdq.v[i].quality,
			    j->path);
		}
	} else if (cfg->hash.dihedral)
		for (int k = 0; k < DZ_PDQ_NDIHEDRAL; k++) {
			dz_pdq_to_hex(&res->pdq.dihedral[k], hex);
			fprintf(out, "%s,", hex);
		}
	else {
		dz_pdq_to_hex(&res->pdq.hash, hex);
		fprintf(out, "%s,", hex);
	}
	if (!res->video)
		fprintf(out, "%d,%s\n", res->pdq.quality, j->path);
	return dz_runner_check(r);
}

static int
emit(struct dz_runner *r, struct dz_runner_job *j, void *ctx)
{
	const struct cfg *cfg = ctx;
	struct hjob *h = j->data;
	json_t *rec;

	if (!j->path)
		return dz_runner_write(r, json_incref(h->rec));
	if (cfg->csv)
		return emit_csv(r, cfg, j);
	if ((rec = h->rec ? json_incref(h->rec) : dz_record_new("hash")) &&
	    !h->rec)
		dz_record_set_path(rec, "path", j->path);
	if (rec)
		dz_hash_record_fields(rec, &h->res, cfg->hash.dihedral);
	return dz_runner_write(r, rec);
}

static void
error_fields(json_t *e, const struct dz_runner_job *j, void *ctx)
{
	const struct hjob *h = j->data;

	(void)ctx;
	if (h->rec)
		json_object_set(e, "record", h->rec);
}

static void
release(struct dz_runner_job *j, void *ctx)
{
	struct hjob *h = j->data;

	(void)ctx;
	if (h) {
		dz_hash_result_release(&h->res);
		json_decref(h->rec);
	}
}

static const struct dz_runner_ops ops = {
	parse, work, emit, error_fields, release,
};

static int
store_emit(json_t *rec, void *ctx)
{
	struct dz_err err;
	int rc = dz_record_write(ctx, rec, &err);

	json_decref(rec);
	return rc;
}

/* dz-hash --store: the work is lib/work/hashstore's. */
static int
run_store(const struct cfg *cfg, const char *cfg_path, const char *item)
{
	struct dz_config conf;
	struct dz_hashstore *h;
	struct dz_err err, cerr;
	unsigned hashed = 0, failed = 0;
	int rc;

	if ((rc = dz_cli_config(&conf, cfg_path)) != 0)
		return rc;
	if (!(h = dz_hashstore_open(&conf, &cfg->hash, PROG, &err))) {
		rc = dz_cli_fail(err.code, "open store", conf.store, err.msg);
		dz_config_release(&conf);
		return rc;
	}
	dz_out_init(stdout);
	rc = dz_hashstore_run(h, item, store_emit, stdout, &hashed, &failed,
	    &err);
	dz_hashstore_close(h);
	dz_config_release(&conf);
	if (dz_out_close(stdout, &cerr))
		return dz_cli_fail(EX_IOERR, "write output", NULL, cerr.msg);
	if (rc)
		return dz_cli_fail(err.code, "hash the store", NULL, err.msg);
	if (!cfg->quiet && failed)
		dz_cli_say("%u item%s not hashed (see the error records)",
		    failed, failed == 1 ? "" : "s");
	return failed ? EX_DATAERR : 0;
}

/* --format json|csv */
static int
format(const char *s, int *csv)
{
	if (strcmp(s, "csv") && strcmp(s, "json"))
		return dz_cli_invalid("--format", s, "expected json or csv");
	*csv = strcmp(s, "csv") == 0;
	return 0;
}

/* The options and their checks; 0, or the exit code (-h, -V, misuse). */
static int
parse_args(int argc, char **argv, struct cfg *cfg, struct dz_runner_opts *ro,
    struct store_args *sa, int *done)
{
	uint64_t v = 0;
	int c, rc = 0;

	while (!rc && (c = getopt_long(argc, argv, "0c:hj:qV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'c': sa->cfg_path = optarg; break;
		case OPT_STORE: sa->store = 1; break;
		case OPT_ITEM: sa->item = optarg; break;
		case '0': ro->delim = '\0'; break;
		case 'j': rc = dz_cli_int("-j", optarg, 1, 256, &ro->jobs); break;
		case 'q': cfg->quiet = 1; break;
		case 'h': *done = 1; return dz_cli_help();
		case 'V': *done = 1; return dz_cli_version(DZ_VERSION);
		case OPT_RECORDS: cfg->records = 1; break;
		case OPT_DIHEDRAL: cfg->hash.dihedral = 1; break;
		case OPT_EXACT: cfg->hash.exact = 1; break;
		case OPT_NO_ORIENT: cfg->hash.img.orient = 0; break;
		case OPT_FORMAT: rc = format(optarg, &cfg->csv); break;
		case OPT_MAX_PIXELS:
			rc = dz_cli_uint("--max-pixels", optarg, 1, UINT64_MAX,
			    &cfg->hash.img.lim.max_pixels);
			break;
		case OPT_MAX_BYTES:
			rc = dz_cli_uint("--max-bytes", optarg, 1,
			    (uint64_t)SIZE_MAX / 2, &cfg->max_bytes);
			break;
		case OPT_MAX_DURATION:
			rc = dz_cli_uint("--max-duration", optarg, 1, 1000000, &v);
			cfg->hash.vpdq.lim.max_seconds = (double)v;
			break;
		case OPT_PROGRESS: ro->progress = 1; break;
		case OPT_NO_PROGRESS: ro->progress = 0; break;
		default: return dz_cli_misuse();
		}
	}
	if (rc)
		return rc;
	if (sa->store && (optind < argc || cfg->records || cfg->csv ||
	    ro->delim == '\0' || ro->jobs != 1 || ro->progress != -1 ||
	    cfg->max_bytes != DEFAULT_MAX_BYTES))
		return dz_cli_usage("--store takes no files, -0, -j, --records, "
		    "--format, --max-bytes or --progress");
	if (!sa->store && (sa->item || sa->cfg_path))
		return dz_cli_usage("--item and -c go with --store");
	if (cfg->records && cfg->csv)
		return dz_cli_usage("--records writes records, not csv");
	if (cfg->records && ro->delim == '\0')
		return dz_cli_usage("-0 lists file names; it does not go with "
		    "--records");
	if (ro->delim == '\0' && optind < argc)
		return dz_cli_usage("-0 reads names from standard input; give no "
		    "file operands");
	return 0;
}

int
main(int argc, char **argv)
{
	struct cfg cfg = { .max_bytes = DEFAULT_MAX_BYTES };
	struct store_args sa = { NULL, NULL, 0 };
	struct dz_runner_opts ro = { .verb = "hash", .unit = "files",
	    .jobs = 1, .progress = -1, .delim = '\n', .max_line = 1 << 20,
	    .data_size = sizeof(struct hjob), .ops = &ops, .ctx = &cfg };
	struct dz_err err;
	int rc, done = 0;

	dz_cli_init(PROG, usage_text, help_text);
	if (dz_proc_harden(&err))
		return dz_cli_fail(EX_SOFTWARE, "start", NULL, err.msg);
	dz_hash_opts_default(&cfg.hash);
	if ((rc = parse_args(argc, argv, &cfg, &ro, &sa, &done)) || done)
		return rc;
	if (sa.store)
		return run_store(&cfg, sa.cfg_path, sa.item);
	/* -q: nothing on stderr, unless --progress asks for it. */
	if (ro.progress < 0 && cfg.quiet)
		ro.progress = 0;
	ro.quiet = cfg.quiet;
	ro.lines = cfg.records;
	ro.no_errors = cfg.csv;
	dz_out_init(stdout);
	rc = dz_runner_run(&ro, argv + optind, argc - optind, stdout);
	if (dz_out_close(stdout, &err)) {
		if (rc != EX_IOERR)
			dz_cli_fail(EX_IOERR, "write output", NULL, err.msg);
		return EX_IOERR;
	}
	return rc;
}
