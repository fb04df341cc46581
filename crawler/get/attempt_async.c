/* get_fetch, async attempt: the transfer on the shared curl multi, its body streamed to the
 * chunked writer (NAME.part on the pool), resumed with Range + If-Range when a .part is known. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/get/fetch.h"

/* Bodies larger than this get a pending row (with validators) as soon as they start. */
#define FETCH_RESUMABLE_MIN (1024 * 1024)

/* --content-disposition: the writer takes the server's name before its first byte. */
static void async_disposition(struct get_fetch *f)
{
    char path[STORE_PATH_SIZE];

    memcpy(path, f->path, sizeof(path));
    if (get_disposition_name(f->gj, f->url, &f->req, path, sizeof(path)) > 0 &&
        store_writer_rename(f->writer, path) == 0)
        memcpy(f->path, path, sizeof(path));
}

/* The first body byte of this attempt: a resume the server refused restarts from zero; the
 * validators go to the database so an interrupted download can be resumed later. */
static int async_sink_write(http_sink_t *sink, const char *data, size_t len)
{
    struct get_fetch *f = container_of(sink, struct get_fetch, sink);
    http_sink_t *w = store_writer_sink(f->writer);

    if (!f->started) {
        f->started = 1;
        if (f->resume_from > 0 && f->req.status != 206) {
            f->resume_from = 0;              /* 200 to a Range: the whole body, from zero */
            store_writer_resume(f->writer, 0);
        }
        /* The server's name, while no NAME.part of this URL exists (one does: keep its name). */
        if (f->resume_from == 0 && f->part_size <= 0)
            async_disposition(f);
        snprintf(f->etag, sizeof(f->etag), "%s", f->req.etag);
        snprintf(f->last_modified, sizeof(f->last_modified), "%s", f->req.last_modified);
        /* The validators matter to a later run only if this body could be cut off worth
         * resuming: small bodies skip the row (half the database writes of many small files). */
        if (f->req.content_length < 0 || f->req.content_length > FETCH_RESUMABLE_MIN)
            fetch_record(f, STORE_URL_PENDING, NULL, 0, NULL);
    }
    return w->write(w, data, len);
}

static int async_add_header(struct get_fetch *f, const char *name, const char *value)
{
    char line[HTTP_HEADER_VALUE_MAX + 32];
    struct curl_slist *h;

    snprintf(line, sizeof(line), "%s: %.*s", name, HTTP_HEADER_VALUE_MAX, value);
    if (!(h = curl_slist_append(f->headers, line)))
        return -ENOMEM;
    f->headers = h;
    return 0;
}

/* A resume of NAME.part (Range + If-Range: only if it is still the same body), or a conditional
 * request for a file we have (-N), or a plain GET. */
static int async_conditions(struct get_fetch *f)
{
    crawl_options_t *o = f->gj->job.opts;

    if (f->part_size > 0 && fetch_validator_ok(f)) {
        f->resume_from = (uint64_t)f->part_size;
        store_writer_resume(f->writer, f->resume_from);
        snprintf(f->range, sizeof(f->range), "%lld-", (long long)f->part_size);
        f->req.range = f->range;
        f->req.range_start = f->part_size;
        return async_add_header(f, "If-Range", f->etag[0] && strncmp(f->etag, "W/", 2) != 0
                                               ? f->etag : f->last_modified);
    }
    if (f->final_size >= 0 && o->timestamping && f->have_row) {
        if (f->row.etag && async_add_header(f, "If-None-Match", f->row.etag) < 0)
            return -ENOMEM;
        if (f->row.last_modified && async_add_header(f, "If-Modified-Since", f->row.last_modified) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int async_begin(struct get_fetch *f)
{
    job_t *job = &f->gj->job;
    crawl_options_t *o = job->opts;

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
    f->sink.write = async_sink_write;
    f->req.sink = &f->sink;
    store_writer_on_drain(f->writer, http_req_resume_cb, &f->req);
    for (struct curl_slist *h = o->headers; h; h = h->next) {
        struct curl_slist *n = curl_slist_append(f->headers, h->data);
        if (!n)
            return -ENOMEM;
        f->headers = n;
    }
    if (async_conditions(f) < 0)
        return -ENOMEM;
    f->req.headers = f->headers;
    return 0;
}

static future_t *async_transfer(struct get_fetch *f)
{
    return http_req_start(f->gj->job.http, &f->req);
}

static enum fetch_outcome async_classify(struct get_fetch *f, int error)
{
    job_t *job = &f->gj->job;
    int werr = f->writer ? store_writer_error(f->writer) : 0;

    if (error == -ECANCELED)
        return FETCH_INTERRUPTED;
    if (error < 0) {
        snprintf(f->reason, sizeof(f->reason), "could not start the transfer: %s", strerror(-error));
        return FETCH_FAILED;
    }
    if (f->req.code == CURLE_OK && f->req.status == 304 && f->final_size >= 0) {
        f->skipped = "not modified";
        return FETCH_SKIPPED;
    }
    if (!get_outcome(f->gj, &f->req, werr, f->path, f->reason, sizeof(f->reason))) {
        f->bytes = f->req.body_bytes;
        return FETCH_OK;
    }
    job_note_disk_error(job, werr);
    return fetch_retry_or_fail(f, &f->req);
}

static const http_req_t *async_request(const struct get_fetch *f)
{
    return &f->req;
}

const fetch_attempt_t fetch_attempt_async = {
    .begin = async_begin,
    .transfer = async_transfer,
    .classify = async_classify,
    .request = async_request,
};

/* ---- the writer's end ---------------------------------------------------------------------- */

future_t *fetch_writer_finish(struct get_fetch *f)
{
    int werr;

    if (f->outcome == FETCH_OK)
        return store_writer_commit(f->writer);
    /* Keep what arrived for a resume if the server named the body (ETag or Last-Modified); a
     * disk error or a refused range starts over. */
    werr = store_writer_error(f->writer);
    f->keep_part = fetch_validator_ok(f) && !werr && f->req.sink_error != HTTP_EBADRANGE &&
                   store_writer_offset(f->writer) + (uint64_t)f->req.body_bytes > 0 &&
                   f->outcome != FETCH_SKIPPED;
    return store_writer_abort(f->writer, f->keep_part);
}

enum fetch_outcome fetch_writer_finished(struct get_fetch *f, int error)
{
    job_t *job = &f->gj->job;

    if (f->outcome == FETCH_OK) {
        if (error < 0) {
            snprintf(f->reason, sizeof(f->reason), "cannot write %.150s/%.250s: %s",
                     job->opts->outdir, f->path, strerror(-error));
            job_note_disk_error(job, error);
            return FETCH_FAILED;
        }
        f->bytes = (int64_t)(store_writer_offset(f->writer) + store_writer_written(f->writer));
        f->sha256 = store_writer_sha256(f->writer);
        return FETCH_OK;                 /* the writer lives on for its hash: freed at the end */
    }
    f->part_size = f->keep_part ? (int64_t)(store_writer_offset(f->writer) +
                                            store_writer_written(f->writer)) : -ENOENT;
    store_writer_free(f->writer);
    f->writer = NULL;
    return f->outcome;
}
