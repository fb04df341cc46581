/* crawl_frontier: two FIFO lists (this level, the next) over a compact hashed seen set. */
#include "crawler/crawl/frontier.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int crawl_frontier_init(crawl_frontier_t *f)
{
    memset(f, 0, sizeof(*f));
    f->seen = store_seen_new(1024);
    return f->seen ? 0 : -ENOMEM;
}

static void items_free(crawl_item_t *it)
{
    while (it) {
        crawl_item_t *next = it->next;
        free(it);
        it = next;
    }
}

void crawl_frontier_free(crawl_frontier_t *f)
{
    items_free(f->cur_head);
    items_free(f->next_head);
    store_seen_free(f->seen);
    memset(f, 0, sizeof(*f));
}

int crawl_frontier_mark(crawl_frontier_t *f, const char *url)
{
    return store_seen_add(f->seen, url, strlen(url));
}

int crawl_frontier_push(crawl_frontier_t *f, const char *url, int depth, crawl_kind_t kind, int hops)
{
    size_t len = strlen(url);
    crawl_item_t *it;
    int result;

    assert(depth == f->depth || depth == f->depth + 1);
    result = store_seen_add(f->seen, url, len);
    if (result <= 0)
        return result;
    it = malloc(sizeof(*it) + len + 1);
    if (!it)
        return -ENOMEM;
    memcpy(it->url, url, len + 1);
    it->next = NULL;
    it->depth = depth;
    it->hops = hops;
    it->attempts = 0;
    it->kind = kind;
    if (depth == f->depth) {
        if (f->cur_tail)
            f->cur_tail->next = it;
        else
            f->cur_head = it;
        f->cur_tail = it;
        f->ncur++;
    } else {
        if (f->next_tail)
            f->next_tail->next = it;
        else
            f->next_head = it;
        f->next_tail = it;
        f->nnext++;
    }
    if (f->ncur + f->nnext > f->max_pending)
        f->max_pending = f->ncur + f->nnext;
    return 1;
}

void crawl_frontier_requeue(crawl_frontier_t *f, crawl_item_t *it)
{
    it->next = NULL;
    if (f->cur_tail)
        f->cur_tail->next = it;
    else
        f->cur_head = it;
    f->cur_tail = it;
    f->ncur++;
}

crawl_item_t *crawl_frontier_pop(crawl_frontier_t *f)
{
    crawl_item_t *it = f->cur_head;

    if (!it)
        return NULL;
    f->cur_head = it->next;
    if (!f->cur_head)
        f->cur_tail = NULL;
    f->ncur--;
    it->next = NULL;
    return it;
}

int crawl_frontier_advance(crawl_frontier_t *f)
{
    assert(!f->cur_head);
    if (!f->next_head)
        return 0;
    f->cur_head = f->next_head;
    f->cur_tail = f->next_tail;
    f->ncur = f->nnext;
    f->next_head = f->next_tail = NULL;
    f->nnext = 0;
    f->depth++;
    return 1;
}
