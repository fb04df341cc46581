/* crawl_worker: `gather crawl --redis URL --job NAME`: the dispatcher claims the job's entries of
 * the BFS level being worked (the job moves to the next level only when every worker has
 * acknowledged all of this one, DISTRIBUTED.md), and the links pages find go to the job through
 * an outbox sent before each page is acknowledged. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/crawl/crawl_job.h"
#include "net/async/sleep.h"
#include "parse/url.h"

#define OUTBOX_MAX 256
#define WAIT_FIRST_MS 10
#define WAIT_MAX_MS 50

struct crawl_outbox {
    size_t n;
    struct outbox_entry {
        char *url, *origin, *parent;
        int depth, hops, level, requeue;
        crawl_kind_t kind;
        long seed;
    } e[OUTBOX_MAX];
};

static void outbox_entry_free(struct outbox_entry *e)
{
    free(e->url);
    free(e->origin);
    free(e->parent);
}

/* ---- the outbox ------------------------------------------------------------------------------ */

void crawl_worker_flush(crawl_job_t *cj)
{
    struct crawl_outbox *ob = cj->outbox;
    rjob_offer_t items[OUTBOX_MAX];
    size_t done = 0;

    if (!ob || !cj->shared)
        return;
    /* One call per run of entries bound for the same level (a page's links: one run). */
    while (done < ob->n) {
        size_t n = 0, first = done;
        int level = ob->e[first].level, requeue = ob->e[first].requeue;
        future_t *f;

        while (done < ob->n && ob->e[done].level == level && ob->e[done].requeue == requeue) {
            struct outbox_entry *e = &ob->e[done++];
            items[n++] = (rjob_offer_t){ .url = e->url, .origin = e->origin, .depth = e->depth,
                                         .hops = e->hops, .kind = e->kind == CRAWL_KIND_ASSET ? 'a' : 'p',
                                         .seed = e->seed, .parent = e->parent };
        }
        f = shared_offer(cj->shared, level, requeue, items, n);
        if (!f)
            fprintf(stderr, "gather: out of memory adding %zu URLs to the job\n", n);
        future_unref(f);            /* shared tracks it: its failure stops this worker */
    }
    for (size_t i = 0; i < ob->n; i++)
        outbox_entry_free(&ob->e[i]);
    ob->n = 0;
}

int crawl_worker_queue(crawl_job_t *cj, const char *url, int depth, crawl_kind_t kind, int hops,
                       crawl_parent_t *parent)
{
    struct crawl_outbox *ob = cj->outbox;
    struct outbox_entry *e;
    char ref[CRAWL_PAGEREF_SIZE];
    size_t seed = 0;
    int r;

    if (!ob && !(ob = cj->outbox = calloc(1, sizeof(*ob))))
        return -ENOMEM;
    if ((r = crawl_frontier_mark(&cj->frontier, url)) <= 0)
        return r;                   /* this worker has sent it already */
    if (ob->n == OUTBOX_MAX)
        crawl_worker_flush(cj);
    e = &ob->e[ob->n];
    memset(e, 0, sizeof(*e));
    crawl_job_pageref(cj, url, parent, ref, &seed);
    if (!(e->url = strdup(url)) || parse_url_origin(url, "", &e->origin) == PARSE_ENOMEM ||
        (parent && !(e->parent = strdup(parent->url)))) {
        outbox_entry_free(e);
        return -ENOMEM;
    }
    if (!e->origin && !(e->origin = strdup(""))) {
        outbox_entry_free(e);
        return -ENOMEM;
    }
    e->depth = depth;
    e->hops = hops;
    e->kind = kind;
    e->seed = (long)seed;
    /* A start URL (and where it redirects) goes to the level the job is at; anything else to
     * its lineage's level: depth + the delta its first page was given. */
    e->level = parent ? depth + parent->level_delta : -1;
    e->requeue = !parent && hops == 0;
    ob->n++;
    cj->job.rep.queued++;
    return 1;
}

/* ---- items from the job ---------------------------------------------------------------------- */

static crawl_item_t *item_from(shared_item_t *si)
{
    const rjob_entry_t *e = si->e;
    size_t len = strlen(e->url);
    crawl_item_t *it = malloc(sizeof(*it) + len + 1);

    if (!it)
        return NULL;
    memcpy(it->url, e->url, len + 1);
    it->depth = e->depth;
    it->hops = e->hops;
    it->attempts = 0;
    it->kind = e->kind == 'a' ? CRAWL_KIND_ASSET : CRAWL_KIND_PAGE;
    it->shared = si;
    it->parent = NULL;
    if (e->parent) {
        if (!(it->parent = crawl_parent_new(e->parent))) {
            free(it);
            return NULL;
        }
        it->parent->seed = e->seed >= 0 ? (size_t)e->seed : 0;
        it->parent->level_delta = e->level - e->depth;
    }
    return it;
}

void crawl_worker_end(crawl_job_t *cj, crawl_item_t *item, char outcome, const char *error, int64_t bytes,
                      json_t *res)
{
    shared_item_t *si = item->shared;

    item->shared = NULL;
    if (!si || !cj->shared) {
        json_decref(res);
        return;
    }
    if (outcome == 'i') {
        json_decref(res);
        shared_giveback(cj->shared, si);
        return;
    }
    crawl_worker_flush(cj);         /* the links this page found are in the job before it is done */
    shared_done(cj->shared, si, outcome, error, bytes, res);
}

/* ---- the dispatcher -------------------------------------------------------------------------- */

void crawl_worker_step(task_t *t)
{
    crawl_job_t *cj = container_of(t, crawl_job_t, job.driver);
    job_t *job = &cj->job;
    crawl_options_t *o = job->opts;
    crawl_item_t *item;

    CORO_BEGIN(t);
    permit_init(&cj->dispatch_slot, t);
    if (!(cj->shared = shared_start(job, 0))) {
        job->broken = 1;
        goto end;
    }
    crawl_worker_flush(cj);         /* the start URLs, before the first claim */
    if (o->enqueue_only)
        goto done;
    cj->wait_ms = WAIT_FIRST_MS;
    for (;;) {
        AWAIT(t, permit_acquire(&cj->dispatch_slot, &job->permits));
        if (task_error(t) < 0 || job->stopping || shared_broken(cj->shared))
            break;
        if (o->max_pages > 0 && cj->started_pages >= (unsigned long)o->max_pages)
            break;                  /* this worker's share: what it holds goes back */
        for (;;) {
            /* A retry put back by a page task comes first; then what this worker claimed. */
            if ((item = crawl_frontier_pop(&cj->frontier)))
                break;
            if ((cj->sitem = shared_take(cj->shared))) {
                if (!(item = item_from(cj->sitem))) {
                    fprintf(stderr, "gather: out of memory\n");
                    shared_giveback(cj->shared, cj->sitem);
                    cj->sitem = NULL;
                    job->broken = 1;
                    goto done;
                }
                cj->sitem = NULL;
                break;
            }
            crawl_worker_flush(cj);
            AWAIT(t, shared_fill(cj->shared, (size_t)job->permits.permits + 1, (size_t)o->concurrency / 2));
            if (task_error(t) < 0 || (intptr_t)task_result(t) == RJOB_CLAIM_DONE)
                goto done;
            if ((intptr_t)task_result(t) == RJOB_CLAIM_OK) {
                cj->wait_ms = WAIT_FIRST_MS;
                continue;
            }
            /* Others hold what is left of this level: look again soon, or as soon as this
             * worker's own pages have all ended. */
            AWAIT(t, shared_pause(job, cj->wait_ms));
            if ((task_error(t) < 0 && task_error(t) != -ETIMEDOUT) || job->stopping)
                goto done;
            cj->wait_ms = cj->wait_ms * 2 > WAIT_MAX_MS ? WAIT_MAX_MS : cj->wait_ms * 2;
        }
        if (item->kind == CRAWL_KIND_PAGE)
            cj->started_pages++;
        crawl_page_spawn(cj, item);   /* takes the permit */
        shared_prefetch(cj->shared, (size_t)o->concurrency / 2);
    }
done:
    permit_release(&cj->dispatch_slot);
    AWAIT(t, job_tasks_done(job));
    /* Retries left by an interrupt go back to the job. */
    while ((item = crawl_frontier_pop(&cj->frontier))) {
        crawl_worker_end(cj, item, 'i', NULL, 0, NULL);
        crawl_item_free(item);
    }
    crawl_worker_flush(cj);
    job->rep.queued_final = !job->stopping;
    AWAIT(t, shared_finish(cj->shared));
    cj->shared = NULL;
end:
    CORO_END(t);
}

void crawl_worker_free(crawl_job_t *cj)
{
    if (cj->outbox)
        for (size_t i = 0; i < cj->outbox->n; i++)
            outbox_entry_free(&cj->outbox->e[i]);
    free(cj->outbox);
    cj->outbox = NULL;
    if (cj->stored_starts)
        for (size_t i = 0; cj->stored_starts[i]; i++)
            free(cj->stored_starts[i]);
    free(cj->stored_starts);
    cj->stored_starts = NULL;
}
