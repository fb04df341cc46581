/* robots.h - robots.txt rules for one crawler (RFC 9309), with crawl-delay and sitemaps. */
#ifndef GATHER_PARSE_ROBOTS_H
#define GATHER_PARSE_ROBOTS_H

#include <stddef.h>

#include "parse/parse.h"

/* Bytes of a robots.txt body that are parsed (RFC 9309 2.5 asks for at least 500 KiB). */
#define PARSE_ROBOTS_MAX_BYTES (500 * 1024)

/* What a fetch keeps of a longer body: one byte more than is parsed tells a line cut by the
 * limit from one that ends at it. */
#define PARSE_ROBOTS_READ_BYTES (PARSE_ROBOTS_MAX_BYTES + 1)

/* Sitemap URLs kept from one robots.txt. */
#define PARSE_ROBOTS_MAX_SITEMAPS 1000

/*
 * The rules that apply to one crawler, immutable once built: safe to read from any thread.
 */
typedef struct parse_robots parse_robots_t;

/*
 * Parse a robots.txt body (not NUL-terminated; NUL bytes end a line) for the crawler whose
 * product token is `product_token` ("gather", or a User-Agent such as "gather-bot/1.0",
 * from which the leading letters, '-' and '_' are taken; NULL or "" obeys only "*").
 *
 * Group selection (RFC 9309 2.2.1): a user-agent value is reduced to its product token the
 * same way and compared with ours case-insensitively, for equality only ("gather-bot" does
 * not obey a "gather" group). All groups naming our token are merged; without one, the "*"
 * groups apply (merged too); without those, everything is allowed. A group is a run of
 * user-agent lines, then its rules: only a user-agent line after a rule starts a new one.
 * Other records (Crawl-delay, Sitemap, unknown keys) end neither (2.2.4). Rules before any
 * user-agent line are ignored. Lines are "key: value # comment", CR, LF or CRLF ended, keys
 * case-insensitive (common misspellings such as "useragent" and "dissallow" accepted),
 * unknown keys ignored, a UTF-8 BOM (or the start of one) at the beginning skipped.
 * Only the first PARSE_ROBOTS_MAX_BYTES are read, and a line cut by that limit is dropped:
 * a caller holding only a prefix of a longer body passes at least PARSE_ROBOTS_READ_BYTES
 * of it, so that the parser sees the body goes on. "Sitemap:" lines are collected from
 * anywhere, normalised, deduplicated, at most PARSE_ROBOTS_MAX_SITEMAPS; relative or invalid
 * ones are dropped.
 *
 * Returns NULL only when memory runs out. Free with parse_robots_free.
 */
parse_robots_t *parse_robots_new(const char *body, size_t len, const char *product_token);

/* 1 if s is a product token RFC 9309 2.2.1 allows: one or more of a-z, A-Z, '_' and '-'. */
int parse_robots_token_valid(const char *s);

/* Everything allowed (robots.txt answered 4xx), or nothing (5xx or unreachable). */
parse_robots_t *parse_robots_allow_all(void);
parse_robots_t *parse_robots_disallow_all(void);

/*
 * 1 if the crawler may fetch `path_and_query` ("/a/b?c", as from parse_url_path; "" counts as
 * "/"), 0 if not. The longest matching rule wins (length in octets of its normalised pattern,
 * "$" included); on a tie allow wins; no match allows. Patterns match from the start of the
 * path, "*" matches any run of characters, a final "$" anchors the end. Percent-encoding is
 * normalised on both sides first (%7E and ~ are equal, hex case does not matter, non-ASCII
 * is compared encoded); a literal "*" or "$" in a URL is matched by "%2A" or "%24" in a rule.
 * "/robots.txt" is always allowed. Returns 0 if memory runs out.
 */
int parse_robots_allowed(const parse_robots_t *r, const char *path_and_query);

/*
 * The crawl-delay of the selected group in milliseconds (fractions of seconds allowed, the
 * largest if merged groups give several, capped at one day), or -1 if none was given.
 */
long parse_robots_crawl_delay_ms(const parse_robots_t *r);

/* Number of sitemap URLs, and the i-th (owned by r, valid until parse_robots_free). */
size_t parse_robots_sitemap_count(const parse_robots_t *r);
const char *parse_robots_sitemap(const parse_robots_t *r, size_t i);

/* Free r and everything it holds. NULL is a no-op. */
void parse_robots_free(parse_robots_t *r);

#endif
