/* store_segfile: one NAME.part written at several offsets at once (a segmented download), each
 * segment through its own sink with bounded buffers (pwrite on the libuv pool), and its progress
 * kept in a sidecar NAME.part.split so that a later run resumes every segment where its bytes
 * stopped.
 *
 * What the sidecar says is always true of the disk: a segment's `done` counts only bytes whose
 * pwrite had returned before the snapshot was taken, and the .part is fdatasync'ed before the
 * sidecar is replaced (write to a temporary name, fsync, rename). A crash may leave bytes written
 * but not recorded: they are fetched again, never trusted.
 *
 * Loop thread only, except where a function says it runs on the pool (the futures it returns
 * settle on the loop). */
#ifndef STORAGE_SEGFILE_H
#define STORAGE_SEGFILE_H

#include <stdint.h>

#include "net/async/future.h"
#include "net/async/sched.h"
#include "net/async/sink.h"

#define STORE_SEG_MAX 64                 /* segments in one file at most */
#define STORE_SEG_BUF (256 * 1024)       /* each of a segment's two buffers */
#define STORE_SEG_VALIDATOR_MAX 256
#define STORE_SEG_SUFFIX ".part.split"

typedef struct store_segfile store_segfile_t;

/* One segment: the bytes [start, end) of the file. */
typedef struct store_seg {
    net_sink_t sink;                /* write: buffers, then pwrite at start + done + pending */
    store_segfile_t *file;
    uint64_t start, end;
    uint64_t done;                  /* bytes from start whose pwrite has returned */
    uint64_t recorded;              /* done as the sidecar on disk says */
    /* private */
    char *fill, *spare;             /* filling, and the one being written (or free) */
    size_t fill_len, fill_cap, spare_cap;
    int busy;                       /* a pwrite of spare is on the pool */
    uint64_t busy_off;
    size_t busy_len;
    int error;                      /* the first pwrite error (negative errno) */
    future_t *flushed;              /* store_seg_flush's waiter */
    void (*drain)(void *arg);       /* resumes the transfer a full buffer paused */
    void *drain_arg;
    struct seg_job *job;
} store_seg_t;

/* The file of relpath under dirfd (the final name; the .part and the sidecar sit beside it). */
store_segfile_t *store_segfile_new(sched_t *s, int dirfd, const char *relpath, int do_fsync);
/* Only once nothing of sf is on the pool: every flush settled, and no save running
 * (store_segfile_saving; await store_segfile_save if there is one). */
void store_segfile_free(store_segfile_t *sf);

/* Pool: reads the sidecar and, when it is whole and its .part exists, opens the .part for a
 * resume (store_segfile_resumable then says 1). The future resolves either way (fails only on
 * ENOMEM); *part_size gets the .part's size, -errno if there is none. */
future_t *store_segfile_load(store_segfile_t *sf, int64_t *part_size);
int store_segfile_resumable(const store_segfile_t *sf);
/* 1 when the load found a sidecar it cannot trust (unreadable, or its .part is gone): the .part
 * must not be resumed by anyone. */
int store_segfile_stale(const store_segfile_t *sf);

/* After a load that found nothing to resume: a plan of n segments of size bytes with the
 * entity's validators. Creates (truncates) the .part and writes the first sidecar on the pool.
 * 0 or -errno from the future. */
future_t *store_segfile_plan(store_segfile_t *sf, uint64_t size, unsigned n, const char *etag,
                             const char *last_modified);

/* The plan, loaded or made. */
unsigned store_segfile_count(const store_segfile_t *sf);
store_seg_t *store_segfile_seg(store_segfile_t *sf, unsigned i);
uint64_t store_segfile_size(const store_segfile_t *sf);
const char *store_segfile_etag(const store_segfile_t *sf);
const char *store_segfile_last_modified(const store_segfile_t *sf);

/* Who to call when a segment's full buffer has room again (its transfer's resume). */
void store_seg_on_drain(store_seg_t *seg, void (*fn)(void *arg), void *arg);
/* Writes out what the segment still buffers; the future settles once no pwrite of it is on the
 * pool (failed with the segment's error, if any). The caller owns the reference. */
future_t *store_seg_flush(store_seg_t *seg);

/* Replaces the sidecar with what the segments' done counts say now (after an fdatasync of the
 * .part). At most one save runs at once; a save asked for meanwhile follows it. The future
 * settles once the snapshot taken now is on disk. */
future_t *store_segfile_save(store_segfile_t *sf);
/* 1 while a save (a periodic one too) is on the pool. */
int store_segfile_saving(const store_segfile_t *sf);

/* Every segment complete: checks the .part's size, hashes it (SHA-256 into hex), renames it to
 * the final name and removes the sidecar. 0 or -errno from the future. */
future_t *store_segfile_commit(store_segfile_t *sf, char hex[65]);

/* Removes the .part and the sidecar (a body that changed on the server). */
future_t *store_segfile_discard(store_segfile_t *sf);

/* Pool (or the only thread of --mode sync): removes relpath's sidecar, if any, so that a run
 * fetching relpath as one stream never resumes a .part that segments left full of holes, and a
 * later segmented run never trusts a sidecar next to a .part it did not write. 1 when there was
 * one, 0 when not, or -errno. */
int store_segfile_forget(int dirfd, const char *relpath);

/* Bytes written to disk for this file in this run (the segments' done less what was loaded). */
uint64_t store_segfile_written(const store_segfile_t *sf);

#endif
