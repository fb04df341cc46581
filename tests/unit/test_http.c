/* test_http.c - net/http/http.c against the fixture server: bodies, statuses, redirects, Range,
 * caps, cancellation, refused connections and connection reuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/fdhog.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "net/async/sched.h"
#include "net/http/http.h"

/* A hung transfer fails the test instead of hanging the run. */
#define WATCHDOG_S 60
#define WAIT_MS 20000

/* ---- the fixture server ------------------------------------------------------------------ */

static struct {
    char path[512];             /* $BUILD/fixture-server */
    char dir[64];               /* holds the port file */
    char port_file[96];
    pid_t pid;
    int port;
} server;

/* Starts argv[0] with stdout on out_fd (or /dev/null when out_fd < 0). The child gets SIGTERM if
 * this process dies first, so a crashed or killed test leaves no server behind. */
static pid_t spawn(char *const argv[], int out_fd)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
        _exit(126);
    if (out_fd < 0)
        out_fd = open("/dev/null", O_WRONLY);
    if (out_fd < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
        _exit(126);
    execv(argv[0], argv);
    _exit(127);
}

static int server_start(void **state)
{
    const char *build = getenv("BUILD");
    char *argv[] = { server.path, "--host", "127.0.0.1", "--port", "0", "--port-file",
                     server.port_file, "--quiet", NULL };

    (void)state;
    snprintf(server.path, sizeof(server.path), "%s/fixture-server", build && *build ? build : "build");
    if (access(server.path, X_OK) != 0) {
        fprintf(stderr, "test_http: %s: %s (build it with `make %s`)\n", server.path,
                strerror(errno), server.path);
        return -1;
    }
    snprintf(server.dir, sizeof(server.dir), "/tmp/test_http.XXXXXX");
    if (!mkdtemp(server.dir)) {
        perror("test_http: mkdtemp");
        return -1;
    }
    snprintf(server.port_file, sizeof(server.port_file), "%s/port", server.dir);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    server.pid = spawn(argv, -1);
    if (server.pid < 0) {
        perror("test_http: fork");
        return -1;
    }
    /* The server writes the file atomically once it listens: poll for it, 10 s at most. */
    for (int i = 0; i < 400 && server.port <= 0; i++) {
        FILE *f = fopen(server.port_file, "r");
        int status;

        if (f) {
            if (fscanf(f, "%d", &server.port) != 1)
                server.port = 0;
            fclose(f);
        }
        if (server.port <= 0) {
            if (waitpid(server.pid, &status, WNOHANG) == server.pid) {
                fprintf(stderr, "test_http: %s exited (status %d) before listening\n", server.path, status);
                server.pid = 0;
                return -1;
            }
            usleep(25000);
        }
    }
    if (server.port <= 0 || server.port > 65535) {
        fprintf(stderr, "test_http: %s did not write its port to %s\n", server.path, server.port_file);
        return -1;
    }
    return 0;
}

static int server_stop(void **state)
{
    int status = 0;

    (void)state;
    if (server.pid > 0) {
        kill(server.pid, SIGTERM);
        /* It stops cleanly on SIGTERM; give it 10 s before SIGKILL. */
        for (int i = 0; i < 400 && waitpid(server.pid, &status, WNOHANG) == 0; i++)
            usleep(25000);
        if (waitpid(server.pid, &status, WNOHANG) == 0) {
            kill(server.pid, SIGKILL);
            waitpid(server.pid, &status, 0);
        }
        server.pid = 0;
    }
    unlink(server.port_file);
    rmdir(server.dir);
    curl_global_cleanup();
    return 0;
}

static void url_of(char *buf, size_t n, const char *target)
{
    snprintf(buf, n, "http://127.0.0.1:%d%s", server.port, target);
}

/* What `fixture-server --emit target` prints: the exact body a GET of target is served with.
 * malloc'd; *len set. */
static char *emitted(const char *target, size_t *len)
{
    char *argv[] = { server.path, "--emit", (char *)target, NULL };
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    int fds[2], status = 0;
    pid_t pid;
    ssize_t n;

    assert_non_null(buf);
    assert_int_equal(pipe(fds), 0);
    pid = spawn(argv, fds[1]);
    assert_true(pid > 0);
    close(fds[1]);
    *len = 0;
    while ((n = read(fds[0], buf + *len, cap - *len)) > 0) {
        *len += (size_t)n;
        if (*len == cap) {
            assert_true(cap < (size_t)256 << 20);
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("fixture-server --emit %s failed (status %d)", target, status);
    return buf;
}

/* ---- a loop, a scheduler and a client per test ---------------------------------------------------- */

/* A sink that keeps the body in memory, counts its calls and can be told to refuse or pause. */
struct memsink {
    http_sink_t sink;
    char *data;
    size_t len, cap;
    int calls;
    int fail_with;              /* a negative errno to return once len reaches fail_after */
    size_t fail_after;
    int pauses;                 /* HTTP_SINK_PAUSE this many times before taking bytes */
    int resume_error;           /* returned instead of taking the bytes offered after a pause */
    int paused;
};

static int memsink_write(http_sink_t *sink, const char *data, size_t len)
{
    struct memsink *m = (struct memsink *)sink;

    m->calls++;
    if (m->fail_with && m->len + len > m->fail_after)
        return m->fail_with;
    if (m->resume_error && m->paused)
        return m->resume_error;
    if (m->pauses > 0) {
        m->pauses--;
        m->paused = 1;
        return HTTP_SINK_PAUSE;
    }
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->len + len)
            cap *= 2;
        m->data = realloc(m->data, cap);
        assert_non_null(m->data);
        m->cap = cap;
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
    return HTTP_SINK_OK;
}

struct env {
    uv_loop_t loop;
    sched_t sched;
    http_opts_t opts;
    http_client_t *client;
    int done;                   /* futures settled, counted by on_done */
    uv_timer_t timer;           /* for tests that act later; closed in teardown */
};

static void on_done(future_t *f, void *arg)
{
    (void)f;
    ((struct env *)arg)->done++;
}

/* With workers a cancel cannot stop the transfer in place: the hook refuses (-EBUSY), the worker
 * aborts it, and the future settles as cancelled a moment later. */
static int cancel_deferred;

/* A loop, a scheduler and a client with `workers` transfer threads (0: the loop runs them). */
static void env_make(void **state, int workers, long max_connections)
{
    struct env *e = calloc(1, sizeof(*e));
    int result;

    assert_non_null(e);
    alarm(WATCHDOG_S);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(sched_init(&e->sched, &e->loop), 0);
    e->opts.connect_timeout_ms = 5000;
    e->opts.timeout_ms = 15000;
    e->opts.max_redirs = 10;
    e->opts.max_connections = max_connections;
    e->opts.user_agent = "test_http";
    e->opts.workers = workers;
    cancel_deferred = workers > 1;
    e->client = http_client_new(&e->sched, &e->opts, &result);
    assert_non_null(e->client);
    assert_int_equal(result, 0);
    assert_int_equal(http_client_workers(e->client, NULL, 0), workers > 1 ? (size_t)workers : 1);
    assert_int_equal(uv_timer_init(&e->loop, &e->timer), 0);
    *state = e;
}

static int env_setup(void **state)
{
    env_make(state, 0, 4);
    return 0;
}

/* The same client with its transfers on three worker threads (net/http/workers.h): what a
 * caller sees must not change. */
static int env_setup_workers(void **state)
{
    env_make(state, 3, 6);
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;

    assert_int_equal(http_client_active(e->client), 0);
    http_client_close(e->client);
    uv_close((uv_handle_t *)&e->timer, NULL);
    sched_close(&e->sched);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&e->loop), 0);   /* no handle left open */
    free(e);
    alarm(0);
    return 0;
}

/* Runs the loop until `n` futures have settled in all, failing after WAIT_MS. */
static void run_until(struct env *e, int n)
{
    uint64_t start = uv_hrtime();

    while (e->done < n) {
        if (uv_hrtime() - start > (uint64_t)WAIT_MS * 1000000)
            fail_msg("only %d of %d transfers settled within %d ms", e->done, n, WAIT_MS);
        uv_run(&e->loop, UV_RUN_ONCE);
    }
}

/* Starts r on client c; the future is counted in e->done when it settles. */
static future_t *start(struct env *e, http_client_t *c, http_req_t *r)
{
    future_t *f = http_req_start(c, r);

    assert_non_null(f);
    assert_int_equal(future_on_done(f, on_done, e), 0);
    return f;
}

/* One transfer of target into m, run to its end; r is filled in. */
static void fetch(struct env *e, http_req_t *r, const char *target, struct memsink *m)
{
    char url[256];
    future_t *f;
    int before = e->done;

    url_of(url, sizeof(url), target);
    r->url = url;
    m->sink.write = memsink_write;
    r->sink = &m->sink;
    f = start(e, e->client, r);
    run_until(e, before + 1);
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_ptr_equal(future_result(f), r);
    r->url = NULL;                      /* url was borrowed until the future settled */
    future_unref(f);
}

/* The server's /stats as JSON (the caller json_decref's it). */
static json_t *stats(struct env *e)
{
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    json_error_t err;
    json_t *j;

    fetch(e, &r, "/stats", &m);
    assert_int_equal(r.status, 200);
    j = json_loadb(m.data, m.len, 0, &err);
    if (!j)
        fail_msg("/stats is not JSON: %s", err.text);
    free(m.data);
    http_req_cleanup(&r);
    return j;
}

static long long stat_int(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    if (!json_is_integer(v))
        fail_msg("/stats has no integer \"%s\"", key);
    return (long long)json_integer_value(v);
}

static long long path_hits(json_t *j, const char *path)
{
    json_t *v = json_object_get(json_object_get(j, "paths"), path);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static void assert_body(const struct memsink *m, const char *target, size_t skip)
{
    size_t len;
    char *want = emitted(target, &len);

    assert_true(len > skip);
    if (m->len != len - skip)
        fail_msg("%s: %zu body bytes, want %zu", target, m->len, len - skip);
    if (memcmp(m->data, want + skip, m->len) != 0)
        fail_msg("%s: the body differs from fixture-server --emit", target);
    free(want);
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_200_body_is_byte_exact(void **state)
{
    struct env *e = *state;
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    char want_url[256];
    char describe[128];

    fetch(e, &r, "/img/7.jpg?size=300000", &m);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_true(http_req_ok(&r));
    assert_string_equal(http_req_describe(&r, &e->opts, describe, sizeof(describe)), "ok");
    assert_int_equal(r.content_length, 300000);
    assert_int_equal(r.bytes, 300000);
    assert_int_equal(r.sink_error, 0);
    assert_string_equal(r.etag, "\"img-7-300000\"");
    assert_string_equal(r.last_modified, "Thu, 01 Jan 2026 00:00:00 GMT");
    assert_string_equal(r.content_type, "image/jpeg");
    assert_string_equal(r.http_version, "HTTP/1.1");
    assert_int_equal(r.redirects, 0);
    assert_null(r.redirect_url);
    url_of(want_url, sizeof(want_url), "/img/7.jpg?size=300000");
    assert_string_equal(r.effective_url, want_url);
    assert_string_equal(r.primary_ip, "127.0.0.1");
    assert_true(r.timing.total_us > 0);
    assert_true(r.timing.first_byte_us <= r.timing.total_us);
    assert_true(m.calls > 1);                          /* streamed in pieces, not one buffer */
    assert_body(&m, "/img/7.jpg?size=300000", 0);
    free(m.data);
    http_req_cleanup(&r);
    assert_null(r.effective_url);

    /* A second body on the same request struct: every output is reset. */
    memset(&m, 0, sizeof(m));
    fetch(e, &r, "/big/2", &m);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.content_length, 2 << 20);
    assert_string_equal(r.etag, "\"big-2\"");
    assert_string_equal(r.content_type, "application/octet-stream");
    assert_body(&m, "/big/2", 0);
    free(m.data);
    http_req_cleanup(&r);

    /* ... including headers this answer does not have */
    memset(&m, 0, sizeof(m));
    fetch(e, &r, "/status/200", &m);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.etag, "");
    assert_string_equal(r.last_modified, "");
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    assert_int_equal(m.len, strlen("status 200\n"));
    assert_memory_equal(m.data, "status 200\n", m.len);
    free(m.data);
    http_req_cleanup(&r);
}

static void test_error_status_gives_no_body_to_the_sink(void **state)
{
    static const long codes[] = { 404, 403, 410, 500, 503 };
    struct env *e = *state;
    char describe[128], want[32];

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        http_req_t r = { 0 };
        struct memsink m = { 0 };
        char target[32];

        snprintf(target, sizeof(target), "/status/%ld", codes[i]);
        fetch(e, &r, target, &m);
        assert_int_equal(r.code, CURLE_OK);
        assert_int_equal(r.status, codes[i]);
        assert_false(http_req_ok(&r));
        assert_int_equal(m.calls, 0);                  /* "status 404" is read, not delivered */
        assert_int_equal(r.bytes, strlen("status 404\n"));
        snprintf(want, sizeof(want), "HTTP %ld", codes[i]);
        assert_string_equal(http_req_describe(&r, &e->opts, describe, sizeof(describe)), want);
        http_req_cleanup(&r);
    }
    {
        /* an unknown path */
        http_req_t r = { 0 };
        struct memsink m = { 0 };

        fetch(e, &r, "/no/such/route", &m);
        assert_int_equal(r.status, 404);
        assert_int_equal(m.calls, 0);
        http_req_cleanup(&r);
    }
}

static void test_redirects_followed_up_to_a_limit(void **state)
{
    struct env *e = *state;
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    char want_url[256];
    json_t *j;

    /* 3 -> 2 -> 1 -> 0 -> /img/5.jpg: four hops within the client's 10 */
    fetch(e, &r, "/redirect/3/5", &m);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.redirects, 4);
    url_of(want_url, sizeof(want_url), "/img/5.jpg");
    assert_string_equal(r.effective_url, want_url);
    assert_string_equal(r.content_type, "image/jpeg");  /* the final answer's headers */
    assert_body(&m, "/img/5.jpg", 0);
    free(m.data);
    http_req_cleanup(&r);

    /* The request's own limit: 2 hops allowed, 4 needed. */
    memset(&m, 0, sizeof(m));
    r.follow = 2;
    fetch(e, &r, "/redirect/3/6", &m);
    assert_int_equal(r.code, CURLE_TOO_MANY_REDIRECTS);
    assert_int_equal(r.redirects, 2);
    assert_int_equal(m.calls, 0);
    http_req_cleanup(&r);

    /* Not following: the 302 itself, and where it points. */
    r.follow = -1;
    fetch(e, &r, "/redirect/3/7", &m);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 302);
    assert_int_equal(r.redirects, 0);
    assert_int_equal(m.calls, 0);
    assert_non_null(r.redirect_url);
    url_of(want_url, sizeof(want_url), "/redirect/2/7");
    assert_string_equal(r.redirect_url, want_url);
    http_req_cleanup(&r);

    /* A loop stops after the limit: the server saw the first request and 5 follows. */
    r.follow = 5;
    fetch(e, &r, "/redirect-loop/8", &m);
    assert_int_equal(r.code, CURLE_TOO_MANY_REDIRECTS);
    assert_int_equal(m.calls, 0);
    http_req_cleanup(&r);
    j = stats(e);
    assert_int_equal(path_hits(j, "/redirect-loop/8"), 6);
    assert_int_equal(path_hits(j, "/redirect/3/6"), 1);
    assert_int_equal(path_hits(j, "/redirect/1/6"), 1);
    assert_int_equal(path_hits(j, "/redirect/0/6"), 0);   /* the third hop was not taken */
    assert_int_equal(path_hits(j, "/redirect/2/7"), 0);
    json_decref(j);
}

static void test_range(void **state)
{
    struct env *e = *state;
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    char describe[160];

    /* asked and answered at the right offset */
    r.range = "20000-";
    r.range_start = 20000;
    fetch(e, &r, "/img/9.jpg?size=50000", &m);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 206);
    assert_true(http_req_ok(&r));
    assert_string_equal(r.content_range, "bytes 20000-49999/50000");
    assert_int_equal(r.content_length, 30000);
    assert_body(&m, "/img/9.jpg?size=50000", 20000);
    free(m.data);
    http_req_cleanup(&r);

    /* a 206 at another offset than the one the caller expects: nothing reaches the sink */
    memset(&m, 0, sizeof(m));
    r.range = "20000-";
    r.range_start = 10000;
    fetch(e, &r, "/img/9.jpg?size=50000", &m);
    assert_int_equal(r.code, CURLE_WRITE_ERROR);
    assert_int_equal(r.sink_error, HTTP_EBADRANGE);
    assert_int_equal(m.calls, 0);
    assert_false(http_req_ok(&r));
    assert_non_null(strstr(http_req_describe(&r, &e->opts, describe, sizeof(describe)), "wrong offset"));
    http_req_cleanup(&r);

    /* a 206 nobody asked for */
    r.range = NULL;
    r.range_start = 0;
    fetch(e, &r, "/lie/206/3", &m);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.code, CURLE_WRITE_ERROR);
    assert_int_equal(r.sink_error, HTTP_EBADRANGE);
    assert_int_equal(m.calls, 0);
    assert_string_equal(http_req_describe(&r, &e->opts, describe, sizeof(describe)),
                        "206 Partial Content without a Range request");
    http_req_cleanup(&r);

    /* a server that ignores Range answers 200 with the whole body: delivered from byte 0 */
    r.range = "100-";
    r.range_start = 100;
    fetch(e, &r, "/range-ignored/4", &m);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_body(&m, "/range-ignored/4", 0);
    free(m.data);
    http_req_cleanup(&r);
}

static void test_size_caps_and_sink_errors(void **state)
{
    struct env *e = *state;
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    http_client_t *capped;
    http_opts_t opts = e->opts;
    char describe[128];
    char url[256];
    future_t *f;
    int result;

    /* max_bytes below the body: -EFBIG, and the sink never sees more than the cap */
    r.max_bytes = 50000;
    fetch(e, &r, "/img/1.jpg?size=100000", &m);
    assert_int_equal(r.code, CURLE_WRITE_ERROR);
    assert_int_equal(r.sink_error, -EFBIG);
    assert_true(m.len <= 50000);
    assert_false(http_req_ok(&r));
    assert_non_null(strstr(http_req_describe(&r, &e->opts, describe, sizeof(describe)), "size limit"));
    free(m.data);
    http_req_cleanup(&r);

    /* exactly the body's size is allowed */
    memset(&m, 0, sizeof(m));
    r.max_bytes = 100000;
    fetch(e, &r, "/img/1.jpg?size=100000", &m);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(m.len, 100000);
    free(m.data);
    http_req_cleanup(&r);

    /* the sink refuses: the transfer stops with the sink's errno */
    memset(&m, 0, sizeof(m));
    r.max_bytes = 0;
    m.fail_with = -ENOSPC;
    m.fail_after = 1000;
    fetch(e, &r, "/big/1", &m);
    assert_int_equal(r.code, CURLE_WRITE_ERROR);
    assert_int_equal(r.sink_error, -ENOSPC);
    assert_true(m.len <= 1000);
    assert_true(r.bytes < 1 << 20);
    free(m.data);
    http_req_cleanup(&r);

    /* the client's --max-filesize: curl refuses from the announced length */
    opts.max_filesize = 1000;
    capped = http_client_new(&e->sched, &opts, &result);
    assert_non_null(capped);
    memset(&m, 0, sizeof(m));
    m.sink.write = memsink_write;
    url_of(url, sizeof(url), "/img/2.jpg?size=20000");
    r.url = url;
    r.sink = &m.sink;
    f = start(e, capped, &r);
    run_until(e, e->done + 1);
    assert_int_equal(r.code, CURLE_FILESIZE_EXCEEDED);
    assert_int_equal(m.calls, 0);
    future_unref(f);
    http_req_cleanup(&r);
    http_client_close(capped);
}

/* A sink that pauses gets the same bytes again after http_req_resume. */
static void resume_later(uv_timer_t *t)
{
    http_req_t *r = t->data;

    http_req_resume(r);
}

static void test_pause_and_resume_keep_the_body_exact(void **state)
{
    struct env *e = *state;
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    char url[256];
    future_t *f;

    m.sink.write = memsink_write;
    m.pauses = 1;
    url_of(url, sizeof(url), "/img/11.jpg?size=200000");
    r.url = url;
    r.sink = &m.sink;
    e->timer.data = &r;
    f = start(e, e->client, &r);
    /* Turn the loop until the sink has paused the transfer, then resume it 50 ms later. */
    for (int i = 0; i < 100000 && m.pauses > 0 && e->done == 0; i++)
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_int_equal(m.pauses, 0);
    assert_int_equal(m.len, 0);
    assert_int_equal(e->done, 0);                      /* paused, not ended */
    assert_int_equal(uv_timer_start(&e->timer, resume_later, 50, 0), 0);
    run_until(e, 1);
    assert_int_equal(r.code, CURLE_OK);
    assert_body(&m, "/img/11.jpg?size=200000", 0);
    future_unref(f);
    free(m.data);
    http_req_cleanup(&r);
}

/* The bytes held over a pause are refused for good when offered again (a size cap, a full
 * disk): the transfer ends with the sink's error at once. (libcurl reports that error from
 * curl_easy_pause and leaves the transfer paused in its multi: it used to hang there.) */
static void test_a_sink_error_on_resume_ends_the_transfer(void **state)
{
    struct env *e = *state;
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    char url[256], describe[128];
    future_t *f;

    m.sink.write = memsink_write;
    m.pauses = 1;
    m.resume_error = -ENOSPC;
    url_of(url, sizeof(url), "/img/12.jpg?size=200000");
    r.url = url;
    r.sink = &m.sink;
    e->timer.data = &r;
    f = start(e, e->client, &r);
    for (int i = 0; i < 100000 && m.pauses > 0 && e->done == 0; i++)
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_int_equal(m.pauses, 0);
    assert_int_equal(uv_timer_start(&e->timer, resume_later, 10, 0), 0);
    run_until(e, 1);
    assert_int_equal(r.code, CURLE_WRITE_ERROR);
    assert_int_equal(r.sink_error, -ENOSPC);
    assert_int_equal(m.len, 0);
    assert_string_equal(http_req_describe(&r, &e->opts, describe, sizeof(describe)),
                        "write failed: No space left on device");
    assert_int_equal(http_client_active(e->client), 0);
    future_unref(f);
    http_req_cleanup(&r);
}

static void cancel_later(uv_timer_t *t)
{
    int rc = future_cancel(t->data);

    if (!(rc == 0 || (cancel_deferred && rc == -EBUSY)))
        fail_msg("future_cancel: %d", rc);
}

static void test_cancel_aborts_the_transfer(void **state)
{
    struct env *e = *state;
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    struct memsink m2 = { 0 };
    char url[256];
    future_t *f;
    uint64_t t0;

    /* /slow sends 256 bytes every 250 ms: 8 KiB takes 8 s */
    m.sink.write = memsink_write;
    url_of(url, sizeof(url), "/slow/2?size=8192");
    r.url = url;
    r.sink = &m.sink;
    t0 = uv_hrtime();
    f = start(e, e->client, &r);
    assert_int_equal(http_client_active(e->client), 1);
    e->timer.data = f;
    assert_int_equal(uv_timer_start(&e->timer, cancel_later, 600, 0), 0);
    run_until(e, 1);
    assert_int_equal(future_state(f), FUTURE_CANCELLED);
    assert_int_equal(future_error(f), -ECANCELED);
    assert_int_equal(r.code, CURLE_ABORTED_BY_CALLBACK);
    assert_int_equal(http_client_active(e->client), 0);
    assert_true(m.len > 0 && m.len < 8192);           /* it was under way, and stopped */
    assert_true(uv_hrtime() - t0 < 3000000000ULL);
    future_unref(f);
    free(m.data);
    http_req_cleanup(&r);

    /* The client goes on working. */
    fetch(e, &r, "/img/3.jpg?size=1000", &m2);
    assert_int_equal(r.code, CURLE_OK);
    assert_body(&m2, "/img/3.jpg?size=1000", 0);
    free(m2.data);
    http_req_cleanup(&r);
}

static void test_connection_refused(void **state)
{
    struct env *e = *state;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t salen = sizeof(sa);
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    char url[256], describe[128];
    future_t *f;
    /* A port bound but not listening refuses connections, and nobody else can take it meanwhile. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/img/1.jpg", ntohs(sa.sin_port));
    m.sink.write = memsink_write;
    r.url = url;
    r.sink = &m.sink;
    f = start(e, e->client, &r);
    run_until(e, 1);
    close(fd);
    assert_int_equal(future_state(f), FUTURE_DONE);   /* a failed transfer still resolves */
    assert_int_equal(r.code, CURLE_COULDNT_CONNECT);
    assert_int_equal(r.status, 0);
    assert_int_equal(m.calls, 0);
    assert_false(http_req_ok(&r));
    assert_string_equal(http_req_describe(&r, &e->opts, describe, sizeof(describe)), "connection refused");
    future_unref(f);
    http_req_cleanup(&r);
}

/* Waves of concurrent requests on one client: after the first wave every request goes over a
 * connection already open, which the server's connection gauges show. */
static void test_concurrent_requests_reuse_connections(void **state)
{
    enum { WAVES = 5, WIDTH = 4 };
    struct env *e = *state;
    http_req_t r[WIDTH];
    struct memsink m[WIDTH];
    char urls[WIDTH][256];
    future_t *f[WIDTH];
    json_t *j = NULL;

    /* Wait for connections of earlier tests to be gone: ours to /stats is then the only one. */
    for (int i = 0; i < 150; i++) {
        json_decref(j);
        j = stats(e);
        if (stat_int(j, "connections") == 1)
            break;
        usleep(20000);
    }
    assert_int_equal(stat_int(j, "connections"), 1);
    json_decref(j);
    {
        http_req_t reset = { 0 };
        struct memsink rm = { 0 };
        fetch(e, &reset, "/reset", &rm);                 /* counters to 0, maxima to the gauges */
        assert_int_equal(reset.status, 200);
        free(rm.data);
        http_req_cleanup(&reset);
    }
    for (int w = 0; w < WAVES; w++) {
        memset(r, 0, sizeof(r));
        memset(m, 0, sizeof(m));
        for (int i = 0; i < WIDTH; i++) {
            char target[64];

            snprintf(target, sizeof(target), "/img/%d.jpg?size=30000&delay=100", w * WIDTH + i);
            url_of(urls[i], sizeof(urls[i]), target);
            m[i].sink.write = memsink_write;
            r[i].url = urls[i];
            r[i].sink = &m[i].sink;
            f[i] = start(e, e->client, &r[i]);
        }
        assert_int_equal(http_client_active(e->client), WIDTH);
        run_until(e, e->done + WIDTH);
        for (int i = 0; i < WIDTH; i++) {
            assert_int_equal(r[i].code, CURLE_OK);
            assert_int_equal(r[i].status, 200);
            assert_int_equal(m[i].len, 30000);
            future_unref(f[i]);
            free(m[i].data);
            http_req_cleanup(&r[i]);
        }
    }
    j = stats(e);
    assert_int_equal(stat_int(j, "requests"), WAVES * WIDTH);
    assert_int_equal(stat_int(j, "max_inflight"), WIDTH);   /* they did run side by side */
    /* WIDTH connections served all WAVES * WIDTH requests and are still open. */
    assert_int_equal(stat_int(j, "max_connections"), WIDTH);
    assert_int_equal(stat_int(j, "connections"), WIDTH);
    json_decref(j);
}

/* ---- a full descriptor table --------------------------------------------------------------- */

/* No socket can be opened when the transfer starts: it waits for descriptors (HTTP_FD_WAIT_MS at
 * a time) instead of failing with "could not connect", and completes once some are free. */
static void test_a_full_descriptor_table_delays_the_transfer(void **state)
{
    struct env *e = *state;
    http_req_t r = { 0 };
    struct memsink m = { 0 };
    struct hog hog;
    char url[256];
    future_t *f;

    url_of(url, sizeof(url), "/img/4.jpg?size=30000");
    m.sink.write = memsink_write;
    r.url = url;
    r.sink = &m.sink;
    hog_fill(&hog);
    e->timer.data = &hog;
    assert_int_equal(uv_timer_start(&e->timer, hog_release_later, 350, 0), 0);
    f = start(e, e->client, &r);
    run_until(e, 1);
    assert_int_equal(hog.n, 0);                       /* it ended after the release */
    assert_int_equal(future_state(f), FUTURE_DONE);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_true(r.fd_waits >= 2);                     /* 350 ms of 100 ms waits */
    assert_body(&m, "/img/4.jpg?size=30000", 0);
    future_unref(f);
    free(m.data);
    http_req_cleanup(&r);
}

/* Origins are scheme://host:port with the host lowercased and the port explicit, so a start URL
 * and a request URL compare equal however they spell their origin; credentials go only to the
 * listed ones unless location_trusted, and to every URL when no list is given (get). */
static void test_credential_origins(void **state)
{
    const char *const origins[] = { "http://example.com:80", "https://[::1]:8443" };
    http_opts_t o = { .cred_origins = origins, .ncred_origins = 2 };
    char buf[HTTP_ORIGIN_MAX];

    (void)state;
    assert_int_equal(http_url_origin("HTTP://User:pw@Example.COM/a?b", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "http://example.com:80");
    assert_int_equal(http_url_origin("https://[::1]:8443/", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "https://[::1]:8443");
    assert_int_equal(http_url_origin("https://h/", buf, 8), -ENAMETOOLONG);
    assert_int_equal(http_url_origin("not a url", buf, sizeof(buf)), -EINVAL);

    assert_int_equal(http_creds_allowed(&o, "http://EXAMPLE.com:80/x"), 1);
    assert_int_equal(http_creds_allowed(&o, "http://example.com/deep/page.html"), 1);
    assert_int_equal(http_creds_allowed(&o, "https://example.com/"), 0);       /* scheme */
    assert_int_equal(http_creds_allowed(&o, "http://example.com:8080/"), 0);   /* port */
    assert_int_equal(http_creds_allowed(&o, "http://cdn.example.com/"), 0);    /* host */
    assert_int_equal(http_creds_allowed(&o, "http://example.com.evil/"), 0);
    assert_int_equal(http_creds_allowed(&o, "https://[::1]:8443/x"), 1);
    assert_int_equal(http_creds_allowed(&o, "garbage"), 0);
    o.location_trusted = 1;
    assert_int_equal(http_creds_allowed(&o, "http://cdn.example.com/"), 1);
    o.location_trusted = 0;
    o.cred_origins = NULL;
    assert_int_equal(http_creds_allowed(&o, "http://cdn.example.com/"), 1);
}

/* ---- a transfer started from the scheduler goes out before the loop polls ------------------- */

struct kick_probe {
    struct env *e;
    sched_node_t node;
    uv_prepare_t prepare;
    http_req_t r;
    struct memsink m;
    char url[256];
    future_t *f;
    int polls_before_poll;       /* -1 until the prepare phase after the start */
};

static void count_active_polls(uv_handle_t *h, void *arg)
{
    if (h->type == UV_POLL && uv_is_active(h))
        ++*(int *)arg;
}

static void kick_probe_start(sched_node_t *node)
{
    struct kick_probe *p = container_of(node, struct kick_probe, node);

    p->f = start(p->e, p->e->client, &p->r);
}

/* The prepare phase runs after the scheduler's passes and just before the loop polls. */
static void kick_probe_on_prepare(uv_prepare_t *h)
{
    struct kick_probe *p = h->data;
    int n = 0;

    if (!p->f)
        return;
    uv_walk(h->loop, count_active_polls, &n);
    p->polls_before_poll = n;
    uv_prepare_stop(h);
}

/* curl's "time out now" after curl_multi_add_handle runs in a later pass of the same loop turn:
 * a transfer a coroutine starts has its socket open and watched before the loop polls, instead
 * of waiting one poll for a zero timer. */
static void test_a_started_transfer_is_on_the_wire_before_the_loop_polls(void **state)
{
    struct env *e = *state;
    struct kick_probe p = { .e = e, .node.fn = kick_probe_start, .polls_before_poll = -1 };

    url_of(p.url, sizeof(p.url), "/img/1.jpg");
    p.r.url = p.url;
    p.m.sink.write = memsink_write;
    p.r.sink = &p.m.sink;
    assert_int_equal(uv_prepare_init(&e->loop, &p.prepare), 0);
    p.prepare.data = &p;
    assert_int_equal(uv_prepare_start(&p.prepare, kick_probe_on_prepare), 0);
    sched_post(&e->sched, &p.node);
    run_until(e, 1);
    assert_int_equal(p.polls_before_poll, 1);
    assert_int_equal(p.r.status, 200);
    uv_close((uv_handle_t *)&p.prepare, NULL);
    uv_run(&e->loop, UV_RUN_NOWAIT);
    future_unref(p.f);
    free(p.m.data);
    http_req_cleanup(&p.r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credential_origins),
        cmocka_unit_test_setup_teardown(test_200_body_is_byte_exact, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_started_transfer_is_on_the_wire_before_the_loop_polls, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_error_status_gives_no_body_to_the_sink, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_redirects_followed_up_to_a_limit, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_range, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_size_caps_and_sink_errors, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pause_and_resume_keep_the_body_exact, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_sink_error_on_resume_ends_the_transfer, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_aborts_the_transfer, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_requests_reuse_connections, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_full_descriptor_table_delays_the_transfer, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_200_body_is_byte_exact, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_error_status_gives_no_body_to_the_sink, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_redirects_followed_up_to_a_limit, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_range, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_size_caps_and_sink_errors, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_pause_and_resume_keep_the_body_exact, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_sink_error_on_resume_ends_the_transfer, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_aborts_the_transfer, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, env_setup_workers, env_teardown),
        cmocka_unit_test_setup_teardown(test_a_full_descriptor_table_delays_the_transfer, env_setup_workers, env_teardown),
    };

    return cmocka_run_group_tests(tests, server_start, server_stop);
}
