/* test_progress.c - crawler/report/progress.c's line and crawler/get/source.c's line count: the
 * total a list's progress shows before it is read, and the ETA that total allows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/get/source.h"
#include "crawler/report/progress.h"

static void line(const crawl_report_t *r, double secs, const char *extra, char *buf, size_t n)
{
    crawl_progress_format(r, secs, extra, buf, n);
}

static void test_total_and_eta(void **state)
{
    crawl_report_t r;
    char buf[512];

    (void)state;
    memset(&r, 0, sizeof(r));
    r.ok = 890;
    r.failed = 10;
    r.queued = 1000;
    /* the list not read to its end and not counted: a lower bound, no ETA (as before) */
    line(&r, 9.0, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "900/1000+ done, 10 failed"));
    assert_non_null(strstr(buf, "ETA --"));
    /* counted: the real total and an ETA (900 in 9 s: 2100 more in 21 s) */
    r.total_hint = 3000;
    line(&r, 9.0, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "900/3000 done"));
    assert_non_null(strstr(buf, "ETA 21s"));
    /* files found complete are done too */
    r.skipped = 100;
    line(&r, 10.0, "", buf, sizeof(buf));
    assert_non_null(strstr(buf, "1000/3000 done"));
    assert_non_null(strstr(buf, "ETA 20s"));
    assert_null(strstr(buf, ";"));                     /* an empty tail adds nothing */
    /* a count below what was queued (it cannot be: not trusted) */
    r.total_hint = 900;
    line(&r, 10.0, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "1000/1000+ done"));
    /* the end: the queued count is the total */
    r.queued = 2990;
    r.queued_final = 1;
    r.ok = 2880;
    line(&r, 30.0, "frontier: depth 2: 5 left", buf, sizeof(buf));
    assert_non_null(strstr(buf, "2990/2990 done"));
    assert_non_null(strstr(buf, "ETA 0s; frontier: depth 2: 5 left"));
}

static void count_of(const char *text, long want)
{
    char path[] = "/tmp/gather-test-progress.XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    if (crawl_source_count(path) != want)
        fail_msg("count of \"%s\": %ld, want %ld", text, crawl_source_count(path), want);
    unlink(path);
}

static void test_count_lines(void **state)
{
    (void)state;
    count_of("", 0);
    count_of("http://a/\nhttp://b/\n", 2);
    count_of("http://a/\nhttp://b/", 2);                   /* no newline at the end */
    count_of("\n\n  \t\r\n# comment\n   # indented comment\nhttp://a/#frag\n", 1);
    count_of("\xEF\xBB\xBFhttp://a/\r\nhttp://b/\r\n", 2);  /* BOM and CRLF */
    count_of("  http://a/  \n\thttp://b/\n", 2);
    assert_int_equal(crawl_source_count("/nonexistent/list.txt"), -ENOENT);
}

/* A list longer than one read block: the count crosses block boundaries. */
static void test_count_large(void **state)
{
    size_t n = 100000, len = 0;
    char *text = malloc(n * 20 + 1);

    (void)state;
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, i % 10 ? "http://h/%zu\n" : "# %zu\n", i);
    count_of(text, (long)(n - n / 10));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_total_and_eta),
        cmocka_unit_test(test_count_lines),
        cmocka_unit_test(test_count_large),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
