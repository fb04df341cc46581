/* get_job: what one `gather get` shares between its spawner and its fetch tasks (private to
 * crawler/get/). Loop thread only. */
#ifndef CRAWLER_GET_JOB_H
#define CRAWLER_GET_JOB_H

#include "crawler/get/source.h"
#include "crawler/job/job.h"
#include "crawler/job/shared.h"
#include "net/async/permit.h"
#include "storage/seen.h"

struct get_job {
    job_t job;                      /* the base: loop, permits (-c), hosts (--per-host), ... */
    asem_t retry_slots;             /* fetches waiting to retry without holding a -c permit */
    asem_t commit_slots;            /* fetches writing their last bytes without a -c permit */
    store_seen_t *seen;             /* list lines already queued */
    crawl_source_t src;
    future_t *filling;              /* the next lines being read on the pool, or NULL */
    permit_t spawn_slot;            /* the spawner's permit, handed to each task it starts */
    task_t count_task;              /* counts the list's lines on the pool (progress line) */
    long count;                     /* its answer, or -errno */
    /* a job shared through Redis (--redis, --job): worker.c */
    shared_t *shared;
    task_t add_task;                /* adds the list to the job */
    struct get_adding *adding;      /* its batch */
    unsigned long added;            /* URLs it added that the job did not have */
    shared_item_t *item;            /* the entry being handed to a new fetch */
    long wait_ms;                   /* the spawner's pause while others hold what is left */
};

/* The driver of a shared job (worker.c). */
void get_worker_step(task_t *t);

/* Starts a fetch task for a claimed entry; it takes over the item and the spawner's permit. */
void get_fetch_spawn_item(struct get_job *gj, shared_item_t *item);

/* Starts a fetch task that owns url and takes over the spawner's permit; the task, or NULL when
 * it could not start (url is then freed, the permit given back, the failure reported). */
struct get_fetch *get_fetch_spawn(struct get_job *gj, char *url);

/* --content-disposition: the safe, unique name req's Content-Disposition gives url (in the
 * job's layout), written over path (n bytes) and reserved in the job's names. 1 when path
 * changed; 0 when it stays (the option is off, no header, no usable name); -errno. Any thread
 * (the names are locked): --mode threads calls it on a pool thread. */
int get_disposition_name(struct get_job *gj, const char *url, const http_req_t *req, char *path,
                         size_t n);

/* Why a finished transfer failed, or NULL when it succeeded; writes into reason. */
const char *get_outcome(struct get_job *gj, const http_req_t *req, int disk_error,
                        const char *path, char *reason, size_t n);

#endif
