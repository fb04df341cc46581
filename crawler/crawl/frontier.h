/* crawl_frontier: the crawl's pending URLs, level by level (exact BFS), and its seen set.
 * Loop thread only.
 *
 * With a store attached (crawl_frontier_attach), a level keeps at most `window` items in memory:
 * the next level's items past its first `window` live only as rows of the store's frontier
 * table, numbered in the order they were queued (seq), and the current level pages them back in
 * that order (crawl_frontier_fill, a read on the pool) as its window drains. The order of pops
 * is the same as with everything in memory: a level's items in queueing order, then what was
 * queued at the current level while it ran (redirect targets, retries: kept in memory). */
#ifndef CRAWLER_FRONTIER_H
#define CRAWLER_FRONTIER_H

#include <stddef.h>

#include "net/async/future.h"
#include "net/async/list.h"
#include "storage/state.h"
#include "storage/seen.h"

typedef enum { CRAWL_KIND_PAGE = 0, CRAWL_KIND_ASSET = 1 } crawl_kind_t;

/* The page a URL was found on, shared (reference counted) by every item found there, so an item
 * costs a pointer for it, not a copy. */
typedef struct crawl_parent {
    unsigned long refs;
    size_t seed;              /* the start URL it descends from (cj->starts index): its HAR page */
    int level_delta;          /* a shared job: BFS level minus depth along this lineage (a start
                               * URL added while the job was at level L has L) */
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
    struct shared_item *shared;   /* a shared job's entry it came from (acknowledged by the page
                                   * task), or NULL */
    char url[];
} crawl_item_t;

/* Frees an item and drops its parent reference. NULL is ignored. */
void crawl_item_free(crawl_item_t *it);

/* How a URL is written to the store and read back (the store holds passwords masked). */
typedef const char *(*crawl_frontier_redact_fn)(const char *url, char *buf, size_t n);
typedef const char *(*crawl_frontier_unredact_fn)(void *arg, const char *stored, char **owned);

#define CRAWL_FRONTIER_WINDOW 4096   /* items per level kept in memory by default */

typedef struct crawl_frontier {
    store_seen_t *seen;       /* every URL ever queued, as 64-bit hashes */
    list_t cur, next;         /* this level's items in memory (its window), the next level's */
    list_t tail;              /* queued at the current level while it runs: after its spilled rows */
    size_t ncur, nnext;       /* pending at this level / the next, in memory or spilled */
    size_t cur_mem, tail_mem; /* the current level's items in memory: its window, its tail */
    size_t next_mem;          /* the next level's items in memory (its first, up to window) */
    int depth;                /* depth of the level being fetched */
    size_t max_pending;       /* high-water mark of ncur + nnext */
    /* spilling (store != NULL) */
    store_state_t *store;
    int store_all;            /* write every item (the state database: resume), not only spilled ones */
    sched_t *sched;
    size_t window;
    int64_t seq;              /* the next item's number */
    int64_t cur_lo, cur_hi;   /* the current level's spilled rows not yet read: depth, seq in [lo, hi) */
    int64_t next_lo;          /* the next level's first spilled row */
    future_t *filling;        /* settled when the read in flight is over, or NULL (borrowed) */
    struct crawl_fill *fill;
    store_state_t *(*open_store)(void *arg);   /* st NULL at attach: opens one at the first spill */
    void *open_arg;
    crawl_frontier_redact_fn redact;
    crawl_frontier_unredact_fn unredact;
    void *unredact_arg;
    unsigned long pages_in;   /* rows read back */
    size_t max_mem;           /* high-water mark of the items in memory (both levels) */
} crawl_frontier_t;

int crawl_frontier_init(crawl_frontier_t *f);
/* A fill may be in flight only if the loop is gone (it then never touches f again). */
void crawl_frontier_free(crawl_frontier_t *f);

/* Spill to st from now on (st outlives f; its rows are queued and written on s's pool). window:
 * items per level kept in memory, at least 1 (0: never spill). store_all: every queued item is
 * also written (the state database, for resume) rather than only the spilled ones. st may be
 * NULL when f->open_store is set: it is called (blocking, once) when the first item spills, and
 * a NULL from it keeps everything in memory from then on. */
void crawl_frontier_attach(crawl_frontier_t *f, store_state_t *st, sched_t *s, size_t window, int store_all,
                           crawl_frontier_redact_fn redact, crawl_frontier_unredact_fn unredact, void *arg);

/* Takes back a stored frontier (a resumed crawl) without reading it into memory: `depth` is its
 * shallowest level, ncur and nnext its rows at depth and depth + 1 (deeper ones the store moved
 * to depth + 1), max_seq the largest number among them. Call once, after attach, before any push. */
void crawl_frontier_resume(crawl_frontier_t *f, int depth, size_t ncur, size_t nnext, int64_t max_seq);

/* 1 when the current level has spilled rows left and the window is empty: crawl_frontier_fill. */
int crawl_frontier_needs_fill(const crawl_frontier_t *f);

/* Reads the next window of the current level from the store (after the rows queued so far are
 * written). A new reference to a future resolved when the items are in the window (or failed:
 * the rows are then given up, with a message); NULL when out of memory. The read already in
 * flight, if any, is the one returned. */
future_t *crawl_frontier_fill(crawl_frontier_t *f);

/* Queues url unless it was ever queued before. depth must be the current level (redirect targets,
 * seeds) or the next one. The item takes a reference to parent (may be NULL). With a store, the
 * item is written to it (queued: a batch on the pool) when it spills or store_all is set. Returns
 * 1 queued, 0 already seen, -ENOMEM. */
int crawl_frontier_push(crawl_frontier_t *f, const char *url, int depth, crawl_kind_t kind, int hops,
                        crawl_parent_t *parent);

/* Puts an item already seen back at the end of the current level (a retry). Takes ownership. */
void crawl_frontier_requeue(crawl_frontier_t *f, crawl_item_t *it);

/* Marks url seen without queueing it (e.g. the target a redirect reached). 1 new, 0 seen. */
int crawl_frontier_mark(crawl_frontier_t *f, const char *url);

/* The next item of the current level (the caller frees it with crawl_item_free), or NULL when
 * none is in memory (crawl_frontier_needs_fill then says whether rows are left to read). Starts
 * reading the next window ahead when the window runs low. */
crawl_item_t *crawl_frontier_pop(crawl_frontier_t *f);

/* 1 while the current level has items (in memory or spilled). */
static inline int crawl_frontier_has_current(const crawl_frontier_t *f) { return f->ncur > 0; }

/* Once the current level is empty and fully processed: makes the next level current. Returns 1
 * if there is a next level, 0 when the crawl is over. */
int crawl_frontier_advance(crawl_frontier_t *f);

#endif
