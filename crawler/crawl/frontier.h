/* crawl_frontier: the crawl's pending URLs, level by level (exact BFS), and its seen set.
 * Loop thread only. */
#ifndef CRAWLER_FRONTIER_H
#define CRAWLER_FRONTIER_H

#include <stddef.h>

#include "net/async/list.h"
#include "storage/seen.h"

typedef enum { CRAWL_KIND_PAGE = 0, CRAWL_KIND_ASSET = 1 } crawl_kind_t;

/* The page a URL was found on, shared (reference counted) by every item found there, so an item
 * costs a pointer for it, not a copy. */
typedef struct crawl_parent {
    unsigned long refs;
    size_t seed;              /* the start URL it descends from (cj->starts index): its HAR page */
    char url[];
} crawl_parent_t;

/* A new parent holding one reference for the caller; NULL when out of memory. */
crawl_parent_t *crawl_parent_new(const char *url);
crawl_parent_t *crawl_parent_ref(crawl_parent_t *p);      /* NULL is passed through */
void crawl_parent_unref(crawl_parent_t *p);               /* NULL is ignored */

typedef struct crawl_item {
    list_t link;
    int depth;
    int hops;                 /* redirects followed to reach this URL */
    int attempts;             /* retries so far (a transient failure puts an item back) */
    crawl_kind_t kind;
    crawl_parent_t *parent;   /* a reference; NULL for start URLs */
    char url[];
} crawl_item_t;

/* Frees an item and drops its parent reference. NULL is ignored. */
void crawl_item_free(crawl_item_t *it);

typedef struct crawl_frontier {
    store_seen_t *seen;       /* every URL ever queued, as 64-bit hashes */
    list_t cur, next;         /* this level's items, the next level's */
    size_t ncur, nnext;
    int depth;                /* depth of the level being fetched */
    size_t max_pending;       /* high-water mark of ncur + nnext */
} crawl_frontier_t;

int crawl_frontier_init(crawl_frontier_t *f);
void crawl_frontier_free(crawl_frontier_t *f);

/* Queues url unless it was ever queued before. depth must be the current level (redirect targets,
 * seeds) or the next one. The item takes a reference to parent (may be NULL). Returns 1 queued,
 * 0 already seen, -ENOMEM. */
int crawl_frontier_push(crawl_frontier_t *f, const char *url, int depth, crawl_kind_t kind, int hops,
                        crawl_parent_t *parent);

/* Puts an item already seen back at the end of the current level (a retry). Takes ownership. */
void crawl_frontier_requeue(crawl_frontier_t *f, crawl_item_t *it);

/* Marks url seen without queueing it (e.g. the target a redirect reached). 1 new, 0 seen. */
int crawl_frontier_mark(crawl_frontier_t *f, const char *url);

/* The next item of the current level (the caller frees it with crawl_item_free), or NULL when
 * the current level is empty. */
crawl_item_t *crawl_frontier_pop(crawl_frontier_t *f);

/* 1 while the current level has items. */
static inline int crawl_frontier_has_current(const crawl_frontier_t *f) { return f->ncur > 0; }

/* Once the current level is empty and fully processed: makes the next level current. Returns 1
 * if there is a next level, 0 when the crawl is over. */
int crawl_frontier_advance(crawl_frontier_t *f);

#endif
