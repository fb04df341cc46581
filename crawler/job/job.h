/* job: the base every gather job embeds (get, crawl, later a distributed worker): one loop, its
 * scheduler and task group, the HTTP client, the -c permits, the host map, file names, the state
 * database, the report, progress line, signals and retry policy; opened, run and closed here in
 * one order, with one exit-status rule.
 *
 * A job struct embeds job_t and supplies its driver coroutine (get's spawner, crawl's
 * dispatcher); every other task it starts goes into job->tasks (job_spawn), so an interrupt
 * cancels all of them and the driver can await the moment the last one ended.
 * Everything here runs on the job's loop thread, except job_open/job_close (before and after).
 */
#ifndef CRAWLER_JOB_JOB_H
#define CRAWLER_JOB_JOB_H

#include <signal.h>

#include <uv.h>

#include "crawler/cli/options.h"
#include "crawler/job/hostmap.h"
#include "crawler/job/retry.h"
#include "crawler/job/signals.h"
#include "crawler/report/progress.h"
#include "crawler/report/report.h"
#include "net/async/asem.h"
#include "net/async/group.h"
#include "net/async/task.h"
#include "net/async/tpool.h"
#include "net/http/blocking.h"
#include "net/http/http.h"
#include "net/http/share.h"
#include "storage/path.h"
#include "storage/state.h"
#include "storage/warc.h"

typedef struct job job_t;

/* What differs between jobs, given to job_open. */
typedef struct job_spec {
    const char *title;            /* "gather get": HAR page title, messages */
    const char *interrupt_hint;   /* what a user can do after an interrupt */
    int use_state;                /* open DIR/.gather.db (unless --discard or --mode sync) */
    long host_permits;            /* per host:port semaphore size; 0: no host map */
    int keep_hosts;               /* host entries outlive idle moments (politeness state) */
    size_t host_entry_size;       /* sizeof the job's host struct (embeds crawl_host_t) */
    void (*host_free)(crawl_host_t *h);
    int commit_slots;             /* a -c slot starts its next transfer while the disk finishes
                                   * the last body (get): one more NAME.part open per slot */
    task_step_fn driver;          /* the job's main coroutine: job->driver */
} job_spec_t;

struct job {
    crawl_options_t *opts;
    job_spec_t spec;
    /* the loop thread */
    uv_loop_t loop;
    sched_t sched;
    task_group_t tasks;           /* every task but the driver */
    task_t driver;
    http_client_t *http;          /* --mode async */
    http_easy_pool_t *easies;     /* --mode threads and sync */
    tpool_t *tpool;               /* --mode threads: a thread per transfer, up to -c */
    http_share_t *share;          /* the cookie jar (with DNS, TLS sessions) when cookies are kept */
    asem_t permits;               /* -c: one per transfer in flight */
    crawl_hostmap_t *hosts;       /* NULL when the spec asks for none */
    /* the output */
    int dirfd;
    store_names_t *names;
    store_state_t *state;         /* NULL with --discard or without use_state */
    store_warc_t *warc;           /* --warc-file; NULL without it */
    int state_existed;            /* a re-run on the same folder */
    crawl_report_t rep;
    crawl_progress_t progress;
    crawl_signals_t signals;
    crawl_retry_t retry;
    /* how it ends */
    int stopping;                 /* start nothing new (interrupted, or the disk is full) */
    int interrupted;
    int disk_full;
    int broken;                   /* could not run at all (out of memory, loop error) */
    volatile sig_atomic_t abort_transfers;  /* set by job_stop: blocking transfers give up */
};

/* Prepares everything that does not need the loop: report, retry policy, output folder, HAR
 * file, names and the state database. Prints why on failure and returns -errno; job_close must
 * be called either way. */
int job_open(job_t *job, crawl_options_t *o, const job_spec_t *spec);

/* Runs the loop until the driver and every task have ended, then tears the loop down. Returns 0
 * or -errno (job->broken is then set and the reason printed). */
int job_run(job_t *job);

/* The first interrupt: start nothing new and cancel the driver and every task. */
void job_stop(job_t *job);

/* Starts a task in job->tasks. 0, -ENOMEM, or -ECANCELED when the job is stopping. */
int job_spawn(job_t *job, task_t *t, task_step_fn step);

/* A future resolved once every task in job->tasks has ended (for the driver); the caller owns
 * the returned reference. */
future_t *job_tasks_done(job_t *job);

/* The disk said ENOSPC or EDQUOT for `error`: stop starting downloads (1), else 0. */
int job_note_disk_error(job_t *job, int error);

/* Counts a transfer starting or ending, for --json's max_inflight and the progress line. */
void job_transfer_begin(job_t *job);
void job_transfer_end(job_t *job);

/* Clears the progress line so a message can be printed. */
void job_before_print(job_t *job);

/* The process exit status: interrupted 130; any failure (`failures`, a broken run, a full disk)
 * 1; else 0. */
int job_exit_status(const job_t *job, int failures);

/* Closes what job_open opened (HAR, state database, folder). Returns 0, or -EIO when a file the
 * user asked for could not be finished. */
int job_close(job_t *job);

#endif
