/* executor: run blocking work on libuv's thread pool, get a future back (run_in_executor). */
#ifndef NET_EXECUTOR_H
#define NET_EXECUTOR_H

#include "net/async/future.h"

/* fn runs on a pool thread and returns 0 or a negative errno. */
typedef int (*executor_fn)(void *arg);

/* Queues fn(arg) on the pool; call it from the loop thread (the future settles there). The
 * caller owns the returned reference. The future resolves with arg as its result when fn returns >= 0,
 * fails with fn's negative return, or is cancelled if cancelled before fn started (a running job
 * refuses cancellation: arg must stay valid until the future settles). NULL on ENOMEM or if the
 * job could not be queued. */
future_t *executor_run(sched_t *s, executor_fn fn, void *arg);

#endif
