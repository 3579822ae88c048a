/*
 * lib/bank: the partner hash bank; see bank.h for the model, the content
 * digest and the three file formats.
 *
 * A built bank keeps its three entry arrays and its tombstones on the
 * heap, grows them while adding, and sorts them by id in dz_bank_finish
 * (a radix sort of the ids' first 8 bytes, ties settled by the last 8,
 * then each array gathered into the new order). A loaded .dzb points its
 * arrays into the read-only mapping after checking every byte that is not
 * a hash; JSON Lines and CSV are parsed from a heap copy of the file
 * (kept for dz_bank_raw) into arrays sized once from the line count.
 *
 * Writing goes through one 64 KiB buffer, to a file descriptor or into
 * SHA-256 (the content digest is the same text path, so the digest never
 * needs the text in memory); the big .dzb arrays go straight to write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "bank/bank.h"
#include "core/err.h"
#include "core/fdio.h"
#include "core/hex.h"
#include "core/input.h"
#include "bank/mih.h"
#include "hash/pdq.h"
#include "core/record.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lib/bank reads its little-endian .dzb in place"
#endif

_Static_assert(sizeof(struct dz_pdq) == 32, "struct dz_pdq is 32 bytes");
_Static_assert(sizeof(struct dz_bank_attr) == 8, "struct dz_bank_attr");
_Static_assert(sizeof(struct dz_bank_tomb) == 56, "struct dz_bank_tomb");

#define ID DZ_BANK_ID_BYTES
#define HDR_SIZE 256
#define SECTION 64
#define OUT_BUF (64 * 1024)
#define LINE_MAX_BYTES 4096	/* longest JSON Lines or CSV line read */
#define MAX_DAY 2932896u	/* 9999-12-31 */
#define SEQ_MAX ((uint64_t)INT64_MAX)	/* JSON integers are signed */
#define MAX_TOMBS DZ_BANK_MAX_ENTRIES
/* No valid entry or withdrawal line (CSV or JSON Lines) is shorter. */
#define MIN_RECORD 120

/* .dzb header field offsets. */
enum {
	H_MAGIC = 0, H_VERSION = 8, H_HDRSIZE = 12, H_SIZE = 16, H_SEQ = 24,
	H_SINCE = 32, H_KIND = 40, H_FLAGS = 44, H_N = 48, H_T = 56,
	H_DIGEST = 64, H_PREV = 96, H_BASE = 128, H_CREATED = 160,
	H_COLLAB = 192, H_INDEX = 224, H_INDEX_SIZE = 232, H_ZERO = 240
};

#define F_PREV 0x1u
#define F_BASE 0x2u

static const unsigned char magic[8] = {
	0x89, 'D', 'Z', 'B', 'A', 'N', 'K', '\n'
};

static const char csv_header[] = "signal_type,signal_str,collab,category,tags";

static const char *const cat_names[] = {
	NULL, "adult_ncii", "minor", "other"
};

struct dz_bank_priv {
	/* owned arrays: a built bank, a JSON Lines or CSV file */
	struct dz_pdq *pdq;
	uint8_t (*id)[ID];
	struct dz_bank_attr *attr;
	size_t cap;
	struct dz_bank_tomb *tomb;
	size_t tcap;
	int ready;		/* sorted, digest known: no more adding */
	int has_meta;		/* meta is real (not yet for a bare CSV) */
	/* a loaded file */
	void *map;		/* .dzb mapping */
	size_t maplen;
	uint8_t *raw;		/* the heap copy */
	size_t rawlen;
	pthread_mutex_t lock;	/* building the index */
	struct dz_mih *mih;
};

/* ---------- small helpers ---------- */

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

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

/* The first or last 8 bytes of an id as a number that sorts like them. */
static uint64_t
be64(const uint8_t *p)
{
	return __builtin_bswap64(get64(p));
}

static uint64_t
section(uint64_t x)
{
	return (x + SECTION - 1) & ~(uint64_t)(SECTION - 1);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * 64 hex digits (either case, as dz_pdq_from_hex accepts) in s[0..len-1].
 * Digit 0 holds bits 255..252 (see dz_pdq_to_hex): word 3 is the first 16
 * digits read as a number, word 0 the last 16.
 */
static int
parse_pdq(const char *s, size_t len, struct dz_pdq *h)
{
	uint8_t b[32];

	if (dz_hex_decode(s, len, b, sizeof b, DZ_HEX_ANY))
		return -1;
	for (int w = 0; w < 4; w++)
		h->w[w] = be64(b + 8 * (3 - w));
	return 0;
}

/* Ids and digests: lower case hex only (bank.h). */
static int
parse_hex(const char *s, size_t len, uint8_t *b, size_t n)
{
	return dz_hex_decode(s, len, b, n, DZ_HEX_LOWER);
}

/* Decimal without sign or leading zeros, at most max. */
static int
parse_u64(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	if (x > max)
		return -1;
	*v = x;
	return 0;
}

static char *
put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *
put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static int
cat_parse(const char *s, size_t len)
{
	for (int c = 1; c <= DZ_BANK_CAT_OTHER; c++)
		if (strlen(cat_names[c]) == len &&
		    !memcmp(s, cat_names[c], len))
			return c;
	return -1;
}

static int
valid_cat(int c)
{
	return c >= DZ_BANK_CAT_ADULT_NCII && c <= DZ_BANK_CAT_OTHER;
}

/* Signals: their names in JSON Lines and the digest, and in CSV. */
static const char *const signal_names[] = { NULL, "pdq", "md5", "vpdq" };
static const char *const csv_signal_names[] = { NULL, "pdq", "video_md5",
	"vpdq" };

static int
valid_signal(int s)
{
	return s == DZ_BANK_PDQ || s == DZ_BANK_MD5 || s == DZ_BANK_VPDQ;
}

static int
signal_parse(const char *const *names, const char *s, size_t len)
{
	for (int i = 1; i <= DZ_BANK_VPDQ; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], s, len))
			return i;
	return -1;
}

/* Hex digits of a signal's value: an MD5 is 32, a PDQ 64. */
static size_t
value_digits(int signal)
{
	return signal == DZ_BANK_MD5 ? 32 : 64;
}

/* The value of a signal, in the 32 bytes of a struct dz_pdq: a PDQ as
 * its words, an MD5 as its 16 bytes then zeros. */
static int
parse_value(int signal, const char *s, size_t len, struct dz_pdq *v)
{
	if (signal != DZ_BANK_MD5)
		return parse_pdq(s, len, v);
	memset(v, 0, sizeof *v);
	return len == 32 ? parse_hex(s, 32, (uint8_t *)v, 16) : -1;
}

static char *
put_value(char *p, int signal, const struct dz_pdq *v)
{
	if (signal == DZ_BANK_MD5)
		return dz_hex_put(p, (const uint8_t *)v, 16);
	dz_pdq_to_hex(v, p);
	return p + 64;
}

/* ---------- days ---------- */

/* Howard Hinnant's days_from_civil / civil_from_days, for y >= 0. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, unsigned *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (unsigned)((int64_t)yoe + era * 400) + (*m <= 2);
}

static char *put_day(char *p, uint32_t day);

static int
digits(const char *s, int n, unsigned *v)
{
	unsigned x = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/* "YYYY-MM-DD" in s[0..9], 1970-01-01..9999-12-31. */
static int
parse_date(const char *s, uint32_t *day)
{
	static const unsigned char mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	unsigned y, m, d;

	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	*day = (uint32_t)days_from_civil(y, m, d);
	return 0;
}

static int
parse_date10(const char *s, size_t len, uint32_t *day)
{
	return len == 10 ? parse_date(s, day) : -1;
}

/* Exactly "YYYY-MM-DDTHH:MM:SSZ". */
static int
parse_time(const char *s, size_t len, uint32_t *day)
{
	unsigned hh, mm, ss;

	if (len != 20 || parse_date(s, day) || s[10] != 'T' ||
	    digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mm) ||
	    s[16] != ':' || digits(s + 17, 2, &ss) || s[19] != 'Z')
		return -1;
	return hh < 24 && mm < 60 && ss < 60 ? 0 : -1;
}

void
dz_bank_day_format(uint32_t day, char out[11])
{
	*put_day(out, day) = '\0';
}

/* Faster than snprintf for the millions of dates a bank writes. */
static char *
put_day(char *p, uint32_t day)
{
	unsigned y, m, d;

	if (day > MAX_DAY)
		day = MAX_DAY;
	civil_from_days(day, &y, &m, &d);
	p[0] = (char)('0' + y / 1000);
	p[1] = (char)('0' + y / 100 % 10);
	p[2] = (char)('0' + y / 10 % 10);
	p[3] = (char)('0' + y % 10);
	p[4] = '-';
	p[5] = (char)('0' + m / 10);
	p[6] = (char)('0' + m % 10);
	p[7] = '-';
	p[8] = (char)('0' + d / 10);
	p[9] = (char)('0' + d % 10);
	return p + 10;
}

int
dz_bank_day_parse(const char *s, uint32_t *day)
{
	uint32_t d;

	if (!s || strnlen(s, 11) != 10 || parse_date(s, &d))
		return -1;
	*day = d;
	return 0;
}

int
dz_bank_day_of(const char *rfc3339, uint32_t *day)
{
	uint32_t d;

	if (!rfc3339 || parse_time(rfc3339, strnlen(rfc3339, 21), &d))
		return -1;
	*day = d;
	return 0;
}

/* ---------- small conversions ---------- */

const char *
dz_bank_category_name(int category)
{
	return valid_cat(category) ? cat_names[category] : NULL;
}

int
dz_bank_category_parse(const char *s)
{
	return s ? cat_parse(s, strlen(s)) : -1;
}

void
dz_bank_id_hex(const uint8_t id[ID], char out[33])
{
	dz_hex_encode(out, id, ID);
}

int
dz_bank_id_parse(const char *hex, uint8_t id[ID])
{
	uint8_t tmp[ID];

	if (!hex || parse_hex(hex, strnlen(hex, 33), tmp, ID))
		return -1;
	memcpy(id, tmp, ID);
	return 0;
}

void
dz_bank_digest_hex(const uint8_t d[32], char out[65])
{
	dz_hex_encode(out, d, 32);
}

/* ---------- metadata ---------- */

static int
valid_collab(const char *s, size_t len)
{
	if (len < 1 || len > DZ_BANK_COLLAB_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * The first field of m that breaks the rules (see bank.h and
 * dz_bank_comment_parse), or NULL. The digest is not checked.
 */
static const char *
meta_bad(const struct dz_bank_meta *m)
{
	uint32_t day;
	size_t len;

	if (m->seq < 1 || m->seq > SEQ_MAX)
		return "seq";
	if (m->kind != DZ_BANK_FULL && m->kind != DZ_BANK_DELTA)
		return "kind";
	if (m->kind == DZ_BANK_FULL ? m->since != 0 :
	    m->since < 1 || m->since >= m->seq)
		return "since";
	if (!m->has_prev != (m->seq == 1))
		return "prev";
	if (!m->has_base != (m->kind == DZ_BANK_FULL))
		return "base";
	len = strnlen(m->created, sizeof m->created);
	if (len == sizeof m->created || parse_time(m->created, len, &day))
		return "created";
	len = strnlen(m->collab, sizeof m->collab);
	if (len == sizeof m->collab || !valid_collab(m->collab, len))
		return "collab";
	return NULL;
}

/* A canonical copy: flags 0/1, unused digests and padding zero. */
static void
meta_norm(struct dz_bank_meta *dst, const struct dz_bank_meta *src)
{
	struct dz_bank_meta m;

	memset(&m, 0, sizeof m);
	m.seq = src->seq;
	m.kind = src->kind;
	m.since = src->since;
	memcpy(m.digest, src->digest, 32);
	m.has_prev = !!src->has_prev;
	if (m.has_prev)
		memcpy(m.prev, src->prev, 32);
	m.has_base = !!src->has_base;
	if (m.has_base)
		memcpy(m.base, src->base, 32);
	memcpy(m.created, src->created,
	    strnlen(src->created, sizeof m.created - 1));
	memcpy(m.collab, src->collab,
	    strnlen(src->collab, sizeof m.collab - 1));
	*dst = m;
}

static const char *
kind_name(enum dz_bank_kind k)
{
	return k == DZ_BANK_DELTA ? "delta" : "full";
}

/* ---------- buffered output: a file descriptor or SHA-256 ---------- */

struct out {
	int fd;
	EVP_MD_CTX *md;		/* not NULL: into the digest instead */
	int failed;		/* errno of the failed write; -1 digest */
	size_t len;
	char buf[OUT_BUF];
};

static void
out_flush(struct out *o)
{
	if (o->len && !o->failed) {
		if (o->md) {
			if (!EVP_DigestUpdate(o->md, o->buf, o->len))
				o->failed = -1;
		} else if (dz_fd_write_full(o->fd, o->buf, o->len) < 0) {
			o->failed = errno ? errno : EIO;
		}
	}
	o->len = 0;
}

/* Room for need (<= OUT_BUF) bytes at the end of the buffer. */
static char *
out_room(struct out *o, size_t need)
{
	if (OUT_BUF - o->len < need)
		out_flush(o);
	return o->buf + o->len;
}

static void
out_done(struct out *o, const char *end)
{
	o->len = (size_t)(end - o->buf);
}

/* Bytes as they are: straight to the descriptor when there are many. */
static void
out_bytes(struct out *o, const void *p, size_t len)
{
	if (len <= OUT_BUF - o->len) {
		if (len)
			memcpy(o->buf + o->len, p, len);
		o->len += len;
		return;
	}
	out_flush(o);
	if (o->failed || !len)
		return;
	if (o->md) {
		if (!EVP_DigestUpdate(o->md, p, len))
			o->failed = -1;
	} else if (dz_fd_write_full(o->fd, p, len) < 0) {
		o->failed = errno ? errno : EIO;
	}
}

static void
out_zeros(struct out *o, size_t len)
{
	static const uint8_t zero[SECTION];

	while (len) {
		size_t k = len < sizeof zero ? len : sizeof zero;

		out_bytes(o, zero, k);
		len -= k;
	}
}

static struct out *
out_new(int fd, EVP_MD_CTX *md, struct dz_err *err)
{
	struct out *o = malloc(sizeof *o);

	if (!o) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	o->fd = fd;
	o->md = md;
	o->failed = 0;
	o->len = 0;
	return o;
}

/* Flush and free o: 0, or -1 with err. */
static int
out_close(struct out *o, struct dz_err *err)
{
	int failed;

	out_flush(o);
	failed = o->failed;
	free(o);
	if (failed == -1)
		return dz_err_set(err, EX_SOFTWARE, "digest failed");
	if (failed)
		return dz_err_set(err, EX_IOERR, "write error: %s",
		    strerror(failed));
	return 0;
}

/* ---------- the bank object ---------- */

static struct dz_bank *
bank_alloc(struct dz_err *err)
{
	struct dz_bank *b = calloc(1, sizeof *b);

	if (!b || !(b->priv = calloc(1, sizeof *b->priv))) {
		free(b);
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&b->priv->lock, NULL)) {
		free(b->priv);
		free(b);
		dz_err_set(err, EX_SOFTWARE, "cannot create a mutex");
		return NULL;
	}
	return b;
}

/* Point the public arrays at the owned ones. */
static void
bank_expose(struct dz_bank *b)
{
	struct dz_bank_priv *p = b->priv;

	b->pdq = p->pdq;
	b->id = (const uint8_t (*)[ID])p->id;
	b->attr = p->attr;
	b->tomb = p->tomb;
}

void
dz_bank_free(struct dz_bank *b)
{
	struct dz_bank_priv *p;

	if (!b)
		return;
	if ((p = b->priv)) {
		dz_mih_free(p->mih);
		free(p->pdq);
		free(p->id);
		free(p->attr);
		free(p->tomb);
		if (p->map)
			munmap(p->map, p->maplen);
		free(p->raw);
		pthread_mutex_destroy(&p->lock);
		free(p);
	}
	free(b);
}

struct dz_bank *
dz_bank_new(const struct dz_bank_meta *meta, struct dz_err *err)
{
	struct dz_bank *b;
	const char *bad;

	if (!meta) {
		dz_err_set(err, EX_SOFTWARE, "dz_bank_new: bad arguments");
		return NULL;
	}
	if ((bad = meta_bad(meta))) {
		dz_err_set(err, EX_DATAERR, "malformed bank metadata: %s", bad);
		return NULL;
	}
	if (!(b = bank_alloc(err)))
		return NULL;
	meta_norm(&b->meta, meta);
	memset(b->meta.digest, 0, 32);
	b->priv->has_meta = 1;
	return b;
}

/* Make room for one more entry. */
static int
grow_entries(struct dz_bank_priv *p, size_t n)
{
	size_t cap;
	void *q;

	if (n < p->cap)
		return 0;
	cap = p->cap ? p->cap * 2 : 1024;
	if (cap > DZ_BANK_MAX_ENTRIES)
		cap = DZ_BANK_MAX_ENTRIES;
	if (!(q = realloc(p->pdq, cap * sizeof *p->pdq)))
		return -1;
	p->pdq = q;
	if (!(q = realloc(p->id, cap * sizeof *p->id)))
		return -1;
	p->id = q;
	if (!(q = realloc(p->attr, cap * sizeof *p->attr)))
		return -1;
	p->attr = q;
	p->cap = cap;
	return 0;
}

static int
grow_tombs(struct dz_bank_priv *p, size_t t)
{
	size_t cap;
	void *q;

	if (t < p->tcap)
		return 0;
	cap = p->tcap ? p->tcap * 2 : 64;
	if (cap > MAX_TOMBS)
		cap = MAX_TOMBS;
	if (!(q = realloc(p->tomb, cap * sizeof *p->tomb)))
		return -1;
	p->tomb = q;
	p->tcap = cap;
	return 0;
}

int
dz_bank_add(struct dz_bank *b, const uint8_t id[ID], const struct dz_pdq *pdq,
    int quality, int category, uint32_t added, struct dz_err *err)
{
	return dz_bank_add_signal(b, id, DZ_BANK_PDQ, pdq, quality, category,
	    added, err);
}

int
dz_bank_add_signal(struct dz_bank *b, const uint8_t id[ID], int signal,
    const struct dz_pdq *pdq, int quality, int category, uint32_t added,
    struct dz_err *err)
{
	struct dz_bank_priv *p;
	struct dz_bank_attr *a;

	if (!b || !id || !pdq)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_add: bad arguments");
	p = b->priv;
	if (p->ready)
		return dz_err_set(err, EX_SOFTWARE, "bank already finished");
	if (quality < 0 || quality > 100)
		return dz_err_set(err, EX_DATAERR, "bad quality");
	if (!valid_cat(category))
		return dz_err_set(err, EX_DATAERR, "unknown category");
	if (!valid_signal(signal) ||
	    (signal == DZ_BANK_MD5 && !all_zero((const uint8_t *)pdq + 16, 16)))
		return dz_err_set(err, EX_DATAERR, "unknown signal");
	if (added > MAX_DAY)
		return dz_err_set(err, EX_DATAERR, "bad date");
	if (b->n >= DZ_BANK_MAX_ENTRIES)
		return dz_err_set(err, EX_DATAERR, "too many entries");
	if (grow_entries(p, b->n) < 0) {
		bank_expose(b);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	p->pdq[b->n] = *pdq;
	memcpy(p->id[b->n], id, ID);
	a = &p->attr[b->n];
	memset(a, 0, sizeof *a);
	a->quality = (uint8_t)quality;
	a->category = (uint8_t)category;
	a->signal = (uint8_t)signal;
	a->added = added;
	b->n++;
	bank_expose(b);
	return 0;
}

int
dz_bank_add_tomb(struct dz_bank *b, const uint8_t id[ID],
    const struct dz_pdq *pdq, int category, uint32_t withdrawn,
    struct dz_err *err)
{
	return dz_bank_add_tomb_signal(b, id, DZ_BANK_PDQ, pdq, category,
	    withdrawn, err);
}

int
dz_bank_add_tomb_signal(struct dz_bank *b, const uint8_t id[ID], int signal,
    const struct dz_pdq *pdq, int category, uint32_t withdrawn,
    struct dz_err *err)
{
	struct dz_bank_priv *p;
	struct dz_bank_tomb *t;

	if (!b || !id || !pdq)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_add_tomb: bad arguments");
	p = b->priv;
	if (p->ready)
		return dz_err_set(err, EX_SOFTWARE, "bank already finished");
	if (!valid_cat(category))
		return dz_err_set(err, EX_DATAERR, "unknown category");
	if (!valid_signal(signal) ||
	    (signal == DZ_BANK_MD5 && !all_zero((const uint8_t *)pdq + 16, 16)))
		return dz_err_set(err, EX_DATAERR, "unknown signal");
	if (withdrawn > MAX_DAY)
		return dz_err_set(err, EX_DATAERR, "bad date");
	if (b->ntomb >= MAX_TOMBS)
		return dz_err_set(err, EX_DATAERR, "too many withdrawals");
	if (grow_tombs(p, b->ntomb) < 0) {
		bank_expose(b);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	t = &p->tomb[b->ntomb];
	memset(t, 0, sizeof *t);
	memcpy(t->id, id, ID);
	t->pdq = *pdq;
	t->category = (uint8_t)category;
	t->signal = (uint8_t)signal;
	t->withdrawn = withdrawn;
	b->ntomb++;
	bank_expose(b);
	return 0;
}

/* ---------- sorting by id ---------- */

struct skey {
	uint64_t k;		/* 8 bytes of the id, big-endian */
	uint64_t i;		/* index before sorting */
};

static void
insertion_sort(struct skey *k, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct skey x = k[i];
		size_t j = i;

		while (j > 0 && k[j - 1].k > x.k) {
			k[j] = k[j - 1];
			j--;
		}
		k[j] = x;
	}
}

/* Sort k[0..n-1] by .k (stable), with tmp[n] and cnt[65536]. */
static void
radix_sort(struct skey *k, struct skey *tmp, size_t n, size_t *cnt)
{
	if (n < 64) {
		insertion_sort(k, n);
		return;
	}
	for (int shift = 0; shift < 64; shift += 16) {
		size_t sum = 0;
		int one = 0;

		memset(cnt, 0, 65536 * sizeof *cnt);
		for (size_t i = 0; i < n; i++)
			cnt[(k[i].k >> shift) & 0xffff]++;
		for (size_t d = 0; d < 65536; d++) {
			size_t c = cnt[d];

			if (c == n)
				one = 1;
			cnt[d] = sum;
			sum += c;
		}
		if (one)
			continue;	/* every key has this digit */
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(k[i].k >> shift) & 0xffff]++] = k[i];
		memcpy(k, tmp, n * sizeof *k);
	}
}

/*
 * The order of the n ids at base + i * stride, ascending by bytes:
 * result[j].i is the index of the j-th smallest. NULL: out of memory.
 * Equal ids stay in their input order (the caller rejects them).
 */
static struct skey *
sort_ids(const uint8_t *base, size_t stride, size_t n)
{
	struct skey *k, *tmp;
	size_t *cnt;

	k = malloc((n ? n : 1) * sizeof *k);
	tmp = malloc((n ? n : 1) * sizeof *tmp);
	cnt = malloc(65536 * sizeof *cnt);
	if (!k || !tmp || !cnt) {
		free(k);
		free(tmp);
		free(cnt);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		k[i].k = be64(base + i * stride);
		k[i].i = i;
	}
	radix_sort(k, tmp, n, cnt);
	/* ties on the first 8 bytes: sort each run by the last 8 */
	for (size_t a = 0, e; a < n; a = e) {
		for (e = a + 1; e < n && k[e].k == k[a].k; e++)
			;
		if (e - a < 2)
			continue;
		for (size_t j = a; j < e; j++)
			k[j].k = be64(base + k[j].i * stride + 8);
		radix_sort(k + a, tmp, e - a, cnt);
	}
	free(tmp);
	free(cnt);
	return k;
}

/* Are the n ids at base + i * stride in order already (ties allowed)? */
static int
in_order(const uint8_t *base, size_t stride, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(base + (i - 1) * stride, base + i * stride, ID) > 0)
			return 0;
	return 1;
}

/* Put the owned entries and tombstones in id order. -1: out of memory. */
static int
sort_bank(struct dz_bank *b)
{
	struct dz_bank_priv *p = b->priv;
	struct skey *k;
	size_t n = (size_t)b->n, t = (size_t)b->ntomb;

	if (n > 1 && !in_order(p->id[0], ID, n)) {
		struct dz_pdq *pdq;
		uint8_t (*id)[ID];
		struct dz_bank_attr *attr;

		if (!(k = sort_ids(p->id[0], ID, n)))
			return -1;
		if (!(pdq = malloc(n * sizeof *pdq))) {
			free(k);
			return -1;
		}
		for (size_t j = 0; j < n; j++)
			pdq[j] = p->pdq[k[j].i];
		free(p->pdq);
		p->pdq = pdq;
		if (!(id = malloc(n * sizeof *id))) {
			free(k);
			return -1;
		}
		for (size_t j = 0; j < n; j++)
			memcpy(id[j], p->id[k[j].i], ID);
		free(p->id);
		p->id = id;
		if (!(attr = malloc(n * sizeof *attr))) {
			free(k);
			return -1;
		}
		for (size_t j = 0; j < n; j++)
			attr[j] = p->attr[k[j].i];
		free(p->attr);
		p->attr = attr;
		p->cap = n;
		free(k);
	}
	if (t > 1 && !in_order(p->tomb[0].id, sizeof *p->tomb, t)) {
		struct dz_bank_tomb *tomb;

		if (!(k = sort_ids(p->tomb[0].id, sizeof *p->tomb, t)))
			return -1;
		if (!(tomb = malloc(t * sizeof *tomb))) {
			free(k);
			return -1;
		}
		for (size_t j = 0; j < t; j++)
			tomb[j] = p->tomb[k[j].i];
		free(p->tomb);
		p->tomb = tomb;
		p->tcap = t;
		free(k);
	}
	bank_expose(b);
	return 0;
}

/* Are rows x (id xi) then y (id yi) two frames of one video? */
static int
same_frames(const struct dz_bank_attr *x, const struct dz_bank_attr *y,
    const uint8_t xi[ID], const uint8_t yi[ID])
{
	return x->signal == DZ_BANK_VPDQ && y->signal == DZ_BANK_VPDQ &&
	    x->category == y->category && x->added == y->added &&
	    !memcmp(xi, yi, ID);
}

/*
 * Sorted ids: no id twice among the entries, among the tombstones, or in
 * both. 0, or -1 with EX_DATAERR. what: "duplicate entry id" or the like.
 */
static int
check_unique(const struct dz_bank *b, struct dz_err *err)
{
	uint64_t i, j;

	for (i = 1; i < b->n; i++) {
		if (memcmp(b->id[i - 1], b->id[i], ID) >= 0 &&
		    !same_frames(&b->attr[i - 1], &b->attr[i], b->id[i - 1],
		    b->id[i]))
			return dz_err_set(err, EX_DATAERR,
			    "duplicate entry id");
	}
	for (i = 1; i < b->ntomb; i++)
		if (memcmp(b->tomb[i - 1].id, b->tomb[i].id, ID) >= 0)
			return dz_err_set(err, EX_DATAERR,
			    "duplicate withdrawal id");
	for (i = j = 0; i < b->n && j < b->ntomb;) {
		int c = memcmp(b->id[i], b->tomb[j].id, ID);

		if (!c)
			return dz_err_set(err, EX_DATAERR,
			    "duplicate entry id: entry %" PRIu64
			    " is also withdrawal %" PRIu64, i + 1, j + 1);
		if (c < 0)
			i++;
		else
			j++;
	}
	return 0;
}

/* ---------- the canonical text and its digest ---------- */

/* "seq=N kind=K since=S prev=HEX|- base=HEX|- created=C" */
static char *
put_meta_line(char *p, const struct dz_bank_meta *m)
{
	p = put_str(p, "seq=");
	p = put_u64(p, m->seq);
	p = put_str(p, " kind=");
	p = put_str(p, kind_name(m->kind));
	p = put_str(p, " since=");
	p = put_u64(p, m->since);
	p = put_str(p, " prev=");
	p = m->has_prev ? dz_hex_put(p, m->prev, 32) : put_str(p, "-");
	p = put_str(p, " base=");
	p = m->has_base ? dz_hex_put(p, m->base, 32) : put_str(p, "-");
	p = put_str(p, " created=");
	return put_str(p, m->created);
}

static int
compute_digest(const struct dz_bank *b, uint8_t digest[32],
    struct dz_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct out *o;
	unsigned int len = 0;
	char *p;
	int rc;

	if (!md)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return dz_err_set(err, EX_SOFTWARE, "digest failed");
	}
	if (!(o = out_new(-1, md, err))) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	p = out_room(o, 512);
	p = put_str(p, "disrupt-bank-v1\n");
	p = put_meta_line(p, &b->meta);
	*p++ = '\n';
	out_done(o, p);
	for (uint64_t i = 0; i < b->n; i++) {
		const struct dz_bank_attr *a = &b->attr[i];

		p = out_room(o, 256);
		*p++ = '+';
		*p++ = ' ';
		p = dz_hex_put(p, b->id[i], ID);
		*p++ = ' ';
		p = put_str(p, signal_names[a->signal]);
		*p++ = ' ';
		p = put_value(p, a->signal, &b->pdq[i]);
		*p++ = ' ';
		p = put_u64(p, a->quality);
		*p++ = ' ';
		p = put_str(p, cat_names[a->category]);
		*p++ = ' ';
		p = put_day(p, a->added);
		*p++ = '\n';
		out_done(o, p);
	}
	for (uint64_t i = 0; i < b->ntomb; i++) {
		const struct dz_bank_tomb *t = &b->tomb[i];

		p = out_room(o, 256);
		*p++ = '-';
		*p++ = ' ';
		p = dz_hex_put(p, t->id, ID);
		*p++ = ' ';
		p = put_str(p, signal_names[t->signal]);
		*p++ = ' ';
		p = put_value(p, t->signal, &t->pdq);
		*p++ = ' ';
		p = put_str(p, cat_names[t->category]);
		*p++ = ' ';
		p = put_day(p, t->withdrawn);
		*p++ = '\n';
		out_done(o, p);
	}
	rc = out_close(o, err);
	if (!rc && (!EVP_DigestFinal_ex(md, digest, &len) || len != 32))
		rc = dz_err_set(err, EX_SOFTWARE, "digest failed");
	EVP_MD_CTX_free(md);
	return rc;
}

int
dz_bank_finish(struct dz_bank *b, struct dz_err *err)
{
	if (!b)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_finish: bad arguments");
	if (b->priv->ready)
		return dz_err_set(err, EX_SOFTWARE, "bank already finished");
	if (sort_bank(b) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (check_unique(b, err) < 0)
		return -1;
	if (compute_digest(b, b->meta.digest, err) < 0)
		return -1;
	b->priv->ready = 1;
	return 0;
}

/* ---------- writing ---------- */

static char *
put_jstr(char *p, const char *key, const char *val)
{
	*p++ = ',';
	*p++ = '"';
	p = put_str(p, key);
	p = put_str(p, "\":\"");
	p = put_str(p, val);
	*p++ = '"';
	return p;
}

static char *
put_jnum(char *p, const char *key, uint64_t v)
{
	*p++ = ',';
	*p++ = '"';
	p = put_str(p, key);
	*p++ = '"';
	*p++ = ':';
	return put_u64(p, v);
}

static char *
put_jhex(char *p, const char *key, const uint8_t *d, int present)
{
	*p++ = ',';
	*p++ = '"';
	p = put_str(p, key);
	*p++ = '"';
	*p++ = ':';
	if (!present)
		return put_str(p, "null");
	*p++ = '"';
	p = dz_hex_put(p, d, 32);
	*p++ = '"';
	return p;
}

static void
write_jsonl(const struct dz_bank *b, struct out *o)
{
	const struct dz_bank_meta *m = &b->meta;
	char *p = out_room(o, 1024);

	p = put_str(p, "{\"type\":\"bank\"");
	p = put_jnum(p, "version", DZ_BANK_VERSION);
	p = put_jnum(p, "seq", m->seq);
	p = put_jstr(p, "kind", kind_name(m->kind));
	p = put_jnum(p, "since", m->since);
	p = put_jhex(p, "digest", m->digest, 1);
	p = put_jhex(p, "prev", m->prev, m->has_prev);
	p = put_jhex(p, "base", m->base, m->has_base);
	p = put_jstr(p, "created", m->created);
	p = put_jstr(p, "collab", m->collab);
	p = put_jnum(p, "entries", b->n);
	p = put_jnum(p, "withdrawals", b->ntomb);
	p = put_str(p, "}\n");
	out_done(o, p);
	for (uint64_t i = 0; i < b->n; i++) {
		const struct dz_bank_attr *a = &b->attr[i];

		p = out_room(o, 256);
		p = put_str(p, "{\"type\":\"entry\",\"id\":\"");
		p = dz_hex_put(p, b->id[i], ID);
		p = put_str(p, "\",\"signal\":\"");
		p = put_str(p, signal_names[a->signal]);
		p = put_str(p, "\",\"value\":\"");
		p = put_value(p, a->signal, &b->pdq[i]);
		p = put_str(p, "\",\"quality\":");
		p = put_u64(p, a->quality);
		p = put_str(p, ",\"category\":\"");
		p = put_str(p, cat_names[a->category]);
		p = put_str(p, "\",\"added\":\"");
		p = put_day(p, a->added);
		p = put_str(p, "\"}\n");
		out_done(o, p);
	}
	for (uint64_t i = 0; i < b->ntomb; i++) {
		const struct dz_bank_tomb *t = &b->tomb[i];

		p = out_room(o, 256);
		p = put_str(p, "{\"type\":\"withdrawal\",\"id\":\"");
		p = dz_hex_put(p, t->id, ID);
		p = put_str(p, "\",\"signal\":\"");
		p = put_str(p, signal_names[t->signal]);
		p = put_str(p, "\",\"value\":\"");
		p = put_value(p, t->signal, &t->pdq);
		p = put_str(p, "\",\"category\":\"");
		p = put_str(p, cat_names[t->category]);
		p = put_str(p, "\",\"withdrawn\":\"");
		p = put_day(p, t->withdrawn);
		p = put_str(p, "\"}\n");
		out_done(o, p);
	}
}

static void
write_csv(const struct dz_bank *b, struct out *o)
{
	const char *collab = b->meta.collab;
	char *p = out_room(o, 64);

	p = put_str(p, csv_header);
	*p++ = '\n';
	out_done(o, p);
	for (uint64_t i = 0; i < b->n; i++) {
		const struct dz_bank_attr *a = &b->attr[i];

		p = out_room(o, 256);
		p = put_str(p, csv_signal_names[a->signal]);
		*p++ = ',';
		p = put_value(p, a->signal, &b->pdq[i]);
		*p++ = ',';
		p = put_str(p, collab);
		*p++ = ',';
		p = put_str(p, "POSITIVE_CLASS,");
		p = put_str(p, cat_names[a->category]);
		p = put_str(p, " dz:id=");
		p = dz_hex_put(p, b->id[i], ID);
		p = put_str(p, " dz:quality=");
		p = put_u64(p, a->quality);
		p = put_str(p, " dz:added=");
		p = put_day(p, a->added);
		*p++ = '\n';
		out_done(o, p);
	}
	for (uint64_t i = 0; i < b->ntomb; i++) {
		const struct dz_bank_tomb *t = &b->tomb[i];

		p = out_room(o, 256);
		p = put_str(p, csv_signal_names[t->signal]);
		*p++ = ',';
		p = put_value(p, t->signal, &t->pdq);
		*p++ = ',';
		p = put_str(p, collab);
		*p++ = ',';
		p = put_str(p, "NEGATIVE_CLASS,");
		p = put_str(p, cat_names[t->category]);
		p = put_str(p, " dz:id=");
		p = dz_hex_put(p, t->id, ID);
		p = put_str(p, " dz:withdrawn=");
		p = put_day(p, t->withdrawn);
		*p++ = '\n';
		out_done(o, p);
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
	memcpy(h + H_MAGIC, magic, sizeof magic);
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

static int
write_dzb(const struct dz_bank *b, struct out *o, struct dz_err *err)
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
	out_bytes(o, h, sizeof h);
	out_bytes(o, b->pdq, 32 * n);
	out_zeros(o, L.id - (L.pdq + 32 * n));
	out_bytes(o, b->id, ID * n);
	out_zeros(o, L.attr - (L.id + ID * n));
	out_bytes(o, b->attr, sizeof *b->attr * n);
	out_zeros(o, L.tomb - (L.attr + sizeof *b->attr * n));
	out_bytes(o, b->tomb, sizeof *b->tomb * t);
	if (img_len) {
		out_zeros(o, L.index - L.tomb_end);
		out_bytes(o, img, img_len);
		out_zeros(o, L.size - (L.index + img_len));
	} else {
		out_zeros(o, L.size - L.tomb_end);
	}
	dz_mih_free(built);
	return 0;
}

int
dz_bank_write(const struct dz_bank *b, enum dz_bank_format f, int fd,
    struct dz_err *err)
{
	struct out *o;
	int rc = 0;

	if (!b || fd < 0 || (f != DZ_BANK_JSONL && f != DZ_BANK_CSV &&
	    f != DZ_BANK_DZB))
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_write: bad arguments");
	if (!b->priv->ready)
		return dz_err_set(err, EX_SOFTWARE, "bank not finished");
	if (f != DZ_BANK_CSV && !b->priv->has_meta)
		return dz_err_set(err, EX_SOFTWARE, "bank has no metadata");
	if (f == DZ_BANK_CSV && (b->n || b->ntomb) &&
	    !valid_collab(b->meta.collab, strnlen(b->meta.collab, 32)))
		return dz_err_set(err, EX_SOFTWARE, "bank has no collab");
	if (!(o = out_new(fd, NULL, err)))
		return -1;
	if (f == DZ_BANK_JSONL)
		write_jsonl(b, o);
	else if (f == DZ_BANK_CSV)
		write_csv(b, o);
	else
		rc = write_dzb(b, o, err);
	if (rc < 0) {
		free(o);
		return -1;
	}
	return out_close(o, err);
}

/* ---------- loading a .dzb ---------- */

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

static int
dzb_parse(struct dz_bank *b, const uint8_t *p, size_t len, struct dz_err *err)
{
	struct dz_bank_meta *m = &b->meta;
	uint64_t n, t, size, flags, kind;
	struct layout L;
	const char *bad;

	if (len < HDR_SIZE)
		return dz_err_set(err, EX_DATAERR, len >= sizeof magic &&
		    memcmp(p, magic, sizeof magic) ? "not a bank file" :
		    "truncated bank file");
	if (memcmp(p + H_MAGIC, magic, sizeof magic))
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
	if ((bad = meta_bad(m)))
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

		if (a->quality > 100 || !valid_cat(a->category) ||
		    !valid_signal(a->signal) || a->zero || a->added > MAX_DAY)
			return dz_err_set(err, EX_DATAERR,
			    "bad bank file: entry %" PRIu64 ": bad attributes",
			    i + 1);
		if (a->signal == DZ_BANK_MD5 &&
		    !all_zero((const uint8_t *)&b->pdq[i] + 16, 16))
			return dz_err_set(err, EX_DATAERR,
			    "bad bank file: entry %" PRIu64 ": bad MD5", i + 1);
		if (i && memcmp(b->id[i - 1], b->id[i], ID) >= 0 &&
		    !same_frames(&b->attr[i - 1], a, b->id[i - 1], b->id[i]))
			return dz_err_set(err, EX_DATAERR,
			    "bad bank file: entry %" PRIu64 ": %s", i + 1,
			    memcmp(b->id[i - 1], b->id[i], ID) ?
			    "ids not in ascending order" :
			    "duplicate entry id");
	}
	for (uint64_t i = 0; i < t; i++) {
		const struct dz_bank_tomb *w = &b->tomb[i];

		if (!valid_cat(w->category) || !valid_signal(w->signal) ||
		    w->zero[0] || w->zero[1] || w->withdrawn > MAX_DAY ||
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
	if (check_unique(b, err) < 0)
		return -1;
	if (L.index_size && !(b->priv->mih = dz_mih_view(p + L.index,
	    (size_t)L.index_size, b->pdq, (uint32_t)n, err)))
		return -1;
	return 0;
}

/* ---------- loading JSON Lines ---------- */

enum { R_ENTRY = 1, R_TOMB = 2 };

struct rec {
	int type;
	int signal;
	uint8_t id[ID];
	struct dz_pdq pdq;
	int quality, category;
	uint32_t day;
};

/* Match the literal s at *p (end e); advance. */
static int
lit(const char **p, const char *e, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(e - *p) < n || memcmp(*p, s, n))
		return 0;
	*p += n;
	return 1;
}

/* A string's characters up to the closing quote (no escapes): [*p, q). */
static int
plain(const char **p, const char *e, const char **s, size_t *len)
{
	const char *q = *p;

	while (q < e && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20 &&
	    (unsigned char)*q < 0x80)
		q++;
	if (q == e || *q != '"')
		return 0;
	*s = *p;
	*len = (size_t)(q - *p);
	*p = q + 1;
	return 1;
}

/*
 * A string of exactly n characters at *p, then its closing quote: [s, s+n).
 * The caller checks the characters (hex digits or a date: no quote, no
 * backslash, nothing to unescape).
 */
static int
fixed(const char **p, const char *e, size_t n, const char **s)
{
	if ((size_t)(e - *p) <= n || (*p)[n] != '"')
		return 0;
	*s = *p;
	*p += n + 1;
	return 1;
}

/*
 * The line exactly as dz_bank_write writes it, valid: 1 and r filled.
 * Anything else (0) goes to the general parser, which accepts the same
 * records in any JSON spelling and says what is wrong.
 */
static int
fast_record(const char *p, size_t len, struct rec *r)
{
	const char *e = p + len, *s;
	size_t n;
	uint64_t q;

	if (lit(&p, e, "{\"type\":\"entry\",\"id\":\""))
		r->type = R_ENTRY;
	else if (lit(&p, e, "{\"type\":\"withdrawal\",\"id\":\""))
		r->type = R_TOMB;
	else
		return 0;
	if (!fixed(&p, e, 2 * ID, &s) || parse_hex(s, 2 * ID, r->id, ID) ||
	    !lit(&p, e, ",\"signal\":\"") || !plain(&p, e, &s, &n) ||
	    (r->signal = signal_parse(signal_names, s, n)) < 0 ||
	    !lit(&p, e, ",\"value\":\"") ||
	    !fixed(&p, e, value_digits(r->signal), &s) ||
	    parse_value(r->signal, s, value_digits(r->signal), &r->pdq))
		return 0;
	if (r->type == R_ENTRY) {
		if (!lit(&p, e, ",\"quality\":"))
			return 0;
		for (s = p; p < e && *p >= '0' && *p <= '9'; p++)
			;
		if (parse_u64(s, (size_t)(p - s), 100, &q))
			return 0;
		r->quality = (int)q;
	}
	if (!lit(&p, e, ",\"category\":\"") || !plain(&p, e, &s, &n) ||
	    (r->category = cat_parse(s, n)) < 0)
		return 0;
	if (!lit(&p, e, r->type == R_ENTRY ? ",\"added\":\"" :
	    ",\"withdrawn\":\"") || !fixed(&p, e, 10, &s) ||
	    parse_date(s, &r->day) || !lit(&p, e, "}"))
		return 0;
	return p == e;
}

/* obj[key] as a string: its bytes, or NULL. */
static const char *
jstr(json_t *obj, const char *key, size_t *len)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

/* obj[key] as a non-negative integer up to max. */
static int
juint(json_t *obj, const char *key, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
line_err(struct dz_err *err, size_t line, const char *why)
{
	return dz_err_set(err, EX_DATAERR, "line %zu: %s", line, why);
}

/* The general parser for an entry or withdrawal line. */
static int
slow_record(const char *line, size_t len, size_t lineno, struct rec *r,
    struct dz_err *err)
{
	json_t *o;
	const char *s;
	size_t n;
	uint64_t q;
	int rc = -1;

	if (!(o = dz_record_parse(line, len, err))) {
		if (err && err->code == EX_DATAERR) {
			char why[DZ_ERR_MAX];

			snprintf(why, sizeof why, "%s", err->msg);
			return line_err(err, lineno, why);
		}
		return -1;
	}
	if (!(s = jstr(o, "type", &n))) {
		line_err(err, lineno, "missing record type");
		goto out;
	}
	if (n == 5 && !memcmp(s, "entry", 5)) {
		r->type = R_ENTRY;
	} else if (n == 10 && !memcmp(s, "withdrawal", 10)) {
		r->type = R_TOMB;
	} else if (n == 4 && !memcmp(s, "bank", 4)) {
		line_err(err, lineno, "more than one bank line");
		goto out;
	} else {
		line_err(err, lineno, "unknown record type");
		goto out;
	}
	if (!(s = jstr(o, "id", &n)) || parse_hex(s, n, r->id, ID)) {
		line_err(err, lineno, "bad id");
		goto out;
	}
	if (!(s = jstr(o, "signal", &n)) ||
	    (r->signal = signal_parse(signal_names, s, n)) < 0) {
		line_err(err, lineno, "unsupported signal type");
		goto out;
	}
	if (!(s = jstr(o, "value", &n)) || parse_value(r->signal, s, n,
	    &r->pdq)) {
		line_err(err, lineno, r->signal == DZ_BANK_MD5 ? "bad MD5" :
		    "bad PDQ hash");
		goto out;
	}
	if (r->type == R_ENTRY) {
		if (juint(o, "quality", 100, &q)) {
			line_err(err, lineno, "bad quality");
			goto out;
		}
		r->quality = (int)q;
	}
	if (!(s = jstr(o, "category", &n)) ||
	    (r->category = cat_parse(s, n)) < 0) {
		line_err(err, lineno, "unknown category");
		goto out;
	}
	if (!(s = jstr(o, r->type == R_ENTRY ? "added" : "withdrawn", &n)) ||
	    n != 10 || parse_date(s, &r->day)) {
		line_err(err, lineno, "bad date");
		goto out;
	}
	if (json_object_size(o) != (r->type == R_ENTRY ? 7u : 6u)) {
		line_err(err, lineno, "unknown field");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* obj[key]: null (0), 64 lowercase hex digits (1, d filled), else -1. */
static int
jdigest(json_t *obj, const char *key, uint8_t d[32])
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t n;

	if (json_is_null(v))
		return 0;
	if (!(s = jstr(obj, key, &n)) || parse_hex(s, n, d, 32))
		return -1;
	return 1;
}

/* obj[key]: a string of fewer than size bytes, copied to out. */
static int
jtext(json_t *obj, const char *key, char *out, size_t size)
{
	const char *s;
	size_t n;

	if (!(s = jstr(obj, key, &n)) || n >= size || strlen(s) != n)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* The first line's fields: the first one wrong, or NULL. */
static const char *
bank_fields(json_t *o, struct dz_bank_meta *m, uint64_t *nent,
    uint64_t *ntomb)
{
	const char *s;
	size_t n;
	uint64_t x;
	int has;

	if (!(s = jstr(o, "type", &n)) || n != 4 || memcmp(s, "bank", 4))
		return "not a bank line";
	if (juint(o, "version", UINT32_MAX, &x) || x != DZ_BANK_VERSION)
		return "bank version not supported";
	if (juint(o, "seq", SEQ_MAX, &m->seq))
		return "bad seq";
	if (!(s = jstr(o, "kind", &n)))
		return "bad kind";
	if (n == 4 && !memcmp(s, "full", 4))
		m->kind = DZ_BANK_FULL;
	else if (n == 5 && !memcmp(s, "delta", 5))
		m->kind = DZ_BANK_DELTA;
	else
		return "bad kind";
	if (juint(o, "since", SEQ_MAX, &m->since))
		return "bad since";
	if (jdigest(o, "digest", m->digest) != 1)
		return "bad digest";
	if ((has = jdigest(o, "prev", m->prev)) < 0)
		return "bad prev";
	m->has_prev = has;
	if ((has = jdigest(o, "base", m->base)) < 0)
		return "bad base";
	m->has_base = has;
	if (jtext(o, "created", m->created, sizeof m->created))
		return "bad created";
	if (jtext(o, "collab", m->collab, sizeof m->collab))
		return "bad collab";
	if (juint(o, "entries", DZ_BANK_MAX_ENTRIES, nent))
		return "bad entries";
	if (juint(o, "withdrawals", MAX_TOMBS, ntomb))
		return "bad withdrawals";
	if (json_object_size(o) != 12)
		return "unknown field";
	return NULL;
}

/* The bank line: b->meta and the counts. */
static int
bank_line(struct dz_bank *b, const char *line, size_t len, uint64_t *nent,
    uint64_t *ntomb, struct dz_err *err)
{
	struct dz_bank_meta *m = &b->meta;
	const char *bad;
	json_t *o;

	if (!(o = dz_record_parse(line, len, err))) {
		if (err && err->code == EX_DATAERR) {
			char why[DZ_ERR_MAX];

			snprintf(why, sizeof why, "%s", err->msg);
			return line_err(err, 1, why);
		}
		return -1;
	}
	memset(m, 0, sizeof *m);
	bad = bank_fields(o, m, nent, ntomb);
	json_decref(o);
	if (bad)
		return line_err(err, 1, bad);
	if ((bad = meta_bad(m))) {
		char why[64];

		snprintf(why, sizeof why, "bad %s", bad);
		return line_err(err, 1, why);
	}
	return 0;
}

/* Lines in buf: newlines, and one more for a last unterminated line. */
static size_t
count_lines(const uint8_t *buf, size_t len)
{
	size_t n = 0;
	const uint8_t *p = buf, *e = buf + len, *q;

	while (p < e && (q = memchr(p, '\n', (size_t)(e - p)))) {
		n++;
		p = q + 1;
	}
	return n + (p < e);
}

/* The next line of [*pos, e): start and length; line numbers from 1. */
static int
next_line(const char **pos, const char *e, const char **line, size_t *len)
{
	const char *p = *pos, *q;

	if (p >= e)
		return 0;
	q = memchr(p, '\n', (size_t)(e - p));
	*line = p;
	*len = (size_t)((q ? q : e) - p);
	*pos = q ? q + 1 : e;
	return 1;
}

static int
alloc_arrays(struct dz_bank_priv *p, uint64_t n, uint64_t t)
{
	if (n) {
		p->pdq = malloc((size_t)n * sizeof *p->pdq);
		p->id = malloc((size_t)n * sizeof *p->id);
		p->attr = malloc((size_t)n * sizeof *p->attr);
		if (!p->pdq || !p->id || !p->attr)
			return -1;
		p->cap = (size_t)n;
	}
	if (t) {
		if (!(p->tomb = malloc((size_t)t * sizeof *p->tomb)))
			return -1;
		p->tcap = (size_t)t;
	}
	return 0;
}

static void
store_entry(struct dz_bank_priv *p, size_t i, const struct rec *r)
{
	struct dz_bank_attr *a = &p->attr[i];

	p->pdq[i] = r->pdq;
	memcpy(p->id[i], r->id, ID);
	memset(a, 0, sizeof *a);
	a->quality = (uint8_t)r->quality;
	a->category = (uint8_t)r->category;
	a->signal = (uint8_t)r->signal;
	a->added = r->day;
}

static void
store_tomb(struct dz_bank_priv *p, size_t i, const struct rec *r)
{
	struct dz_bank_tomb *w = &p->tomb[i];

	memset(w, 0, sizeof *w);
	memcpy(w->id, r->id, ID);
	w->pdq = r->pdq;
	w->category = (uint8_t)r->category;
	w->signal = (uint8_t)r->signal;
	w->withdrawn = r->day;
}

static int
jsonl_parse(struct dz_bank *b, const char *buf, size_t len,
    struct dz_err *err)
{
	struct dz_bank_priv *p = b->priv;
	const char *pos = buf, *e = buf + len, *line = buf;
	size_t ll = 0, lineno = 0, records, n = 0, t = 0;
	uint64_t want_n, want_t;
	struct rec r;

	records = len / MIN_RECORD;	/* no more can be valid */
	next_line(&pos, e, &line, &ll);
	lineno = 1;
	if (ll > LINE_MAX_BYTES)
		return line_err(err, 1, "too long");
	if (bank_line(b, line, ll, &want_n, &want_t, err) < 0)
		return -1;
	if (alloc_arrays(p, want_n < records ? want_n : records,
	    want_t < records ? want_t : records) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	while (next_line(&pos, e, &line, &ll)) {
		lineno++;
		if (ll == 0)
			return line_err(err, lineno, "empty line");
		if (ll > LINE_MAX_BYTES)
			return line_err(err, lineno, "too long");
		memset(&r, 0, sizeof r);
		if (!fast_record(line, ll, &r) &&
		    slow_record(line, ll, lineno, &r, err) < 0)
			return -1;
		if (r.type == R_ENTRY) {
			if (t)
				return line_err(err, lineno,
				    "entry after withdrawals");
			if (n >= p->cap)
				return line_err(err, lineno,
				    "more entries than the bank line says");
			store_entry(p, n, &r);
			if (n && memcmp(p->id[n - 1], r.id, ID) >= 0 &&
			    !same_frames(&p->attr[n - 1], &p->attr[n],
			    p->id[n - 1], r.id))
				return line_err(err, lineno,
				    memcmp(p->id[n - 1], r.id, ID) ?
				    "entries not in ascending id order" :
				    "duplicate entry id");
			n++;
		} else {
			if (t >= p->tcap)
				return line_err(err, lineno,
				    "more withdrawals than the bank line says");
			if (t && memcmp(p->tomb[t - 1].id, r.id, ID) >= 0)
				return line_err(err, lineno,
				    memcmp(p->tomb[t - 1].id, r.id, ID) ?
				    "withdrawals not in ascending id order" :
				    "duplicate withdrawal id");
			store_tomb(p, t++, &r);
		}
	}
	if (n != want_n)
		return dz_err_set(err, EX_DATAERR,
		    "fewer entries than the bank line says");
	if (t != want_t)
		return dz_err_set(err, EX_DATAERR,
		    "fewer withdrawals than the bank line says");
	b->n = n;
	b->ntomb = t;
	bank_expose(b);
	return check_unique(b, err);
}

/* ---------- loading CSV ---------- */

/* The tags of one row. */
static int
csv_tags(const char *s, size_t len, struct rec *r)
{
	const char *e = s + len;
	int have_id = 0, have_q = 0, have_added = 0, have_wd = 0, have_cat = 0;
	uint64_t q;

	if (!len)
		return -1;
	while (s < e) {
		const char *sp = memchr(s, ' ', (size_t)(e - s));
		const char *te = sp ? sp : e;
		int cat;

		if (sp && sp + 1 == e)
			return -1;	/* a trailing space */
		if ((cat = cat_parse(s, (size_t)(te - s))) >= 0) {
			if (have_cat++)
				return -1;
			r->category = cat;
		} else if (lit(&s, te, "dz:id=")) {
			if (have_id++ ||
			    parse_hex(s, (size_t)(te - s), r->id, ID))
				return -1;
		} else if (lit(&s, te, "dz:quality=")) {
			if (have_q++ || parse_u64(s, (size_t)(te - s), 100, &q))
				return -1;
			r->quality = (int)q;
		} else if (lit(&s, te, "dz:added=")) {
			if (have_added++ || have_wd || parse_date10(s,
			    (size_t)(te - s), &r->day))
				return -1;
		} else if (lit(&s, te, "dz:withdrawn=")) {
			if (have_wd++ || have_added || parse_date10(s,
			    (size_t)(te - s), &r->day))
				return -1;
		} else {
			return -1;
		}
		s = sp ? sp + 1 : e;
	}
	if (!have_id || !have_cat)
		return -1;
	if (have_wd) {
		if (have_q)
			return -1;
		r->type = R_TOMB;
	} else {
		if (!have_q || !have_added)
			return -1;
		r->type = R_ENTRY;
	}
	return 0;
}

static int
csv_parse(struct dz_bank *b, const char *buf, size_t len, struct dz_err *err)
{
	struct dz_bank_priv *p = b->priv;
	const char *pos = buf, *e = buf + len, *line = buf;
	size_t ll = 0, lineno = 1, rows, n = 0, t = 0, collab_len = 0;
	struct rec r;

	rows = count_lines((const uint8_t *)buf, len) - 1;
	if (rows > len / MIN_RECORD)
		rows = len / MIN_RECORD;	/* the rest cannot be valid */
	next_line(&pos, e, &line, &ll);
	if (ll && line[ll - 1] == '\r')
		ll--;
	if (ll != strlen(csv_header) || memcmp(line, csv_header, ll))
		return line_err(err, 1, "bad CSV header");
	if (rows > DZ_BANK_MAX_ENTRIES)
		rows = DZ_BANK_MAX_ENTRIES;
	if (alloc_arrays(p, rows, 0) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	memset(&b->meta, 0, sizeof b->meta);
	while (next_line(&pos, e, &line, &ll)) {
		const char *f[5], *c;
		size_t fl[5];
		int nf = 0, positive;

		lineno++;
		if (ll > LINE_MAX_BYTES)
			return line_err(err, lineno, "too long");
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			return line_err(err, lineno, "empty line");
		if (memchr(line, '"', ll))
			return line_err(err, lineno,
			    "quoted fields not supported");
		for (c = line; nf < 5;) {
			const char *comma = memchr(c, ',',
			    (size_t)(line + ll - c));

			f[nf] = c;
			fl[nf] = (size_t)((comma ? comma : line + ll) - c);
			nf++;
			if (!comma)
				break;
			c = comma + 1;
		}
		if (nf != 5 || f[4] + fl[4] != line + ll)
			return line_err(err, lineno, "not 5 fields");
		memset(&r, 0, sizeof r);
		if ((r.signal = signal_parse(csv_signal_names, f[0], fl[0])) < 0)
			return line_err(err, lineno, "unsupported signal type");
		if (parse_value(r.signal, f[1], fl[1], &r.pdq))
			return line_err(err, lineno, r.signal == DZ_BANK_MD5 ?
			    "bad MD5" : "bad PDQ hash");
		if (!valid_collab(f[2], fl[2]))
			return line_err(err, lineno, "bad collab");
		if (!collab_len) {
			memcpy(b->meta.collab, f[2], fl[2]);
			collab_len = fl[2];
		} else if (fl[2] != collab_len ||
		    memcmp(f[2], b->meta.collab, collab_len)) {
			return line_err(err, lineno,
			    "collab differs from the first row");
		}
		/* ThreatExchange's opinion: a withdrawal is a negative one */
		if (fl[3] == 14 && !memcmp(f[3], "POSITIVE_CLASS", 14))
			positive = 1;
		else if (fl[3] == 14 && !memcmp(f[3], "NEGATIVE_CLASS", 14))
			positive = 0;
		else
			return line_err(err, lineno, "unknown category");
		if (csv_tags(f[4], fl[4], &r) < 0)
			return line_err(err, lineno, "bad tags");
		if (positive != (r.type == R_ENTRY))
			return line_err(err, lineno, "category does not fit "
			    "the tags");
		if (n + t >= rows)
			return line_err(err, lineno, "too many rows");
		if (r.type == R_ENTRY) {
			store_entry(p, n++, &r);
		} else {
			if (grow_tombs(p, t) < 0)
				return dz_err_set(err, EX_SOFTWARE,
				    "out of memory");
			store_tomb(p, t++, &r);
		}
	}
	b->n = n;
	b->ntomb = t;
	if (n < p->cap) {	/* give back what the tombstones took */
		void *q;

		if (n == 0) {
			free(p->pdq);
			free(p->id);
			free(p->attr);
			p->pdq = NULL;
			p->id = NULL;
			p->attr = NULL;
		} else {
			if ((q = realloc(p->pdq, n * sizeof *p->pdq)))
				p->pdq = q;
			if ((q = realloc(p->id, n * sizeof *p->id)))
				p->id = q;
			if ((q = realloc(p->attr, n * sizeof *p->attr)))
				p->attr = q;
		}
		p->cap = n;
	}
	bank_expose(b);
	if (sort_bank(b) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return check_unique(b, err);
}

/* ---------- dz_bank_load ---------- */

/* Map a regular file that starts like a .dzb: 1 mapped, 0 not, -1 err. */
static int
try_map(struct dz_bank *b, const char *path, struct dz_err *err)
{
	struct stat st;
	unsigned char c;
	void *map;
	int fd;
	ssize_t r;

	if (!strcmp(path, "-") || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;	/* dz_file_read says why */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return dz_err_set(err, EX_NOINPUT, "cannot open: %s",
		    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	do
		r = pread(fd, &c, 1, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		dz_err_set(err, EX_IOERR, "read error: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (r == 0 || c != magic[0]) {
		close(fd);
		return 0;
	}
	if ((uint64_t)st.st_size != (size_t)st.st_size) {
		close(fd);
		return dz_err_set(err, EX_DATAERR, "bank file too large");
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return dz_err_set(err, errno == ENOMEM ? EX_SOFTWARE : EX_IOERR,
		    "cannot map the bank file: %s", strerror(errno));
	b->priv->map = map;
	b->priv->maplen = (size_t)st.st_size;
	return 1;
}

int
dz_bank_load(const char *path, uint64_t max_bytes, struct dz_bank **out,
    struct dz_err *err)
{
	struct dz_bank *b;
	struct dz_bank_priv *p;
	int rc;

	if (!out)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_load: bad arguments");
	*out = NULL;
	if (!path)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_load: bad arguments");
	if (!(b = bank_alloc(err)))
		return -1;
	p = b->priv;
	if ((rc = try_map(b, path, err)) < 0)
		goto fail;
	if (rc) {
		b->format = DZ_BANK_DZB;
		if (dzb_parse(b, p->map, p->maplen, err) < 0)
			goto fail;
	} else {
		if (dz_file_read(path, max_bytes, &p->raw, &p->rawlen, err) < 0)
			goto fail;
		if (p->rawlen == 0) {
			dz_err_set(err, EX_DATAERR, "empty file");
			goto fail;
		}
		if (p->raw[0] == magic[0]) {
			/* a .dzb from a pipe: malloc'd memory is 16-aligned */
			b->format = DZ_BANK_DZB;
			rc = dzb_parse(b, p->raw, p->rawlen, err);
		} else if (p->raw[0] == '{') {
			b->format = DZ_BANK_JSONL;
			rc = jsonl_parse(b, (const char *)p->raw, p->rawlen,
			    err);
		} else {
			b->format = DZ_BANK_CSV;
			rc = csv_parse(b, (const char *)p->raw, p->rawlen, err);
		}
		if (rc < 0)
			goto fail;
	}
	p->ready = 1;
	p->has_meta = b->format != DZ_BANK_CSV;
	*out = b;
	return 0;
fail:
	dz_bank_free(b);
	return -1;
}

const uint8_t *
dz_bank_raw(const struct dz_bank *b, size_t *len)
{
	if (!b || (!b->priv->map && !b->priv->raw)) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = b->priv->map ? b->priv->maplen : b->priv->rawlen;
	return b->priv->map ? b->priv->map : b->priv->raw;
}

const struct dz_mih *
dz_bank_index(struct dz_bank *b, struct dz_err *err)
{
	struct dz_bank_priv *p;
	struct dz_mih *m;

	if (!b) {
		dz_err_set(err, EX_SOFTWARE, "dz_bank_index: bad arguments");
		return NULL;
	}
	p = b->priv;
	if (!p->ready) {
		dz_err_set(err, EX_SOFTWARE, "bank not finished");
		return NULL;
	}
	if (b->n == 0) {
		dz_err_clear(err);
		return NULL;
	}
	pthread_mutex_lock(&p->lock);
	if (!p->mih)
		p->mih = dz_mih_build(b->pdq, (uint32_t)b->n,
		    DZ_BANK_INDEX_RADIUS, err);
	m = p->mih;
	pthread_mutex_unlock(&p->lock);
	return m;
}

int64_t
dz_bank_find(const struct dz_bank *b, const uint8_t id[ID])
{
	uint64_t lo = 0, hi;

	if (!b || !id)
		return -1;
	hi = b->n;
	while (lo < hi) {	/* the first row with an id >= this one */
		uint64_t mid = lo + (hi - lo) / 2;

		if (memcmp(b->id[mid], id, ID) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < b->n && !memcmp(b->id[lo], id, ID))
		return (int64_t)lo;
	return -1;
}

uint64_t
dz_bank_run(const struct dz_bank *b, uint64_t i)
{
	uint64_t e = i + 1;

	if (!b || i >= b->n)
		return 0;
	if (b->attr[i].signal != DZ_BANK_VPDQ)
		return 1;
	while (i > 0 && !memcmp(b->id[i - 1], b->id[i], ID))
		i--;
	while (e < b->n && !memcmp(b->id[e], b->id[i], ID))
		e++;
	return e - i;
}

/* ---------- the signed comment ---------- */

int
dz_bank_comment(const struct dz_bank *b, char **out, struct dz_err *err)
{
	char buf[1024], *p = buf;

	if (!b || !out)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_comment: bad arguments");
	*out = NULL;
	if (!b->priv->ready)
		return dz_err_set(err, EX_SOFTWARE, "bank not finished");
	if (!b->priv->has_meta)
		return dz_err_set(err, EX_SOFTWARE, "bank has no metadata");
	p = put_str(p, "disrupt-bank v1 seq=");
	p = put_u64(p, b->meta.seq);
	p = put_str(p, " kind=");
	p = put_str(p, kind_name(b->meta.kind));
	p = put_str(p, " since=");
	p = put_u64(p, b->meta.since);
	p = put_str(p, " digest=");
	p = dz_hex_put(p, b->meta.digest, 32);
	p = put_str(p, " prev=");
	p = b->meta.has_prev ? dz_hex_put(p, b->meta.prev, 32) :
	    put_str(p, "-");
	p = put_str(p, " base=");
	p = b->meta.has_base ? dz_hex_put(p, b->meta.base, 32) :
	    put_str(p, "-");
	p = put_str(p, " created=");
	p = put_str(p, b->meta.created);
	p = put_str(p, " collab=");
	p = put_str(p, b->meta.collab);
	p = put_str(p, " entries=");
	p = put_u64(p, b->n);
	p = put_str(p, " withdrawals=");
	p = put_u64(p, b->ntomb);
	*p = '\0';
	if (!(*out = strdup(buf)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 0;
}

/* The value of "key=VALUE" at *s, up to the next space or the end. */
static int
field(const char **s, const char *key, const char **v, size_t *len)
{
	const char *p = *s, *e;
	size_t kl = strlen(key);

	if (strncmp(p, key, kl) || p[kl] != '=')
		return -1;
	p += kl + 1;
	for (e = p; *e && *e != ' '; e++)
		;
	*v = p;
	*len = (size_t)(e - p);
	if (*e == ' ') {
		if (e[1] == '\0' || e[1] == ' ')
			return -1;
		e++;
	}
	*s = e;
	return 0;
}

static int
malformed(struct dz_err *err, const char *what)
{
	return dz_err_set(err, EX_DATAERR, "malformed bank metadata: %s", what);
}

int
dz_bank_comment_parse(const char *comment, struct dz_bank_meta *meta,
    uint64_t *entries, uint64_t *withdrawals, struct dz_err *err)
{
	static const char prefix[] = "disrupt-bank ";
	struct dz_bank_meta m;
	const char *s = comment, *v, *bad;
	size_t len;
	uint64_t ne, nt;

	if (!comment || !meta || !entries || !withdrawals)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_comment_parse: bad arguments");
	if (strncmp(s, prefix, sizeof prefix - 1))
		return dz_err_set(err, EX_DATAERR,
		    "not a disrupt bank signature");
	s += sizeof prefix - 1;
	if (strncmp(s, "v1 ", 3))
		return malformed(err, "version");
	s += 3;
	memset(&m, 0, sizeof m);
	if (field(&s, "seq", &v, &len) || parse_u64(v, len, SEQ_MAX, &m.seq))
		return malformed(err, "seq");
	if (field(&s, "kind", &v, &len))
		return malformed(err, "kind");
	if (len == 4 && !memcmp(v, "full", 4))
		m.kind = DZ_BANK_FULL;
	else if (len == 5 && !memcmp(v, "delta", 5))
		m.kind = DZ_BANK_DELTA;
	else
		return malformed(err, "kind");
	if (field(&s, "since", &v, &len) ||
	    parse_u64(v, len, SEQ_MAX, &m.since))
		return malformed(err, "since");
	if (field(&s, "digest", &v, &len) || parse_hex(v, len, m.digest, 32))
		return malformed(err, "digest");
	if (field(&s, "prev", &v, &len))
		return malformed(err, "prev");
	if (!(len == 1 && v[0] == '-')) {
		if (parse_hex(v, len, m.prev, 32))
			return malformed(err, "prev");
		m.has_prev = 1;
	}
	if (field(&s, "base", &v, &len))
		return malformed(err, "base");
	if (!(len == 1 && v[0] == '-')) {
		if (parse_hex(v, len, m.base, 32))
			return malformed(err, "base");
		m.has_base = 1;
	}
	if (field(&s, "created", &v, &len) || len >= sizeof m.created)
		return malformed(err, "created");
	memcpy(m.created, v, len);
	if (field(&s, "collab", &v, &len) || len >= sizeof m.collab)
		return malformed(err, "collab");
	memcpy(m.collab, v, len);
	if (field(&s, "entries", &v, &len) ||
	    parse_u64(v, len, DZ_BANK_MAX_ENTRIES, &ne))
		return malformed(err, "entries");
	if (field(&s, "withdrawals", &v, &len) ||
	    parse_u64(v, len, MAX_TOMBS, &nt))
		return malformed(err, "withdrawals");
	if (*s)
		return malformed(err, "trailing text");
	if ((bad = meta_bad(&m)))
		return malformed(err, bad);
	*meta = m;
	*entries = ne;
	*withdrawals = nt;
	return 0;
}

static int
disagree(struct dz_err *err, const char *what)
{
	return dz_err_set(err, EX_DATAERR,
	    "bank file and signature disagree on %s", what);
}

int
dz_bank_meta_check(struct dz_bank *b, const struct dz_bank_meta *meta,
    uint64_t entries, uint64_t withdrawals, struct dz_err *err)
{
	struct dz_bank_meta m;
	const struct dz_bank_meta *f;
	const char *bad;

	if (!b || !meta)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_meta_check: bad arguments");
	if ((bad = meta_bad(meta)))
		return malformed(err, bad);
	meta_norm(&m, meta);
	f = &b->meta;
	if (entries != b->n)
		return disagree(err, "entries");
	if (withdrawals != b->ntomb)
		return disagree(err, "withdrawals");
	if (!b->priv->has_meta) {
		/* a CSV file: only its rows' collab to compare */
		if (f->collab[0] && strcmp(f->collab, m.collab))
			return disagree(err, "collab");
		b->meta = m;
		b->priv->has_meta = 1;
		return 0;
	}
	if (f->seq != m.seq)
		return disagree(err, "seq");
	if (f->kind != m.kind)
		return disagree(err, "kind");
	if (f->since != m.since)
		return disagree(err, "since");
	if (memcmp(f->digest, m.digest, 32))
		return disagree(err, "digest");
	if (!f->has_prev != !m.has_prev || memcmp(f->prev, m.prev, 32))
		return disagree(err, "prev");
	if (!f->has_base != !m.has_base || memcmp(f->base, m.base, 32))
		return disagree(err, "base");
	if (strcmp(f->created, m.created))
		return disagree(err, "created");
	if (strcmp(f->collab, m.collab))
		return disagree(err, "collab");
	return 0;
}
