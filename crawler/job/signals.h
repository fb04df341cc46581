/* crawl_signals: SIGINT/SIGTERM on the loop: the first stops a job cleanly, the second exits. */
#ifndef CRAWLER_SIGNALS_H
#define CRAWLER_SIGNALS_H

#include <signal.h>
#include <sys/types.h>

#include <uv.h>

#include "crawler/report/report.h"

typedef struct crawl_signals {
    uv_signal_t sigint, sigterm;
    int on;
    int interrupted;              /* a first signal arrived */
    void (*on_stop)(void *arg);   /* stop starting work, cancel what is in flight */
    void *arg;
    crawl_report_t *rep;          /* to clear the progress line before the message */
    const char *hint;             /* what the user can do next, e.g. "run it again to resume" */
} crawl_signals_t;

/* Watches SIGINT and SIGTERM without keeping the loop alive. The first calls on_stop(arg); the
 * second exits the process at once with status 130 (safe: files reach their final names only
 * complete and the state database is transactional). Returns 0 or a libuv error. */
int crawl_signals_start(crawl_signals_t *s, uv_loop_t *loop, void (*on_stop)(void *arg), void *arg,
                        crawl_report_t *rep, const char *hint);
/* Closes the handles (the loop must run once more). */
void crawl_signals_stop(crawl_signals_t *s);

/* The same two stages where no loop runs (--mode sync, bench's child runs): the first signal sets
 * *flag to its number (blocking transfers poll it and give up) and, when *forward holds a pid
 * (forward may be NULL), sends a SIGTERM on to it (a terminal's SIGINT reaches the process group
 * already); the second exits with 130. sigaction-based; one at a time per process. stop
 * restores the previous handlers. */
void crawl_signals_start_blocking(volatile sig_atomic_t *flag, volatile pid_t *forward);
void crawl_signals_stop_blocking(void);

#endif
