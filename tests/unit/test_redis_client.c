/* test_redis_client.c - net/redis/client.c against a real redis-server started by the test:
 * replies in order, calls made before the connection, calls that outlive a killed connection or
 * a restarted server, giving up on a server that is gone, error replies, and closing with calls
 * pending. What the server did is checked over a second, blocking connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/redis_server.h"

#include "net/redis/client.h"

#define WAIT_MS 5000
#define NCALLS 200

/* ---- a loop per test; the server is started again if a test stopped it ---------------------- */

struct env {
    rs_loop_t l;
    redis_client_t *client;     /* closed by the teardown unless the test did */
    redisContext *rc;           /* blocking: to look at the server, and act on it */
};

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    assert_non_null(e);
    if (!server.pid)
        assert_int_equal(rs_start(&server), 0);
    assert_non_null(e->rc = rs_connect(server.port));
    assert_int_equal(rs_loop_init(&e->l), 0);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;

    redis_client_close(e->client);
    assert_int_equal(rs_loop_close(&e->l), 0);      /* no handle left open */
    redisFree(e->rc);
    free(e);
    return 0;
}

static redis_client_t *client_new_auth(struct env *e, int port, long giveup_ms, char *password)
{
    redis_addr_t addr = { .host = "127.0.0.1", .port = port, .password = password };

    snprintf(addr.shown, sizeof(addr.shown), "redis://127.0.0.1:%d", port);
    assert_non_null(e->client = redis_client_new(&e->l.sched, &addr, giveup_ms));
    return e->client;
}

static redis_client_t *client_new(struct env *e, int port, long giveup_ms)
{
    return client_new_auth(e, port, giveup_ms, NULL);
}

/* A blocking command that must succeed; its reply freed. */
static void rdo(struct env *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    freeReplyObject(rs_vreply(e->rc, fmt, ap));
    va_end(ap);
}

/* A blocking command's number (rs_vnum). */
static long long rnum(struct env *e, const char *fmt, ...)
{
    va_list ap;
    long long v;

    va_start(ap, fmt);
    v = rs_vnum(e->rc, fmt, ap);
    va_end(ap);
    return v;
}

/* Clients the server holds blocked (BLPOP). */
static long blocked_clients(struct env *e)
{
    redisReply *r = redisCommand(e->rc, "INFO clients");
    const char *at;
    long n = -1;

    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    if ((at = strstr(r->str, "blocked_clients:")))
        n = strtol(at + strlen("blocked_clients:"), NULL, 10);
    freeReplyObject(r);
    return n;
}

/* Runs the loop until the server holds n blocked clients. */
static void run_until_blocked(struct env *e, long n)
{
    for (int waited = 0; blocked_clients(e) != n; waited += 10) {
        if (waited > WAIT_MS)
            fail_msg("the server never had %ld blocked clients", n);
        rs_run_for(&e->l, 10);
    }
}

/* ---- calls ----------------------------------------------------------------------------------- */

/* What a call's parse saw, and when its future's callback ran. */
struct slot {
    int *order;                 /* settle order: indexes */
    int *norder;
    int index;
};

/* An integer, a string read as one, BLPOP's [key, value] (the value), or PONG (1). */
static long parse_num(const redisReply *r, void *arg)
{
    (void)arg;
    if (r->type == REDIS_REPLY_INTEGER)
        return (long)r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtol(r->str, NULL, 10);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
        return strtol(r->element[1]->str, NULL, 10);
    if (r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG"))
        return 1;
    return -EPROTO;
}

static future_t *call(redis_client_t *c, const char *a0, const char *a1, const char *a2)
{
    const char *argv[3] = { a0, a1, a2 };
    int argc = a2 ? 3 : a1 ? 2 : 1;
    future_t *f = redis_client_call(c, argc, argv, NULL, parse_num, NULL);

    assert_non_null(f);
    return f;
}

/* Runs the loop until f settles: its value, or fails the test (f is released either way). */
static long await_value(struct env *e, future_t *f)
{
    long v;

    if (!rs_run_until(&e->l, f, WAIT_MS))
        fail_msg("a call did not settle within %d ms", WAIT_MS);
    if (future_state(f) != FUTURE_DONE)
        fail_msg("the call failed: %d (%s)", future_error(f), redis_client_error(e->client));
    v = (long)(intptr_t)future_result(f);
    future_unref(f);
    return v;
}

/* Runs the loop until f settles and checks it failed with error. */
static void await_error(struct env *e, future_t *f, int error)
{
    if (!rs_run_until(&e->l, f, WAIT_MS))
        fail_msg("a call did not settle within %d ms", WAIT_MS);
    assert_int_equal(future_state(f), FUTURE_FAILED);
    assert_int_equal(future_error(f), error);
    future_unref(f);
}

static void on_settled(future_t *f, void *arg)
{
    struct slot *s = arg;

    (void)f;
    s->order[(*s->norder)++] = s->index;
}

/* Replies come back to the calls in the order they were made, and settle in that order; the
 * first call was made before the client started connecting. */
static void test_calls_resolve_in_order(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new(e, server.port, 5000);
    future_t *f[NCALLS];
    struct slot slots[NCALLS];
    int order[NCALLS], norder = 0;

    rdo(e, "DEL n");
    for (int i = 0; i < NCALLS; i++) {
        if (i == 1)
            redis_client_start(c);
        f[i] = call(c, "INCR", "n", NULL);
        slots[i] = (struct slot){ order, &norder, i };
        assert_int_equal(future_on_done(f[i], on_settled, &slots[i]), 0);
    }
    assert_true(rs_run_until(&e->l, f[NCALLS - 1], WAIT_MS));
    rs_run_for(&e->l, 1);                           /* the callbacks run on a later turn */
    for (int i = 0; i < NCALLS; i++)
        assert_int_equal(await_value(e, f[i]), i + 1);
    assert_int_equal(norder, NCALLS);
    for (int i = 0; i < NCALLS; i++)
        assert_int_equal(order[i], i);
    assert_int_equal(rnum(e, "GET n"), NCALLS);
    assert_int_equal(redis_client_connects(c), 1);
}

/* A call made right after the start, before the loop ran, waits for the connection. */
static void test_a_call_before_the_connection_completes(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new(e, server.port, 5000);
    future_t *f;

    redis_client_start(c);
    f = call(c, "PING", NULL, NULL);
    assert_int_equal(redis_client_connects(c), 0);  /* connecting, not connected */
    assert_false(future_is_done(f));
    assert_int_equal(await_value(e, f), 1);
    assert_int_equal(redis_client_connects(c), 1);
    assert_int_equal(redis_client_dead(c), 0);
}

/* The server closes the connection while a call blocks and more wait behind it: after the
 * reconnect they are all sent again and resolve, each run once. */
static void test_calls_survive_a_killed_connection(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new(e, server.port, 5000);
    future_t *pop, *incr[5];

    rdo(e, "DEL n l");
    redis_client_start(c);
    assert_int_equal(await_value(e, call(c, "PING", NULL, NULL)), 1);
    pop = call(c, "BLPOP", "l", "0");
    for (int i = 0; i < 5; i++)
        incr[i] = call(c, "INCR", "n", NULL);
    run_until_blocked(e, 1);                        /* the INCRs wait behind the BLPOP */
    assert_true(rnum(e, "CLIENT KILL TYPE normal") >= 1);  /* SKIPME: not this connection */
    run_until_blocked(e, 0);
    run_until_blocked(e, 1);                        /* sent again on a new connection */
    assert_int_equal(redis_client_connects(c), 2);
    assert_false(future_is_done(pop));
    rdo(e, "LPUSH l 42");
    assert_int_equal(await_value(e, pop), 42);
    for (int i = 0; i < 5; i++)
        assert_int_equal(await_value(e, incr[i]), i + 1);
    assert_int_equal(rnum(e, "GET n"), 5);
    assert_int_equal(redis_client_dead(c), 0);
}

/* Redis restarts (empty: no persistence) while calls wait: they resolve once it is back, and
 * the scripts are loaded again on the new server before any EVALSHA. */
static void test_calls_survive_a_server_restart(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new(e, server.port, 10000);
    const char *args[] = { "41" };
    int script = redis_client_script(c, "return tonumber(ARGV[1]) + 1");
    int port = server.port;
    future_t *pop, *incr[3], *eval;

    assert_true(script >= 0);
    rdo(e, "DEL n l");
    redis_client_start(c);
    assert_int_equal(await_value(e, redis_client_eval(c, script, 0, 1, args, NULL, parse_num, NULL)), 42);
    pop = call(c, "BLPOP", "l", "0");
    run_until_blocked(e, 1);
    redisFree(e->rc);
    e->rc = NULL;
    rs_stop(&server);
    for (int i = 0; i < 3; i++)
        incr[i] = call(c, "INCR", "n", NULL);
    assert_non_null(eval = redis_client_eval(c, script, 0, 1, args, NULL, parse_num, NULL));
    rs_run_for(&e->l, 300);                         /* reconnects are refused meanwhile */
    assert_false(future_is_done(incr[0]));
    assert_false(future_is_done(eval));
    assert_int_equal(rs_start_on(&server, port), 0);
    assert_non_null(e->rc = rs_connect(port));
    run_until_blocked(e, 1);                        /* the BLPOP again, the rest behind it */
    assert_false(future_is_done(eval));
    rdo(e, "LPUSH l 7");
    assert_int_equal(await_value(e, pop), 7);
    for (int i = 0; i < 3; i++)
        assert_int_equal(await_value(e, incr[i]), i + 1);
    assert_int_equal(await_value(e, eval), 42);
    assert_int_equal(redis_client_connects(c), 2);  /* refused attempts do not count */
    assert_int_equal(redis_client_dead(c), 0);
}

/* A server that never comes back: after giveup_ms the waiting calls fail, and so does any new
 * one; the client is dead. */
static void test_a_server_that_stays_away_fails_the_calls(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new(e, server.port, 500);
    future_t *f[3];

    redis_client_start(c);
    assert_int_equal(await_value(e, call(c, "PING", NULL, NULL)), 1);
    rs_stop(&server);                               /* the next test's setup starts another */
    for (int i = 0; i < 3; i++)
        f[i] = call(c, "INCR", "n", NULL);
    for (int i = 0; i < 3; i++)
        await_error(e, f[i], -ENOTCONN);
    assert_int_equal(redis_client_dead(c), 1);
    assert_true(redis_client_connects(c) >= 1);
    await_error(e, call(c, "PING", NULL, NULL), -ENOTCONN);
}

/* Nothing ever listens on the port: the same, and the error says why. */
static void test_nothing_listening_fails_the_calls(void **state)
{
    struct env *e = *state;
    int port = rs_free_port();
    redis_client_t *c = client_new(e, port, 500);
    future_t *before, *after;

    assert_true(port > 0);
    before = call(c, "PING", NULL, NULL);
    redis_client_start(c);
    after = call(c, "PING", NULL, NULL);
    await_error(e, before, -ENOTCONN);
    await_error(e, after, -ENOTCONN);
    assert_int_equal(redis_client_dead(c), 1);
    assert_int_equal(redis_client_connects(c), 0);
    assert_non_null(strstr(redis_client_error(c), "refused"));
}

/* A refused hello (AUTH with a password the server does not have) is fatal: the calls waiting
 * behind it fail with -EACCES, though their replies (errors too) still arrive on that connection,
 * and the client lets go of the loop. */
static void test_a_refused_hello_fails_the_calls(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new_auth(e, server.port, 5000, "wrong");
    future_t *f[3];

    for (int i = 0; i < 3; i++)
        f[i] = call(c, "INCR", "n", NULL);
    redis_client_start(c);
    for (int i = 0; i < 3; i++)
        await_error(e, f[i], -EACCES);
    rs_run_for(&e->l, 100);                         /* the replies to those calls come in */
    assert_int_equal(redis_client_dead(c), 1);
    assert_non_null(strstr(redis_client_error(c), "AUTH"));
    await_error(e, call(c, "PING", NULL, NULL), -ENOTCONN);
}

/* An error reply fails that call alone, with its text kept; the connection stays. */
static void test_an_error_reply_fails_the_call(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new(e, server.port, 5000);
    future_t *bad, *next;

    rdo(e, "SET s abc");
    redis_client_start(c);
    bad = call(c, "INCR", "s", NULL);
    next = call(c, "PING", NULL, NULL);
    await_error(e, bad, -EPROTO);
    assert_non_null(strstr(redis_client_error(c), "not an integer"));
    assert_int_equal(await_value(e, next), 1);
    await_error(e, call(c, "NOSUCHCOMMAND", NULL, NULL), -EPROTO);
    assert_non_null(strstr(redis_client_error(c), "unknown command"));
    assert_int_equal(redis_client_oom(c), 0);
    assert_int_equal(redis_client_connects(c), 1);
    assert_int_equal(redis_client_dead(c), 0);
}

/* Closing fails every pending call at once, and the client lets go of the loop: the teardown's
 * uv_loop_close must find no handle. */
static void test_close_cancels_pending_calls(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new(e, server.port, 5000);
    future_t *pop, *incr;

    rdo(e, "DEL l");
    redis_client_start(c);
    pop = call(c, "BLPOP", "l", "0");
    incr = call(c, "INCR", "n", NULL);
    run_until_blocked(e, 1);
    redis_client_close(c);
    e->client = NULL;
    assert_int_equal(future_state(pop), FUTURE_FAILED);
    assert_int_equal(future_error(pop), -ECANCELED);
    assert_int_equal(future_state(incr), FUTURE_FAILED);
    assert_int_equal(future_error(incr), -ECANCELED);
    future_unref(pop);
    future_unref(incr);
    run_until_blocked(e, 0);                        /* the connection is closed */
}

/* The same while the client waits to reconnect (its retry timer running). */
static void test_close_while_reconnecting(void **state)
{
    struct env *e = *state;
    redis_client_t *c = client_new(e, rs_free_port(), 60000);
    future_t *f;

    redis_client_start(c);
    f = call(c, "PING", NULL, NULL);
    rs_run_for(&e->l, 150);                         /* refused at least once */
    assert_false(future_is_done(f));
    redis_client_close(c);
    e->client = NULL;
    assert_int_equal(future_error(f), -ECANCELED);
    future_unref(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_calls_resolve_in_order, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_call_before_the_connection_completes, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_calls_survive_a_killed_connection, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_calls_survive_a_server_restart, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_server_that_stays_away_fails_the_calls, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_nothing_listening_fails_the_calls, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_hello_fails_the_calls, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_an_error_reply_fails_the_call, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_pending_calls, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_close_while_reconnecting, env_setup, env_teardown),
    };

    return cmocka_run_group_tests(tests, rs_group_setup, rs_group_teardown);
}
