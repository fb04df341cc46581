/* url.h - http/https URL normalisation and RFC 3986 reference resolution on libcurl's CURLU. */
#ifndef GATHER_PARSE_URL_H
#define GATHER_PARSE_URL_H

#include <stddef.h>

#include "parse/parse.h"

/*
 * The normal form produced by every function here:
 *   scheme and host lowercased; IDN hosts in punycode when libidn2 can convert them
 *   (otherwise kept as UTF-8); the default port (:80 http, :443 https) dropped, others kept;
 *   dot-segments removed (also those spelt %2E); empty path -> "/"; fragment dropped;
 *   percent-encoding made consistent in userinfo, path and query: %XX of ALPHA DIGIT - . _ ~
 *   decoded, other %XX with uppercase hex, a stray '%' -> %25, and characters that may not
 *   appear unencoded (space, "<>\"{}|\\^`", non-ASCII bytes) percent-encoded; an empty query
 *   ("?" with nothing after it) dropped, any other query kept as given.
 * Rejected: schemes other than http/https and scheme-less strings (PARSE_ESCHEME); no host,
 *   bad port (including 0), IPv6 zone IDs, control characters, leading/trailing space, or
 *   anything curl cannot parse (PARSE_EINVAL); input or result over PARSE_URL_MAX bytes
 *   (PARSE_ETOOLONG). Every function is thread-safe (no state besides libcurl's own).
 */

/*
 * Normalise the absolute http/https URL `in`. On PARSE_OK *out is a malloc'd string the
 * caller frees with free(); on error *out is left untouched.
 */
int parse_url_normalize(const char *in, char **out);

/*
 * Resolve the reference `ref` (absolute, protocol-relative or relative) against the absolute
 * http/https URL `base` per RFC 3986 section 5 and normalise the result. Like a browser, it
 * trims C0 controls and spaces around ref and removes tabs, CRs and LFs inside it; an empty
 * ref or one that is only "#fragment" resolves to the normalised base; "http:g" with the
 * base's own scheme is resolved as the relative "g" (RFC 3986 5.4.2, backward-compatible).
 * Errors: PARSE_ESCHEME for javascript:, mailto:, data:, ftp: ... references; otherwise as
 * parse_url_normalize, for the base or the result. *out as for parse_url_normalize.
 */
int parse_url_resolve(const char *base, const char *ref, char **out);

/*
 * parse_url_resolve without its fast path (references of plain path and query characters
 * resolved by hand, the last base's normal form reused): for the differential test that
 * keeps the two equal. Same contract as parse_url_resolve.
 */
int parse_url_resolve_slow(const char *base, const char *ref, char **out);

/*
 * "host:port" of `url`, lowercased, with the port always explicit ("example.com:443",
 * "[::1]:8080"): a key for per-host limits. *out is malloc'd (free()), untouched on error.
 */
int parse_url_hostport(const char *url, char **out);

/*
 * The origin of `url` ("https://example.com", "http://[::1]:8080", without user info) followed by
 * `path` (e.g. "/robots.txt"). *out as above.
 */
int parse_url_origin(const char *url, const char *path, char **out);

/* The normalised host of `url` alone ("example.com", "[::1]"). *out as above. */
int parse_url_host(const char *url, char **out);

/*
 * The normalised path of `url` plus "?query" if it has one ("/a/b?x=1"): what robots.txt
 * rules match against. *out as above.
 */
int parse_url_path(const char *url, char **out);

/*
 * URL passwords are secrets: wherever a URL is shown (stderr, --json, HAR) or stored (the state
 * database), its password is replaced by PARSE_URL_MASK ("http://ann:***@host/"); the real URL
 * serves only the request itself.
 *
 * parse_url_redact returns what may be shown for `url`: url itself when it holds no password
 * (the common case: no copy, no allocation), else the masked URL written into buf[n]. Whatever
 * happens it never returns the password: a URL curl cannot parse is masked by hand (the
 * userinfo of the authority after "scheme://"), and when buf is too small or memory runs out it
 * returns a fixed placeholder. A buf of PARSE_URL_REDACT_SIZE bytes holds the mask of any URL
 * of up to PARSE_URL_MAX bytes. The result is deterministic, so it can serve as a database key.
 */
#define PARSE_URL_MASK "***"
#define PARSE_URL_REDACT_SIZE (PARSE_URL_MAX + sizeof(PARSE_URL_MASK) + 1)
const char *parse_url_redact(const char *url, char *buf, size_t n);

/*
 * The reverse for a URL read back from where it was stored masked: if `url` holds the masked
 * password and one of the n URLs in `sources` (the start URLs a user gave again) has the same
 * scheme, host, port and user name with a password, *out is url with that password; with none,
 * *out is url without its user info (never the mask sent as a password). PARSE_OK with *out
 * NULL when url holds no masked password. *out is malloc'd (free()).
 */
int parse_url_unredact(const char *url, char *const *sources, size_t n, char **out);

#endif
