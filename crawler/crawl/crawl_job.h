/* crawl_job: what one `gather crawl` shares between its dispatcher, page, robots and sitemap
 * tasks (private to crawler/crawl/). Loop thread only. */
#ifndef CRAWLER_CRAWL_JOB_H
#define CRAWLER_CRAWL_JOB_H

#include "crawler/crawl/frontier.h"
#include "crawler/crawl/scope.h"
#include "crawler/job/job.h"
#include "crawler/job/shared.h"
#include "net/async/permit.h"
#include "parse/robots.h"

#define CRAWL_DEPTH_STATS 64

/* An origin (scheme://host:port) as the crawl knows it: the job's politeness state plus its
 * robots.txt (RFC 9309 2.3: one robots.txt per scheme, host and port). */
typedef struct crawl_site {
    crawl_host_t host;
    int robots_state;             /* 0 unknown, 1 fetching, 2 known */
    uint64_t robots_fetched_ms;   /* the loop's clock (uv_now) when it became known */
    parse_robots_t *robots;
    future_t *robots_ready;       /* settled when robots is known */
    char *robots_error;           /* why robots.txt made the host off limits (unreachable, 5xx) */
} crawl_site_t;

static inline crawl_site_t *crawl_site_of(crawl_host_t *h) { return container_of(h, crawl_site_t, host); }

typedef struct crawl_job {
    job_t job;                       /* the base: loop, permits (-c), hosts, report, ... */
    crawl_frontier_t frontier;
    store_state_t *spill;            /* the frontier's temporary database (no state database), or NULL */
    store_seen_t *refused;           /* URLs counted once as skipped (scope, filters) */
    crawl_scope_t scope;
    permit_t dispatch_slot;          /* the dispatcher's permit, handed to each page task */
    char **starts;                   /* normalised start URLs */
    size_t nstarts;
    char **origins;                  /* their origins: where credentials may go (http opts) */
    size_t norigins;
    /* what the summary reports */
    unsigned long pages_at[CRAWL_DEPTH_STATS];
    unsigned long pages, assets, links, redirects, not_parsed, saved;
    unsigned long skipped_scope, skipped_robots, skipped_filter, skipped_max_pages;
    unsigned long started_pages;
    unsigned long sitemap_urls;
    unsigned long resumed;           /* pending URLs taken back from the state database */
    char start_failure[768];         /* "URL: why" of the first start URL that came to nothing */
    /* a job shared through Redis (--redis, --job): worker.c */
    shared_t *shared;                /* set while the loop runs */
    int is_shared;                   /* the URLs queued go to the shared job */
    struct crawl_outbox *outbox;     /* URLs queued, not yet sent to the job */
    shared_item_t *sitem;            /* the entry being handed to a new page task */
    long wait_ms;                    /* the dispatcher's pause while others hold what is left */
    char **stored_starts;            /* the job's start URLs, for a worker given none (owned) */
} crawl_job_t;

/* ---- a shared job (worker.c) ---- */

/* The dispatcher of a shared crawl. */
void crawl_worker_step(task_t *t);
/* crawl_job_queue for a shared job: the URL goes to the outbox unless this worker saw it. */
int crawl_worker_queue(crawl_job_t *cj, const char *url, int depth, crawl_kind_t kind, int hops,
                       crawl_parent_t *parent);
/* Sends the outbox to the job (before an acknowledgement, so the links of a page are in the job
 * before the page is done). */
void crawl_worker_flush(crawl_job_t *cj);
/* The end of an item that came from the job: outcome 'd' done, 's' skipped, 'f' failed (with
 * error), 'i' interrupted (given back). Takes res (may be NULL). */
void crawl_worker_end(crawl_job_t *cj, crawl_item_t *item, char outcome, const char *error, int64_t bytes,
                      json_t *res);
void crawl_worker_free(crawl_job_t *cj);

/* Queues url in the frontier and remembers it in the state database (the crawl can resume). */
int crawl_job_queue(crawl_job_t *cj, const char *url, int depth, crawl_kind_t kind, int hops,
                    crawl_parent_t *parent);

/* Offers a URL found at `depth` (a link, a redirect target, a sitemap entry) to the frontier,
 * applying depth, scope, --include/--exclude, --accept/--reject and --save. Returns 1 queued,
 * 0 not queued, -ENOMEM. */
int crawl_job_offer(crawl_job_t *cj, const char *url, int depth, crawl_kind_t kind, int hops,
                    crawl_parent_t *parent);

/* --har: the id of the HAR page (one per start URL) that url, found on parent (NULL for a start
 * URL, a redirect target of one, or robots.txt), belongs to, into buf; and its start URL index. */
#define CRAWL_PAGEREF_SIZE 32
const char *crawl_job_pageref(const crawl_job_t *cj, const char *url, const crawl_parent_t *parent,
                              char buf[CRAWL_PAGEREF_SIZE], size_t *seed);

/* Starts the task fetching one frontier item; it owns item and takes the dispatcher's permit. */
void crawl_page_spawn(crawl_job_t *cj, crawl_item_t *item);

/* A task that reads /sitemap.xml of every start origin (and the files they index); its done
 * future (a new reference), or NULL. */
future_t *crawl_sitemap_start(crawl_job_t *cj);

/* The site of url's origin, created if needed, with one more user (crawl_hostmap_put gives it
 * back): 0, -EINVAL (no host), -ENOMEM. */
int crawl_site_get(crawl_job_t *cj, const char *url, crawl_site_t **out);
/* Makes sure the site's robots.txt is known or being fetched (once per origin, again when the
 * copy is 24 hours old); site->robots_ready settles when it is known. */
void crawl_robots_start(crawl_job_t *cj, crawl_site_t *site, const char *url);
/* 1 if robots.txt allows url on the site (or robots are off / not loaded), else 0. */
int crawl_robots_allows(crawl_job_t *cj, crawl_site_t *site, const char *url);
/* The host map's on_free: releases the robots rules hung on a site. */
void crawl_robots_free(crawl_host_t *h);

#endif
