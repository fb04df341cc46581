/* get_fetch, threads attempt: one blocking transfer (curl_easy_perform + blocking writes) on a
 * thread of the job's own pool (a thread per transfer up to -c), the seed's
 * run_in_executor(ThreadPoolExecutor(max_workers=c), requests.get, url). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/get/fetch.h"
#include "net/async/tpool.h"

/* On the pool thread, before the body's first byte reaches the disk: the server's name.
 * blocking->relpath is f->path, which the loop thread does not read while the transfer runs. */
static void threads_on_body(http_blocking_t *b)
{
    struct get_fetch *f = b->on_body_arg;

    get_disposition_name(f->gj, f->url, &b->req, f->path, sizeof(f->path));
}

static int threads_begin(struct get_fetch *f)
{
    job_t *job = &f->gj->job;
    crawl_options_t *o = job->opts;

    if (!f->blocking && !(f->blocking = calloc(1, sizeof(*f->blocking))))
        return -ENOMEM;
    http_req_cleanup(&f->blocking->req);
    memset(f->blocking, 0, sizeof(*f->blocking));
    f->blocking->url = f->url;
    f->blocking->dirfd = job->dirfd;
    f->blocking->relpath = f->path;
    f->blocking->do_fsync = o->do_fsync;
    f->blocking->discard = o->discard;
    f->blocking->max_bytes = o->http.max_filesize;
    f->blocking->interrupted = &job->abort_transfers;
    if (o->content_disposition) {
        f->blocking->on_body = threads_on_body;
        f->blocking->on_body_arg = f;
    }
    return 0;
}

static int threads_job(void *arg)
{
    struct get_fetch *f = arg;

    return http_blocking_fetch(f->gj->job.easies, f->blocking);
}

static future_t *threads_transfer(struct get_fetch *f)
{
    return tpool_run(f->gj->job.tpool, threads_job, f);
}

static enum fetch_outcome threads_classify(struct get_fetch *f, int error)
{
    job_t *job = &f->gj->job;
    const http_req_t *req = &f->blocking->req;

    if (error == -ECANCELED || (job->abort_transfers && !http_req_ok(req)))
        return FETCH_INTERRUPTED;
    if (error < 0) {
        snprintf(f->reason, sizeof(f->reason), "could not run: %s", strerror(-error));
        return FETCH_FAILED;
    }
    if (!get_outcome(f->gj, req, f->blocking->disk_error, f->path, f->reason, sizeof(f->reason))) {
        f->bytes = req->bytes;
        return FETCH_OK;
    }
    job_note_disk_error(job, f->blocking->disk_error);
    return fetch_retry_or_fail(f, req);
}

static const http_req_t *threads_request(const struct get_fetch *f)
{
    return f->blocking ? &f->blocking->req : NULL;
}

const fetch_attempt_t fetch_attempt_threads = {
    .begin = threads_begin,
    .transfer = threads_transfer,
    .classify = threads_classify,
    .request = threads_request,
};
