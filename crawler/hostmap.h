/* crawl_hostmap: one async semaphore per host:port, created on demand and dropped when idle. */
#ifndef CRAWLER_HOSTMAP_H
#define CRAWLER_HOSTMAP_H

#include <stddef.h>

#include "net/asem.h"

typedef struct crawl_host crawl_host_t;
typedef struct crawl_hostmap crawl_hostmap_t;

/* A map whose semaphores have `permits` each. NULL when out of memory. */
crawl_hostmap_t *crawl_hostmap_new(sched_t *s, long permits);
void crawl_hostmap_free(crawl_hostmap_t *m);

/* The entry for key (copied), created if needed, with one more user. NULL on ENOMEM. */
crawl_host_t *crawl_hostmap_get(crawl_hostmap_t *m, const char *key);
asem_t *crawl_host_sem(crawl_host_t *h);
/* Drops a user; an entry with no user and no waiter is freed. */
void crawl_hostmap_put(crawl_hostmap_t *m, crawl_host_t *h);
size_t crawl_hostmap_size(const crawl_hostmap_t *m);

#endif
