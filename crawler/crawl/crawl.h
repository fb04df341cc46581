/* crawl: the site crawl job (`gather crawl`). */
#ifndef CRAWLER_CRAWL_H
#define CRAWLER_CRAWL_H

#include "crawler/cli/options.h"

/* Runs the crawl described by o; returns the exit status (CRAWL_EXIT_*). */
int crawl_crawl_run(crawl_options_t *o);

/* `gather crawl ARGS...`: parses, runs, frees. */
int crawl_crawl_main(int argc, char **argv);

#endif
