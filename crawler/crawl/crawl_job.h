/* crawl_job: the state one `gather crawl` shares between its dispatcher, page and robots tasks
 * (private to crawler/crawl.c, page.c and robots.c). */
#ifndef CRAWLER_CRAWL_JOB_H
#define CRAWLER_CRAWL_JOB_H

#include <uv.h>

#include "crawler/crawl/frontier.h"
#include "crawler/job/hostmap.h"
#include "crawler/cli/options.h"
#include "crawler/report/progress.h"
#include "crawler/report/report.h"
#include "crawler/job/retry.h"
#include "crawler/crawl/scope.h"
#include "crawler/job/signals.h"
#include "net/async/asem.h"
#include "net/http/http.h"
#include "net/async/task.h"
#include "storage/path.h"
#include "storage/state.h"

#define CRAWL_DEPTH_STATS 64
#define CRAWL_ROBOTS_MAX (500 * 1024)        /* RFC 9309: parse at least 500 KiB */

typedef struct crawl_job {
    crawl_options_t *opts;
    uv_loop_t loop;
    sched_t sched;
    http_client_t *http;
    asem_t permits;                  /* -c */
    crawl_hostmap_t *hosts;          /* per-host limits, delay, robots */
    crawl_frontier_t frontier;
    store_seen_t *refused;           /* URLs counted once as skipped (scope, filters) */
    crawl_scope_t scope;
    store_names_t *names;
    int dirfd;
    crawl_report_t rep;
    crawl_retry_t retry;             /* --retries, --retry-delay, --max-wait (shared with get) */
    crawl_progress_t progress;
    task_t dispatcher;
    future_t *dispatcher_done;
    long drained;
    char **starts;                   /* normalised start URLs */
    size_t nstarts;
    /* what the summary reports */
    unsigned long pages_at[CRAWL_DEPTH_STATS];
    unsigned long pages, assets, links, redirects, not_parsed, saved;
    unsigned long skipped_scope, skipped_robots, skipped_filter, skipped_max_pages;
    unsigned long started_pages;
    unsigned long sitemap_urls;
    unsigned long resumed;           /* pending URLs taken back from the state database */
    store_state_t *state;            /* DIR/.gather.db */
    int state_existed;
    struct crawl_page *active;       /* page tasks alive, for an interrupt */
    crawl_signals_t signals;
    int stopping, interrupted;
} crawl_job_t;

/* Queues url in the frontier and remembers it in the state database (the crawl can resume). */
int crawl_job_queue(crawl_job_t *job, const char *url, int depth, crawl_kind_t kind, int hops);

/* Cancels every page task in flight (an interrupt). */
void crawl_page_cancel_all(crawl_job_t *job);

/* Offers a URL found at `depth` (a link, a redirect target, a sitemap entry) to the frontier,
 * applying depth, scope, --include/--exclude, --accept/--reject and --save. Returns 1 queued,
 * 0 not queued, -ENOMEM. */
int crawl_job_offer(crawl_job_t *job, const char *url, int depth, crawl_kind_t kind, int hops);

/* Starts the task fetching one frontier item; it owns item and the permit already taken. */
void crawl_page_spawn(crawl_job_t *job, crawl_item_t *item);

/* Makes sure host's robots.txt is being fetched (once per host); h->robots_ready settles when it
 * is known. */
void crawl_robots_start(crawl_job_t *job, crawl_host_t *h, const char *url);
/* 1 if robots.txt allows url on h (or robots are off / not loaded), else 0. */
int crawl_robots_allows(crawl_job_t *job, crawl_host_t *h, const char *url);
/* Frees the robots rules hung on h (for crawl_hostmap_each at the end). */
void crawl_robots_free(crawl_host_t *h, void *arg);

#endif
