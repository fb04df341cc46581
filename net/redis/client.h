/* redis_client: one asynchronous connection to Redis on the job's loop (hiredis with its libuv
 * adapter), whose calls return futures and survive the connection: a call is kept until its
 * reply arrives and is sent again after a reconnect, so a dropped connection or a Redis
 * restart costs time, not calls. Every call must therefore be safe to run twice (the job's
 * scripts are: storage/rjob.c).
 *
 * On every connect the client sends AUTH and SELECT as the address asks and loads the
 * registered Lua scripts (SCRIPT LOAD) before anything else, so EVALSHA always finds them.
 * Reconnects back off from 100 ms to 2 s; after `giveup_ms` without a connection every call
 * fails with -ENOTCONN and the client is dead. Loop thread only. */
#ifndef NET_REDIS_CLIENT_H
#define NET_REDIS_CLIENT_H

#include <stddef.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "net/async/future.h"
#include "net/redis/addr.h"

typedef struct redis_client redis_client_t;

/* Turns a reply into what the caller wants, on the loop, before hiredis frees the reply:
 * a value >= 0 resolves the call's future with (void *)(intptr_t)value, a negative errno fails
 * it. NULL: the call resolves with 0. An error reply never reaches it (see redis_client_call). */
typedef long (*redis_parse_fn)(const redisReply *r, void *arg);

#define REDIS_CLIENT_MAX_SCRIPTS 16
#define REDIS_CLIENT_GIVEUP_MS 60000

/* A client for addr (copied) on s's loop, not connected yet. NULL when out of memory. */
redis_client_t *redis_client_new(sched_t *s, const redis_addr_t *addr, long giveup_ms);

/* Starts connecting (after the scripts are registered); calls made before wait for it. */
void redis_client_start(redis_client_t *c);

/* Registers a Lua script (the text must outlive the client); its number for
 * redis_client_eval, or -ENOSPC. Register scripts before the first call. */
int redis_client_script(redis_client_t *c, const char *lua);

/* Sends a command (argv: argc strings of lens bytes, copied). The future settles with parse's
 * value; it fails with -ENOMEM on Redis's "OOM" (redis_client_oom then says so), -EPROTO on
 * any other error reply (redis_client_error gives its text), -ENOTCONN when the client gave
 * up, -ECANCELED when it was closed. A new reference, or NULL when out of memory. */
future_t *redis_client_call(redis_client_t *c, int argc, const char **argv, const size_t *lens,
                            redis_parse_fn parse, void *arg);

/* EVALSHA of script `script` with numkeys of argv as KEYS, the rest as ARGV. */
future_t *redis_client_eval(redis_client_t *c, int script, int numkeys, int argc, const char **argv,
                            const size_t *lens, redis_parse_fn parse, void *arg);

/* The last error reply's text ("" when none), and whether Redis said it is out of memory. */
const char *redis_client_error(const redis_client_t *c);
int redis_client_oom(const redis_client_t *c);
/* 1 once the client gave up (no connection for giveup_ms, or AUTH/SELECT refused). */
int redis_client_dead(const redis_client_t *c);
/* Connections made so far (1 after the first; more after reconnects). */
unsigned long redis_client_connects(const redis_client_t *c);

/* While disconnected: fails every call waiting for the connection with error (an interrupted
 * job that will not wait for Redis to come back) and returns 1; connected: 0, nothing done. */
int redis_client_fail_waiting(redis_client_t *c, int error);

/* Fails every pending call with -ECANCELED and closes the connection; the client frees itself
 * once its handles are closed (the loop must run on for that). NULL is ignored. */
void redis_client_close(redis_client_t *c);

#endif
