/* future: settle once, run done-callbacks on a later loop turn, cancel through the producer. */
#include "net/async/future.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void future_run_callbacks(sched_node_t *node);

future_t *future_new(sched_t *s)
{
    future_t *f = calloc(1, sizeof(*f));

    if (!f)
        return NULL;
    f->sched = s;
    f->node.fn = future_run_callbacks;
    list_init(&f->qlink);
    f->refs = 1;
    f->cbs = f->inline_cbs;
    f->capcbs = FUTURE_INLINE_CBS;
    return f;
}

future_t *future_ref(future_t *f)
{
    f->refs++;
    return f;
}

void future_unref(future_t *f)
{
    if (!f)
        return;
    assert(f->refs > 0);
    if (--f->refs > 0)
        return;
    if (f->cbs != f->inline_cbs)
        free(f->cbs);
    free(f);
}

/* Posting holds a reference so a future whose owners all let go still runs its callbacks. */
static void future_post(future_t *f)
{
    if (f->ncbs == 0 || f->node.queued)
        return;
    future_ref(f);
    sched_post(f->sched, &f->node);
}

static void future_run_callbacks(sched_node_t *node)
{
    future_t *f = (future_t *)((char *)node - offsetof(future_t, node));
    size_t n = f->ncbs;

    /* Run the callbacks registered before this turn; ones added meanwhile were posted again and
     * run on the next turn (a callback never runs in the turn it was registered). The array may
     * be reallocated by a callback, so copy each entry before calling it. */
    for (size_t i = 0; i < n; i++) {
        struct future_callback cb = f->cbs[i];
        if (cb.fn)
            cb.fn(f, cb.arg);
    }
    memmove(f->cbs, f->cbs + n, (f->ncbs - n) * sizeof(*f->cbs));
    f->ncbs -= n;
    future_unref(f);
}

static int future_settle(future_t *f, future_state_t state, void *result, int error)
{
    if (f->state != FUTURE_PENDING)
        return -EALREADY;
    f->state = state;
    f->result = result;
    f->error = error;
    f->on_cancel = NULL;
    future_post(f);
    return 0;
}

int future_resolve(future_t *f, void *result)
{
    return future_settle(f, FUTURE_DONE, result, 0);
}

int future_fail(future_t *f, int error)
{
    assert(error < 0);
    return future_settle(f, FUTURE_FAILED, NULL, error);
}

int future_cancel(future_t *f)
{
    if (f->state != FUTURE_PENDING)
        return -EALREADY;
    if (f->on_cancel && f->on_cancel(f, f->cancel_arg) != 0)
        return -EBUSY;
    /* The hook may itself have settled f (e.g. failed it with a more precise error). */
    if (f->state != FUTURE_PENDING)
        return 0;
    return future_settle(f, FUTURE_CANCELLED, NULL, -ECANCELED);
}

void future_set_cancel(future_t *f, future_cancel_fn fn, void *arg)
{
    f->on_cancel = fn;
    f->cancel_arg = arg;
}

int future_on_done(future_t *f, future_cb fn, void *arg)
{
    if (f->ncbs == f->capcbs) {
        size_t cap = f->capcbs * 2;
        struct future_callback *cbs = malloc(cap * sizeof(*cbs));
        if (!cbs)
            return -ENOMEM;
        memcpy(cbs, f->cbs, f->ncbs * sizeof(*cbs));
        if (f->cbs != f->inline_cbs)
            free(f->cbs);
        f->cbs = cbs;
        f->capcbs = cap;
    }
    f->cbs[f->ncbs].fn = fn;
    f->cbs[f->ncbs].arg = arg;
    f->ncbs++;
    if (f->state != FUTURE_PENDING)
        future_post(f);
    return 0;
}

void future_off(future_t *f, future_cb fn, void *arg)
{
    for (size_t i = 0; i < f->ncbs; i++) {
        if (f->cbs[i].fn == fn && f->cbs[i].arg == arg) {
            /* Blank rather than remove: a drain in progress walks this array by index. */
            f->cbs[i].fn = NULL;
            return;
        }
    }
}

future_t *future_new_resolved(sched_t *s, void *result)
{
    future_t *f = future_new(s);

    if (f)
        future_resolve(f, result);
    return f;
}

future_t *future_new_failed(sched_t *s, int error)
{
    future_t *f = future_new(s);

    if (f)
        future_fail(f, error);
    return f;
}

/* ---- gather / any ------------------------------------------------------------------------- */

struct future_group {
    future_t *out;
    future_t **inputs;      /* referenced until each settles */
    size_t n, left;
    int is_any;
};

static void future_group_free(struct future_group *g)
{
    future_unref(g->out);
    free(g->inputs);
    free(g);
}

static void future_group_on_input(future_t *in, void *arg)
{
    struct future_group *g = arg;
    size_t idx = 0;

    while (idx < g->n && g->inputs[idx] != in)
        idx++;
    assert(idx < g->n);
    if (g->is_any) {
        future_resolve(g->out, (void *)(uintptr_t)idx);
    } else if (g->left == 1) {
        int error = 0;
        for (size_t i = 0; i < g->n && !error; i++)
            error = g->inputs[i] ? future_error(g->inputs[i]) : 0;
        if (error)
            future_fail(g->out, error);
        else
            future_resolve(g->out, NULL);
    }
    if (!g->is_any) {
        /* keep inputs referenced so the error scan above sees every one */
        if (--g->left == 0) {
            for (size_t i = 0; i < g->n; i++)
                future_unref(g->inputs[i]);
            future_group_free(g);
        }
        return;
    }
    /* any: detach from every input that has not reported yet, then free */
    for (size_t i = 0; i < g->n; i++) {
        if (g->inputs[i] != in)
            future_off(g->inputs[i], future_group_on_input, g);
        future_unref(g->inputs[i]);
    }
    future_group_free(g);
}

static int future_group_cancel(future_t *out, void *arg)
{
    struct future_group *g = arg;

    (void)out;
    for (size_t i = 0; i < g->n; i++)
        future_cancel(g->inputs[i]);
    return 0;
}

static future_t *future_group_new(sched_t *s, future_t **futs, size_t n, int is_any)
{
    struct future_group *g = NULL;
    future_t *out = future_new(s);
    size_t i;

    if (!out)
        return NULL;
    if (n == 0) {
        if (is_any)
            future_fail(out, -EINVAL);
        else
            future_resolve(out, NULL);
        return out;
    }
    g = calloc(1, sizeof(*g));
    if (!g)
        goto error;
    g->inputs = calloc(n, sizeof(*g->inputs));
    if (!g->inputs)
        goto error;
    g->n = g->left = n;
    g->is_any = is_any;
    g->out = future_ref(out);
    for (i = 0; i < n; i++) {
        if (future_on_done(futs[i], future_group_on_input, g) < 0) {
            while (i-- > 0) {
                future_off(futs[i], future_group_on_input, g);
                future_unref(g->inputs[i]);
            }
            future_unref(g->out);
            goto error;
        }
        g->inputs[i] = future_ref(futs[i]);
    }
    future_set_cancel(out, future_group_cancel, g);
    return out;

error:
    if (g)
        free(g->inputs);
    free(g);
    future_unref(out);
    return NULL;
}

future_t *future_all(sched_t *s, future_t **futs, size_t n)
{
    return future_group_new(s, futs, n, 0);
}

future_t *future_any(sched_t *s, future_t **futs, size_t n)
{
    return future_group_new(s, futs, n, 1);
}

/* ---- wait_for ----------------------------------------------------------------------------- */

struct future_deadline {
    uv_timer_t timer;
    future_t *in, *out;
};

static void future_deadline_on_close(uv_handle_t *h)
{
    struct future_deadline *d = h->data;

    future_unref(d->in);
    future_unref(d->out);
    free(d);
}

static void future_deadline_finish(struct future_deadline *d)
{
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, future_deadline_on_close);
}

static void future_deadline_on_input(future_t *in, void *arg)
{
    struct future_deadline *d = arg;

    future_set_cancel(d->out, NULL, NULL);
    switch (future_state(in)) {
    case FUTURE_DONE:
        future_resolve(d->out, future_result(in));
        break;
    case FUTURE_CANCELLED:
        future_cancel(d->out);
        break;
    default:
        future_fail(d->out, future_error(in));
        break;
    }
    future_deadline_finish(d);
}

static void future_deadline_on_timer(uv_timer_t *t)
{
    struct future_deadline *d = t->data;

    future_off(d->in, future_deadline_on_input, d);
    future_fail(d->out, -ETIMEDOUT);
    future_cancel(d->in);
    future_deadline_finish(d);
}

static int future_deadline_cancel(future_t *out, void *arg)
{
    struct future_deadline *d = arg;

    (void)out;
    future_off(d->in, future_deadline_on_input, d);
    future_cancel(d->in);
    future_deadline_finish(d);
    return 0;
}

future_t *future_timeout(sched_t *s, future_t *f, uint64_t ms)
{
    struct future_deadline *d = calloc(1, sizeof(*d));
    future_t *out = future_new(s);

    if (!d || !out)
        goto error;
    if (uv_timer_init(s->loop, &d->timer) < 0)
        goto error;
    d->timer.data = d;
    d->in = future_ref(f);
    d->out = future_ref(out);
    if (future_on_done(f, future_deadline_on_input, d) < 0 ||
        uv_timer_start(&d->timer, future_deadline_on_timer, ms, 0) < 0) {
        future_off(f, future_deadline_on_input, d);
        uv_close((uv_handle_t *)&d->timer, future_deadline_on_close);
        future_unref(out);
        return NULL;
    }
    future_set_cancel(out, future_deadline_cancel, d);
    return out;

error:
    free(d);
    future_unref(out);
    return NULL;
}
