/* url.h - RFC 3986 reference resolution and normalisation, for computing the crawl expectations. */
#ifndef FIXTURE_URL_H
#define FIXTURE_URL_H

#include <stddef.h>

#define URL_MAX 2048

/* Resolve the reference `ref` (as written in an href, already HTML-unescaped) against `base`, an
 * absolute http(s) URL, and write the normalised absolute URL to out[URL_MAX]:
 * scheme and host lower-case, default port dropped, fragment dropped, dot-segments removed,
 * %XX of unreserved characters decoded and other %xx upper-cased, an empty path made "/",
 * the query kept as is otherwise.
 * Returns 0, or -1 when ref is not http(s) (mailto:, javascript:, tel:, data: ...), base is not
 * absolute, or the result would not fit (out is then unspecified). */
int url_resolve(const char *base, const char *ref, char out[URL_MAX]);

/* Find the authority (not NUL-terminated: see authority_len) and the path-and-query of a URL
 * produced by url_resolve; both point into url. Returns 0, or -1 if url has no "://". */
int url_split(const char *url, const char **authority, size_t *authority_len, const char **path);

#endif
