/* test_scope.c - crawler/crawl/scope.c: host, registrable domain (libpsl), path prefix, any. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/crawl/scope.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A URL found on a page (normalised, as the crawl offers it) and whether the scope takes it. */
struct contains_case {
    const char *url;
    int inside;
};

/* Builds a scope of `kind` from the start URLs and checks every case against it. */
static void check_scope(crawl_scope_kind_t kind, const char *const *starts, size_t nstarts,
                        const struct contains_case *cases, size_t n)
{
    crawl_scope_t s;

    assert_int_equal(crawl_scope_init(&s, kind, (char *const *)starts, nstarts), 0);
    for (size_t i = 0; i < n; i++) {
        int got = crawl_scope_contains(&s, cases[i].url);
        if (got != cases[i].inside)
            fail_msg("scope %d from %s%s: %s is %s, want %s", (int)kind, starts[0],
                     nstarts > 1 ? " (and more)" : "", cases[i].url, got ? "inside" : "outside",
                     cases[i].inside ? "inside" : "outside");
    }
    crawl_scope_free(&s);
    assert_null(s.keys);
    assert_int_equal(s.nkeys, 0);
}

#define CHECK(kind, starts, cases) check_scope((kind), (starts), N(starts), (cases), N(cases))

/* ---- names ----------------------------------------------------------------------------------- */

static void test_parse_kind(void **state)
{
    static const struct {
        const char *name;
        int result;
        crawl_scope_kind_t kind;
    } cases[] = {
        { "host", 0, CRAWL_SCOPE_HOST },
        { "domain", 0, CRAWL_SCOPE_DOMAIN },
        { "prefix", 0, CRAWL_SCOPE_PREFIX },
        { "any", 0, CRAWL_SCOPE_ANY },
        { "", -EINVAL, 0 },
        { "hosts", -EINVAL, 0 },
        { "hos", -EINVAL, 0 },
        { "all", -EINVAL, 0 },
        { "no-parent", -EINVAL, 0 },
        { "host ", -EINVAL, 0 },
    };

    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        crawl_scope_kind_t out = (crawl_scope_kind_t)99;
        int got = crawl_scope_parse_kind(cases[i].name, &out);
        if (got != cases[i].result)
            fail_msg("\"%s\": got %d, want %d", cases[i].name, got, cases[i].result);
        if (got == 0 && out != cases[i].kind)
            fail_msg("\"%s\": kind %d, want %d", cases[i].name, (int)out, (int)cases[i].kind);
        if (got != 0 && out != (crawl_scope_kind_t)99)
            fail_msg("\"%s\": a refused name changed the output", cases[i].name);
    }
}

/* ---- host ------------------------------------------------------------------------------------- */

static void test_host(void **state)
{
    static const char *const starts[] = { "http://www.example.com/start/page.html" };
    static const struct contains_case cases[] = {
        { "http://www.example.com/", 1 },
        { "http://www.example.com/start/other.html", 1 },
        { "http://www.example.com/elsewhere/deep/x.png?q=1", 1 },
        { "https://www.example.com/", 1 },               /* the host, whatever the scheme */
        { "http://www.example.com:8080/", 1 },           /* ... and the port */
        { "http://WWW.Example.COM/caps", 1 },
        { "http://example.com/", 0 },                    /* the parent domain is another host */
        { "http://cdn.www.example.com/", 0 },            /* so is a subdomain */
        { "http://img.example.com/a.png", 0 },
        { "http://www.example.com.evil.net/", 0 },
        { "http://www.example.org/", 0 },
        { "http://evil.net/www.example.com/", 0 },
        { "http://user@evil.net/", 0 },
        { "http://ann:pw@www.example.com/", 1 },          /* user info is not the host */
        { "http://www.example.com@evil.net/", 0 },
        { "http://www.example.com", 1 },
        { "http://www.example.com.:80/", 0 },             /* a trailing dot is another name */
        { "http://www.xn--exmple-cua.com/", 0 },
        { "not a url", 0 },
        { "", 0 },
    };

    (void)state;
    CHECK(CRAWL_SCOPE_HOST, starts, cases);
}

static void test_host_ip_and_several_starts(void **state)
{
    static const char *const starts[] = { "http://127.0.0.1:8080/site/", "https://[::1]/",
                                          "http://docs.example.org/" };
    static const struct contains_case cases[] = {
        { "http://127.0.0.1:8080/site/a.html", 1 },
        { "http://127.0.0.1:9090/", 1 },
        { "http://127.0.0.2:8080/", 0 },
        { "http://localhost:8080/", 0 },                 /* the same machine, another name */
        { "http://[::1]:8080/x", 1 },
        { "http://[::2]/", 0 },
        { "http://docs.example.org/guide/", 1 },
        { "http://example.org/", 0 },
    };

    (void)state;
    CHECK(CRAWL_SCOPE_HOST, starts, cases);
}

/* ---- domain ----------------------------------------------------------------------------------- */

static void test_registrable_domain(void **state)
{
    static const struct {
        const char *host, *domain;
    } cases[] = {
        { "www.example.com", "example.com" },
        { "example.com", "example.com" },
        { "a.b.c.example.com", "example.com" },
        { "www.example.co.uk", "example.co.uk" },
        { "shop.example.co.uk", "example.co.uk" },
        { "news.bbc.co.uk", "bbc.co.uk" },
        { "www.city.kawasaki.jp", "city.kawasaki.jp" },    /* an exception rule (!city.kawasaki.jp) */
        { "alice.github.io", "alice.github.io" },        /* private suffix: each user apart */
        { "www.alice.github.io", "alice.github.io" },
        { "blog.example.com.au", "example.com.au" },
        /* nothing registrable: the host itself */
        { "co.uk", "co.uk" },
        { "localhost", "localhost" },
        { "127.0.0.1", "127.0.0.1" },
        { "[::1]", "[::1]" },
    };

    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        char *got = crawl_scope_domain(cases[i].host);
        assert_non_null(got);
        if (strcmp(got, cases[i].domain) != 0)
            fail_msg("registrable domain of %s: got %s, want %s", cases[i].host, got, cases[i].domain);
        free(got);
    }
}

static void test_domain(void **state)
{
    static const char *const starts[] = { "https://www.example.co.uk/index.html",
                                          "http://alice.github.io/" };
    static const struct contains_case cases[] = {
        { "https://www.example.co.uk/about", 1 },
        { "http://example.co.uk/", 1 },
        { "https://img.cdn.example.co.uk/logo.png", 1 },
        { "https://WWW.EXAMPLE.CO.UK/", 1 },
        { "http://www.example.co.uk:8443/", 1 },
        { "https://other.co.uk/", 0 },                   /* same public suffix, other owner */
        { "https://co.uk/", 0 },
        { "https://example.com/", 0 },
        { "https://www.example.co.uk.evil.net/", 0 },
        { "https://notexample.co.uk/", 0 },
        { "http://alice.github.io/repo/", 1 },
        { "http://www.alice.github.io/", 1 },
        { "http://bob.github.io/", 0 },                  /* github.io is a public suffix */
        { "http://github.io/", 0 },
    };

    (void)state;
    CHECK(CRAWL_SCOPE_DOMAIN, starts, cases);
}

static void test_domain_of_an_ip_is_the_ip(void **state)
{
    static const char *const starts[] = { "http://127.0.0.1:8080/" };
    static const struct contains_case cases[] = {
        { "http://127.0.0.1/", 1 },
        { "http://127.0.0.1:9/x", 1 },
        { "http://127.0.0.2/", 0 },                      /* not "the same last two labels" */
        { "http://10.0.0.1/", 0 },
        { "http://localhost/", 0 },
    };

    (void)state;
    CHECK(CRAWL_SCOPE_DOMAIN, starts, cases);
}

/* ---- prefix (no-parent) ------------------------------------------------------------------------- */

static void test_prefix_is_the_start_folder(void **state)
{
    static const char *const starts[] = { "http://h.example/docs/guide/index.html" };
    static const struct contains_case cases[] = {
        { "http://h.example/docs/guide/index.html", 1 },
        { "http://h.example/docs/guide/", 1 },
        { "http://h.example/docs/guide/intro.html", 1 },
        { "http://h.example/docs/guide/a/b/c.png", 1 },
        { "http://h.example/docs/guide/?page=2", 1 },
        { "http://h.example/docs/guide", 0 },            /* the folder without its slash is above */
        { "http://h.example/docs/", 0 },                 /* the parent */
        { "http://h.example/docs/guidelines/", 0 },      /* a sibling sharing the name's start */
        { "http://h.example/docs/other.html", 0 },
        { "http://h.example/", 0 },
        { "https://h.example/docs/guide/intro.html", 0 }, /* another scheme is another origin */
        { "http://h.example:8080/docs/guide/", 0 },
        { "http://other.example/docs/guide/", 0 },
        { "http://h.example.evil/docs/guide/", 0 },
    };

    (void)state;
    CHECK(CRAWL_SCOPE_PREFIX, starts, cases);
}

static void test_prefix_ignores_query_and_fragment(void **state)
{
    /* A slash in the query is not a folder: the prefix is still /shop/. */
    static const char *const starts[] = { "http://h.example/shop/list?path=/a/b/c#x/y" };
    static const struct contains_case cases[] = {
        { "http://h.example/shop/", 1 },
        { "http://h.example/shop/item/1", 1 },
        { "http://h.example/shop/list?path=/z", 1 },
        { "http://h.example/shop", 0 },
        { "http://h.example/", 0 },
        { "http://h.example/other?path=/shop/", 0 },
    };

    (void)state;
    CHECK(CRAWL_SCOPE_PREFIX, starts, cases);
}

static void test_prefix_root_and_several_starts(void **state)
{
    static const char *const starts[] = { "http://a.example/", "http://b.example/x/y/" };
    static const struct contains_case cases[] = {
        { "http://a.example/", 1 },
        { "http://a.example/anything/at/all", 1 },
        { "http://b.example/x/y/z", 1 },
        { "http://b.example/x/", 0 },
        { "http://b.example/", 0 },
        { "http://a.example.org/", 0 },
        { "http://c.example/x/y/", 0 },
    };

    (void)state;
    CHECK(CRAWL_SCOPE_PREFIX, starts, cases);
}

/* ---- any ----------------------------------------------------------------------------------- */

static void test_any(void **state)
{
    static const char *const starts[] = { "http://a.example/deep/page.html" };
    static const struct contains_case cases[] = {
        { "http://a.example/", 1 },
        { "https://elsewhere.net/x", 1 },
        { "http://127.0.0.1:1/", 1 },
    };

    (void)state;
    CHECK(CRAWL_SCOPE_ANY, starts, cases);
}

/* ---- init -------------------------------------------------------------------------------------- */

static void test_init_keys_and_errors(void **state)
{
    static const char *const starts[] = { "http://www.example.com/a/b.html", "http://x.example.com/" };
    static const char *const bad[] = { "http://ok.example/", "no scheme here" };
    crawl_scope_t s;

    (void)state;
    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_HOST, (char *const *)starts, 2), 0);
    assert_int_equal(s.nkeys, 2);
    assert_string_equal(s.keys[0], "www.example.com");
    assert_string_equal(s.keys[1], "x.example.com");
    crawl_scope_free(&s);

    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_DOMAIN, (char *const *)starts, 2), 0);
    assert_string_equal(s.keys[0], "example.com");
    assert_string_equal(s.keys[1], "example.com");
    crawl_scope_free(&s);

    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_PREFIX, (char *const *)starts, 2), 0);
    assert_string_equal(s.keys[0], "http://www.example.com/a/");
    assert_string_equal(s.keys[1], "http://x.example.com/");
    crawl_scope_free(&s);

    /* A start URL with no host cannot define a scope: an error, nothing left allocated. */
    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_HOST, (char *const *)bad, 2), -EINVAL);
    assert_null(s.keys);
    assert_int_equal(s.nkeys, 0);
    crawl_scope_free(&s);                                /* harmless after a failed init */

    /* No start URL: nothing is inside (except for "any"). */
    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_HOST, NULL, 0), 0);
    assert_int_equal(crawl_scope_contains(&s, "http://www.example.com/"), 0);
    crawl_scope_free(&s);
}

/* wget's -np: on a start URL's origin, only under its folder; other hosts are the kind's call. */
static void test_no_parent(void **state)
{
    static const char *const starts[] = { "http://h.example/docs/guide/index.html",
                                          "http://h.example:8080/b/" };
    static const struct contains_case cases[] = {
        { "http://h.example/docs/guide/", 1 },
        { "http://h.example/docs/guide/part/2.html", 1 },
        { "http://h.example/docs/guide", 0 },              /* the folder's parent's entry */
        { "http://h.example/docs/", 0 },
        { "http://h.example/", 0 },
        { "http://h.example/docs/guidebook/", 0 },
        { "https://h.example/docs/", 1 },                 /* another origin: any, here */
        { "http://h.example:8080/b/c", 1 },               /* the second start's own folder */
        { "http://h.example:8080/docs/guide/", 0 },
        { "http://other.example/", 1 },
    };
    crawl_scope_t s;

    (void)state;
    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_ANY, (char *const *)starts, 2), 0);
    assert_int_equal(crawl_scope_no_parent(&s, (char *const *)starts, 2), 0);
    for (size_t i = 0; i < N(cases); i++)
        if (crawl_scope_contains(&s, cases[i].url) != cases[i].inside)
            fail_msg("-np from %s: %s want %s", starts[0], cases[i].url,
                     cases[i].inside ? "inside" : "outside");
    crawl_scope_free(&s);
    assert_null(s.parents);

    /* with the default host scope: other hosts stay out */
    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_HOST, (char *const *)starts, 1), 0);
    assert_int_equal(crawl_scope_no_parent(&s, (char *const *)starts, 1), 0);
    assert_int_equal(crawl_scope_contains(&s, "http://other.example/"), 0);
    assert_int_equal(crawl_scope_contains(&s, "http://h.example/docs/guide/a"), 1);
    assert_int_equal(crawl_scope_contains(&s, "http://h.example/docs/a"), 0);
    crawl_scope_free(&s);
}

/* wget's -D: the host is a listed domain or under one, at a label boundary. */
static void test_domains(void **state)
{
    static const char *const starts[] = { "http://www.example.com/" };
    static const struct contains_case cases[] = {
        { "http://example.com/", 1 },
        { "http://www.example.com/a", 1 },
        { "http://a.b.EXAMPLE.com/", 1 },
        { "http://badexample.com/", 0 },
        { "http://example.com.evil/", 0 },
        { "http://cdn.example.org/x.png", 1 },
        { "http://example.org.uk/", 0 },
        { "http://other.net/", 0 },
    };
    crawl_scope_t s;

    (void)state;
    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_ANY, (char *const *)starts, 1), 0);
    assert_int_equal(crawl_scope_domains(&s, "example.com, .Example.ORG"), 0);
    assert_int_equal(s.ndomains, 2);
    assert_string_equal(s.domains[1], "example.org");
    for (size_t i = 0; i < N(cases); i++)
        if (crawl_scope_contains(&s, cases[i].url) != cases[i].inside)
            fail_msg("-H -D example.com,.example.org: %s want %s", cases[i].url,
                     cases[i].inside ? "inside" : "outside");
    /* without -H the host scope still holds: -D narrows, never widens */
    crawl_scope_free(&s);
    assert_int_equal(crawl_scope_init(&s, CRAWL_SCOPE_HOST, (char *const *)starts, 1), 0);
    assert_int_equal(crawl_scope_domains(&s, "example.com"), 0);
    assert_int_equal(crawl_scope_contains(&s, "http://www.example.com/"), 1);
    assert_int_equal(crawl_scope_contains(&s, "http://img.example.com/"), 0);
    assert_int_equal(crawl_scope_domains(&s, " , ,"), -EINVAL);
    crawl_scope_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_kind),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_host_ip_and_several_starts),
        cmocka_unit_test(test_registrable_domain),
        cmocka_unit_test(test_domain),
        cmocka_unit_test(test_domain_of_an_ip_is_the_ip),
        cmocka_unit_test(test_prefix_is_the_start_folder),
        cmocka_unit_test(test_prefix_ignores_query_and_fragment),
        cmocka_unit_test(test_prefix_root_and_several_starts),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_init_keys_and_errors),
        cmocka_unit_test(test_no_parent),
        cmocka_unit_test(test_domains),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
