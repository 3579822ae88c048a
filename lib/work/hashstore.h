/*
 * lib/work/hashstore: dz-hash --store, the step where verified media becomes
 * hashes and is destroyed (DESIGN.md, rules 1 and 2).
 *
 * For each item judged illegal whose media is still live, in order:
 *   1. unwrap its key and decrypt its blob into memory (never to disk);
 *   2. hash it (lib/hash/hash: PDQ, MD5, SHA-256);
 *   3. one transaction: record the hashes (lib/store/store), clear the wrapped
 *      media key; commit;
 *   4. unlink the blob file and sync the directory; clear the blob name.
 * A crash before 3 leaves the item as it was (the next run hashes it); a
 * crash between 3 and the end of 4 leaves an encrypted blob whose key no
 * longer exists, and its name: every run starts by unlinking such files
 * and clearing their names (as dz-purge does), so the next one finishes
 * the work. After the run the store's WAL is checkpointed and truncated
 * so that no copy of an erased key stays in it.
 *
 * A new PDQ within the match threshold of an active one already in the
 * store is flagged "known" (the nearest entry and its distance), to spare
 * an analyst a second look; one below the quality floor is kept but
 * flagged "low_quality" (lib/store/store's bank rows never export it).
 *
 * A video gives its file's MD5 ("video_md5", shared with partners),
 * SHA-256 and vPDQ signature ("vpdq", lib/hash/vpdq's JSON; quality the best
 * frame's); its record names the vpdq entry ("entry") and the MD5 entry
 * ("md5_entry").
 *
 * Media that cannot be hashed (corrupt, over a limit) gives an error
 * record and is left as it is for an analyst.
 *
 * One dz-hash --store at a time: a lock file in the store directory
 * (EX_TEMPFAIL when another run holds it). dz-ingest may run beside it.
 *
 * May use: core/, crypto/ (crypt), media/, hash/, store/.
 */
#ifndef DZ_HASHSTORE_H
#define DZ_HASHSTORE_H

#include <jansson.h>

#include "hash/hash.h"

struct dz_config;
struct dz_err;
struct dz_hashstore;

/*
 * Called with each record: {"type":"hash","item":ID,...hash fields...,
 * "entry":PDQ entry id[,"known":{"entry":ID,"distance":D}]
 * [,"low_quality":true]} or {"type":"error","program":"dz-hash",
 * "reason":...,"item":ID}. The callee owns rec. Nonzero stops the run.
 */
typedef int (*dz_hashstore_emit_fn)(json_t *rec, void *ctx);

/* Open the store (master key, lock). NULL with err. */
struct dz_hashstore *dz_hashstore_open(const struct dz_config *cfg,
    const struct dz_hash_opts *opts, const char *actor, struct dz_err *err);

/*
 * Hash every due item (or only item_id when it is not NULL). Returns 0
 * when the run went through (items that failed are counted in *failed
 * and reported by records), or -1 with err when the store or the system
 * failed and the run stopped. *hashed counts items hashed.
 */
int dz_hashstore_run(struct dz_hashstore *h, const char *item_id,
    dz_hashstore_emit_fn emit, void *ctx, unsigned *hashed, unsigned *failed,
    struct dz_err *err);

void dz_hashstore_close(struct dz_hashstore *h);

#endif
