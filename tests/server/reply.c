/* reply.c - a route's answer, independent of libmicrohttpd, and the reader of its body bytes. */
#include "reply.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"

#define REPLY_TEXT_MAX 4096

void reply_init(struct reply *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 500;
    r->body = REPLY_BODY_NONE;
    r->length = 0;
    r->cut = REPLY_NO_CUT;
}

void reply_free(struct reply *r)
{
    free(r->buf);
    reply_init(r);
}

void reply_header(struct reply *r, const char *name, const char *fmt, ...)
{
    struct reply_header *h;
    va_list ap;
    int n;

    if (r->nheaders >= REPLY_HEADERS_MAX) {
        r->failed = true;
        return;
    }
    h = &r->headers[r->nheaders];
    va_start(ap, fmt);
    n = vsnprintf(h->value, sizeof(h->value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(h->value)) {
        r->failed = true;
        return;
    }
    h->name = name;
    r->nheaders++;
}

const char *reply_header_get(const struct reply *r, const char *name)
{
    for (unsigned i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

void reply_finish(struct reply *r)
{
    if (!r->failed)
        return;
    reply_free(r);
    r->status = 500;
}

void reply_buf(struct reply *r, unsigned status, const char *content_type, char *buf, size_t len)
{
    free(r->buf);
    r->buf = buf;
    r->status = status;
    r->body = REPLY_BODY_BUF;
    r->first = 0;
    r->length = len;
    if (buf == NULL) {
        r->failed = true;
        return;
    }
    reply_header(r, "Content-Type", "%s", content_type);
}

void reply_text(struct reply *r, unsigned status, const char *fmt, ...)
{
    char text[REPLY_TEXT_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(text)) {
        r->failed = true;
        return;
    }
    reply_buf(r, status, "text/plain; charset=utf-8", strdup(text), (size_t)n);
}

void reply_stream_take(struct reply_stream *s, struct reply *r)
{
    s->body = r->body;
    s->buf = r->buf;
    s->img_index = r->img_index;
    s->first = r->first;
    s->length = r->length;
    s->cut = r->cut;
    s->trickle_bytes = r->trickle_bytes;
    s->trickle_ms = r->trickle_ms;
    r->buf = NULL;
    r->body = REPLY_BODY_NONE;
}

ssize_t reply_stream_read(const struct reply_stream *s, uint64_t pos, uint8_t *out, size_t max)
{
    uint64_t n = max;

    if (s->cut != REPLY_NO_CUT) {
        if (pos >= s->cut)
            return -1;
        if (n > s->cut - pos)
            n = s->cut - pos;
    }
    if (s->length != REPLY_UNKNOWN_LENGTH) {
        if (pos >= s->length)
            return 0;
        if (n > s->length - pos)
            n = s->length - pos;
    }
    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    switch (s->body) {
    case REPLY_BODY_NONE:
        return 0;
    case REPLY_BODY_BUF:
        memcpy(out, s->buf + pos, (size_t)n);
        break;
    case REPLY_BODY_IMG:
        body_img_fill(s->img_index, s->first + pos, out, (size_t)n);
        break;
    case REPLY_BODY_BIG:
    case REPLY_BODY_ENDLESS:
        /* img_index is the version shift of a /big body (0 for the endless one) */
        body_big_fill(s->img_index + s->first + pos, out, (size_t)n);
        break;
    }
    return (ssize_t)n;
}

void reply_stream_release(struct reply_stream *s)
{
    free(s->buf);
    s->buf = NULL;
}
