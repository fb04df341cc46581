/* bench/seen_mem.c: memory and insert time of store_seen for N distinct crawl-like URLs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "storage/seen.h"

/* usage: seen_mem [N [presize]]   (N defaults to 1000000; "presize" calls store_seen_new(N)
 *        instead of store_seen_new(0), so that the table never grows)
 * build: gcc -std=c11 -D_GNU_SOURCE -O2 -I. bench/seen_mem.c storage/seen.c storage/hash.c
 * URLs look like http://127.0.0.1:8080/site/page-<i>.html?q=<i>. The insert time is the loop of
 * snprintf + store_seen_add minus a loop of snprintf alone, divided by N. */

static long peak_rss_kib(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss; /* KiB on Linux */
}

static double now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int make_url(char *buf, size_t size, size_t i)
{
    return snprintf(buf, size, "http://127.0.0.1:8080/site/page-%zu.html?q=%zu", i, i);
}

int main(int argc, char **argv)
{
    int result = 1;
    size_t n = 1000000;
    int presize = 0;
    store_seen_t *s = NULL;
    char url[128];
    volatile size_t sink = 0;
    long rss_before;
    long rss_after;
    double t0;
    double t_fmt;
    double t_add;

    if (argc > 1) {
        char *end;

        errno = 0;
        n = strtoul(argv[1], &end, 10);
        if (errno != 0 || *end != '\0' || n == 0) {
            fprintf(stderr, "usage: %s [N>0 [presize]]\n", argv[0]);
            goto cleanup;
        }
    }
    if (argc > 2) {
        if (strcmp(argv[2], "presize") != 0) {
            fprintf(stderr, "usage: %s [N>0 [presize]]\n", argv[0]);
            goto cleanup;
        }
        presize = 1;
    }
    rss_before = peak_rss_kib();

    /* The cost of making the URLs alone, to subtract. */
    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        int len = make_url(url, sizeof(url), i);

        if (len < 0)
            goto cleanup;
        sink += (size_t)len + (unsigned char)url[len - 1];
    }
    t_fmt = now_ns() - t0;

    s = store_seen_new(presize ? n : 0); /* not presized: growth is part of the measure */
    if (!s) {
        fprintf(stderr, "out of memory\n");
        goto cleanup;
    }
    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        int len = make_url(url, sizeof(url), i);
        int added;

        if (len < 0)
            goto cleanup;
        added = store_seen_add(s, url, (size_t)len);
        if (added != 1) {
            fprintf(stderr, "URL %zu: store_seen_add returned %d\n", i, added);
            goto cleanup;
        }
    }
    t_add = now_ns() - t0;
    rss_after = peak_rss_kib();

    printf("urls                 %zu (%s)\n", n, presize ? "presized" : "grown from empty");
    printf("count                %zu\n", store_seen_count(s));
    printf("store_seen_bytes     %zu (%.2f MiB, %.1f bytes/url)\n", store_seen_bytes(s),
           (double)store_seen_bytes(s) / (1 << 20), (double)store_seen_bytes(s) / (double)n);
    printf("peak rss before      %ld KiB\n", rss_before);
    printf("peak rss after       %ld KiB (+%.2f MiB)\n", rss_after,
           (double)(rss_after - rss_before) / 1024);
    printf("ns per insert        %.1f (with snprintf %.1f, snprintf alone %.1f)\n",
           (t_add - t_fmt) / (double)n, t_add / (double)n, t_fmt / (double)n);
    result = sink == 0; /* keeps the formatting loop from being optimised away */
cleanup:
    store_seen_free(s);
    return result;
}
