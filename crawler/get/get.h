/* crawl_get: the bulk download job (`gather get`). */
#ifndef CRAWLER_GET_H
#define CRAWLER_GET_H

#include "crawler/cli/options.h"

/* Runs the job described by o and returns the process exit status (CRAWL_EXIT_*). */
int crawl_get_run(crawl_options_t *o);

/* `gather get ARGS...`: parses, runs, frees. */
int crawl_get_main(int argc, char **argv);

#endif
