/*
 * lib/work/hashstore: verified media → hashes → media destroyed. See the header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "crypto/blob.h"
#include "crypto/crypt.h"
#include "core/err.h"
#include "media/media.h"
#include "hash/pdq.h"
#include "core/record.h"
#include "store/store.h"
#include "store/storehashes.h"
#include "store/storekeycheck.h"
#include "work/hashstore.h"
#include "store/storepurge.h"

/* An active PDQ of the store, for "already known" flags. */
struct known {
	char entry[DZ_ENTRY_ID_LEN + 1];
	struct dz_pdq pdq;
};

struct dz_hashstore {
	const struct dz_config *cfg;
	struct dz_hash_opts opts;
	struct dz_store *store;
	uint8_t master[DZ_KEY_BYTES];
	int lock_fd, blobs_fd;
	char *actor;
	struct known *known;
	size_t nknown, capknown;
	int known_loaded;
};

void
dz_hashstore_close(struct dz_hashstore *h)
{
	if (!h)
		return;
	dz_store_close(h->store);
	if (h->blobs_fd >= 0)
		close(h->blobs_fd);
	if (h->lock_fd >= 0)
		close(h->lock_fd);
	explicit_bzero(h->master, sizeof h->master);
	free(h->known);
	free(h->actor);
	free(h);
}

struct dz_hashstore *
dz_hashstore_open(const struct dz_config *cfg, const struct dz_hash_opts *opts,
    const char *actor, struct dz_err *err)
{
	struct dz_hashstore *h = calloc(1, sizeof *h);
	char path[4096];
	int check;

	if (!h) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	h->lock_fd = h->blobs_fd = -1;
	h->cfg = cfg;
	h->opts = *opts;
	if (!(h->actor = strdup(actor ? actor : "dz-hash"))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	if (access(cfg->store, F_OK) != 0) {
		dz_err_set(err, EX_NOINPUT, "there is no store (make one with "
		    "dz-ingest --init)");
		goto fail;
	}
	if (dz_crypt_master_load(cfg->master_key, h->master, err) ||
	    (check = dz_store_keycheck_load(cfg->store, h->master, err)) < 0 ||
	    dz_store_open(cfg->store, &h->store, err) ||
	    (check == 1 && dz_store_keycheck_record(h->store, cfg->store,
	    h->master, err)))
		goto fail;
	if ((size_t)snprintf(path, sizeof path, "%s/hash.lock", cfg->store) >=
	    sizeof path) {
		dz_err_set(err, EX_CONFIG, "store path too long");
		goto fail;
	}
	h->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (h->lock_fd < 0) {
		dz_err_set(err, EX_CANTCREAT, "cannot open the hash lock: %s",
		    strerror(errno));
		goto fail;
	}
	if (flock(h->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		dz_err_set(err, EX_TEMPFAIL,
		    "another dz-hash --store is running; try again later");
		goto fail;
	}
	h->blobs_fd = open(dz_store_blob_dir(h->store),
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->blobs_fd < 0) {
		dz_err_set(err, EX_IOERR, "cannot open the blob directory: %s",
		    strerror(errno));
		goto fail;
	}
	return h;
fail:
	dz_hashstore_close(h);
	return NULL;
}

static int
known_add(struct dz_hashstore *h, const char *entry, const struct dz_pdq *p)
{
	struct known *nk;

	if (h->nknown == h->capknown) {
		size_t cap = h->capknown ? h->capknown * 2 : 64;
		if (!(nk = realloc(h->known, cap * sizeof *nk)))
			return -1;
		h->known = nk;
		h->capknown = cap;
	}
	snprintf(h->known[h->nknown].entry, sizeof h->known[h->nknown].entry,
	    "%s", entry);
	h->known[h->nknown].pdq = *p;
	h->nknown++;
	return 0;
}

static int
known_row(const char *entry, const char *value, int quality, void *ctx)
{
	struct dz_hashstore *h = ctx;
	struct dz_pdq p;

	if (quality < h->cfg->min_quality)
		return 0;	/* never exported, never matched: not "known" */
	if (dz_pdq_from_hex(value, &p) != 0)
		return 0;	/* not ours to judge here; the bank export checks */
	return known_add(h, entry, &p) ? -1 : 0;
}

/* The nearest active PDQ within the threshold: its index, or -1. */
static long
known_nearest(const struct dz_hashstore *h, const struct dz_pdq *p, int *dist)
{
	long best = -1;
	int bd = h->cfg->pdq_threshold + 1, d;
	size_t i;

	for (i = 0; i < h->nknown; i++) {
		d = dz_pdq_distance(&h->known[i].pdq, p);
		if (d < bd) {
			bd = d;
			best = (long)i;
		}
	}
	*dist = bd;
	return best;
}

static json_t *
error_record(const char *item, const char *reason)
{
	json_t *e = dz_record_error("dz-hash", reason);

	if (e && json_object_set_new(e, "item", json_string(item))) {
		json_decref(e);
		return NULL;
	}
	return e;
}

/* Decrypt the item's media into *buf (caller wipes and frees). */
static int
read_media(struct dz_hashstore *h, const struct dz_store_hashable *it,
    uint8_t **buf, size_t *len, struct dz_err *err)
{
	uint8_t key[DZ_KEY_BYTES];
	char aad[DZ_AAD_MAX];
	int fd, rc;

	dz_crypt_aad(aad, "item", it->id);
	if (dz_crypt_unwrap(h->master, it->wrapped_key, aad, key, err))
		return -1;
	fd = openat(h->blobs_fd, it->blob, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		explicit_bzero(key, sizeof key);
		return dz_err_set(err, EX_DATAERR,
		    "the item's encrypted media is missing: %s",
		    strerror(errno));
	}
	rc = dz_blob_read_all(fd, key, h->cfg->max_upload_bytes, buf, len, err);
	explicit_bzero(key, sizeof key);
	close(fd);
	return rc;
}

/* The best frame quality of a signature, -1 when it has no frame. */
static int
best_quality(const struct dz_vpdqsig *v)
{
	int best = -1;

	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].quality > best)
			best = v->v[i].quality;
	return best;
}

static void
row(struct dz_store_hash *h, const char *signal, const char *value,
    int quality)
{
	h->signal = signal;
	h->value = value;
	h->quality = quality;
}

/*
 * The store rows of r into sh (at most 3): an image's pdq, md5 and
 * sha256; a video's video_md5, sha256 and vpdq (whose JSON text *vjson
 * the caller frees). *n rows; *lead is the one the record names as its
 * "entry" (the pdq, or the vpdq; a video without frames: its MD5).
 */
static int
store_rows(const struct dz_hash_result *r, const char *pdq_hex,
    const char *known, struct dz_store_hash sh[3], size_t *n, size_t *lead,
    char **vjson)
{
	memset(sh, 0, 3 * sizeof *sh);
	*vjson = NULL;
	if (!r->video) {
		row(&sh[0], "pdq", pdq_hex, r->pdq.quality);
		sh[0].known_entry = known;
		row(&sh[1], "md5", r->digest.md5, -1);
		row(&sh[2], "sha256", r->digest.sha256, -1);
		*n = 3;
		*lead = 0;
		return 0;
	}
	row(&sh[0], "video_md5", r->digest.md5, -1);
	row(&sh[1], "sha256", r->digest.sha256, -1);
	*n = 2;
	*lead = 0;
	if (r->vpdq.n) {
		json_t *j = dz_vpdqsig_to_json(&r->vpdq);

		*vjson = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (!*vjson)
			return -1;
		row(&sh[2], "vpdq", *vjson, best_quality(&r->vpdq));
		*n = 3;
		*lead = 2;
	}
	return 0;
}

/*
 * Hash one item. 1 hashed, 0 not due any more, -1 with err: EX_DATAERR
 * for this item only (it stays for an analyst), anything else stops.
 */
static int
hash_item(struct dz_hashstore *h, const char *item_id, json_t **rec,
    struct dz_err *err)
{
	struct dz_store_hashable it;
	struct dz_hash_result r;
	struct dz_store_hash sh[3];
	uint8_t *buf = NULL;
	size_t len = 0, nsh = 0, lead = 0;
	char now[DZ_TIME_LEN], hex[65], *vjson = NULL;
	long near = -1;
	int rc, dist = 0, low, quality;

	*rec = NULL;
	rc = dz_store_hashable_get(h->store, item_id, &it, err);
	if (rc <= 0)
		return rc;
	rc = read_media(h, &it, &buf, &len, err);
	explicit_bzero(it.wrapped_key, sizeof it.wrapped_key);
	if (rc)
		return -1;
	rc = dz_hash_media(buf, len, &h->opts, &r, err);
	dz_crypt_free_wiped(buf, len);
	if (rc) {
		dz_hash_result_release(&r);
		return -1;
	}

	quality = r.video ? best_quality(&r.vpdq) : r.pdq.quality;
	low = quality < h->cfg->min_quality;
	dz_pdq_to_hex(&r.pdq.hash, hex);
	if (!low && !r.video)
		near = known_nearest(h, &r.pdq.hash, &dist);
	if (store_rows(&r, hex, near >= 0 ? h->known[near].entry : NULL, sh,
	    &nsh, &lead, &vjson)) {
		dz_hash_result_release(&r);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}

	rc = -1;
	if (dz_clock_now(now)) {
		dz_err_set(err, EX_SOFTWARE, "cannot read the clock");
		goto out;
	}
	if (dz_store_begin(h->store, err))
		goto out;
	if (dz_store_item_hashed(h->store, item_id, sh, nsh, h->actor, now,
	    err)) {
		dz_store_rollback(h->store);
		/* a concurrent verdict made it not due: skip it quietly */
		rc = err->code == EX_DATAERR ? 0 : -1;
		goto out;
	}
	if (dz_store_commit(h->store, err))
		goto out;

	/* the key is gone; the ciphertext goes too */
	if (unlinkat(h->blobs_fd, it.blob, 0) != 0 && errno != ENOENT) {
		dz_err_set(err, EX_IOERR,
		    "cannot remove a destroyed item's blob: %s",
		    strerror(errno));
		goto out;
	}
	if (fsync(h->blobs_fd) != 0) {
		dz_err_set(err, EX_IOERR, "cannot sync blobs: %s",
		    strerror(errno));
		goto out;
	}
	if (dz_store_blob_cleared(h->store, item_id, err))
		goto out;

	if (!low && !r.video && known_add(h, sh[0].entry_id, &r.pdq.hash))
		goto oom;

	if (!(*rec = dz_record_new("hash")) ||
	    json_object_set_new(*rec, "item", json_string(item_id)) ||
	    dz_hash_record_fields(*rec, &r, h->opts.dihedral) ||
	    json_object_set_new(*rec, "entry", json_string(sh[lead].entry_id)))
		goto oom;
	if (r.video && lead != 0 && json_object_set_new(*rec, "md5_entry",
	    json_string(sh[0].entry_id)))
		goto oom;
	if (near >= 0) {
		json_t *k = json_pack("{s:s,s:i}", "entry",
		    h->known[near].entry, "distance", dist);
		if (!k || json_object_set_new(*rec, "known", k))
			goto oom;
	}
	if (low && json_object_set_new(*rec, "low_quality", json_true()))
		goto oom;
	rc = 1;
	goto out;
oom:
	json_decref(*rec);
	*rec = NULL;
	dz_err_set(err, EX_SOFTWARE, "out of memory");
	rc = -1;
out:
	free(vjson);
	dz_hash_result_release(&r);
	return rc;
}

int
dz_hashstore_run(struct dz_hashstore *h, const char *item_id,
    dz_hashstore_emit_fn emit, void *ctx, unsigned *hashed, unsigned *failed,
    struct dz_err *err)
{
	char **ids = NULL, *one[1];
	size_t n = 0, i;
	json_t *rec;
	struct dz_err ierr;
	int rc, ret = 0;

	*hashed = *failed = 0;
	if (dz_store_finish_blobs(h->store, err))
		return -1;
	if (!h->known_loaded) {
		if (dz_store_list_pdq(h->store, known_row, h, err))
			return -1;
		h->known_loaded = 1;
	}
	if (item_id) {
		one[0] = (char *)item_id;
	} else if (dz_store_hashable_ids(h->store, &ids, &n, err)) {
		return -1;
	}
	for (i = 0; i < (item_id ? 1 : n); i++) {
		const char *id = item_id ? one[0] : ids[i];

		dz_err_clear(&ierr);
		rc = hash_item(h, id, &rec, &ierr);
		if (rc < 0 && ierr.code != EX_DATAERR) {
			*err = ierr;
			ret = -1;
			break;
		}
		if (rc < 0) {
			(*failed)++;
			if (!(rec = error_record(id, ierr.msg))) {
				ret = dz_err_set(err, EX_SOFTWARE,
				    "out of memory");
				break;
			}
		} else if (rc == 0) {
			if (!item_id)
				continue;
			(*failed)++;
			if (!(rec = error_record(id,
			    "no such item due for hashing (judged illegal, "
			    "media not yet destroyed)"))) {
				ret = dz_err_set(err, EX_SOFTWARE,
				    "out of memory");
				break;
			}
		} else {
			(*hashed)++;
		}
		if (emit(rec, ctx)) {
			ret = dz_err_set(err, EX_IOERR, "cannot write a record");
			break;
		}
	}
	dz_store_ids_free(ids, n);
	/* no copy of an erased key may stay in the write-ahead log */
	if (dz_store_checkpoint(h->store, &ierr) && ret == 0) {
		*err = ierr;
		ret = -1;
	}
	return ret;
}
