/* placeholder until the report lands */
#ifndef CRAWLER_BENCH_REPORT_H
#define CRAWLER_BENCH_REPORT_H
#include <jansson.h>
#include "crawler/report/chart.h"
int bench_report_write(const char *path, const json_t *bench, const crawl_chart_t *waterfall);
#endif
