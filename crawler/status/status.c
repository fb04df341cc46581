/* crawl_status: `gather status`, the keys of one shared job (DISTRIBUTED.md) read over a blocking
 * connection and shown as a table or one JSON object. */
#include "crawler/status/status.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/cli/options.h"
#include "net/redis/addr.h"

#define STATUS_TIMEOUT_MS 5000      /* to connect, and for each reply */
#define STATUS_LEASE_MS 60000       /* meta's lease_ms when it has none (--lease's default) */
#define STATUS_HOSTS 10             /* hosts shown, those with the most URLs left */
#define STATUS_LEVELS_MAX 100000    /* streams q:L looked at, at most (a bound, never reached) */

struct status_worker {
    char *name;
    long long seen_ms_ago;          /* since its last heartbeat, by Redis's clock */
};

struct status_host {
    char *origin;
    long long backlog;
};

/* What status shows; the strings are malloc'd and freed by status_free. */
struct status {
    char kind[16];
    long long level, depth;
    int has_depth;                  /* a crawl's meta has a depth, a get's has not */
    long long queued, done, failed, repeats, bytes, lease_ms;
    long long waiting, in_flight;
    struct status_worker *workers;  /* alive, most recently seen first */
    size_t nworkers;
    long long producers;            /* alive: their lease ends after now */
    struct status_host hosts[STATUS_HOSTS]; /* largest backlog first */
    size_t nhosts;
    long long hosts_left;           /* origins with a backlog above 0 */
    int finished;
};

static void status_free(struct status *s)
{
    for (size_t i = 0; i < s->nworkers; i++)
        free(s->workers[i].name);
    free(s->workers);
    for (size_t i = 0; i < s->nhosts; i++)
        free(s->hosts[i].origin);
    memset(s, 0, sizeof(*s));
}

/* ---- reading the keys ------------------------------------------------------------------------- */

struct status_ctx {
    redisContext *c;
    const redis_addr_t *a;
    const char *job;
    char *err;
    size_t n;
};

/*
 * Runs a command (hiredis's format; every %s is one argument, whatever it holds). The reply, or
 * NULL with why in err. An error reply is returned as it is when allow_error, else reported.
 */
static redisReply *status_cmd(struct status_ctx *x, int allow_error, const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = redisvCommand(x->c, fmt, ap);
    va_end(ap);
    if (!r) {
        snprintf(x->err, x->n, "%s: %s", x->a->shown, x->c->err ? x->c->errstr : "no reply");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR && !allow_error) {
        snprintf(x->err, x->n, "%s: %s", x->a->shown, r->str ? r->str : "error");
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* NULL with a message when r is not of the type a command of the protocol answers with. */
static redisReply *status_want(struct status_ctx *x, redisReply *r, int type, const char *what)
{
    if (r && r->type != type) {
        snprintf(x->err, x->n, "%s: %s: unexpected reply (type %d)", x->a->shown, what, r->type);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* The job's key "gather:{JOB}:suffix" into key. */
static const char *status_key(const struct status_ctx *x, char key[128], const char *suffix)
{
    snprintf(key, 128, "gather:{%s}:%s", x->job, suffix);
    return key;
}

/* A reply element's number: a string (HGETALL, ZRANGE's scores) or an integer; 0 otherwise. */
static long long status_num(const redisReply *e)
{
    if (e->type == REDIS_REPLY_INTEGER)
        return e->integer;
    if (e->type == REDIS_REPLY_STRING && e->str)
        return strtoll(e->str, NULL, 10);
    return 0;
}

/* Redis's clock in ms (TIME), or -1. */
static long long status_now_ms(struct status_ctx *x)
{
    redisReply *r = status_want(x, status_cmd(x, 0, "TIME"), REDIS_REPLY_ARRAY, "TIME");
    long long now;

    if (!r)
        return -1;
    if (r->elements != 2) {
        snprintf(x->err, x->n, "%s: TIME: unexpected reply", x->a->shown);
        freeReplyObject(r);
        return -1;
    }
    now = status_num(r->element[0]) * 1000 + status_num(r->element[1]) / 1000;
    freeReplyObject(r);
    return now;
}

/* meta: 1 read, 0 no such job, -1 error. */
static int status_meta(struct status_ctx *x, struct status *s)
{
    char key[128];
    redisReply *r = status_want(x, status_cmd(x, 0, "HGETALL %s", status_key(x, key, "meta")),
                                REDIS_REPLY_ARRAY, "HGETALL meta");

    if (!r)
        return -1;
    if (r->elements == 0) {
        freeReplyObject(r);
        return 0;
    }
    snprintf(s->kind, sizeof(s->kind), "?");
    s->lease_ms = STATUS_LEASE_MS;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *f = r->element[i]->str;
        const redisReply *v = r->element[i + 1];
        long long num = status_num(v);

        if (!f)
            continue;
        if (!strcmp(f, "kind") && v->str)
            snprintf(s->kind, sizeof(s->kind), "%s", v->str);
        else if (!strcmp(f, "level"))
            s->level = num;
        else if (!strcmp(f, "depth"))
            s->depth = num, s->has_depth = 1;
        else if (!strcmp(f, "queued"))
            s->queued = num;
        else if (!strcmp(f, "done"))
            s->done = num;
        else if (!strcmp(f, "failed"))
            s->failed = num;
        else if (!strcmp(f, "repeats"))
            s->repeats = num;
        else if (!strcmp(f, "bytes"))
            s->bytes = num;
        else if (!strcmp(f, "lease_ms") && num > 0)
            s->lease_ms = num;
    }
    freeReplyObject(r);
    return 1;
}

/* Waiting and in flight over the level streams q:0, q:1, ...: entries acknowledged are deleted,
 * so a stream's length less its pending entries is what waits. 0 or -1. */
static int status_streams(struct status_ctx *x, struct status *s)
{
    char key[128], suffix[32];
    redisReply *r;
    long long len, pending;

    for (long long l = 0; l < STATUS_LEVELS_MAX; l++) {
        snprintf(suffix, sizeof(suffix), "q:%lld", l);
        status_key(x, key, suffix);
        if (!(r = status_want(x, status_cmd(x, 0, "EXISTS %s", key), REDIS_REPLY_INTEGER, "EXISTS")))
            return -1;
        len = r->integer;
        freeReplyObject(r);
        if (len == 0) {
            if (l > s->level + 1)
                break;          /* levels below the job's may be gone; none above the next */
            continue;
        }
        if (!(r = status_want(x, status_cmd(x, 0, "XLEN %s", key), REDIS_REPLY_INTEGER, "XLEN")))
            return -1;
        len = r->integer;
        freeReplyObject(r);
        if (!(r = status_cmd(x, 1, "XPENDING %s w", key)))
            return -1;
        if (r->type == REDIS_REPLY_ERROR && r->str && !strncmp(r->str, "NOGROUP", 7)) {
            pending = 0;        /* nobody has claimed from it yet */
        } else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
            pending = status_num(r->element[0]);
        } else {
            snprintf(x->err, x->n, "%s: XPENDING %s w: %s", x->a->shown, key,
                     r->type == REDIS_REPLY_ERROR && r->str ? r->str : "unexpected reply");
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
        s->waiting += len > pending ? len - pending : 0;
        s->in_flight += pending;
    }
    return 0;
}

/* The workers seen within a lease, most recent first. 0 or -1. */
static int status_workers(struct status_ctx *x, struct status *s, long long now)
{
    char key[128];
    redisReply *r;

    r = status_want(x, status_cmd(x, 0, "ZREVRANGEBYSCORE %s +inf %lld WITHSCORES",
                                  status_key(x, key, "workers"), now - s->lease_ms),
                    REDIS_REPLY_ARRAY, "ZREVRANGEBYSCORE workers");
    if (!r)
        return -1;
    if (r->elements >= 2 && !(s->workers = calloc(r->elements / 2, sizeof(*s->workers)))) {
        snprintf(x->err, x->n, "out of memory");
        freeReplyObject(r);
        return -1;
    }
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        struct status_worker *w = &s->workers[s->nworkers];
        long long ago = now - status_num(r->element[i + 1]);

        if (!r->element[i]->str)
            continue;
        if (!(w->name = strdup(r->element[i]->str))) {
            snprintf(x->err, x->n, "out of memory");
            freeReplyObject(r);
            return -1;
        }
        w->seen_ms_ago = ago > 0 ? ago : 0;
        s->nworkers++;
    }
    freeReplyObject(r);
    return 0;
}

/* The processes still adding URLs: their lease ends after now. 0 or -1. */
static int status_producers(struct status_ctx *x, struct status *s, long long now)
{
    char key[128], min[32];
    redisReply *r;

    snprintf(min, sizeof(min), "(%lld", now);
    r = status_want(x, status_cmd(x, 0, "ZCOUNT %s %s +inf", status_key(x, key, "producers"), min),
                    REDIS_REPLY_INTEGER, "ZCOUNT producers");
    if (!r)
        return -1;
    s->producers = r->integer;
    freeReplyObject(r);
    return 0;
}

/* The STATUS_HOSTS origins with the most URLs left, and how many have any. 0 or -1. */
static int status_hosts(struct status_ctx *x, struct status *s)
{
    char key[128];
    redisReply *r = status_want(x, status_cmd(x, 0, "HGETALL %s", status_key(x, key, "backlog")),
                                REDIS_REPLY_ARRAY, "HGETALL backlog");
    struct status_host top[STATUS_HOSTS];
    size_t ntop = 0;

    if (!r)
        return -1;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        long long count = status_num(r->element[i + 1]);
        size_t at;

        if (count <= 0 || !r->element[i]->str)
            continue;
        s->hosts_left++;
        /* insertion into the sorted top list (ties: the first seen stays ahead) */
        for (at = ntop; at > 0 && top[at - 1].backlog < count; at--)
            ;
        if (at == STATUS_HOSTS)
            continue;
        if (ntop < STATUS_HOSTS)
            ntop++;
        memmove(&top[at + 1], &top[at], (ntop - 1 - at) * sizeof(top[0]));
        top[at].origin = r->element[i]->str;    /* borrowed from r until copied below */
        top[at].backlog = count;
    }
    for (size_t i = 0; i < ntop; i++) {
        if (!(s->hosts[i].origin = strdup(top[i].origin))) {
            snprintf(x->err, x->n, "out of memory");
            freeReplyObject(r);
            return -1;
        }
        s->hosts[i].backlog = top[i].backlog;
        s->nhosts++;
    }
    freeReplyObject(r);
    return 0;
}

/* Everything status shows: 1, 0 when the job does not exist, -1 with why in x->err. */
static int status_read(struct status_ctx *x, struct status *s)
{
    long long now;
    int found;

    if ((found = status_meta(x, s)) <= 0)
        return found;
    if ((now = status_now_ms(x)) < 0 || status_streams(x, s) < 0 ||
        status_workers(x, s, now) < 0 || status_producers(x, s, now) < 0 || status_hosts(x, s) < 0)
        return -1;
    s->finished = s->waiting == 0 && s->in_flight == 0 && s->producers == 0;
    return 1;
}

/* ---- showing it ------------------------------------------------------------------------------- */

/* bytes as "1.2 MB" (powers of 1000, as the progress line). */
static void status_human(long long bytes, char *buf, size_t n)
{
    const char *units[] = { "B", "KB", "MB", "GB", "TB", "PB" };
    double v = (double)bytes;
    int u = 0;

    while (v >= 1000 && u < 5) {
        v /= 1000;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static int status_print_text(const struct status *s, const char *job)
{
    char bytes[32];
    size_t width = 0;

#define ROW(label, ...) (printf("%-10s ", label), printf(__VA_ARGS__), putchar('\n'))
    ROW("job", "%s", job);
    ROW("kind", "%s", s->kind);
    if (s->has_depth) {
        ROW("level", "%lld", s->level);
        ROW("depth", "%lld", s->depth);
    }
    ROW("state", "%s", s->finished ? "finished" : "running");
    ROW("waiting", "%lld", s->waiting);
    ROW("in flight", "%lld", s->in_flight);
    ROW("queued", "%lld", s->queued);
    ROW("done", "%lld", s->done);
    ROW("failed", "%lld", s->failed);
    ROW("repeats", "%lld", s->repeats);
    status_human(s->bytes, bytes, sizeof(bytes));
    ROW("bytes", "%s", bytes);
    ROW("workers", "%zu alive", s->nworkers);
    for (size_t i = 0; i < s->nworkers; i++)
        width = strlen(s->workers[i].name) > width ? strlen(s->workers[i].name) : width;
    for (size_t i = 0; i < s->nworkers; i++)
        ROW("", "  %-*s  seen %.1f s ago", (int)width, s->workers[i].name,
            (double)s->workers[i].seen_ms_ago / 1000);
    ROW("adders", "%lld alive", s->producers);
    ROW("hosts", "%lld with URLs left", s->hosts_left);
    width = 0;
    for (size_t i = 0; i < s->nhosts; i++)
        width = strlen(s->hosts[i].origin) > width ? strlen(s->hosts[i].origin) : width;
    for (size_t i = 0; i < s->nhosts; i++)
        ROW("", "  %-*s  %lld", (int)width, s->hosts[i].origin, s->hosts[i].backlog);
#undef ROW
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

static int status_print_json(const struct status *s, const char *job)
{
    json_t *o, *workers = json_array(), *hosts = json_array();
    int result = -1;

    if (!workers || !hosts)
        goto cleanup;
    for (size_t i = 0; i < s->nworkers; i++)
        if (json_array_append_new(workers, json_pack("{s:s, s:I}", "name", s->workers[i].name,
                                                     "seen_ms_ago",
                                                     (json_int_t)s->workers[i].seen_ms_ago)) < 0)
            goto cleanup;
    for (size_t i = 0; i < s->nhosts; i++)
        if (json_array_append_new(hosts, json_pack("{s:s, s:I}", "origin", s->hosts[i].origin,
                                                   "backlog", (json_int_t)s->hosts[i].backlog)) < 0)
            goto cleanup;
    /* "o" steals the arrays, whether json_pack succeeds or not */
    o = json_pack("{s:s, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o, s:b}",
                  "job", job, "kind", s->kind, "level", (json_int_t)s->level,
                  "depth", s->has_depth ? json_integer(s->depth) : json_null(),
                  "waiting", (json_int_t)s->waiting, "in_flight", (json_int_t)s->in_flight,
                  "done", (json_int_t)s->done, "failed", (json_int_t)s->failed,
                  "repeats", (json_int_t)s->repeats, "bytes", (json_int_t)s->bytes,
                  "queued", (json_int_t)s->queued, "workers", workers,
                  "producers", (json_int_t)s->producers, "hosts", hosts, "finished", s->finished);
    workers = hosts = NULL;
    if (!o)
        goto cleanup;
    if (json_dumpf(o, stdout, JSON_COMPACT) == 0 && putchar('\n') != EOF && fflush(stdout) == 0)
        result = 0;
    json_decref(o);
cleanup:
    json_decref(workers);
    json_decref(hosts);
    return result;
}

/* ---- the command ------------------------------------------------------------------------------ */

static int status_run(crawl_options_t *o)
{
    redis_addr_t a;
    struct status s = { 0 };
    struct status_ctx x = { 0 };
    char err[1024];
    int found, result = CRAWL_EXIT_USAGE;

    if (redis_addr_parse(o->redis_url, &a, err, sizeof(err)) < 0) {
        fprintf(stderr, "gather status: %s\n", err);
        return CRAWL_EXIT_USAGE;
    }
    x = (struct status_ctx){ .a = &a, .job = o->job_name, .err = err, .n = sizeof(err) };
    if (!(x.c = redis_connect_blocking(&a, STATUS_TIMEOUT_MS, err, sizeof(err)))) {
        fprintf(stderr, "gather status: %s\n", err);
        goto cleanup;
    }
    found = status_read(&x, &s);
    if (found < 0) {
        fprintf(stderr, "gather status: %s\n", err);
        goto cleanup;
    }
    if (found == 0) {
        fprintf(stderr, "gather status: no job %s at %s\n", o->job_name, a.shown);
        goto cleanup;
    }
    if ((o->json ? status_print_json(&s, o->job_name) : status_print_text(&s, o->job_name)) < 0) {
        fprintf(stderr, "gather status: writing the status failed\n");
        result = CRAWL_EXIT_FAILURES;
        goto cleanup;
    }
    result = CRAWL_EXIT_OK;
cleanup:
    if (x.c)
        redisFree(x.c);
    status_free(&s);
    redis_addr_clear(&a);
    return result;
}

int crawl_status_main(int argc, char **argv)
{
    return crawl_options_main(CRAWL_CMD_STATUS, argc, argv, status_run);
}
