/* tests/unit/test_path.c: URL -> path mapping (flat, tree), its safety property, unique names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/hash.h"
#include "storage/path.h"

struct path_case {
    const char *url;
    int result;
    const char *flat;
    const char *tree;
};

/* "-" + the first 8 hex digits of store_hash64(s), as the names use. */
static void suffix_of(const char *s, char out[10])
{
    out[0] = '-';
    store_hash_hex8(s, out + 1);
}

static void check_cases(const struct path_case *cases, size_t n)
{
    char out[STORE_PATH_SIZE];

    for (size_t i = 0; i < n; i++) {
        const struct path_case *c = &cases[i];
        int rf = store_path_from_url(c->url, STORE_LAYOUT_FLAT, out, sizeof(out));

        if (rf != c->result || (rf == 0 && strcmp(out, c->flat) != 0))
            fail_msg("flat %s: got %d [%s], want %d [%s]", c->url, rf, out, c->result, c->flat);
        int rt = store_path_from_url(c->url, STORE_LAYOUT_TREE, out, sizeof(out));

        if (rt != c->result || (rt == 0 && strcmp(out, c->tree) != 0))
            fail_msg("tree %s: got %d [%s], want %d [%s]", c->url, rt, out, c->result, c->tree);
        if (c->result != 0)
            assert_string_equal(out, "");
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Tables                                                                                      */
/* ------------------------------------------------------------------------------------------- */

static void test_layout_parse(void **state)
{
    static const struct {
        const char *name;
        int result;
        store_layout_t layout;
    } cases[] = {
        {"flat", 0, STORE_LAYOUT_FLAT},   {"tree", 0, STORE_LAYOUT_TREE},
        {"FLAT", -EINVAL, STORE_LAYOUT_TREE}, {"", -EINVAL, STORE_LAYOUT_TREE},
        {"tree ", -EINVAL, STORE_LAYOUT_TREE}, {NULL, -EINVAL, STORE_LAYOUT_TREE},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        store_layout_t got = STORE_LAYOUT_TREE;

        assert_int_equal(store_layout_parse(cases[i].name, &got), cases[i].result);
        assert_int_equal(got, cases[i].layout);
    }
}

static void test_basic_names(void **state)
{
    static const struct path_case cases[] = {
        {"http://h/a/b/photo.jpg?x=1", 0, "photo.jpg", "h/a/b/photo-55fee78b.jpg"},
        {"http://h/a/b/photo.jpg", 0, "photo.jpg", "h/a/b/photo.jpg"},
        {"http://h/", 0, "index.html", "h/index.html"},
        {"http://h", 0, "index.html", "h/index.html"},
        {"http://h/a/", 0, "index.html", "h/a/index.html"},
        {"http://h/a/b", 0, "b", "h/a/b"},
        {"http://h/a//b", 0, "b", "h/a/b"},           /* empty segments are dropped */
        {"http://h/a/b#frag", 0, "b", "h/a/b"},       /* fragments never name files */
        {"http://h/.htaccess", 0, ".htaccess", "h/.htaccess"},
        {"http://h/-rf", 0, "-rf", "h/-rf"},           /* never passed to a shell */
        {"http://h/a%20b.txt", 0, "a b.txt", "h/a b.txt"},
        {"http://h/%zz%4", 0, "%zz%4", "h/%zz%4"},     /* bad escapes stay literal */
        {"http://H.Example.COM/X", 0, "X", "h.example.com/X"},
        {"http://u:p@h/x", 0, "x", "h/x"},             /* credentials never reach the path */
        {"ftp://h/x", -EINVAL, "", ""},
        {"file:///etc/passwd", -EINVAL, "", ""},
        {"/relative/x", -EINVAL, "", ""},
        {"http://h/a b", -EINVAL, "", ""},             /* not normalised: curl refuses it */
        {"", -EINVAL, "", ""},
    };

    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_hostile_names(void **state)
{
    static const struct path_case cases[] = {
        {"http://h/../../etc/passwd", 0, "passwd", "h/etc/passwd"}, /* curl removes dot segments */
        {"http://h/%2e%2e/%2e%2e/etc/passwd", 0, "passwd", "h/__/__/etc/passwd"},
        {"http://h/%2E%2e/", 0, "index.html", "h/__/index.html"},
        {"http://h/a/%2e", 0, "_", "h/a/_"},
        {"http://h/a/%2e%2e", 0, "__", "h/a/__"},
        {"http://h/.../", 0, "index.html", "h/___/index.html"},
        {"http://h/....", 0, "____", "h/____"},
        {"http://h/..%2f..%2fetc", 0, ".._.._etc", "h/.._.._etc"},
        {"http://h/a%2fb", 0, "a_b", "h/a_b"},
        {"http://h/a%2Fb", 0, "a_b", "h/a_b"},
        {"http://h/a%5cb", 0, "a_b", "h/a_b"},
        {"http://h/a%5c..%5c..%5cwin.ini", 0, "a_.._.._win.ini", "h/a_.._.._win.ini"},
        {"http://h/%00x", 0, "_x", "h/_x"},
        {"http://h/a%0d%0ab%09%7f", 0, "a__b__", "h/a__b__"},
        {"http://h/%1b[31mred", 0, "_[31mred", "h/_[31mred"},
        {"http://h/%c2%85x", 0, "__x", "h/__x"},       /* C1 control NEL */
        {"http://h/%ff%fe.txt", 0, "__.txt", "h/__.txt"},
        {"http://h/%c0%ae%c0%ae", 0, "____", "h/____"}, /* overlong "..": invalid UTF-8 */
        {"http://h/%ed%a0%80", 0, "___", "h/___"},      /* a surrogate */
        {"http://h/%f4%90%80%80", 0, "____", "h/____"}, /* above U+10FFFF */
        {"http://h/%e6%97", 0, "__", "h/__"},           /* truncated sequence */
        {"http://h/CON.txt", 0, "_CON.txt", "h/_CON.txt"},
        {"http://h/con", 0, "_con", "h/_con"},
        {"http://h/Aux.tar.gz", 0, "_Aux.tar.gz", "h/_Aux.tar.gz"},
        {"http://h/nul%20.txt", 0, "_nul .txt", "h/_nul .txt"},
        {"http://h/COM1", 0, "_COM1", "h/_COM1"},
        {"http://h/lpt9.log", 0, "_lpt9.log", "h/_lpt9.log"},
        {"http://h/COM0", 0, "COM0", "h/COM0"},
        {"http://h/CONSOLE", 0, "CONSOLE", "h/CONSOLE"},
        {"http://h/CON/x", 0, "x", "h/_CON/x"},
        {"http://con/x", 0, "x", "_con/x"},
    };

    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_hosts_ports_queries(void **state)
{
    static const struct path_case cases[] = {
        {"http://h:8080/a/", 0, "index.html", "h_8080/a/index.html"},
        {"http://h:80/a", 0, "a", "h/a"},              /* default ports are dropped */
        {"https://h:443/a", 0, "a", "h/a"},
        {"https://h:80/a", 0, "a", "h_80/a"},
        {"http://h:443/a", 0, "a", "h_443/a"},
        {"http://[::1]/x", 0, "x", "--1/x"},
        {"http://[::1]:8080/x", 0, "x", "--1_8080/x"},
        {"http://[2001:db8::ab]/", 0, "index.html", "2001-db8--ab/index.html"},
        {"http://[fe80::1%25eth0]/x", 0, "x", "fe80--1/x"},
        {"http://127.0.0.1:8080/site/", 0, "index.html", "127.0.0.1_8080/site/index.html"},
        {"http://h/a/list.php?p=2", 0, "list.php", "h/a/list-655538fe.php"},
        {"http://h/a/list.php?p=3", 0, "list.php", "h/a/list-07dd6024.php"},
        {"http://h/a/list.php?", 0, "list.php", "h/a/list.php"}, /* empty query: none */
        {"http://h/a/?q=1", 0, "index.html", "h/a/index-8171e694.html"},
        {"http://h/README?x", 0, "README", "h/README-ab4f7ec8"},
        {"http://h/a.tar.gz?x", 0, "a.tar.gz", "h/a.tar-ab4f7ec8.gz"},
        {"http://h/.profile?x", 0, ".profile", "h/.profile-ab4f7ec8"},
    };
    char q[10];

    (void)state;
    /* The hex8 in the table is the hash of the query string alone, without the '?'. */
    suffix_of("p=2", q);
    assert_string_equal(q, "-655538fe");
    suffix_of("x", q);
    assert_string_equal(q, "-ab4f7ec8");
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_unicode_names(void **state)
{
    static const struct path_case cases[] = {
        {"http://h/caf%C3%A9/%E6%97%A5%E6%9C%AC.txt", 0, "日本.txt", "h/café/日本.txt"},
        {"http://h/%F0%9F%98%80.png", 0, "😀.png", "h/😀.png"},
        {"http://h/\xc3\xa9t\xc3\xa9", 0, "été", "h/été"},     /* raw UTF-8 in the URL */
        {"http://h/a\xff" "b", 0, "a_b", "h/a_b"},              /* raw invalid byte */
        {"http://h/%E2%80%AEtxt.exe", 0, "\xe2\x80\xaetxt.exe", "h/\xe2\x80\xaetxt.exe"},
    };

    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* ------------------------------------------------------------------------------------------- */
/* Length limits                                                                               */
/* ------------------------------------------------------------------------------------------- */

static char *repeat(const char *unit, size_t times, const char *head, const char *tail)
{
    size_t ul = strlen(unit);
    char *s = malloc(strlen(head) + ul * times + strlen(tail) + 1);
    size_t n = strlen(head);

    assert_non_null(s);
    memcpy(s, head, n);
    for (size_t i = 0; i < times; i++, n += ul)
        memcpy(s + n, unit, ul);
    strcpy(s + n, tail);
    return s;
}

static void test_long_segment(void **state)
{
    char out[STORE_PATH_SIZE];
    char sfx[32];
    char *url = repeat("a", 300, "http://h/d/", ".jpg");
    char *want = repeat("a", STORE_NAME_MAX - 9 - 4, "", "");
    char *url2 = repeat("a", 300, "http://h/d/", "b.jpg");
    char out2[STORE_PATH_SIZE];

    (void)state;
    /* 300 bytes of stem: cut, then "-<hex8 of the URL>.jpg", STORE_NAME_MAX bytes in all. */
    suffix_of(url, sfx);
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), STORE_NAME_MAX);
    assert_memory_equal(out, want, STORE_NAME_MAX - 13);
    assert_string_equal(out + STORE_NAME_MAX - 13, strcat(sfx, ".jpg"));
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_TREE, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), 4 + STORE_NAME_MAX);
    assert_memory_equal(out, "h/d/", 4);
    assert_string_equal(out + 4 + STORE_NAME_MAX - 13, sfx);

    /* Two long names that share their first STORE_NAME_MAX bytes stay distinct. */
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_int_equal(store_path_from_url(url2, STORE_LAYOUT_FLAT, out2, sizeof(out2)), 0);
    assert_string_not_equal(out, out2);
    free(url);
    free(url2);
    free(want);

    /* The cut backs up to a UTF-8 boundary: the stem may hold STORE_NAME_MAX - 13 = 237 bytes;
     * "xy" + 150 x "é" puts the first byte of an "é" at index 236, so 236 bytes are kept. */
    url = repeat("%C3%A9", 150, "http://h/xy", ".txt");
    want = repeat("é", 117, "xy", "");
    suffix_of(url, sfx);
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), 236 + 9 + 4);
    assert_memory_equal(out, want, 236);
    assert_string_equal(out + 236, strcat(sfx, ".txt"));
    free(url);
    free(want);

    /* A long extension is not kept as an extension: the suffix goes at the end. */
    url = repeat("e", 300, "http://h/a.", "");
    suffix_of(url, sfx);
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), STORE_NAME_MAX);
    assert_string_equal(out + STORE_NAME_MAX - 9, sfx);
    free(url);

    /* A query suffix that would pass STORE_NAME_MAX bytes is replaced by the URL's. */
    url = repeat("q", 250, "http://h/", ".php?p=1");
    suffix_of(url, sfx);
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_TREE, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), 2 + STORE_NAME_MAX);
    assert_string_equal(out + 2 + STORE_NAME_MAX - 13, strcat(sfx, ".php"));
    free(url);

    /* A long host is cut like any segment. */
    url = repeat("x", 300, "http://", "/a");
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_TREE, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), STORE_NAME_MAX + 2);
    free(url);
}

static void test_long_path(void **state)
{
    char out[STORE_PATH_SIZE];
    char small[8];
    char *url;
    char *dirs;
    char *seg;

    (void)state;
    /* A 5000-byte path: too long for the tree, its last segment is fine for the flat layout. */
    seg = repeat("d", 99, "", "/");
    dirs = repeat(seg, 50, "http://h/", "f.txt");
    assert_int_equal(strlen(dirs) - strlen("http://h"), 1 + 5000 + 5);
    assert_int_equal(store_path_from_url(dirs, STORE_LAYOUT_TREE, out, sizeof(out)),
                     -ENAMETOOLONG);
    assert_string_equal(out, "");
    assert_int_equal(store_path_from_url(dirs, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_string_equal(out, "f.txt");
    free(dirs);
    free(seg);

    /* The boundary: "h" + 4 x "/<250 bytes>" + "/<18 bytes>" is 1024 bytes; one more is not. */
    seg = repeat("d", 250, "/", "");
    dirs = repeat(seg, 4, "http://h", "/");
    url = repeat("x", 18, dirs, "");
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_TREE, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), STORE_PATH_MAX);
    free(url);
    url = repeat("x", 19, dirs, "");
    assert_int_equal(store_path_from_url(url, STORE_LAYOUT_TREE, out, sizeof(out)),
                     -ENAMETOOLONG);
    free(url);
    free(dirs);
    free(seg);

    /* A buffer too small for the path is -ERANGE, and gets "". */
    assert_int_equal(store_path_from_url("http://h/abcdefgh", STORE_LAYOUT_FLAT, small,
                                         sizeof(small)),
                     -ERANGE);
    assert_string_equal(small, "");
    assert_int_equal(store_path_from_url("http://h/abcdefg", STORE_LAYOUT_FLAT, small,
                                         sizeof(small)),
                     0);
    assert_string_equal(small, "abcdefg");
}

/* ------------------------------------------------------------------------------------------- */
/* The safety property                                                                         */
/* ------------------------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: deterministic, so a failure reproduces */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static int is_reserved_base(const char *seg, size_t n)
{
    static const char *const names[] = {"CON", "PRN", "AUX", "NUL"};
    const char *dot = memchr(seg, '.', n);
    size_t base = dot ? (size_t)(dot - seg) : n;

    while (base > 0 && seg[base - 1] == ' ')
        base--;
    for (size_t i = 0; i < 4; i++) {
        if (base == 3 && strncasecmp(seg, names[i], 3) == 0)
            return 1;
    }
    return base == 4 && seg[3] >= '1' && seg[3] <= '9' &&
           (strncasecmp(seg, "COM", 3) == 0 || strncasecmp(seg, "LPT", 3) == 0);
}

/* Asserts every promise store_path_from_url makes about a path it returned. */
static void check_safe(const char *url, const char *path)
{
    const unsigned char *p = (const unsigned char *)path;
    size_t len = strlen(path);

    if (len == 0 || len > STORE_PATH_MAX || path[0] == '/')
        fail_msg("%s -> [%s]: empty, too long or absolute", url, path);
    for (size_t start = 0; start <= len;) {
        const char *slash = strchr(path + start, '/');
        size_t end = slash ? (size_t)(slash - path) : len;
        size_t n = end - start;
        const char *seg = path + start;

        if (n == 0 || n > STORE_NAME_MAX || (n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.') || is_reserved_base(seg, n))
            fail_msg("%s -> [%s]: bad segment at %zu", url, path, start);
        start = end + 1;
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
            fail_msg("%s -> [%s]: byte 0x%02x at %zu", url, path, p[i], i);
        if (p[i] >= 0x80) {
            /* valid UTF-8 and no C1 control */
            size_t k = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;

            if (p[i] < 0xc2 || p[i] > 0xf4 || i + k > len || (p[i] == 0xc2 && p[i + 1] < 0xa0))
                fail_msg("%s -> [%s]: bad UTF-8 at %zu", url, path, i);
            for (size_t j = 1; j < k; j++) {
                if ((p[i + j] & 0xc0) != 0x80)
                    fail_msg("%s -> [%s]: bad UTF-8 at %zu", url, path, i);
            }
            i += k - 1;
        }
    }
}

static void test_never_escapes(void **state)
{
    static const char *const pieces[] = {
        "..", ".", "%2e", "%2E", "%2e%2e", "...", "/", "//", "%2f", "%2F", "%5c", "\\", "%00",
        "%01", "%0a", "%0d", "%1f", "%7f", "%c2%80", "%c2%9f", "%c0%af", "%c0%ae", "%e0%80%af",
        "%ed%a0%80", "%f4%90%80%80", "%ff", "%fe%ff", "%e6%97", "%f0%9f%98%80", "%e2%80%ae",
        "CON", "con.", "aux.txt", "NUL ", "com1", "LPT9.x", "%43ON", "a", "b.c", "-", "~", "%",
        "%%", "%2", "%zz", "?q=..", "?", "#..", "index.html", ";", "%3b", ":", "%3a", "@", "\xff",
        "\xc3\xa9", "\xe6\x97\xa5", " ", "%20", "+", "*", "|", "<", ">", "\"",
    };
    static const char *const hosts[] = {
        "http://h", "https://h:8443", "http://[::1]", "http://[::ffff:1.2.3.4]:81", "http://CON",
        "http://127.0.0.1", "http://xn--nxasmq6b.example", "http://a-b.c_d.example",
    };
    const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
    const size_t nhosts = sizeof(hosts) / sizeof(hosts[0]);
    char url[8192];
    char out[STORE_PATH_SIZE];
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t ok = 0;
    size_t total = 0;

    (void)state;
    for (int round = 0; round < 30000; round++) {
        size_t n = (size_t)snprintf(url, sizeof(url), "%s/", hosts[rng_next(&seed) % nhosts]);
        size_t parts = 1 + rng_next(&seed) % 24;

        if (round % 2 == 0) {
            /* hostile pieces glued at random */
            for (size_t i = 0; i < parts; i++) {
                const char *piece = pieces[rng_next(&seed) % npieces];

                if (n + strlen(piece) + 1 >= sizeof(url))
                    break;
                n += (size_t)snprintf(url + n, sizeof(url) - n, "%s", piece);
            }
            if (rng_next(&seed) % 8 == 0) {
                /* a very long run, to reach the length limits */
                static const char *const runs[] = {"a", "b", ".", "%", "/", "\xc3\xa9",
                                                   "%e6%97%a5", "%2e", "\xe6\x97"};
                size_t run = rng_next(&seed) % 1500;
                int slashes = rng_next(&seed) % 2; /* half of the runs have no '/' */

                for (size_t i = 0; i < run; i++) {
                    const char *r = runs[rng_next(&seed) % (sizeof(runs) / sizeof(runs[0]))];

                    if (r[0] == '/' && !slashes)
                        r = "a";

                    if (n + strlen(r) + 1 >= sizeof(url))
                        break;
                    n += (size_t)snprintf(url + n, sizeof(url) - n, "%s", r);
                }
            }
        } else {
            /* random bytes, each percent-encoded, some '/' raw */
            size_t bytes = rng_next(&seed) % 600;
            uint64_t slash = 2 + rng_next(&seed) % 400; /* average segment length */

            for (size_t i = 0; i < bytes && n + 4 < sizeof(url); i++) {
                uint64_t r = rng_next(&seed);

                if (r % slash == 0)
                    url[n++] = '/';
                else
                    n += (size_t)snprintf(url + n, sizeof(url) - n, "%%%02X",
                                          (unsigned)((r >> 8) & 0xff));
            }
            url[n] = '\0';
        }
        for (int layout = STORE_LAYOUT_FLAT; layout <= STORE_LAYOUT_TREE; layout++) {
            int result = store_path_from_url(url, (store_layout_t)layout, out, sizeof(out));

            total++;
            if (result == 0) {
                ok++;
                check_safe(url, out);
            } else if (result != -ENAMETOOLONG && result != -EINVAL) {
                fail_msg("%s: unexpected %d", url, result);
            } else {
                assert_string_equal(out, "");
            }
        }
        {
            /* -nH, --cut-dirs and -E keep every promise too */
            store_naming_t nm = {.layout = STORE_LAYOUT_TREE, .no_host = (int)(round % 3 == 0),
                                 .cut_dirs = round % 4, .ext = round % 5 ? ".html" : ".css"};
            int result = store_path_from_url_as(url, &nm, out, sizeof(out));

            if (result == 0)
                check_safe(url, out);
            else if (result != -ENAMETOOLONG && result != -EINVAL)
                fail_msg("%s: unexpected %d", url, result);
        }
    }
    /* Most inputs must really be mapped, or the property says little. */
    if (ok * 10 < total * 8)
        fail_msg("only %zu of %zu URLs mapped", ok, total);
}

/* ------------------------------------------------------------------------------------------- */
/* Unique names within a job                                                                   */
/* ------------------------------------------------------------------------------------------- */

struct unique_case {
    const char *url;
    store_layout_t layout;
    const char *want; /* "%s" stands for the url's "-<hex8>" suffix */
};

static void want_name(const struct unique_case *c, char *buf, size_t size)
{
    char sfx[32];

    suffix_of(c->url, sfx);
    snprintf(buf, size, c->want, sfx);
}

static void test_unique_table(void **state)
{
    static const struct unique_case cases[] = {
        {"http://a/x/pic.jpg", STORE_LAYOUT_FLAT, "pic.jpg"},
        {"http://b/y/pic.jpg", STORE_LAYOUT_FLAT, "pic%s.jpg"},
        {"http://a/x/pic.jpg", STORE_LAYOUT_FLAT, "pic.jpg"}, /* asked again: same answers */
        {"http://b/y/pic.jpg", STORE_LAYOUT_FLAT, "pic%s.jpg"},
        {"http://c/pic.jpg?v=2", STORE_LAYOUT_FLAT, "pic%s.jpg"},
        {"http://a/x/", STORE_LAYOUT_FLAT, "index.html"},
        {"http://a/y/", STORE_LAYOUT_FLAT, "index%s.html"},
        {"http://a/README", STORE_LAYOUT_FLAT, "README"},
        {"http://b/README", STORE_LAYOUT_FLAT, "README%s"},
        {"http://H/a", STORE_LAYOUT_TREE, "h/a"},
        {"http://h/a", STORE_LAYOUT_TREE, "h/a%s"}, /* hosts differ only in case */
        {"http://H/a", STORE_LAYOUT_TREE, "h/a"},
        {"http://b/y/pic.jpg", STORE_LAYOUT_FLAT, "pic%s.jpg"},
    };
    store_names_t *names = store_names_new();
    char out[STORE_PATH_SIZE];
    char want[STORE_PATH_SIZE];

    (void)state;
    assert_non_null(names);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        want_name(&cases[i], want, sizeof(want));
        assert_int_equal(store_path_unique(names, cases[i].url, cases[i].layout, out,
                                           sizeof(out)),
                         0);
        if (strcmp(out, want) != 0)
            fail_msg("case %zu %s: got [%s], want [%s]", i, cases[i].url, out, want);
    }
    assert_int_equal(store_path_unique(names, "ftp://x/y", STORE_LAYOUT_FLAT, out, sizeof(out)),
                     -EINVAL);
    store_names_free(names);
    store_names_free(NULL);
}

static void test_unique_counter(void **state)
{
    const char *u1 = "http://a/pic.jpg";
    const char *u3 = "http://c/pic.jpg";
    char sfx3[10];
    char squatter[64];
    char want[64];
    char out[STORE_PATH_SIZE];
    unsigned char mix[16];
    uint64_t h3 = store_hash64(u3, strlen(u3));
    store_names_t *names = store_names_new();

    (void)state;
    assert_non_null(names);
    /* A URL whose own name is u3's first fallback takes it first... */
    suffix_of(u3, sfx3);
    snprintf(squatter, sizeof(squatter), "http://z/pic%s.jpg", sfx3);
    assert_int_equal(store_path_unique(names, squatter, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    snprintf(want, sizeof(want), "pic%s.jpg", sfx3);
    assert_string_equal(out, want);
    assert_int_equal(store_path_unique(names, u1, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_string_equal(out, "pic.jpg");

    /* ...so u3 gets the hash of (its URL hash, 2), both as little-endian 64-bit words. */
    for (int b = 0; b < 8; b++) {
        mix[b] = (unsigned char)(h3 >> (8 * b));
        mix[8 + b] = (unsigned char)(b == 0 ? 2 : 0);
    }
    snprintf(want, sizeof(want), "pic-%08llx.jpg",
             (unsigned long long)(store_hash64(mix, sizeof(mix)) >> 32));
    for (int again = 0; again < 2; again++) {
        assert_int_equal(store_path_unique(names, u3, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
        assert_string_equal(out, want);
    }
    store_names_free(names);
}

/* Names read back from an earlier run: the URL that had one gets it again, the URL that comes
 * first in this run does not take it, and claiming twice changes nothing. */
static void test_unique_claimed(void **state)
{
    const char *first = "http://a/pic.jpg";     /* pic.jpg in the earlier run */
    const char *second = "http://b/pic.jpg";    /* pic-<hash>.jpg in the earlier run */
    char sfx[10];
    char want[64];
    char out[STORE_PATH_SIZE];
    store_names_t *names = store_names_new();

    (void)state;
    assert_non_null(names);
    assert_int_equal(store_names_claim(names, first, "pic.jpg"), 0);
    assert_int_equal(store_names_claim(names, first, "pic.jpg"), 0);
    assert_int_equal(store_path_unique(names, second, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    suffix_of(second, sfx);
    snprintf(want, sizeof(want), "pic%s.jpg", sfx);
    assert_string_equal(out, want);
    assert_int_equal(store_path_unique(names, first, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_string_equal(out, "pic.jpg");
    store_names_free(names);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_unique_many(void **state)
{
    enum { N = 20000 };
    char **given = calloc(N, sizeof(*given));
    store_names_t *names = store_names_new();
    char url[64];
    char out[STORE_PATH_SIZE];
    char small[4];

    (void)state;
    assert_non_null(given);
    assert_non_null(names);
    for (int i = 0; i < N; i++) {
        snprintf(url, sizeof(url), "http://h%d/same/photo.jpg", i);
        assert_int_equal(store_path_unique(names, url, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
        given[i] = strdup(out);
        assert_non_null(given[i]);
    }
    for (int i = 0; i < N; i++) {
        snprintf(url, sizeof(url), "http://h%d/same/photo.jpg", i);
        assert_int_equal(store_path_unique(names, url, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
        assert_string_equal(out, given[i]);
    }
    /* A buffer too small changes nothing: the name is given once it fits. */
    assert_int_equal(store_path_unique(names, "http://new/photo.jpg", STORE_LAYOUT_FLAT, small,
                                       sizeof(small)),
                     -ERANGE);
    assert_string_equal(small, "");
    assert_string_equal(given[0], "photo.jpg");
    qsort(given, N, sizeof(*given), cmp_str);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(given[i - 1], given[i]);
    for (int i = 0; i < N; i++)
        free(given[i]);
    free(given);
    store_names_free(names);
}

/* ------------------------------------------------------------------------------------------- */
/* Content-Disposition and the state files                                                     */
/* ------------------------------------------------------------------------------------------- */

static void test_state_files_are_never_named(void **state)
{
    static const struct path_case cases[] = {
        {"http://h/.gather.db", 0, "_.gather.db", "h/_.gather.db"},
        {"http://h/.gather.db-wal", 0, "_.gather.db-wal", "h/_.gather.db-wal"},
        {"http://h/%2egather.db-shm", 0, "_.gather.db-shm", "h/_.gather.db-shm"},
        {"http://h/.gather.dbx/y", 0, "y", "h/_.gather.dbx/y"},
        {"http://h/.gather", 0, ".gather", "h/.gather"},
        {"http://h/x.gather.db", 0, "x.gather.db", "h/x.gather.db"},
    };

    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_disposition_names(void **state)
{
    static const struct {
        const char *value;
        int result;
        const char *flat;
    } cases[] = {
        {"attachment; filename=\"photo.jpg\"", 0, "photo.jpg"},
        {"attachment; filename=photo.jpg", 0, "photo.jpg"},
        {"ATTACHMENT; FileName = \"photo.jpg\" ; size=3", 0, "photo.jpg"},
        {"inline; filename=\"a b.txt\"", 0, "a b.txt"},
        {"attachment; filename=unquoted name.txt", 0, "unquoted name.txt"},
        {"attachment; filename=\"a%20b.txt\"", 0, "a%20b.txt"},      /* a plain name: no decoding */
        {"attachment; filename*=UTF-8''a%20b.txt", 0, "a b.txt"},
        {"attachment; filename*=utf-8'en'%E2%82%AC.txt", 0, "\xe2\x82\xac.txt"},
        {"attachment; filename*=ISO-8859-1''caf%E9.txt", 0, "caf\xc3\xa9.txt"},
        {"attachment; filename=\"fallback.txt\"; filename*=UTF-8''real.txt", 0, "real.txt"},
        {"attachment; filename*=UTF-8''real.txt; filename=\"fallback.txt\"", 0, "real.txt"},
        {"attachment; filename*=KOI8-R''x.txt; filename=\"fallback.txt\"", 0, "fallback.txt"},
        {"attachment; filename=\"q\\\"uote.txt\"", 0, "q\"uote.txt"},
        {"attachment; filename=\"q\\\\x.txt\"", 0, "x.txt"},   /* an escaped '\\' is a folder */
        {"attachment; filename=\"../../etc/passwd\"", 0, "passwd"},
        {"attachment; filename=\"/etc/passwd\"", 0, "passwd"},
        {"attachment; filename=\"C:\\\\Windows\\\\win.ini\"", 0, "win.ini"},
        {"attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", 0, "passwd"},
        {"attachment; filename*=UTF-8''..%5c..%5cboot.ini", 0, "boot.ini"},
        {"attachment; filename=\"..\"", 0, "__"},
        {"attachment; filename=\".\"", 0, "_"},
        {"attachment; filename=\"a\x01" "b\x1b" "c\x7f.txt\"", 0, "a_b_c_.txt"},
        {"attachment; filename*=UTF-8''x%00y%0a.txt", 0, "x_y_.txt"},
        {"attachment; filename*=UTF-8''%C2%85x", 0, "__x"},            /* C1 control */
        {"attachment; filename*=UTF-8''%FF%FE.txt", 0, "__.txt"},      /* not UTF-8 */
        {"attachment; filename=\"\xff.txt\"", 0, "_.txt"},
        {"attachment; filename=\"CON.txt\"", 0, "_CON.txt"},
        {"attachment; filename=\".gather.db\"", 0, "_.gather.db"},
        {"attachment; filename=\"  spaced.txt  \"", 0, "spaced.txt"},
        {"attachment; filename=\"dir/\"", -ENOENT, ""},
        {"attachment; filename=\"   \"", -ENOENT, ""},
        {"attachment; filename=\"\"", -ENOENT, ""},
        {"attachment", -ENOENT, ""},
        {"inline", -ENOENT, ""},
        {"", -ENOENT, ""},
        {"attachment; filename", -ENOENT, ""},
        {"attachment; filename*=UTF-8", -ENOENT, ""},
        {"attachment; filename=\"unterminated.txt", 0, "unterminated.txt"},
    };
    char out[STORE_PATH_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = store_path_from_disposition(cases[i].value, "http://h/d/file?q=1",
                                            STORE_LAYOUT_FLAT, out, sizeof(out));

        if (r != cases[i].result || strcmp(out, cases[i].flat) != 0)
            fail_msg("case %zu [%s]: got %d [%s], want %d [%s]", i, cases[i].value, r, out,
                     cases[i].result, cases[i].flat);
    }
    /* the tree layout puts it where the URL's file would be */
    assert_int_equal(store_path_from_disposition("attachment; filename=\"../x.zip\"",
                                                 "http://H:81/a/b/c?q", STORE_LAYOUT_TREE, out,
                                                 sizeof(out)), 0);
    assert_string_equal(out, "h_81/a/b/x.zip");
    assert_int_equal(store_path_from_disposition("attachment; filename=x", "ftp://h/", STORE_LAYOUT_FLAT,
                                                 out, sizeof(out)), -EINVAL);
    assert_int_equal(store_path_from_disposition("attachment; filename=x", "http://h/",
                                                 STORE_LAYOUT_FLAT, out, 1), -ERANGE);
}

static void test_disposition_long_name(void **state)
{
    const char *url = "http://h/dl?id=7";
    char value[2100], want_suffix[10], out[STORE_PATH_SIZE];
    size_t n;

    (void)state;
    n = (size_t)snprintf(value, sizeof(value), "attachment; filename=\"");
    memset(value + n, 'x', 300);
    snprintf(value + n + 300, sizeof(value) - n - 300, ".tar.gz\"");
    assert_int_equal(store_path_from_disposition(value, url, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), STORE_NAME_MAX);
    suffix_of(url, want_suffix);
    assert_non_null(strstr(out, want_suffix));
    assert_string_equal(out + strlen(out) - 3, ".gz");
    /* percent-encoded, each byte three: still the same cut */
    n = (size_t)snprintf(value, sizeof(value), "attachment; filename*=UTF-8''");
    for (int i = 0; i < 200; i++)                      /* 1800 bytes: 200 x 3 decoded */
        n += (size_t)snprintf(value + n, sizeof(value) - n, "%%E2%%82%%AC");
    assert_int_equal(store_path_from_disposition(value, url, STORE_LAYOUT_FLAT, out, sizeof(out)), 0);
    assert_true(strlen(out) <= STORE_NAME_MAX);
    assert_non_null(strstr(out, want_suffix));
}

static void test_unique_path_and_is_safe(void **state)
{
    store_names_t *names = store_names_new();
    char out[STORE_PATH_SIZE], want[64], sfx[10];

    (void)state;
    assert_non_null(names);
    /* a server's name that a URL has already taken gets the second URL's suffix */
    assert_int_equal(store_path_unique(names, "http://a/report.pdf", STORE_LAYOUT_FLAT, out,
                                       sizeof(out)), 0);
    assert_int_equal(store_path_unique_path(names, "http://b/dl?id=1", "report.pdf", out,
                                            sizeof(out)), 0);
    suffix_of("http://b/dl?id=1", sfx);
    snprintf(want, sizeof(want), "report%s.pdf", sfx);
    assert_string_equal(out, want);
    /* the same URL asked again gets the same name */
    assert_int_equal(store_path_unique_path(names, "http://b/dl?id=1", "report.pdf", out,
                                            sizeof(out)), 0);
    assert_string_equal(out, want);
    assert_int_equal(store_path_unique_path(names, "http://a/report.pdf", "report.pdf", out,
                                            sizeof(out)), 0);
    assert_string_equal(out, "report.pdf");
    assert_int_equal(store_path_unique_path(names, "http://c/", "", out, sizeof(out)), -EINVAL);
    store_names_free(names);

    assert_true(store_path_is_safe("a"));
    assert_true(store_path_is_safe("h_81/a/b/x.zip"));
    assert_true(store_path_is_safe("_.gather.db"));
    assert_true(store_path_is_safe("..."));
    assert_false(store_path_is_safe(""));
    assert_false(store_path_is_safe(NULL));
    assert_false(store_path_is_safe("/etc/passwd"));
    assert_false(store_path_is_safe("../x"));
    assert_false(store_path_is_safe("a/../../x"));
    assert_false(store_path_is_safe("a/./x"));
    assert_false(store_path_is_safe("a//x"));
    assert_false(store_path_is_safe("a/"));
    assert_false(store_path_is_safe("a\\..\\x"));
    assert_false(store_path_is_safe("a\nb"));
    assert_false(store_path_is_safe(".gather.db"));
    assert_false(store_path_is_safe("x/.gather.db-wal"));
}

/* ------------------------------------------------------------------------------------------- */
/* wget's naming options: -nH, --cut-dirs, -E                                                  */
/* ------------------------------------------------------------------------------------------- */

static void check_naming(const store_naming_t *nm, const char *url, const char *want)
{
    char out[STORE_PATH_SIZE];
    int result = store_path_from_url_as(url, nm, out, sizeof(out));

    if (result != 0 || strcmp(out, want) != 0)
        fail_msg("%s: got %d [%s], want [%s]", url, result, out, want);
    check_safe(url, out);
}

static void test_naming_host_and_cut(void **state)
{
    store_naming_t nh = {.layout = STORE_LAYOUT_TREE, .no_host = 1};
    store_naming_t cut1 = {.layout = STORE_LAYOUT_TREE, .cut_dirs = 1};
    store_naming_t both = {.layout = STORE_LAYOUT_TREE, .no_host = 1, .cut_dirs = 2};
    store_naming_t flat = {.layout = STORE_LAYOUT_FLAT, .no_host = 1, .cut_dirs = 5};
    char q[10], want[64];

    (void)state;
    check_naming(&nh, "http://h:8080/a/b/c.txt", "a/b/c.txt");
    check_naming(&nh, "http://h/", "index.html");
    check_naming(&nh, "http://h/a/", "a/index.html");
    check_naming(&cut1, "http://h/a/b/c.txt", "h/b/c.txt");
    check_naming(&cut1, "http://h//a//b/c.txt", "h/b/c.txt");        /* empty folders count not */
    check_naming(&cut1, "http://h/c.txt", "h/c.txt");                /* no folder to cut */
    check_naming(&both, "http://h/a/b/c/d.txt", "c/d.txt");
    check_naming(&both, "http://h/a/b/c/", "c/index.html");
    check_naming(&both, "http://h/a/", "index.html");                /* more cut than folders */
    check_naming(&both, "http://h/%2e%2e/../x/..%2f/y", "y");
    check_naming(&flat, "http://h/a/b/c.txt?q=1", "c.txt");          /* flat has no folders */
    /* a state file can no more be named with the host folder gone */
    check_naming(&nh, "http://h/.gather.db", "_.gather.db");
    suffix_of("x=1", q);
    snprintf(want, sizeof(want), "b/index%s.php", q);
    check_naming(&nh, "http://h/b/index.php?x=1", want);
}

static void test_naming_adjust_extension(void **state)
{
    store_naming_t html = {.layout = STORE_LAYOUT_TREE, .ext = ".html"};
    store_naming_t css = {.layout = STORE_LAYOUT_TREE, .ext = ".css"};
    store_naming_t flat = {.layout = STORE_LAYOUT_FLAT, .ext = ".html"};
    char q[10], want[STORE_PATH_SIZE], out[STORE_PATH_SIZE];
    char url[1200];

    (void)state;
    assert_string_equal(store_naming_ext("text/html; charset=utf-8"), ".html");
    assert_string_equal(store_naming_ext("TEXT/HTML"), ".html");
    assert_string_equal(store_naming_ext("application/xhtml+xml"), ".html");
    assert_string_equal(store_naming_ext("text/css"), ".css");
    assert_null(store_naming_ext("image/png"));
    assert_null(store_naming_ext(NULL));

    check_naming(&html, "http://h/a/page.html", "h/a/page.html");
    check_naming(&html, "http://h/a/page.HTM", "h/a/page.HTM");
    check_naming(&html, "http://h/a/", "h/a/index.html");
    check_naming(&html, "http://h/a/page", "h/a/page.html");
    check_naming(&html, "http://h/a/page.php", "h/a/page.php.html");
    suffix_of("x=1", q);
    snprintf(want, sizeof(want), "h/index%s.php.html", q);
    check_naming(&html, "http://h/index.php?x=1", want);
    snprintf(want, sizeof(want), "h/index%s.html", q);
    check_naming(&html, "http://h/?x=1", want);
    check_naming(&css, "http://h/s.css", "h/s.css");
    check_naming(&css, "http://h/style.php", "h/style.php.css");
    check_naming(&css, "http://h/", "h/index.html.css");
    check_naming(&flat, "http://h/a/b?x=1", "b.html");

    /* a name the extension pushes past STORE_NAME_MAX: cut, the URL's suffix, the extension kept */
    memcpy(url, "http://h/", 9);
    memset(url + 9, 'a', STORE_NAME_MAX - 2);
    url[9 + STORE_NAME_MAX - 2] = '\0';
    assert_int_equal(store_path_from_url_as(url, &html, out, sizeof(out)), 0);
    check_safe(url, out);
    assert_int_equal(strlen(out), 2 + STORE_NAME_MAX);
    assert_string_equal(out + strlen(out) - 5, ".html");
    suffix_of(url, q);
    assert_non_null(strstr(out, q));
}

/* -E names stay unique: "page.php" served as HTML and a real "page.php.html" never share a file. */
static void test_naming_unique_with_extension(void **state)
{
    store_naming_t html = {.layout = STORE_LAYOUT_TREE, .ext = ".html"};
    store_naming_t plain = {.layout = STORE_LAYOUT_TREE};
    store_names_t *names = store_names_new();
    char a[STORE_PATH_SIZE], b[STORE_PATH_SIZE], again[STORE_PATH_SIZE];

    (void)state;
    assert_non_null(names);
    assert_int_equal(store_path_unique_as(names, "http://h/page.php", &html, a, sizeof(a)), 0);
    assert_string_equal(a, "h/page.php.html");
    assert_int_equal(store_path_unique_as(names, "http://h/page.php.html", &plain, b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    check_safe("http://h/page.php.html", b);
    assert_string_equal(b + strlen(b) - 5, ".html");
    assert_int_equal(store_path_unique_as(names, "http://h/page.php", &html, again, sizeof(again)), 0);
    assert_string_equal(again, a);
    store_names_free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_parse),
        cmocka_unit_test(test_basic_names),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_hosts_ports_queries),
        cmocka_unit_test(test_unicode_names),
        cmocka_unit_test(test_long_segment),
        cmocka_unit_test(test_long_path),
        cmocka_unit_test(test_never_escapes),
        cmocka_unit_test(test_unique_table),
        cmocka_unit_test(test_unique_counter),
        cmocka_unit_test(test_unique_many),
        cmocka_unit_test(test_unique_claimed),
        cmocka_unit_test(test_state_files_are_never_named),
        cmocka_unit_test(test_disposition_names),
        cmocka_unit_test(test_disposition_long_name),
        cmocka_unit_test(test_unique_path_and_is_safe),
        cmocka_unit_test(test_naming_host_and_cut),
        cmocka_unit_test(test_naming_adjust_extension),
        cmocka_unit_test(test_naming_unique_with_extension),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
