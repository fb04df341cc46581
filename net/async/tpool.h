/* tpool: a pool of up to N threads of its own for blocking jobs (ThreadPoolExecutor(max_workers=N)).
 *
 * Unlike executor_run, which shares libuv's pool (at most 1024 threads, UV_THREADPOOL_SIZE, fixed
 * at the first use), a tpool runs each job on a thread of its own up to max_threads at once, so
 * `get --mode threads -c 2000` really runs 2000 blocking transfers at once, apart from the file
 * work libuv's pool does for the job. Threads start lazily and never exit before tpool_close.
 *
 * Threads: every function here is for the loop thread of the sched_t given to tpool_new; only the
 * job functions run on the pool's threads. While jobs are pending the pool keeps the loop alive
 * (as uv_queue_work does); an idle pool does not, but it must still be closed. */
#ifndef NET_ASYNC_TPOOL_H
#define NET_ASYNC_TPOOL_H

#include "net/async/executor.h"   /* executor_fn */

typedef struct tpool tpool_t;

/* A pool of at most max_threads threads (>= 1) for blocking jobs, started lazily: a job queued
 * while no started thread is idle starts one more thread (as Python's ThreadPoolExecutor), so
 * -c 1000 with 10 URLs starts 10. Threads get the default stack size (what pthread_create gives:
 * RLIMIT_STACK), as a user's threads would. Call from the loop thread of s. NULL (errno set) on
 * EINVAL (max_threads < 1), ENOMEM or a libuv error. The caller owns the pool: tpool_close. */
tpool_t *tpool_new(sched_t *s, long max_threads);

/* Same contract as executor_run: fn(arg) on a pool thread, the future settles on the loop thread:
 * resolves with arg when fn returns >= 0, fails with fn's negative return, is cancelled if
 * cancelled while still queued (a running or finished-but-unreported job refuses cancellation
 * with -EBUSY: arg must stay valid until the future settles). Jobs start in the order queued.
 * When a thread cannot be started (pthread_create fails) the job waits for a started thread;
 * when none was ever started, the returned future fails with the negative errno. The caller owns
 * the returned reference. NULL on ENOMEM (nothing queued). */
future_t *tpool_run(tpool_t *p, executor_fn fn, void *arg);

/* Threads started so far (the most that ran at once: threads never exit before tpool_close). */
long tpool_threads(const tpool_t *p);

/* The most jobs that ran at once so far (fewer than tpool_threads() when threads were idle, fewer
 * than the jobs queued at once when threads could not start). Loop thread. */
long tpool_max_running(tpool_t *p);

/* The first pthread_create failure as a positive errno (0: none): after it the pool starts no
 * more threads and stays at tpool_threads(). */
int tpool_start_error(const tpool_t *p);

/* Stops the pool: queued jobs are cancelled, threads finish the job they run and are joined (this
 * blocks the loop thread until they have), every future is settled before this returns; the
 * uv_async_t is closed and the pool freed in its close callback (the loop must run once more, as
 * for sched_close). Call with no job running, or accept waiting for them. p is unusable after. */
void tpool_close(tpool_t *p);

#endif
