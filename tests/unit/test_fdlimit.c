/* test_fdlimit.c - crawler/job/fdlimit.c: the descriptors a job needs and the -c that fits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "crawler/job/fdlimit.h"

static crawl_options_t opts(crawl_mode_t mode, int discard)
{
    crawl_options_t o;

    memset(&o, 0, sizeof(o));
    o.mode = mode;
    o.discard = discard;
    o.concurrency = 16;
    return o;
}

/* ---- what one transfer holds ---------------------------------------------------------------- */

struct need_case {
    const char *what;
    crawl_mode_t mode;
    int discard, commit_slots;
    long per_transfer;
};

static const struct need_case need_cases[] = {
    /* socket + NAME.part + the previous body of the slot, still being committed */
    { "get, async", CRAWL_MODE_ASYNC, 0, 1, 3 },
    /* the commit holds its -c permit: socket + NAME.part */
    { "crawl, async", CRAWL_MODE_ASYNC, 0, 0, 2 },
    /* nothing written: the socket alone */
    { "get --discard", CRAWL_MODE_ASYNC, 1, 1, 1 },
    /* the blocking transfer's own thread walks to NAME.part: socket + folder + NAME.part */
    { "get, threads", CRAWL_MODE_THREADS, 0, 1, 3 },
    { "get --discard, threads", CRAWL_MODE_THREADS, 1, 1, 2 },
};

static void test_per_transfer(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(need_cases) / sizeof(need_cases[0]); i++) {
        const struct need_case *c = &need_cases[i];
        crawl_options_t o = opts(c->mode, c->discard);
        crawl_fd_budget_t b = crawl_fdlimit_need(&o, c->commit_slots, 1, 0);

        if (b.per_transfer != c->per_transfer)
            fail_msg("%s: %ld descriptors per transfer, expected %ld", c->what, b.per_transfer,
                     c->per_transfer);
    }
}

/* The fixed part counts the state database, the HAR file and the pool's folder walks, and only
 * those that the job has. */
static void test_fixed_part(void **state)
{
    crawl_options_t o = opts(CRAWL_MODE_ASYNC, 0);
    crawl_fd_budget_t bare, with_state, with_har, big_pool, threads;

    (void)state;
    bare = crawl_fdlimit_need(&o, 1, 0, 4);
    assert_int_equal(bare.fixed, CRAWL_FD_BASE + CRAWL_FD_MARGIN + 2 * 4);
    with_state = crawl_fdlimit_need(&o, 1, 1, 4);
    assert_int_equal(with_state.fixed, bare.fixed + 4);              /* db, -wal, -shm, temp */
    o.har = "x.har";
    with_har = crawl_fdlimit_need(&o, 1, 0, 4);
    assert_int_equal(with_har.fixed, bare.fixed + 1);
    o.har = NULL;
    big_pool = crawl_fdlimit_need(&o, 1, 0, 64);                   /* UV_THREADPOOL_SIZE=64 */
    assert_int_equal(big_pool.fixed, bare.fixed + 2 * 60);
    assert_int_equal(crawl_fdlimit_need(&o, 1, 0, 0).fixed, bare.fixed);  /* unset: libuv's 4 */
    o.mode = CRAWL_MODE_THREADS;   /* transfers on threads of their own; libuv's pool for the rest */
    threads = crawl_fdlimit_need(&o, 1, 0, 4);
    assert_int_equal(threads.fixed, bare.fixed);
}

/* ---- the -c that fits ----------------------------------------------------------------------- */

struct fit_case {
    long per_transfer, fixed, want, limit;
    long fit;
};

static const struct fit_case fit_cases[] = {
    { 3, 52, 16, 1024, 16 },        /* fits: unchanged */
    { 3, 52, 324, 1024, 324 },      /* exactly at the limit: 52 + 972 = 1024 */
    { 3, 52, 325, 1024, 324 },      /* one more does not */
    { 3, 52, 2000, 1024, 324 },     /* the case: -c 2000 under ulimit -n 1024 */
    { 3, 52, 500, 256, 68 },        /* and -c 500 under ulimit -n 256 */
    { 2, 52, 500, 256, 102 },       /* the crawl keeps one descriptor less per transfer */
    { 3, 52, 500, 60, 2 },
    { 3, 52, 500, 55, 1 },          /* one transfer fits: -c 1 */
    { 3, 52, 500, 40, 1 },          /* not even one fits: still -c 1, never 0 */
    { 3, 52, 0, 1024, 1 },
    { 3, 52, 10000, 1L << 20, 10000 },
};

static void test_fit(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fit_cases) / sizeof(fit_cases[0]); i++) {
        const struct fit_case *c = &fit_cases[i];
        crawl_fd_budget_t b = { .per_transfer = c->per_transfer, .fixed = c->fixed };
        long fit = crawl_fdlimit_fit(&b, c->want, c->limit);

        if (fit != c->fit)
            fail_msg("-c %ld in %ld descriptors (%ld each + %ld): got %ld, expected %ld", c->want,
                     c->limit, c->per_transfer, c->fixed, fit, c->fit);
        if (c->want > 0 && fit < c->want && crawl_fdlimit_total(&b, fit + 1) <= c->limit)
            fail_msg("-c %ld fits %ld, one more would fit too", c->want, fit);
    }
    {
        crawl_fd_budget_t b = { .per_transfer = 3, .fixed = 52 };
        assert_int_equal(crawl_fdlimit_total(&b, 2000), 6052);
    }
}

/* ---- the process limit ----------------------------------------------------------------------- */

/* Sync mode runs one transfer whatever -c says: nothing to lower. The others fit their -c into
 * this process's limit (the test's limit is far above 16 transfers' needs) and cap curl's
 * connections at the -c in force. */
static void test_apply(void **state)
{
    crawl_options_t o = opts(CRAWL_MODE_SYNC, 0);

    (void)state;
    o.concurrency = 5000;
    assert_int_equal(crawl_fdlimit_apply(&o, 1, 1, NULL, 0), 5000);
    o = opts(CRAWL_MODE_ASYNC, 0);
    o.http.max_connections = 16;
    assert_int_equal(crawl_fdlimit_apply(&o, 1, 1, NULL, 0), 16);
    assert_int_equal(o.concurrency, 16);
    assert_int_equal(o.http.max_connections, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_transfer),
        cmocka_unit_test(test_fixed_part),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
