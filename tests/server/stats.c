/* stats.c - thread-safe request counters, per-target hit maps, flaky counters and request log. */
#include "stats.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sbuf.h"

#define LOG_LIMIT ((size_t)STATS_LOG_MAX_LINES * (STATS_KEY_MAX + 40))
#define CREDS_LIMIT ((size_t)STATS_CREDS_MAX_LINES * (STATS_KEY_MAX + 3 * (STATS_CREDS_VALUE_MAX + 32)))

struct stats {
    bool no_hits;

    /* Counters are atomics: they are touched on every request and every body chunk. */
    _Atomic uint64_t requests;
    _Atomic int64_t inflight;
    _Atomic int64_t max_inflight;
    _Atomic int64_t connections;
    _Atomic int64_t max_connections;
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t ranges;
    _Atomic uint64_t connections_total; /* opened since the start (or /reset) */

    /* Everything below is guarded by lock. */
    pthread_mutex_t lock;
    json_t *hits;   /* raw target -> count */
    json_t *paths;  /* raw path (target without query) -> count */
    json_t *flaky;  /* flaky key -> count */
    json_t *served; /* [status, first, last] per /big answer, at most STATS_SERVED_MAX */
    struct sbuf log; /* "USEC METHOD TARGET\n": stats_log() drops USEC unless asked for it */
    size_t log_lines;
    struct sbuf creds;
    size_t creds_lines;
};

static void raise_max(_Atomic int64_t *max, int64_t v)
{
    int64_t cur = atomic_load(max);

    while (v > cur && !atomic_compare_exchange_weak(max, &cur, v))
        ;
}

struct stats *stats_new(bool no_hits)
{
    struct stats *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->no_hits = no_hits;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->hits = json_object();
    s->paths = json_object();
    s->flaky = json_object();
    s->served = json_array();
    sbuf_init(&s->log, LOG_LIMIT);
    sbuf_init(&s->creds, CREDS_LIMIT);
    if (s->hits == NULL || s->paths == NULL || s->flaky == NULL || s->served == NULL)
        goto error;
    return s;

error:
    stats_free(s);
    return NULL;
}

void stats_free(struct stats *s)
{
    if (s == NULL)
        return;
    json_decref(s->hits);
    json_decref(s->paths);
    json_decref(s->flaky);
    json_decref(s->served);
    sbuf_free(&s->log);
    sbuf_free(&s->creds);
    (void)pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Copy a request target into out as a valid UTF-8 JSON key: bytes outside printable ASCII
 * become %XX, and the result is cut at STATS_KEY_MAX. With stop_at_query the copy ends at '?'. */
static void key_from_target(const char *target, bool stop_at_query, char out[STATS_KEY_MAX + 1])
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)target; *p != '\0'; p++) {
        if (stop_at_query && *p == '?')
            break;
        if (*p > 0x20 && *p < 0x7F) {
            if (n + 1 > STATS_KEY_MAX)
                break;
            out[n++] = (char)*p;
        } else {
            if (n + 3 > STATS_KEY_MAX)
                break;
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
}

/* Add one to map[key]; the caller holds the lock. Returns the new count, 0 when out of memory. */
static uint64_t map_bump(json_t *map, const char *key)
{
    json_t *v = json_object_get(map, key);
    json_int_t n;

    if (v == NULL) {
        if (json_object_set_new(map, key, json_integer(1)) != 0)
            return 0;
        return 1;
    }
    n = json_integer_value(v) + 1;
    if (json_integer_set(v, n) != 0)
        return 0;
    return (uint64_t)n;
}

/* Microseconds on the monotonic clock: when a request arrived, comparable within one server. */
static uint64_t now_usec(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int stats_request_begin(struct stats *s, const char *method, const char *target, bool has_range)
{
    char key[STATS_KEY_MAX + 1];
    char path[STATS_KEY_MAX + 1];
    int result = 0;

    atomic_fetch_add(&s->requests, 1);
    raise_max(&s->max_inflight, atomic_fetch_add(&s->inflight, 1) + 1);
    if (has_range)
        atomic_fetch_add(&s->ranges, 1);
    if (s->no_hits)
        return 0;

    key_from_target(target, false, key);
    key_from_target(target, true, path);
    if (pthread_mutex_lock(&s->lock) != 0)
        return -1;
    if (map_bump(s->hits, key) == 0 || map_bump(s->paths, path) == 0)
        result = -1;
    if (s->log_lines < STATS_LOG_MAX_LINES) {
        sbuf_printf(&s->log, "%" PRIu64 " %.16s %s\n", now_usec(), method, key);
        if (s->log.failed) {
            /* Keep what was logged so far; only this line is lost. */
            s->log.failed = false;
            result = -1;
        } else {
            s->log_lines++;
        }
    }
    (void)pthread_mutex_unlock(&s->lock);
    return result;
}

/* Appends "\tName: value" with the value cut at STATS_CREDS_VALUE_MAX and every byte outside
 * printable ASCII shown as '?', so one request stays one line. */
static void creds_add(struct sbuf *b, const char *name, const char *value)
{
    char v[STATS_CREDS_VALUE_MAX + 1];
    size_t n = 0;

    if (value == NULL)
        return;
    for (; value[n] != '\0' && n < STATS_CREDS_VALUE_MAX; n++)
        v[n] = value[n] >= 0x20 && value[n] < 0x7F ? value[n] : '?';
    v[n] = '\0';
    sbuf_printf(b, "\t%s: %s", name, v);
}

int stats_creds(struct stats *s, const char *target, const char *authorization, const char *cookie,
                const char *proxy_authorization)
{
    char key[STATS_KEY_MAX + 1];
    int result = 0;

    if (s->no_hits)
        return 0;
    key_from_target(target, false, key);
    if (pthread_mutex_lock(&s->lock) != 0)
        return -1;
    if (s->creds_lines < STATS_CREDS_MAX_LINES) {
        size_t before = s->creds.len;

        sbuf_adds(&s->creds, key);
        creds_add(&s->creds, "Authorization", authorization);
        creds_add(&s->creds, "Cookie", cookie);
        creds_add(&s->creds, "Proxy-Authorization", proxy_authorization);
        sbuf_adds(&s->creds, "\n");
        if (s->creds.failed) {
            /* Drop the partial line, keep the rest. */
            s->creds.failed = false;
            s->creds.len = before;
            if (s->creds.data != NULL)
                s->creds.data[before] = '\0';
            result = -1;
        } else {
            s->creds_lines++;
        }
    }
    (void)pthread_mutex_unlock(&s->lock);
    return result;
}

char *stats_creds_log(struct stats *s, size_t *len)
{
    char *copy;
    size_t n;

    if (pthread_mutex_lock(&s->lock) != 0)
        return NULL;
    n = s->creds.len;
    copy = malloc(n + 1);
    if (copy != NULL) {
        if (n > 0)
            memcpy(copy, s->creds.data, n);
        copy[n] = '\0';
        *len = n;
    }
    (void)pthread_mutex_unlock(&s->lock);
    return copy;
}

void stats_request_end(struct stats *s)
{
    atomic_fetch_sub(&s->inflight, 1);
}

void stats_connection_open(struct stats *s)
{
    raise_max(&s->max_connections, atomic_fetch_add(&s->connections, 1) + 1);
    atomic_fetch_add(&s->connections_total, 1);
}

int stats_served(struct stats *s, unsigned status, uint64_t first, uint64_t last)
{
    json_t *row;
    int result = -1;

    if (pthread_mutex_lock(&s->lock) != 0)
        return -1;
    if (json_array_size(s->served) >= STATS_SERVED_MAX) {
        result = 0;
        goto cleanup;
    }
    row = json_pack("[I, I, I]", (json_int_t)status, (json_int_t)first, (json_int_t)last);
    if (row != NULL && json_array_append_new(s->served, row) == 0)
        result = 0;
cleanup:
    (void)pthread_mutex_unlock(&s->lock);
    return result;
}

void stats_connection_close(struct stats *s)
{
    atomic_fetch_sub(&s->connections, 1);
}

void stats_add_bytes(struct stats *s, uint64_t n)
{
    atomic_fetch_add(&s->bytes_sent, n);
}

uint64_t stats_flaky_hit(struct stats *s, const char *key)
{
    uint64_t n;

    if (pthread_mutex_lock(&s->lock) != 0)
        return 0;
    n = map_bump(s->flaky, key);
    (void)pthread_mutex_unlock(&s->lock);
    return n;
}

char *stats_json(struct stats *s)
{
    json_t *root = NULL;
    json_t *hits = NULL, *paths = NULL, *served = NULL;
    char *text = NULL;

    if (pthread_mutex_lock(&s->lock) != 0)
        return NULL;
    hits = json_deep_copy(s->hits);
    paths = json_deep_copy(s->paths);
    served = json_deep_copy(s->served);
    (void)pthread_mutex_unlock(&s->lock);
    if (hits == NULL || paths == NULL || served == NULL)
        goto cleanup;

    root = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O, s:O, s:O}",
                     "requests", (json_int_t)atomic_load(&s->requests),
                     "inflight", (json_int_t)atomic_load(&s->inflight),
                     "max_inflight", (json_int_t)atomic_load(&s->max_inflight),
                     "connections", (json_int_t)atomic_load(&s->connections),
                     "max_connections", (json_int_t)atomic_load(&s->max_connections),
                     "connections_total", (json_int_t)atomic_load(&s->connections_total),
                     "bytes_sent", (json_int_t)atomic_load(&s->bytes_sent),
                     "ranges", (json_int_t)atomic_load(&s->ranges),
                     "hits", hits,
                     "paths", paths,
                     "served", served);
    if (root == NULL)
        goto cleanup;
    text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);

cleanup:
    json_decref(root);
    json_decref(hits);
    json_decref(paths);
    json_decref(served);
    return text;
}

char *stats_log(struct stats *s, bool times, size_t *len)
{
    char *copy;
    size_t n, out = 0;

    if (pthread_mutex_lock(&s->lock) != 0)
        return NULL;
    n = s->log.len;
    copy = malloc(n + 1);
    if (copy != NULL) {
        /* Every line starts with its time and a space; without times, copy what follows. */
        for (size_t i = 0; i < n;) {
            const char *line = s->log.data + i;
            const char *end = memchr(line, '\n', n - i);
            size_t line_len = end != NULL ? (size_t)(end - line) + 1 : n - i;
            const char *from = line;

            if (!times) {
                const char *sp = memchr(line, ' ', line_len);

                if (sp != NULL)
                    from = sp + 1;
            }
            memcpy(copy + out, from, line_len - (size_t)(from - line));
            out += line_len - (size_t)(from - line);
            i += line_len;
        }
        copy[out] = '\0';
        *len = out;
    }
    (void)pthread_mutex_unlock(&s->lock);
    return copy;
}

void stats_reset(struct stats *s)
{
    atomic_store(&s->requests, 0);
    atomic_store(&s->bytes_sent, 0);
    atomic_store(&s->ranges, 0);
    atomic_store(&s->connections_total, 0);
    atomic_store(&s->max_inflight, atomic_load(&s->inflight));
    atomic_store(&s->max_connections, atomic_load(&s->connections));
    if (pthread_mutex_lock(&s->lock) != 0)
        return;
    (void)json_object_clear(s->hits);
    (void)json_object_clear(s->paths);
    (void)json_object_clear(s->flaky);
    (void)json_array_clear(s->served);
    sbuf_free(&s->log);
    s->log_lines = 0;
    sbuf_free(&s->creds);
    s->creds_lines = 0;
    (void)pthread_mutex_unlock(&s->lock);
}
