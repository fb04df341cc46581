/* inbox: cross-thread posts to one loop, batched behind one uv_async_t. */
#include "net/async/inbox.h"

#include <errno.h>
#include <stddef.h>

static void inbox_on_async(uv_async_t *a)
{
    inbox_t *ib = container_of(a, inbox_t, async);
    size_t n = 0;
    list_t *pos;

    /* The nodes queued now, and no more: a handler that posts its own node again waits for the
     * next wakeup instead of spinning here. */
    pthread_mutex_lock(&ib->lock);
    list_for_each(pos, &ib->queue)
        n++;
    pthread_mutex_unlock(&ib->lock);
    ib->wakeups++;
    /* One node at a time under the lock, the call without it: a handler may post (here or to
     * another inbox) or remove, and a poster waits only for a pointer swap. */
    while (n-- > 0 && !ib->closing) {
        inbox_node_t *node;
        unsigned bits;

        pthread_mutex_lock(&ib->lock);
        pos = list_pop_head(&ib->queue);
        node = pos ? container_of(pos, inbox_node_t, link) : NULL;
        bits = node ? node->bits : 0;
        if (node)
            node->bits = 0;
        pthread_mutex_unlock(&ib->lock);
        if (!node)
            break;                   /* removed meanwhile */
        if (bits)
            ib->fn(ib, node, bits);
    }
}

int inbox_init(inbox_t *ib, uv_loop_t *loop, inbox_fn fn)
{
    int result;

    list_init(&ib->queue);
    ib->fn = fn;
    ib->on_close = NULL;
    ib->data = NULL;
    ib->wakeups = 0;
    ib->closing = 0;
    if ((result = pthread_mutex_init(&ib->lock, NULL)) != 0)
        return -result;
    if ((result = uv_async_init(loop, &ib->async, inbox_on_async)) < 0) {
        pthread_mutex_destroy(&ib->lock);
        return result;
    }
    return 0;
}

void inbox_post(inbox_t *ib, inbox_node_t *node, unsigned bits)
{
    int wake = 0;

    pthread_mutex_lock(&ib->lock);
    if (!ib->closing) {
        node->bits |= bits;
        if (!list_linked(&node->link)) {
            wake = 1;                /* uv_async_send coalesces: cheap when one is pending */
            list_insert_tail(&ib->queue, &node->link);
        }
    }
    pthread_mutex_unlock(&ib->lock);
    /* uv_async_send is the one libuv call that is safe from any thread; it fails only for a
     * handle that is not an async handle. */
    if (wake)
        (void)uv_async_send(&ib->async);
}

unsigned inbox_remove(inbox_t *ib, inbox_node_t *node)
{
    unsigned bits;

    pthread_mutex_lock(&ib->lock);
    if (list_linked(&node->link))
        list_remove(&node->link);
    bits = node->bits;
    node->bits = 0;
    pthread_mutex_unlock(&ib->lock);
    return bits;
}

static void inbox_on_close(uv_handle_t *h)
{
    inbox_t *ib = container_of((uv_async_t *)h, inbox_t, async);
    uv_close_cb cb = ib->on_close;

    pthread_mutex_destroy(&ib->lock);
    if (cb)
        cb(h);
}

void inbox_close(inbox_t *ib, uv_close_cb cb)
{
    pthread_mutex_lock(&ib->lock);
    ib->closing = 1;
    while (list_pop_head(&ib->queue))
        ;
    pthread_mutex_unlock(&ib->lock);
    ib->on_close = cb;
    uv_close((uv_handle_t *)&ib->async, inbox_on_close);
}
