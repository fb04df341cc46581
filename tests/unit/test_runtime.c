/* Unit tests for the async runtime: futures, tasks, gather/any/timeout, semaphore, executor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/async/asem.h"
#include "net/async/executor.h"
#include "net/async/future.h"
#include "net/async/sleep.h"
#include "net/async/task.h"

struct env {
    uv_loop_t loop;
    sched_t sched;
};

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    assert_non_null(e);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(sched_init(&e->sched, &e->loop), 0);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;

    sched_close(&e->sched);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&e->loop), 0);   /* no handle left open */
    free(e);
    return 0;
}

/* ---- futures ------------------------------------------------------------------------------ */

struct log {
    int order[16];
    int n;
    unsigned long turn[16];
    sched_t *sched;
};

static void log_cb(future_t *f, void *arg)
{
    struct log *l = arg;

    (void)f;
    l->turn[l->n] = l->sched->turns;
    l->order[l->n++] = (int)(intptr_t)future_result(f);
}

static void test_future_callbacks_run_later_in_order(void **state)
{
    struct env *e = *state;
    struct log l = { .sched = &e->sched };
    future_t *a = future_new(&e->sched), *b = future_new(&e->sched);

    assert_int_equal(future_on_done(a, log_cb, &l), 0);
    assert_int_equal(future_on_done(b, log_cb, &l), 0);
    assert_int_equal(future_resolve(b, (void *)2), 0);
    assert_int_equal(future_resolve(a, (void *)1), 0);
    assert_int_equal(l.n, 0);                          /* never synchronously */
    assert_int_equal(future_resolve(a, (void *)9), -EALREADY);
    assert_int_equal(future_fail(a, -EIO), -EALREADY);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.order[0], 2);                   /* settled first, called first */
    assert_int_equal(l.order[1], 1);
    assert_int_equal(future_state(a), FUTURE_DONE);
    future_unref(a);
    future_unref(b);
}

static void test_future_on_done_after_settle_runs_next_turn(void **state)
{
    struct env *e = *state;
    struct log l = { .sched = &e->sched };
    future_t *f = future_new_resolved(&e->sched, (void *)7);

    assert_non_null(f);
    assert_int_equal(future_on_done(f, log_cb, &l), 0);
    assert_int_equal(l.n, 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.order[0], 7);
    future_unref(f);
}

static void readd_cb(future_t *f, void *arg)
{
    struct log *l = arg;

    log_cb(f, l);
    if (l->n == 1)
        assert_int_equal(future_on_done(f, log_cb, l), 0);
}

static void test_future_callback_added_in_callback_runs_on_a_later_turn(void **state)
{
    struct env *e = *state;
    struct log l = { .sched = &e->sched };
    future_t *f = future_new(&e->sched);

    assert_int_equal(future_on_done(f, readd_cb, &l), 0);
    future_resolve(f, (void *)3);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(l.n, 2);
    assert_true(l.turn[1] > l.turn[0]);
    future_unref(f);
}

static int refuse_cancel(future_t *f, void *arg)
{
    (void)f;
    ++*(int *)arg;
    return -1;
}

static void test_future_cancel(void **state)
{
    struct env *e = *state;
    int hook_calls = 0;
    future_t *f = future_new(&e->sched), *g = future_new(&e->sched);

    future_set_cancel(f, refuse_cancel, &hook_calls);
    assert_int_equal(future_cancel(f), -EBUSY);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(future_state(f), FUTURE_PENDING);
    assert_int_equal(future_cancel(g), 0);
    assert_int_equal(future_state(g), FUTURE_CANCELLED);
    assert_int_equal(future_error(g), -ECANCELED);
    assert_int_equal(future_cancel(g), -EALREADY);
    future_resolve(f, NULL);
    future_unref(f);
    future_unref(g);
    uv_run(&e->loop, UV_RUN_DEFAULT);
}

static void test_future_all(void **state)
{
    struct env *e = *state;
    struct log l = { .sched = &e->sched };
    future_t *in[3] = { future_new(&e->sched), future_new(&e->sched), future_new(&e->sched) };
    future_t *all = future_all(&e->sched, in, 3);

    assert_non_null(all);
    assert_int_equal(future_on_done(all, log_cb, &l), 0);
    future_resolve(in[2], NULL);
    future_fail(in[1], -EIO);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(l.n, 0);                          /* in[0] still pending */
    future_resolve(in[0], NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(l.n, 1);
    assert_int_equal(future_state(all), FUTURE_FAILED);
    assert_int_equal(future_error(all), -EIO);
    for (int i = 0; i < 3; i++)
        future_unref(in[i]);
    future_unref(all);
}

static void test_future_all_empty_and_cancel(void **state)
{
    struct env *e = *state;
    future_t *empty = future_all(&e->sched, NULL, 0);
    future_t *in[2] = { future_new(&e->sched), future_new(&e->sched) };
    future_t *all = future_all(&e->sched, in, 2);

    assert_int_equal(future_state(empty), FUTURE_DONE);
    assert_int_equal(future_cancel(all), 0);
    assert_int_equal(future_state(in[0]), FUTURE_CANCELLED);
    assert_int_equal(future_state(in[1]), FUTURE_CANCELLED);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    future_unref(empty);
    future_unref(all);
    future_unref(in[0]);
    future_unref(in[1]);
}

static void test_future_any(void **state)
{
    struct env *e = *state;
    future_t *in[3] = { future_new(&e->sched), future_new(&e->sched), future_new(&e->sched) };
    future_t *any = future_any(&e->sched, in, 3);

    future_fail(in[1], -EPIPE);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(future_state(any), FUTURE_DONE);
    assert_int_equal((int)(uintptr_t)future_result(any), 1);
    future_resolve(in[0], NULL);                        /* late inputs are harmless */
    uv_run(&e->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 3; i++)
        future_unref(in[i]);
    future_unref(any);
}

static void test_future_timeout_fires_and_cancels_input(void **state)
{
    struct env *e = *state;
    future_t *slow = future_new(&e->sched);
    future_t *t = future_timeout(&e->sched, slow, 20);

    assert_non_null(t);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(future_state(t), FUTURE_FAILED);
    assert_int_equal(future_error(t), -ETIMEDOUT);
    assert_int_equal(future_state(slow), FUTURE_CANCELLED);
    future_unref(slow);
    future_unref(t);
}

static void test_future_timeout_passes_result(void **state)
{
    struct env *e = *state;
    future_t *fast = future_new(&e->sched);
    future_t *t = future_timeout(&e->sched, fast, 10000);

    future_resolve(fast, (void *)42);
    uv_run(&e->loop, UV_RUN_DEFAULT);                   /* must not wait 10 s: timer closed */
    assert_int_equal(future_state(t), FUTURE_DONE);
    assert_int_equal((int)(intptr_t)future_result(t), 42);
    future_unref(fast);
    future_unref(t);
}

/* ---- tasks and the semaphore ---------------------------------------------------------------- */

struct worker {
    task_t task;
    asem_t *sem;
    int id;
    int *trace;     /* ids in the order they got the permit */
    int *ntrace;
    int got_error;
    future_t *gate; /* held until the test opens it */
};

static void worker_step(task_t *t)
{
    struct worker *w = container_of(t, struct worker, task);

    CORO_BEGIN(t);
    AWAIT(t, asem_acquire(w->sem));
    if (task_error(t) < 0) {
        w->got_error = task_error(t);
        goto out;
    }
    w->trace[(*w->ntrace)++] = w->id;
    AWAIT(t, future_ref(w->gate));
    asem_release(w->sem);
out:
    CORO_END(t);
}

static void test_semaphore_fifo_and_bound(void **state)
{
    struct env *e = *state;
    asem_t sem;
    struct worker w[6];
    future_t *done[6];
    int trace[6], ntrace = 0;
    future_t *gate = future_new(&e->sched);

    asem_init(&sem, &e->sched, 2);
    for (int i = 0; i < 6; i++) {
        w[i] = (struct worker){ .sem = &sem, .id = i, .trace = trace, .ntrace = &ntrace,
                                .gate = gate };
        assert_int_equal(task_start(&w[i].task, &e->sched, worker_step), 0);
        done[i] = future_ref(task_done(&w[i].task));
    }
    uv_run(&e->loop, UV_RUN_NOWAIT);
    uv_run(&e->loop, UV_RUN_NOWAIT);
    assert_int_equal(ntrace, 2);                         /* bound held */
    assert_int_equal(sem.waiting, 4);
    future_resolve(gate, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(ntrace, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(trace[i], i);                   /* FIFO: in order of asking */
        assert_int_equal(future_state(done[i]), FUTURE_DONE);
        future_unref(done[i]);
    }
    assert_int_equal(sem.permits, 2);
    future_unref(gate);
}

static void test_cancel_while_waiting_on_semaphore(void **state)
{
    struct env *e = *state;
    asem_t sem;
    struct worker w[3];
    future_t *done[3];
    int trace[3], ntrace = 0;
    future_t *gate = future_new(&e->sched);

    asem_init(&sem, &e->sched, 1);
    for (int i = 0; i < 3; i++) {
        w[i] = (struct worker){ .sem = &sem, .id = i, .trace = trace, .ntrace = &ntrace,
                                .gate = gate };
        assert_int_equal(task_start(&w[i].task, &e->sched, worker_step), 0);
        done[i] = future_ref(task_done(&w[i].task));
    }
    uv_run(&e->loop, UV_RUN_NOWAIT);
    assert_int_equal(sem.waiting, 2);
    task_cancel(&w[1].task);                              /* waiter in the middle leaves */
    assert_int_equal(sem.waiting, 1);
    future_resolve(gate, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(w[1].got_error, -ECANCELED);
    assert_int_equal(future_state(done[1]), FUTURE_CANCELLED);
    assert_int_equal(ntrace, 2);
    assert_int_equal(trace[0], 0);
    assert_int_equal(trace[1], 2);                        /* the permit skipped the cancelled one */
    assert_int_equal(sem.permits, 1);
    for (int i = 0; i < 3; i++)
        future_unref(done[i]);
    future_unref(gate);
}

/* try_acquire takes only a free permit: never past zero, never one a release handed to a waiter. */
static void test_semaphore_try_acquire_never_oversells(void **state)
{
    struct env *e = *state;
    asem_t sem;
    future_t *waiter;

    asem_init(&sem, &e->sched, 2);
    assert_int_equal(asem_try_acquire(&sem), 1);
    assert_int_equal(asem_try_acquire(&sem), 1);
    assert_int_equal(asem_try_acquire(&sem), 0);          /* both held: none left */
    assert_int_equal(sem.permits, 0);
    waiter = asem_acquire(&sem);
    assert_non_null(waiter);
    assert_int_equal(sem.waiting, 1);
    asem_release(&sem);                                    /* handed to the waiter ... */
    assert_int_equal(sem.waiting, 0);
    assert_int_equal(sem.permits, 0);
    assert_int_equal(asem_try_acquire(&sem), 0);          /* ... so none is free */
    asem_release(&sem);                                    /* the second try_acquire's */
    assert_int_equal(asem_try_acquire(&sem), 1);
    assert_int_equal(asem_try_acquire(&sem), 0);
    asem_release(&sem);
    asem_release(&sem);                                    /* the waiter's */
    assert_int_equal(sem.permits, 2);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(future_state(waiter), FUTURE_DONE);
    future_unref(waiter);
}

/* ---- executor ------------------------------------------------------------------------------ */

struct job {
    int in, out;
};

static int square(void *arg)
{
    struct job *j = arg;

    usleep(1000);
    if (j->in < 0)
        return -EDOM;
    j->out = j->in * j->in;
    return 0;
}

static void test_executor_results(void **state)
{
    struct env *e = *state;
    struct job jobs[8];
    future_t *f[8], *all;

    for (int i = 0; i < 8; i++) {
        jobs[i].in = i == 5 ? -1 : i;
        f[i] = executor_run(&e->sched, square, &jobs[i]);
        assert_non_null(f[i]);
    }
    all = future_all(&e->sched, f, 8);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(future_error(all), -EDOM);
    for (int i = 0; i < 8; i++) {
        if (i == 5) {
            assert_int_equal(future_error(f[i]), -EDOM);
        } else {
            assert_int_equal(future_state(f[i]), FUTURE_DONE);
            assert_ptr_equal(future_result(f[i]), &jobs[i]);
            assert_int_equal(jobs[i].out, i * i);
        }
        future_unref(f[i]);
    }
    future_unref(all);
}

/* ---- sleep ---------------------------------------------------------------------------------- */

static void test_sleep_resolves_after_its_delay(void **state)
{
    struct env *e = *state;
    uint64_t t0 = uv_hrtime();
    future_t *z = net_sleep(&e->sched, 30);
    future_t *never = net_sleep(&e->sched, 60000);

    assert_non_null(z);
    assert_int_equal(future_cancel(never), 0);         /* its timer closes: the loop can end */
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(future_state(z), FUTURE_DONE);
    assert_true(uv_hrtime() - t0 >= 29 * 1000000ULL);
    assert_true(uv_hrtime() - t0 < 5000 * 1000000ULL);  /* did not wait for the cancelled one */
    assert_int_equal(future_state(never), FUTURE_CANCELLED);
    future_unref(z);
    future_unref(never);
}

/* ---- the scheduler's passes and AWAIT of a settled future --------------------------------- */

/* Counts loop iterations: a check handle runs once per iteration, after the poll. */
struct iter {
    uv_check_t check;
    unsigned long n;
};

static void iter_on_check(uv_check_t *h)
{
    ((struct iter *)h->data)->n++;
}

static void iter_start(struct env *e, struct iter *it)
{
    it->n = 0;
    assert_int_equal(uv_check_init(&e->loop, &it->check), 0);
    it->check.data = it;
    assert_int_equal(uv_check_start(&it->check, iter_on_check), 0);
    uv_unref((uv_handle_t *)&it->check);    /* a failed assertion must not keep the loop alive */
}

/* Closes the handle and runs the loop until the close is done (the handle is on the stack). */
static void iter_stop(struct env *e, struct iter *it)
{
    uv_close((uv_handle_t *)&it->check, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
}

struct chain {
    sched_node_t node;
    sched_t *sched;
    struct iter *it;
    int left;                   /* posts still to make */
    unsigned long iter_at[8];   /* loop iteration of each call */
    unsigned long pass_at[8];   /* scheduler pass of each call */
    int n;
};

static void chain_fn(sched_node_t *node)
{
    struct chain *c = container_of(node, struct chain, node);

    c->iter_at[c->n] = c->it->n;
    c->pass_at[c->n++] = c->sched->turns;
    if (c->left-- > 0)
        sched_post(c->sched, &c->node);
}

/* A call posted from a call runs in a later pass of the same loop iteration: a chain of steps
 * (a transfer ends, a permit wakes the spawner, the spawner starts a task) does not wait for the
 * loop to poll between its links. */
static void test_posts_from_a_pass_run_before_the_loop_polls(void **state)
{
    struct env *e = *state;
    static struct iter it;       /* static: the loop may still hold it if an assertion fails */
    struct chain c = { .node.fn = chain_fn, .sched = &e->sched, .it = &it, .left = 4 };

    iter_start(e, &it);
    sched_post(&e->sched, &c.node);
    uv_run(&e->loop, UV_RUN_NOWAIT);
    assert_int_equal(c.n, 5);
    for (int i = 1; i < 5; i++) {
        assert_int_equal(c.iter_at[i], c.iter_at[0]);      /* the same loop iteration */
        assert_true(c.pass_at[i] > c.pass_at[i - 1]);       /* never inside the call that posted */
    }
    iter_stop(e, &it);
}

struct spinner {
    sched_node_t node;
    sched_t *sched;
    int *timer_fired;
    long runs;
    long runs_when_fired;
};

static void spinner_fn(sched_node_t *node)
{
    struct spinner *sp = container_of(node, struct spinner, node);

    sp->runs++;
    if (!*sp->timer_fired)
        sched_post(sp->sched, &sp->node);
}

static void spin_timer_cb(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* A call that keeps posting itself does not starve the loop: after SCHED_TURN_BUDGET calls the
 * loop polls and runs its timers. */
static void test_a_call_that_reposts_itself_lets_timers_run(void **state)
{
    struct env *e = *state;
    int fired = 0;
    uv_timer_t timer;
    struct spinner sp = { .node.fn = spinner_fn, .sched = &e->sched, .timer_fired = &fired };

    assert_int_equal(uv_timer_init(&e->loop, &timer), 0);
    timer.data = &fired;
    assert_int_equal(uv_timer_start(&timer, spin_timer_cb, 1, 0), 0);
    sched_post(&e->sched, &sp.node);
    uv_run(&e->loop, UV_RUN_DEFAULT);               /* ends: the timer stops the spinner */
    assert_int_equal(fired, 1);
    assert_true(sp.runs >= (long)SCHED_TURN_BUDGET);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
}

static void count_fn(sched_node_t *node)
{
    (void)node;
    fail_msg("a cancelled call ran");
}

static void test_sched_cancel_takes_a_call_off_the_queue(void **state)
{
    struct env *e = *state;
    struct chain c = { .node.fn = chain_fn, .sched = &e->sched };
    sched_node_t a = { .fn = count_fn }, b = { .fn = count_fn };
    static struct iter it;

    iter_start(e, &it);
    c.it = &it;
    sched_post(&e->sched, &a);
    sched_post(&e->sched, &c.node);
    sched_post(&e->sched, &b);
    sched_cancel(&e->sched, &a);                    /* the head */
    sched_cancel(&e->sched, &b);                    /* the tail */
    sched_cancel(&e->sched, &b);                    /* not queued: nothing */
    assert_int_equal(a.queued, 0);
    sched_post(&e->sched, &a);                      /* the tail was fixed: a queues after c */
    sched_cancel(&e->sched, &a);
    uv_run(&e->loop, UV_RUN_NOWAIT);
    assert_int_equal(c.n, 1);
    iter_stop(e, &it);
}

struct awaiter {
    task_t task;
    asem_t *sem;
    future_t *ready;
    unsigned long pass_before, pass_after_ready, pass_after_permit, pass_after_pending;
    future_t *pending;
};

static void awaiter_step(task_t *t)
{
    struct awaiter *a = container_of(t, struct awaiter, task);

    CORO_BEGIN(t);
    a->pass_before = t->sched->turns;
    AWAIT(t, future_ref(a->ready));
    assert_int_equal((int)(intptr_t)task_result(t), 5);
    a->pass_after_ready = t->sched->turns;
    AWAIT(t, asem_acquire(a->sem));
    assert_int_equal(task_error(t), 0);
    a->pass_after_permit = t->sched->turns;
    AWAIT(t, future_ref(a->pending));
    a->pass_after_pending = t->sched->turns;
    CORO_END(t);
}

static void resolve_later(uv_timer_t *timer)
{
    future_resolve(timer->data, NULL);
}

/* As in asyncio: awaiting a future that has settled (a free permit, a buffered result) goes
 * straight on; a pending one suspends the task until a later pass. */
static void test_await_of_a_settled_future_goes_straight_on(void **state)
{
    struct env *e = *state;
    asem_t sem;
    uv_timer_t timer;
    struct awaiter a = { 0 };
    future_t *done;

    asem_init(&sem, &e->sched, 1);
    a.sem = &sem;
    a.ready = future_new_resolved(&e->sched, (void *)5);
    a.pending = future_new(&e->sched);
    assert_non_null(a.ready);
    assert_non_null(a.pending);
    assert_int_equal(uv_timer_init(&e->loop, &timer), 0);
    timer.data = a.pending;
    assert_int_equal(uv_timer_start(&timer, resolve_later, 1, 0), 0);
    assert_int_equal(task_start(&a.task, &e->sched, awaiter_step), 0);
    done = future_ref(task_done(&a.task));
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(future_state(done), FUTURE_DONE);
    assert_int_equal(a.pass_after_ready, a.pass_before);
    assert_int_equal(a.pass_after_permit, a.pass_before);
    assert_int_equal(sem.permits, 0);                       /* the permit was taken */
    assert_true(a.pass_after_pending > a.pass_before);
    future_unref(done);
    future_unref(a.ready);
    future_unref(a.pending);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_future_callbacks_run_later_in_order, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_future_on_done_after_settle_runs_next_turn, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_future_callback_added_in_callback_runs_on_a_later_turn, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_future_cancel, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_future_all, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_future_all_empty_and_cancel, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_future_any, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_future_timeout_fires_and_cancels_input, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_future_timeout_passes_result, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_semaphore_fifo_and_bound, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_while_waiting_on_semaphore, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_semaphore_try_acquire_never_oversells, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_executor_results, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_sleep_resolves_after_its_delay, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_posts_from_a_pass_run_before_the_loop_polls, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_call_that_reposts_itself_lets_timers_run, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_sched_cancel_takes_a_call_off_the_queue, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_await_of_a_settled_future_goes_straight_on, env_setup, env_teardown),
    };
    return cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
}
