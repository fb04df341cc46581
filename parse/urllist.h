/* urllist.h - streaming reader of URL-list files: one URL a line, bounded memory. */
#ifndef GATHER_PARSE_URLLIST_H
#define GATHER_PARSE_URLLIST_H

#include <stdio.h>

#include "parse/parse.h"

typedef struct parse_urllist parse_urllist_t;

/*
 * Called once for every line that is skipped as bad. `file` is the name given at open
 * ("<stdin>" for "-"), `line` 1-based, `reason` a one-line text such as
 * "line too long (9000 bytes, max 8192)", "binary data (NUL byte at column 3)",
 * "not an http or https URL: \"ftp://x/\"" or "invalid URL: \"http://\"", quoting at most
 * 80 characters of the line with control characters escaped. The strings are only valid
 * during the call.
 */
typedef void (*parse_urllist_bad_fn)(void *arg, const char *file, unsigned long line,
                                     const char *reason);

/*
 * Open `path` ("-" = stdin, which is not closed by parse_urllist_close) for reading.
 * If bad is NULL, bad lines are printed to stderr as "FILE:LINE: reason".
 * Returns a reader the caller frees with parse_urllist_close, or NULL with errno set
 * (ENOMEM, EISDIR, or fopen's errno). Memory held: a few KiB plus one PARSE_URL_MAX buffer.
 * A reader belongs to one thread at a time; different readers share nothing.
 */
parse_urllist_t *parse_urllist_open(const char *path, parse_urllist_bad_fn bad, void *arg);

/*
 * The same on a stream the caller owns and closes after parse_urllist_close (used for
 * fmemopen'd buffers and pipes). `name` (copied; NULL = "<stream>") is what `bad` sees.
 */
parse_urllist_t *parse_urllist_open_file(FILE *f, const char *name, parse_urllist_bad_fn bad,
                                         void *arg);

/*
 * Read up to the next good line. Returns 1 with *url a malloc'd normalised URL (the caller
 * frees it) and *line (if not NULL) its 1-based line number; 0 at end of input; PARSE_EIO on
 * a read error (errno set; every later call returns it too) or PARSE_ENOMEM, with *url
 * untouched. Skipped silently: blank lines and lines whose first non-blank character is '#'.
 * Trimmed: spaces, tabs and CRs around the URL; a UTF-8 BOM at the very start of the input.
 * Reported through `bad` and skipped: lines over PARSE_URL_MAX bytes once trimmed, lines with
 * control bytes (other than tab and CR) or invalid UTF-8, non-http(s) URLs, invalid URLs.
 */
int parse_urllist_next(parse_urllist_t *r, char **url, unsigned long *line);

/* Close the file (unless stdin or a caller's stream) and free r. NULL is a no-op. */
void parse_urllist_close(parse_urllist_t *r);

#endif
