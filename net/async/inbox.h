/* inbox: a thread-safe mailbox that wakes one libuv loop (a mutex, an intrusive FIFO, a uv_async_t).
 *
 * Any thread may post; the owner's loop thread runs the handler. Each node is embedded in the
 * poster's struct and carries a bit mask of what it has to say: posting a node that is already
 * queued only ORs the bits in (it is not queued twice), so a node is a mailbox slot, not a message,
 * and nothing is allocated per post. One wakeup hands the handler every node queued when it began,
 * in the order they were first posted (uv_async_send coalesces, so wakeups batch).
 *
 * Threads: inbox_post from any thread; everything else on the loop thread of inbox_init's loop
 * (inbox_init may also run before that loop's thread starts). */
#ifndef NET_ASYNC_INBOX_H
#define NET_ASYNC_INBOX_H

#include <pthread.h>

#include <uv.h>

#include "net/async/list.h"

typedef struct inbox_node {
    list_t link;              /* in the inbox while queued (list_init it before the first post) */
    unsigned bits;            /* what was posted since the handler last saw the node */
} inbox_node_t;

typedef struct inbox inbox_t;
/* Called on the loop thread, once per delivered node, with the bits posted to it (never 0). The
 * node is out of the inbox by then: it may be posted again, or freed if no thread will post it. */
typedef void (*inbox_fn)(inbox_t *ib, inbox_node_t *node, unsigned bits);

struct inbox {
    uv_async_t async;
    pthread_mutex_t lock;
    list_t queue;             /* inbox_node_t.link, oldest first */
    inbox_fn fn;
    uv_close_cb on_close;
    void *data;               /* the owner's */
    unsigned long wakeups;    /* handler rounds so far (tests check that posts batch) */
    int closing;
};

static inline void inbox_node_init(inbox_node_t *n)
{
    list_init(&n->link);
    n->bits = 0;
}

/* Initialises ib on loop. 0 or a negative errno (ib is then unusable and needs no close). */
int inbox_init(inbox_t *ib, uv_loop_t *loop, inbox_fn fn);

/* ORs bits (non-zero) into node and queues it if it is not queued; wakes the loop. Any thread.
 * node must stay valid until the handler has seen it, inbox_remove took it out, or the inbox is
 * closed. */
void inbox_post(inbox_t *ib, inbox_node_t *node, unsigned bits);

/* Takes node out of the inbox if it is queued, dropping its bits; returns them. Loop thread:
 * after this (and once no thread posts it again) the node's memory may be freed. */
unsigned inbox_remove(inbox_t *ib, inbox_node_t *node);

/* Closes the inbox: nodes still queued are dropped without a call; later posts are dropped.
 * cb (may be NULL) runs once the handle is closed: the memory holding ib may be freed there, and
 * no thread may post after that. */
void inbox_close(inbox_t *ib, uv_close_cb cb);

#endif
