/* store_warc: --warc-file: every HTTP exchange as WARC/1.1 records (ISO 28500), one gzip member
 * per record, with an optional CDXJ index (--warc-cdx).
 *
 * Threads: store_warc_open and store_warc_close run outside the loop (job_open, job_close);
 * store_warc_start and the tap run on the loop thread of the async HTTP client. The disk work
 * (spooling large bodies, digests, compression, appending records) runs on the libuv pool: one
 * record writer at a time, so records of concurrent transfers never interleave, and a record is
 * appended whole or (on a write error) cut back off the file.
 *
 * Memory: a body stays in memory up to STORE_WARC_MEM_MAX; a longer one is spooled to an
 * unlinked temporary file beside the WARC (its digests and length must be known before its
 * record header is written), and its transfer is paused while more than STORE_WARC_PEND_MAX of
 * it waits for the spool.
 */
#ifndef STORAGE_WARC_H
#define STORAGE_WARC_H

#include <stdint.h>

#include <uv.h>

#include "net/http/http.h"

#define STORE_WARC_MEM_MAX (1024 * 1024)
#define STORE_WARC_PEND_MAX (4 * 1024 * 1024)

typedef struct store_warc store_warc_t;

/* Creates (or truncates) NAME.warc.gz (NAME as given when it already ends in .warc.gz; a
 * relative name is relative to the current directory) and writes its warcinfo record, whose
 * fields are `software` and `info` (lines "key: value\r\n", borrowed). With cdx, NAME.cdx is
 * written by store_warc_close. Returns NULL with *result a negative errno; nothing is left. */
store_warc_t *store_warc_open(const char *name, int cdx, const char *software, const char *info,
                              int *result);

/* The path of the WARC file (owned by w). */
const char *store_warc_path(const store_warc_t *w);

/* Binds w to the loop whose HTTP client will use the tap. */
void store_warc_start(store_warc_t *w, uv_loop_t *loop);

/* The tap to put in http_opts_t.tap (owned by w). */
http_tap_t *store_warc_tap(store_warc_t *w);

/* After the loop has run to its end (every record queued has been written): writes the CDXJ
 * index, closes the file and frees w (NULL is accepted). 0, or the first error met while
 * writing as a negative errno (the WARC then holds every record written before it). */
int store_warc_close(store_warc_t *w);

/* ---- building blocks, public so that they can be tested -------------------------------------- */

/* "sha1:" and the RFC 4648 base32 of the 20-byte digest, NUL-terminated, into out. */
#define STORE_WARC_DIGEST_SIZE 38
void store_warc_digest_format(const unsigned char sha1[20], char out[STORE_WARC_DIGEST_SIZE]);

/* The SURT form of url used as a CDXJ key ("org,example)/a/b?q"), lowercased, into buf[n].
 * 0, or -ENAMETOOLONG when it does not fit. */
int store_warc_surt(const char *url, char *buf, size_t n);

#endif
