/* crawl_latency: a histogram of request times in fixed memory (log buckets 2% wide), for the
 * p50/p95/p99 of a run of any length. */
#ifndef CRAWLER_LATENCY_H
#define CRAWLER_LATENCY_H

#include <stdint.h>

/* Bucket i holds times in [LATENCY_BASE^i, LATENCY_BASE^(i+1)) µs; the last one everything from
 * about 3.3 hours up. */
#define CRAWL_LATENCY_BUCKETS 1200

typedef struct crawl_latency {
    uint64_t count;
    uint64_t max_us;
    uint32_t bucket[CRAWL_LATENCY_BUCKETS];
} crawl_latency_t;

/* Counts one request that took us microseconds (0 and negatives count as 1 µs). */
void crawl_latency_add(crawl_latency_t *h, int64_t us);

/* The time in ms below which a fraction q (0 < q <= 1) of the requests ended: the geometric
 * middle of the bucket holding the nearest-rank percentile, within 1% of the true value; the
 * largest time itself for q = 1 and where the bucket holds it. 0 when nothing was counted. */
double crawl_latency_ms(const crawl_latency_t *h, double q);

#endif
