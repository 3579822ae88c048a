/*
 * lib/work/ingest: the one door into the store.
 *
 * Validates submissions (reports from the form backend) and operator
 * records (verdict, close, withdraw), and carries out each as one unit of
 * work: media encrypted to blobs and made durable, then one transaction,
 * then the plaintext uploads removed. See CONTRIBUTING.md, "How dz-ingest
 * works inside", and dz-records(5) for the fields.
 *
 * A struct dz_ingest holds the store open, the master key in memory and
 * an exclusive lock on the store's ingest lock file for its whole life.
 *
 * Keys are wrapped, and the contact (a compact JSON object) and the
 * description sealed under the case key, with the associated data of
 * dz_crypt_aad (lib/crypto/crypt).
 *
 * May use: core/, crypto/, media/ (sniffing), store/ (store, storenotice,
 * spool), notice/ (mail: the address parser); no other unit of work.
 */
#ifndef DZ_INGEST_H
#define DZ_INGEST_H

#include <jansson.h>

struct dz_config;
struct dz_err;
struct dz_ingest;

/*
 * Create the store directory and a new master key file (refuses to
 * overwrite an existing key). For first use: dz-ingest --init.
 */
int dz_ingest_init(const struct dz_config *cfg, struct dz_err *err);

/*
 * Open the store for ingest: load the master key, open and migrate the
 * store, take the lock (EX_TEMPFAIL if another dz-ingest holds it) and
 * delete blob files no item references. NULL with err on failure.
 */
struct dz_ingest *dz_ingest_open(const struct dz_config *cfg,
    const char *actor, struct dz_err *err);
void dz_ingest_close(struct dz_ingest *in);

/* Blob files removed by the sweep at open (for the record). */
int dz_ingest_swept(const struct dz_ingest *in);

/*
 * Handle one record. Files named by a submission are resolved against
 * base_dir (NULL: the current directory); in_spool restricts them to plain
 * names inside base_dir (itself not a link), opened without following
 * links. Uploads are opened without blocking and must be regular files
 * of media within limits.max_upload_bytes. With remove_files, uploaded
 * files are unlinked once the case is committed, only if their names
 * still lead to the files read; for a submission found to exist already,
 * each named file goes through the same checks first, and only what
 * passes is unlinked.
 *
 * Every record of a type dz-ingest takes is checked whole first: a member
 * its type does not have, a member of the wrong JSON type, a value out of
 * bounds, all reported together (dz_ingest_errors). A type that is
 * neither taken nor one of the other types of dz-records(5) (a typo such
 * as "remove") is refused too.
 *
 * Returns a new reference: an ack record for a handled record, or rec
 * itself for another type of dz-records(5) (pass-through). NULL with
 * err on failure: EX_DATAERR means this record is invalid (nothing was
 * written); any other code is a failure of the store or the system, and
 * the caller should stop.
 */
json_t *dz_ingest_record(struct dz_ingest *in, json_t *rec,
    const char *base_dir, int in_spool, int remove_files,
    struct dz_err *err);

/*
 * The faults of the record dz_ingest_record() refused last with
 * EX_DATAERR, all of them, as the "errors" member of its error record
 * (lib/core/recordcheck: member, index, expected, got, message); NULL
 * when it was refused for another reason. Borrowed: valid until the next
 * record.
 */
const json_t *dz_ingest_errors(const struct dz_ingest *in);

/*
 * The spool: DIR/new/NAME/ holds submission.json and the uploaded files
 * (the form backend writes DIR/tmp/NAME/ and renames it into new/).
 * Whoever writes the spool is hostile: entries are handled through
 * lib/store/spool, never following a link, and must be real directories of at
 * most limits.max_files uploads and a submission.json, regular files
 * only; submission.json is read within 1 MiB plus six times
 * limits.max_description_bytes. Each entry is ingested in name order and
 * removed; an invalid one is moved to DIR/rejected/NAME/ (NAME.1, NAME.2
 * ... when the name is taken) with an error.json beside it, and the run
 * goes on.
 *
 * emit gets each ack or error record (the record is the callee's to keep
 * or decref); a nonzero return stops. An error record has "spool" (the
 * entry's name), "reason", and "rejected" when it went under another
 * name, or "kept": true when it could not be moved at all. *bad counts
 * entries found invalid.
 *
 * Returns 0, or -1 with err: on a failure of the store or the system
 * while ingesting (the run stopped there; the entry waits for the next
 * run), or, at the end, when some entry could not be moved to rejected/
 * or removed once stored (the run went on past it; the next run tries it
 * again).
 */
typedef int (*dz_ingest_emit_fn)(json_t *rec, void *ctx);
int dz_ingest_spool(struct dz_ingest *in, const char *dir,
    dz_ingest_emit_fn emit, void *ctx, int *bad, struct dz_err *err);

#endif
