/* crawl_har: HTTP Archive 1.2, written one entry per line as transfers finish, read back the same
 * way. */
#include "crawler/report/har.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crawler/cli/version.h"
#include "parse/url.h"

/* Reals with up to 12 significant digits: µs precision on durations up to 10^6 s, and none of
 * the 17-digit noise of binary fractions. */
#define HAR_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))
#define HAR_QUERY_MAX 100           /* query parameters listed per URL */
#define HAR_LINE_MAX (16u << 20)    /* longest entry line the reader accepts */

struct crawl_har {
    FILE *f;
    json_t *pages;                  /* the only thing held: a few pages */
    uint64_t entries;
    int error;                      /* first negative errno met */
};

static const char har_header_end[] = ",\"entries\":[\n";
static const char har_middle[] = "],\"pages\":[\n";
static const char har_footer[] = "]}}\n";

/* ---- building blocks ------------------------------------------------------------------------ */

char *crawl_har_time_format(int64_t wall_us, char *buf, size_t n)
{
    int64_t secs = wall_us / 1000000, us = wall_us % 1000000;
    time_t t;
    struct tm tm;

    if (us < 0) {                   /* floor, so that times before 1970 stay in order */
        us += 1000000;
        secs--;
    }
    t = (time_t)secs;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, n, "1970-01-01T00:00:00.000Z");
        return buf;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000));
    return buf;
}

int crawl_har_time_parse(const char *s, int64_t *wall_us)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, used = 0, frac_us = 0, digits = 0;
    long offset_s = 0;
    const char *p;
    time_t t;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 || used != 19)
        return -EINVAL;
    p = s + used;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 6)
                frac_us = frac_us * 10 + (*p - '0');
        }
        if (digits == 0)
            return -EINVAL;
        for (int k = digits; k < 6; k++)
            frac_us *= 10;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, n = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
            return -EINVAL;
        offset_s = (long)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -EINVAL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    *wall_us = ((int64_t)t - offset_s) * 1000000 + frac_us;
    return 0;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static double har_ms(int64_t us)
{
    return (double)us / 1000.0;
}

void crawl_har_timings(const http_timing_t *t, crawl_har_timings_t *out)
{
    /* curl's marks, each the end of a phase, from the start of the transfer. A mark of 0 with a
     * later mark set means the phase did not apply (a reused connection has no lookup or
     * connect, http has no TLS); when it and every later mark are 0 the transfer ended during
     * that phase (a refused connect, a server that never answered), which then lasts until the
     * end. */
    int64_t mark[5] = { t->dns_us, t->connect_us, t->tls_us, t->pretransfer_us, t->first_byte_us };
    int64_t q = t->queue_us > 0 ? t->queue_us : 0;
    int64_t end = max64(t->total_us, q);
    int64_t at[5];
    int last = -1;
    int64_t prev = q;

    for (int i = 0; i < 5; i++)
        if (mark[i] > 0)
            last = i;
    for (int i = 0; i < 5; i++) {
        if (i > last)
            at[i] = i == last + 1 ? end : prev;    /* the phase the transfer ended in */
        else
            at[i] = mark[i] > 0 ? mark[i] : prev;  /* 0: did not apply, takes no time */
        at[i] = max64(at[i], prev);
        if (at[i] > end)
            at[i] = end;
        prev = at[i];
    }
    /* at[]: lookup end, connect end, TLS end, pretransfer, first byte; all in [q, end], in order */
    out->blocked = t->queue_us > 0 ? har_ms(q) : -1;
    out->dns = mark[0] > 0 || last < 0 ? har_ms(at[0] - q) : -1;
    out->connect = mark[1] > 0 || last < 1 ? har_ms(at[2] - at[0]) : -1;
    out->ssl = mark[2] > 0 ? har_ms(at[2] - at[1]) : -1;
    out->send = har_ms(at[3] - at[2]);
    out->wait = har_ms(at[4] - at[3]);
    out->receive = har_ms(end - at[4]);
    if (last < 0)
        out->connect = -1;          /* ended in the lookup */
    out->time = 0;
    if (out->blocked > 0)
        out->time += out->blocked;
    if (out->dns > 0)
        out->time += out->dns;
    if (out->connect > 0)
        out->time += out->connect;
    out->time += out->send + out->wait + out->receive;
}

/* [{name, value}] of the URL's query, as it is written (not decoded), at most HAR_QUERY_MAX. */
static json_t *har_query(const char *url)
{
    json_t *list = json_array();
    const char *q = strchr(url, '?');
    const char *end;

    if (!list || !q)
        return list;
    q++;
    end = q + strcspn(q, "#");
    while (q < end && json_array_size(list) < HAR_QUERY_MAX) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        const char *name_end = eq ? eq : stop;

        if (stop > q) {
            json_t *name = json_stringn(q, (size_t)(name_end - q));
            json_t *value = eq ? json_stringn(eq + 1, (size_t)(stop - eq - 1)) : json_string("");
            json_t *pair = name && value ? json_pack("{s:o, s:o}", "name", name, "value", value) : NULL;

            if (!pair) {
                json_decref(name);
                json_decref(value);
                json_decref(list);
                return NULL;
            }
            json_array_append_new(list, pair);
        }
        q = amp ? amp + 1 : end;
    }
    return list;
}

/* A string that is valid UTF-8, since a server's header may not be. */
static json_t *har_string(const char *s)
{
    json_t *v = json_string(s);
    char *copy;

    if (v)
        return v;
    copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

/* A URL as a HAR shows it: its password masked (parse_url_redact). */
static json_t *har_url(const char *url)
{
    char buf[PARSE_URL_REDACT_SIZE];

    return har_string(parse_url_redact(url, buf, sizeof(buf)));
}

/* ---- headers as they went over the wire (http_hop_t, with http_opts_t.capture) ----------------- */

/* Headers that carry credentials: a HAR is shared (bug reports, devtools), so their values are
 * shown as "***", as URL passwords are (the scheme of an Authorization is kept: "Basic ***"). */
static int har_header_secret(const char *name, size_t len)
{
    static const char *const names[] = { "authorization", "proxy-authorization", "cookie", NULL };

    for (size_t i = 0; names[i]; i++)
        if (len == strlen(names[i]) && !strncasecmp(name, names[i], len))
            return 1;
    return 0;
}

/* The lines after the first (the request or status line) of a head as {name, value} pairs, in
 * order, up to the blank line; a line without a colon is skipped; credentials are masked
 * (har_header_secret). NULL when out of memory. */
json_t *crawl_har_head_pairs(const char *head, size_t len)
{
    json_t *list = json_array();
    const char *p = head, *end = head + len;
    int first = 1;

    if (!list)
        return NULL;
    while (head && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol ? eol : end, *colon, *v;
        json_t *pair;
        char *name, *value;

        if (stop > p && stop[-1] == '\r')
            stop--;
        if (!first && stop == p)
            break;                      /* the blank line: the head ends */
        colon = first ? NULL : memchr(p, ':', (size_t)(stop - p));
        first = 0;
        if (colon && colon > p) {
            v = colon + 1;
            while (v < stop && (*v == ' ' || *v == '\t'))
                v++;
            name = strndup(p, (size_t)(colon - p));
            if (har_header_secret(p, (size_t)(colon - p))) {
                size_t scheme = strcspn(v, " ");    /* "Basic xyz": the scheme says nothing secret */

                if (scheme >= (size_t)(stop - v) || !strncasecmp(p, "cookie", 6))
                    value = strdup("***");
                else if (asprintf(&value, "%.*s ***", (int)scheme, v) < 0)
                    value = NULL;
            } else {
                value = strndup(v, (size_t)(stop - v));
            }
            pair = name && value ? json_pack("{s:o, s:o}", "name", har_string(name), "value", har_string(value)) : NULL;
            free(name);
            free(value);
            if (!pair || json_array_append_new(list, pair) < 0) {
                json_decref(list);
                return NULL;
            }
        }
        p = eol ? eol + 1 : end;
    }
    return list;
}

/* The first line of a head split at its spaces: "GET /x HTTP/1.1" gives the version from the last
 * word; "HTTP/1.1 404 Not Found" the version from the first and the reason after the status. */
static void har_first_line(const char *head, size_t len, int request, char *version, size_t vn,
                           char *reason, size_t rn)
{
    size_t l = head ? strcspn(head, "\r\n") : 0;
    const char *sp;

    version[0] = '\0';
    if (reason)
        reason[0] = '\0';
    if (l > len)
        l = len;
    if (request) {
        for (sp = head + l; sp > head && sp[-1] != ' '; sp--)
            ;
        snprintf(version, vn, "%.*s", (int)(head + l - sp), sp);
        return;
    }
    sp = head ? memchr(head, ' ', l) : NULL;
    snprintf(version, vn, "%.*s", (int)(sp ? (size_t)(sp - head) : l), head ? head : "");
    if (sp && reason) {
        const char *r = memchr(sp + 1, ' ', (size_t)(head + l - sp - 1));

        if (r)
            snprintf(reason, rn, "%.*s", (int)(head + l - r - 1), r + 1);
    }
}

/* The value of the first header called name in a head, into out (empty if none). */
static void har_head_value(const char *head, size_t len, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *p = head, *end = head + len;

    out[0] = '\0';
    while (head && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol ? eol : end;

        if ((size_t)(stop - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;

            while (v < stop && (*v == ' ' || *v == '\t'))
                v++;
            while (stop > v && (stop[-1] == '\r' || stop[-1] == ' '))
                stop--;
            snprintf(out, n, "%.*s", (int)(stop - v), v);
            return;
        }
        p = eol ? eol + 1 : end;
    }
}

/* Puts what went over the wire into an entry's request and response: every header as sent and
 * as received, the reason phrase and the sizes of the heads. */
static int har_entry_wire(json_t *request, json_t *response, const http_hop_t *h)
{
    char version[32], reason[256];
    json_t *rq = crawl_har_head_pairs(h->req_head, h->req_len);
    json_t *rs = crawl_har_head_pairs(h->resp_head, h->resp_len);

    if (!rq || !rs) {
        json_decref(rq);
        json_decref(rs);
        return -ENOMEM;
    }
    json_object_set_new(request, "headers", rq);
    json_object_set_new(request, "headersSize", json_integer(h->req_head ? (json_int_t)h->req_len : -1));
    har_first_line(h->req_head, h->req_len, 1, version, sizeof(version), NULL, 0);
    if (version[0])
        json_object_set_new(request, "httpVersion", har_string(version));
    if (h->resp_head) {
        json_object_set_new(response, "headers", rs);
        json_object_set_new(response, "headersSize", json_integer((json_int_t)h->resp_len));
        har_first_line(h->resp_head, h->resp_len, 0, version, sizeof(version), reason, sizeof(reason));
        json_object_set_new(response, "statusText", har_string(reason));
        json_object_set_new(response, "httpVersion", har_string(version));
    } else {
        json_decref(rs);
    }
    return 0;
}

/* An entry for a redirect curl followed inside one transfer (get): its own exchange, with no
 * timings of its own (curl measures the transfer as a whole, in the entry of its last hop). */
json_t *crawl_har_hop_entry_new(const char *pageref, const http_hop_t *h)
{
    char started[40], ctype[HTTP_HEADER_VALUE_MAX], location[4096];
    json_t *request, *response, *entry = NULL, *query;
    const char *url = h->url ? h->url : "";
    char shown[PARSE_URL_REDACT_SIZE];

    crawl_har_time_format(h->wall_us, started, sizeof(started));
    har_head_value(h->resp_head, h->resp_len, "content-type", ctype, sizeof(ctype));
    har_head_value(h->resp_head, h->resp_len, "location", location, sizeof(location));
    url = parse_url_redact(url, shown, sizeof(shown));
    query = har_query(url);
    request = json_pack("{s:s, s:o, s:s, s:[], s:[], s:o, s:i, s:i}", "method", "GET",
                        "url", har_string(url), "httpVersion", "HTTP/1.1", "cookies", "headers",
                        "queryString", query, "headersSize", -1, "bodySize", 0);
    response = json_pack("{s:i, s:s, s:s, s:[], s:[], s:{s:I, s:o}, s:o, s:i, s:I}",
                         "status", (int)h->status, "statusText", "", "httpVersion", "",
                         "cookies", "headers", "content", "size", (json_int_t)h->body_bytes,
                         "mimeType", har_string(ctype[0] ? ctype : "x-unknown"),
                         "redirectURL", har_string(location), "headersSize", -1,
                         "bodySize", (json_int_t)h->body_bytes);
    if (!request || !response || har_entry_wire(request, response, h) < 0)
        goto cleanup;
    entry = json_pack("{s:s, s:i, s:O, s:O, s:{}, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i}, s:b}",
                      "startedDateTime", started, "time", 0, "request", request, "response", response,
                      "cache", "timings", "blocked", -1, "dns", -1, "connect", -1, "ssl", -1,
                      "send", 0, "wait", 0, "receive", 0, "_followed", 1);
    if (entry && pageref)
        json_object_set_new(entry, "pageref", json_string(pageref));
    if (entry && h->ip)
        json_object_set_new(entry, "serverIPAddress", json_string(h->ip));
cleanup:
    json_decref(request);
    json_decref(response);
    return entry;
}

json_t *crawl_har_entry_new(const char *pageref, const char *url, const http_req_t *req,
                            const char *error)
{
    char shown[PARSE_URL_REDACT_SIZE];
    crawl_har_timings_t tm;
    char started[40];
    const char *version = req->status > 0 && req->http_version[0] ? req->http_version : "";
    json_t *timings, *headers, *query, *request, *response, *entry = NULL;

    crawl_har_timings(&req->timing, &tm);
    crawl_har_time_format(req->timing.start_wall_us, started, sizeof(started));
    timings = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "blocked", tm.blocked, "dns", tm.dns,
                        "connect", tm.connect, "ssl", tm.ssl, "send", tm.send, "wait", tm.wait,
                        "receive", tm.receive);
    url = parse_url_redact(url, shown, sizeof(shown));
    headers = json_array();
    if (headers && req->content_type[0])
        json_array_append_new(headers, json_pack("{s:s, s:o}", "name", "Content-Type", "value",
                                                 har_string(req->content_type)));
    if (headers && req->redirect_url)
        json_array_append_new(headers, json_pack("{s:s, s:o}", "name", "Location", "value",
                                                 har_url(req->redirect_url)));
    query = har_query(url);
    request = json_pack("{s:s, s:o, s:s, s:[], s:[], s:o, s:i, s:i}", "method", "GET",
                        "url", har_string(url), "httpVersion", version[0] ? version : "HTTP/1.1",
                        "cookies", "headers", "queryString", query, "headersSize", -1,
                        "bodySize", 0);
    query = NULL;
    /* bodySize counts the bytes received; content.size the decoded ones when gather decoded
     * the body (HAR's "compression" is the difference), else the same bytes. */
    response = json_pack("{s:i, s:s, s:s, s:[], s:o, s:{s:I, s:o}, s:o, s:i, s:I}",
                         "status", (int)req->status, "statusText", "", "httpVersion", version,
                         "cookies", "headers", headers,
                         "content", "size", (json_int_t)(req->decoded ? req->body_bytes : req->bytes),
                         "mimeType", har_string(req->content_type[0] ? req->content_type : "x-unknown"),
                         "redirectURL", har_url(req->redirect_url ? req->redirect_url : ""),
                         "headersSize", -1, "bodySize", (json_int_t)req->bytes);
    headers = NULL;
    if (!timings || !request || !response)
        goto cleanup;
    /* With the exchanges captured, the headers are all of them, as they went over the wire. */
    if (req->nhops > 0 && har_entry_wire(request, response, &req->hops[req->nhops - 1]) < 0)
        goto cleanup;
    if (req->decoded && json_object_set_new(json_object_get(response, "content"), "compression",
                                            json_integer((json_int_t)(req->body_bytes - req->bytes))) < 0)
        goto cleanup;
    entry = json_pack("{s:s, s:f, s:O, s:O, s:{}, s:O}", "startedDateTime", started,
                      "time", tm.time, "request", request, "response", response, "cache",
                      "timings", timings);
    if (!entry)
        goto cleanup;
    if (pageref)
        json_object_set_new(entry, "pageref", json_string(pageref));
    if (req->primary_ip && req->primary_ip[0])
        json_object_set_new(entry, "serverIPAddress", json_string(req->primary_ip));
    if (error)
        json_object_set_new(entry, "_error", har_string(error));
    if (req->redirects > 0) {
        json_object_set_new(entry, "_redirects", json_integer(req->redirects));
        json_object_set_new(entry, "_redirectTime", json_real(har_ms(req->timing.redirect_us)));
        if (req->effective_url)
            json_object_set_new(entry, "_finalUrl", har_url(req->effective_url));
    }

cleanup:
    json_decref(timings);
    json_decref(request);
    json_decref(response);
    return entry;
}

/* ---- the writer ---------------------------------------------------------------------------- */

static void har_fail(crawl_har_t *har, int e)
{
    if (har->error == 0)
        har->error = e ? -e : -EIO;
}

static int har_write_json(crawl_har_t *har, const json_t *obj, const char *prefix)
{
    char *line;

    if (har->error)
        return har->error;
    line = json_dumps(obj, HAR_DUMP_FLAGS);
    if (!line) {
        har_fail(har, ENOMEM);
        return har->error;
    }
    if (fputs(prefix, har->f) == EOF || fputs(line, har->f) == EOF || fputc('\n', har->f) == EOF)
        har_fail(har, errno);
    free(line);
    return har->error;
}

crawl_har_t *crawl_har_open(const char *path, const char *creator_comment)
{
    crawl_har_t *har = calloc(1, sizeof(*har));
    json_t *head = NULL;
    char *text = NULL;
    size_t len;
    int e = ENOMEM;

    if (!har || !(har->pages = json_array()))
        goto error;
    head = json_pack("{s:s, s:{s:s, s:s}}", "version", "1.2", "creator", "name", "gather",
                     "version", GATHER_VERSION);
    if (!head)
        goto error;
    if (creator_comment)
        json_object_set_new(json_object_get(head, "creator"), "comment", har_string(creator_comment));
    text = json_dumps(head, HAR_DUMP_FLAGS | JSON_PRESERVE_ORDER);
    if (!text)
        goto error;
    har->f = fopen(path, "we");
    if (!har->f) {
        e = errno;
        goto error;
    }
    /* {"log": + the head without its closing brace + the start of the entries. */
    len = strlen(text);
    if (fputs("{\"log\":", har->f) == EOF || fwrite(text, 1, len - 1, har->f) != len - 1 ||
        fputs(har_header_end, har->f) == EOF) {
        e = errno ? errno : EIO;
        goto error;
    }
    free(text);
    json_decref(head);
    return har;

error:
    if (har && har->f) {
        fclose(har->f);
        remove(path);
    }
    free(text);
    json_decref(head);
    if (har)
        json_decref(har->pages);
    free(har);
    errno = e;
    return NULL;
}

int crawl_har_page(crawl_har_t *har, const char *id, const char *title, int64_t start_wall_us)
{
    char started[40];
    json_t *page;

    for (size_t i = 0; i < json_array_size(har->pages); i++) {
        page = json_array_get(har->pages, i);
        if (!strcmp(json_string_value(json_object_get(page, "id")), id))
            return json_object_set_new(page, "title", har_string(title)) < 0 ? -ENOMEM : 0;
    }
    crawl_har_time_format(start_wall_us, started, sizeof(started));
    page = json_pack("{s:s, s:s, s:o, s:{s:i, s:i}}", "startedDateTime", started, "id", id,
                     "title", har_string(title), "pageTimings", "onContentLoad", -1, "onLoad", -1);
    if (!page || json_array_append_new(har->pages, page) < 0) {
        har_fail(har, ENOMEM);
        return -ENOMEM;
    }
    return 0;
}

int crawl_har_add_json(crawl_har_t *har, const json_t *entry)
{
    int result = har_write_json(har, entry, har->entries ? "," : "");

    if (result == 0)
        har->entries++;
    return result;
}

int crawl_har_add(crawl_har_t *har, const char *pageref, const char *url, const http_req_t *req,
                  const char *error)
{
    json_t *entry;
    int result;

    if (har->error)
        return har->error;
    /* Redirects curl followed inside the transfer: an entry each, before the final one. */
    for (size_t i = 0; i + 1 < req->nhops; i++) {
        if (!req->hops[i].resp_head)
            continue;
        if (!(entry = crawl_har_hop_entry_new(pageref, &req->hops[i]))) {
            har_fail(har, ENOMEM);
            return har->error;
        }
        result = crawl_har_add_json(har, entry);
        json_decref(entry);
        if (result < 0)
            return result;
    }
    entry = crawl_har_entry_new(pageref, url, req, error);
    if (!entry) {
        har_fail(har, ENOMEM);
        return har->error;
    }
    result = crawl_har_add_json(har, entry);
    json_decref(entry);
    return result;
}

uint64_t crawl_har_count(const crawl_har_t *har)
{
    return har->entries;
}

int crawl_har_close(crawl_har_t *har)
{
    int result;

    if (!har)
        return 0;
    if (!har->error && fputs(har_middle, har->f) == EOF)
        har_fail(har, errno);
    for (size_t i = 0; i < json_array_size(har->pages) && !har->error; i++)
        har_write_json(har, json_array_get(har->pages, i), i ? "," : "");
    if (!har->error && fputs(har_footer, har->f) == EOF)
        har_fail(har, errno);
    if (fclose(har->f) != 0)
        har_fail(har, errno);
    result = har->error;
    json_decref(har->pages);
    free(har);
    return result;
}

/* ---- the reader ---------------------------------------------------------------------------- */

int crawl_har_read(const char *path, int (*on_page)(json_t *page, void *arg),
                   int (*on_entry)(json_t *entry, void *arg), void *arg)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int section = 0;                /* 0 header, 1 entries, 2 pages, 3 footer */
    int result = 0;

    if (!f)
        return -errno;
    while (result == 0 && (len = getline(&line, &cap, f)) > 0) {
        json_t *obj;
        const char *text = line;

        if (line[len - 1] != '\n' || (size_t)len > HAR_LINE_MAX) {
            result = -EINVAL;
            break;
        }
        line[--len] = '\0';
        if (section == 0) {
            size_t tail = sizeof(har_header_end) - 2;    /* without its newline */
            if (strncmp(line, "{\"log\":{", 8) != 0 || (size_t)len < tail ||
                strcmp(line + len - tail, ",\"entries\":[") != 0)
                result = -EINVAL;
            section = 1;
            continue;
        }
        if (section == 1 && !strcmp(line, "],\"pages\":[")) {
            section = 2;
            continue;
        }
        if (section == 2 && !strcmp(line, "]}}")) {
            section = 3;
            continue;
        }
        if (section == 3) {
            result = -EINVAL;
            break;
        }
        if (*text == ',')
            text++;
        obj = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(obj)) {
            json_decref(obj);
            result = -EINVAL;
            break;
        }
        if (section == 1 && on_entry)
            result = on_entry(obj, arg);
        else if (section == 2 && on_page)
            result = on_page(obj, arg);
        json_decref(obj);
    }
    if (result == 0 && ferror(f))
        result = -EIO;
    if (result == 0 && section != 3)
        result = -EINVAL;            /* cut short: the writer did not close it */
    free(line);
    fclose(f);
    return result;
}
