/* http_workers: the async client's transfers run on N worker threads, each with its own libuv
 * loop, scheduler and curl multi (an http_client_t of its own); the job's loop keeps everything
 * else. Private to net/http: http.c's client delegates here when http_opts_t.workers > 1, so the
 * job still calls http_req_start/http_req_resume and gets its futures on its own loop.
 *
 * One transfer, one record (http_wx_t) shared by the two threads:
 *   main  --START-->  worker: the worker starts r on its client, its sink a relay
 *   worker --BODY-->  main:   the relay copies each body piece into a bounded queue (HTTP_WX_CAP);
 *                             main hands them to the real sink with today's PAUSE/resume contract
 *   main  --RESUME--> worker: main drained the queue below the cap: the worker unpauses curl
 *   main  --ABORT-->  worker: the main future was cancelled (its hook refuses: the transfer is on
 *                             another thread); it ends cancelled when the worker is done
 *   worker --DONE-->  main:   r is final; main settles its future once the queue is drained.
 * While a transfer runs, r belongs to the worker; main reads only what the worker wrote before a
 * piece it has received (the answer's headers, which the sink looks at), and r again once DONE.
 * The queue is guarded by the worker's mutex; the messages go through net/async/inbox, one wakeup
 * per batch.
 *
 * Threads: every function here on the job's (main) loop thread, except http_req_resume_here. */
#ifndef NET_HTTP_WORKERS_H
#define NET_HTTP_WORKERS_H

#include "net/http/http.h"

/* Body bytes a transfer may have in flight between its worker and the main loop's sink. */
#define HTTP_WX_CAP (256 * 1024)

typedef struct http_workers http_workers_t;

/* Starts n (> 1) workers, each with a client made from opts (its connection cap a share of
 * opts->max_connections, so the process total stays the same). NULL and *result < 0 on failure,
 * with nothing left running. */
http_workers_t *http_workers_new(sched_t *s, const http_opts_t *opts, int n, int *result);

/* Stops and joins the workers (every transfer must have settled); the main loop must run again
 * to finish the close, which frees w. */
void http_workers_close(http_workers_t *w);

long http_workers_active(const http_workers_t *w);

/* http_req_start and http_req_resume for a client with workers. */
future_t *http_workers_start(http_workers_t *w, http_req_t *r);
void http_workers_resume(http_req_t *r);

/* The number of workers, and how many transfers each was given so far in ran[0..n-1]. */
size_t http_workers_ran(const http_workers_t *w, unsigned long *ran, size_t n);

/* http.c's own resume (a worker's thread, for a transfer its client runs). */
void http_req_resume_here(http_req_t *r);

#endif
