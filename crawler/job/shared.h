/* shared: a job's worker side of Redis (DISTRIBUTED.md) on the job's loop: the client, the
 * entries this worker claimed, its heartbeat, the host gate's waits, and the acknowledgements
 * still on their way when the job ends. get and crawl use it the same way:
 *
 *     shared_item_t *it;
 *     while (!(it = shared_take(sh))) {
 *         AWAIT(t, shared_fill(sh, free_permits));      // resolves with an rjob_claim_status_t
 *         ...  RJOB_CLAIM_WAIT: sleep, then again; RJOB_CLAIM_DONE: the job is over
 *     }
 *     AWAIT(t, shared_gate(sh, it, per_host, delay));   // the origin's shared slot
 *     ... fetch ...
 *     shared_ungate(sh, it);
 *     shared_done(sh, it, &result);                     // or shared_giveback(sh, it)
 *
 * Loop thread only, except shared_check (before the loop). */
#ifndef CRAWLER_JOB_SHARED_H
#define CRAWLER_JOB_SHARED_H

#include <jansson.h>

#include "crawler/job/job.h"
#include "storage/rjob.h"

typedef struct shared shared_t;

/* A claimed entry while this worker holds it. */
typedef struct shared_item {
    list_t link;                /* in the shared's held list */
    rjob_entry_t *e;
    char holder[192];           /* this worker's member in the origin's slots: "WORKER/ID" */
} shared_item_t;

/* Blocking, before the loop: checks o->redis_url and o->job_name can be used for a job of kind
 * ("get" or "crawl"): see rjob_open_check. 0, or -1 after printing why (exit 2). */
int shared_check(const crawl_options_t *o, const char *kind, const char *seeds_json, long depth,
                 char **stored_seeds, long *stored_depth);

/* On the loop (the driver's first step): connects, starts the heartbeat. producing: this process
 * will add URLs (shared_producing_done when it has). NULL after printing why. */
shared_t *shared_start(job_t *job, int producing);

/* The job's rjob (for offers). */
rjob_t *shared_rjob(shared_t *sh);

/* Adds URLs (see rjob_offer); the future resolves with the number queued. Counted in the
 * calls shared_finish waits for. */
future_t *shared_offer(shared_t *sh, int level, int requeue_failed, const rjob_offer_t *items, size_t n);
/* This process has added all it will. */
void shared_producing_done(shared_t *sh);

/* The next entry already claimed, now held by the caller, or NULL. */
shared_item_t *shared_take(shared_t *sh);
/* Claims up to max entries (at most 256), and up to `ahead` more while the job has plenty left;
 * resolves with an rjob_claim_status_t, or fails. The claim in flight, if any, is the one
 * returned. */
future_t *shared_fill(shared_t *sh, size_t max, size_t ahead);
/* The pause of a driver whose claim found nothing while others hold the rest: ms, or less if
 * every task of the job ends first (then it fails with -ETIMEDOUT after ms, as wait_for). */
future_t *shared_pause(job_t *job, long ms);

/* Entries claimed and not taken yet. */
size_t shared_ready(const shared_t *sh);
/* Claims `ahead` more in the background when fewer than half that are ready and no claim is in
 * flight: the next URLs are at hand when a transfer ends, with no round trip to Redis. */
void shared_prefetch(shared_t *sh, size_t ahead);

/* Waits until the item's origin gives it a slot (limit in flight over every worker, delay_ms
 * between requests): asks Redis, sleeping on the loop between asks. limit <= 0 and delay_ms <= 0:
 * resolved at once. Fails with -ECANCELED when cancelled, or the client's error. */
future_t *shared_gate(shared_t *sh, shared_item_t *it, long limit, long delay_ms);
/* Gives the origin's slot back (after each attempt). */
void shared_ungate(shared_t *sh, shared_item_t *it);

/* The outcome of an item: recorded in the job, acknowledged, and the item freed. */
void shared_done(shared_t *sh, shared_item_t *it, char outcome, const char *error, int64_t bytes,
                 json_t *result);
/* The item goes back to the job (interrupted) and is freed. */
void shared_giveback(shared_t *sh, shared_item_t *it);

/* Stores origin's robots.txt for every worker of the job (status 0: unreachable). */
void shared_robots_put(shared_t *sh, const char *origin, int status, const char *body, size_t len);

/* 1 once this worker must take no more work: Redis out of memory, or unreachable for good. */
int shared_broken(const shared_t *sh);

/* Stops the heartbeat and resolves when every call above has been answered (or failed); then
 * closes the client, folds the worker's counts into job->rep (--json) and frees sh. Claimed
 * entries not taken are given back. A new reference. */
future_t *shared_finish(shared_t *sh);

#endif
