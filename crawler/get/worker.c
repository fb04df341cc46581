/* get_worker: `gather get --redis URL --job NAME`: the list (if any) is added to the shared job
 * by an adder task, in batches, while the spawner claims entries from the job and starts a fetch
 * per entry, one -c permit each, until the job has nothing left (DISTRIBUTED.md). */
#include "crawler/get/get.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/get/get_job.h"
#include "net/async/executor.h"
#include "net/async/sleep.h"
#include "parse/url.h"

#define ADD_BATCH 512
#define WAIT_FIRST_MS 10
#define WAIT_MAX_MS 50

/* The batch being added: URLs taken from the source and their origins. */
struct get_adding {
    rjob_offer_t items[ADD_BATCH];
    char *urls[ADD_BATCH], *origins[ADD_BATCH];
    size_t n;
};

static void adding_clear(struct get_adding *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->urls[i]);
        free(a->origins[i]);
    }
    a->n = 0;
}

/* Moves up to ADD_BATCH URLs of the source's batch into a. */
static int adding_take(struct get_job *gj, struct get_adding *a)
{
    char *url;

    while (a->n < ADD_BATCH && (url = crawl_source_next(&gj->src))) {
        char *origin = NULL;
        int r = parse_url_origin(url, "", &origin);

        if (r == -ENOMEM) {
            free(url);
            return -ENOMEM;
        }
        if (r < 0) {
            crawl_report_result(&gj->job.rep, url, NULL, NULL, "no host to fetch from", NULL);
            free(url);
            continue;
        }
        a->urls[a->n] = url;
        a->origins[a->n] = origin;
        a->items[a->n] = (rjob_offer_t){ .url = url, .origin = origin, .kind = 'a', .seed = -1 };
        a->n++;
    }
    return 0;
}

static void adder_step(task_t *t)
{
    struct get_job *gj = container_of(t, struct get_job, add_task);
    struct get_adding *a = gj->adding;
    job_t *job = &gj->job;

    CORO_BEGIN(t);
    for (;;) {
        while (!crawl_source_has(&gj->src) && !gj->src.eof) {
            AWAIT(t, executor_run(&job->sched, crawl_source_fill, &gj->src));
            if (task_error(t) < 0)
                gj->src.eof = 1;
            else
                crawl_source_filled(&gj->src);
        }
        if (adding_take(gj, a) < 0) {
            fprintf(stderr, "gather: out of memory\n");
            job->broken = 1;
            break;
        }
        if (a->n == 0)
            break;
        AWAIT(t, shared_offer(gj->shared, 0, 1, a->items, a->n));
        if (task_error(t) < 0)
            break;          /* shared says why, and this worker takes no more work */
        gj->added += (unsigned long)(uintptr_t)task_result(t);
        job->rep.duplicates += a->n - (uintptr_t)task_result(t);
        adding_clear(a);
        if (job->stopping)
            break;
    }
    adding_clear(a);
    job->rep.queued_final = 1;
    shared_producing_done(gj->shared);
    if (job->opts->enqueue_only && !job->opts->quiet) {
        job_before_print(job);
        fprintf(stderr, "gather: added %lu URLs to job %s (%lu already in it)\n", gj->added,
                job->opts->job_name, (unsigned long)job->rep.duplicates);
    }
    CORO_END(t);
}

/* Entries a worker claims ahead of its free permits while the job has plenty left: half its -c. */
static size_t get_worker_ahead(const job_t *job)
{
    return (size_t)(job->opts->concurrency / 2);
}

/* The spawner: one permit, then one claimed entry, then one fetch. */
void get_worker_step(task_t *t)
{
    struct get_job *gj = container_of(t, struct get_job, job.driver);
    job_t *job = &gj->job;
    crawl_options_t *o = job->opts;
    int has_list = o->input || o->nurls > 0;

    CORO_BEGIN(t);
    permit_init(&gj->spawn_slot, t);
    if (!(gj->shared = shared_start(job, has_list))) {
        job->broken = 1;
        goto end;
    }
    if (has_list && (!(gj->adding = calloc(1, sizeof(*gj->adding))) ||
                     job_spawn(job, &gj->add_task, adder_step) < 0)) {
        fprintf(stderr, "gather: out of memory\n");
        job->broken = 1;
        shared_producing_done(gj->shared);
        goto done;
    }
    if (o->enqueue_only)
        goto done;
    gj->wait_ms = WAIT_FIRST_MS;
    for (;;) {
        AWAIT(t, permit_acquire(&gj->spawn_slot, &job->permits));
        if (task_error(t) < 0 || job->stopping || shared_broken(gj->shared))
            break;
        while (!(gj->item = shared_take(gj->shared))) {
            AWAIT(t, shared_fill(gj->shared, (size_t)job->permits.permits + 1, get_worker_ahead(job)));
            if (task_error(t) < 0)
                goto done;
            if ((intptr_t)task_result(t) == RJOB_CLAIM_DONE)
                goto done;
            if ((intptr_t)task_result(t) == RJOB_CLAIM_OK) {
                gj->wait_ms = WAIT_FIRST_MS;
                continue;
            }
            /* Others hold what is left (or are still adding): look again soon, or as soon as
             * this worker's own transfers have all ended (the job may be over then). */
            AWAIT(t, shared_pause(job, gj->wait_ms));
            if ((task_error(t) < 0 && task_error(t) != -ETIMEDOUT) || job->stopping)
                goto done;
            gj->wait_ms = gj->wait_ms * 2 > WAIT_MAX_MS ? WAIT_MAX_MS : gj->wait_ms * 2;
        }
        job->rep.queued++;
        get_fetch_spawn_item(gj, gj->item);      /* takes the permit and the item */
        gj->item = NULL;
        shared_prefetch(gj->shared, get_worker_ahead(job));
    }
done:
    permit_release(&gj->spawn_slot);
    AWAIT(t, job_tasks_done(job));
    AWAIT(t, shared_finish(gj->shared));
    if (!has_list)
        job->rep.queued_final = 1;
end:
    CORO_END(t);
}
