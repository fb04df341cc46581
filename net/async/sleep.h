/* sleep: a future resolved after a delay, on a uv_timer_t (asyncio.sleep in C). Loop thread only. */
#ifndef NET_SLEEP_H
#define NET_SLEEP_H

#include <stdint.h>

#include "net/async/future.h"

/* Resolves after ms milliseconds; cancelling it stops the timer. NULL when out of memory. The
 * caller owns the returned reference. */
future_t *net_sleep(sched_t *s, uint64_t ms);

#endif
