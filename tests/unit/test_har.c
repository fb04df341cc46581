/* tests/unit/test_har.c: HAR timestamps, the timings derived from curl's marks, entries, and a
 * file written and streamed back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/report/chart.h"
#include "crawler/report/har.h"

/* ---- timestamps ---------------------------------------------------------------------------- */

static void test_time_format(void **state)
{
    static const struct {
        int64_t us;
        const char *iso;
    } cases[] = {
        { 0, "1970-01-01T00:00:00.000Z" },
        { 1767225600123456LL, "2026-01-01T00:00:00.123Z" },
        { 1767225599999999LL, "2025-12-31T23:59:59.999Z" },     /* truncated, not rounded up */
        { 951782400000000LL, "2000-02-29T00:00:00.000Z" },      /* a leap day */
        { -1, "1969-12-31T23:59:59.999Z" },
        { 4102444800000999LL, "2100-01-01T00:00:00.000Z" },
    };
    char buf[40];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(crawl_har_time_format(cases[i].us, buf, sizeof(buf)), cases[i].iso);
}

static void test_time_parse(void **state)
{
    int64_t us = 0;
    char buf[40];

    (void)state;
    assert_int_equal(crawl_har_time_parse("2026-01-01T00:00:00.123Z", &us), 0);
    assert_int_equal(us, 1767225600123000LL);
    assert_int_equal(crawl_har_time_parse("2026-01-01T02:00:00.5+02:00", &us), 0);
    assert_int_equal(us, 1767225600500000LL);
    assert_int_equal(crawl_har_time_parse("2026-01-01T00:00:00.123456789Z", &us), 0);
    assert_int_equal(us, 1767225600123456LL);
    assert_int_equal(crawl_har_time_parse("2025-12-31T19:00:00-05:00", &us), 0);
    assert_int_equal(us, 1767225600000000LL);
    /* What the writer writes reads back to the same millisecond. */
    crawl_har_time_format(1767225600123456LL, buf, sizeof(buf));
    assert_int_equal(crawl_har_time_parse(buf, &us), 0);
    assert_int_equal(us, 1767225600123000LL);

    assert_int_equal(crawl_har_time_parse("2026-01-01 00:00:00Z", &us), -EINVAL);
    assert_int_equal(crawl_har_time_parse("2026-01-01T00:00:00", &us), -EINVAL);
    assert_int_equal(crawl_har_time_parse("2026-01-01T00:00:00.Z", &us), -EINVAL);
    assert_int_equal(crawl_har_time_parse("2026-13-01T00:00:00Z", &us), -EINVAL);
    assert_int_equal(crawl_har_time_parse("2026-01-01T00:00:00Zjunk", &us), -EINVAL);
    assert_int_equal(crawl_har_time_parse("", &us), -EINVAL);
}

/* ---- timings ------------------------------------------------------------------------------- */

/* curl marks in µs: queue, dns, connect, tls, pretransfer, first byte, total; then the HAR
 * phases in ms. */
struct timing_case {
    const char *what;
    curl_off_t q, dns, conn, tls, pre, fb, total;
    double blocked, d, c, ssl, send, wait, receive;
};

static const struct timing_case timing_cases[] = {
    { "a fresh http connection", 0, 19, 243, 0, 278, 50667, 50796,
      -1, 0.019, 0.224, -1, 0.035, 50.389, 0.129 },
    { "a reused connection: no connect", 0, 14, 0, 0, 58, 50415, 50525,
      -1, 0.014, -1, -1, 0.044, 50.357, 0.110 },
    { "https: connect includes TLS", 0, 10, 200, 5000, 5010, 6000, 6100,
      -1, 0.010, 4.990, 4.800, 0.010, 0.990, 0.100 },
    { "refused: ended while connecting", 0, 39, 0, 0, 0, 0, 165,
      -1, 0.039, 0.126, -1, 0, 0, 0 },
    { "no answer: ended while waiting", 0, 20, 200, 0, 250, 0, 30000000,
      -1, 0.020, 0.180, -1, 0.050, 29999.750, 0 },
    { "lookup failed: nothing reached", 0, 0, 0, 0, 0, 0, 500,
      -1, 0.500, -1, -1, 0, 0, 0 },
    { "queued first", 1000, 1100, 1300, 0, 1350, 2000, 2500,
      1.000, 0.100, 0.200, -1, 0.050, 0.650, 0.500 },
    { "marks out of order are clamped", 0, 100, 90, 0, 80, 1000, 900,
      -1, 0.100, 0, -1, 0, 0.800, 0 },
};

static void test_timings(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(timing_cases) / sizeof(timing_cases[0]); i++) {
        const struct timing_case *c = &timing_cases[i];
        http_timing_t t = { .queue_us = c->q, .dns_us = c->dns, .connect_us = c->conn,
                            .tls_us = c->tls, .pretransfer_us = c->pre, .first_byte_us = c->fb,
                            .total_us = c->total };
        crawl_har_timings_t h;
        double want[7] = { c->blocked, c->d, c->c, c->ssl, c->send, c->wait, c->receive };
        double sum = 0, end = (double)(c->total > c->q ? c->total : c->q) / 1000;

        crawl_har_timings(&t, &h);
        double have[7] = { h.blocked, h.dns, h.connect, h.ssl, h.send, h.wait, h.receive };
        for (int k = 0; k < 7; k++) {
            if (fabs(have[k] - want[k]) > 1e-9)
                fail_msg("%s: phase %d is %.6f, want %.6f", c->what, k, have[k], want[k]);
            if (k != 3 && have[k] > 0)
                sum += have[k];
        }
        /* HAR: send, wait and receive are never -1; time is the sum, without ssl. */
        assert_true(h.send >= 0 && h.wait >= 0 && h.receive >= 0);
        if (fabs(h.time - sum) > 1e-9 || fabs(h.time - end) > 1e-6)
            fail_msg("%s: time %.6f, phases add up to %.6f, total %.6f", c->what, h.time, sum, end);
    }
}

/* ---- entries ------------------------------------------------------------------------------- */

static void fill_req(http_req_t *r, long status, CURLcode code)
{
    memset(r, 0, sizeof(*r));
    r->status = status;
    r->code = code;
    r->bytes = status == 200 ? 20000 : 0;
    snprintf(r->http_version, sizeof(r->http_version), "HTTP/1.1");
    if (status == 200)
        snprintf(r->content_type, sizeof(r->content_type), "image/jpeg");
    r->primary_ip = status ? strdup("127.0.0.1") : NULL;
    r->timing.start_wall_us = 1767225600123456LL;
    r->timing.dns_us = 10;
    r->timing.connect_us = status ? 100 : 0;
    r->timing.pretransfer_us = status ? 120 : 0;
    r->timing.first_byte_us = status ? 100120 : 0;
    r->timing.total_us = 100300;
}

static void test_entry_success(void **state)
{
    http_req_t r;
    json_t *e, *q;

    (void)state;
    fill_req(&r, 200, CURLE_OK);
    e = crawl_har_entry_new("async", "http://h:1/img/1.jpg?delay=100&x&=v&size=7#frag", &r, NULL);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "pageref")), "async");
    assert_string_equal(json_string_value(json_object_get(e, "startedDateTime")),
                        "2026-01-01T00:00:00.123Z");
    assert_true(fabs(json_real_value(json_object_get(e, "time")) - 100.3) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(e, "serverIPAddress")), "127.0.0.1");
    assert_null(json_object_get(e, "_error"));
    assert_true(json_is_object(json_object_get(e, "cache")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "response"), "status")), 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(e, "response"),
                        "content"), "mimeType")), "image/jpeg");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(e, "response"),
                     "content"), "size")), 20000);
    q = json_object_get(json_object_get(e, "request"), "queryString");
    assert_int_equal(json_array_size(q), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 0), "name")), "delay");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 0), "value")), "100");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 1), "name")), "x");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 1), "value")), "");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 2), "name")), "");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 3), "value")), "7");
    json_decref(e);
    http_req_cleanup(&r);
}

/* Two exchanges as curl's debug callback records them: a redirect curl followed, then the
 * answer. */
static void fill_hops(http_req_t *r)
{
    static const char req0[] = "GET /r HTTP/1.1\r\nHost: h:1\r\nUser-Agent: gather/0.1\r\nAccept: */*\r\n\r\n";
    static const char resp0[] = "HTTP/1.1 302 Found\r\nLocation: /img/1.jpg\r\nContent-Type: text/plain\r\n"
                                "Content-Length: 3\r\n\r\n";
    static const char req1[] = "GET /img/1.jpg HTTP/1.1\r\nHost: h:1\r\nUser-Agent: gather/0.1\r\n"
                               "Accept: */*\r\nX-Extra: a: b\r\nAuthorization: Basic YW5uOnB3\r\n"
                               "Cookie: sid=42\r\n\r\n";
    static const char resp1[] = "HTTP/1.1 200 Very OK\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
                                "Content-Type: image/jpeg\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
                                "Content-Length: 20000\r\n\r\n";

    r->hops = calloc(2, sizeof(*r->hops));
    assert_non_null(r->hops);
    r->nhops = 2;
    r->hops[0].url = strdup("http://h:1/r");
    r->hops[0].ip = strdup("127.0.0.1");
    r->hops[0].wall_us = 1767225600000000LL;
    r->hops[0].req_head = strdup(req0);
    r->hops[0].req_len = strlen(req0);
    r->hops[0].resp_head = strdup(resp0);
    r->hops[0].resp_len = strlen(resp0);
    r->hops[0].status = 302;
    r->hops[0].body_bytes = 3;
    r->hops[1].url = strdup("http://h:1/img/1.jpg");
    r->hops[1].req_head = strdup(req1);
    r->hops[1].req_len = strlen(req1);
    r->hops[1].resp_head = strdup(resp1);
    r->hops[1].resp_len = strlen(resp1);
    r->hops[1].status = 200;
}

static const char *pair_name(json_t *list, size_t i)
{
    return json_string_value(json_object_get(json_array_get(list, i), "name"));
}

static const char *pair_value(json_t *list, size_t i)
{
    return json_string_value(json_object_get(json_array_get(list, i), "value"));
}

/* Every header as sent and received, in order and repeated ones kept, from the captured heads. */
static void test_entry_has_the_headers_on_the_wire(void **state)
{
    http_req_t r;
    json_t *e, *h, *pairs;

    (void)state;
    fill_req(&r, 200, CURLE_OK);
    fill_hops(&r);
    e = crawl_har_entry_new("page_1", "http://h:1/r", &r, NULL);
    assert_non_null(e);
    h = json_object_get(json_object_get(e, "request"), "headers");
    assert_int_equal(json_array_size(h), 6);
    assert_string_equal(pair_name(h, 0), "Host");
    assert_string_equal(pair_value(h, 4), "Basic ***");     /* credentials masked */
    assert_string_equal(pair_value(h, 5), "***");
    assert_string_equal(pair_value(h, 0), "h:1");
    assert_string_equal(pair_name(h, 3), "X-Extra");
    assert_string_equal(pair_value(h, 3), "a: b");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "request"), "headersSize")),
                     (json_int_t)r.hops[1].req_len);
    h = json_object_get(json_object_get(e, "response"), "headers");
    assert_int_equal(json_array_size(h), 5);
    assert_string_equal(pair_name(h, 0), "Date");
    assert_string_equal(pair_name(h, 2), "Set-Cookie");
    assert_string_equal(pair_value(h, 2), "a=1");
    assert_string_equal(pair_value(h, 3), "b=2");
    assert_string_equal(pair_name(h, 4), "Content-Length");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "response"), "statusText")), "Very OK");
    json_decref(e);

    /* the redirect hop: an entry of its own, with its own headers and Location */
    e = crawl_har_hop_entry_new("page_1", &r.hops[0]);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "request"), "url")), "http://h:1/r");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "response"), "status")), 302);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "response"), "redirectURL")), "/img/1.jpg");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "response"), "statusText")), "Found");
    assert_string_equal(json_string_value(json_object_get(e, "serverIPAddress")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(e, "startedDateTime")), "2026-01-01T00:00:00.000Z");
    h = json_object_get(json_object_get(e, "response"), "headers");
    assert_int_equal(json_array_size(h), 3);
    assert_string_equal(pair_name(h, 0), "Location");
    json_decref(e);

    /* a head cut before its blank line, a line without a colon, a bare LF */
    pairs = crawl_har_head_pairs("HTTP/1.1 200 OK\nA: 1\nbroken line\nB:2\n", 37);
    assert_int_equal(json_array_size(pairs), 2);
    assert_string_equal(pair_value(pairs, 1), "2");
    json_decref(pairs);
    pairs = crawl_har_head_pairs(NULL, 0);
    assert_int_equal(json_array_size(pairs), 0);
    json_decref(pairs);
    http_req_cleanup(&r);
    assert_null(r.hops);
}

/* A transfer with a followed redirect is two entries, in order; a page declared twice is retitled. */
static void test_hops_are_entries_and_pages_retitle(void **state)
{
    char path[] = "/tmp/test_har.XXXXXX";
    int fd = mkstemp(path);
    crawl_har_t *har;
    http_req_t r;
    json_t *doc, *entries, *pages;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    har = crawl_har_open(path, NULL);
    assert_non_null(har);
    assert_int_equal(crawl_har_page(har, "page_1", "gather crawl", 1767225600000000LL), 0);
    assert_int_equal(crawl_har_page(har, "page_1", "http://h:1/", 1767225600000000LL), 0);
    assert_int_equal(crawl_har_page(har, "page_2", "http://h:1/b", 1767225600000000LL), 0);
    fill_req(&r, 200, CURLE_OK);
    fill_hops(&r);
    assert_int_equal(crawl_har_add(har, "page_2", "http://h:1/r", &r, NULL), 0);
    assert_int_equal(crawl_har_count(har), 2);
    assert_int_equal(crawl_har_close(har), 0);
    doc = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(doc);
    entries = json_object_get(json_object_get(doc, "log"), "entries");
    pages = json_object_get(json_object_get(doc, "log"), "pages");
    assert_int_equal(json_array_size(pages), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(pages, 0), "title")), "http://h:1/");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(entries, 0), "response"),
                     "status")), 302);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(entries, 1), "response"),
                     "status")), 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(entries, 1), "pageref")), "page_2");
    json_decref(doc);
    unlink(path);
    http_req_cleanup(&r);
}

static void test_entry_failure(void **state)
{
    http_req_t r;
    json_t *e, *resp, *t;

    (void)state;
    fill_req(&r, 0, CURLE_COULDNT_CONNECT);
    e = crawl_har_entry_new(NULL, "http://127.0.0.1:1/x", &r, "connection refused");
    assert_non_null(e);
    assert_null(json_object_get(e, "pageref"));
    assert_null(json_object_get(e, "serverIPAddress"));
    assert_string_equal(json_string_value(json_object_get(e, "_error")), "connection refused");
    resp = json_object_get(e, "response");
    assert_int_equal(json_integer_value(json_object_get(resp, "status")), 0);
    assert_string_equal(json_string_value(json_object_get(resp, "httpVersion")), "");
    assert_string_equal(json_string_value(json_object_get(json_object_get(resp, "content"), "mimeType")),
                        "x-unknown");
    t = json_object_get(e, "timings");
    assert_true(fabs(json_real_value(json_object_get(t, "connect")) - 100.29) < 1e-9);
    assert_true(json_real_value(json_object_get(t, "ssl")) == -1);
    json_decref(e);
    http_req_cleanup(&r);
}

/* ---- a file, written and read back --------------------------------------------------------- */

struct counts {
    int entries, pages;
    char first_page[16];
};

static int count_entry(json_t *entry, void *arg)
{
    struct counts *c = arg;

    assert_true(json_is_object(json_object_get(entry, "timings")));
    c->entries++;
    return 0;
}

static int count_page(json_t *page, void *arg)
{
    struct counts *c = arg;

    if (c->pages++ == 0)
        snprintf(c->first_page, sizeof(c->first_page), "%s",
                 json_string_value(json_object_get(page, "id")));
    return 0;
}

static void test_write_and_read_back(void **state)
{
    char path[] = "/tmp/test_har.XXXXXX";
    int fd = mkstemp(path);
    crawl_har_t *har;
    http_req_t r;
    json_t *doc;
    json_error_t jerr;
    struct counts c = { 0 };
    crawl_chart_bar_t bar;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    har = crawl_har_open(path, "unit test \"quoted\"\n");
    assert_non_null(har);
    assert_int_equal(crawl_har_page(har, "sync", "sync <mode>", 1767225600000000LL), 0);
    fill_req(&r, 200, CURLE_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(crawl_har_add(har, "sync", "http://h/a\nb", &r, i == 2 ? "HTTP 404" : NULL), 0);
    assert_int_equal(crawl_har_page(har, "async", "async", 1767225601000000LL), 0);
    assert_int_equal(crawl_har_count(har), 3);
    assert_int_equal(crawl_har_close(har), 0);

    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        fail_msg("not JSON: %s at line %d", jerr.text, jerr.line);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "log"), "version")), "1.2");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(doc, "log"),
                        "creator"), "name")), "gather");
    assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "log"), "entries")), 3);
    assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "log"), "pages")), 2);
    assert_int_equal(crawl_chart_bar_from_har(json_array_get(json_object_get(json_object_get(doc, "log"),
                     "entries"), 0), &bar), 0);
    assert_int_equal(bar.start_us, 1767225600123000LL);
    assert_false(bar.failed);
    assert_true(fabs(bar.wait_ms - 100.02) < 1e-9);
    assert_int_equal(crawl_chart_bar_from_har(json_array_get(json_object_get(json_object_get(doc, "log"),
                     "entries"), 2), &bar), 0);
    assert_true(bar.failed);
    json_decref(doc);

    assert_int_equal(crawl_har_read(path, count_page, count_entry, &c), 0);
    assert_int_equal(c.entries, 3);
    assert_int_equal(c.pages, 2);
    assert_string_equal(c.first_page, "sync");

    /* A file cut short (a writer that never closed) is refused. */
    assert_int_equal(truncate(path, 200), 0);
    assert_int_equal(crawl_har_read(path, NULL, NULL, NULL), -EINVAL);
    unlink(path);
    assert_int_equal(crawl_har_read(path, NULL, NULL, NULL), -ENOENT);
    assert_null(crawl_har_open("/nonexistent/dir/x.har", NULL));
    assert_int_equal(errno, ENOENT);
    http_req_cleanup(&r);
}

static void test_chart_sampling_and_svg(void **state)
{
    char path[] = "/tmp/test_chart.XXXXXX";
    int fd = mkstemp(path);
    crawl_chart_t *c = crawl_chart_new("a <title> & more");
    crawl_chart_panel_t *p;
    FILE *f;
    char *text;
    long len;
    int rects = 0;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_non_null(c);
    p = crawl_chart_panel_add(c, "async", "10000 requests", 0, 2.0, 10000);
    assert_non_null(p);
    for (int i = 0; i < 10000; i++) {
        crawl_chart_bar_t bar = { .start_us = i * 100, .wait_ms = 50, .receive_ms = 1,
                                  .failed = i == 7777 };
        assert_int_equal(crawl_chart_offer(p, &bar), 0);
    }
    assert_int_equal(crawl_chart_write(c, path), 0);
    crawl_chart_free(c);

    f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)len + 1);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    unlink(path);
    assert_non_null(strstr(text, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(text, "a &lt;title&gt; &amp; more"));
    assert_non_null(strstr(text, "2001 of 10000 drawn"));   /* the sample, and the failure */
    assert_non_null(strstr(text, "</svg>\n"));
    for (const char *s = text; (s = strstr(s, "<rect")); s++)
        rects++;
    /* 2000 waits + 2000 transfers + 1 failure, plus background, plot and legend. */
    assert_true(rects > 4000 && rects < 4020);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_timings),
        cmocka_unit_test(test_entry_success),
        cmocka_unit_test(test_entry_failure),
        cmocka_unit_test(test_entry_has_the_headers_on_the_wire),
        cmocka_unit_test(test_hops_are_entries_and_pages_retitle),
        cmocka_unit_test(test_write_and_read_back),
        cmocka_unit_test(test_chart_sampling_and_svg),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
