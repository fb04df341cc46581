/* sitemap.h - URLs from XML sitemaps and sitemap indexes (sitemaps.org protocol). */
#ifndef GATHER_PARSE_SITEMAP_H
#define GATHER_PARSE_SITEMAP_H

#include <stddef.h>

#include "parse/parse.h"

/* The protocol's limits: at most this many URLs, and bytes, in one sitemap file. */
#define PARSE_SITEMAP_MAX_URLS 50000
#define PARSE_SITEMAP_MAX_BYTES (50 * 1024 * 1024)

/*
 * Called once per <loc>: `url` normalised (valid during the call only); is_index is 1 when
 * it names another sitemap (<sitemapindex><sitemap><loc>), 0 for a page (<urlset><url><loc>).
 */
typedef void (*parse_sitemap_fn)(void *arg, const char *url, int is_index);

/*
 * Read the XML sitemap in body[0..len) with libxml2's xmlReader: no network, no DTD
 * loading, no entity substitution. Each <loc> directly inside <url> (in a <urlset>) or
 * <sitemap> (in a <sitemapindex>), in the root element's namespace, is trimmed, resolved
 * against base_url (NULL: it must be absolute) and normalised; invalid, non-http(s) and
 * over-long ones are skipped, as are extension elements such as <image:loc>. Only the first
 * PARSE_SITEMAP_MAX_BYTES are read and at most PARSE_SITEMAP_MAX_URLS reported. Malformed
 * XML stops the reading, keeping what was reported before it.
 * Returns the number of URLs reported (>= 0), or PARSE_EINVAL when the body is not a
 * sitemap (not XML, or its root is neither <urlset> nor <sitemapindex>), or PARSE_ENOMEM.
 */
int parse_sitemap(const char *body, size_t len, const char *base_url, parse_sitemap_fn fn,
                  void *arg);

#endif
