/* crawl_frontier: two FIFO lists (this level, the next) over a compact hashed seen set. */
#include "crawler/crawl/frontier.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

crawl_parent_t *crawl_parent_new(const char *url)
{
    size_t len = strlen(url);
    crawl_parent_t *p = malloc(sizeof(*p) + len + 1);

    if (!p)
        return NULL;
    p->refs = 1;
    p->seed = 0;
    memcpy(p->url, url, len + 1);
    return p;
}

crawl_parent_t *crawl_parent_ref(crawl_parent_t *p)
{
    if (p)
        p->refs++;
    return p;
}

void crawl_parent_unref(crawl_parent_t *p)
{
    if (p && --p->refs == 0)
        free(p);
}

void crawl_item_free(crawl_item_t *it)
{
    if (!it)
        return;
    crawl_parent_unref(it->parent);
    free(it);
}

int crawl_frontier_init(crawl_frontier_t *f)
{
    memset(f, 0, sizeof(*f));
    list_init(&f->cur);
    list_init(&f->next);
    f->seen = store_seen_new(1024);
    return f->seen ? 0 : -ENOMEM;
}

static void items_free(list_t *head)
{
    list_t *n;

    while ((n = list_pop_head(head)))
        crawl_item_free(container_of(n, crawl_item_t, link));
}

void crawl_frontier_free(crawl_frontier_t *f)
{
    if (f->cur.next)
        items_free(&f->cur);
    if (f->next.next)
        items_free(&f->next);
    store_seen_free(f->seen);
    memset(f, 0, sizeof(*f));
}

int crawl_frontier_mark(crawl_frontier_t *f, const char *url)
{
    return store_seen_add(f->seen, url, strlen(url));
}

int crawl_frontier_push(crawl_frontier_t *f, const char *url, int depth, crawl_kind_t kind, int hops,
                        crawl_parent_t *parent)
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
    it->depth = depth;
    it->hops = hops;
    it->attempts = 0;
    it->kind = kind;
    it->parent = crawl_parent_ref(parent);
    if (depth == f->depth) {
        list_insert_tail(&f->cur, &it->link);
        f->ncur++;
    } else {
        list_insert_tail(&f->next, &it->link);
        f->nnext++;
    }
    if (f->ncur + f->nnext > f->max_pending)
        f->max_pending = f->ncur + f->nnext;
    return 1;
}

void crawl_frontier_requeue(crawl_frontier_t *f, crawl_item_t *it)
{
    list_insert_tail(&f->cur, &it->link);
    f->ncur++;
}

crawl_item_t *crawl_frontier_pop(crawl_frontier_t *f)
{
    list_t *n = list_pop_head(&f->cur);

    if (!n)
        return NULL;
    f->ncur--;
    return container_of(n, crawl_item_t, link);
}

int crawl_frontier_advance(crawl_frontier_t *f)
{
    assert(list_empty(&f->cur));
    if (list_empty(&f->next))
        return 0;
    /* Splice the next level in as the current one. */
    f->cur.next = f->next.next;
    f->cur.prev = f->next.prev;
    f->cur.next->prev = &f->cur;
    f->cur.prev->next = &f->cur;
    list_init(&f->next);
    f->ncur = f->nnext;
    f->nnext = 0;
    f->depth++;
    return 1;
}
