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
    /* out: req holds status, code, bytes, timings as in async mode */
    http_req_t req;
    int disk_error;             /* negative errno from the file system, 0 if none */
    /* private */
    http_sink_t sink;           /* the file: http.c's write callback checks, then calls this */
    long read_timeout_ms;       /* the pool's --read-timeout */
    int fd;
    int created;
} http_blocking_t;

/* Runs b's transfer to completion on the calling thread, streaming the body into relpath.part
 * and renaming it on success; on failure no file is left under either name. Returns 0; the
 * outcome is in b->req and b->disk_error. */
int http_blocking_fetch(http_easy_pool_t *pool, http_blocking_t *b);

#endif
