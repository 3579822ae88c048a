/*
 * scripts/bench/mkbank: write a synthetic, unsigned bank of N uniform
 * random PDQ hashes, for benchmarking dz-match on a bank of realistic size
 * (10 million entries).
 *
 *	mkbank [-v] [-f dzb|jsonl|csv] [-s seed] [-q Q QFILE] N FILE
 *
 * Entries get random ids, uniform random hashes, quality 100, category
 * adult_ncii and added days in 2026; the bank is export 1, full, created
 * 2026-01-01T00:00:00Z by "disrupt". The same seed (default 1) gives the
 * same file. The trusted comment to sign the bank with (dz_bank_comment,
 * for minisign -S -t) is printed on standard output. -q writes Q planted queries to QFILE, one "HEX,100" line
 * each: query i is entry number i * N / Q with exactly i % 32 of its bits
 * flipped, so a correct matcher at radius 31 finds every one (and the
 * distance it reports is i % 32). FILE is written in place (FILE.tmp, then renamed). -v prints
 * the time of each step on standard error. Exit status: 0, 64 usage, 65
 * or 70 from lib/bank/bank, 73 cannot create FILE, 74 write error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bank/bank.h"
#include "core/err.h"
#include "hash/pdq.h"

static const char *prog = "mkbank";

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-v] [-f dzb|jsonl|csv] [-s seed] [-q Q QFILE] "
	    "N FILE\n", prog);
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	enum dz_bank_format fmt = DZ_BANK_DZB;
	struct dz_bank_meta meta;
	struct dz_bank *b;
	struct dz_err err;
	uint64_t seed = 1, n, nq = 0;
	const char *qfile = NULL;
	FILE *qf = NULL;
	uint32_t day0;
	char *end, tmp[4096];
	double t0, t1, t2, t3;
	int c, verbose = 0, fd;

	while ((c = getopt(argc, argv, "f:hq:s:v")) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "dzb"))
				fmt = DZ_BANK_DZB;
			else if (!strcmp(optarg, "jsonl"))
				fmt = DZ_BANK_JSONL;
			else if (!strcmp(optarg, "csv"))
				fmt = DZ_BANK_CSV;
			else {
				fprintf(stderr, "%s: unknown format '%s'\n",
				    prog, optarg);
				usage(stderr);
				return EX_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg) {
				fprintf(stderr, "%s: bad seed '%s'\n", prog,
				    optarg);
				usage(stderr);
				return EX_USAGE;
			}
			break;
		case 'q':
			errno = 0;
			nq = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || optind >= argc) {
				fprintf(stderr, "%s: bad -q '%s'\n", prog,
				    optarg);
				usage(stderr);
				return EX_USAGE;
			}
			qfile = argv[optind++];
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EX_USAGE;
	}
	errno = 0;
	n = strtoull(argv[optind], &end, 10);
	if (errno || *end || !*argv[optind] || n > DZ_BANK_MAX_ENTRIES) {
		fprintf(stderr, "%s: bad number of entries '%s'\n", prog,
		    argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[optind + 1]) >=
	    (int)sizeof tmp) {
		fprintf(stderr, "%s: file name too long\n", prog);
		return EX_USAGE;
	}

	if (nq > n) {
		fprintf(stderr, "%s: more queries than entries\n", prog);
		return EX_USAGE;
	}
	if (qfile && !(qf = fopen(qfile, "w"))) {
		fprintf(stderr, "%s: cannot create '%s': %s\n", prog, qfile,
		    strerror(errno));
		return EX_CANTCREAT;
	}

	memset(&meta, 0, sizeof meta);
	meta.seq = 1;
	meta.kind = DZ_BANK_FULL;
	strcpy(meta.created, "2026-01-01T00:00:00Z");
	strcpy(meta.collab, "disrupt");
	dz_bank_day_parse("2026-01-01", &day0);

	t0 = now();
	if (!(b = dz_bank_new(&meta, &err)))
		goto fail;
	for (uint64_t i = 0; i < n; i++) {
		uint8_t id[DZ_BANK_ID_BYTES];
		struct dz_pdq h;
		uint64_t a = rnd(&seed), z = rnd(&seed);

		memcpy(id, &a, 8);
		memcpy(id + 8, &z, 8);
		for (int w = 0; w < 4; w++)
			h.w[w] = rnd(&seed);
		if (dz_bank_add(b, id, &h, 100, DZ_BANK_CAT_ADULT_NCII,
		    day0 + (uint32_t)(rnd(&seed) % 365), &err))
			goto fail;
		/* entry i * n / nq for query i: i <= q * n / nq < i + 1 */
		if (qf && (i * nq) % n < nq) {
			uint64_t q = i * nq / n;
			char hex[65];

			for (uint64_t k = 0; k < q % 32; k++)
				h.w[k / 64] ^= 1ULL << (k % 64 * 7 % 64);
			dz_pdq_to_hex(&h, hex);
			fprintf(qf, "%s,100\n", hex);
		}
	}
	if (qf && fclose(qf)) {
		fprintf(stderr, "%s: cannot write '%s'\n", prog, qfile);
		dz_bank_free(b);
		return EX_IOERR;
	}
	t1 = now();
	if (dz_bank_finish(b, &err))
		goto fail;
	t2 = now();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot create '%s': %s\n", prog, tmp,
		    strerror(errno));
		dz_bank_free(b);
		return EX_CANTCREAT;
	}
	if (dz_bank_write(b, fmt, fd, &err)) {
		close(fd);
		unlink(tmp);
		goto fail;
	}
	if (close(fd) || rename(tmp, argv[optind + 1])) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", prog,
		    argv[optind + 1], strerror(errno));
		unlink(tmp);
		dz_bank_free(b);
		return EX_IOERR;
	}
	t3 = now();
	{
		char *tc;

		if (dz_bank_comment(b, &tc, &err))
			goto fail;
		printf("%s\n", tc);
		free(tc);
		if (fflush(stdout) || ferror(stdout)) {
			fprintf(stderr, "%s: cannot write the comment\n", prog);
			dz_bank_free(b);
			return EX_IOERR;
		}
	}
	if (verbose)
		fprintf(stderr, "%s: %llu entries: generate %.2f s, finish "
		    "%.2f s, write %.2f s\n", prog, (unsigned long long)n,
		    t1 - t0, t2 - t1, t3 - t2);
	dz_bank_free(b);
	return 0;
fail:
	fprintf(stderr, "%s: cannot make the bank '%s': %s\n", prog,
	    argv[optind + 1], err.msg);
	dz_bank_free(b);
	return err.code ? err.code : EX_SOFTWARE;
}
