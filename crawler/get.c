/* crawl_get: spawner + fetch coroutines over one loop (async, threads) or a plain loop (sync). */
#include "crawler/get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "crawler/blocking.h"
#include "crawler/hostmap.h"
#include "crawler/progress.h"
#include "crawler/report.h"
#include "crawler/source.h"
#include "net/asem.h"
#include "net/executor.h"
#include "net/http.h"
#include "net/task.h"
#include "parse/url.h"
#include "storage/file.h"
#include "storage/path.h"
#include "storage/seen.h"
#include "storage/writer.h"

#define GET_PATH_MAX 4096

struct get_job {
    crawl_options_t *opts;
    uv_loop_t loop;
    sched_t sched;
    http_client_t *http;
    crawl_easy_pool_t *easies;      /* threads and sync modes */
    asem_t permits;                 /* -c: one permit per fetch in flight */
    crawl_hostmap_t *hosts;         /* --per-host, NULL without it */
    store_names_t *names;
    store_seen_t *seen;
    crawl_source_t src;
    int dirfd;
    crawl_report_t rep;
    crawl_progress_t progress;
    task_t spawner;
    future_t *spawner_done;
    long drained;                   /* permits taken back at the end */
};

struct get_fetch {
    task_t task;
    struct get_job *job;
    char *url;
    char path[GET_PATH_MAX];
    crawl_host_t *host;
    store_writer_t *writer;
    crawl_blocking_t blocking;      /* threads mode */
    http_req_t req;                 /* async mode */
    char reason[512];
};

/* ---- one URL ------------------------------------------------------------------------------- */

static int get_name(struct get_job *job, const char *url, char *out, char *reason, size_t n)
{
    int result = store_path_unique(job->names, url, job->opts->layout, out, GET_PATH_MAX);

    if (result < 0)
        snprintf(reason, n, "cannot make a safe file name: %s", strerror(-result));
    return result;
}

/* The reason a finished transfer failed, or NULL when it succeeded. */
static const char *get_outcome(struct get_job *job, const http_req_t *req, int disk_error,
                               const char *path, char *reason, size_t n)
{
    if (disk_error < 0 && (req->code == CURLE_OK || req->code == CURLE_WRITE_ERROR)) {
        snprintf(reason, n, "cannot write %.200s/%.200s: %s", job->opts->outdir, path,
                 strerror(-disk_error));
        return reason;
    }
    if (http_req_ok(req))
        return NULL;
    return http_req_describe(req, &job->opts->http, reason, n);
}

static int fetch_blocking_job(void *arg)
{
    struct get_fetch *f = arg;

    return crawl_blocking_fetch(f->job->easies, &f->blocking);
}

static void fetch_step(task_t *t)
{
    struct get_fetch *f = container_of(t, struct get_fetch, task);
    struct get_job *job = f->job;
    const char *reason = NULL;
    http_req_t *req = NULL;

    CORO_BEGIN(t);
    if (job->hosts) {
        char *key = NULL;
        if (parse_url_hostport(f->url, &key) < 0 || !(f->host = crawl_hostmap_get(job->hosts, key))) {
            free(key);
            snprintf(f->reason, sizeof(f->reason), "out of memory");
            goto report;
        }
        free(key);
        AWAIT(t, asem_acquire(crawl_host_sem(f->host)));
        if (task_error(t) < 0) {
            snprintf(f->reason, sizeof(f->reason), "cancelled");
            crawl_hostmap_put(job->hosts, f->host);
            f->host = NULL;
            goto report;
        }
    }
    if (!job->opts->discard && get_name(job, f->url, f->path, f->reason, sizeof(f->reason)) < 0)
        goto report;
    job->rep.inflight++;
    if (job->rep.inflight > job->rep.max_inflight)
        job->rep.max_inflight = job->rep.inflight;

    if (job->opts->mode == CRAWL_MODE_THREADS) {
        f->blocking.url = f->url;
        f->blocking.dirfd = job->dirfd;
        f->blocking.relpath = f->path;
        f->blocking.do_fsync = job->opts->do_fsync;
        f->blocking.discard = job->opts->discard;
        AWAIT(t, executor_run(&job->sched, fetch_blocking_job, f));
        job->rep.inflight--;
        req = &f->blocking.req;
        if (task_error(t) < 0)
            snprintf(f->reason, sizeof(f->reason), "could not run: %s", strerror(-task_error(t)));
        else if ((reason = get_outcome(job, req, f->blocking.disk_error, f->path, f->reason,
                                       sizeof(f->reason))) == NULL)
            f->reason[0] = '\0';
        (void)reason;
        goto report;
    }

    if (job->opts->discard) {
        f->req.url = f->url;           /* no sink: the body is read and dropped */
        AWAIT(t, http_req_start(job->http, &f->req));
        job->rep.inflight--;
        if (task_error(t) < 0)
            snprintf(f->reason, sizeof(f->reason), "could not start the transfer: %s",
                     strerror(-task_error(t)));
        else if (!http_req_ok(&f->req))
            http_req_describe(&f->req, &job->opts->http, f->reason, sizeof(f->reason));
        f->path[0] = '\0';
        goto report;
    }
    f->writer = store_writer_new(&job->sched, job->dirfd, f->path, job->opts->do_fsync);
    if (!f->writer) {
        job->rep.inflight--;
        snprintf(f->reason, sizeof(f->reason), "out of memory");
        goto report;
    }
    f->req.url = f->url;
    f->req.sink = store_writer_sink(f->writer);
    store_writer_attach(f->writer, &f->req);
    AWAIT(t, http_req_start(job->http, &f->req));
    job->rep.inflight--;
    if (task_error(t) < 0) {
        snprintf(f->reason, sizeof(f->reason), "could not start the transfer: %s",
                 strerror(-task_error(t)));
        AWAIT(t, store_writer_abort(f->writer));
        goto report;
    }
    if (!http_req_ok(&f->req) || store_writer_error(f->writer)) {
        get_outcome(job, &f->req, store_writer_error(f->writer), f->path, f->reason,
                    sizeof(f->reason));
        AWAIT(t, store_writer_abort(f->writer));
        goto report;
    }
    AWAIT(t, store_writer_commit(f->writer));
    if (task_error(t) < 0)
        snprintf(f->reason, sizeof(f->reason), "cannot write %.200s/%.200s: %s",
                 job->opts->outdir, f->path, strerror(-task_error(t)));
    else
        f->reason[0] = '\0';

report:
    req = job->opts->mode == CRAWL_MODE_THREADS ? &f->blocking.req : &f->req;
    crawl_report_result(&job->rep, f->url, f->path[0] ? f->path : NULL,
                        req->url ? req : NULL, f->reason[0] ? f->reason : NULL, NULL);
    if (f->host) {
        asem_release(crawl_host_sem(f->host));
        crawl_hostmap_put(job->hosts, f->host);
        f->host = NULL;
    }
    asem_release(&job->permits);
    CORO_END(t);
}

static void fetch_free(future_t *done, void *arg)
{
    struct get_fetch *f = arg;

    (void)done;
    store_writer_free(f->writer);
    http_req_cleanup(&f->req);
    http_req_cleanup(&f->blocking.req);
    free(f->url);
    free(f);
}

/* Starts a fetch task that owns url and the permit already taken. */
static void fetch_spawn(struct get_job *job, char *url)
{
    struct get_fetch *f = calloc(1, sizeof(*f));

    if (!f)
        goto oom;
    f->job = job;
    f->url = url;
    if (task_start(&f->task, &job->sched, fetch_step) < 0)
        goto oom;                     /* nothing was posted */
    /* The first callback of a new future uses its inline slot: this cannot fail. */
    future_on_done(task_done(&f->task), fetch_free, f);
    return;

oom:
    crawl_report_result(&job->rep, url, NULL, NULL, "out of memory", NULL);
    free(url);
    free(f);
    asem_release(&job->permits);
}

/* ---- the spawner: one permit, then one URL, then one task ---------------------------------- */

static void spawner_step(task_t *t)
{
    struct get_job *job = container_of(t, struct get_job, spawner);
    char *url;

    CORO_BEGIN(t);
    for (;;) {
        AWAIT(t, asem_acquire(&job->permits));
        if (task_error(t) < 0)
            break;
        while (!crawl_source_has(&job->src) && !job->src.eof) {
            AWAIT(t, executor_run(&job->sched, crawl_source_fill, &job->src));
            if (task_error(t) < 0)
                job->src.eof = 1;
        }
        url = crawl_source_next(&job->src);
        if (!url) {
            asem_release(&job->permits);
            break;
        }
        if (store_seen_add(job->seen, url, strlen(url)) == 0) {
            job->rep.skipped++;            /* a duplicate of an earlier line */
            free(url);
            asem_release(&job->permits);
            continue;
        }
        job->rep.queued++;
        fetch_spawn(job, url);
    }
    job->rep.queued_final = 1;
    /* Taking back every permit means every fetch has ended. */
    for (job->drained = 0; job->drained < job->opts->concurrency; job->drained++)
        AWAIT(t, asem_acquire(&job->permits));
    CORO_END(t);
}

/* ---- running ------------------------------------------------------------------------------- */

static void get_clear_progress(void *arg)
{
    crawl_progress_clear(arg);
}

static int get_exit_status(struct get_job *job)
{
    if (job->rep.failed > 0 || job->src.invalid > 0 || job->src.read_error < 0)
        return CRAWL_EXIT_FAILURES;
    return CRAWL_EXIT_OK;
}

static int get_run_loop(struct get_job *job)
{
    crawl_options_t *o = job->opts;
    int result;

    result = uv_loop_init(&job->loop);
    if (result < 0) {
        fprintf(stderr, "gather: uv_loop_init: %s\n", uv_strerror(result));
        return CRAWL_EXIT_FAILURES;
    }
    result = sched_init(&job->sched, &job->loop);
    if (result < 0)
        goto cleanup_loop;
    asem_init(&job->permits, &job->sched, o->concurrency);
    if (o->per_host > 0 && !(job->hosts = crawl_hostmap_new(&job->sched, o->per_host, 0)))
        goto oom;
    if (o->mode == CRAWL_MODE_THREADS) {
        if (!(job->easies = crawl_easy_pool_new(&o->http)))
            goto oom;
    } else if (!(job->http = http_client_new(&job->sched, &o->http, &result))) {
        fprintf(stderr, "gather: cannot set up HTTP: %s\n", strerror(-result));
        goto cleanup_sched;
    }
    result = crawl_progress_start(&job->progress, &job->loop, &job->rep, o->quiet);
    if (result < 0)
        goto cleanup_sched;
    job->rep.before_print = get_clear_progress;
    job->rep.before_print_arg = &job->progress;
    if (task_start(&job->spawner, &job->sched, spawner_step) < 0)
        goto oom;
    job->spawner_done = future_ref(task_done(&job->spawner));

    result = uv_run(&job->loop, UV_RUN_DEFAULT);
    /* The loop only stops once nothing can make progress: the spawner must have ended. */
    if (!future_is_done(job->spawner_done))
        fprintf(stderr, "gather: internal error: the loop stopped with work pending\n");
    future_unref(job->spawner_done);
    result = 0;
    goto cleanup_sched;

oom:
    fprintf(stderr, "gather: out of memory\n");
    result = -ENOMEM;
cleanup_sched:
    crawl_progress_stop(&job->progress);
    if (job->http)
        http_client_close(job->http);
    sched_close(&job->sched);
    uv_run(&job->loop, UV_RUN_DEFAULT);     /* let every uv_close callback run */
cleanup_loop:
    if (uv_loop_close(&job->loop) != 0)
        fprintf(stderr, "gather: internal error: handles left open at exit\n");
    crawl_hostmap_free(job->hosts);
    crawl_easy_pool_free(job->easies);
    return result < 0 ? CRAWL_EXIT_FAILURES : get_exit_status(job);
}

/* --mode sync: one URL after another on this thread, no loop at all. */
static int get_run_sync(struct get_job *job)
{
    crawl_options_t *o = job->opts;
    char *url;
    char reason[512];
    crawl_blocking_t *b = calloc(1, sizeof(*b));
    char *path = malloc(GET_PATH_MAX);

    if (!b || !path || !(job->easies = crawl_easy_pool_new(&o->http))) {
        fprintf(stderr, "gather: out of memory\n");
        free(b);
        free(path);
        return CRAWL_EXIT_FAILURES;
    }
    crawl_progress_start(&job->progress, NULL, &job->rep, o->quiet);
    job->rep.before_print = get_clear_progress;
    job->rep.before_print_arg = &job->progress;
    for (;;) {
        const char *why;

        crawl_source_fill(&job->src);
        url = crawl_source_next(&job->src);
        if (!url)
            break;
        if (store_seen_add(job->seen, url, strlen(url)) == 0) {
            job->rep.skipped++;
            free(url);
            continue;
        }
        job->rep.queued++;
        path[0] = '\0';
        if (!o->discard && get_name(job, url, path, reason, sizeof(reason)) < 0) {
            crawl_report_result(&job->rep, url, NULL, NULL, reason, NULL);
            free(url);
            continue;
        }
        b->url = url;
        b->dirfd = job->dirfd;
        b->relpath = path;
        b->do_fsync = o->do_fsync;
        b->discard = o->discard;
        job->rep.inflight = job->rep.max_inflight = 1;
        crawl_blocking_fetch(job->easies, b);
        job->rep.inflight = 0;
        why = get_outcome(job, &b->req, b->disk_error, path, reason, sizeof(reason));
        crawl_report_result(&job->rep, url, path[0] ? path : NULL, &b->req, why, NULL);
        http_req_cleanup(&b->req);
        free(url);
        crawl_progress_tick(&job->progress);
    }
    job->rep.queued_final = 1;
    crawl_progress_stop(&job->progress);
    crawl_easy_pool_free(job->easies);
    job->easies = NULL;
    free(b);
    free(path);
    return get_exit_status(job);
}

int crawl_get_run(crawl_options_t *o)
{
    struct get_job *job = calloc(1, sizeof(*job));
    int status = CRAWL_EXIT_FAILURES;
    int result;

    if (!job) {
        fprintf(stderr, "gather: out of memory\n");
        return CRAWL_EXIT_FAILURES;
    }
    job->opts = o;
    job->dirfd = -1;
    crawl_report_init(&job->rep, crawl_mode_name(o->mode), o->json, o->quiet, o->verbose);
    if (crawl_source_open(&job->src, o->input, o->urls, o->nurls) < 0) {
        status = CRAWL_EXIT_USAGE;
        goto cleanup;
    }
    result = store_dir_open(o->outdir, &job->dirfd);
    if (result < 0) {
        fprintf(stderr, "gather: cannot use output folder %s: %s\n", o->outdir, strerror(-result));
        goto cleanup;
    }
    job->names = store_names_new();
    job->seen = store_seen_new(1024);
    if (!job->names || !job->seen) {
        fprintf(stderr, "gather: out of memory\n");
        goto cleanup;
    }
    if (o->mode == CRAWL_MODE_THREADS && !getenv("UV_THREADPOOL_SIZE")) {
        /* One pool thread per transfer in flight: the seed's run_in_executor with N workers. */
        char n[24];
        snprintf(n, sizeof(n), "%ld", o->concurrency > 1024 ? 1024 : o->concurrency);
        setenv("UV_THREADPOOL_SIZE", n, 1);
    }
    status = o->mode == CRAWL_MODE_SYNC ? get_run_sync(job) : get_run_loop(job);
    crawl_report_summary(&job->rep);

cleanup:
    crawl_source_close(&job->src);
    if (job->dirfd >= 0)
        close(job->dirfd);
    store_names_free(job->names);
    store_seen_free(job->seen);
    free(job);
    return status;
}

int crawl_get_main(int argc, char **argv)
{
    crawl_options_t o;
    int result = crawl_options_parse(&o, CRAWL_CMD_GET, argc, argv);

    if (result == 0)
        result = crawl_get_run(&o);
    else if (result < 0)
        result = CRAWL_EXIT_OK;     /* --help */
    crawl_options_free(&o);
    return result;
}
