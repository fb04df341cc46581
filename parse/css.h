/* css.h - link extraction from stylesheets: url(), @import and image-set() references found by
 * a small tokenizer following CSS Syntax Level 3 (comments, strings, escapes, url tokens).
 *
 * Thread notes: no global state; any thread may use its own parsers. */
#ifndef GATHER_PARSE_CSS_H
#define GATHER_PARSE_CSS_H

#include <stddef.h>

#include "parse/html.h"
#include "parse/parse.h"

/* Input past this many bytes of one stylesheet is not parsed (the links before it are kept). */
#define PARSE_CSS_MAX_BYTES (16 * 1024 * 1024)

/*
 * What a stylesheet references, and with which kind:
 *   @import "x" / @import url(x)                        PARSE_LINK_STYLESHEET (parse it too)
 *   url(x), url("x") anywhere else                      PARSE_LINK_ASSET
 *   image-set("a" 1x, url(b) 2x), -webkit-image-set()   PARSE_LINK_ASSET (strings and url()s)
 * A url() whose text, once unescaped, is over PARSE_URL_MAX bytes, a bad-url token
 * (`url(a b)`, `url(a"b)`) and a string cut by a newline are dropped (counted invalid).
 */

/* ---- the scanner: references as written, unresolved -------------------------------------- */

/*
 * Called for each reference. `ref[0..len)` is the text with CSS escapes decoded (not
 * NUL-terminated, only valid during the call; NULL for a reference that is dropped as
 * invalid); `offset` and `rawlen` give the bytes of the input it was read from, exactly as
 * written (without quotes or the url( ) wrapper), counted from the first byte ever fed.
 */
typedef void (*parse_css_ref_fn)(void *arg, const char *ref, size_t len, parse_link_kind_t kind,
                                 size_t offset, size_t rawlen);

/*
 * The tokenizer's state, for a caller that embeds it (html.c does, for <style> and style="").
 * Fields are private. It holds at most one unfinished token, capped at PARSE_URL_MAX bytes
 * (a longer one is skipped to its end, then reported as invalid), and allocates nothing.
 */
typedef struct parse_css_scan {
    parse_css_ref_fn fn;
    void *arg;
    size_t pos;              /* bytes fed so far */
    int state, ret;          /* tokenizer state, and where an escape returns to */
    int prev_cr;             /* the last byte was \r: a \n right after it is the same newline */
    unsigned char quote;     /* the quote of the string being read */
    unsigned hex, nhex;      /* a hex escape being read */
    int depth;               /* ( nesting */
    int imageset_depth;      /* depth just inside an image-set( ), 0 when outside */
    int import_pending;      /* after @import: the next string or url is a stylesheet */
    int in_func_url;         /* inside url( "..." ): its string is a reference */
    size_t start, end;       /* raw span of the value being read */
    size_t wlen;             /* bytes in word (an ident, at-keyword, number or hash) */
    int woverflow;
    char word[32];
    size_t vlen;             /* bytes in value (a string or url being read) */
    int voverflow;
    char value[PARSE_URL_MAX + 8];
} parse_css_scan_t;

/* Start scanning a stylesheet: offsets count from the next byte fed. */
void parse_css_scan_init(parse_css_scan_t *s, parse_css_ref_fn fn, void *arg);

/* Scan the next bytes. The references found do not depend on how the input is cut. */
void parse_css_scan_feed(parse_css_scan_t *s, const char *data, size_t len);

/* End of input: reports a url( ) or string left open at the end, as CSS says. */
void parse_css_scan_end(parse_css_scan_t *s);

/* ---- the parser: references resolved against the stylesheet's URL ------------------------ */

typedef struct parse_css parse_css_t;

/* Counters for one stylesheet, as parse_html_stats_t. */
typedef struct {
    unsigned long links;
    unsigned long dropped_fragment;
    unsigned long dropped_scheme;
    unsigned long dropped_invalid;
    unsigned long long bytes;
    int truncated;
} parse_css_stats_t;

/*
 * A parser for one stylesheet at `base_url` (copied, normalised): `fn` gets each reference
 * resolved and normalised by parse_url_resolve, in input order, duplicates included
 * (data:, javascript: and other schemes are counted, not reported; "#x" and empty ones too).
 * Returns NULL with errno ENOMEM, or EINVAL when base_url is not a valid http/https URL.
 * Memory: about 9 KiB, whatever the input.
 */
parse_css_t *parse_css_new(const char *base_url, parse_link_fn fn, void *arg);

/* Parse the next bytes. PARSE_OK, PARSE_ETOOLONG past PARSE_CSS_MAX_BYTES (as
 * parse_html_feed), PARSE_ENOMEM (then only free is allowed), PARSE_ESTATE after end. */
int parse_css_feed(parse_css_t *p, const char *data, size_t len);

/* Finish: reports a reference left open at the end. PARSE_OK or PARSE_ENOMEM. */
int parse_css_end(parse_css_t *p);

const parse_css_stats_t *parse_css_stats(const parse_css_t *p);

/* Free the parser. NULL is a no-op. */
void parse_css_free(parse_css_t *p);

/* One-shot: the number of links reported (capped at INT_MAX), PARSE_EINVAL or PARSE_ENOMEM. */
int parse_css_links(const char *css, size_t len, const char *base_url, parse_link_fn fn,
                    void *arg);

/*
 * One-shot with positions, for rewriting (--convert-links): the same links as parse_css_links,
 * each with the byte range [offset, offset + len) of css[] holding its text as written (see
 * parse_css_ref_fn). Spans are reported in increasing offset order and never overlap.
 * Returns as parse_css_links.
 */
int parse_css_links_at(const char *css, size_t len, const char *base_url, parse_link_at_fn fn,
                       void *arg);

#endif
