/* get_fetch: one URL of `gather get` (private to crawler/get/). The task (fetch.c) runs a
 * prologue, then attempts until one is final; an attempt has two implementations, async
 * (attempt_async.c: curl multi + the chunked writer) and threads (attempt_threads.c: a blocking
 * transfer on the pool). Loop thread only. */
#ifndef CRAWLER_GET_FETCH_H
#define CRAWLER_GET_FETCH_H

#include "crawler/get/get_job.h"
#include "storage/path.h"
#include "storage/state.h"
#include "storage/writer.h"

enum fetch_outcome {
    FETCH_OK,                       /* complete under its final name (or read, with --discard) */
    FETCH_FAILED,                   /* reason says why */
    FETCH_SKIPPED,                  /* nothing fetched: skipped says why */
    FETCH_RETRY,                    /* a transient failure: wait, then try again */
    FETCH_INTERRUPTED,              /* cancelled: a re-run fetches (or resumes) it */
};

struct get_fetch;

/* One attempt, as both modes implement it. */
typedef struct fetch_attempt {
    /* Prepares the attempt (request, writer). 0 or -ENOMEM. */
    int (*begin)(struct get_fetch *f);
    /* The transfer; its future settles when it has ended. */
    future_t *(*transfer)(struct get_fetch *f);
    /* Classifies the ended transfer (error: the transfer future's). */
    enum fetch_outcome (*classify)(struct get_fetch *f, int error);
    /* The request as it ended, for the report. */
    const http_req_t *(*request)(const struct get_fetch *f);
} fetch_attempt_t;

extern const fetch_attempt_t fetch_attempt_async;
extern const fetch_attempt_t fetch_attempt_threads;

struct get_fetch {
    task_t task;
    struct get_job *gj;
    const fetch_attempt_t *attempt;
    permit_t slot;                  /* -c, traded for a retry or commit slot while waiting */
    permit_t host_slot;             /* --per-host */
    task_defer_t finally;           /* report, record, give the host back */
    crawl_host_t *host;
    char *url;
    char path[STORE_PATH_SIZE];
    int tries;
    enum fetch_outcome outcome;
    int64_t bytes;                  /* of the complete body (FETCH_OK) */
    const char *sha256;             /* its hash when the writer made one (owned by the writer) */
    int keep_part;                  /* the last abort kept NAME.part for a resume */
    const char *skipped;            /* "already complete", "not modified" */
    char reason[512];
    /* what the disk and the database said before the first attempt (a pool job) */
    int64_t final_size, part_size;
    store_row_t row;
    int have_row;
    /* a file complete under its final name that its row does not show done with its size (a run
     * killed before its last rows were written): what the file holds, hashed on the pool */
    int found;
    int64_t found_bytes;
    char found_sha256[65];
    /* validators of the body in NAME.part, for a resume */
    char etag[HTTP_HEADER_VALUE_MAX];
    char last_modified[HTTP_HEADER_VALUE_MAX];
    /* the async attempt */
    http_req_t req;
    http_sink_t sink;               /* first-byte checks, then the writer */
    store_writer_t *writer;
    struct curl_slist *headers;
    char range[32];
    uint64_t resume_from;
    int started;
    /* the threads attempt */
    http_blocking_t *blocking;
    /* the split attempt (split.h); again: it handed over to one stream, start that at once */
    struct get_split *split;
    int again;
    /* a shared job's entry (worker.c), acknowledged at the end; gated: its origin's shared slot
     * is held */
    shared_item_t *item;
    int gated;
};

/* With a writer (async, not --discard): a future (the caller's reference) for the disk work
 * that makes the outcome final, a commit
 * after FETCH_OK, else an abort that keeps NAME.part when it can be resumed; then the outcome
 * once it settled with `error`. */
future_t *fetch_writer_finish(struct get_fetch *f);
enum fetch_outcome fetch_writer_finished(struct get_fetch *f, int error);

/* On the pool, before a re-run's first attempt: with --content-disposition, take the name the
 * state database remembers the server gave (so the file is found complete, or resumed). */
void get_disposition_prepare(struct get_fetch *f);

/* 1 when the body in NAME.part can be resumed: the server named it with a strong ETag or a date. */
int fetch_validator_ok(const struct get_fetch *f);

/* Queues f's row for the state database. */
void fetch_record(struct get_fetch *f, int status, const char *error, int64_t bytes, const char *sha256);

/* The decision after a failed attempt: FETCH_RETRY if req's failure may pass and tries remain. */
enum fetch_outcome fetch_retry_or_fail(struct get_fetch *f, const http_req_t *req);

#endif
