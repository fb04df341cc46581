/* test_options.c - crawler/cli/options.c: defaults, bounds, refused values, `--`, clusters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/cli/options.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGS 24

/* ---- helpers --------------------------------------------------------------------------------- */

/* What one parse printed on stdout and stderr, and what it returned. */
struct parsed {
    crawl_options_t o;
    char *argv[MAX_ARGS + 1];   /* getopt permutes this array, so it is ours, not a literal's */
    int argc;
    int result;
    char out[16384], err[1024];
};

static void read_back(FILE *f, char *buf, size_t n)
{
    size_t got;

    rewind(f);
    got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

/* Parses cmd's arguments (a NULL-terminated list, command name first) with stdout and stderr
 * captured. The caller calls crawl_options_free(&p->o). */
static void parse(struct parsed *p, crawl_cmd_t cmd, const char *const *args)
{
    FILE *out = tmpfile(), *err = tmpfile();
    int saved_in, saved_out, saved_err, null_in;

    assert_non_null(out);
    assert_non_null(err);
    memset(p, 0, sizeof(*p));
    for (p->argc = 0; args[p->argc]; p->argc++) {
        assert_true(p->argc < MAX_ARGS);
        p->argv[p->argc] = (char *)args[p->argc];
    }
    fflush(stdout);
    fflush(stderr);
    saved_in = dup(STDIN_FILENO);
    saved_out = dup(STDOUT_FILENO);
    saved_err = dup(STDERR_FILENO);
    null_in = open("/dev/null", O_RDONLY);
    assert_true(saved_in >= 0 && saved_out >= 0 && saved_err >= 0 && null_in >= 0);
    /* never a terminal: --user without a password must not stop a test at a prompt */
    assert_true(dup2(null_in, STDIN_FILENO) >= 0);
    assert_true(dup2(fileno(out), STDOUT_FILENO) >= 0);
    assert_true(dup2(fileno(err), STDERR_FILENO) >= 0);
    p->result = crawl_options_parse(&p->o, cmd, p->argc, p->argv);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved_in, STDIN_FILENO) >= 0);
    assert_true(dup2(saved_out, STDOUT_FILENO) >= 0);
    assert_true(dup2(saved_err, STDERR_FILENO) >= 0);
    close(saved_in);
    close(saved_out);
    close(saved_err);
    close(null_in);
    read_back(out, p->out, sizeof(p->out));
    read_back(err, p->err, sizeof(p->err));
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* A parse that must succeed. */
static void parse_ok(struct parsed *p, crawl_cmd_t cmd, const char *const *args)
{
    parse(p, cmd, args);
    if (p->result != 0)
        fail_msg("%s %s ...: returned %d, want 0; stderr: %s", args[0], args[1] ? args[1] : "",
                 p->result, p->err);
}

/* A parse that must be refused as a usage error whose message contains `needle`. */
static void parse_refused(crawl_cmd_t cmd, const char *const *args, const char *needle)
{
    struct parsed p;

    parse(&p, cmd, args);
    if (p.result != CRAWL_EXIT_USAGE)
        fail_msg("%s %s %s: returned %d, want %d (usage error)", args[0], args[1] ? args[1] : "",
                 args[1] && args[2] ? args[2] : "", p.result, CRAWL_EXIT_USAGE);
    if (!strstr(p.err, needle))
        fail_msg("%s %s %s: message does not name '%s': %s", args[0], args[1] ? args[1] : "",
                 args[1] && args[2] ? args[2] : "", needle, p.err);
    crawl_options_free(&p.o);
}

/* ---- defaults --------------------------------------------------------------------------------- */

static void test_defaults_get(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get"));
    assert_string_equal(p.o.input, "urls.txt");        /* no -i, no URL */
    assert_int_equal(p.o.nurls, 0);
    assert_string_equal(p.o.outdir, "downloads");
    assert_int_equal(p.o.concurrency, 16);
    assert_int_equal(p.o.per_host, 0);
    assert_int_equal(p.o.mode, CRAWL_MODE_ASYNC);
    assert_int_equal(p.o.layout, STORE_LAYOUT_FLAT);
    assert_int_equal(p.o.retries, 3);
    assert_int_equal(p.o.retry_delay_ms, 1000);
    assert_int_equal(p.o.max_wait_ms, 60000);
    assert_int_equal(p.o.http.connect_timeout_ms, 30000);
    assert_int_equal(p.o.http.read_timeout_ms, 900000);  /* wget's 900 s */
    assert_int_equal(p.o.http.timeout_ms, 0);
    assert_int_equal(p.o.http.max_redirs, 10);
    assert_int_equal(p.o.http.max_filesize, 0);
    assert_int_equal(p.o.http.low_speed_limit, 0);
    assert_int_equal(p.o.http.low_speed_time, 30);
    assert_int_equal(p.o.http.max_connections, 16);   /* follows -c */
    assert_string_equal(p.o.http.user_agent, "gather/0.1");
    assert_null(p.o.http.headers);
    assert_int_equal(p.o.http.insecure, 0);
    assert_int_equal(p.o.http.verbose, 0);
    assert_int_equal(p.o.quiet + p.o.verbose + p.o.json + p.o.do_fsync + p.o.timestamping, 0);
    assert_null(p.o.har);
    assert_string_equal(p.err, "");                    /* a clean parse says nothing */
    crawl_options_free(&p.o);
}

static void test_defaults_crawl(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "http://example.com/"));
    assert_null(p.o.input);
    assert_int_equal(p.o.nurls, 1);
    assert_string_equal(p.o.urls[0], "http://example.com/");
    assert_int_equal(p.o.depth, 5);                    /* wget's default */
    assert_int_equal(p.o.per_host, 4);                 /* polite by default, unlike get */
    assert_int_equal(p.o.layout, STORE_LAYOUT_TREE);
    assert_int_equal(p.o.delay_ms, 0);
    assert_int_equal(p.o.max_pages, 0);
    assert_int_equal(p.o.max_page_bytes, 10L * 1024 * 1024);
    assert_int_equal(p.o.robots, 1);
    assert_int_equal(p.o.sitemap, 0);
    assert_int_equal(p.o.save, CRAWL_SAVE_ALL);
    assert_int_equal(p.o.scope, CRAWL_SCOPE_HOST);
    assert_null(p.o.filter.accept);
    assert_null(p.o.filter.reject);
    assert_null(p.o.filter.types);
    assert_int_equal(p.o.filter.has_include + p.o.filter.has_exclude, 0);
    crawl_options_free(&p.o);
}

static void test_defaults_bench(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_BENCH, ARGS("bench"));
    assert_string_equal(p.o.input, "urls.txt");
    assert_string_equal(p.o.modes, "sync,threads,async");
    assert_int_equal(p.o.repeat, 1);
    assert_int_equal(p.o.discard, 0);
    assert_null(p.o.chart);
    assert_int_equal(p.o.concurrency, 16);
    crawl_options_free(&p.o);
}

/* ---- numbers and their bounds ----------------------------------------------------------------- */

#define FIELD(f) offsetof(crawl_options_t, f)

struct number_case {
    crawl_cmd_t cmd;
    const char *opt, *value;
    size_t field;               /* offset of the long it sets */
    long want;                  /* the value stored; ignored when refused */
    int ok;
};

static const struct number_case number_cases[] = {
    { CRAWL_CMD_GET, "-c", "1", FIELD(concurrency), 1, 1 },
    { CRAWL_CMD_GET, "-c", "10000", FIELD(concurrency), 10000, 1 },
    { CRAWL_CMD_GET, "--concurrency", "64", FIELD(concurrency), 64, 1 },
    { CRAWL_CMD_GET, "-c", "0", FIELD(concurrency), 0, 0 },
    { CRAWL_CMD_GET, "-c", "10001", FIELD(concurrency), 0, 0 },
    { CRAWL_CMD_GET, "-c", "-4", FIELD(concurrency), 0, 0 },
    { CRAWL_CMD_GET, "-c", "4x", FIELD(concurrency), 0, 0 },
    { CRAWL_CMD_GET, "-c", "0x10", FIELD(concurrency), 0, 0 },
    { CRAWL_CMD_GET, "-c", "2.5", FIELD(concurrency), 0, 0 },
    { CRAWL_CMD_GET, "-c", "", FIELD(concurrency), 0, 0 },
    { CRAWL_CMD_GET, "-c", "99999999999999999999999", FIELD(concurrency), 0, 0 },
    { CRAWL_CMD_BENCH, "-c", "8", FIELD(concurrency), 8, 1 },
    { CRAWL_CMD_GET, "--per-host", "0", FIELD(per_host), 0, 1 },
    { CRAWL_CMD_CRAWL, "--per-host", "10000", FIELD(per_host), 10000, 1 },
    { CRAWL_CMD_CRAWL, "--per-host", "10001", FIELD(per_host), 0, 0 },
    { CRAWL_CMD_CRAWL, "-d", "0", FIELD(depth), 0, 1 },
    { CRAWL_CMD_CRAWL, "--depth", "1000", FIELD(depth), 1000, 1 },
    { CRAWL_CMD_CRAWL, "-d", "1001", FIELD(depth), 0, 0 },
    { CRAWL_CMD_CRAWL, "-d", "-1", FIELD(depth), 0, 0 },
    { CRAWL_CMD_CRAWL, "-d", "inf", FIELD(depth), CRAWL_DEPTH_INF, 1 },
    { CRAWL_CMD_CRAWL, "-l", "inf", FIELD(depth), CRAWL_DEPTH_INF, 1 },
    { CRAWL_CMD_CRAWL, "--level", "INF", FIELD(depth), CRAWL_DEPTH_INF, 1 },
    { CRAWL_CMD_CRAWL, "-l", "3", FIELD(depth), 3, 1 },
    { CRAWL_CMD_CRAWL, "--level", "0", FIELD(depth), 0, 1 },
    { CRAWL_CMD_CRAWL, "-l", "infinity", FIELD(depth), 0, 0 },
    { CRAWL_CMD_CRAWL, "-l", "-1", FIELD(depth), 0, 0 },
    /* wget's -w: seconds, fractions and m/h/d suffixes, into the --delay milliseconds */
    { CRAWL_CMD_CRAWL, "-w", "0.5", FIELD(delay_ms), 500, 1 },
    { CRAWL_CMD_CRAWL, "--wait", "2", FIELD(delay_ms), 2000, 1 },
    { CRAWL_CMD_CRAWL, "-w", "2s", FIELD(delay_ms), 2000, 1 },
    { CRAWL_CMD_CRAWL, "-w", "1.5m", FIELD(delay_ms), 90000, 1 },
    { CRAWL_CMD_CRAWL, "-w", "1h", FIELD(delay_ms), 3600000, 1 },
    { CRAWL_CMD_CRAWL, "-w", "0", FIELD(delay_ms), 0, 1 },
    { CRAWL_CMD_CRAWL, "-w", "2h", FIELD(delay_ms), 0, 0 },
    { CRAWL_CMD_CRAWL, "-w", "1x", FIELD(delay_ms), 0, 0 },
    { CRAWL_CMD_CRAWL, "-w", "m", FIELD(delay_ms), 0, 0 },
    { CRAWL_CMD_CRAWL, "-w", "-1", FIELD(delay_ms), 0, 0 },
    { CRAWL_CMD_CRAWL, "-w", "1ms", FIELD(delay_ms), 0, 0 },
    { CRAWL_CMD_CRAWL, "--delay", "250", FIELD(delay_ms), 250, 1 },
    { CRAWL_CMD_CRAWL, "--delay", "3600001", FIELD(delay_ms), 0, 0 },
    { CRAWL_CMD_CRAWL, "--max-pages", "1000000000", FIELD(max_pages), 1000000000L, 1 },
    { CRAWL_CMD_CRAWL, "--max-pages", "1000000001", FIELD(max_pages), 0, 0 },
    { CRAWL_CMD_CRAWL, "--max-page-size", "16777216", FIELD(max_page_bytes), 16L << 20, 1 },
    { CRAWL_CMD_CRAWL, "--max-page-size", "16777217", FIELD(max_page_bytes), 0, 0 },
    { CRAWL_CMD_GET, "--retries", "0", FIELD(retries), 0, 1 },
    { CRAWL_CMD_GET, "--retries", "100", FIELD(retries), 100, 1 },
    { CRAWL_CMD_GET, "--retries", "101", FIELD(retries), 0, 0 },
    { CRAWL_CMD_CRAWL, "--retry-delay", "0", FIELD(retry_delay_ms), 0, 1 },
    { CRAWL_CMD_GET, "--retry-delay", "3600001", FIELD(retry_delay_ms), 0, 0 },
    { CRAWL_CMD_GET, "--max-redirs", "-1", FIELD(http.max_redirs), -1, 1 },
    { CRAWL_CMD_GET, "--max-redirs", "0", FIELD(http.max_redirs), 0, 1 },
    { CRAWL_CMD_GET, "--max-redirs", "-2", FIELD(http.max_redirs), 0, 0 },
    { CRAWL_CMD_GET, "--max-redirs", "1001", FIELD(http.max_redirs), 0, 0 },
    { CRAWL_CMD_BENCH, "--repeat", "1000", FIELD(repeat), 1000, 1 },
    { CRAWL_CMD_BENCH, "--repeat", "0", FIELD(repeat), 0, 0 },
    { CRAWL_CMD_GET, "--min-speed", "1024", FIELD(http.low_speed_limit), 1024, 1 },
    { CRAWL_CMD_GET, "--min-speed", "-1", FIELD(http.low_speed_limit), 0, 0 },
    /* seconds, stored in ms: fractions allowed, rounded to the ms */
    { CRAWL_CMD_GET, "--timeout", "1.5", FIELD(http.timeout_ms), 1500, 1 },
    { CRAWL_CMD_GET, "--timeout", "0.0006", FIELD(http.timeout_ms), 1, 1 },
    { CRAWL_CMD_CRAWL, "--connect-timeout", "10", FIELD(http.connect_timeout_ms), 10000, 1 },
    { CRAWL_CMD_GET, "--read-timeout", "1", FIELD(http.read_timeout_ms), 1000, 1 },
    { CRAWL_CMD_CRAWL, "--read-timeout", "0.5", FIELD(http.read_timeout_ms), 500, 1 },
    { CRAWL_CMD_BENCH, "--read-timeout", "0", FIELD(http.read_timeout_ms), 0, 1 },
    { CRAWL_CMD_GET, "--read-timeout", "-1", FIELD(http.read_timeout_ms), 0, 0 },
    { CRAWL_CMD_GET, "--max-wait", "0", FIELD(max_wait_ms), 0, 1 },
    { CRAWL_CMD_GET, "--max-wait", "1e2", FIELD(max_wait_ms), 100000, 1 },
    { CRAWL_CMD_GET, "--max-wait", "604800", FIELD(max_wait_ms), 604800000L, 1 },
    { CRAWL_CMD_GET, "--max-wait", "604801", FIELD(max_wait_ms), 0, 0 },
    { CRAWL_CMD_GET, "--max-wait", "-1", FIELD(max_wait_ms), 0, 0 },
    { CRAWL_CMD_GET, "--timeout", "inf", FIELD(http.timeout_ms), 0, 0 },
    { CRAWL_CMD_GET, "--timeout", "nan", FIELD(http.timeout_ms), 0, 0 },
    { CRAWL_CMD_GET, "--timeout", "5s", FIELD(http.timeout_ms), 0, 0 },
    { CRAWL_CMD_GET, "--timeout", "", FIELD(http.timeout_ms), 0, 0 },
    /* whole seconds for curl, at least one */
    { CRAWL_CMD_GET, "--min-speed-time", "5", FIELD(http.low_speed_time), 5, 1 },
    { CRAWL_CMD_GET, "--min-speed-time", "0.2", FIELD(http.low_speed_time), 1, 1 },
    { CRAWL_CMD_GET, "--min-speed-time", "x", FIELD(http.low_speed_time), 0, 0 },
};

static void test_numbers_and_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(number_cases); i++) {
        const struct number_case *c = &number_cases[i];
        const char *name = c->cmd == CRAWL_CMD_GET ? "get" : c->cmd == CRAWL_CMD_CRAWL ? "crawl" : "bench";
        struct parsed p;
        long got;

        parse(&p, c->cmd, ARGS(name, c->opt, c->value, "http://example.com/"));
        if (c->ok) {
            if (p.result != 0)
                fail_msg("%s %s '%s': refused (%d), want %ld; stderr: %s", name, c->opt, c->value,
                         p.result, c->want, p.err);
            memcpy(&got, (const char *)&p.o + c->field, sizeof(got));
            if (got != c->want)
                fail_msg("%s %s '%s': stored %ld, want %ld", name, c->opt, c->value, got, c->want);
        } else {
            if (p.result != CRAWL_EXIT_USAGE)
                fail_msg("%s %s '%s': returned %d, want a usage error", name, c->opt, c->value,
                         p.result);
            /* The message names the option and repeats the value ('' for an empty one). */
            char quoted[64];
            snprintf(quoted, sizeof(quoted), "%s: '%s'", c->opt, c->value);
            if (!strstr(p.err, quoted))
                fail_msg("%s %s '%s': message does not name option and value: %s", name, c->opt,
                         c->value, p.err);
        }
        crawl_options_free(&p.o);
    }
}

static void test_max_filesize_suffixes(void **state)
{
    static const struct {
        const char *value;
        curl_off_t want;        /* -1: refused */
    } cases[] = {
        { "0", 0 },
        { "100", 100 },
        { "1K", 1024 },
        { "1k", 1024 },
        { "1.5M", 1572864 },
        { "2g", 2147483648LL },
        { "10G", 10737418240LL },
        { "1KB", -1 },
        { "1X", -1 },
        { "K", -1 },
        { "-1", -1 },
        { "-1K", -1 },
        { "", -1 },
        { "1e19", -1 },                               /* beyond curl_off_t */
        { "9000000000G", -1 },
        { "nan", -1 },
    };

    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        struct parsed p;

        parse(&p, CRAWL_CMD_GET, ARGS("get", "--max-filesize", cases[i].value));
        if (cases[i].want < 0) {
            if (p.result != CRAWL_EXIT_USAGE || !strstr(p.err, "--max-filesize"))
                fail_msg("--max-filesize '%s': returned %d, want a usage error naming it; stderr: %s",
                         cases[i].value, p.result, p.err);
        } else if (p.result != 0 || p.o.http.max_filesize != cases[i].want) {
            fail_msg("--max-filesize '%s': returned %d, stored %lld, want %lld", cases[i].value,
                     p.result, (long long)p.o.http.max_filesize, (long long)cases[i].want);
        }
        crawl_options_free(&p.o);
    }
}

/* ---- words ----------------------------------------------------------------------------------- */

static void test_enumerated_values(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--mode", "sync", "--layout", "tree"));
    assert_int_equal(p.o.mode, CRAWL_MODE_SYNC);
    assert_int_equal(p.o.layout, STORE_LAYOUT_TREE);
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--mode=threads"));
    assert_int_equal(p.o.mode, CRAWL_MODE_THREADS);
    assert_string_equal(crawl_mode_name(p.o.mode), "threads");
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--scope", "prefix", "--save", "assets",
                                       "--layout", "flat", "http://h/"));
    assert_int_equal(p.o.scope, CRAWL_SCOPE_PREFIX);
    assert_int_equal(p.o.save, CRAWL_SAVE_ASSETS);
    assert_int_equal(p.o.layout, STORE_LAYOUT_FLAT);
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--scope=domain", "--save=none", "http://h/"));
    assert_int_equal(p.o.scope, CRAWL_SCOPE_DOMAIN);
    assert_int_equal(p.o.save, CRAWL_SAVE_NONE);
    crawl_options_free(&p.o);

    parse_refused(CRAWL_CMD_GET, ARGS("get", "--mode", "parallel"), "--mode: 'parallel'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--mode", "SYNC"), "--mode: 'SYNC'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--layout", "deep"), "--layout: 'deep'");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "--scope", "site", "http://h/"), "--scope: 'site'");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "--save", "images", "http://h/"), "--save: 'images'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-o", ""), "-o");
}

static void test_strings_flags_and_lists(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "-i", "list.txt", "-o", "out/dir", "--user-agent", "bot/2",
                                     "--header", "X-One: 1", "--header", "X-Two: 2", "--json",
                                     "--fsync", "--timestamping", "--har", "h.har", "--discard"));
    assert_string_equal(p.o.input, "list.txt");
    assert_string_equal(p.o.outdir, "out/dir");
    assert_string_equal(p.o.http.user_agent, "bot/2");
    assert_non_null(p.o.headers);
    assert_ptr_equal(p.o.http.headers, p.o.headers);  /* the client sends them */
    assert_string_equal(p.o.headers->data, "X-One: 1");
    assert_non_null(p.o.headers->next);
    assert_string_equal(p.o.headers->next->data, "X-Two: 2");
    assert_null(p.o.headers->next->next);
    assert_int_equal(p.o.json, 1);
    assert_int_equal(p.o.do_fsync, 1);
    assert_int_equal(p.o.timestamping, 1);
    assert_string_equal(p.o.har, "h.har");
    assert_int_equal(p.o.discard, 1);
    crawl_options_free(&p.o);
    assert_null(p.o.headers);

    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--no-robots", "--sitemap", "--include", "/blog/",
                                       "--exclude", "\\.pdf$", "--accept", "JPG,.png",
                                       "--reject", "exe", "--accept-type", "image/", "http://h/"));
    assert_int_equal(p.o.robots, 0);
    assert_int_equal(p.o.sitemap, 1);
    assert_int_equal(crawl_filter_url(&p.o.filter, "http://h/blog/a.html"), 1);
    assert_int_equal(crawl_filter_url(&p.o.filter, "http://h/blog/a.pdf"), 0);
    assert_int_equal(crawl_filter_url(&p.o.filter, "http://h/about.html"), 0);
    assert_string_equal(p.o.filter.accept[0], "jpg");
    assert_string_equal(p.o.filter.accept[1], "png");
    assert_string_equal(p.o.filter.reject[0], "exe");
    assert_string_equal(p.o.filter.types[0], "image/");
    crawl_options_free(&p.o);

    parse_ok(&p, CRAWL_CMD_BENCH, ARGS("bench", "--modes", "async", "--chart", "w.svg", "--repeat", "3"));
    assert_string_equal(p.o.modes, "async");
    assert_string_equal(p.o.chart, "w.svg");
    assert_int_equal(p.o.repeat, 3);
    crawl_options_free(&p.o);

    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--insecure", "-i", "-"));
    assert_int_equal(p.o.http.insecure, 1);
    assert_string_equal(p.o.input, "-");               /* stdin */
    assert_non_null(strstr(p.err, "--insecure"));      /* said out loud */
    crawl_options_free(&p.o);

    parse_refused(CRAWL_CMD_GET, ARGS("get", "--header", "no colon"), "--header: 'no colon'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--header", "X-A: 1\r\nX-B: 2"), "--header");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "--include", "(", "http://h/"), "--include");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "--accept", ",", "http://h/"), "--accept");
}

static void test_verbosity(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "-v", "-v"));
    assert_int_equal(p.o.verbose, 2);
    assert_int_equal(p.o.http.verbose, 0);             /* curl's trace only from -vvv */
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "-vvv", "--quiet"));
    assert_int_equal(p.o.verbose, 3);
    assert_int_equal(p.o.http.verbose, 1);
    assert_int_equal(p.o.quiet, 1);
    crawl_options_free(&p.o);
}

/* ---- which command takes what ------------------------------------------------------------------ */

static void test_options_belong_to_their_commands(void **state)
{
    (void)state;
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--depth", "3"), "'--depth'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-d", "3"), "-d");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--scope", "host"), "'--scope'");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-i", "urls.txt", "http://h/"), "-i");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "--mode", "sync", "http://h/"), "'--mode'");
    parse_refused(CRAWL_CMD_BENCH, ARGS("bench", "-o", "x"), "-o");
    parse_refused(CRAWL_CMD_BENCH, ARGS("bench", "--retries", "2"), "'--retries'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--modes", "sync"), "'--modes'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--no-such-option"), "'--no-such-option'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-Z"), "-Z");
}

/* Saves and clears the CA variables curl's tool reads, so a test sets exactly what it means. */
static const char *const ca_vars[] = { "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR" };

static void ca_env_clear(char *saved[3])
{
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(ca_vars[i]);
        saved[i] = v ? strdup(v) : NULL;
        unsetenv(ca_vars[i]);
    }
}

static void ca_env_restore(char *saved[3])
{
    for (int i = 0; i < 3; i++) {
        if (saved[i])
            setenv(ca_vars[i], saved[i], 1);
        else
            unsetenv(ca_vars[i]);
        free(saved[i]);
    }
}

static void test_tls_proxy_rate_options(void **state)
{
    struct parsed p;
    char dir[] = "/tmp/gather-test-options.XXXXXX", file[64], *saved[3];
    int fd;

    (void)state;
    ca_env_clear(saved);
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/ca.pem", dir);
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);

    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--cacert", file, "--capath", dir, "--cert", file,
                                     "--key", file, "--proxy", "127.0.0.1:3128", "--noproxy",
                                     "localhost,.example.com", "--limit-rate", "1.5k",
                                     "--limit-rate-each", "2M", "--content-disposition"));
    assert_string_equal(p.o.http.ca_file, file);
    assert_string_equal(p.o.http.ca_path, dir);
    assert_string_equal(p.o.http.client_cert, file);
    assert_string_equal(p.o.http.client_key, file);
    assert_string_equal(p.o.http.proxy, "127.0.0.1:3128");
    assert_string_equal(p.o.http.noproxy, "localhost,.example.com");
    assert_int_equal(p.o.limit_rate, 1536);
    assert_non_null(p.o.http.rate);                    /* the run's budget, owned by o */
    assert_int_equal(p.o.http.rate_each, 2 * 1024 * 1024);
    assert_int_equal(p.o.content_disposition, 1);
    crawl_options_free(&p.o);
    assert_null(p.o.http.rate);

    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--proxy", ""));     /* no proxy, whatever the env */
    assert_string_equal(p.o.http.proxy, "");
    assert_null(p.o.http.rate);
    assert_null(p.o.http.ca_file);
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--proxy", "socks5h://h:1080", "--limit-rate", "1M", "http://h/"));
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_BENCH, ARGS("bench", "--proxy", "https://h", "--cacert", file));
    crawl_options_free(&p.o);

    parse_refused(CRAWL_CMD_GET, ARGS("get", "--cacert", "/nonexistent/ca.pem"),
                  "--cacert: cannot read '/nonexistent/ca.pem': No such file or directory");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--cacert", dir), "is a folder");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--capath", file), "is not a folder");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--cert", ""), "empty name");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--key", file), "--key needs --cert");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--proxy", "ftp://h:21"), "is not a proxy URL");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--limit-rate", "fast"), "'fast' is not a size");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--limit-rate-each", "-1"), "is not a size");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "--content-disposition", "http://h/"),
                  "'--content-disposition'");
    parse_refused(CRAWL_CMD_BENCH, ARGS("bench", "--limit-rate", "1M"), "'--limit-rate'");

    /* The CA from the environment when no option names one, as curl's tool reads it. */
    setenv("CURL_CA_BUNDLE", file, 1);
    setenv("SSL_CERT_FILE", "/nonexistent/ignored.pem", 1);    /* CURL_CA_BUNDLE wins */
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get"));
    assert_string_equal(p.o.http.ca_file, file);
    assert_null(p.o.http.ca_path);
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--capath", dir));   /* an option: no variable */
    assert_null(p.o.http.ca_file);
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--insecure"));      /* nothing to verify */
    assert_null(p.o.http.ca_file);
    crawl_options_free(&p.o);
    unsetenv("CURL_CA_BUNDLE");
    parse_refused(CRAWL_CMD_GET, ARGS("get"), "SSL_CERT_FILE: cannot read '/nonexistent/ignored.pem'");
    setenv("SSL_CERT_FILE", file, 1);
    setenv("SSL_CERT_DIR", dir, 1);
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get"));
    assert_string_equal(p.o.http.ca_file, file);
    assert_string_equal(p.o.http.ca_path, dir);
    crawl_options_free(&p.o);
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");

    unlink(file);
    rmdir(dir);
    ca_env_restore(saved);
}

static void test_missing_values(void **state)
{
    (void)state;
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-c"), "'-c' needs a value");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--output"), "'--output' needs a value");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "http://h/", "--depth"), "'--depth' needs a value");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-q", "-i"), "'-i' needs a value");
}

static void test_urls_and_input(void **state)
{
    struct parsed p;

    (void)state;
    /* Options may follow URLs (arguments are permuted), and URLs keep their order. */
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "http://a/", "-q", "http://b/", "-c", "3", "http://c/"));
    assert_int_equal(p.o.nurls, 3);
    assert_string_equal(p.o.urls[0], "http://a/");
    assert_string_equal(p.o.urls[1], "http://b/");
    assert_string_equal(p.o.urls[2], "http://c/");
    assert_null(p.o.input);
    assert_int_equal(p.o.quiet, 1);
    assert_int_equal(p.o.concurrency, 3);
    crawl_options_free(&p.o);

    parse_refused(CRAWL_CMD_GET, ARGS("get", "-i", "list.txt", "http://a/"), "not both");
    parse_refused(CRAWL_CMD_BENCH, ARGS("bench", "http://a/", "-i", "list.txt"), "not both");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-d", "1"), "start URL");
}

static void test_double_dash_ends_options(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "-q", "--", "-c", "5", "--json"));
    assert_int_equal(p.o.quiet, 1);
    assert_int_equal(p.o.concurrency, 16);             /* "-c 5" after -- is not an option */
    assert_int_equal(p.o.json, 0);
    assert_int_equal(p.o.nurls, 3);
    assert_string_equal(p.o.urls[0], "-c");
    assert_string_equal(p.o.urls[1], "5");
    assert_string_equal(p.o.urls[2], "--json");
    assert_null(p.o.input);
    crawl_options_free(&p.o);

    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "http://a/", "-d", "1", "--", "-x"));
    assert_int_equal(p.o.depth, 1);
    assert_int_equal(p.o.nurls, 2);
    assert_string_equal(p.o.urls[0], "http://a/");
    assert_string_equal(p.o.urls[1], "-x");
    crawl_options_free(&p.o);

    /* `--` alone: no URL, so the default list. */
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--"));
    assert_int_equal(p.o.nurls, 0);
    assert_string_equal(p.o.input, "urls.txt");
    crawl_options_free(&p.o);

    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-d", "1", "--"), "start URL");
}

static void test_clustered_short_options(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "-qv", "-c4"));
    assert_int_equal(p.o.quiet, 1);
    assert_int_equal(p.o.verbose, 1);
    assert_int_equal(p.o.concurrency, 4);
    crawl_options_free(&p.o);

    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "-qc", "8", "-oout"));
    assert_int_equal(p.o.quiet, 1);
    assert_int_equal(p.o.concurrency, 8);              /* the value is the next argument */
    assert_string_equal(p.o.outdir, "out");
    crawl_options_free(&p.o);

    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "-vqd3", "http://h/", "-vc12"));
    assert_int_equal(p.o.verbose, 2);
    assert_int_equal(p.o.quiet, 1);
    assert_int_equal(p.o.depth, 3);
    assert_int_equal(p.o.concurrency, 12);
    assert_int_equal(p.o.nurls, 1);
    crawl_options_free(&p.o);

    parse_refused(CRAWL_CMD_GET, ARGS("get", "-qc"), "needs a value");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-qc0"), "-c: '0'");
}

/* A bad option is named as given; an unknown letter inside a cluster by itself, and the letters
 * after it must not leak into the next parse (getopt keeps its place in a cluster between calls). */
static void test_bad_options_are_named(void **state)
{
    struct parsed p;

    (void)state;
    parse(&p, CRAWL_CMD_GET, ARGS("get", "-xq", "http://a/"));
    assert_int_equal(p.result, CRAWL_EXIT_USAGE);
    if (!strstr(p.err, "'-x'"))
        fail_msg("unknown option in -xq is not named '-x': %s", p.err);
    crawl_options_free(&p.o);

    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "http://b/"));
    assert_int_equal(p.o.quiet, 0);
    assert_int_equal(p.o.nurls, 1);
    assert_string_equal(p.o.urls[0], "http://b/");
    crawl_options_free(&p.o);

    parse_refused(CRAWL_CMD_GET, ARGS("get", "--json", "-Zq"), "'-Z'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-qZ"), "'-Z'");
    /* long options that take no value, given one; an ambiguous abbreviation */
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--quiet=1"), "'--quiet'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--json=yes"), "'--json'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--max", "3"), "'--max'");
}

/* getopt_long takes any unique prefix of a long option; gather takes none: a prefix changes its
 * meaning when an option is added ("--user" was --user-agent, "--head" ate the URL as a header). */
static void test_abbreviations_are_refused(void **state)
{
    struct parsed p;

    (void)state;
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--user-a", "x:y", "http://a/"),
                  "option '--user-a' is not spelled in full (did you mean --user-agent?)");
    parse(&p, CRAWL_CMD_GET, ARGS("get", "--head", "http://a/"));
    assert_int_equal(p.result, CRAWL_EXIT_USAGE);
    assert_non_null(strstr(p.err, "'--head' is not spelled in full"));
    assert_null(strstr(p.err, "http://a/"));           /* the option is blamed, not the URL */
    crawl_options_free(&p.o);
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--conc=3"), "'--conc' is not spelled in full");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--conc", "3"), "did you mean --concurrency?");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "http://h/", "--dept", "1"), "'--dept'");
    /* a prefix is refused as such, whether or not a value follows */
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "http://h/", "--dept"), "'--dept' is not spelled");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--quie=1"), "'--quie' is not spelled in full");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--re", "1"),
                  "did you mean --read-timeout, --retries, --retry-delay or --redis?");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "http://h/", "--re", "1"),
                  "did you mean --read-timeout, --retries, --retry-delay, --recursive, --reject or --redis?");
    /* "--he" is no way to ask for help */
    parse(&p, CRAWL_CMD_GET, ARGS("get", "--he"));
    assert_int_equal(p.result, CRAWL_EXIT_USAGE);
    assert_string_equal(p.out, "");
    crawl_options_free(&p.o);
    /* spelled in full, with or without '=', they work */
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--concurrency=3", "--header", "A: b", "--quiet",
                                     "--user-agent", "x:y", "http://a/"));
    assert_int_equal(p.o.concurrency, 3);
    assert_string_equal(p.o.http.user_agent, "x:y");
    assert_int_equal(p.o.nurls, 1);
    crawl_options_free(&p.o);
}

/* --user USER:PASSWORD splits at the first ':'; --password gives it apart; with neither and no
 * terminal (the tests' stdin is /dev/null) there is no password: a usage error, never a prompt. */
static void test_credentials(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--user", "ann:pa:ss", "http://a/"));
    assert_string_equal(p.o.http.username, "ann");
    assert_string_equal(p.o.http.password, "pa:ss");
    assert_string_equal(p.err, "");
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--password", "pw", "http://a/", "--user", "ann"));
    assert_string_equal(p.o.http.username, "ann");
    assert_string_equal(p.o.http.password, "pw");
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--user", "ann:", "http://a/"));   /* an empty one */
    assert_string_equal(p.o.http.password, "");
    crawl_options_free(&p.o);
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--user", "ann", "http://a/"), "no password");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--user", "ann:x", "--password", "y", "http://a/"),
                  "give it once");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--password", "y", "http://a/"), "with --user");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--user", ":x", "http://a/"), "user name is empty");
    parse_refused(CRAWL_CMD_BENCH, ARGS("bench", "--user", "a:b"), "did you mean --user-agent?");
    /* a refused --user never shows its password */
    parse(&p, CRAWL_CMD_GET, ARGS("get", "--user", ":s3cret", "http://a/"));
    assert_null(strstr(p.err, "s3cret"));
    crawl_options_free(&p.o);
    /* defaults: nothing to send, credentials kept to the hosts given */
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "http://a/"));
    assert_null(p.o.http.username);
    assert_int_equal(p.o.http.location_trusted + p.o.http.netrc, 0);
    assert_null(p.o.http.proxy_headers);
    assert_null(p.o.load_cookies);
    assert_null(p.o.save_cookies);
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--location-trusted", "--netrc", "--save-cookies", "j.txt",
                                     "http://a/"));
    assert_int_equal(p.o.http.location_trusted, 1);
    assert_int_equal(p.o.http.netrc, 1);
    assert_null(p.o.http.netrc_file);
    assert_string_equal(p.o.save_cookies, "j.txt");
    crawl_options_free(&p.o);
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--netrc-file", "/nonexistent/netrc"),
                  "--netrc-file: cannot read /nonexistent/netrc: No such file or directory");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--load-cookies", "/nonexistent/jar"),
                  "--load-cookies: cannot read /nonexistent/jar");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "--load-cookies", "/", "http://a/"), "Is a directory");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "--save-cookies", ""), "empty");
}

/* A Proxy-Authorization header is a proxy's: it goes to the proxy list, never to a server's. */
static void test_proxy_authorization_header(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "--header", "Authorization: Basic x", "--header",
                                     "proxy-authorization : Basic y", "--header", "X-Proxy-Authorization: z",
                                     "http://a/"));
    assert_non_null(p.o.http.headers);
    assert_string_equal(p.o.http.headers->data, "Authorization: Basic x");
    assert_string_equal(p.o.http.headers->next->data, "X-Proxy-Authorization: z");
    assert_null(p.o.http.headers->next->next);
    assert_non_null(p.o.http.proxy_headers);
    assert_string_equal(p.o.http.proxy_headers->data, "proxy-authorization : Basic y");
    assert_null(p.o.http.proxy_headers->next);
    crawl_options_free(&p.o);
}

/* ---- offline mirrors: wget's -m -k -p -E -nd -nH --cut-dirs -P ---------------------------------- */

static void test_mirror_options(void **state)
{
    struct parsed p;

    (void)state;
    parse(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "http://h/", "-m", "-k", "-p", "-E", "-nH",
                                    "--cut-dirs", "2", "-P", "mirror"));
    assert_int_equal(p.result, 0);
    assert_int_equal(p.o.depth, CRAWL_DEPTH_INF);
    assert_int_equal(p.o.timestamping, 1);
    assert_int_equal(p.o.layout, STORE_LAYOUT_TREE);
    assert_true(p.o.convert_links && p.o.page_requisites && p.o.adjust_extension);
    assert_int_equal(p.o.no_host_dirs, 1);
    assert_int_equal(p.o.cut_dirs, 2);
    assert_string_equal(p.o.outdir, "mirror");
    assert_int_equal(p.o.nurls, 1);
    crawl_options_free(&p.o);

    /* long spellings; an option after -m still changes what -m set */
    parse(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--mirror", "-d", "3", "--no-directories",
                                    "--convert-links", "--page-requisites", "--adjust-extension",
                                    "--no-host-directories", "--directory-prefix", "d2", "http://h/"));
    assert_int_equal(p.result, 0);
    assert_int_equal(p.o.depth, 3);
    assert_int_equal(p.o.layout, STORE_LAYOUT_FLAT);
    assert_true(p.o.convert_links && p.o.page_requisites && p.o.adjust_extension && p.o.no_host_dirs);
    assert_string_equal(p.o.outdir, "d2");
    crawl_options_free(&p.o);

    /* -nd is one option (not -n -d), and so is -nH; after "--" they are arguments */
    parse(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "-nd", "http://h/"));
    assert_int_equal(p.result, 0);
    assert_int_equal(p.o.layout, STORE_LAYOUT_FLAT);
    assert_int_equal(p.o.depth, 5);          /* the default */
    crawl_options_free(&p.o);
    parse(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "http://h/", "--", "-nH"));
    assert_int_equal(p.result, 0);
    assert_int_equal(p.o.no_host_dirs, 0);
    assert_int_equal(p.o.nurls, 2);
    crawl_options_free(&p.o);

    /* -P is -o for get too, and empty is refused alike */
    parse(&p, CRAWL_CMD_GET, ARGS("get", "-P", "", "http://h/"));
    assert_int_equal(p.result, CRAWL_EXIT_USAGE);
    assert_non_null(strstr(p.err, "-P: the output folder name is empty"));
    crawl_options_free(&p.o);
    parse(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--cut-dirs", "-1", "http://h/"));
    assert_int_equal(p.result, CRAWL_EXIT_USAGE);
    crawl_options_free(&p.o);

    /* --help shows both spellings */
    parse(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--help"));
    assert_int_equal(p.result, -1);
    assert_non_null(strstr(p.out, "-P, --directory-prefix DIR"));
    assert_non_null(strstr(p.out, "-o, --output DIR"));
    assert_non_null(strstr(p.out, "-nd, --no-directories"));
    assert_non_null(strstr(p.out, "-k, --convert-links"));
    crawl_options_free(&p.o);
}


/* ---- --help and crawl_options_main ------------------------------------------------------------- */

static void test_help(void **state)
{
    static const struct {
        crawl_cmd_t cmd;
        const char *name, *usage, *own, *foreign;
    } cases[] = {
        { CRAWL_CMD_GET, "get", "usage: gather get", "--timestamping", "--depth" },
        { CRAWL_CMD_CRAWL, "crawl", "usage: gather crawl", "--scope", "--modes" },
        { CRAWL_CMD_BENCH, "bench", "usage: gather bench", "--modes", "--retry-delay" },
    };

    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        struct parsed p;

        parse(&p, cases[i].cmd, ARGS(cases[i].name, "-c", "3", "--help", "--bogus"));
        assert_int_equal(p.result, -1);                /* help wins, stops before --bogus */
        assert_non_null(strstr(p.out, cases[i].usage));
        assert_non_null(strstr(p.out, cases[i].own));
        assert_null(strstr(p.out, cases[i].foreign));
        assert_non_null(strstr(p.out, "Exit status"));
        assert_string_equal(p.err, "");
        crawl_options_free(&p.o);
    }
}

static int runs;
static long run_saw_concurrency;

static int run_record(crawl_options_t *o)
{
    runs++;
    run_saw_concurrency = o->concurrency;
    return 7;
}

/* crawl_options_main with stdout and stderr sent to /dev/null. */
static int main_quietly(crawl_cmd_t cmd, const char *const *args)
{
    char *argv[MAX_ARGS + 1] = { 0 };
    int argc = 0, saved_out, saved_err, devnull, result;

    while (args[argc]) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    fflush(stdout);
    fflush(stderr);
    devnull = open("/dev/null", O_WRONLY);
    saved_out = dup(STDOUT_FILENO);
    saved_err = dup(STDERR_FILENO);
    assert_true(devnull >= 0 && saved_out >= 0 && saved_err >= 0);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    result = crawl_options_main(cmd, argc, argv, run_record);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    close(devnull);
    return result;
}

static void test_options_main(void **state)
{
    (void)state;
    runs = 0;
    assert_int_equal(main_quietly(CRAWL_CMD_GET, ARGS("get", "-c", "5", "http://a/")), 7);
    assert_int_equal(runs, 1);
    assert_int_equal(run_saw_concurrency, 5);
    assert_int_equal(main_quietly(CRAWL_CMD_GET, ARGS("get", "-c", "0")), CRAWL_EXIT_USAGE);
    assert_int_equal(main_quietly(CRAWL_CMD_CRAWL, ARGS("crawl")), CRAWL_EXIT_USAGE);
    assert_int_equal(main_quietly(CRAWL_CMD_BENCH, ARGS("bench", "-h")), CRAWL_EXIT_OK);
    /* The header lists, regexes and lists are freed whatever the outcome (ASan checks it). */
    assert_int_equal(main_quietly(CRAWL_CMD_CRAWL, ARGS("crawl", "--header", "A: b", "--include", "x",
                                                        "--accept", "jpg", "--bogus", "http://h/")),
                     CRAWL_EXIT_USAGE);
    assert_int_equal(runs, 1);                         /* run only for good options */
}

/* ---- wget's spellings ------------------------------------------------------------------------ */

static void test_wget_spellings(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "-r", "-l", "inf", "-np", "-nc", "-N", "-U", "bot/3",
                                       "-A", "*.jpg,png", "-R", "exe", "-H", "-D", "a.example,b.example",
                                       "-e", "robots=off", "-w", "0.25", "--random-wait", "http://h/"));
    assert_int_equal(p.o.depth, CRAWL_DEPTH_INF);
    assert_int_equal(p.o.no_parent, 1);
    assert_int_equal(p.o.no_clobber, 1);
    assert_int_equal(p.o.timestamping, 1);
    assert_string_equal(p.o.http.user_agent, "bot/3");
    assert_string_equal(p.o.filter.accept[0], "*.jpg");
    assert_string_equal(p.o.filter.accept[1], "png");
    assert_string_equal(p.o.filter.reject[0], "exe");
    assert_int_equal(p.o.scope, CRAWL_SCOPE_ANY);
    assert_string_equal(p.o.domains, "a.example,b.example");
    assert_int_equal(p.o.robots, 0);
    assert_int_equal(p.o.delay_ms, 250);
    assert_int_equal(p.o.random_wait, 1);
    assert_int_equal(p.o.nurls, 1);
    assert_string_equal(p.o.urls[0], "http://h/");
    assert_string_equal(p.err, "");
    crawl_options_free(&p.o);

    /* the long names, and gather's own beside them */
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--recursive", "--level=4", "--no-parent",
                                       "--no-clobber", "--timestamping", "--span-hosts",
                                       "--domains", "x.example", "--execute", "robots = off",
                                       "--wait=1m", "http://h/"));
    assert_int_equal(p.o.depth, 4);
    assert_int_equal(p.o.no_parent + p.o.no_clobber + p.o.timestamping, 3);
    assert_int_equal(p.o.scope, CRAWL_SCOPE_ANY);
    assert_int_equal(p.o.robots, 0);
    assert_int_equal(p.o.delay_ms, 60000);
    crawl_options_free(&p.o);

    /* -e: the commands gather has, in wget's forms; anything else refused by name */
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--no-robots", "-e", "robots=on", "-e", "wait=3",
                                       "-e", "randomwait=on", "http://h/"));
    assert_int_equal(p.o.robots, 1);
    assert_int_equal(p.o.delay_ms, 3000);
    assert_int_equal(p.o.random_wait, 1);
    crawl_options_free(&p.o);
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-e", "robots=maybe", "http://h/"), "robots is on or off");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-e", "convert_links=on", "http://h/"),
                  "-e: 'convert_links=on' is not a command gather knows");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-e", "robots", "http://h/"), "-e: 'robots'");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-D", ",", "http://h/"), "-D: ',' names no domain");
    /* crawl-only spellings stay crawl's */
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-np", "http://h/"), "'-n' in '-np'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-l", "2", "http://h/"), "'-l'");
    parse_refused(CRAWL_CMD_GET, ARGS("get", "-r", "http://h/"), "'-r'");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "http://h/", "-l"), "needs a value");
    /* get takes -N, -nc and -U */
    parse_ok(&p, CRAWL_CMD_GET, ARGS("get", "-nc", "-N", "-U", "b/1", "http://h/"));
    assert_int_equal(p.o.no_clobber + p.o.timestamping, 2);
    assert_string_equal(p.o.http.user_agent, "b/1");
    crawl_options_free(&p.o);
}

/* -np and -nc are whole arguments before "--", never an option's value nor a cluster's tail. */
static void test_multi_letter_prepass(void **state)
{
    struct parsed p;

    (void)state;
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "-o", "-np", "http://h/"));
    assert_string_equal(p.o.outdir, "-np");            /* -o's value, as getopt and wget read it */
    assert_int_equal(p.o.no_parent, 0);
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "--output", "-nc", "--header=X: -np", "http://h/"));
    assert_string_equal(p.o.outdir, "-nc");
    assert_int_equal(p.o.no_clobber + p.o.no_parent, 0);
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "-qo", "-np", "-np", "http://h/"));
    assert_string_equal(p.o.outdir, "-np");            /* the cluster's last letter takes a value */
    assert_int_equal(p.o.no_parent, 1);                /* the argument after it is an option */
    crawl_options_free(&p.o);
    parse_ok(&p, CRAWL_CMD_CRAWL, ARGS("crawl", "-np", "http://h/", "--", "-np"));
    assert_int_equal(p.o.no_parent, 1);
    assert_int_equal(p.o.nurls, 2);
    assert_string_equal(p.o.urls[1], "-np");           /* after "--": an argument */
    crawl_options_free(&p.o);
    /* not a whole argument: a cluster of -n and -p, as before */
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-npq", "http://h/"), "'-n' in '-npq'");
    parse_refused(CRAWL_CMD_CRAWL, ARGS("crawl", "-qnp", "http://h/"), "'-n' in '-qnp'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_get),
        cmocka_unit_test(test_defaults_crawl),
        cmocka_unit_test(test_defaults_bench),
        cmocka_unit_test(test_numbers_and_bounds),
        cmocka_unit_test(test_max_filesize_suffixes),
        cmocka_unit_test(test_enumerated_values),
        cmocka_unit_test(test_strings_flags_and_lists),
        cmocka_unit_test(test_verbosity),
        cmocka_unit_test(test_options_belong_to_their_commands),
        cmocka_unit_test(test_tls_proxy_rate_options),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_urls_and_input),
        cmocka_unit_test(test_double_dash_ends_options),
        cmocka_unit_test(test_clustered_short_options),
        cmocka_unit_test(test_bad_options_are_named),
        cmocka_unit_test(test_abbreviations_are_refused),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_proxy_authorization_header),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_mirror_options),
        cmocka_unit_test(test_options_main),
        cmocka_unit_test(test_wget_spellings),
        cmocka_unit_test(test_multi_letter_prepass),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
