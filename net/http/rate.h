/* http_rate: one byte-rate budget shared by every transfer of a run (--limit-rate), as a
 * generic cell rate algorithm (a token bucket kept as one "theoretical arrival time").
 * Thread-safe (a mutex), so the async loop and the pool threads of --mode threads charge the same
 * budget; it never sleeps or waits itself: it says how long the caller should. */
#ifndef NET_HTTP_RATE_H
#define NET_HTTP_RATE_H

#include <stdint.h>

#include <curl/curl.h>

/* How far ahead of the clock the budget may be spent before transfers must wait: the burst a
 * run may take at once, in nanoseconds of the rate (100 ms: at 1 MiB/s, 100 KiB). */
#define HTTP_RATE_BURST_NS (100 * 1000 * 1000ULL)

typedef struct http_rate http_rate_t;

/* A budget of bytes_per_s (> 0). NULL when out of memory. Free with http_rate_free. */
http_rate_t *http_rate_new(curl_off_t bytes_per_s);
void http_rate_free(http_rate_t *rl);

/* Charges n bytes received at now_ns (any monotonic clock in ns, the same for every call). */
void http_rate_charge(http_rate_t *rl, uint64_t n, uint64_t now_ns);

/* Nanoseconds from now_ns until more bytes may be received; 0 when they may be now. */
uint64_t http_rate_wait(http_rate_t *rl, uint64_t now_ns);

curl_off_t http_rate_bytes_per_s(const http_rate_t *rl);

#endif
