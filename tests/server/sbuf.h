/* sbuf.h - growable, capped string buffer used to build response bodies. */
#ifndef FIXTURE_SBUF_H
#define FIXTURE_SBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A buffer that refuses to grow past `limit`; after the first failure every append is a no-op
 * and `failed` stays set, so callers check once at the end instead of after every append. */
struct sbuf {
    char *data;     /* always NUL-terminated when non-NULL; owned by the sbuf */
    size_t len;
    size_t cap;
    size_t limit;
    bool failed;
};

void sbuf_init(struct sbuf *b, size_t limit);
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with & < > " escaped for use inside an HTML attribute or text. */
void sbuf_add_html(struct sbuf *b, const char *s);
/* Hand the data to the caller (who frees it with free()); returns NULL if any append failed.
 * The sbuf is empty afterwards either way. */
char *sbuf_take(struct sbuf *b, size_t *len);
void sbuf_free(struct sbuf *b);

#endif
