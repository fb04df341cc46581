/* store_state: the output folder's SQLite database (DIR/.gather.db): what happened to each URL and
 * the crawl's pending frontier, so a re-run can skip, resume and continue. */
#ifndef STORAGE_STATE_H
#define STORAGE_STATE_H

#include <stdint.h>

#include "net/async/future.h"

#define STORE_STATE_FILE ".gather.db"

typedef enum {
    STORE_URL_PENDING = 0,    /* started: headers seen, body (maybe partly) in NAME.part */
    STORE_URL_DONE = 1,       /* complete under its final name */
    STORE_URL_FAILED = 2,
    STORE_URL_SKIPPED = 3     /* not fetched (robots, filter) */
} store_url_status_t;

/* One row of the urls table. Strings may be NULL. */
typedef struct store_record {
    const char *url;
    int status;
    long http_code;           /* -1: unknown (a row keeps the code it has) */
    int64_t bytes;
    const char *sha256;
    const char *path;
    const char *etag;
    const char *last_modified;
    const char *error;
    int depth;                /* -1 for `get` */
    const char *parent;       /* the page the URL was found on */
    const char *content_type; /* of a saved body (--convert-links reads HTML and CSS back) */
    const char *redirect;     /* a 3xx: the normalised URL it redirects to */
} store_record_t;

/* A record read back: the same fields, owned (free with store_record_clear). */
typedef struct store_row {
    int status;
    long http_code;
    int64_t bytes;
    char *sha256, *path, *etag, *last_modified;
    int depth;
    int converted;            /* --convert-links rewrote the saved file's links */
} store_row_t;

typedef struct store_state store_state_t;

/* Opens DIR/.gather.db, WAL mode. Blocking: call before the loop runs. *existed says whether the
 * database was there before (a re-run): it is then opened and checked now, and a failure returns
 * -errno after printing a message naming the file. A new one is created (with its schema) by the
 * first batch on the pool or the first lookup, whichever comes first, so its set-up does not
 * delay the first transfers; if that fails, the message is printed then, rows are lost, and
 * store_state_close returns -EIO. */
int store_state_open(const char *dir, store_state_t **out, int *existed);

/* Starts the periodic flush (every 100 ms) on s's loop. */
int store_state_start(store_state_t *st, sched_t *s);

/* Blocking lookup (its own connection: call from one pool thread at a time, or before the loop).
 * Returns 1 and fills row, 0 if the URL is unknown, -errno on error. */
int store_state_get(store_state_t *st, const char *url, store_row_t *row);
void store_row_clear(store_row_t *row);

/* Queue a row (copied) for the next batch; loop thread only. -ENOMEM on failure. */
int store_state_put(store_state_t *st, const store_record_t *rec);
/* Queue a crawl frontier entry to remember (pending) or to forget (done). */
int store_state_frontier_add(store_state_t *st, const char *url, int depth, int kind, int hops,
                             const char *parent);
int store_state_frontier_del(store_state_t *st, const char *url);
/* The same with the entry's queueing number and start URL index (-1: NULL), which the crawl's
 * spilled frontier reads back by (store_state_frontier_read). */
int store_state_frontier_put(store_state_t *st, const char *url, int depth, int kind, int hops,
                             const char *parent, int64_t seq, int64_t seed);

/* A future resolved when everything queued so far is committed (NULL when out of memory); the
 * caller owns the returned reference. Loop thread only, as store_state_put and the frontier calls. */
future_t *store_state_flush(store_state_t *st);

/* Stops the timer; the loop must run once more. Queued rows are written by store_state_close. */
void store_state_stop(store_state_t *st);

/* Writes what is still queued (blocking), closes the database and frees st. 0 or -errno. */
int store_state_close(store_state_t *st);

/* Blocking, before the loop: calls seen(url, status, path) for every URL of the urls table (path:
 * the file saved for it, NULL if none) and pending(...) for every frontier entry, in depth order
 * (pending may be NULL: the frontier is not read). */
int store_state_load(store_state_t *st,
                     void (*seen)(void *arg, const char *url, int status, const char *path),
                     void (*pending)(void *arg, const char *url, int depth, int kind, int hops,
                                     const char *parent),
                     void *arg);

/* ---- the crawl's spilled frontier ------------------------------------------------------------ */

/* A database of its own for a crawl with no state database (--discard): DIR/.gather.db in a new
 * folder under $TMPDIR (else /tmp), removed by store_state_close. Blocking, before the loop. */
int store_state_open_temp(store_state_t **out);

/* Lets st write its queued rows on s's pool (a batch at a time, when STATE_BATCH are queued or a
 * flush is asked for) without the periodic timer of store_state_start. Loop thread, once. */
void store_state_attach(store_state_t *st, sched_t *s);

/* Operations queued and not yet handed to a batch: when the writer falls behind (a batch takes
 * longer than the pages it records take to fetch), a caller that waits on store_state_flush
 * above some backlog keeps this queue, and the memory it holds, bounded. Loop thread. */
size_t store_state_backlog(const store_state_t *st);

/* One frontier row read back. */
typedef struct store_frontier_row {
    char *url, *parent;       /* parent may be NULL */
    int kind, hops;
    int64_t seed, seq;
} store_frontier_row_t;

/* Blocking, any thread (lookups are serialised): at most max rows of the frontier at depth with
 * seq in [lo, hi), in seq order, into *rows (free with store_frontier_rows_free), *n of them.
 * 0, -ENOMEM or -EIO. Rows queued but not yet written are not seen: flush first. */
int store_state_frontier_read(store_state_t *st, int depth, int64_t lo, int64_t hi, size_t max,
                              store_frontier_row_t **rows, size_t *n);
void store_frontier_rows_free(store_frontier_row_t *rows, size_t n);

/* Blocking, before the loop (a resumed crawl): numbers rows stored before seq existed, then calls
 * fn for every frontier row, in no order, streaming. 0 or -EIO. */
int store_state_frontier_scan(store_state_t *st,
                              void (*fn)(void *arg, const char *url, int depth, int64_t seq),
                              void *arg);
/* Blocking, before the loop: moves rows deeper than depth to depth (BFS keeps two levels). */
int store_state_frontier_clamp(store_state_t *st, int depth);

/* ---- --convert-links: after the loop has ended (blocking, the caller's thread only) ---------- */

/* Calls fn(arg, url, path, content_type, converted) for every URL saved complete under a path
 * (content_type may be NULL: a row from before it was recorded), streaming the rows: memory does
 * not grow with their number. fn returns 0 to go on, else that value ends the walk and is
 * returned. fn may call store_state_target and store_state_mark_converted. 0 or -EIO. */
int store_state_each_saved(store_state_t *st,
                           int (*fn)(void *arg, const char *url, const char *path,
                                     const char *content_type, int converted),
                           void *arg);

/* The file saved for url, following the redirects recorded from it (at most 20 hops): 1 and
 * *path (malloc'd, the caller frees it) when there is one, 0 when url led to no saved file,
 * -ENOMEM or -EIO (*path NULL then). */
int store_state_target(store_state_t *st, const char *url, char **path);

/* Remembers that url's file had its links converted (a re-fetch of url forgets it), so that a
 * second --convert-links run leaves the relative links it wrote alone. 0 or -EIO. */
int store_state_mark_converted(store_state_t *st, const char *url);

#endif
