/* sched: runs queued calls on a later turn of the libuv loop (the "call_soon" of the runtime). */
#ifndef NET_SCHED_H
#define NET_SCHED_H

#include <uv.h>

/* A node is embedded in whatever wants to be called back (a future, a task); never allocated here. */
typedef struct sched_node {
    struct sched_node *next;
    void (*fn)(struct sched_node *node);
    int queued;
} sched_node_t;

/* Calls run per loop turn before the loop polls for I/O again. */
#define SCHED_TURN_BUDGET 4096u

typedef struct sched {
    uv_loop_t *loop;
    uv_idle_t idle;           /* active only while calls are queued: keeps uv_run from blocking */
    sched_node_t *head, *tail;
    unsigned long turns;      /* passes so far; lets tests check "not in the same pass" */
} sched_t;

/* Initialises s on loop. Returns 0 or a negative libuv error (s is then unusable). */
int sched_init(sched_t *s, uv_loop_t *loop);

/* Closes the idle handle; the loop must run once more to finish the close. Queued calls are dropped. */
void sched_close(sched_t *s);

/* Queues node->fn(node) for the next pass: calls posted from a pass run in a later pass of the
 * same loop turn, up to SCHED_TURN_BUDGET calls per turn; the rest wait for the next turn, after
 * the loop has polled for I/O. A node already queued is not queued twice. Never calls fn
 * synchronously. */
void sched_post(sched_t *s, sched_node_t *node);

/* Takes a node off the queue if it is waiting there, so whoever embeds it may be freed; a node of
 * the pass now running cannot be taken off: call this from outside a pass, or for a node posted
 * from the current pass. O(queued). */
void sched_cancel(sched_t *s, sched_node_t *node);

#endif
