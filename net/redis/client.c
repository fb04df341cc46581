/* redis_client: hiredis's async context on the loop, with calls that outlive a connection. */
#include "net/redis/client.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <openssl/evp.h>

#include "net/async/list.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 2000

struct redis_call {
    list_t link;
    char *cmd;                  /* the command in the protocol (redisFormatCommandArgv) */
    size_t len;
    unsigned long sent_on;      /* the connection it was last sent on (0: not sent) */
    future_t *fut;
    redis_parse_fn parse;
    void *arg;
};

struct redis_client {
    sched_t *sched;
    redis_addr_t addr;
    redisAsyncContext *ac;      /* NULL while disconnected */
    unsigned long conn;         /* connection attempts: ac is number conn */
    unsigned long connects;     /* attempts that connected */
    list_t calls;               /* every call not answered yet, in order */
    const char *scripts[REDIS_CLIENT_MAX_SCRIPTS];
    char shas[REDIS_CLIENT_MAX_SCRIPTS][41];
    int nscripts;
    uv_timer_t retry;           /* the next reconnect */
    long backoff_ms;
    uint64_t down_since;        /* uv_now when the connection was last lost (0: up) */
    long giveup_ms;
    int dead, oom, closing, reported;
    char error[256];
};

static void client_connect(redis_client_t *c);

/* ---- hiredis on libuv -------------------------------------------------------------------------
 * Our own adapter rather than hiredis 0.14's adapters/libuv.h, which drops a poll that ends in
 * an error (`if (status != 0) return;`): a reconnect to a port that refuses then never reaches
 * hiredis and the client waits forever. Here an error is handed to hiredis as the events it
 * waited for, so it reads the socket's error and reports the failure. */

struct redis_ev {
    redisAsyncContext *ac;      /* NULL once hiredis let go of the connection */
    uv_poll_t poll;
    int events;
};

static void ev_on_poll(uv_poll_t *h, int status, int events)
{
    struct redis_ev *p = h->data;
    int ev = status < 0 ? p->events : events;

    if (p->ac && (ev & UV_READABLE))
        redisAsyncHandleRead(p->ac);
    if (p->ac && (ev & UV_WRITABLE))
        redisAsyncHandleWrite(p->ac);
}

static void ev_update(struct redis_ev *p, int events)
{
    p->events = events;
    if (events)
        (void)uv_poll_start(&p->poll, events, ev_on_poll);   /* fails only on a bad fd: hiredis
                                                             * sees the error at its next read */
    else
        (void)uv_poll_stop(&p->poll);
}

static void ev_add_read(void *d) { struct redis_ev *p = d; ev_update(p, p->events | UV_READABLE); }
static void ev_del_read(void *d) { struct redis_ev *p = d; ev_update(p, p->events & ~UV_READABLE); }
static void ev_add_write(void *d) { struct redis_ev *p = d; ev_update(p, p->events | UV_WRITABLE); }
static void ev_del_write(void *d) { struct redis_ev *p = d; ev_update(p, p->events & ~UV_WRITABLE); }

static void ev_on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void ev_cleanup(void *d)
{
    struct redis_ev *p = d;

    p->ac = NULL;
    uv_close((uv_handle_t *)&p->poll, ev_on_closed);
}

static int ev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    struct redis_ev *p = calloc(1, sizeof(*p));

    if (!p || ac->ev.data)
        goto fail;
    if (uv_poll_init(loop, &p->poll, ac->c.fd) != 0)
        goto fail;
    p->ac = ac;
    p->poll.data = p;
    ac->ev.data = p;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    return 0;
fail:
    free(p);
    return -1;
}

/* ---- calls ----------------------------------------------------------------------------------- */

static void call_free(struct redis_call *call)
{
    list_remove(&call->link);
    future_unref(call->fut);
    free(call->cmd);
    free(call);
}

static void call_fail(struct redis_call *call, int error)
{
    future_fail(call->fut, error);
    call_free(call);
}

static void client_fail_all(redis_client_t *c, int error)
{
    while (!list_empty(&c->calls))
        call_fail(container_of(c->calls.next, struct redis_call, link), error);
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata);

static void call_send(redis_client_t *c, struct redis_call *call)
{
    if (!c->ac || call->sent_on == c->conn)
        return;
    if (redisAsyncFormattedCommand(c->ac, on_reply, call, call->cmd, call->len) != REDIS_OK)
        return;         /* the context is going away: sent again after the reconnect */
    call->sent_on = c->conn;
}

static int reply_is(const redisReply *r, const char *prefix)
{
    return r->type == REDIS_REPLY_ERROR && r->str && !strncmp(r->str, prefix, strlen(prefix));
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_call *call = privdata;
    redis_client_t *c = ac->data;
    redisReply *reply = r;
    long v = 0;

    /* Closing or dead: every call was failed already and `call` is freed (a refused hello
     * fails them while their replies are still on the way). */
    if (!reply || c->closing || c->dead || call->sent_on != c->conn)
        return;         /* lost with its connection: sent again on the next one */
    if (reply_is(reply, "NOSCRIPT") || reply_is(reply, "LOADING") || reply_is(reply, "BUSY")) {
        /* Scripts flushed, Redis still loading its data or busy with a script: start over on a
         * new connection, which loads the scripts first. */
        snprintf(c->error, sizeof(c->error), "%s", reply->str);
        redisAsyncDisconnect(ac);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(c->error, sizeof(c->error), "%s", reply->str ? reply->str : "error");
        if (reply_is(reply, "OOM"))
            c->oom = 1;
        call_fail(call, c->oom && reply_is(reply, "OOM") ? -ENOMEM : -EPROTO);
        return;
    }
    if (call->parse)
        v = call->parse(reply, call->arg);
    if (v < 0)
        future_fail(call->fut, (int)v);
    else
        future_resolve(call->fut, (void *)(intptr_t)v);
    call_free(call);
}

future_t *redis_client_call(redis_client_t *c, int argc, const char **argv, const size_t *lens,
                            redis_parse_fn parse, void *arg)
{
    struct redis_call *call;
    future_t *fut;
    long long n;

    if (c->dead)
        return future_new_failed(c->sched, -ENOTCONN);
    if (!(call = calloc(1, sizeof(*call))))
        return NULL;
    if ((n = redisFormatCommandArgv(&call->cmd, argc, argv, lens)) < 0 ||
        !(call->fut = future_new(c->sched))) {
        free(call->cmd);
        free(call);
        return NULL;
    }
    call->len = (size_t)n;
    call->parse = parse;
    call->arg = arg;
    list_insert_tail(&c->calls, &call->link);
    fut = future_ref(call->fut);
    call_send(c, call);
    return fut;
}

future_t *redis_client_eval(redis_client_t *c, int script, int numkeys, int argc, const char **argv,
                            const size_t *lens, redis_parse_fn parse, void *arg)
{
    const char **av = malloc((size_t)(argc + 3) * sizeof(*av));
    size_t *al = malloc((size_t)(argc + 3) * sizeof(*al));
    char nk[16];
    future_t *f = NULL;

    if (!av || !al || script < 0 || script >= c->nscripts)
        goto cleanup;
    snprintf(nk, sizeof(nk), "%d", numkeys);
    av[0] = "EVALSHA", al[0] = 7;
    av[1] = c->shas[script], al[1] = 40;
    av[2] = nk, al[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = lens ? lens[i] : strlen(argv[i]);
    }
    f = redis_client_call(c, argc + 3, av, al, parse, arg);
cleanup:
    free(av);
    free(al);
    return f;
}

/* ---- the connection -------------------------------------------------------------------------- */

static void client_schedule(redis_client_t *c);

/* The connection is gone (or never came): give up after giveup_ms, else try again later. */
static void client_lost(redis_client_t *c)
{
    uint64_t now = uv_now(c->sched->loop);

    c->ac = NULL;
    if (c->closing || c->dead)
        return;
    if (!c->down_since)
        c->down_since = now;
    if (now - c->down_since >= (uint64_t)c->giveup_ms) {
        c->dead = 1;
        fprintf(stderr, "gather: %s: no connection for %.1f s (%s): giving up\n", c->addr.shown,
                (double)c->giveup_ms / 1000.0, c->error[0] ? c->error : "unreachable");
        client_fail_all(c, -ENOTCONN);
        return;
    }
    if (!c->reported && c->connects > 0) {
        c->reported = 1;
        fprintf(stderr, "gather: %s: connection lost (%s); reconnecting\n", c->addr.shown,
                c->error[0] ? c->error : "closed");
    }
    client_schedule(c);
}

static void on_retry(uv_timer_t *t)
{
    redis_client_t *c = t->data;

    client_connect(c);
}

static void client_schedule(redis_client_t *c)
{
    long ms = c->backoff_ms;

    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
    if (uv_timer_start(&c->retry, on_retry, (uint64_t)ms, 0) != 0) {
        c->dead = 1;
        client_fail_all(c, -ENOTCONN);
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_client_t *c = ac->data;

    if (status != REDIS_OK && ac->errstr)
        snprintf(c->error, sizeof(c->error), "%s", ac->errstr);
    client_lost(c);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    redis_client_t *c = ac->data;

    if (status == REDIS_OK) {
        c->connects++;
        return;
    }
    /* hiredis frees the context after this (without calling on_disconnect). */
    snprintf(c->error, sizeof(c->error), "%s", ac->errstr ? ac->errstr : "cannot connect");
    client_lost(c);
}

/* The reply to AUTH, SELECT or SCRIPT LOAD on a new connection: an error there is fatal (a
 * wrong password, no such database) except while Redis loads its data. */
static void on_hello(redisAsyncContext *ac, void *r, void *privdata)
{
    redis_client_t *c = ac->data;
    redisReply *reply = r;

    (void)privdata;
    if (!reply || c->closing || c->dead)
        return;
    if (reply_is(reply, "LOADING")) {
        snprintf(c->error, sizeof(c->error), "%s", reply->str);
        redisAsyncDisconnect(ac);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        c->dead = 1;
        fprintf(stderr, "gather: %s: %s\n", c->addr.shown, reply->str ? reply->str : "refused");
        snprintf(c->error, sizeof(c->error), "%s", reply->str ? reply->str : "refused");
        client_fail_all(c, -EACCES);
        redisAsyncDisconnect(ac);
        return;
    }
    if (privdata == (void *)c && c->reported) {     /* the last hello of a reconnect */
        c->reported = 0;
        c->down_since = 0;
        c->backoff_ms = BACKOFF_FIRST_MS;
        fprintf(stderr, "gather: %s: reconnected\n", c->addr.shown);
    } else if (privdata == (void *)c) {
        c->down_since = 0;
        c->backoff_ms = BACKOFF_FIRST_MS;
    }
}

static int client_hello(redis_client_t *c)
{
    const char *argv[3];
    size_t lens[3];
    char buf[16];
    int n;

    for (int i = 0; i < 2; i++)
        if ((n = redis_addr_hello(&c->addr, i, argv, lens, buf)) > 0 &&
            redisAsyncCommandArgv(c->ac, on_hello, NULL, n, argv, lens) != REDIS_OK)
            return -1;
    for (int i = 0; i < c->nscripts; i++) {
        argv[0] = "SCRIPT", lens[0] = 6;
        argv[1] = "LOAD", lens[1] = 4;
        argv[2] = c->scripts[i], lens[2] = strlen(c->scripts[i]);
        if (redisAsyncCommandArgv(c->ac, on_hello, NULL, 3, argv, lens) != REDIS_OK)
            return -1;
    }
    argv[0] = "PING", lens[0] = 4;
    return redisAsyncCommandArgv(c->ac, on_hello, c, 1, argv, lens) == REDIS_OK ? 0 : -1;
}

static void client_connect(redis_client_t *c)
{
    redisAsyncContext *ac;
    list_t *pos;

    if (c->closing || c->dead)
        return;
    ac = c->addr.socket ? redisAsyncConnectUnix(c->addr.socket) : redisAsyncConnect(c->addr.host, c->addr.port);
    if (!ac)
        goto later;
    if (ac->err) {
        snprintf(c->error, sizeof(c->error), "%s", ac->errstr);
        redisAsyncFree(ac);
        goto later;
    }
    ac->data = c;
    if (ev_attach(ac, c->sched->loop) < 0 ||
        redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
        redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK) {
        snprintf(c->error, sizeof(c->error), "cannot watch the connection");
        redisAsyncFree(ac);
        goto later;
    }
    c->ac = ac;
    c->conn++;
    if (client_hello(c) < 0) {
        redisAsyncDisconnect(ac);
        return;
    }
    list_for_each(pos, &c->calls)
        call_send(c, container_of(pos, struct redis_call, link));
    return;

later:
    client_lost(c);
}

/* ---- life ------------------------------------------------------------------------------------ */

redis_client_t *redis_client_new(sched_t *s, const redis_addr_t *addr, long giveup_ms)
{
    redis_client_t *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->sched = s;
    c->giveup_ms = giveup_ms > 0 ? giveup_ms : REDIS_CLIENT_GIVEUP_MS;
    c->backoff_ms = BACKOFF_FIRST_MS;
    list_init(&c->calls);
    c->addr = *addr;
    c->addr.host = addr->host ? strdup(addr->host) : NULL;
    c->addr.socket = addr->socket ? strdup(addr->socket) : NULL;
    c->addr.user = addr->user ? strdup(addr->user) : NULL;
    c->addr.password = addr->password ? strdup(addr->password) : NULL;
    if ((addr->host && !c->addr.host) || (addr->socket && !c->addr.socket) ||
        (addr->user && !c->addr.user) || (addr->password && !c->addr.password) ||
        uv_timer_init(s->loop, &c->retry) != 0) {
        redis_addr_clear(&c->addr);
        free(c);
        return NULL;
    }
    c->retry.data = c;
    return c;
}

int redis_client_script(redis_client_t *c, const char *lua)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int i = c->nscripts;

    if (i >= REDIS_CLIENT_MAX_SCRIPTS)
        return -ENOSPC;
    if (EVP_Digest(lua, strlen(lua), md, &n, EVP_sha1(), NULL) != 1 || n != 20)
        return -EINVAL;
    for (unsigned k = 0; k < 20; k++)
        snprintf(c->shas[i] + 2 * k, 3, "%02x", md[k]);
    c->scripts[i] = lua;
    c->nscripts++;
    return i;
}

void redis_client_start(redis_client_t *c)
{
    client_connect(c);
}

int redis_client_fail_waiting(redis_client_t *c, int error)
{
    if (c->ac)
        return 0;           /* connected: hiredis holds the calls, and their answers come */
    client_fail_all(c, error);
    return 1;
}

const char *redis_client_error(const redis_client_t *c) { return c->error; }
int redis_client_oom(const redis_client_t *c) { return c->oom; }
int redis_client_dead(const redis_client_t *c) { return c->dead; }
unsigned long redis_client_connects(const redis_client_t *c) { return c->connects; }

static void on_closed(uv_handle_t *h)
{
    redis_client_t *c = h->data;

    redis_addr_clear(&c->addr);
    free(c);
}

void redis_client_close(redis_client_t *c)
{
    redisAsyncContext *ac;

    if (!c)
        return;
    c->closing = 1;
    if ((ac = c->ac)) {
        c->ac = NULL;
        redisAsyncFree(ac);         /* its callbacks see `closing` and do nothing */
    }
    client_fail_all(c, -ECANCELED);
    uv_close((uv_handle_t *)&c->retry, on_closed);
}
