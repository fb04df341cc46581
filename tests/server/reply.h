/* reply.h - a route's answer, independent of libmicrohttpd, and the reader of its body bytes. */
#ifndef FIXTURE_REPLY_H
#define FIXTURE_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define REPLY_HEADERS_MAX 10
#define REPLY_VALUE_MAX 512
#define REPLY_UNKNOWN_LENGTH UINT64_MAX /* no Content-Length: chunked, ends when the body does */
#define REPLY_NO_CUT UINT64_MAX

enum reply_body {
    REPLY_BODY_NONE,    /* empty body */
    REPLY_BODY_BUF,     /* bytes in buf */
    REPLY_BODY_IMG,     /* body_img_fill(img_index, ...) */
    REPLY_BODY_BIG,     /* body_big_fill(...) */
    REPLY_BODY_ENDLESS  /* body_big_fill(...) forever, with no length */
};

struct reply_header {
    const char *name; /* a string literal */
    char value[REPLY_VALUE_MAX];
};

/* What to answer. The body is described, not materialised: the server streams it from a
 * reply_stream and --emit reads the very same stream, so served and emitted bytes cannot differ. */
struct reply {
    unsigned status;
    bool failed;        /* a builder ran out of room or memory; sent as a bodiless 500 */
    unsigned nheaders;
    struct reply_header headers[REPLY_HEADERS_MAX];
    enum reply_body body;
    char *buf;          /* REPLY_BODY_BUF: malloc'd, owned by the reply until reply_stream_take */
    uint64_t img_index; /* REPLY_BODY_IMG; for REPLY_BODY_BIG the version shift of the stream */
    uint64_t first;     /* entity offset of the first body byte (non-zero for a Range) */
    uint64_t length;    /* the Content-Length announced, or REPLY_UNKNOWN_LENGTH */
    uint64_t cut;       /* drop the connection after this many body bytes, or REPLY_NO_CUT */
    unsigned trickle_bytes; /* when non-zero, hand out at most this much per trickle_ms */
    unsigned trickle_ms;
};

/* The body half of a reply, owned by whoever sends it. */
struct reply_stream {
    enum reply_body body;
    char *buf;
    uint64_t img_index;
    uint64_t first;
    uint64_t length;
    uint64_t cut;
    unsigned trickle_bytes;
    unsigned trickle_ms;
};

void reply_init(struct reply *r);
/* Free what the reply still owns and make it an empty reply again. */
void reply_free(struct reply *r);

/* The builders below never return errors: a failure (header table full, value too long, out of
 * memory) marks the reply `failed`, and reply_finish() turns a failed reply into a bodiless 500.
 * Check once at the end instead of after every header, like struct sbuf. */

/* Add a header; the name must outlive the reply (use literals). */
void reply_header(struct reply *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *reply_header_get(const struct reply *r, const char *name);

/* Set status, Content-Type and a malloc'd body, taking ownership of buf (NULL marks the reply
 * failed, so `reply_buf(r, 200, type, strdup(s), n)` needs no check). */
void reply_buf(struct reply *r, unsigned status, const char *content_type, char *buf, size_t len);
/* Same with a printf-formatted text/plain body of at most 4 KiB. */
void reply_text(struct reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* If r is marked failed, replace it with a bodiless 500 (which cannot fail). */
void reply_finish(struct reply *r);

/* Move the body description out of r into s; r keeps its status and headers. */
void reply_stream_take(struct reply_stream *s, struct reply *r);
/* Copy body bytes [pos, pos + n) into out, n <= max. Returns n > 0, 0 at the end of the body,
 * or -1 when the connection must be dropped at pos (a deliberately cut body). */
ssize_t reply_stream_read(const struct reply_stream *s, uint64_t pos, uint8_t *out, size_t max);
void reply_stream_release(struct reply_stream *s);

#endif
