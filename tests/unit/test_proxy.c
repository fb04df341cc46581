/* test_proxy.c - net/http/proxy.c: which proxy a URL goes through, as libcurl decides it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "net/http/proxy.h"

static const char *const vars[] = { "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                    "ALL_PROXY", "no_proxy", "NO_PROXY", "HTTP_PROXY" };
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static int env_clear(void **state)
{
    char **saved = calloc(NVARS, sizeof(*saved));

    assert_non_null(saved);
    for (size_t i = 0; i < NVARS; i++) {
        const char *v = getenv(vars[i]);
        saved[i] = v ? strdup(v) : NULL;
        unsetenv(vars[i]);
    }
    *state = saved;
    return 0;
}

static int env_restore(void **state)
{
    char **saved = *state;

    for (size_t i = 0; i < NVARS; i++) {
        if (saved[i])
            setenv(vars[i], saved[i], 1);
        else
            unsetenv(vars[i]);
        free(saved[i]);
    }
    free(saved);
    return 0;
}

static void test_noproxy_lists(void **state)
{
    static const struct {
        const char *host, *list;
        int match;
    } cases[] = {
        { "example.com", "*", 1 },
        { "example.com", "example.com", 1 },
        { "EXAMPLE.com", "example.COM", 1 },
        { "www.example.com", "example.com", 1 },
        { "www.example.com", ".example.com", 1 },
        { "example.com", ".example.com", 1 },
        { "badexample.com", "example.com", 0 },
        { "example.com.", "example.com", 1 },
        { "example.org", "example.com, localhost", 0 },
        { "localhost", "example.com, localhost", 1 },
        { "localhost", "example.com,,localhost ", 1 },
        { "127.0.0.1", "127.0.0.1", 1 },
        { "127.0.0.1", "127.0.0.0/8", 1 },
        { "127.0.0.1", "10.0.0.0/8", 0 },
        { "10.1.2.3", "10.1.0.0/16", 1 },
        { "10.2.2.3", "10.1.0.0/16", 0 },
        { "127.0.0.1", "127.0.0.2", 0 },
        { "127.0.0.1", "0.0.0.0/0", 1 },
        { "127.0.0.1", "127.0.0.1/33", 0 },
        { "127.0.0.1", "localhost", 0 },      /* names are not resolved */
        { "[::1]", "::1", 1 },
        { "::1", "[::1]", 1 },
        { "[2001:db8::5]", "2001:db8::/32", 1 },
        { "[2001:db9::5]", "2001:db8::/32", 0 },
        { "example.com", "", 0 },
        { "example.com", "*.example.com", 0 }, /* no wildcards but "*" alone, as libcurl */
        { "example.com", NULL, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (http_noproxy_match(cases[i].host, cases[i].list) != cases[i].match)
            fail_msg("%s against [%s]: want %d", cases[i].host, cases[i].list ? cases[i].list : "NULL",
                     cases[i].match);
    }
}

static void test_proxy_for_urls(void **state)
{
    char buf[300];

    (void)state;
    /* the option */
    assert_string_equal(http_proxy_for("http://h/x", "127.0.0.1:3128", NULL, buf, sizeof(buf)),
                        "http://127.0.0.1:3128");
    assert_string_equal(http_proxy_for("https://h/x", "http://u:secret@p.example", NULL, buf, sizeof(buf)),
                        "http://p.example:1080");              /* libcurl's default port; no credentials */
    assert_string_equal(http_proxy_for("https://h/x", "https://p.example", NULL, buf, sizeof(buf)),
                        "https://p.example:443");
    assert_string_equal(http_proxy_for("http://h/x", "socks5h://[::1]:9050", NULL, buf, sizeof(buf)),
                        "socks5h://[::1]:9050");
    assert_null(http_proxy_for("http://h/x", "", NULL, buf, sizeof(buf)));
    assert_null(http_proxy_for("http://h/x", "127.0.0.1:3128", "h", buf, sizeof(buf)));
    assert_null(http_proxy_for("not a url", "127.0.0.1:3128", NULL, buf, sizeof(buf)));
    /* nothing set: direct */
    assert_null(http_proxy_for("http://h/x", NULL, NULL, buf, sizeof(buf)));
    /* the environment: http_proxy in lower case only for http:// */
    setenv("HTTP_PROXY", "http://upper:1", 1);
    assert_null(http_proxy_for("http://h/x", NULL, NULL, buf, sizeof(buf)));
    setenv("http_proxy", "http://lower:2", 1);
    assert_string_equal(http_proxy_for("http://h/x", NULL, NULL, buf, sizeof(buf)), "http://lower:2");
    assert_null(http_proxy_for("https://h/x", NULL, NULL, buf, sizeof(buf)));
    setenv("HTTPS_PROXY", "http://secure:3", 1);
    assert_string_equal(http_proxy_for("https://h/x", NULL, NULL, buf, sizeof(buf)), "http://secure:3");
    setenv("https_proxy", "http://secure-lower:4", 1);
    assert_string_equal(http_proxy_for("https://h/x", NULL, NULL, buf, sizeof(buf)), "http://secure-lower:4");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    setenv("ALL_PROXY", "http://all:5", 1);
    assert_string_equal(http_proxy_for("https://h/x", NULL, NULL, buf, sizeof(buf)), "http://all:5");
    /* the option wins over the environment */
    assert_string_equal(http_proxy_for("http://h/x", "http://opt:6", NULL, buf, sizeof(buf)), "http://opt:6");
    /* NO_PROXY, and --noproxy instead of it */
    setenv("NO_PROXY", "h, .example.com", 1);
    assert_null(http_proxy_for("http://h/x", NULL, NULL, buf, sizeof(buf)));
    assert_null(http_proxy_for("http://a.example.com/x", "http://opt:6", NULL, buf, sizeof(buf)));
    assert_string_equal(http_proxy_for("http://h/x", NULL, "other", buf, sizeof(buf)), "http://lower:2");
    setenv("no_proxy", "*", 1);                                /* lower case first */
    assert_null(http_proxy_for("http://z/x", NULL, NULL, buf, sizeof(buf)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noproxy_lists),
        cmocka_unit_test_setup_teardown(test_proxy_for_urls, env_clear, env_restore),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
