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
        cmocka_unit_test(test_hostmap_entries_per_hostport),
        cmocka_unit_test(test_hostmap_keep_outlives_idle_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
