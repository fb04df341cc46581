/* bench_sweep: what the parts of `gather bench` share: the points of a sweep (a mode at a
 * concurrency), the runs of each (child processes), and the statistics the table, the JSON and
 * the report show. */
#ifndef CRAWLER_BENCH_SWEEP_H
#define CRAWLER_BENCH_SWEEP_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "crawler/cli/options.h"
#include "crawler/report/chart.h"
#include "crawler/report/har.h"

#define BENCH_MODES_MAX 3
#define BENCH_POINTS_MAX (BENCH_MODES_MAX * CRAWL_SWEEP_MAX)
#define BENCH_LIMIT_SIZE 192

/* One child `gather get`, as its summary line and wait4() saw it. */
typedef struct bench_run {
    int point;                      /* index into bench.points */
    int rep;                        /* 0 .. repeat-1 */
    int status;                     /* exit status; 128 + signal when killed */
    int has_summary;
    uint64_t ok, failed, bytes, har_entries;
    long max_inflight;
    long concurrency;               /* -c in force in the child (0: it did not say) */
    long threads;                   /* the most threads the process had at once (sampled) */
    double seconds;                 /* the job's own time, from its summary */
    double elapsed;                 /* fork to reap, measured here */
    double cpu_s, rss_mib;
    double switches;                /* context switches, voluntary and not, of all its threads */
    double p50_ms, p95_ms, p99_ms;  /* request times, from the child's histogram */
    char limit[BENCH_LIMIT_SIZE];   /* the child's word on why -c could not be reached, or "" */
} bench_run_t;

/* One mode at one concurrency (sync: once, at 1). */
typedef struct bench_point {
    crawl_mode_t mode;
    long concurrency;
    uint64_t urls;                  /* URLs each run is given (--sync-limit: fewer) */
    double scale;                   /* the whole list / urls: 1 but for a limited sync */
} bench_point_t;

/* The medians of a point's runs. */
typedef struct bench_stats {
    int runs;                       /* runs that gave a summary */
    int complete;                   /* every run did */
    double reqs, wall, wall_min, wall_max, rps, mbps, inflight, cpu, rss, threads, switches;
    double p50, p95, p99;
    double speedup;                 /* req/s over sync's (0: no sync point) */
    uint64_t failures;
    int reached;                    /* every run had min(c, URLs) transfers in flight at once */
    char limit[BENCH_LIMIT_SIZE];   /* why not, when not */
} bench_stats_t;

typedef struct bench {
    crawl_options_t *opts;
    char root[PATH_MAX];            /* mkdtemp folder, removed at the end */
    char list[PATH_MAX];            /* the clean list every run reads */
    char sync_list[PATH_MAX];       /* its first --sync-limit URLs */
    char warmup[PATH_MAX];          /* one URL per host:port */
    uint64_t urls, hosts, sync_urls;
    crawl_mode_t modes[BENCH_MODES_MAX];
    int nmodes;
    bench_point_t points[BENCH_POINTS_MAX];   /* by concurrency, then mode */
    bench_stats_t stats[BENCH_POINTS_MAX];
    int npoints;
    long waterfall;                 /* the concurrency drawn as waterfalls */
    bench_run_t *runs;              /* npoints * repeat, in the order they ran */
    int nruns;
    bench_run_t warm;
    crawl_har_t *har;               /* --har: every run's entries, one page per run */
    crawl_chart_t *chart;           /* --chart/--report: the waterfall at `waterfall` */
    int bad_lines;
} bench_t;

/* ---- child.c: one child process ----------------------------------------------------------- */

/* A child's argv, built with bench_argv_add (printf-like); overflow set when it did not fit. */
typedef struct bench_argv {
    char *v[96];
    int n;
    int overflow;
} bench_argv_t;

void bench_argv_add(bench_argv_t *a, const char *fmt, ...);
void bench_argv_free(bench_argv_t *a);

/* The options every child gets: concurrency (c), the HTTP options bench accepted, no retries. */
void bench_argv_common(bench_argv_t *a, const crawl_options_t *o, long c);

/* Runs /proc/self/exe with argv, stdout read here, stderr into errpath; fills the run's status,
 * summary fields, CPU time, peak RSS and the most threads it had (sampled every 5 ms from
 * /proc). Returns 0, or -errno when the child could not be started. *child holds its pid while
 * it runs (for the signal handler). */
int bench_spawn(char **argv, const char *errpath, bench_run_t *run, volatile pid_t *child);

/* Shows what a child said on stderr, but its summary line and at most a few lines. */
void bench_show_stderr(const char *errpath, const char *what);

/* A one-line reason a run did not finish normally, or NULL. */
const char *bench_run_problem(const bench_run_t *run, char *buf, size_t n);

/* ---- table.c: statistics, the text table, the JSON ---------------------------------------- */

/* Fills b->stats from b->runs: medians per point, speedups, whether -c was reached and why not. */
void bench_stats_compute(bench_t *b);

/* Prints the table (one row per point) and its notes to out. */
void bench_table_print(const bench_t *b, FILE *out);

/* The whole sweep as the inner object of --json's {"bench": ...}; NULL when out of memory. */
json_t *bench_json(const bench_t *b);

#endif
