/*
 * lib/store/storepurge: the retention part of lib/store/store, for dz-purge: what is
 * due to go, and each deletion as one step.
 *
 * Media is destroyed by erasing its item key (crypto-shredding) in one
 * transaction; the blob file is unlinked after the commit and its name
 * cleared in a second step, so a run killed in between leaves a name
 * that the next run finds and finishes (dz_store_finish_blobs). Personal
 * data goes with lib/store/store's dz_store_case_purge_personal. A withdrawn
 * hash goes too: rows never given to partners (an image's MD5 and
 * SHA-256, a video's SHA-256, and any PDQ, vPDQ or video MD5 that no
 * export gave out) are deleted; a PDQ, vPDQ or video MD5 that an export
 * gave out is kept as a tombstone (value, category, dates) cut from its
 * item, so that every later delta, cumulative ones included, withdraws
 * it.
 *
 * May use: core/ (err); store/ (store, storeint).
 */
#ifndef DZ_STOREPURGE_H
#define DZ_STOREPURGE_H

struct dz_err;
struct dz_store;

/* The cut-off times: what is older than each is due (RFC 3339). */
struct dz_store_purge_policy {
	const char *media_before;	/* media of items not judged illegal */
	const char *personal_before;	/* closing or withdrawal of a case */
	const char *hashes_before;	/* withdrawal of a hash */
};

/*
 * What is due, in this order: media ("media": unverified, not_illegal or
 * withdrawn), personal data ("personal_data"), withdrawn hashes
 * ("hashes"). fn gets what, the case, the item (NULL for personal data)
 * and the reason; nonzero stops. Media of a withdrawn case is due at
 * once, whatever its age.
 */
typedef int (*dz_store_purge_fn)(const char *what, const char *case_id,
    const char *item_id, const char *reason, void *ctx);
int dz_store_purge_due(struct dz_store *s,
    const struct dz_store_purge_policy *p, dz_store_purge_fn fn, void *ctx,
    struct dz_err *err);

/*
 * Within a transaction: erase an item's media key (media_purged_at set,
 * audited). 1 if it was live, 0 if already gone. The blob file name stays
 * until dz_store_blob_cleared.
 */
int dz_store_purge_media(struct dz_store *s, const char *item_id,
    const char *reason, const char *actor, const char *now,
    struct dz_err *err);

/*
 * Finish what a run killed between erasing keys and removing their files
 * left: unlink the blob file of every item whose key is gone but whose
 * blob name is still there, sync the directory, clear the name. Outside
 * a transaction (each name cleared by a statement of its own). 0, or -1
 * with err (EX_IOERR, or the store's).
 */
int dz_store_finish_blobs(struct dz_store *s, struct dz_err *err);
/* The blob file of item_id is unlinked: clear its name (own statement,
 * outside or inside a transaction). */
int dz_store_blob_cleared(struct dz_store *s, const char *item_id,
    struct dz_err *err);

/*
 * Within a transaction: remove an item's withdrawn hashes as said above.
 * *deleted and *kept count rows deleted and tombstones kept. Audited.
 */
int dz_store_purge_hashes(struct dz_store *s, const char *item_id,
    const char *actor, const char *now, int *deleted, int *kept,
    struct dz_err *err);

#endif
