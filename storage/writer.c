/* store_writer: chunk queue on the loop thread, one pool job at a time doing the blocking I/O. */
#include "storage/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <unistd.h>

#include "net/async/executor.h"
#include "storage/file.h"

#define CHUNK_FIRST (64 * 1024)      /* small bodies need one small buffer */
#define CHUNK_SIZE (256 * 1024)      /* then write in larger pieces */

struct chunk {
    struct chunk *next;
    size_t len, cap;
    char data[];
};

enum writer_op { OP_WRITE, OP_COMMIT, OP_ABORT };
enum writer_end { END_NONE, END_COMMIT, END_ABORT };

struct store_writer {
    net_sink_t sink;
    sched_t *sched;
    void (*on_drain)(void *arg);  /* the producer: send the refused bytes again */
    void *drain_arg;
    int dirfd;
    char *relpath;
    int do_fsync;
    int fd;                      /* touched only by pool jobs once the first job ran */
    struct chunk *head, *tail;   /* queued on the loop thread, not yet handed to a job */
    size_t queued;
    size_t nchunks;
    int busy;                    /* a pool job is running */
    int touched;                 /* a job has run: the disk may hold a .part */
    int keep_part;               /* abort keeps the .part (it can be resumed) */
    int paused;
    int error;                   /* first disk error */
    enum writer_end end;
    future_t *final;             /* the commit/abort future */
    uint64_t written;
    uint64_t offset;             /* resume after this many bytes of an existing .part */
    EVP_MD_CTX *sha;             /* touched only by pool jobs */
    char sha256[65];
    /* the job in flight: owned by the pool thread while busy */
    struct {
        enum writer_op op;
        struct chunk *chunks;
        int result;
        uint64_t bytes;
    } job;
};

static void writer_kick(store_writer_t *w);

static void chunks_free(struct chunk *c)
{
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
}

/* ---- pool side ----------------------------------------------------------------------------- */

/* Feeds the first `offset` bytes of the open .part to the hash (a resume). */
static int writer_hash_prefix(store_writer_t *w)
{
    char buf[65536];
    uint64_t left = w->offset;
    off_t pos = 0;

    while (left > 0) {
        ssize_t n = pread(w->fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf), pos);
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;                 /* the .part is shorter than the resume point */
        if (EVP_DigestUpdate(w->sha, buf, (size_t)n) != 1)
            return -ENOMEM;
        left -= (uint64_t)n;
        pos += n;
    }
    return 0;
}

static int writer_hash_final(store_writer_t *w)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_DigestFinal_ex(w->sha, md, &len) != 1 || len != 32)
        return -EIO;
    for (unsigned i = 0; i < len; i++)
        snprintf(w->sha256 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int writer_job_run(void *arg)
{
    store_writer_t *w = arg;
    int result = 0;

    w->job.bytes = 0;
    if (w->job.op == OP_ABORT && !w->keep_part) {
        if (w->fd >= 0 || w->written > 0)
            store_file_discard(w->dirfd, w->relpath, w->fd);
        w->fd = -1;
        w->job.result = 0;
        return 0;
    }
    if (w->fd < 0) {
        result = store_file_open_at(w->dirfd, w->relpath, w->offset, &w->fd);
        if (result < 0)
            goto done;
        if (!(w->sha = EVP_MD_CTX_new()) || EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1) {
            result = -ENOMEM;
            goto done;
        }
        result = writer_hash_prefix(w);
        if (result < 0)
            goto done;
    }
    for (struct chunk *c = w->job.chunks; c; c = c->next) {
        result = store_file_write(w->fd, c->data, c->len);
        if (result < 0)
            goto done;
        if (EVP_DigestUpdate(w->sha, c->data, c->len) != 1) {
            result = -ENOMEM;
            goto done;
        }
        w->job.bytes += c->len;
    }
    if (w->job.op == OP_ABORT) {
        /* keep_part: what arrived is on disk now; the .part stays for a resume */
        if (close(w->fd) < 0)
            result = -errno;
        w->fd = -1;
        if (result < 0)
            store_file_discard(w->dirfd, w->relpath, -1);
        goto done;
    }
    if (w->job.op == OP_COMMIT) {
        result = writer_hash_final(w);
        if (result < 0)
            goto done;
        result = store_file_commit(w->dirfd, w->relpath, w->fd, w->do_fsync);
        w->fd = -1;
    }
done:
    if (result < 0 && w->fd >= 0) {
        store_file_discard(w->dirfd, w->relpath, w->fd);
        w->fd = -1;
    }
    w->job.result = result;
    return 0;
}

/* ---- loop side ----------------------------------------------------------------------------- */

static void writer_job_done(future_t *f, void *arg)
{
    store_writer_t *w = arg;
    enum writer_op op = w->job.op;
    int result = future_state(f) == FUTURE_DONE ? w->job.result : future_error(f);

    chunks_free(w->job.chunks);
    w->job.chunks = NULL;
    w->written += w->job.bytes;
    w->busy = 0;
    if (result < 0 && !w->error)
        w->error = result;
    if (op == OP_COMMIT || op == OP_ABORT) {
        future_t *final = w->final;
        if (w->end == END_COMMIT && w->error)
            future_fail(final, w->error);
        else
            future_resolve(final, w);
        return;
    }
    writer_kick(w);
    /* Resume last: curl may call our sink synchronously from inside http_req_resume. */
    if (w->paused && (w->queued < STORE_WRITER_QUEUE_MAX / 2 || w->error)) {
        w->paused = 0;
        if (w->on_drain)
            w->on_drain(w->drain_arg);
    }
}

static void writer_submit(store_writer_t *w, enum writer_op op)
{
    future_t *f;

    w->job.op = op;
    w->job.chunks = op == OP_ABORT && !w->keep_part ? NULL : w->head;
    if (op == OP_ABORT && !w->keep_part)
        chunks_free(w->head);
    w->head = w->tail = NULL;
    w->queued = 0;
    w->nchunks = 0;
    w->busy = 1;
    w->touched = 1;
    f = executor_run(w->sched, writer_job_run, w);
    if (!f || future_on_done(f, writer_job_done, w) < 0) {
        /* Could not queue the job: treat it as a disk error, synchronously but via a failed future. */
        if (f) {
            future_cancel(f);
            future_unref(f);
        }
        chunks_free(w->job.chunks);
        w->job.chunks = NULL;
        w->busy = 0;
        if (!w->error)
            w->error = -ENOMEM;
        if (op != OP_WRITE)
            future_fail(w->final, w->error);
        return;
    }
    future_unref(f);
}

/* Starts the next job if none runs: the final one once the end is requested, else a write when
 * enough is queued. */
static void writer_kick(store_writer_t *w)
{
    if (w->busy)
        return;
    if (w->end != END_NONE && (w->end == END_ABORT || w->error) && !w->touched &&
        !(w->keep_part && w->head && !w->error)) {
        /* Nothing ever reached the disk (an error answer, a refused connection): no job needed. */
        chunks_free(w->head);
        w->head = w->tail = NULL;
        w->queued = 0;
        if (w->end == END_COMMIT)
            future_fail(w->final, w->error);
        else
            future_resolve(w->final, w);
        return;
    }
    if (w->end == END_ABORT)
        writer_submit(w, OP_ABORT);
    else if (w->end == END_COMMIT)
        writer_submit(w, w->error ? OP_ABORT : OP_COMMIT);
    else if (w->queued >= CHUNK_SIZE && !w->error)
        writer_submit(w, OP_WRITE);
}

static int writer_sink_write(net_sink_t *sink, const char *data, size_t len)
{
    store_writer_t *w = (store_writer_t *)sink;

    if (w->error)
        return w->error;
    if (w->queued >= STORE_WRITER_QUEUE_MAX) {
        w->paused = 1;
        return NET_SINK_PAUSE;
    }
    while (len > 0) {
        struct chunk *c = w->tail;
        size_t n;

        if (!c || c->len == c->cap) {
            size_t cap = w->nchunks == 0 && w->written == 0 && !w->busy ? CHUNK_FIRST : CHUNK_SIZE;
            c = malloc(sizeof(*c) + cap);
            if (!c)
                return -ENOMEM;
            c->next = NULL;
            c->len = 0;
            c->cap = cap;
            if (w->tail)
                w->tail->next = c;
            else
                w->head = c;
            w->tail = c;
            w->nchunks++;
        }
        n = c->cap - c->len < len ? c->cap - c->len : len;
        memcpy(c->data + c->len, data, n);
        c->len += n;
        w->queued += n;
        data += n;
        len -= n;
    }
    writer_kick(w);
    return NET_SINK_OK;
}

store_writer_t *store_writer_new(sched_t *s, int dirfd, const char *relpath, int do_fsync)
{
    store_writer_t *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->relpath = strdup(relpath);
    if (!w->relpath) {
        free(w);
        return NULL;
    }
    w->sink.write = writer_sink_write;
    w->sched = s;
    w->dirfd = dirfd;
    w->do_fsync = do_fsync;
    w->fd = -1;
    return w;
}

net_sink_t *store_writer_sink(store_writer_t *w)
{
    return &w->sink;
}

void store_writer_on_drain(store_writer_t *w, void (*on_drain)(void *arg), void *arg)
{
    w->on_drain = on_drain;
    w->drain_arg = arg;
}

/* The end of a writer cannot be cancelled: a pool job may be using it. */
static int writer_refuse_cancel(future_t *f, void *arg)
{
    (void)f;
    (void)arg;
    return -EBUSY;
}

static future_t *writer_end(store_writer_t *w, enum writer_end end)
{
    if (w->final)
        return future_ref(w->final);
    w->final = future_new(w->sched);
    if (!w->final)
        return NULL;
    future_set_cancel(w->final, writer_refuse_cancel, NULL);
    w->end = end;
    w->on_drain = NULL;          /* the transfer is over: never resume it again */
    writer_kick(w);
    return future_ref(w->final);
}

future_t *store_writer_commit(store_writer_t *w)
{
    return writer_end(w, END_COMMIT);
}

future_t *store_writer_abort(store_writer_t *w, int keep_part)
{
    w->keep_part = keep_part;
    return writer_end(w, END_ABORT);
}

int store_writer_rename(store_writer_t *w, const char *relpath)
{
    char *copy;

    if (w->touched || w->busy || w->head || w->offset || w->end != END_NONE)
        return -EBUSY;
    if (!(copy = strdup(relpath)))
        return -ENOMEM;
    free(w->relpath);
    w->relpath = copy;
    return 0;
}

void store_writer_resume(store_writer_t *w, uint64_t offset)
{
    w->offset = offset;
}

uint64_t store_writer_offset(const store_writer_t *w)
{
    return w->offset;
}

const char *store_writer_sha256(const store_writer_t *w)
{
    return w->sha256;
}

uint64_t store_writer_written(const store_writer_t *w)
{
    return w->written;
}

int store_writer_error(const store_writer_t *w)
{
    return w->error;
}

void store_writer_free(store_writer_t *w)
{
    if (!w)
        return;
    chunks_free(w->head);
    future_unref(w->final);
    EVP_MD_CTX_free(w->sha);
    free(w->relpath);
    free(w);
}
