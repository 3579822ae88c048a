#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/pool.h"

/*
 * Jobs live in a ring of cap slots, addressed by ever-growing sequence
 * numbers: [head, take) are running or finished and wait for delivery in
 * order, [take, tail) are queued. Workers take jobs in order, so the queue
 * is contiguous. Everything below is guarded by mu, except that work()
 * and done() run unlocked.
 */
enum { SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

struct slot {
	void *job;
	int state;
};

struct dz_pool {
	dz_pool_work_fn work;
	dz_pool_done_fn done;
	void *ctx;

	int threaded;		/* 0: nthreads <= 1, work runs inline */
	int nthreads;		/* threads started */
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t cv_work;	/* a job was queued, or shutdown */
	pthread_cond_t cv_done;	/* the job at head finished */

	struct slot *slots;
	uint64_t cap, head, take, tail;
	int stopped;		/* written by the submitting thread only */
	int shutdown;
	int rc;			/* first nonzero done result */
};

static void *
worker(void *arg)
{
	struct dz_pool *p = arg;
	struct slot *s;
	void *job;
	int skip;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->take == p->tail && !p->shutdown)
			pthread_cond_wait(&p->cv_work, &p->mu);
		if (p->take == p->tail)
			break;	/* shutdown and nothing queued */
		s = &p->slots[p->take % p->cap];
		p->take++;
		s->state = SLOT_RUNNING;
		job = s->job;
		skip = p->stopped;
		pthread_mutex_unlock(&p->mu);
		if (!skip)
			p->work(job, p->ctx);
		pthread_mutex_lock(&p->mu);
		s->state = SLOT_DONE;
		if (s == &p->slots[p->head % p->cap])
			pthread_cond_signal(&p->cv_done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
note_rc(struct dz_pool *p, int rc)
{
	if (rc && !p->stopped) {
		p->stopped = 1;
		p->rc = rc;
	}
}

enum { UNTIL_NOT_READY, UNTIL_ROOM, UNTIL_EMPTY };

/* Call done for finished jobs in order; mu is held on entry and exit. */
static void
deliver(struct dz_pool *p, int until)
{
	struct slot *s;
	void *job;
	int rc;

	while (p->head != p->tail) {
		s = &p->slots[p->head % p->cap];
		if (s->state != SLOT_DONE) {
			if (until == UNTIL_NOT_READY ||
			    (until == UNTIL_ROOM && p->tail - p->head < p->cap))
				return;
			pthread_cond_wait(&p->cv_done, &p->mu);
			continue;
		}
		job = s->job;
		s->job = NULL;
		p->head++;
		pthread_mutex_unlock(&p->mu);
		rc = p->done(job, p->ctx);
		pthread_mutex_lock(&p->mu);
		note_rc(p, rc);
	}
}

struct dz_pool *
dz_pool_new(int nthreads, dz_pool_work_fn work, dz_pool_done_fn done,
    void *ctx, struct dz_err *err)
{
	struct dz_pool *p;
	sigset_t all, old;
	char eb[128];
	int i, e;

	if (!work || !done) {
		dz_err_set(err, EX_SOFTWARE, "dz_pool_new: bad arguments");
		return NULL;
	}
	if (nthreads > DZ_POOL_MAX_THREADS) {
		dz_err_set(err, EX_USAGE, "too many threads (at most %d)",
		    DZ_POOL_MAX_THREADS);
		return NULL;
	}
	if (!(p = calloc(1, sizeof *p))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	p->work = work;
	p->done = done;
	p->ctx = ctx;
	if (nthreads <= 1)
		return p;

	p->cap = 4 * (uint64_t)nthreads;
	p->slots = calloc(p->cap, sizeof *p->slots);
	p->threads = calloc((size_t)nthreads, sizeof *p->threads);
	if (!p->slots || !p->threads) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	if ((e = pthread_mutex_init(&p->mu, NULL)) != 0)
		goto fail_sync;
	if ((e = pthread_cond_init(&p->cv_work, NULL)) != 0) {
		pthread_mutex_destroy(&p->mu);
		goto fail_sync;
	}
	if ((e = pthread_cond_init(&p->cv_done, NULL)) != 0) {
		pthread_cond_destroy(&p->cv_work);
		pthread_mutex_destroy(&p->mu);
		goto fail_sync;
	}
	p->threaded = 1;

	/* Workers inherit this mask: signals go to the program's threads. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < nthreads; i++) {
		if ((e = pthread_create(&p->threads[i], NULL, worker, p)) != 0)
			break;
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nthreads < nthreads) {
		dz_err_set(err, EX_SOFTWARE, "cannot create thread: %s",
		    strerror_r(e, eb, sizeof eb) == 0 ? eb : "unknown error");
		dz_pool_free(p);	/* joins the threads started */
		return NULL;
	}
	return p;

fail_sync:
	dz_err_set(err, EX_SOFTWARE, "cannot create thread: %s",
	    strerror_r(e, eb, sizeof eb) == 0 ? eb : "unknown error");
fail:
	free(p->slots);
	free(p->threads);
	free(p);
	return NULL;
}

int
dz_pool_submit(struct dz_pool *p, void *job)
{
	if (p->stopped)
		return -1;
	if (!p->threaded) {
		p->work(job, p->ctx);
		note_rc(p, p->done(job, p->ctx));
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	deliver(p, UNTIL_ROOM);
	if (p->stopped) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	p->slots[p->tail % p->cap].job = job;
	p->slots[p->tail % p->cap].state = SLOT_QUEUED;
	p->tail++;
	pthread_cond_signal(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int
dz_pool_finish(struct dz_pool *p)
{
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		deliver(p, UNTIL_EMPTY);
		pthread_mutex_unlock(&p->mu);
	}
	return p->rc;
}

int
dz_pool_stopped(const struct dz_pool *p)
{
	return p->stopped;
}

void
dz_pool_free(struct dz_pool *p)
{
	int i;

	if (!p)
		return;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		if (p->head != p->tail)
			p->stopped = 1;	/* skip the work still queued */
		p->shutdown = 1;
		pthread_cond_broadcast(&p->cv_work);
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < p->nthreads; i++)
			pthread_join(p->threads[i], NULL);
		/* Workers drained the queue: every job left is finished. */
		pthread_mutex_lock(&p->mu);
		deliver(p, UNTIL_EMPTY);
		pthread_mutex_unlock(&p->mu);
		pthread_cond_destroy(&p->cv_done);
		pthread_cond_destroy(&p->cv_work);
		pthread_mutex_destroy(&p->mu);
	}
	free(p->slots);
	free(p->threads);
	free(p);
}
