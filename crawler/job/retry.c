/* crawl_retry: exponential backoff with full jitter, Retry-After honoured (both forms). */
#include "crawler/job/retry.h"

#include <time.h>
#include <unistd.h>

void crawl_retry_init(crawl_retry_t *p, long retries, long base_ms, long max_wait_ms)
{
    p->retries = retries;
    p->base_ms = base_ms;
    p->max_wait_ms = max_wait_ms;
    p->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9E3779B97F4A7C15ULL;
}

int crawl_retry_wanted(const http_req_t *r)
{
    if (http_req_headers_too_large(r))
        return 0;                /* the same server floods the same way the next time */
    /* A proxy that refused the tunnel (403: a port it does not allow) will refuse it again. */
    if (r->code != CURLE_OK && r->proxy_status >= 400 && r->proxy_status < 500 &&
        r->proxy_status != 408 && r->proxy_status != 429)
        return 0;
    switch (r->code) {
    case CURLE_OK:
        return r->status == 408 || r->status == 429 || (r->status >= 500 && r->status <= 599);
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

static uint64_t retry_next(crawl_retry_t *p)
{
    uint64_t x = p->rng;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->rng = x;
    return x;
}

long crawl_retry_delay_ms(crawl_retry_t *p, const http_req_t *r, int attempt, long long now)
{
    long after = http_retry_after_ms(r, now);
    long ceiling;

    if (after >= 0)
        return after < p->max_wait_ms ? after : p->max_wait_ms;
    ceiling = p->base_ms;
    for (int i = 1; i < attempt && ceiling < p->max_wait_ms; i++)
        ceiling *= 2;
    if (ceiling > p->max_wait_ms)
        ceiling = p->max_wait_ms;
    if (ceiling <= 0)
        return 0;
    return (long)(retry_next(p) % (uint64_t)(ceiling + 1));
}

long crawl_retry_random_wait_ms(crawl_retry_t *p, long ms)
{
    /* 53 random bits as a fraction in [0, 1) */
    double u = (double)(retry_next(p) >> 11) / 9007199254740992.0;

    return ms / 2 + (long)(u * (double)ms);
}
