/* get_job: the state one `gather get` shares between its spawner and its fetch tasks (private to
 * crawler/get.c and crawler/fetch.c). */
#ifndef CRAWLER_GET_JOB_H
#define CRAWLER_GET_JOB_H

#include <uv.h>

#include "net/http/blocking.h"
#include "crawler/job/hostmap.h"
#include "crawler/cli/options.h"
#include "crawler/report/progress.h"
#include "crawler/report/report.h"
#include "crawler/job/retry.h"
#include "crawler/job/signals.h"
#include "crawler/get/source.h"
#include "net/async/asem.h"
#include "net/http/http.h"
#include "net/async/task.h"
#include "storage/path.h"
#include "storage/seen.h"
#include "storage/state.h"

#define GET_PATH_MAX 4096

struct get_fetch;

struct get_job {
    crawl_options_t *opts;
    uv_loop_t loop;
    sched_t sched;
    http_client_t *http;
    crawl_easy_pool_t *easies;      /* threads and sync modes */
    asem_t permits;                 /* -c: one permit per fetch in flight */
    asem_t retry_slots;             /* fetches waiting to retry without holding a permit */
    asem_t commit_slots;            /* fetches writing their last bytes without a permit */
    crawl_hostmap_t *hosts;         /* --per-host, NULL without it */
    store_names_t *names;
    store_seen_t *seen;
    store_state_t *state;           /* DIR/.gather.db; NULL with --discard */
    int state_existed;              /* a re-run: files may already be there */
    crawl_retry_t retry;
    crawl_source_t src;
    int dirfd;
    crawl_report_t rep;
    crawl_progress_t progress;
    task_t spawner;
    future_t *spawner_done;
    struct get_fetch *active;       /* every fetch task alive (interrupts, the end) */
    future_t *idle;                 /* resolved when the last fetch has ended */
    crawl_signals_t signals;
    int stopping;                   /* interrupted, or the disk is full: start nothing new */
    int interrupted;
    int disk_full;
};

/* Starts a fetch task that owns url and the permit already taken. */
void get_fetch_spawn(struct get_job *job, char *url);

/* Cancels every fetch in flight (an interrupt). */
void get_fetch_cancel_all(struct get_job *job);

/* Why a finished transfer failed, or NULL when it succeeded; writes into reason. */
const char *get_outcome(struct get_job *job, const http_req_t *req, int disk_error,
                        const char *path, char *reason, size_t n);

#endif
