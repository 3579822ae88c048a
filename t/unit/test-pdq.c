/*
 * lib/hash/pdq against the reference vectors that need no image decoder:
 * t/data/reference/pdq/pnm (binary PPM/PGM), their expected hashes, dihedral
 * hashes and qualities, and the 64x64 / DCT dumps of q0122.
 * Run with DZ_TESTDATA pointing at t/data/reference (t/0001 does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/luma.h"
#include "hash/pdq.h"
#include "tap.h"

static const char *testdata;

struct pnm {
	int w, h, grey;
	unsigned char *px;
};

static int
pnm_token(FILE *f)
{
	int c, v = 0;

	while ((c = getc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t' ||
	    c == '#')
		if (c == '#')
			while ((c = getc(f)) != '\n' && c != EOF)
				;
	if (c < '0' || c > '9')
		return -1;
	do
		v = v * 10 + (c - '0');
	while ((c = getc(f)) >= '0' && c <= '9');
	return v;		/* one whitespace byte consumed */
}

static int
pnm_load(const char *path, struct pnm *p)
{
	FILE *f = fopen(path, "rb");
	char m[2];
	size_t n;
	int max;

	if (!f)
		return -1;
	if (fread(m, 1, 2, f) != 2 || m[0] != 'P' || (m[1] != '5' && m[1] != '6'))
		goto bad;
	p->grey = m[1] == '5';
	p->w = pnm_token(f);
	p->h = pnm_token(f);
	max = pnm_token(f);
	if (p->w <= 0 || p->h <= 0 || max != 255)
		goto bad;
	n = (size_t)p->w * p->h * (p->grey ? 1 : 3);
	p->px = malloc(n);
	if (!p->px || fread(p->px, 1, n, f) != n)
		goto bad;
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

/* Hash through the streaming filter, pushing rows in uneven batches. */
static int
hash_pnm(const struct pnm *p, int dihedral, struct dz_pdq_result *r)
{
	struct dz_err err;
	struct dz_pdq_filter *f = dz_pdq_filter_new(p->w, p->h, &err);
	float *luma = malloc((size_t)p->w * p->h * sizeof(float));
	size_t n = (size_t)p->w * p->h;
	int rc = -1, y = 0, step = 1;

	if (!f || !luma)
		goto out;
	if (p->grey)
		dz_luma_from_grey(luma, p->px, n);
	else
		dz_luma_from_rgb(luma, p->px, n);
	while (y < p->h) {
		int k = step < p->h - y ? step : p->h - y;
		if (dz_pdq_filter_rows(f, luma + (size_t)y * p->w, k, &err))
			goto out;
		y += k;
		step = step % 7 + 1;
	}
	rc = dz_pdq_filter_finish(f, dihedral, r, &err);
out:
	if (rc)
		diag("error: %s", err.msg);
	dz_pdq_filter_free(f);
	free(luma);
	return rc;
}

static void
check_csv(const char *csv, int dihedral)
{
	char path[4096], line[4096];
	FILE *f;
	int rows = 0;

	snprintf(path, sizeof path, "%s/pdq/%s", testdata, csv);
	f = fopen(path, "r");
	if (!ok(f != NULL, "open %s", csv))
		return;
	if (!fgets(line, sizeof line, f))	/* header */
		line[0] = '\0';
	while (fgets(line, sizeof line, f)) {
		char *field[11];
		int nf = 0;
		struct pnm p = { 0 };
		struct dz_pdq_result r;
		char file[4096], hex[65];
		int want_q, good = 1;

		line[strcspn(line, "\r\n")] = '\0';
		for (char *s = strtok(line, ","); s && nf < 11; s = strtok(NULL, ","))
			field[nf++] = s;
		if (nf != (dihedral ? 10 : 3))
			continue;
		snprintf(file, sizeof file, "%s/pdq/%s", testdata, field[0]);
		if (!ok(pnm_load(file, &p) == 0, "load %s", field[0]))
			continue;
		if (!ok(hash_pnm(&p, dihedral, &r) == 0, "hash %s", field[0])) {
			free(p.px);
			continue;
		}
		want_q = atoi(field[nf - 1]);
		for (int d = 0; d < (dihedral ? DZ_PDQ_NDIHEDRAL : 1); d++) {
			struct dz_pdq *got = dihedral ? &r.dihedral[d] : &r.hash;
			dz_pdq_to_hex(got, hex);
			if (strcmp(hex, field[1 + d])) {
				diag("%s %s: got %s want %s", field[0],
				    dz_pdq_dihedral_name[d], hex, field[1 + d]);
				good = 0;
			}
		}
		ok(good, "%s %s bit-identical", field[0],
		    dihedral ? "dihedral hashes" : "hash");
		if (!ok(r.quality == want_q, "%s quality %d", field[0], want_q))
			diag("got %d", r.quality);
		free(p.px);
		rows++;
	}
	fclose(f);
	ok(rows >= 10, "%s: %d rows checked", csv, rows);
}

static int
read_floats(const char *name, float *v, int n)
{
	char path[4096];
	FILE *f;
	int i;

	snprintf(path, sizeof path, "%s/pdq/pnm/%s", testdata, name);
	if (!(f = fopen(path, "r")))
		return -1;
	for (i = 0; i < n && fscanf(f, "%f", &v[i]) == 1; i++)
		;
	fclose(f);
	return i == n ? 0 : -1;
}

static void
check_dumps(void)
{
	static float luma64[4096], dct_want[256], dct[256];
	int same = 1;

	if (!ok(read_floats("q0122-256x256.luma64.txt", luma64, 4096) == 0 &&
	    read_floats("q0122-256x256.dct16.txt", dct_want, 256) == 0,
	    "read q0122 dumps"))
		return;
	dz_pdq_dct16(luma64, dct);
	for (int i = 0; i < 256; i++)
		if (memcmp(&dct[i], &dct_want[i], sizeof(float))) {
			if (same)
				diag("dct[%d] = %.9g, want %.9g", i, dct[i],
				    dct_want[i]);
			same = 0;
		}
	ok(same, "DCT of the q0122 64x64 dump equals the reference's bit for bit");
	ok(dz_pdq_quality(luma64) == 100, "quality of the q0122 dump is 100");
}

static void
check_hex(void)
{
	const char *hx =
	    "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
	struct dz_pdq a, b;
	char out[65];

	ok(dz_pdq_from_hex(hx, &a) == 0, "parse hex");
	dz_pdq_to_hex(&a, out);
	ok(strcmp(out, hx) == 0, "hex round trip");
	ok(dz_pdq_from_hex("f8f8", &b) == -1, "short hex refused");
	ok(dz_pdq_from_hex("g8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", &b) == -1,
	    "non-hex refused");
	b = a;
	b.w[0] ^= 1;
	b.w[3] ^= UINT64_C(1) << 63;
	ok(dz_pdq_distance(&a, &b) == 2, "distance counts flipped bits");
	ok(dz_pdq_distance(&a, &a) == 0, "distance to itself is 0");
	/* the first hex digit is the top bits of word 15 (row 15) */
	ok((a.w[3] >> 60) == 0xf, "first hex digit is the most significant nibble");
}

static void
check_misuse(void)
{
	struct dz_err err;
	struct dz_pdq_filter *f;
	struct dz_pdq_result r;
	float row[10 * 10] = { 0 };

	ok(dz_pdq_filter_new(0, 10, &err) == NULL, "zero width refused");
	f = dz_pdq_filter_new(10, 10, &err);
	ok(f && dz_pdq_filter_rows(f, row, 3, &err) == 0, "push 3 rows");
	ok(dz_pdq_filter_finish(f, 0, &r, &err) == -1, "finish with rows missing fails");
	ok(dz_pdq_filter_rows(f, row, 8, &err) == -1, "too many rows refused");
	dz_pdq_filter_free(f);
}

int
main(void)
{
	testdata = getenv("DZ_TESTDATA");
	if (!testdata) {
		printf("Bail out! DZ_TESTDATA not set\n");
		return 1;
	}
	check_csv("expected-pdq-pnm.csv", 0);
	check_csv("expected-pdq-pnm-dihedral.csv", 1);
	check_dumps();
	check_hex();
	check_misuse();
	return tap_done();
}
