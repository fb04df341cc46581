/* store_writer: a chunk queue on the loop thread, and the disk work as an ordered pipeline on
 * the pool: one stage hashes the chunks, another writes them, each one job at a time and in order,
 * so the SHA-256 of chunk k+1 runs beside the write of chunk k and the receive of chunk k+2. */
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
/* A stage starts once this many sealed bytes wait for it (a small body then costs one job, the
 * final one), and a job takes about this much: a chunk is freed as soon as both stages are past
 * it, so the receive refills the queue while the other chunks are hashed and written. */
#define STAGE_BATCH CHUNK_SIZE

/* The sink always has room for a chunk-sized write once sealed chunks drain (see
 * writer_sink_write): the queue must hold a full chunk beside a partly filled tail. */
_Static_assert(STORE_WRITER_QUEUE_MAX >= 2 * CHUNK_SIZE, "the queue bound holds two chunks");

struct chunk {
    struct chunk *next;
    size_t len, cap;
    char data[];
};

enum writer_op { OP_COMMIT, OP_ABORT };
enum writer_end { END_NONE, END_COMMIT, END_ABORT };

/* One stage of the pipeline (hash or write): at most one job in flight, over the chunks at
 * indexes [done, sub) of the list. The job owns first..n and result/bytes while busy. */
struct stage {
    size_t done;                 /* chunks from the head this stage has finished */
    size_t sub;                  /* chunks from the head handed to it (done + the job's n) */
    int busy;
    struct chunk *first;
    size_t n;
    int result;
    uint64_t bytes;
};

struct store_writer {
    net_sink_t sink;
    sched_t *sched;
    void (*on_drain)(void *arg);  /* the producer: send the refused bytes again */
    void *drain_arg;
    int dirfd;
    char *relpath;
    int do_fsync;
    int fd;                      /* touched only by pool jobs once the first job ran */
    struct chunk *head, *tail;   /* every chunk not yet both hashed and written, in order */
    struct chunk *spare;         /* freed full-size chunks, reused: no malloc/trim churn per chunk */
    size_t queued;               /* their bytes: what the backpressure bounds */
    size_t nchunks;
    struct stage hash, write;
    int opened;                  /* the first write job opened the .part and hashed its prefix */
    int final_busy;              /* the commit/abort job runs */
    int touched;                 /* a job has run: the disk may hold a .part */
    int keep_part;               /* abort keeps the .part (it can be resumed) */
    int paused;
    int error;                   /* first disk error */
    enum writer_end end;
    future_t *final;             /* the commit/abort future */
    uint64_t written;
    uint64_t offset;             /* resume after this many bytes of an existing .part */
    EVP_MD_CTX *sha;             /* touched only by pool jobs: one at a time (see writer_kick) */
    char sha256[65];
    /* the final job: owned by the pool thread while final_busy */
    struct {
        enum writer_op op;
        struct chunk *to_write, *to_hash;   /* the first chunk each stage has not done */
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

/* The chunk at index i of the list (it is short: the queue bound keeps a few chunks). */
static struct chunk *chunk_at(const store_writer_t *w, size_t i)
{
    struct chunk *c = w->head;

    while (c && i-- > 0)
        c = c->next;
    return c;
}

/* ---- pool side ----------------------------------------------------------------------------- */

/* Feeds the first `offset` bytes of the open .part to the hash (a resume). The buffer is on the
 * heap, not the stack: a large frame here would be probed page by page on every pool thread that
 * runs a write job (stack clash protection), resident for the life of the process. */
static int writer_hash_prefix(store_writer_t *w)
{
    const size_t cap = 65536;
    char *buf;
    uint64_t left = w->offset;
    off_t pos = 0;
    int result = 0;

    if (left == 0)
        return 0;
    if (!(buf = malloc(cap)))
        return -ENOMEM;
    while (left > 0) {
        ssize_t n = pread(w->fd, buf, left < cap ? (size_t)left : cap, pos);
        if (n < 0) {
            result = -errno;
            goto done;
        }
        if (n == 0) {
            result = -EIO;               /* the .part is shorter than the resume point */
            goto done;
        }
        if (EVP_DigestUpdate(w->sha, buf, (size_t)n) != 1) {
            result = -ENOMEM;
            goto done;
        }
        left -= (uint64_t)n;
        pos += n;
    }
done:
    free(buf);
    return result;
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

/* Opens (or reopens, for a resume) the .part and starts the hash with its kept prefix. Runs in
 * the first write job or the final job, never beside a hash job. */
static int writer_open(store_writer_t *w)
{
    int result = store_file_open_at(w->dirfd, w->relpath, w->offset, &w->fd);

    if (result < 0)
        return result;
    if (!(w->sha = EVP_MD_CTX_new()) || EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1)
        return -ENOMEM;
    return writer_hash_prefix(w);
}

/* Closes and removes a .part this job had open after an error. */
static void writer_drop_fd(store_writer_t *w)
{
    if (w->fd >= 0) {
        store_file_discard(w->dirfd, w->relpath, w->fd);
        w->fd = -1;
    }
}

/* The write stage: its chunks, in order, at the end of the .part. The loop does not touch them
 * (nor the next pointers inside the run) until the job is done. */
static int writer_write_run(void *arg)
{
    store_writer_t *w = arg;
    struct chunk *c = w->write.first;
    int result = 0;

    w->write.bytes = 0;
    if (w->fd < 0 && (result = writer_open(w)) < 0)
        goto done;
    for (size_t i = 0; i < w->write.n; i++, c = i < w->write.n ? c->next : NULL) {
        result = store_file_write(w->fd, c->data, c->len);
        if (result < 0)
            goto done;
        w->write.bytes += c->len;
    }
done:
    if (result < 0)
        writer_drop_fd(w);
    w->write.result = result;
    return 0;
}

/* The hash stage: its chunks, in order, into the running SHA-256. */
static int writer_hash_run(void *arg)
{
    store_writer_t *w = arg;
    struct chunk *c = w->hash.first;

    w->hash.result = 0;
    for (size_t i = 0; i < w->hash.n; i++, c = i < w->hash.n ? c->next : NULL) {
        if (EVP_DigestUpdate(w->sha, c->data, c->len) != 1) {
            w->hash.result = -ENOMEM;
            break;
        }
    }
    return 0;
}

/* The last job, with both stages idle: writes and hashes what they have not (the end of the list:
 * no byte is queued after the end), then renames (commit), closes (abort keeping the .part) or
 * removes the .part (abort). */
static int writer_final_run(void *arg)
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
    if (w->fd < 0 && (result = writer_open(w)) < 0)
        goto done;
    for (struct chunk *c = w->job.to_write; c; c = c->next) {
        result = store_file_write(w->fd, c->data, c->len);
        if (result < 0)
            goto done;
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
    for (struct chunk *c = w->job.to_hash; c; c = c->next) {
        if (EVP_DigestUpdate(w->sha, c->data, c->len) != 1) {
            result = -ENOMEM;
            goto done;
        }
    }
    result = writer_hash_final(w);
    if (result < 0)
        goto done;
    result = store_file_commit(w->dirfd, w->relpath, w->fd, w->do_fsync);
    w->fd = -1;
done:
    if (result < 0)
        writer_drop_fd(w);
    w->job.result = result;
    return 0;
}

/* ---- loop side ----------------------------------------------------------------------------- */

/* Chunks both stages are past leave the queue, which shrinks as the slower stage advances. A
 * full-size one is kept for reuse: they come and go at the rate of the body, and malloc would hand
 * each back to the kernel (above its mmap or trim threshold) only to fault it in again. The spares
 * and the queue together hold no more than the queue bound allowed at its peak. */
static void writer_release(store_writer_t *w)
{
    while (w->head && w->hash.done > 0 && w->write.done > 0) {
        struct chunk *c = w->head;

        w->head = c->next;
        if (!w->head)
            w->tail = NULL;
        w->queued -= c->len;
        w->nchunks--;
        w->hash.done--;
        w->hash.sub--;
        w->write.done--;
        w->write.sub--;
        if (c->cap == CHUNK_SIZE) {
            c->next = w->spare;
            w->spare = c;
        } else {
            free(c);
        }
    }
}

static void writer_note_error(store_writer_t *w, int result)
{
    if (result < 0 && !w->error)
        w->error = result;
}

/* After a stage job or a failed submit: start what can start, then let the producer go on. */
static void writer_progress(store_writer_t *w)
{
    writer_release(w);
    writer_kick(w);
    /* Resume last: curl may call our sink synchronously from inside http_req_resume. There is
     * room again once a chunk's worth was freed: the stages keep what they work on meanwhile. */
    if (w->paused && w->end == END_NONE &&
        (w->queued + CHUNK_SIZE <= STORE_WRITER_QUEUE_MAX || w->error)) {
        w->paused = 0;
        if (w->on_drain)
            w->on_drain(w->drain_arg);
    }
}

static void writer_stage_done(future_t *f, store_writer_t *w, struct stage *st)
{
    int result = future_state(f) == FUTURE_DONE ? st->result : future_error(f);

    st->busy = 0;
    st->first = NULL;
    if (result < 0) {
        st->sub = st->done;          /* not done: the final job, if any, only aborts */
        writer_note_error(w, result);
    } else {
        st->done = st->sub;
    }
    writer_progress(w);
}

static void writer_write_done(future_t *f, void *arg)
{
    store_writer_t *w = arg;

    if (future_state(f) == FUTURE_DONE && w->write.result == 0) {
        w->written += w->write.bytes;
        w->opened = 1;
    }
    writer_stage_done(f, w, &w->write);
}

static void writer_hash_done(future_t *f, void *arg)
{
    store_writer_t *w = arg;

    writer_stage_done(f, w, &w->hash);
}

static void writer_final_done(future_t *f, void *arg)
{
    store_writer_t *w = arg;
    int result = future_state(f) == FUTURE_DONE ? w->job.result : future_error(f);
    future_t *final = w->final;

    w->final_busy = 0;
    w->written += w->job.bytes;
    chunks_free(w->head);
    chunks_free(w->spare);
    w->spare = NULL;
    w->head = w->tail = NULL;
    w->queued = 0;
    w->nchunks = 0;
    writer_note_error(w, result);
    if (w->end == END_COMMIT && w->error)
        future_fail(final, w->error);
    else
        future_resolve(final, w);
}

/* Queues fn on the pool with done as its callback; -ENOMEM if it could not be queued. */
static int writer_run(store_writer_t *w, executor_fn fn, future_cb done)
{
    future_t *f = executor_run(w->sched, fn, w);

    if (!f || future_on_done(f, done, w) < 0) {
        if (f) {
            future_cancel(f);
            future_unref(f);
        }
        return -ENOMEM;
    }
    future_unref(f);
    w->touched = 1;
    return 0;
}

/* Chunks from the head that no more byte will go into: all but a tail still being filled. */
static size_t writer_sealed(const store_writer_t *w)
{
    if (w->tail && w->end == END_NONE && w->tail->len < w->tail->cap)
        return w->nchunks - 1;
    return w->nchunks;
}

/* Hands the stage its next run of sealed chunks (about STAGE_BATCH bytes) once STAGE_BATCH
 * bytes wait for it. 1 if a job started. */
static int writer_stage_submit(store_writer_t *w, struct stage *st, executor_fn fn, future_cb done)
{
    size_t sealed = writer_sealed(w), n = 0, bytes = 0, waiting = 0;
    struct chunk *first, *c;

    if (st->busy || st->sub >= sealed)
        return 0;
    first = chunk_at(w, st->sub);
    for (c = first; c && st->sub + n < sealed; c = c->next) {
        if (bytes < STAGE_BATCH) {
            bytes += c->len;
            n++;
        }
        waiting += c->len;
    }
    if (waiting < STAGE_BATCH)
        return 0;
    st->first = first;
    st->n = n;
    st->busy = 1;
    st->sub += n;
    if (writer_run(w, fn, done) < 0) {
        st->busy = 0;
        st->first = NULL;
        st->sub -= n;
        writer_note_error(w, -ENOMEM);
        return 0;
    }
    return 1;
}

/* The final job, once both stages are idle. */
static void writer_finish(store_writer_t *w)
{
    enum writer_op op = w->end == END_ABORT || w->error ? OP_ABORT : OP_COMMIT;

    if (!w->touched && op == OP_ABORT && !(w->keep_part && w->head && !w->error)) {
        /* Nothing ever reached the disk (an error answer, a refused connection): no job needed. */
        chunks_free(w->head);
        w->head = w->tail = NULL;
        w->queued = 0;
        w->nchunks = 0;
        if (w->end == END_COMMIT)
            future_fail(w->final, w->error);
        else
            future_resolve(w->final, w);
        return;
    }
    w->job.op = op;
    w->job.to_write = chunk_at(w, w->write.done);
    w->job.to_hash = chunk_at(w, w->hash.done);
    if (op == OP_ABORT && !w->keep_part) {
        chunks_free(w->head);        /* no stage holds any: both are idle */
        w->head = w->tail = NULL;
        w->queued = 0;
        w->nchunks = 0;
        w->job.to_write = w->job.to_hash = NULL;
    }
    w->final_busy = 1;
    if (writer_run(w, writer_final_run, writer_final_done) < 0) {
        w->final_busy = 0;
        writer_note_error(w, -ENOMEM);
        future_fail(w->final, w->error);
    }
}

/* Starts what can start: the final job once the end is asked and both stages are idle, else the
 * write stage (the first write opens the .part and hashes a resumed prefix, so the hash stage
 * waits for it) and the hash stage, each on the chunks it has not had yet. */
static void writer_kick(store_writer_t *w)
{
    if (w->final_busy)
        return;
    if (w->end != END_NONE) {
        if (!w->hash.busy && !w->write.busy)
            writer_finish(w);
        return;
    }
    if (w->error)
        return;
    writer_stage_submit(w, &w->write, writer_write_run, writer_write_done);
    if (w->opened)
        writer_stage_submit(w, &w->hash, writer_hash_run, writer_hash_done);
}

static int writer_sink_write(net_sink_t *sink, const char *data, size_t len)
{
    store_writer_t *w = (store_writer_t *)sink;

    if (w->error)
        return w->error;
    if (w->end != END_NONE)
        return -EINVAL;              /* the stream was already ended */
    /* Chunks held by the stages count too, so the bound is on all the memory of this transfer.
     * A write of up to a chunk (curl's are smaller) must fit whole; a larger one is taken below
     * the bound, as the partly filled tail, never sealed before the end, may be all that is held. */
    if (w->queued >= STORE_WRITER_QUEUE_MAX ||
        (len <= CHUNK_SIZE && w->queued + len > STORE_WRITER_QUEUE_MAX)) {
        w->paused = 1;
        return NET_SINK_PAUSE;
    }
    while (len > 0) {
        struct chunk *c = w->tail;
        size_t n;

        if (!c || c->len == c->cap) {
            size_t cap = !w->touched && w->nchunks == 0 ? CHUNK_FIRST : CHUNK_SIZE;

            if (cap == CHUNK_SIZE && w->spare) {
                c = w->spare;
                w->spare = c->next;
            } else if (!(c = malloc(sizeof(*c) + cap))) {
                return -ENOMEM;
            }
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

    if (w->touched || w->head || w->offset || w->end != END_NONE)
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
    chunks_free(w->spare);
    future_unref(w->final);
    EVP_MD_CTX_free(w->sha);
    free(w->relpath);
    free(w);
}
