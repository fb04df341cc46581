/* crawl_fdlimit: descriptor arithmetic for -c, and the one place that touches RLIMIT_NOFILE. */
#include "crawler/job/fdlimit.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Descriptors SQLite holds for the state database in WAL mode: the file, -wal, -shm, and one
 * for a temporary file a statement may need. */
#define CRAWL_FD_STATE 4
/* A pool thread walking to a NAME.part holds a folder and its child at most (store_file_parent). */
#define CRAWL_FD_PER_POOL_THREAD 2
/* Descriptors CRAWL_FD_BASE assumes open before the job starts (stdin, stdout, stderr). */
#define CRAWL_FD_STDIO 3
/* libuv's pool size when UV_THREADPOOL_SIZE does not say (uv_queue_work's default). */
#define CRAWL_POOL_DEFAULT 4

crawl_fd_budget_t crawl_fdlimit_need(const crawl_options_t *o, int commit_slots, int use_state,
                                     long pool_threads)
{
    crawl_fd_budget_t b = { .per_transfer = 1, .fixed = CRAWL_FD_BASE + CRAWL_FD_MARGIN };

    if (!o->discard) {
        b.per_transfer++;                       /* the NAME.part being written */
        if (commit_slots && o->mode == CRAWL_MODE_ASYNC)
            b.per_transfer++;                   /* the previous body, still being committed */
    }
    if (o->mode == CRAWL_MODE_THREADS)
        b.per_transfer += CRAWL_FD_PER_POOL_THREAD - 1;  /* its own thread walks to NAME.part */
    /* libuv's pool: the file work of async mode, the state database's in every mode */
    b.fixed += CRAWL_FD_PER_POOL_THREAD * (pool_threads > 0 ? pool_threads : CRAWL_POOL_DEFAULT);
    if (use_state)
        b.fixed += CRAWL_FD_STATE;
    if (o->har)
        b.fixed++;
    /* --workers: each worker's loop holds an epoll descriptor and an eventfd for its wakeups */
    if (o->mode == CRAWL_MODE_ASYNC && o->http.workers > 1)
        b.fixed += 2L * o->http.workers;
    return b;
}

long crawl_fdlimit_total(const crawl_fd_budget_t *b, long concurrency)
{
    return b->fixed + b->per_transfer * concurrency;
}

long crawl_fdlimit_fit(const crawl_fd_budget_t *b, long want, long limit)
{
    long fit;

    if (want < 1)
        return 1;
    if (crawl_fdlimit_total(b, want) <= limit)
        return want;
    fit = b->per_transfer > 0 ? (limit - b->fixed) / b->per_transfer : want;
    return fit < 1 ? 1 : fit;
}

/* The soft limit raised as far as the hard one allows; the limit in force afterwards. A hard
 * limit of "unlimited" or above the kernel's nr_open is refused by setrlimit: then ask for what
 * the job needs, which is enough. */
static long fdlimit_raise(long need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    if (rl.rlim_cur != RLIM_INFINITY && (rl.rlim_max == RLIM_INFINITY || rl.rlim_cur < rl.rlim_max)) {
        struct rlimit want = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
            rl.rlim_cur = want.rlim_cur;
        } else if ((rlim_t)need > rl.rlim_cur) {
            want.rlim_cur = (rlim_t)need;
            if (rl.rlim_max != RLIM_INFINITY && want.rlim_cur > rl.rlim_max)
                want.rlim_cur = rl.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &want) == 0)
                rl.rlim_cur = want.rlim_cur;
        }
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX)
        return LONG_MAX;
    return (long)rl.rlim_cur;
}

/* Descriptors open now: the standard three, and whatever the process inherited or opened before
 * the job (a parent that leaks descriptors into its children takes them from our budget). -1 if
 * /proc cannot tell. */
static long fdlimit_open_now(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    long n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;                       /* opendir's own descriptor */
}

long crawl_fdlimit_apply(crawl_options_t *o, int commit_slots, int use_state, char *why, size_t whylen)
{
    const char *env = getenv("UV_THREADPOOL_SIZE");
    long pool = env ? strtol(env, NULL, 10) : 0;
    crawl_fd_budget_t b;
    long need, limit, fit, open_now;

    if (why && whylen)
        why[0] = '\0';
    if (o->mode == CRAWL_MODE_SYNC)
        return o->concurrency;          /* one transfer at a time whatever -c says */
    b = crawl_fdlimit_need(o, commit_slots, use_state, pool);
    open_now = fdlimit_open_now();
    if (open_now > CRAWL_FD_STDIO)
        b.fixed += open_now - CRAWL_FD_STDIO;
    need = crawl_fdlimit_total(&b, o->concurrency);
    limit = fdlimit_raise(need);
    if (limit < 0)
        return o->concurrency;          /* no limit to read: nothing to fit into */
    fit = crawl_fdlimit_fit(&b, o->concurrency, limit);
    if (fit < o->concurrency) {
        fprintf(stderr, "gather: -c %ld needs ~%ld file descriptors but the limit is %ld: "
                        "using -c %ld\n", o->concurrency, need, limit, fit);
        if (why && whylen)
            snprintf(why, whylen, "the file descriptor limit (ulimit -n %ld) allows -c %ld", limit, fit);
        o->concurrency = fit;
    }
    if (o->http.max_connections > o->concurrency)
        o->http.max_connections = o->concurrency;
    return o->concurrency;
}
