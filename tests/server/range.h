/* range.h - Range, If-Range and HTTP-date handling for the ranged routes (RFC 9110 §14, §13.1.5). */
#ifndef FIXTURE_RANGE_H
#define FIXTURE_RANGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RANGE_DATE_MAX 40

enum range_result {
    RANGE_FULL,          /* send the whole entity with 200 */
    RANGE_PARTIAL,       /* send [*first, *last] with 206 */
    RANGE_UNSATISFIABLE  /* answer 416 with Content-Range: bytes * / size */
};

/* Decide what to send of an entity of `size` bytes given the request's Range and If-Range values
 * (either may be NULL). Only one `bytes=` range is supported: a malformed Range, another unit or
 * a multi-range list is ignored (RANGE_FULL), which RFC 9110 allows. If-Range matches a strong
 * ETag equal to `etag` or an HTTP-date equal to `last_modified`; anything else gives RANGE_FULL.
 * *first and *last are written only for RANGE_PARTIAL. */
enum range_result range_select(const char *range, const char *if_range, uint64_t size,
                               const char *etag, time_t last_modified,
                               uint64_t *first, uint64_t *last);

/* Write t as an IMF-fixdate ("Thu, 01 Jan 2026 00:00:00 GMT") into out. Returns 0, or -1 if
 * cap is too small or the time cannot be represented (out is then unspecified). */
int range_date_format(time_t t, char *out, size_t cap);

/* Parse an IMF-fixdate into *t. Returns 0, or -1 (leaving *t unchanged) if s is not one. */
int range_date_parse(const char *s, time_t *t);

#endif
