/* bufsink: an http_sink that keeps a body in memory up to a hard cap (robots.txt, sitemaps). */
#ifndef NET_BUFSINK_H
#define NET_BUFSINK_H

#include <stddef.h>

#include "net/http/http.h"

typedef struct http_bufsink {
    http_sink_t sink;
    char *data;               /* NUL-terminated; owned, freed by http_bufsink_free */
    size_t len, alloc;
    size_t max;               /* bytes beyond max are dropped and `truncated` is set */
    int truncated;
} http_bufsink_t;

void http_bufsink_init(http_bufsink_t *b, size_t max);
void http_bufsink_free(http_bufsink_t *b);

#endif
