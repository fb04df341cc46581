/* rjob: a job's state in Redis, as DISTRIBUTED.md describes it: its keys, the Lua scripts that
 * change them atomically (offer, claim, beat, ack, release, gate) and a call per script that
 * returns a future. Every script is safe to run twice (the client resends calls after a
 * reconnect). Loop thread only, except rjob_open_check (blocking, before the loop runs). */
#ifndef STORAGE_RJOB_H
#define STORAGE_RJOB_H

#include <stddef.h>
#include <stdint.h>

#include "net/redis/client.h"

#define RJOB_PREFIX_SIZE 96

typedef struct rjob {
    redis_client_t *client;
    char prefix[RJOB_PREFIX_SIZE];      /* "gather:{NAME}:" */
    char worker[128];                   /* this process's name: HOST:PID:NONCE */
    long lease_ms;
    int scripts[8];
} rjob_t;

/* A URL to add. */
typedef struct rjob_offer {
    const char *url;
    const char *origin;         /* scheme://host:port */
    int depth, hops;
    char kind;                  /* 'p' page, 'a' asset */
    long seed;                  /* the start URL it descends from (-1: none) */
    const char *parent;         /* the page it was found on, or NULL */
} rjob_offer_t;

/* A claimed stream entry; the strings point into one allocation. */
typedef struct rjob_entry {
    char *id;
    int level;
    char *url, *origin, *parent;    /* parent may be NULL */
    int depth, hops;
    char kind;
    long seed;
    int reclaimed;              /* taken over from a worker whose lease ran out */
} rjob_entry_t;

/* What a claim found. */
typedef enum { RJOB_CLAIM_OK, RJOB_CLAIM_WAIT, RJOB_CLAIM_DONE } rjob_claim_status_t;

typedef struct rjob_claim {
    rjob_claim_status_t status;
    int level;
    size_t n;
    rjob_entry_t **entries;     /* n claimed entries; the caller takes them */
} rjob_claim_t;

/* Blocking, before the loop: connects (redis_connect_blocking), creates the job's meta hash if
 * new (kind, lease) and checks an existing job is of the same kind. For a crawl, `seeds_json`
 * and `depth` are stored the first time; *stored_seeds gets the job's (malloc'd) seeds JSON when
 * the caller passes it. 0, or -1 after printing why (the caller exits 2). */
int rjob_open_check(const char *url, const char *name, const char *kind, long lease_ms,
                    const char *seeds_json, long depth, char **stored_seeds, long *stored_depth);

/* Sets up j on an existing client (scripts registered; call before redis_client_start). */
int rjob_init(rjob_t *j, redis_client_t *c, const char *name, long lease_ms);

/* Adds n URLs at `level` (-1: the job's current level), skipping those the job has seen;
 * requeue_failed: a URL that failed before is queued again (a list or start URL given by the
 * user). Resolves with the number queued. */
future_t *rjob_offer(rjob_t *j, int level, int requeue_failed, const rjob_offer_t *items, size_t n);

/* Claims up to max entries into *out (taken back from dead workers first; max 0: none of those),
 * plus up to `ahead` more while plenty is left. Resolves with 0; *out must live until the future
 * settles. */
future_t *rjob_claim(rjob_t *j, size_t max, size_t ahead, rjob_claim_t *out);
void rjob_claim_clear(rjob_claim_t *c);
void rjob_entry_free(rjob_entry_t *e);

/* A held entry for the heartbeat: its level, id, origin and host-slot holder ("" when none). */
typedef struct rjob_held {
    int level;
    const char *id, *origin, *holder;
} rjob_held_t;

/* Renews this worker's heartbeat and the lease of every held entry and slot; producing: this
 * process is still adding URLs (the job cannot end before rjob_producer_done). Resolves with the
 * number of entries no longer this worker's (claimed by another after a stall). */
future_t *rjob_beat(rjob_t *j, int producing, const rjob_held_t *held, size_t n);

/* The outcome of an entry. */
typedef struct rjob_result {
    char outcome;               /* 'd' done, 'f' failed, 's' skipped */
    const char *json;           /* for the res hash */
    int64_t bytes;
    const char *error;          /* why it failed ('f') */
    const char *holder;         /* its host slot if still held, or "" */
} rjob_result_t;

/* Acknowledges e with its outcome. Resolves with 1, or 0 when it was a repeat (another worker
 * acknowledged it first). */
future_t *rjob_ack(rjob_t *j, const rjob_entry_t *e, const rjob_result_t *r);

/* Gives e back to the stream at once (an interrupt). */
future_t *rjob_release(rjob_t *j, const rjob_entry_t *e, const char *holder);

/* Asks for a slot of origin for holder: resolves with 0 (held), a positive number of ms to
 * wait (the delay), or RJOB_GATE_BUSY (every slot taken: ask again later). */
#define RJOB_GATE_BUSY 1000000000L
future_t *rjob_gate(rjob_t *j, const char *origin, const char *holder, long limit, long delay_ms);
/* Gives the slot back. */
future_t *rjob_ungate(rjob_t *j, const char *origin, const char *holder);

/* This process has added all it had to add. */
future_t *rjob_producer_done(rjob_t *j);

/* robots.txt as the job fetched it. */
typedef struct rjob_robots {
    int status;                 /* its HTTP status (0: unreachable) */
    char *body;                 /* malloc'd, NUL-terminated; the caller frees it */
    size_t len;
} rjob_robots_t;

/* Resolves with 1 and *out filled when the job has origin's robots.txt, else 0; out must live
 * until the future settles. */
future_t *rjob_robots_get(rjob_t *j, const char *origin, rjob_robots_t *out);
/* Takes the job's lock on fetching origin's robots.txt: resolves 1 if this worker got it. */
future_t *rjob_robots_lock(rjob_t *j, const char *origin);
/* Stores what robots.txt gave (status, body) for every worker, for a day. */
future_t *rjob_robots_put(rjob_t *j, const char *origin, int status, const char *body, size_t len);

#endif
