/* task: drive a coroutine step by step from future callbacks. */
#include "net/async/task.h"

#include "net/async/group.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

static void task_run_first(sched_node_t *node)
{
    task_t *t = container_of(node, task_t, node);

    t->step(t);
}

/* Cancelling the done-future cancels the coroutine, which ends (and settles it) in its own time. */
static int task_on_cancel_done(future_t *f, void *arg)
{
    (void)f;
    task_cancel(arg);
    return -EBUSY;
}

int task_start(task_t *t, sched_t *s, task_step_fn step)
{
    memset(t, 0, sizeof(*t));
    t->sched = s;
    t->step = step;
    t->node.fn = task_run_first;
    list_init(&t->group_link);
    t->done = future_new(s);
    if (!t->done)
        return -ENOMEM;
    future_set_cancel(t->done, task_on_cancel_done, t);
    sched_post(s, &t->node);
    return 0;
}

void task_defer(task_t *t, task_defer_t *d, void (*fn)(task_defer_t *d))
{
    d->fn = fn;
    d->next = t->defers;
    t->defers = d;
}

static void task_wake(future_t *f, void *arg)
{
    task_t *t = arg;

    (void)f;
    t->step(t);
}

int task_await_(task_t *t, future_t *f)
{
    future_unref(t->awaiting);
    t->awaiting = f;
    if (f && future_is_done(f))
        return 0;
    if (!f) {
        /* Could not even create the operation: resume with -ENOMEM on the next turn. */
        t->awaiting = future_new_failed(t->sched, -ENOMEM);
        assert(t->awaiting || !"out of memory creating a failed future");
        f = t->awaiting;
    }
    if (future_on_done(f, task_wake, t) < 0) {
        /* Out of memory for the callback slot: fall back to failing the task's wait. */
        future_t *failed = future_new_failed(t->sched, -ENOMEM);
        assert(failed);
        future_unref(t->awaiting);
        t->awaiting = failed;
        int result = future_on_done(failed, task_wake, t);  /* inline slot: cannot fail */
        assert(result == 0);
        (void)result;
    }
    return 1;
}

void task_end_(task_t *t)
{
    future_t *done = t->done;

    future_unref(t->awaiting);
    t->awaiting = NULL;
    while (t->defers) {
        task_defer_t *d = t->defers;
        t->defers = d->next;
        d->fn(d);
    }
    t->done = NULL;
    future_set_cancel(done, NULL, NULL);
    if (t->error)
        future_fail(done, t->error);
    else if (t->cancelled)
        future_cancel(done);
    else
        future_resolve(done, t->result);
    future_unref(done);
    if (t->group)
        task_group_leave_(t);
}

void task_cancel(task_t *t)
{
    if (!t->done || t->cancelled)
        return;
    t->cancelled = 1;
    if (t->awaiting && !future_is_done(t->awaiting))
        future_cancel(t->awaiting);
}
