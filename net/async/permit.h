/* permit: a semaphore permit that knows it is held (asyncio's `async with sem:` in C).
 *
 * A permit_t is embedded in a task's struct and bound to that task with permit_init. It holds at
 * most one permit of one semaphore at a time; whatever it holds when the task ends, however it
 * ends, is released then, exactly once. It can also be released earlier on purpose, or traded for
 * a permit of another semaphore (a transfer that ends trades its connection permit for a disk
 * slot). Nobody keeps "do I hold it" flags: ask the permit. Only call these from the loop thread.
 *
 *     AWAIT(t, permit_acquire(&f->slot, &job->permits));
 *     if (task_error(t) < 0)
 *         goto finish;                 (cancelled while queued: nothing is held)
 *     AWAIT(t, http_req_start(...));   (the permit is held here)
 *     ...                              (and released when the task ends)
 */
#ifndef NET_ASYNC_PERMIT_H
#define NET_ASYNC_PERMIT_H

#include "net/async/asem.h"
#include "net/async/task.h"

typedef struct permit {
    task_defer_t defer;       /* releases the permit when the task ends */
    asem_t *sem;              /* the semaphore whose permit is held; NULL when none */
    asem_t *wanted;           /* being acquired */
} permit_t;

/* Binds p, empty, to t (after task_start(t)). */
void permit_init(permit_t *p, task_t *t);

/* Queues for a permit of sem (p must hold none and want none). The future resolves once p holds
 * it; if it fails (cancelled while queued) p holds nothing. The caller owns the reference; NULL
 * when out of memory. */
future_t *permit_acquire(permit_t *p, asem_t *sem);

/* Takes a permit of sem now if one is free and nobody queues (p must hold none): 1 held, 0 not. */
int permit_try_acquire(permit_t *p, asem_t *sem);

/* Releases what p holds, if anything. */
void permit_release(permit_t *p);

/* Exchanges what p holds for a permit of `to` if one is free now: 1 traded, 0 p is unchanged. */
int permit_try_trade(permit_t *p, asem_t *to);

/* Releases what p holds, then queues for a permit of `to` (as permit_acquire). */
future_t *permit_trade(permit_t *p, asem_t *to);

/* Moves what `from` holds to `to` (another task's permit, empty): `from` is left empty. This is
 * how a spawner hands the permit it waited for to the task it starts. */
void permit_move(permit_t *to, permit_t *from);

static inline int permit_held(const permit_t *p) { return p->sem != NULL; }
static inline asem_t *permit_sem(const permit_t *p) { return p->sem; }

#endif
