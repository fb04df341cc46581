/* test_rjob.c - storage/rjob.c and its Lua scripts against a real redis-server started by the
 * test: offer (the seen set, its aligned search, re-queueing failures), claim (fields, workers,
 * leases, levels, the end of a job), ack, release, the host gate and the heartbeat. What each
 * script did is read back from Redis over a second, blocking connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/redis_server.h"

#include "storage/rjob.h"
#include "storage/rjob_lua.h"

#define WAIT_MS 5000
#define LEASE_MS 1000
#define JOB "t"
#define P "gather:{" JOB "}:"

/* ---- a fresh job on a fresh loop per test ---------------------------------------------------- */

struct env {
    rs_loop_t l;
    redis_client_t *client;
    redisContext *rc;           /* blocking: to look at what the scripts did */
    rjob_t w1, w2, w3;          /* three workers of one job on one client */
};

static void worker_as(rjob_t *w, const rjob_t *from, const char *name)
{
    *w = *from;
    snprintf(w->worker, sizeof(w->worker), "%s", name);
}

static redisReply *rreply(struct env *e, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = rs_vreply(e->rc, fmt, ap);
    va_end(ap);
    return r;
}

/* An integer reply, a string reply read as one (nil: -1), or an array's length. */
static long long rnum(struct env *e, const char *fmt, ...)
{
    va_list ap;
    long long v;

    va_start(ap, fmt);
    v = rs_vnum(e->rc, fmt, ap);
    va_end(ap);
    return v;
}

/* A string reply compared with want (NULL: nil). */
static void assert_rstr(struct env *e, const char *want, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(e->rc, fmt, ap);
    va_end(ap);
    if (!r)
        fail_msg("redis: %s", e->rc->errstr);
    if (!want)
        assert_int_equal(r->type, REDIS_REPLY_NIL);
    else {
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_string_equal(r->str, want);
    }
    freeReplyObject(r);
}

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    redis_addr_t addr = { .host = "127.0.0.1", .port = server.port };

    assert_non_null(e);
    snprintf(addr.shown, sizeof(addr.shown), "redis://127.0.0.1:%d", server.port);
    assert_non_null(e->rc = rs_connect(server.port));
    freeReplyObject(rreply(e, "FLUSHALL"));
    assert_int_equal(rs_loop_init(&e->l), 0);
    assert_non_null(e->client = redis_client_new(&e->l.sched, &addr, 5000));
    assert_int_equal(rjob_init(&e->w1, e->client, JOB, LEASE_MS), 0);
    assert_string_equal(e->w1.prefix, P);
    worker_as(&e->w1, &e->w1, "w1");
    worker_as(&e->w2, &e->w1, "w2");
    worker_as(&e->w3, &e->w1, "w3");
    redis_client_start(e->client);
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

/* Runs the loop until f resolves; its value. */
static long await_value(struct env *e, future_t *f)
{
    long v;

    assert_non_null(f);
    if (!rs_run_until(&e->l, f, WAIT_MS))
        fail_msg("a call did not settle within %d ms", WAIT_MS);
    if (future_state(f) != FUTURE_DONE)
        fail_msg("the call failed: %d (%s)", future_error(f), redis_client_error(e->client));
    v = (long)(intptr_t)future_result(f);
    future_unref(f);
    return v;
}

static rjob_offer_t page(const char *url)
{
    return (rjob_offer_t){ .url = url, .origin = "http://a.test", .kind = 'p', .seed = 0 };
}

static long offer1(struct env *e, int level, int requeue, const char *url)
{
    rjob_offer_t o = page(url);

    return await_value(e, rjob_offer(&e->w1, level, requeue, &o, 1));
}

/* Claims up to max for w into *c, expecting status. */
static void claim(struct env *e, rjob_t *w, size_t max, rjob_claim_t *c, rjob_claim_status_t status)
{
    assert_int_equal(await_value(e, rjob_claim(w, max, 0, c)), 0);
    assert_int_equal(c->status, status);
}

static rjob_result_t result(char outcome, const char *json, const char *error, const char *holder)
{
    return (rjob_result_t){ .outcome = outcome, .json = json, .bytes = 100, .error = error,
                            .holder = holder };
}

/* ---- offer ----------------------------------------------------------------------------------- */

/* A URL is queued once however often it is offered; the counter and the stream agree. */
static void test_offer_adds_each_url_once(void **state)
{
    struct env *e = *state;
    rjob_offer_t twice[2] = { page("http://a.test/x"), page("http://a.test/x") };
    rjob_offer_t *many = calloc(1000, sizeof(*many));
    char (*urls)[64] = calloc(1000, sizeof(*urls));

    assert_non_null(many);
    assert_non_null(urls);
    assert_int_equal(await_value(e, rjob_offer(&e->w1, 0, 0, twice, 2)), 1);
    assert_int_equal(await_value(e, rjob_offer(&e->w1, 0, 0, twice, 1)), 0);
    assert_int_equal(await_value(e, rjob_offer(&e->w1, 0, 1, twice, 1)), 0);   /* not failed */
    for (int i = 0; i < 1000; i++) {
        snprintf(urls[i], sizeof(urls[i]), "http://a.test/page/%d", i);
        many[i] = page(urls[i]);
    }
    assert_int_equal(await_value(e, rjob_offer(&e->w1, 0, 0, many, 1000)), 1000);
    assert_int_equal(await_value(e, rjob_offer(&e->w1, -1, 0, many, 1000)), 0);
    assert_int_equal(rnum(e, "HGET " P "meta queued"), 1001);
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 1001);
    assert_int_equal(rnum(e, "HGET " P "backlog http://a.test"), 1001);
    free(many);
    free(urls);
}

/* A URL whose ack said 'f' is queued again only when the offer asks for it. */
static void test_offer_requeues_a_failed_url_only_with_the_flag(void **state)
{
    struct env *e = *state;
    rjob_result_t failed = result('f', "{\"ok\":false}", "timeout", "");
    rjob_result_t done = result('d', "{\"ok\":true}", "", "");
    rjob_claim_t c;

    assert_int_equal(offer1(e, 0, 0, "http://a.test/bad"), 1);
    assert_int_equal(offer1(e, 0, 0, "http://a.test/good"), 1);
    claim(e, &e->w1, 2, &c, RJOB_CLAIM_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.entries[0]->url, "http://a.test/bad");
    assert_int_equal(await_value(e, rjob_ack(&e->w1, c.entries[0], &failed)), 1);
    assert_int_equal(await_value(e, rjob_ack(&e->w1, c.entries[1], &done)), 1);
    rjob_claim_clear(&c);
    assert_int_equal(rnum(e, "HGET " P "meta failed"), 1);

    assert_int_equal(offer1(e, 0, 0, "http://a.test/bad"), 0);
    assert_int_equal(offer1(e, 0, 1, "http://a.test/good"), 0);     /* succeeded: stays done */
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 0);
    assert_int_equal(offer1(e, 0, 1, "http://a.test/bad"), 1);
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 1);
    assert_int_equal(rnum(e, "HEXISTS " P "failed http://a.test/bad"), 0);
    assert_int_equal(rnum(e, "HGET " P "meta failed"), 0);
    assert_int_equal(offer1(e, 0, 1, "http://a.test/bad"), 0);      /* queued, not failed now */
    claim(e, &e->w1, 2, &c, RJOB_CLAIM_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.entries[0]->url, "http://a.test/bad");
    rjob_claim_clear(&c);
}

/* The offer script itself, called with a hand-made 8-byte fingerprint; the number queued. */
static long long offer_fp(struct env *e, const unsigned char fp[8], const char *url)
{
    const char *argv[] = { "EVAL", rjob_lua_offer, "1", P, "0", "0",
                           (const char *)fp, url, "http://a.test", "0", "p", "0", "0", "" };
    size_t lens[sizeof(argv) / sizeof(argv[0])];
    redisReply *r;
    long long v;

    for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
        lens[i] = i == 6 ? 8 : strlen(argv[i]);
    r = redisCommandArgv(e->rc, (int)(sizeof(argv) / sizeof(argv[0])), argv, lens);
    assert_non_null(r);
    if (r->type != REDIS_REPLY_INTEGER)
        fail_msg("offer: %s", r->type == REDIS_REPLY_ERROR ? r->str : "not an integer");
    v = r->integer;
    freeReplyObject(r);
    return v;
}

/* The seen set keeps 6-byte remainders back to back in a bucket's string: a remainder that
 * appears there only across two stored ones is not "seen", and one stored after such a false
 * match is still found. */
static void test_seen_bucket_search_is_aligned(void **state)
{
    struct env *e = *state;
    /* All four share the bucket 0x12 * 64 + 0x34 / 4 = 0x048d. */
    const unsigned char a[8] = { 0x12, 0x34, 'q', 'a', 'b', 'c', 'd', 'e' };
    const unsigned char b[8] = { 0x12, 0x34, 'f', 'z', 'z', 'z', 'z', 'z' };
    const unsigned char c[8] = { 0x12, 0x34, 'a', 'b', 'c', 'd', 'e', 'f' };    /* "qabcdefzzzzz" */
    const unsigned char d[8] = { 0x12, 0x35, 'a', 'b', 'c', 'd', 'e', 'f' };    /* same bucket */

    assert_int_equal(offer_fp(e, a, "http://a.test/a"), 1);
    assert_int_equal(offer_fp(e, b, "http://a.test/b"), 1);
    assert_rstr(e, "qabcdefzzzzz", "GET " P "seen:048d");
    assert_int_equal(offer_fp(e, c, "http://a.test/c"), 1);
    assert_rstr(e, "qabcdefzzzzzabcdef", "GET " P "seen:048d");
    /* Now "abcdef" is there twice: across a and b first, then aligned. */
    assert_int_equal(offer_fp(e, c, "http://a.test/c"), 0);
    assert_int_equal(offer_fp(e, d, "http://a.test/d"), 0);        /* the same 14 + 48 bits */
    assert_int_equal(offer_fp(e, a, "http://a.test/a"), 0);
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 3);
    assert_int_equal(rnum(e, "HGET " P "meta queued"), 3);
}

/* ---- claim ----------------------------------------------------------------------------------- */

static void assert_entry(const rjob_entry_t *got, const rjob_offer_t *want, int level)
{
    assert_non_null(got->id);
    assert_true(strchr(got->id, '-') != NULL);
    assert_string_equal(got->url, want->url);
    assert_string_equal(got->origin, want->origin);
    assert_int_equal(got->depth, want->depth);
    assert_int_equal(got->kind, want->kind);
    assert_int_equal(got->hops, want->hops);
    assert_int_equal(got->seed, want->seed);
    if (want->parent)
        assert_string_equal(got->parent, want->parent);
    else
        assert_null(got->parent);
    assert_int_equal(got->level, level);
}

/* Claims hand out whole entries, each to one worker; a worker that stops beating loses its
 * entries to another once the lease has passed, and only then. */
static void test_claim_gives_fields_and_reclaims_after_the_lease(void **state)
{
    struct env *e = *state;
    rjob_offer_t o[3] = {
        { "http://a.test/1", "http://a.test", 2, 3, 'a', 7, "http://a.test/" },
        { "http://b.test:8080/2", "http://b.test:8080", 0, 0, 'p', -1, NULL },
        { "http://a.test/3", "http://a.test", 5, 1, 'p', 12, "http://a.test/1" },
    };
    rjob_claim_t c1, c2, c3;

    assert_int_equal(await_value(e, rjob_offer(&e->w1, 0, 0, o, 3)), 3);
    claim(e, &e->w1, 2, &c1, RJOB_CLAIM_OK);
    assert_int_equal(c1.level, 0);
    assert_int_equal(c1.n, 2);
    assert_entry(c1.entries[0], &o[0], 0);
    assert_entry(c1.entries[1], &o[1], 0);
    assert_false(c1.entries[0]->reclaimed);
    claim(e, &e->w2, 5, &c2, RJOB_CLAIM_OK);
    assert_int_equal(c2.n, 1);
    assert_entry(c2.entries[0], &o[2], 0);
    assert_false(c2.entries[0]->reclaimed);
    {
        rjob_result_t r = result('d', "{}", "", "");
        assert_int_equal(await_value(e, rjob_ack(&e->w2, c2.entries[0], &r)), 1);
    }
    rjob_claim_clear(&c2);

    /* w1 holds two entries and is alive as far as anyone knows. */
    claim(e, &e->w3, 5, &c3, RJOB_CLAIM_WAIT);
    assert_int_equal(c3.n, 0);
    rs_run_for(&e->l, LEASE_MS + 150);
    claim(e, &e->w3, 5, &c3, RJOB_CLAIM_OK);
    assert_int_equal(c3.n, 2);
    assert_entry(c3.entries[0], &o[0], 0);
    assert_entry(c3.entries[1], &o[1], 0);
    assert_true(c3.entries[0]->reclaimed);
    assert_true(c3.entries[1]->reclaimed);
    assert_string_equal(c3.entries[0]->id, c1.entries[0]->id);
    assert_int_equal(rnum(e, "XPENDING " P "q:0 w - + 10 w1"), 0);
    assert_int_equal(rnum(e, "XPENDING " P "q:0 w - + 10 w3"), 2);
    rjob_claim_clear(&c1);
    rjob_claim_clear(&c3);
}

/* A job with nothing queued is over unless a producer is still adding URLs. */
static void test_claim_on_an_empty_job_waits_for_producers(void **state)
{
    struct env *e = *state;
    rjob_claim_t c;

    claim(e, &e->w1, 4, &c, RJOB_CLAIM_DONE);
    assert_int_equal(c.n, 0);
    assert_int_equal(await_value(e, rjob_beat(&e->w2, 1, NULL, 0)), 0);
    claim(e, &e->w1, 4, &c, RJOB_CLAIM_WAIT);
    assert_int_equal(c.n, 0);
    assert_int_equal(await_value(e, rjob_producer_done(&e->w2)), 0);
    claim(e, &e->w1, 4, &c, RJOB_CLAIM_DONE);

    /* Emptied by acknowledgements: over as well. */
    assert_int_equal(offer1(e, 0, 0, "http://a.test/only"), 1);
    claim(e, &e->w1, 4, &c, RJOB_CLAIM_OK);
    {
        rjob_result_t r = result('d', "{}", "", "");
        assert_int_equal(await_value(e, rjob_ack(&e->w1, c.entries[0], &r)), 1);
    }
    rjob_claim_clear(&c);
    claim(e, &e->w1, 4, &c, RJOB_CLAIM_DONE);
}

/* Level L + 1 starts only when all of level L is acknowledged. */
static void test_levels_open_one_after_another(void **state)
{
    struct env *e = *state;
    rjob_offer_t next[2] = { page("http://a.test/n1"), page("http://a.test/n2") };
    rjob_result_t r = result('d', "{}", "", "");
    rjob_claim_t c0, c;

    assert_int_equal(offer1(e, 0, 0, "http://a.test/"), 1);
    next[0].depth = next[1].depth = 1;
    assert_int_equal(await_value(e, rjob_offer(&e->w1, 1, 0, next, 2)), 2);
    claim(e, &e->w1, 1, &c0, RJOB_CLAIM_OK);
    assert_int_equal(c0.n, 1);
    assert_string_equal(c0.entries[0]->url, "http://a.test/");
    claim(e, &e->w2, 4, &c, RJOB_CLAIM_WAIT);      /* level 0 still pending */
    assert_int_equal(c.n, 0);
    assert_int_equal(c.level, 0);
    assert_int_equal(rnum(e, "HGET " P "meta level"), -1);
    assert_int_equal(await_value(e, rjob_ack(&e->w1, c0.entries[0], &r)), 1);
    rjob_claim_clear(&c0);
    claim(e, &e->w2, 4, &c, RJOB_CLAIM_OK);
    assert_int_equal(c.level, 1);
    assert_int_equal(c.n, 2);
    assert_entry(c.entries[0], &next[0], 1);
    assert_entry(c.entries[1], &next[1], 1);
    assert_int_equal(rnum(e, "HGET " P "meta level"), 1);
    /* An offer at the current level (-1) now goes to level 1. */
    assert_int_equal(offer1(e, -1, 0, "http://a.test/n3"), 1);
    assert_int_equal(rnum(e, "XLEN " P "q:1"), 3);
    rjob_claim_clear(&c);
}

/* ---- ack, release ---------------------------------------------------------------------------- */

/* The first ack counts; another worker's later ack is a repeat; the same ack sent again (after
 * a reconnect) is neither. The entry leaves the stream; res and failed keep what was sent. */
static void test_ack_counts_once_and_records_the_outcome(void **state)
{
    struct env *e = *state;
    rjob_result_t ok1 = result('d', "{\"ok\":true,\"worker\":\"w1\"}", "", "w1/slot");
    rjob_result_t ok2 = result('d', "{\"ok\":true,\"worker\":\"w2\"}", "", "");
    rjob_result_t bad = result('f', "{\"ok\":false,\"worker\":\"w1\"}", "HTTP 503", "");
    rjob_claim_t c;

    assert_int_equal(offer1(e, 0, 0, "http://a.test/1"), 1);
    assert_int_equal(offer1(e, 0, 0, "http://a.test/2"), 1);
    claim(e, &e->w1, 2, &c, RJOB_CLAIM_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(await_value(e, rjob_gate(&e->w1, "http://a.test", "w1/slot", 2, 0)), 0);

    assert_int_equal(await_value(e, rjob_ack(&e->w1, c.entries[0], &ok1)), 1);
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 1);
    assert_int_equal(rnum(e, "ZSCORE " P "slots:http://a.test w1/slot"), -1);
    assert_rstr(e, ok1.json, "HGET " P "res http://a.test/1");
    assert_int_equal(await_value(e, rjob_ack(&e->w2, c.entries[0], &ok2)), 0);
    assert_int_equal(rnum(e, "HGET " P "meta repeats"), 1);
    assert_int_equal(await_value(e, rjob_ack(&e->w1, c.entries[0], &ok1)), 1);
    assert_int_equal(rnum(e, "HGET " P "meta repeats"), 1);
    assert_int_equal(rnum(e, "HGET " P "meta done"), 1);
    assert_rstr(e, ok1.json, "HGET " P "res http://a.test/1");

    assert_int_equal(await_value(e, rjob_ack(&e->w1, c.entries[1], &bad)), 1);
    assert_rstr(e, bad.json, "HGET " P "res http://a.test/2");
    assert_rstr(e, "HTTP 503", "HGET " P "failed http://a.test/2");
    assert_int_equal(rnum(e, "HGET " P "meta failed"), 1);
    assert_int_equal(rnum(e, "HGET " P "meta done"), 1);
    assert_int_equal(rnum(e, "HGET " P "meta bytes"), 200);
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 0);
    assert_int_equal(rnum(e, "XPENDING " P "q:0 w - + 10"), 0);
    assert_int_equal(rnum(e, "HEXISTS " P "backlog http://a.test"), 0);
    rjob_claim_clear(&c);
}

/* A released entry can be claimed again at once, by anyone, as a fresh entry. */
static void test_release_gives_the_entry_back_at_once(void **state)
{
    struct env *e = *state;
    rjob_claim_t c1, c2;

    assert_int_equal(offer1(e, 0, 0, "http://a.test/r"), 1);
    claim(e, &e->w1, 1, &c1, RJOB_CLAIM_OK);
    assert_int_equal(c1.n, 1);
    assert_int_equal(await_value(e, rjob_gate(&e->w1, "http://a.test", "w1/r", 1, 0)), 0);
    claim(e, &e->w2, 1, &c2, RJOB_CLAIM_WAIT);
    assert_int_equal(await_value(e, rjob_release(&e->w1, c1.entries[0], "w1/r")), 1);
    assert_int_equal(rnum(e, "ZCARD " P "slots:http://a.test"), 0);
    claim(e, &e->w2, 1, &c2, RJOB_CLAIM_OK);
    assert_int_equal(c2.n, 1);
    assert_string_equal(c2.entries[0]->url, "http://a.test/r");
    assert_false(c2.entries[0]->reclaimed);
    assert_string_not_equal(c2.entries[0]->id, c1.entries[0]->id);
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 1);
    /* Releasing it again (the old id) changes nothing. */
    assert_int_equal(await_value(e, rjob_release(&e->w1, c1.entries[0], "")), 0);
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 1);
    rjob_claim_clear(&c1);
    rjob_claim_clear(&c2);
}

/* ---- the host gate --------------------------------------------------------------------------- */

/* At most `limit` holders; a freed slot is granted; a holder asking again keeps its slot. */
static void test_gate_limits_holders(void **state)
{
    struct env *e = *state;
    const char *o = "http://g.test:80";

    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "h1", 2, 0)), 0);
    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "h2", 2, 0)), 0);
    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "h3", 2, 0)), RJOB_GATE_BUSY);
    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "h1", 2, 0)), 0);
    assert_int_equal(rnum(e, "ZCARD " P "slots:%s", o), 2);
    assert_int_equal(await_value(e, rjob_ungate(&e->w1, o, "h1")), 0);
    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "h3", 2, 0)), 0);
    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "h1", 2, 0)), RJOB_GATE_BUSY);
}

/* A delay makes the next holder wait at most that long. */
static void test_gate_delay_makes_the_next_holder_wait(void **state)
{
    struct env *e = *state;
    const char *o = "http://d.test:80";
    long wait;

    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "h1", 4, 300)), 0);
    wait = await_value(e, rjob_gate(&e->w2, o, "h2", 4, 300));
    assert_in_range(wait, 1, 300);
    assert_int_equal(rnum(e, "ZCARD " P "slots:%s", o), 1);
    /* Another origin is not delayed. */
    assert_int_equal(await_value(e, rjob_gate(&e->w2, "http://other.test:80", "h2", 4, 300)), 0);
}

/* A holder whose lease ran out (its worker died) no longer counts. */
static void test_gate_drops_expired_holders(void **state)
{
    struct env *e = *state;
    const char *o = "http://x.test:80";

    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "h1", 1, 0)), 0);
    assert_int_equal(await_value(e, rjob_gate(&e->w2, o, "h2", 1, 0)), RJOB_GATE_BUSY);
    rs_run_for(&e->l, LEASE_MS + 150);
    assert_int_equal(await_value(e, rjob_gate(&e->w2, o, "h2", 1, 0)), 0);
    assert_int_equal(rnum(e, "ZSCORE " P "slots:%s h1", o), -1);
}

/* ---- heartbeat ------------------------------------------------------------------------------- */

/* A beat renews the lease of the entries and slots a worker holds: past the first lease they
 * stay its own; once beats stop, another worker takes them, and the next beat says so. */
static void test_beat_keeps_held_entries(void **state)
{
    struct env *e = *state;
    const char *o = "http://a.test";
    rjob_claim_t c1, c2;
    rjob_held_t held;
    long long before;

    assert_int_equal(offer1(e, 0, 0, "http://a.test/long"), 1);
    claim(e, &e->w1, 1, &c1, RJOB_CLAIM_OK);
    assert_int_equal(c1.n, 1);
    assert_int_equal(await_value(e, rjob_gate(&e->w1, o, "w1/long", 1, 0)), 0);
    held = (rjob_held_t){ .level = 0, .id = c1.entries[0]->id, .origin = o, .holder = "w1/long" };
    before = rnum(e, "ZSCORE " P "slots:%s w1/long", o);

    rs_run_for(&e->l, LEASE_MS / 2);
    assert_int_equal(await_value(e, rjob_beat(&e->w1, 0, &held, 1)), 0);
    assert_true(rnum(e, "ZSCORE " P "slots:%s w1/long", o) > before);
    assert_true(rnum(e, "ZSCORE " P "workers w1") > 0);
    rs_run_for(&e->l, LEASE_MS / 2 + 150);          /* past the claim's lease, not the beat's */
    claim(e, &e->w2, 1, &c2, RJOB_CLAIM_WAIT);
    assert_int_equal(c2.n, 0);
    assert_int_equal(await_value(e, rjob_gate(&e->w2, o, "w2/x", 1, 0)), RJOB_GATE_BUSY);

    rs_run_for(&e->l, LEASE_MS / 2);                /* now past the beat's lease too */
    claim(e, &e->w2, 1, &c2, RJOB_CLAIM_OK);
    assert_int_equal(c2.n, 1);
    assert_true(c2.entries[0]->reclaimed);
    assert_int_equal(await_value(e, rjob_beat(&e->w1, 0, &held, 1)), 1);
    rjob_claim_clear(&c1);
    rjob_claim_clear(&c2);
}

/* A claim ahead takes more than asked while plenty is left (at most half of what is left per
 * live worker, at most `ahead`), and nothing more near the end; a claim of 0 ahead that finds
 * nothing to take ahead says ok (its caller asks again at once), not wait. */
static void test_claim_ahead_takes_extra_only_while_plenty_is_left(void **state)
{
    struct env *e = *state;
    rjob_claim_t c;
    char url[64];

    for (int i = 0; i < 100; i++) {
        snprintf(url, sizeof(url), "http://a.test/ahead/%d", i);
        assert_int_equal(offer1(e, 0, 0, url), 1);
    }
    /* 100 left, one live worker: 1 asked + min(10, (100 - 1) / 2) */
    assert_int_equal(await_value(e, rjob_claim(&e->w1, 1, 10, &c)), 0);
    assert_int_equal(c.status, RJOB_CLAIM_OK);
    assert_int_equal(c.n, 11);
    rjob_claim_clear(&c);
    /* 89 left, now two live workers (w2 claims): 2 + min(40, (89 - 2) / 4) = 2 + 21 */
    assert_int_equal(await_value(e, rjob_claim(&e->w2, 2, 40, &c)), 0);
    assert_int_equal(c.n, 23);
    rjob_claim_clear(&c);
    /* 66 left: take 64 plainly, then 2 left: 1 + (2 - 1) / 4 = 1, nothing extra */
    claim(e, &e->w1, 64, &c, RJOB_CLAIM_OK);
    assert_int_equal(c.n, 64);
    rjob_claim_clear(&c);
    assert_int_equal(await_value(e, rjob_claim(&e->w1, 1, 10, &c)), 0);
    assert_int_equal(c.n, 1);
    rjob_claim_clear(&c);
    /* 1 left: a claim ahead alone ((1 - 0) / 4 = 0) takes nothing and says ok */
    assert_int_equal(await_value(e, rjob_claim(&e->w1, 0, 10, &c)), 0);
    assert_int_equal(c.status, RJOB_CLAIM_OK);
    assert_int_equal(c.n, 0);
    rjob_claim_clear(&c);
    assert_int_equal(rnum(e, "XLEN " P "q:0"), 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_offer_adds_each_url_once, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_offer_requeues_a_failed_url_only_with_the_flag, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_seen_bucket_search_is_aligned, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_claim_gives_fields_and_reclaims_after_the_lease, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_claim_on_an_empty_job_waits_for_producers, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_claim_ahead_takes_extra_only_while_plenty_is_left, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_levels_open_one_after_another, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_ack_counts_once_and_records_the_outcome, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_release_gives_the_entry_back_at_once, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_gate_limits_holders, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_gate_delay_makes_the_next_holder_wait, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_gate_drops_expired_holders, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_beat_keeps_held_entries, env_setup, env_teardown),
    };

    return cmocka_run_group_tests(tests, rs_group_setup, rs_group_teardown);
}
