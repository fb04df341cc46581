/* tests/unit/test_convert.c: --convert-links' byte-range rewriting: relative paths, escapes,
 * fragments, untouched bytes, hostile spans. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/crawl/convert.h"

/* ---- helpers -------------------------------------------------------------------------------- */

/* The saved files of a test site: URL -> path. */
struct saved {
    const char *url, *path;
};

struct lookup {
    const struct saved *files;
    int fail_at;                     /* the lookup number that fails (-EIO), 0: none */
    int calls;
};

static int lookup_table(void *arg, const char *url, char **path)
{
    struct lookup *l = arg;

    if (++l->calls == l->fail_at)
        return -EIO;
    for (const struct saved *f = l->files; f && f->url; f++) {
        if (!strcmp(f->url, url)) {
            *path = strdup(f->path);
            return *path ? 1 : -ENOMEM;
        }
    }
    return 0;
}

struct out {
    char buf[4096];
    size_t len;
    int fail_after;                  /* emits allowed before one fails (-ENOSPC); 0: none fails */
    int calls;
};

static int emit_buf(void *arg, const char *data, size_t len)
{
    struct out *o = arg;

    if (o->fail_after && ++o->calls > o->fail_after)
        return -ENOSPC;
    assert_true(o->len + len < sizeof(o->buf));
    memcpy(o->buf + o->len, data, len);
    o->len += len;
    o->buf[o->len] = '\0';
    return 0;
}

/* A span over the first occurrence of text in body, after `from`. */
static crawl_link_span_t span_of(const char *body, const char *text, size_t from, const char *url)
{
    const char *at = strstr(body + from, text);

    assert_non_null(at);
    return (crawl_link_span_t){ .offset = (size_t)(at - body), .len = strlen(text), .url = url };
}

static const struct saved site[] = {
    { "http://h/p?x=1&y=2", "h/p-1a2b3c4d.html" },
    { "http://h/a/b/c.css", "h/a/b/c.css" },
    { "http://h/img/a%20b.png", "h/img/a b.png" },
    { "http://h/", "h/index.html" },
    { "http://h/dir/page.html", "h/dir/page.html" },
    { NULL, NULL },
};

/* ---- relative paths ------------------------------------------------------------------------- */

static void test_relative(void **state)
{
    static const struct { const char *from, *to, *want; } cases[] = {
        { "h/a/b.html", "h/a/c.css", "c.css" },
        { "h/a/b.html", "h/x/y.png", "../x/y.png" },
        { "h/index.html", "h/a/b/c.html", "a/b/c.html" },
        { "h/a/b/c.html", "h/index.html", "../../index.html" },
        { "h/a/b.html", "h/a/b.html", "b.html" },
        { "h/ab/x.html", "h/a/y", "../a/y" },             /* folders compared whole, not prefixes */
        { "h/a/x.html", "h/ab/y", "../ab/y" },
        { "h/x.html", "g/x.html", "../g/x.html" },        /* another host's folder */
        { "index.html", "img/p.png", "img/p.png" },       /* -nH: files at the top */
        { "a.html", "b.html", "b.html" },                 /* -nd */
        { "h/x.html", "h/a b?c#d%e.html", "a%20b%3Fc%23d%25e.html" },
        { "h/x.html", "h/a:b.html", "a%3Ab.html" },       /* never read as a scheme */
        { "h/x.html", "h/caf\xc3\xa9&'\"(),.png", "caf%C3%A9%26%27%22%28%29%2C.png" },
    };
    char out[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(crawl_convert_relative(cases[i].from, cases[i].to, out, sizeof(out)), 0);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("%s -> %s: got [%s], want [%s]", cases[i].from, cases[i].to, out, cases[i].want);
    }
    assert_int_equal(crawl_convert_relative("a/b/c/d.html", "x y", out, 10), -ERANGE);
    assert_string_equal(out, "");
    assert_int_equal(crawl_convert_relative("d.html", "x y", out, 5), -ERANGE);
    assert_int_equal(crawl_convert_relative("d.html", "x y", out, 6), 0);   /* 5 bytes and the NUL */
    assert_string_equal(out, "x%20y");
}

/* ---- rewriting -------------------------------------------------------------------------------- */

static void test_rewrite_html(void **state)
{
    const char *body =
        "<!-- href=\"/p?x=1&amp;y=2\" --><A HREF = '/p?x=1&amp;y=2#top'>x</A>\n"
        "<img srcset=\"img/a%20b.png 1x, /gone.png 2x\">"
        "<a href=\"http://h/a/b/c.css\">abs</a><a href=\"//other/x?a=1&amp;b=2#f\">off</a>"
        "<a href=\"q?b&#38;c\">ent</a><style>p{background:url(/i?a=1&b=2)}</style>";
    crawl_link_span_t spans[7];
    struct lookup l = { .files = site };
    struct out o = { .len = 0 };
    crawl_convert_stats_t st;
    size_t at;

    (void)state;
    at = strlen("<!-- href=\"/p?x=1&amp;y=2\" -->");          /* a comment is no link */
    spans[0] = span_of(body, "/p?x=1&amp;y=2#top", at, "http://h/p?x=1&y=2");
    spans[1] = span_of(body, "img/a%20b.png", 0, "http://h/dir/img/a%20b.png");   /* not saved */
    spans[2] = span_of(body, "/gone.png", 0, "http://h/gone.png");
    spans[3] = span_of(body, "http://h/a/b/c.css", 0, "http://h/a/b/c.css");
    spans[4] = span_of(body, "//other/x?a=1&amp;b=2#f", 0, "http://other/x?a=1&b=2");
    spans[5] = span_of(body, "q?b&#38;c", 0, "http://h/dir/q?b&c");
    spans[6] = span_of(body, "/i?a=1&b=2", 0, "http://h/i?a=1&b=2");
    assert_int_equal(crawl_convert_rewrite(body, strlen(body), "h/dir/page.html", spans, 7,
                                           CRAWL_CONVERT_HTML, lookup_table, &l, emit_buf, &o, &st),
                     0);
    assert_string_equal(o.buf,
        "<!-- href=\"/p?x=1&amp;y=2\" --><A HREF = '../p-1a2b3c4d.html#top'>x</A>\n"
        "<img srcset=\"http://h/dir/img/a%20b.png 1x, http://h/gone.png 2x\">"
        "<a href=\"../a/b/c.css\">abs</a><a href=\"http://other/x?a=1&amp;b=2#f\">off</a>"
        "<a href=\"http://h/dir/q?b&amp;c\">ent</a>"
        "<style>p{background:url(http://h/i?a=1&b=2)}</style>");
    assert_int_equal(st.local, 2);
    assert_int_equal(st.absolute, 5);
    assert_int_equal(st.kept, 0);
    assert_int_equal(st.bad_spans, 0);
}

static void test_rewrite_css(void **state)
{
    const char *css = "@import \"../a/b/c.css\";\n/* url(x) */ .a{background:url( /img/a%20b.png )}"
                      ".b{background:url(/pic(1).png#frag)} .c{x:url(HTTP://Elsewhere:80/z.png)}";
    crawl_link_span_t spans[4];
    struct lookup l = { .files = site };
    struct out o = { .len = 0 };

    (void)state;
    spans[0] = span_of(css, "../a/b/c.css", 0, "http://h/a/b/c.css");
    spans[1] = span_of(css, "/img/a%20b.png", 0, "http://h/img/a%20b.png");
    spans[2] = span_of(css, "/pic(1).png#frag", 0, "http://h/pic(1).png");
    spans[3] = span_of(css, "HTTP://Elsewhere:80/z.png", 0, "http://elsewhere/z.png");
    assert_int_equal(crawl_convert_rewrite(css, strlen(css), "h/s/site.css", spans, 4, 0,
                                           lookup_table, &l, emit_buf, &o, NULL), 0);
    assert_string_equal(o.buf, "@import \"../a/b/c.css\";\n/* url(x) */ .a{background:url( ../img/a%20b.png )}"
                               ".b{background:url(http://h/pic%281%29.png#frag)} .c{x:url(HTTP://Elsewhere:80/z.png)}");
}

/* Spans out of order, overlapping or past the end are skipped, never read out of bounds. */
static void test_rewrite_hostile_spans(void **state)
{
    const char body[] = "<a href=\"/\">x</a>";
    crawl_link_span_t spans[] = {
        { 9, 1, "http://h/" },
        { 9, 1, "http://h/" },           /* again */
        { 5, 3, "http://h/" },           /* backwards */
        { 16, 5, "http://h/" },          /* past the end */
        { 18, 0, "http://h/" },          /* past the end, empty */
        { 17, 0, NULL },                 /* no URL */
        { (size_t)-1, 2, "http://h/" },  /* wraps */
    };
    struct lookup l = { .files = site };
    struct out o = { .len = 0 };
    crawl_convert_stats_t st;

    (void)state;
    assert_int_equal(crawl_convert_rewrite(body, strlen(body), "h/index.html", spans,
                                           sizeof(spans) / sizeof(spans[0]), CRAWL_CONVERT_HTML,
                                           lookup_table, &l, emit_buf, &o, &st), 0);
    assert_string_equal(o.buf, "<a href=\"index.html\">x</a>");
    assert_int_equal(st.local, 1);
    assert_int_equal(st.bad_spans, 6);
    /* no spans: the bytes as they were, embedded NULs too */
    o.len = 0;
    assert_int_equal(crawl_convert_rewrite("a\0b", 3, "h/x", NULL, 0, 0, lookup_table, &l, emit_buf,
                                           &o, NULL), 0);
    assert_int_equal(o.len, 3);
    assert_memory_equal(o.buf, "a\0b", 3);
}

/* A second run over a converted file: our relative links stay, absolute ones are looked up again. */
static void test_rewrite_again(void **state)
{
    const char *body = "<a href=\"../p-1a2b3c4d.html#top\">x</a><a href=\"http://h/\">y</a>"
                       "<a href=\"/dir/page.html\">z</a>";
    crawl_link_span_t spans[3];
    struct lookup l = { .files = site };
    struct out o = { .len = 0 };
    crawl_convert_stats_t st;

    (void)state;
    /* what the link would resolve to: the converter must not look it up */
    spans[0] = span_of(body, "../p-1a2b3c4d.html#top", 0, "http://h/p-1a2b3c4d.html");
    spans[1] = span_of(body, "http://h/", 0, "http://h/");
    spans[2] = span_of(body, "/dir/page.html", 0, "http://h/dir/page.html");
    assert_int_equal(crawl_convert_rewrite(body, strlen(body), "h/dir/page.html", spans, 3,
                                           CRAWL_CONVERT_HTML | CRAWL_CONVERT_AGAIN, lookup_table, &l,
                                           emit_buf, &o, &st), 0);
    assert_string_equal(o.buf, "<a href=\"../p-1a2b3c4d.html#top\">x</a><a href=\"../index.html\">y</a>"
                               "<a href=\"page.html\">z</a>");
    assert_int_equal(st.kept, 1);
    assert_int_equal(st.local, 2);
    assert_int_equal(l.calls, 2);
}

static void test_rewrite_errors(void **state)
{
    const char *body = "<a href=\"/\">x</a><a href=\"/\">y</a>";
    crawl_link_span_t spans[2];
    struct lookup l = { .files = site, .fail_at = 2 };
    struct out o = { .len = 0 };

    (void)state;
    spans[0] = span_of(body, "/", 0, "http://h/");
    spans[1] = span_of(body, "/", spans[0].offset + 1, "http://h/");
    assert_int_equal(crawl_convert_rewrite(body, strlen(body), "h/index.html", spans, 2,
                                           CRAWL_CONVERT_HTML, lookup_table, &l, emit_buf, &o, NULL),
                     -EIO);
    l.fail_at = 0;
    o = (struct out){ .fail_after = 3 };
    assert_int_equal(crawl_convert_rewrite(body, strlen(body), "h/index.html", spans, 2,
                                           CRAWL_CONVERT_HTML, lookup_table, &l, emit_buf, &o, NULL),
                     -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative),
        cmocka_unit_test(test_rewrite_html),
        cmocka_unit_test(test_rewrite_css),
        cmocka_unit_test(test_rewrite_hostile_spans),
        cmocka_unit_test(test_rewrite_again),
        cmocka_unit_test(test_rewrite_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
