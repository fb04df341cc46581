/* crawl_source: the URLs of a job (a list file, stdin or argv) read in bounded batches. */
#ifndef CRAWLER_SOURCE_H
#define CRAWLER_SOURCE_H

#include <stddef.h>

#include "parse/urllist.h"

#define CRAWL_SOURCE_BATCH 512
#define CRAWL_SOURCE_FIRST 64       /* the first fill: the first transfers need not wait for 512 */

/* Two batches: the loop takes URLs from `batch` while the pool fills `ahead` with the next ones
 * (crawl_source_fill), so a list of any length never makes the spawner wait once it has begun.
 * The fields after `ahead` belong to whoever runs the fill: the loop reads them only after the
 * fill's future settled (crawl_source_filled). */
typedef struct crawl_source {
    parse_urllist_t *list;      /* NULL when the URLs come from argv */
    char **args;
    int nargs, nextarg;
    char *batch[CRAWL_SOURCE_BATCH];    /* the loop's: URLs being taken */
    size_t len, pos;
    int eof;                    /* the loop's: no URL will come after this batch */
    char *ahead[CRAWL_SOURCE_BATCH];    /* the fill's */
    size_t ahead_len;
    size_t want;                /* lines per fill, growing from CRAWL_SOURCE_FIRST */
    int read_eof;               /* the reader reached the end of its input */
    int read_error;             /* negative errno when reading the list failed */
    unsigned long invalid;      /* bad lines or arguments reported and skipped */
    const char *name;
} crawl_source_t;

/* Opens the list (path "-" = stdin) or, with path NULL, takes args. Returns 0 or -errno (the
 * message naming the file is printed). */
int crawl_source_open(crawl_source_t *s, const char *path, char **args, int nargs);

/* Blocking: reads the next lines into `ahead` unless it holds some (call on a pool thread, one
 * fill at a time, or in a blocking mode). Always returns 0; sets read_eof at the end and
 * read_error on a read failure. */
int crawl_source_fill(void *arg);

/* After a fill settled, on the loop: an empty batch takes what the fill read; eof is set when the
 * input has ended and nothing is left. */
void crawl_source_filled(crawl_source_t *s);

/* Next URL of the batch (normalised; the caller frees it), or NULL when the batch is empty. */
char *crawl_source_next(crawl_source_t *s);
static inline int crawl_source_has(const crawl_source_t *s) { return s->pos < s->len; }

/* 1 when the next fill should start now (half the batch is taken, no end seen): call only while
 * no fill runs. */
static inline int crawl_source_low(const crawl_source_t *s)
{
    return !s->eof && s->pos * 2 >= s->len;
}

/* The blocking modes: fill, then take. NULL at the end. */
char *crawl_source_next_blocking(crawl_source_t *s);

void crawl_source_close(crawl_source_t *s);

/* Blocking (a pool thread): the lines of the list file at path that may hold a URL (not blank,
 * not a '#' comment), read in 64 KiB blocks: the list's length before it is read, for the
 * progress line. -errno if the file cannot be read. */
long crawl_source_count(const char *path);

#endif
