/* stats.h - thread-safe request counters, per-target hit maps, flaky counters and request log. */
#ifndef FIXTURE_STATS_H
#define FIXTURE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_LOG_MAX_LINES 200000
#define STATS_KEY_MAX 2048 /* longer targets are truncated in the maps and the log */
#define STATS_CREDS_MAX_LINES 50000
#define STATS_CREDS_VALUE_MAX 512
#define STATS_SERVED_MAX 100000   /* /big answers listed in "served" */ /* longer header values are truncated in the /creds log */

struct stats;

/* Create the counters; with no_hits the per-target maps and the log are not kept (counters and
 * flaky counters still are). Returns NULL when out of memory. Free with stats_free(). */
struct stats *stats_new(bool no_hits);
void stats_free(struct stats *s);

/* A counted request arrived: bump requests, in-flight (and its maximum), the Range counter, the
 * hit maps and the log. Returns 0, or -1 if a map or the log could not grow (the counters are
 * still updated). Every call must be paired with stats_request_end(). */
int stats_request_begin(struct stats *s, const char *method, const char *target, bool has_range);
void stats_request_end(struct stats *s);

void stats_connection_open(struct stats *s);
void stats_connection_close(struct stats *s);
void stats_add_bytes(struct stats *s, uint64_t n);
/* A /big answer: its status and the entity bytes first..last it announced (the "served" list of
 * /stats, so a test sees which ranges a client asked for and got). Returns 0, or -1 when out of
 * memory. */
int stats_served(struct stats *s, unsigned status, uint64_t first, uint64_t last);

/* Count one more hit on a flaky key and return the count including this hit (0 when out of
 * memory, so a flaky route then answers as if it had failed once more). */
uint64_t stats_flaky_hit(struct stats *s, const char *key);

/* The /stats document as a NUL-terminated JSON string; the caller frees it. NULL when out of
 * memory. */
char *stats_json(struct stats *s);

/* A copy of the log ("METHOD TARGET\n" per counted request, or "USEC METHOD TARGET\n" with times:
 * USEC is when its headers arrived, in microseconds on the server's monotonic clock); the caller
 * frees it. NULL when out of memory. */
char *stats_log(struct stats *s, bool times, size_t *len);

/* The credentials a counted request carried (each NULL when it had no such header): one line of
 * the /creds log, "TARGET" then "\tName: value" for each one present. Returns 0, or -1 when the
 * log could not grow. Not kept with no_hits. */
int stats_creds(struct stats *s, const char *target, const char *authorization, const char *cookie,
                const char *proxy_authorization);

/* A copy of the /creds log; the caller frees it. NULL when out of memory. */
char *stats_creds_log(struct stats *s, size_t *len);

/* Zero every counter, map, flaky counter and the log. The gauges (in-flight, connections) keep
 * their current value and their maxima restart from it, so requests still running stay
 * balanced. */
void stats_reset(struct stats *s);

#endif
