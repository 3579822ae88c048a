/*
 * lib/work/match: what dz-match does between its options and its output: a set
 * of banks, each verified against the issuer's key, chained (a full
 * export, then its deltas), checked against the trust state
 * (lib/bank/trust), indexed; queries of PDQ hashes and of videos (vPDQ
 * signatures and MD5s) against all of them; the input lines of --hashes;
 * the match record.
 *
 *	s = dz_match_set_new(&opts, &err);
 *	for each --bank: dz_match_set_add(s, path, threshold, &err);
 *	dz_match_set_seal(s, &err);	// chains, state, indexes
 *	sc = dz_match_scratch_new(&err);	// one per thread
 *	dz_match_query(s, hashes, nhashes, sc, &hits, &err);
 *	for each hit: dz_match_record_fill(s, &hit, quality, rec);
 *	dz_match_set_free(s);
 *
 * Trust. A bank FILE is signed by FILE.minisig (minisign's format, see
 * lib/crypto/sign). The signature is verified over the file's exact bytes with
 * the key whose id it names (one of opts.keys), and its trusted comment
 * (dz_bank_comment) must agree with the file's own metadata. Without
 * opts.insecure a missing signature is refused; with it, the bank is
 * loaded unsigned (and counted: dz_match_set_unsigned) but a signature
 * that is there is still checked and a bad one refused.
 *
 * Chains. Banks are grouped by issuer key (unsigned banks with metadata
 * by the collab name in it; an unsigned CSV file, which has none, stands
 * alone). Within a group, sorted by seq, the first must be a full
 * export and each later one a delta whose since and base are the seq and
 * digest of the one before. A delta's entries replace entries of the same
 * id in earlier banks of the group, and its tombstones remove them: such
 * earlier entries (all the frame rows of a video) are marked dead (a
 * bitmap per bank) and never reported.
 *
 * State. The newest export of each signed group is checked against the
 * state file (dz_trust_check: rollback, replay) and recorded there when it
 * is newer; unsigned banks are never recorded. Fully verified files are
 * recorded too (key id, export, digest, device, inode, size, mtime,
 * ctime).
 *
 * Once sealed a set is read-only: any number of threads may query it at
 * once, each with its own scratch.
 *
 * May use: core/, crypto/ (digest, sign), hash/ (pdq, vpdqsig), bank/.
 */
#ifndef DZ_MATCH_H
#define DZ_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hash/pdq.h"

struct dz_err;
struct dz_bank;
struct dz_mih;
struct dz_sign_pub;

#define DZ_MATCH_THRESHOLD 31		/* default per-bank PDQ threshold */
#define DZ_MATCH_MIN_QUALITY 50		/* default quality floor */
#define DZ_MATCH_SIG_MAX (64 * 1024)	/* a larger .minisig is refused */
/* A JSON Lines or CSV bank (or one read from a pipe) larger than this is
 * refused: 10 million entries take about 2.2 GB as JSON Lines. */
#define DZ_MATCH_BANK_MAX ((uint64_t)4 << 30)

struct dz_match_opts {
	const struct dz_sign_pub *keys;	/* nkeys trusted issuer keys */
	int nkeys;
	int insecure;		/* allow banks without a signature file */
	int brute;		/* compare with every entry (test oracle) */
	int no_index;		/* seal builds no index (--verify-only) */
	const char *state;	/* state file path; NULL: no state */
	uint64_t max_bank_bytes;	/* JSON Lines/CSV read limit; 0 none */
};

/* One bank of the set; read-only for callers. */
struct dz_match_bank {
	char *path;			/* as given */
	struct dz_bank *bank;
	int threshold;			/* 0..256 */
	int is_signed;			/* its signature was verified */
	uint8_t keyid[8];		/* issuer key id, when signed */
	int group;			/* chain it belongs to */
	int chain_pos;			/* 0 for the full export */
	int cache_hit;			/* its file was in the verified cache */
	uint64_t *dead;			/* bit i: entry i superseded; or NULL */
	uint64_t ndead;
	const struct dz_mih *index;	/* NULL: no entry, or not built */
	uint32_t *md5_rows;		/* its MD5 rows, by value (seal) */
	size_t nmd5;
};

struct dz_match_set {
	struct dz_match_opts opts;
	struct dz_match_bank *banks;	/* in the order they were added */
	size_t nbanks;
	size_t nunsigned;
	size_t bad_bank;	/* after a failed seal: the bank at fault, or
				   (size_t)-1 when none */
	int state_warning;	/* the cache could not be saved: warn */
	struct dz_err warn;	/* why */
	void *priv;		/* the trust state read at start */
};

/* A new, empty set (opts is copied; keys must outlive the set). */
struct dz_match_set *dz_match_set_new(const struct dz_match_opts *opts,
    struct dz_err *err);

/*
 * Load the bank at path, verify it (see above) and add it with this
 * threshold (0..256). err names what is wrong with the bank; the caller
 * adds its name. EX_NOINPUT: the bank or its signature cannot be opened
 * ("cannot open signature 'x.dzb.minisig': No such file or directory");
 * EX_DATAERR: a malformed bank, a bad signature, metadata that disagree;
 * EX_CONFIG: no key to check a signature with.
 */
int dz_match_set_add(struct dz_match_set *s, const char *path,
    int threshold, struct dz_err *err);

/* How many banks were added without a signature (--insecure). */
size_t dz_match_set_unsigned(const struct dz_match_set *s);

/*
 * Check the chains and mark dead entries; check the newest export of each
 * signed group against the state and record it; build the indexes. On
 * failure, s->bad_bank names the bank at fault (when there is one).
 * Errors: EX_DATAERR for a broken chain, a rollback or a replay;
 * EX_CANTCREAT/EX_IOERR when the state cannot be written; EX_CONFIG for a
 * malformed state file; EX_SOFTWARE when out of memory. When only the
 * cache of verified files could not be saved, it succeeds and sets
 * s->state_warning and s->warn.
 */
int dz_match_set_seal(struct dz_match_set *s, struct dz_err *err);

void dz_match_set_free(struct dz_match_set *s);

/* Is entry i of bank b superseded by a later delta? */
int dz_match_dead(const struct dz_match_bank *b, uint64_t i);

/*** Queries ***/

/*
 * What matched what. An image query finds bank images (IMAGE) and frames
 * of bank videos (FRAME, bank_frame set). A video query finds bank videos
 * by vPDQ (VIDEO, with the two shares) or by the file's MD5 (MD5), and
 * bank images in its frames (FRAME, with the query frame).
 */
enum dz_match_kind {
	DZ_MATCH_IMAGE = 0, DZ_MATCH_FRAME = 1, DZ_MATCH_VIDEO = 2,
	DZ_MATCH_MD5 = 3
};

struct dz_match_hit {
	uint32_t bank;			/* index into s->banks */
	uint32_t entry;			/* that bank's row (a video: its first) */
	int distance;			/* smallest PDQ distance; MD5: 0 */
	int transform;			/* enum dz_pdq_dihedral; 0: as is */
	int kind;			/* enum dz_match_kind */
	uint32_t bank_frame;		/* FRAME on a bank video: its frame */
	int64_t frame;			/* FRAME in a query video: the frame */
	double t;			/* and its time, seconds */
	int quality;			/* and its quality; else -1 */
	double query_pct, bank_pct;	/* VIDEO: the matched shares */
};

/* A growing array of hits, owned by the caller (free(v) when done). */
struct dz_match_hits {
	struct dz_match_hit *v;
	size_t n, cap;
};

struct dz_match_scratch;
struct dz_match_scratch *dz_match_scratch_new(struct dz_err *err);
void dz_match_scratch_free(struct dz_match_scratch *sc);

/*
 * Match one input. hashes[0] is the input as it is; with nhashes ==
 * DZ_PDQ_NDIHEDRAL, hashes[k] is the input under transform k (enum
 * dz_pdq_dihedral) and each is queried too. Each bank is queried with its
 * threshold; dead entries are dropped. out is emptied, then gets one hit
 * per (bank, entry) within the threshold under some transform: the
 * smallest distance, and of those the first transform. Sorted by bank,
 * then entry. Returns the number of hits, or -1 (EX_SOFTWARE: out of
 * memory).
 */
int dz_match_query(const struct dz_match_set *s, const struct dz_pdq *hashes,
    int nhashes, struct dz_match_scratch *sc, struct dz_match_hits *out,
    struct dz_err *err);

struct dz_vpdqsig;

struct dz_match_video_opts {
	int min_quality;	/* frames below, on either side, are ignored */
	double query_pct;	/* DZ_VPDQSIG_QUERY_PCT (80) */
	double bank_pct;	/* DZ_VPDQSIG_BANK_PCT (0) */
};

/*
 * Match one video: its vPDQ signature v (frames of quality below the
 * floor are not queried) and the MD5 of its file (md5, 16 bytes, or
 * NULL). Each bank's threshold is the frame distance. A bank video
 * matches (kind VIDEO) when dz_vpdqsig_match says so: at least query_pct
 * percent of our frames are near one of its frames and bank_pct of its
 * frames near one of ours; a bank image within the threshold of one of
 * our frames is a FRAME hit (the nearest, earliest frame); an MD5 entry
 * equal to md5 is an MD5 hit. out as for dz_match_query; -1 when out of
 * memory.
 */
int dz_match_query_video(const struct dz_match_set *s,
    const struct dz_vpdqsig *v, const uint8_t *md5,
    const struct dz_match_video_opts *o, struct dz_match_scratch *sc,
    struct dz_match_hits *out, struct dz_err *err);

/*
 * Add to rec (a new {"type":"match", "path": ...} object) the fields of
 * hit: "entry", "signal" ("pdq", "vpdq" or "video_md5"), "distance",
 * "category", "bank" (and "bank_hex" when the bank's name is not UTF-8),
 * "bank_seq", "quality" (the hit's frame quality, else quality when
 * >= 0), "transform" when it is not the identity; "bank_frame" for an
 * image matching a bank video's frame; "frame" and "timestamp" for a
 * bank image found in a query video; "query_match_pct" and
 * "bank_match_pct" for a video match. -1 when out of memory.
 */
int dz_match_record_fill(const struct dz_match_set *s,
    const struct dz_match_hit *hit, int quality, json_t *rec);

/*** Input lines of --hashes ***/

enum dz_match_in_kind {
	DZ_MATCH_IN_HASH = 1,	/* a hash to match */
	DZ_MATCH_IN_PASS = 2,	/* a record to pass through unchanged */
	DZ_MATCH_IN_VIDEO = 3	/* a video's signature to match */
};

struct dz_match_in {
	enum dz_match_in_kind kind;
	struct dz_pdq pdq[DZ_PDQ_NDIHEDRAL];	/* [0]: the hash */
	int ndihedral;		/* 8 when pdq[0..7] are the dihedral hashes */
	int quality;		/* -1: not given */
	json_t *rec;		/* the record (HASH from a record, or PASS);
				   NULL for a bare line. Owned: release */
	char *path;		/* a bare line's file name, or NULL. Owned */
	struct dz_vpdqsig *vpdq;	/* DZ_MATCH_IN_VIDEO: frames. Owned */
	int has_md5;		/* and the file's MD5, when the record has it */
	uint8_t md5[16];
};

/* The most frames a video's hash record may have (4 hours at 1/s is
 * 14400; lib/media/video's frame limit is 1M). */
#define DZ_MATCH_VPDQ_MAX 1000000
/* The longest --hashes line: a video's record is about 90 bytes a frame,
 * 1.3 MB for 4 hours; this leaves room for 180000 frames. */
#define DZ_MATCH_LINE_MAX ((size_t)16 << 20)

/*
 * Parse one input line:
 *  - a JSON object: a record of type "hash" with "pdq" is a hash (its
 *    "quality" is required; "pdq_dihedral", when it holds the eight
 *    members dz-hash writes, gives the transforms); one with "vpdq" is a
 *    video (its "md5", when there, is matched too); any other record,
 *    including a "hash" record with neither, passes through;
 *  - "HEX" or "HEX,QUALITY" or "HEX,QUALITY,NAME" (what dz-hash --format
 *    csv and pdq-photo-hasher write): a bare hash.
 * Returns 0 and fills *in, or -1 with EX_DATAERR and a reason that quotes
 * nothing of the line; then in->rec still holds the record when the line
 * was a JSON object (to be quoted in the error record). Release *in with
 * dz_match_in_release in both cases.
 */
int dz_match_in_parse(const char *line, size_t len, struct dz_match_in *in,
    struct dz_err *err);
void dz_match_in_release(struct dz_match_in *in);

#endif
