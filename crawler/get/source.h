/* crawl_source: the URLs of a job (a list file, stdin or argv) read in bounded batches. */
#ifndef CRAWLER_SOURCE_H
#define CRAWLER_SOURCE_H

#include <stddef.h>

#include "parse/urllist.h"

#define CRAWL_SOURCE_BATCH 512

typedef struct crawl_source {
    parse_urllist_t *list;      /* NULL when the URLs come from argv */
    char **args;
    int nargs, nextarg;
    char *batch[CRAWL_SOURCE_BATCH];
    size_t len, pos;
    int eof;
    int read_error;             /* negative errno when reading the list failed */
    unsigned long invalid;      /* bad lines or arguments reported and skipped */
    const char *name;
} crawl_source_t;

/* Opens the list (path "-" = stdin) or, with path NULL, takes args. Returns 0 or -errno (the
 * message naming the file is printed). */
int crawl_source_open(crawl_source_t *s, const char *path, char **args, int nargs);

/* Blocking: refills the batch when it is empty (call on a pool thread, or in sync mode).
 * Always returns 0; sets eof at the end and read_error on a read failure. */
int crawl_source_fill(void *arg);

/* Next URL of the batch (normalised; the caller frees it), or NULL when the batch is empty. */
char *crawl_source_next(crawl_source_t *s);
static inline int crawl_source_has(const crawl_source_t *s) { return s->pos < s->len; }

void crawl_source_close(crawl_source_t *s);

/* Blocking (a pool thread): the lines of the list file at path that may hold a URL (not blank,
 * not a '#' comment), read in 64 KiB blocks: the list's length before it is read, for the
 * progress line. -errno if the file cannot be read. */
long crawl_source_count(const char *path);

#endif
