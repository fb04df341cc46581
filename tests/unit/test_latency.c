/* test_latency.c - crawler/report/latency.c: percentiles of request times within 1%, in fixed
 * memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "crawler/report/latency.h"

/* |got - want| <= 1% of want */
static void assert_within_1pct(double got, double want)
{
    if (fabs(got - want) > want * 0.01)
        fail_msg("got %.4f, want %.4f (within 1%%)", got, want);
}

static void test_empty_is_zero(void **state)
{
    crawl_latency_t h;

    (void)state;
    memset(&h, 0, sizeof(h));
    assert_true(crawl_latency_ms(&h, 0.5) == 0);
    assert_true(crawl_latency_ms(&h, 1) == 0);
}

/* 1 ms .. 1000 ms, one request each: the nearest-rank percentiles are 500, 950 and 990 ms. */
static void test_uniform_percentiles(void **state)
{
    crawl_latency_t h;

    (void)state;
    memset(&h, 0, sizeof(h));
    for (int ms = 1000; ms >= 1; ms--)          /* order does not matter */
        crawl_latency_add(&h, (int64_t)ms * 1000);
    assert_int_equal(h.count, 1000);
    assert_within_1pct(crawl_latency_ms(&h, 0.50), 500);
    assert_within_1pct(crawl_latency_ms(&h, 0.95), 950);
    assert_within_1pct(crawl_latency_ms(&h, 0.99), 990);
    assert_true(crawl_latency_ms(&h, 1) == 1000);
}

/* 98 fast requests and 2 slow ones: p95 is fast, p99 slow, never above the largest. */
static void test_tail(void **state)
{
    crawl_latency_t h;

    (void)state;
    memset(&h, 0, sizeof(h));
    for (int i = 0; i < 98; i++)
        crawl_latency_add(&h, 100000);               /* 100 ms */
    crawl_latency_add(&h, 2500000);
    crawl_latency_add(&h, 2500000);                  /* 2.5 s */
    assert_within_1pct(crawl_latency_ms(&h, 0.95), 100);
    assert_within_1pct(crawl_latency_ms(&h, 0.99), 2500);
    assert_true(crawl_latency_ms(&h, 0.99) <= 2500);
    /* one value: every percentile is that value */
    memset(&h, 0, sizeof(h));
    crawl_latency_add(&h, 123456);
    assert_within_1pct(crawl_latency_ms(&h, 0.5), 123.456);
    assert_true(crawl_latency_ms(&h, 0.5) <= 123.456);
}

/* Out-of-range times land in the end buckets instead of outside the array. */
static void test_extremes(void **state)
{
    crawl_latency_t h;

    (void)state;
    memset(&h, 0, sizeof(h));
    crawl_latency_add(&h, 0);
    crawl_latency_add(&h, -5);
    crawl_latency_add(&h, INT64_MAX);
    assert_int_equal(h.count, 3);
    assert_int_equal(h.bucket[0], 2);
    assert_int_equal(h.bucket[CRAWL_LATENCY_BUCKETS - 1], 1);
    assert_true(crawl_latency_ms(&h, 0.5) <= 0.002);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_is_zero),
        cmocka_unit_test(test_uniform_percentiles),
        cmocka_unit_test(test_tail),
        cmocka_unit_test(test_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
