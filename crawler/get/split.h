/* get_split: `gather get --split N`, one large file fetched as N byte ranges over N connections
 * into one NAME.part (storage/segfile.h), verified whole, then renamed; each segment resumes
 * where its recorded bytes stopped after an interrupt or a crash.
 *
 * It is a third fetch attempt (fetch.h): the fetch task runs it like the others. A 1-byte probe
 * (Range: bytes=0-0) learns the size (Content-Range), the validator and whether ranges work; a
 * server that ignores Range, names no strong validator or no size, a file smaller than
 * 2 x --min-split-size, or a .part an ordinary run left, makes the attempt hand over to the one
 * stream attempt (fetch_attempt_async) at once. Segment requests carry If-Range: a 200 to one
 * means the file changed, and everything fetched is dropped for one stream of the new body.
 *
 * Connections: segment 0's worker runs on the fetch's own -c and --per-host permits; each other
 * worker takes one of each if it is free when the segments start, or does not run (so a file
 * never holds more connections than -c and --per-host allow, and --json's max_inflight counts
 * every one of them). Loop thread only. */
#ifndef CRAWLER_GET_SPLIT_H
#define CRAWLER_GET_SPLIT_H

#include "crawler/get/fetch.h"

extern const fetch_attempt_t fetch_attempt_split;

/* 1 when f should start with the split attempt (--split > 1, async mode, a file to write, no
 * -N, --content-disposition or --warc-file, which only the one-stream attempt knows: a WARC
 * must hold the whole response, not ranges). Reads options only: any thread. */
int get_split_wanted(const struct get_fetch *f);

/* Frees what the split attempt kept in f (NULL is fine). */
void get_split_free(struct get_split *s);

#endif
