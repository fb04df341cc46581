/* http_easy_pool: the one pool of configured curl easy handles, shared by the async client
 * (one loop thread) and the blocking modes (many pool threads), so both reuse handles alike.
 * Thread-safe (a mutex; uncontended on a loop thread). */
#ifndef NET_HTTP_EASY_POOL_H
#define NET_HTTP_EASY_POOL_H

#include <curl/curl.h>

#include "net/http/http.h"

typedef struct http_easy_pool http_easy_pool_t;

/* A pool whose new handles get http_easy_setup(opts) and then setup(easy, arg) when setup is
 * not NULL (the async client's share and callbacks). opts is copied; what it points to is
 * borrowed and must outlive the pool. NULL when out of memory. */
http_easy_pool_t *http_easy_pool_new(const http_opts_t *opts, CURLcode (*setup)(CURL *easy, void *arg),
                                     void *arg);
/* Frees the pool and every idle handle (handles in use must have been put back). NULL is fine. */
void http_easy_pool_free(http_easy_pool_t *p);

/* An idle handle, or a new configured one; NULL when out of memory or setup failed. */
CURL *http_easy_pool_get(http_easy_pool_t *p);
/* The options the pool's handles were set up with. */
const http_opts_t *http_easy_pool_opts(const http_easy_pool_t *p);

/* Gives a handle back for reuse (cleaned up instead if the pool cannot grow). */
void http_easy_pool_put(http_easy_pool_t *p, CURL *easy);

#endif
