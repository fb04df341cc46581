/* sbuf.c - growable, capped string buffer used to build response bodies. */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
    b->failed = false;
}

/* Make room for n more bytes plus the terminator; false (and `failed` set) when over the limit
 * or out of memory. */
static bool sbuf_reserve(struct sbuf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (b->failed)
        return false;
    if (n > b->limit || b->len + n > b->limit) {
        b->failed = true;
        return false;
    }
    need = b->len + n + 1;
    if (need <= b->cap)
        return true;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (!sbuf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sbuf_adds(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!sbuf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    b->len += (size_t)n;
}

void sbuf_add_html(struct sbuf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&': sbuf_adds(b, "&amp;"); break;
        case '<': sbuf_adds(b, "&lt;"); break;
        case '>': sbuf_adds(b, "&gt;"); break;
        case '"': sbuf_adds(b, "&quot;"); break;
        default: sbuf_add(b, s, 1); break;
        }
    }
}

char *sbuf_take(struct sbuf *b, size_t *len)
{
    char *p = NULL;

    if (!b->failed) {
        if (b->data == NULL)
            sbuf_add(b, "", 0);
        p = b->data;
        if (p != NULL) {
            if (len != NULL)
                *len = b->len;
            b->data = NULL;
        }
    }
    sbuf_free(b);
    return p;
}

void sbuf_free(struct sbuf *b)
{
    free(b->data);
    sbuf_init(b, b->limit);
}
