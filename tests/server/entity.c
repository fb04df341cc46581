/* entity.c - ranged bodies (/img, /big and their fault variants): validators, Range, 206 and 416. */
#include "entity.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "range.h"

/* ENTITY_LAST_MODIFIED_TEXT as a time, for If-Range dates. */
#define ENTITY_LAST_MODIFIED ((time_t)1767225600)

void entity_answer(const struct route_request *req, const struct entity *e, struct reply *r)
{
    enum range_result ranged = RANGE_FULL;
    uint64_t first = 0, last = 0;
    time_t modified = ENTITY_LAST_MODIFIED + (time_t)e->version * 86400;
    const char *etag = (e->flags & ENTITY_NO_ETAG) ? NULL : e->etag;
    char date[64];

    if (range_date_format(modified, date, sizeof(date)) != 0) {
        reply_text(r, 500, "bad date\n");
        return;
    }

    if ((e->flags & ENTITY_RANGES) && strcmp(req->method, "GET") == 0)
        ranged = range_select(req->range, req->if_range, e->size, etag,
                              (e->flags & ENTITY_NO_DATE) ? (time_t)-1 : modified, &first, &last);
    if (ranged == RANGE_UNSATISFIABLE) {
        reply_text(r, 416, "range not satisfiable\n");
        reply_header(r, "Content-Range", "bytes */%" PRIu64, e->size);
        goto validators;
    }

    r->status = 200;
    r->body = e->body;
    r->img_index = e->body == REPLY_BODY_BIG ? e->shift : e->index;
    r->first = 0;
    r->length = e->size;
    reply_header(r, "Content-Type", "%s", e->content_type);
    if (e->flags & ENTITY_RANGES)
        reply_header(r, "Accept-Ranges", "bytes");
    if (ranged == RANGE_PARTIAL) {
        r->status = 206;
        r->first = first;
        r->length = last - first + 1;
        reply_header(r, "Content-Range", "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                     first, last, e->size);
    } else if ((e->flags & ENTITY_FORCE_206) && e->size > 0) {
        r->status = 206;
        reply_header(r, "Content-Range", "bytes 0-%" PRIu64 "/%" PRIu64, e->size - 1, e->size);
    }
validators:
    if (etag != NULL)
        reply_header(r, "ETag", "%s", etag);
    if (!(e->flags & ENTITY_NO_DATE))
        reply_header(r, "Last-Modified", "%s", date);
}
