/* store_writer: streams one body to DIR/NAME.part through the thread pool, then renames it. On
 * the pool its SHA-256 and its writes are two ordered stages that run beside each other. */
#ifndef STORAGE_WRITER_H
#define STORAGE_WRITER_H

#include <stdint.h>

#include "net/async/future.h"
#include "net/async/sink.h"

/* Bytes a transfer may have in memory (waiting, being hashed or being written) before the
 * transfer is paused: all the writer holds of a body, whatever its size. */
#define STORE_WRITER_QUEUE_MAX (1024 * 1024)

typedef struct store_writer store_writer_t;

/* A writer for dirfd/relpath (relpath is copied). Nothing touches the disk until the first
 * bytes or the commit. dirfd is borrowed and must stay open until the writer is freed. */
store_writer_t *store_writer_new(sched_t *s, int dirfd, const char *relpath, int do_fsync);

/* Points the writer at another relpath (copied), as long as nothing has reached the disk or
 * the queue: a name learnt from the answer's first byte (Content-Disposition). 0, -EBUSY once a
 * byte was written, queued or a resume offset set, or -ENOMEM (the old name stays). */
int store_writer_rename(store_writer_t *w, const char *relpath);

/* Continue an existing NAME.part after its first `offset` bytes (they are re-read to hash them)
 * instead of starting empty. Call before any byte is written; offset 0 means start afresh. */
void store_writer_resume(store_writer_t *w, uint64_t offset);
uint64_t store_writer_offset(const store_writer_t *w);

/* The SHA-256 of the whole file as 64 hex digits, valid once the commit resolved. */
const char *store_writer_sha256(const store_writer_t *w);

/* The sink to give the producer. When a write was refused with NET_SINK_PAUSE and the queue has
 * drained, on_drain(arg) is called (until the commit or abort) so the producer sends them again:
 * for an HTTP transfer, http_req_resume_cb and the request. */
net_sink_t *store_writer_sink(store_writer_t *w);
void store_writer_on_drain(store_writer_t *w, void (*on_drain)(void *arg), void *arg);

/* Writes what is queued, closes, and renames NAME.part to NAME. The future resolves when the
 * file is in place, or fails with -errno (the .part is then removed). Call once, and not
 * together with abort. The caller owns the returned reference. Loop thread only, as every
 * function here; the disk work itself runs on the pool. */
future_t *store_writer_commit(store_writer_t *w);

/* Drops what is queued, waits for a write in progress, closes and removes NAME.part — or, with
 * keep_part, leaves the bytes written so far in NAME.part for a later resume. */
future_t *store_writer_abort(store_writer_t *w, int keep_part);

/* Bytes written to disk so far by this writer (a resumed prefix not counted); the first disk
 * error (0 if none). */
uint64_t store_writer_written(const store_writer_t *w);
int store_writer_error(const store_writer_t *w);

/* Frees w. Only after the commit or abort future settled, or if neither was ever started and no
 * byte was written. */
void store_writer_free(store_writer_t *w);

#endif
