/*
 * lib/work/bankexport: dz-export bank, the store's hashes leaving the hotline
 * as a signed partner bank (lib/bank/bank formats, lib/crypto/sign signatures).
 *
 * One run is one export with the next sequence number:
 *   1. BEGIN IMMEDIATE: a consistent view, one exporter at a time;
 *   2. the rows (lib/store/store): a full snapshot of active PDQ hashes of
 *      quality >= min_quality, or a delta of what changed since an
 *      earlier export (entries added or changed, tombstones);
 *   3. the bank built and its content digest computed (lib/bank/bank), chained
 *      to the previous export (prev) and, for a delta, to its base;
 *   4. each output file written as FILE.tmp, fsync'd, signed into
 *      FILE.minisig.tmp (the trusted comment carries the metadata);
 *   5. the export row recorded (lib/store/store) and committed;
 *   6. the temporary files renamed into place, directories fsync'd.
 * Killed before 5: nothing counts, the next run starts afresh (and
 * replaces the stale temporary files). Killed between 5 and 6: the next
 * run, inside its transaction, finds the recorded export's files (or
 * signatures) still under their temporary names, checks them against the
 * SHA-256 recorded for each file, and renames them first; its record
 * says "recovered". An export number is never reused for other content.
 *
 * Only hash values, quality, category, opaque entry ids and dates leave:
 * never a case or item id, a URL or personal data.
 *
 * One run at a time: a run takes the store's export.lock (EX_TEMPFAIL if
 * another holds it). File names are recorded as absolute paths, so the
 * next run recovers them from any working directory. The file "-" is
 * standard output: the bank is kept in memory (never on disk) until the
 * export is committed, then written out; its signature goes to the file
 * o->signature. A run killed while writing standard output cannot be
 * finished by the next one: make a new full export.
 *
 * May use: core/, crypto/ (digest, sign), hash/ (vpdqsig), store/, bank/.
 */
#ifndef DZ_BANKEXPORT_H
#define DZ_BANKEXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bank/bank.h"

struct dz_err;
struct dz_progress;
struct dz_sign_key;
struct dz_store;

#define DZ_BANKEXPORT_FULL (-1)		/* since: a full snapshot */
#define DZ_BANKEXPORT_LAST 0		/* since: the latest export */
#define DZ_BANKEXPORT_LAST_FULL (-2)	/* since: the latest full export */
#define DZ_BANKEXPORT_MAX_FILES 16
/* Only hashes of this quality or more leave, whatever match.min_quality
 * says: a changing floor would put deltas out of step with snapshots. */
#define DZ_BANKEXPORT_MIN_QUALITY 50

struct dz_bankexport_file {
	const char *path;		/* "%n" stands for the export number;
					   "-" for standard output */
	enum dz_bank_format format;
};

struct dz_bankexport_opts {
	int64_t since;			/* _FULL, _LAST, or an export number */
	const struct dz_bankexport_file *files;
	size_t nfiles;
	const struct dz_sign_key *key;	/* NULL: unsigned */
	const char *collab;		/* issuer name, [A-Za-z0-9._-], 1..31 */
	const char *signature;		/* the signature file of "-" */
	int allow_empty;		/* write a delta even with no change */
	const char *actor;
	/* ticked once per hash row read (lib/core/progress), or NULL; the
	 * caller ends it */
	struct dz_progress *progress;
};

/*
 * The format a file name asks for: .jsonl, .json, .ndjson → JSON Lines,
 * .csv → CSV, .dzb → binary; 0 if none of these.
 */
enum dz_bank_format dz_bankexport_format_of(const char *path);

/*
 * Make one export. On success *rec is a new record:
 *   {"type":"export","seq":N,"kind":"full"|"delta"[,"since":S],
 *    "digest":HEX,"entries":N,"withdrawals":M,"created":T,
 *    "files":[{"path","format","sha256","signed"}...],"signed":true|false
 *    [,"recovered":N]}
 * or, for a delta with nothing in it (and no allow_empty),
 *   {"type":"export","empty":true,"since":S} with no export made.
 * EX_DATAERR: no such base export, a delta with no earlier export, a bad
 * row in the store; EX_USAGE: one file named twice, "-" with other files
 * or signed without o->signature; EX_CANTCREAT / EX_IOERR: the files;
 * EX_TEMPFAIL: the store is busy or another export is running.
 */
int dz_bankexport_run(struct dz_store *s, const struct dz_bankexport_opts *o,
    json_t **rec, struct dz_err *err);

#endif
