/* store_segfile: a .part written at several offsets at once, its progress in a sidecar. */
#include "storage/segfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <uv.h>

#include "net/async/executor.h"
#include "storage/file.h"
#include "storage/path.h"

#define SEG_SAVE_EVERY_NS (1000ull * 1000 * 1000)    /* a sidecar save at most once a second */
#define SEG_HASH_BUF (1024 * 1024)
#define SEG_SIDECAR_MAX (4096 + STORE_SEG_MAX * 64)

struct seg_job {
    store_seg_t *seg;
    const char *data;
    size_t len;
    uint64_t off;
};

struct save_job {
    store_segfile_t *sf;
    unsigned n;
    uint64_t done[STORE_SEG_MAX];
    future_t *waiter;               /* resolved when this snapshot is on disk */
};

struct store_segfile {
    sched_t *sched;
    int dirfd;
    char path[STORE_PATH_SIZE];
    int do_fsync;
    int fd;                         /* the .part, -1 until loaded or planned */
    uint64_t size;
    unsigned n;
    store_seg_t segs[STORE_SEG_MAX];
    uint64_t loaded_done;           /* the segments' done when the run started */
    char etag[STORE_SEG_VALIDATOR_MAX];
    char last_modified[STORE_SEG_VALIDATOR_MAX];
    int resumable, stale;
    int64_t *part_size;             /* the load's out */
    /* sidecar saves: one on the pool at a time */
    struct save_job save;
    int saving;
    future_t *next_waiter;          /* a save asked for while one ran: the one after it */
    uint64_t last_save_ns;
    /* commit */
    char *hex;
    int error;
};

/* ---- names --------------------------------------------------------------------------------- */

/* The parent folder's fd (dirfd itself, or one to close) and the leaf + suffix in out. */
static int seg_name(store_segfile_t *sf, const char *suffix, int create, char *out, size_t cap)
{
    const char *leaf;
    int pfd = store_file_parent(sf->dirfd, sf->path, create, &leaf);

    if (pfd < 0)
        return pfd;
    if ((size_t)snprintf(out, cap, "%s%s", leaf, suffix) >= cap || strlen(leaf) + strlen(suffix) > 255) {
        if (pfd != sf->dirfd)
            (void)close(pfd);
        return -ENAMETOOLONG;
    }
    return pfd;
}

static void seg_close_parent(store_segfile_t *sf, int pfd)
{
    if (pfd >= 0 && pfd != sf->dirfd)
        (void)close(pfd);
}

/* ---- the sidecar ----------------------------------------------------------------------------- */

static int sidecar_format(const store_segfile_t *sf, const uint64_t *done, char *buf, size_t cap)
{
    size_t len;
    int n = snprintf(buf, cap, "gather-split 1\nsize %" PRIu64 "\netag %s\nlast-modified %s\nsegments %u\n",
                     sf->size, sf->etag[0] ? sf->etag : "-",
                     sf->last_modified[0] ? sf->last_modified : "-", sf->n);

    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    len = (size_t)n;
    for (unsigned i = 0; i < sf->n; i++) {
        n = snprintf(buf + len, cap - len, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                     sf->segs[i].start, sf->segs[i].end, done[i]);
        if (n < 0 || (size_t)n >= cap - len)
            return -ENAMETOOLONG;
        len += (size_t)n;
    }
    n = snprintf(buf + len, cap - len, "end\n");
    if (n < 0 || (size_t)n >= cap - len)
        return -ENAMETOOLONG;
    return (int)(len + (size_t)n);
}

/* A "key value" line into out; 0 or -1. */
static int sidecar_line(char **p, const char *key, char *out, size_t cap)
{
    size_t k = strlen(key);
    char *nl = strchr(*p, '\n');

    if (!nl || strncmp(*p, key, k) != 0 || (*p)[k] != ' ' || (size_t)(nl - (*p + k + 1)) >= cap)
        return -1;
    memcpy(out, *p + k + 1, (size_t)(nl - (*p + k + 1)));
    out[nl - (*p + k + 1)] = '\0';
    *p = nl + 1;
    return 0;
}

/* Parses a whole sidecar into sf; 0, or -1 if anything is off (it is then ignored). */
static int sidecar_parse(store_segfile_t *sf, char *text)
{
    char *p = text, num[32];
    unsigned long n;
    uint64_t at = 0;

    if (strncmp(p, "gather-split 1\n", 15) != 0)
        return -1;
    p += 15;
    if (sidecar_line(&p, "size", num, sizeof(num)) < 0 || sscanf(num, "%" SCNu64, &sf->size) != 1 ||
        sidecar_line(&p, "etag", sf->etag, sizeof(sf->etag)) < 0 ||
        sidecar_line(&p, "last-modified", sf->last_modified, sizeof(sf->last_modified)) < 0 ||
        sidecar_line(&p, "segments", num, sizeof(num)) < 0)
        return -1;
    n = strtoul(num, NULL, 10);
    if (n < 1 || n > STORE_SEG_MAX)
        return -1;
    if (strcmp(sf->etag, "-") == 0)
        sf->etag[0] = '\0';
    if (strcmp(sf->last_modified, "-") == 0)
        sf->last_modified[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        store_seg_t *s = &sf->segs[i];
        int used = 0;

        if (sscanf(p, "%" SCNu64 " %" SCNu64 " %" SCNu64 "\n%n", &s->start, &s->end, &s->done,
                   &used) != 3 || used == 0)
            return -1;
        p += used;
        /* the segments tile the file in order, and none says more than it holds */
        if (s->start != at || s->end <= s->start || s->done > s->end - s->start)
            return -1;
        at = s->end;
    }
    if (at != sf->size || strcmp(p, "end\n") != 0)
        return -1;
    sf->n = (unsigned)n;
    return 0;
}

/* Pool: fdatasync the .part, then replace the sidecar (temporary name, fsync, rename). */
static int sidecar_write(store_segfile_t *sf, const uint64_t *done)
{
    char name[512], tmp[520], *buf = malloc(SEG_SIDECAR_MAX);
    int pfd = -1, fd = -1, len, result;

    if (!buf)
        return -ENOMEM;
    if ((len = sidecar_format(sf, done, buf, SEG_SIDECAR_MAX)) < 0) {
        result = len;
        goto cleanup;
    }
    /* the data first: the sidecar must never say more than the disk holds */
    if (fdatasync(sf->fd) != 0) {
        result = -errno;
        goto cleanup;
    }
    if ((pfd = seg_name(sf, STORE_SEG_SUFFIX, 0, name, sizeof(name))) < 0) {
        result = pfd;
        goto cleanup;
    }
    snprintf(tmp, sizeof(tmp), ".%.250s.t", name);
    fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || store_file_write(fd, buf, (size_t)len) < 0 || fsync(fd) != 0 ||
        renameat(pfd, tmp, pfd, name) != 0) {
        result = -errno;
        if (fd >= 0)
            (void)unlinkat(pfd, tmp, 0);
        goto cleanup;
    }
    result = 0;
cleanup:
    if (fd >= 0)
        (void)close(fd);
    seg_close_parent(sf, pfd);
    free(buf);
    return result;
}

/* ---- pool jobs ------------------------------------------------------------------------------- */

static int seg_setup(store_segfile_t *sf);

static int job_load(void *arg)
{
    store_segfile_t *sf = arg;
    char name[512], *text = NULL;
    int pfd, fd = -1;
    ssize_t n;

    *sf->part_size = store_file_size(sf->dirfd, sf->path, 1);
    if ((pfd = seg_name(sf, STORE_SEG_SUFFIX, 0, name, sizeof(name))) < 0)
        return 0;
    fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        goto cleanup;
    if (*sf->part_size < 0 || !(text = malloc(SEG_SIDECAR_MAX + 1))) {
        sf->stale = 1;
        goto cleanup;
    }
    sf->stale = 1;                  /* until it proves whole */
    n = read(fd, text, SEG_SIDECAR_MAX);
    if (n <= 0)
        goto cleanup;
    text[n] = '\0';
    if (sidecar_parse(sf, text) < 0 || seg_setup(sf) < 0) {
        sf->n = 0;
        goto cleanup;
    }
    for (unsigned i = 0; i < sf->n; i++)
        if (sf->segs[i].done > 0 && sf->segs[i].start + sf->segs[i].done > (uint64_t)*sf->part_size) {
            sf->n = 0;              /* the .part was cut after the sidecar was written */
            goto cleanup;
        }
    /* "NAME.part.split" less ".split" is the .part */
    name[strlen(name) - strlen(STORE_SEG_SUFFIX) + strlen(STORE_PART_SUFFIX)] = '\0';
    sf->fd = openat(pfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (sf->fd < 0) {
        sf->n = 0;
        goto cleanup;
    }
    sf->resumable = 1;
    sf->stale = 0;
    for (unsigned i = 0; i < sf->n; i++) {
        sf->segs[i].recorded = sf->segs[i].done;
        sf->loaded_done += sf->segs[i].done;
    }
cleanup:
    if (fd >= 0)
        (void)close(fd);
    seg_close_parent(sf, pfd);
    free(text);
    return 0;
}

static int job_plan(void *arg)
{
    store_segfile_t *sf = arg;
    uint64_t zero[STORE_SEG_MAX] = { 0 };
    int result;

    if ((result = store_file_create(sf->dirfd, sf->path, &sf->fd)) < 0)
        return result;
    return sidecar_write(sf, zero);
}

static int job_pwrite(void *arg)
{
    struct seg_job *j = arg;
    const char *p = j->data;
    size_t left = j->len;
    uint64_t off = j->off;

    while (left > 0) {
        ssize_t n = pwrite(j->seg->file->fd, p, left, (off_t)off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        left -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int job_save(void *arg)
{
    struct save_job *j = arg;

    return sidecar_write(j->sf, j->done);
}

static int job_commit(void *arg)
{
    store_segfile_t *sf = arg;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    char *buf = malloc(SEG_HASH_BUF), name[512], part[512];
    uint64_t at = 0;
    struct stat st;
    int pfd = -1, result = -ENOMEM;

    if (!sha || !buf || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
        goto cleanup;
    if (sf->do_fsync && fsync(sf->fd) != 0) {
        result = -errno;
        goto cleanup;
    }
    /* the whole: exactly the announced size, and its hash read back from the disk */
    if (fstat(sf->fd, &st) != 0) {
        result = -errno;
        goto cleanup;
    }
    if ((uint64_t)st.st_size != sf->size) {
        result = -EIO;
        goto cleanup;
    }
    while (at < sf->size) {
        ssize_t n = pread(sf->fd, buf, SEG_HASH_BUF, (off_t)at);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            result = n < 0 ? -errno : -EIO;
            goto cleanup;
        }
        if (EVP_DigestUpdate(sha, buf, (size_t)n) != 1)
            goto cleanup;
        at += (uint64_t)n;
    }
    if (EVP_DigestFinal_ex(sha, md, &mdlen) != 1 || mdlen != 32)
        goto cleanup;
    for (unsigned i = 0; i < 32; i++)
        snprintf(sf->hex + 2 * i, 3, "%02x", md[i]);
    if ((pfd = seg_name(sf, STORE_PART_SUFFIX, 0, part, sizeof(part))) < 0) {
        result = pfd;
        goto cleanup;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(strlen(part) - strlen(STORE_PART_SUFFIX)), part);
    if (renameat(pfd, part, pfd, name) != 0) {
        result = -errno;
        goto cleanup;
    }
    /* A crash here leaves a sidecar beside a complete file: a re-run finds the file complete. */
    snprintf(part + strlen(name), sizeof(part) - strlen(name), "%s", STORE_SEG_SUFFIX);
    (void)unlinkat(pfd, part, 0);
    result = 0;
cleanup:
    seg_close_parent(sf, pfd);
    EVP_MD_CTX_free(sha);
    free(buf);
    return result;
}

static int job_discard(void *arg)
{
    store_segfile_t *sf = arg;
    char name[512];
    int pfd;

    if (sf->fd >= 0) {
        (void)close(sf->fd);
        sf->fd = -1;
    }
    store_file_discard(sf->dirfd, sf->path, -1);
    if ((pfd = seg_name(sf, STORE_SEG_SUFFIX, 0, name, sizeof(name))) >= 0) {
        (void)unlinkat(pfd, name, 0);
        seg_close_parent(sf, pfd);
    }
    return 0;
}

/* ---- segments -------------------------------------------------------------------------------- */

static void seg_settle_flush(store_seg_t *seg)
{
    if (seg->flushed && !seg->busy && (seg->fill_len == 0 || seg->error)) {
        if (seg->error)
            future_fail(seg->flushed, seg->error);
        else
            future_resolve(seg->flushed, seg);
        future_unref(seg->flushed);
        seg->flushed = NULL;
    }
}

static void seg_submit(store_seg_t *seg);

static void seg_saved(future_t *f, void *arg);

static void seg_save_start(store_segfile_t *sf, future_t *waiter)
{
    future_t *job;

    sf->save.sf = sf;
    sf->save.n = sf->n;
    for (unsigned i = 0; i < sf->n; i++)
        sf->save.done[i] = sf->segs[i].done;
    sf->save.waiter = waiter;
    sf->last_save_ns = uv_hrtime();
    if (!(job = executor_run(sf->sched, job_save, &sf->save))) {
        if (waiter) {
            future_fail(waiter, -ENOMEM);
            future_unref(waiter);
        }
        return;
    }
    sf->saving = 1;
    if (future_on_done(job, seg_saved, sf) < 0) {
        /* cannot happen with the inline slot; the job still runs, its result is lost */
        sf->saving = 0;
    }
    future_unref(job);
}

static void seg_saved(future_t *f, void *arg)
{
    store_segfile_t *sf = arg;
    future_t *next;

    sf->saving = 0;
    if (future_error(f) == 0)
        for (unsigned i = 0; i < sf->save.n; i++)
            sf->segs[i].recorded = sf->save.done[i];
    if (sf->save.waiter) {
        if (future_error(f) < 0)
            future_fail(sf->save.waiter, future_error(f));
        else
            future_resolve(sf->save.waiter, sf);
        future_unref(sf->save.waiter);
        sf->save.waiter = NULL;
    }
    if ((next = sf->next_waiter) != NULL) {
        sf->next_waiter = NULL;
        seg_save_start(sf, next);
    }
}

static void seg_written(future_t *f, void *arg)
{
    store_seg_t *seg = arg;
    store_segfile_t *sf = seg->file;

    seg->busy = 0;
    if (future_error(f) < 0) {
        if (!seg->error)
            seg->error = future_error(f);
    } else {
        seg->done += seg->busy_len;
    }
    /* the filling buffer may be full and its transfer paused (or a flush waits): write it */
    if (seg->fill_len > 0 && !seg->error && (seg->fill_len >= seg->fill_cap || seg->flushed))
        seg_submit(seg);
    if (!seg->error && seg->drain)
        seg->drain(seg->drain_arg);
    if (!sf->saving && !sf->next_waiter && uv_hrtime() - sf->last_save_ns >= SEG_SAVE_EVERY_NS)
        seg_save_start(sf, NULL);
    seg_settle_flush(seg);
}

/* Swaps the buffers and writes the full one on the pool. */
static void seg_submit(store_seg_t *seg)
{
    char *b = seg->spare;
    size_t cap = seg->spare_cap;
    future_t *job;

    seg->spare = seg->fill;
    seg->spare_cap = seg->fill_cap;
    seg->fill = b;
    seg->fill_cap = cap;
    seg->busy_off = seg->start + seg->done;
    seg->busy_len = seg->fill_len;
    seg->fill_len = 0;
    seg->job->seg = seg;
    seg->job->data = seg->spare;
    seg->job->len = seg->busy_len;
    seg->job->off = seg->busy_off;
    seg->busy = 1;
    if (!(job = executor_run(seg->file->sched, job_pwrite, seg->job))) {
        seg->busy = 0;
        seg->error = -ENOMEM;
        return;
    }
    if (future_on_done(job, seg_written, seg) < 0) {
        seg->busy = 0;
        seg->error = -ENOMEM;
    }
    future_unref(job);
}

static int seg_grow(char **b, size_t *cap, size_t want)
{
    char *n;

    if (*cap >= want)
        return 0;
    if (!(n = realloc(*b, want)))
        return -ENOMEM;
    *b = n;
    *cap = want;
    return 0;
}

static int seg_sink_write(net_sink_t *sink, const char *data, size_t len)
{
    store_seg_t *seg = container_of(sink, store_seg_t, sink);
    uint64_t at = seg->done + seg->busy_len * (uint64_t)seg->busy + seg->fill_len;

    if (seg->error)
        return seg->error;
    if (len > seg->end - seg->start - at)
        return -EPROTO;              /* more than the segment holds: a server that lies */
    if (seg->fill_len + len > seg->fill_cap) {
        if (seg->busy)
            return NET_SINK_PAUSE;   /* both buffers taken: bounded memory, the transfer waits */
        if (seg->fill_len > 0)
            seg_submit(seg);
        if (seg->error)
            return seg->error;
        if (seg_grow(&seg->fill, &seg->fill_cap, len) < 0)
            return -ENOMEM;
    }
    memcpy(seg->fill + seg->fill_len, data, len);
    seg->fill_len += len;
    if (seg->fill_len >= seg->fill_cap && !seg->busy)
        seg_submit(seg);
    return seg->error ? seg->error : NET_SINK_OK;
}

void store_seg_on_drain(store_seg_t *seg, void (*fn)(void *arg), void *arg)
{
    seg->drain = fn;
    seg->drain_arg = arg;
}

future_t *store_seg_flush(store_seg_t *seg)
{
    future_t *f;

    if (seg->flushed)
        return NULL;
    if (!(seg->flushed = future_new(seg->file->sched)))
        return NULL;
    f = future_ref(seg->flushed);
    if (seg->fill_len > 0 && !seg->busy && !seg->error)
        seg_submit(seg);
    seg_settle_flush(seg);
    return f;
}

/* ---- the file -------------------------------------------------------------------------------- */

store_segfile_t *store_segfile_new(sched_t *s, int dirfd, const char *relpath, int do_fsync)
{
    store_segfile_t *sf = calloc(1, sizeof(*sf));

    if (!sf)
        return NULL;
    sf->sched = s;
    sf->dirfd = dirfd;
    sf->do_fsync = do_fsync;
    sf->fd = -1;
    snprintf(sf->path, sizeof(sf->path), "%s", relpath);
    return sf;
}

void store_segfile_free(store_segfile_t *sf)
{
    if (!sf)
        return;
    for (unsigned i = 0; i < STORE_SEG_MAX; i++) {
        free(sf->segs[i].fill);
        free(sf->segs[i].spare);
        free(sf->segs[i].job);
    }
    if (sf->fd >= 0)
        (void)close(sf->fd);
    free(sf);
}

/* Buffers and sinks for the n segments of the plan. */
static int seg_setup(store_segfile_t *sf)
{
    for (unsigned i = 0; i < sf->n; i++) {
        store_seg_t *s = &sf->segs[i];

        s->file = sf;
        s->sink.write = seg_sink_write;
        if (!s->job && !(s->job = calloc(1, sizeof(*s->job))))
            return -ENOMEM;
        if (seg_grow(&s->fill, &s->fill_cap, STORE_SEG_BUF) < 0 ||
            seg_grow(&s->spare, &s->spare_cap, STORE_SEG_BUF) < 0)
            return -ENOMEM;
    }
    return 0;
}

future_t *store_segfile_load(store_segfile_t *sf, int64_t *part_size)
{
    sf->part_size = part_size;
    sf->last_save_ns = uv_hrtime();
    return executor_run(sf->sched, job_load, sf);
}

int store_segfile_resumable(const store_segfile_t *sf)
{
    return sf->resumable;
}

int store_segfile_stale(const store_segfile_t *sf)
{
    return sf->stale;
}

int store_segfile_forget(int dirfd, const char *relpath)
{
    char name[512];
    const char *leaf;
    int pfd = store_file_parent(dirfd, relpath, 0, &leaf), result = 0;

    if (pfd < 0)
        return pfd == -ENOENT ? 0 : pfd;
    if ((size_t)snprintf(name, sizeof(name), "%s%s", leaf, STORE_SEG_SUFFIX) >= sizeof(name))
        result = -ENAMETOOLONG;
    else if (unlinkat(pfd, name, 0) == 0)
        result = 1;
    else if (errno != ENOENT && errno != ENAMETOOLONG)
        result = -errno;
    if (pfd != dirfd)
        (void)close(pfd);
    return result;
}

future_t *store_segfile_plan(store_segfile_t *sf, uint64_t size, unsigned n, const char *etag,
                             const char *last_modified)
{
    uint64_t at = 0;

    if (n < 1 || n > STORE_SEG_MAX || size < n)
        return future_new_failed(sf->sched, -EINVAL);
    sf->size = size;
    sf->n = n;
    snprintf(sf->etag, sizeof(sf->etag), "%s", etag ? etag : "");
    snprintf(sf->last_modified, sizeof(sf->last_modified), "%s", last_modified ? last_modified : "");
    for (unsigned i = 0; i < n; i++) {
        store_seg_t *s = &sf->segs[i];

        s->start = at;
        s->end = i + 1 == n ? size : size / n * (i + 1);
        s->done = s->recorded = 0;
        at = s->end;
    }
    sf->loaded_done = 0;
    sf->last_save_ns = uv_hrtime();  /* the plan writes the first sidecar */
    if (seg_setup(sf) < 0)
        return future_new_failed(sf->sched, -ENOMEM);
    return executor_run(sf->sched, job_plan, sf);
}

unsigned store_segfile_count(const store_segfile_t *sf) { return sf->n; }
store_seg_t *store_segfile_seg(store_segfile_t *sf, unsigned i) { return &sf->segs[i]; }
uint64_t store_segfile_size(const store_segfile_t *sf) { return sf->size; }
const char *store_segfile_etag(const store_segfile_t *sf) { return sf->etag; }
const char *store_segfile_last_modified(const store_segfile_t *sf) { return sf->last_modified; }

future_t *store_segfile_save(store_segfile_t *sf)
{
    future_t *w;

    if (sf->fd < 0)
        return future_new_resolved(sf->sched, sf);
    if (sf->next_waiter)
        return future_ref(sf->next_waiter);
    if (!(w = future_new(sf->sched)))
        return NULL;
    if (sf->saving) {
        sf->next_waiter = w;
        return future_ref(w);
    }
    future_ref(w);
    seg_save_start(sf, w);
    return w;
}

int store_segfile_saving(const store_segfile_t *sf)
{
    return sf->saving || sf->next_waiter != NULL;
}

future_t *store_segfile_commit(store_segfile_t *sf, char hex[65])
{
    sf->hex = hex;
    return executor_run(sf->sched, job_commit, sf);
}

future_t *store_segfile_discard(store_segfile_t *sf)
{
    return executor_run(sf->sched, job_discard, sf);
}

uint64_t store_segfile_written(const store_segfile_t *sf)
{
    uint64_t d = 0;

    for (unsigned i = 0; i < sf->n; i++)
        d += sf->segs[i].done;
    return d >= sf->loaded_done ? d - sf->loaded_done : 0;
}
