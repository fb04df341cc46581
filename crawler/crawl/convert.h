/* crawl_convert: --convert-links (-k): after a crawl, every link in the saved HTML and CSS files
 * is pointed at the file saved for its URL (a relative path that opens from file://), or at the
 * absolute URL when nothing was saved for it. Only the bytes of the links change: the ranges the
 * parsers report are replaced, every other byte stays as the server sent it.
 *
 * Thread notes: crawl_convert_rewrite and crawl_convert_relative are pure (any thread);
 * crawl_convert_links blocks on the disk and the state database: call it after the job's loop has
 * ended (crawl.c does, once job_close has written every row), never on a loop thread. */
#ifndef CRAWLER_CRAWL_CONVERT_H
#define CRAWLER_CRAWL_CONVERT_H

#include <stddef.h>

#include "crawler/cli/options.h"

/* One link in a file: [offset, offset + len) holds its text exactly as written; url is what it
 * resolves to (absolute, normalised, without fragment). Borrowed. */
typedef struct crawl_link_span {
    size_t offset, len;
    const char *url;
} crawl_link_span_t;

/* Where the file saved for url is, relative to the output folder: 1 and *path (malloc'd, the
 * rewriter frees it), 0 when no file was saved for url, or -errno (the rewrite stops with it). */
typedef int (*crawl_convert_lookup_fn)(void *arg, const char *url, char **path);

/* Takes the next len bytes of the rewritten file: 0, or -errno (the rewrite stops with it). */
typedef int (*crawl_convert_emit_fn)(void *arg, const char *data, size_t len);

enum {
    CRAWL_CONVERT_HTML = 1,       /* the body is HTML: '&' in an attribute is written &amp; */
    CRAWL_CONVERT_AGAIN = 2,      /* the file was converted before: its relative links are ours */
};

/* What one rewrite did. */
typedef struct crawl_convert_stats {
    unsigned long local;          /* links pointed at a saved file */
    unsigned long absolute;       /* links written as the absolute URL (nothing saved) */
    unsigned long kept;           /* links left as written (already absolute, or ours) */
    unsigned long bad_spans;      /* spans out of order, overlapping or past the end: ignored */
} crawl_convert_stats_t;

/* Writes body (len bytes), the file saved at from_path (relative to the output folder), through
 * emit with each of the n spans (in increasing order, not overlapping) replaced:
 *  - lookup says a file was saved for the span's URL: the relative path from from_path's folder
 *    to it, percent-encoded (every byte but A-Z a-z 0-9 - . _ ~ /), then the fragment as written;
 *  - nothing saved: a link already written absolute (http: or https:) stays as it is; any other
 *    becomes the absolute URL, '&' as &amp; in an HTML attribute, and quotes, <, >, \, blanks
 *    (and parentheses outside attributes) percent-encoded, then the fragment as written;
 *  - with CRAWL_CONVERT_AGAIN, a link written as a relative path (no scheme, no leading '/') is
 *    one this function wrote in an earlier run: it stays (resolving it against the URL would be
 *    wrong); absolute links are looked up again (the file may have been saved since).
 * Every byte outside the spans is emitted unchanged. Returns 0, or the first error of lookup or
 * emit (what was emitted so far is then incomplete). stats may be NULL. */
int crawl_convert_rewrite(const char *body, size_t len, const char *from_path,
                          const crawl_link_span_t *spans, size_t n, int flags,
                          crawl_convert_lookup_fn lookup, void *lookup_arg,
                          crawl_convert_emit_fn emit, void *emit_arg, crawl_convert_stats_t *stats);

/* The relative reference from the file at from_path to the file at to_path (both relative to the
 * same folder, '/'-separated), percent-encoded as above, into out (outsz bytes). 0, or -ERANGE
 * when it does not fit (out then holds ""). */
int crawl_convert_relative(const char *from_path, const char *to_path, char *out, size_t outsz);

/* --convert-links over the output folder o->outdir, by its state database: every HTML and CSS file
 * saved complete is rewritten (read, written to a temporary file beside the state database, renamed
 * over it, its mode and times kept), one file at a time. Prints a summary line unless -q and a
 * line per file it could not convert. Returns 0, or -errno when some file could not be converted
 * or the database could not be read. */
int crawl_convert_links(const crawl_options_t *o);

#endif
