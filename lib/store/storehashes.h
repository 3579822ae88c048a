/*
 * lib/store/storehashes: the hashes and the bank exports of the store
 * (schema 2, and 4 for videos), the part of lib/store/store that dz-hash
 * --store and dz-export bank use: the items due for hashing, their
 * hashes recorded as their media is destroyed, the exports made and the
 * rows a bank is built from.
 *
 * May use: core/ (err, hex), store/ (store, storeint).
 */
#ifndef DZ_STOREHASHES_H
#define DZ_STOREHASHES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct dz_err;
struct dz_store;

/*
 * Hashes (schema 2). Each signal of a hashed item is one row with an
 * opaque random entry id (32 hex digits), the id partners see: an
 * image's "pdq" row and a video's "video_md5" and "vpdq" rows (schema 4)
 * are exported to partner banks, "md5" and "sha256" stay here. A row keeps the item's category; it is withdrawn (withdrawn_at
 * set) when the item is judged not illegal or its case is withdrawn, and
 * comes back if the item is judged illegal again. Every change takes a
 * new revision number (rev), larger than any before, so that an export
 * since revision R is exactly the rows with rev > R.
 */
#define DZ_ENTRY_ID_LEN 32

/* An item whose media is due for hashing. */
struct dz_store_hashable {
	char id[DZ_ITEM_ID_MAX];
	char media_type[64];		/* "" if unknown */
	uint64_t media_size;
	enum dz_category category;
	uint8_t wrapped_key[DZ_WRAPPED_KEY_BYTES];
	char blob[64];			/* file name under blobs/ */
};

/*
 * The ids of items judged illegal, with live media, in cases not
 * withdrawn, in insertion order: *ids is a malloc'd array of *n malloc'd
 * strings (free with dz_store_ids_free).
 */
int dz_store_hashable_ids(struct dz_store *s, char ***ids, size_t *n,
    struct dz_err *err);
void dz_store_ids_free(char **ids, size_t n);
/* 1 and *h if item_id is still hashable (see above), 0 if not. */
int dz_store_hashable_get(struct dz_store *s, const char *item_id,
    struct dz_store_hashable *h, struct dz_err *err);

struct dz_store_hash {
	const char *signal;	/* "pdq", "md5", "sha256"; a video:
				 * "video_md5", "sha256", "vpdq" */
	const char *value;	/* lowercase hex; a vpdq: lib/hash/vpdq's JSON */
	int quality;			/* 0..100, or -1 for none */
	const char *known_entry;	/* an earlier entry this one is near */
	char entry_id[DZ_ENTRY_ID_LEN + 1];	/* filled in */
};

/*
 * Within a transaction: record the hashes of an item that is still
 * hashable (else EX_DATAERR "the item is no longer due for hashing") and
 * destroy its media in the same step: the wrapped key is cleared and
 * hashed_at set; audited as "hash". The blob name stays: the caller
 * unlinks the blob file after the commit, then clears the name
 * (lib/store/storepurge's dz_store_blob_cleared), so that a run killed in
 * between leaves a name the next one finds (dz_store_finish_blobs); and it
 * checkpoints the store after its run (the old key must not survive in
 * the WAL). A hash the item already has (same signal and value) is not
 * added twice.
 */
int dz_store_item_hashed(struct dz_store *s, const char *item_id,
    struct dz_store_hash *h, size_t n, const char *actor, const char *now,
    struct dz_err *err);

/* Every active PDQ hash: fn(entry id, value hex, quality, ctx); nonzero
 * from fn stops. For "already known" flags. */
typedef int (*dz_store_pdq_fn)(const char *entry_id, const char *value,
    int quality, void *ctx);
int dz_store_list_pdq(struct dz_store *s, dz_store_pdq_fn fn, void *ctx,
    struct dz_err *err);

/*
 * Bank exports. An export row records what a `dz-export bank` run
 * produced: its sequence number (1, 2, ...), kind, the export it is a
 * delta of, the highest hash revision it includes, its content digest
 * (lib/bank/bank), counts, time and the files written (a JSON array).
 */
struct dz_store_export {
	int64_t seq;
	char kind[8];			/* "full" or "delta" */
	int64_t since;			/* delta: base seq; 0 for full */
	int64_t rev;
	char digest[65];
	int64_t entries, withdrawals;
	char created_at[40];
	char *files;			/* malloc'd JSON array text */
	int min_quality;		/* insert: the quality floor it used */
};
void dz_store_export_release(struct dz_store_export *e);
/* 1 and *e for export seq (seq 0: the latest one), 0 if there is none. */
int dz_store_export_get(struct dz_store *s, int64_t seq,
    struct dz_store_export *e, struct dz_err *err);
/* The number of the latest full export: EX_DATAERR if there is none. */
int dz_store_export_last_full(struct dz_store *s, int64_t *seq,
    struct dz_err *err);
/*
 * Within a transaction; EX_DATAERR if seq is not the next number. Also
 * marks every active PDQ row the export covers (quality >= e->min_quality,
 * rev <= e->rev) as shared with partners: only shared rows are ever sent
 * as tombstones, so a hash withdrawn before any export gave it out is
 * never published by its withdrawal.
 */
int dz_store_export_insert(struct dz_store *s, const struct dz_store_export *e,
    const char *actor, struct dz_err *err);
/* The highest hash revision, or the latest export's if higher (0 when
 * there is neither). */
int dz_store_hash_rev(struct dz_store *s, int64_t *rev, struct dz_err *err);

/*
 * The rows of a bank (an image's "pdq", a video's "video_md5" and
 * "vpdq", whose quality is its best frame's): with since_rev < 0, every active row of
 * quality >= min_quality (a full snapshot); otherwise every row changed
 * after since_rev and at most upto_rev: active ones of quality >=
 * min_quality as entries, withdrawn ones that an export shared as
 * tombstones (withdrawn_at set). Rows come in entry id order.
 */
struct dz_store_bank_row {
	const char *entry_id;
	const char *signal;		/* "pdq", "video_md5", "vpdq" */
	const char *value;
	int quality;			/* 100 for a video_md5 */
	const char *category;
	const char *added_at;
	const char *withdrawn_at;	/* NULL: an entry */
};
typedef int (*dz_store_bank_fn)(const struct dz_store_bank_row *row,
    void *ctx);
int dz_store_bank_rows(struct dz_store *s, int64_t since_rev,
    int64_t upto_rev, int min_quality, dz_store_bank_fn fn, void *ctx,
    struct dz_err *err);

#endif
