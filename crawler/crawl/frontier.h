/* crawl_frontier: the crawl's pending URLs, level by level (exact BFS), and its seen set. */
#ifndef CRAWLER_FRONTIER_H
#define CRAWLER_FRONTIER_H

#include <stddef.h>

#include "storage/seen.h"

typedef enum { CRAWL_KIND_PAGE = 0, CRAWL_KIND_ASSET = 1 } crawl_kind_t;

typedef struct crawl_item {
    struct crawl_item *next;
    int depth;
    int hops;                 /* redirects followed to reach this URL */
    int attempts;             /* retries so far (a transient failure puts an item back) */
    crawl_kind_t kind;
    char url[];
} crawl_item_t;

typedef struct crawl_frontier {
    store_seen_t *seen;       /* every URL ever queued, as 64-bit hashes */
    crawl_item_t *cur_head, *cur_tail;
    crawl_item_t *next_head, *next_tail;
    size_t ncur, nnext;
    int depth;                /* depth of the level being fetched */
    size_t max_pending;       /* high-water mark of ncur + nnext */
} crawl_frontier_t;

int crawl_frontier_init(crawl_frontier_t *f);
void crawl_frontier_free(crawl_frontier_t *f);

/* Queues url unless it was ever queued before. depth must be the current level (redirect targets,
 * seeds) or the next one. Returns 1 queued, 0 already seen, -ENOMEM. */
int crawl_frontier_push(crawl_frontier_t *f, const char *url, int depth, crawl_kind_t kind, int hops);

/* Puts an item already seen back at the end of the current level (a retry). Takes ownership. */
void crawl_frontier_requeue(crawl_frontier_t *f, crawl_item_t *it);

/* Marks url seen without queueing it (e.g. the target a redirect reached). 1 new, 0 seen. */
int crawl_frontier_mark(crawl_frontier_t *f, const char *url);

/* The next item of the current level (the caller frees it with free()), or NULL when the
 * current level is empty. */
crawl_item_t *crawl_frontier_pop(crawl_frontier_t *f);

/* Once the current level is empty and fully processed: makes the next level current. Returns 1
 * if there is a next level, 0 when the crawl is over. */
int crawl_frontier_advance(crawl_frontier_t *f);

#endif
