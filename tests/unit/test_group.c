/* Unit tests for task groups, permits that release themselves, task_defer and the list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/async/group.h"
#include "net/async/list.h"
#include "net/async/permit.h"
#include "net/async/sleep.h"

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
    assert_int_equal(uv_loop_close(&e->loop), 0);
    free(e);
    return 0;
}

/* A worker: takes a permit of `sem`, sleeps `ms`, and ends (the permit releases itself). */
struct worker {
    task_t task;
    permit_t slot;
    asem_t *sem;
    uint64_t ms;
    long *inflight, *max_inflight;
    int got, cancelled, ended;
    task_defer_t finally;
};

static void worker_finally(task_defer_t *d)
{
    container_of(d, struct worker, finally)->ended++;
}

static void worker_step(task_t *t)
{
    struct worker *w = container_of(t, struct worker, task);

    CORO_BEGIN(t);
    AWAIT(t, permit_acquire(&w->slot, w->sem));
    if (task_error(t) < 0) {
        w->cancelled = 1;
        goto finish;
    }
    w->got = 1;
    if (++*w->inflight > *w->max_inflight)
        *w->max_inflight = *w->inflight;
    AWAIT(t, net_sleep(w->task.sched, w->ms));
    --*w->inflight;
    if (task_error(t) < 0)
        w->cancelled = 1;
finish:
    CORO_END(t);
}

static int worker_spawn(task_group_t *g, struct worker *w)
{
    int result = task_group_spawn(g, &w->task, worker_step);

    if (result == 0) {
        permit_init(&w->slot, &w->task);
        task_defer(&w->task, &w->finally, worker_finally);
    }
    return result;
}

static void test_group_waits_for_every_member_and_permits_bound_them(void **state)
{
    struct env *e = *state;
    task_group_t g;
    asem_t sem;
    struct worker w[8];
    long inflight = 0, max_inflight = 0;
    future_t *empty;

    memset(w, 0, sizeof(w));
    task_group_init(&g, &e->sched);
    asem_init(&sem, &e->sched, 3);
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){ .sem = &sem, .ms = 5, .inflight = &inflight, .max_inflight = &max_inflight };
        assert_int_equal(worker_spawn(&g, &w[i]), 0);
    }
    assert_int_equal(task_group_size(&g), 8);
    empty = task_group_wait(&g);
    assert_non_null(empty);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(future_state(empty), FUTURE_DONE);
    assert_int_equal(task_group_size(&g), 0);
    assert_int_equal(max_inflight, 3);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(w[i].got, 1);
        assert_int_equal(w[i].ended, 1);        /* the finally hook ran exactly once */
        assert_false(permit_held(&w[i].slot));
    }
    assert_int_equal(sem.permits, 3);            /* every permit came back, once */
    future_unref(empty);
}

static void test_group_cancel_reaches_sleepers_and_queued_waiters(void **state)
{
    struct env *e = *state;
    task_group_t g;
    asem_t sem;
    struct worker w[4], late;
    long inflight = 0, max_inflight = 0;
    future_t *empty;

    memset(w, 0, sizeof(w));
    memset(&late, 0, sizeof(late));
    task_group_init(&g, &e->sched);
    asem_init(&sem, &e->sched, 2);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ .sem = &sem, .ms = 60000, .inflight = &inflight, .max_inflight = &max_inflight };
        assert_int_equal(worker_spawn(&g, &w[i]), 0);
    }
    /* Let two take permits and sleep, two queue. */
    uv_run(&e->loop, UV_RUN_NOWAIT);
    uv_run(&e->loop, UV_RUN_NOWAIT);
    task_group_cancel(&g);
    late.sem = &sem;
    assert_int_equal(worker_spawn(&g, &late), -ECANCELED);
    empty = task_group_wait(&g);
    uint64_t t0 = uv_hrtime();
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_true(uv_hrtime() - t0 < 1000000000ULL);    /* nobody slept its 60 s */
    assert_int_equal(future_state(empty), FUTURE_DONE);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(w[i].cancelled, 1);
        assert_int_equal(w[i].ended, 1);
    }
    assert_int_equal(w[0].got + w[1].got + w[2].got + w[3].got, 2);
    assert_int_equal(sem.permits, 2);
    assert_int_equal(sem.waiting, 0);
    future_unref(empty);
}

static void test_group_wait_on_an_empty_group_resolves_next_turn(void **state)
{
    struct env *e = *state;
    task_group_t g;
    future_t *f;
    unsigned long turn = e->sched.turns;

    task_group_init(&g, &e->sched);
    f = task_group_wait(&g);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(future_cancel(f), -EALREADY);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_true(e->sched.turns >= turn);
    future_unref(f);
}

/* A task that holds a permit of a, trades it for b if free, then trades back (awaiting). */
struct trader {
    task_t task;
    permit_t p;
    asem_t *a, *b;
    int traded, back;
    long a_free_while_b;
};

static void trader_step(task_t *t)
{
    struct trader *x = container_of(t, struct trader, task);

    CORO_BEGIN(t);
    AWAIT(t, permit_acquire(&x->p, x->a));
    assert_int_equal(task_error(t), 0);
    assert_ptr_equal(permit_sem(&x->p), x->a);
    x->traded = permit_try_trade(&x->p, x->b);
    x->a_free_while_b = x->a->permits;
    AWAIT(t, permit_trade(&x->p, x->a));
    x->back = task_error(t) == 0 && permit_sem(&x->p) == x->a;
    CORO_END(t);
}

static void test_permit_trades_and_releases_once(void **state)
{
    struct env *e = *state;
    asem_t a, b;
    struct trader x = { 0 };

    asem_init(&a, &e->sched, 1);
    asem_init(&b, &e->sched, 1);
    x.a = &a;
    x.b = &b;
    assert_int_equal(task_start(&x.task, &e->sched, trader_step), 0);
    permit_init(&x.p, &x.task);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(x.traded, 1);
    assert_int_equal(x.a_free_while_b, 1);      /* a's permit went back when b's was taken */
    assert_int_equal(x.back, 1);
    assert_int_equal(a.permits, 1);             /* released at the task's end */
    assert_int_equal(b.permits, 1);             /* released by the trade back */
    assert_false(permit_held(&x.p));
}

struct holder {
    task_t task;
    permit_t p;
    asem_t *a, *b;
    int tried, kept;
};

/* Synchronous calls only: try-acquire, a refused trade, a double release, then end holding a. */
static void holder_step(task_t *t)
{
    struct holder *h = container_of(t, struct holder, task);

    CORO_BEGIN(t);
    assert_int_equal(permit_try_acquire(&h->p, h->a), 1);
    h->tried = permit_try_trade(&h->p, h->b);
    h->kept = permit_sem(&h->p) == h->a && h->a->permits == 0;
    permit_release(&h->p);
    permit_release(&h->p);                      /* a second release is a no-op */
    assert_int_equal(h->a->permits, 1);
    assert_int_equal(permit_try_acquire(&h->p, h->a), 1);
    CORO_END(t);                                /* ends holding a: released once, here */
}

static void test_permit_try_trade_keeps_what_it_has_when_none_is_free(void **state)
{
    struct env *e = *state;
    asem_t a, b;
    struct holder h = { 0 };

    asem_init(&a, &e->sched, 1);
    asem_init(&b, &e->sched, 0);
    h.a = &a;
    h.b = &b;
    assert_int_equal(task_start(&h.task, &e->sched, holder_step), 0);
    permit_init(&h.p, &h.task);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(h.tried, 0);
    assert_int_equal(h.kept, 1);
    assert_int_equal(a.permits, 1);
    assert_int_equal(b.permits, 0);
}

struct item {
    list_t link;
    int v;
};

static void test_list_insert_remove_pop(void **state)
{
    list_t head, *pos, *tmp;
    struct item it[4];
    int sum = 0, order[4], n = 0;

    (void)state;
    list_init(&head);
    assert_true(list_empty(&head));
    for (int i = 0; i < 4; i++) {
        it[i].v = i;
        list_insert_tail(&head, &it[i].link);
    }
    list_remove(&it[1].link);
    assert_false(list_linked(&it[1].link));
    list_remove(&it[1].link);                   /* harmless twice */
    list_insert_head(&head, &it[1].link);
    list_for_each(pos, &head)
        order[n++] = container_of(pos, struct item, link)->v;
    assert_int_equal(n, 4);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 0);
    assert_int_equal(order[3], 3);
    list_for_each_safe(pos, tmp, &head) {
        sum += container_of(pos, struct item, link)->v;
        list_remove(pos);
    }
    assert_int_equal(sum, 6);
    assert_null(list_pop_head(&head));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_waits_for_every_member_and_permits_bound_them, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_group_cancel_reaches_sleepers_and_queued_waiters, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_group_wait_on_an_empty_group_resolves_next_turn, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_permit_trades_and_releases_once, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_permit_try_trade_keeps_what_it_has_when_none_is_free, env_setup, env_teardown),
        cmocka_unit_test(test_list_insert_remove_pop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
