/* get_fetch: one URL of `gather get`: skip it if complete, resume it from NAME.part, retry
 * transient failures without holding a permit, and record the outcome in the state database. */
#include "crawler/get/fetch.h"
#include "crawler/get/split.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/async/executor.h"
#include "net/async/sleep.h"
#include "parse/url.h"
#include "storage/file.h"
#include "storage/segfile.h"

/* ---- outcomes ------------------------------------------------------------------------------ */

const char *get_outcome(struct get_job *gj, const http_req_t *req, int disk_error,
                        const char *path, char *reason, size_t n)
{
    if (disk_error < 0 && (req->code == CURLE_OK || req->code == CURLE_WRITE_ERROR)) {
        snprintf(reason, n, "cannot write %.150s/%.250s: %s", gj->job.opts->outdir, path,
                 strerror(-disk_error));
        return reason;
    }
    if (http_req_ok(req))
        return NULL;
    return http_req_describe(req, &gj->job.opts->http, reason, n);
}

int fetch_validator_ok(const struct get_fetch *f)
{
    return (f->etag[0] && strncmp(f->etag, "W/", 2) != 0) || f->last_modified[0];
}

/* Rows are keyed by the URL with its password masked, as fetch_prepare looks them up. */
void fetch_record(struct get_fetch *f, int status, const char *error, int64_t bytes, const char *sha256)
{
    job_t *job = &f->gj->job;
    const http_req_t *req = f->attempt->request(f);
    char url[PARSE_URL_REDACT_SIZE];
    store_record_t rec = {
        .url = parse_url_redact(f->url, url, sizeof(url)), .status = status, .http_code = req ? req->status : 0, .bytes = bytes,
        .sha256 = sha256, .path = f->path[0] ? f->path : NULL, .etag = f->etag,
        .last_modified = f->last_modified, .error = error, .depth = -1,
    };

    if (job->state && store_state_put(job->state, &rec) < 0 && !job->rep.quiet)
        fprintf(stderr, "gather: out of memory recording %s\n", rec.url);
}

/* The one retry decision: a failure a retry may cure, tries left, and a job still running. */
enum fetch_outcome fetch_retry_or_fail(struct get_fetch *f, const http_req_t *req)
{
    job_t *job = &f->gj->job;

    if (crawl_retry_wanted(req) && f->tries <= job->opts->retries && !job->stopping)
        return FETCH_RETRY;
    return FETCH_FAILED;
}

/* How long to wait before the next try; says so with -v. */
static uint64_t fetch_retry_delay(struct get_fetch *f)
{
    job_t *job = &f->gj->job;
    long delay = crawl_retry_delay_ms(&job->retry, f->attempt->request(f), f->tries, (long long)time(NULL));

    if (job->rep.verbose) {
        char shown[PARSE_URL_REDACT_SIZE];
        job_before_print(job);
        fprintf(stderr, "%s: %s; retry %d of %ld in %.1f s\n",
                parse_url_redact(f->url, shown, sizeof(shown)), f->reason, f->tries,
                job->opts->retries, delay / 1000.0);
    }
    return (uint64_t)delay;
}

/* ---- before the first attempt ---------------------------------------------------------------- */

/* On the pool: what a previous run left (the file, its .part, its row). A file complete under
 * its final name whose row is missing, not done or of another size was saved by a run that was
 * killed before the batch holding its row was written: it is hashed here, so that the row this
 * run writes says what the disk holds. A done row of the file's size is trusted (a re-run does
 * not re-read every file). With --timestamping and no row, no hash: nothing can answer 304. */
static int fetch_prepare(void *arg)
{
    struct get_fetch *f = arg;
    job_t *job = &f->gj->job;

    get_disposition_prepare(f);
    f->final_size = store_file_size(job->dirfd, f->path, 0);
    f->part_size = store_file_size(job->dirfd, f->path, 1);
    /* a .part that --split segments wrote has holes: one stream must not resume it */
    if (!get_split_wanted(f) && store_segfile_forget(job->dirfd, f->path) != 0)
        f->part_size = -ENOENT;
    if (job->state && (f->part_size > 0 || f->final_size >= 0)) {
        char url[PARSE_URL_REDACT_SIZE];
        f->have_row = store_state_get(job->state, parse_url_redact(f->url, url, sizeof(url)), &f->row) == 1;
    }
    /* The validators of a body kept in NAME.part: an interrupted run left it pending, a run whose
     * retries ran out left it failed (the .part is kept only when it can be resumed). */
    if (f->have_row && f->part_size > 0 &&
        (f->row.status == STORE_URL_PENDING || f->row.status == STORE_URL_FAILED)) {
        snprintf(f->etag, sizeof(f->etag), "%s", f->row.etag ? f->row.etag : "");
        snprintf(f->last_modified, sizeof(f->last_modified), "%s",
                 f->row.last_modified ? f->row.last_modified : "");
    }
    if (job->state && f->final_size >= 0 && (f->have_row || !job->opts->timestamping) &&
        !(f->have_row && f->row.status == STORE_URL_DONE && f->row.bytes == f->final_size &&
          f->row.sha256))
        f->found = store_file_sha256(job->dirfd, f->path, f->found_sha256, &f->found_bytes) == 0;
    return 0;
}

/* The file name and the host; 0, or -1 with the outcome set. */
static int fetch_prologue(struct get_fetch *f)
{
    job_t *job = &f->gj->job;
    crawl_options_t *o = job->opts;

    f->final_size = f->part_size = -ENOENT;
    if (!o->discard && store_path_unique(job->names, f->url, o->layout, f->path, sizeof(f->path)) < 0) {
        snprintf(f->reason, sizeof(f->reason), "cannot make a safe file name for this URL");
        return -1;
    }
    if (job->hosts && crawl_hostmap_get_url(job->hosts, f->url, &f->host) < 0) {
        snprintf(f->reason, sizeof(f->reason), "out of memory");
        return -1;
    }
    return 0;
}

/* ---- the end, however it comes ------------------------------------------------------------- */

/* A file found complete (f->found) and skipped: its row becomes done with what the file holds.
 * The HTTP code is not known here: a row keeps its own. */
static void fetch_record_found(struct get_fetch *f)
{
    job_t *job = &f->gj->job;
    store_record_t rec = {
        .url = f->url, .status = STORE_URL_DONE, .http_code = -1, .bytes = f->found_bytes,
        .sha256 = f->found_sha256, .path = f->path, .depth = -1,
    };

    if (store_state_put(job->state, &rec) < 0 && !job->rep.quiet)
        fprintf(stderr, "gather: out of memory recording %s\n", f->url);
}

static void fetch_report(struct get_fetch *f)
{
    crawl_report_t *rep = &f->gj->job.rep;
    const http_req_t *req = f->attempt->request(f);

    if (f->outcome == FETCH_SKIPPED) {
        rep->skipped++;
        if (rep->verbose) {
            char shown[PARSE_URL_REDACT_SIZE];
            rep->before_print(rep->before_print_arg);
            fprintf(stderr, "%s: %s (%s)%s\n", parse_url_redact(f->url, shown, sizeof(shown)),
                    f->skipped, f->path, f->found ? "; recorded in " STORE_STATE_FILE : "");
        }
        crawl_report_json(rep, json_pack("{s:s, s:b, s:s, s:s, s:b}", "url", f->url, "ok", 1,
                                         "skipped", f->skipped, "path", f->path,
                                         "recorded", f->found));
        return;
    }
    crawl_report_result(rep, f->url, f->path[0] ? f->path : NULL, req && req->url ? req : NULL,
                        f->outcome == FETCH_OK ? NULL : f->reason,
                        f->tries > 1 ? json_pack("{s:i}", "attempts", f->tries) : NULL);
}

/* A shared job's entry: its outcome goes to the job (or, interrupted, the entry goes back). */
static void fetch_acknowledge(struct get_fetch *f)
{
    shared_t *sh = f->gj->shared;
    const http_req_t *req = f->attempt->request(f);
    char outcome = f->outcome == FETCH_OK ? 'd' : f->outcome == FETCH_SKIPPED ? 's' : 'f';
    json_t *res;

    if (f->gated)
        shared_ungate(sh, f->item);
    f->gated = 0;
    if (f->outcome == FETCH_INTERRUPTED || f->outcome == FETCH_RETRY) {
        shared_giveback(sh, f->item);
        f->item = NULL;
        return;
    }
    res = json_pack("{s:b, s:i, s:I}", "ok", outcome != 'f', "status", req && req->url ? (int)req->status : 0,
                    "bytes", (json_int_t)(f->outcome == FETCH_OK ? f->bytes : 0));
    if (res && f->path[0])
        json_object_set_new(res, "path", json_string(f->path));
    if (res && f->outcome == FETCH_OK && f->sha256)
        json_object_set_new(res, "sha256", json_string(f->sha256));
    if (res && outcome == 'f')
        json_object_set_new(res, "error", json_string(f->reason));
    if (res && outcome == 's')
        json_object_set_new(res, "skipped", json_string(f->skipped ? f->skipped : "skipped"));
    shared_done(sh, f->item, outcome, outcome == 'f' ? f->reason : NULL,
                f->outcome == FETCH_OK ? f->bytes : 0, res);
    f->item = NULL;
}

static void fetch_finally(task_defer_t *d)
{
    struct get_fetch *f = container_of(d, struct get_fetch, finally);
    job_t *job = &f->gj->job;

    if (f->outcome == FETCH_OK) {
        fetch_record(f, STORE_URL_DONE, NULL, f->bytes, f->sha256);
    } else if (f->outcome == FETCH_INTERRUPTED) {
        snprintf(f->reason, sizeof(f->reason), "interrupted");
        fetch_record(f, STORE_URL_PENDING, NULL, 0, NULL);
    } else if (f->outcome == FETCH_FAILED && !job->opts->discard) {
        fetch_record(f, STORE_URL_FAILED, f->reason, 0, NULL);
    } else if (f->outcome == FETCH_SKIPPED && f->found) {
        fetch_record_found(f);
    }
    fetch_report(f);
    if (f->item)
        fetch_acknowledge(f);
    if (f->host)
        crawl_hostmap_put(job->hosts, f->host);
    f->host = NULL;
}

/* ---- the task ------------------------------------------------------------------------------ */

/* async with permit: prologue; then attempts, each a transfer and the disk work that makes it
 * final, with a pause between them that holds no -c permit. */
static void fetch_step(task_t *t)
{
    struct get_fetch *f = container_of(t, struct get_fetch, task);
    struct get_job *gj = f->gj;
    job_t *job = &gj->job;

    CORO_BEGIN(t);
    f->outcome = FETCH_FAILED;
    if (fetch_prologue(f) < 0)
        goto finish;
    /* -nc looks at the disk even on a first run: a file put there by anyone is kept. */
    if ((job->state_existed || job->opts->no_clobber) && !job->opts->discard) {
        AWAIT(t, executor_run(&job->sched, fetch_prepare, f));
        if (f->final_size >= 0 && (!job->opts->timestamping || job->opts->no_clobber)) {
            f->skipped = job->state_existed ? "already complete" : "exists (--no-clobber)";
            f->outcome = FETCH_SKIPPED;
            goto finish;
        }
    }
    if (get_split_wanted(f))
        f->attempt = &fetch_attempt_split;
    for (;;) {
        if (f->host)
            AWAIT(t, permit_acquire(&f->host_slot, crawl_host_sem(f->host)));
        if ((f->host && !permit_held(&f->host_slot)) || task_cancelled(t) || job->stopping) {
            f->outcome = FETCH_INTERRUPTED;
            break;
        }
        if (f->item && job->opts->per_host > 0) {
            /* --per-host holds over every worker of the job: the origin's shared slot. */
            AWAIT(t, shared_gate(gj->shared, f->item, job->opts->per_host, 0));
            if (task_error(t) < 0 || task_cancelled(t) || job->stopping) {
                f->outcome = FETCH_INTERRUPTED;
                break;
            }
            f->gated = 1;
        }
        f->tries++;
        f->reason[0] = '\0';
        if (f->attempt->begin(f) < 0) {
            snprintf(f->reason, sizeof(f->reason), "out of memory");
            break;
        }
        job_transfer_begin(job);
        AWAIT(t, f->attempt->transfer(f));
        job_transfer_end(job);
        f->outcome = f->attempt->classify(f, task_error(t));
        permit_release(&f->host_slot);
        if (f->gated) {
            shared_ungate(gj->shared, f->item);
            f->gated = 0;
        }
        if (f->writer) {
            /* Let the next transfer start while the disk finishes this one (the commit slots
             * bound how many wait on the disk without a -c permit). */
            if (f->outcome == FETCH_OK)
                permit_try_trade(&f->slot, &gj->commit_slots);
            AWAIT(t, fetch_writer_finish(f));
            f->outcome = fetch_writer_finished(f, task_error(t));
        }
        if (f->outcome != FETCH_RETRY)
            break;
        if (f->again) {             /* the split handed over to one stream: no pause, no try */
            f->again = 0;
            f->tries--;
            continue;
        }
        permit_try_trade(&f->slot, &gj->retry_slots);
        AWAIT(t, net_sleep(&job->sched, fetch_retry_delay(f)));
        if (task_error(t) == 0 && permit_sem(&f->slot) != &job->permits)
            AWAIT(t, permit_trade(&f->slot, &job->permits));
        if (task_error(t) < 0) {
            f->outcome = FETCH_INTERRUPTED;
            break;
        }
    }
finish:
    CORO_END(t);
}

/* ---- spawning -------------------------------------------------------------------------------- */

static void fetch_free(future_t *done, void *arg)
{
    struct get_fetch *f = arg;

    (void)done;
    store_writer_free(f->writer);
    http_req_cleanup(&f->req);
    if (f->blocking) {
        http_req_cleanup(&f->blocking->req);
        free(f->blocking);
    }
    curl_slist_free_all(f->headers);
    store_row_clear(&f->row);
    get_split_free(f->split);
    free(f->url);
    free(f);
}

void get_fetch_spawn_item(struct get_job *gj, shared_item_t *item)
{
    char *url = strdup(item->e->url);
    struct get_fetch *f;

    if (!url) {
        crawl_report_result(&gj->job.rep, item->e->url, NULL, NULL, "out of memory", NULL);
        shared_giveback(gj->shared, item);
        permit_release(&gj->spawn_slot);
        return;
    }
    if (!(f = get_fetch_spawn(gj, url))) {
        shared_giveback(gj->shared, item);
        return;
    }
    f->item = item;
}

struct get_fetch *get_fetch_spawn(struct get_job *gj, char *url)
{
    job_t *job = &gj->job;
    struct get_fetch *f = calloc(1, sizeof(*f));
    int result = -ENOMEM;

    if (!f || (result = job_spawn(job, &f->task, fetch_step)) < 0) {
        if (result == -ENOMEM)
            crawl_report_result(&job->rep, url, NULL, NULL, "out of memory", NULL);
        free(url);
        free(f);
        permit_release(&gj->spawn_slot);
        return NULL;
    }
    f->gj = gj;
    f->url = url;
    f->attempt = job->opts->mode == CRAWL_MODE_THREADS ? &fetch_attempt_threads : &fetch_attempt_async;
    permit_init(&f->slot, &f->task);
    permit_init(&f->host_slot, &f->task);
    task_defer(&f->task, &f->finally, fetch_finally);
    permit_move(&f->slot, &gj->spawn_slot);
    future_on_done(task_done(&f->task), fetch_free, f);   /* the inline slot: cannot fail */
    return f;
}
