/* http_rate: byte-rate budgets for --limit-rate (one for the whole run, shared by every transfer)
 * and --limit-rate-each (one per transfer), as a generic cell rate algorithm: a token bucket kept
 * as one "theoretical arrival time" (tat), the moment the bytes charged so far would have been
 * received at exactly the rate. A caller waits while tat runs more than the burst ahead of now.
 * The budgets never sleep or wait themselves: they say how long the caller should.
 * http_rate_t is thread-safe (a mutex), so the async loop and the pool threads of --mode threads
 * can charge the same budget; a bare tat (the per-transfer budget) belongs to its transfer. */
#ifndef NET_HTTP_RATE_H
#define NET_HTTP_RATE_H

#include <stdint.h>

#include <curl/curl.h>

/* How far ahead of the clock a budget may be spent before transfers must wait: the burst taken
 * at once, in nanoseconds of the rate (100 ms: at 1 MiB/s, 100 KiB). */
#define HTTP_RATE_BURST_NS (100 * 1000 * 1000ULL)

typedef struct http_rate http_rate_t;

/* Charges n bytes received at now_ns (a monotonic clock in ns, the same for every call: uv_hrtime)
 * to the budget *tat of bytes_per_s. */
void http_rate_tat_charge(uint64_t *tat, curl_off_t bytes_per_s, uint64_t n, uint64_t now_ns);

/* Nanoseconds from now_ns until the budget *tat lets more bytes in; 0 when it does now. */
uint64_t http_rate_tat_wait(uint64_t tat, uint64_t now_ns);

/* The run's shared budget of bytes_per_s (> 0). NULL when out of memory (or bytes_per_s <= 0).
 * Free with http_rate_free. */
http_rate_t *http_rate_new(curl_off_t bytes_per_s);
void http_rate_free(http_rate_t *rl);

/* The same two calls on the shared budget, under its lock. */
void http_rate_charge(http_rate_t *rl, uint64_t n, uint64_t now_ns);
uint64_t http_rate_wait(http_rate_t *rl, uint64_t now_ns);

#endif
