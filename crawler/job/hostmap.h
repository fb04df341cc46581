/* crawl_hostmap: one async semaphore per host:port, created on demand and dropped when idle. */
#ifndef CRAWLER_HOSTMAP_H
#define CRAWLER_HOSTMAP_H

#include <stddef.h>
#include <stdint.h>

#include "net/async/asem.h"

typedef struct crawl_hostmap crawl_hostmap_t;

/* One host:port and the politeness every job keeps for it. A job that keeps more per host (the
 * crawl's robots.txt) embeds this struct in its own (entry_size below) and finds its struct
 * again with container_of. */
typedef struct crawl_host {
    struct crawl_host *next;
    uint64_t hash;
    long users;
    asem_t sem;               /* --per-host */
    uint64_t next_ok_ns;      /* no request to this host starts before this (delay, Retry-After) */
    long delay_ms;            /* --delay, raised by robots.txt Crawl-delay */
    const char *key;          /* "host:port", stored after the entry */
} crawl_host_t;

/* A map whose semaphores have `permits` each; each entry is entry_size bytes (at least
 * sizeof(crawl_host_t), zeroed when created) and on_free (may be NULL) releases what the job hung
 * on an entry before it is freed. With keep set, entries live until the map is freed (the crawl's
 * per-host state must outlive idle moments). Loop thread only. NULL when out of memory. */
crawl_hostmap_t *crawl_hostmap_new(sched_t *s, long permits, int keep, size_t entry_size,
                                   void (*on_free)(crawl_host_t *h));

/* Calls fn on every entry (for freeing what the caller hung on them). */
void crawl_hostmap_each(crawl_hostmap_t *m, void (*fn)(crawl_host_t *h, void *arg), void *arg);
void crawl_hostmap_free(crawl_hostmap_t *m);

/* The entry for key (copied), created if needed, with one more user. NULL on ENOMEM. */
crawl_host_t *crawl_hostmap_get(crawl_hostmap_t *m, const char *key);
/* The same for the host:port of url: 0, -EINVAL (no host), -ENOMEM. */
int crawl_hostmap_get_url(crawl_hostmap_t *m, const char *url, crawl_host_t **out);
asem_t *crawl_host_sem(crawl_host_t *h);
/* Drops a user; an entry with no user and no waiter is freed. */
void crawl_hostmap_put(crawl_hostmap_t *m, crawl_host_t *h);
size_t crawl_hostmap_size(const crawl_hostmap_t *m);

#endif
