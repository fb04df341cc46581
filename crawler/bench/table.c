/* bench table: the medians of each point of a sweep, the text table with its notes, the JSON,
 * and the verdict: where threads first fall more than 10% behind async. */
#include "crawler/bench/sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_BEHIND 0.10           /* "behind": 10% fewer req/s, or 10% more CPU or memory */
/* Differences below what the measurement resolves do not count: CPU time is accounted in
 * clock ticks (10 ms) and a run's few hundredths of a second differ by that from run to run;
 * peak RSS moves by a few hundred KiB with the allocator's mood. */
#define BENCH_CPU_FLOOR_S 0.05
#define BENCH_RSS_FLOOR_MIB 1.0

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v). */
static double median(double *v, int n)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* v rounded to `decimals` places, as the table prints it (0 for a NaN or infinity). */
static double rounded(double v, int decimals)
{
    double scale = pow(10, decimals);

    return isfinite(v) ? round(v * scale) / scale : 0;
}

/* Transfers the point could have had in flight at once: -c, but no more than its URLs, nor
 * than --per-host allows on the list's hosts. */
static long point_target(const bench_t *b, const bench_point_t *p)
{
    long target = p->mode == CRAWL_MODE_SYNC ? 1 : p->concurrency;

    if ((uint64_t)target > p->urls)
        target = (long)p->urls;
    if (b->opts->per_host > 0 && p->mode != CRAWL_MODE_SYNC &&
        (uint64_t)target > (uint64_t)b->opts->per_host * b->hosts)
        target = (long)((uint64_t)b->opts->per_host * b->hosts);
    return target;
}

/* Why point p had fewer than -c in flight: the child's reason (descriptor or thread limit),
 * else the list or --per-host, else what was seen. */
static void point_limit(const bench_t *b, const bench_point_t *p, const bench_run_t *short_run,
                        long target, bench_stats_t *st)
{
    if (p->mode == CRAWL_MODE_SYNC)
        return;
    if (short_run && short_run->limit[0]) {
        snprintf(st->limit, sizeof(st->limit), "%s", short_run->limit);
        return;
    }
    if (target < p->concurrency && (uint64_t)target == p->urls) {
        snprintf(st->limit, sizeof(st->limit), "the list has only %llu URLs",
                 (unsigned long long)p->urls);
        return;
    }
    if (target < p->concurrency) {
        snprintf(st->limit, sizeof(st->limit), "--per-host %ld on %llu host%s allows %ld",
                 b->opts->per_host, (unsigned long long)b->hosts, b->hosts == 1 ? "" : "s", target);
        return;
    }
    if (short_run)
        snprintf(st->limit, sizeof(st->limit),
                 "at most %ld in flight: transfers ended faster than new ones started",
                 short_run->max_inflight);
}

void bench_stats_compute(bench_t *b)
{
    double sync_rps = 0;
    int has_sync = 0;

    for (int pi = 0; pi < b->npoints; pi++) {
        const bench_point_t *p = &b->points[pi];
        bench_stats_t *st = &b->stats[pi];
        const bench_run_t *short_run = NULL;
        long target = point_target(b, p);
        double col[12][64];
        int n = 0;

        memset(st, 0, sizeof(*st));
        st->complete = 1;
        for (int i = 0; i < b->nruns; i++) {
            const bench_run_t *r = &b->runs[i];
            double reqs = (double)(r->ok + r->failed), secs = r->seconds > 0 ? r->seconds : 1e-9;

            if (r->point != pi)
                continue;
            if (!r->has_summary || n >= 64) {
                st->complete &= r->has_summary;
                continue;
            }
            col[0][n] = reqs;
            col[1][n] = r->seconds;
            col[2][n] = reqs / secs;
            col[3][n] = (double)r->bytes / 1e6 / secs;
            col[4][n] = (double)r->max_inflight;
            col[5][n] = r->cpu_s;
            col[6][n] = r->rss_mib;
            col[7][n] = (double)r->threads;
            col[8][n] = r->p50_ms;
            col[9][n] = r->p95_ms;
            col[10][n] = r->p99_ms;
            col[11][n] = r->switches;
            st->failures += r->failed;
            if (n == 0 || r->seconds < st->wall_min)
                st->wall_min = r->seconds;
            if (n == 0 || r->seconds > st->wall_max)
                st->wall_max = r->seconds;
            if (r->max_inflight < target && (!short_run || r->max_inflight < short_run->max_inflight))
                short_run = r;
            n++;
        }
        /* rounded as the table prints them, so that the JSON and the table agree to the digit */
        st->runs = n;
        st->reqs = rounded(median(col[0], n), 0);
        st->wall = rounded(median(col[1], n), 3);
        st->wall_min = rounded(st->wall_min, 3);
        st->wall_max = rounded(st->wall_max, 3);
        st->rps = rounded(median(col[2], n), 1);
        st->mbps = rounded(median(col[3], n), 2);
        st->inflight = rounded(median(col[4], n), 0);
        st->cpu = rounded(median(col[5], n), 2);
        st->rss = rounded(median(col[6], n), 1);
        st->threads = rounded(median(col[7], n), 0);
        st->p50 = rounded(median(col[8], n), 1);
        st->p95 = rounded(median(col[9], n), 1);
        st->p99 = rounded(median(col[10], n), 1);
        st->switches = rounded(median(col[11], n), 0);
        st->reached = n > 0 && !short_run && target >= (p->mode == CRAWL_MODE_SYNC ? 1 : p->concurrency);
        if (n > 0 && !st->reached)
            point_limit(b, p, short_run, target, st);
        if (p->mode == CRAWL_MODE_SYNC && n > 0) {
            has_sync = 1;
            sync_rps = st->rps;
        }
    }
    for (int pi = 0; pi < b->npoints; pi++)
        if (has_sync && sync_rps > 0 && b->stats[pi].runs > 0)
            b->stats[pi].speedup = rounded(b->stats[pi].rps / sync_rps, 1);
}

/* ---- the verdict --------------------------------------------------------------------------- */

struct bench_verdict {
    long first;                     /* the lowest of the three, or 0: never */
    long rps, cpu, mem;             /* where each first fell behind, 0: never */
    double rps_ratio, cpu_ratio, mem_ratio;   /* threads / async there */
    long last;                      /* the largest concurrency both modes ran at */
};

static int find_point(const bench_t *b, crawl_mode_t m, long c)
{
    for (int i = 0; i < b->npoints; i++)
        if (b->points[i].mode == m && b->points[i].concurrency == c && b->stats[i].runs > 0)
            return i;
    return -1;
}

static int bench_verdict(const bench_t *b, struct bench_verdict *v)
{
    int compared = 0;

    memset(v, 0, sizeof(*v));
    for (int s = 0; s < b->opts->nsweep; s++) {
        long c = b->opts->sweep[s];
        int t = find_point(b, CRAWL_MODE_THREADS, c), a = find_point(b, CRAWL_MODE_ASYNC, c);
        const bench_stats_t *ts, *as;

        if (t < 0 || a < 0)
            continue;
        ts = &b->stats[t];
        as = &b->stats[a];
        compared = 1;
        v->last = c;
        if (!v->rps && as->rps > 0 && ts->rps < as->rps * (1 - BENCH_BEHIND)) {
            v->rps = c;
            v->rps_ratio = ts->rps / as->rps;
        }
        if (!v->cpu && as->cpu > 0 && ts->cpu > as->cpu * (1 + BENCH_BEHIND) &&
            ts->cpu - as->cpu >= BENCH_CPU_FLOOR_S) {
            v->cpu = c;
            v->cpu_ratio = ts->cpu / as->cpu;
        }
        if (!v->mem && as->rss > 0 && ts->rss > as->rss * (1 + BENCH_BEHIND) &&
            ts->rss - as->rss >= BENCH_RSS_FLOOR_MIB) {
            v->mem = c;
            v->mem_ratio = ts->rss / as->rss;
        }
    }
    v->first = v->rps;
    if (v->cpu && (!v->first || v->cpu < v->first))
        v->first = v->cpu;
    if (v->mem && (!v->first || v->mem < v->first))
        v->first = v->mem;
    return compared;
}

/* One sentence: where threads first fall behind, by what. */
static void verdict_text(const struct bench_verdict *v, char *out, size_t n)
{
    size_t len;

    if (!v->first) {
        snprintf(out, n, "threads stay within 10%% of async in req/s, CPU and memory at every "
                         "concurrency measured (up to -c %ld)", v->last);
        return;
    }
    len = (size_t)snprintf(out, n, "threads first fall more than 10%% behind async at -c %ld:", v->first);
    if (v->rps && len < n)
        len += (size_t)snprintf(out + len, n - len, " req/s from -c %ld (%.0f%% fewer there)",
                                v->rps, (1 - v->rps_ratio) * 100);
    if (v->cpu && len < n)
        len += (size_t)snprintf(out + len, n - len, "%s CPU from -c %ld (%.2fx there)",
                                v->rps ? ";" : "", v->cpu, v->cpu_ratio);
    if (v->mem && len < n)
        snprintf(out + len, n - len, "%s memory from -c %ld (%.2fx there)",
                 v->rps || v->cpu ? ";" : "", v->mem, v->mem_ratio);
}

/* ---- the text table ------------------------------------------------------------------------ */

enum { COL_C, COL_MODE, COL_REQS, COL_WALL, COL_RPS, COL_MBPS, COL_P50, COL_P95, COL_P99, COL_CPU,
       COL_RSS, COL_THREADS, COL_INFLIGHT, COL_FAIL, COL_SPEEDUP, COL_SWITCHES, NCOLS };

static const char *const col_names[NCOLS] = {
    "c", "mode", "requests", "wall s", "req/s", "MB/s", "p50 ms", "p95 ms", "p99 ms", "CPU s",
    "peak RSS MiB", "threads", "in flight", "failures", "speedup", "ctx switches",
};

#define CELL 48

void bench_table_print(const bench_t *b, FILE *out)
{
    char (*cells)[NCOLS][CELL] = calloc((size_t)b->npoints + 1, sizeof(*cells));
    size_t width[NCOLS];
    int dec = 3, notes = 0;
    struct bench_verdict v;
    char text[512];

    if (!cells) {
        fprintf(out, "gather bench: out of memory\n");
        return;
    }
    for (int c = 0; c < NCOLS; c++)
        snprintf(cells[0][c], CELL, "%s", col_names[c]);
    for (int i = 0; i < b->npoints; i++) {
        char (*row)[CELL] = cells[i + 1];
        const bench_point_t *p = &b->points[i];
        const bench_stats_t *s = &b->stats[i];

        snprintf(row[COL_C], CELL, "%ld", p->mode == CRAWL_MODE_SYNC ? 1L : p->concurrency);
        snprintf(row[COL_MODE], CELL, "%s%s%s", crawl_mode_name(p->mode), p->scale > 1 ? "*" : "",
                 s->complete ? "" : " (!)");
        if (s->runs == 0) {
            for (int c = COL_REQS; c < NCOLS; c++)
                snprintf(row[c], CELL, "-");
            continue;
        }
        snprintf(row[COL_REQS], CELL, "%.0f", s->reqs);
        if (b->opts->repeat > 1)
            snprintf(row[COL_WALL], CELL, "%.*f (%.*f-%.*f)", dec, s->wall, dec, s->wall_min, dec,
                     s->wall_max);
        else
            snprintf(row[COL_WALL], CELL, "%.*f", dec, s->wall);
        snprintf(row[COL_RPS], CELL, "%.1f", s->rps);
        snprintf(row[COL_MBPS], CELL, "%.2f", s->mbps);
        snprintf(row[COL_P50], CELL, "%.1f", s->p50);
        snprintf(row[COL_P95], CELL, "%.1f", s->p95);
        snprintf(row[COL_P99], CELL, "%.1f", s->p99);
        snprintf(row[COL_CPU], CELL, "%.2f", s->cpu);
        snprintf(row[COL_RSS], CELL, "%.1f", s->rss);
        snprintf(row[COL_THREADS], CELL, "%.0f", s->threads);
        snprintf(row[COL_INFLIGHT], CELL, "%.0f%s", s->inflight, s->reached ? "" : "!");
        snprintf(row[COL_FAIL], CELL, "%llu", (unsigned long long)s->failures);
        if (s->speedup > 0)
            snprintf(row[COL_SPEEDUP], CELL, "%.1fx", s->speedup);
        else
            snprintf(row[COL_SPEEDUP], CELL, "-");
        snprintf(row[COL_SWITCHES], CELL, "%.0f", s->switches);
        notes |= !s->reached;
    }
    for (int c = 0; c < NCOLS; c++) {
        width[c] = 0;
        for (int r = 0; r <= b->npoints; r++)
            if (strlen(cells[r][c]) > width[c])
                width[c] = strlen(cells[r][c]);
    }
    for (int r = 0; r <= b->npoints; r++) {
        for (int c = 0; c < NCOLS; c++) {
            if (c == COL_MODE)
                fprintf(out, "  %-*s", (int)width[c], cells[r][c]);
            else
                fprintf(out, "%s%*s", c == COL_C ? "" : "  ", (int)width[c], cells[r][c]);
        }
        fputc('\n', out);
    }
    free(cells);
    for (int i = 0; i < b->npoints; i++) {
        if (b->points[i].scale > 1)
            fprintf(out, "* sync fetched the first %llu of the %llu URLs (--sync-limit); the "
                         "report scales its CPU time by %.4g to compare\n",
                    (unsigned long long)b->points[i].urls, (unsigned long long)b->urls,
                    b->points[i].scale);
    }
    if (notes) {
        fprintf(out, "! in flight below -c:\n");
        for (int i = 0; i < b->npoints; i++)
            if (b->stats[i].runs > 0 && !b->stats[i].reached)
                fprintf(out, "  %s -c %ld: %s\n", crawl_mode_name(b->points[i].mode),
                        b->points[i].concurrency, b->stats[i].limit);
    }
    if (bench_verdict(b, &v)) {
        verdict_text(&v, text, sizeof(text));
        fprintf(out, "%s\n", text);
    }
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* v rounded as the table prints it. */
static json_t *num(double v, int decimals)
{
    return json_real(rounded(v, decimals));
}

static json_t *run_json(const bench_run_t *r)
{
    return json_pack("{s:i, s:i, s:b, s:I, s:I, s:I, s:o, s:I, s:I, s:o, s:o, s:I, s:I, s:{s:o, s:o, s:o},"
                     " s:I, s:s?}",
                     "run", r->rep + 1, "exit", r->status, "summary", r->has_summary,
                     "ok", (json_int_t)r->ok, "failed", (json_int_t)r->failed,
                     "bytes", (json_int_t)r->bytes, "wall_s", num(r->seconds, 3),
                     "max_inflight", (json_int_t)r->max_inflight,
                     "concurrency", (json_int_t)r->concurrency,
                     "cpu_s", num(r->cpu_s, 3), "peak_rss_mib", num(r->rss_mib, 1),
                     "threads", (json_int_t)r->threads,
                     "context_switches", (json_int_t)r->switches,
                     "latency_ms", "p50", num(r->p50_ms, 3), "p95", num(r->p95_ms, 3),
                     "p99", num(r->p99_ms, 3),
                     "har_entries", (json_int_t)r->har_entries,
                     "limit", r->limit[0] ? r->limit : NULL);
}

static json_t *point_json(const bench_t *b, int pi)
{
    const bench_point_t *p = &b->points[pi];
    const bench_stats_t *s = &b->stats[pi];
    json_t *each = json_array(), *o;

    for (int i = 0; each && i < b->nruns; i++)
        if (b->runs[i].point == pi)
            json_array_append_new(each, run_json(&b->runs[i]));
    if (s->runs == 0) {
        static const char *const none[] = {
            "requests", "wall_s", "wall_min_s", "wall_max_s", "requests_per_s", "mb_per_s",
            "latency_ms", "cpu_s", "peak_rss_mib", "threads", "max_inflight", "speedup", "limit",
            "context_switches",
        };
        o = json_pack("{s:s, s:I, s:i, s:I, s:o, s:I, s:b, s:s, s:o}",
                      "mode", crawl_mode_name(p->mode), "concurrency", (json_int_t)p->concurrency,
                      "runs", 0, "urls", (json_int_t)p->urls, "scale", num(p->scale, 6),
                      "failures", (json_int_t)0, "reached", 0, "problem", "no run gave a summary",
                      "each", each);
        for (size_t k = 0; o && k < sizeof(none) / sizeof(none[0]); k++)
            json_object_set_new(o, none[k], json_null());
        return o;
    }
    o = json_pack("{s:s, s:I, s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
                  " s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:b, s:s?, s:o}",
                  "mode", crawl_mode_name(p->mode), "concurrency", (json_int_t)p->concurrency,
                  "runs", s->runs, "urls", (json_int_t)p->urls, "scale", num(p->scale, 6),
                  "requests", num(s->reqs, 0), "wall_s", num(s->wall, 3),
                  "wall_min_s", num(s->wall_min, 3), "wall_max_s", num(s->wall_max, 3),
                  "requests_per_s", num(s->rps, 1), "mb_per_s", num(s->mbps, 2),
                  "latency_ms", "p50", num(s->p50, 1), "p95", num(s->p95, 1), "p99", num(s->p99, 1),
                  "cpu_s", num(s->cpu, 2), "peak_rss_mib", num(s->rss, 1),
                  "threads", num(s->threads, 0), "context_switches", num(s->switches, 0),
                  "max_inflight", num(s->inflight, 0),
                  "failures", (json_int_t)s->failures,
                  "speedup", s->speedup > 0 ? num(s->speedup, 1) : json_null(),
                  "reached", s->reached, "limit", s->reached ? NULL : s->limit, "each", each);
    if (o && !s->complete)
        json_object_set_new(o, "problem", json_string("a run gave no summary"));
    return o;
}

json_t *bench_json(const bench_t *b)
{
    const crawl_options_t *o = b->opts;
    json_t *conc = json_array(), *modes = json_array(), *points = json_array(), *verdict, *obj;
    struct bench_verdict v;
    char text[512];

    for (int i = 0; i < o->nsweep; i++)
        json_array_append_new(conc, json_integer(o->sweep[i]));
    for (int m = 0; m < b->nmodes; m++)
        json_array_append_new(modes, json_string(crawl_mode_name(b->modes[m])));
    for (int i = 0; i < b->npoints; i++)
        json_array_append_new(points, point_json(b, i));
    if (bench_verdict(b, &v)) {
        verdict_text(&v, text, sizeof(text));
        verdict = json_pack("{s:o, s:o, s:o, s:o, s:s}",
                            "concurrency", v.first ? json_integer(v.first) : json_null(),
                            "requests_per_s", v.rps ? json_integer(v.rps) : json_null(),
                            "cpu_s", v.cpu ? json_integer(v.cpu) : json_null(),
                            "peak_rss_mib", v.mem ? json_integer(v.mem) : json_null(),
                            "text", text);
    } else {
        verdict = json_null();
    }
    obj = json_pack("{s:I, s:I, s:o, s:o, s:i, s:b, s:o, s:{s:I, s:i, s:I, s:I, s:o}, s:o, s:o, s:o}",
                    "urls", (json_int_t)b->urls, "hosts", (json_int_t)b->hosts,
                    "concurrency", conc, "modes", modes, "repeat", (int)o->repeat,
                    "discard", o->discard,
                    "sync_limit", o->sync_limit > 0 ? json_integer(o->sync_limit) : json_null(),
                    "warmup", "requests", (json_int_t)b->hosts, "exit", b->warm.status,
                    "ok", (json_int_t)b->warm.ok, "failed", (json_int_t)b->warm.failed,
                    "seconds", num(b->warm.elapsed, 3),
                    "waterfall_concurrency", b->chart ? json_integer(b->waterfall) : json_null(),
                    "points", points, "verdict", verdict);
    return obj;
}
