/* get_split: a segmented download of one file (split.h). */
#include "crawler/get/split.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "storage/segfile.h"

#define SPLIT_WORKER_ERR (-ESTALE)   /* a worker's sink stops a 200 to a ranged request */

struct split_run;

/* One connection: it takes segments that nobody has started, one after another. */
struct split_worker {
    task_t task;
    struct split_run *run;
    int own;                        /* worker 0: runs on the fetch's own permits */
    permit_t slot, host_slot;
    store_seg_t *seg;
    http_req_t req;
    net_sink_t sink;
    struct curl_slist *headers;
    char range[64];
    int counted;                    /* job_transfer_begin was called */
    int full;                       /* the server answered a ranged request with the whole body */
    int live;                       /* spawned and its step has not ended */
};

/* One attempt: the probe when there is no plan, then the workers; freed when it has ended. */
struct split_run {
    task_t task;
    struct get_split *s;
    future_t *all_ended;            /* resolved when `running` drops to 0 */
    unsigned nworkers, running;
    struct split_worker workers[STORE_SEG_MAX];
};

struct get_split {
    struct get_fetch *f;
    store_segfile_t *file;
    int64_t part_size;              /* of a .part found before the first attempt */
    int loaded, planned;
    int claimed[STORE_SEG_MAX];
    /* the attempt's end */
    int fallback;                   /* hand over to the one-stream attempt */
    int ok, interrupted, changed, stop;
    int complete;                   /* every segment has all its bytes on disk */
    int disk_error;
    http_req_t failed;              /* the request whose failure ended the attempt */
    http_req_t report;              /* what the report shows: the last request that ended */
    /* the probe */
    http_req_t probe;
    net_sink_t probe_sink;
    struct curl_slist *probe_headers;
    char probe_byte;
    int probe_got;
    char sha256[65];
    uint64_t t0;
};

/* ---- helpers ------------------------------------------------------------------------------- */

/* Moves the results of an ended request into dst (which frees what it held). */
static void split_keep(http_req_t *dst, http_req_t *src)
{
    http_req_cleanup(dst);
    *dst = *src;
    memset(src, 0, sizeof(*src));
    dst->range = NULL;              /* borrowed from the worker, which may be gone */
    dst->headers = NULL;
    dst->sink = NULL;
}

static int split_headers(struct get_fetch *f, struct curl_slist **out, const char *if_range)
{
    char line[HTTP_HEADER_VALUE_MAX + 32];
    struct curl_slist *n;

    for (struct curl_slist *h = f->gj->job.opts->headers; h; h = h->next) {
        if (!(n = curl_slist_append(*out, h->data)))
            return -ENOMEM;
        *out = n;
    }
    if (if_range) {
        snprintf(line, sizeof(line), "If-Range: %s", if_range);
        if (!(n = curl_slist_append(*out, line)))
            return -ENOMEM;
        *out = n;
    }
    return 0;
}

static int split_strong(const char *etag)
{
    return etag[0] && strncmp(etag, "W/", 2) != 0;
}

/* The total of "bytes 0-0/TOTAL"; -1 if the answer is anything else. */
static int64_t split_total(const char *content_range)
{
    uint64_t a, b, total;
    int used = 0;

    if (sscanf(content_range, "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64 "%n", &a, &b, &total,
               &used) != 3 || a != 0 || b != 0 || total == 0 || total > INT64_MAX)
        return -1;
    return (int64_t)total;
}

/* Bytes of seg a sink has taken (written, being written or buffered). */
static uint64_t split_seg_taken(const store_seg_t *seg)
{
    return seg->done + (seg->busy ? seg->busy_len : 0) + seg->fill_len;
}

/* ---- a worker ------------------------------------------------------------------------------ */

static int worker_sink_write(net_sink_t *sink, const char *data, size_t len)
{
    struct split_worker *w = container_of(sink, struct split_worker, sink);

    if (w->req.status != 206) {
        w->full = 1;                /* If-Range did not match, or Range was ignored */
        return SPLIT_WORKER_ERR;
    }
    return w->seg->sink.write(&w->seg->sink, data, len);
}

/* The first segment nobody works on that is not complete; NULL if none. */
static store_seg_t *worker_claim(struct get_split *s, unsigned *index)
{
    for (unsigned i = 0; i < store_segfile_count(s->file); i++) {
        store_seg_t *seg = store_segfile_seg(s->file, i);

        if (!s->claimed[i] && split_seg_taken(seg) < seg->end - seg->start) {
            s->claimed[i] = 1;
            *index = i;
            return seg;
        }
    }
    return NULL;
}

static void worker_cancel_others(struct split_worker *self)
{
    struct split_run *run = self->run;

    for (unsigned i = 0; i < run->nworkers; i++)
        if (&run->workers[i] != self && run->workers[i].live)
            task_cancel(&run->workers[i].task);
}

static int worker_begin(struct split_worker *w)
{
    struct get_split *s = w->run->s;
    struct get_fetch *f = s->f;
    uint64_t from = w->seg->start + split_seg_taken(w->seg);
    const char *etag = store_segfile_etag(s->file);

    http_req_cleanup(&w->req);
    memset(&w->req, 0, sizeof(w->req));
    curl_slist_free_all(w->headers);
    w->headers = NULL;
    w->full = 0;
    snprintf(w->range, sizeof(w->range), "%" PRIu64 "-%" PRIu64, from, w->seg->end - 1);
    w->req.url = f->url;
    w->req.range = w->range;
    w->req.range_start = (curl_off_t)from;
    w->req.max_bytes = f->gj->job.opts->http.max_filesize;
    w->req.sink = &w->sink;
    w->sink.write = worker_sink_write;
    if (split_headers(f, &w->headers, split_strong(etag) ? etag
                                      : store_segfile_last_modified(s->file)) < 0)
        return -ENOMEM;
    w->req.headers = w->headers;
    store_seg_on_drain(w->seg, http_req_resume_cb, &w->req);
    return 0;
}

static void worker_step(task_t *t)
{
    struct split_worker *w = container_of(t, struct split_worker, task);
    struct get_split *s = w->run->s;
    job_t *job = &s->f->gj->job;
    unsigned index = 0;

    CORO_BEGIN(t);
    if (!w->own) {
        /* an extra connection: only with a -c and a --per-host permit free right now */
        if (!permit_try_acquire(&w->slot, &job->permits))
            goto end;
        if (s->f->host && !permit_try_acquire(&w->host_slot, crawl_host_sem(s->f->host)))
            goto end;
        job_transfer_begin(job);
        w->counted = 1;
    }
    for (;;) {
        if (s->stop || job->stopping || task_cancelled(t))
            break;
        if (!(w->seg = worker_claim(s, &index)))
            break;
        if (worker_begin(w) < 0) {
            s->disk_error = -ENOMEM;
            s->stop = 1;
            break;
        }
        AWAIT(t, http_req_start(job->http, &w->req));
        store_seg_on_drain(w->seg, NULL, NULL);
        AWAIT(t, store_seg_flush(w->seg));
        if (task_error(t) < 0) {
            s->disk_error = task_error(t) == -ECANCELED ? -EIO : task_error(t);
            s->stop = 1;
            worker_cancel_others(w);
            break;
        }
        if (w->full) {
            s->changed = 1;
            s->stop = 1;
            worker_cancel_others(w);
            break;
        }
        if (!http_req_ok(&w->req) || split_seg_taken(w->seg) != w->seg->end - w->seg->start) {
            if (w->req.code == CURLE_ABORTED_BY_CALLBACK || task_cancelled(t))
                s->interrupted = 1;
            else if (!s->failed.status && !s->failed.code)
                split_keep(&s->failed, &w->req);
            s->stop = 1;
            break;
        }
        for (unsigned i = 0; i < store_segfile_count(s->file); i++)
            if (store_segfile_seg(s->file, i) == w->seg)
                s->claimed[i] = 0;
        split_keep(&s->report, &w->req);
    }
    /* a segment left half done (failed or cancelled) can be claimed by the next attempt */
    if (w->seg)
        for (unsigned i = 0; i < store_segfile_count(s->file); i++)
            if (store_segfile_seg(s->file, i) == w->seg)
                s->claimed[i] = 0;
end:
    if (w->counted)
        job_transfer_end(job);
    w->counted = 0;
    w->live = 0;
    CORO_END(t);
}

static void worker_ended(future_t *done, void *arg)
{
    struct split_worker *w = arg;
    struct split_run *run = w->run;

    (void)done;
    http_req_cleanup(&w->req);
    curl_slist_free_all(w->headers);
    w->headers = NULL;
    if (--run->running == 0)
        future_resolve(run->all_ended, run);
}

/* Cancelling the wait for the workers cancels them instead: the run must outlive them. */
static int run_cancel_workers(future_t *f, void *arg)
{
    struct split_run *run = arg;

    (void)f;
    for (unsigned i = 0; i < run->nworkers; i++)
        if (run->workers[i].live)
            task_cancel(&run->workers[i].task);
    return 1;
}

/* ---- the probe ----------------------------------------------------------------------------- */

static int probe_sink_write(net_sink_t *sink, const char *data, size_t len)
{
    struct get_split *s = container_of(sink, struct get_split, probe_sink);

    if (s->probe.status != 206 || len != 1 || s->probe_got)
        return SPLIT_WORKER_ERR;    /* not the one byte asked for: this server is one stream */
    s->probe_byte = data[0];
    s->probe_got = 1;
    return NET_SINK_OK;
}

static int probe_begin(struct get_split *s)
{
    struct get_fetch *f = s->f;

    http_req_cleanup(&s->probe);
    memset(&s->probe, 0, sizeof(s->probe));
    curl_slist_free_all(s->probe_headers);
    s->probe_headers = NULL;
    s->probe_got = 0;
    s->probe.url = f->url;
    s->probe.range = "0-0";
    s->probe.range_start = 0;
    s->probe.sink = &s->probe_sink;
    s->probe_sink.write = probe_sink_write;
    if (split_headers(f, &s->probe_headers, NULL) < 0)
        return -ENOMEM;
    s->probe.headers = s->probe_headers;
    return 0;
}

/* Segments for a probe's answer; 0: not a file to split. */
static unsigned probe_segments(struct get_split *s)
{
    crawl_options_t *o = s->f->gj->job.opts;
    int64_t total = split_total(s->probe.content_range);
    int64_t n;

    if (!http_req_ok(&s->probe) || s->probe.status != 206 || !s->probe_got || total < 0)
        return 0;
    if (!split_strong(s->probe.etag) && !s->probe.last_modified[0])
        return 0;
    if (o->http.max_filesize > 0 && total > o->http.max_filesize)
        return 0;                   /* the one stream reports the cap as it always does */
    n = total / (o->min_split_size > 0 ? o->min_split_size : 1);
    if (n > o->split)
        n = o->split;
    if (n > STORE_SEG_MAX)
        n = STORE_SEG_MAX;
    return n >= 2 ? (unsigned)n : 0;
}

/* ---- the attempt's task -------------------------------------------------------------------- */

static void run_step(task_t *t)
{
    struct split_run *run = container_of(t, struct split_run, task);
    struct get_split *s = run->s;
    struct get_fetch *f = s->f;
    job_t *job = &f->gj->job;
    unsigned n;

    CORO_BEGIN(t);
    if (!s->loaded) {
        AWAIT(t, store_segfile_load(s->file, &s->part_size));
        if (task_error(t) < 0) {
            s->disk_error = task_error(t) == -ECANCELED ? 0 : task_error(t);
            s->interrupted = task_error(t) == -ECANCELED;
            goto end;
        }
        s->loaded = 1;
        if (store_segfile_resumable(s->file)) {
            s->planned = 1;
            snprintf(f->etag, sizeof(f->etag), "%s", store_segfile_etag(s->file));
            snprintf(f->last_modified, sizeof(f->last_modified), "%s",
                     store_segfile_last_modified(s->file));
        } else if (store_segfile_stale(s->file)) {
            AWAIT(t, store_segfile_discard(s->file));   /* holes nobody can account for */
            s->part_size = -ENOENT;
        } else if (s->part_size > 0) {
            s->fallback = 1;        /* an ordinary run's .part: the one stream resumes it */
            goto end;
        }
    }
    if (!s->planned) {
        if (probe_begin(s) < 0) {
            s->disk_error = -ENOMEM;
            goto end;
        }
        AWAIT(t, http_req_start(job->http, &s->probe));
        if (task_error(t) < 0 || task_cancelled(t) || s->probe.code == CURLE_ABORTED_BY_CALLBACK) {
            s->interrupted = 1;
            goto end;
        }
        if ((n = probe_segments(s)) == 0) {
            s->part_size = -ENOENT;
            s->fallback = 1;
            goto end;
        }
        snprintf(f->etag, sizeof(f->etag), "%s", s->probe.etag);
        snprintf(f->last_modified, sizeof(f->last_modified), "%s", s->probe.last_modified);
        AWAIT(t, store_segfile_plan(s->file, (uint64_t)split_total(s->probe.content_range), n,
                                    split_strong(s->probe.etag) ? s->probe.etag : "",
                                    s->probe.last_modified));
        if (task_error(t) == -ENAMETOOLONG) {
            /* no room for ".split" after the name: such a file is fetched as one stream */
            AWAIT(t, store_segfile_discard(s->file));
            s->part_size = -ENOENT;
            s->fallback = 1;
            goto end;
        }
        if (task_error(t) < 0) {
            s->disk_error = task_error(t);
            goto end;
        }
        s->planned = 1;
        /* the probe's byte is segment 0's first: the server sends each byte once */
        store_segfile_seg(s->file, 0)->sink.write(&store_segfile_seg(s->file, 0)->sink,
                                                  &s->probe_byte, 1);
        split_keep(&s->report, &s->probe);
        fetch_record(f, STORE_URL_PENDING, NULL, 0, NULL);
    }

    /* the workers: as many as there are segments left, up to --split */
    run->nworkers = 0;
    for (unsigned i = 0; i < store_segfile_count(s->file); i++) {
        store_seg_t *seg = store_segfile_seg(s->file, i);

        if (split_seg_taken(seg) < seg->end - seg->start && run->nworkers < (unsigned)job->opts->split)
            run->nworkers++;
    }
    if (!(run->all_ended = future_new(&job->sched))) {
        s->disk_error = -ENOMEM;
        goto end;
    }
    future_set_cancel(run->all_ended, run_cancel_workers, run);
    for (unsigned i = 0; i < run->nworkers; i++) {
        struct split_worker *w = &run->workers[i];

        w->run = run;
        w->own = i == 0;
        if (job_spawn(job, &w->task, worker_step) < 0)
            break;
        permit_init(&w->slot, &w->task);
        permit_init(&w->host_slot, &w->task);
        w->live = 1;
        run->running++;
        future_on_done(task_done(&w->task), worker_ended, w);  /* the inline slot: cannot fail */
    }
    run->nworkers = run->running;
    if (run->running == 0) {
        s->interrupted = 1;
        goto end;
    }
    AWAIT(t, future_ref(run->all_ended));

    s->complete = !s->changed && !s->disk_error && !s->stop && !s->interrupted && !task_cancelled(t);
    for (unsigned i = 0; i < store_segfile_count(s->file); i++) {
        store_seg_t *seg = store_segfile_seg(s->file, i);

        if (seg->done != seg->end - seg->start)
            s->complete = 0;
    }
    /* What the segments hold now, for the next attempt or the next run. A complete file goes
     * straight to its commit (a save would fdatasync all of it first), once a save that is
     * still running has ended (it must not write the sidecar again after the rename). */
    if (!s->complete || store_segfile_saving(s->file)) {
        AWAIT(t, store_segfile_save(s->file));
        if (task_error(t) < 0 && !s->disk_error)
            s->disk_error = task_error(t);
    }
    if (s->changed) {
        /* the body changed under us: nothing fetched so far may be mixed with the new one */
        AWAIT(t, store_segfile_discard(s->file));
        s->planned = 0;
        s->part_size = -ENOENT;
        s->fallback = 1;
        goto end;
    }
    if (!s->complete || s->disk_error) {
        if (!s->disk_error && !s->stop)
            s->interrupted = 1;     /* a worker stopped before its segment's end */
        goto end;
    }
    AWAIT(t, store_segfile_commit(s->file, s->sha256));
    if (task_error(t) < 0)
        s->disk_error = task_error(t);
    else
        s->ok = 1;
end:
    if (task_cancelled(t))
        s->interrupted = 1;
    CORO_END(t);
}

static void run_free(future_t *done, void *arg)
{
    struct split_run *run = arg;

    (void)done;
    future_unref(run->all_ended);
    free(run);
}

/* ---- the attempt --------------------------------------------------------------------------- */

static int split_begin(struct get_fetch *f)
{
    job_t *job = &f->gj->job;
    struct get_split *s = f->split;

    if (!s) {
        if (!(s = calloc(1, sizeof(*s))))
            return -ENOMEM;
        f->split = s;
        s->f = f;
        s->part_size = -ENOENT;
        if (!(s->file = store_segfile_new(&job->sched, job->dirfd, f->path, job->opts->do_fsync)))
            return -ENOMEM;
    }
    s->ok = s->interrupted = s->changed = s->stop = s->disk_error = 0;
    http_req_cleanup(&s->failed);
    memset(&s->failed, 0, sizeof(s->failed));
    memset(s->claimed, 0, sizeof(s->claimed));
    s->t0 = uv_hrtime();
    return 0;
}

static future_t *split_transfer(struct get_fetch *f)
{
    job_t *job = &f->gj->job;
    struct split_run *run = calloc(1, sizeof(*run));
    int result;

    if (!run)
        return NULL;
    run->s = f->split;
    if ((result = job_spawn(job, &run->task, run_step)) < 0) {
        free(run);
        return future_new_failed(&job->sched, result);
    }
    future_on_done(task_done(&run->task), run_free, run);   /* the inline slot: cannot fail */
    return future_ref(task_done(&run->task));
}

static enum fetch_outcome split_classify(struct get_fetch *f, int error)
{
    job_t *job = &f->gj->job;
    struct get_split *s = f->split;

    s->report.timing.total_us = (curl_off_t)((uv_hrtime() - s->t0) / 1000);
    s->report.bytes = (curl_off_t)store_segfile_written(s->file);
    if (s->ok) {
        f->bytes = (int64_t)store_segfile_size(s->file);
        f->sha256 = s->sha256;
        return FETCH_OK;
    }
    if (s->fallback && !job->stopping && error != -ECANCELED) {
        /* the one-stream attempt, now, without counting a try */
        f->attempt = &fetch_attempt_async;
        f->part_size = s->part_size;
        f->again = 1;
        return FETCH_RETRY;
    }
    if (error == -ECANCELED || s->interrupted || job->stopping)
        return FETCH_INTERRUPTED;
    if (s->disk_error) {
        snprintf(f->reason, sizeof(f->reason), "cannot write %.150s/%.250s: %s",
                 job->opts->outdir, f->path, strerror(-s->disk_error));
        job_note_disk_error(job, s->disk_error);
        return FETCH_FAILED;
    }
    if (error < 0) {
        snprintf(f->reason, sizeof(f->reason), "could not start the transfer: %s", strerror(-error));
        return FETCH_FAILED;
    }
    if (s->failed.code || s->failed.status) {
        if (!get_outcome(f->gj, &s->failed, 0, f->path, f->reason, sizeof(f->reason)))
            snprintf(f->reason, sizeof(f->reason), "a segment ended before its last byte");
        return fetch_retry_or_fail(f, &s->failed);
    }
    return FETCH_INTERRUPTED;
}

static const http_req_t *split_request(const struct get_fetch *f)
{
    const struct get_split *s = f->split;

    if (!s)
        return &f->req;
    return s->failed.code || s->failed.status ? &s->failed : &s->report;
}

const fetch_attempt_t fetch_attempt_split = {
    .begin = split_begin,
    .transfer = split_transfer,
    .classify = split_classify,
    .request = split_request,
};

int get_split_wanted(const struct get_fetch *f)
{
    const crawl_options_t *o = f->gj->job.opts;

    return o->split > 1 && o->mode == CRAWL_MODE_ASYNC && !o->discard && !o->timestamping &&
           !o->content_disposition && !o->warc_file;
}

void get_split_free(struct get_split *s)
{
    if (!s)
        return;
    store_segfile_free(s->file);
    http_req_cleanup(&s->failed);
    http_req_cleanup(&s->report);
    http_req_cleanup(&s->probe);
    curl_slist_free_all(s->probe_headers);
    free(s);
}
