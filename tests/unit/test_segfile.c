/* test_segfile.c - storage/segfile.c: segments written at their offsets through the pool, the
 * sidecar that records them (never more than the disk holds), load, commit and the stale case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "net/async/sched.h"
#include "storage/segfile.h"

#define WATCHDOG_S 60
#define WAIT_MS 20000
#define SIZE ((size_t)1048576 * 3 + 5)     /* not a multiple of anything the code uses */

struct env {
    uv_loop_t loop;
    sched_t sched;
    char dir[64];
    int dirfd;
    int done;
    char *data;
};

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    assert_non_null(e);
    alarm(WATCHDOG_S);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(sched_init(&e->sched, &e->loop), 0);
    snprintf(e->dir, sizeof(e->dir), "/tmp/test_segfile.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    e->dirfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(e->dirfd >= 0);
    assert_non_null(e->data = malloc(SIZE));
    for (size_t i = 0; i < SIZE; i++)
        e->data[i] = (char)(i * 2654435761u >> 13);
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
    assert_int_equal(uv_loop_close(&e->loop), 0);
    close(e->dirfd);
    assert_int_equal(nftw(e->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(e->data);
    free(e);
    alarm(0);
    return 0;
}

static void on_done(future_t *f, void *arg)
{
    (void)f;
    ((struct env *)arg)->done++;
}

/* Runs the loop until f settles; returns its error (0: resolved) and drops the reference. */
static int wait_for(struct env *e, future_t *f)
{
    uint64_t start = uv_hrtime();
    int target = e->done + 1, error;

    assert_non_null(f);
    assert_int_equal(future_on_done(f, on_done, e), 0);
    while (e->done < target) {
        if (uv_hrtime() - start > (uint64_t)WAIT_MS * 1000000)
            fail_msg("a future did not settle within %d ms", WAIT_MS);
        uv_run(&e->loop, UV_RUN_ONCE);
    }
    error = future_error(f);
    future_unref(f);
    return error;
}

/* Gives segment seg the bytes [from, to) of its range in pieces of varying size, turning the
 * loop while it pushes back. */
static void feed(struct env *e, store_seg_t *seg, uint64_t from, uint64_t to)
{
    static const size_t sizes[] = { 1, 16384, 7, 300000, 65536, 999 };
    uint64_t off = from;
    int pauses = 0;

    for (size_t i = 0; off < to; i++) {
        size_t n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
        int rc;

        if (n > to - off)
            n = (size_t)(to - off);
        while ((rc = seg->sink.write(&seg->sink, e->data + seg->start + off, n)) == NET_SINK_PAUSE) {
            assert_true(++pauses < 1000000);
            uv_run(&e->loop, UV_RUN_ONCE);
        }
        assert_int_equal(rc, NET_SINK_OK);
        off += n;
    }
}

/* Frees sf once no save of it runs on the pool (a periodic one may have started). */
static void segfile_free(struct env *e, store_segfile_t *sf)
{
    if (store_segfile_saving(sf))
        assert_int_equal(wait_for(e, store_segfile_save(sf)), 0);
    store_segfile_free(sf);
}

static store_segfile_t *planned(struct env *e, unsigned n)
{
    store_segfile_t *sf = store_segfile_new(&e->sched, e->dirfd, "f.bin", 0);

    assert_non_null(sf);
    assert_int_equal(wait_for(e, store_segfile_plan(sf, SIZE, n, "\"v1\"", "")), 0);
    return sf;
}

static void test_segments_in_any_order_make_the_file(void **state)
{
    struct env *e = *state;
    store_segfile_t *sf = planned(e, 4);
    unsigned char md[32];
    char hex[65], want[65];
    struct stat st;

    /* the last segment first, the others in two halves, interleaved */
    feed(e, store_segfile_seg(sf, 3), 0, store_segfile_seg(sf, 3)->end - store_segfile_seg(sf, 3)->start);
    for (unsigned i = 0; i < 3; i++)
        feed(e, store_segfile_seg(sf, i), 0, 1000);
    for (unsigned i = 0; i < 3; i++) {
        store_seg_t *s = store_segfile_seg(sf, i);

        feed(e, s, 1000, s->end - s->start);
    }
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(wait_for(e, store_seg_flush(store_segfile_seg(sf, i))), 0);
    assert_int_equal(wait_for(e, store_segfile_commit(sf, hex)), 0);
    assert_int_equal(store_segfile_written(sf), SIZE);
    segfile_free(e, sf);

    assert_int_equal(EVP_Digest(e->data, SIZE, md, NULL, EVP_sha256(), NULL), 1);
    for (unsigned i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(hex, want);
    assert_int_equal(fstatat(e->dirfd, "f.bin", &st, 0), 0);
    assert_int_equal((size_t)st.st_size, SIZE);
    assert_int_equal(fstatat(e->dirfd, "f.bin.part", &st, 0), -1);
    assert_int_equal(fstatat(e->dirfd, "f.bin.part.split", &st, 0), -1);
}

static void test_a_save_is_resumed_by_a_load(void **state)
{
    struct env *e = *state;
    store_segfile_t *sf = planned(e, 3), *again;
    uint64_t fed[3] = { 700000, 1, 0 };
    int64_t part = 0;

    for (unsigned i = 0; i < 3; i++) {
        feed(e, store_segfile_seg(sf, i), 0, fed[i]);
        assert_int_equal(wait_for(e, store_seg_flush(store_segfile_seg(sf, i))), 0);
    }
    assert_int_equal(wait_for(e, store_segfile_save(sf)), 0);
    segfile_free(e, sf);

    again = store_segfile_new(&e->sched, e->dirfd, "f.bin", 0);
    assert_non_null(again);
    assert_int_equal(wait_for(e, store_segfile_load(again, &part)), 0);
    assert_true(store_segfile_resumable(again));
    assert_false(store_segfile_stale(again));
    assert_int_equal(store_segfile_count(again), 3);
    assert_int_equal(store_segfile_size(again), SIZE);
    assert_string_equal(store_segfile_etag(again), "\"v1\"");
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(store_segfile_seg(again, i)->done, fed[i]);
    /* the rest, then the whole is the original */
    for (unsigned i = 0; i < 3; i++) {
        store_seg_t *s = store_segfile_seg(again, i);

        feed(e, s, fed[i], s->end - s->start);
        assert_int_equal(wait_for(e, store_seg_flush(s)), 0);
    }
    {
        char hex[65], *got = malloc(SIZE);
        int fd;

        assert_int_equal(wait_for(e, store_segfile_commit(again, hex)), 0);
        assert_int_equal(store_segfile_written(again), SIZE - 700001);
        assert_non_null(got);
        assert_true((fd = openat(e->dirfd, "f.bin", O_RDONLY)) >= 0);
        assert_int_equal(read(fd, got, SIZE), (ssize_t)SIZE);
        close(fd);
        assert_memory_equal(got, e->data, SIZE);
        free(got);
    }
    segfile_free(e, again);
}

/* Bytes a sink holds in its buffer are not on disk: a save must not count them. */
static void test_a_save_counts_only_written_bytes(void **state)
{
    struct env *e = *state;
    store_segfile_t *sf = planned(e, 2), *again;
    int64_t part = 0;

    feed(e, store_segfile_seg(sf, 0), 0, 1000);    /* less than a buffer: still in memory */
    assert_int_equal(wait_for(e, store_segfile_save(sf)), 0);
    again = store_segfile_new(&e->sched, e->dirfd, "f.bin", 0);
    assert_int_equal(wait_for(e, store_segfile_load(again, &part)), 0);
    assert_true(store_segfile_resumable(again));
    assert_int_equal(store_segfile_seg(again, 0)->done, 0);
    segfile_free(e, again);
    assert_int_equal(wait_for(e, store_seg_flush(store_segfile_seg(sf, 0))), 0);
    assert_int_equal(wait_for(e, store_segfile_save(sf)), 0);
    again = store_segfile_new(&e->sched, e->dirfd, "f.bin", 0);
    assert_int_equal(wait_for(e, store_segfile_load(again, &part)), 0);
    assert_int_equal(store_segfile_seg(again, 0)->done, 1000);
    segfile_free(e, again);
    segfile_free(e, sf);
}

static void test_a_segment_takes_no_byte_past_its_end(void **state)
{
    struct env *e = *state;
    store_segfile_t *sf = planned(e, 2);
    store_seg_t *s = store_segfile_seg(sf, 0);
    uint64_t len = s->end - s->start;

    feed(e, s, 0, len - 1);
    assert_int_equal(s->sink.write(&s->sink, e->data, 2), -EPROTO);
    assert_int_equal(s->sink.write(&s->sink, e->data + len - 1, 1), NET_SINK_OK);
    assert_int_equal(wait_for(e, store_seg_flush(s)), 0);
    segfile_free(e, sf);
}

static void test_a_damaged_sidecar_is_stale(void **state)
{
    struct env *e = *state;
    store_segfile_t *sf = planned(e, 2), *again;
    int64_t part = 0;
    int fd;

    feed(e, store_segfile_seg(sf, 1), 0, 400000);
    assert_int_equal(wait_for(e, store_seg_flush(store_segfile_seg(sf, 1))), 0);
    assert_int_equal(wait_for(e, store_segfile_save(sf)), 0);
    segfile_free(e, sf);
    /* cut the sidecar short: it no longer ends with "end" */
    assert_true((fd = openat(e->dirfd, "f.bin.part.split", O_WRONLY)) >= 0);
    assert_int_equal(ftruncate(fd, 40), 0);
    close(fd);
    again = store_segfile_new(&e->sched, e->dirfd, "f.bin", 0);
    assert_int_equal(wait_for(e, store_segfile_load(again, &part)), 0);
    assert_false(store_segfile_resumable(again));
    assert_true(store_segfile_stale(again));
    assert_true(part > 0);
    /* and one stream forgets it */
    assert_int_equal(store_segfile_forget(e->dirfd, "f.bin"), 1);
    assert_int_equal(store_segfile_forget(e->dirfd, "f.bin"), 0);
    segfile_free(e, again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segments_in_any_order_make_the_file, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_save_is_resumed_by_a_load, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_save_counts_only_written_bytes, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_segment_takes_no_byte_past_its_end, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_damaged_sidecar_is_stale, env_setup, env_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
