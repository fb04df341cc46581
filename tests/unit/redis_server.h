/* redis_server.h - a throwaway redis-server for the unit tests of the Redis layer (test_rjob.c,
 * test_redis_client.c): started on a free port of 127.0.0.1 without persistence, stopped (kill +
 * waitpid) by the test, and killed by the kernel if the test process dies first. Also a loop with
 * a scheduler that runs until a future settles, with a guard so nothing waits forever. Header-only:
 * each test includes it once. */
#ifndef TESTS_UNIT_REDIS_SERVER_H
#define TESTS_UNIT_REDIS_SERVER_H

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "net/async/future.h"
#include "net/async/sched.h"

#define REDIS_SERVER_BIN "redis-server"
#define REDIS_SERVER_READY_MS 5000
#define REDIS_SERVER_TRIES 5

typedef struct redis_server {
    pid_t pid;                  /* 0: not running */
    int port;
} redis_server_t;

/* A port of 127.0.0.1 nothing listens on right now (the kernel's pick for port 0), or -1. */
static int rs_free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* A blocking connection to 127.0.0.1:port (1 s timeout), or NULL. */
static redisContext *rs_connect(int port)
{
    struct timeval tv = { 1, 0 };
    redisContext *rc = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (rc && (rc->err || redisSetTimeout(rc, tv) != REDIS_OK)) {
        redisFree(rc);
        rc = NULL;
    }
    return rc;
}

/* 1 when a redis-server on port answers PING. */
static int rs_pings(int port)
{
    redisContext *rc = rs_connect(port);
    redisReply *r = rc ? redisCommand(rc, "PING") : NULL;
    int ok = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");

    if (r)
        freeReplyObject(r);
    if (rc)
        redisFree(rc);
    return ok;
}

/* Kills the server (SIGKILL: like a crash, and nothing to save) and reaps it. */
static void rs_stop(redis_server_t *s)
{
    int status;

    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    s->pid = 0;
}

/* Starts redis-server on `port` and waits until it answers PING. 0, or -1 (nothing left
 * running). */
static int rs_start_on(redis_server_t *s, int port)
{
    char ports[16];
    char *argv[] = { REDIS_SERVER_BIN, "--port", ports, "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", "/tmp", "--loglevel", "warning", NULL };
    pid_t parent = getpid();
    int status;

    snprintf(ports, sizeof(ports), "%d", port);
    s->port = port;
    s->pid = fork();
    if (s->pid < 0) {
        s->pid = 0;
        return -1;
    }
    if (s->pid == 0) {
        int null = open("/dev/null", O_RDWR);

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || null < 0 ||
            dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    for (int waited = 0; waited < REDIS_SERVER_READY_MS; waited += 20) {
        if (rs_pings(port))
            return 0;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;             /* exited: the port was taken, or no redis-server */
            return -1;
        }
        usleep(20000);
    }
    rs_stop(s);
    return -1;
}

/* Starts redis-server on a free port, trying another one if it cannot listen there. */
static int rs_start(redis_server_t *s)
{
    for (int i = 0; i < REDIS_SERVER_TRIES; i++) {
        int port = rs_free_port();

        if (port > 0 && rs_start_on(s, port) == 0)
            return 0;
    }
    fprintf(stderr, "cannot start %s on 127.0.0.1 (is it installed?)\n", REDIS_SERVER_BIN);
    return -1;
}

/* ---- a loop to run until something settles --------------------------------------------------- */

/* For the tests (cmocka.h comes before this header): a blocking command's reply, the test failing
 * on no reply or an error reply. */
static redisReply *rs_vreply(redisContext *rc, const char *fmt, va_list ap)
{
    redisReply *r = redisvCommand(rc, fmt, ap);

    if (!r)
        fail_msg("redis: %s", rc->errstr);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("redis: %s", r->str);
    return r;
}

/* An integer reply, a string reply read as one (nil: -1), or an array's length. */
static long long rs_vnum(redisContext *rc, const char *fmt, va_list ap)
{
    redisReply *r = rs_vreply(rc, fmt, ap);
    long long v = 0;

    if (r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r->type == REDIS_REPLY_STRING)
        v = strtoll(r->str, NULL, 10);
    else if (r->type == REDIS_REPLY_NIL)
        v = -1;
    else if (r->type == REDIS_REPLY_ARRAY)
        v = (long long)r->elements;
    else
        fail_msg("redis: unexpected reply type %d", r->type);
    freeReplyObject(r);
    return v;
}

/* The one server of a test binary, started by the group setup and stopped by its teardown; a
 * hung wait fails the run (SIGALRM) instead of hanging it. */
static redis_server_t server;

/* SIGALRM: says where the run hung (the stack, for addr2line -f -e BINARY ADDR), then dies of
 * the signal as before. Only async-signal-safe calls, but backtrace's first call may allocate:
 * rs_group_setup makes that call early. */
static void rs_on_alarm(int sig)
{
    static const char msg[] = "redis unit test: hung for 120 s; the stack:\n";
    void *frames[64];
    int n = backtrace(frames, 64);

    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int rs_group_setup(void **state)
{
    void *frame;

    (void)state;
    (void)backtrace(&frame, 1);     /* loads libgcc now, not in the signal handler */
    if (signal(SIGALRM, rs_on_alarm) == SIG_ERR)
        return -1;
    alarm(120);
    return rs_start(&server);
}

static int rs_group_teardown(void **state)
{
    (void)state;
    rs_stop(&server);
    return 0;
}

typedef struct rs_loop {
    uv_loop_t loop;
    sched_t sched;
    uv_timer_t guard;           /* ends a wait that took too long */
    int expired;
} rs_loop_t;

static int rs_loop_init(rs_loop_t *l)
{
    memset(l, 0, sizeof(*l));
    if (uv_loop_init(&l->loop) != 0)
        return -1;
    if (sched_init(&l->sched, &l->loop) != 0 || uv_timer_init(&l->loop, &l->guard) != 0)
        return -1;
    l->guard.data = l;
    return 0;
}

static void rs_on_guard(uv_timer_t *t)
{
    ((rs_loop_t *)t->data)->expired = 1;
}

/* Runs the loop until f settles or ms pass; 1 if f settled. */
static int rs_run_until(rs_loop_t *l, future_t *f, uint64_t ms)
{
    l->expired = 0;
    if (uv_timer_start(&l->guard, rs_on_guard, ms, 0) != 0)
        return 0;
    while (!(f && future_is_done(f)) && !l->expired)
        uv_run(&l->loop, UV_RUN_ONCE);
    uv_timer_stop(&l->guard);
    return f && future_is_done(f);
}

/* Runs the loop for ms (timers, reconnects and replies go on meanwhile). */
static void rs_run_for(rs_loop_t *l, uint64_t ms)
{
    (void)rs_run_until(l, NULL, ms);
}

/* Closes the loop's own handles and runs it until nothing is left; uv_loop_close's result (0: no
 * handle was left open). */
static int rs_loop_close(rs_loop_t *l)
{
    uv_close((uv_handle_t *)&l->guard, NULL);
    sched_close(&l->sched);
    if (uv_run(&l->loop, UV_RUN_DEFAULT) != 0)
        return -1;
    return uv_loop_close(&l->loop);
}

#endif
