/* group: a set of tasks that end together (asyncio.TaskGroup in C).
 *
 * Every task a job starts is spawned into one group, so an interrupt reaches all of them (robots
 * and sitemap fetches too) and the job can await the moment the last one has ended. The group
 * holds no reference to its tasks' memory: each task's owner frees it from its done-callback as
 * usual; a task leaves the group when it ends. Only call these from the group's loop thread.
 */
#ifndef NET_ASYNC_GROUP_H
#define NET_ASYNC_GROUP_H

#include <stddef.h>

#include "net/async/list.h"
#include "net/async/task.h"

typedef struct task_group {
    sched_t *sched;
    list_t tasks;             /* task_t.group_link of every running member */
    size_t count;
    int cancelled;            /* cancel_all was called: members are cancelled, spawns refused */
    future_t *empty;          /* shared by the waiters; resolved when count drops to 0 */
} task_group_t;

void task_group_init(task_group_t *g, sched_t *s);

/* task_start(t, g's scheduler, step) and adds t to g. Returns 0, -ENOMEM (nothing started), or
 * -ECANCELED once the group was cancelled (nothing started: a stopping job starts no work). */
int task_group_spawn(task_group_t *g, task_t *t, task_step_fn step);

/* Cancels every member (task_cancel) and refuses later spawns. */
void task_group_cancel(task_group_t *g);

/* A future resolved once the group has no member (on a later turn, even if it is empty now).
 * The caller owns the returned reference. Cancelling it is refused (other waiters share it):
 * cancel the group instead. NULL when out of memory. */
future_t *task_group_wait(task_group_t *g);

static inline size_t task_group_size(const task_group_t *g) { return g->count; }

/* Internal: called by task_end_. */
void task_group_leave_(task_t *t);

#endif
