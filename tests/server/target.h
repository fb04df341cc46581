/* target.h - request-target parsing: path decoding, query parameters and decimal numbers. */
#ifndef FIXTURE_TARGET_H
#define FIXTURE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TARGET_VALUE_MAX 1024

/* Split a request-target into its raw path (path_len bytes, not NUL-terminated) and its raw
 * query (without '?', "" when absent); both point into target. An absolute-form target
 * (http://host/path?query) is reduced to its path and query. */
void target_split(const char *target, const char **path, size_t *path_len, const char **query);

/* The percent-decoded path of target into out[cap], and its raw query. Returns false when the
 * path holds %00 or does not fit (out is then unspecified). */
bool target_path(const char *target, char *out, size_t cap, const char **query);

/* Percent-decode src[0..n) into out[cap]; with plus, '+' means a space (query values).
 * Malformed escapes are kept literally. Returns 0, or -1 for %00 or when it does not fit. */
int target_decode(const char *src, size_t n, bool plus, char *out, size_t cap);

/* Find the nth (from 0) `name=value` pair of a raw query ("name" alone counts, with an empty
 * value) and decode its value into out[cap]. Returns 1 when found, 0 when absent, -1 when the
 * value is malformed or too long. */
int target_query_get(const char *query, const char *name, unsigned nth, char *out, size_t cap);

/* A numeric query parameter: *v = dflt when absent, clamped to max. False when malformed. */
bool target_query_uint(const char *query, const char *name, uint64_t dflt, uint64_t max,
                       uint64_t *v);

/* Parse a whole string of 1 to 18 decimal digits into *v. */
bool target_uint(const char *s, uint64_t *v);

/* Take a run of 1 to 18 decimal digits from *s into *v, advancing *s past them. */
bool target_take_uint(const char **s, uint64_t *v);

#endif
