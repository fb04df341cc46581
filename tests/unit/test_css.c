/* test_css.c - parse/css.c: references, kinds and spans from a table of stylesheets, the same
 * result however the input is cut, counters, caps and the streaming API's contract. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/css.h"

#define BASE "http://example.com/css/site.css"

static const char *kind_name(parse_link_kind_t kind)
{
    return kind == PARSE_LINK_PAGE ? "PAGE" : kind == PARSE_LINK_ASSET ? "ASSET" : "STYLESHEET";
}

/* Lines appended to a fixed buffer: the tests' inputs are small. */
struct out {
    char text[16384];
    size_t len;
    const char *css;  /* for spans: the input they point into */
    size_t css_len;
};

static void out_add(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(o->text + o->len, sizeof(o->text) - o->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(o->text) - o->len);
    o->len += (size_t)n;
}

/* parse_css_links_at: "KIND url [span as written]". */
static void on_link_at(void *arg, const char *url, parse_link_kind_t kind, size_t offset,
                       size_t len)
{
    struct out *o = arg;

    assert_true(offset + len <= o->css_len);
    out_add(o, "%s %s [%.*s]\n", kind_name(kind), url, (int)len, o->css + offset);
}

/* parse_css_new: "KIND url". */
static void on_link(void *arg, const char *url, parse_link_kind_t kind)
{
    out_add(arg, "%s %s\n", kind_name(kind), url);
}

/* parse_css_scan: "KIND ref|- @offset+len". */
static void on_ref(void *arg, const char *ref, size_t len, parse_link_kind_t kind, size_t offset,
                   size_t rawlen)
{
    struct out *o = arg;

    if (ref)
        assert_int_equal(ref[len], '\0');
    out_add(o, "%s %.*s @%zu+%zu\n", kind_name(kind), ref ? (int)len : 1, ref ? ref : "-",
            offset, rawlen);
}

struct css_case {
    const char *css;
    const char *want; /* parse_css_links_at's lines */
};

static const struct css_case cases[] = {
    /* url() in its three spellings */
    {"a{background:url(a.png)}", "ASSET http://example.com/css/a.png [a.png]\n"},
    {"a{background:url(\"b c.png\")}", "ASSET http://example.com/css/b%20c.png [b c.png]\n"},
    {"a{background:url( 'q.png' )}", "ASSET http://example.com/css/q.png [q.png]\n"},
    {"a{background:url(  u.png\t\n)}", "ASSET http://example.com/css/u.png [u.png]\n"},
    {"a{background:URL(up.png)}", "ASSET http://example.com/css/up.png [up.png]\n"},
    {"a{background:url(/root.png) , url(//cdn.example.org/x.png)}",
     "ASSET http://example.com/root.png [/root.png]\n"
     "ASSET http://cdn.example.org/x.png [//cdn.example.org/x.png]\n"},
    /* @import */
    {"@import \"i.css\";", "STYLESHEET http://example.com/css/i.css [i.css]\n"},
    {"@import url(j.css) screen;", "STYLESHEET http://example.com/css/j.css [j.css]\n"},
    {"@import url( \"k.css\" );", "STYLESHEET http://example.com/css/k.css [k.css]\n"},
    {"@IMPORT 'l.css';", "STYLESHEET http://example.com/css/l.css [l.css]\n"},
    {"@import/* a comment */\"m.css\";", "STYLESHEET http://example.com/css/m.css [m.css]\n"},
    {"@\\69mport 'n.css';", "STYLESHEET http://example.com/css/n.css [n.css]\n"},
    {"@import foo; a{content:\"s.png\"}", ""},
    {"@importx 'o.css';", ""},
    {"@import \"p.css\"; @import \"p2.css\"; a{background:url(p3.png)}",
     "STYLESHEET http://example.com/css/p.css [p.css]\n"
     "STYLESHEET http://example.com/css/p2.css [p2.css]\n"
     "ASSET http://example.com/css/p3.png [p3.png]\n"},
    /* image-set() */
    {"a{background:image-set(\"a.png\" 1x, url(b.png) 2x)}",
     "ASSET http://example.com/css/a.png [a.png]\nASSET http://example.com/css/b.png [b.png]\n"},
    {"a{background:-webkit-image-set('c.png' 1x, 'd.png' 2x)}",
     "ASSET http://example.com/css/c.png [c.png]\nASSET http://example.com/css/d.png [d.png]\n"},
    {"a{background:image-set(url(\"e.png\") type(\"image/png\"))}",
     "ASSET http://example.com/css/e.png [e.png]\n"},
    {"a{content:\"f.png\"} b{font-family:\"g.png\"} c{x:foo(\"h.png\")}", ""},
    {"a{x:image-set(\"i.png\" 1x} b{content:\"not.png\"}",
     "ASSET http://example.com/css/i.png [i.png]\n"},
    /* comments */
    {"/* url(no.png) */ a{background:url(yes.png)} /* @import 'no.css'; */",
     "ASSET http://example.com/css/yes.png [yes.png]\n"},
    {"a{background:url(c.png/**/)}", "ASSET http://example.com/css/c.png/**/ [c.png/**/]\n"},
    {"a{background:url(\"/*x*/.png\")}", "ASSET http://example.com/*x*/.png [/*x*/.png]\n"},
    {"/* never closed url(no.png)", ""},
    {"<!-- a{background:url(cdo.png)} -->", "ASSET http://example.com/css/cdo.png [cdo.png]\n"},
    /* escapes */
    {"a{background:url(\\61.png)}", "ASSET http://example.com/css/a.png [\\61.png]\n"},
    {"a{background:url(\\61 b.png)}", "ASSET http://example.com/css/ab.png [\\61 b.png]\n"},
    {"a{background:url(\\000061\\62.png)}", "ASSET http://example.com/css/ab.png [\\000061\\62.png]\n"},
    {"a{background:url(a\\ b.png)}", "ASSET http://example.com/css/a%20b.png [a\\ b.png]\n"},
    {"a{background:url(a\\)b.png)}", "ASSET http://example.com/css/a)b.png [a\\)b.png]\n"},
    {"a{background:url(\"e\\\"f.png\")}", "ASSET http://example.com/css/e%22f.png [e\\\"f.png]\n"},
    {"a{background:url(\\2e\\2e/up.png)}", "ASSET http://example.com/up.png [\\2e\\2e/up.png]\n"},
    {"a{background:url(\\e9t\\E9.png)}", "ASSET http://example.com/css/%C3%A9t%C3%A9.png [\\e9t\\E9.png]\n"},
    {"a{background:url(\\0.png)}", "ASSET http://example.com/css/%EF%BF%BD.png [\\0.png]\n"},
    {"a{background:url(\\110000.png)}", "ASSET http://example.com/css/%EF%BF%BD.png [\\110000.png]\n"},
    {"a{background:u\\72l(esc-ident.png)}", "ASSET http://example.com/css/esc-ident.png [esc-ident.png]\n"},
    {"a{background:url(\"a\\\nb.png\")}", "ASSET http://example.com/css/ab.png [a\\\nb.png]\n"},
    {"a{background:url(\"a\\\r\nb.png\")}", "ASSET http://example.com/css/ab.png [a\\\r\nb.png]\n"},
    {"a{background:url(\"caf\xc3\xa9.png\")}", "ASSET http://example.com/css/caf%C3%A9.png [caf\xc3\xa9.png]\n"},
    /* not url( ) */
    {"a{x:1url(n.png) #url(n.png) -url(n.png) --url(n.png) xurl(n.png)}", ""},
    {"a{x:a.url(dot.png)}", "ASSET http://example.com/css/dot.png [dot.png]\n"},
    {"a{x:\\\nurl(after-bad-escape.png)}", "ASSET http://example.com/css/after-bad-escape.png [after-bad-escape.png]\n"},
    /* ends and errors */
    {"a{background:url(\"open.png", "ASSET http://example.com/css/open.png [open.png]\n"},
    {"@import \"open.css", "STYLESHEET http://example.com/css/open.css [open.css]\n"},
    {"a{background:url(open2.png", "ASSET http://example.com/css/open2.png [open2.png]\n"},
    {"a{background:url(open3.png  ", "ASSET http://example.com/css/open3.png [open3.png]\n"},
    {"a{background:url(open4\\", "ASSET http://example.com/css/open4%EF%BF%BD [open4\\]\n"},
    {"a{background:url(", ""},
    /* a newline cuts a string (dropped); a quote after it opens a string to the end */
    {"@import \"cut.css\n\"; a{background:url(in-string.png)}", ""},
    {"@import \"cut.css\n; a{background:url(ok.png)}",
     "ASSET http://example.com/css/ok.png [ok.png]\n"},
    {"a{background:url(a b.png)} b{background:url(ok2.png)}",
     "ASSET http://example.com/css/ok2.png [ok2.png]\n"},
    {"a{background:url(a\"b.png)} b{background:url(ok3.png)}",
     "ASSET http://example.com/css/ok3.png [ok3.png]\n"},
    {"a{background:url(a(b.png)} b{background:url(ok4.png)}",
     "ASSET http://example.com/css/ok4.png [ok4.png]\n"},
    {"a{background:url(a\x01.png)} b{background:url(ok5.png)}",
     "ASSET http://example.com/css/ok5.png [ok5.png]\n"},
    {"a{background:url(bad\\\n.png) url(ok6.png)}",
     "ASSET http://example.com/css/ok6.png [ok6.png]\n"},
    {"a{background:url(bad (\\) still bad) url(ok7.png)}",
     "ASSET http://example.com/css/ok7.png [ok7.png]\n"},
    /* dropped by scheme or as the stylesheet itself */
    {"a{background:url(data:image/png;base64,AAAA)} b{behavior:url(javascript:x)}", ""},
    {"a{background:url(#frag)} b{background:url()} c{background:url(\"\")}", ""},
    {"a{background:url(HTTPS://Example.COM/abs.png)}",
     "ASSET https://example.com/abs.png [HTTPS://Example.COM/abs.png]\n"},
};

/* Every case, one-shot with positions. */
static void test_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct out *o = calloc(1, sizeof(*o));
        int n;
        assert_non_null(o);
        o->css = cases[i].css;
        o->css_len = strlen(cases[i].css);
        n = parse_css_links_at(o->css, o->css_len, BASE, on_link_at, o);
        if (strcmp(o->text, cases[i].want) != 0)
            fail_msg("case %zu <%s>: got\n%s\nwant\n%s", i, cases[i].css, o->text, cases[i].want);
        assert_true(n >= 0);
        free(o);
    }
}

/* Scan s with the low-level API, cut at `cut` (and at every byte when cut == 0). */
static void scan(const char *s, size_t len, size_t cut, struct out *o)
{
    parse_css_scan_t *sc = malloc(sizeof(*sc));
    size_t i;

    assert_non_null(sc);
    memset(o, 0, sizeof(*o));
    parse_css_scan_init(sc, on_ref, o);
    if (cut == 0) {
        for (i = 0; i < len; i++)
            parse_css_scan_feed(sc, s + i, 1);
    } else {
        parse_css_scan_feed(sc, s, cut);
        parse_css_scan_feed(sc, s + cut, len - cut);
    }
    parse_css_scan_end(sc);
    free(sc);
}

/* However a stylesheet is cut into feeds, the same references at the same offsets. */
static void test_cut_anywhere(void **state)
{
    struct out *whole = malloc(sizeof(*whole)), *part = malloc(sizeof(*part));
    size_t i, cut;

    (void)state;
    assert_non_null(whole);
    assert_non_null(part);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *s = cases[i].css;
        size_t len = strlen(s);
        scan(s, len, len, whole);
        for (cut = 0; cut < len; cut++) {
            scan(s, len, cut, part);
            if (strcmp(whole->text, part->text) != 0)
                fail_msg("case %zu cut at %zu: got\n%s\nwant\n%s", i, cut, part->text, whole->text);
        }
    }
    free(whole);
    free(part);
}

/* The streaming parser reports what the one-shot one does, and counts what it drops. */
static void test_stream_and_counters(void **state)
{
    static const char css[] =
        "@import 'a.css';\n"
        "x{background:url(data:image/png;base64,AAAA)}\n"
        "y{background:url(#f) url(b.png) url(c d.png) url(mailto:x@y)}\n"
        "z{background:url(http://[bad/x.png)}\n";
    struct out *o = calloc(1, sizeof(*o));
    parse_css_t *p;
    const parse_css_stats_t *st;
    size_t i;

    (void)state;
    assert_non_null(o);
    p = parse_css_new(BASE, on_link, o);
    assert_non_null(p);
    for (i = 0; i < sizeof(css) - 1; i += 7)
        assert_int_equal(parse_css_feed(p, css + i, sizeof(css) - 1 - i < 7 ? sizeof(css) - 1 - i : 7),
                         PARSE_OK);
    assert_int_equal(parse_css_end(p), PARSE_OK);
    assert_string_equal(o->text, "STYLESHEET http://example.com/css/a.css\n"
                                 "ASSET http://example.com/css/b.png\n");
    st = parse_css_stats(p);
    assert_int_equal(st->links, 2);
    assert_int_equal(st->dropped_scheme, 2);
    assert_int_equal(st->dropped_fragment, 1);
    assert_int_equal(st->dropped_invalid, 2); /* the bad url token and the bad host */
    assert_int_equal(st->bytes, sizeof(css) - 1);
    assert_int_equal(parse_css_feed(p, "x", 1), PARSE_ESTATE);
    assert_int_equal(parse_css_end(p), PARSE_OK);
    parse_css_free(p);
    parse_css_free(NULL);
    assert_int_equal(parse_css_links(css, sizeof(css) - 1, BASE, on_link, o), 2);
    assert_int_equal(parse_css_links(css, sizeof(css) - 1, "ftp://x/", on_link, o), PARSE_EINVAL);
    errno = 0;
    assert_null(parse_css_new("not a url", on_link, o));
    assert_int_equal(errno, EINVAL);
    free(o);
}

/*
 * Memory is bounded: a url( ) or a string longer than PARSE_URL_MAX is dropped as invalid
 * without being held, and the scanner's state is a fixed size. A 4 MiB string (a data: URI
 * in quotes, say) goes by and the reference after it is found.
 */
static void test_caps(void **state)
{
    size_t big = 4u << 20, n;
    char *css = malloc(big + PARSE_URL_MAX + 256);
    struct out *o = calloc(1, sizeof(*o));
    parse_css_t *p;

    (void)state;
    assert_non_null(css);
    assert_non_null(o);
    assert_true(sizeof(parse_css_scan_t) < PARSE_URL_MAX + 256);
    n = (size_t)sprintf(css, "a{background:url(\"");
    memset(css + n, 'a', big);
    n += big;
    n += (size_t)sprintf(css + n, "\")} b{background:url(");
    memset(css + n, 'b', PARSE_URL_MAX + 1);
    n += PARSE_URL_MAX + 1;
    n += (size_t)sprintf(css + n, ")} c{background:url(ok.png)}");
    p = parse_css_new(BASE, on_link, o);
    assert_non_null(p);
    assert_int_equal(parse_css_feed(p, css, n), PARSE_OK);
    assert_int_equal(parse_css_end(p), PARSE_OK);
    assert_string_equal(o->text, "ASSET http://example.com/css/ok.png\n");
    assert_int_equal(parse_css_stats(p)->dropped_invalid, 2);
    parse_css_free(p);

    /* A url of exactly PARSE_URL_MAX bytes is kept (and then judged by the URL parser). */
    memset(o, 0, sizeof(*o));
    n = (size_t)sprintf(css, "a{background:url(/");
    memset(css + n, 'c', PARSE_URL_MAX - 1);
    n += PARSE_URL_MAX - 1;
    css[n++] = ')';
    p = parse_css_new(BASE, on_link, o);
    assert_non_null(p);
    assert_int_equal(parse_css_feed(p, css, n), PARSE_OK);
    assert_int_equal(parse_css_end(p), PARSE_OK);
    assert_int_equal(parse_css_stats(p)->dropped_invalid + parse_css_stats(p)->links, 1);
    parse_css_free(p);
    free(css);
    free(o);
}

/* Past PARSE_CSS_MAX_BYTES nothing more is read, and feeds say so. */
static void test_size_cap(void **state)
{
    size_t n = PARSE_CSS_MAX_BYTES + 64;
    char *css = malloc(n);
    struct out *o = calloc(1, sizeof(*o));
    parse_css_t *p;

    (void)state;
    assert_non_null(css);
    assert_non_null(o);
    memset(css, ' ', n);
    memcpy(css, "a{background:url(in.png)}", 25);
    memcpy(css + PARSE_CSS_MAX_BYTES + 2, "url(out.png)", 12);
    p = parse_css_new(BASE, on_link, o);
    assert_non_null(p);
    assert_int_equal(parse_css_feed(p, css, n), PARSE_ETOOLONG);
    assert_int_equal(parse_css_feed(p, "url(x)", 6), PARSE_ETOOLONG);
    assert_int_equal(parse_css_end(p), PARSE_OK);
    assert_string_equal(o->text, "ASSET http://example.com/css/in.png\n");
    assert_true(parse_css_stats(p)->truncated);
    assert_int_equal(parse_css_stats(p)->bytes, PARSE_CSS_MAX_BYTES);
    parse_css_free(p);
    free(css);
    free(o);
}

/* Spans never overlap, come in order, and replacing them rewrites only the references. */
struct spans {
    size_t off[16], len[16], n;
};

static void on_span(void *arg, const char *url, parse_link_kind_t kind, size_t offset, size_t len)
{
    struct spans *sp = arg;

    (void)url;
    (void)kind;
    assert_true(sp->n < 16);
    if (sp->n > 0)
        assert_true(offset >= sp->off[sp->n - 1] + sp->len[sp->n - 1]);
    sp->off[sp->n] = offset;
    sp->len[sp->n++] = len;
}

static void test_rewrite_by_spans(void **state)
{
    static const char css[] = "@import 'a.css';\n/* url(no.png) */\n"
                              "x{background:url( b.png ) , image-set(\"c.png\" 1x, url('d.png') 2x)}\n"
                              "y{background:url(\\65 .png)}";
    static const char want[] = "@import 'R';\n/* url(no.png) */\n"
                               "x{background:url( R ) , image-set(\"R\" 1x, url('R') 2x)}\n"
                               "y{background:url(R)}";
    struct spans sp;
    char out[512];
    size_t i, o = 0, at = 0;

    (void)state;
    memset(&sp, 0, sizeof(sp));
    assert_int_equal(parse_css_links_at(css, sizeof(css) - 1, BASE, on_span, &sp), 5);
    assert_int_equal(sp.n, 5);
    for (i = 0; i < sp.n; i++) {
        memcpy(out + o, css + at, sp.off[i] - at);
        o += sp.off[i] - at;
        out[o++] = 'R';
        at = sp.off[i] + sp.len[i];
    }
    memcpy(out + o, css + at, sizeof(css) - 1 - at);
    o += sizeof(css) - 1 - at;
    out[o] = '\0';
    assert_string_equal(out, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_cut_anywhere),
        cmocka_unit_test(test_stream_and_counters),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_rewrite_by_spans),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
