/* route.c - the fixture's URL space: maps one request to a reply, with no libmicrohttpd in sight. */
#include "route.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entity.h"
#include "expect.h"
#include "gen.h"
#include "range.h"
#include "sbuf.h"
#include "site.h"
#include "stats.h"
#include "target.h"
#include "url.h"

#define IMG_DEFAULT_SIZE 20000u
#define IMG_MAX_SIZE (100u * 1024 * 1024)
#define BIG_MAX_MIB (1024u * 1024)          /* 1 TiB */
#define RESET_MID_DEFAULT_SIZE 100000u
#define SLOW_DEFAULT_SIZE 8192u
#define SLOW_CHUNK 256u
#define SLOW_INTERVAL_MS 250u
#define LIE_SHORT_ANNOUNCED 20000u
#define LIE_SHORT_SENT 10000u
#define REDIRECT_MAX_HOPS 1000u
#define RETRY_AFTER_MAX_S 3600u
#define RATE_MAX_KIB (1024u * 1024)         /* 1 GiB/s: the pieces stay under an int */
#define RATE_INTERVAL_MS 100u

/* What a handler gets: the request, its decoded path split at the route prefix, its query. */
struct route_ctx {
    const struct fixture *fx;
    const struct route_request *req;
    const char *path;  /* percent-decoded path */
    const char *rest;  /* the part of path after the route's prefix */
    const char *query; /* raw query without '?', "" when absent */
};

/* ---------------------------------------------------------------------------------------------
 * Shared answers
 * ------------------------------------------------------------------------------------------- */

static void answer_not_found(struct reply *r)
{
    reply_text(r, 404, "not found\n");
}

static void answer_bad_request(struct reply *r, const char *why)
{
    reply_text(r, 400, "bad request: %s\n", why);
}

/* The /img/<index> body of `size` bytes (the ?size= parameter, default dflt). */
static void answer_img(const struct route_ctx *c, struct reply *r, uint64_t index, uint64_t dflt,
                       const char *content_type, unsigned flags)
{
    char etag[64];
    uint64_t size;

    if (!target_query_uint(c->query, "size", dflt, IMG_MAX_SIZE, &size)) {
        answer_bad_request(r, "size");
        return;
    }
    (void)snprintf(etag, sizeof(etag), "\"img-%" PRIu64 "-%" PRIu64 "\"", index, size);
    entity_answer(c->req,
                  &(struct entity){ REPLY_BODY_IMG, index, size, content_type, etag, flags }, r);
}

static void answer_redirect(struct reply *r, unsigned status, const char *location)
{
    reply_text(r, status, "redirecting to %s\n", location);
    reply_header(r, "Location", "%s", location);
}

/* Parse "<k>/<i>" (or just "<i>" when k is NULL) as the whole of rest. */
static bool parse_ids(const char *rest, uint64_t *k, uint64_t *i)
{
    if (k != NULL && (!target_take_uint(&rest, k) || *rest++ != '/'))
        return false;
    return target_take_uint(&rest, i) && *rest == '\0';
}

/* ---------------------------------------------------------------------------------------------
 * Routes
 * ------------------------------------------------------------------------------------------- */

static void route_img(const struct route_ctx *c, struct reply *r)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "png", "image/png" },
        { "gif", "image/gif" }, { "webp", "image/webp" },
    };
    const char *p = c->rest;
    uint64_t index;

    if (!target_take_uint(&p, &index) || *p++ != '.') {
        answer_not_found(r);
        return;
    }
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
        if (strcmp(p, types[t].ext) == 0) {
            answer_img(c, r, index, IMG_DEFAULT_SIZE, types[t].type, ENTITY_RANGES);
            return;
        }
    answer_not_found(r);
}

/* /big/<MiB>[?ranges=0][&validator=both|etag|date|none][&change=K][&version=V]: the fallback and
 * change cases of segmented downloads. ranges=0 ignores Range (200, no Accept-Ranges); validator
 * names the validators sent; change=K makes the entity another version (other bytes, ETag and
 * Last-Modified) from the K+1st counted request of this path and query on (counted like a flaky
 * key, so /reset starts it again); version=V asks for version V outright (for --emit). Every
 * answer goes to the "served" list of /stats. */
static void route_big(const struct route_ctx *c, struct reply *r)
{
    char etag[64], validator[8] = "both", key[STATS_KEY_MAX];
    uint64_t mib, ranges, change, version;
    unsigned flags = ENTITY_RANGES;
    int given;

    if (!target_uint(c->rest, &mib) || mib > BIG_MAX_MIB) {
        answer_not_found(r);
        return;
    }
    if (!target_query_uint(c->query, "ranges", 1, 1, &ranges) ||
        !target_query_uint(c->query, "change", 0, 1000000, &change) ||
        !target_query_uint(c->query, "version", 0, 1000, &version) ||
        (given = target_query_get(c->query, "validator", 0, validator, sizeof(validator))) < 0) {
        answer_bad_request(r, "query");
        return;
    }
    if (given == 0)
        (void)snprintf(validator, sizeof(validator), "both");
    if (ranges == 0)
        flags = 0;
    if (strcmp(validator, "etag") == 0)
        flags |= ENTITY_NO_DATE;
    else if (strcmp(validator, "date") == 0)
        flags |= ENTITY_NO_ETAG;
    else if (strcmp(validator, "none") == 0)
        flags |= ENTITY_NO_ETAG | ENTITY_NO_DATE;
    else if (strcmp(validator, "both") != 0) {
        answer_bad_request(r, "validator");
        return;
    }
    if (change > 0 && !c->req->emit) {
        (void)snprintf(key, sizeof(key), "big-change %s?%s", c->path, c->query);
        if (stats_flaky_hit(c->fx->stats, key) > change)
            version = 1;
    }
    if (version == 0)
        (void)snprintf(etag, sizeof(etag), "\"big-%" PRIu64 "\"", mib);
    else
        (void)snprintf(etag, sizeof(etag), "\"big-%" PRIu64 "-v%" PRIu64 "\"", mib, version);
    entity_answer(c->req,
                  &(struct entity){ REPLY_BODY_BIG, 0, mib * 1048576u, "application/octet-stream",
                                    etag, flags, version * 1048576u * 1024u + version * 4099u,
                                    (unsigned)version },
                  r);
    if (!c->req->emit && (r->status == 200 || r->status == 206) &&
        stats_served(c->fx->stats, (unsigned)r->status, r->first, r->first + r->length - 1) != 0 &&
        !c->fx->quiet)
        fprintf(stderr, "fixture-server: out of memory listing a served range\n");
}

static void route_status(const struct route_ctx *c, struct reply *r)
{
    uint64_t code;

    if (!target_uint(c->rest, &code) || code < 200 || code > 599) {
        answer_not_found(r);
        return;
    }
    if (code == 204 || code == 304) {
        r->status = (unsigned)code;
        return;
    }
    reply_text(r, (unsigned)code, "status %u\n", (unsigned)code);
}

/* /name/<anything>: 200 for any path at all, so tests can feed hostile file names (dots,
 * encoded slashes, control bytes, very long segments) to a client's naming. */
static void route_name(const struct route_ctx *c, struct reply *r)
{
    reply_text(r, 200, "a body for a hostile name (%zu bytes of path)\n", strlen(c->path));
}

/* /long-page/<m>: an HTML page of exactly m MiB whose MiB number j (from 0) starts with a link
 * to /img/<j+1>.jpg, the rest filler: the links a client finds say how many MiB it parsed. */
#define LONG_PAGE_MAX_MIB 64u
#define LONG_PAGE_MIB (1024u * 1024u)

static void route_long_page(const struct route_ctx *c, struct reply *r)
{
    static const char head[] = "<!DOCTYPE html>\n<html><body>\n";
    static const char tail[] = "</body></html>\n";
    uint64_t m;
    size_t len, pos = 0;
    char *buf;

    if (!parse_ids(c->rest, NULL, &m) || m == 0 || m > LONG_PAGE_MAX_MIB) {
        answer_not_found(r);
        return;
    }
    len = (size_t)m * LONG_PAGE_MIB;
    buf = malloc(len);
    if (buf != NULL) {
        memset(buf, '\n', len);
        for (uint64_t j = 0; j < m; j++) {
            size_t at = (size_t)j * LONG_PAGE_MIB;
            int n;

            if (j == 0) {
                memcpy(buf, head, sizeof(head) - 1);
                at += sizeof(head) - 1;
            }
            n = snprintf(buf + at, 64, "<a href=\"/img/%" PRIu64 ".jpg\">%" PRIu64 "</a>\n", j + 1, j);
            /* filler: one paragraph per line, ending before the next MiB */
            for (pos = at + (size_t)n; pos + 80 + 64 < (size_t)(j + 1) * LONG_PAGE_MIB; pos += 80) {
                memcpy(buf + pos, "<p>", 3);
                memset(buf + pos + 3, 'x', 72);
                memcpy(buf + pos + 75, "</p>\n", 5);
            }
        }
        memcpy(buf + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    }
    reply_buf(r, 200, "text/html", buf, len);
}

/* /cd/<i>[?raw=VALUE][&size=N]: the /img/<i>.jpg body (ranges too) with the header
 * Content-Disposition: VALUE (percent-decoded; default attachment; filename="cd-<i>.jpg"), so
 * tests can hand a client any file name a server might send, hostile ones included. */
static void route_cd(const struct route_ctx *c, struct reply *r)
{
    char raw[TARGET_VALUE_MAX] = "";
    uint64_t index;
    int got;

    if (!target_uint(c->rest, &index)) {
        answer_not_found(r);
        return;
    }
    got = target_query_get(c->query, "raw", 0, raw, sizeof(raw));
    if (got < 0 || strpbrk(raw, "\r\n")) {          /* no header injection: HTTP forbids it */
        answer_bad_request(r, "raw");
        return;
    }
    answer_img(c, r, index, IMG_DEFAULT_SIZE, "image/jpeg", ENTITY_RANGES);
    if (got == 0)
        reply_header(r, "Content-Disposition", "attachment; filename=\"cd-%" PRIu64 ".jpg\"", index);
    else
        reply_header(r, "Content-Disposition", "%s", raw);
}

/* /flaky/<k>/<i>, /flaky-date/<k>/<i>, /flaky429/<k>/<i>: the first k hits of each (route, k, i)
 * fail with `status` and a Retry-After (seconds from ?retry-after=S, default 1, or a date); later
 * hits get the /img/<i>.jpg body. */
static void answer_flaky(const struct route_ctx *c, struct reply *r, const char *name,
                         unsigned status, bool retry_date)
{
    char key[96];
    uint64_t k, i, hits, after;

    if (!parse_ids(c->rest, &k, &i)) {
        answer_not_found(r);
        return;
    }
    if (!target_query_uint(c->query, "retry-after", 1, RETRY_AFTER_MAX_S, &after)) {
        answer_bad_request(r, "retry-after");
        return;
    }
    (void)snprintf(key, sizeof(key), "%s/%" PRIu64 "/%" PRIu64, name, k, i);
    hits = c->req->emit ? UINT64_MAX : stats_flaky_hit(c->fx->stats, key);
    if (hits > k) {
        answer_img(c, r, i, IMG_DEFAULT_SIZE, "image/jpeg", ENTITY_RANGES);
        return;
    }
    reply_text(r, status, "failure %" PRIu64 " of %" PRIu64 ", try again\n", hits, k);
    if (retry_date) {
        char date[RANGE_DATE_MAX];

        /* Whole seconds: now + 2 s is 1 to 2 s ahead of any clock reading taken now. */
        if (range_date_format(time(NULL) + 2, date, sizeof(date)) != 0) {
            r->failed = true;
            return;
        }
        reply_header(r, "Retry-After", "%s", date);
    } else {
        reply_header(r, "Retry-After", "%" PRIu64, after);
    }
}

static void route_flaky(const struct route_ctx *c, struct reply *r)
{
    answer_flaky(c, r, "flaky", 503, false);
}

static void route_flaky_date(const struct route_ctx *c, struct reply *r)
{
    answer_flaky(c, r, "flaky-date", 503, true);
}

static void route_flaky429(const struct route_ctx *c, struct reply *r)
{
    answer_flaky(c, r, "flaky429", 429, false);
}

/* Announce the whole /img body but drop the connection halfway through it. A satisfiable Range
 * is served in full (206), so a client can resume what the reset cut short. */
static void route_reset_mid(const struct route_ctx *c, struct reply *r)
{
    uint64_t i;

    if (!parse_ids(c->rest, NULL, &i)) {
        answer_not_found(r);
        return;
    }
    answer_img(c, r, i, RESET_MID_DEFAULT_SIZE, "image/jpeg", ENTITY_RANGES);
    if (r->status == 200)
        r->cut = r->length / 2;
}

static void route_slow(const struct route_ctx *c, struct reply *r)
{
    uint64_t i;

    if (!parse_ids(c->rest, NULL, &i)) {
        answer_not_found(r);
        return;
    }
    answer_img(c, r, i, SLOW_DEFAULT_SIZE, "image/jpeg", ENTITY_RANGES);
    r->trickle_bytes = SLOW_CHUNK;
    r->trickle_ms = SLOW_INTERVAL_MS;
}

static void route_redirect(const struct route_ctx *c, struct reply *r)
{
    char location[64];
    uint64_t n, i;

    if (!parse_ids(c->rest, &n, &i) || n > REDIRECT_MAX_HOPS) {
        answer_not_found(r);
        return;
    }
    if (n == 0)
        (void)snprintf(location, sizeof(location), "/img/%" PRIu64 ".jpg", i);
    else
        (void)snprintf(location, sizeof(location), "/redirect/%" PRIu64 "/%" PRIu64, n - 1, i);
    answer_redirect(r, 302, location);
}

static void route_redirect_loop(const struct route_ctx *c, struct reply *r)
{
    char location[64];
    uint64_t i;

    if (!parse_ids(c->rest, NULL, &i)) {
        answer_not_found(r);
        return;
    }
    (void)snprintf(location, sizeof(location), "/redirect-loop/%" PRIu64, i);
    answer_redirect(r, 302, location);
}

/* A cycle of n redirects: /redirect-cycle/<n>/<k> answers 302 to /redirect-cycle/<n>/<k+1 mod n>. */
static void route_redirect_cycle(const struct route_ctx *c, struct reply *r)
{
    char location[64];
    uint64_t n, k;

    if (!parse_ids(c->rest, &n, &k) || n == 0 || n > REDIRECT_MAX_HOPS || k >= n) {
        answer_not_found(r);
        return;
    }
    (void)snprintf(location, sizeof(location), "/redirect-cycle/%" PRIu64 "/%" PRIu64, n, (k + 1) % n);
    answer_redirect(r, 302, location);
}

/* The Host header if it looks like host[:port], else this server's own authority. */
static const char *request_authority(const struct route_ctx *c)
{
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789.-:[]";
    const char *host = c->req->host;

    if (host == NULL || host[0] == '\0' || strlen(host) > 255 || host[strspn(host, allowed)] != '\0')
        return c->fx->authority;
    return host;
}

static void route_redirect_abs(const struct route_ctx *c, struct reply *r)
{
    char location[320];
    uint64_t i;

    if (!parse_ids(c->rest, NULL, &i)) {
        answer_not_found(r);
        return;
    }
    (void)snprintf(location, sizeof(location), "http://%s/img/%" PRIu64 ".jpg",
                   request_authority(c), i);
    answer_redirect(r, 301, location);
}

/* /redirect-port/<port>/<i>: 302 to /img/<i>.jpg on the same host name at another port, i.e. at
 * another origin (a second fixture server), to check what a client carries across. */
static void route_redirect_port(const struct route_ctx *c, struct reply *r)
{
    const char *authority = request_authority(c);
    char location[320];
    uint64_t port, i;
    size_t host_len;

    if (!parse_ids(c->rest, &port, &i) || port == 0 || port > 65535) {
        answer_not_found(r);
        return;
    }
    if (authority[0] == '[')
        host_len = strcspn(authority, "]") + 1;
    else
        host_len = strcspn(authority, ":");
    (void)snprintf(location, sizeof(location), "http://%.*s:%" PRIu64 "/img/%" PRIu64 ".jpg",
                   (int)host_len, authority, port, i);
    answer_redirect(r, 302, location);
}

/* /cookie/<name>/<value>: 200 with `Set-Cookie: <name>=<value>; Path=/` (letters, digits, '-'
 * and '_' only), for a client's cookie jar. */
static void route_cookie(const struct route_ctx *c, struct reply *r)
{
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    const char *slash = strchr(c->rest, '/');
    size_t name_len = slash ? (size_t)(slash - c->rest) : 0;

    if (!slash || name_len == 0 || name_len > 64 || strspn(c->rest, allowed) != name_len ||
        slash[1] == '\0' || strlen(slash + 1) > 256 || slash[1 + strspn(slash + 1, allowed)] != '\0') {
        answer_not_found(r);
        return;
    }
    reply_text(r, 200, "cookie %.*s set\n", (int)name_len, c->rest);
    reply_header(r, "Set-Cookie", "%.*s=%s; Path=/", (int)name_len, c->rest, slash + 1);
}

/* /links?a=URL&img=URL...: an HTML page with an <a href> for each `a` and an <img src> for each
 * `img` (8 of each at most), so a crawl can be sent to any other origin, such as a second server. */
static void route_links(const struct route_ctx *c, struct reply *r)
{
    static const struct {
        const char *param, *before, *after;
    } kinds[] = { { "a", "<a href=\"", "\">link</a>\n" }, { "img", "<img src=\"", "\">\n" } };
    char value[TARGET_VALUE_MAX];
    struct sbuf b;
    char *body;
    size_t len = 0;

    sbuf_init(&b, 64 * 1024);
    sbuf_adds(&b, "<!DOCTYPE html>\n<html><head><title>links</title></head><body>\n");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (unsigned n = 0; n < 8; n++) {
            int found = target_query_get(c->query, kinds[k].param, n, value, sizeof(value));

            if (found < 0) {
                sbuf_free(&b);
                answer_bad_request(r, kinds[k].param);
                return;
            }
            if (found == 0)
                break;
            sbuf_adds(&b, kinds[k].before);
            sbuf_add_html(&b, value);
            sbuf_adds(&b, kinds[k].after);
        }
    }
    sbuf_adds(&b, "</body></html>\n");
    body = sbuf_take(&b, &len);
    reply_buf(r, 200, "text/html; charset=utf-8", body, len);
}

static void route_lie_short(const struct route_ctx *c, struct reply *r)
{
    char etag[64];
    uint64_t i;

    if (!parse_ids(c->rest, NULL, &i)) {
        answer_not_found(r);
        return;
    }
    (void)snprintf(etag, sizeof(etag), "\"img-%" PRIu64 "-%u\"", i, LIE_SHORT_ANNOUNCED);
    entity_answer(c->req,
                  &(struct entity){ REPLY_BODY_IMG, i, LIE_SHORT_ANNOUNCED, "image/jpeg", etag, 0 },
                  r);
    r->cut = LIE_SHORT_SENT;
}

static void route_lie_endless(const struct route_ctx *c, struct reply *r)
{
    (void)c;
    r->status = 200;
    r->body = REPLY_BODY_ENDLESS;
    r->length = REPLY_UNKNOWN_LENGTH;
    reply_header(r, "Content-Type", "application/octet-stream");
}

static void route_range_ignored(const struct route_ctx *c, struct reply *r)
{
    uint64_t i;

    if (!parse_ids(c->rest, NULL, &i)) {
        answer_not_found(r);
        return;
    }
    answer_img(c, r, i, IMG_DEFAULT_SIZE, "image/jpeg", 0);
}

static void route_lie_206(const struct route_ctx *c, struct reply *r)
{
    uint64_t i;

    if (!parse_ids(c->rest, NULL, &i)) {
        answer_not_found(r);
        return;
    }
    answer_img(c, r, i, IMG_DEFAULT_SIZE, "image/jpeg", ENTITY_RANGES | ENTITY_FORCE_206);
}

static void route_robots(const struct route_ctx *c, struct reply *r)
{
    site_answer_robots(c->fx, r);
}

static void route_sitemap_index(const struct route_ctx *c, struct reply *r)
{
    site_answer_sitemap_index(c->fx, r);
}

static void route_sitemap_pages(const struct route_ctx *c, struct reply *r)
{
    site_answer_sitemap_pages(c->fx, r);
}

static void route_site_root(const struct route_ctx *c, struct reply *r)
{
    (void)c;
    answer_redirect(r, 301, "/site/");
}

static void route_site(const struct route_ctx *c, struct reply *r)
{
    site_answer(c->fx, c->path, r);
}

static void route_gen(const struct route_ctx *c, struct reply *r)
{
    gen_answer(c->path, r);
}

/* /site-expected?depth=D&start=REF&start=REF&sitemap=1&robots=obey|ignore (see expect.c). */
static void route_site_expected(const struct route_ctx *c, struct reply *r)
{
    static const size_t value_max = TARGET_VALUE_MAX;
    struct expect_query q = { .max_depth = EXPECT_DEPTH_UNLIMITED, .obey_robots = true };
    char *starts = NULL; /* EXPECT_STARTS_MAX values of value_max bytes, off the stack */
    char value[TARGET_VALUE_MAX];
    uint64_t depth;
    int found;
    char *json;

    found = target_query_get(c->query, "depth", 0, value, sizeof(value));
    if (found < 0 || (found > 0 && (!target_uint(value, &depth) || depth > 1000))) {
        answer_bad_request(r, "depth");
        goto cleanup;
    }
    if (found > 0)
        q.max_depth = (int)depth;
    starts = malloc(EXPECT_STARTS_MAX * value_max);
    if (starts == NULL) {
        r->failed = true;
        goto cleanup;
    }
    for (unsigned n = 0; n < EXPECT_STARTS_MAX; n++) {
        char *start = starts + n * value_max;

        found = target_query_get(c->query, "start", n, start, value_max);
        if (found < 0) {
            answer_bad_request(r, "start");
            goto cleanup;
        }
        if (found == 0)
            break;
        q.starts[q.nstarts++] = start;
    }
    found = target_query_get(c->query, "sitemap", 0, value, sizeof(value));
    q.sitemap = found > 0 && strcmp(value, "0") != 0;
    found = target_query_get(c->query, "robots", 0, value, sizeof(value));
    if (found < 0 || (found > 0 && strcmp(value, "obey") != 0 && strcmp(value, "ignore") != 0)) {
        answer_bad_request(r, "robots must be obey or ignore");
        goto cleanup;
    }
    q.obey_robots = found == 0 || strcmp(value, "obey") == 0;

    json = expect_json(c->fx, &q);
    reply_buf(r, 200, "application/json", json, json != NULL ? strlen(json) : 0);

cleanup:
    free(starts);
}

static void route_stats(const struct route_ctx *c, struct reply *r)
{
    char *json = stats_json(c->fx->stats);

    reply_buf(r, 200, "application/json", json, json != NULL ? strlen(json) : 0);
}

static void route_reset(const struct route_ctx *c, struct reply *r)
{
    stats_reset(c->fx->stats);
    reply_text(r, 200, "ok\n");
}

/* /log[?times=1]: the request log, with each request's arrival time when asked. */
static void route_log(const struct route_ctx *c, struct reply *r)
{
    size_t len = 0;
    uint64_t times = 0;
    char *log;

    if (!target_query_uint(c->query, "times", 0, 1, &times)) {
        answer_bad_request(r, "times must be 0 or 1");
        return;
    }
    log = stats_log(c->fx->stats, times == 1, &len);

    reply_buf(r, 200, "text/plain; charset=utf-8", log, len);
}

static void route_creds(const struct route_ctx *c, struct reply *r)
{
    size_t len = 0;
    char *log = stats_creds_log(c->fx->stats, &len);

    reply_buf(r, 200, "text/plain; charset=utf-8", log, len);
}

/* ---------------------------------------------------------------------------------------------
 * Dispatch
 * ------------------------------------------------------------------------------------------- */

/* Which server-wide delay a counted request without ?delay waits (route_default_delay_ms). */
enum route_delay {
    ROUTE_DELAY_ANY,     /* --delay */
    ROUTE_DELAY_ROBOTS,  /* --robots-delay when set, else --delay */
    ROUTE_DELAY_SITEMAP  /* --sitemap-delay when set, else --delay */
};

struct route {
    const char *prefix;
    bool exact;   /* the whole path must equal prefix */
    bool control; /* left out of the statistics */
    void (*answer)(const struct route_ctx *c, struct reply *r);
    enum route_delay delay;
};

/* First match wins; no prefix here is a prefix of another one's path segment. */
static const struct route routes[] = {
    { "/img/", false, false, route_img },
    { "/big/", false, false, route_big },
    { "/status/", false, false, route_status },
    { "/flaky/", false, false, route_flaky },
    { "/flaky-date/", false, false, route_flaky_date },
    { "/flaky429/", false, false, route_flaky429 },
    { "/reset-mid/", false, false, route_reset_mid },
    { "/slow/", false, false, route_slow },
    { "/redirect/", false, false, route_redirect },
    { "/redirect-loop/", false, false, route_redirect_loop },
    { "/redirect-cycle/", false, false, route_redirect_cycle },
    { "/redirect-abs/", false, false, route_redirect_abs },
    { "/redirect-port/", false, false, route_redirect_port },
    { "/cookie/", false, false, route_cookie },
    { "/links", true, false, route_links },
    { "/lie/short/", false, false, route_lie_short },
    { "/lie/endless", true, false, route_lie_endless },
    { "/lie/206/", false, false, route_lie_206 },
    { "/range-ignored/", false, false, route_range_ignored },
    { "/name/", false, false, route_name },
    { "/long-page/", false, false, route_long_page },
    { "/cd/", false, false, route_cd },
    { "/robots.txt", true, false, route_robots, ROUTE_DELAY_ROBOTS },
    { "/sitemap.xml", true, false, route_sitemap_index, ROUTE_DELAY_SITEMAP },
    { "/sitemap-pages.xml", true, false, route_sitemap_pages, ROUTE_DELAY_SITEMAP },
    { "/site", true, false, route_site_root },
    { "/site/", false, false, route_site },
    { "/site-expected", true, true, route_site_expected },
    { "/gen/", false, false, route_gen },
    { "/stats", true, true, route_stats },
    { "/reset", true, true, route_reset },
    { "/log", true, true, route_log },
    { "/creds", true, true, route_creds },
};

/* ?rate=KIB on any route with a body: hand it out at about KIB KiB/s, a tenth every
 * RATE_INTERVAL_MS, unless the route trickles on its own (/slow). The server's block size also
 * caps one piece (64 KiB, or 256 KiB for bodies of 256 KiB and more). */
static void answer_rate(const struct route_ctx *c, struct reply *r)
{
    uint64_t kib;

    if (r->body == REPLY_BODY_NONE || r->trickle_bytes > 0)
        return;
    if (!target_query_uint(c->query, "rate", 0, RATE_MAX_KIB, &kib)) {
        reply_free(r);
        answer_bad_request(r, "rate");
        return;
    }
    if (kib == 0)
        return;
    r->trickle_bytes = (unsigned)(kib * 1024 / (1000 / RATE_INTERVAL_MS));
    if (r->trickle_bytes == 0)
        r->trickle_bytes = 1;
    r->trickle_ms = RATE_INTERVAL_MS;
}

static const struct route *route_find(const char *path)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];

        if (rt->exact ? strcmp(path, rt->prefix) == 0
                      : strncmp(path, rt->prefix, strlen(rt->prefix)) == 0)
            return rt;
    }
    return NULL;
}

void route_answer(const struct fixture *fx, const struct route_request *req, struct reply *r)
{
    char path[URL_MAX];
    struct route_ctx c = { .fx = fx, .req = req };
    const struct route *rt;

    reply_init(r);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        reply_text(r, 405, "only GET and HEAD\n");
        reply_header(r, "Allow", "GET, HEAD");
        goto finish;
    }
    if (!target_path(req->target, path, sizeof(path), &c.query)) {
        answer_bad_request(r, "path");
        goto finish;
    }
    rt = route_find(path);
    if (rt == NULL) {
        answer_not_found(r);
        goto finish;
    }
    c.path = path;
    c.rest = path + strlen(rt->prefix);
    rt->answer(&c, r);
    answer_rate(&c, r);

finish:
    reply_finish(r);
}

unsigned route_delay_ms(const char *target)
{
    const char *raw, *query;
    size_t raw_len;
    uint64_t ms;

    target_split(target, &raw, &raw_len, &query);
    if (!target_query_uint(query, "delay", 0, ROUTE_DELAY_MAX_MS, &ms))
        return 0;
    return (unsigned)ms;
}

unsigned route_default_delay_ms(const struct fixture *fx, const char *target)
{
    char path[URL_MAX];
    const char *query;
    const struct route *rt;

    if (!target_path(target, path, sizeof(path), &query))
        return fx->delay_ms;
    rt = route_find(path);
    if (rt != NULL && rt->delay == ROUTE_DELAY_ROBOTS && fx->robots_delay_ms > 0)
        return fx->robots_delay_ms;
    if (rt != NULL && rt->delay == ROUTE_DELAY_SITEMAP && fx->sitemap_delay_ms > 0)
        return fx->sitemap_delay_ms;
    return fx->delay_ms;
}

bool route_is_control(const char *target)
{
    char path[URL_MAX];
    const char *query;
    const struct route *rt;

    if (!target_path(target, path, sizeof(path), &query))
        return false;
    rt = route_find(path);
    return rt != NULL && rt->control;
}
