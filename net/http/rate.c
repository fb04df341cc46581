/* http_rate: the run's byte budget (GCRA: tat is when the bytes charged so far would have been
 * received at exactly the rate; a caller waits while tat runs more than the burst ahead). */
#include "net/http/rate.h"

#include <pthread.h>
#include <stdlib.h>

struct http_rate {
    pthread_mutex_t lock;
    curl_off_t bytes_per_s;
    uint64_t tat;               /* ns on the caller's clock; 0 before the first charge */
};

http_rate_t *http_rate_new(curl_off_t bytes_per_s)
{
    http_rate_t *rl;

    if (bytes_per_s <= 0)
        return NULL;
    rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    if (pthread_mutex_init(&rl->lock, NULL) != 0) {
        free(rl);
        return NULL;
    }
    rl->bytes_per_s = bytes_per_s;
    return rl;
}

void http_rate_free(http_rate_t *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

void http_rate_charge(http_rate_t *rl, uint64_t n, uint64_t now_ns)
{
    /* n * 1e9 overflows 64 bits only past 18 GB in one charge: a write callback hands out
     * at most CURLOPT_BUFFERSIZE, a progress callback what arrived since the last one. */
    uint64_t cost = (uint64_t)((long double)n * 1e9L / (long double)rl->bytes_per_s);

    pthread_mutex_lock(&rl->lock);
    if (rl->tat < now_ns)
        rl->tat = now_ns;      /* an idle budget does not save up more than the burst */
    rl->tat += cost;
    pthread_mutex_unlock(&rl->lock);
}

uint64_t http_rate_wait(http_rate_t *rl, uint64_t now_ns)
{
    uint64_t wait = 0;

    pthread_mutex_lock(&rl->lock);
    if (rl->tat > now_ns + HTTP_RATE_BURST_NS)
        wait = rl->tat - now_ns - HTTP_RATE_BURST_NS;
    pthread_mutex_unlock(&rl->lock);
    return wait;
}

curl_off_t http_rate_bytes_per_s(const http_rate_t *rl)
{
    return rl->bytes_per_s;
}
