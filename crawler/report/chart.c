/* crawl_chart: a hand-written SVG waterfall; one horizontal bar per request, its phases stacked
 * in colour, one panel per run, every panel on the same time axis. */
#include "crawler/report/chart.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/report/har.h"

/* Geometry in px. */
#define CHART_WIDTH 1200
#define CHART_LEFT 170          /* the margin holding each panel's name and totals */
#define CHART_RIGHT 30
#define CHART_TOP 84            /* title and legend */
#define CHART_PANEL_MAX 220     /* bars area of a panel at most: three panels fit 900 px */
#define CHART_PANEL_MIN 60
#define CHART_PITCH_MAX 5.0     /* a bar and its gap, at most */
#define CHART_PANEL_GAP 46      /* the tick labels under a panel and the space to the next */
#define CHART_FAILED_RESERVE 200  /* failed requests drawn beyond CRAWL_CHART_MAX_BARS */

enum { PHASE_CONNECT, PHASE_TLS, PHASE_WAIT, PHASE_RECEIVE, PHASE_FAILED, PHASE_COUNT };

static const struct {
    const char *colour;
    const char *name;
} chart_phases[PHASE_COUNT] = {
    { "#f39c12", "connect (DNS + TCP)" },
    { "#8e44ad", "TLS" },
    { "#27ae60", "waiting (first byte)" },
    { "#2980b9", "transfer" },
    { "#e74c3c", "failed" },
};

struct crawl_chart_panel {
    char *name, *label;
    int64_t origin_us;
    double wall_s;
    uint64_t expected, offered;
    crawl_chart_bar_t *bars;    /* the sample, then failures it missed */
    size_t nbars, nsampled, nextra;
    struct crawl_chart_panel *next;
};

struct crawl_chart {
    char *title;
    crawl_chart_panel_t *first, *last;
};

/* ---- data ---------------------------------------------------------------------------------- */

crawl_chart_t *crawl_chart_new(const char *title)
{
    crawl_chart_t *c = calloc(1, sizeof(*c));

    if (c && !(c->title = strdup(title))) {
        free(c);
        c = NULL;
    }
    return c;
}

void crawl_chart_free(crawl_chart_t *c)
{
    crawl_chart_panel_t *p, *next;

    if (!c)
        return;
    for (p = c->first; p; p = next) {
        next = p->next;
        free(p->name);
        free(p->label);
        free(p->bars);
        free(p);
    }
    free(c->title);
    free(c);
}

crawl_chart_panel_t *crawl_chart_panel_add(crawl_chart_t *c, const char *name, const char *label,
                                           int64_t origin_us, double wall_s, uint64_t expected)
{
    crawl_chart_panel_t *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->name = strdup(name);
    p->label = strdup(label);
    if (!p->name || !p->label) {
        free(p->name);
        free(p->label);
        free(p);
        return NULL;
    }
    p->origin_us = origin_us;
    p->wall_s = wall_s;
    p->expected = expected;
    if (c->last)
        c->last->next = p;
    else
        c->first = p;
    c->last = p;
    return p;
}

void crawl_chart_panel_set_origin(crawl_chart_panel_t *p, int64_t origin_us)
{
    p->origin_us = origin_us;
}

int crawl_chart_offer(crawl_chart_panel_t *p, const crawl_chart_bar_t *bar)
{
    uint64_t i = p->offered++;
    /* Request i is in the sample when i * MAX / expected steps to a new integer: MAX evenly
     * spaced ones. A failure the sample misses is drawn too, from a reserve of its own: it is
     * what the eye looks for. */
    int sampled = p->expected <= CRAWL_CHART_MAX_BARS ||
                  (i * CRAWL_CHART_MAX_BARS) % p->expected < CRAWL_CHART_MAX_BARS;

    if (sampled && p->nsampled < CRAWL_CHART_MAX_BARS)
        p->nsampled++;
    else if (bar->failed && p->nextra < CHART_FAILED_RESERVE)
        p->nextra++;
    else
        return 0;
    if (!p->bars &&
        !(p->bars = malloc((CRAWL_CHART_MAX_BARS + CHART_FAILED_RESERVE) * sizeof(*p->bars))))
        return -ENOMEM;
    p->bars[p->nbars++] = *bar;
    return 0;
}

static double chart_phase(const json_t *timings, const char *key)
{
    double v = json_number_value(json_object_get(timings, key));

    return v > 0 ? v : 0;
}

int crawl_chart_bar_from_har(const json_t *entry, crawl_chart_bar_t *bar)
{
    const json_t *timings = json_object_get(entry, "timings");
    const char *started = json_string_value(json_object_get(entry, "startedDateTime"));
    const json_t *response = json_object_get(entry, "response");
    json_int_t status = json_integer_value(json_object_get(response, "status"));
    double ssl;

    if (!json_is_object(timings) || !started || crawl_har_time_parse(started, &bar->start_us) < 0)
        return -EINVAL;
    ssl = chart_phase(timings, "ssl");
    bar->connect_ms = chart_phase(timings, "blocked") + chart_phase(timings, "dns") +
                      chart_phase(timings, "connect") - ssl;   /* HAR's connect includes TLS */
    if (bar->connect_ms < 0)
        bar->connect_ms = 0;
    bar->tls_ms = ssl;
    bar->wait_ms = chart_phase(timings, "send") + chart_phase(timings, "wait");
    bar->receive_ms = chart_phase(timings, "receive");
    bar->failed = json_object_get(entry, "_error") != NULL || status < 200 || status >= 400;
    return 0;
}

static int chart_bar_cmp(const void *a, const void *b)
{
    const crawl_chart_bar_t *x = a, *y = b;

    return x->start_us < y->start_us ? -1 : x->start_us > y->start_us;
}

/* ---- drawing ------------------------------------------------------------------------------- */

void crawl_chart_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;   /* HTML 4 has no &apos; */
        default:
            /* XML 1.0 has no place for other C0 controls. */
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                fputc(*s, f);
            break;
        }
    }
}

static double bar_end_s(const crawl_chart_panel_t *p, const crawl_chart_bar_t *b)
{
    return (double)(b->start_us - p->origin_us) / 1e6 +
           (b->connect_ms + b->tls_ms + b->wait_ms + b->receive_ms) / 1000.0;
}

/* A tick step of 1, 2 or 5 times a power of ten giving at most about 8 ticks up to max_s. */
static double chart_step(double max_s)
{
    double raw = max_s / 8, pow10 = pow(10, floor(log10(raw)));
    static const double mult[] = { 1, 2, 5, 10 };

    for (size_t i = 0; i < sizeof(mult) / sizeof(mult[0]); i++)
        if (mult[i] * pow10 >= raw)
            return mult[i] * pow10;
    return 10 * pow10;
}

static double panel_height(const crawl_chart_panel_t *p)
{
    double h = (double)p->nbars * CHART_PITCH_MAX;

    if (h > CHART_PANEL_MAX)
        h = CHART_PANEL_MAX;
    return h < CHART_PANEL_MIN ? CHART_PANEL_MIN : h;
}

static void chart_axis(FILE *f, double top, double height, double axis_s, double step, int decimals)
{
    double plot_w = CHART_WIDTH - CHART_LEFT - CHART_RIGHT;

    fprintf(f, "<g stroke=\"#e3e3e3\" stroke-width=\"1\">");
    for (int k = 0; k * step <= axis_s + step / 1000; k++) {
        double x = CHART_LEFT + k * step / axis_s * plot_w;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, top, x, top + height);
    }
    fprintf(f, "</g>\n<g font-size=\"11\" fill=\"#555\" text-anchor=\"middle\">");
    for (int k = 0; k * step <= axis_s + step / 1000; k++) {
        double x = CHART_LEFT + k * step / axis_s * plot_w;
        char label[32];
        size_t len = (size_t)snprintf(label, sizeof(label), "%.*f", decimals, k * step);

        while (decimals > 0 && len > 1 && label[len - 1] == '0')
            label[--len] = '\0';           /* "0.50" -> "0.5", "1.00" -> "1" */
        if (len > 0 && label[len - 1] == '.')
            label[--len] = '\0';
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s s</text>", x, top + height + 15, label);
    }
    fprintf(f, "</g>\n");
}

/* The rectangles of one phase for every bar of p, in one group of that colour. */
static void chart_phase_rects(FILE *f, const crawl_chart_panel_t *p, int phase, double top,
                              double pitch, double px_per_s)
{
    double bar_h = pitch >= 3 ? pitch - 1 : pitch;

    fprintf(f, "<g fill=\"%s\">", chart_phases[phase].colour);
    for (size_t i = 0; i < p->nbars; i++) {
        const crawl_chart_bar_t *b = &p->bars[i];
        double seg[4] = { b->connect_ms, b->tls_ms, b->wait_ms, b->receive_ms };
        double x = CHART_LEFT + (double)(b->start_us - p->origin_us) / 1e6 * px_per_s;
        double total = 0;

        if (x < CHART_LEFT)
            x = CHART_LEFT;
        for (int k = 0; k < 4; k++) {
            seg[k] = seg[k] / 1000.0 * px_per_s;
            total += seg[k];
        }
        if (total < 1)
            seg[3] += 1 - total;        /* every request stays visible */
        if (b->failed) {
            /* At least 2 px square, even among bars thinner than a pixel. */
            if (phase == PHASE_FAILED)
                fprintf(f, "<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\"/>", x,
                        top + (double)i * pitch, total < 2 ? 2 : total, bar_h < 2 ? 2 : bar_h);
            continue;
        }
        if (phase == PHASE_FAILED)
            continue;
        for (int k = 0; k < phase; k++)
            x += seg[k];
        if (seg[phase] > 0.05)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\"/>", x,
                    top + (double)i * pitch, seg[phase], bar_h);
    }
    fprintf(f, "</g>\n");
}

static double chart_panel(FILE *f, crawl_chart_panel_t *p, double top, double axis_s, double step,
                          int decimals)
{
    double plot_w = CHART_WIDTH - CHART_LEFT - CHART_RIGHT;
    double height = panel_height(p);
    double pitch = p->nbars ? height / (double)p->nbars : 0;
    double px_per_s = plot_w / axis_s;
    char line[96];

    if (pitch > CHART_PITCH_MAX)
        pitch = CHART_PITCH_MAX;
    qsort(p->bars, p->nbars, sizeof(*p->bars), chart_bar_cmp);
    fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" "
               "stroke=\"#cccccc\"/>\n", CHART_LEFT, top, plot_w, height);
    chart_axis(f, top, height, axis_s, step, decimals);
    fprintf(f, "<text x=\"12\" y=\"%.1f\" font-size=\"17\" font-weight=\"bold\" fill=\"#222\">", top + 17);
    crawl_chart_escape(f, p->name);
    fprintf(f, "</text>\n<text x=\"12\" y=\"%.1f\" font-size=\"12\" fill=\"#444\">", top + 36);
    crawl_chart_escape(f, p->label);
    fprintf(f, "</text>\n");
    if (p->offered > p->nbars) {
        snprintf(line, sizeof(line), "%zu of %llu drawn", p->nbars, (unsigned long long)p->offered);
        fprintf(f, "<text x=\"12\" y=\"%.1f\" font-size=\"11\" fill=\"#777\">", top + 52);
        crawl_chart_escape(f, line);
        fprintf(f, "</text>\n");
    }
    if (p->nbars == 0) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#777\">no request</text>\n",
                CHART_LEFT + 10.0, top + height / 2);
        return height;
    }
    for (int phase = 0; phase < PHASE_COUNT; phase++)
        chart_phase_rects(f, p, phase, top, pitch, px_per_s);
    return height;
}

static void chart_legend(FILE *f)
{
    double x = CHART_LEFT;

    fprintf(f, "<g font-size=\"12\" fill=\"#333\">");
    for (int k = 0; k < PHASE_COUNT; k++) {
        fprintf(f, "<rect x=\"%.1f\" y=\"50\" width=\"12\" height=\"12\" fill=\"%s\"/>", x,
                chart_phases[k].colour);
        fprintf(f, "<text x=\"%.1f\" y=\"60\">", x + 17);
        crawl_chart_escape(f, chart_phases[k].name);
        fprintf(f, "</text>");
        x += 185;                    /* wider than the longest name at this size */
    }
    fprintf(f, "</g>\n");
}

int crawl_chart_write_stream(const crawl_chart_t *c, FILE *f, int standalone)
{
    double max_s = 0, height = CHART_TOP, step, axis_s, top;
    int decimals;
    crawl_chart_panel_t *p;

    for (p = c->first; p; p = p->next) {
        if (p->wall_s > max_s)
            max_s = p->wall_s;
        for (size_t i = 0; i < p->nbars; i++)
            if (bar_end_s(p, &p->bars[i]) > max_s)
                max_s = bar_end_s(p, &p->bars[i]);
        height += panel_height(p) + CHART_PANEL_GAP;
    }
    if (!(max_s > 0.001))
        max_s = 0.001;
    step = chart_step(max_s);
    axis_s = ceil(max_s / step - 1e-9) * step;
    decimals = step < 1 ? (int)ceil(-log10(step) - 1e-9) : 0;

    if (standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
               "viewBox=\"0 0 %d %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
            CHART_WIDTH, height, CHART_WIDTH, height);
    fprintf(f, "<title>");
    crawl_chart_escape(f, c->title);
    fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
               "<text x=\"12\" y=\"30\" font-size=\"19\" font-weight=\"bold\" fill=\"#111\">");
    crawl_chart_escape(f, c->title);
    fprintf(f, "</text>\n");
    chart_legend(f);
    top = CHART_TOP;
    for (p = c->first; p; p = p->next)
        top += chart_panel(f, p, top, axis_s, step, decimals) + CHART_PANEL_GAP;
    fprintf(f, "</svg>\n");
    return ferror(f) ? -EIO : 0;
}

int crawl_chart_write(const crawl_chart_t *c, const char *path)
{
    FILE *f;
    int result;

    f = fopen(path, "we");
    if (!f)
        return -errno;
    errno = 0;
    result = crawl_chart_write_stream(c, f, 1);
    if (result < 0 && errno)
        result = -errno;
    if (fclose(f) != 0 && result == 0)
        result = -errno;
    if (result < 0)
        remove(path);
    return result;
}
