/* bench_report: the self-contained HTML page of a `gather bench` sweep (--report FILE.html). */
#ifndef CRAWLER_BENCH_REPORT_H
#define CRAWLER_BENCH_REPORT_H

#include <jansson.h>

#include "crawler/report/chart.h"

/* Writes the self-contained HTML report of a bench sweep to path, through path.tmp and a rename,
 * so that path is never a half-written file; on failure neither path (unless it was there
 * before) nor path.tmp is left. bench is the inner object of `gather bench --json`
 * ({"urls", "hosts", "concurrency", "modes", "repeat", "points", "verdict", ...}) and is only
 * read; waterfall (may be NULL) is the waterfall chart drawn at bench.waterfall_concurrency,
 * embedded as inline SVG. Returns 0, -EINVAL when bench is not an object with a "points" array,
 * or the negative errno of the failed open, write or rename.
 *
 * The page needs no network and runs no script. It holds four line charts
 * (<svg class="chart" data-metric="M">, M one of requests_per_s, latency_ms.p95, cpu_s_scaled,
 * peak_rss_mib), each followed by <table class="chart-data" data-metric="M">, the waterfall,
 * the table of every point (<table class="points">), and bench itself as
 * <script type="application/json" id="bench-data"> ("</" written "<\/", "<!--" "<\u0021--").
 *
 * Rounding, the same in every chart, hover title and table: a value is printed with printf's
 * "%.Nf" (nearest, ties to even on the exact binary value) and plotted at that printed value.
 * N is 1 for req/s, latencies and MiB, 2 for MB/s and speedups, 3 for seconds (wall and CPU),
 * 0 for counts. The CPU chart plots cpu_s * scale (scale when it is a number > 0, else 1): the
 * CPU time sync would need for the whole list when --sync-limit cut it. A missing or null value
 * is printed as an em dash and not drawn. tests/integration/bench_report.js checks a page
 * against its JSON with these rules. */
int bench_report_write(const char *path, const json_t *bench, const crawl_chart_t *waterfall);

#endif
