/* shared: the worker side of a job shared through Redis (DISTRIBUTED.md). */
#include "crawler/job/shared.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "net/async/sleep.h"

#define SHARED_FILL_MAX 256
#define GATE_BUSY_FIRST_MS 10
#define GATE_BUSY_MAX_MS 200
#define GATE_WAIT_MAX_MS 5000

struct shared {
    job_t *job;
    redis_client_t *client;
    rjob_t rj;
    list_t ready;               /* claimed, not taken yet */
    list_t held;                /* taken by a task */
    size_t nready;
    rjob_claim_t claim;         /* the claim in flight's answer */
    future_t *fill;             /* the claim in flight (the caller's future), or NULL */
    uv_timer_t beat;
    int beating;                /* a heartbeat is in flight */
    int producing;
    int broken;
    int finishing;              /* shared_finish was called: no entry is kept any more */
    int reported;               /* an error was printed */
    long outstanding;           /* calls whose answer is awaited */
    future_t *drained;          /* shared_finish's future, resolved when outstanding is 0 */
    unsigned long claimed, reclaimed, acked, repeats, lost, given_back;
};

int shared_check(const crawl_options_t *o, const char *kind, const char *seeds_json, long depth,
                 char **stored_seeds, long *stored_depth)
{
    return rjob_open_check(o->redis_url, o->job_name, kind, o->lease_ms, seeds_json, depth,
                           stored_seeds, stored_depth);
}

rjob_t *shared_rjob(shared_t *sh) { return &sh->rj; }
int shared_broken(const shared_t *sh) { return sh->broken; }

/* ---- calls whose answers are awaited only to be checked --------------------------------------- */

static void shared_settled(shared_t *sh)
{
    if (--sh->outstanding == 0 && sh->drained)
        future_resolve(sh->drained, NULL);
}

/* A failed call: Redis out of memory or gone for good stops this worker taking work. */
static void shared_note_error(shared_t *sh, int error)
{
    if (error == -ECANCELED || error == -ETIMEDOUT)
        return;
    if (error == -ENOMEM || error == -ENOTCONN || error == -EACCES)
        sh->broken = sh->job->broken = 1;       /* and the exit status says so */
    if (sh->reported)
        return;
    sh->reported = 1;
    job_before_print(sh->job);
    if (error == -ENOMEM && redis_client_oom(sh->client))
        fprintf(stderr, "gather: Redis is out of memory (its maxmemory): %s; this worker takes no more "
                        "work\n", redis_client_error(sh->client));
    else if (error == -ENOTCONN)
        fprintf(stderr, "gather: Redis cannot be reached; this worker takes no more work\n");
    else if (error == -EPROTO)
        fprintf(stderr, "gather: Redis: %s\n", redis_client_error(sh->client));
    else if (error != -EACCES)
        fprintf(stderr, "gather: Redis: %s\n", strerror(-error));
}

static void on_checked(future_t *f, void *arg)
{
    shared_t *sh = arg;

    if (future_error(f) < 0)
        shared_note_error(sh, future_error(f));
    future_unref(f);
    shared_settled(sh);
}

/* Counts f among the calls shared_finish waits for; f may be NULL (out of memory). */
static void shared_track(shared_t *sh, future_t *f, future_cb cb)
{
    if (!f) {
        shared_note_error(sh, -ENOMEM);
        return;
    }
    sh->outstanding++;
    if (future_on_done(f, cb ? cb : on_checked, sh) < 0) {
        future_unref(f);
        shared_settled(sh);
    }
}

/* ---- heartbeat ------------------------------------------------------------------------------- */

static void on_beaten(future_t *f, void *arg)
{
    shared_t *sh = arg;

    sh->beating = 0;
    if (future_error(f) == 0)
        sh->lost += (unsigned long)(uintptr_t)future_result(f);
    on_checked(f, arg);
}

static size_t shared_held_fill(list_t *list, rjob_held_t *out, size_t at)
{
    list_t *pos;

    list_for_each(pos, list) {
        shared_item_t *it = container_of(pos, shared_item_t, link);
        out[at++] = (rjob_held_t){ it->e->level, it->e->id, it->e->origin, it->holder };
    }
    return at;
}

static size_t list_count(const list_t *l)
{
    size_t n = 0;
    const list_t *p;

    for (p = l->next; p != l; p = p->next)
        n++;
    return n;
}

static void shared_beat(shared_t *sh)
{
    size_t n = list_count(&sh->ready) + list_count(&sh->held);
    rjob_held_t *held = malloc((n + 1) * sizeof(*held));

    if (sh->beating || !held) {
        free(held);
        return;
    }
    n = shared_held_fill(&sh->held, held, shared_held_fill(&sh->ready, held, 0));
    sh->beating = 1;
    shared_track(sh, rjob_beat(&sh->rj, sh->producing, held, n), on_beaten);
    free(held);
}

static void on_beat_timer(uv_timer_t *t)
{
    shared_beat(t->data);
}

/* ---- start ----------------------------------------------------------------------------------- */

static void on_beat_closed(uv_handle_t *h)
{
    free(h->data);
}

shared_t *shared_start(job_t *job, int producing)
{
    const crawl_options_t *o = job->opts;
    shared_t *sh = calloc(1, sizeof(*sh));
    redis_addr_t a;
    char err[512];
    long every = o->lease_ms / 4 > 250 ? o->lease_ms / 4 : 250;
    const char *giveup = getenv("GATHER_REDIS_GIVEUP_MS");

    memset(&a, 0, sizeof(a));
    if (!sh || uv_timer_init(job->sched.loop, &sh->beat) != 0) {
        fprintf(stderr, "gather: out of memory\n");
        free(sh);
        return NULL;
    }
    sh->beat.data = sh;
    list_init(&sh->ready);
    list_init(&sh->held);
    sh->job = job;
    sh->producing = producing;
    if (redis_addr_parse(o->redis_url, &a, err, sizeof(err)) < 0) {
        fprintf(stderr, "gather: %s\n", err);
        goto fail;
    }
    if (!(sh->client = redis_client_new(&job->sched, &a, giveup ? atol(giveup) : 0)) ||
        rjob_init(&sh->rj, sh->client, o->job_name, o->lease_ms) < 0) {
        fprintf(stderr, "gather: out of memory\n");
        goto fail;
    }
    redis_client_start(sh->client);
    /* The first heartbeat goes before any claim: a producer is known before anyone can
     * conclude the job is over. */
    shared_beat(sh);
    if (uv_timer_start(&sh->beat, on_beat_timer, (uint64_t)every, (uint64_t)every) != 0) {
        fprintf(stderr, "gather: cannot start the heartbeat timer\n");
        goto fail;
    }
    redis_addr_clear(&a);
    return sh;

fail:
    redis_addr_clear(&a);
    redis_client_close(sh->client);     /* fails the heartbeat sent, if any */
    uv_close((uv_handle_t *)&sh->beat, on_beat_closed);
    return NULL;
}

/* ---- adding ---------------------------------------------------------------------------------- */

future_t *shared_offer(shared_t *sh, int level, int requeue_failed, const rjob_offer_t *items, size_t n)
{
    future_t *f = rjob_offer(&sh->rj, level, requeue_failed, items, n);

    if (f)
        shared_track(sh, future_ref(f), NULL);
    return f;
}

void shared_producing_done(shared_t *sh)
{
    if (!sh->producing)
        return;
    sh->producing = 0;
    shared_track(sh, rjob_producer_done(&sh->rj), NULL);
}

/* ---- claiming -------------------------------------------------------------------------------- */

static shared_item_t *item_new(shared_t *sh, rjob_entry_t *e)
{
    shared_item_t *it = calloc(1, sizeof(*it));

    if (!it)
        return NULL;
    it->e = e;
    snprintf(it->holder, sizeof(it->holder), "%s/%s", sh->rj.worker, e->id);
    return it;
}

static void item_free(shared_item_t *it)
{
    if (!it)
        return;
    list_remove(&it->link);
    rjob_entry_free(it->e);
    free(it);
}

static void on_claimed(future_t *f, void *arg)
{
    shared_t *sh = arg;
    future_t *out = sh->fill;
    int error = future_error(f);

    sh->fill = NULL;
    if (error == 0) {
        for (size_t i = 0; i < sh->claim.n; i++) {
            shared_item_t *it = item_new(sh, sh->claim.entries[i]);
            if (!it) {
                rjob_entry_free(sh->claim.entries[i]);   /* it idles out to another worker */
                continue;
            }
            sh->claimed++;
            sh->reclaimed += (unsigned long)it->e->reclaimed;
            list_insert_tail(&sh->ready, &it->link);
            sh->nready++;
            if (sh->finishing) {        /* claimed while the job was ending: straight back */
                sh->nready--;
                shared_giveback(sh, it);
            }
        }
        free(sh->claim.entries);
        sh->claim.entries = NULL;
        sh->claim.n = 0;
        future_resolve(out, (void *)(intptr_t)sh->claim.status);
    } else {
        rjob_claim_clear(&sh->claim);
        shared_note_error(sh, error);
        future_fail(out, error);
    }
    future_unref(out);
    future_unref(f);
    shared_settled(sh);
}

shared_item_t *shared_take(shared_t *sh)
{
    shared_item_t *it;

    if (list_empty(&sh->ready))
        return NULL;
    it = container_of(sh->ready.next, shared_item_t, link);
    list_remove(&it->link);
    list_insert_tail(&sh->held, &it->link);
    sh->nready--;
    return it;
}

size_t shared_ready(const shared_t *sh) { return sh->nready; }

future_t *shared_pause(job_t *job, long ms)
{
    future_t *all, *f;

    if (task_group_size(&job->tasks) == 0)
        return net_sleep(&job->sched, (uint64_t)ms);
    if (!(all = job_tasks_done(job)))
        return NULL;
    f = future_timeout(&job->sched, all, (uint64_t)ms);
    future_unref(all);
    return f;
}

void shared_prefetch(shared_t *sh, size_t ahead)
{
    if (ahead == 0 || sh->fill || sh->broken || sh->nready * 2 >= ahead)
        return;
    future_unref(shared_fill(sh, 0, ahead));   /* its outcome lands in the ready list */
}

future_t *shared_fill(shared_t *sh, size_t max, size_t ahead)
{
    future_t *f, *out;

    if (sh->broken)
        return future_new_failed(&sh->job->sched, -ENOTCONN);
    if (sh->fill)
        return future_ref(sh->fill);
    if (!(out = future_new(&sh->job->sched)))
        return NULL;
    if (!(f = rjob_claim(&sh->rj, max > SHARED_FILL_MAX ? SHARED_FILL_MAX : max,
                         ahead > SHARED_FILL_MAX ? SHARED_FILL_MAX : ahead, &sh->claim))) {
        future_unref(out);
        return NULL;
    }
    sh->fill = out;
    sh->outstanding++;
    if (future_on_done(f, on_claimed, sh) < 0) {
        sh->fill = NULL;
        sh->outstanding--;
        future_unref(f);
        future_unref(out);
        return NULL;
    }
    return future_ref(out);
}

/* ---- the host gate --------------------------------------------------------------------------- */

struct gate {
    task_t task;
    shared_t *sh;
    shared_item_t *it;
    long limit, delay_ms, backoff;
};

static void gate_step(task_t *t)
{
    struct gate *g = container_of(t, struct gate, task);
    long answer;

    CORO_BEGIN(t);
    g->backoff = GATE_BUSY_FIRST_MS;
    for (;;) {
        AWAIT(t, rjob_gate(&g->sh->rj, g->it->e->origin, g->it->holder, g->limit, g->delay_ms));
        if (task_error(t) < 0) {
            shared_note_error(g->sh, task_error(t));
            t->error = task_error(t);
            break;
        }
        if ((answer = (long)(intptr_t)task_result(t)) == 0)
            break;
        if (answer == RJOB_GATE_BUSY) {
            answer = g->backoff;
            g->backoff = g->backoff * 2 > GATE_BUSY_MAX_MS ? GATE_BUSY_MAX_MS : g->backoff * 2;
        }
        AWAIT(t, net_sleep(&g->sh->job->sched, (uint64_t)(answer > GATE_WAIT_MAX_MS ? GATE_WAIT_MAX_MS : answer)));
        if (task_error(t) < 0) {
            t->error = task_error(t);
            break;
        }
    }
    CORO_END(t);
}

static void gate_free(future_t *done, void *arg)
{
    (void)done;
    free(arg);
}

future_t *shared_gate(shared_t *sh, shared_item_t *it, long limit, long delay_ms)
{
    struct gate *g;
    future_t *f;

    if (limit <= 0 && delay_ms <= 0)
        return future_new_resolved(&sh->job->sched, NULL);
    if (!(g = calloc(1, sizeof(*g))))
        return NULL;
    g->sh = sh;
    g->it = it;
    g->limit = limit;
    g->delay_ms = delay_ms;
    if (task_start(&g->task, &sh->job->sched, gate_step) < 0) {
        free(g);
        return NULL;
    }
    f = future_ref(task_done(&g->task));
    future_on_done(task_done(&g->task), gate_free, g);     /* the inline slot: cannot fail */
    return f;
}

void shared_ungate(shared_t *sh, shared_item_t *it)
{
    shared_track(sh, rjob_ungate(&sh->rj, it->e->origin, it->holder), NULL);
}

/* ---- outcomes -------------------------------------------------------------------------------- */

static void on_acked(future_t *f, void *arg)
{
    shared_t *sh = arg;

    if (future_error(f) == 0) {
        if ((uintptr_t)future_result(f) == 1)
            sh->acked++;
        else
            sh->repeats++;
    }
    on_checked(f, arg);
}

void shared_done(shared_t *sh, shared_item_t *it, char outcome, const char *error, int64_t bytes,
                 json_t *result)
{
    struct timeval tv;
    rjob_result_t r = { .outcome = outcome, .bytes = bytes, .error = error ? error : "",
                        .holder = it->holder };
    char *text = NULL;

    gettimeofday(&tv, NULL);
    if (result) {
        json_object_set_new(result, "worker", json_string(sh->rj.worker));
        json_object_set_new(result, "at", json_integer((json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000));
        text = json_dumps(result, JSON_COMPACT);
    }
    r.json = text ? text : "{}";
    shared_track(sh, rjob_ack(&sh->rj, it->e, &r), on_acked);
    free(text);
    json_decref(result);
    item_free(it);
}

void shared_giveback(shared_t *sh, shared_item_t *it)
{
    sh->given_back++;
    shared_track(sh, rjob_release(&sh->rj, it->e, it->holder), NULL);
    item_free(it);
}

void shared_robots_put(shared_t *sh, const char *origin, int status, const char *body, size_t len)
{
    shared_track(sh, rjob_robots_put(&sh->rj, origin, status, body, len), NULL);
}

/* ---- the end --------------------------------------------------------------------------------- */

static void on_drained(future_t *f, void *arg)
{
    shared_t *sh = arg;
    crawl_report_t *rep = &sh->job->rep;

    (void)f;
    json_decref(rep->shared);
    rep->shared = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "job", sh->job->opts->job_name,
                            "worker", sh->rj.worker, "claimed", (json_int_t)sh->claimed,
                            "reclaimed", (json_int_t)sh->reclaimed, "acked", (json_int_t)sh->acked,
                            "repeats", (json_int_t)sh->repeats, "given_back", (json_int_t)sh->given_back,
                            "lost", (json_int_t)sh->lost,
                            "connections", (json_int_t)redis_client_connects(sh->client));
    redis_client_close(sh->client);
    sh->client = NULL;
    future_unref(sh->drained);
    sh->drained = NULL;
    uv_close((uv_handle_t *)&sh->beat, on_beat_closed);
}

/* An interrupted job waits this long for Redis to take its acknowledgements and give-backs;
 * then, if Redis is still away, what is left is dropped (it idles out to other workers). */
#define SHARED_FINISH_WAIT_MS 5000

static void on_finish_timer(uv_timer_t *t)
{
    shared_t *sh = t->data;

    if (sh->client && sh->outstanding > 0 && !redis_client_fail_waiting(sh->client, -ETIMEDOUT))
        uv_timer_start(&sh->beat, on_finish_timer, 1000, 0);   /* connected: answers are coming */
}

future_t *shared_finish(shared_t *sh)
{
    future_t *f;

    uv_timer_stop(&sh->beat);
    sh->finishing = 1;
    while (!list_empty(&sh->ready)) {
        sh->nready--;
        shared_giveback(sh, container_of(sh->ready.next, shared_item_t, link));
    }
    while (!list_empty(&sh->held))       /* none: every task gave its item back or acknowledged */
        shared_giveback(sh, container_of(sh->held.next, shared_item_t, link));
    shared_producing_done(sh);
    if (!(sh->drained = future_new(&sh->job->sched)))
        return NULL;
    f = future_ref(sh->drained);
    future_on_done(sh->drained, on_drained, sh);
    if (sh->outstanding == 0)
        future_resolve(sh->drained, NULL);
    else if (sh->job->stopping)
        (void)uv_timer_start(&sh->beat, on_finish_timer, SHARED_FINISH_WAIT_MS, 0);
    return f;
}
