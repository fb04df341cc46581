/* http_blocking: one whole transfer with curl_easy_perform and blocking writes (sync, threads). */
#ifndef NET_HTTP_BLOCKING_H
#define NET_HTTP_BLOCKING_H

#include <signal.h>

#include <curl/curl.h>

#include "net/http/easy_pool.h"
#include "net/http/http.h"

typedef struct http_blocking {
    /* in */
    const char *url;
    int dirfd;
    const char *relpath;
    int do_fsync;
    int discard;                /* read the body and drop it */
    curl_off_t max_bytes;       /* 0: no cap */
    volatile sig_atomic_t *interrupted;  /* set by a signal handler: abort the transfer */
    /* Called on this thread before a 2xx body's first byte reaches the disk (or before an empty
     * one makes its file); it may rewrite the caller's relpath buffer (a name from the answer:
     * --content-disposition). NULL: none. */
    void (*on_body)(struct http_blocking *b);
    void *on_body_arg;
    /* out: req holds status, code, bytes, timings as in async mode */
    http_req_t req;
    int disk_error;             /* negative errno from the file system, 0 if none */
    /* private */
    http_sink_t sink;           /* the file: http.c's write callback checks, then calls this */
    long read_timeout_ms;       /* the pool's --read-timeout */
    int fd;
    int created;
    http_rate_t *rate;          /* the pool's --limit-rate budget, or NULL */
    curl_off_t rate_each;       /* the pool's --limit-rate-each, 0: none */
    uint64_t rate_tat;          /* this transfer's own budget (rate.h) */
    curl_off_t rate_seen;       /* bytes of this response already charged to them */
} http_blocking_t;

/* Runs b's transfer to completion on the calling thread, streaming the body into relpath.part
 * and renaming it on success; on failure no file is left under either name. Returns 0; the
 * outcome is in b->req and b->disk_error. With the pool's options' --limit-rate budget (or
 * --limit-rate-each), the thread sleeps (in slices that notice b->interrupted) whenever the run
 * (or the transfer) has received more than the budget allows: in --mode threads every thread
 * charges the same run budget. */
int http_blocking_fetch(http_easy_pool_t *pool, http_blocking_t *b);

#endif
