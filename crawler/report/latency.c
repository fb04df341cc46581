/* crawl_latency: log-bucketed request times; 4.8 KiB per histogram whatever the run's length. */
#include "crawler/report/latency.h"

#include <math.h>

#define LATENCY_BASE 1.02

static int latency_bucket(uint64_t us)
{
    int i = (int)(log((double)us) / log(LATENCY_BASE));

    if (i < 0)
        return 0;
    return i >= CRAWL_LATENCY_BUCKETS ? CRAWL_LATENCY_BUCKETS - 1 : i;
}

void crawl_latency_add(crawl_latency_t *h, int64_t us)
{
    uint64_t v = us < 1 ? 1 : (uint64_t)us;
    int i = latency_bucket(v);

    if (h->bucket[i] < UINT32_MAX)
        h->bucket[i]++;
    h->count++;
    if (v > h->max_us)
        h->max_us = v;
}

double crawl_latency_ms(const crawl_latency_t *h, double q)
{
    uint64_t rank, seen = 0;

    if (h->count == 0)
        return 0;
    if (q >= 1)
        return (double)h->max_us / 1000.0;
    rank = (uint64_t)ceil(q * (double)h->count);      /* nearest rank, 1-based */
    if (rank < 1)
        rank = 1;
    for (int i = 0; i < CRAWL_LATENCY_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            double mid = pow(LATENCY_BASE, i + 0.5);
            /* the bucket of the largest time: never above it */
            if (i == latency_bucket(h->max_us) && mid > (double)h->max_us)
                mid = (double)h->max_us;
            return mid / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}
