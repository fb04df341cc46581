/* Unit tests for the crawl frontier (exact BFS levels, seen set, parents) and the host map. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/crawl/frontier.h"
#include "crawler/job/hostmap.h"

static void test_levels_are_fifo_and_advance_in_order(void **state)
{
    crawl_frontier_t f;
    crawl_item_t *it;
    const char *want0[] = { "http://h/a", "http://h/b", "http://h/c" };

    (void)state;
    assert_int_equal(crawl_frontier_init(&f), 0);
    assert_int_equal(crawl_frontier_push(&f, "http://h/a", 0, CRAWL_KIND_PAGE, 0, NULL), 1);
    assert_int_equal(crawl_frontier_push(&f, "http://h/n1", 1, CRAWL_KIND_PAGE, 0, NULL), 1);
    assert_int_equal(crawl_frontier_push(&f, "http://h/b", 0, CRAWL_KIND_ASSET, 0, NULL), 1);
    assert_int_equal(crawl_frontier_push(&f, "http://h/c", 0, CRAWL_KIND_PAGE, 2, NULL), 1);
    assert_int_equal(crawl_frontier_push(&f, "http://h/b", 1, CRAWL_KIND_PAGE, 0, NULL), 0);  /* seen */
    assert_int_equal(f.max_pending, 4);
    for (int i = 0; i < 3; i++) {
        it = crawl_frontier_pop(&f);
        assert_non_null(it);
        assert_string_equal(it->url, want0[i]);
        assert_int_equal(it->depth, 0);
        crawl_item_free(it);
    }
    assert_null(crawl_frontier_pop(&f));
    assert_false(crawl_frontier_has_current(&f));
    assert_int_equal(crawl_frontier_advance(&f), 1);
    assert_int_equal(f.depth, 1);
    it = crawl_frontier_pop(&f);
    assert_string_equal(it->url, "http://h/n1");
    /* A retry goes back to the end of the current level; it stays seen. */
    it->attempts++;
    assert_int_equal(crawl_frontier_push(&f, "http://h/n2", 1, CRAWL_KIND_PAGE, 0, NULL), 1);
    crawl_frontier_requeue(&f, it);
    it = crawl_frontier_pop(&f);
    assert_string_equal(it->url, "http://h/n2");
    crawl_item_free(it);
    it = crawl_frontier_pop(&f);
    assert_string_equal(it->url, "http://h/n1");
    assert_int_equal(it->attempts, 1);
    crawl_item_free(it);
    assert_int_equal(crawl_frontier_advance(&f), 0);   /* nothing deeper: the crawl is over */
    crawl_frontier_free(&f);
}

static void test_items_share_their_parent(void **state)
{
    crawl_frontier_t f;
    crawl_parent_t *page = crawl_parent_new("http://h/index.html");
    crawl_item_t *a, *b;

    (void)state;
    assert_non_null(page);
    assert_int_equal(crawl_frontier_init(&f), 0);
    assert_int_equal(crawl_frontier_push(&f, "http://h/x", 0, CRAWL_KIND_PAGE, 0, page), 1);
    assert_int_equal(crawl_frontier_push(&f, "http://h/y", 0, CRAWL_KIND_ASSET, 0, page), 1);
    assert_int_equal(crawl_frontier_push(&f, "http://h/x", 0, CRAWL_KIND_PAGE, 0, page), 0);
    assert_int_equal(page->refs, 3);                   /* ours and one per queued item */
    crawl_parent_unref(page);
    a = crawl_frontier_pop(&f);
    b = crawl_frontier_pop(&f);
    assert_ptr_equal(a->parent, b->parent);
    assert_string_equal(a->parent->url, "http://h/index.html");
    crawl_item_free(a);
    assert_int_equal(b->parent->refs, 1);
    crawl_item_free(b);                                /* the last reference: freed (ASan checks) */
    assert_int_equal(crawl_frontier_mark(&f, "http://h/z"), 1);
    assert_int_equal(crawl_frontier_push(&f, "http://h/z", 0, CRAWL_KIND_PAGE, 0, NULL), 0);
    crawl_frontier_free(&f);
}

static void test_free_releases_queued_items(void **state)
{
    crawl_frontier_t f;
    crawl_parent_t *page = crawl_parent_new("http://h/");

    (void)state;
    assert_int_equal(crawl_frontier_init(&f), 0);
    for (int i = 0; i < 100; i++) {
        char url[64];
        snprintf(url, sizeof(url), "http://h/%d", i);
        assert_int_equal(crawl_frontier_push(&f, url, i % 2, CRAWL_KIND_PAGE, 0, page), 1);
    }
    crawl_parent_unref(page);
    crawl_frontier_free(&f);                           /* no leak: LeakSanitizer checks */
}

/* ---- a level spilled to the store ----------------------------------------------------------- */

/* Pops the next item, reading spilled rows back (running the loop) when the window is empty. */
static crawl_item_t *pop_paging(crawl_frontier_t *f, uv_loop_t *loop, int *fills)
{
    crawl_item_t *it;

    while (!(it = crawl_frontier_pop(f)) && crawl_frontier_needs_fill(f)) {
        future_t *fut = crawl_frontier_fill(f);

        assert_non_null(fut);
        while (!future_is_done(fut))
            uv_run(loop, UV_RUN_ONCE);
        assert_int_equal(future_state(fut), FUTURE_DONE);
        future_unref(fut);
        (*fills)++;
    }
    return it;
}

static void test_spilled_level_comes_back_in_order(void **state)
{
    enum { N = 40, WINDOW = 3 };
    uv_loop_t loop;
    sched_t sched;
    store_state_t *st;
    crawl_frontier_t f;
    crawl_parent_t *pa = crawl_parent_new("http://h/pa"), *pb = crawl_parent_new("http://h/pb");
    crawl_item_t *it;
    char url[64];
    int fills = 0;

    (void)state;
    pb->seed = 2;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(sched_init(&sched, &loop), 0);
    assert_int_equal(store_state_open_temp(&st), 0);
    store_state_attach(st, &sched);
    assert_int_equal(crawl_frontier_init(&f), 0);
    crawl_frontier_attach(&f, st, &sched, WINDOW, 0, NULL, NULL, NULL);

    assert_int_equal(crawl_frontier_push(&f, "http://h/", 0, CRAWL_KIND_PAGE, 0, NULL), 1);
    it = crawl_frontier_pop(&f);
    assert_string_equal(it->url, "http://h/");
    crawl_item_free(it);
    for (int i = 0; i < N; i++) {            /* the next level: WINDOW in memory, the rest spilled */
        snprintf(url, sizeof(url), "http://h/n%d", i);
        assert_int_equal(crawl_frontier_push(&f, url, 1, i % 3 ? CRAWL_KIND_PAGE : CRAWL_KIND_ASSET,
                                             i % 2, i < N / 2 ? pa : pb), 1);
    }
    assert_int_equal(crawl_frontier_push(&f, "http://h/n7", 1, CRAWL_KIND_PAGE, 0, NULL), 0);
    assert_int_equal(f.nnext, N);
    assert_int_equal(f.next_mem, WINDOW);
    assert_null(crawl_frontier_pop(&f));
    assert_int_equal(crawl_frontier_advance(&f), 1);

    for (int i = 0; i < N; i++) {
        it = pop_paging(&f, &loop, &fills);
        assert_non_null(it);
        snprintf(url, sizeof(url), "http://h/n%d", i);
        assert_string_equal(it->url, url);
        assert_int_equal(it->depth, 1);
        assert_int_equal(it->kind, i % 3 ? CRAWL_KIND_PAGE : CRAWL_KIND_ASSET);
        assert_int_equal(it->hops, i % 2);
        assert_non_null(it->parent);
        assert_string_equal(it->parent->url, i < N / 2 ? "http://h/pa" : "http://h/pb");
        assert_int_equal(it->parent->seed, i < N / 2 ? 0 : 2);
        if (i == 5) {
            /* Queued at the current level while it runs (a redirect target): after its rows. */
            assert_int_equal(crawl_frontier_push(&f, "http://h/redirected", 1, CRAWL_KIND_PAGE, 1, NULL), 1);
            /* And the level after spills too, its first WINDOW items kept. */
            for (int k = 0; k < 2 * WINDOW; k++) {
                snprintf(url, sizeof(url), "http://h/d%d", k);
                assert_int_equal(crawl_frontier_push(&f, url, 2, CRAWL_KIND_PAGE, 0, it->parent), 1);
            }
        }
        crawl_item_free(it);
    }
    it = pop_paging(&f, &loop, &fills);
    assert_string_equal(it->url, "http://h/redirected");
    crawl_item_free(it);
    assert_null(pop_paging(&f, &loop, &fills));
    assert_false(crawl_frontier_has_current(&f));
    assert_true(fills > 0);
    assert_int_equal(f.pages_in, N - WINDOW);
    assert_true(f.max_mem <= 3 * WINDOW);        /* never the level: windows and a tail */

    assert_int_equal(crawl_frontier_advance(&f), 1);
    for (int k = 0; k < 2 * WINDOW; k++) {
        it = pop_paging(&f, &loop, &fills);
        assert_non_null(it);
        snprintf(url, sizeof(url), "http://h/d%d", k);
        assert_string_equal(it->url, url);
        crawl_item_free(it);
    }
    assert_null(pop_paging(&f, &loop, &fills));
    assert_int_equal(crawl_frontier_advance(&f), 0);

    crawl_parent_unref(pa);
    crawl_parent_unref(pb);
    crawl_frontier_free(&f);
    assert_int_equal(store_state_close(st), 0);   /* removes its folder, too */
    sched_close(&sched);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- host map ------------------------------------------------------------------------------- */

struct site {
    crawl_host_t host;
    int *freed;
    char *extra;
};

static void site_free(crawl_host_t *h)
{
    struct site *s = container_of(h, struct site, host);

    (*s->freed)++;
    free(s->extra);
}

static void test_hostmap_entries_per_hostport(void **state)
{
    uv_loop_t loop;
    sched_t sched;
    crawl_hostmap_t *m;
    crawl_host_t *a, *b, *c;
    int freed = 0;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(sched_init(&sched, &loop), 0);
    m = crawl_hostmap_new(&sched, 2, 0, sizeof(struct site), site_free);
    assert_non_null(m);
    assert_int_equal(crawl_hostmap_get_url(m, "http://Example.COM/a", &a), 0);
    assert_int_equal(crawl_hostmap_get_url(m, "http://example.com:80/b?x", &b), 0);
    assert_int_equal(crawl_hostmap_get_url(m, "https://example.com/", &c), 0);
    assert_ptr_equal(a, b);                            /* one entry per host:port */
    assert_ptr_not_equal(a, c);
    assert_string_equal(a->key, "example.com:80");
    assert_string_equal(c->key, "example.com:443");
    assert_int_equal(a->sem.permits, 2);
    assert_int_equal(crawl_hostmap_get_url(m, "not a url", &b), -EINVAL);
    container_of(a, struct site, host)->freed = &freed;
    container_of(a, struct site, host)->extra = strdup("robots");
    container_of(c, struct site, host)->freed = &freed;
    assert_int_equal(crawl_hostmap_size(m), 2);
    crawl_hostmap_put(m, a);
    assert_int_equal(freed, 0);                        /* one user left */
    crawl_hostmap_put(m, a);
    assert_int_equal(freed, 1);                        /* idle: dropped, its extra freed */
    assert_int_equal(crawl_hostmap_size(m), 1);
    crawl_hostmap_free(m);                             /* c still in use: freed with the map */
    assert_int_equal(freed, 2);
    sched_close(&sched);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_hostmap_keep_outlives_idle_moments(void **state)
{
    uv_loop_t loop;
    sched_t sched;
    crawl_hostmap_t *m;
    crawl_host_t *a, *b;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(sched_init(&sched, &loop), 0);
    m = crawl_hostmap_new(&sched, 1, 1, 0, NULL);
    assert_int_equal(crawl_hostmap_get_url(m, "http://h/", &a), 0);
    a->delay_ms = 500;
    crawl_hostmap_put(m, a);
    assert_int_equal(crawl_hostmap_get_url(m, "http://h/x", &b), 0);
    assert_ptr_equal(a, b);
    assert_int_equal(b->delay_ms, 500);                /* politeness state survived */
    crawl_hostmap_put(m, b);
    for (int i = 0; i < 200; i++) {                    /* growth keeps every entry reachable */
        char url[64];
        crawl_host_t *h;
        snprintf(url, sizeof(url), "http://h%d/", i);
        assert_int_equal(crawl_hostmap_get_url(m, url, &h), 0);
    }
    assert_int_equal(crawl_hostmap_get_url(m, "http://h/y", &b), 0);
    assert_ptr_equal(a, b);
    assert_int_equal(crawl_hostmap_size(m), 201);
    crawl_hostmap_free(m);
    sched_close(&sched);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_are_fifo_and_advance_in_order),
        cmocka_unit_test(test_items_share_their_parent),
        cmocka_unit_test(test_free_releases_queued_items),
        cmocka_unit_test(test_spilled_level_comes_back_in_order),
        cmocka_unit_test(test_hostmap_entries_per_hostport),
        cmocka_unit_test(test_hostmap_keep_outlives_idle_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
