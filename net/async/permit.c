/* permit: acquire, trade and release one semaphore permit on behalf of a task. */
#include "net/async/permit.h"

#include <assert.h>
#include <stddef.h>

static void permit_on_task_end(task_defer_t *d)
{
    permit_release(container_of(d, permit_t, defer));
}

void permit_init(permit_t *p, task_t *t)
{
    p->sem = p->wanted = NULL;
    task_defer(t, &p->defer, permit_on_task_end);
}

/* Registered before the task's own wake-up on the same future, so it runs first. */
static void permit_on_grant(future_t *f, void *arg)
{
    permit_t *p = arg;

    if (future_state(f) == FUTURE_DONE)
        p->sem = p->wanted;
    p->wanted = NULL;
}

future_t *permit_acquire(permit_t *p, asem_t *sem)
{
    future_t *f;

    assert(!p->sem && !p->wanted);
    f = asem_acquire(sem);
    if (!f)
        return NULL;
    if (future_state(f) == FUTURE_DONE) {
        p->sem = sem;                   /* a free permit: AWAIT goes straight on */
        return f;
    }
    p->wanted = sem;
    /* A fresh future's first callback takes the inline slot: this cannot fail. */
    if (future_on_done(f, permit_on_grant, p) < 0)
        assert(!"permit_acquire: no room for the grant callback");
    return f;
}

int permit_try_acquire(permit_t *p, asem_t *sem)
{
    assert(!p->sem && !p->wanted);
    if (!asem_try_acquire(sem))
        return 0;
    p->sem = sem;
    return 1;
}

void permit_release(permit_t *p)
{
    asem_t *sem = p->sem;

    if (!sem)
        return;
    p->sem = NULL;
    asem_release(sem);
}

int permit_try_trade(permit_t *p, asem_t *to)
{
    asem_t *from = p->sem;

    if (!asem_try_acquire(to))
        return 0;
    p->sem = to;
    if (from)
        asem_release(from);
    return 1;
}

future_t *permit_trade(permit_t *p, asem_t *to)
{
    permit_release(p);
    return permit_acquire(p, to);
}

void permit_move(permit_t *to, permit_t *from)
{
    assert(!to->sem && !to->wanted);
    to->sem = from->sem;
    from->sem = NULL;
}
