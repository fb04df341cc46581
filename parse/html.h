/* html.h - streaming link extraction from HTML pages (libxml2 push parser in SAX mode), and
 * links with their byte ranges for rewriting a page.
 *
 * Thread notes: a parser is used by one thread at a time; any thread may make its own. */
#ifndef GATHER_PARSE_HTML_H
#define GATHER_PARSE_HTML_H

#include <stddef.h>

#include "parse/parse.h"

/* Input past this many bytes of one page is not parsed (the links before it are kept). */
#define PARSE_HTML_MAX_BYTES (16 * 1024 * 1024)

/*
 * What is reported, from one table in html.c (an element's attribute and the link's kind):
 * PAGE: a[href], area[href], iframe[src], frame[src], <meta http-equiv=refresh> targets,
 *       link[href] with a page rel (alternate, canonical, next, prev, previous, amphtml, help,
 *       license, author, search is an asset), svg a[href|xlink:href].
 * ASSET: img[src], every img[srcset] and source[srcset] candidate, source[src], script[src],
 *       video[src], video[poster], audio[src], track[src], embed[src], object[data],
 *       input[type=image][src], body[background], table/td/th[background], svg
 *       image[href|xlink:href], use[href|xlink:href], a[download][href] (a file to save),
 *       link[href] with rel icon (and "shortcut icon", apple-touch-icon(-precomposed),
 *       mask-icon, fluid-icon), preload, modulepreload, prefetch, manifest, search;
 *       url() and image-set() references in <style> blocks and style="" attributes.
 * STYLESHEET: link[href] with rel stylesheet (also "alternate stylesheet"), @import targets
 *       in <style>: an asset that must itself be parsed for its references (parse/css.h).
 * rel is a space-separated, case-insensitive token list: an asset rel wins over a page rel;
 * dns-prefetch and preconnect name hosts, not resources, and other rels are ignored. Not
 * reported: blockquote/q/del/ins[cite], iframe[srcdoc], a[ping] (browsers do not load them).
 */
typedef enum { PARSE_LINK_PAGE, PARSE_LINK_ASSET, PARSE_LINK_STYLESHEET } parse_link_kind_t;

/*
 * Called for each link, in document order, duplicates included. `url` is resolved against
 * the page URL, or against the first <base href> once it has been seen, and normalised by
 * parse_url_resolve; it is only valid during the call. The callback must not free the
 * parser it is called from.
 */
typedef void (*parse_link_fn)(void *arg, const char *url, parse_link_kind_t kind);

typedef struct parse_html parse_html_t;

/* Counters for one page. */
typedef struct {
    unsigned long links;            /* calls made to the callback */
    unsigned long dropped_fragment; /* empty references and "#..." ones: the page itself */
    unsigned long dropped_scheme;   /* javascript:, mailto:, tel:, data:, ftp: ... */
    unsigned long dropped_invalid;  /* unparsable, or over PARSE_URL_MAX bytes */
    unsigned long long bytes;       /* bytes parsed, at most PARSE_HTML_MAX_BYTES */
    int truncated;                  /* input past PARSE_HTML_MAX_BYTES was ignored */
} parse_html_stats_t;

/*
 * A parser for one page at `page_url` (copied, normalised). Returns NULL with errno set to
 * ENOMEM, or EINVAL when page_url is not a valid http/https URL. Free with parse_html_free.
 *
 * Encoding: a page is read as UTF-8, with invalid bytes replaced by U+FFFD as a browser does
 * (libxml2 alone reads a page naming no charset as ISO-8859-1 from its first non-ASCII byte,
 * and even under <meta charset=utf-8> switches to ISO-8859-1 at the first invalid byte),
 * unless it starts with a UTF-16 BOM or names another charset in its first 8 KiB; then
 * libxml2 converts it (and stops at the first conversion error). libxml2's error messages
 * never reach stderr. Memory held: about 40 KiB (8 KiB of it the CSS scanner for <style> and
 * style="") plus libxml2's unparsed input (at most one unfinished tag; bounded by
 * PARSE_HTML_MAX_BYTES) and its stack of open elements (at most 256 deep).
 */
parse_html_t *parse_html_new(const char *page_url, parse_link_fn fn, void *arg);

/*
 * Parse the next `len` bytes of the page. libxml2 gets the page in 4 KiB blocks, after the
 * first 8 KiB have been looked at for the encoding (see below), so a link is reported by the
 * feed that completes its block, or by parse_html_end. The links found do not depend on how
 * the page is cut into feeds. Malformed HTML never fails. Returns PARSE_OK;
 * PARSE_ETOOLONG once the page passes PARSE_HTML_MAX_BYTES (the part within the cap is
 * parsed, the rest ignored, and later feeds return it again); PARSE_ENOMEM (the parser is
 * then unusable except for free); PARSE_ESTATE after parse_html_end.
 */
int parse_html_feed(parse_html_t *p, const char *data, size_t len);

/* Finish the page: reports links held back waiting for more input. PARSE_OK or PARSE_ENOMEM. */
int parse_html_end(parse_html_t *p);

/* The counters so far; valid until parse_html_free. */
const parse_html_stats_t *parse_html_stats(const parse_html_t *p);

/* Free the parser and everything it holds. NULL is a no-op. */
void parse_html_free(parse_html_t *p);

/*
 * One-shot: new, feed(body, len), end, free. Returns the number of links reported (capped at
 * INT_MAX), PARSE_EINVAL for a bad page_url, or PARSE_ENOMEM. A body over
 * PARSE_HTML_MAX_BYTES is parsed up to the cap without error.
 */
int parse_html_links(const char *body, size_t len, const char *page_url, parse_link_fn fn,
                     void *arg);

/*
 * Links with their place in the page, for rewriting it (--convert-links). `url` and `kind` as
 * for parse_link_fn; [offset, offset + len) is the range of the page's bytes holding the
 * link's text exactly as written: an attribute value without its quotes (and without the
 * blanks around it), one srcset candidate's URL, the URL inside a meta refresh content, a
 * url() or @import target inside <style> or style="" (without quotes or the url( ) wrapper),
 * entities and CSS escapes left as they are. Replacing exactly those ranges rewrites the links
 * and leaves every other byte alone.
 */
typedef void (*parse_link_at_fn)(void *arg, const char *url, parse_link_kind_t kind,
                                 size_t offset, size_t len);

/*
 * One-shot with positions: the same (url, kind) pairs as parse_html_links reports for the
 * same page (read the same way: BOM, charset sniffing, UTF-8 repair, entities), from a
 * tokenizer of its own that reads the raw bytes. Spans come in increasing offset order and
 * never overlap. Returns the number of links (capped at INT_MAX), PARSE_EINVAL for a bad
 * page_url, or PARSE_ENOMEM. Any thread. A body over PARSE_HTML_MAX_BYTES is read up to it.
 */
int parse_html_links_at(const char *body, size_t len, const char *page_url, parse_link_at_fn fn,
                        void *arg);

#endif
