/* crawl_retry: which failures deserve another try, and how long to wait before it. */
#ifndef CRAWLER_RETRY_H
#define CRAWLER_RETRY_H

#include <stdint.h>

#include "net/http/http.h"

typedef struct crawl_retry {
    long retries;             /* --retries: tries after the first (default 3) */
    long base_ms;             /* --retry-delay: the backoff's base (default 1000) */
    long max_wait_ms;         /* --max-wait: cap on any one wait, Retry-After included (60 s) */
    uint64_t rng;             /* xorshift state for the jitter */
} crawl_retry_t;

void crawl_retry_init(crawl_retry_t *p, long retries, long base_ms, long max_wait_ms);

/* 1 when a finished transfer failed in a way a retry may cure: could not connect, timed out,
 * reset, cut short, HTTP 408, 429 or 5xx. Never other 4xx, disk errors, size caps or a server
 * that broke the protocol (a 206 nobody asked for). */
int crawl_retry_wanted(const http_req_t *r);

/* Milliseconds to wait before retry number `attempt` (1 for the first retry): the server's
 * Retry-After when it sent one, else full jitter: uniform in [0, min(max_wait, base * 2^(attempt-1))].
 * Capped by max_wait either way. */
long crawl_retry_delay_ms(crawl_retry_t *p, const http_req_t *r, int attempt, long long now);

/* wget's --random-wait: a wait uniform in [0.5 * ms, 1.5 * ms), from the policy's generator. */
long crawl_retry_random_wait_ms(crawl_retry_t *p, long ms);

#endif
