/* test_retry.c - crawler/job/retry.c: which failures are retried, and how long to wait before. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "crawler/job/retry.h"

/* ---- crawl_retry_wanted ------------------------------------------------------------------- */

/* A finished transfer as the client leaves it, and the verdict the policy must give. */
struct wanted_case {
    const char *what;
    CURLcode code;
    long status;
    int sink_error;
    int wanted;
};

static const struct wanted_case wanted_cases[] = {
    /* connection trouble: a retry may cure it */
    { "connection refused", CURLE_COULDNT_CONNECT, 0, 0, 1 },
    { "timed out", CURLE_OPERATION_TIMEDOUT, 0, 0, 1 },
    { "timed out mid-body", CURLE_OPERATION_TIMEDOUT, 200, 0, 1 },
    { "reset while receiving", CURLE_RECV_ERROR, 200, 0, 1 },
    { "reset while sending", CURLE_SEND_ERROR, 0, 0, 1 },
    { "empty reply", CURLE_GOT_NOTHING, 0, 0, 1 },
    { "cut short", CURLE_PARTIAL_FILE, 200, 0, 1 },
    /* the server says "later" */
    { "408", CURLE_OK, 408, 0, 1 },
    { "429", CURLE_OK, 429, 0, 1 },
    { "500", CURLE_OK, 500, 0, 1 },
    { "502", CURLE_OK, 502, 0, 1 },
    { "503", CURLE_OK, 503, 0, 1 },
    { "504", CURLE_OK, 504, 0, 1 },
    { "599", CURLE_OK, 599, 0, 1 },
    /* the server says "no": asking again changes nothing */
    { "400", CURLE_OK, 400, 0, 0 },
    { "401", CURLE_OK, 401, 0, 0 },
    { "403", CURLE_OK, 403, 0, 0 },
    { "404", CURLE_OK, 404, 0, 0 },
    { "407", CURLE_OK, 407, 0, 0 },
    { "409", CURLE_OK, 409, 0, 0 },
    { "410", CURLE_OK, 410, 0, 0 },
    { "416", CURLE_OK, 416, 0, 0 },
    { "428", CURLE_OK, 428, 0, 0 },
    { "431", CURLE_OK, 431, 0, 0 },
    { "499", CURLE_OK, 499, 0, 0 },
    /* success and redirects that were not followed are not failures */
    { "200", CURLE_OK, 200, 0, 0 },
    { "206", CURLE_OK, 206, 0, 0 },
    { "301", CURLE_OK, 301, 0, 0 },
    { "304", CURLE_OK, 304, 0, 0 },
    { "600 is not 5xx", CURLE_OK, 600, 0, 0 },
    /* our own side failed, or the server broke the protocol */
    { "disk full", CURLE_WRITE_ERROR, 200, -ENOSPC, 0 },
    { "disk I/O error", CURLE_WRITE_ERROR, 200, -EIO, 0 },
    { "over --max-filesize (our cap)", CURLE_WRITE_ERROR, 200, -EFBIG, 0 },
    { "over --max-filesize (curl's cap)", CURLE_FILESIZE_EXCEEDED, 200, 0, 0 },
    { "206 nobody asked for", CURLE_WRITE_ERROR, 206, HTTP_EBADRANGE, 0 },
    { "too many redirects", CURLE_TOO_MANY_REDIRECTS, 302, 0, 0 },
    { "redirect to another scheme", CURLE_UNSUPPORTED_PROTOCOL, 302, 0, 0 },
    { "cancelled", CURLE_ABORTED_BY_CALLBACK, 0, 0, 0 },
};

static void test_wanted_by_class(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(wanted_cases) / sizeof(wanted_cases[0]); i++) {
        const struct wanted_case *c = &wanted_cases[i];
        http_req_t r;
        int got;

        memset(&r, 0, sizeof(r));
        r.code = c->code;
        r.status = c->status;
        r.sink_error = c->sink_error;
        got = crawl_retry_wanted(&r);
        if (got != c->wanted)
            fail_msg("%s (curl %d, HTTP %ld, sink %d): retry %s, want %s", c->what, (int)c->code,
                     c->status, c->sink_error, got ? "wanted" : "not wanted",
                     c->wanted ? "wanted" : "not wanted");
    }
}

/* ---- crawl_retry_delay_ms: full jitter ------------------------------------------------------ */

#define DRAWS 4000

/* A policy with a fixed seed, so a failure reproduces. */
static void policy(crawl_retry_t *p, long base_ms, long max_wait_ms)
{
    crawl_retry_init(p, 3, base_ms, max_wait_ms);
    p->rng = 0x2545F4914F6CDD1DULL;
}

/* Draws DRAWS delays for `attempt` with no Retry-After and checks they are uniform over
 * [0, ceiling]: all inside, both ends reached closely, the mean near the middle. */
static void check_jitter(crawl_retry_t *p, int attempt, long ceiling)
{
    http_req_t r;
    long lo = ceiling, hi = 0;
    double sum = 0;

    memset(&r, 0, sizeof(r));
    r.code = CURLE_OK;
    r.status = 503;
    for (int i = 0; i < DRAWS; i++) {
        long d = crawl_retry_delay_ms(p, &r, attempt, 1767225600);
        if (d < 0 || d > ceiling)
            fail_msg("attempt %d: delay %ld outside [0, %ld]", attempt, d, ceiling);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        sum += (double)d;
    }
    if (ceiling == 0)
        return;
    /* Full jitter, not "ceiling/2 + jitter" nor a fixed wait: both ends of the range occur. */
    if (lo > ceiling / 50 || hi < ceiling - ceiling / 50)
        fail_msg("attempt %d: delays span [%ld, %ld], want nearly [0, %ld]", attempt, lo, hi, ceiling);
    if (sum / DRAWS < 0.45 * (double)ceiling || sum / DRAWS > 0.55 * (double)ceiling)
        fail_msg("attempt %d: mean delay %.0f, want about %ld", attempt, sum / DRAWS, ceiling / 2);
}

static void test_jitter_doubles_per_attempt(void **state)
{
    crawl_retry_t p;

    (void)state;
    policy(&p, 1000, 60000);
    check_jitter(&p, 1, 1000);
    check_jitter(&p, 2, 2000);
    check_jitter(&p, 3, 4000);
    check_jitter(&p, 4, 8000);
    check_jitter(&p, 6, 32000);
}

static void test_jitter_capped_by_max_wait(void **state)
{
    crawl_retry_t p;

    (void)state;
    policy(&p, 1000, 60000);
    check_jitter(&p, 7, 60000);                 /* 64 s capped */
    check_jitter(&p, 30, 60000);
    check_jitter(&p, 1000, 60000);              /* no overflow however many attempts */
    policy(&p, 5000, 3000);
    check_jitter(&p, 1, 3000);                  /* a base above the cap is capped too */
    policy(&p, 250, 60000);
    check_jitter(&p, 1, 250);
    check_jitter(&p, 3, 1000);
}

static void test_jitter_zero_base_never_waits(void **state)
{
    crawl_retry_t p;

    (void)state;
    policy(&p, 0, 60000);
    check_jitter(&p, 1, 0);
    check_jitter(&p, 5, 0);
    policy(&p, 1000, 0);
    check_jitter(&p, 3, 0);
}

static void test_init_keeps_settings(void **state)
{
    crawl_retry_t p, q;

    (void)state;
    crawl_retry_init(&p, 5, 250, 9000);
    assert_int_equal(p.retries, 5);
    assert_int_equal(p.base_ms, 250);
    assert_int_equal(p.max_wait_ms, 9000);
    assert_true(p.rng != 0);                    /* xorshift would stay at 0 forever */
    crawl_retry_init(&q, 0, 0, 0);
    assert_int_equal(q.retries, 0);
    assert_true(q.rng != 0);
}

/* ---- crawl_retry_delay_ms: Retry-After --------------------------------------------------------- */

struct after_case {
    const char *retry_after;
    long max_wait_ms;
    long want_ms;               /* -1: ignored, so the delay is jitter within [0, base] */
};

static void test_retry_after(void **state)
{
    /* now: Thu, 01 Jan 2026 00:00:00 GMT */
    static const long long now = 1767225600;
    static const struct after_case cases[] = {
        { "0", 60000, 0 },
        { "1", 60000, 1000 },
        { "7", 60000, 7000 },
        { "59", 60000, 59000 },
        { "60", 60000, 60000 },
        { "61", 60000, 60000 },                 /* capped by --max-wait */
        { "3600", 60000, 60000 },
        { "99999999999", 60000, 60000 },
        { "120", 300000, 120000 },
        { "5", 2000, 2000 },
        { "Thu, 01 Jan 2026 00:00:30 GMT", 60000, 30000 },
        { "Thu, 01 Jan 2026 00:00:01 GMT", 60000, 1000 },
        { "Thu, 01 Jan 2026 00:00:00 GMT", 60000, 0 },
        { "Wed, 31 Dec 2025 23:00:00 GMT", 60000, 0 },      /* in the past: go now */
        { "Thu, 01 Jan 2026 01:00:00 GMT", 60000, 60000 },  /* an hour ahead, capped */
        { "Thu, 01 Jan 2026 00:00:45 GMT", 10000, 10000 },
        { "Thursday, 01-Jan-26 00:00:20 GMT", 60000, 20000 },  /* RFC 850 form */
        { "Thu Jan  1 00:00:10 2026", 60000, 10000 },          /* asctime form */
        /* not a delay: ignored, the backoff applies */
        { "soon", 60000, -1 },
        { "-5", 60000, -1 },
        { "10 seconds", 60000, -1 },
        { "", 60000, -1 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct after_case *c = &cases[i];
        crawl_retry_t p;
        http_req_t r;

        policy(&p, 500, c->max_wait_ms);
        memset(&r, 0, sizeof(r));
        r.code = CURLE_OK;
        r.status = 503;
        snprintf(r.retry_after, sizeof(r.retry_after), "%s", c->retry_after);
        for (int attempt = 1; attempt <= 4; attempt++) {
            long got = crawl_retry_delay_ms(&p, &r, attempt, now);
            if (c->want_ms >= 0 ? got != c->want_ms : got < 0 || got > 500L << (attempt - 1))
                fail_msg("Retry-After \"%s\", max-wait %ld, attempt %d: got %ld ms, want %ld",
                         c->retry_after, c->max_wait_ms, attempt, got, c->want_ms);
        }
    }
}

/* An ignored Retry-After must still leave a random delay, not a fixed one. */
static void test_bad_retry_after_still_jitters(void **state)
{
    crawl_retry_t p;
    http_req_t r;
    long first, differs = 0;

    (void)state;
    policy(&p, 1000, 60000);
    memset(&r, 0, sizeof(r));
    r.status = 429;
    snprintf(r.retry_after, sizeof(r.retry_after), "whenever");
    first = crawl_retry_delay_ms(&p, &r, 2, 0);
    for (int i = 0; i < 100; i++)
        differs += crawl_retry_delay_ms(&p, &r, 2, 0) != first;
    assert_true(differs > 90);
}

/* --random-wait: every wait in [0.5 w, 1.5 w), spread over the whole range. */
static void test_random_wait(void **state)
{
    crawl_retry_t p;
    long lo = 1000000, hi = 0;

    (void)state;
    crawl_retry_init(&p, 3, 1000, 60000);
    for (int i = 0; i < 2000; i++) {
        long w = crawl_retry_random_wait_ms(&p, 200);
        assert_true(w >= 100 && w < 300);
        lo = w < lo ? w : lo;
        hi = w > hi ? w : hi;
    }
    assert_true(lo < 110 && hi > 290);
    assert_int_equal(crawl_retry_random_wait_ms(&p, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wanted_by_class),
        cmocka_unit_test(test_jitter_doubles_per_attempt),
        cmocka_unit_test(test_jitter_capped_by_max_wait),
        cmocka_unit_test(test_jitter_zero_base_never_waits),
        cmocka_unit_test(test_init_keeps_settings),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_bad_retry_after_still_jitters),
        cmocka_unit_test(test_random_wait),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
