/* crawl_report: per-URL outcomes, failure lines, JSON lines (jansson) and the final summary. */
#ifndef CRAWLER_REPORT_H
#define CRAWLER_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "crawler/report/har.h"
#include "crawler/report/latency.h"
#include "net/http/http.h"

typedef struct crawl_report {
    uint64_t queued;          /* URLs accepted so far (grows while the list is read) */
    int queued_final;         /* the list is fully read: queued is the total */
    uint64_t total_hint;      /* the list's URL lines, counted ahead of reading it (0: unknown);
                               * the progress line's total until queued is final */
    uint64_t ok, failed;
    uint64_t skipped;         /* already complete (or not modified): nothing fetched */
    uint64_t duplicates;      /* list lines naming a URL already queued */
    uint64_t bytes;
    long inflight, max_inflight;
    crawl_latency_t latency;  /* every transfer's total time (p50/p95/p99 in --json's summary) */
    long concurrency;         /* -c in force (0: not set: the summary leaves it out) */
    long concurrency_asked;   /* -c as given */
    char limit[192];          /* why fewer transfers than asked could run at once, or "" */
    long threads;             /* threads mode: threads started for transfers (-1: not that mode) */
    unsigned long *worker_ran;  /* transfers each transfer worker ran, for --json's summary
                                 * (malloc'd by the job; NULL: not async) */
    size_t nworkers;
    json_t *shared;           /* a job shared through Redis: this worker's counts for --json's
                               * summary (owned), or NULL */
    uint64_t start_ns;
    const char *mode;
    int json, quiet, verbose;
    FILE *out;                /* JSON lines and the summary go here (stdout) */
    void (*before_print)(void *arg);   /* clears the progress line before a message */
    void *before_print_arg;
    crawl_har_t *har;         /* --har: every finished transfer is added here; NULL without it */
    const char *har_page;     /* the HAR page the entries belong to (borrowed) */
    const char *har_path;     /* for messages (borrowed) */
} crawl_report_t;

void crawl_report_init(crawl_report_t *rep, const char *mode, int json, int quiet, int verbose);

/* Records one finished URL. req may be NULL (failed before any transfer); reason is NULL for a
 * success. path is the saved file relative to the output folder (NULL if none). extra (may be
 * NULL) holds more fields for the JSON line; the reference is stolen. With rep->har set, a URL
 * that had a transfer (req != NULL) also becomes a HAR entry. */
void crawl_report_result(crawl_report_t *rep, const char *url, const char *path,
                         const http_req_t *req, const char *reason, json_t *extra);

/* The same, with the HAR entry in the page pageref (a crawl's start URL) instead of har_page. */
void crawl_report_result_in(crawl_report_t *rep, const char *pageref, const char *url,
                            const char *path, const http_req_t *req, const char *reason,
                            json_t *extra);

/* Writes one JSON line (when --json) and steals the reference. */
void crawl_report_json(crawl_report_t *rep, json_t *obj);

/* Prints the summary (text to stderr unless -q, plus a JSON line when --json). */
void crawl_report_summary(crawl_report_t *rep);

double crawl_report_elapsed(const crawl_report_t *rep);

/* A JSON real of v rounded to `decimals` places (times: ms with 3), which crawl_report_json
 * prints as such, not as 17 significant digits. A NaN or infinity becomes 0. */
json_t *crawl_report_real(double v, int decimals);

/* The HAR page every entry goes to unless told otherwise (get: the list; crawl: the first start
 * URL, with a page of its own for each other). */
#define CRAWL_REPORT_HAR_PAGE "page_1"

/* --har FILE: creates FILE with one page (id CRAWL_REPORT_HAR_PAGE, its title `title`) and
 * makes crawl_report_result add an entry per transfer. Returns 0, or -errno after printing why
 * (rep->har stays NULL). */
int crawl_report_har_open(crawl_report_t *rep, const char *path, const char *title);

/* Finishes and closes the HAR file, if any. Returns 0, or -errno after printing why the file
 * is incomplete. */
int crawl_report_har_close(crawl_report_t *rep);

#endif
