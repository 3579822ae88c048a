/*
 * lib/bank/bankint.h: what the files of the bank module lend each other.
 * bank.c owns the model (entries, tombstones, sorting, the content
 * digest, loading and writing by format) and the helpers below;
 * bankdzb.c, bankjsonl.c and bankcsv.c each own one file format,
 * bankmeta.c the metadata and the signed comment.
 *
 * Code outside lib/bank must not include this file: it uses only the
 * public functions of lib/bank/bank.h, which stay the same whatever is
 * moved between these files.
 *
 * May use: core/, hash/ (pdq), bank/ (mih); OpenSSL (SHA-256).
 */
#ifndef DZ_BANKINT_H
#define DZ_BANKINT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "bank/bank.h"
#include "hash/pdq.h"

struct dz_err;
struct dz_mih;

#define ID DZ_BANK_ID_BYTES
#define SECTION 64
#define OUT_BUF (64 * 1024)
#define LINE_MAX_BYTES 4096	/* longest JSON Lines or CSV line read */
#define MAX_DAY 2932896u	/* 9999-12-31 */
#define SEQ_MAX ((uint64_t)INT64_MAX)	/* JSON integers are signed */
#define MAX_TOMBS DZ_BANK_MAX_ENTRIES
/* No valid entry or withdrawal line (CSV or JSON Lines) is shorter. */
#define MIN_RECORD 120

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

/* The .dzb magic (bankdzb.c), and names by number (bank.c). */
extern const unsigned char bank_magic[8];
extern const char *const bank_cat_names[4];
/* Signals: their names in JSON Lines and the digest (CSV has its own). */
extern const char *const bank_signal_names[4];

struct bank_out {
	int fd;
	EVP_MD_CTX *md;		/* not NULL: into the digest instead */
	int failed;		/* errno of the failed write; -1 digest */
	size_t len;
	char buf[OUT_BUF];
};

enum { R_ENTRY = 1, R_TOMB = 2 };

struct bank_rec {
	int type;
	int signal;
	uint8_t id[ID];
	struct dz_pdq pdq;
	int quality, category;
	uint32_t day;
};

/* ---------- bank.c ---------- */

/* Ids and digests: lower case hex only (bank.h). */
int bank_parse_hex(const char *s, size_t len, uint8_t *b, size_t n);
/* Decimal without sign or leading zeros, at most max. */
int bank_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *v);
char *bank_put_u64(char *p, uint64_t v);
char *bank_put_str(char *p, const char *s);
int bank_cat_parse(const char *s, size_t len);
int bank_valid_cat(int c);
int bank_valid_signal(int s);
int bank_signal_parse(const char *const *names, const char *s, size_t len);
/* The value of a signal, in the 32 bytes of a struct dz_pdq: a PDQ as
 * its words, an MD5 as its 16 bytes then zeros. */
int bank_parse_value(int signal, const char *s, size_t len, struct dz_pdq *v);
char *bank_put_value(char *p, int signal, const struct dz_pdq *v);
/* "YYYY-MM-DD" in s[0..9], 1970-01-01..9999-12-31. */
int bank_parse_date(const char *s, uint32_t *day);
/* Exactly "YYYY-MM-DDTHH:MM:SSZ". */
int bank_parse_time(const char *s, size_t len, uint32_t *day);
/* Faster than snprintf for the millions of dates a bank writes. */
char *bank_put_day(char *p, uint32_t day);
void bank_out_flush(struct bank_out *o);
/* Bytes as they are: straight to the descriptor when there are many. */
void bank_out_bytes(struct bank_out *o, const void *p, size_t len);
/* Point the public arrays at the owned ones. */
void bank_expose(struct dz_bank *b);
int bank_grow_tombs(struct dz_bank_priv *p, size_t t);
/* Put the owned entries and tombstones in id order. -1: out of memory. */
int bank_sort(struct dz_bank *b);
/* Are rows x (id xi) then y (id yi) two frames of one video? */
int bank_same_frames(const struct dz_bank_attr *x,
    const struct dz_bank_attr *y, const uint8_t xi[ID], const uint8_t yi[ID]);
/*
 * Sorted ids: no id twice among the entries, among the tombstones, or in
 * both. 0, or -1 with EX_DATAERR. what: "duplicate entry id" or the like.
 */
int bank_check_unique(const struct dz_bank *b, struct dz_err *err);
/* Match the literal s at *p (end e); advance. */
int bank_lit(const char **p, const char *e, const char *s);
int bank_line_err(struct dz_err *err, size_t line, const char *why);
/* The next line of [*pos, e): start and length; line numbers from 1. */
int bank_next_line(const char **pos, const char *e, const char **line,
    size_t *len);
int bank_alloc_arrays(struct dz_bank_priv *p, uint64_t n, uint64_t t);
void bank_store_entry(struct dz_bank_priv *p, size_t i,
    const struct bank_rec *r);
void bank_store_tomb(struct dz_bank_priv *p, size_t i,
    const struct bank_rec *r);

/* ---------- bankmeta.c ---------- */

int bank_valid_collab(const char *s, size_t len);
/*
 * The first field of m that breaks the rules (see bank.h and
 * dz_bank_comment_parse), or NULL. The digest is not checked.
 */
const char *bank_meta_bad(const struct dz_bank_meta *m);
/* A canonical copy: flags 0/1, unused digests and padding zero. */
void bank_meta_norm(struct dz_bank_meta *dst, const struct dz_bank_meta *src);
const char *bank_kind_name(enum dz_bank_kind k);

/* ---------- bankdzb.c ---------- */

int bank_dzb_write(const struct dz_bank *b, struct bank_out *o,
    struct dz_err *err);
int bank_dzb_parse(struct dz_bank *b, const uint8_t *p, size_t len,
    struct dz_err *err);

/* ---------- bankjsonl.c ---------- */

void bank_jsonl_write(const struct dz_bank *b, struct bank_out *o);
int bank_jsonl_parse(struct dz_bank *b, const char *buf, size_t len,
    struct dz_err *err);

/* ---------- bankcsv.c ---------- */

void bank_csv_write(const struct dz_bank *b, struct bank_out *o);
int bank_csv_parse(struct dz_bank *b, const char *buf, size_t len,
    struct dz_err *err);

/* ---------- small helpers, inline ---------- */

static inline uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Room for need (<= OUT_BUF) bytes at the end of the buffer. */
static inline char *
bank_out_room(struct bank_out *o, size_t need)
{
	if (OUT_BUF - o->len < need)
		bank_out_flush(o);
	return o->buf + o->len;
}

static inline void
bank_out_done(struct bank_out *o, const char *end)
{
	o->len = (size_t)(end - o->buf);
}

#endif
