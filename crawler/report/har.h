/* crawl_har: a streaming HTTP Archive 1.2 writer (the format browser devtools import), and its
 * reader for files it wrote. */
#ifndef CRAWLER_HAR_H
#define CRAWLER_HAR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "net/http/http.h"

/*
 * The file is written as it goes: the header when it is opened, each entry when it is added (one
 * JSON object per line, so nothing but the pages is held in memory), and the pages and the
 * footer when it is closed:
 *
 *     {"log":{"version":"1.2","creator":{...},"entries":[
 *     {entry}
 *     ,{entry}                      <- "," starts every entry line but the first
 *     ],"pages":[
 *     {page}
 *     ]}}
 *
 * Writes go through a buffered FILE, like the report's JSON lines: they are only pushed to the
 * kernel when the buffer fills. The first write error is kept and returned by crawl_har_close.
 */
typedef struct crawl_har crawl_har_t;

/* Creates (or truncates) path and writes the header. creator_comment may be NULL. Returns NULL
 * with errno set when the file cannot be created or memory runs out; nothing is left open. */
crawl_har_t *crawl_har_open(const char *path, const char *creator_comment);

/* Declares a page (a HAR "page": a get job's list, a crawl's start URL, or one mode of a bench).
 * id and title are copied; a page already declared with that id is given the new title. Pages
 * are held until crawl_har_close writes them. Returns 0 or -ENOMEM. */
int crawl_har_page(crawl_har_t *har, const char *id, const char *title, int64_t start_wall_us);

/* Appends one entry for the finished transfer req, requested as url, preceded by one for each
 * redirect curl followed on its way (req->hops, when captured). pageref (may be NULL) names
 * a page; error is NULL for a success, else the reason it failed (written as "_error").
 * Returns 0, or the first write error as a negative errno (later calls return it too). */
int crawl_har_add(crawl_har_t *har, const char *pageref, const char *url, const http_req_t *req,
                  const char *error);

/* Appends an entry built elsewhere (e.g. read back from another HAR); entry is borrowed. */
int crawl_har_add_json(crawl_har_t *har, const json_t *entry);

/* Number of entries written so far. */
uint64_t crawl_har_count(const crawl_har_t *har);

/* Writes the pages and the footer, closes the file and frees har (NULL is accepted). Returns 0
 * or the first error met since crawl_har_open, as a negative errno. */
int crawl_har_close(crawl_har_t *har);

/* Streams back a file written by crawl_har_*: calls on_entry for each entry, then on_page for
 * each page (either may be NULL), with an object the callback may change but must not keep: it
 * is freed when the callback returns. A callback returning non-zero stops the walk and its value
 * is returned. Returns 0, -errno when the file cannot be read, or -EINVAL when
 * it is not laid out as this writer lays it out. */
int crawl_har_read(const char *path, int (*on_page)(json_t *page, void *arg),
                   int (*on_entry)(json_t *entry, void *arg), void *arg);

/* ---- building blocks, public so that they can be tested --------------------------------- */

/* Phase durations in ms as HAR 1.2 defines them; -1 where a phase does not apply (no queueing
 * measured, no DNS lookup or connect on a reused connection, no TLS on http). */
typedef struct crawl_har_timings {
    double blocked, dns, connect, ssl, send, wait, receive;
    double time;                /* the sum of every phase >= 0 but ssl (included in connect) */
} crawl_har_timings_t;

/* Derives the HAR phases from curl's cumulative CURLINFO_*_TIME_T marks (all from the start of
 * the transfer): blocked = queue, dns = lookup end - queue, connect = (TLS end or connect end) -
 * lookup end, ssl = TLS end - connect end, send = pretransfer - connect/TLS end, wait = first
 * byte - pretransfer, receive = total - first byte. Marks out of order are clamped so that every
 * phase is >= 0 and the phases add up to the total. */
void crawl_har_timings(const http_timing_t *t, crawl_har_timings_t *out);

/* Formats wall_us (µs since the epoch) as ISO 8601 UTC with milliseconds,
 * "2026-01-01T00:00:00.123Z", into buf (at least 25 bytes). Returns buf. */
char *crawl_har_time_format(int64_t wall_us, char *buf, size_t n);

/* Parses what crawl_har_time_format writes (an offset "+hh:mm" is accepted too) into µs since
 * the epoch. Returns 0 or -EINVAL. */
int crawl_har_time_parse(const char *s, int64_t *wall_us);

/* The header lines of a request or response head (its first line and the blank line left out)
 * as HAR {name, value} pairs, in order, the values of Authorization, Proxy-Authorization and
 * Cookie masked ("Basic ***", "***"). A new reference; NULL when out of memory. */
json_t *crawl_har_head_pairs(const char *head, size_t len);

/* The entry of a redirect hop curl followed inside a transfer (req->hops but the last). */
json_t *crawl_har_hop_entry_new(const char *pageref, const http_hop_t *h);

/* Builds the entry crawl_har_add writes (for the last exchange of req, with every header sent and
 * received when req->hops were captured). A new reference, NULL when out of memory. */
json_t *crawl_har_entry_new(const char *pageref, const char *url, const http_req_t *req,
                            const char *error);

#endif
