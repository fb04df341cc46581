/* pct.h - percent-encoding normalisation shared by url.c and robots.c (private to parse/). */
#ifndef GATHER_PARSE_PCT_H
#define GATHER_PARSE_PCT_H

#include <stddef.h>

/* Which characters a component may hold unencoded (RFC 3986 section 3). */
typedef enum {
    PARSE_PCT_USER,     /* userinfo before the ':': unreserved, sub-delims */
    PARSE_PCT_PASSWORD, /* userinfo after the ':': the above and ':' */
    PARSE_PCT_PATH,     /* pchar and '/' */
    PARSE_PCT_QUERY,    /* pchar, '/' and '?' */
    PARSE_PCT_ROBOTS    /* the query set minus '*' and '$', which robots.txt patterns reserve */
} parse_pct_set_t;

/*
 * Rewrite src[0..len) into the one canonical form of its percent-encoding: %XX of an
 * unreserved character (ALPHA DIGIT - . _ ~) is decoded, every other %XX gets uppercase hex,
 * a '%' not followed by two hex digits becomes %25, and every byte the set does not allow
 * (space, controls, non-ASCII, "<>\"{}|\\^`[]" ...) becomes %XX. Applying it twice changes
 * nothing. On PARSE_OK *out is a NUL-terminated malloc'd string the caller frees and *outlen
 * (if not NULL) its length; on PARSE_ENOMEM *out is untouched.
 */
int parse_pct_normalize(const char *src, size_t len, parse_pct_set_t set, char **out,
                        size_t *outlen);

#endif
