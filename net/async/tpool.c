/* tpool: threads of our own for blocking jobs; a locked FIFO in, a done list and one uv_async_t out. */
#include "net/async/tpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct tpool_job {
    list_t link;          /* in queue while queued, in done once finished or cancelled (locked) */
    tpool_t *pool;
    future_t *fut;        /* the pool's reference, dropped once the future is settled */
    executor_fn fn;
    void *arg;
    int rc;
    int queued;           /* still in queue: cancellable (locked) */
    int cancelled;        /* taken out of queue by the cancel hook or tpool_close (locked) */
};

struct tpool {
    sched_t *sched;
    uv_async_t async;     /* wakes the loop to settle the done list */
    pthread_mutex_t lock;
    pthread_cond_t cond;  /* workers wait here for a job or for stopping */
    /* Locked: */
    list_t queue;         /* jobs waiting for a thread, oldest first */
    list_t done;          /* jobs whose futures the loop has to settle */
    long nqueued;
    long idle;            /* started (or starting) threads not running a job */
    long running, max_running;  /* jobs running now, and the most at once */
    int stopping;
    /* Loop thread only: */
    pthread_t *threads;   /* nthreads started, room for cap */
    long nthreads, cap, max;
    long pending;         /* futures not settled yet: the async handle is referenced while > 0 */
    int start_error;
};

/* The mutex and condvar calls fail only on misuse (a corrupt or destroyed object): stop there, as
 * libuv's uv_mutex_lock does, instead of running on with the queue unprotected. */
static void tpool_lock(tpool_t *p)
{
    if (pthread_mutex_lock(&p->lock) != 0)
        abort();
}

static void tpool_unlock(tpool_t *p)
{
    if (pthread_mutex_unlock(&p->lock) != 0)
        abort();
}

/* Puts a finished or cancelled job on the done list, waking the loop for the first one (a send
 * while the list is non-empty is covered by the wakeup still to come). Called with the lock held;
 * uv_async_send is safe from any thread and fails only for a handle of another type. */
static void tpool_done_locked(tpool_t *p, struct tpool_job *job)
{
    int wake = list_empty(&p->done);

    list_insert_tail(&p->done, &job->link);
    if (wake)
        (void)uv_async_send(&p->async);
}

static void *tpool_worker(void *arg)
{
    tpool_t *p = arg;

    tpool_lock(p);
    for (;;) {
        struct tpool_job *job;
        list_t *n;

        while (list_empty(&p->queue) && !p->stopping) {
            if (pthread_cond_wait(&p->cond, &p->lock) != 0)
                abort();
        }
        if (!(n = list_pop_head(&p->queue)))
            break;                              /* stopping, and tpool_close emptied the queue */
        job = container_of(n, struct tpool_job, link);
        job->queued = 0;
        p->nqueued--;
        p->idle--;
        if (++p->running > p->max_running)
            p->max_running = p->running;
        tpool_unlock(p);
        job->rc = job->fn(job->arg);
        tpool_lock(p);
        p->running--;
        p->idle++;                              /* before the loop can see the job: lazy start */
        tpool_done_locked(p, job);              /* the job is the loop's from here on */
    }
    tpool_unlock(p);
    return NULL;
}

/* Settles and frees the jobs of list (taken off the shared lists already). Loop thread. */
static void tpool_settle(tpool_t *p, list_t *jobs)
{
    list_t *n;

    while ((n = list_pop_head(jobs))) {
        struct tpool_job *job = container_of(n, struct tpool_job, link);

        if (job->cancelled) {
            /* Without the hook, which refuses a job out of the queue; a no-op when the hook
             * accepted already (the future is cancelled then). */
            future_set_cancel(job->fut, NULL, NULL);
            future_cancel(job->fut);
        }
        else if (job->rc < 0)
            future_fail(job->fut, job->rc);
        else
            future_resolve(job->fut, job->arg);
        future_unref(job->fut);
        free(job);
        if (--p->pending == 0)
            uv_unref((uv_handle_t *)&p->async);
    }
}

static void tpool_on_async(uv_async_t *a)
{
    tpool_t *p = container_of(a, tpool_t, async);
    list_t jobs;

    list_init(&jobs);
    tpool_lock(p);
    if (!list_empty(&p->done)) {                /* splice done into jobs */
        jobs.next = p->done.next;
        jobs.prev = p->done.prev;
        jobs.next->prev = jobs.prev->next = &jobs;
        list_init(&p->done);
    }
    tpool_unlock(p);
    tpool_settle(p, &jobs);
}

/* Accepts only while the job is queued; it is then reported as cancelled like a finished one. */
static int tpool_on_cancel(future_t *f, void *arg)
{
    struct tpool_job *job = arg;
    tpool_t *p = job->pool;
    int result = -EBUSY;

    (void)f;
    tpool_lock(p);
    if (job->queued) {
        list_remove(&job->link);
        job->queued = 0;
        job->cancelled = 1;
        p->nqueued--;
        tpool_done_locked(p, job);
        result = 0;
    }
    tpool_unlock(p);
    return result;
}

tpool_t *tpool_new(sched_t *s, long max_threads)
{
    tpool_t *p;
    int result;

    if (max_threads < 1) {
        errno = EINVAL;
        return NULL;
    }
    if (!(p = calloc(1, sizeof(*p)))) {
        errno = ENOMEM;
        return NULL;
    }
    p->sched = s;
    p->max = max_threads;
    list_init(&p->queue);
    list_init(&p->done);
    if ((result = pthread_mutex_init(&p->lock, NULL)) != 0)
        goto error;
    if ((result = pthread_cond_init(&p->cond, NULL)) != 0)
        goto error_lock;
    if ((result = uv_async_init(s->loop, &p->async, tpool_on_async)) < 0) {
        result = -result;
        goto error_cond;
    }
    uv_unref((uv_handle_t *)&p->async);         /* referenced only while jobs are pending */
    return p;

error_cond:
    pthread_cond_destroy(&p->cond);
error_lock:
    pthread_mutex_destroy(&p->lock);
error:
    free(p);
    errno = result;
    return NULL;
}

future_t *tpool_run(tpool_t *p, executor_fn fn, void *arg)
{
    struct tpool_job *job = calloc(1, sizeof(*job));
    future_t *f = future_new(p->sched);
    int start, err;

    if (!job || !f)
        goto error;
    if (p->nthreads == p->cap && p->cap < p->max && !p->start_error) {
        long cap = p->cap ? p->cap * 2 : 8;
        pthread_t *threads;

        if (cap > p->max)
            cap = p->max;
        if (!(threads = realloc(p->threads, (size_t)cap * sizeof(*threads))))
            goto error;
        p->threads = threads;
        p->cap = cap;
    }
    job->pool = p;
    job->fn = fn;
    job->arg = arg;
    job->fut = future_ref(f);
    if (p->start_error && p->nthreads == 0) {   /* nobody would ever run it */
        future_fail(f, -p->start_error);
        future_unref(job->fut);
        free(job);
        return f;
    }
    if (p->pending++ == 0)
        uv_ref((uv_handle_t *)&p->async);
    tpool_lock(p);
    list_insert_tail(&p->queue, &job->link);
    job->queued = 1;
    p->nqueued++;
    /* idle counts threads being started too, so each queued job has its own idle thread or
     * starts one. */
    start = p->nqueued > p->idle && p->nthreads < p->max && !p->start_error;
    if (start)
        p->idle++;
    else if (pthread_cond_signal(&p->cond) != 0)
        abort();
    tpool_unlock(p);
    future_set_cancel(f, tpool_on_cancel, job);
    if (!start)
        return f;
    /* Outside the lock: creating a thread maps its stack, and workers need the lock meanwhile. */
    if ((err = pthread_create(&p->threads[p->nthreads], NULL, tpool_worker, p)) == 0) {
        p->nthreads++;
        return f;
    }
    p->start_error = err;
    tpool_lock(p);
    p->idle--;
    if (p->nthreads == 0) {                     /* no thread took it: report it as failed */
        list_remove(&job->link);
        job->queued = 0;
        job->rc = -err;
        p->nqueued--;
        tpool_done_locked(p, job);
    }                                           /* else it waits for a started thread */
    tpool_unlock(p);
    return f;

error:
    free(job);
    future_unref(f);
    return NULL;
}

long tpool_threads(const tpool_t *p)
{
    return p->nthreads;
}

long tpool_max_running(tpool_t *p)
{
    long n;

    tpool_lock(p);
    n = p->max_running;
    tpool_unlock(p);
    return n;
}

int tpool_start_error(const tpool_t *p)
{
    return p->start_error;
}

static void tpool_on_close(uv_handle_t *h)
{
    tpool_t *p = container_of((uv_async_t *)h, tpool_t, async);

    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}

void tpool_close(tpool_t *p)
{
    list_t jobs, *n;

    list_init(&jobs);
    tpool_lock(p);
    p->stopping = 1;
    while ((n = list_pop_head(&p->queue))) {
        struct tpool_job *job = container_of(n, struct tpool_job, link);

        job->queued = 0;
        job->cancelled = 1;
        list_insert_tail(&jobs, n);
    }
    p->nqueued = 0;
    if (pthread_cond_broadcast(&p->cond) != 0)
        abort();
    tpool_unlock(p);
    for (long i = 0; i < p->nthreads; i++)
        if (pthread_join(p->threads[i], NULL) != 0)
            abort();                            /* only for a thread not ours: a corrupt pool */
    /* No thread is left: the done list and the async handle are the loop's alone now. */
    while ((n = list_pop_head(&p->done)))
        list_insert_tail(&jobs, n);
    tpool_settle(p, &jobs);
    uv_close((uv_handle_t *)&p->async, tpool_on_close);
}
