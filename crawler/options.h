/* crawl_options: command-line options shared by the get, crawl and bench jobs. */
#ifndef CRAWLER_OPTIONS_H
#define CRAWLER_OPTIONS_H

#include <curl/curl.h>

#include "net/http.h"
#include "storage/path.h"

typedef enum { CRAWL_MODE_ASYNC, CRAWL_MODE_THREADS, CRAWL_MODE_SYNC } crawl_mode_t;

typedef struct crawl_options {
    const char *input;          /* -i FILE, "-" for stdin; NULL: positional URLs or urls.txt */
    char **urls;                /* positional URLs (borrowed from argv) */
    int nurls;
    const char *outdir;
    long concurrency;
    long per_host;              /* 0: no limit beyond concurrency */
    crawl_mode_t mode;
    store_layout_t layout;
    int quiet, verbose, json, do_fsync;
    http_opts_t http;
    struct curl_slist *headers; /* owned; freed by crawl_options_free */
} crawl_options_t;

/* Exit statuses, also documented in --help and README. */
enum { CRAWL_EXIT_OK = 0, CRAWL_EXIT_FAILURES = 1, CRAWL_EXIT_USAGE = 2 };

/* Parses `gather get` arguments (argv[0] is "get"). Returns 0, or CRAWL_EXIT_USAGE after printing
 * a message naming the bad option, or -1 after printing help (exit 0). */
int crawl_options_parse_get(crawl_options_t *o, int argc, char **argv);
void crawl_options_free(crawl_options_t *o);
const char *crawl_mode_name(crawl_mode_t m);

void crawl_usage_get(FILE *out);

#endif
