/* entity.h - ranged bodies (/img, /big and their fault variants): validators, Range, 206 and 416. */
#ifndef FIXTURE_ENTITY_H
#define FIXTURE_ENTITY_H

#include <stdint.h>

#include "reply.h"
#include "route.h"

/* Every entity claims this Last-Modified. */
#define ENTITY_LAST_MODIFIED_TEXT "Thu, 01 Jan 2026 00:00:00 GMT"

enum entity_flags {
    ENTITY_RANGES = 1,   /* honour Range/If-Range and say Accept-Ranges: bytes */
    ENTITY_FORCE_206 = 2, /* answer a full body with 206 and a whole-body Content-Range anyway */
    ENTITY_NO_ETAG = 4,   /* send no ETag (an If-Range ETag never matches) */
    ENTITY_NO_DATE = 8    /* send no Last-Modified (an If-Range date never matches) */
};

struct entity {
    enum reply_body body;     /* REPLY_BODY_IMG or REPLY_BODY_BIG */
    uint64_t index;           /* the image index for REPLY_BODY_IMG */
    uint64_t size;            /* the whole entity's length */
    const char *content_type;
    const char *etag;         /* a strong ETag, quotes included */
    unsigned flags;           /* enum entity_flags */
    uint64_t shift;           /* REPLY_BODY_BIG: byte i is the big stream's byte shift + i (another
                               * version of the entity has other bytes) */
    unsigned version;         /* its Last-Modified is ENTITY_LAST_MODIFIED_TEXT plus this many days */
};

/* Answer a GET or HEAD of the entity into r: 200 with the whole body, or, when flags allow it,
 * the request is a GET (RFC 9110 defines ranges for GET only) and If-Range (if any) matches,
 * 206 with the requested range or 416 for an unsatisfiable one. */
void entity_answer(const struct route_request *req, const struct entity *e, struct reply *r);

#endif
