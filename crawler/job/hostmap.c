/* crawl_hostmap: chained hash table of host entries keyed by "host:port". */
#include "crawler/job/hostmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/url.h"
#include "storage/hash.h"

struct crawl_hostmap {
    sched_t *sched;
    long permits;
    int keep;
    size_t entry_size;
    void (*on_free)(crawl_host_t *h);
    crawl_host_t **buckets;
    size_t nbuckets, count;
};

crawl_hostmap_t *crawl_hostmap_new(sched_t *s, long permits, int keep, size_t entry_size,
                                   void (*on_free)(crawl_host_t *h))
{
    crawl_hostmap_t *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->nbuckets = 64;
    m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
    if (!m->buckets) {
        free(m);
        return NULL;
    }
    m->sched = s;
    m->permits = permits;
    m->keep = keep;
    m->entry_size = entry_size < sizeof(crawl_host_t) ? sizeof(crawl_host_t) : entry_size;
    m->on_free = on_free;
    return m;
}

void crawl_hostmap_free(crawl_hostmap_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nbuckets; i++) {
        crawl_host_t *h = m->buckets[i];
        while (h) {
            crawl_host_t *next = h->next;
            if (m->on_free)
                m->on_free(h);
            free(h);
            h = next;
        }
    }
    free(m->buckets);
    free(m);
}

static void hostmap_grow(crawl_hostmap_t *m)
{
    size_t n = m->nbuckets * 2;
    crawl_host_t **b = calloc(n, sizeof(*b));

    if (!b)
        return;              /* keep the longer chains; still correct */
    for (size_t i = 0; i < m->nbuckets; i++) {
        crawl_host_t *h = m->buckets[i];
        while (h) {
            crawl_host_t *next = h->next;
            h->next = b[h->hash & (n - 1)];
            b[h->hash & (n - 1)] = h;
            h = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

crawl_host_t *crawl_hostmap_get(crawl_hostmap_t *m, const char *key)
{
    size_t len = strlen(key);
    uint64_t hash = store_hash64(key, len);
    crawl_host_t *h;

    for (h = m->buckets[hash & (m->nbuckets - 1)]; h; h = h->next) {
        if (h->hash == hash && strcmp(h->key, key) == 0) {
            h->users++;
            return h;
        }
    }
    h = calloc(1, m->entry_size + len + 1);
    if (!h)
        return NULL;
    h->key = memcpy((char *)h + m->entry_size, key, len + 1);
    h->hash = hash;
    h->users = 1;
    asem_init(&h->sem, m->sched, m->permits);
    h->next = m->buckets[hash & (m->nbuckets - 1)];
    m->buckets[hash & (m->nbuckets - 1)] = h;
    if (++m->count > m->nbuckets)
        hostmap_grow(m);
    return h;
}

int crawl_hostmap_get_url(crawl_hostmap_t *m, const char *url, crawl_host_t **out)
{
    char *key = NULL;

    *out = NULL;
    if (parse_url_hostport(url, &key) < 0)
        return -EINVAL;
    *out = crawl_hostmap_get(m, key);
    free(key);
    return *out ? 0 : -ENOMEM;
}

asem_t *crawl_host_sem(crawl_host_t *h)
{
    return &h->sem;
}

void crawl_hostmap_put(crawl_hostmap_t *m, crawl_host_t *h)
{
    crawl_host_t **pp;

    if (--h->users > 0 || h->sem.waiting > 0 || m->keep)
        return;
    for (pp = &m->buckets[h->hash & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            m->count--;
            if (m->on_free)
                m->on_free(h);
            free(h);
            return;
        }
    }
}

void crawl_hostmap_each(crawl_hostmap_t *m, void (*fn)(crawl_host_t *h, void *arg), void *arg)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        for (crawl_host_t *h = m->buckets[i]; h; h = h->next)
            fn(h, arg);
}

size_t crawl_hostmap_size(const crawl_hostmap_t *m)
{
    return m->count;
}
