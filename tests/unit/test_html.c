/* test_html.c - parse/html.c against tests/data/html/NAME.html + NAME.expected, and stress. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "parse/html.h"

/* malloc for test data: the tests assume memory does not run out, so abort if it does. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n);

    if (!p)
        abort();
    return p;
}

#define PAGE_URL "http://example.com/dir/page.html"

/* Every link reported, as "PAGE url\n" / "ASSET url\n" lines, in a growing buffer. */
struct links {
    char *text;
    size_t len, cap;
    unsigned long count;
    int keep;  /* 0: only count */
};

static void on_link(void *arg, const char *url, parse_link_kind_t kind)
{
    struct links *l = arg;
    size_t need;

    l->count++;
    if (!l->keep)
        return;
    need = strlen(url) + sizeof("STYLESHEET  \n");
    if (l->len + need + 1 > l->cap) {
        l->cap = (l->len + need + 1) * 2;
        l->text = xrealloc(l->text, l->cap);
        assert_non_null(l->text);
    }
    l->len += (size_t)sprintf(l->text + l->len, "%s %s\n",
                              kind == PARSE_LINK_PAGE    ? "PAGE"
                              : kind == PARSE_LINK_ASSET ? "ASSET"
                                                         : "STYLESHEET",
                              url);
}

/*
 * Directory of the HTML test data: $GATHER_TEST_DATA/html, else found from this file's path
 * (relative to the repository root, where the build runs) or from a build directory below it.
 */
static const char *data_dir(void)
{
    static char dir[512];
    const char *env = getenv("GATHER_TEST_DATA");
    const char *slash = strrchr(__FILE__, '/');
    const char *const tries[] = {"%.*s/../data/html", "../../%.*s/../data/html",
                                 "../../../%.*s/../data/html"};
    size_t i;

    if (env) {
        snprintf(dir, sizeof(dir), "%s/html", env);
        return dir;
    }
    for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        DIR *d;
        snprintf(dir, sizeof(dir), tries[i], slash ? (int)(slash - __FILE__) : 1,
                 slash ? __FILE__ : ".");
        d = opendir(dir);
        if (d) {
            closedir(d);
            return dir;
        }
    }
    snprintf(dir, sizeof(dir), "%.*s/../data/html", slash ? (int)(slash - __FILE__) : 1,
             slash ? __FILE__ : ".");
    return dir;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = xmalloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Parse body fed in pieces of `chunk` bytes (0: one piece; -1: pseudo-random sizes). */
static void run_page(const char *body, size_t len, long chunk, struct links *l,
                     parse_html_stats_t *stats)
{
    unsigned long seed = 12345;
    parse_html_t *p;
    size_t off = 0;

    memset(l, 0, sizeof(*l));
    l->keep = 1;
    p = parse_html_new(PAGE_URL, on_link, l);
    assert_non_null(p);
    while (off < len) {
        size_t n = len - off;
        if (chunk > 0 && (size_t)chunk < n)
            n = (size_t)chunk;
        if (chunk < 0) {
            seed = seed * 1103515245 + 12345;
            if ((seed >> 16) % 64 + 1 < n)
                n = (seed >> 16) % 64 + 1;
        }
        assert_int_equal(parse_html_feed(p, body + off, n), PARSE_OK);
        off += n;
    }
    assert_int_equal(parse_html_end(p), PARSE_OK);
    *stats = *parse_html_stats(p);
    parse_html_free(p);
    if (!l->text)
        l->text = strdup("");
}

/* 1 if the page starts with a UTF-16 BOM or names a charset other than UTF-8. */
static int names_other_charset(const char *body, size_t len)
{
    const char *s = body;

    if (len >= 2 && (unsigned char)body[0] == 0xFF && (unsigned char)body[1] == 0xFE)
        return 1;
    while ((s = strcasestr(s, "charset=")) != NULL) {
        s += 8;
        if (strncasecmp(s, "utf-8", 5) != 0 && strncasecmp(s, "\"utf-8", 6) != 0)
            return 1;
    }
    return 0;
}

/*
 * Each NAME.html gives exactly the links and counters in NAME.expected, however it is fed,
 * and (for UTF-8 pages) also when 8 KiB of blanks in front push the whole page past the
 * bytes held for encoding sniffing, so that it is parsed as it streams in.
 */
static void test_corpus(void **state)
{
    const char *dir = data_dir();
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;

    (void)state;
    if (!d)
        fail_msg("cannot open %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        static const long chunks[] = {0, 1, 7, -1, 4096};
        char path[1024], *body, *expected, *want_links, *stats_line;
        size_t len, elen, i;
        size_t nlen = strlen(e->d_name);
        unsigned long w_links, w_frag, w_scheme, w_invalid;

        if (nlen < 6 || strcmp(e->d_name + nlen - 5, ".html") != 0)
            continue;
        files++;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        body = read_file(path, &len);
        snprintf(path, sizeof(path), "%s/%.*s.expected", dir, (int)(nlen - 5), e->d_name);
        expected = read_file(path, &elen);

        /* Split the expected file into the link lines and the STATS line; drop comments. */
        want_links = calloc(1, elen + 1);
        assert_non_null(want_links);
        stats_line = NULL;
        for (char *line = strtok(expected, "\n"); line; line = strtok(NULL, "\n")) {
            if (line[0] == '#')
                continue;
            if (strncmp(line, "STATS ", 6) == 0) {
                stats_line = line;
                continue;
            }
            strcat(want_links, line);
            strcat(want_links, "\n");
        }
        if (!stats_line || sscanf(stats_line, "STATS links=%lu fragment=%lu scheme=%lu invalid=%lu",
                                  &w_links, &w_frag, &w_scheme, &w_invalid) != 4)
            fail_msg("%s: no STATS line", path);

        for (i = 0; i < 2 * sizeof(chunks) / sizeof(chunks[0]); i++) {
            size_t nchunks = sizeof(chunks) / sizeof(chunks[0]), pad = 0;
            struct links l;
            parse_html_stats_t st;
            char *page = body;
            if (i >= nchunks) {
                if (names_other_charset(body, len))
                    break;
                pad = 8192 + 100;
                page = xmalloc(pad + len);
                memset(page, ' ', pad);
                memcpy(page + pad, body, len);
            }
            run_page(page, pad + len, chunks[i % nchunks], &l, &st);
            if (page != body)
                free(page);
            if (strcmp(l.text, want_links) != 0)
                fail_msg("%s (chunk %ld, pad %zu): got\n%s\nwant\n%s", e->d_name,
                         chunks[i % nchunks], pad, l.text, want_links);
            assert_int_equal(st.links, w_links);
            assert_int_equal(st.dropped_fragment, w_frag);
            assert_int_equal(st.dropped_scheme, w_scheme);
            assert_int_equal(st.dropped_invalid, w_invalid);
            assert_int_equal(st.bytes, pad + len);
            assert_int_equal(st.truncated, 0);
            free(l.text);
        }
        free(want_links);
        free(expected);
        free(body);
    }
    closedir(d);
    assert_true(files >= 12);
}

/* A growing buffer for generated pages. */
struct gen {
    char *s;
    size_t len, cap;
};

static void gen_add(struct gen *g, const char *text, size_t times)
{
    size_t n = strlen(text), i;

    if (g->len + n * times + 1 > g->cap) {
        g->cap = (g->len + n * times + 1) * 2;
        g->s = xrealloc(g->s, g->cap);
        assert_non_null(g->s);
    }
    for (i = 0; i < times; i++) {
        memcpy(g->s + g->len, text, n);
        g->len += n;
    }
    g->s[g->len] = '\0';
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse a generated page in 4 KiB pieces and return its links as text. */
static char *parse_generated(const struct gen *g, parse_html_stats_t *stats)
{
    struct links l;

    run_page(g->s, g->len, 4096, &l, stats);
    return l.text;
}

/*
 * 100,000 unclosed elements, then as many stray end tags: libxml2's end-tag search is
 * linear in the depth, so without the stack trimming in html.c this takes minutes.
 */
static void test_deep_nesting(void **state)
{
    struct gen g = {0};
    parse_html_stats_t st;
    double t0 = now();
    char *links;

    (void)state;
    gen_add(&g, "<a href=\"/top\">", 1);
    gen_add(&g, "<div>", 100000);
    gen_add(&g, "<a href=\"/deep\">", 1);
    gen_add(&g, "</span>", 100000);
    gen_add(&g, "<script>var x = '<a href=\"/in-script\">';</script><img src=\"/after.png\">", 1);
    gen_add(&g, "</div>", 100000);
    gen_add(&g, "<a href=\"/end\">", 1);
    links = parse_generated(&g, &st);
    assert_string_equal(links, "PAGE http://example.com/top\n"
                               "PAGE http://example.com/deep\n"
                               "ASSET http://example.com/after.png\n"
                               "PAGE http://example.com/end\n");
    assert_true(now() - t0 < 20.0);
    free(links);
    free(g.s);
}

/* Megabyte attributes: over-long URLs are dropped, the rest of the page is still parsed. */
static void test_huge_attributes(void **state)
{
    struct gen g = {0};
    parse_html_stats_t st;
    char *links;

    (void)state;
    gen_add(&g, "<a href=\"/before\">", 1);
    gen_add(&g, "<a href=\"/", 1);
    gen_add(&g, "x", 1024 * 1024);
    gen_add(&g, "\">", 1);
    gen_add(&g, "<img title=\"", 1);
    gen_add(&g, "t", 2 * 1024 * 1024);
    gen_add(&g, "\" src=\"/titled.png\">", 1);
    /* A megabyte of blanks around a short URL is trimmed away, as HTML says. */
    gen_add(&g, "<a href=\"", 1);
    gen_add(&g, " \n\t", 300000);
    gen_add(&g, "/padded", 1);
    gen_add(&g, "\n ", 300000);
    gen_add(&g, "\">", 1);
    /* A megabyte srcset: every candidate comes out. */
    gen_add(&g, "<img srcset=\"", 1);
    gen_add(&g, "/s.png 1x, ", 100000);
    gen_add(&g, "/last.png 2x\">", 1);
    gen_add(&g, "<a href=\"/after\">", 1);
    links = parse_generated(&g, &st);
    assert_int_equal(st.dropped_invalid, 1);
    assert_int_equal(st.links, 1 + 1 + 1 + 100001 + 1);
    assert_non_null(strstr(links, "PAGE http://example.com/before\n"
                                  "ASSET http://example.com/titled.png\n"
                                  "PAGE http://example.com/padded\n"
                                  "ASSET http://example.com/s.png\n"));
    assert_non_null(strstr(links, "ASSET http://example.com/s.png\n"
                                  "ASSET http://example.com/last.png\n"
                                  "PAGE http://example.com/after\n"));
    free(links);
    free(g.s);
}

/* 100,000 real links through the resolver, counted not stored. */
static void test_many_links(void **state)
{
    struct links l = {0};
    struct gen g = {0};
    parse_html_t *p;
    size_t off;
    int i;

    (void)state;
    for (i = 0; i < 100000; i++) {
        char tag[64];
        snprintf(tag, sizeof(tag), "<li><a href=\"item/%d\">%d</a>\n", i, i);
        gen_add(&g, tag, 1);
    }
    p = parse_html_new(PAGE_URL, on_link, &l);
    assert_non_null(p);
    for (off = 0; off < g.len; off += 65536)
        assert_int_equal(parse_html_feed(p, g.s + off, g.len - off < 65536 ? g.len - off : 65536),
                         PARSE_OK);
    assert_int_equal(parse_html_end(p), PARSE_OK);
    assert_int_equal(parse_html_stats(p)->links, 100000);
    assert_int_equal(l.count, 100000);
    parse_html_free(p);
    free(g.s);
}

/*
 * A million elements in a page past PARSE_HTML_MAX_BYTES: what fits is parsed, the rest
 * ignored, the caller told. Fragment links keep this fast: they are counted, not resolved.
 */
static void test_size_cap(void **state)
{
    static const char unit[] = "<a href=#abcdef>"; /* 16 bytes: 2^20 fit in 16 MiB exactly */
    struct links l = {0};
    struct gen g = {0};
    parse_html_t *p;
    const parse_html_stats_t *st;

    (void)state;
    assert_int_equal(PARSE_HTML_MAX_BYTES % (sizeof(unit) - 1), 0);
    gen_add(&g, unit, PARSE_HTML_MAX_BYTES / (sizeof(unit) - 1));
    gen_add(&g, "<a href=\"/past-the-cap\">", 1);
    p = parse_html_new(PAGE_URL, on_link, &l);
    assert_non_null(p);
    assert_int_equal(parse_html_feed(p, g.s, g.len), PARSE_ETOOLONG);
    assert_int_equal(parse_html_feed(p, "<a href=/more>", 14), PARSE_ETOOLONG);
    assert_int_equal(parse_html_end(p), PARSE_OK);
    st = parse_html_stats(p);
    assert_int_equal(st->truncated, 1);
    assert_int_equal(st->bytes, PARSE_HTML_MAX_BYTES);
    assert_int_equal(st->dropped_fragment, PARSE_HTML_MAX_BYTES / (sizeof(unit) - 1));
    assert_int_equal(st->links, 0);
    assert_int_equal(parse_html_feed(p, "x", 1), PARSE_ESTATE);
    parse_html_free(p);

    /* The one-shot call parses up to the cap without failing. */
    assert_int_equal(parse_html_links(g.s, g.len, PAGE_URL, on_link, &l), 0);
    free(g.s);
}

static void test_api(void **state)
{
    static const char page[] = "<a href=a.html><img src=b.png><a href=#x><a href=mailto:x@y>";
    struct links l = {0};
    parse_html_t *p;

    (void)state;
    l.keep = 1;
    assert_int_equal(parse_html_links(page, sizeof(page) - 1, PAGE_URL, on_link, &l), 2);
    assert_string_equal(l.text, "PAGE http://example.com/dir/a.html\n"
                                "ASSET http://example.com/dir/b.png\n");
    free(l.text);

    assert_int_equal(parse_html_links(page, sizeof(page) - 1, "ftp://x/", on_link, &l),
                     PARSE_EINVAL);
    errno = 0;
    assert_null(parse_html_new("not a url", on_link, &l));
    assert_int_equal(errno, EINVAL);

    /* An empty page, and end called twice. */
    p = parse_html_new("HTTP://Example.COM", on_link, &l);
    assert_non_null(p);
    assert_int_equal(parse_html_feed(p, "", 0), PARSE_OK);
    assert_int_equal(parse_html_end(p), PARSE_OK);
    assert_int_equal(parse_html_end(p), PARSE_OK);
    assert_int_equal(parse_html_stats(p)->links, 0);
    parse_html_free(p);
    parse_html_free(NULL);

    /* Links are reported by the feed that completes them, before end. */
    memset(&l, 0, sizeof(l));
    p = parse_html_new(PAGE_URL, on_link, &l);
    assert_non_null(p);
    {
        struct gen g = {0};
        gen_add(&g, "<a href=/first>", 1);
        gen_add(&g, " ", 9000); /* past the 8 KiB held while the encoding is sniffed */
        assert_int_equal(parse_html_feed(p, g.s, g.len), PARSE_OK);
        free(g.s);
    }
    assert_int_equal(l.count, 1);
    assert_int_equal(parse_html_end(p), PARSE_OK);
    parse_html_free(p);
}

/*
 * Found by the padded corpus run: libxml2 2.9's push parser, given "</scr" at the end of its
 * input inside <script>, takes it for script text and never leaves the script. html.c holds
 * such tails back; here every split point of the end tag is tried, streaming (past the 8 KiB
 * held for sniffing).
 */
static void test_raw_text_end_tag_split(void **state)
{
    static const char *const tails[] = {
        "<script>var s = '</b>'; if (a < b) {}</script><a href=\"/after-script\">x</a>",
        "<STYLE>p { color: red }</STYLE ><a href=\"/after-style\">x</a>",
        "<script>x</scriptx></script><a href=\"/after-scriptx\">x</a>",
    };
    static const char *const want[] = {
        "PAGE http://example.com/after-script\n",
        "PAGE http://example.com/after-style\n",
        "PAGE http://example.com/after-scriptx\n",
    };
    size_t t, split;

    (void)state;
    for (t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
        struct gen g = {0};
        size_t start;
        gen_add(&g, " ", 8300);
        start = g.len;
        gen_add(&g, tails[t], 1);
        for (split = start; split < g.len; split++) {
            struct links l = {0};
            parse_html_t *p = parse_html_new(PAGE_URL, on_link, &l);
            assert_non_null(p);
            l.keep = 1;
            assert_int_equal(parse_html_feed(p, g.s, split), PARSE_OK);
            assert_int_equal(parse_html_feed(p, g.s + split, g.len - split), PARSE_OK);
            assert_int_equal(parse_html_end(p), PARSE_OK);
            parse_html_free(p);
            if (!l.text || strcmp(l.text, want[t]) != 0)
                fail_msg("tail %zu split at %zu: got \"%s\"", t, split - start,
                         l.text ? l.text : "");
            free(l.text);
        }
        free(g.s);
    }
}

/*
 * Found by fuzz_html: a quote left open in <!DOCTYPE made libxml2's push parser see the
 * following <source> or not depending on where the input was cut. html.c now hands libxml2
 * fixed blocks, so the cut made by the feeds no longer matters.
 */
static void test_doctype_open_quote(void **state)
{
    static const long chunks[] = {0, 1, 6, 7, 4096};
    struct gen g = {0};
    char *first = NULL;
    size_t i;

    (void)state;
    gen_add(&g, " ", 8300);
    gen_add(&g, "\xff\xff<!DOCTYPE htmlkin[of l+ 1x,\xe0\xd0\x96\x92ter-pype=\"image/web"
                "<source srcset=\"relative/small.we:::\"><a href=\"/after\">", 1);
    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        struct links l;
        parse_html_stats_t st;
        run_page(g.s, g.len, chunks[i], &l, &st);
        if (!first)
            first = l.text;
        else {
            assert_string_equal(l.text, first);
            free(l.text);
        }
    }
    free(first);
    free(g.s);
}

/*
 * Found by fuzz_html: a page declaring UTF-7 with bytes iconv rejects. libxml2 prints
 * "encoding error" through its generic error handler, which html.c mutes, and the links are
 * the same however the page is fed (the conversion error is met in the same block).
 */
static void test_conversion_error(void **state)
{
    static const char first_links[] = "PAGE http://example.com/dir/x%C3%BF\n"
                                      "ASSET http://example.com/dir/a\n"
                                      "ASSET http://example.com/dir/b,c\n";
    static const long chunks[] = {0, 1, 7, 4096};
    char *texts[sizeof(chunks) / sizeof(chunks[0])];
    char path[1024], *body, *errpath;
    size_t len, i;
    int saved, fd, c;
    FILE *ef;

    (void)state;
    snprintf(path, sizeof(path), "%s/fuzz-utf7-conversion-error.bin", data_dir());
    body = read_file(path, &len);
    errpath = strdup("/tmp/test_html_stderr_XXXXXX");
    if (!errpath)
        abort();
    fd = mkstemp(errpath);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    close(fd);
    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        struct links l;
        parse_html_stats_t st;
        run_page(body + 1, len - 1, chunks[i], &l, &st);
        texts[i] = l.text;
    }
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    ef = fopen(errpath, "r");
    assert_non_null(ef);
    c = fgetc(ef);
    fclose(ef);
    unlink(errpath);
    free(errpath);
    assert_int_equal(c, EOF);
    assert_true(strncmp(texts[0], first_links, strlen(first_links)) == 0);
    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        assert_string_equal(texts[i], texts[0]);
    }
    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
        free(texts[i]);
    free(body);
}

/* ---- parse_html_links_at --------------------------------------------------------------- */

/* Links with spans: "KIND url [span]" lines in a growing buffer, spans checked as they come. */
struct spans {
    struct links l;
    const char *body;
    size_t len, last_end;
};

static void on_link_at(void *arg, const char *url, parse_link_kind_t kind, size_t offset,
                       size_t len)
{
    struct spans *sp = arg;
    size_t need = strlen(url) + len + 16;

    assert_true(len > 0);
    assert_true(offset >= sp->last_end);     /* in order, never overlapping */
    assert_true(offset + len <= sp->len);
    sp->last_end = offset + len;
    if (sp->l.len + need + 1 > sp->l.cap) {
        sp->l.cap = (sp->l.len + need + 1) * 2;
        sp->l.text = xrealloc(sp->l.text, sp->l.cap);
    }
    sp->l.len += (size_t)sprintf(sp->l.text + sp->l.len, "%s %s [%.*s]\n",
                                 kind == PARSE_LINK_PAGE    ? "PAGE"
                                 : kind == PARSE_LINK_ASSET ? "ASSET"
                                                            : "STYLESHEET",
                                 url, (int)len, sp->body + offset);
    sp->l.count++;
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text, without what follows " [" on each, sorted, joined again. */
static char *sorted_lines(char *text, int strip_span)
{
    char **v = NULL, *out, *line;
    size_t n = 0, i, len = 0;

    for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strip_span) {
            char *sp = strstr(line, " [");
            if (sp)
                *sp = '\0';
        }
        v = xrealloc(v, (n + 1) * sizeof(*v));
        v[n++] = line;
        len += strlen(line) + 1;
    }
    if (n > 0)
        qsort(v, n, sizeof(*v), cmp_lines);
    out = xmalloc(len + 1);
    out[0] = '\0';
    for (i = 0, len = 0; i < n; i++)
        len += (size_t)sprintf(out + len, "%s\n", v[i]);
    free(v);
    return out;
}

/*
 * On every page of tests/data/html, parse_html_links_at reports the same (url, kind) pairs as
 * the streaming parser (as a set: it reports in offset order), with spans in order.
 */
static void test_links_at_corpus(void **state)
{
    const char *dir = data_dir();
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;

    (void)state;
    if (!d)
        fail_msg("cannot open %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t nlen = strlen(e->d_name), len;
        char path[1024], *body, *a, *b;
        struct links l;
        struct spans sp;
        parse_html_stats_t st;
        int n;

        if (nlen < 6 || strcmp(e->d_name + nlen - 5, ".html") != 0)
            continue;
        files++;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        body = read_file(path, &len);
        run_page(body, len, 0, &l, &st);
        memset(&sp, 0, sizeof(sp));
        sp.body = body;
        sp.len = len;
        n = parse_html_links_at(body, len, PAGE_URL, on_link_at, &sp);
        assert_int_equal(n, (int)sp.l.count);
        if (!sp.l.text)
            sp.l.text = strdup("");
        a = sorted_lines(l.text, 0);
        b = sorted_lines(sp.l.text, 1);
        if (strcmp(a, b) != 0)
            fail_msg("%s: the streaming parser reports\n%s\nparse_html_links_at\n%s", e->d_name, a, b);
        free(a);
        free(b);
        free(l.text);
        free(sp.l.text);
        free(body);
    }
    closedir(d);
    assert_true(files >= 15);
}

/* Spans exactly as written, on the cases a tag reader gets wrong. */
static void test_links_at_spans(void **state)
{
    static const char page[] =
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN>\" \"x.dtd\">\n"
        "<HTML><HEAD><LINK REL=Stylesheet HREF=/s.css></HEAD><BODY>\n"
        "<a href=\"/q?a=1&amp;b=2\">amp</a>\n"
        "<a href='/gt>inside'>gt</a>\n"
        "<a title=\"<a href=/fake>\" href=\"/real\">title</a>\n"
        "<a href=/unquoted?x=1 class=c>u</a><a href = \"  /blanks  \" >b</a>\n"
        "<!-- <a href=\"/comment\"> -->\n"
        "<!-- a --!> <a href=\"/after-bang-comment\">e</a>\n"
        "<![CDATA[ <a href=\"/cdata-is-text\">c</a> ]]>\n"
        "<script>document.write('<a href=\"/script\">'); if (a</b) {}</script>\n"
        "<SCRIPT>x = \"</scrip\"; y = '<img src=/script2.png>';</SCRIPT >\n"
        "<img srcset=\"/s1.png 1x, /s2.png 2x\" src=\"/s0.png\">\n"
        "<meta http-equiv=\"refresh\" content=\"3; URL='/refresh'\">\n"
        "<div style=\"background:url(&quot;/bg.png&quot;)\">s</div>\n"
        "<style>p { background: url( /style.png ) }</style>\n"
        "<a href=\"/caf\xe9\">latin1 byte</a>\n"
        "<a @click=\"go('x y')\" href=\"/after-bogus\">vue</a>\n"
        "<a href=\"/dup1\" HREF=\"/dup2\">dup</a>\n"
        "<a href=\"&#x2F;hex&#47;\">refs</a>\n"
        "<a href=\"/zero&#0;cut\">cut</a>\n"
        "<a href=\"#frag\">f</a><a href=\"javascript:x()\">j</a><a href>none</a>\n"
        "</BODY></HTML>\n";
    static const char want[] =
        "STYLESHEET http://example.com/s.css [/s.css]\n"
        "PAGE http://example.com/q?a=1&b=2 [/q?a=1&amp;b=2]\n"
        "PAGE http://example.com/gt%3Einside [/gt>inside]\n"
        "PAGE http://example.com/real [/real]\n"
        "PAGE http://example.com/unquoted?x=1 [/unquoted?x=1]\n"
        "PAGE http://example.com/blanks [/blanks]\n"
        "PAGE http://example.com/after-bang-comment [/after-bang-comment]\n"
        "PAGE http://example.com/cdata-is-text [/cdata-is-text]\n"
        "ASSET http://example.com/s1.png [/s1.png]\n"
        "ASSET http://example.com/s2.png [/s2.png]\n"
        "ASSET http://example.com/s0.png [/s0.png]\n"
        "PAGE http://example.com/refresh [/refresh]\n"
        "ASSET http://example.com/bg.png [/bg.png]\n"
        "ASSET http://example.com/style.png [/style.png]\n"
        "PAGE http://example.com/caf%EF%BF%BD [/caf\xe9]\n"
        "PAGE http://example.com/after-bogus [/after-bogus]\n"
        "PAGE http://example.com/dup1 [/dup1]\n"
        "PAGE http://example.com/hex/ [&#x2F;hex&#47;]\n"
        "PAGE http://example.com/zero [/zero]\n";
    struct spans sp;
    struct links l;
    parse_html_stats_t st;
    char *a, *b, *text;

    (void)state;
    memset(&sp, 0, sizeof(sp));
    sp.body = page;
    sp.len = sizeof(page) - 1;
    assert_int_equal(parse_html_links_at(page, sizeof(page) - 1, PAGE_URL, on_link_at, &sp), 19);
    assert_string_equal(sp.l.text, want);
    /* The streaming parser agrees. */
    run_page(page, sizeof(page) - 1, 0, &l, &st);
    text = xmalloc(sizeof(want));
    memcpy(text, want, sizeof(want));
    a = sorted_lines(l.text, 0);
    b = sorted_lines(text, 1);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(text);
    free(l.text);
    free(sp.l.text);
}

/* Replacing the spans rewrites the links and nothing else (what --convert-links does). */
struct rewrite {
    const char *body;
    char out[4096];
    size_t o, at;
};

static void on_rewrite(void *arg, const char *url, parse_link_kind_t kind, size_t offset, size_t len)
{
    struct rewrite *r = arg;

    (void)url;
    (void)kind;
    memcpy(r->out + r->o, r->body + r->at, offset - r->at);
    r->o += offset - r->at;
    r->out[r->o++] = 'X';
    r->at = offset + len;
}

static void test_links_at_rewrite(void **state)
{
    static const char page[] =
        "<html><body style=\"background:url('/a.png')\">"
        "<img srcset=\"/1.png 1x,/2.png 2x\" src=/3.png alt=\"keep &amp; me\">"
        "<a href=\"/p.html#top\" title=\"/p.html\">p</a><?pi /x.png ?>"
        "<meta http-equiv=refresh content=\"0;url=/r\"></body></html>";
    static const char want[] =
        "<html><body style=\"background:url('X')\">"
        "<img srcset=\"X 1x,X 2x\" src=X alt=\"keep &amp; me\">"
        "<a href=\"X\" title=\"/p.html\">p</a><?pi /x.png ?>"
        "<meta http-equiv=refresh content=\"0;url=X\"></body></html>";
    struct rewrite r;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.body = page;
    assert_int_equal(parse_html_links_at(page, sizeof(page) - 1, PAGE_URL, on_rewrite, &r), 6);
    memcpy(r.out + r.o, page + r.at, sizeof(page) - 1 - r.at);
    r.o += sizeof(page) - 1 - r.at;
    r.out[r.o] = '\0';
    assert_string_equal(r.out, want);
    assert_int_equal(parse_html_links_at(page, 10, "mailto:x@y", on_rewrite, &r), PARSE_EINVAL);
}

/*
 * Tag soup: 3,000 pages made of fragments that trip tag readers (stray end tags, comments
 * opened and not closed, "--!>", quotes, entities, NULs, <!DOCTYPE> literals, raw text
 * elements, content after </html>, Latin-1 bytes), each read by both readers: the same set
 * of (url, kind) pairs, spans in order. Deterministic (a fixed LCG).
 */
static void test_links_at_tag_soup(void **state)
{
    static const char *const frags[] = {
        "<a href=\"/a%d\">", "<a href='/b%d'>", "<a href=/c%d>", "<!-- ", " -->", "--!>", "<!--",
        "<script>", "</script>", "<style>", "</style>", "url(/u%d.png)", "\"", "'", "<", ">",
        "/>", "<!DOCTYPE html>", "<!doctype html PUBLIC \"", "<?xml ?>", "</a>", "</p>", "<p>",
        "</html>", "<html>", "<body>", "</body>", "<head>", "&amp;", "&", "&#", "&#x41;", "&lt;",
        "&bogus;", "&#0;", " ", "\n", "\t", "=", "href=", "src=",
        "<img src=\"/i%d.png\" srcset=\"/s%d.png 1x, /t%d.png 2x\">",
        "<link rel=\"stylesheet\" href=\"/l%d.css\">", "<base href=\"/base%d/\">",
        "<meta http-equiv=\"refresh\" content=\"0; url=/r%d\">",
        "<div style=\"background:url(/d%d.png)\">", "<title>", "</title>", "<textarea>",
        "</textarea>", "<svg><image href=\"/svg%d\"/></svg>", "<a download href=/dl%d>",
        "<![CDATA[", "]]>", "<!x>", "</ ", "</3", "\xe9", "\xc3\xa9", "\x01", "<A HREF=/U%d>",
        "<SCRIPT>", "</SCRIPT>", "<input type=image src=/in%d>", "<iframe src=/f%d>",
        "<object data=/o%d>", "<table background=/tb%d>", "<video poster=/v%d>", "<frame src=/fr%d>",
        "<select>", "<option>", "<td>", "<tr>", "<li>", "<br/>", "<hr>", "<NUL>"};
    size_t nfrags = sizeof(frags) / sizeof(frags[0]);
    unsigned long seed = 20261130;
    char page[8192];
    int doc;

    (void)state;
    for (doc = 0; doc < 3000; doc++) {
        size_t len = 0, nparts, i;
        struct links l;
        struct spans sp;
        parse_html_stats_t st;
        char *a, *b;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        nparts = (seed >> 33) % 60 + 1;
        for (i = 0; i < nparts; i++) {
            const char *f;
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            f = frags[(seed >> 33) % nfrags];
            if (strcmp(f, "<NUL>") == 0)
                page[len++] = '\0';
            else
                len += (size_t)snprintf(page + len, sizeof(page) - len, f, (int)i, (int)i, (int)i);
        }
        run_page(page, len, 0, &l, &st);
        memset(&sp, 0, sizeof(sp));
        sp.body = page;
        sp.len = len;
        assert_true(parse_html_links_at(page, len, PAGE_URL, on_link_at, &sp) >= 0);
        if (!sp.l.text)
            sp.l.text = strdup("");
        a = sorted_lines(l.text, 0);
        b = sorted_lines(sp.l.text, 1);
        if (strcmp(a, b) != 0)
            fail_msg("page %d (%zu bytes): the streaming parser reports\n%s\nparse_html_links_at\n%s",
                     doc, len, a, b);
        free(a);
        free(b);
        free(l.text);
        free(sp.l.text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_huge_attributes),
        cmocka_unit_test(test_many_links),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_conversion_error),
        cmocka_unit_test(test_raw_text_end_tag_split),
        cmocka_unit_test(test_doctype_open_quote),
        cmocka_unit_test(test_links_at_corpus),
        cmocka_unit_test(test_links_at_spans),
        cmocka_unit_test(test_links_at_rewrite),
        cmocka_unit_test(test_links_at_tag_soup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
