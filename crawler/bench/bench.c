/* crawl_bench: one URL list run in each mode at each concurrency of a sweep (and --repeat times),
 * each run a child `gather get` whose CPU time, peak RSS and threads are measured from outside;
 * one table at the end, the same as JSON, and an HTML report with charts. */
#include "crawler/bench/bench.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "crawler/bench/report.h"
#include "crawler/bench/sweep.h"
#include "crawler/cli/options.h"
#include "crawler/get/source.h"
#include "crawler/job/signals.h"
#include "crawler/report/chart.h"
#include "crawler/report/har.h"
#include "parse/url.h"
#include "storage/seen.h"

/* What the HAR read-back of one run feeds. */
struct bench_readback {
    bench_t *b;
    bench_run_t *run;
    const char *page_id;
    const char *page_title;
    crawl_chart_panel_t *panel;
    int result;
};

static volatile sig_atomic_t bench_signal;
static volatile pid_t bench_child;

/* ---- small helpers ------------------------------------------------------------------------- */

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

/* Reads the list once: bad lines are reported here, the clean URLs go to b->list for every run
 * (the first --sync-limit also to b->sync_list), the first URL of each host:port to b->warmup.
 * Returns 0, CRAWL_EXIT_USAGE or -errno. */
static int bench_prepare(bench_t *b)
{
    crawl_options_t *o = b->opts;
    crawl_source_t src;
    store_seen_t *hosts = NULL;
    FILE *list = NULL, *warm = NULL, *sync = NULL;
    int result = 0;
    char *url;

    if (crawl_source_open(&src, o->input, o->urls, o->nurls) < 0)
        return CRAWL_EXIT_USAGE;
    if (bench_path(b->list, "%s/list.txt", b->root) < 0 ||
        bench_path(b->warmup, "%s/warmup.txt", b->root) < 0 ||
        bench_path(b->sync_list, "%s/sync.txt", b->root) < 0) {
        result = -ENAMETOOLONG;
        goto cleanup;
    }
    hosts = store_seen_new(16);
    list = fopen(b->list, "we");
    warm = fopen(b->warmup, "we");
    sync = fopen(b->sync_list, "we");
    if (!hosts || !list || !warm || !sync) {
        result = hosts ? -errno : -ENOMEM;
        goto cleanup;
    }
    for (;;) {
        char *key = NULL;

        if (!(url = crawl_source_next_blocking(&src)))
            break;
        fprintf(list, "%s\n", url);
        b->urls++;
        if (o->sync_limit == 0 || b->sync_urls < (uint64_t)o->sync_limit) {
            fprintf(sync, "%s\n", url);
            b->sync_urls++;
        }
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
    if (ferror(list) || ferror(warm) || ferror(sync))
        result = -EIO;

cleanup:
    if (list && fclose(list) != 0 && result == 0)
        result = -errno;
    if (warm && fclose(warm) != 0 && result == 0)
        result = -errno;
    if (sync && fclose(sync) != 0 && result == 0)
        result = -errno;
    store_seen_free(hosts);
    crawl_source_close(&src);
    return result;
}

static int bench_warmup(bench_t *b)
{
    bench_argv_t a = { .n = 0 };
    char out[PATH_MAX], err[PATH_MAX];
    int result;

    if (bench_path(out, "%s/warmup", b->root) < 0 || bench_path(err, "%s/warmup.err", b->root) < 0)
        return -ENAMETOOLONG;
    bench_argv_add(&a, "gather");
    bench_argv_add(&a, "get");
    bench_argv_add(&a, "-q");
    bench_argv_add(&a, "--json");
    bench_argv_add(&a, "--discard");
    bench_argv_add(&a, "-i");
    bench_argv_add(&a, "%s", b->warmup);
    bench_argv_add(&a, "-o");
    bench_argv_add(&a, "%s", out);
    bench_argv_common(&a, b->opts, b->opts->concurrency);
    result = a.overflow ? -ENOMEM : bench_spawn(a.v, err, &b->warm, &bench_child);
    bench_argv_free(&a);
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

/* The points of the sweep: sync once (its concurrency is always 1), then every other mode at
 * each concurrency, ascending. */
static void bench_points(bench_t *b)
{
    const crawl_options_t *o = b->opts;

    b->npoints = 0;
    for (int m = 0; m < b->nmodes; m++) {
        if (b->modes[m] == CRAWL_MODE_SYNC) {
            bench_point_t *p = &b->points[b->npoints++];
            p->mode = CRAWL_MODE_SYNC;
            p->concurrency = 1;
            p->urls = b->sync_urls;
            p->scale = b->sync_urls > 0 ? (double)b->urls / (double)b->sync_urls : 1;
        }
    }
    for (int s = 0; s < o->nsweep; s++) {
        for (int m = 0; m < b->nmodes; m++) {
            bench_point_t *p;
            if (b->modes[m] == CRAWL_MODE_SYNC)
                continue;
            p = &b->points[b->npoints++];
            p->mode = b->modes[m];
            p->concurrency = o->sweep[s];
            p->urls = b->urls;
            p->scale = 1;
        }
    }
}

/* "async" for one point, "async-c100" in a sweep, ".2" appended for the second run. */
static void bench_run_name(const bench_t *b, const bench_run_t *run, char *id, size_t idn,
                           char *what, size_t whatn)
{
    const bench_point_t *p = &b->points[run->point];
    const char *mode = crawl_mode_name(p->mode);
    int sweep = b->opts->nsweep > 1 && p->mode != CRAWL_MODE_SYNC;
    char rep[32] = "", reps[32] = "";

    if (b->opts->repeat > 1) {
        snprintf(rep, sizeof(rep), ".%d", run->rep + 1);
        snprintf(reps, sizeof(reps), " %d/%ld", run->rep + 1, b->opts->repeat);
    }
    if (sweep) {
        snprintf(id, idn, "%s-c%ld%s", mode, p->concurrency, rep);
        snprintf(what, whatn, "%s -c %ld%s", mode, p->concurrency, reps);
    } else {
        snprintf(id, idn, "%s%s", mode, rep);
        snprintf(what, whatn, "%s%s", mode, reps);
    }
}

static int bench_one(bench_t *b, bench_run_t *run)
{
    crawl_options_t *o = b->opts;
    const bench_point_t *p = &b->points[run->point];
    const char *mode = crawl_mode_name(p->mode);
    bench_argv_t a = { .n = 0 };
    char dir[PATH_MAX], out[PATH_MAX], har[PATH_MAX], err[PATH_MAX], what[64], id[48], title[128];
    char problem[128];
    int drawn = b->chart && run->rep == 0 && (p->mode == CRAWL_MODE_SYNC || p->concurrency == b->waterfall);
    int want_har = o->har || drawn;
    int result;

    if (bench_path(dir, "%s/run-%d", b->root, (int)(run - b->runs) + 1) < 0 ||
        bench_path(out, "%s/out", dir) < 0 || bench_path(har, "%s/run.har", dir) < 0 ||
        bench_path(err, "%s/stderr.txt", dir) < 0)
        return -ENAMETOOLONG;
    if (mkdir(dir, 0700) < 0)
        return -errno;
    bench_argv_add(&a, "gather");
    bench_argv_add(&a, "get");
    bench_argv_add(&a, "-q");
    bench_argv_add(&a, "--json");
    bench_argv_add(&a, "-i");
    bench_argv_add(&a, "%s", p->mode == CRAWL_MODE_SYNC ? b->sync_list : b->list);
    bench_argv_add(&a, "-o");
    bench_argv_add(&a, "%s", out);
    bench_argv_add(&a, "--mode");
    bench_argv_add(&a, "%s", mode);
    bench_argv_common(&a, o, p->concurrency);
    if (o->discard)
        bench_argv_add(&a, "--discard");
    if (want_har) {
        bench_argv_add(&a, "--har");
        bench_argv_add(&a, "%s", har);
    }
    result = a.overflow ? -ENOMEM : bench_spawn(a.v, err, run, &bench_child);
    bench_argv_free(&a);
    if (result < 0)
        goto cleanup;

    bench_run_name(b, run, id, sizeof(id), what, sizeof(what));
    if (!o->quiet) {
        if (run->has_summary)
            fprintf(stderr, "bench: %-18s %llu ok, %llu failed in %.3f s\n", what,
                    (unsigned long long)run->ok, (unsigned long long)run->failed, run->seconds);
        else
            fprintf(stderr, "bench: %-18s %s\n", what, bench_run_problem(run, problem, sizeof(problem)));
    }
    if (run->status != 0)
        bench_show_stderr(err, what);
    if (want_har && run->has_summary) {
        struct bench_readback rb = { .b = b, .run = run, .page_id = id, .page_title = title };
        char label[96];

        snprintf(title, sizeof(title), "gather bench: %s, run %d of %ld", what, run->rep + 1, o->repeat);
        if (drawn) {
            if (p->mode == CRAWL_MODE_SYNC)
                snprintf(label, sizeof(label), "%llu requests, %.2f s",
                         (unsigned long long)(run->ok + run->failed), run->seconds);
            else
                snprintf(label, sizeof(label), "-c %ld: %llu requests, %.2f s", p->concurrency,
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

/* ---- the command --------------------------------------------------------------------------- */

static int bench_parse_modes(bench_t *b, const char *list)
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

static int bench_temp_root(bench_t *b)
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

static int bench_run_all(bench_t *b)
{
    crawl_options_t *o = b->opts;
    int result;

    b->nruns = 0;
    for (int r = 0; r < o->repeat; r++) {
        for (int pi = 0; pi < b->npoints; pi++) {
            bench_run_t *run = &b->runs[b->nruns++];

            run->point = pi;
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

/* The table, --json, --report. Returns the exit status. */
static int bench_output(bench_t *b)
{
    crawl_options_t *o = b->opts;
    FILE *table = o->json ? stderr : stdout;
    int status = CRAWL_EXIT_OK;
    json_t *obj = NULL;
    char problem[128], sweep[256] = "";
    size_t len = 0;

    bench_stats_compute(b);
    for (int i = 0; i < o->nsweep && len < sizeof(sweep); i++)
        len += (size_t)snprintf(sweep + len, sizeof(sweep) - len, "%s%ld", i ? "," : "", o->sweep[i]);
    fprintf(table, "gather bench: %llu URL%s, %llu host%s, -c %s, %ld run%s per point%s\n",
            (unsigned long long)b->urls, b->urls == 1 ? "" : "s", (unsigned long long)b->hosts,
            b->hosts == 1 ? "" : "s", sweep, o->repeat, o->repeat == 1 ? "" : "s",
            o->repeat > 1 ? " (median, min-max of wall)" : "");
    bench_table_print(b, table);
    for (int i = 0; i < b->nruns; i++) {
        const bench_run_t *r = &b->runs[i];
        if (bench_run_problem(r, problem, sizeof(problem))) {
            fprintf(stderr, "gather bench: %s -c %ld run %d %s\n",
                    crawl_mode_name(b->points[r->point].mode), b->points[r->point].concurrency,
                    r->rep + 1, problem);
            status = CRAWL_EXIT_FAILURES;
        } else if (r->status != 0) {
            status = CRAWL_EXIT_FAILURES;
        }
    }
    if (b->bad_lines)
        status = CRAWL_EXIT_FAILURES;
    if (o->json || o->report) {
        json_t *inner = bench_json(b);
        obj = inner ? json_pack("{s:o}", "bench", inner) : NULL;
        if (!obj) {
            fprintf(stderr, "gather bench: out of memory\n");
            return CRAWL_EXIT_FAILURES;
        }
    }
    if (o->json) {
        char *line = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15));

        if (line)
            printf("%s\n", line);
        else
            fprintf(stderr, "gather bench: out of memory\n");
        free(line);
    }
    fflush(stdout);
    if (o->chart) {
        int result = crawl_chart_write(b->chart, o->chart);
        if (result < 0) {
            fprintf(stderr, "gather bench: cannot write %s: %s\n", o->chart, strerror(-result));
            status = CRAWL_EXIT_FAILURES;
        }
    }
    if (o->report) {
        int result = bench_report_write(o->report, json_object_get(obj, "bench"), b->chart);
        if (result < 0) {
            fprintf(stderr, "gather bench: cannot write %s: %s\n", o->report, strerror(-result));
            status = CRAWL_EXIT_FAILURES;
        }
    }
    json_decref(obj);
    return status;
}

int crawl_bench_main(int argc, char **argv)
{
    crawl_options_t o;
    bench_t *b = NULL;
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
    b->waterfall = o.waterfall > 0 ? o.waterfall : o.sweep[o.nsweep - 1];
    if (bench_parse_modes(b, o.modes) < 0) {
        status = CRAWL_EXIT_USAGE;
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
    bench_points(b);
    if (!(b->runs = calloc((size_t)b->npoints * (size_t)o.repeat, sizeof(*b->runs)))) {
        fprintf(stderr, "gather bench: out of memory\n");
        goto cleanup;
    }
    if (o.har && !(b->har = crawl_har_open(o.har, "gather bench: one page per run"))) {
        fprintf(stderr, "gather bench: cannot write HAR file %s: %s\n", o.har, strerror(errno));
        goto cleanup;
    }
    if (o.chart || o.report) {
        char title[160];
        snprintf(title, sizeof(title), "gather bench: %llu URL%s, -c %ld%s",
                 (unsigned long long)b->urls, b->urls == 1 ? "" : "s", b->waterfall,
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
    if (handlers)
        crawl_signals_stop_blocking();
    if (b) {
        crawl_chart_free(b->chart);
        free(b->runs);
    }
    free(b);
    crawl_options_free(&o);
    return status;
}
