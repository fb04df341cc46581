/* job: open, run and close the parts every job shares, in one order. */
#include "crawler/job/job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "crawler/cli/version.h"
#include "crawler/job/fdlimit.h"
#include "storage/file.h"

static void job_clear_progress(void *arg)
{
    crawl_progress_clear(arg);
}

/* --load-cookies, --save-cookies: one jar for the whole job, whatever the mode (the share every
 * easy handle gets through o->http.share). */
static int job_cookies_open(job_t *job)
{
    crawl_options_t *o = job->opts;
    int result;

    if (!o->load_cookies && !o->save_cookies)
        return 0;
    if (!(job->share = http_share_new(&result))) {
        fprintf(stderr, "gather: cannot set up the cookie jar: %s\n", strerror(-result));
        return result;
    }
    if (o->load_cookies && (result = http_share_load_cookies(job->share, o->load_cookies)) < 0) {
        fprintf(stderr, "gather: cannot read cookies from %s: %s\n", o->load_cookies, strerror(-result));
        return result;
    }
    o->http.share = http_share_curl(job->share);
    return 0;
}

/* Writes the jar (--save-cookies) once no transfer uses it, and frees it. 0 or -EIO. */
static int job_cookies_close(job_t *job)
{
    crawl_options_t *o = job->opts;
    int result = 0;

    if (!job->share)
        return 0;
    if (o->save_cookies && (result = http_share_save_cookies(job->share, o->save_cookies)) < 0) {
        fprintf(stderr, "gather: cannot save cookies to %s: %s\n", o->save_cookies, strerror(-result));
        result = -EIO;
    }
    o->http.share = NULL;
    http_share_free(job->share);
    job->share = NULL;
    return result;
}

/* --warc-file: the file and its warcinfo record (the option names of the command, not their
 * values: those may hold passwords), and the tap every async transfer feeds. */
static int job_warc_open(job_t *job)
{
    crawl_options_t *o = job->opts;
    char info[1024], software[64];
    size_t n;
    int result;

    if (!o->warc_file)
        return 0;
    n = (size_t)snprintf(info, sizeof(info), "command: %s\r\noptions:", job->spec.title);
    for (int i = 1; i < o->argc && n + 40 < sizeof(info); i++) {
        const char *a = o->argv[i];

        if (a[0] != '-' || !a[1])
            continue;
        n += (size_t)snprintf(info + n, sizeof(info) - n, " %.*s", (int)(a[1] == '-' ? strcspn(a, "=") : 2), a);
    }
    snprintf(info + n, sizeof(info) - n, "\r\n");
    snprintf(software, sizeof(software), "gather/%s", GATHER_VERSION);
    if (!(job->warc = store_warc_open(o->warc_file, o->warc_cdx, software, info, &result))) {
        fprintf(stderr, "gather: cannot write the WARC file %s: %s\n", o->warc_file, strerror(-result));
        return result;
    }
    o->http.tap = store_warc_tap(job->warc);
    return 0;
}

int job_open(job_t *job, crawl_options_t *o, const job_spec_t *spec)
{
    int result;

    job->opts = o;
    job->spec = *spec;
    job->dirfd = -1;
    crawl_report_init(&job->rep, crawl_mode_name(o->mode), o->json, o->quiet, o->verbose);
    job->rep.before_print = job_clear_progress;
    job->rep.before_print_arg = &job->progress;
    crawl_retry_init(&job->retry, o->retries, o->retry_delay_ms, o->max_wait_ms);
    /* Before anything is opened: -c may have to shrink to fit the descriptor limit, and every
     * part of the job sized from it (permits, curl's connection cap, commit slots, the pool in
     * threads mode) must see the value in force. */
    job->rep.concurrency_asked = o->concurrency;
    crawl_fdlimit_apply(o, spec->commit_slots, spec->use_state && !o->discard && o->mode != CRAWL_MODE_SYNC,
                        job->rep.limit, sizeof(job->rep.limit));
    job->rep.concurrency = o->mode == CRAWL_MODE_SYNC ? 1 : o->concurrency;
    /* --enqueue-only fetches nothing: no folder, no state. */
    result = o->enqueue_only ? 0 : store_dir_open(o->outdir, &job->dirfd);
    if (result < 0) {
        fprintf(stderr, "gather: cannot use output folder %s: %s\n", o->outdir, strerror(-result));
        return result;
    }
    if (!(job->names = store_names_new())) {
        fprintf(stderr, "gather: out of memory\n");
        return -ENOMEM;
    }
    if (o->har && (result = crawl_report_har_open(&job->rep, o->har, spec->title)) < 0)
        return result;
    if ((result = job_cookies_open(job)) < 0)
        return result;
    o->http.capture = o->har != NULL;
    if ((result = job_warc_open(job)) < 0)
        return result;
    if (spec->use_state && !o->discard && !o->enqueue_only && o->mode != CRAWL_MODE_SYNC &&
        (result = store_state_open(o->outdir, &job->state, &job->state_existed)) < 0)
        return result;
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void job_on_signal(void *arg)
{
    job_stop(arg);
}

void job_stop(job_t *job)
{
    job->interrupted = job->stopping = 1;
    job->abort_transfers = 1;
    task_cancel(&job->driver);
    task_group_cancel(&job->tasks);
}

int job_spawn(job_t *job, task_t *t, task_step_fn step)
{
    return task_group_spawn(&job->tasks, t, step);
}

future_t *job_tasks_done(job_t *job)
{
    return task_group_wait(&job->tasks);
}

/* The async client: the transfers on --workers threads of their own (net/http/workers.h), or on
 * this loop with --workers 1. The rest of the job stays on this loop either way. */
static int job_workers_start(job_t *job)
{
    int result;

    if (!(job->http = http_client_new(&job->sched, &job->opts->http, &result))) {
        fprintf(stderr, "gather: cannot set up HTTP: %s\n", strerror(-result));
        return result;
    }
    return 0;
}

/* Counts what each worker ran (for --json), then stops and joins them. */
static void job_workers_stop(job_t *job)
{
    size_t n = http_client_workers(job->http, NULL, 0);

    free(job->rep.worker_ran);
    if ((job->rep.worker_ran = calloc(n, sizeof(*job->rep.worker_ran))))
        job->rep.nworkers = http_client_workers(job->http, job->rep.worker_ran, n);
    http_client_close(job->http);
}

/* Threads mode: how many threads ran transfers, and why no more when a thread would not start
 * (for the summary and bench's table), then the pool is closed. */
static void job_threads_stop(job_t *job)
{
    int e = tpool_start_error(job->tpool);
    long started = tpool_threads(job->tpool);

    job->rep.threads = started;
    /* transfers waiting in the pool's queue for a thread were not in flight */
    if (tpool_max_running(job->tpool) < job->rep.max_inflight)
        job->rep.max_inflight = tpool_max_running(job->tpool);
    if (e && started < job->opts->concurrency) {
        struct rlimit rl;
        char nproc[32] = "unlimited";

        if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
            snprintf(nproc, sizeof(nproc), "%llu", (unsigned long long)rl.rlim_cur);
        snprintf(job->rep.limit, sizeof(job->rep.limit),
                 "only %ld threads could start (pthread_create: %s; ulimit -u %s)", started,
                 strerror(e), nproc);
        fprintf(stderr, "gather: threads mode ran at most %ld transfers at once of -c %ld: %s\n",
                started, job->opts->concurrency, job->rep.limit);
    }
    tpool_close(job->tpool);
}

/* Everything the loop needs, in the order job_run_teardown undoes it. */
static int job_run_setup(job_t *job)
{
    crawl_options_t *o = job->opts;
    const job_spec_t *spec = &job->spec;
    int result;

    asem_init(&job->permits, &job->sched, o->concurrency);
    task_group_init(&job->tasks, &job->sched);
    if (spec->host_permits > 0 &&
        !(job->hosts = crawl_hostmap_new(&job->sched, spec->host_permits, spec->keep_hosts,
                                         spec->host_entry_size, spec->host_free)))
        return -ENOMEM;
    if (job->warc)
        store_warc_start(job->warc, &job->loop);
    if (o->mode == CRAWL_MODE_ASYNC) {
        if ((result = job_workers_start(job)) < 0)
            return result;
    } else if (!(job->easies = http_easy_pool_new(&o->http, NULL, NULL))) {
        return -ENOMEM;
    }
    if (o->mode == CRAWL_MODE_THREADS && !(job->tpool = tpool_new(&job->sched, o->concurrency)))
        return -errno;
    if ((result = crawl_progress_start(&job->progress, &job->loop, &job->rep, o->quiet)) < 0 ||
        (result = crawl_signals_start(&job->signals, &job->loop, job_on_signal, job, &job->rep,
                                      spec->interrupt_hint)) < 0 ||
        (job->state && (result = store_state_start(job->state, &job->sched)) < 0))
        return result;
    if (task_start(&job->driver, &job->sched, spec->driver) < 0)
        return -ENOMEM;
    return 0;
}

static void job_run_teardown(job_t *job)
{
    crawl_progress_stop(&job->progress);
    crawl_signals_stop(&job->signals);
    if (job->state)
        store_state_stop(job->state);
    if (job->http)
        job_workers_stop(job);
    job->http = NULL;
    if (job->tpool)
        job_threads_stop(job);
    job->tpool = NULL;
    sched_close(&job->sched);
    uv_run(&job->loop, UV_RUN_DEFAULT);       /* let every uv_close callback run */
    if (uv_loop_close(&job->loop) != 0)
        fprintf(stderr, "gather: internal error: handles left open at exit\n");
    crawl_hostmap_free(job->hosts);
    job->hosts = NULL;
    http_easy_pool_free(job->easies);
    job->easies = NULL;
}

int job_run(job_t *job)
{
    future_t *driver_done = NULL;
    int result;

    result = uv_loop_init(&job->loop);
    if (result < 0) {
        fprintf(stderr, "gather: uv_loop_init: %s\n", uv_strerror(result));
        job->broken = 1;
        return result;
    }
    result = sched_init(&job->sched, &job->loop);
    if (result < 0) {
        fprintf(stderr, "gather: cannot start the loop: %s\n", uv_strerror(result));
        uv_loop_close(&job->loop);
        job->broken = 1;
        return result;
    }
    result = job_run_setup(job);
    if (result == 0) {
        driver_done = future_ref(task_done(&job->driver));
        uv_run(&job->loop, UV_RUN_DEFAULT);
        /* The loop stops only once nothing can make progress: the driver must have ended. */
        if (!future_is_done(driver_done) || task_group_size(&job->tasks) > 0) {
            fprintf(stderr, "gather: internal error: the loop stopped with work pending\n");
            result = -EDEADLK;
        }
        future_unref(driver_done);
    } else if (result == -ENOMEM) {
        fprintf(stderr, "gather: out of memory\n");
    }
    if (result < 0)
        job->broken = 1;
    job_run_teardown(job);
    return result;
}

/* ---- while it runs --------------------------------------------------------------------------- */

int job_note_disk_error(job_t *job, int error)
{
    if (error != -ENOSPC && error != -EDQUOT)
        return 0;
    job->stopping = job->disk_full = 1;
    return 1;
}

void job_transfer_begin(job_t *job)
{
    if (++job->rep.inflight > job->rep.max_inflight)
        job->rep.max_inflight = job->rep.inflight;
}

void job_transfer_end(job_t *job)
{
    job->rep.inflight--;
}

void job_before_print(job_t *job)
{
    job->rep.before_print(job->rep.before_print_arg);
}

/* ---- the end ----------------------------------------------------------------------------------- */

int job_exit_status(const job_t *job, int failures)
{
    if (job->interrupted)
        return CRAWL_EXIT_INTERRUPTED;
    if (failures || job->broken || job->disk_full)
        return CRAWL_EXIT_FAILURES;
    return CRAWL_EXIT_OK;
}

int job_close(job_t *job)
{
    int result = 0;

    if (!job->opts)
        return 0;                          /* job_open was never called */
    if (job->disk_full)
        fprintf(stderr, "gather: the disk is full: stopped starting new downloads\n");
    if (crawl_report_har_close(&job->rep) < 0)
        result = -EIO;
    json_decref(job->rep.shared);
    job->rep.shared = NULL;
    if (job_cookies_close(job) < 0)
        result = -EIO;
    if (job->warc) {
        int r = store_warc_close(job->warc);

        if (r < 0) {
            fprintf(stderr, "gather: could not finish the WARC file %s: %s\n", job->opts->warc_file, strerror(-r));
            result = -EIO;
        }
        job->opts->http.tap = NULL;
        job->warc = NULL;
    }
    if (job->state && store_state_close(job->state) < 0) {
        fprintf(stderr, "gather: could not finish writing %s/%s\n", job->opts->outdir, STORE_STATE_FILE);
        result = -EIO;
    }
    job->state = NULL;
    store_names_free(job->names);
    job->names = NULL;
    free(job->rep.worker_ran);
    job->rep.worker_ran = NULL;
    if (job->dirfd >= 0)
        close(job->dirfd);
    job->dirfd = -1;
    return result;
}
