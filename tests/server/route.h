/* route.h - the fixture's URL space: maps one request to a reply, with no libmicrohttpd in sight. */
#ifndef FIXTURE_ROUTE_H
#define FIXTURE_ROUTE_H

#include <stdbool.h>

#include "fixture.h"
#include "reply.h"

#define ROUTE_DELAY_MAX_MS 60000u

struct route_request {
    const char *method;   /* request method; only GET and HEAD are answered */
    const char *target;   /* the request-target exactly as received: path?query */
    const char *range;    /* Range header value, or NULL */
    const char *if_range; /* If-Range header value, or NULL */
    const char *host;     /* Host header value, or NULL */
    bool emit;            /* answering for --emit: no side effects; flaky routes give their 200 */
};

/* Answer req into r (which the callee initialises; the caller frees it with reply_free).
 * Never fails: bad requests become 4xx replies and internal failures a bodiless 500. */
void route_answer(const struct fixture *fx, const struct route_request *req, struct reply *r);

/* The ?delay= of a target in milliseconds, capped at ROUTE_DELAY_MAX_MS; 0 when absent or
 * malformed. */
unsigned route_delay_ms(const char *target);

/* The delay of a counted request whose target has no ?delay: --robots-delay for /robots.txt,
 * --sitemap-delay for the sitemaps (each when set), --delay otherwise. */
unsigned route_default_delay_ms(const struct fixture *fx, const char *target);

/* True for the control routes /stats, /reset, /log and /site-expected, which the statistics
 * leave out so that asking for them does not change them. */
bool route_is_control(const char *target);

#endif
