/*
 * t/unit/test-pool: lib/core/pool delivers results in submission order.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/pool.h"
#include "tap.h"
#include "util.h"

#define NJOBS 10000

struct job {
	long seq;
	long sleep_ns;
	int worked;
	pthread_t worker;
};

struct ctx {
	struct dz_pool *pool;
	long next;		/* seq expected by done */
	long out_of_order;
	long unworked;		/* done before its work ran */
	long on_worker;		/* jobs that ran on another thread */
	long delivered;
	long fail_at;		/* done returns 7 for this seq; -1: never */
	long done_after_stop;	/* done calls seen with dz_pool_stopped() */
	long stop_flag_late;	/* a job after fail_at delivered unstopped */
	pthread_t main;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
xorshift(void)
{
	return xorshift64(&rng);
}

static void
work(void *arg, void *ctxp)
{
	struct job *j = arg;
	struct timespec ts = { 0, j->sleep_ns };

	(void)ctxp;
	if (j->sleep_ns)
		nanosleep(&ts, NULL);
	j->worked = 1;
	j->worker = pthread_self();
}

static int
done(void *arg, void *ctxp)
{
	struct job *j = arg;
	struct ctx *c = ctxp;
	int rc = 0;

	if (j->seq != c->next)
		c->out_of_order++;
	c->next = j->seq + 1;
	c->delivered++;
	if (c->pool && dz_pool_stopped(c->pool)) {
		c->done_after_stop++;
	} else {
		if (!j->worked)
			c->unworked++;
		if (c->fail_at >= 0 && j->seq > c->fail_at)
			c->stop_flag_late++;
	}
	if (j->worked && !pthread_equal(j->worker, c->main))
		c->on_worker++;
	if (j->seq == c->fail_at)
		rc = 7;
	free(j);
	return rc;
}

static struct job *
job_new(long seq, long max_ns)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j)
		abort();
	j->seq = seq;
	j->sleep_ns = max_ns ? (long)(xorshift() % (uint64_t)max_ns) : 0;
	return j;
}

static void
test_order(int nthreads)
{
	struct dz_err err;
	struct ctx c = { 0 };
	long i, max_in_flight = 0;
	int rc, rejected = 0;

	c.main = pthread_self();
	c.fail_at = -1;
	c.pool = dz_pool_new(nthreads, work, done, &c, &err);
	ok(c.pool != NULL, "-j%d: pool created", nthreads);
	if (!c.pool)
		return;
	for (i = 0; i < NJOBS; i++) {
		/* Random durations up to 100 us, a few of 2 ms. */
		long ns = xorshift() % 50 == 0 ? 2000000 : 100000;

		if (dz_pool_submit(c.pool, job_new(i, ns)) != 0)
			rejected++;
		if (i + 1 - c.delivered > max_in_flight)
			max_in_flight = i + 1 - c.delivered;
	}
	rc = dz_pool_finish(c.pool);
	ok(rc == 0 && rejected == 0, "-j%d: all %d accepted, finish 0",
	    nthreads, NJOBS);
	ok(c.delivered == NJOBS && c.out_of_order == 0,
	    "-j%d: %ld delivered, %ld out of order", nthreads, c.delivered,
	    c.out_of_order);
	ok(c.unworked == 0, "-j%d: work always ran before done",
	    nthreads);
	if (nthreads <= 1)
		ok(c.on_worker == 0 && max_in_flight == 0,
		    "-j1: inline, nothing in flight");
	else
		ok(c.on_worker == NJOBS && max_in_flight <= 4 * nthreads,
		    "-j%d: work on workers, at most %ld in flight",
		    nthreads, max_in_flight);
	ok(!dz_pool_stopped(c.pool), "-j%d: not stopped", nthreads);
	dz_pool_free(c.pool);
}

static void
test_stop(int nthreads)
{
	struct dz_err err;
	struct ctx c = { 0 };
	long i, accepted = 0;
	int rc;

	c.main = pthread_self();
	c.fail_at = 100;
	c.pool = dz_pool_new(nthreads, work, done, &c, &err);
	for (i = 0; i < NJOBS; i++) {
		struct job *j = job_new(i, 20000);

		if (dz_pool_submit(c.pool, j) != 0) {
			free(j);	/* not taken: still ours */
			break;
		}
		accepted++;
	}
	ok(i < NJOBS, "-j%d: submit refused after done failed",
	    nthreads);
	ok(accepted >= 101 && accepted <= 101 + 4 * nthreads + 1,
	    "-j%d: stopped promptly (%ld accepted)", nthreads, accepted);
	ok(dz_pool_stopped(c.pool), "-j%d: stopped", nthreads);
	ok(dz_pool_submit(c.pool, &c) == -1, "-j%d: submit refused again",
	    nthreads);
	rc = dz_pool_finish(c.pool);
	ok(rc == 7, "-j%d: finish returns done's 7", nthreads);
	ok(c.delivered == accepted && c.out_of_order == 0,
	    "-j%d: done once per accepted job, in order (%ld of %ld)",
	    nthreads, c.delivered, accepted);
	ok(c.done_after_stop == accepted - 101 && c.stop_flag_late == 0 &&
	    c.unworked == 0,
	    "-j%d: done after the failure sees dz_pool_stopped", nthreads);
	dz_pool_free(c.pool);
}

/* dz_pool_free with jobs in flight: done still frees each, in order. */
static void
test_free_early(void)
{
	struct dz_err err;
	struct ctx c = { 0 };
	long i;

	c.main = pthread_self();
	c.fail_at = -1;
	c.pool = dz_pool_new(3, work, done, &c, &err);
	for (i = 0; i < 12; i++)
		dz_pool_submit(c.pool, job_new(i, 5000000));
	dz_pool_free(c.pool);
	c.pool = NULL;
	ok(c.delivered == 12 && c.out_of_order == 0,
	    "free early: done called for all %ld jobs in order", c.delivered);
}

static void
test_misc(void)
{
	struct dz_err err;
	struct dz_pool *p;
	struct ctx c = { 0 };

	p = dz_pool_new(DZ_POOL_MAX_THREADS + 1, work, done, &c, &err);
	ok(p == NULL && err.code == EX_USAGE &&
	    strcmp(err.msg, "too many threads (at most 1024)") == 0,
	    "too many threads refused: '%s'", err.msg);
	p = dz_pool_new(8, work, done, &c, &err);
	ok(p && dz_pool_finish(p) == 0 && dz_pool_finish(p) == 0,
	    "no jobs: finish at once, twice");
	dz_pool_free(p);
	p = dz_pool_new(0, work, done, &c, &err);
	ok(p && dz_pool_finish(p) == 0, "0 threads: inline pool");
	dz_pool_free(p);
	dz_pool_free(NULL);
	ok(1, "free(NULL)");
}

int
main(void)
{
	test_order(1);
	test_order(4);
	test_stop(1);
	test_stop(4);
	test_free_early();
	test_misc();
	return tap_done();
}
