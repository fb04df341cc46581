/* rjob: a job's keys and scripts in Redis (DISTRIBUTED.md), one future per script call. */
#include "storage/rjob.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "parse/url.h"
#include "storage/hash.h"
#include "storage/rjob_lua.h"

enum { S_OFFER, S_CLAIM, S_BEAT, S_ACK, S_RELEASE, S_GATE, S_COUNT };

static const char *const rjob_scripts[S_COUNT] = {
    rjob_lua_offer, rjob_lua_claim, rjob_lua_beat, rjob_lua_ack, rjob_lua_release, rjob_lua_gate,
};

/* ---- opening: the blocking check ------------------------------------------------------------- */

static redisReply *rjob_cmd(redisContext *rc, const char *shown, char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    if (!r) {
        snprintf(why, n, "%s: %s", shown, rc->errstr[0] ? rc->errstr : "no reply");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, n, "%s: %s", shown, r->str ? r->str : "error");
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

int rjob_open_check(const char *url, const char *name, const char *kind, long lease_ms,
                    const char *seeds_json, long depth, char **stored_seeds, long *stored_depth)
{
    redis_addr_t a;
    redisContext *rc = NULL;
    redisReply *r = NULL;
    char err[768], key[RJOB_PREFIX_SIZE + 8];
    int result = -1;

    err[0] = '\0';
    if (redis_addr_parse(url, &a, err, sizeof(err)) < 0)
        goto cleanup;
    if (!(rc = redis_connect_blocking(&a, 5000, err, sizeof(err))))
        goto cleanup;
    snprintf(key, sizeof(key), "gather:{%s}:meta", name);
    if (!(r = rjob_cmd(rc, a.shown, err, sizeof(err), "HSETNX %s kind %s", key, kind)))
        goto cleanup;
    freeReplyObject(r);
    if (!(r = rjob_cmd(rc, a.shown, err, sizeof(err), "HGET %s kind", key)))
        goto cleanup;
    if (r->type != REDIS_REPLY_STRING || strcmp(r->str, kind) != 0) {
        snprintf(err, sizeof(err), "%s: job %s is a %s, not a %s", a.shown, name,
                 r->type == REDIS_REPLY_STRING ? r->str : "(broken job)", kind);
        goto cleanup;
    }
    freeReplyObject(r);
    if (!(r = rjob_cmd(rc, a.shown, err, sizeof(err), "HSETNX %s version 1", key)))
        goto cleanup;
    freeReplyObject(r);
    if (!(r = rjob_cmd(rc, a.shown, err, sizeof(err), "HSET %s lease_ms %ld", key, lease_ms)))
        goto cleanup;
    if (seeds_json) {
        freeReplyObject(r);
        if (!(r = rjob_cmd(rc, a.shown, err, sizeof(err), "HSETNX %s seeds %s", key, seeds_json)))
            goto cleanup;
        freeReplyObject(r);
        if (!(r = rjob_cmd(rc, a.shown, err, sizeof(err), "HSETNX %s depth %ld", key, depth)))
            goto cleanup;
    }
    if (stored_seeds) {
        freeReplyObject(r);
        if (!(r = rjob_cmd(rc, a.shown, err, sizeof(err), "HMGET %s seeds depth", key)))
            goto cleanup;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING) {
            if (!(*stored_seeds = strdup(r->element[0]->str))) {
                snprintf(err, sizeof(err), "out of memory");
                goto cleanup;
            }
            if (stored_depth && r->element[1]->type == REDIS_REPLY_STRING)
                *stored_depth = strtol(r->element[1]->str, NULL, 10);
        }
    }
    result = 0;

cleanup:
    if (result < 0)
        fprintf(stderr, "gather: %s\n", err[0] ? err : "cannot reach Redis");
    if (r)
        freeReplyObject(r);
    if (rc)
        redisFree(rc);
    redis_addr_clear(&a);
    return result;
}

/* ---- setting up ------------------------------------------------------------------------------ */

int rjob_init(rjob_t *j, redis_client_t *c, const char *name, long lease_ms)
{
    char host[64];
    uint32_t nonce = 0;

    memset(j, 0, sizeof(*j));
    j->client = c;
    j->lease_ms = lease_ms;
    snprintf(j->prefix, sizeof(j->prefix), "gather:{%s}:", name);
    if (gethostname(host, sizeof(host)) < 0)
        snprintf(host, sizeof(host), "host");
    host[sizeof(host) - 1] = '\0';
    /* The nonce tells apart two processes with one host name and pid (containers). */
    if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != (ssize_t)sizeof(nonce))
        nonce = (uint32_t)(store_hash64(&j, sizeof(&j)) ^ (uint64_t)time(NULL));
    snprintf(j->worker, sizeof(j->worker), "%s:%ld:%08x", host, (long)getpid(), (unsigned)nonce);
    for (int i = 0; i < S_COUNT; i++)
        if ((j->scripts[i] = redis_client_script(c, rjob_scripts[i])) < 0)
            return j->scripts[i];
    return 0;
}

/* ---- argument lists -------------------------------------------------------------------------- */

typedef struct rjob_args {
    const char **v;
    size_t *len;
    int n, cap;
    char nums[64][24];          /* small numbers printed for the call */
    int nnums;
    int oom;
} rjob_args_t;

static int args_init(rjob_args_t *a, int cap)
{
    memset(a, 0, sizeof(*a));
    a->v = malloc((size_t)cap * sizeof(*a->v));
    a->len = malloc((size_t)cap * sizeof(*a->len));
    a->cap = cap;
    return a->v && a->len ? 0 : -ENOMEM;
}

static void args_free(rjob_args_t *a)
{
    free(a->v);
    free(a->len);
}

static void args_add(rjob_args_t *a, const char *s, size_t len)
{
    if (a->n >= a->cap) {
        a->oom = 1;
        return;
    }
    a->v[a->n] = s;
    a->len[a->n++] = len;
}

static void args_str(rjob_args_t *a, const char *s) { args_add(a, s ? s : "", s ? strlen(s) : 0); }

static void args_num(rjob_args_t *a, long long v)
{
    if (a->nnums >= 64) {
        a->oom = 1;
        return;
    }
    snprintf(a->nums[a->nnums], sizeof(a->nums[0]), "%lld", v);
    args_str(a, a->nums[a->nnums++]);
}

static future_t *rjob_eval(rjob_t *j, int script, rjob_args_t *a, redis_parse_fn parse, void *arg)
{
    future_t *f = NULL;

    if (!a->oom)
        f = redis_client_eval(j->client, j->scripts[script], 1, a->n, a->v, a->len, parse, arg);
    args_free(a);
    return f;
}

static long parse_integer(const redisReply *r, void *arg)
{
    (void)arg;
    return r->type == REDIS_REPLY_INTEGER ? (r->integer < 0 ? 0 : (long)r->integer) : -EPROTO;
}

/* ---- offer ----------------------------------------------------------------------------------- */

future_t *rjob_offer(rjob_t *j, int level, int requeue_failed, const rjob_offer_t *items, size_t n)
{
    rjob_args_t a = { 0 };
    unsigned char *fps = malloc(n * 8 + 1);
    char (*nums)[4][24] = malloc((n + 1) * sizeof(*nums));
    future_t *f = NULL;

    if (!fps || !nums || args_init(&a, (int)(n * 8 + 4)) < 0) {
        args_free(&a);
        goto cleanup;
    }
    args_str(&a, j->prefix);
    args_num(&a, level);
    args_num(&a, requeue_failed ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = store_hash64(items[i].url, strlen(items[i].url));
        for (int k = 0; k < 8; k++)
            fps[i * 8 + (size_t)k] = (unsigned char)(h >> (56 - 8 * k));
        snprintf(nums[i][0], 24, "%d", items[i].depth);
        snprintf(nums[i][1], 24, "%c", items[i].kind ? items[i].kind : 'p');
        snprintf(nums[i][2], 24, "%d", items[i].hops);
        snprintf(nums[i][3], 24, "%ld", items[i].seed);
        args_add(&a, (const char *)fps + i * 8, 8);
        args_str(&a, items[i].url);
        args_str(&a, items[i].origin);
        for (int k = 0; k < 4; k++)
            args_str(&a, nums[i][k]);
        args_str(&a, items[i].parent);
    }
    /* The client copies the arguments into its command before this returns. */
    f = rjob_eval(j, S_OFFER, &a, parse_integer, NULL);
cleanup:
    free(fps);
    free(nums);
    return f;
}

/* ---- claim ----------------------------------------------------------------------------------- */

void rjob_entry_free(rjob_entry_t *e) { free(e); }

void rjob_claim_clear(rjob_claim_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        rjob_entry_free(c->entries[i]);
    free(c->entries);
    c->entries = NULL;
    c->n = 0;
}

static const redisReply *entry_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING && !strcmp(fields->element[i]->str, name) &&
            fields->element[i + 1]->type == REDIS_REPLY_STRING)
            return fields->element[i + 1];
    return NULL;
}

/* One stream entry {id, {field, value...}} into one allocation; NULL if malformed or no memory
 * (*oom says which). Fields left out mean their defaults (rjob_lua_offer). */
static rjob_entry_t *entry_parse(const redisReply *e, int level, int *oom)
{
    const redisReply *fields, *u, *p, *d, *k, *r, *s;
    rjob_entry_t *out = NULL;
    char *origin = NULL, *at;
    size_t need;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    fields = e->element[1];
    if (!(u = entry_field(fields, "u")))
        return NULL;
    /* The origin is not stored: a URL without a host keeps "" (its fetch says why it fails). */
    if (parse_url_origin(u->str, "", &origin) == PARSE_ENOMEM)
        goto oom;
    p = entry_field(fields, "p");
    d = entry_field(fields, "d");
    k = entry_field(fields, "k");
    r = entry_field(fields, "r");
    s = entry_field(fields, "s");
    need = sizeof(*out) + e->element[0]->len + u->len + (origin ? strlen(origin) : 0) + (p ? p->len : 0) + 4;
    if (!(out = calloc(1, need)))
        goto oom;
    at = (char *)(out + 1);
    out->id = at;
    memcpy(at, e->element[0]->str, e->element[0]->len);
    at += e->element[0]->len + 1;
    out->url = at;
    memcpy(at, u->str, u->len);
    at += u->len + 1;
    out->origin = at;
    if (origin) {
        memcpy(at, origin, strlen(origin));
        at += strlen(origin);
    }
    at++;
    if (p) {
        out->parent = at;
        memcpy(at, p->str, p->len);
    }
    out->level = level;
    out->depth = d ? atoi(d->str) : 0;
    out->kind = k && k->str[0] == 'a' ? 'a' : 'p';
    out->hops = r ? atoi(r->str) : 0;
    out->seed = s ? strtol(s->str, NULL, 10) : -1;
    free(origin);
    return out;

oom:
    free(origin);
    *oom = 1;
    return NULL;
}

static long parse_claim(const redisReply *r, void *arg)
{
    rjob_claim_t *c = arg;
    size_t reclaimed;
    int oom = 0;

    c->n = 0;
    c->entries = NULL;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_INTEGER || r->element[2]->type != REDIS_REPLY_INTEGER)
        return -EPROTO;
    c->level = (int)r->element[1]->integer;
    reclaimed = (size_t)r->element[2]->integer;
    c->status = !strcmp(r->element[0]->str, "ok") ? RJOB_CLAIM_OK :
                !strcmp(r->element[0]->str, "done") ? RJOB_CLAIM_DONE : RJOB_CLAIM_WAIT;
    if (r->elements == 3)
        return 0;
    if (!(c->entries = calloc(r->elements - 3, sizeof(*c->entries))))
        return -ENOMEM;
    for (size_t i = 3; i < r->elements; i++) {
        rjob_entry_t *e = entry_parse(r->element[i], c->level, &oom);
        if (!e)
            continue;       /* malformed (not ours) or no memory: it idles out to another worker */
        e->reclaimed = i - 3 < reclaimed;
        c->entries[c->n++] = e;
    }
    return 0;
}

future_t *rjob_claim(rjob_t *j, size_t max, size_t ahead, rjob_claim_t *out)
{
    rjob_args_t a;

    memset(out, 0, sizeof(*out));
    if (args_init(&a, 5) < 0) {
        args_free(&a);
        return NULL;
    }
    args_str(&a, j->prefix);
    args_str(&a, j->worker);
    args_num(&a, (long long)max);
    args_num(&a, j->lease_ms);
    args_num(&a, (long long)ahead);
    return rjob_eval(j, S_CLAIM, &a, parse_claim, out);
}

/* ---- heartbeat, ack, release ----------------------------------------------------------------- */

future_t *rjob_beat(rjob_t *j, int producing, const rjob_held_t *held, size_t n)
{
    rjob_args_t a;
    char (*levels)[12] = malloc((n + 1) * sizeof(*levels));
    future_t *f = NULL;

    if (!levels || args_init(&a, (int)(n * 4 + 4)) < 0) {
        free(levels);
        return NULL;
    }
    args_str(&a, j->prefix);
    args_str(&a, j->worker);
    args_num(&a, j->lease_ms);
    args_num(&a, producing ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(levels[i], sizeof(levels[i]), "%d", held[i].level);
        args_str(&a, levels[i]);
        args_str(&a, held[i].id);
        args_str(&a, held[i].origin);
        args_str(&a, held[i].holder);
    }
    f = rjob_eval(j, S_BEAT, &a, parse_integer, NULL);
    free(levels);
    return f;
}

future_t *rjob_ack(rjob_t *j, const rjob_entry_t *e, const rjob_result_t *r)
{
    rjob_args_t a;
    char outcome[2] = { r->outcome, '\0' };

    if (args_init(&a, 10) < 0) {
        args_free(&a);
        return NULL;
    }
    args_str(&a, j->prefix);
    args_num(&a, e->level);
    args_str(&a, e->id);
    args_str(&a, e->url);
    args_str(&a, e->origin);
    args_str(&a, r->holder);
    args_str(&a, outcome);
    args_str(&a, r->json);
    args_num(&a, r->bytes);
    args_str(&a, r->error);
    return rjob_eval(j, S_ACK, &a, parse_integer, NULL);
}

future_t *rjob_release(rjob_t *j, const rjob_entry_t *e, const char *holder)
{
    rjob_args_t a;

    if (args_init(&a, 5) < 0) {
        args_free(&a);
        return NULL;
    }
    args_str(&a, j->prefix);
    args_num(&a, e->level);
    args_str(&a, e->id);
    args_str(&a, e->origin);
    args_str(&a, holder);
    return rjob_eval(j, S_RELEASE, &a, parse_integer, NULL);
}

/* ---- politeness ------------------------------------------------------------------------------ */

static long parse_gate(const redisReply *r, void *arg)
{
    (void)arg;
    if (r->type != REDIS_REPLY_INTEGER)
        return -EPROTO;
    return r->integer < 0 ? RJOB_GATE_BUSY : r->integer > RJOB_GATE_BUSY - 1 ? RJOB_GATE_BUSY - 1 : (long)r->integer;
}

future_t *rjob_gate(rjob_t *j, const char *origin, const char *holder, long limit, long delay_ms)
{
    rjob_args_t a;

    if (args_init(&a, 6) < 0) {
        args_free(&a);
        return NULL;
    }
    args_str(&a, j->prefix);
    args_str(&a, origin);
    args_str(&a, holder);
    args_num(&a, limit);
    args_num(&a, delay_ms);
    args_num(&a, j->lease_ms);
    return rjob_eval(j, S_GATE, &a, parse_gate, NULL);
}

static future_t *rjob_plain(rjob_t *j, redis_parse_fn parse, void *arg, int argc, ...)
{
    const char *v[8];
    va_list ap;

    va_start(ap, argc);
    for (int i = 0; i < argc && i < 8; i++)
        v[i] = va_arg(ap, const char *);
    va_end(ap);
    return redis_client_call(j->client, argc, v, NULL, parse, arg);
}

future_t *rjob_ungate(rjob_t *j, const char *origin, const char *holder)
{
    char key[RJOB_PREFIX_SIZE + 1024];

    snprintf(key, sizeof(key), "%sslots:%s", j->prefix, origin);
    return rjob_plain(j, NULL, NULL, 3, "ZREM", key, holder);
}

future_t *rjob_producer_done(rjob_t *j)
{
    char key[RJOB_PREFIX_SIZE + 16];

    snprintf(key, sizeof(key), "%sproducers", j->prefix);
    return rjob_plain(j, NULL, NULL, 3, "ZREM", key, j->worker);
}

/* ---- robots.txt ------------------------------------------------------------------------------ */

static long parse_robots(const redisReply *r, void *arg)
{
    rjob_robots_t *o = arg;
    const char *nl;

    o->body = NULL;
    o->len = 0;
    if (r->type != REDIS_REPLY_STRING || !(nl = memchr(r->str, '\n', r->len)))
        return 0;           /* nil: not known yet */
    o->status = atoi(r->str);
    o->len = r->len - (size_t)(nl + 1 - r->str);
    if (!(o->body = malloc(o->len + 1)))
        return -ENOMEM;
    memcpy(o->body, nl + 1, o->len);
    o->body[o->len] = '\0';
    return 1;
}

future_t *rjob_robots_get(rjob_t *j, const char *origin, rjob_robots_t *out)
{
    char key[RJOB_PREFIX_SIZE + 1024];

    memset(out, 0, sizeof(*out));
    snprintf(key, sizeof(key), "%srobots:%s", j->prefix, origin);
    return rjob_plain(j, parse_robots, out, 2, "GET", key);
}

static long parse_set_nx(const redisReply *r, void *arg)
{
    (void)arg;
    return r->type == REDIS_REPLY_STATUS ? 1 : 0;      /* OK, or nil when someone holds it */
}

future_t *rjob_robots_lock(rjob_t *j, const char *origin)
{
    char key[RJOB_PREFIX_SIZE + 1024], ms[24];

    snprintf(key, sizeof(key), "%srobots-lock:%s", j->prefix, origin);
    snprintf(ms, sizeof(ms), "%ld", j->lease_ms);
    return rjob_plain(j, parse_set_nx, NULL, 6, "SET", key, j->worker, "NX", "PX", ms);
}

future_t *rjob_robots_put(rjob_t *j, const char *origin, int status, const char *body, size_t len)
{
    char key[RJOB_PREFIX_SIZE + 1024], head[16];
    const char *v[5];
    size_t l[5];
    char *value = malloc(len + sizeof(head));
    future_t *f;
    int n;

    if (!value)
        return NULL;
    n = snprintf(head, sizeof(head), "%d\n", status);
    memcpy(value, head, (size_t)n);
    if (len)
        memcpy(value + n, body, len);
    snprintf(key, sizeof(key), "%srobots:%s", j->prefix, origin);
    v[0] = "SET", l[0] = 3;
    v[1] = key, l[1] = strlen(key);
    v[2] = value, l[2] = (size_t)n + len;
    v[3] = "EX", l[3] = 2;
    v[4] = "86400", l[4] = 5;
    f = redis_client_call(j->client, 5, v, l, NULL, NULL);
    free(value);
    return f;
}
