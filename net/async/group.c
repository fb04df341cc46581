/* group: membership, cancel-all and the "empty" future of a task group. */
#include "net/async/group.h"

#include <errno.h>

void task_group_init(task_group_t *g, sched_t *s)
{
    g->sched = s;
    list_init(&g->tasks);
    g->count = 0;
    g->cancelled = 0;
    g->empty = NULL;
}

int task_group_spawn(task_group_t *g, task_t *t, task_step_fn step)
{
    int result;

    if (g->cancelled)
        return -ECANCELED;
    result = task_start(t, g->sched, step);
    if (result < 0)
        return result;
    t->group = g;
    list_insert_tail(&g->tasks, &t->group_link);
    g->count++;
    return 0;
}

void task_group_cancel(task_group_t *g)
{
    list_t *pos;

    g->cancelled = 1;
    /* task_cancel never ends a task synchronously, so the list cannot change under us. */
    list_for_each(pos, &g->tasks)
        task_cancel(container_of(pos, task_t, group_link));
}

static int group_refuse_cancel(future_t *f, void *arg)
{
    (void)f;
    (void)arg;
    return -EBUSY;
}

future_t *task_group_wait(task_group_t *g)
{
    if (g->count == 0)
        return future_new_resolved(g->sched, NULL);
    if (!g->empty) {
        g->empty = future_new(g->sched);
        if (!g->empty)
            return NULL;
        future_set_cancel(g->empty, group_refuse_cancel, NULL);
    }
    return future_ref(g->empty);
}

void task_group_leave_(task_t *t)
{
    task_group_t *g = t->group;

    list_remove(&t->group_link);
    t->group = NULL;
    if (--g->count == 0 && g->empty) {
        future_t *empty = g->empty;
        g->empty = NULL;
        future_set_cancel(empty, NULL, NULL);
        future_resolve(empty, NULL);
        future_unref(empty);
    }
}
