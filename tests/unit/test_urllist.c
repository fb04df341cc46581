/* test_urllist.c - parse/urllist.c on crafted inputs: what comes out, what is reported where. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse/urllist.h"

/* malloc for test data: the tests assume memory does not run out, so abort if it does. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (!p)
        abort();
    return p;
}

#define MAX_EVENTS 64

/* One thing the reader produced: a URL (bad == 0) or a bad-line report. */
struct event {
    int bad;
    unsigned long line;
    size_t len;    /* of the whole URL or reason; text holds the start of it */
    char text[512];
};

struct run {
    struct event ev[MAX_EVENTS];
    size_t n;
    char file[64];
};

/* What a test expects, in order: a URL, or a bad line whose reason starts with `text`. */
struct expect {
    int bad;
    unsigned long line;
    const char *text;
};

static void on_bad(void *arg, const char *file, unsigned long line, const char *reason)
{
    struct run *run = arg;

    assert_true(run->n < MAX_EVENTS);
    run->ev[run->n].bad = 1;
    run->ev[run->n].line = line;
    snprintf(run->ev[run->n].text, sizeof(run->ev[run->n].text), "%s", reason);
    snprintf(run->file, sizeof(run->file), "%s", file);
    run->n++;
}

/* Drain a reader into run; returns the final result of parse_urllist_next. */
static int drain(parse_urllist_t *r, struct run *run)
{
    char *url;
    unsigned long line;
    int result;

    while ((result = parse_urllist_next(r, &url, &line)) == 1) {
        assert_true(run->n < MAX_EVENTS);
        run->ev[run->n].bad = 0;
        run->ev[run->n].line = line;
        run->ev[run->n].len = strlen(url);
        snprintf(run->ev[run->n].text, sizeof(run->ev[run->n].text), "%s", url);
        run->n++;
        free(url);
    }
    return result;
}

/* Read `size` bytes (NULs allowed) through fmemopen and compare with the expected events. */
static void check_input(const char *data, size_t size, const struct expect *want, size_t nwant)
{
    struct run run;
    parse_urllist_t *r;
    FILE *f;
    size_t i;

    memset(&run, 0, sizeof(run));
    f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
    assert_non_null(f);
    r = parse_urllist_open_file(f, "list.txt", on_bad, &run);
    assert_non_null(r);
    assert_int_equal(drain(r, &run), 0);
    /* End of input is sticky. */
    {
        char *url = NULL;
        assert_int_equal(parse_urllist_next(r, &url, NULL), 0);
        assert_null(url);
    }
    parse_urllist_close(r);
    fclose(f);

    for (i = 0; i < run.n && i < nwant; i++) {
        if (run.ev[i].bad != want[i].bad || run.ev[i].line != want[i].line ||
            strncmp(run.ev[i].text, want[i].text, strlen(want[i].text)) != 0 ||
            (!want[i].bad && strcmp(run.ev[i].text, want[i].text) != 0))
            fail_msg("event %zu: got %s line %lu \"%s\", want %s line %lu \"%s\"", i,
                     run.ev[i].bad ? "bad" : "url", run.ev[i].line, run.ev[i].text,
                     want[i].bad ? "bad" : "url", want[i].line, want[i].text);
        if (run.ev[i].bad)
            assert_string_equal(run.file, "list.txt");
    }
    if (run.n != nwant)
        fail_msg("got %zu events, want %zu", run.n, nwant);
}

#define CHECK(data, want) \
    check_input((data), sizeof(data) - 1, (want), sizeof(want) / sizeof((want)[0]))

static void test_mixed_file(void **state)
{
    static const char data[] =
        "\xEF\xBB\xBFhttp://example.com/first\n"   /* 1: BOM ignored */
        "# a comment\n"                             /* 2 */
        "\n"                                        /* 3 */
        "   \t  \r\n"                               /* 4: blank */
        "  # indented comment http://x/\n"          /* 5 */
        "  HTTP://Example.COM:80/a/../b  \r\n"      /* 6: trimmed, CRLF */
        "ftp://example.com/file\n"                  /* 7 */
        "example.com/no-scheme\n"                   /* 8 */
        "http://\n"                                 /* 9 */
        "http://exa mple.com/\n"                    /* 10 */
        "https://example.com/%7euser#frag\r\n"      /* 11 */
        "mailto:someone@example.com\n"              /* 12 */
        "http://example.com/a\tb\n"                 /* 13: inner tab */
        "\t\thttps://example.com/tabs\t\n"          /* 14 */
        "https://example.com/last";                 /* 15: no newline */
    static const struct expect want[] = {
        {0, 1, "http://example.com/first"},
        {0, 6, "http://example.com/b"},
        {1, 7, "not an http or https URL: \"ftp://example.com/file\""},
        {1, 8, "not an http or https URL: \"example.com/no-scheme\""},
        {1, 9, "invalid URL: \"http://\""},
        {1, 10, "invalid URL: \"http://exa mple.com/\""},
        {0, 11, "https://example.com/~user"},
        {1, 12, "not an http or https URL: \"mailto:someone@example.com\""},
        {1, 13, "invalid URL: \"http://example.com/a\\tb\""},
        {0, 14, "https://example.com/tabs"},
        {0, 15, "https://example.com/last"},
    };

    (void)state;
    CHECK(data, want);
}

static void test_empty_inputs(void **state)
{
    static const struct expect none[1];
    static const struct expect one[] = {{0, 3, "http://x.org/"}};

    (void)state;
    check_input("", 0, none, 0);
    check_input("\xEF\xBB\xBF", 3, none, 0);
    check_input("\n\n\n", 3, none, 0);
    check_input("# only\n#comments", 16, none, 0);
    check_input("\r\n\r\nhttp://x.org\r\n", 17, one, 1);
    /* A BOM anywhere but the start is data, and a partial BOM too. */
    {
        static const struct expect bom2[] = {
            {0, 1, "http://x.org/"},
            {1, 2, "not an http or https URL: \"\xEF\xBB\xBFhttp://y.org/\""},
        };
        CHECK("http://x.org\n\xEF\xBB\xBFhttp://y.org/\n", bom2);
    }
    {
        static const struct expect partial[] = {{1, 1, "binary data (invalid UTF-8 at column 3)"}};
        CHECK("\xEF\xBBhttp://x.org/\n", partial);
    }
}

static void test_binary(void **state)
{
    static const char data[] =
        "http://example.com/1\n"
        "http://exa\0mple.com/\n"      /* 2: NUL */
        "\x01\x02\x03\n"                /* 3 */
        "http://example.com/\x1b[0m\n"  /* 4: escape sequence */
        "http://example.com/\xff\xfe\n" /* 5: not UTF-8 */
        "http://example.com/\xc3\n"     /* 6: truncated sequence */
        "http://example.com/\xed\xa0\x80\n" /* 7: surrogate */
        "http://example.com/\xc0\xaf\n" /* 8: overlong */
        "http://example.com/caf\xc3\xa9\n" /* 9: fine */
        "# comment with \x00 and \xff is still a comment\n" /* 10 */
        "http://example.com/\x7f\n"     /* 11: DEL */
        "http://example.com/2\n";       /* 12 */
    static const struct expect want[] = {
        {0, 1, "http://example.com/1"},
        {1, 2, "binary data (NUL byte at column 11)"},
        {1, 3, "binary data (control byte 0x01 at column 1)"},
        {1, 4, "binary data (control byte 0x1B at column 20)"},
        {1, 5, "binary data (invalid UTF-8 at column 20)"},
        {1, 6, "binary data (invalid UTF-8 at column 20)"},
        {1, 7, "binary data (invalid UTF-8 at column 21)"},
        {1, 8, "binary data (invalid UTF-8 at column 20)"},
        {0, 9, "http://example.com/caf%C3%A9"},
        {1, 11, "binary data (control byte 0x7F at column 20)"},
        {0, 12, "http://example.com/2"},
    };

    (void)state;
    CHECK(data, want);
}

/* A 1 MB line, then good lines: reported once, with its length, and reading goes on. */
static void test_long_lines(void **state)
{
    size_t big = 1024 * 1024, n, size;
    char *data, *p;
    struct expect want[5];
    char reason[64];

    (void)state;
    data = xmalloc(big + 256 + PARSE_URL_MAX * 2);
    p = data;
    p += sprintf(p, "http://example.com/before\n");
    memcpy(p, "http://example.com/", 19);
    memset(p + 19, 'a', big - 19);
    p += big;
    p += sprintf(p, "\nhttp://example.com/after\n");
    /* Exactly PARSE_URL_MAX with blanks around: fine. */
    n = PARSE_URL_MAX;
    p += sprintf(p, "   ");
    memcpy(p, "http://example.com/", 19);
    memset(p + 19, 'b', n - 19);
    p += n;
    p += sprintf(p, "     \n");
    /* One more byte: too long. */
    memcpy(p, "http://example.com/", 19);
    memset(p + 19, 'c', n + 1 - 19);
    p += n + 1;
    size = (size_t)(p - data);

    snprintf(reason, sizeof(reason), "line too long (%zu bytes, max %d)", big, PARSE_URL_MAX);
    want[0] = (struct expect){0, 1, "http://example.com/before"};
    want[1] = (struct expect){1, 2, reason};
    want[2] = (struct expect){0, 3, "http://example.com/after"};
    {
        struct run run;
        parse_urllist_t *r;
        FILE *f = fmemopen(data, size, "r");
        assert_non_null(f);
        memset(&run, 0, sizeof(run));
        r = parse_urllist_open_file(f, "list.txt", on_bad, &run);
        assert_non_null(r);
        assert_int_equal(drain(r, &run), 0);
        parse_urllist_close(r);
        fclose(f);
        assert_int_equal(run.n, 5);
        for (n = 0; n < 3; n++) {
            assert_int_equal(run.ev[n].bad, want[n].bad);
            assert_int_equal(run.ev[n].line, want[n].line);
            assert_string_equal(run.ev[n].text, want[n].text);
        }
        assert_int_equal(run.ev[3].bad, 0);
        assert_int_equal(run.ev[3].line, 4);
        assert_int_equal(run.ev[3].len, PARSE_URL_MAX);
        assert_int_equal(run.ev[4].bad, 1);
        assert_int_equal(run.ev[4].line, 5);
        assert_string_equal(run.ev[4].text, "line too long (8193 bytes, max 8192)");
    }
    free(data);
}

/* Reasons quote at most 80 bytes, cut between characters, escaped. */
static void test_quoting(void **state)
{
    char data[512];
    struct run run;
    parse_urllist_t *r;
    FILE *f;
    int n;

    (void)state;
    n = snprintf(data, sizeof(data), "gopher://%0100d\nftp://\xc3\xa9\xc3\xa9/\"q\"\\\n", 7);
    f = fmemopen(data, (size_t)n, "r");
    assert_non_null(f);
    memset(&run, 0, sizeof(run));
    r = parse_urllist_open_file(f, NULL, on_bad, &run);
    assert_non_null(r);
    assert_int_equal(drain(r, &run), 0);
    parse_urllist_close(r);
    fclose(f);
    assert_int_equal(run.n, 2);
    assert_string_equal(run.file, "<stream>");
    assert_string_equal(run.ev[0].text,
                        "not an http or https URL: \"gopher://00000000000000000000000000000000"
                        "000000000000000000000000000000000000000...\"");
    assert_string_equal(run.ev[1].text,
                        "not an http or https URL: \"ftp://\xc3\xa9\xc3\xa9/\\\"q\\\"\\\\\"");
}

static char *write_temp(const char *data, size_t size)
{
    char *path = strdup("/tmp/test_urllist_XXXXXX");
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    assert_int_equal(close(fd), 0);
    return path;
}

/* Real files, open errors, and the default reporter writing FILE:LINE: reason to stderr. */
static void test_files(void **state)
{
    static const char data[] = "http://a.example/\nnot a url\n";
    char *path = write_temp(data, sizeof(data) - 1), *url = NULL, *errpath, buf[512];
    unsigned long line = 0;
    parse_urllist_t *r;
    int saved, fd;
    FILE *ef;
    size_t n;

    (void)state;
    errno = 0;
    assert_null(parse_urllist_open("/nonexistent/urls.txt", NULL, NULL));
    assert_int_equal(errno, ENOENT);
    errno = 0;
    assert_null(parse_urllist_open("/tmp", NULL, NULL));
    assert_int_equal(errno, EISDIR);

    errpath = write_temp("", 0);
    fd = open(errpath, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    close(fd);

    r = parse_urllist_open(path, NULL, NULL);
    assert_non_null(r);
    assert_int_equal(parse_urllist_next(r, &url, &line), 1);
    assert_string_equal(url, "http://a.example/");
    assert_int_equal(line, 1);
    free(url);
    url = NULL;
    assert_int_equal(parse_urllist_next(r, &url, &line), 0);
    assert_null(url);
    parse_urllist_close(r);

    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    ef = fopen(errpath, "r");
    assert_non_null(ef);
    n = fread(buf, 1, sizeof(buf) - 1, ef);
    buf[n] = '\0';
    fclose(ef);
    {
        char want[512];
        snprintf(want, sizeof(want), "%s:2: not an http or https URL: \"not a url\"\n", path);
        assert_string_equal(buf, want);
    }
    unlink(errpath);
    unlink(path);
    free(errpath);
    free(path);
}

/* A read error is reported as PARSE_EIO and stays. */
static void test_read_error(void **state)
{
    parse_urllist_t *r;
    FILE *f;
    char *url = NULL;

    (void)state;
    f = fopen("/tmp", "r"); /* a directory: fopen works, reading fails with EISDIR */
    assert_non_null(f);
    r = parse_urllist_open_file(f, "dir", NULL, NULL);
    assert_non_null(r);
    assert_int_equal(parse_urllist_next(r, &url, NULL), PARSE_EIO);
    assert_int_equal(errno, EISDIR);
    assert_int_equal(parse_urllist_next(r, &url, NULL), PARSE_EIO);
    assert_null(url);
    parse_urllist_close(r);
    fclose(f);
    parse_urllist_close(NULL);
}

/* Many lines: every one comes out once with the right number. */
static void test_many_lines(void **state)
{
    const unsigned long lines = 100000;
    char *data, *p, *path, *url;
    unsigned long i, line, seen = 0;
    parse_urllist_t *r;
    char want[64];
    int result;

    (void)state;
    data = xmalloc(lines * 40);
    p = data;
    for (i = 1; i <= lines; i++) {
        char entry[40];
        int w = snprintf(entry, sizeof(entry), i % 10 == 0 ? "# %lu\n" : "http://example.com/%lu\n", i);
        assert_true(w > 0 && (size_t)w < sizeof(entry));
        memcpy(p, entry, (size_t)w);
        p += w;
    }
    path = write_temp(data, (size_t)(p - data));
    free(data);
    r = parse_urllist_open(path, NULL, NULL);
    assert_non_null(r);
    while ((result = parse_urllist_next(r, &url, &line)) == 1) {
        seen++;
        if (line % 10 == 0)
            fail_msg("comment line %lu returned", line);
        snprintf(want, sizeof(want), "http://example.com/%lu", line);
        assert_string_equal(url, want);
        free(url);
    }
    assert_int_equal(result, 0);
    assert_int_equal(seen, lines - lines / 10);
    parse_urllist_close(r);
    unlink(path);
    free(path);
}

/* Inputs the fuzzer (tests/fuzz/fuzz_urllist.c) found, kept as cases. */
static void test_fuzz_regressions(void **state)
{
    /* A host that IDNA maps to nothing (U+FEFF) once gave "http:///", which is no URL. */
    static const char bom_host[] =
        "\xef\xbb\xbfhttp://\xef\xbb\xbf#ttpttp:/mple.com/\r\n# ent\r\n\r\n :/mple.com/\r\n"
        "# ent\r\n\r\n  \t\nftp://x/\nhttp://\n";
    static const struct expect bom_host_want[] = {
        {1, 1, "invalid URL: \"http://\xef\xbb\xbf#ttpttp:/mple.com/\""},
        {1, 4, "not an http or https URL: \":/mple.com/\""},
        {1, 8, "not an http or https URL: \"ftp://x/\""},
        {1, 9, "invalid URL: \"http://\""},
    };
    /* C1 controls are escaped in reasons. */
    static const char c1[] = "gopher://\xc2\x9b" "31m\n";
    static const struct expect c1_want[] = {
        {1, 1, "not an http or https URL: \"gopher://\\u009B31m\""},
    };

    (void)state;
    CHECK(bom_host, bom_host_want);
    CHECK(c1, c1_want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_file),
        cmocka_unit_test(test_empty_inputs),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_many_lines),
        cmocka_unit_test(test_fuzz_regressions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
