/*
 * lib/core/pool: run jobs on N threads, deliver results in submission order.
 *
 * May use: core/ (err) and POSIX threads. Used by lib/core/runner.
 *
 * The submitting thread hands jobs to dz_pool_submit(); worker threads run
 * work(job, ctx) on them in any order; done(job, ctx) then runs on the
 * submitting thread, strictly in submission order, so output stays in
 * input order whatever the thread count. done typically writes the job's
 * record and frees it.
 *
 *	p = dz_pool_new(nthreads, work, done, ctx, &err);
 *	while (next input) {
 *		job = make_job(input);
 *		if (dz_pool_submit(p, job) < 0) {	// stopped: job not taken
 *			free_job(job);
 *			break;
 *		}
 *	}
 *	rc = dz_pool_finish(p);		// every remaining done, in order
 *	dz_pool_free(p);
 *
 * Ownership: a job accepted by dz_pool_submit() (return 0) belongs to the
 * pool until done(job) is called for it, exactly once; done is called for
 * every accepted job, even after the pool stopped. The pool never frees a
 * job itself.
 *
 * Stopping: when done returns nonzero the pool stops. Later submits return
 * -1 without taking their job, and jobs accepted but not yet started are
 * not worked on (work is skipped); done is still called for each of them,
 * in order, so it can free them: done can tell with dz_pool_stopped(),
 * which returns nonzero from then on.
 *
 * Threads: work runs on a worker thread with all asynchronous signals
 * blocked (they are delivered to the program's own threads); done and
 * every dz_pool_* call run on the one submitting thread. At most
 * 4 * nthreads jobs are in flight (queued, running, or finished and
 * waiting for their turn); submit blocks, without spinning, until there
 * is room. With nthreads <= 1 no thread is created: submit runs work and
 * then done itself, before it returns. done must not call back into the
 * pool (no dz_pool_submit from done), except dz_pool_stopped().
 */
#ifndef DZ_POOL_H
#define DZ_POOL_H

struct dz_err;

#define DZ_POOL_MAX_THREADS 1024

/* Runs on a worker thread; must be thread-safe with respect to ctx. */
typedef void (*dz_pool_work_fn)(void *job, void *ctx);
/* Runs on the submitting thread, in submission order; nonzero stops. */
typedef int (*dz_pool_done_fn)(void *job, void *ctx);

struct dz_pool;

/*
 * A pool of nthreads workers (at most DZ_POOL_MAX_THREADS). NULL with err:
 * EX_USAGE "too many threads", EX_SOFTWARE "out of memory" or "cannot create
 * thread: ...".
 */
struct dz_pool *dz_pool_new(int nthreads, dz_pool_work_fn work,
    dz_pool_done_fn done, void *ctx, struct dz_err *err);

/*
 * Queue job. First calls done for every leading job already finished,
 * then blocks while the pool is full (delivering jobs as they finish).
 * Returns 0 when job was accepted, -1 when the pool has stopped: job was
 * not accepted and still belongs to the caller.
 */
int dz_pool_submit(struct dz_pool *p, void *job);

/*
 * Wait for every accepted job and call the remaining done, in order.
 * Returns 0, or the first nonzero value a done returned.
 */
int dz_pool_finish(struct dz_pool *p);

/* Nonzero once a done returned nonzero (or dz_pool_free began). */
int dz_pool_stopped(const struct dz_pool *p);

/*
 * Stop the threads and free p; NULL is fine. Normally called after
 * dz_pool_finish(). If jobs are still in flight (an error path), the pool
 * is stopped first, running work is waited for, and done is called for
 * each remaining job in order (its return ignored) so that it frees them.
 */
void dz_pool_free(struct dz_pool *p);

#endif
