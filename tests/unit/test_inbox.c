/* test_inbox.c - net/async/inbox.c: posts from other threads reach the loop in order, batched
 * behind one wakeup, merged per node, removable, and the inbox closes with nothing left open. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "net/async/inbox.h"

#define N 1000

struct slot {
    inbox_node_t node;
    int index;
};

struct fixture {
    inbox_t ib;
    struct slot slots[N];
    int seen[N];                /* order of delivery: slot indexes */
    unsigned bits[N];           /* bits delivered, by slot */
    int nseen;
    int want;                   /* close the inbox once this many were seen */
    int closed;
};

static void on_node(inbox_t *ib, inbox_node_t *node, unsigned bits)
{
    struct fixture *fx = ib->data;
    struct slot *s = container_of(node, struct slot, node);

    assert_true(bits != 0);
    assert_true(fx->nseen < N);
    fx->seen[fx->nseen++] = s->index;
    fx->bits[s->index] |= bits;
    if (fx->want && fx->nseen == fx->want)
        inbox_close(ib, NULL);
}

static void on_closed(uv_handle_t *h)
{
    struct fixture *fx = container_of((uv_async_t *)h, struct fixture, ib.async)->ib.data;

    fx->closed++;
}

static struct fixture *fixture_new(uv_loop_t *loop)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    alarm(10);                  /* a lost wakeup hangs uv_run: fail instead */
    assert_int_equal(uv_loop_init(loop), 0);
    assert_int_equal(inbox_init(&fx->ib, loop, on_node), 0);
    fx->ib.data = fx;
    for (int i = 0; i < N; i++) {
        inbox_node_init(&fx->slots[i].node);
        fx->slots[i].index = i;
    }
    return fx;
}

static void *post_all(void *arg)
{
    struct fixture *fx = arg;

    for (int i = 0; i < N; i++)
        inbox_post(&fx->ib, &fx->slots[i].node, 1u << (i % 3));
    return NULL;
}

/* Everything posted by another thread before the loop runs arrives in one wakeup, in order. */
static void test_posts_from_a_thread_arrive_in_order_in_one_wakeup(void **state)
{
    uv_loop_t loop;
    struct fixture *fx = fixture_new(&loop);
    pthread_t t;

    (void)state;
    assert_int_equal(pthread_create(&t, NULL, post_all, fx), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    fx->want = N;
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->nseen, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(fx->seen[i], i);
        assert_int_equal(fx->bits[i], 1u << (i % 3));
    }
    assert_int_equal(fx->ib.wakeups, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(fx);
}

/* A node posted again while queued is delivered once with the bits ORed, at its first place. */
static void test_reposting_a_queued_node_merges_its_bits(void **state)
{
    uv_loop_t loop;
    struct fixture *fx = fixture_new(&loop);

    (void)state;
    inbox_post(&fx->ib, &fx->slots[0].node, 1);
    inbox_post(&fx->ib, &fx->slots[1].node, 1);
    inbox_post(&fx->ib, &fx->slots[0].node, 4);
    fx->want = 2;
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->nseen, 2);
    assert_int_equal(fx->seen[0], 0);
    assert_int_equal(fx->seen[1], 1);
    assert_int_equal(fx->bits[0], 5);
    assert_int_equal(fx->bits[1], 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(fx);
}

/* A removed node is never delivered; its bits come back to the caller. */
static void test_removed_node_is_not_delivered(void **state)
{
    uv_loop_t loop;
    struct fixture *fx = fixture_new(&loop);

    (void)state;
    inbox_post(&fx->ib, &fx->slots[0].node, 2);
    inbox_post(&fx->ib, &fx->slots[1].node, 1);
    assert_int_equal(inbox_remove(&fx->ib, &fx->slots[0].node), 2);
    assert_int_equal(inbox_remove(&fx->ib, &fx->slots[0].node), 0);
    fx->want = 1;
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->nseen, 1);
    assert_int_equal(fx->seen[0], 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(fx);
}

/* Posts while the loop runs: all arrive, in order, none lost (how many wakeups depends on the
 * timing). Then close: queued nodes are dropped, the close callback runs once, and the loop closes
 * with nothing left. */
static void test_concurrent_posts_then_clean_close(void **state)
{
    uv_loop_t loop;
    struct fixture *fx = fixture_new(&loop);
    pthread_t t;

    (void)state;
    fx->want = N;
    assert_int_equal(pthread_create(&t, NULL, post_all, fx), 0);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(fx->nseen, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(fx->seen[i], i);
    assert_true(fx->ib.wakeups >= 1 && fx->ib.wakeups <= N);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(fx);

    /* closed with nodes still queued: none is delivered, the callback runs once */
    fx = fixture_new(&loop);
    inbox_post(&fx->ib, &fx->slots[0].node, 1);
    inbox_close(&fx->ib, on_closed);
    inbox_post(&fx->ib, &fx->slots[1].node, 1);     /* after close: dropped */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->nseen, 0);
    assert_int_equal(fx->closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_posts_from_a_thread_arrive_in_order_in_one_wakeup),
        cmocka_unit_test(test_reposting_a_queued_node_merges_its_bits),
        cmocka_unit_test(test_removed_node_is_not_delivered),
        cmocka_unit_test(test_concurrent_posts_then_clean_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
