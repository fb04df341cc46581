/* test_url.c - tables of input -> expected output for parse/url.c (normalise, resolve, parts). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/url.h"

/* malloc for test data: the tests assume memory does not run out, so abort if it does. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (!p)
        abort();
    return p;
}

/* An expected result: the output string when result is PARSE_OK, else ignored. */
struct url_case {
    const char *in;
    int result;
    const char *out;
};

struct resolve_case {
    const char *base;
    const char *ref;
    int result;
    const char *out;
};

static const struct url_case normalize_cases[] = {
    /* case */
    {"HTTP://EXAMPLE.COM/", PARSE_OK, "http://example.com/"},
    {"HtTpS://Www.Example.COM/Path/To", PARSE_OK, "https://www.example.com/Path/To"},
    {"http://example.com/CaseKept?Q=Kept", PARSE_OK, "http://example.com/CaseKept?Q=Kept"},
    /* ports */
    {"http://example.com:80/", PARSE_OK, "http://example.com/"},
    {"https://example.com:443/x", PARSE_OK, "https://example.com/x"},
    {"http://example.com:443/", PARSE_OK, "http://example.com:443/"},
    {"https://example.com:80/", PARSE_OK, "https://example.com:80/"},
    {"http://example.com:8080", PARSE_OK, "http://example.com:8080/"},
    {"http://example.com:080/", PARSE_OK, "http://example.com/"},
    {"http://example.com:/", PARSE_OK, "http://example.com/"},
    {"http://[::1]:80/", PARSE_OK, "http://[::1]/"},
    {"http://[FE80::A]:8080/x", PARSE_OK, "http://[fe80::a]:8080/x"},
    /* empty path, query, fragment */
    {"http://example.com", PARSE_OK, "http://example.com/"},
    {"http://example.com?x=1", PARSE_OK, "http://example.com/?x=1"},
    {"http://example.com/a#frag", PARSE_OK, "http://example.com/a"},
    {"http://example.com/a?b=1#frag", PARSE_OK, "http://example.com/a?b=1"},
    {"http://example.com/a#f#g", PARSE_OK, "http://example.com/a"},
    {"http://example.com/a#e f", PARSE_OK, "http://example.com/a"},
    {"http://example.com/a?", PARSE_OK, "http://example.com/a"},
    {"http://example.com/a?#x", PARSE_OK, "http://example.com/a"},
    {"http://example.com/#", PARSE_OK, "http://example.com/"},
    /* dot segments */
    {"http://example.com/a/./b/../c", PARSE_OK, "http://example.com/a/c"},
    {"http://example.com/a/b/../../../c", PARSE_OK, "http://example.com/c"},
    {"http://example.com/..", PARSE_OK, "http://example.com/"},
    {"http://example.com/a/.", PARSE_OK, "http://example.com/a/"},
    {"http://example.com/a/..", PARSE_OK, "http://example.com/"},
    {"http://example.com/a//b//../c", PARSE_OK, "http://example.com/a//b/c"},
    {"http://example.com/a/%2e%2e/b", PARSE_OK, "http://example.com/b"},
    {"http://example.com/a/%2E/b", PARSE_OK, "http://example.com/a/b"},
    {"http://example.com/a/.b/..c/", PARSE_OK, "http://example.com/a/.b/..c/"},
    {"http://example.com/x?a/../b", PARSE_OK, "http://example.com/x?a/../b"},
    /* percent-encoding */
    {"http://example.com/%7e", PARSE_OK, "http://example.com/~"},
    {"http://example.com/%7Euser", PARSE_OK, "http://example.com/~user"},
    {"http://example.com/%41%5a%61%7a%30%39%2d%2e%5f", PARSE_OK, "http://example.com/AZaz09-._"},
    {"http://example.com/a%2fb", PARSE_OK, "http://example.com/a%2Fb"},
    {"http://example.com/a%2Fb", PARSE_OK, "http://example.com/a%2Fb"},
    {"http://example.com/%e2%82%ac", PARSE_OK, "http://example.com/%E2%82%AC"},
    {"http://example.com/\xe2\x82\xac", PARSE_OK, "http://example.com/%E2%82%AC"},
    {"http://example.com/caf\xc3\xa9?q=\xc3\xa9", PARSE_OK, "http://example.com/caf%C3%A9?q=%C3%A9"},
    {"http://example.com/\xff", PARSE_OK, "http://example.com/%FF"},
    {"http://example.com/a b", PARSE_OK, "http://example.com/a%20b"},
    {"http://example.com/a b?c d", PARSE_OK, "http://example.com/a%20b?c%20d"},
    {"http://example.com/%20", PARSE_OK, "http://example.com/%20"},
    {"http://example.com/a%zz", PARSE_OK, "http://example.com/a%25zz"},
    {"http://example.com/a%", PARSE_OK, "http://example.com/a%25"},
    {"http://example.com/a%4", PARSE_OK, "http://example.com/a%254"},
    {"http://example.com/%25", PARSE_OK, "http://example.com/%25"},
    {"http://example.com/%00", PARSE_OK, "http://example.com/%00"},
    {"http://example.com/{}|^`\"<>\\", PARSE_OK, "http://example.com/%7B%7D%7C%5E%60%22%3C%3E%5C"},
    {"http://example.com/[x]", PARSE_OK, "http://example.com/%5Bx%5D"},
    {"http://example.com/!$&'()*+,;=:@", PARSE_OK, "http://example.com/!$&'()*+,;=:@"},
    {"http://example.com/a;p?q", PARSE_OK, "http://example.com/a;p?q"},
    /* the query is kept as given, only its escaping made consistent */
    {"http://example.com/?b=2&a=1", PARSE_OK, "http://example.com/?b=2&a=1"},
    {"http://example.com/?q=%7e%41+%20%2b", PARSE_OK, "http://example.com/?q=~A+%20%2B"},
    {"http://example.com/?q=a?b/c", PARSE_OK, "http://example.com/?q=a?b/c"},
    {"http://example.com/?q=<\"x\">", PARSE_OK, "http://example.com/?q=%3C%22x%22%3E"},
    {"http://example.com/?a=%2f%3a", PARSE_OK, "http://example.com/?a=%2F%3A"},
    /* hosts */
    {"http://%41.com/", PARSE_OK, "http://a.com/"},
    {"http://127.1/", PARSE_OK, "http://127.0.0.1/"},
    {"http://%32/", PARSE_OK, "http://0.0.0.2/"},            /* found by fuzz_url */
    {"http:/%32/", PARSE_OK, "http://0.0.0.2/"},
    {"http://%31%32%37.0.0.1:80/", PARSE_OK, "http://127.0.0.1/"},
    {"http://0x7f.1/", PARSE_OK, "http://127.0.0.1/"},
    {"http://cafe.example/", PARSE_OK, "http://cafe.example/"},
    {"http://dead.beef/", PARSE_OK, "http://dead.beef/"},
    {"http://a_b.example.com/", PARSE_OK, "http://a_b.example.com/"},
    {"http://example.com./", PARSE_OK, "http://example.com./"},
    {"http://xn--bcher-kva.de/", PARSE_OK, "http://xn--bcher-kva.de/"},
    {"http:///example.com/x", PARSE_OK, "http://example.com/x"},
    /* userinfo */
    {"http://user:pw@Example.com/", PARSE_OK, "http://user:pw@example.com/"},
    {"http://u%41:p%3a@x.org/", PARSE_OK, "http://uA:p%3A@x.org/"},
    {"http://@x.org/", PARSE_OK, "http://x.org/"},
    {"http://:@x.org/", PARSE_OK, "http://x.org/"},
    {"http://user@x.org/", PARSE_OK, "http://user@x.org/"},
    /* rejections */
    {"ftp://example.com/", PARSE_ESCHEME, NULL},
    {"file:///etc/passwd", PARSE_ESCHEME, NULL},
    {"javascript:alert(1)", PARSE_ESCHEME, NULL},
    {"mailto:a@example.com", PARSE_ESCHEME, NULL},
    {"example.com/path", PARSE_ESCHEME, NULL},
    {"//example.com/", PARSE_ESCHEME, NULL},
    {"/relative", PARSE_ESCHEME, NULL},
    {"", PARSE_ESCHEME, NULL},
    {"1http://x/", PARSE_ESCHEME, NULL},
    {"http://", PARSE_EINVAL, NULL},
    {"http:// /", PARSE_EINVAL, NULL},
    {"http:example.com", PARSE_EINVAL, NULL},
    {"http://ex ample.com/", PARSE_EINVAL, NULL},
    {"http://exa%mple.com/", PARSE_EINVAL, NULL},
    {"http://example.com:0/", PARSE_EINVAL, NULL},
    {"http://example.com:99999/", PARSE_EINVAL, NULL},
    {"http://example.com:8080:90/", PARSE_EINVAL, NULL},
    {"http://example.com:port/", PARSE_EINVAL, NULL},
    {"http://[::1/", PARSE_EINVAL, NULL},
    {"http://[fe80::1%25eth0]/", PARSE_EINVAL, NULL},
    {"http://example.com/a\tb", PARSE_EINVAL, NULL},
    {"http://example.com/a\nb", PARSE_EINVAL, NULL},
    {"http://example.com/\r", PARSE_EINVAL, NULL},
    {"http://example.com/\x7f", PARSE_EINVAL, NULL},
    {"http://example.com/\x01", PARSE_EINVAL, NULL},
    {" http://example.com/", PARSE_EINVAL, NULL},
    {"http://example.com/ ", PARSE_EINVAL, NULL},
};

/*
 * RFC 3986 section 5.4 with base http://a/b/c/d;p?q, adapted to the normal form: fragments
 * are dropped, an empty path becomes "/", other schemes are refused, and "http:g" takes the
 * backward-compatible reading.
 */
#define RFC_BASE "http://a/b/c/d;p?q"
static const struct resolve_case rfc3986_cases[] = {
    /* 5.4.1 normal examples */
    {RFC_BASE, "g:h", PARSE_ESCHEME, NULL},
    {RFC_BASE, "g", PARSE_OK, "http://a/b/c/g"},
    {RFC_BASE, "./g", PARSE_OK, "http://a/b/c/g"},
    {RFC_BASE, "g/", PARSE_OK, "http://a/b/c/g/"},
    {RFC_BASE, "/g", PARSE_OK, "http://a/g"},
    {RFC_BASE, "//g", PARSE_OK, "http://g/"},
    {RFC_BASE, "?y", PARSE_OK, "http://a/b/c/d;p?y"},
    {RFC_BASE, "g?y", PARSE_OK, "http://a/b/c/g?y"},
    {RFC_BASE, "#s", PARSE_OK, "http://a/b/c/d;p?q"},
    {RFC_BASE, "g#s", PARSE_OK, "http://a/b/c/g"},
    {RFC_BASE, "g?y#s", PARSE_OK, "http://a/b/c/g?y"},
    {RFC_BASE, ";x", PARSE_OK, "http://a/b/c/;x"},
    {RFC_BASE, "g;x", PARSE_OK, "http://a/b/c/g;x"},
    {RFC_BASE, "g;x?y#s", PARSE_OK, "http://a/b/c/g;x?y"},
    {RFC_BASE, "", PARSE_OK, "http://a/b/c/d;p?q"},
    {RFC_BASE, ".", PARSE_OK, "http://a/b/c/"},
    {RFC_BASE, "./", PARSE_OK, "http://a/b/c/"},
    {RFC_BASE, "..", PARSE_OK, "http://a/b/"},
    {RFC_BASE, "../", PARSE_OK, "http://a/b/"},
    {RFC_BASE, "../g", PARSE_OK, "http://a/b/g"},
    {RFC_BASE, "../..", PARSE_OK, "http://a/"},
    {RFC_BASE, "../../", PARSE_OK, "http://a/"},
    {RFC_BASE, "../../g", PARSE_OK, "http://a/g"},
    /* 5.4.2 abnormal examples */
    {RFC_BASE, "../../../g", PARSE_OK, "http://a/g"},
    {RFC_BASE, "../../../../g", PARSE_OK, "http://a/g"},
    {RFC_BASE, "/./g", PARSE_OK, "http://a/g"},
    {RFC_BASE, "/../g", PARSE_OK, "http://a/g"},
    {RFC_BASE, "g.", PARSE_OK, "http://a/b/c/g."},
    {RFC_BASE, ".g", PARSE_OK, "http://a/b/c/.g"},
    {RFC_BASE, "g..", PARSE_OK, "http://a/b/c/g.."},
    {RFC_BASE, "..g", PARSE_OK, "http://a/b/c/..g"},
    {RFC_BASE, "./../g", PARSE_OK, "http://a/b/g"},
    {RFC_BASE, "./g/.", PARSE_OK, "http://a/b/c/g/"},
    {RFC_BASE, "g/./h", PARSE_OK, "http://a/b/c/g/h"},
    {RFC_BASE, "g/../h", PARSE_OK, "http://a/b/c/h"},
    {RFC_BASE, "g;x=1/./y", PARSE_OK, "http://a/b/c/g;x=1/y"},
    {RFC_BASE, "g;x=1/../y", PARSE_OK, "http://a/b/c/y"},
    {RFC_BASE, "g?y/./x", PARSE_OK, "http://a/b/c/g?y/./x"},
    {RFC_BASE, "g?y/../x", PARSE_OK, "http://a/b/c/g?y/../x"},
    {RFC_BASE, "g#s/./x", PARSE_OK, "http://a/b/c/g"},
    {RFC_BASE, "g#s/../x", PARSE_OK, "http://a/b/c/g"},
    {RFC_BASE, "http:g", PARSE_OK, "http://a/b/c/g"},
};

/* What HTML pages throw at the resolver. */
static const struct resolve_case html_cases[] = {
    {"http://example.com/dir/page.html", "other.html", PARSE_OK, "http://example.com/dir/other.html"},
    {"http://example.com/dir/page.html", "  other.html\n", PARSE_OK, "http://example.com/dir/other.html"},
    {"http://example.com/dir/page.html", "\t/a\n/b\r\n", PARSE_OK, "http://example.com/a/b"},
    {"http://example.com/dir/page.html", "ot\ther.html", PARSE_OK, "http://example.com/dir/other.html"},
    {"http://example.com/dir/page.html", "a b.html", PARSE_OK, "http://example.com/dir/a%20b.html"},
    {"http://example.com/dir/page.html", "#top", PARSE_OK, "http://example.com/dir/page.html"},
    {"http://example.com/dir/page.html#x", "#top", PARSE_OK, "http://example.com/dir/page.html"},
    {"http://example.com/dir/page.html", "   ", PARSE_OK, "http://example.com/dir/page.html"},
    {"http://example.com/dir/page.html", "?q=1", PARSE_OK, "http://example.com/dir/page.html?q=1"},
    {"http://example.com/dir/page.html", "//cdn.example.net/x.js", PARSE_OK, "http://cdn.example.net/x.js"},
    {"https://example.com/dir/page.html", "//cdn.example.net/x.js", PARSE_OK, "https://cdn.example.net/x.js"},
    {"http://example.com/", "HTTPS://Other.Example:443/%7euser/", PARSE_OK, "https://other.example/~user/"},
    {"http://example.com/", "http://other.example:80", PARSE_OK, "http://other.example/"},
    {"http://example.com/a/b", "../%2e%2e/x", PARSE_OK, "http://example.com/x"},
    {"http://example.com/a/b", "1abc:x", PARSE_OK, "http://example.com/a/1abc:x"},
    {"http://example.com/a/b", "a:b", PARSE_ESCHEME, NULL},
    {"http://example.com/a/b", "http:", PARSE_OK, "http://example.com/a/b"},
    {"http://example.com/a/b", "http:/c", PARSE_OK, "http://example.com/c"},
    {"https://example.com/a/b", "http:c", PARSE_EINVAL, NULL},
    {"http://example.com/", "javascript:void(0)", PARSE_ESCHEME, NULL},
    {"http://example.com/", " JavaScript:alert(1)", PARSE_ESCHEME, NULL},
    {"http://example.com/", "mailto:someone@example.com", PARSE_ESCHEME, NULL},
    {"http://example.com/", "tel:+15551234", PARSE_ESCHEME, NULL},
    {"http://example.com/", "data:image/png;base64,AAAA", PARSE_ESCHEME, NULL},
    {"http://example.com/", "ftp://ftp.example.com/file", PARSE_ESCHEME, NULL},
    {"http://example.com/", "about:blank", PARSE_ESCHEME, NULL},
    {"http://example.com/", "//", PARSE_EINVAL, NULL},
    {"http://example.com/", "http://", PARSE_EINVAL, NULL},
    {"http://example.com/", "a\x01" "b", PARSE_EINVAL, NULL},
    {"http://example.com/", "http://[::1", PARSE_EINVAL, NULL},
    {"ftp://example.com/", "x", PARSE_ESCHEME, NULL},
    {"not a url", "x", PARSE_ESCHEME, NULL},
    {"http:///", "x", PARSE_EINVAL, NULL},
};

static void check_normalize(const struct url_case *c)
{
    char *out = (char *)"untouched";
    int result = parse_url_normalize(c->in, &out);

    if (result != c->result)
        fail_msg("normalize(\"%s\"): got %d (%s), want %d", c->in, result,
                 result == PARSE_OK ? out : parse_strerror(result), c->result);
    if (result == PARSE_OK) {
        char *again = NULL;
        if (strcmp(out, c->out) != 0)
            fail_msg("normalize(\"%s\"): got \"%s\", want \"%s\"", c->in, out, c->out);
        /* The normal form is a fixed point. */
        assert_int_equal(parse_url_normalize(out, &again), PARSE_OK);
        assert_string_equal(again, out);
        free(again);
        free(out);
    } else {
        assert_string_equal(out, "untouched");
    }
}

static void check_resolve(const struct resolve_case *c)
{
    char *out = (char *)"untouched";
    int result = parse_url_resolve(c->base, c->ref, &out);

    if (result != c->result)
        fail_msg("resolve(\"%s\", \"%s\"): got %d (%s), want %d", c->base, c->ref, result,
                 result == PARSE_OK ? out : parse_strerror(result), c->result);
    if (result == PARSE_OK) {
        if (strcmp(out, c->out) != 0)
            fail_msg("resolve(\"%s\", \"%s\"): got \"%s\", want \"%s\"", c->base, c->ref, out,
                     c->out);
        free(out);
    } else {
        assert_string_equal(out, "untouched");
    }
}

static void test_normalize_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(normalize_cases) / sizeof(normalize_cases[0]); i++)
        check_normalize(&normalize_cases[i]);
}

static void test_resolve_rfc3986(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rfc3986_cases) / sizeof(rfc3986_cases[0]); i++)
        check_resolve(&rfc3986_cases[i]);
}

static void test_resolve_html(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(html_cases) / sizeof(html_cases[0]); i++)
        check_resolve(&html_cases[i]);
}

/*
 * parse_url_resolve's fast path (plain references resolved by hand, the base's normal form
 * reused) against the curl path, on references built from pieces chosen to hit its edges:
 * dot segments at every place, queries, fragments, empty parts, and characters that must send
 * a reference the slow way (%, :, @, space, backslash, non-ASCII). Same code, same string.
 */
static void check_same_resolution(const char *base, const char *ref)
{
    char *fast = NULL, *slow = NULL;
    int rf = parse_url_resolve(base, ref, &fast);
    int rs = parse_url_resolve_slow(base, ref, &slow);

    if (rf != rs || (rf == PARSE_OK && strcmp(fast, slow) != 0)) {
        fprintf(stderr, "base '%s' ref '%s': fast %d '%s', slow %d '%s'\n", base, ref, rf,
                rf == PARSE_OK ? fast : "", rs, rs == PARSE_OK ? slow : "");
        fail();
    }
    free(fast);
    free(slow);
}

static void test_resolve_fast_path(void **state)
{
    static const char *const bases[] = {
        "http://example.com", "http://example.com/", "http://example.com/a/b/c",
        "http://example.com/a/b/c/", "HTTPS://u:p@Example.COM:8443/x/y.html?z=1&w",
        "http://example.com:80/a%20b/c%7e.html?q#frag", "http://[::1]:8080/d/e/",
        "http://127.0.0.1:5000/dir/index.html", "http://example.com/a/b?", "https://h/%41/",
        "http://example.com/a//b/", "http://h/x/../y/./z",
    };
    static const char *const edge[] = {
        ".", "..", "./", "../", "../..", "../../../../x", "/..", "/.", "/./a", "/../a", "a/..",
        "a/.", "a/../..", "?", "?a", "?a=1&b", "a?", "a?b?c", "a#", "#", "#x", "a#b?c", "..?x",
        "a//b", "//", "/", "x/./y/../z", "./a:b", "a:b", ":", "@", "%2e", "%2E%2e/x", ".%2e",
        "a b", "a\\b", "~u/", "(x)*'$!,;=+", "....", ".../x", "x/..../y", "?/..", "a?/../b",
    };
    /* pieces for the generated references */
    static const char *const pieces[] = {
        "a", "b", "c.html", ".", "..", "/", "/", "/", "?", "=", "&", "#", "~", "-", "_", "!",
        "$", "'", "(", ")", "*", "+", ",", ";", "%2e", "%41", ":", "@", " ", "\\", "\xc3\xa9",
        "index.html", "", "//",
    };
    unsigned long long rng = 88172645463325252ULL;
    char ref[128];
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
        for (j = 0; j < sizeof(edge) / sizeof(edge[0]); j++)
            check_same_resolution(bases[i], edge[j]);
    for (i = 0; i < 100000; i++) {
        size_t n = 0, k, len;
        ref[0] = '\0';
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        len = 1 + rng % 8;
        for (k = 0; k < len; k++) {
            const char *piece;
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            /* mostly plain pieces, so most references take the fast path */
            piece = pieces[rng % (rng % 4 ? 13 : sizeof(pieces) / sizeof(pieces[0]))];
            if (n + strlen(piece) + 1 > sizeof(ref))
                break;
            memcpy(ref + n, piece, strlen(piece) + 1);
            n += strlen(piece);
        }
        check_same_resolution(bases[(rng >> 20) % (sizeof(bases) / sizeof(bases[0]))], ref);
    }
}

/* IDN hosts become punycode when a UTF-8 locale exists to let curl convert them. */
static void test_idn(void **state)
{
    static const struct {
        const char *in, *puny, *utf8;
    } cases[] = {
        {"http://b\xc3\xbc" "cher.de/", "http://xn--bcher-kva.de/", "http://b\xc3\xbc" "cher.de/"},
        {"http://B\xc3\x9c" "CHER.de/x", "http://xn--bcher-kva.de/x", NULL},
        {"http://ex%C3%A4mple.com/", "http://xn--exmple-cua.com/", "http://ex\xc3\xa4mple.com/"},
    };
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        assert_int_equal(parse_url_normalize(cases[i].in, &out), PARSE_OK);
        if (utf8)
            assert_string_equal(out, cases[i].puny);
        else if (cases[i].utf8)
            assert_string_equal(out, cases[i].utf8);
        free(out);
    }
    /* IDNA maps these hosts to nothing: no host is left (found by fuzz_urllist). */
    if (utf8) {
        static const char *const empty[] = {
            "http://\xef\xbb\xbf/", "http://\xef\xbb\xbf#x", "http://\xe2\x80\x8b/",
            "http://\xc2\xad\xc2\xad/",
        };
        for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
            char *out = (char *)"untouched";
            if (parse_url_normalize(empty[i], &out) != PARSE_EINVAL)
                fail_msg("\"%s\" gave %s", empty[i], out);
        }
        {
            char *out = NULL;
            assert_int_equal(parse_url_normalize("http://a\xe2\x80\x8b" "b.com/", &out), PARSE_OK);
            assert_string_equal(out, "http://ab.com/");
            free(out);
            assert_int_equal(parse_url_normalize("http://\xef\xbd\x81.com/", &out), PARSE_OK);
            assert_string_equal(out, "http://a.com/");
            free(out);
            /* Mapped to a number: read as IPv4 like the plain spelling (found by fuzz_urllist). */
            assert_int_equal(parse_url_normalize("http://\xef\xbb\xbf\xef\xbb\xbf" "65/66E/:/", &out),
                             PARSE_OK);
            assert_string_equal(out, "http://0.0.0.65/66E/:/");
            free(out);
            assert_int_equal(parse_url_normalize("http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/", &out),
                             PARSE_OK);
            assert_string_equal(out, "http://127.0.0.1/");
            free(out);
        }
    }
    /* Not UTF-8 and not convertible: refused rather than passed on as raw bytes. */
    {
        char *out = (char *)"untouched";
        assert_int_equal(parse_url_normalize("http://\xff\xfe.com/", &out), PARSE_EINVAL);
    }
    if (utf8)
        freelocale(utf8);
}

static void test_parts(void **state)
{
    static const struct {
        const char *url, *hostport, *host, *path;
    } cases[] = {
        {"http://Example.COM/a?b=1#c", "example.com:80", "example.com", "/a?b=1"},
        {"https://example.com/", "example.com:443", "example.com", "/"},
        {"https://example.com:443", "example.com:443", "example.com", "/"},
        {"http://example.com:8080/x/../y?", "example.com:8080", "example.com", "/y"},
        {"https://example.com:80/%7e?%7e", "example.com:80", "example.com", "/~?~"},
        {"http://[::1]/p", "[::1]:80", "[::1]", "/p"},
        {"http://user:pw@host.example:81/a b", "host.example:81", "host.example", "/a%20b"},
        {"http://127.1/?q", "127.0.0.1:80", "127.0.0.1", "/?q"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = NULL;
        assert_int_equal(parse_url_hostport(cases[i].url, &s), PARSE_OK);
        assert_string_equal(s, cases[i].hostport);
        free(s);
        assert_int_equal(parse_url_host(cases[i].url, &s), PARSE_OK);
        assert_string_equal(s, cases[i].host);
        free(s);
        assert_int_equal(parse_url_path(cases[i].url, &s), PARSE_OK);
        assert_string_equal(s, cases[i].path);
        free(s);
    }
    {
        char *s = (char *)"untouched";
        assert_int_equal(parse_url_hostport("ftp://x/", &s), PARSE_ESCHEME);
        assert_int_equal(parse_url_host("http://", &s), PARSE_EINVAL);
        assert_int_equal(parse_url_path("mailto:x@y", &s), PARSE_ESCHEME);
        assert_string_equal(s, "untouched");
    }
}

static char *make_url(size_t total, char fill)
{
    static const char prefix[] = "http://example.com/";
    char *s = xmalloc(total + 1);

    memcpy(s, prefix, sizeof(prefix) - 1);
    memset(s + sizeof(prefix) - 1, fill, total - (sizeof(prefix) - 1));
    s[total] = '\0';
    return s;
}

static void test_length_caps(void **state)
{
    char *in, *out = NULL;

    (void)state;
    in = make_url(PARSE_URL_MAX, 'a');
    assert_int_equal(parse_url_normalize(in, &out), PARSE_OK);
    assert_int_equal(strlen(out), PARSE_URL_MAX);
    free(out);
    free(in);

    in = make_url(PARSE_URL_MAX + 1, 'a');
    assert_int_equal(parse_url_normalize(in, &out), PARSE_ETOOLONG);
    assert_int_equal(parse_url_resolve("http://example.com/", in, &out), PARSE_ETOOLONG);
    assert_int_equal(parse_url_resolve(in, "x", &out), PARSE_ETOOLONG);
    free(in);

    /* Within the cap on input, over it once spaces become %20. */
    in = make_url(PARSE_URL_MAX / 2, ' ');
    assert_int_equal(parse_url_normalize(in, &out), PARSE_EINVAL); /* trailing space */
    in[PARSE_URL_MAX / 2 - 1] = 'x';
    assert_int_equal(parse_url_normalize(in, &out), PARSE_ETOOLONG);
    free(in);

    /* Whitespace around a reference does not count against the cap. */
    in = make_url(PARSE_URL_MAX * 2, ' ');
    memcpy(in + PARSE_URL_MAX, "/x", 2);
    assert_int_equal(parse_url_resolve("http://example.com/", in + 19, &out), PARSE_OK);
    assert_string_equal(out, "http://example.com/x");
    free(out);
    free(in);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(parse_strerror(PARSE_OK), "success");
    assert_string_equal(parse_strerror(PARSE_ESCHEME), "not an http or https URL");
    assert_string_equal(parse_strerror(PARSE_ETOOLONG), "input too long");
    assert_string_equal(parse_strerror(12345), "unknown error");
}

/* Passwords are masked, everything else of the URL is kept; a URL without one is returned as
 * the same pointer (no copy). */
static void test_redact(void **state)
{
    static const struct {
        const char *in, *out;     /* out NULL: the very same pointer comes back */
    } cases[] = {
        { "http://ann:s3cret@example.com/a/b?x=1", "http://ann:***@example.com/a/b?x=1" },
        { "https://ann:s3cret@example.com:8443/", "https://ann:***@example.com:8443/" },
        { "http://ann:@example.com/", "http://ann:***@example.com/" },        /* empty: still one */
        { "http://:pw@[::1]:8080/x", "http://:***@[::1]:8080/x" },
        { "http://ann%3Ax:p%40ss@h/", "http://ann%3Ax:***@h/" },           /* encoded ':' and '@' */
        { "http://ann:pw@h/a/../b", "http://ann:***@h/a/../b" },          /* the path as given */
        { "ftp://ann:pw@h/f", "ftp://ann:***@h/f" },                       /* a redirect's target */
        /* what curl cannot parse is masked by hand */
        { "http://ann:pw@bad host\x01/x", "http://ann:***@bad host\x01/x" },
        { "ann:pw@host/x", "ann:***@host/x" },
        { "http://a:b:c@h@i/x", "http://a:***@i/x" },  /* the password runs to the last '@' */
        /* no password */
        { "http://example.com/a", NULL },
        { "http://ann@example.com/a", NULL },
        { "http://example.com/mail@x:y", NULL },      /* '@' and ':' past the authority */
        { "http://example.com/?to=u:p@h", NULL },
        { "not a url @ all", NULL },
    };
    char buf[PARSE_URL_REDACT_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = parse_url_redact(cases[i].in, buf, sizeof(buf));

        if (!cases[i].out) {
            if (got != cases[i].in)
                fail_msg("%s: masked as %s, want it unchanged", cases[i].in, got);
            continue;
        }
        if (strcmp(got, cases[i].out) != 0)
            fail_msg("%s: got %s, want %s", cases[i].in, got, cases[i].out);
        assert_null(strstr(got, "s3cret"));
    }
    /* too small a buffer gives the placeholder, never a cut secret */
    {
        char small[16];
        const char *got = parse_url_redact("http://ann:s3cret@example.com/", small, sizeof(small));
        assert_null(strstr(got, "s3cret"));
        assert_non_null(strstr(got, "password"));
    }
    /* the longest URL parse/ accepts fits a PARSE_URL_REDACT_SIZE buffer, with a 1-byte password */
    {
        char *url = xmalloc(PARSE_URL_MAX + 1);
        const char *got;
        size_t head = strlen("http://a:b@h/");

        memcpy(url, "http://a:b@h/", head);
        memset(url + head, 'x', PARSE_URL_MAX - head);
        url[PARSE_URL_MAX] = '\0';
        got = parse_url_redact(url, buf, sizeof(buf));
        assert_ptr_equal(got, buf);
        assert_int_equal(strlen(got), PARSE_URL_MAX + 2);
        assert_memory_equal(got, "http://a:***@h/xx", 17);
        free(url);
    }
}

/* A masked URL read back gets the password of a source with the same scheme, host, port and
 * user; with no such source its user info goes (the mask is never sent as a password). */
static void test_unredact(void **state)
{
    char *const sources[] = { "http://bob:other@example.com/", "http://ann:s3cret@example.com/start",
                              "https://ann:tls@example.com/" };
    char *out = NULL;

    (void)state;
    assert_int_equal(parse_url_unredact("http://ann:***@example.com/a?q", sources, 3, &out), PARSE_OK);
    assert_string_equal(out, "http://ann:s3cret@example.com/a?q");
    free(out);
    assert_int_equal(parse_url_unredact("https://ann:***@example.com:443/x", sources, 3, &out), PARSE_OK);
    assert_string_equal(out, "https://ann:tls@example.com:443/x");
    free(out);
    /* another port, host or user: no source */
    assert_int_equal(parse_url_unredact("http://ann:***@example.com:81/a", sources, 3, &out), PARSE_OK);
    assert_string_equal(out, "http://example.com:81/a");
    free(out);
    assert_int_equal(parse_url_unredact("http://cy:***@example.com/a", sources, 3, &out), PARSE_OK);
    assert_string_equal(out, "http://example.com/a");
    free(out);
    /* nothing masked: nothing to do */
    assert_int_equal(parse_url_unredact("http://example.com/a", sources, 3, &out), PARSE_OK);
    assert_null(out);
    assert_int_equal(parse_url_unredact("http://ann:real@example.com/a", sources, 3, &out), PARSE_OK);
    assert_null(out);
    /* a round trip */
    {
        char buf[PARSE_URL_REDACT_SIZE];
        const char *m = parse_url_redact("http://ann:s3cret@example.com/deep/x.html", buf, sizeof(buf));
        assert_int_equal(parse_url_unredact(m, sources, 3, &out), PARSE_OK);
        assert_string_equal(out, "http://ann:s3cret@example.com/deep/x.html");
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_table),
        cmocka_unit_test(test_resolve_rfc3986),
        cmocka_unit_test(test_resolve_html),
        cmocka_unit_test(test_resolve_fast_path),
        cmocka_unit_test(test_idn),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_length_caps),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_unredact),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
