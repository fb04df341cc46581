/* crawl_chart: an SVG waterfall of requests, one panel per run on a shared time axis. */
#ifndef CRAWLER_CHART_H
#define CRAWLER_CHART_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Bars drawn per panel at most: beyond it the requests are sampled evenly (plus up to 200
 * failures the sample missed), so a run of a million URLs still makes a file of a few hundred
 * KiB that a browser draws at once. */
#define CRAWL_CHART_MAX_BARS 2000

/* One request: when it started and how long each phase lasted. */
typedef struct crawl_chart_bar {
    int64_t start_us;           /* wall clock, µs since the epoch */
    double connect_ms;          /* queueing, DNS and TCP connect */
    double tls_ms;
    double wait_ms;             /* sending, then waiting for the first byte */
    double receive_ms;          /* the body */
    int failed;
} crawl_chart_bar_t;

typedef struct crawl_chart crawl_chart_t;
typedef struct crawl_chart_panel crawl_chart_panel_t;

/* A chart with a title (copied). NULL when out of memory. Free with crawl_chart_free. */
crawl_chart_t *crawl_chart_new(const char *title);
void crawl_chart_free(crawl_chart_t *c);

/* Adds a panel below the others. name and label (a line of totals) are copied. Time 0 of the
 * panel is origin_us (wall clock); wall_s is how long the run took, so that the shared axis
 * covers it even when the last bar ends earlier. expected is how many bars will be offered: past
 * CRAWL_CHART_MAX_BARS an even sample of them is kept. The chart owns the panel; NULL when out
 * of memory. */
crawl_chart_panel_t *crawl_chart_panel_add(crawl_chart_t *c, const char *name, const char *label,
                                           int64_t origin_us, double wall_s, uint64_t expected);

/* Sets time 0 of the panel (when it was not known at crawl_chart_panel_add). */
void crawl_chart_panel_set_origin(crawl_chart_panel_t *p, int64_t origin_us);

/* Offers one bar to the panel, which keeps it or not (sampling). Returns 0 or -ENOMEM. */
int crawl_chart_offer(crawl_chart_panel_t *p, const crawl_chart_bar_t *bar);

/* Fills bar from a HAR 1.2 entry (startedDateTime, timings, _error or status). Returns 0 or
 * -EINVAL when the entry lacks them. */
int crawl_chart_bar_from_har(const json_t *entry, crawl_chart_bar_t *bar);

/* Writes the SVG to out, which stays open and owned by the caller. standalone 1 starts with the
 * XML declaration (a .svg file); 0 leaves it out, so that the <svg> element embeds in an HTML
 * page. Returns 0, or -EIO when out reports an error (what was written stays written). */
int crawl_chart_write_stream(const crawl_chart_t *c, FILE *out, int standalone);

/* Writes s as XML/HTML text or attribute value (& < > " ' escaped; C0 controls but tab and
 * newline dropped). NULL writes nothing. */
void crawl_chart_escape(FILE *f, const char *s);

/* Writes the SVG to path (crawl_chart_write_stream, standalone). Returns 0 or a negative errno (a partial file is removed). */
int crawl_chart_write(const crawl_chart_t *c, const char *path);

#endif
