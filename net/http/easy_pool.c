/* http_easy_pool: a mutex-protected stack of idle, configured easy handles. */
#include "net/http/easy_pool.h"

#include <pthread.h>
#include <stdlib.h>

struct http_easy_pool {
    pthread_mutex_t lock;
    http_opts_t opts;
    CURLcode (*setup)(CURL *easy, void *arg);
    void *arg;
    CURL **idle;
    size_t nidle, cap;
};

http_easy_pool_t *http_easy_pool_new(const http_opts_t *opts, CURLcode (*setup)(CURL *easy, void *arg),
                                     void *arg)
{
    http_easy_pool_t *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return NULL;
    }
    p->opts = *opts;
    p->setup = setup;
    p->arg = arg;
    return p;
}

void http_easy_pool_free(http_easy_pool_t *p)
{
    if (!p)
        return;
    while (p->nidle > 0)
        curl_easy_cleanup(p->idle[--p->nidle]);
    free(p->idle);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static CURLcode easy_pool_setup(http_easy_pool_t *p, CURL *easy)
{
    CURLcode code = http_easy_setup(easy, &p->opts);

    if (code == CURLE_OK && p->setup)
        code = p->setup(easy, p->arg);
    return code;
}

CURL *http_easy_pool_get(http_easy_pool_t *p)
{
    CURL *easy = NULL;

    pthread_mutex_lock(&p->lock);
    if (p->nidle > 0)
        easy = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->lock);
    if (easy)
        return easy;
    easy = curl_easy_init();
    if (easy && easy_pool_setup(p, easy) != CURLE_OK) {
        curl_easy_cleanup(easy);
        easy = NULL;
    }
    return easy;
}

void http_easy_pool_put(http_easy_pool_t *p, CURL *easy)
{
    /* A handle keeps state between transfers that only curl_easy_reset clears. The one that
     * matters: libcurl (7.88) counts the times it re-sent a request because a reused connection
     * turned out dead, per handle and for the handle's whole life, and stops doing it after 5;
     * a long run against a server that drops idle connections would then fail transfers that
     * curl_easy_perform on a fresh handle retries. Reset and set up again (the cached
     * connections, DNS and TLS sessions live in the multi, share or handle and are kept).
     * curl_easy_reset leaves the list of cookie files that CURLOPT_COOKIEFILE appends to (the
     * setup turns the cookie engine on with "" each time): setting it to NULL frees that list,
     * or every reuse would leak an entry. */
    if (curl_easy_setopt(easy, CURLOPT_COOKIEFILE, NULL) != CURLE_OK) {
        curl_easy_cleanup(easy);
        return;
    }
    curl_easy_reset(easy);
    if (easy_pool_setup(p, easy) != CURLE_OK) {
        curl_easy_cleanup(easy);
        return;
    }
    pthread_mutex_lock(&p->lock);
    if (p->nidle == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        CURL **idle = realloc(p->idle, cap * sizeof(*idle));
        if (!idle) {
            pthread_mutex_unlock(&p->lock);
            curl_easy_cleanup(easy);
            return;
        }
        p->idle = idle;
        p->cap = cap;
    }
    p->idle[p->nidle++] = easy;
    pthread_mutex_unlock(&p->lock);
}

const http_opts_t *http_easy_pool_opts(const http_easy_pool_t *p)
{
    return &p->opts;
}
