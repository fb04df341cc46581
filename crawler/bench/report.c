#include "crawler/bench/report.h"
#include <errno.h>
int bench_report_write(const char *path, const json_t *bench, const crawl_chart_t *waterfall)
{ (void)path; (void)bench; (void)waterfall; return -ENOSYS; }
