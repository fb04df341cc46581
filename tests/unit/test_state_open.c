/* test_state_open.c - storage/state.c: a new database is set up off the critical path (by the
 * first batch on the pool), one that exists is opened and checked at once, and a run that queued
 * nothing still leaves its database behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/state.h"

struct env {
    char dir[64];
    char db[96];
    uv_loop_t loop;
    sched_t sched;
};

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/test_state_open.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->db, sizeof(e->db), "%s/%s", e->dir, STORE_STATE_FILE);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(sched_init(&e->sched, &e->loop), 0);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;
    char path[160];
    static const char *const tails[] = { "", "-wal", "-shm", "-journal" };

    sched_close(&e->sched);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", e->db, tails[i]);
        unlink(path);
    }
    rmdir(e->dir);
    free(e);
    return 0;
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* Rows in urls, read with a connection of our own; -1 if the table cannot be read. */
static int count_urls(const char *db)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *s = NULL;
    int n = -1;

    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM urls", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(h);
    return n;
}

static void on_flushed(future_t *f, void *arg)
{
    (void)f;
    ++*(int *)arg;
}

static void test_a_new_database_is_set_up_by_the_first_batch(void **state)
{
    struct env *e = *state;
    store_state_t *st = NULL;
    int existed = -1, flushed = 0;
    store_record_t rec = { .url = "http://127.0.0.1:1/a", .status = STORE_URL_DONE, .http_code = 200,
                           .bytes = 3, .path = "a", .depth = -1 };
    future_t *f;

    assert_int_equal(store_state_open(e->dir, &st, &existed), 0);
    assert_int_equal(existed, 0);
    assert_false(exists(e->db));                /* nothing on the disk before the loop runs */
    assert_int_equal(store_state_start(st, &e->sched), 0);
    assert_int_equal(store_state_put(st, &rec), 0);
    f = store_state_flush(st);
    assert_non_null(f);
    assert_int_equal(future_on_done(f, on_flushed, &flushed), 0);
    while (!flushed)
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_true(exists(e->db));
    assert_int_equal(count_urls(e->db), 1);
    future_unref(f);
    store_state_stop(st);
    assert_int_equal(store_state_close(st), 0);
}

static void test_a_run_that_queued_nothing_leaves_its_database(void **state)
{
    struct env *e = *state;
    store_state_t *st = NULL;
    store_row_t row;
    int existed = -1;

    assert_int_equal(store_state_open(e->dir, &st, &existed), 0);
    assert_int_equal(store_state_close(st), 0);
    assert_int_equal(count_urls(e->db), 0);      /* created, with its schema */

    /* Now it exists: opened at once, and a lookup works before any batch. */
    assert_int_equal(store_state_open(e->dir, &st, &existed), 0);
    assert_int_equal(existed, 1);
    assert_int_equal(store_state_get(st, "http://127.0.0.1:1/none", &row), 0);
    assert_int_equal(store_state_close(st), 0);
}

static void test_a_lookup_on_a_new_database_sets_it_up(void **state)
{
    struct env *e = *state;
    store_state_t *st = NULL;
    store_row_t row;
    int existed = -1;

    assert_int_equal(store_state_open(e->dir, &st, &existed), 0);
    assert_int_equal(existed, 0);
    assert_int_equal(store_state_get(st, "http://127.0.0.1:1/none", &row), 0);
    assert_true(exists(e->db));
    assert_int_equal(store_state_close(st), 0);
}

static void test_a_database_that_cannot_be_created_fails_at_close(void **state)
{
    struct env *e = *state;
    store_state_t *st = NULL;
    int existed = -1;

    /* A dangling symlink where the database should be: not there, and SQLite (O_NOFOLLOW)
     * will not create it. */
    assert_int_equal(symlink("/nonexistent/gather.db", e->db), 0);
    assert_int_equal(store_state_open(e->dir, &st, &existed), 0);
    assert_int_equal(existed, 0);
    assert_int_equal(store_state_close(st), -EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_new_database_is_set_up_by_the_first_batch, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_run_that_queued_nothing_leaves_its_database, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_lookup_on_a_new_database_sets_it_up, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_database_that_cannot_be_created_fails_at_close, env_setup, env_teardown),
    };
    return cmocka_run_group_tests_name("state_open", tests, NULL, NULL);
}
