/* bench child: one `gather get` run as a child process of bench: its argv, its stdout's summary
 * line, its CPU time and peak RSS from wait4(), and the most threads it had, sampled from /proc
 * while it runs. */
#include "crawler/bench/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#define BENCH_SUMMARY_MAX 4096      /* the child's summary line; longer lines are skipped */
#define BENCH_ERR_LINES 5           /* lines of a child's stderr shown per run */
#define BENCH_EXE "/proc/self/exe"
#define BENCH_SAMPLE_MS 5           /* how often the child's thread count is read */

/* ---- argv of a child ----------------------------------------------------------------------- */

void bench_argv_add(bench_argv_t *a, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    if (a->n >= (int)(sizeof(a->v) / sizeof(a->v[0])) - 1) {
        a->overflow = 1;
        return;
    }
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s) {
        a->overflow = 1;
        return;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

void bench_argv_free(bench_argv_t *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

void bench_argv_common(bench_argv_t *a, const crawl_options_t *o, long c)
{
    bench_argv_add(a, "-c");
    bench_argv_add(a, "%ld", c);
    if (o->per_host > 0) {
        bench_argv_add(a, "--per-host");
        bench_argv_add(a, "%ld", o->per_host);
    }
    if (o->http.timeout_ms > 0) {
        bench_argv_add(a, "--timeout");
        bench_argv_add(a, "%.3f", (double)o->http.timeout_ms / 1000);
    }
    bench_argv_add(a, "--connect-timeout");
    bench_argv_add(a, "%.3f", (double)o->http.connect_timeout_ms / 1000);
    bench_argv_add(a, "--read-timeout");
    bench_argv_add(a, "%.3f", (double)o->http.read_timeout_ms / 1000);
    bench_argv_add(a, "--max-redirs");
    bench_argv_add(a, "%ld", o->http.max_redirs);
    bench_argv_add(a, "--user-agent");
    bench_argv_add(a, "%s", o->http.user_agent);
    for (const struct curl_slist *h = o->headers; h; h = h->next) {
        bench_argv_add(a, "--header");
        bench_argv_add(a, "%s", h->data);
    }
    for (const struct curl_slist *h = o->proxy_headers; h; h = h->next) {   /* Proxy-Authorization */
        bench_argv_add(a, "--header");
        bench_argv_add(a, "%s", h->data);
    }
    if (o->http.low_speed_limit > 0) {
        bench_argv_add(a, "--min-speed");
        bench_argv_add(a, "%ld", o->http.low_speed_limit);
        bench_argv_add(a, "--min-speed-time");
        bench_argv_add(a, "%ld", o->http.low_speed_time);
    }
    if (o->http.insecure)
        bench_argv_add(a, "--insecure");
    {
        /* TLS and proxy settings (a CA from the environment too: the child would read it alike) */
        const struct { const char *opt, *value; } pass[] = {
            { "--cacert", o->http.ca_file }, { "--capath", o->http.ca_path },
            { "--cert", o->http.client_cert }, { "--key", o->http.client_key },
            { "--proxy", o->http.proxy }, { "--noproxy", o->http.noproxy },
        };
        for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
            if (pass[i].value) {
                bench_argv_add(a, "%s", pass[i].opt);
                bench_argv_add(a, "%s", pass[i].value);
            }
        }
    }
    /* A retry's random backoff would blur the timings, and sync mode would not retry alike. */
    bench_argv_add(a, "--retries");
    bench_argv_add(a, "0");
}

/* ---- one child ----------------------------------------------------------------------------- */

static double child_now(void)
{
    return (double)uv_hrtime() / 1e9;
}

/* The threads of process pid now (field 20 of /proc/PID/stat), or 0 when it cannot be read. */
static long child_threads(pid_t pid)
{
    char path[64], buf[1024];
    const char *p;
    ssize_t n;
    int fd, field;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (!(p = strrchr(buf, ')')))           /* the command name may hold spaces and parentheses */
        return 0;
    for (field = 2; *p && field < 20; p++)
        if (*p == ' ')
            field++;
    return field == 20 ? strtol(p, NULL, 10) : 0;
}

/* The summary's optional fields: latency percentiles, the concurrency in force and why it fell
 * short of -c. */
static void child_summary_extra(json_t *sum, bench_run_t *run)
{
    json_t *lat = json_object_get(sum, "latency_ms");
    const char *limit = json_string_value(json_object_get(sum, "limit"));

    run->p50_ms = json_number_value(json_object_get(lat, "p50"));
    run->p95_ms = json_number_value(json_object_get(lat, "p95"));
    run->p99_ms = json_number_value(json_object_get(lat, "p99"));
    run->concurrency = (long)json_integer_value(json_object_get(sum, "concurrency"));
    snprintf(run->limit, sizeof(run->limit), "%s", limit ? limit : "");
}

/* Keeps the last stdout line that is a summary object. */
struct child_lines {
    char line[BENCH_SUMMARY_MAX];
    size_t len;
    int too_long;
    char summary[BENCH_SUMMARY_MAX];
};

static void child_lines_feed(struct child_lines *l, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            if (l->len + 1 < sizeof(l->line))
                l->line[l->len++] = buf[i];
            else
                l->too_long = 1;
            continue;
        }
        l->line[l->len] = '\0';
        if (!l->too_long && !strncmp(l->line, "{\"summary\":", 11))
            memcpy(l->summary, l->line, l->len + 1);
        l->len = 0;
        l->too_long = 0;
    }
}

/* The path of this program, for the children: what /proc/self/exe names (under valgrind, which
 * answers for its client, the real gather rather than valgrind's tool, which refuses to run as
 * gather), or /proc/self/exe itself when that name is gone (a rebuilt binary). */
static void child_exe(char *buf, size_t size)
{
    ssize_t n = readlink(BENCH_EXE, buf, size - 1);

    if (n > 0 && (size_t)n < size - 1) {
        buf[n] = '\0';
        if (access(buf, X_OK) == 0)
            return;
    }
    snprintf(buf, size, "%s", BENCH_EXE);
}

int bench_spawn(char **argv, const char *errpath, bench_run_t *run, volatile pid_t *child)
{
    char exe[PATH_MAX];
    struct child_lines *lines = calloc(1, sizeof(*lines));
    struct rusage ru;
    int pipefd[2] = { -1, -1 };
    int status = 0;
    char buf[65536];
    double t0;
    pid_t pid;
    json_t *sum;

    if (!lines)
        return -ENOMEM;
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        free(lines);
        return -errno;
    }
    child_exe(exe, sizeof(exe));
    fflush(NULL);
    t0 = child_now();
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        free(lines);
        return -e;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls between fork and exec. */
        int errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        if (errfd < 0 || nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(pipefd[1], 1) < 0 ||
            dup2(errfd, 2) < 0)
            _exit(127);
        execv(exe, argv);
        _exit(127);
    }
    *child = pid;
    close(pipefd[1]);
    run->threads = 0;
    for (;;) {
        struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
        long threads = child_threads(pid);
        ssize_t n;
        int ready;

        if (threads > run->threads)
            run->threads = threads;
        ready = poll(&pfd, 1, BENCH_SAMPLE_MS);
        if (ready == 0 || (ready < 0 && errno == EINTR))
            continue;
        n = read(pipefd[0], buf, sizeof(buf));
        if (n > 0)
            child_lines_feed(lines, buf, (size_t)n);
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            break;
    }
    close(pipefd[0]);
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            memset(&ru, 0, sizeof(ru));
            status = 127 << 8;
            break;
        }
    }
    *child = 0;
    run->elapsed = child_now() - t0;
    run->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    run->rss_mib = (double)ru.ru_maxrss / 1024.0;       /* Linux: KiB */
    run->switches = (double)ru.ru_nvcsw + (double)ru.ru_nivcsw;
    sum = lines->summary[0] ? json_loads(lines->summary, 0, NULL) : NULL;
    if (sum) {
        json_int_t ok = 0, failed = 0, bytes = 0, inflight = 0;
        double secs = 0;
        if (json_unpack(sum, "{s:{s:I, s:I, s:I, s:F, s:I}}", "summary", "ok", &ok, "failed",
                        &failed, "bytes", &bytes, "seconds", &secs, "max_inflight", &inflight) == 0) {
            run->has_summary = 1;
            run->ok = (uint64_t)ok;
            run->failed = (uint64_t)failed;
            run->bytes = (uint64_t)bytes;
            run->seconds = secs;
            run->max_inflight = (long)inflight;
            child_summary_extra(json_object_get(sum, "summary"), run);
        }
        json_decref(sum);
    }
    free(lines);
    return 0;
}

void bench_show_stderr(const char *errpath, const char *what)
{
    FILE *f = fopen(errpath, "re");
    char *line = NULL;
    size_t cap = 0;
    unsigned long shown = 0, more = 0;

    if (!f)
        return;
    while (getline(&line, &cap, f) > 0) {
        if (!strncmp(line, "gather: ", 8) && strstr(line, " ok, ") && strstr(line, " mode)"))
            continue;
        if (!strncmp(line, "gather: warning: --insecure", 27))
            continue;
        if (shown++ < BENCH_ERR_LINES)
            fprintf(stderr, "  %s: %s", what, line);
        else
            more++;
    }
    if (more)
        fprintf(stderr, "  %s: ... and %lu more lines\n", what, more);
    free(line);
    fclose(f);
}

const char *bench_run_problem(const bench_run_t *run, char *buf, size_t n)
{
    if (run->status == 127)
        snprintf(buf, n, "could not start %s", BENCH_EXE);
    else if (run->status > 128)
        snprintf(buf, n, "killed by signal %d", run->status - 128);
    else if (run->status > 1)
        snprintf(buf, n, "exited with status %d", run->status);
    else if (!run->has_summary)
        snprintf(buf, n, "printed no summary");
    else
        return NULL;
    return buf;
}

