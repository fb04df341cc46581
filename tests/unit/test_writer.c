/* test_writer.c - storage/writer.c: NAME.part through the thread pool, commit, abort, resume. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/fdhog.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "net/async/sched.h"
#include "storage/file.h"
#include "storage/writer.h"

#define WATCHDOG_S 60
#define WAIT_MS 20000

/* ---- the sink: every use of it is here, so a change of its type touches one function -------- */

/* Gives len bytes to the writer's sink: NET_SINK_OK, NET_SINK_PAUSE or a negative errno. */
static int sink_write(store_writer_t *w, const void *data, size_t len)
{
    net_sink_t *sink = store_writer_sink(w);

    return sink->write(sink, data, len);
}

/* ---- environment: a loop, a scheduler and a fresh folder per test -------------------------- */

struct env {
    uv_loop_t loop;
    sched_t sched;
    char dir[64];
    int dirfd;
    int done;                   /* writer futures settled, counted by on_done */
};

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    assert_non_null(e);
    alarm(WATCHDOG_S);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(sched_init(&e->sched, &e->loop), 0);
    snprintf(e->dir, sizeof(e->dir), "/tmp/test_writer.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    e->dirfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(e->dirfd >= 0);
    *state = e;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int env_teardown(void **state)
{
    struct env *e = *state;

    sched_close(&e->sched);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&e->loop), 0);   /* no handle left open */
    close(e->dirfd);
    assert_int_equal(nftw(e->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(e);
    alarm(0);
    return 0;
}

static void on_done(future_t *f, void *arg)
{
    (void)f;
    ((struct env *)arg)->done++;
}

/* Runs the loop until f has settled (its callback too), failing after WAIT_MS. */
static void wait_for(struct env *e, future_t *f)
{
    uint64_t start = uv_hrtime();
    int target = e->done + 1;

    assert_non_null(f);
    assert_int_equal(future_on_done(f, on_done, e), 0);
    while (e->done < target) {
        if (uv_hrtime() - start > (uint64_t)WAIT_MS * 1000000)
            fail_msg("the writer's future did not settle within %d ms", WAIT_MS);
        uv_run(&e->loop, UV_RUN_ONCE);
    }
}

/* Turns the loop until the pool has written something more than `than` bytes. */
static void wait_written(struct env *e, store_writer_t *w, uint64_t than)
{
    uint64_t start = uv_hrtime();

    while (store_writer_written(w) <= than && !store_writer_error(w)) {
        if (uv_hrtime() - start > (uint64_t)WAIT_MS * 1000000)
            fail_msg("no write reached the disk within %d ms", WAIT_MS);
        uv_run(&e->loop, UV_RUN_ONCE);
    }
}

/* Feeds data in pieces of varying sizes, turning the loop whenever the writer pushes back, and
 * checking between pieces that nothing has appeared under the final name. */
static void feed(struct env *e, store_writer_t *w, const char *relpath, const char *data, size_t len)
{
    static const size_t sizes[] = { 1, 7, 4096, 65539, 300000, 17, 131072, 999 };
    size_t off = 0;
    int pauses = 0;

    for (size_t i = 0; off < len; i++) {
        size_t n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
        int rc;

        if (n > len - off)
            n = len - off;
        while ((rc = sink_write(w, data + off, n)) == NET_SINK_PAUSE) {
            assert_true(++pauses < 100000);
            uv_run(&e->loop, UV_RUN_ONCE);
        }
        assert_int_equal(rc, NET_SINK_OK);
        off += n;
        uv_run(&e->loop, UV_RUN_NOWAIT);
        if (faccessat(e->dirfd, relpath, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
            fail_msg("%s exists before the commit", relpath);
    }
}

/* ---- file and hash helpers ------------------------------------------------------------------ */

/* Deterministic bytes, different at every offset. malloc'd. */
static char *make_data(size_t len, unsigned seed)
{
    char *p = malloc(len ? len : 1);
    uint32_t x = seed * 2654435761u + 1;

    assert_non_null(p);
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (char)(x >> 24);
    }
    return p;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
    assert_int_equal(mdlen, 32);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* -ENOENT if name is absent, else its size. */
static long long file_size(struct env *e, const char *name)
{
    struct stat st;

    if (fstatat(e->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    assert_true(S_ISREG(st.st_mode));
    return (long long)st.st_size;
}

static void part_name(char *buf, size_t n, const char *relpath)
{
    snprintf(buf, n, "%s" STORE_PART_SUFFIX, relpath);
}

/* Checks that relpath holds exactly data. */
static void assert_file(struct env *e, const char *relpath, const char *data, size_t len)
{
    char *got = malloc(len + 1);
    int fd = openat(e->dirfd, relpath, O_RDONLY | O_CLOEXEC);
    size_t off = 0;
    ssize_t n;

    assert_non_null(got);
    if (fd < 0)
        fail_msg("%s: %s", relpath, strerror(errno));
    while ((n = read(fd, got + off, len + 1 - off)) > 0)
        off += (size_t)n;
    close(fd);
    if (off != len)
        fail_msg("%s holds %zu bytes, want %zu", relpath, off, len);
    if (memcmp(got, data, len) != 0)
        fail_msg("%s: the bytes differ from what was written", relpath);
    free(got);
}

static void write_file(struct env *e, const char *name, const char *data, size_t len)
{
    int fd = openat(e->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_commit_writes_the_file_and_its_hash(void **state)
{
    static const char relpath[] = "host/dir/file.bin";   /* missing folders are created */
    const size_t len = 3 * 1024 * 1024 + 12345;
    struct env *e = *state;
    char *data = make_data(len, 1);
    char want[65], part[64];
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, relpath, 0);
    future_t *f;

    assert_non_null(w);
    part_name(part, sizeof(part), relpath);
    feed(e, w, relpath, data, len);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_ptr_equal(future_result(f), w);
    assert_int_equal(store_writer_error(w), 0);
    assert_int_equal(store_writer_written(w), len);
    assert_int_equal(store_writer_offset(w), 0);
    assert_file(e, relpath, data, len);
    assert_int_equal(file_size(e, part), -ENOENT);       /* renamed, not copied */
    sha256_hex(data, len, want);
    assert_string_equal(store_writer_sha256(w), want);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

/* A name learnt at the first byte (Content-Disposition): taken before it, refused after it. */
static void test_rename_before_the_first_byte(void **state)
{
    const size_t len = 100000;
    struct env *e = *state;
    char *data = make_data(len, 3);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "url-name", 0);
    future_t *f;

    assert_non_null(w);
    assert_int_equal(store_writer_rename(w, "server/name.bin"), 0);
    assert_int_equal(sink_write(w, data, 10), NET_SINK_OK);
    assert_int_equal(store_writer_rename(w, "late.bin"), -EBUSY);   /* bytes are queued */
    feed(e, w, "server/name.bin", data + 10, len - 10);
    assert_int_equal(store_writer_rename(w, "late.bin"), -EBUSY);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_file(e, "server/name.bin", data, len);
    assert_int_equal(file_size(e, "url-name"), -ENOENT);
    assert_int_equal(file_size(e, "late.bin"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
    /* a resume keeps its .part's name */
    w = store_writer_new(&e->sched, e->dirfd, "resumed", 0);
    assert_non_null(w);
    store_writer_resume(w, 5);
    assert_int_equal(store_writer_rename(w, "other"), -EBUSY);
    store_writer_free(w);
    free(data);
}

static void test_empty_body_with_fsync(void **state)
{
    struct env *e = *state;
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "empty.txt", 1);
    future_t *f;

    assert_non_null(w);
    assert_int_equal(file_size(e, "empty.txt.part"), -ENOENT);   /* nothing before the commit */
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(file_size(e, "empty.txt"), 0);
    assert_int_equal(file_size(e, "empty.txt.part"), -ENOENT);
    assert_string_equal(store_writer_sha256(w),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    future_unref(f);
    store_writer_free(w);
}

/* Between writes and commit, the bytes are in NAME.part only, growing as pool jobs finish. */
static void test_nothing_under_the_final_name_before_commit(void **state)
{
    const size_t len = 2 * 1024 * 1024;
    struct env *e = *state;
    char *data = make_data(len, 2);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "f.dat", 0);
    size_t given = 0;
    long long last = 0;
    future_t *f;

    assert_non_null(w);
    while (given < len) {
        int rc = sink_write(w, data + given, 128 * 1024);
        long long part;

        if (rc == NET_SINK_PAUSE) {
            uv_run(&e->loop, UV_RUN_ONCE);
            continue;
        }
        assert_int_equal(rc, NET_SINK_OK);
        given += 128 * 1024;
        uv_run(&e->loop, UV_RUN_NOWAIT);
        /* A job may be writing right now: the .part holds at least what was reported written,
         * at most what was given. */
        part = file_size(e, "f.dat.part");
        if (part != -ENOENT) {
            assert_true(part >= (long long)store_writer_written(w));
            assert_true(part <= (long long)given);
            assert_true(part >= last);                  /* it only grows */
            last = part;
        }
        assert_int_equal(file_size(e, "f.dat"), -ENOENT);
    }
    wait_written(e, w, 0);
    assert_true(file_size(e, "f.dat.part") > 0);
    assert_int_equal(file_size(e, "f.dat"), -ENOENT);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_file(e, "f.dat", data, len);
    assert_int_equal(file_size(e, "f.dat.part"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

/* The sink says "pause" once about STORE_WRITER_QUEUE_MAX bytes wait for the disk, and takes
 * bytes again once the pool has caught up. */
static void test_backpressure_bounds_the_queue(void **state)
{
    const size_t piece = 64 * 1024;
    struct env *e = *state;
    char *data = make_data(piece, 3);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "q.bin", 0);
    size_t given = 0;
    int rc;
    future_t *f;

    assert_non_null(w);
    /* No loop turn: the pool cannot report back, so the queue only grows. */
    while ((rc = sink_write(w, data, piece)) == NET_SINK_OK) {
        given += piece;
        assert_true(given <= 4 * STORE_WRITER_QUEUE_MAX);
    }
    assert_int_equal(rc, NET_SINK_PAUSE);
    assert_true(given >= STORE_WRITER_QUEUE_MAX);
    assert_true(given <= 2 * STORE_WRITER_QUEUE_MAX);     /* bounded near the cap */
    wait_written(e, w, 0);
    while ((rc = sink_write(w, data, piece)) == NET_SINK_PAUSE)
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_int_equal(rc, NET_SINK_OK);
    given += piece;
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(file_size(e, "q.bin"), (long long)given);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

static void test_abort_removes_the_part(void **state)
{
    const size_t len = 700 * 1024;
    struct env *e = *state;
    char *data = make_data(len, 4);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "sub/gone.bin", 0);
    future_t *f;

    assert_non_null(w);
    feed(e, w, "sub/gone.bin", data, len);
    wait_written(e, w, 0);
    assert_true(file_size(e, "sub/gone.bin.part") > 0);   /* it was on disk */
    assert_int_equal(sink_write(w, data, 100), NET_SINK_OK);   /* and more queued */
    f = store_writer_abort(w, 0);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(file_size(e, "sub/gone.bin.part"), -ENOENT);
    assert_int_equal(file_size(e, "sub/gone.bin"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

static void test_abort_keeping_the_part(void **state)
{
    const size_t len = 900 * 1024 + 3;
    struct env *e = *state;
    char *data = make_data(len, 5);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "kept.bin", 0);
    future_t *f;

    assert_non_null(w);
    feed(e, w, "kept.bin", data, len);
    f = store_writer_abort(w, 1);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    /* Everything the sink took is in the .part, queued bytes included: a resume continues there. */
    assert_file(e, "kept.bin.part", data, len);
    assert_int_equal(store_writer_written(w), len);
    assert_int_equal(file_size(e, "kept.bin"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
    free(data);

    /* Nothing ever written: nothing to keep, and no empty .part appears. */
    w = store_writer_new(&e->sched, e->dirfd, "never.bin", 0);
    assert_non_null(w);
    f = store_writer_abort(w, 1);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(file_size(e, "never.bin.part"), -ENOENT);
    assert_int_equal(file_size(e, "never.bin"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
}

static void test_resume_continues_the_part(void **state)
{
    const size_t len = 1500 * 1024 + 77, have = 400 * 1024 + 5;
    struct env *e = *state;
    char *data = make_data(len, 6);
    char *junk = make_data(5000, 7);
    char *stale;
    char want[65];
    store_writer_t *w;
    future_t *f;

    /* An earlier run left the first `have` bytes, then bytes past the resume point that a
     * resume must cut away. */
    stale = malloc(have + 5000);
    assert_non_null(stale);
    memcpy(stale, data, have);
    memcpy(stale + have, junk, 5000);
    write_file(e, "r.bin.part", stale, have + 5000);
    w = store_writer_new(&e->sched, e->dirfd, "r.bin", 0);
    assert_non_null(w);
    store_writer_resume(w, have);
    assert_int_equal(store_writer_offset(w), have);
    feed(e, w, "r.bin", data + have, len - have);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_file(e, "r.bin", data, len);
    assert_int_equal(store_writer_written(w), len - have);   /* the prefix is not counted */
    sha256_hex(data, len, want);
    assert_string_equal(store_writer_sha256(w), want);      /* the hash covers the whole file */
    assert_int_equal(file_size(e, "r.bin.part"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
    free(stale);
    free(junk);
    free(data);
}

static void test_resume_past_the_end_of_the_part_fails(void **state)
{
    struct env *e = *state;
    char *data = make_data(1000, 8);
    store_writer_t *w;
    future_t *f;

    write_file(e, "short.bin.part", data, 100);
    w = store_writer_new(&e->sched, e->dirfd, "short.bin", 0);
    assert_non_null(w);
    store_writer_resume(w, 500);                        /* more than the .part holds */
    assert_int_equal(sink_write(w, data + 500, 500), NET_SINK_OK);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_FAILED);   /* not a file with a hole of zeros */
    assert_true(future_error(f) < 0);
    assert_int_equal(future_error(f), store_writer_error(w));
    assert_int_equal(file_size(e, "short.bin"), -ENOENT);
    future_unref(f);
    store_writer_free(w);

    /* No .part at all: nothing to continue, and none is made up. */
    w = store_writer_new(&e->sched, e->dirfd, "none.bin", 0);
    assert_non_null(w);
    store_writer_resume(w, 500);
    assert_int_equal(sink_write(w, data + 500, 500), NET_SINK_OK);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_FAILED);
    assert_int_equal(future_error(f), -ENOENT);
    assert_int_equal(file_size(e, "none.bin"), -ENOENT);
    assert_int_equal(file_size(e, "none.bin.part"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

/* A path that cannot be created: a regular file where a folder should be. */
static void test_uncreatable_path_fails_the_commit(void **state)
{
    struct env *e = *state;
    char *data = make_data(640 * 1024, 9);
    store_writer_t *w;
    future_t *f;
    int rc = NET_SINK_OK;

    write_file(e, "blocker", "x", 1);

    /* Small body: the first disk access is the commit's. */
    w = store_writer_new(&e->sched, e->dirfd, "blocker/a.bin", 0);
    assert_non_null(w);
    assert_int_equal(sink_write(w, data, 1000), NET_SINK_OK);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_FAILED);
    assert_int_equal(future_error(f), -ENOTDIR);
    assert_int_equal(store_writer_error(w), -ENOTDIR);
    assert_int_equal(file_size(e, "blocker"), 1);         /* untouched */
    future_unref(f);
    store_writer_free(w);

    /* Large body: a write job fails first; the sink then refuses more bytes with the errno. */
    w = store_writer_new(&e->sched, e->dirfd, "blocker/b/c.bin", 0);
    assert_non_null(w);
    for (size_t off = 0; off < 640 * 1024 && rc == NET_SINK_OK; off += 64 * 1024)
        rc = sink_write(w, data + off, 64 * 1024);
    assert_int_equal(rc, NET_SINK_OK);
    wait_written(e, w, 0);                              /* returns once the error is known */
    assert_int_equal(store_writer_error(w), -ENOTDIR);
    assert_int_equal(sink_write(w, data, 10), -ENOTDIR);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_FAILED);
    assert_int_equal(future_error(f), -ENOTDIR);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

/* The final rename fails (a folder holds the name): the commit fails and the .part is gone. */
static void test_failed_rename_leaves_nothing(void **state)
{
    struct env *e = *state;
    char *data = make_data(5000, 10);
    store_writer_t *w;
    future_t *f;

    assert_int_equal(mkdirat(e->dirfd, "taken", 0755), 0);
    assert_int_equal(mkdirat(e->dirfd, "taken/inside", 0755), 0);   /* not empty */
    w = store_writer_new(&e->sched, e->dirfd, "taken", 0);
    assert_non_null(w);
    assert_int_equal(sink_write(w, data, 5000), NET_SINK_OK);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_FAILED);
    assert_true(future_error(f) < 0);
    assert_int_equal(file_size(e, "taken.part"), -ENOENT);
    assert_int_equal(faccessat(e->dirfd, "taken/inside", F_OK, 0), 0);   /* the folder stays */
    future_unref(f);
    store_writer_free(w);
    free(data);
}

/* ---- the pipeline: a hash stage and a write stage ------------------------------------------- */

/* Feeds data in pieces drawn from a seeded mix of tiny, odd and chunk-crossing sizes, turning
 * the loop after a piece only when `turn_every` says (0: only when the writer pushes back), so
 * both stages see runs of many small and few large pieces, and jobs are in flight when it returns. */
static void feed_mixed(struct env *e, store_writer_t *w, const char *data, size_t len, unsigned seed,
                       unsigned turn_every)
{
    static const size_t sizes[] = { 1, 2, 3, 511, 4095, 65535, 65537, 262143, 262145, 1048577 };
    uint32_t x = seed * 2654435761u + 7;
    size_t off = 0;
    int pauses = 0;

    for (unsigned i = 1; off < len; i++) {
        size_t n;
        int rc;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        n = sizes[x % (sizeof(sizes) / sizeof(sizes[0]))];
        if ((x >> 8) % 4 == 0)
            n = 1 + (x >> 12) % 300;         /* runs of tiny pieces */
        if (n > len - off)
            n = len - off;
        while ((rc = sink_write(w, data + off, n)) == NET_SINK_PAUSE) {
            assert_true(++pauses < 100000);
            uv_run(&e->loop, UV_RUN_ONCE);
        }
        assert_int_equal(rc, NET_SINK_OK);
        off += n;
        if (turn_every && i % turn_every == 0)
            uv_run(&e->loop, UV_RUN_NOWAIT);
    }
}

/* Many small and large pieces, the loop turned often, rarely or only under backpressure, and the
 * commit asked while stage jobs are still in flight: the file holds the bytes in order and the
 * hash equals a one-shot SHA-256 of them, so the commit waited for both stages. */
static void test_pipeline_keeps_order_and_hash(void **state)
{
    const size_t len = 5 * 1024 * 1024 + 4321;
    static const unsigned turns[] = { 1, 5, 0, 0, 0, 0, 0, 0 };
    struct env *e = *state;
    char *data = make_data(len, 21);
    char want[65], name[32];

    sha256_hex(data, len, want);
    for (size_t t = 0; t < sizeof(turns) / sizeof(turns[0]); t++) {
        store_writer_t *w;
        future_t *f;

        snprintf(name, sizeof(name), "order%zu.bin", t);
        w = store_writer_new(&e->sched, e->dirfd, name, 0);
        assert_non_null(w);
        feed_mixed(e, w, data, len, 100 + (unsigned)t, turns[t]);
        f = store_writer_commit(w);
        assert_int_equal(sink_write(w, data, 1), -EINVAL);   /* nothing after the end */
        wait_for(e, f);
        assert_int_equal(future_state(f), FUTURE_DONE);
        assert_int_equal(store_writer_error(w), 0);
        assert_int_equal(store_writer_written(w), len);
        assert_file(e, name, data, len);
        assert_string_equal(store_writer_sha256(w), want);
        future_unref(f);
        store_writer_free(w);
    }
    free(data);
}

/* The same bytes as one write per byte count of a chunk edge (64 KiB, then 256 KiB pieces):
 * a body that ends exactly on a chunk edge, one byte before and one after it. */
static void test_pipeline_chunk_edges(void **state)
{
    static const size_t lens[] = { 65535, 65536, 65537, 65536 + 262144, 65536 + 262144 + 1,
                                   65536 + 4 * 262144 - 1, 65536 + 4 * 262144 };
    struct env *e = *state;
    char *data = make_data(65536 + 4 * 262144, 22);
    char want[65], name[32];

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        store_writer_t *w;
        future_t *f;

        snprintf(name, sizeof(name), "edge%zu.bin", i);
        w = store_writer_new(&e->sched, e->dirfd, name, 0);
        assert_non_null(w);
        feed_mixed(e, w, data, lens[i], 200 + (unsigned)i, 3);
        f = store_writer_commit(w);
        wait_for(e, f);
        assert_int_equal(future_state(f), FUTURE_DONE);
        assert_file(e, name, data, lens[i]);
        sha256_hex(data, lens[i], want);
        assert_string_equal(store_writer_sha256(w), want);
        future_unref(f);
        store_writer_free(w);
    }
    free(data);
}

/* An abort asked while both stages have jobs in flight (the loop was not turned since the last
 * bytes): it waits for them, then nothing is left under either name. */
static void test_pipeline_abort_mid_stream(void **state)
{
    const size_t len = 6 * 1024 * 1024;
    struct env *e = *state;
    char *data = make_data(len, 23);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "mid/abort.bin", 0);
    future_t *f;

    assert_non_null(w);
    feed_mixed(e, w, data, len / 2, 300, 2);
    wait_written(e, w, 0);
    assert_true(file_size(e, "mid/abort.bin.part") > 0);
    feed_mixed(e, w, data + len / 2, len / 2, 301, 0);   /* jobs in flight now */
    f = store_writer_abort(w, 0);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(file_size(e, "mid/abort.bin.part"), -ENOENT);
    assert_int_equal(file_size(e, "mid/abort.bin"), -ENOENT);
    future_unref(f);
    store_writer_free(w);

    /* The first write job (it creates the .part) still in flight when the abort comes: the
     * abort must wait for it, or its .part would appear after the removal. */
    w = store_writer_new(&e->sched, e->dirfd, "first/abort.bin", 0);
    assert_non_null(w);
    assert_int_equal(sink_write(w, data, 700 * 1024), NET_SINK_OK);   /* no loop turn */
    f = store_writer_abort(w, 0);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(file_size(e, "first/abort.bin.part"), -ENOENT);
    assert_int_equal(file_size(e, "first/abort.bin"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

/* A write that fails after several chunks reached the disk (the file size limit: EFBIG): the
 * error stops both stages, the sink refuses more with it, the commit fails with it, and neither
 * the .part nor the final name is left. */
static void test_pipeline_write_error_mid_stream(void **state)
{
    const size_t len = 8 * 1024 * 1024, limit = 2 * 1024 * 1024 + 100;
    struct env *e = *state;
    char *data = make_data(len, 24);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "big.bin", 0);
    struct rlimit saved, rl;
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    size_t off = 0;
    int rc = NET_SINK_OK, pauses = 0;
    future_t *f;

    assert_non_null(w);
    assert_int_equal(sigaction(SIGXFSZ, &ign, &old), 0);   /* EFBIG instead of the signal */
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    rl = saved;
    rl.rlim_cur = limit;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
    while (off < len && rc != -EFBIG) {
        size_t n = len - off < 100000 ? len - off : 100000;

        rc = sink_write(w, data + off, n);
        if (rc == NET_SINK_PAUSE) {
            assert_true(++pauses < 100000);
            uv_run(&e->loop, UV_RUN_ONCE);
            continue;
        }
        if (rc == NET_SINK_OK)
            off += n;
        uv_run(&e->loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(rc, -EFBIG);                        /* refused before the end */
    assert_true(off > limit);                            /* after several chunks */
    assert_true(off < len);
    assert_int_equal(store_writer_error(w), -EFBIG);
    assert_true(store_writer_written(w) <= limit);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    assert_int_equal(sigaction(SIGXFSZ, &old, NULL), 0);
    assert_int_equal(future_state(f), FUTURE_FAILED);
    assert_int_equal(future_error(f), -EFBIG);
    assert_int_equal(file_size(e, "big.bin.part"), -ENOENT);
    assert_int_equal(file_size(e, "big.bin"), -ENOENT);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

/* The queue bound covers the chunks the stages hold too: what the sink took and the disk has
 * not is at most STORE_WRITER_QUEUE_MAX plus one piece, whatever the loop does. */
static void test_pipeline_bounds_what_it_holds(void **state)
{
    const size_t piece = 100000, len = 12 * 1024 * 1024;
    struct env *e = *state;
    char *data = make_data(len, 25);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, "held.bin", 0);
    size_t off = 0;
    future_t *f;

    assert_non_null(w);
    while (off < len) {
        size_t n = len - off < piece ? len - off : piece;
        int rc = sink_write(w, data + off, n);

        if (rc == NET_SINK_PAUSE) {
            uv_run(&e->loop, UV_RUN_ONCE);
            continue;
        }
        assert_int_equal(rc, NET_SINK_OK);
        off += n;
        /* written lags the freed chunks (hashing may lag too), so this bounds what is held */
        assert_true(off - store_writer_written(w) <= STORE_WRITER_QUEUE_MAX + piece);
    }
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_file(e, "held.bin", data, len);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

/* ---- a full descriptor table --------------------------------------------------------------- */

/* Out of descriptors when NAME.part is opened: the pool job waits for some instead of failing,
 * and the file is complete once they are free again (300 ms later, from the loop). */
static void test_a_full_descriptor_table_delays_the_file(void **state)
{
    static const char relpath[] = "dir/full.bin";     /* the folder walk needs descriptors too */
    const size_t len = 100000;
    struct env *e = *state;
    char *data = make_data(len, 7);
    store_writer_t *w = store_writer_new(&e->sched, e->dirfd, relpath, 0);
    struct hog hog;
    uv_timer_t timer;
    future_t *f;

    assert_non_null(w);
    assert_int_equal(uv_timer_init(&e->loop, &timer), 0);
    hog_fill(&hog);
    timer.data = &hog;
    assert_int_equal(uv_timer_start(&timer, hog_release_later, 300, 0), 0);
    assert_int_equal(sink_write(w, data, len), NET_SINK_OK);
    f = store_writer_commit(w);
    wait_for(e, f);
    assert_int_equal(hog.n, 0);                          /* it did wait for the release */
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(store_writer_error(w), 0);
    assert_file(e, relpath, data, len);
    uv_close((uv_handle_t *)&timer, NULL);
    future_unref(f);
    store_writer_free(w);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_writes_the_file_and_its_hash, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_empty_body_with_fsync, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_rename_before_the_first_byte, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_nothing_under_the_final_name_before_commit, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_backpressure_bounds_the_queue, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_abort_removes_the_part, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_abort_keeping_the_part, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_resume_continues_the_part, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_resume_past_the_end_of_the_part_fails, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_uncreatable_path_fails_the_commit, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_failed_rename_leaves_nothing, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_full_descriptor_table_delays_the_file, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_keeps_order_and_hash, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_chunk_edges, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_abort_mid_stream, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_write_error_mid_stream, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_bounds_what_it_holds, env_setup, env_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
