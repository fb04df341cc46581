/* get_job: what one `gather get` shares between its spawner and its fetch tasks (private to
 * crawler/get/). Loop thread only. */
#ifndef CRAWLER_GET_JOB_H
#define CRAWLER_GET_JOB_H

#include "crawler/get/source.h"
#include "crawler/job/job.h"
#include "net/async/permit.h"
#include "storage/seen.h"

struct get_job {
    job_t job;                      /* the base: loop, permits (-c), hosts (--per-host), ... */
    asem_t retry_slots;             /* fetches waiting to retry without holding a -c permit */
    asem_t commit_slots;            /* fetches writing their last bytes without a -c permit */
    store_seen_t *seen;             /* list lines already queued */
    crawl_source_t src;
    permit_t spawn_slot;            /* the spawner's permit, handed to each task it starts */
};

/* Starts a fetch task that owns url and takes over the spawner's permit. */
void get_fetch_spawn(struct get_job *gj, char *url);

/* Why a finished transfer failed, or NULL when it succeeded; writes into reason. */
const char *get_outcome(struct get_job *gj, const http_req_t *req, int disk_error,
                        const char *path, char *reason, size_t n);

#endif
