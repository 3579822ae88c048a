/*
 * lib/bank/bank.c: the partner hash bank as a model; see bank.h for the
 * model, the content digest and the three file formats, and bankint.h
 * for what the other files of the module (one per format, and the
 * metadata) borrow from here.
 *
 * A built bank keeps its three entry arrays and its tombstones on the
 * heap, grows them while adding, and sorts them by id in dz_bank_finish
 * (a radix sort of the ids' first 8 bytes, ties settled by the last 8,
 * then each array gathered into the new order). Loading reads or maps the
 * file and hands it to its format's parser; a JSON Lines or CSV file is
 * kept as a heap copy (for dz_bank_raw).
 *
 * Writing goes through one 64 KiB buffer, to a file descriptor or into
 * SHA-256 (the content digest is the same text path, so the digest never
 * needs the text in memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bank/bank.h"
#include "bank/bankint.h"
#include "bank/mih.h"
#include "core/err.h"
#include "core/fdio.h"
#include "core/hex.h"
#include "core/input.h"
#include "hash/pdq.h"

const char *const bank_cat_names[4] = {
	NULL, "adult_ncii", "minor", "other"
};

const char *const bank_signal_names[4] = { NULL, "pdq", "md5", "vpdq" };

/* ---------- small helpers ---------- */

/* The first or last 8 bytes of an id as a number that sorts like them. */
static uint64_t
be64(const uint8_t *p)
{
	return __builtin_bswap64(get64(p));
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

int
bank_parse_hex(const char *s, size_t len, uint8_t *b, size_t n)
{
	return dz_hex_decode(s, len, b, n, DZ_HEX_LOWER);
}

int
bank_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *v)
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

char *
bank_put_u64(char *p, uint64_t v)
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

char *
bank_put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

int
bank_cat_parse(const char *s, size_t len)
{
	for (int c = 1; c <= DZ_BANK_CAT_OTHER; c++)
		if (strlen(bank_cat_names[c]) == len &&
		    !memcmp(s, bank_cat_names[c], len))
			return c;
	return -1;
}

int
bank_valid_cat(int c)
{
	return c >= DZ_BANK_CAT_ADULT_NCII && c <= DZ_BANK_CAT_OTHER;
}

int
bank_valid_signal(int s)
{
	return s == DZ_BANK_PDQ || s == DZ_BANK_MD5 || s == DZ_BANK_VPDQ;
}

int
bank_signal_parse(const char *const *names, const char *s, size_t len)
{
	for (int i = 1; i <= DZ_BANK_VPDQ; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], s, len))
			return i;
	return -1;
}

int
bank_parse_value(int signal, const char *s, size_t len, struct dz_pdq *v)
{
	if (signal != DZ_BANK_MD5)
		return parse_pdq(s, len, v);
	memset(v, 0, sizeof *v);
	return len == 32 ? bank_parse_hex(s, 32, (uint8_t *)v, 16) : -1;
}

char *
bank_put_value(char *p, int signal, const struct dz_pdq *v)
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

int
bank_parse_date(const char *s, uint32_t *day)
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

int
bank_parse_time(const char *s, size_t len, uint32_t *day)
{
	unsigned hh, mm, ss;

	if (len != 20 || bank_parse_date(s, day) || s[10] != 'T' ||
	    digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mm) ||
	    s[16] != ':' || digits(s + 17, 2, &ss) || s[19] != 'Z')
		return -1;
	return hh < 24 && mm < 60 && ss < 60 ? 0 : -1;
}

void
dz_bank_day_format(uint32_t day, char out[11])
{
	*bank_put_day(out, day) = '\0';
}

char *
bank_put_day(char *p, uint32_t day)
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

	if (!s || strnlen(s, 11) != 10 || bank_parse_date(s, &d))
		return -1;
	*day = d;
	return 0;
}

int
dz_bank_day_of(const char *rfc3339, uint32_t *day)
{
	uint32_t d;

	if (!rfc3339 || bank_parse_time(rfc3339, strnlen(rfc3339, 21), &d))
		return -1;
	*day = d;
	return 0;
}

/* ---------- small conversions ---------- */

const char *
dz_bank_category_name(int category)
{
	return bank_valid_cat(category) ? bank_cat_names[category] : NULL;
}

int
dz_bank_category_parse(const char *s)
{
	return s ? bank_cat_parse(s, strlen(s)) : -1;
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

	if (!hex || bank_parse_hex(hex, strnlen(hex, 33), tmp, ID))
		return -1;
	memcpy(id, tmp, ID);
	return 0;
}

void
dz_bank_digest_hex(const uint8_t d[32], char out[65])
{
	dz_hex_encode(out, d, 32);
}

/* ---------- buffered output: a file descriptor or SHA-256 ---------- */

void
bank_out_flush(struct bank_out *o)
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

void
bank_out_bytes(struct bank_out *o, const void *p, size_t len)
{
	if (len <= OUT_BUF - o->len) {
		if (len)
			memcpy(o->buf + o->len, p, len);
		o->len += len;
		return;
	}
	bank_out_flush(o);
	if (o->failed || !len)
		return;
	if (o->md) {
		if (!EVP_DigestUpdate(o->md, p, len))
			o->failed = -1;
	} else if (dz_fd_write_full(o->fd, p, len) < 0) {
		o->failed = errno ? errno : EIO;
	}
}

static struct bank_out *
out_new(int fd, EVP_MD_CTX *md, struct dz_err *err)
{
	struct bank_out *o = malloc(sizeof *o);

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
out_close(struct bank_out *o, struct dz_err *err)
{
	int failed;

	bank_out_flush(o);
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

void
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
	if ((bad = bank_meta_bad(meta))) {
		dz_err_set(err, EX_DATAERR, "malformed bank metadata: %s", bad);
		return NULL;
	}
	if (!(b = bank_alloc(err)))
		return NULL;
	bank_meta_norm(&b->meta, meta);
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

int
bank_grow_tombs(struct dz_bank_priv *p, size_t t)
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
	if (!bank_valid_cat(category))
		return dz_err_set(err, EX_DATAERR, "unknown category");
	if (!bank_valid_signal(signal) ||
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
	if (!bank_valid_cat(category))
		return dz_err_set(err, EX_DATAERR, "unknown category");
	if (!bank_valid_signal(signal) ||
	    (signal == DZ_BANK_MD5 && !all_zero((const uint8_t *)pdq + 16, 16)))
		return dz_err_set(err, EX_DATAERR, "unknown signal");
	if (withdrawn > MAX_DAY)
		return dz_err_set(err, EX_DATAERR, "bad date");
	if (b->ntomb >= MAX_TOMBS)
		return dz_err_set(err, EX_DATAERR, "too many withdrawals");
	if (bank_grow_tombs(p, b->ntomb) < 0) {
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

int
bank_sort(struct dz_bank *b)
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

int
bank_same_frames(const struct dz_bank_attr *x, const struct dz_bank_attr *y,
    const uint8_t xi[ID], const uint8_t yi[ID])
{
	return x->signal == DZ_BANK_VPDQ && y->signal == DZ_BANK_VPDQ &&
	    x->category == y->category && x->added == y->added &&
	    !memcmp(xi, yi, ID);
}

int
bank_check_unique(const struct dz_bank *b, struct dz_err *err)
{
	uint64_t i, j;

	for (i = 1; i < b->n; i++) {
		if (memcmp(b->id[i - 1], b->id[i], ID) >= 0 &&
		    !bank_same_frames(&b->attr[i - 1], &b->attr[i],
		    b->id[i - 1], b->id[i]))
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
	p = bank_put_str(p, "seq=");
	p = bank_put_u64(p, m->seq);
	p = bank_put_str(p, " kind=");
	p = bank_put_str(p, bank_kind_name(m->kind));
	p = bank_put_str(p, " since=");
	p = bank_put_u64(p, m->since);
	p = bank_put_str(p, " prev=");
	p = m->has_prev ? dz_hex_put(p, m->prev, 32) : bank_put_str(p, "-");
	p = bank_put_str(p, " base=");
	p = m->has_base ? dz_hex_put(p, m->base, 32) : bank_put_str(p, "-");
	p = bank_put_str(p, " created=");
	return bank_put_str(p, m->created);
}

/* "+ ID SIGNAL VALUE " or "- ID SIGNAL VALUE ": a canonical row's start. */
static char *
put_digest_row(char *p, char sign, const uint8_t id[ID], int signal,
    const struct dz_pdq *v)
{
	*p++ = sign;
	*p++ = ' ';
	p = dz_hex_put(p, id, ID);
	*p++ = ' ';
	p = bank_put_str(p, bank_signal_names[signal]);
	*p++ = ' ';
	p = bank_put_value(p, signal, v);
	*p++ = ' ';
	return p;
}

static int
compute_digest(const struct dz_bank *b, uint8_t digest[32],
    struct dz_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct bank_out *o;
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
	p = bank_out_room(o, 512);
	p = bank_put_str(p, "disrupt-bank-v1\n");
	p = put_meta_line(p, &b->meta);
	*p++ = '\n';
	bank_out_done(o, p);
	for (uint64_t i = 0; i < b->n; i++) {
		const struct dz_bank_attr *a = &b->attr[i];

		p = bank_out_room(o, 256);
		p = put_digest_row(p, '+', b->id[i], a->signal, &b->pdq[i]);
		p = bank_put_u64(p, a->quality);
		*p++ = ' ';
		p = bank_put_str(p, bank_cat_names[a->category]);
		*p++ = ' ';
		p = bank_put_day(p, a->added);
		*p++ = '\n';
		bank_out_done(o, p);
	}
	for (uint64_t i = 0; i < b->ntomb; i++) {
		const struct dz_bank_tomb *t = &b->tomb[i];

		p = bank_out_room(o, 256);
		p = put_digest_row(p, '-', t->id, t->signal, &t->pdq);
		p = bank_put_str(p, bank_cat_names[t->category]);
		*p++ = ' ';
		p = bank_put_day(p, t->withdrawn);
		*p++ = '\n';
		bank_out_done(o, p);
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
	if (bank_sort(b) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	if (bank_check_unique(b, err) < 0)
		return -1;
	if (compute_digest(b, b->meta.digest, err) < 0)
		return -1;
	b->priv->ready = 1;
	return 0;
}

/* ---------- writing a file ---------- */

int
dz_bank_write(const struct dz_bank *b, enum dz_bank_format f, int fd,
    struct dz_err *err)
{
	struct bank_out *o;
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
	    !bank_valid_collab(b->meta.collab, strnlen(b->meta.collab, 32)))
		return dz_err_set(err, EX_SOFTWARE, "bank has no collab");
	if (!(o = out_new(fd, NULL, err)))
		return -1;
	if (f == DZ_BANK_JSONL)
		bank_jsonl_write(b, o);
	else if (f == DZ_BANK_CSV)
		bank_csv_write(b, o);
	else
		rc = bank_dzb_write(b, o, err);
	if (rc < 0) {
		free(o);
		return -1;
	}
	return out_close(o, err);
}

/* ---------- reading the text formats (JSON Lines, CSV) ---------- */

int
bank_lit(const char **p, const char *e, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(e - *p) < n || memcmp(*p, s, n))
		return 0;
	*p += n;
	return 1;
}

int
bank_line_err(struct dz_err *err, size_t line, const char *why)
{
	return dz_err_set(err, EX_DATAERR, "line %zu: %s", line, why);
}

int
bank_next_line(const char **pos, const char *e, const char **line, size_t *len)
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

int
bank_alloc_arrays(struct dz_bank_priv *p, uint64_t n, uint64_t t)
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

void
bank_store_entry(struct dz_bank_priv *p, size_t i, const struct bank_rec *r)
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

void
bank_store_tomb(struct dz_bank_priv *p, size_t i, const struct bank_rec *r)
{
	struct dz_bank_tomb *w = &p->tomb[i];

	memset(w, 0, sizeof *w);
	memcpy(w->id, r->id, ID);
	w->pdq = r->pdq;
	w->category = (uint8_t)r->category;
	w->signal = (uint8_t)r->signal;
	w->withdrawn = r->day;
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
	if (r == 0 || c != bank_magic[0]) {
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
		if (bank_dzb_parse(b, p->map, p->maplen, err) < 0)
			goto fail;
	} else {
		if (dz_file_read(path, max_bytes, &p->raw, &p->rawlen, err) < 0)
			goto fail;
		if (p->rawlen == 0) {
			dz_err_set(err, EX_DATAERR, "empty file");
			goto fail;
		}
		if (p->raw[0] == bank_magic[0]) {
			/* a .dzb from a pipe: malloc'd memory is 16-aligned */
			b->format = DZ_BANK_DZB;
			rc = bank_dzb_parse(b, p->raw, p->rawlen, err);
		} else if (p->raw[0] == '{') {
			b->format = DZ_BANK_JSONL;
			rc = bank_jsonl_parse(b, (const char *)p->raw,
			    p->rawlen, err);
		} else {
			b->format = DZ_BANK_CSV;
			rc = bank_csv_parse(b, (const char *)p->raw,
			    p->rawlen, err);
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
