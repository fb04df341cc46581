/* bufsink: grow-by-doubling buffer with a cap chosen at creation. */
#include "net/http/bufsink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int bufsink_write(http_sink_t *sink, const char *data, size_t len)
{
    http_bufsink_t *b = (http_bufsink_t *)sink;
    size_t take = len;

    if (b->len + take > b->max) {
        take = b->max - b->len;
        b->truncated = 1;
    }
    if (b->len + take + 1 > b->alloc) {
        size_t alloc = b->alloc ? b->alloc : 4096;
        char *p;
        while (alloc < b->len + take + 1)
            alloc *= 2;
        p = realloc(b->data, alloc);
        if (!p)
            return -ENOMEM;
        b->data = p;
        b->alloc = alloc;
    }
    memcpy(b->data + b->len, data, take);
    b->len += take;
    b->data[b->len] = '\0';
    return HTTP_SINK_OK;
}

void http_bufsink_init(http_bufsink_t *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->sink.write = bufsink_write;
    b->max = max;
}

void http_bufsink_free(http_bufsink_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}
