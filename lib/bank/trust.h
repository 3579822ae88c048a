/*
 * lib/bank/trust: dz-match's trust state file, which remembers, per issuer
 * key, the newest bank export accepted (so that an older export, or
 * another export under the same number, is refused later: rollback and
 * replay protection), and which bank files were fully verified (so that
 * an unchanged file need not be hashed again).
 *
 * The file is text, one record per line, fields separated by one space:
 *
 *	disrupt-match-state v1
 *	issuer KEYID SEQ DIGEST
 *	verified KEYID SEQ DIGEST DEV INO SIZE MTIME CTIME
 *
 * KEYID is the key id as minisign prints it (dz_sign_keyid_hex), DIGEST
 * the export's content digest in 64 lowercase hex digits, SEQ, DEV, INO
 * and SIZE decimal, MTIME and CTIME "SECONDS.NANOSECONDS" (nine digits).
 * One "issuer" line per key id; at most DZ_TRUST_CACHE_MAX "verified"
 * lines, the oldest dropped first. Anything else is refused (EX_CONFIG,
 * "line N: ..."): the file is ours, and a damaged one must not silently
 * forget what it protects.
 *
 * Writing takes an exclusive flock(2) on FILE.lock, reads the file again,
 * applies the changes, writes a temporary file in the same directory,
 * fsyncs it, renames it over FILE and fsyncs the directory. Reading needs
 * no lock (the file is only ever replaced whole). Nothing here prints.
 *
 * May use: core/ (err, fdio, hex), crypto/ (sign: key ids).
 */
#ifndef DZ_TRUST_H
#define DZ_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct dz_err;

#define DZ_TRUST_KEYID_BYTES 8
#define DZ_TRUST_CACHE_MAX 256
#define DZ_TRUST_MAX_BYTES (1u << 20)	/* a larger state file is refused */

struct dz_trust_issuer {
	uint8_t keyid[DZ_TRUST_KEYID_BYTES];
	uint64_t seq;			/* newest export accepted */
	uint8_t digest[32];		/* its content digest */
};

/* What identifies a bank file that was fully verified. */
struct dz_trust_file {
	uint8_t keyid[DZ_TRUST_KEYID_BYTES];
	uint64_t seq;
	uint8_t digest[32];
	uint64_t dev, ino, size;
	int64_t mtime_sec, ctime_sec;
	long mtime_nsec, ctime_nsec;
};

/* The state in memory: plain arrays, owned by the struct. */
struct dz_trust {
	struct dz_trust_issuer *iss;
	size_t niss;
	struct dz_trust_file *files;	/* oldest first */
	size_t nfiles;
};

/*
 * The default state file: $XDG_STATE_HOME/dz/match.state, else
 * $HOME/.local/state/dz/match.state. *out is malloc'd. EX_CONFIG when
 * neither variable is set (or they are not absolute paths).
 */
int dz_trust_default_path(char **out, struct dz_err *err);

/*
 * Create the directory that will hold path, and its missing parents,
 * with mode 0700 (existing directories are left as they are).
 * EX_CANTCREAT on failure.
 */
int dz_trust_mkdir_parent(const char *path, struct dz_err *err);

/*
 * Read the state file at path into *t (which is initialised here; release
 * it with dz_trust_release). A missing file is an empty state. EX_CONFIG
 * for a malformed file or one that cannot be opened, EX_IOERR when
 * reading it fails.
 */
int dz_trust_read(const char *path, struct dz_trust *t, struct dz_err *err);

/* Parse the text of a state file (what dz_trust_read does after reading). */
int dz_trust_parse(const char *text, size_t len, struct dz_trust *t,
    struct dz_err *err);

/* The text of the state (malloc'd, NUL-terminated; the caller frees). */
int dz_trust_format(const struct dz_trust *t, char **out, struct dz_err *err);

void dz_trust_release(struct dz_trust *t);

/* The issuer entry of keyid, or NULL. */
const struct dz_trust_issuer *dz_trust_issuer(const struct dz_trust *t,
    const uint8_t keyid[DZ_TRUST_KEYID_BYTES]);

/*
 * May export seq (with this digest) of keyid be accepted? 0 when it is
 * newer than what is recorded, or the very export recorded; -1 with
 * EX_DATAERR otherwise:
 *   "bank seq 3 is older than seq 5 already accepted (rollback)"
 *   "bank seq 5 differs from the seq 5 already accepted (replay or
 *    forgery)"
 */
int dz_trust_check(const struct dz_trust *t,
    const uint8_t keyid[DZ_TRUST_KEYID_BYTES], uint64_t seq,
    const uint8_t digest[32], struct dz_err *err);

/*
 * Record export seq of keyid as the newest accepted, if it is newer than
 * the one recorded. Returns 1 if the state changed, 0 if not, -1 when out
 * of memory.
 */
int dz_trust_accept(struct dz_trust *t,
    const uint8_t keyid[DZ_TRUST_KEYID_BYTES], uint64_t seq,
    const uint8_t digest[32], struct dz_err *err);

/* The identity of a file as fstat/stat gives it, for the cache. */
void dz_trust_file_from_stat(struct dz_trust_file *f, const struct stat *st);

/*
 * Is this file (key id, export, digest and every stat field) recorded as
 * fully verified? 1 or 0.
 */
int dz_trust_cached(const struct dz_trust *t, const struct dz_trust_file *f);

/*
 * Record f as fully verified (replacing an entry for the same device and
 * inode; dropping the oldest beyond DZ_TRUST_CACHE_MAX). 1 if the state
 * changed, 0 if it was there already, -1 when out of memory.
 */
int dz_trust_cache_put(struct dz_trust *t, const struct dz_trust_file *f,
    struct dz_err *err);

/*
 * Apply changes to the state file at path, under its lock: read it again
 * (another process may have written it since), call apply(t, ctx) on the
 * fresh state, and if apply returns 1 (changed), write it back
 * atomically. apply returns 0 (nothing to write), 1 (write) or -1 (error:
 * its err is passed on and nothing is written). The directory must exist
 * (dz_trust_mkdir_parent). If the lock file cannot be created because the
 * directory is read-only, the state is read without a lock and apply
 * still runs; writing is then an error. Errors: EX_CANTCREAT "cannot
 * write the state file: ...", EX_IOERR, EX_CONFIG (malformed), or apply's.
 */
typedef int (*dz_trust_apply_fn)(struct dz_trust *t, void *ctx,
    struct dz_err *err);
int dz_trust_update(const char *path, dz_trust_apply_fn apply, void *ctx,
    struct dz_err *err);

#endif
