/* crawl_fdlimit: the file descriptors a job needs for its -c, and the -c that fits the limit.
 *
 * Every transfer in flight holds descriptors: its socket (or, before that socket exists, the
 * threaded resolver's socketpair), the NAME.part its body is written to, and in `gather get`'s
 * async mode a second NAME.part while the disk finishes the previous body of the same -c slot
 * (the commit slots let the next transfer start meanwhile). curl's connection cache is capped at
 * -c (CURLMOPT_MAXCONNECTS and CURLMOPT_MAX_TOTAL_CONNECTIONS), so idle connections fit in the
 * same share. The rest does not grow with -c: stdio, the loop (epoll, its wakeup and signal
 * pipes), curl's multi wakeup pair, the output folder, the URL list, the HAR file, the state
 * database (WAL: the database, -wal and -shm) and the folders the pool threads open on the way
 * to a NAME.part. A job that asks for more than the limit allows would see EMFILE on sockets and
 * files alike, so the job lowers -c once, at the start, and says so.
 *
 * crawl_fdlimit_need and crawl_fdlimit_fit are pure (unit-tested); crawl_fdlimit_apply touches
 * the process limit and is called by job_open on the main thread, before any loop runs. */
#ifndef CRAWLER_JOB_FDLIMIT_H
#define CRAWLER_JOB_FDLIMIT_H

#include "crawler/cli/options.h"

/* What a job's descriptors are made of. */
typedef struct crawl_fd_budget {
    long per_transfer;      /* descriptors one -c slot may hold */
    long fixed;             /* descriptors held whatever -c is, margin included */
} crawl_fd_budget_t;

/* Descriptors every job holds besides its transfers, and the slack for what cannot be counted
 * exactly (a second socket while happy eyeballs races IPv6 and IPv4, SQLite's temporary files,
 * libraries that open a file at start). */
#define CRAWL_FD_BASE 24
#define CRAWL_FD_MARGIN 16

/* The budget of a job run with o: `commit_slots` when the job lets a transfer start while the
 * previous body of its slot is still being written (get; it matters in async mode, where the
 * writer holds NAME.part open on the pool), `use_state` when it opens
 * the state database; pool_threads is the libuv pool's size (UV_THREADPOOL_SIZE). Pure. */
crawl_fd_budget_t crawl_fdlimit_need(const crawl_options_t *o, int commit_slots, int use_state,
                                     long pool_threads);

/* The descriptors `concurrency` slots need under b. Pure. */
long crawl_fdlimit_total(const crawl_fd_budget_t *b, long concurrency);

/* The largest concurrency, at most `want` and at least 1, whose total fits in `limit`. Pure. */
long crawl_fdlimit_fit(const crawl_fd_budget_t *b, long want, long limit);

/* Raises the soft RLIMIT_NOFILE to the hard limit, then lowers o->concurrency (and curl's
 * connection cap, o->http.max_connections) to what fits, with one warning on stderr naming the
 * numbers, and the reason in one line into why (may be NULL; "" when -c stands). Descriptors
 * already open beyond stdio (inherited from a parent, the URL list) count against the limit too.
 * Returns the concurrency in force. Main thread, before the job's loop starts. */
long crawl_fdlimit_apply(crawl_options_t *o, int commit_slots, int use_state, char *why, size_t whylen);

#endif
