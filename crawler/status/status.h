/* crawl_status: `gather status`, one look at a job shared through Redis (DISTRIBUTED.md): its
 * counters, the URLs waiting and in flight, the workers and adders alive, the busiest hosts. */
#ifndef CRAWLER_STATUS_H
#define CRAWLER_STATUS_H

/* `gather status --redis URL --job NAME [--json]`: parses, reads the job's keys over a blocking
 * connection (no loop), prints a table or one JSON object on stdout. Returns CRAWL_EXIT_OK, or
 * CRAWL_EXIT_USAGE after a message on stderr (bad option or URL, Redis unreachable or refusing,
 * no such job). */
int crawl_status_main(int argc, char **argv);

#endif
