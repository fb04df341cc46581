/* crawl_get: `gather get`: a spawner coroutine over one loop (async, threads) or a plain loop
 * (sync); signals, the state database and the exit status. */
#include "crawler/get/get.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "crawler/get/get_job.h"
#include "net/async/executor.h"
#include "storage/file.h"

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
        if (job->stopping) {
            asem_release(&job->permits);
            break;
        }
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
            job->rep.duplicates++;         /* a duplicate of an earlier line */
            free(url);
            asem_release(&job->permits);
            continue;
        }
        job->rep.queued++;
        get_fetch_spawn(job, url);
    }
    job->rep.queued_final = !job->stopping;
    /* Wait for the fetches still alive, including retries that sleep without a permit. */
    if (job->active) {
        job->idle = future_new(&job->sched);
        AWAIT(t, job->idle ? future_ref(job->idle) : NULL);
        future_unref(job->idle);
        job->idle = NULL;
    }
    CORO_END(t);
}

/* ---- signals ------------------------------------------------------------------------------ */

static void get_stop(void *arg)
{
    struct get_job *job = arg;

    job->interrupted = job->stopping = 1;
    get_fetch_cancel_all(job);
}

/* ---- running ------------------------------------------------------------------------------- */

static void get_clear_progress(void *arg)
{
    crawl_progress_clear(arg);
}

static int get_exit_status(struct get_job *job)
{
    if (job->interrupted)
        return CRAWL_EXIT_INTERRUPTED;
    if (job->rep.failed > 0 || job->src.invalid > 0 || job->src.read_error < 0 || job->disk_full)
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
    asem_init(&job->retry_slots, &job->sched, o->concurrency);
    asem_init(&job->commit_slots, &job->sched, o->concurrency);
    if (o->per_host > 0 && !(job->hosts = crawl_hostmap_new(&job->sched, o->per_host, 0)))
        goto oom;
    if (o->mode == CRAWL_MODE_THREADS) {
        if (!(job->easies = crawl_easy_pool_new(&o->http)))
            goto oom;
    } else if (!(job->http = http_client_new(&job->sched, &o->http, &result))) {
        fprintf(stderr, "gather: cannot set up HTTP: %s\n", strerror(-result));
        goto cleanup_sched;
    }
    if ((result = crawl_progress_start(&job->progress, &job->loop, &job->rep, o->quiet)) < 0 ||
        (result = crawl_signals_start(&job->signals, &job->loop, get_stop, job, &job->rep,
                                      "finishing what is in flight")) < 0 ||
        (job->state && (result = store_state_start(job->state, &job->sched)) < 0))
        goto cleanup_sched;
    if (task_start(&job->spawner, &job->sched, spawner_step) < 0)
        goto oom;
    job->spawner_done = future_ref(task_done(&job->spawner));

    uv_run(&job->loop, UV_RUN_DEFAULT);
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
    crawl_signals_stop(&job->signals);
    if (job->state)
        store_state_stop(job->state);
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

static volatile sig_atomic_t sync_interrupted;

static void sync_on_signal(int signum)
{
    if (sync_interrupted)
        _exit(130);
    (void)signum;
    sync_interrupted = 1;
}

/* --mode sync: one URL after another on this thread, no loop at all (the seed's requests loop;
 * no retries or resume: it is the baseline `gather bench` compares against). */
static int get_run_sync(struct get_job *job)
{
    crawl_options_t *o = job->opts;
    char *url;
    char reason[1024];
    crawl_blocking_t *b = calloc(1, sizeof(*b));
    char *path = malloc(GET_PATH_MAX);
    struct sigaction sa;

    if (!b || !path || !(job->easies = crawl_easy_pool_new(&o->http))) {
        fprintf(stderr, "gather: out of memory\n");
        free(b);
        free(path);
        return CRAWL_EXIT_FAILURES;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sync_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    crawl_progress_start(&job->progress, NULL, &job->rep, o->quiet);
    for (;;) {
        const char *why;

        if (sync_interrupted) {
            job->interrupted = 1;
            break;
        }
        crawl_source_fill(&job->src);
        url = crawl_source_next(&job->src);
        if (!url)
            break;
        if (store_seen_add(job->seen, url, strlen(url)) == 0) {
            job->rep.duplicates++;
            free(url);
            continue;
        }
        job->rep.queued++;
        path[0] = '\0';
        if (!o->discard && store_path_unique(job->names, url, o->layout, path, GET_PATH_MAX) < 0) {
            crawl_report_result(&job->rep, url, NULL, NULL, "cannot make a safe file name for this URL", NULL);
            free(url);
            continue;
        }
        memset(b, 0, sizeof(*b));
        b->url = url;
        b->dirfd = job->dirfd;
        b->relpath = path;
        b->do_fsync = o->do_fsync;
        b->discard = o->discard;
        b->max_bytes = o->http.max_filesize;
        b->interrupted = &sync_interrupted;
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
    job->rep.before_print = get_clear_progress;
    job->rep.before_print_arg = &job->progress;
    crawl_retry_init(&job->retry, o->retries, o->retry_delay_ms, o->max_wait_ms);
    if (crawl_source_open(&job->src, o->input, o->urls, o->nurls) < 0) {
        status = CRAWL_EXIT_USAGE;
        goto cleanup;
    }
    result = store_dir_open(o->outdir, &job->dirfd);
    if (result < 0) {
        fprintf(stderr, "gather: cannot use output folder %s: %s\n", o->outdir, strerror(-result));
        goto cleanup;
    }
    if (o->har && crawl_report_har_open(&job->rep, o->har, "gather get") < 0)
        goto cleanup;
    job->names = store_names_new();
    job->seen = store_seen_new(1024);
    if (!job->names || !job->seen) {
        fprintf(stderr, "gather: out of memory\n");
        goto cleanup;
    }
    if (!o->discard && o->mode != CRAWL_MODE_SYNC &&
        store_state_open(o->outdir, &job->state, &job->state_existed) < 0)
        goto cleanup;
    if (o->mode == CRAWL_MODE_THREADS && !getenv("UV_THREADPOOL_SIZE")) {
        /* One pool thread per transfer in flight: the seed's run_in_executor with N workers. */
        char n[24];
        snprintf(n, sizeof(n), "%ld", o->concurrency > 1024 ? 1024 : o->concurrency);
        setenv("UV_THREADPOOL_SIZE", n, 1);
    }
    status = o->mode == CRAWL_MODE_SYNC ? get_run_sync(job) : get_run_loop(job);
    if (job->disk_full)
        fprintf(stderr, "gather: the disk is full: stopped starting new downloads\n");
    crawl_report_summary(&job->rep);

cleanup:
    if (crawl_report_har_close(&job->rep) < 0 && status == CRAWL_EXIT_OK)
        status = CRAWL_EXIT_FAILURES;
    if (job->state && store_state_close(job->state) < 0)
        fprintf(stderr, "gather: could not finish writing %s/%s\n", o->outdir, STORE_STATE_FILE);
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
    return crawl_options_main(CRAWL_CMD_GET, argc, argv, crawl_get_run);
}
