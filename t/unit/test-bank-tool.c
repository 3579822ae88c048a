/*
 * t/unit/test-bank-tool: make and inspect hash banks (lib/bank/bank) from the
 * shell, for the dz-match tests. Not a test by itself.
 *
 *   test-bank-tool build [bank options] OUT < SPEC
 *	SPEC lines: "+ ID PDQ QUALITY CATEGORY" (an entry) and
 *	"- ID PDQ CATEGORY" (a tombstone); ID may be "auto" (a fresh id
 *	from the seed); '#' lines and empty lines are skipped.
 *   test-bank-tool plant [bank options] [--n N] [--dmax D] OUT
 *	N random entries, then for each distance d in 0..D a query hash
 *	with one entry planted at exactly d bits from it, then one more
 *	query with an entry at each distance 0..D around it. Prints the
 *	queries, "HEX,100" one per line, on stdout.
 *   test-bank-tool random-hash --seed S
 *   test-bank-tool near PDQ D --seed S	a hash exactly D bits from PDQ
 *   test-bank-tool convert IN OUT FORMAT
 *   test-bank-tool comment BANK		its trusted comment
 *   test-bank-tool digest BANK		its content digest
 *   test-bank-tool info BANK		seq kind since n ntomb format
 *
 * Bank options: --seq N (1), --kind full|delta (full), --since S,
 * --base FILE (a delta's base: that bank's digest), --prev FILE (the
 * previous export, else a made-up digest), --format jsonl|csv|dzb (dzb),
 * --seed S (1), --collab NAME (disrupt).
 * Failures print "test-bank-tool: <reason>" and exit with lib's code.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank/bank.h"
#include "core/err.h"
#include "hash/pdq.h"
#include "util.h"

static const char usage[] =
    "usage: test-bank-tool build [options] OUT < SPEC\n"
    "       test-bank-tool plant [options] [--n N] [--dmax D] OUT\n"
    "       test-bank-tool random-hash --seed S\n"
    "       test-bank-tool near PDQ D --seed S\n"
    "       test-bank-tool convert IN OUT jsonl|csv|dzb\n"
    "       test-bank-tool comment|digest|info BANK\n";

static struct rng rs = { 1 };	/* --seed */

static uint64_t
rng(void)
{
	return rnd(&rs);
}

static int
fail(const struct dz_err *e)
{
	return tool_fail("test-bank-tool", e);
}

static int
die_usage(void)
{
	fputs(usage, stderr);
	return EX_USAGE;
}

static int
format_of(const char *s)
{
	if (!strcmp(s, "jsonl"))
		return DZ_BANK_JSONL;
	if (!strcmp(s, "csv"))
		return DZ_BANK_CSV;
	if (!strcmp(s, "dzb"))
		return DZ_BANK_DZB;
	return -1;
}

struct opts {
	struct dz_bank_meta meta;
	int format;
	uint64_t n;
	int dmax;
	const char *out;
};

static int
digest_of(const char *path, uint8_t d[32])
{
	struct dz_bank *b;
	struct dz_err e;

	if (dz_bank_load(path, 0, &b, &e))
		return fail(&e);
	memcpy(d, b->meta.digest, 32);
	dz_bank_free(b);
	return 0;
}

/* Parse bank options from argv[i..]; leaves the operand in o->out. */
static int
parse_opts(int argc, char **argv, int i, struct opts *o)
{
	const char *now = getenv("DZ_NOW");
	int rc;

	memset(o, 0, sizeof *o);
	o->meta.seq = 1;
	o->meta.kind = DZ_BANK_FULL;
	o->format = DZ_BANK_DZB;
	o->dmax = 32;
	snprintf(o->meta.created, sizeof o->meta.created, "%s",
	    now ? now : "2026-01-15T12:00:00Z");
	snprintf(o->meta.collab, sizeof o->meta.collab, "disrupt");
	for (; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-' || a[1] != '-') {
			if (o->out)
				return die_usage();
			o->out = a;
			continue;
		}
		if (!v)
			return die_usage();
		i++;
		if (!strcmp(a, "--seq"))
			o->meta.seq = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--kind"))
			o->meta.kind = !strcmp(v, "delta") ? DZ_BANK_DELTA :
			    DZ_BANK_FULL;
		else if (!strcmp(a, "--since"))
			o->meta.since = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--base")) {
			if ((rc = digest_of(v, o->meta.base)))
				return rc;
			o->meta.has_base = 1;
		} else if (!strcmp(a, "--prev")) {
			if ((rc = digest_of(v, o->meta.prev)))
				return rc;
			o->meta.has_prev = 2;
		} else if (!strcmp(a, "--format")) {
			if ((o->format = format_of(v)) < 0)
				return die_usage();
		} else if (!strcmp(a, "--seed"))
			rs.s = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--collab"))
			snprintf(o->meta.collab, sizeof o->meta.collab, "%s", v);
		else if (!strcmp(a, "--n"))
			o->n = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--dmax"))
			o->dmax = atoi(v);
		else
			return die_usage();
	}
	if (!o->out)
		return die_usage();
	if (o->meta.has_prev == 2)
		o->meta.has_prev = 1;
	else if (o->meta.seq > 1) {
		/* a made-up digest for an export we do not have */
		o->meta.has_prev = 1;
		for (int k = 0; k < 32; k++)
			o->meta.prev[k] = (uint8_t)(0xa0 + k);
	}
	if (o->meta.kind == DZ_BANK_DELTA && !o->meta.has_base) {
		o->meta.has_base = 1;
		for (int k = 0; k < 32; k++)
			o->meta.base[k] = (uint8_t)(0x50 + k);
	}
	return 0;
}

static int
write_bank(struct dz_bank *b, int format, const char *out)
{
	struct dz_err e;
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		perror(out);
		return EX_CANTCREAT;
	}
	if (dz_bank_write(b, (enum dz_bank_format)format, fd, &e)) {
		close(fd);
		return fail(&e);
	}
	if (close(fd) != 0) {
		perror(out);
		return EX_IOERR;
	}
	return 0;
}

static uint32_t
today(const struct dz_bank_meta *m)
{
	uint32_t d = 0;

	dz_bank_day_of(m->created, &d);
	return d;
}

static int
cmd_build(int argc, char **argv)
{
	struct opts o;
	struct dz_bank *b;
	struct dz_err e;
	char line[1024];
	int rc, lineno = 0;

	if ((rc = parse_opts(argc, argv, 2, &o)))
		return rc;
	if (!(b = dz_bank_new(&o.meta, &e)))
		return fail(&e);
	while (fgets(line, sizeof line, stdin)) {
		char op[4], idhex[64], hex[80], cat[64], qs[16];
		uint8_t id[DZ_BANK_ID_BYTES];
		struct dz_pdq h;
		int n, c;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		n = sscanf(line, "%3s %63s %79s %15s %63s", op, idhex, hex, qs,
		    cat);
		if (!strcmp(idhex, "auto"))
			random_id(&rs, id);
		else if (dz_bank_id_parse(idhex, id)) {
			fprintf(stderr, "test-bank-tool: line %d: bad id\n",
			    lineno);
			return EX_DATAERR;
		}
		if (dz_pdq_from_hex(hex, &h)) {
			fprintf(stderr, "test-bank-tool: line %d: bad hash\n",
			    lineno);
			return EX_DATAERR;
		}
		if (!strcmp(op, "+") && n == 5) {
			if ((c = dz_bank_category_parse(cat)) < 0) {
				fprintf(stderr, "test-bank-tool: line %d: bad "
				    "category\n", lineno);
				return EX_DATAERR;
			}
			if (dz_bank_add(b, id, &h, atoi(qs), c, today(&o.meta),
			    &e))
				return fail(&e);
		} else if (!strcmp(op, "-") && n == 4) {
			if ((c = dz_bank_category_parse(qs)) < 0) {
				fprintf(stderr, "test-bank-tool: line %d: bad "
				    "category\n", lineno);
				return EX_DATAERR;
			}
			if (dz_bank_add_tomb(b, id, &h, c, today(&o.meta), &e))
				return fail(&e);
		} else {
			fprintf(stderr, "test-bank-tool: line %d: bad line\n",
			    lineno);
			return EX_DATAERR;
		}
	}
	if (dz_bank_finish(b, &e))
		return fail(&e);
	rc = write_bank(b, o.format, o.out);
	dz_bank_free(b);
	return rc;
}

static const int cats[] = { DZ_BANK_CAT_ADULT_NCII, DZ_BANK_CAT_MINOR,
	DZ_BANK_CAT_OTHER };

/* Add to b a hash d bits from q, quality 100, the d'th category. */
static int
plant_at(struct dz_bank *b, const struct dz_bank_meta *m,
    const struct dz_pdq *q, int d, struct dz_err *e)
{
	uint8_t id[DZ_BANK_ID_BYTES];
	struct dz_pdq h;

	flip_distinct(&rs, q, d, &h);
	random_id(&rs, id);
	return dz_bank_add(b, id, &h, 100, cats[d % 3], today(m), e);
}

static int
cmd_plant(int argc, char **argv)
{
	struct opts o;
	struct dz_bank *b;
	struct dz_err e;
	struct dz_pdq h, q;
	uint8_t id[DZ_BANK_ID_BYTES];
	char hex[65];
	int rc;

	if ((rc = parse_opts(argc, argv, 2, &o)))
		return rc;
	if (!(b = dz_bank_new(&o.meta, &e)))
		return fail(&e);
	for (uint64_t i = 0; i < o.n; i++) {
		random_hash(&rs, &h);
		random_id(&rs, id);
		if (dz_bank_add(b, id, &h, 50 + (int)(rng() % 51),
		    cats[rng() % 3], today(&o.meta), &e))
			return fail(&e);
	}
	for (int d = 0; d <= o.dmax; d++) {
		random_hash(&rs, &q);
		if (plant_at(b, &o.meta, &q, d, &e))
			return fail(&e);
		dz_pdq_to_hex(&q, hex);
		printf("%s,100\n", hex);
	}
	random_hash(&rs, &q);
	for (int d = 0; d <= o.dmax; d++)
		if (plant_at(b, &o.meta, &q, d, &e))
			return fail(&e);
	dz_pdq_to_hex(&q, hex);
	printf("%s,100\n", hex);
	if (dz_bank_finish(b, &e))
		return fail(&e);
	rc = write_bank(b, o.format, o.out);
	dz_bank_free(b);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	struct dz_bank *b;
	struct dz_err e;
	char hex[65];

	if (!strcmp(cmd, "build"))
		return cmd_build(argc, argv);
	if (!strcmp(cmd, "plant"))
		return cmd_plant(argc, argv);
	if (!strcmp(cmd, "random-hash") && argc == 4 &&
	    !strcmp(argv[2], "--seed")) {
		struct dz_pdq h;

		rs.s = strtoull(argv[3], NULL, 10);
		random_hash(&rs, &h);
		dz_pdq_to_hex(&h, hex);
		puts(hex);
		return 0;
	}
	if (!strcmp(cmd, "near") && argc == 6 && !strcmp(argv[4], "--seed")) {
		struct dz_pdq h, out;

		if (dz_pdq_from_hex(argv[2], &h))
			return die_usage();
		rs.s = strtoull(argv[5], NULL, 10);
		flip_distinct(&rs, &h, atoi(argv[3]), &out);
		dz_pdq_to_hex(&out, hex);
		puts(hex);
		return 0;
	}
	if (!strcmp(cmd, "convert") && argc == 5) {
		int f = format_of(argv[4]), rc;

		if (f < 0)
			return die_usage();
		if (dz_bank_load(argv[2], 0, &b, &e))
			return fail(&e);
		rc = write_bank(b, f, argv[3]);
		dz_bank_free(b);
		return rc;
	}
	if ((!strcmp(cmd, "comment") || !strcmp(cmd, "digest") ||
	    !strcmp(cmd, "info")) && argc == 3) {
		if (dz_bank_load(argv[2], 0, &b, &e))
			return fail(&e);
		if (!strcmp(cmd, "comment")) {
			char *c;
			if (dz_bank_comment(b, &c, &e)) {
				dz_bank_free(b);
				return fail(&e);
			}
			puts(c);
			free(c);
		} else if (!strcmp(cmd, "digest")) {
			dz_bank_digest_hex(b->meta.digest, hex);
			puts(hex);
		} else {
			printf("%" PRIu64 " %s %" PRIu64 " %" PRIu64 " %"
			    PRIu64 " %d\n", b->meta.seq,
			    b->meta.kind == DZ_BANK_DELTA ? "delta" : "full",
			    b->meta.since, b->n, b->ntomb, (int)b->format);
		}
		dz_bank_free(b);
		return fflush(stdout) ? EX_IOERR : 0;
	}
	return die_usage();
}
