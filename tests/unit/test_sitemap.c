/* test_sitemap.c - parse/sitemap.c: urlsets, indexes, junk, hostile XML, the URL cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse/sitemap.h"

/* malloc for test data: the tests assume memory does not run out, so abort if it does. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (!p)
        abort();
    return p;
}

/* Reported URLs as "P url\n" (page) or "I url\n" (index) lines. */
struct seen {
    char text[8192];
    size_t len;
    int count;
};

static void on_url(void *arg, const char *url, int is_index)
{
    struct seen *s = arg;

    s->count++;
    if (s->len + strlen(url) + 4 < sizeof(s->text))
        s->len += (size_t)sprintf(s->text + s->len, "%c %s\n", is_index ? 'I' : 'P', url);
}

struct sitemap_case {
    const char *name;
    const char *body;
    const char *base;
    int result;
    const char *urls;
};

static const struct sitemap_case cases[] = {
    {"urlset",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"\n"
     "        xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\">\n"
     "  <url>\n"
     "    <loc>https://Example.com/</loc>\n"
     "    <lastmod>2024-01-01</lastmod><changefreq>daily</changefreq><priority>1.0</priority>\n"
     "  </url>\n"
     "  <url><loc>\n   https://example.com/a?x=1&amp;y=2\n  </loc></url>\n"
     "  <url><loc><![CDATA[https://example.com/cdata?a=1&b=2]]></loc></url>\n"
     "  <url><loc>https://example.com/%7euser/caf\xc3\xa9</loc>\n"
     "    <image:image><image:loc>https://example.com/image.jpg</image:loc></image:image>\n"
     "  </url>\n"
     "  <url><loc>ftp://example.com/not-http</loc></url>\n"
     "  <url><loc>not a url</loc></url>\n"
     "  <url><loc></loc></url>\n"
     "  <url><loc/></url>\n"
     "  <url><lastmod>2024-01-01</lastmod></url>\n"
     "  <loc>https://example.com/loc-outside-url</loc>\n"
     "  <url><nested><loc>https://example.com/too-deep</loc></nested></url>\n"
     "  <url><loc>https://example.com/last#frag</loc></url>\n"
     "</urlset>\n",
     NULL, 5,
     "P https://example.com/\n"
     "P https://example.com/a?x=1&y=2\n"
     "P https://example.com/cdata?a=1&b=2\n"
     "P https://example.com/~user/caf%C3%A9\n"
     "P https://example.com/last\n"},
    {"index",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
     "  <sitemap><loc>https://example.com/sitemap1.xml.gz</loc><lastmod>2024-01-01</lastmod></sitemap>\n"
     "  <sitemap><loc>https://example.com/sitemap2.xml</loc></sitemap>\n"
     "  <url><loc>https://example.com/url-in-index</loc></url>\n"
     "</sitemapindex>\n",
     NULL, 2,
     "I https://example.com/sitemap1.xml.gz\n"
     "I https://example.com/sitemap2.xml\n"},
    {"no namespace, relative locs with a base",
     "<urlset><url><loc>/relative</loc></url><url><loc>other.html</loc></url>"
     "<url><loc>HTTP://OTHER.EXAMPLE:80/x</loc></url></urlset>",
     "http://example.com/dir/sitemap.xml", 3,
     "P http://example.com/relative\n"
     "P http://example.com/dir/other.html\n"
     "P http://other.example/x\n"},
    {"relative locs without a base are dropped",
     "<urlset><url><loc>/relative</loc></url><url><loc>http://x.example/</loc></url></urlset>",
     NULL, 1, "P http://x.example/\n"},
    {"loc in another namespace is not the sitemap's",
     "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:o=\"urn:other\">"
     "<url><o:loc>http://x.example/other-ns</o:loc><loc>http://x.example/ok</loc></url></urlset>",
     NULL, 1, "P http://x.example/ok\n"},
    {"malformed after two URLs: those two are kept",
     "<urlset><url><loc>http://x.example/1</loc></url><url><loc>http://x.example/2</loc></url>"
     "<url><loc>http://x.example/3</loc></url <<<<",
     NULL, 2, "P http://x.example/1\nP http://x.example/2\n"},
    {"truncated in the middle of a loc",
     "<urlset><url><loc>http://x.example/1</loc></url><url><loc>http://x.exa",
     NULL, 1, "P http://x.example/1\n"},
    {"HTML is not a sitemap", "<html><body><a href=\"/x\">x</a></body></html>", NULL,
     PARSE_EINVAL, ""},
    {"RSS is not a sitemap", "<?xml version=\"1.0\"?><rss><channel><link>http://x/</link></channel></rss>",
     NULL, PARSE_EINVAL, ""},
    {"plain text", "http://x.example/1\nhttp://x.example/2\n", NULL, PARSE_EINVAL, ""},
    {"empty urlset", "<urlset/>", NULL, 0, ""},
    {"binary", "\x00\x01\x02\xff\xfe", NULL, PARSE_EINVAL, ""},
    {"external entity is not loaded: the loc using it is dropped",
     "<?xml version=\"1.0\"?>\n"
     "<!DOCTYPE urlset [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
     "<urlset><url><loc>http://x.example/&xxe;</loc></url>"
     "<url><loc>http://x.example/after</loc></url></urlset>",
     NULL, 1, "P http://x.example/after\n"},
    {"internal entity is not expanded: the loc using it is dropped",
     "<?xml version=\"1.0\"?>\n"
     "<!DOCTYPE urlset [<!ENTITY a \"/path\">]>\n"
     "<urlset><url><loc>http://x.example&a;</loc></url>"
     "<url><loc>http://x.example/after&amp;&#x41;</loc></url></urlset>",
     NULL, 1, "P http://x.example/after&A\n"},
    {"billion laughs: libxml2 refuses the document",
     "<?xml version=\"1.0\"?>\n"
     "<!DOCTYPE urlset [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
     "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>\n"
     "<urlset><url><loc>http://x.example/&d;</loc></url>"
     "<url><loc>http://x.example/after</loc></url></urlset>",
     NULL, PARSE_EINVAL, ""},
};

static void test_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seen s;
        size_t len = strlen(cases[i].body);
        int result;

        if (strcmp(cases[i].name, "binary") == 0)
            len = 5;
        memset(&s, 0, sizeof(s));
        result = parse_sitemap(cases[i].body, len, cases[i].base, on_url, &s);
        if (result != cases[i].result || strcmp(s.text, cases[i].urls) != 0)
            fail_msg("%s: got %d\n%s\nwant %d\n%s", cases[i].name, result, s.text,
                     cases[i].result, cases[i].urls);
    }
}

static void test_empty_input(void **state)
{
    struct seen s;

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse_sitemap("", 0, NULL, on_url, &s), PARSE_EINVAL);
    assert_int_equal(parse_sitemap(NULL, 0, NULL, on_url, &s), PARSE_EINVAL);
    assert_int_equal(s.count, 0);
}

/* The protocol's 50,000 URLs: the rest of a bigger file is not reported. */
static void test_url_cap(void **state)
{
    size_t cap = 64 * (PARSE_SITEMAP_MAX_URLS + 10) + 64, n = 0;
    char *body = xmalloc(cap);
    struct seen s;
    int i;

    (void)state;
    memcpy(body, "<urlset>", 8);
    n = 8;
    for (i = 0; i < PARSE_SITEMAP_MAX_URLS + 10; i++) {
        char entry[64];
        int w = snprintf(entry, sizeof(entry), "<url><loc>http://x.example/%d</loc></url>", i);
        assert_true(w > 0 && (size_t)w < sizeof(entry));
        memcpy(body + n, entry, (size_t)w);
        n += (size_t)w;
    }
    memcpy(body + n, "</urlset>", 9);
    n += 9;
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse_sitemap(body, n, NULL, on_url, &s), PARSE_SITEMAP_MAX_URLS);
    assert_int_equal(s.count, PARSE_SITEMAP_MAX_URLS);
    free(body);
}

/* A <loc> longer than any URL is dropped without holding all of it. */
static void test_long_loc(void **state)
{
    static const char head[] = "<urlset><url><loc>http://x.example/";
    static const char tail[] = "</loc></url><url><loc>http://x.example/ok</loc></url></urlset>";
    size_t big = 1024 * 1024, n = 0;
    char *body = xmalloc(sizeof(head) + big + sizeof(tail));
    struct seen s;

    (void)state;
    if (!body) {
        fail_msg("out of memory");
        return;
    }
    memcpy(body, head, sizeof(head) - 1);
    n = sizeof(head) - 1;
    memset(body + n, 'a', big);
    n += big;
    memcpy(body + n, tail, sizeof(tail) - 1);
    n += sizeof(tail) - 1;
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse_sitemap(body, n, NULL, on_url, &s), 1);
    assert_string_equal(s.text, "P http://x.example/ok\n");
    free(body);
}

/*
 * Found by fuzz_sitemap: a UTF-7 document with bytes iconv rejects. libxml2 reports that
 * through its generic error handler (straight to stderr), which sitemap.c mutes.
 */
static void test_conversion_error_is_quiet(void **state)
{
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n<urlset xmlns=\"hr%.9\">\n"
        "  <url><loc>https </loc></url>\n & <url><lo\x00\x00\x00" "c";
    char *errpath = strdup("/tmp/test_sitemap_stderr_XXXXXX");
    struct seen s;
    int saved, fd, result;
    FILE *ef;

    (void)state;
    assert_non_null(errpath);
    fd = mkstemp(errpath);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    close(fd);
    memset(&s, 0, sizeof(s));
    result = parse_sitemap(body, sizeof(body) - 1, NULL, on_url, &s);
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    assert_true(result == 0 || result == PARSE_EINVAL);
    assert_int_equal(s.count, 0);
    ef = fopen(errpath, "r");
    assert_non_null(ef);
    assert_int_equal(fgetc(ef), EOF);
    fclose(ef);
    unlink(errpath);
    free(errpath);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_url_cap),
        cmocka_unit_test(test_long_loc),
        cmocka_unit_test(test_conversion_error_is_quiet),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
