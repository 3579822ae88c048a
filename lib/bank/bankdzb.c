/*
 * lib/bank/bankdzb.c: the .dzb format (see bank.h): a 256-byte header,
 * then the arrays as they are in memory, each section 64-byte aligned,
 * then the MIH index. Written with the big arrays going straight to
 * write(2); loaded in place from a read-only mapping after checking
 * every byte that is not a hash.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "bank/bank.h"
#include "bank/bankint.h"
#include "bank/mih.h"
#include "core/err.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lib/bank/bank reads its little-endian .dzb in place"
#endif

_Static_assert(sizeof(struct dz_pdq) == 32, "struct dz_pdq is 32 bytes");
_Static_assert(sizeof(struct dz_bank_attr) == 8, "struct dz_bank_attr");
_Static_assert(sizeof(struct dz_bank_tomb) == 56, "struct dz_bank_tomb");

#define HDR_SIZE 256

/* .dzb header field offsets. */
enum {
	H_MAGIC = 0, H_VERSION = 8, H_HDRSIZE = 12, H_SIZE = 16, H_SEQ = 24,
	H_SINCE = 32, H_KIND = 40, H_FLAGS = 44, H_N = 48, H_T = 56,
	H_DIGEST = 64, H_PREV = 96, H_BASE = 128, H_CREATED = 160,
	H_COLLAB = 192, H_INDEX = 224, H_INDEX_SIZE = 232, H_ZERO = 240
};

#define F_PREV 0x1u
#define F_BASE 0x2u

const unsigned char bank_magic[8] = {
	0x89, 'D', 'Z', 'B', 'A', 'N', 'K', '\n'
};

/* ---------- little-endian fields ---------- */

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint64_t
section(uint64_t x)
{
	return (x + SECTION - 1) & ~(uint64_t)(SECTION - 1);
}

/* ---------- writing ---------- */

static void
out_zeros(struct bank_out *o, size_t len)
{
	static const uint8_t zero[SECTION];

	while (len) {
		size_t k = len < sizeof zero ? len : sizeof zero;

		bank_out_bytes(o, zero, k);
		len -= k;
	}
}

struct layout {
	uint64_t pdq, id, attr, tomb, tomb_end, index, index_size, size;
};

/* Where each section of a .dzb goes. -1 if the sizes cannot be. */
static int
dzb_layout(uint64_t n, uint64_t t, uint64_t index_size, struct layout *L)
{
	if (n > DZ_BANK_MAX_ENTRIES || t > (UINT64_C(1) << 56) ||
	    index_size > (UINT64_C(1) << 62))
		return -1;
	L->pdq = HDR_SIZE;
	L->id = section(L->pdq + 32 * n);
	L->attr = section(L->id + ID * n);
	L->tomb = section(L->attr + sizeof(struct dz_bank_attr) * n);
	L->tomb_end = L->tomb + sizeof(struct dz_bank_tomb) * t;
	L->index_size = index_size;
	L->index = index_size ? section(L->tomb_end) : 0;
	L->size = section(index_size ? L->index + index_size : L->tomb_end);
	return 0;
}

static void
dzb_header(const struct dz_bank *b, const struct layout *L, uint8_t h[HDR_SIZE])
{
	const struct dz_bank_meta *m = &b->meta;

	memset(h, 0, HDR_SIZE);
	memcpy(h + H_MAGIC, bank_magic, sizeof bank_magic);
	put32(h + H_VERSION, DZ_BANK_VERSION);
	put32(h + H_HDRSIZE, HDR_SIZE);
	put64(h + H_SIZE, L->size);
	put64(h + H_SEQ, m->seq);
	put64(h + H_SINCE, m->since);
	put32(h + H_KIND, m->kind);
	put32(h + H_FLAGS,
	    (m->has_prev ? F_PREV : 0) | (m->has_base ? F_BASE : 0));
	put64(h + H_N, b->n);
	put64(h + H_T, b->ntomb);
	memcpy(h + H_DIGEST, m->digest, 32);
	if (m->has_prev)
		memcpy(h + H_PREV, m->prev, 32);
	if (m->has_base)
		memcpy(h + H_BASE, m->base, 32);
	memcpy(h + H_CREATED, m->created, strnlen(m->created, 31));
	memcpy(h + H_COLLAB, m->collab, strnlen(m->collab, 31));
	put64(h + H_INDEX, L->index);
	put64(h + H_INDEX_SIZE, L->index_size);
}

int
bank_dzb_write(const struct dz_bank *b, struct bank_out *o, struct dz_err *err)
{
	struct dz_mih *built = NULL;
	const struct dz_mih *mih = b->priv->mih;
	const void *img = NULL;
	size_t img_len = 0;
	struct layout L;
	uint8_t h[HDR_SIZE];
	uint64_t n = b->n, t = b->ntomb;

	if (n && !mih) {
		if (!(built = dz_mih_build(b->pdq, (uint32_t)n,
		    DZ_BANK_INDEX_RADIUS, err)))
			return -1;
		mih = built;
	}
	if (mih)
		img = dz_mih_bytes(mih, &img_len);
	if (dzb_layout(n, t, img_len, &L) < 0) {
		dz_mih_free(built);
		return dz_err_set(err, EX_SOFTWARE, "bank too large");
	}
	dzb_header(b, &L, h);
	bank_out_bytes(o, h, sizeof h);
	bank_out_bytes(o, b->pdq, 32 * n);
	out_zeros(o, L.id - (L.pdq + 32 * n));
	bank_out_bytes(o, b->id, ID * n);
	out_zeros(o, L.attr - (L.id + ID * n));
	bank_out_bytes(o, b->attr, sizeof *b->attr * n);
	out_zeros(o, L.tomb - (L.attr + sizeof *b->attr * n));
	bank_out_bytes(o, b->tomb, sizeof *b->tomb * t);
	if (img_len) {
		out_zeros(o, L.index - L.tomb_end);
		bank_out_bytes(o, img, img_len);
		out_zeros(o, L.size - (L.index + img_len));
	} else {
		out_zeros(o, L.size - L.tomb_end);
	}
	dz_mih_free(built);
	return 0;
}

/* ---------- loading ---------- */

static int
bad_dzb(struct dz_err *err, const char *why)
{
	return dz_err_set(err, EX_DATAERR, "bad bank file: %s", why);
}

/* A NUL-padded text field of 32 bytes: its length, or -1. */
static int
padded(const uint8_t *f)
{
	size_t len = strnlen((const char *)f, 32);

	if (len == 32 || !all_zero(f + len, 32 - len))
		return -1;
	return (int)len;
}

int
bank_dzb_parse(struct dz_bank *b, const uint8_t *p, size_t len,
    struct dz_err *err)
{
	struct dz_bank_meta *m = &b->meta;
	uint64_t n, t, size, flags, kind;
	struct layout L;
	const char *bad;

	if (len < HDR_SIZE)
		return dz_err_set(err, EX_DATAERR, len >= sizeof bank_magic &&
		    memcmp(p, bank_magic, sizeof bank_magic) ?
		    "not a bank file" : "truncated bank file");
	if (memcmp(p + H_MAGIC, bank_magic, sizeof bank_magic))
		return dz_err_set(err, EX_DATAERR, "not a bank file");
	if (get32(p + H_VERSION) != DZ_BANK_VERSION)
		return dz_err_set(err, EX_DATAERR,
		    "bad bank file: version %" PRIu32 " not supported",
		    get32(p + H_VERSION));
	if (get32(p + H_HDRSIZE) != HDR_SIZE)
		return bad_dzb(err, "header size");
	size = get64(p + H_SIZE);
	if (size != len)
		return dz_err_set(err, EX_DATAERR, size > len ?
		    "truncated bank file" :
		    "bad bank file: size does not match");
	if (!all_zero(p + H_ZERO, HDR_SIZE - H_ZERO))
		return bad_dzb(err, "header padding");

	/* metadata */
	kind = get32(p + H_KIND);
	flags = get32(p + H_FLAGS);
	if (flags & ~(uint64_t)(F_PREV | F_BASE))
		return bad_dzb(err, "flags");
	memset(m, 0, sizeof *m);
	m->seq = get64(p + H_SEQ);
	m->since = get64(p + H_SINCE);
	m->kind = kind == DZ_BANK_FULL ? DZ_BANK_FULL :
	    kind == DZ_BANK_DELTA ? DZ_BANK_DELTA : 0;
	memcpy(m->digest, p + H_DIGEST, 32);
	m->has_prev = !!(flags & F_PREV);
	m->has_base = !!(flags & F_BASE);
	if (m->has_prev)
		memcpy(m->prev, p + H_PREV, 32);
	else if (!all_zero(p + H_PREV, 32))
		return bad_dzb(err, "prev");
	if (m->has_base)
		memcpy(m->base, p + H_BASE, 32);
	else if (!all_zero(p + H_BASE, 32))
		return bad_dzb(err, "base");
	if (padded(p + H_CREATED) < 0)
		return bad_dzb(err, "created");
	memcpy(m->created, p + H_CREATED, 32);
	if (padded(p + H_COLLAB) < 0)
		return bad_dzb(err, "collab");
	memcpy(m->collab, p + H_COLLAB, 32);
	if ((bad = bank_meta_bad(m)))
		return bad_dzb(err, bad);

	/* layout: fully determined by the counts and the index size */
	n = get64(p + H_N);
	t = get64(p + H_T);
	if (n > DZ_BANK_MAX_ENTRIES || n > len / 56)
		return bad_dzb(err, "entry count");
	if (t > MAX_TOMBS || t > len / sizeof(struct dz_bank_tomb))
		return bad_dzb(err, "withdrawal count");
	if (get64(p + H_INDEX_SIZE) > len ||
	    dzb_layout(n, t, get64(p + H_INDEX_SIZE), &L) < 0)
		return bad_dzb(err, "index size");
	if (get64(p + H_INDEX) != L.index)
		return bad_dzb(err, "index offset");
	if (L.index_size && (!n || L.index_size % SECTION))
		return bad_dzb(err, "index size");
	if (L.size != len)
		return bad_dzb(err, "sizes do not add up");
	if (!all_zero(p + L.pdq + 32 * n, L.id - (L.pdq + 32 * n)) ||
	    !all_zero(p + L.id + ID * n, L.attr - (L.id + ID * n)) ||
	    !all_zero(p + L.attr + 8 * n, L.tomb - (L.attr + 8 * n)) ||
	    !all_zero(p + L.tomb_end, (L.index_size ? L.index : L.size) -
	    L.tomb_end))
		return bad_dzb(err, "section padding");

	b->n = n;
	b->ntomb = t;
	b->pdq = (const struct dz_pdq *)(p + L.pdq);
	b->id = (const uint8_t (*)[ID])(p + L.id);
	b->attr = (const struct dz_bank_attr *)(p + L.attr);
	b->tomb = (const struct dz_bank_tomb *)(p + L.tomb);

	for (uint64_t i = 0; i < n; i++) {
		const struct dz_bank_attr *a = &b->attr[i];

		if (a->quality > 100 || !bank_valid_cat(a->category) ||
		    !bank_valid_signal(a->signal) || a->zero ||
		    a->added > MAX_DAY)
			return dz_err_set(err, EX_DATAERR,
			    "bad bank file: entry %" PRIu64 ": bad attributes",
			    i + 1);
		if (a->signal == DZ_BANK_MD5 &&
		    !all_zero((const uint8_t *)&b->pdq[i] + 16, 16))
			return dz_err_set(err, EX_DATAERR,
			    "bad bank file: entry %" PRIu64 ": bad MD5", i + 1);
		if (i && memcmp(b->id[i - 1], b->id[i], ID) >= 0 &&
		    !bank_same_frames(&b->attr[i - 1], a, b->id[i - 1],
		    b->id[i]))
			return dz_err_set(err, EX_DATAERR,
			    "bad bank file: entry %" PRIu64 ": %s", i + 1,
			    memcmp(b->id[i - 1], b->id[i], ID) ?
			    "ids not in ascending order" :
			    "duplicate entry id");
	}
	for (uint64_t i = 0; i < t; i++) {
		const struct dz_bank_tomb *w = &b->tomb[i];

		if (!bank_valid_cat(w->category) ||
		    !bank_valid_signal(w->signal) || w->zero[0] || w->zero[1] ||
		    w->withdrawn > MAX_DAY ||
		    (w->signal == DZ_BANK_MD5 &&
		    !all_zero((const uint8_t *)&w->pdq + 16, 16)))
			return dz_err_set(err, EX_DATAERR,
			    "bad bank file: withdrawal %" PRIu64
			    ": bad attributes", i + 1);
		if (i && memcmp(b->tomb[i - 1].id, w->id, ID) >= 0)
			return dz_err_set(err, EX_DATAERR,
			    "bad bank file: withdrawal %" PRIu64 ": %s", i + 1,
			    memcmp(b->tomb[i - 1].id, w->id, ID) ?
			    "ids not in ascending order" :
			    "duplicate withdrawal id");
	}
	if (bank_check_unique(b, err) < 0)
		return -1;
	if (L.index_size && !(b->priv->mih = dz_mih_view(p + L.index,
	    (size_t)L.index_size, b->pdq, (uint32_t)n, err)))
		return -1;
	return 0;
}
