/* crawl_frontier: two FIFO lists (this level, the next) over a compact hashed seen set; past a
 * window, a level's items are rows of the store, read back in their order. */
#include "crawler/crawl/frontier.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "net/async/executor.h"
#include "parse/url.h"

crawl_parent_t *crawl_parent_new(const char *url)
{
    size_t len = strlen(url);
    crawl_parent_t *p = malloc(sizeof(*p) + len + 1);

    if (!p)
        return NULL;
    p->refs = 1;
    p->seed = 0;
    p->level_delta = 0;
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
    list_init(&f->tail);
    f->seen = store_seen_new(1024);
    return f->seen ? 0 : -ENOMEM;
}

static void items_free(list_t *head)
{
    list_t *n;

    while ((n = list_pop_head(head)))
        crawl_item_free(container_of(n, crawl_item_t, link));
}

/* One read of the store on the pool: its arguments, then its rows. */
struct crawl_fill {
    crawl_frontier_t *f;
    store_state_t *store;
    future_t *done;           /* what crawl_frontier_fill hands out */
    int depth;
    int64_t lo, hi;
    size_t max;
    store_frontier_row_t *rows;
    size_t n;
    int result;
};

static void fill_free(struct crawl_fill *fl)
{
    if (!fl)
        return;
    store_frontier_rows_free(fl->rows, fl->n);
    future_unref(fl->done);
    free(fl);
}

void crawl_frontier_free(crawl_frontier_t *f)
{
    if (f->cur.next)
        items_free(&f->cur);
    if (f->next.next)
        items_free(&f->next);
    if (f->tail.next)
        items_free(&f->tail);
    /* A read still in flight (it cannot be: the loop runs until its pool job and callbacks are
     * over) must not touch f again. */
    if (f->fill)
        f->fill->f = NULL;
    store_seen_free(f->seen);
    memset(f, 0, sizeof(*f));
}

void crawl_frontier_attach(crawl_frontier_t *f, store_state_t *st, sched_t *s, size_t window, int store_all,
                           crawl_frontier_redact_fn redact, crawl_frontier_unredact_fn unredact, void *arg)
{
    assert(st || f->open_store);
    f->store = st;
    f->sched = s;
    f->window = window;
    f->store_all = store_all;
    f->redact = redact;
    f->unredact = unredact;
    f->unredact_arg = arg;
}

void crawl_frontier_resume(crawl_frontier_t *f, int depth, size_t ncur, size_t nnext, int64_t max_seq)
{
    assert(f->store && f->ncur == 0 && f->nnext == 0);
    f->depth = depth;
    f->seq = max_seq + 1;
    f->ncur = ncur;
    f->cur_lo = 0;
    f->cur_hi = f->seq;              /* what is queued at this depth from now on is the tail */
    f->nnext = nnext;
    f->next_lo = 0;                  /* every row of the next level stays spilled */
    if (f->ncur + f->nnext > f->max_pending)
        f->max_pending = f->ncur + f->nnext;
}

int crawl_frontier_mark(crawl_frontier_t *f, const char *url)
{
    return store_seen_add(f->seen, url, strlen(url));
}

static void frontier_count_mem(crawl_frontier_t *f)
{
    size_t mem = f->cur_mem + f->tail_mem + f->next_mem;

    if (mem > f->max_mem)
        f->max_mem = mem;
}

/* Writes a queued URL to the store (queued for the next batch on the pool). */
static int frontier_store(crawl_frontier_t *f, const char *url, int depth, crawl_kind_t kind, int hops,
                          const crawl_parent_t *parent, int64_t seq)
{
    char shown[PARSE_URL_REDACT_SIZE], pshown[PARSE_URL_REDACT_SIZE];
    const char *u = f->redact ? f->redact(url, shown, sizeof(shown)) : url;
    const char *p = parent ? (f->redact ? f->redact(parent->url, pshown, sizeof(pshown)) : parent->url) : NULL;

    return store_state_frontier_put(f->store, u, depth, kind, hops, p, seq,
                                    parent ? (int64_t)parent->seed : -1);
}

int crawl_frontier_push(crawl_frontier_t *f, const char *url, int depth, crawl_kind_t kind, int hops,
                        crawl_parent_t *parent)
{
    size_t len = strlen(url);
    crawl_item_t *it;
    int64_t seq = f->seq;
    int result, spill;

    assert(depth == f->depth || depth == f->depth + 1);
    result = store_seen_add(f->seen, url, len);
    if (result <= 0)
        return result;
    f->seq++;
    /* The next level spills once its window is full, and then stays spilled: its rows must be
     * read back after the items in memory, in one run of seq. The current level never spills
     * (its tail is few: seeds, redirect targets). */
    spill = f->window && depth == f->depth + 1 && (f->next_mem < f->nnext || f->next_mem >= f->window);
    if (spill && !f->store && !(f->store = f->open_store(f->open_arg))) {
        f->window = 0;               /* no store to spill to: everything stays in memory */
        spill = 0;
    }
    if (f->store && (spill || f->store_all) &&
        frontier_store(f, url, depth, kind, hops, parent, seq) < 0)
        return -ENOMEM;
    if (spill) {
        if (f->next_mem == f->nnext)
            f->next_lo = seq;
        f->nnext++;
    } else {
        it = malloc(sizeof(*it) + len + 1);
        if (!it)
            return -ENOMEM;
        memcpy(it->url, url, len + 1);
        it->depth = depth;
        it->hops = hops;
        it->attempts = 0;
        it->kind = kind;
        it->shared = NULL;
        it->parent = crawl_parent_ref(parent);
        if (depth == f->depth) {
            list_insert_tail(&f->tail, &it->link);
            f->ncur++;
            f->tail_mem++;
        } else {
            list_insert_tail(&f->next, &it->link);
            f->nnext++;
            f->next_mem++;
        }
    }
    if (f->ncur + f->nnext > f->max_pending)
        f->max_pending = f->ncur + f->nnext;
    frontier_count_mem(f);
    return 1;
}

void crawl_frontier_requeue(crawl_frontier_t *f, crawl_item_t *it)
{
    list_insert_tail(&f->tail, &it->link);
    f->ncur++;
    f->tail_mem++;
}

/* Rows of the current level not read back yet. */
static size_t frontier_spilled(const crawl_frontier_t *f)
{
    return f->ncur - f->cur_mem - f->tail_mem;
}

int crawl_frontier_needs_fill(const crawl_frontier_t *f)
{
    return list_empty(&f->cur) && frontier_spilled(f) > 0;
}

crawl_item_t *crawl_frontier_pop(crawl_frontier_t *f)
{
    list_t *n = list_pop_head(&f->cur);

    if (n) {
        f->cur_mem--;
    } else {
        if (frontier_spilled(f) > 0)
            return NULL;             /* the tail comes after the rows still in the store */
        if (!(n = list_pop_head(&f->tail)))
            return NULL;
        f->tail_mem--;
    }
    f->ncur--;
    /* Read ahead when half the window is left, so the dispatcher rarely waits for the store. */
    if (f->store && !f->filling && frontier_spilled(f) > 0 && f->cur_mem <= f->window / 2) {
        future_t *fut = crawl_frontier_fill(f);
        future_unref(fut);           /* f->filling holds its own reference */
    }
    return container_of(n, crawl_item_t, link);
}

/* ---- reading spilled rows back ---------------------------------------------------------------- */

static int fill_run(void *arg)
{
    struct crawl_fill *fl = arg;

    fl->result = store_state_frontier_read(fl->store, fl->depth, fl->lo, fl->hi, fl->max, &fl->rows, &fl->n);
    return 0;
}

/* On the loop: the rows become items at the end of the window. */
static void fill_finish(struct crawl_fill *fl, int result)
{
    crawl_frontier_t *f = fl->f;
    crawl_parent_t *parent = NULL;
    size_t added = 0;

    if (f && result == 0) {
        for (size_t i = 0; i < fl->n; i++) {
            store_frontier_row_t *row = &fl->rows[i];
            char *owned = NULL;
            const char *url = f->unredact ? f->unredact(f->unredact_arg, row->url, &owned) : row->url;
            size_t len;
            crawl_item_t *it;

            /* Rows found on one page come together: they share one parent, as in memory. */
            if (row->parent && (!parent || strcmp(parent->url, row->parent) != 0 ||
                                parent->seed != (size_t)row->seed)) {
                crawl_parent_unref(parent);
                if ((parent = crawl_parent_new(row->parent)))
                    parent->seed = (size_t)row->seed;
            }
            if (!url || (row->parent && !parent) ||
                !(it = malloc(sizeof(*it) + (len = strlen(url)) + 1))) {
                free(owned);
                result = -ENOMEM;
                break;
            }
            memcpy(it->url, url, len + 1);
            free(owned);
            it->depth = fl->depth;
            it->hops = row->hops;
            it->attempts = 0;
            it->shared = NULL;
            it->kind = row->kind ? CRAWL_KIND_ASSET : CRAWL_KIND_PAGE;
            it->parent = row->parent ? crawl_parent_ref(parent) : NULL;
            list_insert_tail(&f->cur, &it->link);
            f->cur_mem++;
            f->cur_lo = row->seq + 1;
            added++;
        }
        crawl_parent_unref(parent);
        f->pages_in += added;
        frontier_count_mem(f);
    }
    if (f) {
        if (added == 0 && frontier_spilled(f) > 0 && f->depth == fl->depth) {
            /* Nothing came back (a write or this read failed): give the level's rest up rather
             * than ask again forever. */
            fprintf(stderr, "gather: cannot read %zu pending URLs of depth %d back from the frontier"
                            " database: %s\n", frontier_spilled(f), f->depth,
                    result < 0 ? strerror(-result) : "rows missing");
            f->ncur -= frontier_spilled(f);
        }
        f->fill = NULL;
        f->filling = NULL;
    }
    future_resolve(fl->done, NULL);
    fill_free(fl);
}

static void fill_read_done(future_t *ft, void *arg)
{
    struct crawl_fill *fl = arg;
    int err = future_error(ft);

    fill_finish(fl, err < 0 ? err : fl->result);
}

static void fill_flushed(future_t *ft, void *arg)
{
    struct crawl_fill *fl = arg;
    future_t *job;

    (void)ft;
    if (!fl->f || !(job = executor_run(fl->f->sched, fill_run, fl))) {
        fill_finish(fl, -ENOMEM);
        return;
    }
    future_on_done(job, fill_read_done, fl);   /* a new future's first callback cannot fail */
    future_unref(job);
}

future_t *crawl_frontier_fill(crawl_frontier_t *f)
{
    struct crawl_fill *fl;
    future_t *flush, *ret;

    if (f->filling)
        return future_ref(f->filling);
    if (!f->store || frontier_spilled(f) == 0)
        return future_new_resolved(f->sched, NULL);
    if (!(fl = calloc(1, sizeof(*fl))) || !(fl->done = future_new(f->sched))) {
        free(fl);
        return NULL;
    }
    fl->f = f;
    fl->store = f->store;
    fl->depth = f->depth;
    fl->lo = f->cur_lo;
    fl->hi = f->cur_hi;
    fl->max = f->window > f->cur_mem ? f->window - f->cur_mem : 1;   /* the window, never more */
    f->fill = fl;
    f->filling = fl->done;           /* borrowed: fl holds the reference until it is freed */
    ret = future_ref(fl->done);
    /* The rows asked for may still be queued: the read waits for them to be written. */
    if (!(flush = store_state_flush(f->store))) {
        fill_finish(fl, -ENOMEM);
        return ret;
    }
    future_on_done(flush, fill_flushed, fl);   /* a new future's first callback cannot fail */
    future_unref(flush);
    return ret;
}

int crawl_frontier_advance(crawl_frontier_t *f)
{
    assert(list_empty(&f->cur) && list_empty(&f->tail) && f->ncur == 0 && !f->filling);
    if (f->nnext == 0)
        return 0;
    /* Splice the next level in as the current one: its items in memory are the window, its
     * spilled rows (if any) the range [next_lo, seq) at the new depth. */
    if (!list_empty(&f->next)) {
        f->cur.next = f->next.next;
        f->cur.prev = f->next.prev;
        f->cur.next->prev = &f->cur;
        f->cur.prev->next = &f->cur;
        list_init(&f->next);
    }
    f->ncur = f->nnext;
    f->cur_mem = f->next_mem;
    f->cur_lo = f->next_lo;
    f->cur_hi = f->seq;
    f->nnext = f->next_mem = 0;
    f->next_lo = 0;
    f->depth++;
    return 1;
}
