/* get_fetch: one URL of `gather get`: skip it if complete, resume it from NAME.part, retry
 * transient failures without holding a permit, and record the outcome in the state database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crawler/get/get_job.h"
#include "net/async/executor.h"
#include "net/async/sleep.h"
#include "parse/url.h"
#include "storage/file.h"
#include "storage/writer.h"

/* Bodies larger than this get a pending row (with validators) as soon as they start. */
#define FETCH_RESUMABLE_MIN (1024 * 1024)

struct get_fetch {
    task_t task;
    struct get_job *job;
    struct get_fetch *prev, *next;  /* job->active */
    char *url;
    char path[STORE_PATH_SIZE];
    crawl_host_t *host;
    int holds_host, holds_permit, holds_retry_slot, holds_commit_slot;
    int attempt;
    /* what the disk and the database said before the first attempt (pool job) */
    int64_t final_size, part_size;
    store_row_t row;
    int have_row;
    /* this attempt */
    store_writer_t *writer;
    http_req_t req;
    http_sink_t sink;               /* first-byte checks, then the writer */
    struct curl_slist *headers;
    char range[32];
    uint64_t resume_from;
    int started;
    crawl_blocking_t *blocking;     /* threads mode only (allocated there) */
    /* validators of the body in NAME.part, for a resume */
    char etag[HTTP_HEADER_VALUE_MAX];
    char last_modified[HTTP_HEADER_VALUE_MAX];
    const char *skipped;            /* "complete", "not modified" */
    int interrupted;
    int keep_part;                  /* this attempt's .part is kept for a resume */
    char reason[512];
};

/* ---- outcomes ------------------------------------------------------------------------------ */

const char *get_outcome(struct get_job *job, const http_req_t *req, int disk_error,
                        const char *path, char *reason, size_t n)
{
    if (disk_error < 0 && (req->code == CURLE_OK || req->code == CURLE_WRITE_ERROR)) {
        snprintf(reason, n, "cannot write %.150s/%.250s: %s", job->opts->outdir, path,
                 strerror(-disk_error));
        return reason;
    }
    if (http_req_ok(req))
        return NULL;
    return http_req_describe(req, &job->opts->http, reason, n);
}

static int fetch_disk_full(int error)
{
    return error == -ENOSPC || error == -EDQUOT;
}

/* ---- before the first attempt (pool) ------------------------------------------------------- */

static int fetch_prepare(void *arg)
{
    struct get_fetch *f = arg;
    struct get_job *job = f->job;

    f->final_size = store_file_size(job->dirfd, f->path, 0);
    f->part_size = store_file_size(job->dirfd, f->path, 1);
    if (job->state && (f->part_size > 0 || (f->final_size >= 0 && job->opts->timestamping)))
        f->have_row = store_state_get(job->state, f->url, &f->row) == 1;
    if (f->have_row && f->row.status == STORE_URL_PENDING) {
        snprintf(f->etag, sizeof(f->etag), "%s", f->row.etag ? f->row.etag : "");
        snprintf(f->last_modified, sizeof(f->last_modified), "%s",
                 f->row.last_modified ? f->row.last_modified : "");
    }
    return 0;
}

/* ---- one attempt (async) ------------------------------------------------------------------- */

static int fetch_validator_ok(const struct get_fetch *f)
{
    return (f->etag[0] && strncmp(f->etag, "W/", 2) != 0) || f->last_modified[0];
}

static void fetch_record(struct get_fetch *f, int status, const char *error, int64_t bytes,
                         const char *sha256)
{
    struct get_job *job = f->job;
    store_record_t rec = {
        .url = f->url, .status = status, .http_code = f->req.status, .bytes = bytes,
        .sha256 = sha256, .path = f->path[0] ? f->path : NULL, .etag = f->etag,
        .last_modified = f->last_modified, .error = error, .depth = -1,
    };

    if (job->state && store_state_put(job->state, &rec) < 0 && !job->rep.quiet)
        fprintf(stderr, "gather: out of memory recording %s\n", f->url);
}

/* The first body byte of this attempt: a resume the server refused restarts from zero; the
 * validators go to the database so an interrupted download can be resumed later. */
static int fetch_sink_write(http_sink_t *sink, const char *data, size_t len)
{
    struct get_fetch *f = container_of(sink, struct get_fetch, sink);
    http_sink_t *w = store_writer_sink(f->writer);

    if (!f->started) {
        f->started = 1;
        if (f->resume_from > 0 && f->req.status != 206) {
            f->resume_from = 0;              /* 200 to a Range: the whole body, from zero */
            store_writer_resume(f->writer, 0);
        }
        snprintf(f->etag, sizeof(f->etag), "%s", f->req.etag);
        snprintf(f->last_modified, sizeof(f->last_modified), "%s", f->req.last_modified);
        /* The validators matter to a later run only if this body could be cut off worth
         * resuming: small bodies skip the row (half the database writes of many small files). */
        if (f->req.content_length < 0 || f->req.content_length > FETCH_RESUMABLE_MIN)
            fetch_record(f, STORE_URL_PENDING, NULL, 0, NULL);
    }
    return w->write(w, data, len);
}

/* Sets up the writer and request for the next attempt. Returns 0 or -ENOMEM. */
static int fetch_setup(struct get_fetch *f)
{
    struct get_job *job = f->job;
    crawl_options_t *o = job->opts;
    char line[HTTP_HEADER_VALUE_MAX + 32];

    http_req_cleanup(&f->req);
    memset(&f->req, 0, sizeof(f->req));
    curl_slist_free_all(f->headers);
    f->headers = NULL;
    f->started = 0;
    f->resume_from = 0;
    f->req.url = f->url;
    f->req.max_bytes = o->http.max_filesize;
    if (o->discard)
        return 0;
    f->writer = store_writer_new(&job->sched, job->dirfd, f->path, o->do_fsync);
    if (!f->writer)
        return -ENOMEM;
    f->sink.write = fetch_sink_write;
    f->req.sink = &f->sink;
    store_writer_attach(f->writer, &f->req);
    for (struct curl_slist *h = o->headers; h; h = h->next)
        if (!(f->headers = curl_slist_append(f->headers, h->data)))
            return -ENOMEM;
    if (f->part_size > 0 && fetch_validator_ok(f)) {
        /* Resume: only the rest, and only if it is still the same body (If-Range). */
        f->resume_from = (uint64_t)f->part_size;
        store_writer_resume(f->writer, f->resume_from);
        snprintf(f->range, sizeof(f->range), "%lld-", (long long)f->part_size);
        f->req.range = f->range;
        f->req.range_start = f->part_size;
        snprintf(line, sizeof(line), "If-Range: %s",
                 f->etag[0] && strncmp(f->etag, "W/", 2) != 0 ? f->etag : f->last_modified);
        if (!(f->headers = curl_slist_append(f->headers, line)))
            return -ENOMEM;
    } else if (f->final_size >= 0 && o->timestamping && f->have_row) {
        if (f->row.etag) {
            snprintf(line, sizeof(line), "If-None-Match: %.*s", HTTP_HEADER_VALUE_MAX, f->row.etag);
            if (!(f->headers = curl_slist_append(f->headers, line)))
                return -ENOMEM;
        }
        if (f->row.last_modified) {
            snprintf(line, sizeof(line), "If-Modified-Since: %.*s", HTTP_HEADER_VALUE_MAX,
                     f->row.last_modified);
            if (!(f->headers = curl_slist_append(f->headers, line)))
                return -ENOMEM;
        }
    }
    f->req.headers = f->headers;
    return 0;
}

static int fetch_blocking_job(void *arg)
{
    struct get_fetch *f = arg;

    return crawl_blocking_fetch(f->job->easies, f->blocking);
}

/* ---- permits ------------------------------------------------------------------------------- */

static void fetch_release_host(struct get_fetch *f)
{
    if (f->holds_host) {
        asem_release(crawl_host_sem(f->host));
        f->holds_host = 0;
    }
}

static void fetch_release_all(struct get_fetch *f)
{
    struct get_job *job = f->job;

    fetch_release_host(f);
    if (f->host) {
        crawl_hostmap_put(job->hosts, f->host);
        f->host = NULL;
    }
    if (f->holds_retry_slot) {
        asem_release(&job->retry_slots);
        f->holds_retry_slot = 0;
    }
    if (f->holds_commit_slot) {
        asem_release(&job->commit_slots);
        f->holds_commit_slot = 0;
    }
    if (f->holds_permit) {
        asem_release(&job->permits);
        f->holds_permit = 0;
    }
}

/* ---- the task ------------------------------------------------------------------------------ */

static void fetch_report(struct get_fetch *f)
{
    struct get_job *job = f->job;
    const http_req_t *req = f->blocking ? &f->blocking->req : &f->req;

    if (f->skipped) {
        job->rep.skipped++;
        if (job->rep.verbose) {
            job->rep.before_print(job->rep.before_print_arg);
            fprintf(stderr, "%s: %s (%s)\n", f->url, f->skipped, f->path);
        }
        crawl_report_json(&job->rep, json_pack("{s:s, s:b, s:s, s:s}", "url", f->url, "ok", 1,
                                               "skipped", f->skipped, "path", f->path));
        return;
    }
    crawl_report_result(&job->rep, f->url, f->path[0] ? f->path : NULL, req->url ? req : NULL,
                        f->reason[0] ? f->reason : NULL,
                        f->attempt > 1 ? json_pack("{s:i}", "attempts", f->attempt) : NULL);
}

static void fetch_step(task_t *t)
{
    struct get_fetch *f = container_of(t, struct get_fetch, task);
    struct get_job *job = f->job;
    crawl_options_t *o = job->opts;
    http_req_t *req;
    char *key = NULL;
    long delay;

    CORO_BEGIN(t);
    f->holds_permit = 1;                  /* the spawner's */
    if (!o->discard && store_path_unique(job->names, f->url, o->layout, f->path, sizeof(f->path)) < 0) {
        snprintf(f->reason, sizeof(f->reason), "cannot make a safe file name for this URL");
        goto finish;
    }
    f->final_size = f->part_size = -ENOENT;
    if (job->state_existed && !o->discard) {
        AWAIT(t, executor_run(&job->sched, fetch_prepare, f));
        if (f->final_size >= 0 && !o->timestamping) {
            f->skipped = "already complete";
            goto finish;
        }
    }
    if (job->hosts) {
        if (parse_url_hostport(f->url, &key) < 0 || !(f->host = crawl_hostmap_get(job->hosts, key))) {
            free(key);
            snprintf(f->reason, sizeof(f->reason), "out of memory");
            goto finish;
        }
        free(key);
    }

    for (;;) {
        if (task_cancelled(t) || job->stopping) {
            f->interrupted = 1;
            break;
        }
        if (f->host && !f->holds_host) {
            AWAIT(t, asem_acquire(crawl_host_sem(f->host)));
            if (task_error(t) < 0) {
                f->interrupted = 1;
                break;
            }
            f->holds_host = 1;
        }
        f->attempt++;
        f->reason[0] = '\0';
        job->rep.inflight++;
        if (job->rep.inflight > job->rep.max_inflight)
            job->rep.max_inflight = job->rep.inflight;

        if (o->mode == CRAWL_MODE_THREADS) {
            if (!f->blocking && !(f->blocking = calloc(1, sizeof(*f->blocking)))) {
                job->rep.inflight--;
                snprintf(f->reason, sizeof(f->reason), "out of memory");
                break;
            }
            http_req_cleanup(&f->blocking->req);
            f->blocking->url = f->url;
            f->blocking->dirfd = job->dirfd;
            f->blocking->relpath = f->path;
            f->blocking->do_fsync = o->do_fsync;
            f->blocking->discard = o->discard;
            f->blocking->max_bytes = o->http.max_filesize;
            AWAIT(t, executor_run(&job->sched, fetch_blocking_job, f));
            job->rep.inflight--;
            req = &f->blocking->req;
            if (task_error(t) < 0) {
                snprintf(f->reason, sizeof(f->reason), "could not run: %s", strerror(-task_error(t)));
                break;
            }
            if (!get_outcome(job, req, f->blocking->disk_error, f->path, f->reason, sizeof(f->reason))) {
                fetch_record(f, STORE_URL_DONE, NULL, req->bytes, NULL);
                break;
            }
            if (fetch_disk_full(f->blocking->disk_error))
                job->stopping = job->disk_full = 1;
        } else {
            if (fetch_setup(f) < 0) {
                job->rep.inflight--;
                snprintf(f->reason, sizeof(f->reason), "out of memory");
                break;
            }
            AWAIT(t, http_req_start(job->http, &f->req));
            job->rep.inflight--;
            req = &f->req;
            if (task_error(t) < 0) {
                /* cancelled (an interrupt) or could not start */
                f->interrupted = task_error(t) == -ECANCELED;
                if (!f->interrupted)
                    snprintf(f->reason, sizeof(f->reason), "could not start the transfer: %s",
                             strerror(-task_error(t)));
            } else if (req->code == CURLE_OK && req->status == 304 && f->final_size >= 0) {
                f->skipped = "not modified";
            } else if (!get_outcome(job, req, f->writer ? store_writer_error(f->writer) : 0,
                                    f->path, f->reason, sizeof(f->reason))) {
                if (!f->writer)
                    break;                 /* --discard */
                /* The transfer is over: let the next one start while the disk finishes this
                 * file (the commit slots bound how many wait on the disk without a permit). */
                fetch_release_host(f);
                if (asem_try_acquire(&job->commit_slots)) {
                    f->holds_commit_slot = 1;
                    asem_release(&job->permits);
                    f->holds_permit = 0;
                }
                AWAIT(t, store_writer_commit(f->writer));
                if (task_error(t) < 0) {
                    snprintf(f->reason, sizeof(f->reason), "cannot write %.150s/%.250s: %s",
                             o->outdir, f->path, strerror(-task_error(t)));
                    if (fetch_disk_full(task_error(t)))
                        job->stopping = job->disk_full = 1;
                    fetch_record(f, STORE_URL_FAILED, f->reason, 0, NULL);
                } else {
                    fetch_record(f, STORE_URL_DONE, NULL,
                                 (int64_t)(store_writer_offset(f->writer) + store_writer_written(f->writer)),
                                 store_writer_sha256(f->writer));
                }
                break;
            }
            if (f->writer) {
                /* Keep what arrived for a resume if the server named the body (ETag or
                 * Last-Modified); a disk error or a refused range starts over. */
                int werr = store_writer_error(f->writer);
                f->keep_part = fetch_validator_ok(f) && !werr && req->sink_error != HTTP_EBADRANGE &&
                               store_writer_offset(f->writer) + (uint64_t)req->body_bytes > 0 &&
                               !f->skipped;
                if (fetch_disk_full(werr))
                    job->stopping = job->disk_full = 1;
                AWAIT(t, store_writer_abort(f->writer, f->keep_part));
                f->part_size = f->keep_part ? (int64_t)(store_writer_offset(f->writer) +
                                                        store_writer_written(f->writer)) : -ENOENT;
                store_writer_free(f->writer);
                f->writer = NULL;
            }
            if (f->skipped || f->interrupted)
                break;
        }

        /* A failure: try again later if it may pass, without holding a permit meanwhile.
         * (Locals do not survive an AWAIT: find the request again.) */
        req = f->blocking ? &f->blocking->req : &f->req;
        if (!crawl_retry_wanted(req) || f->attempt > o->retries || job->stopping)
            break;
        delay = crawl_retry_delay_ms(&job->retry, req, f->attempt, (long long)time(NULL));
        if (job->rep.verbose) {
            job->rep.before_print(job->rep.before_print_arg);
            fprintf(stderr, "%s: %s; retry %d of %ld in %.1f s\n", f->url, f->reason, f->attempt,
                    o->retries, delay / 1000.0);
        }
        fetch_release_host(f);
        if (asem_try_acquire(&job->retry_slots)) {
            f->holds_retry_slot = 1;
            asem_release(&job->permits);
            f->holds_permit = 0;
        }
        AWAIT(t, net_sleep(&job->sched, (uint64_t)delay));
        if (task_error(t) < 0) {
            f->interrupted = 1;
            break;
        }
        if (f->holds_retry_slot) {
            asem_release(&job->retry_slots);
            f->holds_retry_slot = 0;
            AWAIT(t, asem_acquire(&job->permits));
            if (task_error(t) < 0) {
                f->interrupted = 1;
                break;
            }
            f->holds_permit = 1;
        }
    }
    if (f->interrupted) {
        snprintf(f->reason, sizeof(f->reason), "interrupted");
        if (f->writer)
            AWAIT(t, store_writer_abort(f->writer, fetch_validator_ok(f) && !store_writer_error(f->writer)));
        fetch_record(f, STORE_URL_PENDING, NULL, 0, NULL);
    } else if (f->reason[0] && !o->discard) {
        fetch_record(f, STORE_URL_FAILED, f->reason, 0, NULL);
    }

finish:
    fetch_report(f);
    fetch_release_all(f);
    CORO_END(t);
}

/* ---- spawning and cancelling ------------------------------------------------------------- */

static void fetch_free(future_t *done, void *arg)
{
    struct get_fetch *f = arg;
    struct get_job *job = f->job;

    (void)done;
    if (f->prev)
        f->prev->next = f->next;
    else
        job->active = f->next;
    if (f->next)
        f->next->prev = f->prev;
    store_writer_free(f->writer);
    http_req_cleanup(&f->req);
    if (f->blocking) {
        http_req_cleanup(&f->blocking->req);
        free(f->blocking);
    }
    curl_slist_free_all(f->headers);
    store_row_clear(&f->row);
    free(f->url);
    free(f);
    if (!job->active && job->idle)
        future_resolve(job->idle, NULL);
}

void get_fetch_spawn(struct get_job *job, char *url)
{
    struct get_fetch *f = calloc(1, sizeof(*f));

    if (!f)
        goto oom;
    f->job = job;
    f->url = url;
    if (task_start(&f->task, &job->sched, fetch_step) < 0)
        goto oom;                     /* nothing was posted */
    future_on_done(task_done(&f->task), fetch_free, f);   /* the inline slot: cannot fail */
    f->next = job->active;
    if (job->active)
        job->active->prev = f;
    job->active = f;
    return;

oom:
    crawl_report_result(&job->rep, url, NULL, NULL, "out of memory", NULL);
    free(url);
    free(f);
    asem_release(&job->permits);
}

void get_fetch_cancel_all(struct get_job *job)
{
    for (struct get_fetch *f = job->active; f; f = f->next)
        task_cancel(&f->task);
}
