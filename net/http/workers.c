/* http_workers: transfers on worker threads, settled on the job's loop (see workers.h). */
#include "net/http/workers.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#include "net/async/inbox.h"

/* to a worker */
enum { WX_START = 1, WX_ABORT = 2, WX_RESUME = 4 };
/* to main */
enum { WX_BODY = 1, WX_DONE = 2 };

struct wx_piece {
    struct wx_piece *next;
    size_t len;
    char data[];
};

/* Origins hashed into this many slots per worker (a collision only misplaces a hint). */
#define WORKER_HINTS 256

struct http_worker {
    http_workers_t *ws;
    uv_loop_t loop;
    sched_t sched;
    http_client_t *client;
    inbox_t inbox;
    inbox_node_t stop;          /* main's "close your client and leave" */
    uv_thread_t thread;
    pthread_mutex_t lock;       /* the shared half of every http_wx_t on this worker */
    int made;                   /* how far set-up got: loop, sched, client, inbox, lock, thread */
    long cap;                   /* its client's connection cap (0: curl's default) */
    /* main only */
    unsigned short idle[WORKER_HINTS];  /* transfers that ended here, by origin hash, not yet
                                         * followed by another: likely an idle connection */
    unsigned short busy[WORKER_HINTS];  /* transfers running here, by origin hash */
    long active;                /* transfers given to it and not settled */
    unsigned long ran;          /* transfers given to it so far */
};

struct http_workers {
    sched_t *sched;             /* main's */
    inbox_t inbox;              /* main's: BODY and DONE from every worker */
    struct http_worker *w;
    size_t n;
    size_t next;                /* round-robin start among the least busy */
    unsigned char h1[WORKER_HINTS]; /* https origins (hashed) seen to answer HTTP/1.x: spread */
    long active;
    int closing;
};

typedef struct http_wx {
    http_req_t *r;
    unsigned origin;            /* the URL's origin, hashed (a slot of http_worker.idle) */
    struct http_worker *worker;
    inbox_node_t to_worker, to_main;
    net_sink_t relay;           /* r->sink while the worker runs r (when it has a sink) */
    net_sink_t *sink;           /* the caller's, called on main */
    future_t *fut;              /* main's, the client's reference */
    future_t *wfut;             /* the worker's (worker thread only) */
    int wfail;                  /* the worker's future failed (-ENOMEM, -EINVAL) or was cancelled */
    /* shared, under worker->lock */
    struct wx_piece *head, *tail;   /* pieces main has not taken yet */
    size_t queued;              /* bytes in the relay that main's sink has not taken */
    int wpaused;                /* the relay refused a piece: main sends RESUME once there is room */
    int werror;                 /* main's sink refused the body: the relay returns this */
    int finished;               /* the worker posted DONE: nothing may be posted to it any more */
    /* main only */
    struct wx_piece *held;      /* taken from the queue, not yet all given to the sink */
    int mpaused;                /* the sink paused: http_req_resume goes on */
    int delivering;
    int done;                   /* DONE arrived */
    int tls;                    /* an https URL: HTTP/2 may multiplex it with others */
    int aborted;                /* the future was cancelled */
    int merror;                 /* the sink's error */
    curl_off_t delivered;       /* body bytes the sink took */
} http_wx_t;

/* ---- the worker's side -------------------------------------------------------------------- */

/* r's sink on the worker: a copy of the piece for main, or a pause while main is behind. */
static int wx_relay_write(net_sink_t *sink, const char *data, size_t len)
{
    http_wx_t *x = container_of(sink, http_wx_t, relay);
    struct http_worker *w = x->worker;
    struct wx_piece *p;
    int result;

    pthread_mutex_lock(&w->lock);
    result = x->werror ? x->werror : x->queued >= HTTP_WX_CAP ? NET_SINK_PAUSE : NET_SINK_OK;
    if (result == NET_SINK_PAUSE)
        x->wpaused = 1;
    pthread_mutex_unlock(&w->lock);
    if (result != NET_SINK_OK)
        return result;
    if (!(p = malloc(sizeof(*p) + len)))
        return -ENOMEM;
    p->next = NULL;
    p->len = len;
    memcpy(p->data, data, len);
    pthread_mutex_lock(&w->lock);
    if (x->tail)
        x->tail->next = p;
    else
        x->head = p;
    x->tail = p;
    x->queued += len;
    pthread_mutex_unlock(&w->lock);
    inbox_post(&w->ws->inbox, &x->to_main, WX_BODY);
    return NET_SINK_OK;
}

/* r is final on the worker: hand it back. After this the worker never looks at x again. */
static void wx_worker_finish(http_wx_t *x)
{
    struct http_worker *w = x->worker;

    pthread_mutex_lock(&w->lock);
    x->finished = 1;
    pthread_mutex_unlock(&w->lock);
    /* main posts nothing once finished is set; what it posted before goes */
    inbox_remove(&w->inbox, &x->to_worker);
    inbox_post(&w->ws->inbox, &x->to_main, WX_DONE);
}

static void wx_on_worker_done(future_t *f, void *arg)
{
    http_wx_t *x = arg;

    x->wfail = future_state(f) == FUTURE_DONE ? 0 : future_error(f) ? future_error(f) : -ECANCELED;
    future_unref(x->wfut);
    x->wfut = NULL;
    wx_worker_finish(x);
}

static void worker_stop(struct http_worker *w)
{
    http_client_close(w->client);
    w->client = NULL;
    inbox_close(&w->inbox, NULL);
    sched_close(&w->sched);
}

static void worker_on_msg(inbox_t *ib, inbox_node_t *node, unsigned bits)
{
    struct http_worker *w = ib->data;
    http_wx_t *x;

    if (node == &w->stop) {
        worker_stop(w);
        return;
    }
    x = container_of(node, http_wx_t, to_worker);
    if (bits & WX_START) {
        if (bits & WX_ABORT) {              /* cancelled before it began */
            x->r->code = CURLE_ABORTED_BY_CALLBACK;
            x->wfail = -ECANCELED;
            wx_worker_finish(x);
            return;
        }
        x->wfut = http_req_start(w->client, x->r);
        if (!x->wfut || future_on_done(x->wfut, wx_on_worker_done, x) < 0) {
            if (x->wfut) {
                future_cancel(x->wfut);     /* ends the transfer; nobody waits for it */
                future_unref(x->wfut);
                x->wfut = NULL;
            }
            x->r->code = CURLE_OUT_OF_MEMORY;
            x->wfail = -ENOMEM;
            wx_worker_finish(x);
            return;
        }
    }
    if (!x->wfut || future_is_done(x->wfut))
        return;
    if (bits & WX_ABORT)
        future_cancel(x->wfut);             /* its done callback finishes x */
    else if (bits & WX_RESUME)
        http_req_resume_here(x->r);         /* the relay has room, or refuses for good */
}

static void worker_main(void *arg)
{
    struct http_worker *w = arg;

    /* A name for top, gdb and the tests (which count the workers in /proc); cosmetic if refused. */
    (void)pthread_setname_np(pthread_self(), "gather-xfer");
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

/* ---- the main loop's side ---------------------------------------------------------------- */

/* Posts bits to x's worker unless it has finished x. */
static void wx_post_worker(http_wx_t *x, unsigned bits)
{
    struct http_worker *w = x->worker;

    pthread_mutex_lock(&w->lock);
    if (!x->finished)
        inbox_post(&w->inbox, &x->to_worker, bits);
    pthread_mutex_unlock(&w->lock);
}

static void wx_free_pieces(struct wx_piece *p)
{
    while (p) {
        struct wx_piece *next = p->next;
        free(p);
        p = next;
    }
}

static void wx_settle(http_wx_t *x)
{
    http_workers_t *ws = x->worker->ws;
    http_req_t *r = x->r;
    future_t *fut = x->fut;

    r->sink = x->sink;
    r->wx = NULL;
    future_set_cancel(fut, NULL, NULL);
    if (x->aborted) {
        /* cancelled as without workers: with no hook left, future_cancel just settles it */
        r->code = CURLE_ABORTED_BY_CALLBACK;
        future_cancel(fut);
    } else if (x->wfail) {
        future_fail(fut, x->wfail);         /* could not start: -ENOMEM, -EINVAL */
    } else {
        if (x->merror) {                    /* the sink refused what the worker had taken */
            r->code = CURLE_WRITE_ERROR;
            r->sink_error = x->merror;
        }
        r->body_bytes = x->delivered;       /* what the sink took, as without workers */
        future_resolve(fut, r);
    }
    future_unref(fut);
    if (!x->aborted && !x->wfail && x->worker->idle[x->origin] < USHRT_MAX)
        x->worker->idle[x->origin]++;       /* its connection is likely in this worker's cache */
    if (x->tls && !x->aborted && !x->wfail && r->http_version[0] && strcmp(r->http_version, "HTTP/2"))
        ws->h1[x->origin] = 1;
    x->worker->busy[x->origin]--;
    x->worker->active--;
    if (--ws->active == 0 && !ws->closing)
        uv_unref((uv_handle_t *)&ws->inbox.async);   /* idle: no reason to keep the loop up */
    wx_free_pieces(x->head);
    wx_free_pieces(x->held);
    free(x);
}

/* Gives the sink what the worker relayed, until it pauses; credits the relay; settles x once the
 * worker is done and the sink has everything. */
static void wx_deliver(http_wx_t *x)
{
    struct http_worker *w = x->worker;
    size_t freed = 0;

    if (x->delivering)
        return;                             /* a sink that resumes from inside its write */
    x->delivering = 1;
    for (;;) {
        if (!x->held) {
            pthread_mutex_lock(&w->lock);
            x->held = x->head;
            x->head = x->tail = NULL;
            pthread_mutex_unlock(&w->lock);
            if (!x->held)
                break;
        }
        while (x->held && !x->mpaused) {
            struct wx_piece *p = x->held;
            int rc = NET_SINK_OK;

            if (!x->aborted && !x->merror && x->sink)
                rc = x->sink->write(x->sink, p->data, p->len);   /* all or nothing */
            if (rc == NET_SINK_PAUSE) {
                x->mpaused = 1;
                break;
            }
            if (rc < 0) {
                x->merror = rc;
                pthread_mutex_lock(&w->lock);
                x->werror = rc;
                pthread_mutex_unlock(&w->lock);
                wx_post_worker(x, WX_RESUME);   /* a paused relay then refuses for good */
            } else if (!x->aborted && !x->merror) {
                x->delivered += (curl_off_t)p->len;
            }
            freed += p->len;
            x->held = p->next;
            free(p);
        }
        if (x->mpaused)
            break;
    }
    pthread_mutex_lock(&w->lock);
    x->queued -= freed;
    if (x->wpaused && x->queued < HTTP_WX_CAP && !x->finished) {
        x->wpaused = 0;
        inbox_post(&w->inbox, &x->to_worker, WX_RESUME);
    }
    pthread_mutex_unlock(&w->lock);
    x->delivering = 0;
    if (x->done && ((!x->held && !x->mpaused) || x->aborted))
        wx_settle(x);
}

static void main_on_msg(inbox_t *ib, inbox_node_t *node, unsigned bits)
{
    http_wx_t *x = container_of(node, http_wx_t, to_main);

    (void)ib;
    if (bits & WX_DONE)
        x->done = 1;
    /* A paused sink waits for its resume; a finished transfer still drains what it relayed. */
    if (!x->mpaused || x->aborted)
        wx_deliver(x);
}

/* The main future's cancel hook: the transfer is on another thread, so refuse, and have the worker
 * end it; the future is then cancelled (-ECANCELED) when the worker hands r back. */
static int wx_on_cancel(future_t *f, void *arg)
{
    http_wx_t *x = arg;

    (void)f;
    if (!x->aborted) {
        x->aborted = 1;
        x->mpaused = 0;
        if (x->done) {
            wx_deliver(x);                  /* settles it: the awaiter sees -ECANCELED */
            return 0;
        }
        wx_post_worker(x, WX_ABORT);
    }
    return -1;
}

/* FNV-1a of url's scheme and authority ("http://host:port"), folded into WORKER_HINTS slots. */
static unsigned wx_origin_hash(const char *url)
{
    const char *p = strstr(url, "://");
    uint32_t h = 2166136261u;

    p = p ? p + 3 : url;
    for (const char *c = url; *c && (c < p || !strchr("/?#", *c)); c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    return h % WORKER_HINTS;
}

future_t *http_workers_start(http_workers_t *ws, http_req_t *r)
{
    struct http_worker *w = NULL;
    http_wx_t *x;
    future_t *f;

    if (ws->closing)
        return future_new_failed(ws->sched, -EINVAL);
    if (!(f = future_new(ws->sched)))
        return NULL;
    if (!(x = calloc(1, sizeof(*x)))) {
        future_unref(f);
        return NULL;
    }
    /* First a worker where a transfer to the same origin just ended: its idle connection takes
     * the request, as one multi would reuse it (a new connection elsewhere could reach the server
     * before it saw the end of the last request, and each connection costs a handshake). Else the
     * worker with the most room under its connection cap (the least busy, when the caps are
     * equal); among equals, the one after the last chosen, so that even a list of one host
     * spreads over all of them. The caps add up to -c, so one always has room. */
    x->origin = wx_origin_hash(r->url);
    x->tls = strncasecmp(r->url, "https:", 6) == 0;
    /* An https origin may answer HTTP/2, which multiplexes every transfer over one connection:
     * keep its transfers on the worker that already runs some (one connection, one handshake),
     * until it is seen to answer HTTP/1.x. */
    for (size_t k = 0; x->tls && !ws->h1[x->origin] && k < ws->n; k++)
        if (ws->w[k].busy[x->origin]) {
            w = &ws->w[k];
            goto chosen;
        }
    for (size_t k = 0; k < ws->n; k++) {
        struct http_worker *c = &ws->w[(ws->next + k) % ws->n];
        int room = !c->cap || c->active < c->cap;

        if (room && c->idle[x->origin]) {
            w = c;
            break;
        }
        if (!w || c->cap - c->active > w->cap - w->active)
            w = c;
    }
chosen:
    if (w->idle[x->origin])
        w->idle[x->origin]--;
    w->busy[x->origin]++;               /* at most -c (10000) */
    ws->next = (size_t)(w - ws->w + 1) % ws->n;
    x->r = r;
    x->worker = w;
    inbox_node_init(&x->to_worker);
    inbox_node_init(&x->to_main);
    x->relay.write = wx_relay_write;
    x->sink = r->sink;
    r->sink = r->sink ? &x->relay : NULL;
    r->wx = x;
    x->fut = future_ref(f);
    future_set_cancel(f, wx_on_cancel, x);
    w->active++;
    w->ran++;
    if (ws->active++ == 0)
        uv_ref((uv_handle_t *)&ws->inbox.async);     /* a transfer out there: wait for it */
    inbox_post(&w->inbox, &x->to_worker, WX_START);
    return f;
}

void http_workers_resume(http_req_t *r)
{
    http_wx_t *x = r->wx;

    if (!x->mpaused)
        return;
    x->mpaused = 0;
    wx_deliver(x);
}

long http_workers_active(const http_workers_t *ws)
{
    return ws->active;
}

size_t http_workers_ran(const http_workers_t *ws, unsigned long *ran, size_t n)
{
    for (size_t i = 0; i < n && i < ws->n; i++)
        ran[i] = ws->w[i].ran;
    return ws->n;
}

/* ---- start and stop ------------------------------------------------------------------------ */

/* Undoes what worker_make did, the thread joined first. Main thread. */
static void worker_unmake(struct http_worker *w)
{
    if (w->made >= 6) {
        inbox_post(&w->inbox, &w->stop, 1);
        if (uv_thread_join(&w->thread) != 0)
            fprintf(stderr, "gather: internal error: cannot join a transfer worker\n");
    } else {
        /* never ran: close here what was made */
        if (w->made >= 3)
            http_client_close(w->client);
        if (w->made >= 4)
            inbox_close(&w->inbox, NULL);
        if (w->made >= 2)
            sched_close(&w->sched);
        if (w->made >= 1)
            uv_run(&w->loop, UV_RUN_DEFAULT);
    }
    if (w->made >= 5)
        pthread_mutex_destroy(&w->lock);
    if (w->made >= 1 && uv_loop_close(&w->loop) != 0)
        fprintf(stderr, "gather: internal error: a transfer worker left handles open\n");
    w->made = 0;
}

/* Sets up a worker's loop, scheduler, client and inbox here, then starts its thread (which only
 * runs the loop): nothing is shared before the thread exists. 0 or a negative errno. */
static int worker_make(struct http_worker *w, const http_opts_t *opts)
{
    int result;

    if ((result = uv_loop_init(&w->loop)) < 0)
        return result;
    w->made = 1;
    if ((result = sched_init(&w->sched, &w->loop)) < 0)
        return result;
    w->made = 2;
    if (!(w->client = http_client_new(&w->sched, opts, &result)))
        return result;
    w->made = 3;
    if ((result = inbox_init(&w->inbox, &w->loop, worker_on_msg)) < 0)
        return result;
    w->inbox.data = w;
    inbox_node_init(&w->stop);
    w->made = 4;
    if ((result = pthread_mutex_init(&w->lock, NULL)) != 0)
        return -result;
    w->made = 5;
    if ((result = uv_thread_create(&w->thread, worker_main, w)) < 0)
        return result;
    w->made = 6;
    return 0;
}

static void workers_on_close(uv_handle_t *h);

http_workers_t *http_workers_new(sched_t *s, const http_opts_t *opts, int n, int *result)
{
    http_workers_t *ws = calloc(1, sizeof(*ws));
    http_opts_t wopts = *opts;

    *result = -ENOMEM;
    if (!ws)
        return NULL;
    /* curl's cap on open connections is per multi: split it so the process total stays the
     * same (the caller gives no more workers than connections). */
    wopts.workers = 1;
    ws->sched = s;
    ws->n = (size_t)n;
    if (!(ws->w = calloc(ws->n, sizeof(*ws->w))))
        goto error;
    if ((*result = inbox_init(&ws->inbox, s->loop, main_on_msg)) < 0)
        goto error;
    ws->inbox.data = ws;
    uv_unref((uv_handle_t *)&ws->inbox.async);      /* referenced while transfers are out */
    for (size_t i = 0; i < ws->n; i++) {
        if (opts->max_connections > 0)
            wopts.max_connections = opts->max_connections / n + ((long)i < opts->max_connections % n);
        ws->w[i].ws = ws;
        ws->w[i].cap = wopts.max_connections;
        if ((*result = worker_make(&ws->w[i], &wopts)) < 0) {
            for (size_t j = 0; j <= i; j++)
                worker_unmake(&ws->w[j]);
            ws->closing = 1;
            /* ws holds the inbox's handle: freed by its close callback, when the caller's loop
             * runs again (it must, as after http_client_close) */
            inbox_close(&ws->inbox, workers_on_close);
            return NULL;
        }
    }
    *result = 0;
    return ws;

error:
    free(ws->w);
    free(ws);
    return NULL;
}

static void workers_on_close(uv_handle_t *h)
{
    http_workers_t *ws = container_of((uv_async_t *)h, http_workers_t, inbox.async);

    free(ws->w);
    free(ws);
}

void http_workers_close(http_workers_t *ws)
{
    ws->closing = 1;
    for (size_t i = 0; i < ws->n; i++)
        worker_unmake(&ws->w[i]);
    inbox_close(&ws->inbox, workers_on_close);
}
