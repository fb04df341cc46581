/* sched: a FIFO of calls drained from a uv_idle_t, one snapshot per loop turn. */
#include "net/async/sched.h"

#include <assert.h>
#include <stddef.h>

static void sched_on_idle(uv_idle_t *idle)
{
    sched_t *s = idle->data;
    sched_node_t *node = s->head;

    /* Take a snapshot: calls posted while draining run on the next turn, so a future settled by a
     * callback never runs its own callbacks recursively inside that callback. */
    s->head = s->tail = NULL;
    s->turns++;
    while (node) {
        sched_node_t *next = node->next;
        node->next = NULL;
        node->queued = 0;
        node->fn(node);
        node = next;
    }
    if (!s->head)
        uv_idle_stop(&s->idle);
}

int sched_init(sched_t *s, uv_loop_t *loop)
{
    int result;

    s->loop = loop;
    s->head = s->tail = NULL;
    s->turns = 0;
    result = uv_idle_init(loop, &s->idle);
    if (result < 0)
        return result;
    s->idle.data = s;
    return 0;
}

void sched_close(sched_t *s)
{
    s->head = s->tail = NULL;
    uv_close((uv_handle_t *)&s->idle, NULL);
}

void sched_post(sched_t *s, sched_node_t *node)
{
    if (node->queued)
        return;
    node->queued = 1;
    node->next = NULL;
    if (s->tail)
        s->tail->next = node;
    else
        s->head = node;
    s->tail = node;
    if (!uv_is_active((uv_handle_t *)&s->idle)) {
        int result = uv_idle_start(&s->idle, sched_on_idle);
        /* uv_idle_start fails only for a closing handle or a NULL callback: a programming error. */
        assert(result == 0);
        (void)result;
    }
}
