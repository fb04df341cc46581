/* crawl_bench: the same list once per mode (and --repeat times), each run a child `gather get`
 * whose CPU time and peak RSS come from wait4(); one table at the end. */
#include "crawler/bench/bench.h"

#include "crawler/job/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "crawler/report/chart.h"
#include "crawler/report/har.h"
#include "crawler/cli/options.h"
#include "crawler/get/source.h"
#include "parse/url.h"
#include "storage/seen.h"

#define BENCH_MODES_MAX 3
#define BENCH_SUMMARY_MAX 4096      /* the child's summary line; longer lines are skipped */
#define BENCH_ERR_LINES 5           /* lines of a child's stderr shown per run */
#define BENCH_EXE "/proc/self/exe"

struct bench_run {
    int mode;                       /* index into bench.modes */
    int rep;                        /* 0 .. repeat-1 */
    int status;                     /* exit status; 128 + signal when killed */
    int has_summary;
    uint64_t ok, failed, bytes, har_entries;
    long max_inflight;
    double seconds;                 /* the job's own time, from its summary */
    double elapsed;                 /* fork to reap, measured here */
    double cpu_s, rss_mib;
};

struct bench {
    crawl_options_t *opts;
    char root[PATH_MAX];            /* mkdtemp folder, removed at the end */
    char list[PATH_MAX];            /* the clean list every run reads */
    char warmup[PATH_MAX];          /* one URL per host:port */
    uint64_t urls, hosts;
    crawl_mode_t modes[BENCH_MODES_MAX];
    int nmodes;
    struct bench_run *runs;         /* nmodes * repeat, in the order they ran */
    int nruns;
    struct bench_run warm;
    crawl_har_t *har;               /* --har: every run's entries, one page per run */
    crawl_chart_t *chart;           /* --chart: the first run of each mode */
    int bad_lines;
};

/* What the HAR read-back of one run feeds. */
struct bench_readback {
    struct bench *b;
    struct bench_run *run;
    const char *page_id;
    const char *page_title;
    crawl_chart_panel_t *panel;
    int result;
};

static volatile sig_atomic_t bench_signal;
static volatile pid_t bench_child;

/* ---- small helpers ------------------------------------------------------------------------- */

static double bench_now(void)
{
    return (double)uv_hrtime() / 1e9;
}

static int bench_path(char *out, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int bench_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Removes path and everything under it; errors are ignored (it is a temporary folder). */
static void bench_rmtree(const char *path)
{
    nftw(path, bench_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v). */
static double bench_median(double *v, int n)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- argv of a child ----------------------------------------------------------------------- */

struct bench_argv {
    char *v[96];
    int n;
    int overflow;
};

static void argv_add(struct bench_argv *a, const char *fmt, ...)
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

static void argv_free(struct bench_argv *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

/* The options every child gets: concurrency, the HTTP options bench accepted, no retries. */
static void argv_common(struct bench_argv *a, const crawl_options_t *o)
{
    argv_add(a, "-c");
    argv_add(a, "%ld", o->concurrency);
    if (o->per_host > 0) {
        argv_add(a, "--per-host");
        argv_add(a, "%ld", o->per_host);
    }
    if (o->http.timeout_ms > 0) {
        argv_add(a, "--timeout");
        argv_add(a, "%.3f", (double)o->http.timeout_ms / 1000);
    }
    argv_add(a, "--connect-timeout");
    argv_add(a, "%.3f", (double)o->http.connect_timeout_ms / 1000);
    argv_add(a, "--read-timeout");
    argv_add(a, "%.3f", (double)o->http.read_timeout_ms / 1000);
    argv_add(a, "--max-redirs");
    argv_add(a, "%ld", o->http.max_redirs);
    argv_add(a, "--user-agent");
    argv_add(a, "%s", o->http.user_agent);
    for (const struct curl_slist *h = o->headers; h; h = h->next) {
        argv_add(a, "--header");
        argv_add(a, "%s", h->data);
    }
    for (const struct curl_slist *h = o->proxy_headers; h; h = h->next) {   /* Proxy-Authorization */
        argv_add(a, "--header");
        argv_add(a, "%s", h->data);
    }
    if (o->http.low_speed_limit > 0) {
        argv_add(a, "--min-speed");
        argv_add(a, "%ld", o->http.low_speed_limit);
        argv_add(a, "--min-speed-time");
        argv_add(a, "%ld", o->http.low_speed_time);
    }
    if (o->http.insecure)
        argv_add(a, "--insecure");
    {
        /* TLS and proxy settings (a CA from the environment too: the child would read it alike) */
        const struct { const char *opt, *value; } pass[] = {
            { "--cacert", o->http.ca_file }, { "--capath", o->http.ca_path },
            { "--cert", o->http.client_cert }, { "--key", o->http.client_key },
            { "--proxy", o->http.proxy }, { "--noproxy", o->http.noproxy },
        };
        for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
            if (pass[i].value) {
                argv_add(a, "%s", pass[i].opt);
                argv_add(a, "%s", pass[i].value);
            }
        }
    }
    /* A retry's random backoff would blur the timings, and sync mode would not retry alike. */
    argv_add(a, "--retries");
    argv_add(a, "0");
}

/* ---- one child ----------------------------------------------------------------------------- */

/* Keeps the last stdout line that is a summary object. */
struct bench_lines {
    char line[BENCH_SUMMARY_MAX];
    size_t len;
    int too_long;
    char summary[BENCH_SUMMARY_MAX];
};

static void lines_feed(struct bench_lines *l, const char *buf, size_t n)
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

/* Runs BENCH_EXE with argv, stdout read here, stderr into errpath; fills the run's status,
 * summary, CPU time and peak RSS. Returns 0, or -errno when the child could not be started. */
static int bench_spawn(char **argv, const char *errpath, struct bench_run *run)
{
    struct bench_lines *lines = calloc(1, sizeof(*lines));
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
    fflush(NULL);
    t0 = bench_now();
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
        execv(BENCH_EXE, argv);
        _exit(127);
    }
    bench_child = pid;
    close(pipefd[1]);
    for (;;) {
        ssize_t n = read(pipefd[0], buf, sizeof(buf));
        if (n > 0)
            lines_feed(lines, buf, (size_t)n);
        else if (n == 0 || errno != EINTR)
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
    bench_child = 0;
    run->elapsed = bench_now() - t0;
    run->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    run->rss_mib = (double)ru.ru_maxrss / 1024.0;       /* Linux: KiB */
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
        }
        json_decref(sum);
    }
    free(lines);
    return 0;
}

/* Shows what a child said on stderr, but its summary line and at most BENCH_ERR_LINES lines. */
static void bench_show_stderr(const char *errpath, const char *what)
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

/* A one-line reason a run did not finish normally, or NULL. */
static const char *bench_run_problem(const struct bench_run *run, char *buf, size_t n)
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

/* ---- reading a run's HAR back ------------------------------------------------------------ */

static int readback_entry(json_t *entry, void *arg)
{
    struct bench_readback *r = arg;
    crawl_chart_bar_t bar;

    r->run->har_entries++;
    if (r->panel && crawl_chart_bar_from_har(entry, &bar) == 0 && crawl_chart_offer(r->panel, &bar) < 0)
        return -ENOMEM;
    if (r->b->har) {
        json_object_set_new(entry, "pageref", json_string(r->page_id));
        return crawl_har_add_json(r->b->har, entry);
    }
    return 0;
}

static int readback_page(json_t *page, void *arg)
{
    struct bench_readback *r = arg;
    const char *started = json_string_value(json_object_get(page, "startedDateTime"));
    int64_t start_us;

    if (!started || crawl_har_time_parse(started, &start_us) < 0)
        return -EINVAL;
    if (r->panel)
        crawl_chart_panel_set_origin(r->panel, start_us);
    if (r->b->har)
        return crawl_har_page(r->b->har, r->page_id, r->page_title, start_us);
    return 0;
}

/* ---- the runs ------------------------------------------------------------------------------ */

/* Reads the list once: bad lines are reported here, the clean URLs go to b->list for every run,
 * the first URL of each host:port to b->warmup. Returns 0, CRAWL_EXIT_USAGE or -errno. */
static int bench_prepare(struct bench *b)
{
    crawl_options_t *o = b->opts;
    crawl_source_t src;
    store_seen_t *hosts = NULL;
    FILE *list = NULL, *warm = NULL;
    int result = 0;
    char *url;

    if (crawl_source_open(&src, o->input, o->urls, o->nurls) < 0)
        return CRAWL_EXIT_USAGE;
    if (bench_path(b->list, "%s/list.txt", b->root) < 0 ||
        bench_path(b->warmup, "%s/warmup.txt", b->root) < 0) {
        result = -ENAMETOOLONG;
        goto cleanup;
    }
    hosts = store_seen_new(16);
    list = fopen(b->list, "we");
    warm = fopen(b->warmup, "we");
    if (!hosts || !list || !warm) {
        result = hosts ? -errno : -ENOMEM;
        goto cleanup;
    }
    for (;;) {
        char *key = NULL;

        if (!(url = crawl_source_next_blocking(&src)))
            break;
        fprintf(list, "%s\n", url);
        b->urls++;
        if (parse_url_hostport(url, &key) == 0) {
            if (store_seen_add(hosts, key, strlen(key)) == 1) {
                fprintf(warm, "%s\n", url);
                b->hosts++;
            }
            free(key);
        }
        free(url);
    }
    b->bad_lines = src.invalid > 0 || src.read_error < 0;
    if (ferror(list) || ferror(warm))
        result = -EIO;

cleanup:
    if (list && fclose(list) != 0 && result == 0)
        result = -errno;
    if (warm && fclose(warm) != 0 && result == 0)
        result = -errno;
    store_seen_free(hosts);
    crawl_source_close(&src);
    return result;
}

static int bench_warmup(struct bench *b)
{
    struct bench_argv a = { .n = 0 };
    char out[PATH_MAX], err[PATH_MAX];
    int result;

    if (bench_path(out, "%s/warmup", b->root) < 0 || bench_path(err, "%s/warmup.err", b->root) < 0)
        return -ENAMETOOLONG;
    argv_add(&a, "gather");
    argv_add(&a, "get");
    argv_add(&a, "-q");
    argv_add(&a, "--json");
    argv_add(&a, "--discard");
    argv_add(&a, "-i");
    argv_add(&a, "%s", b->warmup);
    argv_add(&a, "-o");
    argv_add(&a, "%s", out);
    argv_common(&a, b->opts);
    result = a.overflow ? -ENOMEM : bench_spawn(a.v, err, &b->warm);
    argv_free(&a);
    if (result < 0)
        return result;
    if (!b->opts->quiet)
        fprintf(stderr, "bench: warm-up: %llu request%s (one per host:port), %.2f s\n",
                (unsigned long long)b->hosts, b->hosts == 1 ? "" : "s", b->warm.elapsed);
    if (b->warm.status != 0)
        bench_show_stderr(err, "warm-up");
    bench_rmtree(out);
    return 0;
}

static int bench_one(struct bench *b, struct bench_run *run)
{
    crawl_options_t *o = b->opts;
    const char *mode = crawl_mode_name(b->modes[run->mode]);
    struct bench_argv a = { .n = 0 };
    char dir[PATH_MAX], out[PATH_MAX], har[PATH_MAX], err[PATH_MAX], what[64], id[32], title[96];
    char problem[128];
    int want_har = o->har || (o->chart && run->rep == 0);
    int result;

    if (bench_path(dir, "%s/run-%d", b->root, (int)(run - b->runs) + 1) < 0 ||
        bench_path(out, "%s/out", dir) < 0 || bench_path(har, "%s/run.har", dir) < 0 ||
        bench_path(err, "%s/stderr.txt", dir) < 0)
        return -ENAMETOOLONG;
    if (mkdir(dir, 0700) < 0)
        return -errno;
    argv_add(&a, "gather");
    argv_add(&a, "get");
    argv_add(&a, "-q");
    argv_add(&a, "--json");
    argv_add(&a, "-i");
    argv_add(&a, "%s", b->list);
    argv_add(&a, "-o");
    argv_add(&a, "%s", out);
    argv_add(&a, "--mode");
    argv_add(&a, "%s", mode);
    argv_common(&a, o);
    if (o->discard)
        argv_add(&a, "--discard");
    if (want_har) {
        argv_add(&a, "--har");
        argv_add(&a, "%s", har);
    }
    result = a.overflow ? -ENOMEM : bench_spawn(a.v, err, run);
    argv_free(&a);
    if (result < 0)
        goto cleanup;

    if (o->repeat > 1) {
        snprintf(what, sizeof(what), "%s %d/%ld", mode, run->rep + 1, o->repeat);
        snprintf(id, sizeof(id), "%s.%d", mode, run->rep + 1);
    } else {
        snprintf(what, sizeof(what), "%s", mode);
        snprintf(id, sizeof(id), "%s", mode);
    }
    if (!o->quiet) {
        if (run->has_summary)
            fprintf(stderr, "bench: %-12s %llu ok, %llu failed in %.2f s\n", what,
                    (unsigned long long)run->ok, (unsigned long long)run->failed, run->seconds);
        else
            fprintf(stderr, "bench: %-12s %s\n", what, bench_run_problem(run, problem, sizeof(problem)));
    }
    if (run->status != 0)
        bench_show_stderr(err, what);
    if (want_har && run->has_summary) {
        struct bench_readback rb = { .b = b, .run = run, .page_id = id, .page_title = title };
        char label[96];

        snprintf(title, sizeof(title), "gather bench: %s mode, run %d of %ld", mode, run->rep + 1,
                 o->repeat);
        if (o->chart && run->rep == 0) {
            snprintf(label, sizeof(label), "%llu requests, %.2f s",
                     (unsigned long long)(run->ok + run->failed), run->seconds);
            rb.panel = crawl_chart_panel_add(b->chart, mode, label, 0, run->seconds,
                                             run->ok + run->failed);
            if (!rb.panel) {
                result = -ENOMEM;
                goto cleanup;
            }
        }
        result = crawl_har_read(har, readback_page, readback_entry, &rb);
        if (result < 0)
            fprintf(stderr, "gather bench: cannot read back %s's HAR file: %s\n", what,
                    strerror(-result));
    }

cleanup:
    bench_rmtree(dir);
    return result;
}

/* ---- the table ----------------------------------------------------------------------------- */

enum { COL_MODE, COL_REQS, COL_WALL, COL_RPS, COL_MBPS, COL_INFLIGHT, COL_CPU, COL_RSS, COL_FAIL,
       COL_SPEEDUP, NCOLS };

static const char *const col_names[NCOLS] = {
    "mode", "requests", "wall s", "req/s", "MB/s", "in flight", "CPU s", "peak RSS MiB",
    "failures", "speedup",
};

struct bench_stats {
    int runs;
    double reqs, wall, wall_min, wall_max, rps, mbps, inflight, cpu, rss;
    uint64_t failures;
    int complete;                   /* every run gave a summary */
};

static void bench_mode_stats(const struct bench *b, int mode, struct bench_stats *st)
{
    double v[9][1000];
    int n = 0;

    memset(st, 0, sizeof(*st));
    st->complete = 1;
    for (int i = 0; i < b->nruns; i++) {
        const struct bench_run *r = &b->runs[i];
        double reqs = (double)(r->ok + r->failed), secs = r->seconds > 0 ? r->seconds : 1e-9;

        if (r->mode != mode)
            continue;
        if (!r->has_summary) {
            st->complete = 0;
            continue;
        }
        v[0][n] = reqs;
        v[1][n] = r->seconds;
        v[2][n] = reqs / secs;
        v[3][n] = (double)r->bytes / 1e6 / secs;
        v[4][n] = (double)r->max_inflight;
        v[5][n] = r->cpu_s;
        v[6][n] = r->rss_mib;
        st->failures += r->failed;
        if (n == 0 || r->seconds < st->wall_min)
            st->wall_min = r->seconds;
        if (n == 0 || r->seconds > st->wall_max)
            st->wall_max = r->seconds;
        n++;
    }
    st->runs = n;
    st->reqs = bench_median(v[0], n);
    st->wall = bench_median(v[1], n);
    st->rps = bench_median(v[2], n);
    st->mbps = bench_median(v[3], n);
    st->inflight = bench_median(v[4], n);
    st->cpu = bench_median(v[5], n);
    st->rss = bench_median(v[6], n);
}

static void bench_table(const struct bench *b, FILE *out, json_t *modes_json)
{
    char cells[BENCH_MODES_MAX + 1][NCOLS][48];
    size_t width[NCOLS];
    struct bench_stats st[BENCH_MODES_MAX];
    double sync_wall = 0;
    int has_sync = 0, dec = 2;

    for (int m = 0; m < b->nmodes; m++) {
        bench_mode_stats(b, m, &st[m]);
        if (st[m].runs > 0 && st[m].wall_min < 1)
            dec = 3;                    /* milliseconds stay visible when a run is fast */
        if (b->modes[m] == CRAWL_MODE_SYNC && st[m].runs > 0) {
            has_sync = 1;
            sync_wall = st[m].wall;
        }
    }
    for (int c = 0; c < NCOLS; c++)
        snprintf(cells[0][c], sizeof(cells[0][c]), "%s", col_names[c]);
    for (int m = 0; m < b->nmodes; m++) {
        char (*row)[48] = cells[m + 1];
        const struct bench_stats *s = &st[m];
        double speedup = has_sync && s->wall > 0 ? sync_wall / s->wall : 0;
        json_t *each = json_array();

        snprintf(row[COL_MODE], 48, "%s", crawl_mode_name(b->modes[m]));
        if (s->runs == 0) {
            for (int c = 1; c < NCOLS; c++)
                snprintf(row[c], 48, "-");
        } else {
            snprintf(row[COL_REQS], 48, "%.0f", s->reqs);
            if (b->opts->repeat > 1)
                snprintf(row[COL_WALL], 48, "%.*f (%.*f-%.*f)", dec, s->wall, dec, s->wall_min,
                         dec, s->wall_max);
            else
                snprintf(row[COL_WALL], 48, "%.*f", dec, s->wall);
            snprintf(row[COL_RPS], 48, "%.1f", s->rps);
            snprintf(row[COL_MBPS], 48, "%.2f", s->mbps);
            snprintf(row[COL_INFLIGHT], 48, "%.0f", s->inflight);
            snprintf(row[COL_CPU], 48, "%.2f", s->cpu);
            snprintf(row[COL_RSS], 48, "%.1f", s->rss);
            snprintf(row[COL_FAIL], 48, "%llu", (unsigned long long)s->failures);
            if (has_sync)
                snprintf(row[COL_SPEEDUP], 48, "%.1fx", speedup);
            else
                snprintf(row[COL_SPEEDUP], 48, "-");
        }
        if (!s->complete)
            snprintf(row[COL_MODE], 48, "%s (!)", crawl_mode_name(b->modes[m]));
        if (!modes_json || !each)
            goto no_json;
        for (int i = 0; i < b->nruns; i++) {
            const struct bench_run *r = &b->runs[i];
            if (r->mode != m)
                continue;
            json_array_append_new(each, json_pack(
                "{s:i, s:i, s:b, s:I, s:I, s:I, s:f, s:I, s:f, s:f, s:I}", "run", r->rep + 1,
                "exit", r->status, "summary", r->has_summary, "ok", (json_int_t)r->ok,
                "failed", (json_int_t)r->failed, "bytes", (json_int_t)r->bytes,
                "wall_s", r->seconds, "max_inflight", (json_int_t)r->max_inflight,
                "cpu_s", r->cpu_s, "peak_rss_mib", r->rss_mib,
                "har_entries", (json_int_t)r->har_entries));
        }
        json_array_append_new(modes_json, json_pack(
            "{s:s, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:o, s:o}",
            "mode", crawl_mode_name(b->modes[m]), "runs", s->runs, "requests", s->reqs,
            "wall_s", s->wall, "wall_min_s", s->wall_min, "wall_max_s", s->wall_max,
            "requests_per_s", s->rps, "mb_per_s", s->mbps, "max_inflight", s->inflight,
            "cpu_s", s->cpu, "peak_rss_mib", s->rss, "failures", (json_int_t)s->failures,
            "speedup", has_sync && s->runs ? json_real(speedup) : json_null(), "each", each));
        continue;
no_json:
        json_decref(each);
    }
    for (int c = 0; c < NCOLS; c++) {
        width[c] = 0;
        for (int r = 0; r <= b->nmodes; r++)
            if (strlen(cells[r][c]) > width[c])
                width[c] = strlen(cells[r][c]);
    }
    for (int r = 0; r <= b->nmodes; r++) {
        for (int c = 0; c < NCOLS; c++) {
            if (c == COL_MODE)
                fprintf(out, "%-*s", (int)width[c], cells[r][c]);
            else
                fprintf(out, "  %*s", (int)width[c], cells[r][c]);
        }
        fputc('\n', out);
    }
}

/* ---- the command --------------------------------------------------------------------------- */

static int bench_parse_modes(struct bench *b, const char *list)
{
    const char *p = list;

    b->nmodes = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        crawl_mode_t m;

        if (len == 5 && !strncmp(p, "async", 5))
            m = CRAWL_MODE_ASYNC;
        else if (len == 7 && !strncmp(p, "threads", 7))
            m = CRAWL_MODE_THREADS;
        else if (len == 4 && !strncmp(p, "sync", 4))
            m = CRAWL_MODE_SYNC;
        else {
            fprintf(stderr, "gather bench: --modes: '%.*s' is not sync, threads or async\n",
                    (int)len, p);
            return -1;
        }
        for (int i = 0; i < b->nmodes; i++) {
            if (b->modes[i] == m) {
                fprintf(stderr, "gather bench: --modes: '%s' is listed twice\n", crawl_mode_name(m));
                return -1;
            }
        }
        b->modes[b->nmodes++] = m;
        p += len;
        if (*p == ',' && *++p == '\0')
            break;
    }
    if (b->nmodes == 0) {
        fprintf(stderr, "gather bench: --modes: give at least one of sync, threads, async\n");
        return -1;
    }
    return 0;
}

static int bench_temp_root(struct bench *b)
{
    const char *tmp = getenv("TMPDIR");

    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (bench_path(b->root, "%s/gather-bench.XXXXXX", tmp) < 0)
        return -ENAMETOOLONG;
    if (!mkdtemp(b->root)) {
        int e = errno;
        fprintf(stderr, "gather bench: cannot make a temporary folder in %s: %s\n", tmp, strerror(e));
        b->root[0] = '\0';
        return -e;
    }
    return 0;
}

static int bench_run_all(struct bench *b)
{
    crawl_options_t *o = b->opts;
    int result;

    b->nruns = 0;
    for (int r = 0; r < o->repeat; r++) {
        for (int m = 0; m < b->nmodes; m++) {
            struct bench_run *run = &b->runs[b->nruns++];

            run->mode = m;
            run->rep = r;
            result = bench_one(b, run);
            if (bench_signal)
                return -EINTR;
            if (run->status == CRAWL_EXIT_INTERRUPTED)
                return -EINTR;
            if (result < 0)
                return result;
        }
    }
    return 0;
}

static int bench_output(struct bench *b)
{
    crawl_options_t *o = b->opts;
    FILE *table = o->json ? stderr : stdout;
    json_t *modes = o->json ? json_array() : NULL;
    int status = CRAWL_EXIT_OK;
    char problem[128];

    fprintf(table, "gather bench: %llu URL%s, %llu host%s, -c %ld, %ld run%s per mode%s\n",
            (unsigned long long)b->urls, b->urls == 1 ? "" : "s", (unsigned long long)b->hosts,
            b->hosts == 1 ? "" : "s", o->concurrency, o->repeat, o->repeat == 1 ? "" : "s",
            o->repeat > 1 ? " (median, min-max of wall)" : "");
    bench_table(b, table, modes);
    for (int i = 0; i < b->nruns; i++) {
        const struct bench_run *r = &b->runs[i];
        if (bench_run_problem(r, problem, sizeof(problem))) {
            fprintf(stderr, "gather bench: %s run %d %s\n", crawl_mode_name(b->modes[r->mode]),
                    r->rep + 1, problem);
            status = CRAWL_EXIT_FAILURES;
        } else if (r->status != 0) {
            status = CRAWL_EXIT_FAILURES;
        }
    }
    if (b->bad_lines)
        status = CRAWL_EXIT_FAILURES;
    if (modes) {
        json_t *obj = json_pack("{s:{s:I, s:I, s:i, s:i, s:b, s:{s:I, s:i, s:I, s:I, s:f}, s:o}}",
                                "bench", "urls", (json_int_t)b->urls, "hosts", (json_int_t)b->hosts,
                                "concurrency", (int)o->concurrency, "repeat", (int)o->repeat,
                                "discard", o->discard, "warmup", "requests", (json_int_t)b->hosts,
                                "exit", b->warm.status, "ok", (json_int_t)b->warm.ok,
                                "failed", (json_int_t)b->warm.failed, "seconds", b->warm.elapsed,
                                "modes", modes);
        char *line = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;

        if (line)
            printf("%s\n", line);
        else
            fprintf(stderr, "gather bench: out of memory\n");
        free(line);
        json_decref(obj);
    }
    fflush(stdout);
    return status;
}

int crawl_bench_main(int argc, char **argv)
{
    crawl_options_t o;
    struct bench *b = NULL;
    int status = crawl_options_parse(&o, CRAWL_CMD_BENCH, argc, argv);
    int result, handlers = 0;

    if (status != 0) {
        crawl_options_free(&o);
        return status < 0 ? CRAWL_EXIT_OK : status;
    }
    status = CRAWL_EXIT_FAILURES;
    b = calloc(1, sizeof(*b));
    if (!b) {
        fprintf(stderr, "gather bench: out of memory\n");
        goto cleanup;
    }
    b->opts = &o;
    if (bench_parse_modes(b, o.modes) < 0) {
        status = CRAWL_EXIT_USAGE;
        goto cleanup;
    }
    if (!(b->runs = calloc((size_t)(b->nmodes * o.repeat), sizeof(*b->runs)))) {
        fprintf(stderr, "gather bench: out of memory\n");
        goto cleanup;
    }
    if (bench_temp_root(b) < 0)
        goto cleanup;
    result = bench_prepare(b);
    if (result == CRAWL_EXIT_USAGE) {
        status = CRAWL_EXIT_USAGE;
        goto cleanup;
    }
    if (result < 0) {
        fprintf(stderr, "gather bench: cannot write the list into %s: %s\n", b->root, strerror(-result));
        goto cleanup;
    }
    if (b->urls == 0) {
        fprintf(stderr, "gather bench: no URL to fetch\n");
        status = CRAWL_EXIT_USAGE;
        goto cleanup;
    }
    if (o.har && !(b->har = crawl_har_open(o.har, "gather bench: one page per run"))) {
        fprintf(stderr, "gather bench: cannot write HAR file %s: %s\n", o.har, strerror(errno));
        goto cleanup;
    }
    if (o.chart) {
        char title[160];
        snprintf(title, sizeof(title), "gather bench: %llu URL%s, -c %ld%s",
                 (unsigned long long)b->urls, b->urls == 1 ? "" : "s", o.concurrency,
                 o.repeat > 1 ? " (first run of each mode)" : "");
        if (!(b->chart = crawl_chart_new(title))) {
            fprintf(stderr, "gather bench: out of memory\n");
            goto cleanup;
        }
    }

    crawl_signals_start_blocking(&bench_signal, &bench_child);
    handlers = 1;

    result = bench_warmup(b);
    if (result == 0 && !bench_signal)
        result = bench_run_all(b);
    if (result == -EINTR || bench_signal) {
        fprintf(stderr, "gather bench: interrupted\n");
        status = CRAWL_EXIT_INTERRUPTED;
        goto cleanup;
    }
    if (result < 0) {
        fprintf(stderr, "gather bench: %s\n", strerror(-result));
        goto cleanup;
    }
    status = bench_output(b);
    if (b->chart) {
        result = crawl_chart_write(b->chart, o.chart);
        if (result < 0) {
            fprintf(stderr, "gather bench: cannot write %s: %s\n", o.chart, strerror(-result));
            status = CRAWL_EXIT_FAILURES;
        }
    }

cleanup:
    if (b && b->har) {
        result = crawl_har_close(b->har);
        if (result < 0) {
            fprintf(stderr, "gather bench: cannot write HAR file %s: %s\n", o.har, strerror(-result));
            if (status == CRAWL_EXIT_OK)
                status = CRAWL_EXIT_FAILURES;
        }
    }
    if (b && b->root[0])
        bench_rmtree(b->root);
    if (handlers) {
        crawl_signals_stop_blocking();
    }
    if (b) {
        crawl_chart_free(b->chart);
        free(b->runs);
    }
    free(b);
    crawl_options_free(&o);
    return status;
}
