/* future: the result of an operation that completes later (asyncio.Future in C).
 *
 * Ownership: every function here or elsewhere that returns a future_t * gives the caller one
 * reference (AWAIT takes it over); future_ref/future_unref for more. Threads: only the loop thread
 * of the future's scheduler may call these (pool jobs report back through executor_run). */
#ifndef NET_FUTURE_H
#define NET_FUTURE_H

#include <stddef.h>

#include "net/async/list.h"
#include "net/async/sched.h"

typedef enum future_state {
    FUTURE_PENDING = 0,
    FUTURE_DONE,
    FUTURE_FAILED,
    FUTURE_CANCELLED
} future_state_t;

typedef struct future future_t;
typedef void (*future_cb)(future_t *f, void *arg);
/* Producer's cancel hook: undo the operation. Return 0 to accept the cancel, non-zero to refuse it
 * (the work can no longer be stopped, e.g. a job already running on the thread pool). */
typedef int (*future_cancel_fn)(future_t *f, void *arg);

struct future_callback {
    future_cb fn;
    void *arg;
};

#define FUTURE_INLINE_CBS 2

/* Fields are private; use the functions below. A future is reference counted: whoever holds a
 * pointer past the current call holds a reference. */
struct future {
    sched_t *sched;
    sched_node_t node;
    future_state_t state;
    int error;                  /* 0, or a negative errno (-ECANCELED when cancelled) */
    void *result;
    unsigned refs;
    struct future_callback inline_cbs[FUTURE_INLINE_CBS];
    struct future_callback *cbs;
    size_t ncbs, capcbs;
    future_cancel_fn on_cancel;
    void *cancel_arg;
    list_t qlink;               /* the one producer queue the future may wait in (asem) */
};

/* A new pending future holding one reference for the caller, or NULL when out of memory. */
future_t *future_new(sched_t *s);
future_t *future_ref(future_t *f);
/* Drops a reference; the last one frees the future. NULL is ignored. */
void future_unref(future_t *f);

/* Settle a pending future. Callbacks run on a later loop turn, never inside these calls.
 * Return 0, or -EALREADY when f was already settled (f is then unchanged). */
int future_resolve(future_t *f, void *result);
int future_fail(future_t *f, int error);

/* Cancels a pending future: runs the producer's cancel hook synchronously; if it accepts, f is
 * CANCELLED with error -ECANCELED. Returns 0, -EALREADY if already settled, -EBUSY if refused. */
int future_cancel(future_t *f);
void future_set_cancel(future_t *f, future_cancel_fn fn, void *arg);

/* Calls fn(f, arg) from the loop once f is settled (on a later turn even if it already is).
 * Returns 0 or -ENOMEM. future_off removes the first matching registration that has not run. */
int future_on_done(future_t *f, future_cb fn, void *arg);
void future_off(future_t *f, future_cb fn, void *arg);

static inline future_state_t future_state(const future_t *f) { return f->state; }
static inline int future_error(const future_t *f) { return f->error; }
static inline void *future_result(const future_t *f) { return f->result; }
static inline int future_is_done(const future_t *f) { return f->state != FUTURE_PENDING; }

/* A future already settled with result or error (error 0 = resolved); NULL when out of memory. */
future_t *future_new_resolved(sched_t *s, void *result);
future_t *future_new_failed(sched_t *s, int error);

/* gather: settles when every input has settled; resolved if all were resolved, else failed with
 * the error of the first failed input (by index). Cancelling it cancels the inputs. The inputs are
 * referenced until they settle; the caller keeps its own references. */
future_t *future_all(sched_t *s, future_t **futs, size_t n);

/* Settles with the index (as uintptr_t in the result) of the first input to settle. */
future_t *future_any(sched_t *s, future_t **futs, size_t n);

/* wait_for: mirrors f, or fails with -ETIMEDOUT after ms and then cancels f. */
future_t *future_timeout(sched_t *s, future_t *f, uint64_t ms);

#endif
