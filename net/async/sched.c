/* sched: a FIFO of calls drained from a uv_idle_t, in passes of one snapshot each. */
#include "net/async/sched.h"

#include <assert.h>
#include <stddef.h>

static void sched_on_idle(uv_idle_t *idle)
{
    sched_t *s = idle->data;
    unsigned budget = SCHED_TURN_BUDGET;

    /* Pass after pass of snapshots: calls posted while a pass runs wait for the next pass, so a
     * future settled by a callback never runs its own callbacks recursively inside that callback.
     * The passes go on in this loop turn, so a chain (a transfer ends, its permit wakes the
     * spawner, which starts the next transfer) completes before the loop polls again; the budget
     * gives the loop back to I/O when the queue keeps refilling. */
    while (s->head && budget > 0) {
        sched_node_t *node = s->head;

        s->head = s->tail = NULL;
        s->turns++;
        while (node) {
            sched_node_t *next = node->next;
            node->next = NULL;
            node->queued = 0;
            node->fn(node);
            node = next;
            budget--;
        }
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

void sched_cancel(sched_t *s, sched_node_t *node)
{
    sched_node_t **link = &s->head, *prev = NULL;

    if (!node->queued)
        return;
    while (*link && *link != node) {
        prev = *link;
        link = &(*link)->next;
    }
    /* A node of the pass being run is off the queue already: it stays as it is, and runs. */
    if (!*link)
        return;
    *link = node->next;
    if (s->tail == node)
        s->tail = prev;
    node->next = NULL;
    node->queued = 0;
}
