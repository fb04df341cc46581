/* test_filter.c - crawler/crawl/filter.c: --include/--exclude, --accept/--reject, --accept-type. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/crawl/filter.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- stderr capture: the setters must name the option and the value they refuse ------------- */

struct capture {
    FILE *file;
    int saved;
    char text[1024];
};

static void capture_start(struct capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    assert_non_null(c->file);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Restores stderr; the text written meanwhile is in c->text. */
static const char *capture_end(struct capture *c)
{
    size_t n;

    fflush(stderr);
    assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
    close(c->saved);
    rewind(c->file);
    n = fread(c->text, 1, sizeof(c->text) - 1, c->file);
    c->text[n] = '\0';
    fclose(c->file);
    return c->text;
}

/* ---- extensions --------------------------------------------------------------------------- */

static void test_extension(void **state)
{
    static const struct {
        const char *url, *ext;
    } cases[] = {
        { "http://h/a/photo.jpg", "jpg" },
        { "http://h/a/photo.JPG", "jpg" },                   /* lowercased */
        { "http://h/a/Photo.JpEg", "jpeg" },
        { "http://h/archive.tar.gz", "gz" },                 /* the last dot */
        { "http://h/img.png?size=1.gif", "png" },            /* the query is not the path */
        { "http://h/img.png#frag.gif", "png" },
        { "http://h/dir.d/file", "" },                       /* a dot in a folder is not it */
        { "http://h/dir.d/", "" },
        { "http://h/", "" },
        { "http://h/file.", "" },                            /* a dot with nothing after it */
        { "http://h/.htaccess", "htaccess" },
        { "http://h/search?q=x.pdf", "" },
        { "http://h/a/b.html?x=1#y", "html" },
        { "http://h/a/b.%6Apg", "%6apg" },                   /* raw, not decoded */
    };
    char buf[32];

    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        memset(buf, 'X', sizeof(buf));
        const char *got = crawl_filter_extension(cases[i].url, buf, sizeof(buf));
        assert_ptr_equal(got, buf);
        if (strcmp(got, cases[i].ext) != 0)
            fail_msg("extension of %s: got \"%s\", want \"%s\"", cases[i].url, got, cases[i].ext);
    }
}

static void test_extension_longer_than_the_buffer(void **state)
{
    char buf[8];

    (void)state;
    assert_string_equal(crawl_filter_extension("http://h/a.abcdefg", buf, sizeof(buf)), "abcdefg");
    memset(buf, 'X', sizeof(buf));
    /* Too long to be a real extension: none rather than a cut one that could match a list. */
    assert_string_equal(crawl_filter_extension("http://h/a.abcdefgh", buf, sizeof(buf)), "");
    assert_string_equal(crawl_filter_extension("http://h/a.jpgjpgjpgjpg", buf, sizeof(buf)), "");
}

/* ---- --include / --exclude ------------------------------------------------------------------- */

struct url_case {
    const char *url;
    int pass;
};

static void check_urls(const crawl_filter_t *f, const char *what, const struct url_case *cases,
                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int got = crawl_filter_url(f, cases[i].url);
        if (got != cases[i].pass)
            fail_msg("%s: %s %s, want %s", what, cases[i].url, got ? "passes" : "is refused",
                     cases[i].pass ? "passed" : "refused");
    }
}

static void test_no_regex_passes_everything(void **state)
{
    static const struct url_case cases[] = {
        { "http://h/", 1 },
        { "http://h/private/x", 1 },
        { "", 1 },
    };
    crawl_filter_t f;

    (void)state;
    crawl_filter_init(&f);
    check_urls(&f, "no filter", cases, N(cases));
    crawl_filter_free(&f);
}

static void test_include_exclude(void **state)
{
    static const struct url_case include_only[] = {
        { "http://h/blog/2024/post.html", 1 },
        { "http://h/blog/", 1 },
        { "http://h/about.html", 0 },
        { "http://h/BLOG/x", 0 },                           /* case matters in a regex */
        { "http://h/x?from=/blog/", 1 },                    /* unanchored: the query counts */
    };
    static const struct url_case both[] = {
        { "http://h/blog/2024/post.html", 1 },
        { "http://h/blog/2024/post.html?print=1", 0 },
        { "http://h/blog/drafts/x.html", 0 },
        { "http://h/about.html", 0 },                       /* exclude does not re-admit */
    };
    static const struct url_case exclude_only[] = {
        { "http://h/a.html", 1 },
        { "http://h/a.pdf", 0 },
        { "http://h/A.PDF", 1 },
        { "http://h/a.pdf?x", 1 },                           /* $ anchors the whole URL */
    };
    crawl_filter_t f;

    (void)state;
    crawl_filter_init(&f);
    assert_int_equal(crawl_filter_set_regex(&f, 0, "/blog/"), 0);
    check_urls(&f, "--include /blog/", include_only, N(include_only));
    assert_int_equal(crawl_filter_set_regex(&f, 1, "(print=|/drafts/)"), 0);
    check_urls(&f, "--include /blog/ --exclude (print=|/drafts/)", both, N(both));
    crawl_filter_free(&f);

    crawl_filter_init(&f);
    assert_int_equal(crawl_filter_set_regex(&f, 1, "\\.pdf$"), 0);
    check_urls(&f, "--exclude \\.pdf$", exclude_only, N(exclude_only));
    crawl_filter_free(&f);
}

static void test_regex_is_extended_and_last_one_wins(void **state)
{
    static const struct url_case cases[] = {
        { "http://h/p/12345", 1 },                           /* ERE: + and {} without escapes */
        { "http://h/p/12", 0 },
        { "http://h/q/12345", 0 },
    };
    crawl_filter_t f;

    (void)state;
    crawl_filter_init(&f);
    assert_int_equal(crawl_filter_set_regex(&f, 0, "^http://h/q/"), 0);
    assert_int_equal(crawl_filter_set_regex(&f, 0, "/p/[0-9]{3,}$"), 0);
    check_urls(&f, "--include /p/[0-9]{3,}$", cases, N(cases));
    crawl_filter_free(&f);
}

static void test_bad_regex_is_refused_with_a_message(void **state)
{
    static const struct url_case still_open[] = {
        { "http://h/anything", 1 },
    };
    static const char *const bad[] = { "(unclosed", "[z-a]", "a{2,1}", "*x\\" };
    crawl_filter_t f;
    struct capture cap;

    (void)state;
    for (size_t i = 0; i < N(bad); i++) {
        crawl_filter_init(&f);
        capture_start(&cap);
        assert_int_equal(crawl_filter_set_regex(&f, i % 2, bad[i]), -EINVAL);
        capture_end(&cap);
        if (!strstr(cap.text, i % 2 ? "--exclude" : "--include") || !strstr(cap.text, bad[i]))
            fail_msg("message for '%s' does not name the option and value: %s", bad[i], cap.text);
        assert_int_equal(f.has_include, 0);
        assert_int_equal(f.has_exclude, 0);
        check_urls(&f, "after a refused regex", still_open, N(still_open));
        crawl_filter_free(&f);
    }
}

/* ---- --accept / --reject ----------------------------------------------------------------------- */

static void test_list_parsing(void **state)
{
    static const struct {
        const char *csv;
        const char *want[4];
    } cases[] = {
        { "jpg", { "jpg" } },
        { "jpg,png", { "jpg", "png" } },
        { " .JPG , Png ,,gif ", { "jpg", "png", "gif" } },   /* spaces, dots, case, empties */
        { ",,webp,", { "webp" } },
        { "image/*", { "image/*" } },
    };
    crawl_filter_t f;

    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        size_t k;

        crawl_filter_init(&f);
        assert_int_equal(crawl_filter_set_list(&f, &f.accept, "--accept", cases[i].csv), 0);
        assert_non_null(f.accept);
        for (k = 0; cases[i].want[k]; k++) {
            if (!f.accept[k] || strcmp(f.accept[k], cases[i].want[k]) != 0)
                fail_msg("\"%s\": item %zu is %s, want %s", cases[i].csv, k,
                         f.accept[k] ? f.accept[k] : "(end)", cases[i].want[k]);
        }
        if (f.accept[k])
            fail_msg("\"%s\": an extra item \"%s\"", cases[i].csv, f.accept[k]);
        crawl_filter_free(&f);
    }
}

static void test_empty_list_is_refused(void **state)
{
    static const char *const bad[] = { "", ",", " , ,", "." };
    crawl_filter_t f;
    struct capture cap;

    (void)state;
    for (size_t i = 0; i < N(bad); i++) {
        crawl_filter_init(&f);
        assert_int_equal(crawl_filter_set_list(&f, &f.reject, "--reject", "exe"), 0);
        capture_start(&cap);
        assert_int_equal(crawl_filter_set_list(&f, &f.reject, "--reject", bad[i]), -EINVAL);
        capture_end(&cap);
        if (!strstr(cap.text, "--reject"))
            fail_msg("message for '%s' does not name the option: %s", bad[i], cap.text);
        /* the previous list is left as it was */
        assert_non_null(f.reject);
        assert_string_equal(f.reject[0], "exe");
        assert_null(f.reject[1]);
        crawl_filter_free(&f);
    }
}

struct ext_case {
    const char *url;
    int pass;
};

static void test_accept_reject(void **state)
{
    static const struct ext_case none[] = {
        { "http://h/a.exe", 1 },
        { "http://h/", 1 },
    };
    static const struct ext_case accept[] = {
        { "http://h/a.jpg", 1 },
        { "http://h/a.JPG", 1 },
        { "http://h/a.png?x=1", 1 },
        { "http://h/a.jpeg", 0 },                           /* exact extension, not a prefix */
        { "http://h/a.jp", 0 },
        { "http://h/a.gif", 0 },
        { "http://h/dir/", 0 },                             /* no extension is not in the list */
        { "http://h/jpg", 0 },
        { "http://h/a.gif?f=b.jpg", 0 },
    };
    static const struct ext_case reject[] = {
        { "http://h/a.exe", 0 },
        { "http://h/A.ZIP", 0 },
        { "http://h/a.zip.html", 1 },
        { "http://h/a.html", 1 },
        { "http://h/dir/", 1 },
        { "http://h/exe", 1 },
    };
    static const struct ext_case both[] = {
        { "http://h/a.jpg", 1 },
        { "http://h/a.png", 0 },                            /* accepted, then rejected */
        { "http://h/a.gif", 0 },
    };
    crawl_filter_t f;

    (void)state;
    crawl_filter_init(&f);
    for (size_t i = 0; i < N(none); i++)
        assert_int_equal(crawl_filter_ext(&f, none[i].url), none[i].pass);
    assert_int_equal(crawl_filter_set_list(&f, &f.accept, "--accept", "jpg,.png"), 0);
    for (size_t i = 0; i < N(accept); i++)
        if (crawl_filter_ext(&f, accept[i].url) != accept[i].pass)
            fail_msg("--accept jpg,.png: %s want %s", accept[i].url, accept[i].pass ? "pass" : "refused");
    crawl_filter_free(&f);

    crawl_filter_init(&f);
    assert_int_equal(crawl_filter_set_list(&f, &f.reject, "--reject", "exe,zip"), 0);
    for (size_t i = 0; i < N(reject); i++)
        if (crawl_filter_ext(&f, reject[i].url) != reject[i].pass)
            fail_msg("--reject exe,zip: %s want %s", reject[i].url, reject[i].pass ? "pass" : "refused");
    assert_int_equal(crawl_filter_set_list(&f, &f.accept, "--accept", "jpg,png"), 0);
    assert_int_equal(crawl_filter_set_list(&f, &f.reject, "--reject", "png"), 0);   /* replaces */
    for (size_t i = 0; i < N(both); i++)
        if (crawl_filter_ext(&f, both[i].url) != both[i].pass)
            fail_msg("--accept jpg,png --reject png: %s want %s", both[i].url,
                     both[i].pass ? "pass" : "refused");
    assert_int_equal(crawl_filter_ext(&f, "http://h/a.exe"), 0);     /* not accepted anyway */
    crawl_filter_free(&f);
}


/* wget's -A/-R patterns: an entry with *, ?, [ or ] matches the whole file name (lowercased,
 * without the query); plain entries stay extensions, in the same list. */
static void test_accept_reject_patterns(void **state)
{
    static const struct ext_case accept[] = {
        { "http://h/a.jpg", 1 },
        { "http://h/dir/A.JPG", 1 },
        { "http://h/a.jpg?x=1.png", 1 },                   /* the query is not the name */
        { "http://h/img-07.gif", 1 },
        { "http://h/img-007.gif", 0 },                     /* ? is one character */
        { "http://h/a.jpeg", 0 },
        { "http://h/jpg", 0 },
        { "http://h/a.png", 1 },                           /* the plain entry: an extension */
        { "http://h/dir/", 0 },
        { "http://h.jpg/", 0 },                            /* a host is no file name */
        { "http://h/x1.txt", 1 },
        { "http://h/xa.txt", 0 },
    };
    static const struct ext_case reject[] = {
        { "http://h/thumb-1.jpg", 0 },
        { "http://h/big-1.jpg", 1 },
        { "http://h/thumb-1.png", 1 },
    };
    crawl_filter_t f;

    (void)state;
    crawl_filter_init(&f);
    assert_int_equal(crawl_filter_set_list(&f, &f.accept, "-A", "*.jpg,img-??.gif,png,x[0-9].txt"), 0);
    for (size_t i = 0; i < N(accept); i++)
        if (crawl_filter_ext(&f, accept[i].url) != accept[i].pass)
            fail_msg("-A '*.jpg,img-??.gif,png,x[0-9].txt': %s want %s", accept[i].url,
                     accept[i].pass ? "pass" : "refused");
    crawl_filter_free(&f);
    crawl_filter_init(&f);
    assert_int_equal(crawl_filter_set_list(&f, &f.reject, "-R", "thumb-*.jpg"), 0);
    for (size_t i = 0; i < N(reject); i++)
        if (crawl_filter_ext(&f, reject[i].url) != reject[i].pass)
            fail_msg("-R 'thumb-*.jpg': %s want %s", reject[i].url, reject[i].pass ? "pass" : "refused");
    crawl_filter_free(&f);
}

/* ---- --accept-type ------------------------------------------------------------------------------ */

static void test_accept_type(void **state)
{
    static const struct {
        const char *content_type;
        int pass;
    } cases[] = {
        { "text/html", 1 },
        { "text/html; charset=utf-8", 1 },
        { "TEXT/HTML;charset=utf-8", 1 },
        { "text/html ; charset=utf-8", 1 },
        { "text/htmlx", 0 },                                /* a whole type, not a prefix */
        { "text/htm", 0 },
        { "text/plain", 0 },
        { "image/png", 1 },                                 /* "image/" is the family */
        { "image/svg+xml", 1 },
        { "IMAGE/JPEG", 1 },
        { "image", 0 },
        { "imagex/png", 0 },
        { "video/mp4", 1 },                                 /* a trailing slash-star too */
        { "video", 0 },
        { "application/pdf", 0 },
        { "", 0 },
    };
    static const char *const none[] = { "text/html", "application/octet-stream", "" };
    crawl_filter_t f;

    (void)state;
    crawl_filter_init(&f);
    for (size_t i = 0; i < N(none); i++)
        assert_int_equal(crawl_filter_type(&f, none[i]), 1);
    assert_int_equal(crawl_filter_set_list(&f, &f.types, "--accept-type", "text/html, image/,video/*"), 0);
    for (size_t i = 0; i < N(cases); i++) {
        int got = crawl_filter_type(&f, cases[i].content_type);
        if (got != cases[i].pass)
            fail_msg("--accept-type text/html,image/,video/*: \"%s\" %s, want %s",
                     cases[i].content_type, got ? "passes" : "is refused",
                     cases[i].pass ? "passed" : "refused");
    }
    crawl_filter_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extension),
        cmocka_unit_test(test_extension_longer_than_the_buffer),
        cmocka_unit_test(test_no_regex_passes_everything),
        cmocka_unit_test(test_include_exclude),
        cmocka_unit_test(test_regex_is_extended_and_last_one_wins),
        cmocka_unit_test(test_bad_regex_is_refused_with_a_message),
        cmocka_unit_test(test_list_parsing),
        cmocka_unit_test(test_empty_list_is_refused),
        cmocka_unit_test(test_accept_reject),
        cmocka_unit_test(test_accept_reject_patterns),
        cmocka_unit_test(test_accept_type),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
