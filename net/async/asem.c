/* asem: permits plus an intrusive FIFO of waiting futures. */
#include "net/async/asem.h"

#include <stddef.h>

void asem_init(asem_t *s, sched_t *sched, long permits)
{
    s->sched = sched;
    s->permits = permits;
    s->waiting = 0;
    list_init(&s->waiters);
}

static void asem_unlink(asem_t *s, future_t *f)
{
    list_remove(&f->qlink);
    s->waiting--;
}

static int asem_on_cancel(future_t *f, void *arg)
{
    asem_t *s = arg;

    asem_unlink(s, f);
    future_unref(f);          /* the queue's reference */
    return 0;
}

future_t *asem_acquire(asem_t *s)
{
    future_t *f = future_new(s->sched);

    if (!f)
        return NULL;
    if (s->permits > 0 && list_empty(&s->waiters)) {
        s->permits--;
        future_resolve(f, NULL);
        return f;
    }
    future_ref(f);            /* the queue's reference */
    list_insert_tail(&s->waiters, &f->qlink);
    s->waiting++;
    future_set_cancel(f, asem_on_cancel, s);
    return f;
}

int asem_try_acquire(asem_t *s)
{
    if (s->permits > 0 && list_empty(&s->waiters)) {
        s->permits--;
        return 1;
    }
    return 0;
}

void asem_release(asem_t *s)
{
    future_t *f;

    if (list_empty(&s->waiters)) {
        s->permits++;
        return;
    }
    f = container_of(s->waiters.next, future_t, qlink);
    /* Cancelled waiters unlink themselves, so the head is always a live waiter. */
    asem_unlink(s, f);
    future_resolve(f, NULL);
    future_unref(f);
}

void asem_cancel_all(asem_t *s)
{
    while (!list_empty(&s->waiters))
        future_cancel(container_of(s->waiters.next, future_t, qlink));
}
