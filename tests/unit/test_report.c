/* test_report.c - crawler/report/report.c: JSON lines with numbers rounded as they are meant
 * (times in ms with 3 decimals), and -q's summary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/report/report.h"

/* What rep wrote to its JSON stream, and to stderr while fn ran. */
struct captured {
    char out[4096], err[4096];
};

static void read_back(FILE *f, char *buf, size_t n)
{
    size_t got;

    fflush(f);
    rewind(f);
    got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

static void capture(crawl_report_t *rep, void (*fn)(crawl_report_t *), struct captured *c)
{
    FILE *out = tmpfile(), *err = tmpfile();
    int saved;

    assert_non_null(out);
    assert_non_null(err);
    rep->out = out;
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0 && dup2(fileno(err), STDERR_FILENO) >= 0);
    fn(rep);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    read_back(out, c->out, sizeof(c->out));
    read_back(err, c->err, sizeof(c->err));
}

static void one_result(crawl_report_t *rep)
{
    http_req_t req;

    memset(&req, 0, sizeof(req));
    req.status = 200;
    req.bytes = 10;
    req.timing.total_us = 123457;      /* 123.457 ms, which %.17g prints as 123.45699999999999 */
    crawl_report_result(rep, "http://h/a", "a", &req, NULL,
                        json_pack("{s:o, s:o, s:o}", "third", crawl_report_real(0.1 + 0.2, 3),
                                  "whole", crawl_report_real(2.5, 0),
                                  "nan", crawl_report_real(NAN, 3)));
}

static void test_times_are_ms_with_3_decimals(void **state)
{
    crawl_report_t rep;
    struct captured c;

    (void)state;
    crawl_report_init(&rep, "async", 1, 0, 0);
    capture(&rep, one_result, &c);
    if (!strstr(c.out, "\"time_ms\":123.457,") || !strstr(c.out, "\"third\":0.3,") ||
        !strstr(c.out, "\"whole\":3.0,") || !strstr(c.out, "\"nan\":0.0"))
        fail_msg("JSON line: %s", c.out);
    assert_non_null(strchr(c.out, '\n'));
}

static void summary(crawl_report_t *rep)
{
    rep->ok = 3;
    rep->bytes = 1000;
    rep->start_ns -= 1234567891ULL;    /* 1.23 s ago: seconds has more digits than 3 */
    crawl_report_summary(rep);
}

/* -q: nothing on stderr, the JSON summary still on stdout with seconds to the ms. */
static void test_quiet_summary(void **state)
{
    crawl_report_t rep;
    struct captured c;
    char *sec;

    (void)state;
    crawl_report_init(&rep, "async", 1, 1, 0);
    capture(&rep, summary, &c);
    assert_string_equal(c.err, "");
    assert_non_null(strstr(c.out, "\"summary\":{\"ok\":3,"));
    sec = strstr(c.out, "\"seconds\":");
    assert_non_null(sec);
    sec += strlen("\"seconds\":");
    assert_true(strcspn(sec, ",") <= 5);        /* "1.235" (or 1.236 on a slow machine) */
    assert_true(strtod(sec, NULL) >= 1.234);

    crawl_report_init(&rep, "async", 0, 0, 0);    /* without -q the text summary is there */
    capture(&rep, summary, &c);
    assert_non_null(strstr(c.err, "gather: 3 ok, 0 failed"));
    assert_string_equal(c.out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times_are_ms_with_3_decimals),
        cmocka_unit_test(test_quiet_summary),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
