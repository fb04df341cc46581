/* asem: an async semaphore with FIFO waiters (asyncio.Semaphore in C); never blocks the thread.
 * (Named asem, not sem, because <semaphore.h>, which uv.h includes, owns sem_t.)
 * Loop thread only. A task should hold its permits through permit_t (net/async/permit.h). */
#ifndef NET_ASEM_H
#define NET_ASEM_H

#include "net/async/future.h"

typedef struct asem {
    sched_t *sched;
    long permits;             /* free permits */
    long waiting;             /* futures queued in FIFO order */
    list_t waiters;           /* future_t.qlink, oldest first */
} asem_t;

void asem_init(asem_t *s, sched_t *sched, long permits);

/* A future resolved when a permit is ours (at once if one is free and nobody queues before us;
 * its callbacks still run on a later turn). Cancelling a queued acquire removes it from the
 * queue. NULL when out of memory. The caller owns the returned reference. */
future_t *asem_acquire(asem_t *s);

/* Takes a permit now if one is free and nobody is queued: 1 taken, 0 not. */
int asem_try_acquire(asem_t *s);

/* Returns a permit: handed to the oldest queued waiter (it runs on a later turn), else kept. */
void asem_release(asem_t *s);

/* Cancels every queued waiter (for shutdown). */
void asem_cancel_all(asem_t *s);

#endif
