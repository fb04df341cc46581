/* http_rate: GCRA budgets (see rate.h), and the run's shared one behind a mutex. */
#include "net/http/rate.h"

#include <pthread.h>
#include <stdlib.h>

struct http_rate {
    pthread_mutex_t lock;
    curl_off_t bytes_per_s;
    uint64_t tat;
};

void http_rate_tat_charge(uint64_t *tat, curl_off_t bytes_per_s, uint64_t n, uint64_t now_ns)
{
    /* long double: n * 1e9 passes 64 bits from 18 GB in one charge, which a progress callback
     * after a long stall could in principle hand over. */
    uint64_t cost = (uint64_t)((long double)n * 1e9L / (long double)bytes_per_s);

    if (*tat < now_ns)
        *tat = now_ns;           /* an idle budget saves up no more than the burst */
    *tat += cost;
}

uint64_t http_rate_tat_wait(uint64_t tat, uint64_t now_ns)
{
    return tat > now_ns + HTTP_RATE_BURST_NS ? tat - now_ns - HTTP_RATE_BURST_NS : 0;
}

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
    pthread_mutex_lock(&rl->lock);
    http_rate_tat_charge(&rl->tat, rl->bytes_per_s, n, now_ns);
    pthread_mutex_unlock(&rl->lock);
}

uint64_t http_rate_wait(http_rate_t *rl, uint64_t now_ns)
{
    uint64_t wait;

    pthread_mutex_lock(&rl->lock);
    wait = http_rate_tat_wait(rl->tat, now_ns);
    pthread_mutex_unlock(&rl->lock);
    return wait;
}
