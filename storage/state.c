/* store_state: rows queued on the loop thread, written in one transaction per batch on the pool. */
#include "storage/state.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/async/executor.h"

#define STATE_BATCH 512              /* queued operations that start a write at once */
/* Otherwise at most this late. A kill -9 loses what was queued in the last interval (a re-run
 * reconciles files it finds complete, but the fewer the better); a WAL commit at synchronous=NORMAL
 * does not fsync, so a short interval costs little. */
#define STATE_FLUSH_MS 100

static const char state_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS urls ("
    "  url TEXT PRIMARY KEY,"
    "  status TEXT NOT NULL,"          /* pending, done, failed, skipped */
    "  http_code INTEGER,"
    "  bytes INTEGER,"
    "  sha256 TEXT,"
    "  path TEXT,"                     /* relative to the output folder */
    "  etag TEXT,"
    "  last_modified TEXT,"
    "  error TEXT,"
    "  depth INTEGER,"                 /* crawl depth; NULL for get */
    "  parent TEXT,"                   /* the page the URL was found on */
    "  updated_at INTEGER NOT NULL,"   /* unix time */
    "  content_type TEXT,"             /* of a saved body */
    "  redirect TEXT,"                 /* a 3xx: where it leads */
    "  converted INTEGER"              /* --convert-links rewrote the file's links */
    ");"
    "CREATE TABLE IF NOT EXISTS frontier ("
    "  url TEXT PRIMARY KEY,"
    "  depth INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"         /* 0 page, 1 asset */
    "  hops INTEGER NOT NULL,"
    "  parent TEXT,"                   /* the page the URL was found on */
    "  seq INTEGER,"                   /* queueing order: a level is read back in it */
    "  seed INTEGER"                   /* the start URL it descends from (its HAR page) */
    ");";

static const char *const status_names[] = { "pending", "done", "failed", "skipped" };

enum state_op_kind { OP_URL, OP_FRONTIER_ADD, OP_FRONTIER_DEL };

struct state_op {
    struct state_op *next;
    enum state_op_kind kind;
    int status, depth, fkind, hops;
    long http_code;
    int64_t seq, seed;                /* OP_FRONTIER_ADD: -1 stores NULL */
    int64_t bytes;
    char *url, *sha256, *path, *etag, *last_modified, *error, *parent, *content_type, *redirect;
};

struct state_waiter {
    struct state_waiter *next;
    future_t *fut;
};

struct store_state {
    pthread_mutex_t read_lock;       /* lookups come from several pool threads */
    pthread_mutex_t open_lock;       /* the connections are made once, by whoever needs them first */
    int opened;                      /* under open_lock: state_connect_all ran */
    int open_result;                 /* under open_lock: what it returned */
    sqlite3 *writer, *reader;
    sqlite3_stmt *put_url, *add_frontier, *del_frontier, *get_url;
    sqlite3_stmt *target, *mark_converted;   /* --convert-links, after the loop */
    sched_t *sched;
    uv_timer_t timer;
    int timer_on;
    struct state_op *head, *tail;    /* queued on the loop thread */
    size_t queued;
    int busy;                        /* a batch is being written on the pool */
    struct {
        struct state_op *ops;
        struct state_waiter *waiters;
        int result;
    } job;
    struct state_waiter *waiters;    /* flushes asked for since the running batch started */
    int failed_once;
    char *path;
    char *temp_dir;                  /* store_state_open_temp: removed with the database */
};

static void state_op_free(struct state_op *op)
{
    while (op) {
        struct state_op *next = op->next;
        free(op->url);
        free(op->sha256);
        free(op->path);
        free(op->etag);
        free(op->last_modified);
        free(op->error);
        free(op->parent);
        free(op->content_type);
        free(op->redirect);
        free(op);
        op = next;
    }
}

/* ---- the database ---------------------------------------------------------------------------- */

static int state_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int state_connect(const char *path, sqlite3 **db)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK)
        return -EIO;
    if (sqlite3_busy_timeout(*db, 10000) != SQLITE_OK)
        return -EIO;
    return 0;
}

/* Connects both handles, creates the schema and prepares the statements; prints why on failure
 * and returns -EIO. Blocking; called once, under open_lock or before anyone else can see st. */
static int state_connect_all(store_state_t *st)
{
    char *errmsg = NULL;

    if (state_connect(st->path, &st->writer) < 0 ||
        sqlite3_exec(st->writer, state_schema, NULL, NULL, &errmsg) != SQLITE_OK ||
        state_connect(st->path, &st->reader) < 0)
        goto error;
    /* A database from before frontier.parent existed: add it (an error just means it is there). */
    sqlite3_exec(st->writer, "ALTER TABLE frontier ADD COLUMN parent TEXT", NULL, NULL, NULL);
    sqlite3_exec(st->writer, "ALTER TABLE urls ADD COLUMN content_type TEXT", NULL, NULL, NULL);
    sqlite3_exec(st->writer, "ALTER TABLE urls ADD COLUMN redirect TEXT", NULL, NULL, NULL);
    sqlite3_exec(st->writer, "ALTER TABLE urls ADD COLUMN converted INTEGER", NULL, NULL, NULL);
    sqlite3_exec(st->writer, "ALTER TABLE frontier ADD COLUMN seq INTEGER", NULL, NULL, NULL);
    sqlite3_exec(st->writer, "ALTER TABLE frontier ADD COLUMN seed INTEGER", NULL, NULL, NULL);
    /* A level is paged back in seq order (crawl_frontier_fill): the index makes it a range scan. */
    if (sqlite3_exec(st->writer, "CREATE INDEX IF NOT EXISTS frontier_order ON frontier (depth, seq)",
                     NULL, NULL, &errmsg) != SQLITE_OK)
        goto error;
    if (state_prepare(st->writer,
                      "INSERT INTO urls (url, status, http_code, bytes, sha256, path, etag,"
                      " last_modified, error, depth, parent, updated_at, content_type, redirect)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                      " ON CONFLICT(url) DO UPDATE SET status = ?2,"
                      " http_code = COALESCE(?3, http_code), bytes = ?4, sha256 = ?5,"
                      " path = COALESCE(?6, path), etag = COALESCE(?7, etag),"
                      " last_modified = COALESCE(?8, last_modified), error = ?9,"
                      " depth = COALESCE(?10, depth), parent = COALESCE(?11, parent),"
                      " updated_at = ?12, content_type = COALESCE(?13, content_type),"
                      " redirect = ?14,"
                      " converted = CASE WHEN ?6 IS NULL THEN converted ELSE NULL END",
                      &st->put_url) < 0 ||
        state_prepare(st->writer,
                      "INSERT OR REPLACE INTO frontier (url, depth, kind, hops, parent, seq, seed)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                      &st->add_frontier) < 0 ||
        state_prepare(st->writer, "DELETE FROM frontier WHERE url = ?1", &st->del_frontier) < 0 ||
        state_prepare(st->reader,
                      "SELECT status, http_code, bytes, sha256, path, etag, last_modified, depth, converted"
                      " FROM urls WHERE url = ?1",
                      &st->get_url) < 0 ||
        state_prepare(st->reader,
                      "SELECT CASE WHEN status = 'done' THEN path END, redirect FROM urls WHERE url = ?1",
                      &st->target) < 0 ||
        state_prepare(st->writer, "UPDATE urls SET converted = 1 WHERE url = ?1",
                      &st->mark_converted) < 0)
        goto error;
    return 0;

error:
    fprintf(stderr, "gather: cannot use the state database %s: %s\n", st->path,
            errmsg ? errmsg : st->writer ? sqlite3_errmsg(st->writer) : "cannot open");
    sqlite3_free(errmsg);
    return -EIO;
}

/* The connections, made now if nobody made them yet: 0 or -EIO. Any thread. */
static int state_ready(store_state_t *st)
{
    int result;

    pthread_mutex_lock(&st->open_lock);
    if (!st->opened) {
        st->open_result = state_connect_all(st);
        st->opened = 1;
    }
    result = st->open_result;
    pthread_mutex_unlock(&st->open_lock);
    return result;
}

int store_state_open(const char *dir, store_state_t **out, int *existed)
{
    store_state_t *st = calloc(1, sizeof(*st));
    FILE *probe;

    *out = NULL;
    *existed = 0;
    if (!st || asprintf(&st->path, "%s/%s", dir, STORE_STATE_FILE) < 0) {
        free(st);
        return -ENOMEM;
    }
    if (pthread_mutex_init(&st->read_lock, NULL) != 0) {
        free(st->path);
        free(st);
        return -ENOMEM;
    }
    if (pthread_mutex_init(&st->open_lock, NULL) != 0) {
        pthread_mutex_destroy(&st->read_lock);
        free(st->path);
        free(st);
        return -ENOMEM;
    }
    probe = fopen(st->path, "rb");
    *existed = probe != NULL;
    if (probe)
        fclose(probe);
    /* A new database is created by the first batch, on the pool, while the first transfers run:
     * WAL set-up and the schema cost several fdatasync that need not delay them. One that exists
     * is read before anything starts (what is done, what to resume), so it opens now. */
    if (*existed && state_ready(st) < 0) {
        *existed = 0;
        store_state_close(st);
        return -EIO;
    }
    *out = st;
    return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static int state_exec_op(store_state_t *st, const struct state_op *op, long long now)
{
    sqlite3_stmt *s;

    switch (op->kind) {
    case OP_URL:
        s = st->put_url;
        bind_text(s, 1, op->url);
        bind_text(s, 2, status_names[op->status]);
        if (op->http_code >= 0)
            sqlite3_bind_int64(s, 3, op->http_code);
        else
            sqlite3_bind_null(s, 3);
        sqlite3_bind_int64(s, 4, op->bytes);
        bind_text(s, 5, op->sha256);
        bind_text(s, 6, op->path);
        bind_text(s, 7, op->etag);
        bind_text(s, 8, op->last_modified);
        bind_text(s, 9, op->error);
        if (op->depth >= 0)
            sqlite3_bind_int(s, 10, op->depth);
        else
            sqlite3_bind_null(s, 10);
        bind_text(s, 11, op->parent);
        sqlite3_bind_int64(s, 12, now);
        bind_text(s, 13, op->content_type);
        bind_text(s, 14, op->redirect);
        break;
    case OP_FRONTIER_ADD:
        s = st->add_frontier;
        bind_text(s, 1, op->url);
        sqlite3_bind_int(s, 2, op->depth);
        sqlite3_bind_int(s, 3, op->fkind);
        sqlite3_bind_int(s, 4, op->hops);
        bind_text(s, 5, op->parent);
        if (op->seq >= 0)
            sqlite3_bind_int64(s, 6, op->seq);
        else
            sqlite3_bind_null(s, 6);
        if (op->seed >= 0)
            sqlite3_bind_int64(s, 7, op->seed);
        else
            sqlite3_bind_null(s, 7);
        break;
    default:
        s = st->del_frontier;
        bind_text(s, 1, op->url);
        break;
    }
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Writes ops in one transaction. Blocking. */
static int state_write(store_state_t *st, const struct state_op *ops)
{
    long long now = (long long)time(NULL);
    int result = 0;

    if (!ops)
        return 0;
    if (sqlite3_exec(st->writer, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -EIO;
    for (const struct state_op *op = ops; op && result == 0; op = op->next)
        result = state_exec_op(st, op, now);
    if (result == 0 && sqlite3_exec(st->writer, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        result = -EIO;
    if (result < 0)
        sqlite3_exec(st->writer, "ROLLBACK", NULL, NULL, NULL);
    return result;
}

/* ---- batches on the pool --------------------------------------------------------------------- */

static void state_kick(store_state_t *st);

static int state_job_run(void *arg)
{
    store_state_t *st = arg;

    st->job.result = state_ready(st) < 0 ? -EIO : state_write(st, st->job.ops);
    return 0;
}

static void state_job_done(future_t *f, void *arg)
{
    store_state_t *st = arg;
    struct state_waiter *w = st->job.waiters;

    (void)f;
    if (st->job.result < 0 && !st->failed_once) {
        st->failed_once = 1;
        if (st->open_result < 0)
            goto failed;                 /* state_connect_all said why */
        fprintf(stderr, "gather: cannot write the state database %s: %s\n", st->path,
                sqlite3_errmsg(st->writer));
    }
failed:
    state_op_free(st->job.ops);
    st->job.ops = NULL;
    st->job.waiters = NULL;
    st->busy = 0;
    while (w) {
        struct state_waiter *next = w->next;
        future_resolve(w->fut, NULL);
        future_unref(w->fut);
        free(w);
        w = next;
    }
    state_kick(st);
}

static void state_start_batch(store_state_t *st)
{
    future_t *f;

    st->job.ops = st->head;
    st->job.waiters = st->waiters;
    st->head = st->tail = NULL;
    st->queued = 0;
    st->waiters = NULL;
    st->busy = 1;
    f = executor_run(st->sched, state_job_run, st);
    if (!f) {
        /* Could not queue the job: write here rather than lose the rows. */
        state_job_run(st);
        state_job_done(NULL, st);
        return;
    }
    future_on_done(f, state_job_done, st);   /* a new future's first callback cannot fail */
    future_unref(f);
}

static void state_kick(store_state_t *st)
{
    if (!st->busy && st->sched && (st->head || st->waiters))
        state_start_batch(st);
}

static int state_queue(store_state_t *st, struct state_op *op)
{
    if (st->tail)
        st->tail->next = op;
    else
        st->head = op;
    st->tail = op;
    if (++st->queued >= STATE_BATCH)
        state_kick(st);
    return 0;
}

static char *dup_or_null(const char *s, int *bad)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *bad = 1;
    return d;
}

int store_state_put(store_state_t *st, const store_record_t *rec)
{
    struct state_op *op = calloc(1, sizeof(*op));
    int bad = 0;

    if (!op)
        return -ENOMEM;
    op->kind = OP_URL;
    op->status = rec->status;
    op->http_code = rec->http_code;
    op->bytes = rec->bytes;
    op->depth = rec->depth;
    op->url = dup_or_null(rec->url, &bad);
    op->sha256 = dup_or_null(rec->sha256 && rec->sha256[0] ? rec->sha256 : NULL, &bad);
    op->path = dup_or_null(rec->path, &bad);
    op->etag = dup_or_null(rec->etag && rec->etag[0] ? rec->etag : NULL, &bad);
    op->last_modified = dup_or_null(rec->last_modified && rec->last_modified[0] ? rec->last_modified : NULL, &bad);
    op->error = dup_or_null(rec->error, &bad);
    op->parent = dup_or_null(rec->parent, &bad);
    op->content_type = dup_or_null(rec->content_type && rec->content_type[0] ? rec->content_type : NULL, &bad);
    op->redirect = dup_or_null(rec->redirect, &bad);
    if (bad || !op->url) {
        state_op_free(op);
        return -ENOMEM;
    }
    return state_queue(st, op);
}

static int state_frontier(store_state_t *st, enum state_op_kind kind, const char *url, int depth,
                          int fkind, int hops, const char *parent, int64_t seq, int64_t seed)
{
    struct state_op *op = calloc(1, sizeof(*op));

    if (!op || !(op->url = strdup(url)) || (parent && !(op->parent = strdup(parent)))) {
        if (op)
            free(op->url);
        free(op);
        return -ENOMEM;
    }
    op->kind = kind;
    op->depth = depth;
    op->fkind = fkind;
    op->hops = hops;
    op->seq = seq;
    op->seed = seed;
    return state_queue(st, op);
}

int store_state_frontier_add(store_state_t *st, const char *url, int depth, int kind, int hops,
                             const char *parent)
{
    return state_frontier(st, OP_FRONTIER_ADD, url, depth, kind, hops, parent, -1, -1);
}

int store_state_frontier_put(store_state_t *st, const char *url, int depth, int kind, int hops,
                             const char *parent, int64_t seq, int64_t seed)
{
    return state_frontier(st, OP_FRONTIER_ADD, url, depth, kind, hops, parent, seq, seed);
}

int store_state_frontier_del(store_state_t *st, const char *url)
{
    return state_frontier(st, OP_FRONTIER_DEL, url, 0, 0, 0, NULL, -1, -1);
}

future_t *store_state_flush(store_state_t *st)
{
    struct state_waiter *w = calloc(1, sizeof(*w));
    future_t *f = future_new(st->sched);

    if (!w || !f) {
        free(w);
        future_unref(f);
        return NULL;
    }
    w->fut = future_ref(f);
    w->next = st->waiters;
    st->waiters = w;
    state_kick(st);
    return f;
}

static void state_on_timer(uv_timer_t *t)
{
    store_state_t *st = t->data;

    if (st->head)
        state_kick(st);
}

int store_state_start(store_state_t *st, sched_t *s)
{
    int result;

    st->sched = s;
    result = uv_timer_init(s->loop, &st->timer);
    if (result < 0)
        return result;
    st->timer.data = st;
    st->timer_on = 1;
    result = uv_timer_start(&st->timer, state_on_timer, STATE_FLUSH_MS, STATE_FLUSH_MS);
    if (result < 0)
        return result;
    uv_unref((uv_handle_t *)&st->timer);
    return 0;
}

void store_state_stop(store_state_t *st)
{
    if (st->timer_on) {
        uv_timer_stop(&st->timer);
        uv_close((uv_handle_t *)&st->timer, NULL);
        st->timer_on = 0;
    }
    st->sched = NULL;
}

/* ---- reading --------------------------------------------------------------------------------- */

static char *column_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t ? strdup((const char *)t) : NULL;
}

int store_state_get(store_state_t *st, const char *url, store_row_t *row)
{
    sqlite3_stmt *s;
    int rc, result = 0;

    memset(row, 0, sizeof(*row));
    if (state_ready(st) < 0)
        return -EIO;
    s = st->get_url;
    pthread_mutex_lock(&st->read_lock);
    bind_text(s, 1, url);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 0);
        row->status = STORE_URL_FAILED;
        for (int i = 0; status && i < 4; i++)
            if (!strcmp(status, status_names[i]))
                row->status = i;
        row->http_code = (long)sqlite3_column_int64(s, 1);
        row->bytes = sqlite3_column_int64(s, 2);
        row->sha256 = column_dup(s, 3);
        row->path = column_dup(s, 4);
        row->etag = column_dup(s, 5);
        row->last_modified = column_dup(s, 6);
        row->depth = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 7);
        row->converted = sqlite3_column_int(s, 8) != 0;
        result = 1;
    } else if (rc != SQLITE_DONE) {
        result = -EIO;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    pthread_mutex_unlock(&st->read_lock);
    return result;
}

void store_row_clear(store_row_t *row)
{
    free(row->sha256);
    free(row->path);
    free(row->etag);
    free(row->last_modified);
    memset(row, 0, sizeof(*row));
}

int store_state_load(store_state_t *st,
                     void (*seen)(void *arg, const char *url, int status, const char *path),
                     void (*pending)(void *arg, const char *url, int depth, int kind, int hops,
                                     const char *parent),
                     void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (state_ready(st) < 0 || state_prepare(st->reader, "SELECT url, status, path FROM urls", &s) < 0)
        return -EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 1);
        int code = STORE_URL_FAILED;
        for (int i = 0; status && i < 4; i++)
            if (!strcmp(status, status_names[i]))
                code = i;
        seen(arg, (const char *)sqlite3_column_text(s, 0), code,
             (const char *)sqlite3_column_text(s, 2));
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return -EIO;
    if (!pending)
        return 0;
    if (state_prepare(st->reader, "SELECT url, depth, kind, hops, parent FROM frontier ORDER BY depth", &s) < 0)
        return -EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        pending(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int(s, 1),
                sqlite3_column_int(s, 2), sqlite3_column_int(s, 3),
                (const char *)sqlite3_column_text(s, 4));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

/* ---- --convert-links ------------------------------------------------------------------------ */

#define STATE_REDIRECT_HOPS 20

int store_state_each_saved(store_state_t *st,
                           int (*fn)(void *arg, const char *url, const char *path,
                                     const char *content_type, int converted),
                           void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc, result = 0;

    /* Its own statement: fn uses st->target on the same connection while this one steps. */
    if (state_ready(st) < 0 || state_prepare(st->reader,
                      "SELECT url, path, content_type, converted FROM urls"
                      " WHERE status = 'done' AND path IS NOT NULL",
                      &s) < 0)
        return -EIO;
    while (result == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
        result = fn(arg, (const char *)sqlite3_column_text(s, 0),
                    (const char *)sqlite3_column_text(s, 1), (const char *)sqlite3_column_text(s, 2),
                    sqlite3_column_int(s, 3));
    if (result == 0 && rc != SQLITE_DONE)
        result = -EIO;
    sqlite3_finalize(s);
    return result;
}

int store_state_target(store_state_t *st, const char *url, char **path)
{
    sqlite3_stmt *s;
    char *next = NULL;
    int result = 0;

    *path = NULL;
    if (state_ready(st) < 0)
        return -EIO;
    s = st->target;
    bind_text(s, 1, url);
    for (int hop = 0; hop <= STATE_REDIRECT_HOPS; hop++) {
        int rc = sqlite3_step(s);
        const char *saved, *redirect;

        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            result = -EIO;
            break;
        }
        saved = (const char *)sqlite3_column_text(s, 0);
        redirect = (const char *)sqlite3_column_text(s, 1);
        if (saved) {
            result = (*path = strdup(saved)) ? 1 : -ENOMEM;
            break;
        }
        if (!redirect)
            break;
        free(next);
        if (!(next = strdup(redirect))) {
            result = -ENOMEM;
            break;
        }
        sqlite3_reset(s);
        bind_text(s, 1, next);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    free(next);
    return result;
}

int store_state_mark_converted(store_state_t *st, const char *url)
{
    sqlite3_stmt *s;
    int rc;

    if (state_ready(st) < 0)
        return -EIO;
    s = st->mark_converted;
    bind_text(s, 1, url);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int store_state_close(store_state_t *st)
{
    int result = 0;

    if (!st)
        return 0;
    /* A run that queued nothing still leaves its database behind, as one that did. */
    if (state_ready(st) < 0)
        result = -EIO;
    if (st->head && st->writer && state_write(st, st->head) < 0)
        result = -EIO;
    state_op_free(st->head);
    while (st->waiters) {
        struct state_waiter *w = st->waiters;
        st->waiters = w->next;
        future_resolve(w->fut, NULL);
        future_unref(w->fut);
        free(w);
    }
    sqlite3_finalize(st->put_url);
    sqlite3_finalize(st->add_frontier);
    sqlite3_finalize(st->del_frontier);
    sqlite3_finalize(st->get_url);
    sqlite3_finalize(st->target);
    sqlite3_finalize(st->mark_converted);
    if (st->reader)
        sqlite3_close(st->reader);
    if (st->writer) {
        /* Fold the WAL back so the folder holds one plain database file afterwards. */
        sqlite3_exec(st->writer, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        if (sqlite3_close(st->writer) != SQLITE_OK)
            result = -EIO;
    }
    pthread_mutex_destroy(&st->read_lock);
    pthread_mutex_destroy(&st->open_lock);
    if (st->temp_dir) {
        static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
            char *name = NULL;
            if (asprintf(&name, "%s%s", st->path, suffixes[i]) >= 0) {
                unlink(name);            /* most are not there: nothing to report */
                free(name);
            }
        }
        if (rmdir(st->temp_dir) < 0)
            result = -errno;
        free(st->temp_dir);
    }
    free(st->path);
    free(st);
    return result;
}

/* ---- the spilled frontier ---------------------------------------------------------------------- */

int store_state_open_temp(store_state_t **out)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL;
    int existed, result;

    *out = NULL;
    if (asprintf(&dir, "%s/gather-frontier-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
        return -ENOMEM;
    if (!mkdtemp(dir)) {
        result = -errno;
        fprintf(stderr, "gather: cannot make a folder for the frontier in %s: %s\n",
                tmp && *tmp ? tmp : "/tmp", strerror(errno));
        free(dir);
        return result;
    }
    result = store_state_open(dir, out, &existed);
    if (result < 0) {
        rmdir(dir);
        free(dir);
        return result;
    }
    /* Nothing in it outlives the run: a crash loses nothing that a sync would have kept. Set up
     * now (a new database would wait for its first batch), to set that. */
    if (state_ready(*out) == 0)
        sqlite3_exec((*out)->writer, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    (*out)->temp_dir = dir;
    return 0;
}

void store_state_attach(store_state_t *st, sched_t *s)
{
    st->sched = s;
}

size_t store_state_backlog(const store_state_t *st)
{
    return st->queued;
}

int store_state_frontier_read(store_state_t *st, int depth, int64_t lo, int64_t hi, size_t max,
                              store_frontier_row_t **rows, size_t *n)
{
    sqlite3_stmt *s = NULL;
    store_frontier_row_t *r;
    int rc = SQLITE_DONE, result = 0;

    *rows = NULL;
    *n = 0;
    if (state_ready(st) < 0)
        return -EIO;
    if (!(r = calloc(max ? max : 1, sizeof(*r))))
        return -ENOMEM;
    pthread_mutex_lock(&st->read_lock);
    if (state_prepare(st->reader,
                      "SELECT url, kind, hops, parent, seed, seq FROM frontier"
                      " WHERE depth = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq LIMIT ?4",
                      &s) < 0) {
        result = -EIO;
        goto done;
    }
    sqlite3_bind_int(s, 1, depth);
    sqlite3_bind_int64(s, 2, lo);
    sqlite3_bind_int64(s, 3, hi);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)max);
    while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        store_frontier_row_t *row = &r[*n];
        const char *url = (const char *)sqlite3_column_text(s, 0);
        const char *parent = (const char *)sqlite3_column_text(s, 3);

        if (!url)
            continue;
        if (!(row->url = strdup(url)) || (parent && !(row->parent = strdup(parent)))) {
            free(row->url);
            row->url = NULL;
            result = -ENOMEM;
            break;
        }
        row->kind = sqlite3_column_int(s, 1);
        row->hops = sqlite3_column_int(s, 2);
        row->seed = sqlite3_column_type(s, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 4);
        row->seq = sqlite3_column_int64(s, 5);
        (*n)++;
    }
    if (result == 0 && *n < max && rc != SQLITE_DONE)
        result = -EIO;
done:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->read_lock);
    if (result < 0) {
        store_frontier_rows_free(r, *n);
        *n = 0;
        return result;
    }
    *rows = r;
    return 0;
}

void store_frontier_rows_free(store_frontier_row_t *rows, size_t n)
{
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++) {
        free(rows[i].url);
        free(rows[i].parent);
    }
    free(rows);
}

int store_state_frontier_scan(store_state_t *st,
                              void (*fn)(void *arg, const char *url, int depth, int64_t seq),
                              void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc;

    /* Rows from before seq existed come after those numbered, in the order they were inserted. */
    if (state_ready(st) < 0 ||
        sqlite3_exec(st->writer,
                     "UPDATE frontier SET seq = rowid + (SELECT IFNULL(MAX(seq), 0) FROM frontier)"
                     " WHERE seq IS NULL", NULL, NULL, NULL) != SQLITE_OK ||
        state_prepare(st->reader, "SELECT url, depth, seq FROM frontier", &s) < 0)
        return -EIO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (sqlite3_column_text(s, 0))
            fn(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int(s, 1),
               sqlite3_column_int64(s, 2));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int store_state_frontier_clamp(store_state_t *st, int depth)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (state_ready(st) < 0 ||
        state_prepare(st->writer, "UPDATE frontier SET depth = ?1 WHERE depth > ?1", &s) < 0)
        return -EIO;
    sqlite3_bind_int(s, 1, depth);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -EIO;
}
