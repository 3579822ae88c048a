/*
 * lib/bank/bank: the partner hash bank, in memory and in its three file
 * formats (JSON Lines, ThreatExchange CSV, memory-mapped .dzb).
 *
 * A bank is one export of the hotline's hashes: a full snapshot, or a
 * delta since an earlier export that adds (or replaces) entries and
 * withdraws others (tombstones). It holds no case id, URL or personal
 * data: an entry is an opaque random id, the signal (an image's PDQ, a
 * video's MD5, or a video's vPDQ: one row per frame), its quality, a
 * category and the day it was added.
 *
 * Metadata (struct dz_bank_meta) travels in two places: in the file's own
 * header (JSON Lines and .dzb; the CSV layout has no room for it) and in
 * the signed trusted comment of the bank's minisign signature
 * (dz_bank_comment), which is what a partner may believe. A loader checks
 * that the two agree.
 *
 * Content digest. Every export has a digest that does not depend on its
 * file format: SHA-256 of the canonical text
 *	"disrupt-bank-v1\n"
 *	"seq=N kind=full|delta since=S prev=HEX|- base=HEX|- created=C\n"
 *	for each entry row, by ascending id bytes (a video's frames in
 *	their order):
 *	  "+ ID SIGNAL VALUE QUALITY CATEGORY ADDED\n"
 *	for each tombstone, by ascending id bytes:
 *	  "- ID SIGNAL VALUE CATEGORY WITHDRAWN\n"
 * (ID 32 lowercase hex digits, SIGNAL "pdq", "md5" or "vpdq", VALUE 64
 * hex digits (32 for an MD5), QUALITY decimal, CATEGORY its name, dates
 * YYYY-MM-DD). prev is the digest of export seq - 1, base (a
 * delta only) the digest of export `since`: partners chain exports with
 * them.
 *
 * Formats (see dz-records(5), "BANK FILES"):
 *
 * JSON Lines, one object per line:
 *   {"type":"bank","version":1,"seq":7,"kind":"delta","since":6,
 *    "digest":HEX,"prev":HEX|null,"base":HEX|null,"created":RFC3339,
 *    "collab":"disrupt","entries":N,"withdrawals":M}
 *   {"type":"entry","id":ID,"signal":"pdq","value":HEX,"quality":Q,
 *    "category":"adult_ncii","added":"2026-11-23"}      (N of them)
 *   {"type":"withdrawal","id":ID,"signal":"pdq","value":HEX,
 *    "category":"adult_ncii","withdrawn":"2026-11-30"}  (M of them)
 *   signal is "pdq", "md5" (value 32 hex digits) or "vpdq" (one line per
 *   frame, the frames of a video on consecutive lines with the same id).
 *   The bank line comes first, then entries, then withdrawals, each in
 *   ascending id order; counts (of lines) must agree.
 *
 * CSV (ThreatExchange tooling's layout), a header row then one row each:
 *   signal_type,signal_str,collab,category,tags
 *   pdq,HEX,disrupt,POSITIVE_CLASS,adult_ncii dz:id=ID dz:quality=Q dz:added=2026-11-23
 *   pdq,HEX,disrupt,NEGATIVE_CLASS,adult_ncii dz:id=ID dz:withdrawn=2026-11-30
 *   The category column is ThreatExchange's opinion (python-threatexchange
 *   prints SignalOpinionCategory names there): an entry is a positive
 *   one, a withdrawal a negative one, so that tools that know nothing of
 *   our tags still do not match a withdrawn hash. Tags are space-separated:
 *   our category name, then the dz: tags. The signal_type column is
 *   "pdq", "video_md5" (ThreatExchange's name for it) or "vpdq" (one row
 *   per frame, consecutive, same id). A CSV file carries no metadata: meta.seq is
 *   0 (and kind 0) after loading until a verified signature supplies it;
 *   meta.collab is the rows' collab (every row must have the same one).
 *
 * .dzb, little-endian, every section 64-byte aligned, read in place from
 * a read-only mmap:
 *	header, 256 bytes:
 *	  0 magic "\x89DZBANK\n"       8 u32 version (1)
 *	 12 u32 header size (256)     16 u64 file size
 *	 24 u64 seq                   32 u64 since
 *	 40 u32 kind (1 full, 2 delta) 44 u32 flags (bit 0 prev, bit 1 base)
 *	 48 u64 entries (n)           56 u64 withdrawals (t)
 *	 64 u8 digest[32]             96 u8 prev[32]      128 u8 base[32]
 *	160 char created[32], NUL-padded RFC 3339
 *	192 char collab[32], NUL-padded
 *	224 u64 offset of the index image, 232 u64 its size (0: none)
 *	240 zero
 *	pdq:   struct dz_pdq[n]          (4 u64 words each, word 0 first;
 *	                                 an MD5's 16 bytes then 16 zero)
 *	id:    u8[n][16]
 *	attr:  struct dz_bank_attr[n]    (8 bytes each)
 *	tomb:  struct dz_bank_tomb[t]    (56 bytes each)
 *	index: a lib/bank/mih flat image over pdq[0..n-1]
 *   Entries and tombstones are sorted by id, as in the other formats.
 *   Each section starts at the first multiple of 64 after the previous
 *   one ends, the gaps zero; the file ends at the first multiple of 64
 *   after its last section. A bank with no entries has no index (offset
 *   and size 0). dz_bank_write gives any other bank its index; a file
 *   without one is still read, and the index built on first use.
 *
 * Ids and digests are lowercase hex; a PDQ value may be either case (as
 * dz_pdq_from_hex reads it) and is always written lowercase. Dates run
 * from 1970-01-01 to 9999-12-31; created is exactly "YYYY-MM-DDTHH:MM:SSZ".
 *
 * Loading is strict and bounded: a bad line, a bad hash, an unknown
 * category or signal, a duplicate id, a count or size that disagrees, a
 * truncated or overlong file: EX_DATAERR with a message naming the line
 * or the field, never quoting the content.
 *
 * The code: bank.c is the model (building, sorting, the content digest,
 * loading and writing by format, the small conversions); bankdzb.c,
 * bankjsonl.c and bankcsv.c hold one file format each; bankmeta.c the
 * metadata and the signed comment. They share lib/bank/bankint.h, which
 * no code outside lib/bank includes.
 *
 * May use: core/, hash/ (pdq), bank/ (mih); jansson, OpenSSL (SHA-256).
 */
#ifndef DZ_BANK_H
#define DZ_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "hash/pdq.h"

struct dz_err;
struct dz_mih;

#define DZ_BANK_VERSION 1
#define DZ_BANK_ID_BYTES 16
#define DZ_BANK_COLLAB_MAX 31		/* bytes of the collab name */
#define DZ_BANK_MAX_ENTRIES 0xfffffff0u	/* lib/bank/mih indexes with u32 */
#define DZ_BANK_INDEX_RADIUS 64		/* .dzb indexes serve radius <= this */

enum dz_bank_kind { DZ_BANK_FULL = 1, DZ_BANK_DELTA = 2 };
enum dz_bank_format { DZ_BANK_JSONL = 1, DZ_BANK_CSV = 2, DZ_BANK_DZB = 3 };
/*
 * What an entry's 32-byte value holds. PDQ: an image's hash. MD5: a
 * video file's MD5 in the first 16 bytes, the rest zero. VPDQ: one frame
 * of a video's vPDQ signature; a video is a run of such rows, one per
 * kept frame, which share its id, category and day (the only rows that
 * may share an id) and stay in the order they were added or read.
 */
enum dz_bank_signal { DZ_BANK_PDQ = 1, DZ_BANK_MD5 = 2, DZ_BANK_VPDQ = 3 };
/* Same numbers as lib/store/store's enum dz_category. */
enum dz_bank_category {
	DZ_BANK_CAT_ADULT_NCII = 1, DZ_BANK_CAT_MINOR = 2, DZ_BANK_CAT_OTHER = 3
};

struct dz_bank_meta {
	uint64_t seq;			/* 1, 2, ...; 0 = unknown (bare CSV) */
	enum dz_bank_kind kind;
	uint64_t since;			/* delta: applies to export `since` */
	uint8_t digest[32];		/* content digest (see above) */
	int has_prev;			/* seq > 1 */
	uint8_t prev[32];		/* digest of export seq - 1 */
	int has_base;			/* a delta */
	uint8_t base[32];		/* digest of export `since` */
	char created[32];		/* RFC 3339 UTC, "2026-11-23T10:00:00Z" */
	char collab[DZ_BANK_COLLAB_MAX + 1];	/* who issued it: "disrupt" */
};

struct dz_bank_attr {
	uint8_t quality;		/* 0..100 */
	uint8_t category;		/* enum dz_bank_category */
	uint8_t signal;			/* enum dz_bank_signal */
	uint8_t zero;
	uint32_t added;			/* days since 1970-01-01 */
};

struct dz_bank_tomb {
	uint8_t id[DZ_BANK_ID_BYTES];
	struct dz_pdq pdq;		/* the withdrawn value */
	uint8_t category, signal, zero[2];
	uint32_t withdrawn;		/* days since 1970-01-01 */
};

/*
 * A bank, read-only once built or loaded: the arrays may point into a
 * read-only mapping. n entries: pdq[i], id[i], attr[i]; ntomb tombstones.
 */
struct dz_bank {
	struct dz_bank_meta meta;
	enum dz_bank_format format;	/* loaded from; 0 when built */
	uint64_t n;
	const struct dz_pdq *pdq;
	const uint8_t (*id)[DZ_BANK_ID_BYTES];
	const struct dz_bank_attr *attr;
	uint64_t ntomb;
	const struct dz_bank_tomb *tomb;
	struct dz_bank_priv *priv;	/* storage, index: lib/bank/bank's own */
};

/*** Building (dz-export, tests) ***/

/* An empty bank with this metadata (digest is computed by finish). */
struct dz_bank *dz_bank_new(const struct dz_bank_meta *meta,
    struct dz_err *err);
/* Add an entry / a tombstone, in any order. EX_DATAERR for a quality
 * above 100 or an unknown category; EX_SOFTWARE when out of memory. */
int dz_bank_add(struct dz_bank *b, const uint8_t id[DZ_BANK_ID_BYTES],
    const struct dz_pdq *pdq, int quality, int category, uint32_t added,
    struct dz_err *err);
int dz_bank_add_tomb(struct dz_bank *b, const uint8_t id[DZ_BANK_ID_BYTES],
    const struct dz_pdq *pdq, int category, uint32_t withdrawn,
    struct dz_err *err);
/* The same for any signal (dz_bank_add is DZ_BANK_PDQ): for DZ_BANK_MD5
 * the value's last 16 bytes must be zero; a video's vPDQ is one call per
 * frame with the same id, category and day. A withdrawn video is one
 * tombstone (any one of its frames, or its MD5). */
int dz_bank_add_signal(struct dz_bank *b, const uint8_t id[DZ_BANK_ID_BYTES],
    int signal, const struct dz_pdq *value, int quality, int category,
    uint32_t added, struct dz_err *err);
int dz_bank_add_tomb_signal(struct dz_bank *b,
    const uint8_t id[DZ_BANK_ID_BYTES], int signal, const struct dz_pdq *value,
    int category, uint32_t withdrawn, struct dz_err *err);
/*
 * Sort by id, refuse duplicate ids (EX_DATAERR "duplicate entry id"; an id
 * may not be both entry and tombstone) and compute meta.digest. Required
 * before writing; no adding afterwards.
 */
int dz_bank_finish(struct dz_bank *b, struct dz_err *err);

/*
 * Write a finished (or loaded) bank to fd in format f (the .dzb gets its
 * index built here, unless the bank already has one). Writes only; the
 * caller fsyncs and renames. EX_IOERR on write failure, EX_SOFTWARE when
 * out of memory or the bank is not finished (or, for JSON Lines and .dzb,
 * is a CSV file whose metadata is not known yet).
 */
int dz_bank_write(const struct dz_bank *b, enum dz_bank_format f, int fd,
    struct dz_err *err);

/*** Loading (dz-match) ***/

/*
 * Load the bank file at path; its format is recognised from its first
 * bytes (the .dzb magic; '{' for JSON Lines; otherwise CSV with the
 * header row). A .dzb is mapped read-only and used in place (its index
 * is checked by dz_mih_view); JSON Lines and CSV are read into memory
 * (at most max_bytes; 0 means no limit) and the index is built on first
 * use. EX_NOINPUT when the file cannot be opened, EX_DATAERR when it is
 * malformed, EX_IOERR on read errors.
 */
int dz_bank_load(const char *path, uint64_t max_bytes, struct dz_bank **out,
    struct dz_err *err);

/*
 * The file's exact bytes as loaded (the mapping or the copy), for
 * signature checks: valid until dz_bank_free. NULL for a built bank.
 */
const uint8_t *dz_bank_raw(const struct dz_bank *b, size_t *len);

/*
 * The bank's PDQ index (lib/bank/mih): the .dzb's own, or built now over
 * pdq[0..n-1] for radius up to DZ_BANK_INDEX_RADIUS and kept (under a
 * lock: threads may call this at once). NULL with err when out of memory.
 * A bank with n == 0 has no index (returns NULL with err->code 0): there
 * is nothing to match. Owned by the bank: valid until dz_bank_free.
 */
const struct dz_mih *dz_bank_index(struct dz_bank *b, struct dz_err *err);

/*
 * Index of the (first) entry with this id, or -1 (binary search: ids are
 * sorted in a finished or loaded bank). Tombstones are not searched.
 */
int64_t dz_bank_find(const struct dz_bank *b,
    const uint8_t id[DZ_BANK_ID_BYTES]);
/* How many rows the entry at row i spans: 1, or a video's frame count
 * (from its first row; any row of it gives the whole run). 0 if i >= n. */
uint64_t dz_bank_run(const struct dz_bank *b, uint64_t i);

void dz_bank_free(struct dz_bank *b);

/*** Metadata (bankmeta.c) ***/

/*
 * The trusted comment that signs a bank's metadata, one line (under
 * DZ_SIGN_TRUSTED_MAX):
 *   disrupt-bank v1 seq=7 kind=delta since=6 digest=HEX prev=HEX|-
 *   base=HEX|- created=2026-11-23T10:00:00Z collab=disrupt entries=N
 *   withdrawals=M
 * (single spaces, one line). *out is malloc'd; the caller frees it.
 */
int dz_bank_comment(const struct dz_bank *b, char **out, struct dz_err *err);
/*
 * Parse such a comment into *meta, *entries and *withdrawals. EX_DATAERR
 * "not a disrupt bank signature" or "malformed bank metadata: <field>".
 */
int dz_bank_comment_parse(const char *comment, struct dz_bank_meta *meta,
    uint64_t *entries, uint64_t *withdrawals, struct dz_err *err);
/*
 * Does the loaded bank's own metadata (and counts) agree with meta from a
 * verified comment? For a CSV file, which has none, check the counts and
 * the rows' collab, then copy meta in instead (later calls compare).
 * EX_DATAERR "bank file and signature disagree on <field>", or
 * "malformed bank metadata: <field>" when meta itself breaks the rules.
 */
int dz_bank_meta_check(struct dz_bank *b, const struct dz_bank_meta *meta,
    uint64_t entries, uint64_t withdrawals, struct dz_err *err);

/*** Small conversions ***/

/* "adult_ncii", "minor", "other"; NULL for an unknown code. */
const char *dz_bank_category_name(int category);
int dz_bank_category_parse(const char *s);	/* code, or -1 */
/*
 * Days since 1970-01-01 <-> "YYYY-MM-DD" (years 1970..9999; a day past
 * 9999-12-31 formats as that day, and the bank refuses such days).
 */
void dz_bank_day_format(uint32_t day, char out[11]);
int dz_bank_day_parse(const char *s, uint32_t *day);	/* 0 / -1 */
/* Day of an RFC 3339 UTC time stamp's date; 0 / -1. */
int dz_bank_day_of(const char *rfc3339, uint32_t *day);
/* 32 lowercase hex digits <-> 16 bytes; parse returns 0 / -1. */
void dz_bank_id_hex(const uint8_t id[DZ_BANK_ID_BYTES], char out[33]);
int dz_bank_id_parse(const char *hex, uint8_t id[DZ_BANK_ID_BYTES]);
/* 64 lowercase hex of a digest. */
void dz_bank_digest_hex(const uint8_t d[32], char out[65]);

#endif
