/*
 * lib/work/purge: one dz-purge run. See purge.h for the steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "work/purge.h"
#include "core/record.h"
#include "store/spool.h"
#include "store/store.h"
#include "store/storepurge.h"

/* Up to 40 tries of 0.2 s each, 0.3 s apart: about 20 s in all, and no
 * writer held back for more than 0.2 s at a time. */
#define CHECKPOINT_TRIES 40
#define CHECKPOINT_WAIT_MS 200

struct due {
	char what[16];
	char case_id[16];
	char item_id[32];
	char reason[16];
};

struct run {
	struct dz_store *s;
	const struct dz_purge_opts *o;
	dz_purge_emit_fn emit;
	void *ctx;
	struct dz_err *err;
	char now[DZ_TIME_LEN];
	struct due *due;
	size_t ndue;
	int oom, stop;
};

static int
emit(struct run *r, json_t *rec)
{
	if (r->o->dry_run)
		dz_record_put(&rec, "dry_run", json_true());
	dz_record_put(&rec, "at", json_string(r->now));
	if (!rec) {
		r->stop = 1;
		return dz_err_set(r->err, EX_SOFTWARE, "out of memory");
	}
	if (r->emit(rec, r->ctx)) {
		r->stop = 1;
		return dz_err_set(r->err, EX_IOERR, "cannot write a record");
	}
	return 0;
}

static json_t *
record(const char *what, const char *case_id, const char *item_id,
    const char *reason)
{
	json_t *rec = dz_record_new("purge");

	dz_record_put(&rec, "what", json_string(what));
	if (case_id)
		dz_record_put(&rec, "case", json_string(case_id));
	if (item_id)
		dz_record_put(&rec, "item", json_string(item_id));
	if (reason)
		dz_record_put(&rec, "reason", json_string(reason));
	return rec;
}

static int
collect(const char *what, const char *case_id, const char *item_id,
    const char *reason, void *arg)
{
	struct run *r = arg;
	struct due *nd, *d;

	if (!(nd = realloc(r->due, (r->ndue + 1) * sizeof *nd))) {
		r->oom = 1;
		return 1;
	}
	r->due = nd;
	d = &r->due[r->ndue++];
	snprintf(d->what, sizeof d->what, "%s", what);
	snprintf(d->case_id, sizeof d->case_id, "%s", case_id);
	snprintf(d->item_id, sizeof d->item_id, "%s", item_id ? item_id : "");
	snprintf(d->reason, sizeof d->reason, "%s", reason ? reason : "");
	return 0;
}

/* The blob files of keys already erased, left by a killed run. */
static int
finish_blobs(struct run *r)
{
	if (r->o->dry_run)
		return 0;
	if (dz_store_finish_blobs(r->s, r->err)) {
		r->stop = 1;
		return -1;
	}
	return 0;
}

/* One deletion, in its own transaction. */
static int
purge_one(struct run *r, const struct due *d)
{
	const char *actor = r->o->actor;
	int rc, deleted = 0, kept = 0;
	json_t *rec;

	if (r->o->dry_run)
		return emit(r, record(d->what, d->case_id,
		    d->item_id[0] ? d->item_id : NULL, d->reason));
	if (dz_store_begin(r->s, r->err))
		return -1;
	if (!strcmp(d->what, "media"))
		rc = dz_store_purge_media(r->s, d->item_id, d->reason, actor,
		    r->now, r->err);
	else if (!strcmp(d->what, "personal_data"))
		rc = dz_store_case_purge_personal(r->s, d->case_id, actor,
		    r->now, r->err) ? -1 : 1;
	else
		rc = dz_store_purge_hashes(r->s, d->item_id, actor, r->now,
		    &deleted, &kept, r->err) ? -1 : 1;
	if (rc < 0 || dz_store_commit(r->s, r->err)) {
		dz_store_rollback(r->s);
		return -1;
	}
	if (rc == 0)
		return 0;	/* gone meanwhile */
	rec = record(d->what, d->case_id, d->item_id[0] ? d->item_id : NULL,
	    d->reason);
	if (!strcmp(d->what, "hashes")) {
		dz_record_put(&rec, "removed", json_integer(deleted));
		dz_record_put(&rec, "tombstones", json_integer(kept));
	}
	return emit(r, rec);
}

/*
 * When the entry name in rejected/ (rfd) was rejected: the time of its
 * error.json, else its own (a link moved there as it was, or an entry
 * whose error.json could not be written). Never through a link. 0; 1
 * when the entry is gone; -1 with errno when it cannot be looked at.
 */
static int
rejected_time(int rfd, const char *name, time_t *t)
{
	struct stat st, es;
	int fd;

	if (fstatat(rfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 1 : -1;
	*t = st.st_mtime;
	if (!S_ISDIR(st.st_mode))
		return 0;
	fd = openat(rfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstatat(fd, "error.json", &es, AT_SYMLINK_NOFOLLOW) == 0) {
		*t = es.st_mtime;
	} else if (errno != ENOENT) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Rejected spool entries past their time; their uploads are plaintext.
 * An entry that cannot be removed is counted and the others still go:
 * 1 then, with r->err saying how many and why the first. 0 when all
 * went, -1 when the run must stop (a record could not be written).
 */
static int
purge_rejected(struct run *r)
{
	const struct dz_purge_opts *o = r->o;
	char limit[DZ_TIME_LEN], when[DZ_TIME_LEN], first[DZ_ERR_MAX] = "";
	struct dz_spool sp;
	struct dz_err e;
	char **names = NULL;
	size_t n = 0, failed = 0;
	time_t lt, t;
	int k, rc = 0;

	if (dz_clock_days_before(r->now, o->cfg->rejected_days, limit) ||
	    dz_clock_parse(limit, &lt))
		return dz_err_set(r->err, EX_SOFTWARE, "cannot compute a date");
	if (dz_spool_open(&sp, o->spool, 0, r->err)) {
		k = errno;
		dz_spool_release(&sp);
		return k == ENOENT ? 0 : -1;	/* no spool yet: nothing rejected */
	}
	k = dz_spool_rejected_open(&sp, 0, &e);
	if (k <= 0) {
		dz_spool_release(&sp);
		return k == 0 ? 0 : dz_err_set(r->err, EX_NOINPUT, "cannot open "
		    "the spool's rejected entries: %s", e.msg);
	}
	if (dz_spool_list(sp.rejected_fd, &names, &n, r->err)) {
		dz_spool_release(&sp);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *rec;

		k = rejected_time(sp.rejected_fd, names[i], &t);
		if (k < 0) {
			if (!failed++)
				snprintf(first, sizeof first, "'%.64s': cannot look "
				    "at it: %.100s", names[i], strerror(errno));
			continue;
		}
		if (k > 0 || t > lt)
			continue;
		dz_clock_format(t, when);
		if (!o->dry_run &&
		    dz_spool_remove(sp.rejected_fd, names[i], &e) != 0) {
			if (!failed++)
				snprintf(first, sizeof first, "'%.64s': %.120s",
				    names[i], e.msg);
			continue;
		}
		rec = record("rejected", NULL, NULL, NULL);
		dz_record_put(&rec, "entry", json_string(names[i]));
		dz_record_put(&rec, "rejected_at", json_string(when));
		if (emit(r, rec)) {
			rc = -1;
			break;
		}
	}
	if (!o->dry_run && n)
		(void)fsync(sp.rejected_fd);
	dz_spool_names_free(names, n);
	dz_spool_release(&sp);
	if (rc == 0 && failed) {
		dz_err_set(r->err, EX_IOERR, "cannot remove %zu rejected spool "
		    "entr%s, the first %s", failed, failed == 1 ? "y" : "ies",
		    first);
		rc = 1;
	}
	return rc;
}

static int
checkpoint(struct run *r)
{
	struct timespec ts = { 0, 300000000 };

	for (int i = 0; i < CHECKPOINT_TRIES; i++) {
		if (dz_store_checkpoint_wait(r->s, CHECKPOINT_WAIT_MS,
		    r->err) == 0)
			return 0;
		if (r->err->code != EX_TEMPFAIL)
			return -1;
		nanosleep(&ts, NULL);
	}
	return dz_err_set(r->err, EX_TEMPFAIL, "the write-ahead log is still in "
	    "use: run dz-purge again to clear it");
}

int
dz_purge_run(struct dz_store *s, const struct dz_purge_opts *o,
    dz_purge_emit_fn emit_fn, void *ctx, struct dz_err *err)
{
	const struct dz_config *cfg = o->cfg;
	struct dz_store_purge_policy p;
	char media[DZ_TIME_LEN], personal[DZ_TIME_LEN], hashes[DZ_TIME_LEN];
	struct run r;
	struct dz_err saved;
	int lock, left = 0, rc = -1;

	memset(&r, 0, sizeof r);
	r.s = s;
	r.o = o;
	r.emit = emit_fn;
	r.ctx = ctx;
	r.err = err;
	if (dz_clock_now(r.now) ||
	    dz_clock_days_before(r.now, cfg->unverified_media_days, media) ||
	    dz_clock_days_before(r.now, cfg->personal_data_days, personal) ||
	    dz_clock_days_before(r.now, cfg->withdrawn_hash_days, hashes))
		return dz_err_set(err, EX_CONFIG, "cannot read the clock");
	if ((lock = dz_store_lock(s, "purge.lock", "another dz-purge is "
	    "running; try again later", err)) < 0)
		return -1;
	p.media_before = media;
	p.personal_before = personal;
	p.hashes_before = hashes;
	if (finish_blobs(&r) ||
	    dz_store_purge_due(s, &p, collect, &r, err))
		goto out;
	if (r.oom) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r.ndue; i++)
		if (purge_one(&r, &r.due[i]))
			goto out;
	if (finish_blobs(&r))
		goto out;
	if (o->spool && (left = purge_rejected(&r)) < 0)
		goto out;
	if (left)		/* the rest of the run still goes on */
		saved = *err;
	if (!o->dry_run && checkpoint(&r))
		goto out;
	if (left) {
		*err = saved;
		goto out;
	}
	rc = 0;
out:
	free(r.due);
	close(lock);
	return rc;
}
