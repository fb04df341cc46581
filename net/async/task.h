/* task: a stackless coroutine scheduled by the loop (asyncio.Task in C).
 *
 * A coroutine is a function void step(task_t *) whose body sits between CORO_BEGIN and CORO_END.
 * AWAIT(t, fut) suspends it until fut settles; the step is then called again and resumes after the
 * AWAIT. A future that has already settled does not suspend: the body goes straight on. Locals do not survive an AWAIT: keep state in the struct that embeds the task_t and find
 * it with container_of. After an AWAIT, task_error(t) is 0 if the future was resolved (result in
 * task_result(t)), else its negative error (-ECANCELED when cancelled).
 *
 *     static void fetch_step(task_t *t)
 *     {
 *         struct fetch *f = container_of(t, struct fetch, task);
 *         CORO_BEGIN(t);
 *         AWAIT(t, asem_acquire(f->permits));
 *         ...
 *         CORO_END(t);
 *     }
 *
 * Do not use switch statements that span an AWAIT inside a coroutine body.
 *
 * try/finally: task_defer(t, &d, fn) runs fn(&d) when the coroutine ends, however it ends (LIFO,
 * just before its done-future settles). Permits (net/async/permit.h) use it to release themselves.
 *
 * Only call these from the loop thread that runs the task's scheduler.
 */
#ifndef NET_TASK_H
#define NET_TASK_H

#include <stddef.h>

#include "net/async/future.h"
#include "net/async/list.h"
#include "net/async/sched.h"

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

typedef struct task task_t;
typedef void (*task_step_fn)(task_t *t);
struct task_group;

/* A cleanup registered with task_defer; embedded in whatever it releases. */
typedef struct task_defer {
    struct task_defer *next;
    void (*fn)(struct task_defer *d);
} task_defer_t;

struct task {
    sched_node_t node;      /* posts the first step */
    sched_t *sched;
    task_step_fn step;
    int resume;             /* resume point: 0 = start, else the __LINE__ of an AWAIT */
    int cancelled;
    int error;              /* set by the coroutine to fail its done-future (negative errno) */
    void *result;           /* resolves the done-future */
    future_t *awaiting;     /* the future suspended on or just woken from (a reference) */
    future_t *done;         /* settled when the coroutine reaches CORO_END */
    task_defer_t *defers;   /* run at the end, last registered first */
    struct task_group *group;   /* the group the task belongs to, NULL if none */
    list_t group_link;
};

/* Prepares t and posts its first step for the next loop turn. t is embedded in the caller's
 * struct; free that struct only after task_done(t) has settled (e.g. in its done-callback).
 * Returns 0 or -ENOMEM (nothing is started then). */
int task_start(task_t *t, sched_t *s, task_step_fn step);

/* Runs fn(d) when t ends, however it ends (the coroutine's `finally`); d stays registered until
 * then and must live as long as t. Call after task_start. */
void task_defer(task_t *t, task_defer_t *d, void (*fn)(task_defer_t *d));

/* The future settled when the coroutine ends (resolved with t->result, or failed with t->error).
 * Borrowed: take future_ref to keep it past the task's end. */
static inline future_t *task_done(task_t *t) { return t->done; }

/* Requests cancellation, once, as asyncio does (cancelling task_done(t) does the same and the
 * done-future then settles when the coroutine has really ended): the future being awaited is cancelled (the
 * coroutine resumes with -ECANCELED, unless the producer refuses, e.g. a job already running on
 * the pool). Later AWAITs run normally, so the coroutine can clean up (await a writer's abort);
 * it can test task_cancelled(t) to stop early. */
void task_cancel(task_t *t);
static inline int task_cancelled(const task_t *t) { return t->cancelled; }

static inline int task_error(const task_t *t)
{
    return t->awaiting ? future_error(t->awaiting) : 0;
}

static inline void *task_result(const task_t *t)
{
    return t->awaiting ? future_result(t->awaiting) : NULL;
}

/* Internal, used by the macros. task_await_ takes ownership of the caller's reference to f
 * (NULL means the operation could not start: the task resumes with -ENOMEM). It returns 1 when
 * the task must suspend, 0 when f has already settled: as in asyncio, awaiting a done future
 * (a free permit, a buffered line) goes straight on, without giving up the loop turn. */
int task_await_(task_t *t, future_t *f);
void task_end_(task_t *t);

#define CORO_BEGIN(t) switch ((t)->resume) { case 0:

#define AWAIT(t, fexpr)                                                                         \
    do {                                                                                        \
        (t)->resume = __LINE__;                                                                 \
        if (task_await_((t), (fexpr)))                                                          \
            return;                                                                             \
        __attribute__((fallthrough));                                                           \
    case __LINE__:;                                                                             \
    } while (0)

#define CORO_END(t)                                                                             \
    }                                                                                           \
    task_end_((t))

#endif
