/* bench_report: one HTML file with inline CSS and SVG, no script to run and nothing to fetch:
 * line charts of a bench sweep against concurrency, their numbers, the waterfall, every point,
 * and the sweep's JSON. */
#include "crawler/bench/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Geometry of a line chart, in px. */
#define REP_W 900
#define REP_H 360
#define REP_LEFT 78             /* y tick labels and the y axis title */
#define REP_RIGHT (REP_W - 24)
#define REP_TOP 64              /* title and legend */
#define REP_BOTTOM (REP_H - 56) /* x tick labels and the x axis title */
#define REP_PAD 30              /* inside the plot area, so edge markers stay clear of the frame */
#define REP_DASH "\xe2\x80\x94" /* U+2014, shown for a value that is missing */

/* The modes in their fixed colours (and marker shapes, for whoever does not see the colours). */
enum { SHAPE_SQUARE, SHAPE_DIAMOND, SHAPE_CIRCLE };
static const struct {
    const char *name, *colour;
    int shape;
} rep_modes[] = {
    { "sync", "#d35400", SHAPE_SQUARE },
    { "threads", "#2471a3", SHAPE_DIAMOND },
    { "async", "#1e8449", SHAPE_CIRCLE },
};
#define REP_MODES ((int)(sizeof(rep_modes) / sizeof(rep_modes[0])))

/* The line charts: what is plotted, how it is labelled and rounded. */
static const struct rep_metric {
    const char *key;            /* data-metric, and the path into a point (but cpu_s_scaled) */
    const char *id, *title, *y_label, *unit;  /* id: of the chart's block in the page */
    int decimals;
    int reference;              /* sync drawn as a dashed line across the axis too */
} rep_metrics[] = {
    { "requests_per_s", "throughput", "Throughput (higher is better)", "requests per second",
      "req/s", 1, 1 },
    { "latency_ms.p95", "latency", "95th percentile latency (lower is better)", "p95 latency (ms)",
      "ms", 1, 0 },
    { "cpu_s_scaled", "cpu", "CPU time for the whole list (lower is better)", "CPU seconds",
      "s", 3, 0 },
    { "peak_rss_mib", "memory", "Peak memory (lower is better)", "peak RSS (MiB)", "MiB", 1, 0 },
};

/* The columns of the table of every point after c and mode: header, path, decimals. */
static const struct {
    const char *header, *path;
    int decimals;
} rep_columns[] = {
    { "requests", "requests", 0 },      { "wall s", "wall_s", 3 },
    { "req/s", "requests_per_s", 1 },   { "MB/s", "mb_per_s", 2 },
    { "p50 ms", "latency_ms.p50", 1 },  { "p95 ms", "latency_ms.p95", 1 },
    { "p99 ms", "latency_ms.p99", 1 },  { "CPU s", "cpu_s", 3 },
    { "peak RSS MiB", "peak_rss_mib", 1 }, { "threads", "threads", 0 },
    { "in flight", "max_inflight", 0 }, { "failures", "failures", 0 },
    { "speedup", "speedup", 1 },        { "ctx switches", "context_switches", 0 },
};

/* ---- values -------------------------------------------------------------------------------- */

/* The number at a dotted path ("latency_ms.p95") of obj: 1 and *v, or 0 when missing or null. */
static int rep_path(const json_t *obj, const char *path, double *v)
{
    char key[64];
    const char *dot;

    while ((dot = strchr(path, '.'))) {
        size_t n = (size_t)(dot - path);

        if (n >= sizeof(key))
            return 0;
        memcpy(key, path, n);
        key[n] = '\0';
        obj = json_object_get(obj, key);
        path = dot + 1;
    }
    obj = json_object_get(obj, path);
    if (!json_is_number(obj))
        return 0;
    *v = json_number_value(obj);
    return 1;
}

/* The factor that turns what sync fetched under --sync-limit into the whole list. */
static double rep_scale(const json_t *point)
{
    double scale;

    return rep_path(point, "scale", &scale) && scale > 0 ? scale : 1;
}

/* What metric m plots for point: 1 and *v, or 0 when there is nothing to plot. */
static int rep_metric_value(const struct rep_metric *m, const json_t *point, double *v)
{
    if (strcmp(m->key, "cpu_s_scaled") == 0) {
        if (!rep_path(point, "cpu_s", v))
            return 0;
        *v *= rep_scale(point);
        return 1;
    }
    return rep_path(point, m->key, v);
}

/* v printed with decimals into buf, and *plotted set to what was printed: the chart, its hover
 * title and its tables all show one number. */
static const char *rep_fmt(char *buf, size_t n, double v, int decimals, double *plotted)
{
    snprintf(buf, n, "%.*f", decimals, v);
    if (plotted)
        *plotted = strtod(buf, NULL);
    return buf;
}

static int rep_mode_index(const json_t *point)
{
    const char *mode = json_string_value(json_object_get(point, "mode"));

    for (int k = 0; mode && k < REP_MODES; k++)
        if (strcmp(mode, rep_modes[k].name) == 0)
            return k;
    return -1;
}

static double rep_concurrency(const json_t *point)
{
    double c;

    return rep_path(point, "concurrency", &c) && c >= 1 ? c : 1;
}

/* ---- HTML ---------------------------------------------------------------------------------- */


/* The integer at key of obj, or -1 when it is not a number. */
static double rep_count(const json_t *obj, const char *key)
{
    double v;

    return rep_path(obj, key, &v) ? v : -1;
}

static const char rep_style[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;color:#222;margin:16px auto;"
    "max-width:1240px;padding:0 12px;font-size:14px}\n"
    "h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:22px 0 6px}\n"
    "p.header{color:#444}\n"
    "p.verdict{background:#fff3cd;border-left:5px solid #d4a017;padding:10px 14px;"
    "font-size:16px;font-weight:bold}\n"
    ".row{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start;margin:14px 0}\n"
    "svg.chart{flex:none;border:1px solid #ddd}\n"
    ".waterfall svg{max-width:100%;height:auto;border:1px solid #ddd}\n"
    "table{border-collapse:collapse;font-size:12px}\n"
    "th,td{padding:2px 7px;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}\n"
    "th{background:#f2f2f2}td.mode,td.note,th.note{text-align:left}\n"
    "td.note{white-space:normal;color:#8a4b00}table.points td.note{min-width:200px}\n"
    "tr.failed td{background:#fdecea}\n"
    "p.rules{color:#666;font-size:12px}\n";

static void rep_header(FILE *f, const json_t *bench, const char *title)
{
    const json_t *v, *warm = json_object_get(bench, "warmup");
    const char *verdict = json_string_value(json_object_get(json_object_get(bench, "verdict"),
                                                            "text"));
    double urls = rep_count(bench, "urls"), hosts = rep_count(bench, "hosts");
    double repeat = rep_count(bench, "repeat"), limit;
    size_t i;

    fprintf(f, "<h1>");
    crawl_chart_escape(f, title);
    fprintf(f, "</h1>\n<p class=\"header\">%.0f URL%s on %.0f host%s &middot; modes ",
            urls < 0 ? 0 : urls, urls == 1 ? "" : "s", hosts < 0 ? 0 : hosts, hosts == 1 ? "" : "s");
    json_array_foreach(json_object_get(bench, "modes"), i, v) {
        fputs(i ? ", " : "", f);
        crawl_chart_escape(f, json_string_value(v));
    }
    fprintf(f, " &middot; -c ");
    json_array_foreach(json_object_get(bench, "concurrency"), i, v)
        fprintf(f, "%s%.0f", i ? ", " : "", json_number_value(v));
    fprintf(f, " &middot; %.0f run%s per point (medians)", repeat < 1 ? 1 : repeat,
            repeat == 1 ? "" : "s");
    if (rep_path(bench, "sync_limit", &limit))
        fprintf(f, " &middot; sync limited to the first %.0f URLs (its CPU time scaled to the "
                   "whole list in the CPU chart)", limit);
    else
        fprintf(f, " &middot; no sync limit");
    fprintf(f, " &middot; bodies %s</p>\n",
            json_is_true(json_object_get(bench, "discard")) ? "discarded" : "written to disk");
    if (json_is_object(warm)) {
        char s[48];
        double secs;

        fprintf(f, "<p class=\"header\">warm-up: %.0f request(s), %.0f ok, %.0f failed, in %s s</p>\n",
                rep_count(warm, "requests"), rep_count(warm, "ok"), rep_count(warm, "failed"),
                rep_path(warm, "seconds", &secs) ? rep_fmt(s, sizeof(s), secs, 3, NULL) : REP_DASH);
    }
    fprintf(f, "<p class=\"verdict\">");
    crawl_chart_escape(f, verdict ? verdict : "no verdict: the sweep gave none");
    fprintf(f, "</p>\n");
}

/* ---- line charts --------------------------------------------------------------------------- */

struct rep_axes {
    int lo_exp, hi_exp;         /* x from 10^lo_exp to 10^hi_exp */
    double top, step;           /* y from 0 to top */
    int decimals;               /* of the y tick labels */
};

static double rep_x(const struct rep_axes *a, double c)
{
    return REP_LEFT + REP_PAD + (log10(c) - a->lo_exp) / (a->hi_exp - a->lo_exp) *
                                    (REP_RIGHT - REP_LEFT - 2 * REP_PAD);
}

static double rep_y(const struct rep_axes *a, double v)
{
    return REP_BOTTOM - v / a->top * (REP_BOTTOM - REP_TOP);
}

/* Log x over the decades holding every concurrency (at least one decade: a single -c 100 gets
 * 10..1000), linear y from 0 to a round number above the largest plotted value. */
static void rep_axes_init(struct rep_axes *a, const struct rep_metric *m, const json_t *points)
{
    double cmin = 0, cmax = 0, vmax = 0, v, raw, pow10;
    static const double mult[] = { 1, 2, 5, 10 };
    const json_t *p;
    size_t i;
    char s[48];

    json_array_foreach(points, i, p) {
        double c = rep_concurrency(p);

        if (cmin == 0 || c < cmin)
            cmin = c;
        if (c > cmax)
            cmax = c;
        if (rep_metric_value(m, p, &v)) {
            rep_fmt(s, sizeof(s), v, m->decimals, &v);
            if (v > vmax)
                vmax = v;
        }
    }
    if (cmin == 0)
        cmin = cmax = 1;
    a->lo_exp = (int)floor(log10(cmin) + 1e-9);
    a->hi_exp = (int)ceil(log10(cmax) - 1e-9);
    if (a->hi_exp <= a->lo_exp) {      /* one power of ten: a decade either side of it */
        if (a->lo_exp > 0)
            a->lo_exp--;
        a->hi_exp = (int)ceil(log10(cmax) - 1e-9) + 1;
    }
    if (!(vmax > 0)) {
        a->top = 1;
        a->step = 0.2;
    } else {
        raw = vmax / 5;
        pow10 = pow(10, floor(log10(raw)));
        a->step = 10 * pow10;
        for (size_t k = 0; k < sizeof(mult) / sizeof(mult[0]); k++)
            if (mult[k] * pow10 >= raw) {
                a->step = mult[k] * pow10;
                break;
            }
        a->top = ceil(vmax / a->step - 1e-9) * a->step;
    }
    a->decimals = a->step < 1 ? (int)ceil(-log10(a->step) - 1e-9) : 0;
}

static void rep_marker(FILE *f, int mode, double x, double y, const char *cls)
{
    const char *colour = rep_modes[mode].colour;

    switch (rep_modes[mode].shape) {
    case SHAPE_SQUARE:
        fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\" "
                   "stroke=\"#fff\"", cls, x - 5, y - 5, colour);
        break;
    case SHAPE_DIAMOND:
        fprintf(f, "<path class=\"%s\" d=\"M%.1f %.1fl6 6l-6 6l-6 -6z\" fill=\"%s\" stroke=\"#fff\"",
                cls, x, y - 6, colour);
        break;
    default:
        fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"%s\" "
                   "stroke=\"#fff\"", cls, x, y, colour);
        break;
    }
}

static const char *rep_marker_end(int mode)
{
    switch (rep_modes[mode].shape) {
    case SHAPE_SQUARE: return "</rect>";
    case SHAPE_DIAMOND: return "</path>";
    default: return "</circle>";
    }
}

/* Which modes appear in the sweep: named in bench.modes or having a point. */
static void rep_modes_present(const json_t *bench, int present[REP_MODES])
{
    const json_t *v;
    size_t i;

    for (int k = 0; k < REP_MODES; k++)
        present[k] = 0;
    json_array_foreach(json_object_get(bench, "modes"), i, v)
        for (int k = 0; k < REP_MODES; k++)
            if (json_string_value(v) && strcmp(json_string_value(v), rep_modes[k].name) == 0)
                present[k] = 1;
    json_array_foreach(json_object_get(bench, "points"), i, v)
        if (rep_mode_index(v) >= 0)
            present[rep_mode_index(v)] = 1;
}

static void rep_frame(FILE *f, const struct rep_metric *m, const struct rep_axes *a,
                      const int present[REP_MODES])
{
    double lx = REP_LEFT;
    char s[48];

    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
               "<text x=\"14\" y=\"26\" font-size=\"17\" font-weight=\"bold\" fill=\"#111\">%s</text>\n",
            REP_W, REP_H, m->title);
    fprintf(f, "<g class=\"legend\" font-size=\"13\" fill=\"#333\">");
    for (int k = 0; k < REP_MODES; k++) {
        if (!present[k])
            continue;
        fprintf(f, "<line x1=\"%.1f\" y1=\"46\" x2=\"%.1f\" y2=\"46\" stroke=\"%s\" stroke-width=\"2.5\"/>",
                lx, lx + 26, rep_modes[k].colour);
        rep_marker(f, k, lx + 13, 46, "legend-marker");
        fprintf(f, "/><text x=\"%.1f\" y=\"51\">%s</text>", lx + 32, rep_modes[k].name);
        lx += 110;
    }
    fprintf(f, "</g>\n<rect class=\"plot-area\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "fill=\"#fafafa\" stroke=\"#bbbbbb\"/>\n",
            REP_LEFT, REP_TOP, REP_RIGHT - REP_LEFT, REP_BOTTOM - REP_TOP);
    /* y grid and ticks */
    fprintf(f, "<g class=\"y-ticks\" font-size=\"12\" fill=\"#555\" text-anchor=\"end\">");
    for (int k = 0; k * a->step <= a->top * (1 + 1e-9); k++) {
        double y = rep_y(a, k * a->step);

        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e2e2e2\"/>"
                   "<text x=\"%d\" y=\"%.1f\">%s</text>",
                REP_LEFT, y, REP_RIGHT, y, REP_LEFT - 6, y + 4,
                rep_fmt(s, sizeof(s), k * a->step, a->decimals, NULL));
    }
    fprintf(f, "</g>\n<g class=\"x-ticks\" font-size=\"12\" fill=\"#555\" text-anchor=\"middle\">");
    for (int e = a->lo_exp; e <= a->hi_exp; e++) {
        double x = rep_x(a, pow(10, e));

        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e2e2e2\"/>"
                   "<text x=\"%.1f\" y=\"%d\">%.0f</text>",
                x, REP_TOP, x, REP_BOTTOM, x, REP_BOTTOM + 17, pow(10, e));
    }
    fprintf(f, "</g>\n<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#333\" text-anchor=\"middle\">"
               "concurrency (-c), log scale</text>\n",
            (REP_LEFT + REP_RIGHT) / 2, REP_H - 14);
    fprintf(f, "<text transform=\"translate(20 %d) rotate(-90)\" font-size=\"13\" fill=\"#333\" "
               "text-anchor=\"middle\">%s</text>\n", (REP_TOP + REP_BOTTOM) / 2, m->y_label);
}

/* The dashed line of sync's value across the plot, labelled at its right end. */
static void rep_reference(FILE *f, const struct rep_metric *m, const struct rep_axes *a,
                          const json_t *points)
{
    const json_t *p;
    size_t i;
    double v;
    char s[48];

    json_array_foreach(points, i, p) {
        double y;

        if (rep_mode_index(p) != 0 || !rep_metric_value(m, p, &v))
            continue;
        rep_fmt(s, sizeof(s), v, m->decimals, &v);
        y = rep_y(a, v);
        fprintf(f, "<g class=\"reference\"><line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                   "stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
                   "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" fill=\"%s\" text-anchor=\"end\">"
                   "sync, one at a time: %s %s</text></g>\n",
                REP_LEFT, y, REP_RIGHT, y, rep_modes[0].colour, REP_RIGHT - 6,
                y - REP_TOP < 18 ? y + 15 : y - 6, rep_modes[0].colour, s, m->unit);
        return;
    }
}

/* One mode's line (broken where a point has no value) and its markers with hover titles. */
static void rep_series(FILE *f, const struct rep_metric *m, const struct rep_axes *a,
                       const json_t *points, int mode)
{
    const json_t *p;
    size_t i;
    int started = 0, segments = 0;
    double v;
    char s[48];

    fprintf(f, "<g class=\"series\" data-mode=\"%s\"><path d=\"", rep_modes[mode].name);
    json_array_foreach(points, i, p) {
        if (rep_mode_index(p) != mode)
            continue;
        if (!rep_metric_value(m, p, &v)) {
            started = 0;
            continue;
        }
        rep_fmt(s, sizeof(s), v, m->decimals, &v);
        fprintf(f, "%s%.1f %.1f", started ? "L" : "M", rep_x(a, rep_concurrency(p)), rep_y(a, v));
        segments += started;
        started = 1;
    }
    fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"/>\n", rep_modes[mode].colour,
            segments ? "2.5" : "0");
    json_array_foreach(points, i, p) {
        double c = rep_concurrency(p);

        if (rep_mode_index(p) != mode || !rep_metric_value(m, p, &v))
            continue;
        rep_fmt(s, sizeof(s), v, m->decimals, &v);
        rep_marker(f, mode, rep_x(a, c), rep_y(a, v), "marker");
        fprintf(f, " data-mode=\"%s\" data-c=\"%.0f\" data-value=\"%s\"><title>%s, -c %.0f: %s %s"
                   "</title>%s\n", rep_modes[mode].name, c, s, rep_modes[mode].name, c, s, m->unit,
                rep_marker_end(mode));
    }
    fprintf(f, "</g>\n");
}

/* The numbers of one chart: a row per point, as plotted. */
static void rep_chart_table(FILE *f, const struct rep_metric *m, const json_t *points)
{
    const json_t *p;
    size_t i;
    double v;
    char s[48];

    fprintf(f, "<table class=\"chart-data\" data-metric=\"%s\"><thead><tr><th class=\"note\">mode"
               "</th><th>-c</th><th>%s</th><th class=\"note\">note</th></tr></thead><tbody>\n",
            m->key, m->unit);
    json_array_foreach(points, i, p) {
        double runs = rep_count(p, "runs"), scale = rep_scale(p);
        int has = rep_metric_value(m, p, &v);

        fprintf(f, "<tr%s><td class=\"mode\">", runs == 0 ? " class=\"failed\"" : "");
        crawl_chart_escape(f, json_string_value(json_object_get(p, "mode")));
        fprintf(f, "</td><td>%.0f</td><td>%s</td><td class=\"note\">", rep_concurrency(p),
                has ? rep_fmt(s, sizeof(s), v, m->decimals, NULL) : REP_DASH);
        if (runs == 0)
            fprintf(f, "every run failed");
        else if (!has)
            fprintf(f, "no value");
        else if (strcmp(m->key, "cpu_s_scaled") == 0 && scale != 1)
            fprintf(f, "%s s x %g", rep_fmt(s, sizeof(s), v / scale, 3, NULL), scale);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</tbody></table>\n");
}

static void rep_chart(FILE *f, const struct rep_metric *m, const json_t *bench)
{
    const json_t *points = json_object_get(bench, "points"), *p;
    struct rep_axes a;
    int present[REP_MODES], any = 0;
    size_t i;
    double v;

    rep_axes_init(&a, m, points);
    rep_modes_present(bench, present);
    fprintf(f, "<div class=\"row\" id=\"%s\">\n<svg class=\"chart\" data-metric=\"%s\" "
               "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<title>%s</title>\n",
            m->id, m->key, REP_W, REP_H, REP_W, REP_H, m->title);
    rep_frame(f, m, &a, present);
    if (m->reference)
        rep_reference(f, m, &a, points);
    for (int k = 0; k < REP_MODES; k++)
        if (present[k])
            rep_series(f, m, &a, points, k);
    json_array_foreach(points, i, p)
        any |= rep_mode_index(p) >= 0 && rep_metric_value(m, p, &v);
    if (!any)
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\" fill=\"#777\" text-anchor=\"middle\">"
                   "no data: no point has a value</text>\n",
                (REP_LEFT + REP_RIGHT) / 2, (REP_TOP + REP_BOTTOM) / 2);
    fprintf(f, "</svg>\n");
    rep_chart_table(f, m, points);
    fprintf(f, "</div>\n");
}

/* ---- the table of every point, the waterfall, the JSON ------------------------------------- */

static void rep_points(FILE *f, const json_t *bench)
{
    const json_t *p;
    size_t i;
    char s[48];

    fprintf(f, "<h2>Every point</h2>\n<table class=\"points\"><thead><tr><th>-c</th>"
               "<th class=\"note\">mode</th>");
    for (size_t k = 0; k < sizeof(rep_columns) / sizeof(rep_columns[0]); k++)
        fprintf(f, "<th>%s</th>", rep_columns[k].header);
    fprintf(f, "<th class=\"note\">note</th></tr></thead><tbody>\n");
    json_array_foreach(json_object_get(bench, "points"), i, p) {
        const json_t *reached = json_object_get(p, "reached");
        const char *limit = json_string_value(json_object_get(p, "limit"));
        double runs = rep_count(p, "runs"), scale = rep_scale(p), urls = rep_count(p, "urls");
        double lo, hi, v;
        const char *sep = "";

        fprintf(f, "<tr%s><td>%.0f</td><td class=\"mode\">", runs == 0 ? " class=\"failed\"" : "",
                rep_concurrency(p));
        crawl_chart_escape(f, json_string_value(json_object_get(p, "mode")));
        fprintf(f, "</td>");
        for (size_t k = 0; k < sizeof(rep_columns) / sizeof(rep_columns[0]); k++) {
            int has = rep_path(p, rep_columns[k].path, &v);

            if (strcmp(rep_columns[k].path, "wall_s") == 0 && rep_path(p, "wall_min_s", &lo) &&
                rep_path(p, "wall_max_s", &hi))
                fprintf(f, "<td title=\"%.3f to %.3f s over %.0f runs\">", lo, hi, runs);
            else
                fprintf(f, "<td>");
            fprintf(f, "%s</td>", has ? rep_fmt(s, sizeof(s), v, rep_columns[k].decimals, NULL)
                                      : REP_DASH);
        }
        fprintf(f, "<td class=\"note\">");
        if (runs == 0) {
            fprintf(f, "every run failed");
            sep = "; ";
        }
        if (json_is_false(reached)) {
            fputs(sep, f);
            crawl_chart_escape(f, limit ? limit : "did not reach its concurrency");
            sep = "; ";
        }
        if (scale != 1)
            fprintf(f, "%sfetched %.0f URLs: the charts scale its CPU time x %g", sep, urls, scale);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</tbody></table>\n");
}

static int rep_waterfall(FILE *f, const json_t *bench, const crawl_chart_t *waterfall)
{
    double c;

    if (!rep_path(bench, "waterfall_concurrency", &c))
        return 0;
    fprintf(f, "<h2>Waterfall of each mode at -c %.0f</h2>\n<div class=\"waterfall\">\n", c);
    if (!waterfall)
        fprintf(f, "<p>no waterfall was recorded</p>\n");
    else if (crawl_chart_write_stream(waterfall, f, 0) < 0)
        return -EIO;
    fprintf(f, "</div>\n");
    return 0;
}

/* bench as JSON inside <script type="application/json">: "</" and "<!--" are written with a JSON
 * escape, so that no string in it can end the element or change how it is parsed. */
static int rep_json(FILE *f, const json_t *bench)
{
    char *text = json_dumps(bench, JSON_COMPACT);

    if (!text)
        return -ENOMEM;
    fprintf(f, "<script type=\"application/json\" id=\"bench-data\">");
    for (const char *s = text; *s; s++) {
        if (s[0] == '<' && s[1] == '/') {
            fputs("<\\/", f);
            s++;
        } else if (strncmp(s, "<!--", 4) == 0) {
            fputs("<\\u0021--", f);
            s += 3;
        } else {
            fputc(*s, f);
        }
    }
    fprintf(f, "</script>\n");
    free(text);
    return 0;
}

static int rep_page(FILE *f, const json_t *bench, const crawl_chart_t *waterfall)
{
    const char *title = json_string_value(json_object_get(bench, "title"));
    int result;

    if (!title)
        title = "gather bench";
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
    crawl_chart_escape(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", rep_style);
    rep_header(f, bench, title);
    for (size_t k = 0; k < sizeof(rep_metrics) / sizeof(rep_metrics[0]); k++)
        rep_chart(f, &rep_metrics[k], bench);
    if ((result = rep_waterfall(f, bench, waterfall)) < 0)
        return result;
    rep_points(f, bench);
    fprintf(f, "<p class=\"rules\">Each number is the median of a point's runs, printed to 1 "
               "decimal (req/s, ms, MiB, speedup), 2 (MB/s) or 3 (seconds), and plotted at the "
               "printed value. The CPU chart is for the whole list: sync's CPU time is scaled "
               "there when --sync-limit cut its list. &mdash; means no value (every run "
               "failed).</p>\n");
    if ((result = rep_json(f, bench)) < 0)
        return result;
    fprintf(f, "</body>\n</html>\n");
    return 0;
}

int bench_report_write(const char *path, const json_t *bench, const crawl_chart_t *waterfall)
{
    size_t n = strlen(path);
    char *tmp = NULL;
    FILE *f = NULL;
    int result = 0;

    if (!json_is_object(bench) || !json_is_array(json_object_get(bench, "points")))
        return -EINVAL;
    if (!(tmp = malloc(n + sizeof(".tmp"))))
        return -ENOMEM;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", sizeof(".tmp"));
    if (!(f = fopen(tmp, "we"))) {
        result = -errno;
        goto cleanup;
    }
    errno = 0;
    result = rep_page(f, bench, waterfall);
    if (result == 0 && (ferror(f) || fflush(f) != 0))
        result = errno ? -errno : -EIO;
    if (fclose(f) != 0 && result == 0)
        result = -errno;
    f = NULL;
    if (result == 0 && rename(tmp, path) != 0)
        result = -errno;
    if (result < 0)
        remove(tmp);
cleanup:
    free(tmp);
    return result;
}
