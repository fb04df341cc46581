/* executor: uv_queue_work with the result delivered back to the loop as a future. */
#include "net/async/executor.h"

#include <errno.h>
#include <stdlib.h>

struct executor_job {
    uv_work_t req;
    future_t *fut;
    executor_fn fn;
    void *arg;
    int rc;
};

static void executor_work(uv_work_t *req)
{
    struct executor_job *job = req->data;

    job->rc = job->fn(job->arg);
}

static void executor_after(uv_work_t *req, int status)
{
    struct executor_job *job = req->data;

    if (status == UV_ECANCELED)
        future_cancel(job->fut);       /* already cancelled by the hook: a no-op */
    else if (job->rc < 0)
        future_fail(job->fut, job->rc);
    else
        future_resolve(job->fut, job->arg);
    future_unref(job->fut);
    free(job);
}

static int executor_on_cancel(future_t *f, void *arg)
{
    struct executor_job *job = arg;

    (void)f;
    /* Succeeds only while the job is still queued; then executor_after sees UV_ECANCELED. */
    return uv_cancel((uv_req_t *)&job->req) == 0 ? 0 : -EBUSY;
}

future_t *executor_run(sched_t *s, executor_fn fn, void *arg)
{
    struct executor_job *job = calloc(1, sizeof(*job));
    future_t *f = future_new(s);

    if (!job || !f)
        goto error;
    job->req.data = job;
    job->fn = fn;
    job->arg = arg;
    job->fut = future_ref(f);
    if (uv_queue_work(s->loop, &job->req, executor_work, executor_after) < 0) {
        future_unref(job->fut);
        goto error;
    }
    future_set_cancel(f, executor_on_cancel, job);
    return f;

error:
    free(job);
    future_unref(f);
    return NULL;
}
