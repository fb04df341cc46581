/* crawl_progress: one live status line on a terminal, redrawn at most ten times a second. */
#ifndef CRAWLER_PROGRESS_H
#define CRAWLER_PROGRESS_H

#include <uv.h>

#include "crawler/report/report.h"

/* Writes what a job adds to the line (a crawl: its frontier per depth) into buf (n bytes). */
typedef void crawl_progress_describe_fn(void *arg, char *buf, size_t n);

typedef struct crawl_progress {
    uv_timer_t timer;
    crawl_report_t *rep;
    crawl_progress_describe_fn *describe;   /* may be NULL; set before crawl_progress_start */
    void *describe_arg;
    int enabled;              /* stderr is a terminal and not --quiet */
    int drawn;                /* a line is on screen and must be cleared */
    int started;
} crawl_progress_t;

/* Decides whether to draw (isatty(stderr) && !quiet). With a NULL loop (sync mode) the line is
 * redrawn from crawl_progress_tick calls instead of a timer. Returns 0 or a libuv error. */
int crawl_progress_start(crawl_progress_t *p, uv_loop_t *loop, crawl_report_t *rep, int quiet);
/* Redraws if 100 ms passed since the last draw (sync mode). */
void crawl_progress_tick(crawl_progress_t *p);
/* Clears the line; with a loop, closes the timer (the loop must run once more). */
void crawl_progress_stop(crawl_progress_t *p);
/* Clears the line so another message can be printed; it is redrawn on the next tick. */
void crawl_progress_clear(crawl_progress_t *p);

/* The line for r after secs seconds, with `extra` (may be NULL or "") at its end, into buf (n
 * bytes): "done/total done, failed, bytes, rate, in flight, ETA". The total is the queued count
 * once final, else the list's counted length (total_hint) when known, else the queued count
 * so far with a "+"; the ETA needs a total that is not a "+". Any thread (pure). */
void crawl_progress_format(const crawl_report_t *r, double secs, const char *extra, char *buf,
                           size_t n);

#endif
