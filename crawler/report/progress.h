/* crawl_progress: one live status line on a terminal, redrawn at most ten times a second. */
#ifndef CRAWLER_PROGRESS_H
#define CRAWLER_PROGRESS_H

#include <uv.h>

#include "crawler/report/report.h"

typedef struct crawl_progress {
    uv_timer_t timer;
    crawl_report_t *rep;
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

#endif
