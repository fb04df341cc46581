/* crawl_get: `gather get`: a spawner coroutine on the job's loop (async, threads) or a plain
 * loop (sync). */
#include "crawler/get/get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/get/get_job.h"
#include "net/async/executor.h"

/* ---- the list's length, counted while the first transfers run ------------------------------ */

static int get_count_lines(void *arg)
{
    struct get_job *gj = arg;

    gj->count = crawl_source_count(gj->job.opts->input);
    return 0;
}

static void counter_step(task_t *t)
{
    struct get_job *gj = container_of(t, struct get_job, count_task);

    CORO_BEGIN(t);
    AWAIT(t, executor_run(&gj->job.sched, get_count_lines, gj));
    if (task_error(t) == 0 && gj->count > 0)
        gj->job.rep.total_hint = (uint64_t)gj->count;
    CORO_END(t);
}

/* The progress line's total before the list is read to its end: the arguments' count, or the
 * list file's URL lines counted on the pool (stdin cannot be read twice: it stays "N+"). */
static void get_total_hint(struct get_job *gj)
{
    crawl_options_t *o = gj->job.opts;

    if (!o->input)
        gj->job.rep.total_hint = (uint64_t)o->nurls;
    else if (strcmp(o->input, "-") != 0 && !o->quiet && gj->job.progress.enabled &&
             job_spawn(&gj->job, &gj->count_task, counter_step) < 0)
        gj->job.rep.total_hint = 0;    /* no memory for a hint: the line shows "N+" as before */
}

/* ---- the spawner: one permit, then one URL, then one task ---------------------------------- */

/* The fill running on the pool (started ahead of need, or now), handed over to an AWAIT. */
static future_t *spawner_fill(struct get_job *gj)
{
    future_t *f = gj->filling;

    gj->filling = NULL;
    return f ? f : executor_run(&gj->job.sched, crawl_source_fill, &gj->src);
}

static void spawner_step(task_t *t)
{
    struct get_job *gj = container_of(t, struct get_job, job.driver);
    job_t *job = &gj->job;
    char *url;

    CORO_BEGIN(t);
    permit_init(&gj->spawn_slot, t);
    get_total_hint(gj);
    for (;;) {
        AWAIT(t, permit_acquire(&gj->spawn_slot, &job->permits));
        if (task_error(t) < 0 || job->stopping)
            break;
        while (!crawl_source_has(&gj->src) && !gj->src.eof) {
            AWAIT(t, spawner_fill(gj));
            if (task_error(t) < 0)
                gj->src.eof = 1;
            else
                crawl_source_filled(&gj->src);
        }
        if (!(url = crawl_source_next(&gj->src)))
            break;
        /* Read the next lines while this batch is being used. */
        if (!gj->filling && crawl_source_low(&gj->src))
            gj->filling = executor_run(&job->sched, crawl_source_fill, &gj->src);
        if (store_seen_add(gj->seen, url, strlen(url)) == 0) {
            job->rep.duplicates++;         /* a duplicate of an earlier line */
            free(url);
            permit_release(&gj->spawn_slot);
            continue;
        }
        job->rep.queued++;
        get_fetch_spawn(gj, url);          /* takes the permit */
    }
    permit_release(&gj->spawn_slot);
    job->rep.queued_final = !job->stopping;
    /* A fill still running reads into the source: it must end before the source is closed. */
    if (gj->filling)
        AWAIT(t, spawner_fill(gj));
    /* Wait for the fetches still alive, including retries that sleep without a permit. */
    AWAIT(t, job_tasks_done(job));
    CORO_END(t);
}

/* --content-disposition in sync mode: what the blocking transfer's hook needs. */
struct sync_name {
    struct get_job *gj;
    const char *url;
    char *path;                        /* STORE_PATH_SIZE bytes */
};

static void sync_on_body(http_blocking_t *b)
{
    struct sync_name *sn = b->on_body_arg;

    get_disposition_name(sn->gj, sn->url, &b->req, sn->path, STORE_PATH_SIZE);
}

/* --mode sync: one URL after another on this thread, no loop at all (the seed's requests loop;
 * no retries or resume: it is the baseline `gather bench` compares against). */
static void get_run_sync(struct get_job *gj)
{
    job_t *job = &gj->job;
    crawl_options_t *o = job->opts;
    char reason[1024], path[STORE_PATH_SIZE];
    http_blocking_t *b = calloc(1, sizeof(*b));
    struct sync_name sn = { .gj = gj, .path = path };
    char *url;

    if (!b || !(job->easies = http_easy_pool_new(&o->http, NULL, NULL))) {
        fprintf(stderr, "gather: out of memory\n");
        job->broken = 1;
        free(b);
        return;
    }
    crawl_signals_start_blocking(&job->abort_transfers, NULL);
    crawl_progress_start(&job->progress, NULL, &job->rep, o->quiet);
    if (!o->input)
        job->rep.total_hint = (uint64_t)o->nurls;
    else if (strcmp(o->input, "-") != 0 && job->progress.enabled && (gj->count = crawl_source_count(o->input)) > 0)
        job->rep.total_hint = (uint64_t)gj->count;      /* blocking, as everything in sync mode */
    while (!job->abort_transfers) {
        if (!(url = crawl_source_next_blocking(&gj->src)))
            break;
        if (store_seen_add(gj->seen, url, strlen(url)) == 0) {
            job->rep.duplicates++;
            free(url);
            continue;
        }
        job->rep.queued++;
        path[0] = '\0';
        if (!o->discard && store_path_unique(job->names, url, o->layout, path, sizeof(path)) < 0) {
            crawl_report_result(&job->rep, url, NULL, NULL, "cannot make a safe file name for this URL", NULL);
            free(url);
            continue;
        }
        *b = (http_blocking_t){ .url = url, .dirfd = job->dirfd, .relpath = path,
                                .do_fsync = o->do_fsync, .discard = o->discard,
                                .max_bytes = o->http.max_filesize,
                                .interrupted = &job->abort_transfers,
                                .on_body = o->content_disposition ? sync_on_body : NULL,
                                .on_body_arg = &sn };
        sn.url = url;
        job_transfer_begin(job);
        http_blocking_fetch(job->easies, b);
        job_transfer_end(job);
        crawl_report_result(&job->rep, url, path[0] ? path : NULL, &b->req,
                            get_outcome(gj, &b->req, b->disk_error, path, reason, sizeof(reason)), NULL);
        http_req_cleanup(&b->req);
        free(url);
        crawl_progress_tick(&job->progress);
    }
    job->interrupted = job->abort_transfers != 0;
    job->rep.queued_final = 1;
    crawl_progress_stop(&job->progress);
    crawl_signals_stop_blocking();
    http_easy_pool_free(job->easies);
    job->easies = NULL;
    free(b);
}

int crawl_get_run(crawl_options_t *o)
{
    static const job_spec_t spec = {
        .title = "gather get",
        .interrupt_hint = "finishing what is in flight",
        .use_state = 1,
        .commit_slots = 1,
        .driver = spawner_step,
    };
    struct get_job *gj = calloc(1, sizeof(*gj));
    job_t *job;
    int status = CRAWL_EXIT_FAILURES;
    job_spec_t s = spec;

    if (!gj) {
        fprintf(stderr, "gather: out of memory\n");
        return CRAWL_EXIT_FAILURES;
    }
    job = &gj->job;
    s.host_permits = o->per_host;
    if (o->redis_url) {
        if (shared_check(o, "get", NULL, 0, NULL, NULL) < 0) {
            status = CRAWL_EXIT_USAGE;
            goto cleanup;
        }
        s.driver = get_worker_step;
    }
    /* One URL is one transfer (or one --split file, whose ranges are one origin's): it cannot
     * use a second loop, and a worker would only add the relay's copy of every body byte
     * (bench (c): 1 GiB cost 2.65 CPU s with two workers). */
    if (!o->workers_given && !o->input && o->nurls == 1)
        o->http.workers = 1;
    if (crawl_source_open(&gj->src, o->input, o->urls, o->nurls) < 0) {
        status = CRAWL_EXIT_USAGE;
        goto cleanup;
    }
    if (job_open(job, o, &s) < 0)
        goto cleanup;
    if (!(gj->seen = store_seen_new(1024))) {
        fprintf(stderr, "gather: out of memory\n");
        goto cleanup;
    }
    if (o->mode == CRAWL_MODE_SYNC) {
        get_run_sync(gj);
    } else {
        asem_init(&gj->retry_slots, &job->sched, o->concurrency);
        asem_init(&gj->commit_slots, &job->sched, o->concurrency);
        job_run(job);
    }
    if (!o->enqueue_only || o->json)
        crawl_report_summary(&job->rep);
    status = job_exit_status(job, job->rep.failed > 0 || gj->src.invalid > 0 || gj->src.read_error < 0);

cleanup:
    if (job_close(job) < 0 && status == CRAWL_EXIT_OK)
        status = CRAWL_EXIT_FAILURES;
    crawl_source_close(&gj->src);
    store_seen_free(gj->seen);
    free(gj->adding);
    free(gj);
    return status;
}

int crawl_get_main(int argc, char **argv)
{
    return crawl_options_main(CRAWL_CMD_GET, argc, argv, crawl_get_run);
}
