/* sleep: one heap uv_timer_t per sleep, freed in its close callback. */
#include "net/async/sleep.h"

#include <stdlib.h>

struct net_sleeper {
    uv_timer_t timer;
    future_t *fut;
};

static void sleep_on_close(uv_handle_t *h)
{
    struct net_sleeper *z = h->data;

    future_unref(z->fut);
    free(z);
}

static void sleep_on_timer(uv_timer_t *t)
{
    struct net_sleeper *z = t->data;

    future_resolve(z->fut, NULL);
    uv_close((uv_handle_t *)&z->timer, sleep_on_close);
}

static int sleep_on_cancel(future_t *f, void *arg)
{
    struct net_sleeper *z = arg;

    (void)f;
    uv_timer_stop(&z->timer);
    uv_close((uv_handle_t *)&z->timer, sleep_on_close);
    return 0;
}

future_t *net_sleep(sched_t *s, uint64_t ms)
{
    struct net_sleeper *z = calloc(1, sizeof(*z));
    future_t *f = future_new(s);

    if (!z || !f || uv_timer_init(s->loop, &z->timer) < 0)
        goto error;
    z->timer.data = z;
    z->fut = future_ref(f);
    if (uv_timer_start(&z->timer, sleep_on_timer, ms, 0) < 0) {
        uv_close((uv_handle_t *)&z->timer, sleep_on_close);
        future_unref(f);
        return NULL;
    }
    future_set_cancel(f, sleep_on_cancel, z);
    return f;

error:
    free(z);
    future_unref(f);
    return NULL;
}
