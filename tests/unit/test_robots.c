/* test_robots.c - parse/robots.c on RFC 9309's examples, Google's documented matching, more. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/robots.h"

/* malloc for test data: the tests assume memory does not run out, so abort if it does. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (!p)
        abort();
    return p;
}

struct path_case {
    const char *path;
    int allowed;
};

/* Check a table of paths against one robots.txt for one product token. */
static void check_paths(const char *body, const char *token, const struct path_case *cases,
                        size_t n)
{
    parse_robots_t *r = parse_robots_new(body, strlen(body), token);
    size_t i;

    assert_non_null(r);
    for (i = 0; i < n; i++) {
        int got = parse_robots_allowed(r, cases[i].path);
        if (got != cases[i].allowed)
            fail_msg("token %s, path \"%s\": got %s, want %s\n--- robots.txt:\n%s",
                     token ? token : "(null)", cases[i].path, got ? "allowed" : "disallowed",
                     cases[i].allowed ? "allowed" : "disallowed", body);
    }
    parse_robots_free(r);
}

#define CHECK(body, token, cases) check_paths((body), (token), (cases), sizeof(cases) / sizeof((cases)[0]))

/* A pattern and whether it matches a path, from Google's robots.txt documentation. */
struct match_case {
    const char *pattern;
    const char *path;
    int matches;
};

static const struct match_case google_matching[] = {
    {"/", "/", 1},
    {"/", "/any/lower/level", 1},
    {"/*", "/", 1},
    {"/*", "/any/lower/level", 1},
    {"/$", "/", 1},
    {"/$", "/index.html", 0},
    {"/$", "/?a=b", 0},
    {"/fish", "/fish", 1},
    {"/fish", "/fish.html", 1},
    {"/fish", "/fish/salmon.html", 1},
    {"/fish", "/fishheads", 1},
    {"/fish", "/fishheads/yummy.html", 1},
    {"/fish", "/fish.php?id=anything", 1},
    {"/fish", "/Fish.asp", 0},
    {"/fish", "/catfish", 0},
    {"/fish", "/?id=fish", 0},
    {"/fish", "/desert/fish", 0},
    {"/fish*", "/fish", 1},
    {"/fish*", "/fish.html", 1},
    {"/fish*", "/fish/salmon.html", 1},
    {"/fish*", "/fishheads", 1},
    {"/fish*", "/fishheads/yummy.html", 1},
    {"/fish*", "/fish.php?id=anything", 1},
    {"/fish*", "/Fish.asp", 0},
    {"/fish*", "/catfish", 0},
    {"/fish*", "/?id=fish", 0},
    {"/fish*", "/desert/fish", 0},
    {"/fish/", "/fish/", 1},
    {"/fish/", "/fish/?id=anything", 1},
    {"/fish/", "/fish/salmon.htm", 1},
    {"/fish/", "/fish", 0},
    {"/fish/", "/fish.html", 0},
    {"/fish/", "/animals/fish/", 0},
    {"/fish/", "/Fish/Salmon.asp", 0},
    {"/*.php", "/index.php", 1},
    {"/*.php", "/filename.php", 1},
    {"/*.php", "/folder/filename.php", 1},
    {"/*.php", "/folder/filename.php?parameters", 1},
    {"/*.php", "/folder/any.php.file.html", 1},
    {"/*.php", "/filename.php/", 1},
    {"/*.php", "/", 0},
    {"/*.php", "/windows.PHP", 0},
    {"/*.php$", "/filename.php", 1},
    {"/*.php$", "/folder/filename.php", 1},
    {"/*.php$", "/filename.php?parameters", 0},
    {"/*.php$", "/filename.php/", 0},
    {"/*.php$", "/filename.php5", 0},
    {"/*.php$", "/windows.PHP", 0},
    {"/fish*.php", "/fish.php", 1},
    {"/fish*.php", "/fishheads/catfish.php?parameters", 1},
    {"/fish*.php", "/Fish.PHP", 0},
    /* More wildcard shapes. */
    {"*", "/anything", 1},
    {"*.gif$", "/a/b.gif", 1},
    {"*.gif$", "/a/b.gif?x", 0},
    {"/a*b*c", "/aXbYc", 1},
    {"/a*b*c", "/acb", 0},
    {"/a*b*c$", "/abcbc", 1},
    {"/a*bc$", "/abc", 1},
    {"/a*bc$", "/ab", 0},
    {"/a**b", "/aXXb", 1},
    {"/a*$", "/a", 1},
    {"/this/*/exactly", "/this/path/exactly", 1},
    {"/this/path/exactly$", "/this/path/exactly", 1},
    {"/this/path/exactly$", "/this/path/exactly/not", 0},
    {"nostart", "/nostart", 1},
    /* Percent-encoding, RFC 9309 2.2.2 and 2.2.3. */
    {"/foo/bar?baz=quz", "/foo/bar?baz=quz", 1},
    {"/foo/bar/\xe3\x83\x84", "/foo/bar/%E3%83%84", 1},
    {"/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", 1},
    {"/foo/bar/%e3%83%84", "/foo/bar/%E3%83%84", 1},
    {"/foo/bar/%E3%83%84", "/foo/bar/%e3%83%84", 1},
    {"/foo/bar/%62%61%7A", "/foo/bar/baz", 1},
    {"/foo/bar/baz", "/foo/bar/%62%61%7A", 1},
    {"/~user", "/%7Euser", 1},
    {"/%7euser", "/~user", 1},
    {"/a%2Fb", "/a/b", 0},
    {"/path/file-with-a-%2A.html", "/path/file-with-a-*.html", 1},
    {"/path/file-with-a-%2A.html", "/path/file-with-a-X.html", 0},
    {"/path/foo-%24", "/path/foo-$", 1},
    {"/path/foo-$x", "/path/foo-$x", 1},
    {"/a b", "/a%20b", 1},
};

static void test_google_matching(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(google_matching) / sizeof(google_matching[0]); i++) {
        const struct match_case *c = &google_matching[i];
        char body[256];
        parse_robots_t *r;

        snprintf(body, sizeof(body), "User-agent: *\nDisallow: %s\n", c->pattern);
        r = parse_robots_new(body, strlen(body), "gather");
        assert_non_null(r);
        if (parse_robots_allowed(r, c->path) != !c->matches)
            fail_msg("pattern \"%s\", path \"%s\": want %s", c->pattern, c->path,
                     c->matches ? "a match" : "no match");
        parse_robots_free(r);
    }
}

/* Google's "order of precedence for rules" examples. */
static void test_precedence(void **state)
{
    static const struct {
        const char *body, *path;
        int allowed;
    } cases[] = {
        {"User-agent: *\nallow: /p\ndisallow: /\n", "/page", 1},
        {"User-agent: *\nallow: /folder\ndisallow: /folder\n", "/folder/page", 1},
        {"User-agent: *\ndisallow: /folder\nallow: /folder\n", "/folder/page", 1},
        {"User-agent: *\nallow: /page\ndisallow: /*.htm\n", "/page.htm", 0},
        {"User-agent: *\nallow: /page\ndisallow: /*.ph\n", "/page.php5", 1},
        {"User-agent: *\nallow: /$\ndisallow: /\n", "/", 1},
        {"User-agent: *\nallow: /$\ndisallow: /\n", "/page.htm", 0},
        {"User-agent: *\ndisallow: /a\nallow: /a/b\ndisallow: /a/b/c\n", "/a/b/c/d", 0},
        {"User-agent: *\ndisallow: /a\nallow: /a/b\ndisallow: /a/b/c\n", "/a/b/x", 1},
        {"User-agent: *\ndisallow: /a\nallow: /a/b\ndisallow: /a/b/c\n", "/a/x", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct path_case pc = {cases[i].path, cases[i].allowed};
        check_paths(cases[i].body, "gather", &pc, 1);
    }
}

/* RFC 9309 section 5.1, the simple example. */
static const char rfc_simple[] =
    "User-Agent: *\n"
    "Disallow: *.gif$\n"
    "Disallow: /example/\n"
    "Allow: /publications/\n"
    "\n"
    "User-Agent: foobot\n"
    "Disallow:/\n"
    "Allow:/example/page.html\n"
    "Allow:/example/allowed.gif\n"
    "\n"
    "User-Agent: barbot\n"
    "User-Agent: bazbot\n"
    "Disallow: /example/page.html\n"
    "\n"
    "User-Agent: quxbot\n"
    "\n"
    "EOF\n";

static void test_rfc_simple(void **state)
{
    static const struct path_case foobot[] = {
        {"/", 0},
        {"/example/", 0},
        {"/example/page.html", 1},
        {"/example/allowed.gif", 1},
        {"/example/other.gif", 0},
        {"/publications/", 0},
    };
    static const struct path_case barbot[] = {
        {"/", 1},
        {"/example/", 1},
        {"/example/page.html", 0},
        {"/example/page.html?x", 0},
        {"/image.gif", 1},
    };
    static const struct path_case quxbot[] = {
        {"/", 1},
        {"/example/page.html", 1},
        {"/image.gif", 1},
    };
    static const struct path_case other[] = {
        {"/", 1},
        {"/image.gif", 0},
        {"/image.gif?x", 1},
        {"/example/", 0},
        {"/example/page.html", 0},
        {"/publications/", 1},
        {"/publications/cover.gif", 1},
    };

    (void)state;
    CHECK(rfc_simple, "foobot", foobot);
    CHECK(rfc_simple, "FooBot/2.1", foobot);
    CHECK(rfc_simple, "barbot", barbot);
    CHECK(rfc_simple, "bazbot", barbot);
    CHECK(rfc_simple, "quxbot", quxbot);
    CHECK(rfc_simple, "gather", other);
    CHECK(rfc_simple, NULL, other);
    CHECK(rfc_simple, "", other);
}

/* RFC 9309 section 5.2 (longest match) and 2.2.1 (groups of one agent are merged). */
static void test_rfc_longest_and_merge(void **state)
{
    static const char longest[] = "User-Agent: foobot\n"
                                  "Allow: /example/page/\n"
                                  "Disallow: /example/page/disallowed.gif\n";
    static const struct path_case longest_cases[] = {
        {"/example/page/", 1},
        {"/example/page/ok.gif", 1},
        {"/example/page/disallowed.gif", 0},
        {"/elsewhere", 1},
    };
    static const char merged[] = "user-agent: ExampleBot\n"
                                 "disallow: /foo\n"
                                 "disallow: /bar\n"
                                 "\n"
                                 "user-agent: *\n"
                                 "disallow: /star\n"
                                 "\n"
                                 "user-agent: ExampleBot\n"
                                 "disallow: /baz\n";
    static const struct path_case merged_cases[] = {
        {"/foo", 0}, {"/bar", 0}, {"/baz", 0}, {"/star", 1}, {"/qux", 1},
    };
    static const struct path_case merged_star[] = {
        {"/foo", 1}, {"/baz", 1}, {"/star", 0},
    };

    (void)state;
    CHECK(longest, "foobot", longest_cases);
    CHECK(merged, "examplebot", merged_cases);
    CHECK(merged, "gather", merged_star);
}

/* Product tokens: a group applies when it names our token exactly (RFC 9309 2.2.1): a
 * "gather" group is not for "gather-spider", which obeys "*". */
static void test_user_agents(void **state)
{
    static const char body[] = "User-agent: gather\n"
                               "Disallow: /gather-only/\n"
                               "\n"
                               "User-agent: gather-bot\n"
                               "Disallow: /bot-only/\n"
                               "\n"
                               "User-agent: *\n"
                               "Disallow: /\n";
    static const struct path_case as_gather[] = {
        {"/gather-only/x", 0}, {"/bot-only/x", 1}, {"/", 1},
    };
    static const struct path_case as_bot[] = {
        {"/gather-only/x", 1}, {"/bot-only/x", 0}, {"/", 1},
    };
    static const struct path_case as_other[] = {
        {"/gather-only/x", 0}, {"/bot-only/x", 0}, {"/", 0}, {"/robots.txt", 1},
    };
    static const char versioned[] = "User-agent: Gather-Bot/2.0 (+https://example.com/bot)\n"
                                    "Disallow: /v/\n"
                                    "User-agent: *\n"
                                    "Disallow: /\n";
    static const struct path_case versioned_cases[] = {{"/v/x", 0}, {"/w", 1}};
    static const char no_star[] = "User-agent: otherbot\nDisallow: /\n";
    static const struct path_case no_star_cases[] = {{"/", 1}, {"/x", 1}};
    static const char empty_specific[] = "User-agent: *\nDisallow: /\n\nUser-agent: gather\n";
    static const struct path_case empty_specific_cases[] = {{"/", 1}, {"/x", 1}};
    /* A sitemap line does not end a run of user-agent lines; a rule does. */
    static const char shared[] = "User-agent: a\n"
                                 "Sitemap: https://example.com/s.xml\n"
                                 "User-agent: gather\n"
                                 "Disallow: /shared\n"
                                 "User-agent: b\n"
                                 "Disallow: /b-only\n";
    static const struct path_case shared_cases[] = {{"/shared", 0}, {"/b-only", 1}};

    (void)state;
    CHECK(body, "gather", as_gather);
    CHECK(body, "GATHER", as_gather);
    CHECK(body, "gather/1.0", as_gather);
    CHECK(body, "gather-bot/1.0", as_bot);
    CHECK(body, "Gather-Bot", as_bot);
    CHECK(body, "gather-spider", as_other);  /* no "gather" prefix match: the "*" group */
    CHECK(body, "gather-bot-news", as_other);
    CHECK(body, "gatherer", as_other);       /* "gather" is no '-' prefix of "gatherer" */
    CHECK(body, "gath", as_other);
    CHECK(body, "otherbot", as_other);
    CHECK(body, NULL, as_other);
    CHECK(versioned, "gather-bot", versioned_cases);
    CHECK(no_star, "gather", no_star_cases);
    CHECK(empty_specific, "gather", empty_specific_cases);
    CHECK(shared, "a", shared_cases);
    CHECK(shared, "gather", shared_cases);
}

/* Line syntax: keys, comments, blanks, line endings, BOM, misspellings, junk. */
static void test_syntax(void **state)
{
    static const char messy[] =
        "\xEF\xBB\xBF"
        "Disallow: /before-any-group\r\n"
        "# comment line\r\n"
        "   USER-AGENT   :   *   # trailing comment\r"
        "Host: example.com\r"
        "noindex: /unknown-key\n"
        "  DISALLOW  :  /a  # comment in line\n"
        "dissallow: /misspelled\n"
        "Allow: /a/ok # allow it\n"
        "Disallow:\n"
        "Allow:\n"
        "Disallow /no-colon\n"
        "Disallow: /with#hash\n"
        "\0Disallow: /zz-after-nul\n"
        "Disallow: /zz-tab\tinside\n";
    static const struct path_case cases[] = {
        {"/before-any-group", 1},
        {"/unknown-key", 1},
        {"/a", 0},
        {"/a/b", 0},
        {"/a/ok", 1},
        {"/misspelled", 0},
        {"/no-colon", 1},
        {"/with", 0},
        {"/zz-after-nul", 1}, /* strlen() stops at the NUL: see below */
        {"/b", 1},
    };
    static const char empty_disallow[] = "User-agent: *\nDisallow:\n";
    static const struct path_case all_allowed[] = {{"/", 1}, {"/x", 1}, {"", 1}};
    static const char disallow_all[] = "User-agent: *\nDisallow: /\n";
    static const struct path_case none_allowed[] = {
        {"/", 0}, {"", 0}, {"/x?y", 0}, {"/robots.txt", 1}, {"/robots.txt?x=1", 1},
        {"/robots.txt.bak", 0},
    };

    (void)state;
    check_paths(messy, "gather", cases, sizeof(cases) / sizeof(cases[0]));
    {
        /* The same with the embedded NUL: strlen would stop there, so pass the length. */
        parse_robots_t *r = parse_robots_new(messy, sizeof(messy) - 1, "gather");
        assert_non_null(r);
        assert_int_equal(parse_robots_allowed(r, "/zz-after-nul"), 0);
        assert_int_equal(parse_robots_allowed(r, "/zz-tab%09inside"), 0);
        parse_robots_free(r);
    }
    CHECK(empty_disallow, "gather", all_allowed);
    CHECK("", "gather", all_allowed);
    CHECK("\xEF\xBB\xBF", "gather", all_allowed);
    CHECK("this is not a robots.txt file\n<html>\n", "gather", all_allowed);
    CHECK(disallow_all, "gather", none_allowed);
    {
        parse_robots_t *r = parse_robots_new(NULL, 0, "gather");
        assert_non_null(r);
        assert_int_equal(parse_robots_allowed(r, "/x"), 1);
        assert_int_equal(parse_robots_crawl_delay_ms(r), -1);
        assert_int_equal(parse_robots_sitemap_count(r), 0);
        parse_robots_free(r);
    }
}

static void test_crawl_delay(void **state)
{
    static const struct {
        const char *body, *token;
        long ms;
    } cases[] = {
        {"User-agent: *\nCrawl-delay: 2\n", "gather", 2000},
        {"User-agent: *\ncrawl-delay: 0.5\n", "gather", 500},
        {"User-agent: *\nCrawl-Delay: 1.25 # seconds\n", "gather", 1250},
        {"User-agent: *\nCrawl-delay: soon\n", "gather", -1},
        {"User-agent: *\nCrawl-delay: -3\n", "gather", -1},
        {"User-agent: *\nCrawl-delay: 1e9\n", "gather", 86400000},
        {"User-agent: *\nDisallow: /\n", "gather", -1},
        {"Crawl-delay: 5\nUser-agent: *\n", "gather", -1},
        /* A Crawl-delay line does not end a run of user-agent lines (RFC 9309 2.2.4): "*" and
         * "gather" are one group here, and the group's delay is the largest it gives. */
        {"User-agent: *\nCrawl-delay: 9\n\nUser-agent: gather\nCrawl-delay: 3\n", "gather", 9000},
        {"User-agent: *\nCrawl-delay: 9\n\nUser-agent: gather\nCrawl-delay: 3\n", "other", 9000},
        {"User-agent: *\nCrawl-delay: 9\n\nUser-agent: gather\nDisallow: /x\n", "gather", 9000},
        /* A rule ends the group: the next user-agent line starts another. */
        {"User-agent: *\nDisallow: /y\nCrawl-delay: 9\n\nUser-agent: gather\nCrawl-delay: 3\n",
         "gather", 3000},
        {"User-agent: *\nDisallow: /y\nCrawl-delay: 9\n\nUser-agent: gather\nDisallow: /x\n",
         "gather", -1},
        {"User-agent: gather\nCrawl-delay: 3\n\nUser-agent: gather\nCrawl-delay: 4\n", "gather", 4000},
        /* One group again (no rule between): gather-bot gets the group's largest delay. */
        {"User-agent: gather\nCrawl-delay: 3\n\nUser-agent: gather-bot\nCrawl-delay: 1\n",
         "gather-bot", 3000},
        {"User-agent: gather\nAllow: /\nCrawl-delay: 3\n\nUser-agent: gather-bot\nCrawl-delay: 1\n",
         "gather-bot", 1000},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse_robots_t *r = parse_robots_new(cases[i].body, strlen(cases[i].body), cases[i].token);
        assert_non_null(r);
        if (parse_robots_crawl_delay_ms(r) != cases[i].ms)
            fail_msg("case %zu: got %ld, want %ld", i, parse_robots_crawl_delay_ms(r), cases[i].ms);
        parse_robots_free(r);
    }
}

static void test_sitemaps(void **state)
{
    static const char body[] = "Sitemap: https://Example.COM/sitemap.xml\n"
                               "User-agent: *\n"
                               "Disallow: /private\n"
                               "SITEMAP: http://example.com:80/news/../sitemap-news.xml # news\n"
                               "Sitemap: /relative-is-dropped.xml\n"
                               "Sitemap: ftp://example.com/not-http.xml\n"
                               "Site-map: https://example.com/sitemap.xml\n"
                               "sitemap:https://cdn.example.net/s.xml.gz\n"
                               "Sitemap:\n";
    parse_robots_t *r;

    (void)state;
    r = parse_robots_new(body, strlen(body), "gather");
    assert_non_null(r);
    assert_int_equal(parse_robots_sitemap_count(r), 3);
    assert_string_equal(parse_robots_sitemap(r, 0), "https://example.com/sitemap.xml");
    assert_string_equal(parse_robots_sitemap(r, 1), "http://example.com/sitemap-news.xml");
    assert_string_equal(parse_robots_sitemap(r, 2), "https://cdn.example.net/s.xml.gz");
    assert_null(parse_robots_sitemap(r, 3));
    assert_int_equal(parse_robots_allowed(r, "/private/x"), 0);
    parse_robots_free(r);
}

static void test_allow_disallow_all(void **state)
{
    parse_robots_t *a = parse_robots_allow_all(), *d = parse_robots_disallow_all();

    (void)state;
    assert_non_null(a);
    assert_non_null(d);
    assert_int_equal(parse_robots_allowed(a, "/anything"), 1);
    assert_int_equal(parse_robots_allowed(d, "/anything"), 0);
    assert_int_equal(parse_robots_allowed(d, "/"), 0);
    assert_int_equal(parse_robots_allowed(d, "/robots.txt"), 1);
    assert_int_equal(parse_robots_crawl_delay_ms(a), -1);
    assert_int_equal(parse_robots_crawl_delay_ms(d), -1);
    assert_int_equal(parse_robots_sitemap_count(a), 0);
    parse_robots_free(a);
    parse_robots_free(d);
    parse_robots_free(NULL);
}

/* Only the first 500 KiB count, and a line cut by the limit is dropped. */
static void test_size_cap(void **state)
{
    size_t size = PARSE_ROBOTS_MAX_BYTES + 4096, n;
    char *body = xmalloc(size + 1);
    parse_robots_t *r;

    (void)state;
    n = (size_t)sprintf(body, "User-agent: *\nDisallow: /early\n");
    while (n < PARSE_ROBOTS_MAX_BYTES - 40)
        n += (size_t)sprintf(body + n, "# padding padding padding padding\n");
    /* This line straddles the limit: "Disallow: /cut" would become a shorter prefix. */
    while (n < PARSE_ROBOTS_MAX_BYTES - 5)
        body[n++] = '\n';
    n += (size_t)sprintf(body + n, "Disallow: /cut-here-at-the-limit\n");
    n += (size_t)sprintf(body + n, "Disallow: /late\n");
    r = parse_robots_new(body, n, "gather");
    assert_non_null(r);
    assert_int_equal(parse_robots_allowed(r, "/early"), 0);
    assert_int_equal(parse_robots_allowed(r, "/late"), 1);
    assert_int_equal(parse_robots_allowed(r, "/cut-here-at-the-limit"), 1);
    assert_int_equal(parse_robots_allowed(r, "/cu"), 1);
    parse_robots_free(r);
    free(body);
}

/*
 * The crawl keeps PARSE_ROBOTS_READ_BYTES of a longer body. The case: "Allow: /abcdef"
 * cut by the limit to "Allow: /a" must not open "/apple"; a line whose line break is the first
 * byte past the limit was whole and counts.
 */
static void test_size_cap_at_the_fetch_cap(void **state)
{
    size_t n = 0, limit = PARSE_ROBOTS_MAX_BYTES;
    char *body = xmalloc(PARSE_ROBOTS_READ_BYTES + 64);
    parse_robots_t *r;

    (void)state;
    n += (size_t)sprintf(body, "User-agent: *\nDisallow: /\n");
    while (n < limit - 9)
        body[n++] = '\n';
    memcpy(body + n, "Allow: /abcdef\n", 15);  /* "Allow: /a" ends at the limit */
    r = parse_robots_new(body, PARSE_ROBOTS_READ_BYTES, "gather");
    assert_non_null(r);
    assert_int_equal(parse_robots_allowed(r, "/apple"), 0);
    assert_int_equal(parse_robots_allowed(r, "/abcdef"), 0);
    parse_robots_free(r);

    /* "Allow: /a" then a line break just past the limit: a whole line. */
    memcpy(body + n, "Allow: /a\n", 10);
    r = parse_robots_new(body, PARSE_ROBOTS_READ_BYTES, "gather");
    assert_non_null(r);
    assert_int_equal(parse_robots_allowed(r, "/apple"), 1);
    assert_int_equal(parse_robots_allowed(r, "/b"), 0);
    parse_robots_free(r);
    free(body);
}

/* Many rules and adversarial wildcards stay fast (pieces are matched with memmem). */
static void test_many_rules(void **state)
{
    size_t size = PARSE_ROBOTS_MAX_BYTES, n = 0, i;
    char *body = xmalloc(size + 64), *path;
    parse_robots_t *r;

    (void)state;
    n += (size_t)sprintf(body, "User-agent: *\n");
    while (n < size - 64)
        n += (size_t)sprintf(body + n, "Disallow: /*a*a*a*a*a*a*a*a*a*a*b$\n");
    r = parse_robots_new(body, n, "gather");
    assert_non_null(r);
    path = xmalloc(8193);
    path[0] = '/';
    for (i = 1; i < 8192; i++)
        path[i] = 'a';
    path[8192] = '\0';
    assert_int_equal(parse_robots_allowed(r, path), 1);
    path[8191] = 'b';
    assert_int_equal(parse_robots_allowed(r, path), 0);
    parse_robots_free(r);
    free(path);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_google_matching),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_rfc_simple),
        cmocka_unit_test(test_rfc_longest_and_merge),
        cmocka_unit_test(test_user_agents),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_crawl_delay),
        cmocka_unit_test(test_sitemaps),
        cmocka_unit_test(test_allow_disallow_all),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_size_cap_at_the_fetch_cap),
        cmocka_unit_test(test_many_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
