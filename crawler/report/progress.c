/* crawl_progress: done/total, failed, bytes, rate, in flight and ETA on one redrawn line. */
#include "crawler/report/progress.h"

#include <stdio.h>
#include <unistd.h>

#define PROGRESS_INTERVAL_MS 100

static uint64_t last_draw_ns;

static void progress_human(double bytes, char *buf, size_t n)
{
    const char *units[] = { "B", "KB", "MB", "GB", "TB" };
    int u = 0;

    while (bytes >= 1000 && u < 4) {
        bytes /= 1000;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

void crawl_progress_format(const crawl_report_t *r, double secs, const char *extra, char *buf,
                           size_t n)
{
    /* Files found complete count as done: they are part of the total too. */
    uint64_t done = r->ok + r->failed + r->skipped;
    uint64_t total = r->queued;
    int known = r->queued_final;
    char bytes[32], rate[32], eta[32] = "--";

    /* The counted list is the total until the reading ends (bad and repeated lines, which the
     * count cannot tell, make the final total smaller; never larger). */
    if (!known && r->total_hint >= r->queued && r->total_hint > 0) {
        total = r->total_hint;
        known = 1;
    }
    progress_human((double)r->bytes, bytes, sizeof(bytes));
    progress_human(secs > 0 ? (double)r->bytes / secs : 0, rate, sizeof(rate));
    if (known && done > 0 && done < total)
        snprintf(eta, sizeof(eta), "%.0fs", secs / (double)done * (double)(total - done));
    else if (known && done >= total)
        snprintf(eta, sizeof(eta), "0s");
    snprintf(buf, n, "%llu/%llu%s done, %llu failed, %s, %s/s, %ld in flight, ETA %s%s%s",
             (unsigned long long)done, (unsigned long long)total, known ? "" : "+",
             (unsigned long long)r->failed, bytes, rate, r->inflight, eta,
             extra && *extra ? "; " : "", extra ? extra : "");
}

static void progress_draw(crawl_progress_t *p)
{
    char line[512], extra[256] = "";

    if (p->describe)
        p->describe(p->describe_arg, extra, sizeof(extra));
    crawl_progress_format(p->rep, crawl_report_elapsed(p->rep), extra, line, sizeof(line));
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->drawn = 1;
}

static void progress_on_timer(uv_timer_t *t)
{
    progress_draw(t->data);
}

int crawl_progress_start(crawl_progress_t *p, uv_loop_t *loop, crawl_report_t *rep, int quiet)
{
    int result = 0;

    p->rep = rep;
    p->drawn = 0;
    p->started = 0;
    p->enabled = !quiet && isatty(STDERR_FILENO);
    if (!p->enabled || !loop)
        return 0;
    result = uv_timer_init(loop, &p->timer);
    if (result < 0)
        return result;
    p->timer.data = p;
    p->started = 1;
    result = uv_timer_start(&p->timer, progress_on_timer, PROGRESS_INTERVAL_MS, PROGRESS_INTERVAL_MS);
    if (result < 0)
        return result;
    uv_unref((uv_handle_t *)&p->timer);   /* the progress line never keeps the loop alive */
    return 0;
}

void crawl_progress_tick(crawl_progress_t *p)
{
    uint64_t now = uv_hrtime();

    if (!p->enabled || now - last_draw_ns < PROGRESS_INTERVAL_MS * 1000000ULL)
        return;
    last_draw_ns = now;
    progress_draw(p);
}

void crawl_progress_clear(crawl_progress_t *p)
{
    if (p->enabled && p->drawn) {
        fprintf(stderr, "\r\033[K");
        p->drawn = 0;
    }
}

void crawl_progress_stop(crawl_progress_t *p)
{
    crawl_progress_clear(p);
    if (p->started) {
        uv_timer_stop(&p->timer);
        uv_close((uv_handle_t *)&p->timer, NULL);
        p->started = 0;
    }
}
