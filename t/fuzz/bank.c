/*
 * t/fuzz/bank.c: what dz-match reads with a partner's bank: the bank file
 * (lib/bank/bank's dz_bank_load on a memory file: JSON Lines, CSV or .dzb,
 * mapped in place, with its lib/bank/mih index image), its index built or
 * viewed (dz_bank_index) and a few queries checked against the
 * brute-force oracle, the metadata line of a signature (trusted comment,
 * dz_bank_comment_parse, dz_bank_meta_check), the signature file itself
 * (lib/crypto/sign, minisign's format), and dz-match's state file (lib/bank/trust).
 *
 * A .dzb's index image carries a checksum that a mutation almost always
 * breaks; to let the fuzzer past it, the checksum of an index image at
 * the place the header says is recomputed before loading (the bank's
 * fingerprint in the image is not: mutations of the index itself are
 * what matters).
 */
#include <stdlib.h>
#include <string.h>

#include "bank/bank.h"
#include "bank/trust.h"
#include "core/err.h"
#include "bank/mih.h"
#include "hash/pdq.h"
#include "crypto/sign.h"

#include "fuzz.h"

#define FZ_MAX_BANK (1u << 20)
#define FZ_QUERIES 6

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The input, with a .dzb index image's checksum made right. */
static uint8_t *
fix_checksum(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	uint64_t off, len;

	if (!p)
		fz_fail("out of memory");
	if (size)
		memcpy(p, data, size);
	if (size < 256 || memcmp(p, "\x89" "DZBANK\n", 8))
		return p;
	off = get64(p + 224);
	len = get64(p + 232);
	if (off % 8 || len % 8 || len < 128 || off > size || len > size - off)
		return p;
	put64(p + off + 24, 0);
	put64(p + off + 24, dz_mih_checksum(p + off, (size_t)len));
	return p;
}

struct hits {
	uint32_t v[64];
	int n;
	int64_t last;
	const struct dz_pdq *hashes;
	const struct dz_pdq *q;
	uint32_t nhashes;
};

static int
on_hit(uint32_t i, int d, void *ctx)
{
	struct hits *h = ctx;

	if (i >= h->nhashes)
		fz_fail("a hit past the end of the bank");
	if ((int64_t)i <= h->last)
		fz_fail("hits not in ascending order");
	if (dz_pdq_distance(&h->hashes[i], h->q) != d)
		fz_fail("a hit with the wrong distance");
	h->last = i;
	if (h->n < 64)
		h->v[h->n] = i;
	h->n++;
	return 0;
}

static void
query(struct dz_bank *b, int exact)
{
	struct dz_err err;
	const struct dz_mih *m = dz_bank_index(b, &err);
	struct dz_mih_scratch *s;

	if (!m) {
		if (b->n > 0)
			fz_fail("no index for a bank with entries");
		return;
	}
	if (!(s = dz_mih_scratch_new(&err)))
		fz_fail("out of memory");
	for (uint64_t k = 0; k < FZ_QUERIES && k < b->n; k++) {
		static const int radius[] = { 0, 31, 64, 90 };
		struct dz_pdq q = b->pdq[k * 7919 % b->n];
		struct hits got, want;

		q.w[k % 4] ^= 0x8000000100010001ULL << (k % 3);
		for (size_t r = 0; r < sizeof radius / sizeof radius[0]; r++) {
			memset(&got, 0, sizeof got);
			got.last = -1;
			got.hashes = b->pdq;
			got.nhashes = (uint32_t)b->n;
			got.q = &q;
			want = got;
			if (dz_mih_query(m, &q, radius[r], s, on_hit, &got,
			    &err) < 0)
				fz_fail("dz_mih_query failed");
			dz_pdq_brute_query(b->pdq, (uint32_t)b->n, &q,
			    radius[r], on_hit, &want);
			if (exact && (got.n != want.n || memcmp(got.v, want.v,
			    sizeof got.v)))
				fz_fail("the index disagrees with the oracle");
		}
	}
	dz_mih_scratch_free(s);
}

static void
bank(const uint8_t *data, size_t size)
{
	struct dz_bank *b;
	struct dz_bank_meta meta;
	struct dz_err err;
	uint64_t ne, nw;
	uint8_t *fixed = fix_checksum(data, size);
	char *comment = NULL;

	if (dz_bank_load(fz_memfile(fixed, size), FZ_MAX_BANK, &b, &err)) {
		free(fixed);
		if (err.code != EX_DATAERR)
			fz_fail("dz_bank_load failed with an unexpected code");
		return;
	}
	for (uint64_t i = 0; i < b->n && i < 64; i++) {
		uint64_t run = dz_bank_run(b, i);
		int64_t at = dz_bank_find(b, b->id[i]);

		if (run == 0 || run > b->n)
			fz_fail("dz_bank_run out of range");
		if (at < 0 || (uint64_t)at > i ||
		    memcmp(b->id[at], b->id[i], DZ_BANK_ID_BYTES))
			fz_fail("dz_bank_find does not find an entry");
	}
	/* only an index built here must agree with the oracle: a .dzb's
	 * own is the issuer's word, checked for safety, not for truth */
	query(b, b->format != DZ_BANK_DZB);
	if (b->format != DZ_BANK_CSV) {
		if (dz_bank_comment(b, &comment, &err))
			fz_fail("no comment for a loaded bank");
		if (dz_bank_comment_parse(comment, &meta, &ne, &nw, &err))
			fz_fail("a bank's own comment does not parse");
		if (dz_bank_meta_check(b, &meta, ne, nw, &err))
			fz_fail("a bank disagrees with its own comment");
		free(comment);
	}
	dz_bank_free(b);
	free(fixed);
}

/* The input as a trusted comment, checked against a small bank. */
static void
comment(const uint8_t *data, size_t size)
{
	struct dz_bank_meta meta;
	struct dz_err err;
	uint64_t ne, nw;
	char *s = fz_strndup(data, size);

	if (dz_bank_comment_parse(s, &meta, &ne, &nw, &err) == 0) {
		struct dz_bank *b;
		char *again = NULL;

		if (!(b = dz_bank_new(&meta, &err))) {
			free(s);
			return;
		}
		if (dz_bank_finish(b, &err) == 0) {
			dz_bank_meta_check(b, &meta, ne, nw, &err);
			if (dz_bank_comment(b, &again, &err) == 0)
				free(again);
		}
		dz_bank_free(b);
	}
	free(s);
}

static void
signature(const uint8_t *data, size_t size)
{
	static struct dz_sign_pub pub;
	static int have;
	struct dz_err err;
	char *tc = NULL;

	if (!have) {
		fz_test_sign_pub(&pub);
		have = 1;
	}
	if (dz_sign_verify_comment(&pub, (const char *)data, size, &tc,
	    &err) == 0) {
		if (!tc || strchr(tc, '\n'))
			fz_fail("a verified trusted comment is not one line");
		free(tc);
		tc = NULL;
	}
	if (dz_sign_verify(&pub, data, size, (const char *)data, size, &tc,
	    &err) == 0)
		free(tc);
}

static void
state(const uint8_t *data, size_t size)
{
	struct dz_trust t, back;
	struct dz_err err;
	char *text;

	if (dz_trust_parse((const char *)data, size, &t, &err))
		return;
	if (dz_trust_format(&t, &text, &err))
		fz_fail("a parsed state does not format");
	if (dz_trust_parse(text, strlen(text), &back, &err))
		fz_fail("a formatted state does not parse");
	if (back.niss != t.niss || back.nfiles != t.nfiles)
		fz_fail("a state reads back different");
	free(text);
	dz_trust_release(&back);
	dz_trust_release(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bank(data, size);
	comment(data, size);
	signature(data, size);
	state(data, size);
	return 0;
}
