/* tests/unit/test_redis_addr.c: --redis URLs parsed or refused, passwords masked in every
 * message, $GATHER_REDIS_PASSWORD, and the AUTH/SELECT commands they ask for. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/redis/addr.h"

struct good_case {
    const char *url;
    const char *host;       /* NULL: a unix socket */
    int port;
    const char *socket;
    const char *user;
    const char *password;
    int db;
    const char *shown;
};

static void test_good_urls(void **state)
{
    static const struct good_case cases[] = {
        { "redis://127.0.0.1", "127.0.0.1", 6379, NULL, NULL, NULL, 0, "redis://127.0.0.1" },
        { "redis://localhost:7000/3", "localhost", 7000, NULL, NULL, NULL, 3, "redis://localhost:7000/3" },
        { "REDIS://h/", "h", 6379, NULL, NULL, NULL, 0, "REDIS://h/" },
        { "redis://h:6380/15", "h", 6380, NULL, NULL, NULL, 15, "redis://h:6380/15" },
        { "redis://h/123", "h", 6379, NULL, NULL, NULL, 123, "redis://h/123" },
        { "redis://[::1]:7001/2", "::1", 7001, NULL, NULL, NULL, 2, "redis://[::1]:7001/2" },
        { "redis://:secret@h/1", "h", 6379, NULL, NULL, "secret", 1, "redis://:***@h/1" },
        { "redis://alice:s%40c%3Ar%2Ft@h:1/0", "h", 1, NULL, "alice", "s@c:r/t", 0,
          "redis://alice:***@h:1/0" },
        { "redis://b%C3%B8b:p%20w@[::1]", "::1", 6379, NULL, "b\xc3\xb8" "b", "p w", 0,
          "redis://b%C3%B8b:***@[::1]" },
        { "redis://:@h", "h", 6379, NULL, NULL, NULL, 0, "redis://:***@h" },
        { "unix:///run/redis/redis.sock", NULL, 0, "/run/redis/redis.sock", NULL, NULL, 0,
          "unix:///run/redis/redis.sock" },
        { "unix:///tmp/r.sock?db=7", NULL, 0, "/tmp/r.sock", NULL, NULL, 7, "unix:///tmp/r.sock?db=7" },
    };
    redis_addr_t a;
    char err[256];

    (void)state;
    unsetenv("GATHER_REDIS_PASSWORD");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct good_case *c = &cases[i];
        err[0] = 0;
        if (redis_addr_parse(c->url, &a, err, sizeof(err)) != 0)
            fail_msg("%s: refused: %s", c->url, err);
        if (c->host)
            assert_string_equal(a.host, c->host);
        else
            assert_null(a.host);
        if (c->socket)
            assert_string_equal(a.socket, c->socket);
        else
            assert_null(a.socket);
        if (c->user)
            assert_string_equal(a.user, c->user);
        else
            assert_null(a.user);
        if (c->password)
            assert_string_equal(a.password, c->password);
        else
            assert_null(a.password);
        if (c->host)
            assert_int_equal(a.port, c->port);
        assert_int_equal(a.db, c->db);
        assert_string_equal(a.shown, c->shown);
        redis_addr_clear(&a);
        assert_null(a.host);
    }
}

struct bad_case {
    const char *url;
    const char *why;        /* a piece of the message */
};

static void test_bad_urls(void **state)
{
    static const struct bad_case cases[] = {
        { "rediss://h:6380/0", "TLS" },
        { "http://h/", "not a Redis URL" },
        { "h:6379", "not a Redis URL" },
        { "", "not a Redis URL" },
        { "redis://", "" },
        { "redis://h/x", "database number" },
        { "redis://h/-1", "database number" },
        { "redis://h/1/2", "database number" },
        { "redis://h/1x", "database number" },
        { "redis://h/ 1", "" },
        { "redis://h/1234567890", "database number" },
        { "redis://h/0?x=1", "nothing may follow" },
        { "redis://h/0#f", "nothing may follow" },
        { "redis://h:0", "1 to 65535" },
        { "redis://h:65536", "" },
        { "redis://h:port", "" },
        { "redis://[::1/0", "" },
        { "redis://alice@h", "no password" },
        { "unix://", "socket's path" },
        { "unix://?db=1", "socket's path" },
        { "unix:///s?db=x", "?db=N" },
        { "unix:///s?foo=1", "?db=N" },
    };
    redis_addr_t a;
    char err[256];

    (void)state;
    unsetenv("GATHER_REDIS_PASSWORD");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        err[0] = 0;
        if (redis_addr_parse(c->url, &a, err, sizeof(err)) == 0)
            fail_msg("%s: accepted (host %s db %d)", c->url, a.host ? a.host : "-", a.db);
        /* every message starts with the URL it is about */
        if (strncmp(err, c->url, strlen(c->url)) != 0 || strncmp(err + strlen(c->url), ": ", 2) != 0)
            fail_msg("%s: message does not name it: %s", c->url, err);
        if (!strstr(err, c->why))
            fail_msg("%s: message without '%s': %s", c->url, c->why, err);
        assert_null(a.host);
        assert_null(a.socket);
        assert_null(a.user);
        assert_null(a.password);
        redis_addr_clear(&a);
    }
}

/* A password never reaches a message, whether the URL parses or not. */
static void test_password_masked_in_messages(void **state)
{
    static const char *urls[] = {
        "rediss://u:hunter2@h/0",
        "redis://u:hunter2@h/zz",
        "redis://:hunter2@h:99999",
        "redis://u:hun/ter2@h/0",       /* an unencoded '/' in the password */
        "redis://u:hunter2@h@h2/0",     /* an unencoded '@' in it */
        "redis://:hunter2@h/0?q",
        "ftp://u:hunter2@h/",
    };
    redis_addr_t a;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        err[0] = 0;
        if (redis_addr_parse(urls[i], &a, err, sizeof(err)) == 0)
            fail_msg("%s: accepted", urls[i]);
        if (strstr(err, "hunter") || strstr(err, "ter2") || !strstr(err, "***"))
            fail_msg("%s: password not masked: %s", urls[i], err);
        if (strstr(a.shown, "ter2"))
            fail_msg("%s: shown: %s", urls[i], a.shown);
        redis_addr_clear(&a);
    }
}

static void test_env_password(void **state)
{
    redis_addr_t a;
    char err[256];

    (void)state;
    setenv("GATHER_REDIS_PASSWORD", "from-env", 1);
    assert_int_equal(redis_addr_parse("redis://h/0", &a, err, sizeof(err)), 0);
    assert_string_equal(a.password, "from-env");
    assert_null(a.user);
    assert_string_equal(a.shown, "redis://h/0");
    redis_addr_clear(&a);

    /* the URL's own password wins */
    assert_int_equal(redis_addr_parse("redis://:mine@h/0", &a, err, sizeof(err)), 0);
    assert_string_equal(a.password, "mine");
    redis_addr_clear(&a);

    /* a user without a password in the URL takes the environment's */
    assert_int_equal(redis_addr_parse("redis://alice@h/0", &a, err, sizeof(err)), 0);
    assert_string_equal(a.user, "alice");
    assert_string_equal(a.password, "from-env");
    redis_addr_clear(&a);

    assert_int_equal(redis_addr_parse("unix:///s", &a, err, sizeof(err)), 0);
    assert_string_equal(a.password, "from-env");
    redis_addr_clear(&a);

    /* empty is unset */
    setenv("GATHER_REDIS_PASSWORD", "", 1);
    assert_int_equal(redis_addr_parse("redis://h/0", &a, err, sizeof(err)), 0);
    assert_null(a.password);
    redis_addr_clear(&a);
    unsetenv("GATHER_REDIS_PASSWORD");
    assert_int_equal(redis_addr_parse("redis://h/0", &a, err, sizeof(err)), 0);
    assert_null(a.password);
    redis_addr_clear(&a);
}

/* The command redis_addr_hello fills, as one string "ARG ARG ...", or "" for none. */
static void hello_of(const char *url, int i, char *out, size_t n)
{
    redis_addr_t a;
    char err[256], buf[16];
    const char *argv[3];
    size_t lens[3];
    int argc;

    if (redis_addr_parse(url, &a, err, sizeof(err)) != 0)
        fail_msg("%s: %s", url, err);
    argc = redis_addr_hello(&a, i, argv, lens, buf);
    out[0] = 0;
    for (int k = 0; k < argc; k++) {
        assert_int_equal(lens[k], strlen(argv[k]));
        snprintf(out + strlen(out), n - strlen(out), "%s%s", k ? " " : "", argv[k]);
    }
    redis_addr_clear(&a);
}

static void test_hello_commands(void **state)
{
    char cmd[128];

    (void)state;
    unsetenv("GATHER_REDIS_PASSWORD");
    hello_of("redis://h", 0, cmd, sizeof(cmd));
    assert_string_equal(cmd, "");
    hello_of("redis://h", 1, cmd, sizeof(cmd));
    assert_string_equal(cmd, "");
    hello_of("redis://:pw@h/0", 0, cmd, sizeof(cmd));
    assert_string_equal(cmd, "AUTH pw");
    hello_of("redis://bob:p%20w@h/12", 0, cmd, sizeof(cmd));
    assert_string_equal(cmd, "AUTH bob p w");
    hello_of("redis://bob:p%20w@h/12", 1, cmd, sizeof(cmd));
    assert_string_equal(cmd, "SELECT 12");
    hello_of("unix:///s?db=3", 1, cmd, sizeof(cmd));
    assert_string_equal(cmd, "SELECT 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_password_masked_in_messages),
        cmocka_unit_test(test_env_password),
        cmocka_unit_test(test_hello_commands),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
