/* crawl_bench: runs one URL list once per mode (sync, threads, async), each run a child process,
 * and compares them (`gather bench`). */
#ifndef CRAWLER_BENCH_H
#define CRAWLER_BENCH_H

/* `gather bench ARGS...`: parses, runs, prints the table; returns the exit status (CRAWL_EXIT_*). */
int crawl_bench_main(int argc, char **argv);

#endif
