/* test_tpool.c - net/async/tpool.c: N jobs run on N threads at once (past libuv's 1024), threads
 * start lazily and never past the cap, jobs start in FIFO order, failures and cancels reach the
 * futures, a failing pthread_create loses no job, and tpool_close cancels what is still queued.
 *
 * TPOOL_TEST_MAX (environment) caps the thread counts of the barrier tests, for valgrind, which
 * runs at most 500 threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/async/tpool.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

#define WAIT_MS 20000           /* the longest any job waits for the others: a broken pool fails */

struct env {
    uv_loop_t loop;
    sched_t sched;
};

static int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    assert_non_null(e);
    alarm(120);                 /* a lost wakeup or a join that never ends fails instead of hanging */
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(sched_init(&e->sched, &e->loop), 0);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;

    sched_close(&e->sched);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&e->loop), 0);   /* no handle left open */
    free(e);
    alarm(0);
    return 0;
}

/* Closes p and runs the loop for its close callback. */
static void pool_close(struct env *e, tpool_t *p)
{
    tpool_close(p);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Sleeps 1 ms at a time until *flag is set or WAIT_MS passed; 1 if it was set. */
static int wait_flag(atomic_int *flag)
{
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!atomic_load(flag) && ms_since(&t0) < WAIT_MS)
        usleep(1000);
    return atomic_load(flag);
}

/* ---- N threads at once ----------------------------------------------------------------------- */

struct barrier {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long arrived, want;
    int broken;                 /* one waited in vain: the rest fail at once instead of waiting too */
};

/* Waits until all want jobs have arrived: succeeds only if they all ran at the same time. */
static int barrier_job(void *arg)
{
    struct barrier *b = arg;
    struct timespec until;
    int result = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&b->lock);
    if (++b->arrived == b->want)
        pthread_cond_broadcast(&b->cond);
    while (b->arrived < b->want && !b->broken && result == 0)
        result = pthread_cond_timedwait(&b->cond, &b->lock, &until);
    if (b->arrived < b->want) {
        b->broken = 1;
        pthread_cond_broadcast(&b->cond);
    }
    result = b->arrived >= b->want ? 0 : -ETIMEDOUT;
    pthread_mutex_unlock(&b->lock);
    return result;
}

static long test_max(long n)
{
    const char *cap = getenv("TPOOL_TEST_MAX");

    return cap && atol(cap) > 0 && atol(cap) < n ? atol(cap) : n;
}

static void n_jobs_run_at_once(struct env *e, long n)
{
    struct barrier b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, n, 0 };
    tpool_t *p = tpool_new(&e->sched, n);
    future_t **f = calloc((size_t)n, sizeof(*f));

    assert_non_null(p);
    assert_non_null(f);
    for (long i = 0; i < n; i++)
        assert_non_null(f[i] = tpool_run(p, barrier_job, &b));
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);   /* the pool lets go when all settled */
    if (tpool_start_error(p))
        print_error("pthread_create failed after %ld threads: %s\n", tpool_threads(p),
                    strerror(tpool_start_error(p)));
    assert_int_equal(tpool_start_error(p), 0);
    assert_int_equal(tpool_threads(p), n);
    assert_int_equal(tpool_max_running(p), n);
    assert_int_equal(b.arrived, n);
    assert_int_equal(b.broken, 0);              /* nobody waited in vain: all n ran at once */
    for (long i = 0; i < n; i++) {
        assert_int_equal(future_state(f[i]), FUTURE_DONE);
        assert_ptr_equal(future_result(f[i]), &b);
        future_unref(f[i]);
    }
    pool_close(e, p);
    free(f);
}

static void test_300_jobs_run_on_300_threads_at_once(void **state)
{
    n_jobs_run_at_once(*state, test_max(300));
}

/* libuv's own pool stops at 1024 threads; ours does not. */
static void test_1100_jobs_run_on_1100_threads_at_once(void **state)
{
    n_jobs_run_at_once(*state, test_max(1100));
}

/* ---- lazy start ------------------------------------------------------------------------------ */

static int nop_job(void *arg)
{
    (void)arg;
    return 0;
}

/* A job queued while a started thread is idle starts no thread. */
static void test_threads_start_lazily(void **state)
{
    struct env *e = *state;
    tpool_t *p = tpool_new(&e->sched, 100);
    future_t *f[5];

    assert_non_null(p);
    assert_int_equal(tpool_threads(p), 0);
    for (int i = 0; i < 5; i++) {               /* one after another: the one thread serves all */
        assert_non_null(f[i] = tpool_run(p, nop_job, NULL));
        assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
        assert_int_equal(future_state(f[i]), FUTURE_DONE);
        future_unref(f[i]);
    }
    assert_int_equal(tpool_threads(p), 1);
    pool_close(e, p);

    assert_non_null(p = tpool_new(&e->sched, 100));
    for (int i = 0; i < 5; i++)                 /* at once: at most one thread each */
        assert_non_null(f[i] = tpool_run(p, nop_job, NULL));
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(future_state(f[i]), FUTURE_DONE);
        future_unref(f[i]);
    }
    assert_in_range(tpool_threads(p), 1, 5);
    pool_close(e, p);
}

/* ---- the cap and the order ------------------------------------------------------------------- */

struct capped {
    atomic_long running, most, started, finished;
    atomic_int out_of_order;
    long order[10];             /* job index by start */
};

struct capped_job {
    struct capped *c;
    long index;
    long max;
};

static int capped_job(void *arg)
{
    struct capped_job *j = arg;
    struct capped *c = j->c;
    long now = atomic_fetch_add(&c->running, 1) + 1;
    long most = atomic_load(&c->most);

    while (now > most && !atomic_compare_exchange_weak(&c->most, &most, now))
        ;
    /* FIFO and the cap: when job i starts, jobs 0..i-1 have started and at most max-1 of them
     * still run, so at least i-(max-1) have finished. */
    if (atomic_load(&c->finished) < j->index - (j->max - 1))
        atomic_store(&c->out_of_order, 1);
    c->order[atomic_fetch_add(&c->started, 1)] = j->index;
    usleep(20000);              /* long enough that an uncapped pool would run them together */
    atomic_fetch_sub(&c->running, 1);
    atomic_fetch_add(&c->finished, 1);
    return 0;
}

static void run_capped(struct env *e, long max, struct capped *c)
{
    struct capped_job jobs[10];
    tpool_t *p = tpool_new(&e->sched, max);
    future_t *f[10];

    assert_non_null(p);
    for (long i = 0; i < 10; i++) {
        jobs[i] = (struct capped_job){ c, i, max };
        assert_non_null(f[i] = tpool_run(p, capped_job, &jobs[i]));
    }
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(future_state(f[i]), FUTURE_DONE);
        assert_ptr_equal(future_result(f[i]), &jobs[i]);
        future_unref(f[i]);
    }
    assert_int_equal(atomic_load(&c->finished), 10);
    assert_true(atomic_load(&c->most) <= max);
    assert_int_equal(tpool_threads(p), max);
    assert_int_equal(tpool_max_running(p), atomic_load(&c->most));
    assert_int_equal(atomic_load(&c->out_of_order), 0);
    pool_close(e, p);
}

/* 10 blocking jobs on at most 3 threads: never more than 3 at once, started in FIFO order. */
static void test_at_most_max_threads_run_jobs_in_fifo_order(void **state)
{
    struct capped c = { 0 };

    run_capped(*state, 3, &c);
}

/* With one thread the start order is exactly the queue's. */
static void test_one_thread_runs_jobs_in_queue_order(void **state)
{
    struct capped c = { 0 };

    run_capped(*state, 1, &c);
    for (long i = 0; i < 10; i++)
        assert_int_equal(c.order[i], i);
}

/* ---- failures and cancels -------------------------------------------------------------------- */

struct blocker {
    atomic_int started, release, ran;
};

static int blocking_job(void *arg)
{
    struct blocker *b = arg;

    atomic_store(&b->started, 1);
    wait_flag(&b->release);
    atomic_fetch_add(&b->ran, 1);
    return 0;
}

static int marking_job(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    return 0;
}

static int failing_job(void *arg)
{
    (void)arg;
    return -EDOM;
}

/* fn's negative return fails the future; a queued job cancelled never runs; a running one refuses. */
static void test_failures_and_cancels_reach_the_futures(void **state)
{
    struct env *e = *state;
    struct blocker b = { 0 };
    atomic_int ran_b = 0, ran_c = 0;
    tpool_t *p = tpool_new(&e->sched, 1);
    future_t *fail, *a, *fb, *fc;

    assert_non_null(p);
    assert_non_null(fail = tpool_run(p, failing_job, NULL));
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(future_state(fail), FUTURE_FAILED);
    assert_int_equal(future_error(fail), -EDOM);

    assert_non_null(a = tpool_run(p, blocking_job, &b));
    assert_non_null(fb = tpool_run(p, marking_job, &ran_b));
    assert_non_null(fc = tpool_run(p, marking_job, &ran_c));
    assert_true(wait_flag(&b.started));         /* the one thread runs a; b and c are queued */
    assert_int_equal(future_cancel(a), -EBUSY);
    assert_int_equal(future_cancel(fb), 0);
    assert_int_equal(future_state(fb), FUTURE_CANCELLED);
    atomic_store(&b.release, 1);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(future_state(a), FUTURE_DONE);
    assert_int_equal(future_state(fb), FUTURE_CANCELLED);
    assert_int_equal(future_state(fc), FUTURE_DONE);
    assert_int_equal(atomic_load(&ran_b), 0);
    assert_int_equal(atomic_load(&ran_c), 1);
    assert_int_equal(future_cancel(fc), -EALREADY);
    future_unref(fail);
    future_unref(a);
    future_unref(fb);
    future_unref(fc);
    pool_close(e, p);
}

/* ---- pthread_create failing ------------------------------------------------------------------ */

static int nap_job(void *arg)
{
    (void)arg;
    usleep(50000);
    return 0;
}

static long vm_size_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (!fp)
        return -1;
    while (fgets(line, sizeof(line), fp))
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
            break;
    fclose(fp);
    return kb;
}

/* In a forked child (its address space limited for good): 0, or which check failed. */
static int start_failure_child(void)
{
    long kb = vm_size_kb(), threads;
    struct rlimit rl;
    uv_loop_t loop;
    sched_t s;
    tpool_t *p;
    future_t *f[100];
    int done = 0, err;

    alarm(60);                  /* the parent's alarm is not inherited: a lost job fails, not hangs */
    if (kb < 0)
        return 10;
    /* Room for a few 8 MiB stacks (more if glibc kept stacks of earlier tests in its cache). */
    rl.rlim_cur = rl.rlim_max = (rlim_t)(kb + 64 * 1024) * 1024;
    if (setrlimit(RLIMIT_AS, &rl) != 0 || uv_loop_init(&loop) != 0 || sched_init(&s, &loop) != 0)
        return 11;
    if (!(p = tpool_new(&s, 1000)))
        return 12;
    for (int i = 0; i < 100; i++)
        if (!(f[i] = tpool_run(p, nap_job, NULL)))
            return 13;
    if (uv_run(&loop, UV_RUN_DEFAULT) != 0)
        return 14;
    for (int i = 0; i < 100; i++) {
        done += future_state(f[i]) == FUTURE_DONE;
        future_unref(f[i]);
    }
    threads = tpool_threads(p);
    err = tpool_start_error(p);
    if (tpool_max_running(p) > threads)         /* queued jobs did not count as running */
        return 17;
    fprintf(stderr, "child: %d of 100 jobs done on %ld threads, then pthread_create: %s\n", done,
            threads, strerror(err));
    tpool_close(p);
    sched_close(&s);
    if (uv_run(&loop, UV_RUN_DEFAULT) != 0 || uv_loop_close(&loop) != 0)
        return 15;
    if (done != 100)
        return 16;
    if (threads < 1 || threads >= 100)
        return 17;
    if (err != EAGAIN && err != ENOMEM)
        return 18;
    return 0;
}

/* When the address space runs out for thread stacks, the jobs wait for the threads there are. */
static void test_pthread_create_failure_loses_no_job(void **state)
{
    int status;
    pid_t pid;

    (void)state;
#ifdef TEST_ASAN
    /* ASan reserves terabytes of shadow memory: under RLIMIT_AS nothing would start at all. */
    skip();
#endif
    assert_true((pid = fork()) >= 0);
    if (pid == 0)
        _exit(start_failure_child());
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- close ----------------------------------------------------------------------------------- */

struct closer {
    pid_t main_tid;
    atomic_int closing;
    struct blocker *b;
};

/* 1 when thread tid of this process is blocked in futex(2) (pthread_join waits there). */
static int in_futex(pid_t tid)
{
    char path[64];
    long nr = -1;
    FILE *fp;

    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
    if (!(fp = fopen(path, "r")))
        return 0;
    if (fscanf(fp, "%ld", &nr) != 1)
        nr = -1;
    fclose(fp);
    return nr == SYS_futex;
}

/* Releases the running job only once the main thread waits in tpool_close's join: the pool has
 * taken its queue by then, so what was queued cannot have started. */
static void *release_when_joining(void *arg)
{
    struct closer *c = arg;
    struct timespec t0;

    wait_flag(&c->closing);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!in_futex(c->main_tid) && ms_since(&t0) < WAIT_MS)
        usleep(1000);
    atomic_store(&c->b->release, 1);
    return NULL;
}

/* tpool_close lets the running job finish (its future resolves) and cancels the queued ones. */
static void test_close_cancels_queued_jobs(void **state)
{
    struct env *e = *state;
    struct blocker b = { 0 };
    struct closer c = { (pid_t)syscall(SYS_gettid), 0, &b };
    atomic_int ran = 0;
    tpool_t *p = tpool_new(&e->sched, 1);
    future_t *a, *q[3];
    pthread_t helper;

    assert_non_null(p);
    assert_non_null(a = tpool_run(p, blocking_job, &b));
    for (int i = 0; i < 3; i++)
        assert_non_null(q[i] = tpool_run(p, marking_job, &ran));
    assert_true(wait_flag(&b.started));
    assert_int_equal(pthread_create(&helper, NULL, release_when_joining, &c), 0);
    atomic_store(&c.closing, 1);
    tpool_close(p);
    assert_int_equal(pthread_join(helper, NULL), 0);
    /* Settled before tpool_close returned. */
    assert_int_equal(future_state(a), FUTURE_DONE);
    assert_int_equal(atomic_load(&b.ran), 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(future_state(q[i]), FUTURE_CANCELLED);
        future_unref(q[i]);
    }
    assert_int_equal(atomic_load(&ran), 0);
    future_unref(a);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
}

/* A pool closed with nothing ever run starts no thread and closes cleanly. */
static void test_unused_pool_closes(void **state)
{
    struct env *e = *state;
    tpool_t *p = tpool_new(&e->sched, 4);

    assert_non_null(p);
    assert_null(tpool_new(&e->sched, 0));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(tpool_threads(p), 0);
    pool_close(e, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_300_jobs_run_on_300_threads_at_once, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_1100_jobs_run_on_1100_threads_at_once, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_threads_start_lazily, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_at_most_max_threads_run_jobs_in_fifo_order, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_one_thread_runs_jobs_in_queue_order, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_failures_and_cancels_reach_the_futures, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pthread_create_failure_loses_no_job, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_queued_jobs, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_unused_pool_closes, env_setup, env_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
