/* html.c - streaming link extraction from HTML pages (libxml2 push parser in SAX mode). */
#include "parse/html.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/parser.h>

#include "parse/css.h"
#include "parse/url.h"

/* libxml2 gets the input in blocks of this size (after UTF-8 repair, up to 3x). */
#define HTML_BLOCK 4096

/*
 * How much of the start of a page is looked at for a BOM or a charset before parsing: the
 * HTML standard's prescan reads 1024 bytes, but real pages put long scripts and comments
 * before their <meta charset>, and a charset found later comes too late for bytes already
 * repaired as UTF-8.
 */
#define HTML_SNIFF_MAX 8192 /* a multiple of HTML_BLOCK, so blocks stay at fixed offsets */

/* Most bytes held back from libxml2 at the end of a piece ("</" and five letters, rounded). */
#define HTML_HOLD_MAX 8

/* How deep libxml2's stack of open elements may grow, and how much of its bottom is kept. */
#define HTML_MAX_DEPTH 256
#define HTML_KEEP_BOTTOM 4

struct parse_html {
    htmlParserCtxtPtr ctxt;
    char *page_url;  /* normalised */
    char *base_url;  /* from the first <base href>; NULL until then */
    int base_seen;   /* a <base href> was seen, even an unusable one */
    parse_link_fn fn;
    void *arg;
    parse_html_stats_t stats;
    int ended;
    int nomem;
    int in_style;          /* inside <style>: its text goes to css */
    parse_css_scan_t css;  /* for <style> and style="" (one at a time) */
    /* Input: the first bytes, held until the encoding is decided, and the UTF-8 repair. */
    unsigned char sniff[HTML_SNIFF_MAX];
    size_t sniff_len;
    int repair;            /* replace invalid UTF-8 with U+FFFD before libxml2 sees it */
    int need;              /* continuation bytes the pending sequence still needs */
    unsigned char lo, hi;  /* the range the next continuation byte must be in */
    unsigned char carry[4];
    size_t carry_len;
    unsigned char hold[HTML_HOLD_MAX]; /* the end of the last piece, see html_tail_to_hold */
    size_t hold_len;
    unsigned char block[HTML_BLOCK];   /* input collected up to the next whole block */
    size_t block_len;
    /*
     * One piece for libxml2: held bytes, then HTML_BLOCK input bytes repaired. Repair writes
     * at most 3 bytes per input byte, plus 4 for a sequence begun in the last piece, plus 3
     * for one left unfinished at the end: 16 bytes of slack cover the extras.
     */
    unsigned char out[HTML_HOLD_MAX + 16 + HTML_BLOCK * 3];
};

/* ---------------------------------------------------------------------------------------- */
/* Reporting one reference                                                                   */

static int html_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* Resolve ref[0..len) (not NUL-terminated) and report it, or count why it was dropped. */
static void html_emit_n(parse_html_t *p, const char *ref, size_t len, parse_link_kind_t kind)
{
    char *copy, *url = NULL;
    int result;

    if (p->nomem)
        return;
    while (len > 0 && (unsigned char)ref[0] <= 0x20) {
        ref++;
        len--;
    }
    while (len > 0 && (unsigned char)ref[len - 1] <= 0x20)
        len--;
    if (len == 0 || ref[0] == '#') {
        p->stats.dropped_fragment++;
        return;
    }
    /* Cheap refusal before copying a megabyte attribute (tabs and newlines do not count). */
    if (len > PARSE_URL_MAX) {
        size_t i, n = 0;
        for (i = 0; i < len && n <= PARSE_URL_MAX; i++)
            if (ref[i] != '\t' && ref[i] != '\n' && ref[i] != '\r')
                n++;
        if (n > PARSE_URL_MAX) {
            p->stats.dropped_invalid++;
            return;
        }
    }
    copy = strndup(ref, len);
    if (!copy) {
        p->nomem = 1;
        xmlStopParser(p->ctxt);
        return;
    }
    result = parse_url_resolve(p->base_url ? p->base_url : p->page_url, copy, &url);
    free(copy);
    switch (result) {
    case PARSE_OK:
        p->stats.links++;
        p->fn(p->arg, url, kind);
        free(url);
        break;
    case PARSE_ESCHEME:
        p->stats.dropped_scheme++;
        break;
    case PARSE_ENOMEM:
        p->nomem = 1;
        xmlStopParser(p->ctxt);
        break;
    default:
        p->stats.dropped_invalid++;
        break;
    }
}

static void html_emit(parse_html_t *p, const char *ref, parse_link_kind_t kind)
{
    if (ref)
        html_emit_n(p, ref, strlen(ref), kind);
}

/*
 * The candidates of a srcset ("a.png 1x, b.png 2x", "c.png 640w"), by the HTML standard's
 * candidate parsing: descriptors are skipped up to a comma outside parentheses, and a URL
 * ending in commas has them stripped. Calls fn(arg, start, end) with offsets into s[0..n)
 * for each URL, in order.
 */
static void html_srcset_each(const char *s, size_t n, void (*fn)(void *, size_t, size_t),
                             void *arg)
{
    size_t i = 0, url, end;

    for (;;) {
        while (i < n && (html_is_space((unsigned char)s[i]) || s[i] == ','))
            i++;
        if (i >= n)
            return;
        url = i;
        while (i < n && !html_is_space((unsigned char)s[i]))
            i++;
        end = i;
        if (s[end - 1] == ',') {
            while (end > url && s[end - 1] == ',')
                end--;
        } else {
            int depth = 0;
            for (; i < n; i++) {
                if (s[i] == '(')
                    depth++;
                else if (s[i] == ')' && depth > 0)
                    depth--;
                else if (s[i] == ',' && depth == 0)
                    break;
            }
        }
        if (end > url)
            fn(arg, url, end);
    }
}

/*
 * The target of <meta http-equiv=refresh content="5; url='next.html'">, by the HTML
 * standard's declarative refresh parsing: a time, then ';' or ',' or space, then an optional
 * "url=", then the URL with one level of quotes removed. "5" alone has no target. Returns 1
 * with [*a, *b) the URL's offsets in s[0..n), or 0.
 */
static int html_refresh_target(const char *s, size_t n, size_t *a, size_t *b)
{
    size_t i = 0, start, end;
    char quote = 0;

    while (i < n && html_is_space((unsigned char)s[i]))
        i++;
    start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == start && (i >= n || s[i] != '.'))
        return 0;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
        i++;
    if (i < n) {
        if (s[i] != ';' && s[i] != ',' && !html_is_space((unsigned char)s[i]))
            return 0;
        while (i < n && html_is_space((unsigned char)s[i]))
            i++;
        if (i < n && (s[i] == ';' || s[i] == ','))
            i++;
        while (i < n && html_is_space((unsigned char)s[i]))
            i++;
    }
    if (i >= n)
        return 0;
    start = i;
    if (n - i >= 3 && strncasecmp(s + i, "url", 3) == 0) {
        size_t q = i + 3;
        while (q < n && html_is_space((unsigned char)s[q]))
            q++;
        if (q < n && s[q] == '=') {
            q++;
            while (q < n && html_is_space((unsigned char)s[q]))
                q++;
            start = q;
        }
    }
    if (start < n && (s[start] == '\'' || s[start] == '"'))
        quote = s[start++];
    end = start;
    while (end < n && (!quote || s[end] != quote))
        end++;
    *a = start;
    *b = end;
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* What links where: one table for both readers (the libxml2 one and html_links_at)          */

/* How an attribute's value holds links. */
enum { HOW_URL, HOW_SRCSET, HOW_REFRESH, HOW_REL };
/* When a rule applies, from the element's other attributes. */
enum { IF_ANY, IF_TYPE_IMAGE, IF_HTTP_EQUIV_REFRESH, IF_DOWNLOAD_IS_ASSET };

struct html_rule {
    const char *element, *attr;
    unsigned char kind, how, cond;
};

/* Sorted by element name (html_rules_for searches it); an element's links come in this order. */
static const struct html_rule html_rules[] = {
    {"a", "href", PARSE_LINK_PAGE, HOW_URL, IF_DOWNLOAD_IS_ASSET},
    {"a", "xlink:href", PARSE_LINK_PAGE, HOW_URL, IF_DOWNLOAD_IS_ASSET},
    {"area", "href", PARSE_LINK_PAGE, HOW_URL, IF_DOWNLOAD_IS_ASSET},
    {"audio", "src", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"body", "background", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"embed", "src", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"frame", "src", PARSE_LINK_PAGE, HOW_URL, IF_ANY},
    {"iframe", "src", PARSE_LINK_PAGE, HOW_URL, IF_ANY},
    {"image", "href", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"image", "xlink:href", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"img", "src", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"img", "srcset", PARSE_LINK_ASSET, HOW_SRCSET, IF_ANY},
    {"input", "src", PARSE_LINK_ASSET, HOW_URL, IF_TYPE_IMAGE},
    {"link", "href", PARSE_LINK_ASSET, HOW_REL, IF_ANY},
    {"meta", "content", PARSE_LINK_PAGE, HOW_REFRESH, IF_HTTP_EQUIV_REFRESH},
    {"object", "data", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"script", "src", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"source", "src", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"source", "srcset", PARSE_LINK_ASSET, HOW_SRCSET, IF_ANY},
    {"table", "background", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"td", "background", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"th", "background", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"track", "src", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"use", "href", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"use", "xlink:href", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"video", "src", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
    {"video", "poster", PARSE_LINK_ASSET, HOW_URL, IF_ANY},
};
#define HTML_NRULES (sizeof(html_rules) / sizeof(html_rules[0]))

/*
 * link[rel] values, as space-separated, case-insensitive tokens. A stylesheet is parsed for
 * its own references; an asset is fetched as a requisite of the page; a page is followed.
 * The first list that has one of the tokens wins. dns-prefetch and preconnect name a host,
 * not a resource; pingback, webmention and the like are endpoints, not documents.
 */
static const char *const html_rel_stylesheet[] = {"stylesheet", NULL};
static const char *const html_rel_asset[] = {
    "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "apple-touch-startup-image",
    "mask-icon", "fluid-icon", "image_src", "preload", "modulepreload", "prefetch",
    "manifest", NULL};
static const char *const html_rel_page[] = {
    "alternate", "canonical", "next", "prev", "previous", "amphtml", "search", "help",
    "license", "author", "index", "contents", "toc", "start", "first", "last", "up", "top",
    "home", "chapter", "section", "subsection", "appendix", "glossary", "copyright",
    "prerender", "bookmark", NULL};

/* 1 if the space-separated, case-insensitive token list s[0..n) holds one of `words`. */
static int html_has_token(const char *s, size_t n, const char *const *words)
{
    size_t i = 0;

    while (i < n) {
        size_t len = 0, w;
        while (i < n && html_is_space((unsigned char)s[i]))
            i++;
        while (i + len < n && !html_is_space((unsigned char)s[i + len]))
            len++;
        for (w = 0; len > 0 && words[w]; w++)
            if (strlen(words[w]) == len && strncasecmp(s + i, words[w], len) == 0)
                return 1;
        i += len;
    }
    return 0;
}

/* The kind a link[rel] gives its href, or -1 when it is not a link. */
static int html_rel_kind(const char *rel, size_t n)
{
    if (html_has_token(rel, n, html_rel_stylesheet))
        return PARSE_LINK_STYLESHEET;
    if (html_has_token(rel, n, html_rel_asset))
        return PARSE_LINK_ASSET;
    if (html_has_token(rel, n, html_rel_page))
        return PARSE_LINK_PAGE;
    return -1;
}

/* The rules for element `name`: *count of them from the returned index. */
static size_t html_rules_for(const char *name, size_t *count)
{
    size_t lo = 0, hi = HTML_NRULES, end;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(html_rules[mid].element, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    end = lo;
    while (end < HTML_NRULES && strcmp(html_rules[end].element, name) == 0)
        end++;
    *count = end - lo;
    return lo;
}

/* ---------------------------------------------------------------------------------------- */
/* Elements (libxml2's SAX callbacks)                                                        */

static const char *html_attr(const xmlChar **atts, const char *name)
{
    size_t i;

    if (!atts)
        return NULL;
    for (i = 0; atts[i]; i += 2)
        if (strcasecmp((const char *)atts[i], name) == 0)
            return (const char *)atts[i + 1];
    return NULL;
}

/* 1 if the element has attribute `name`, with a value or without (download, a boolean). */
static int html_has_attr(const xmlChar **atts, const char *name)
{
    size_t i;

    for (i = 0; atts && atts[i]; i += 2)
        if (strcasecmp((const char *)atts[i], name) == 0)
            return 1;
    return 0;
}

static void html_srcset_one(void *arg, size_t a, size_t b)
{
    void **pv = arg;

    html_emit_n(pv[0], (const char *)pv[1] + a, b - a, PARSE_LINK_ASSET);
}

/* A reference from a <style> block or a style="" attribute. */
static void html_css_ref(void *arg, const char *ref, size_t len, parse_link_kind_t kind,
                         size_t offset, size_t rawlen)
{
    parse_html_t *p = arg;

    (void)offset;
    (void)rawlen;
    if (!ref)
        p->stats.dropped_invalid++;
    else
        html_emit_n(p, ref, len, kind);
}

/* 1 when rule r applies to an element with attributes atts. */
static int html_rule_applies(const struct html_rule *r, const xmlChar **atts, int *kind)
{
    const char *v;

    *kind = r->kind;
    switch (r->cond) {
    case IF_TYPE_IMAGE:
        v = html_attr(atts, "type");
        return v && strcasecmp(v, "image") == 0;
    case IF_HTTP_EQUIV_REFRESH:
        v = html_attr(atts, "http-equiv");
        return v && strcasecmp(v, "refresh") == 0;
    case IF_DOWNLOAD_IS_ASSET:
        if (html_has_attr(atts, "download"))
            *kind = PARSE_LINK_ASSET;
        return 1;
    default:
        break;
    }
    if (r->how == HOW_REL) {
        v = html_attr(atts, "rel");
        *kind = v ? html_rel_kind(v, strlen(v)) : -1;
        return *kind >= 0;
    }
    return 1;
}

static void html_element_links(parse_html_t *p, const char *name, const xmlChar **atts)
{
    size_t first, n, i;
    const char *style;

    if (!atts)
        return;
    first = html_rules_for(name, &n);
    for (i = first; i < first + n && !p->nomem; i++) {
        const struct html_rule *r = &html_rules[i];
        const char *v = html_attr(atts, r->attr);
        size_t a, b;
        int kind;
        if (!v || !html_rule_applies(r, atts, &kind))
            continue;
        if (r->how == HOW_SRCSET) {
            void *pv[2] = {p, (void *)v};
            html_srcset_each(v, strlen(v), html_srcset_one, pv);
        } else if (r->how == HOW_REFRESH) {
            if (html_refresh_target(v, strlen(v), &a, &b))
                html_emit_n(p, v + a, b - a, PARSE_LINK_PAGE);
        } else {
            html_emit(p, v, (parse_link_kind_t)kind);
        }
    }
    /* style="": only a value with a '(' can hold url( ) or image-set( ). */
    style = html_attr(atts, "style");
    if (style && !p->nomem && strchr(style, '(')) {
        parse_css_scan_init(&p->css, html_css_ref, p);
        parse_css_scan_feed(&p->css, style, strlen(style));
        parse_css_scan_end(&p->css);
    }
}

static void html_base_element(parse_html_t *p, const xmlChar **atts)
{
    const char *href = html_attr(atts, "href");
    char *url = NULL;

    if (!href || p->base_seen)
        return;
    p->base_seen = 1;
    if (parse_url_resolve(p->page_url, href, &url) == PARSE_ENOMEM) {
        p->nomem = 1;
        xmlStopParser(p->ctxt);
        return;
    }
    p->base_url = url;
}

/*
 * libxml2 2.9's HTML parser searches its whole stack of open elements for each end tag
 * (htmlParseEndTag, htmlAutoCloseOnClose), so 100,000 unclosed <div> followed by 100,000
 * stray end tags cost 10^10 comparisons (about 20 s). Only start tags matter here, and of the
 * stack only its top (which tells libxml2 it is inside <script> or <style>), so the stack is
 * kept at most HTML_MAX_DEPTH deep by forgetting the elements just above its bottom (<html>,
 * <body>). The names are dictionary strings owned by libxml2: dropping them frees nothing.
 * Called from startElement, after libxml2 has pushed the new element.
 */
static void html_trim_stack(htmlParserCtxtPtr ctxt)
{
    int excess = ctxt->nameNr - HTML_MAX_DEPTH, i;

    if (excess <= 0 || !ctxt->nameTab)
        return;
    memmove(&ctxt->nameTab[HTML_KEEP_BOTTOM], &ctxt->nameTab[HTML_KEEP_BOTTOM + excess],
            (size_t)(ctxt->nameNr - HTML_KEEP_BOTTOM - excess) * sizeof(ctxt->nameTab[0]));
    for (i = ctxt->nameNr - excess; i < ctxt->nameNr; i++)
        ctxt->nameTab[i] = NULL;
    ctxt->nameNr -= excess;
    ctxt->name = ctxt->nameTab[ctxt->nameNr - 1];
}

/* The end of a <style> block: a url( left open ends with it. */
static void html_style_end(parse_html_t *p)
{
    if (!p->in_style)
        return;
    p->in_style = 0;
    parse_css_scan_end(&p->css);
}

/* The SAX startElement callback: libxml2 gives lowercased element and attribute names. */
static void html_start_element(void *ctx, const xmlChar *xname, const xmlChar **atts)
{
    parse_html_t *p = ctx;
    const char *name = (const char *)xname;

    if (p->ctxt && p->ctxt->nameNr > HTML_MAX_DEPTH)
        html_trim_stack(p->ctxt);
    if (p->nomem || !name)
        return;
    html_style_end(p);
    if (name[0] == 'b' && strcmp(name, "base") == 0)
        html_base_element(p, atts);
    html_element_links(p, name, atts);
    if (name[0] == 's' && strcmp(name, "style") == 0) {
        p->in_style = 1;
        parse_css_scan_init(&p->css, html_css_ref, p);
    }
}

static void html_end_element(void *ctx, const xmlChar *xname)
{
    parse_html_t *p = ctx;

    if (p->in_style && xname && strcmp((const char *)xname, "style") == 0)
        html_style_end(p);
}

/*
 * A name that no end tag can close (tag names have no spaces): the bottom of libxml2's stack
 * of open elements, from the start of the document to its end.
 */
static const xmlChar html_root_sentinel[] = " root";

/*
 * libxml2 2.9's push parser stops at the first tag after an end tag that leaves its stack of
 * open elements empty (its epilog accepts only comments): after the "</html>" that closes the
 * root, or at once for a page that starts with a stray "</p>" or "</ ". Browsers read on, and
 * real pages have content after "</html>" (sqlite's documentation). With a name of our own at
 * the bottom the stack never empties: libxml2 then implies no <html> (and ignores an explicit
 * one as misplaced, which has no links) and implies <body> as before.
 */
static void html_start_document(void *ctx)
{
    parse_html_t *p = ctx;
    htmlParserCtxtPtr c = p->ctxt;

    if (c && c->nameNr == 0 && c->nameMax >= 1 && c->nameTab) {
        c->nameTab[0] = html_root_sentinel;
        c->nameNr = 1;
        c->name = html_root_sentinel;
    }
}

/* The text of <script> and <style> (libxml2 hands both over as CDATA): only style's counts. */
static void html_cdata(void *ctx, const xmlChar *text, int len)
{
    parse_html_t *p = ctx;

    if (p->in_style && !p->nomem && len > 0)
        parse_css_scan_feed(&p->css, (const char *)text, (size_t)len);
}

/* ---------------------------------------------------------------------------------------- */
/* Input: encoding sniffing and UTF-8 repair                                                 */

/*
 * libxml2 2.9 reads a page that names no charset as ISO-8859-1 from its first non-ASCII byte,
 * and under <meta charset=utf-8> switches the rest of the page to ISO-8859-1 at the first
 * invalid byte, so one stray byte turns every later non-ASCII URL into mojibake. Today's web
 * is UTF-8, declared or not, and a browser replaces bad bytes with U+FFFD and goes on. So do
 * we: libxml2 is told UTF-8 and gets repaired input, unless the page says it is not UTF-8 (a
 * UTF-16 BOM, or another charset named in its first HTML_SNIFF_MAX bytes); then libxml2 gets
 * the bytes untouched and converts. (A charset named later still switches libxml2 from where
 * it sees it; bytes repaired before that read as mojibake.)
 */

static int html_is_utf8_label(const unsigned char *s, size_t n)
{
    return (n == 5 && strncasecmp((const char *)s, "utf-8", 5) == 0) ||
           (n == 4 && strncasecmp((const char *)s, "utf8", 4) == 0) ||
           (n == 17 && strncasecmp((const char *)s, "unicode-1-1-utf-8", 17) == 0);
}

/*
 * The first charset named in s[0..n) ("charset=" and a label): 1 with [*at, *at + *len) the
 * label, or 0.
 */
static int html_sniff_charset(const unsigned char *s, size_t n, size_t *at, size_t *len)
{
    size_t i, j;

    for (i = 0; i + 7 <= n; i++) {
        if (strncasecmp((const char *)s + i, "charset", 7) != 0)
            continue;
        j = i + 7;
        while (j < n && html_is_space(s[j]))
            j++;
        if (j >= n || s[j] != '=')
            continue;
        j++;
        while (j < n && (html_is_space(s[j]) || s[j] == '"' || s[j] == '\''))
            j++;
        i = j;
        while (j < n && (((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z') ||
                         (s[j] >= '0' && s[j] <= '9') || s[j] == '-' || s[j] == '_' ||
                         s[j] == '.' || s[j] == ':'))
            j++;
        if (j == i)
            continue;
        *at = i;
        *len = j - i;
        return 1;
    }
    return 0;
}

/* 1 if s[0..n) names a charset, the first one given, that is not UTF-8. */
static int html_declares_other_charset(const unsigned char *s, size_t n)
{
    size_t at, len;

    return html_sniff_charset(s, n, &at, &len) && !html_is_utf8_label(s + at, len);
}

/* Append U+FFFD. */
static size_t html_put_replacement(unsigned char *out, size_t o)
{
    out[o++] = 0xEF;
    out[o++] = 0xBF;
    out[o++] = 0xBD;
    return o;
}

/* At the end of the page: U+FFFD for a sequence left incomplete. Returns the bytes written. */
static size_t html_repair_flush(parse_html_t *p, unsigned char *out)
{
    size_t o = 0;

    if (p->need > 0)
        o = html_put_replacement(out, o);
    p->need = 0;
    p->carry_len = 0;
    return o;
}

/*
 * Copy in[0..len) to out, replacing each maximal invalid UTF-8 subpart with U+FFFD; an
 * incomplete sequence at the end waits in p->carry for the next call or html_repair_flush.
 * out must hold 3 * len + 3 bytes. Returns the bytes written.
 */
static size_t html_repair_utf8(parse_html_t *p, const unsigned char *in, size_t len,
                               unsigned char *out)
{
    size_t i = 0, o = 0;

    while (i < len) {
        unsigned char c = in[i];
        if (p->need > 0) {
            if (c >= p->lo && c <= p->hi) {
                p->carry[p->carry_len++] = c;
                p->lo = 0x80;
                p->hi = 0xBF;
                if (--p->need == 0) {
                    memcpy(out + o, p->carry, p->carry_len);
                    o += p->carry_len;
                    p->carry_len = 0;
                }
                i++;
                continue;
            }
            /* The sequence broke off: one U+FFFD for it, then c starts afresh. */
            o = html_put_replacement(out, o);
            p->need = 0;
            p->carry_len = 0;
        }
        i++;
        if (c < 0x80) {
            out[o++] = c;
            continue;
        }
        p->lo = 0x80;
        p->hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            p->need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            p->need = 2;
            if (c == 0xE0)
                p->lo = 0xA0;
            else if (c == 0xED)
                p->hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            p->need = 3;
            if (c == 0xF0)
                p->lo = 0x90;
            else if (c == 0xF4)
                p->hi = 0x8F;
        } else {
            o = html_put_replacement(out, o);
            continue;
        }
        p->carry[0] = c;
        p->carry_len = 1;
    }
    return o;
}

static void html_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/*
 * htmlParseChunk with libxml2's per-thread generic error handler muted: encoding and I/O
 * errors go there and reach stderr whatever the parser options say. The caller's handler is
 * restored afterwards.
 */
static void html_parse_chunk(parse_html_t *p, const char *chunk, size_t len, int terminate)
{
    xmlGenericErrorFunc saved_fn = xmlGenericError;
    void *saved_ctx = xmlGenericErrorContext;

    xmlSetGenericErrorFunc(NULL, html_quiet);
    htmlParseChunk(p->ctxt, chunk, (int)len, terminate);
    xmlSetGenericErrorFunc(saved_ctx, saved_fn);
}

/* 1 once libxml2 converts from another charset (a <meta charset> it has acted on). */
static int html_libxml_converts(const parse_html_t *p)
{
    return p->ctxt->input && p->ctxt->input->buf && p->ctxt->input->buf->encoder;
}

/*
 * How many bytes at the end of buf[0..len) to hold back from libxml2: a "<" or "</" plus
 * fewer than six letters. libxml2 2.9's push parser, inside <script> or <style>, checks for
 * the end tag as soon as "</" and one more byte have arrived; if the buffer then ends in
 * "</scr" it takes the partial name for text and stays inside the script for the rest of
 * the page. Held bytes go out in front of the next piece, so libxml2 always sees an end tag
 * name whole (or one at least six letters long, which is all it compares).
 */
static size_t html_tail_to_hold(const unsigned char *buf, size_t len)
{
    size_t start = len > HTML_HOLD_MAX ? len - HTML_HOLD_MAX : 0, j = len, i;

    while (j > start && buf[j - 1] != '<')
        j--;
    if (j == start)
        return 0;
    j--; /* buf[j] == '<' */
    if (j + 1 == len)
        return 1;
    if (buf[j + 1] != '/')
        return 0;
    for (i = j + 2; i < len; i++)
        if (!((buf[i] | 0x20) >= 'a' && (buf[i] | 0x20) <= 'z'))
            return 0;
    return len - (j + 2) < 6 ? len - j : 0;
}

/*
 * Hand bytes to libxml2 in pieces of at most HTML_BLOCK input bytes, each one preceded by
 * what the last one held back and repaired first when the page is read as UTF-8.
 */
static int html_push(parse_html_t *p, const char *data, size_t len, int terminate)
{
    const unsigned char *in = (const unsigned char *)data;

    for (;;) {
        size_t n = len < HTML_BLOCK ? len : HTML_BLOCK, o, keep;
        int last = n == len, end = terminate && last;

        memcpy(p->out, p->hold, p->hold_len);
        o = p->hold_len;
        if (p->repair && html_libxml_converts(p)) {
            /* A charset declared past the sniffed bytes: libxml2 decodes from now on. */
            p->repair = 0;
            memcpy(p->out + o, p->carry, p->carry_len);
            o += p->carry_len;
            p->need = 0;
            p->carry_len = 0;
        }
        if (p->repair) {
            o += html_repair_utf8(p, in, n, p->out + o);
            if (end)
                o += html_repair_flush(p, p->out + o);
        } else if (n > 0) {
            memcpy(p->out + o, in, n);
            o += n;
        }
        keep = end ? 0 : html_tail_to_hold(p->out, o);
        memcpy(p->hold, p->out + o - keep, keep);
        p->hold_len = keep;
        html_parse_chunk(p, (const char *)p->out, o - keep, end);
        if (p->nomem || p->ctxt->errNo == XML_ERR_NO_MEMORY) {
            p->nomem = 1;
            return PARSE_ENOMEM;
        }
        if (last)
            return PARSE_OK;
        in += n;
        len -= n;
    }
}

/*
 * Decide how to read the page from its first bytes (held in p->sniff), create the libxml2
 * parser, and parse those bytes.
 */
static int html_start(parse_html_t *p, int terminate)
{
    xmlCharEncoding enc = XML_CHAR_ENCODING_NONE;
    const unsigned char *s = p->sniff;
    size_t n = p->sniff_len, skip = 0;
    xmlSAXHandler sax;

    p->repair = 1;
    if (n >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
        enc = XML_CHAR_ENCODING_UTF16LE;
        skip = 2;
    } else if (n >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        enc = XML_CHAR_ENCODING_UTF16BE;
        skip = 2;
    } else if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        skip = 3;
    }
    if (enc != XML_CHAR_ENCODING_NONE || html_declares_other_charset(s, n))
        p->repair = 0;
    /*
     * Say UTF-8 outright: told nothing, libxml2 2.9 guesses at the first non-ASCII byte, and
     * without a <meta charset> in its buffer it picks ISO-8859-1. A charset named later still
     * makes it switch (html_push notices and stops repairing).
     */
    if (p->repair)
        enc = XML_CHAR_ENCODING_UTF8;

    /* Elements, and <style>'s text: no characters, no tree; errors go nowhere. */
    memset(&sax, 0, sizeof(sax));
    sax.startElement = html_start_element;
    sax.endElement = html_end_element;
    sax.startDocument = html_start_document;
    sax.cdataBlock = html_cdata;
    p->ctxt = htmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL, enc);
    if (!p->ctxt) {
        p->nomem = 1;
        return PARSE_ENOMEM;
    }
    htmlCtxtUseOptions(p->ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                    HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    return html_push(p, (const char *)s + skip, n - skip, terminate);
}

/* ---------------------------------------------------------------------------------------- */
/* Life cycle                                                                                */

parse_html_t *parse_html_new(const char *page_url, parse_link_fn fn, void *arg)
{
    parse_html_t *p;
    int result;

    p = calloc(1, sizeof(*p));
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    p->fn = fn;
    p->arg = arg;
    result = parse_url_normalize(page_url, &p->page_url);
    if (result != PARSE_OK) {
        free(p);
        errno = result == PARSE_ENOMEM ? ENOMEM : EINVAL;
        return NULL;
    }
    return p;
}

int parse_html_feed(parse_html_t *p, const char *data, size_t len)
{
    size_t room, n;
    int result = PARSE_OK;

    if (p->ended)
        return PARSE_ESTATE;
    if (p->nomem)
        return PARSE_ENOMEM;
    if (p->stats.truncated)
        return PARSE_ETOOLONG;
    room = PARSE_HTML_MAX_BYTES - (size_t)p->stats.bytes;
    if (len > room) {
        len = room;
        p->stats.truncated = 1;
    }
    p->stats.bytes += len;
    if (!p->ctxt) {
        n = HTML_SNIFF_MAX - p->sniff_len;
        if (n > len)
            n = len;
        memcpy(p->sniff + p->sniff_len, data, n);
        p->sniff_len += n;
        data += n;
        len -= n;
        if (p->sniff_len == HTML_SNIFF_MAX)
            result = html_start(p, 0);
    }
    /*
     * libxml2 gets whole HTML_BLOCK blocks at fixed offsets of the page, whatever the feeds
     * were: its push parser has boundary-dependent quirks (a quote open in <!DOCTYPE, where
     * a conversion error is noticed), and this way they cannot make the links depend on how
     * the page arrived.
     */
    while (result == PARSE_OK && len > 0) {
        if (p->block_len == 0 && len >= HTML_BLOCK) {
            n = len - len % HTML_BLOCK;
            result = html_push(p, data, n, 0);
        } else {
            n = HTML_BLOCK - p->block_len;
            if (n > len)
                n = len;
            memcpy(p->block + p->block_len, data, n);
            p->block_len += n;
            if (p->block_len == HTML_BLOCK) {
                p->block_len = 0;
                result = html_push(p, (const char *)p->block, HTML_BLOCK, 0);
            }
        }
        data += n;
        len -= n;
    }
    if (result == PARSE_OK && p->stats.truncated)
        result = PARSE_ETOOLONG;
    return result;
}

int parse_html_end(parse_html_t *p)
{
    int result;

    if (p->ended)
        return p->nomem ? PARSE_ENOMEM : PARSE_OK;
    p->ended = 1;
    if (p->nomem)
        return PARSE_ENOMEM;
    if (!p->ctxt)
        result = html_start(p, 1);
    else
        result = html_push(p, (const char *)p->block, p->block_len, 1);
    if (result == PARSE_OK)
        html_style_end(p);
    return p->nomem ? PARSE_ENOMEM : result;
}

const parse_html_stats_t *parse_html_stats(const parse_html_t *p)
{
    return &p->stats;
}

void parse_html_free(parse_html_t *p)
{
    if (!p)
        return;
    if (p->ctxt) {
        if (p->ctxt->myDoc)
            xmlFreeDoc(p->ctxt->myDoc);
        htmlFreeParserCtxt(p->ctxt);
    }
    free(p->page_url);
    free(p->base_url);
    free(p);
}

int parse_html_links(const char *body, size_t len, const char *page_url, parse_link_fn fn,
                     void *arg)
{
    parse_html_t *p;
    int result;

    p = parse_html_new(page_url, fn, arg);
    if (!p)
        return errno == ENOMEM ? PARSE_ENOMEM : PARSE_EINVAL;
    result = parse_html_feed(p, body, len);
    if (result == PARSE_OK || result == PARSE_ETOOLONG)
        result = parse_html_end(p);
    if (result == PARSE_OK)
        result = p->stats.links > INT_MAX ? INT_MAX : (int)p->stats.links;
    parse_html_free(p);
    return result;
}

/* ---------------------------------------------------------------------------------------- */
/* Links with their places: a tokenizer of the raw page                                      */

/*
 * libxml2's SAX interface gives no attribute offsets, so parse_html_links_at reads the page
 * itself, the way libxml2 2.9's push parser (HTML_PARSE_RECOVER) does where it matters for
 * links: start tags open with '<' and an ASCII letter; names are [A-Za-z_:.][A-Za-z0-9:._-]*,
 * lowercased; a value is quoted (to the same quote, '>' included) or runs to a blank or '>';
 * an attribute whose name is not a name is skipped to the next blank or '>' (quotes and all);
 * a repeated attribute is ignored; "/>" or a control character ends the tag; <script> and
 * <style> hold text up to "</" and their name; comments end at "-->" or "--!>"; <!DOCTYPE>
 * skips its quoted literals; "<?" runs to '>'; any other "<!" is text. Entities in values
 * are decoded as libxml2 does: &name; from its HTML 4 table, &#..; and &#x..;, anything else
 * kept as written, and a character reference that is no character ends the value. The page
 * is read as parse_html_new reads it: UTF-16 with a BOM, another charset named in the first
 * HTML_SNIFF_MAX bytes (values converted with libxml2's converter), else UTF-8 with bad bytes
 * read as U+FFFD. test_html checks that both readers agree on every page of tests/data/html
 * (and they agreed on all 356,692 links of 5,372 pages of Debian's and Rust's HTML
 * documentation); fuzz_html checks the spans.
 */

/* Attributes kept per tag: the rest of a tag with more is ignored. */
#define HTML_AT_MAX_ATTRS 128

enum { AT_UTF8, AT_CONVERT, AT_UTF16LE, AT_UTF16BE };

struct html_at_attr {
    size_t ns, ne;      /* name, in units */
    size_t vs, ve;      /* value without quotes, in units */
    int has_value;
};

struct html_at {
    const unsigned char *in;  /* the body after its BOM */
    size_t n;                 /* units: bytes, or 16-bit units for UTF-16 */
    size_t bom;               /* bytes before in */
    int mode;
    xmlCharEncodingHandlerPtr handler;    /* AT_CONVERT */
    char *page_url, *base_url;
    int base_seen;
    parse_link_at_fn fn;
    void *arg;
    unsigned long links;
    int nomem;
    char tag[16];             /* the tag's lowercased name ("" when longer) */
    struct html_at_attr attrs[HTML_AT_MAX_ATTRS];
    size_t nattrs;
    /* A value decoded to UTF-8, with the body offset each of its bytes came from. */
    char *buf;
    size_t *map;
    size_t len, cap, raw_end;
    parse_css_scan_t css;
};

static unsigned at_u(const struct html_at *t, size_t i)
{
    const unsigned char *b;

    if (i >= t->n)
        return 0;
    if (t->mode != AT_UTF16LE && t->mode != AT_UTF16BE)
        return t->in[i];
    b = t->in + 2 * i;
    return t->mode == AT_UTF16BE ? (unsigned)(b[0] << 8 | b[1]) : (unsigned)(b[0] | b[1] << 8);
}

/* The body offset of unit i. */
static size_t at_off(const struct html_at *t, size_t i)
{
    return t->bom + i * (t->mode == AT_UTF16LE || t->mode == AT_UTF16BE ? 2 : 1);
}

static int at_is_blank(unsigned c)
{
    return c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D;
}

static int at_is_letter(unsigned c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int at_is_name_start(unsigned c)
{
    return at_is_letter(c) || c == '_' || c == ':' || c == '.';
}

static int at_is_name(unsigned c)
{
    return at_is_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

/* libxml2's IS_CHAR_CH: what may go on inside a tag. */
static int at_is_char(unsigned c)
{
    return c == 0x09 || c == 0x0A || c == 0x0D || c >= 0x20;
}

/* The position of the next `c` (ASCII) from unit i, or t->n. */
static size_t at_find(const struct html_at *t, size_t i, unsigned c)
{
    if (t->mode != AT_UTF16LE && t->mode != AT_UTF16BE) {
        const unsigned char *q = i < t->n ? memchr(t->in + i, (int)c, t->n - i) : NULL;
        return q ? (size_t)(q - t->in) : t->n;
    }
    while (i < t->n && at_u(t, i) != c)
        i++;
    return i;
}

/* 1 if units [i, i + n) are the ASCII word w, ignoring case. */
static int at_word(const struct html_at *t, size_t i, const char *w)
{
    for (; *w; w++, i++) {
        unsigned c = at_u(t, i);
        if (i >= t->n || (c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned)*w)
            return 0;
    }
    return 1;
}

static int at_name_is(const struct html_at *t, const struct html_at_attr *a, const char *w)
{
    return a->ne - a->ns == strlen(w) && at_word(t, a->ns, w);
}

static int at_reserve(struct html_at *t, size_t more)
{
    if (t->len + more + 1 > t->cap) {
        size_t cap = (t->len + more + 1) * 2;
        char *b = realloc(t->buf, cap);
        size_t *m;
        if (!b)
            return -1;
        t->buf = b;
        m = realloc(t->map, cap * sizeof(*m));
        if (!m)
            return -1;
        t->map = m;
        t->cap = cap;
    }
    return 0;
}

/* Append code point cp as UTF-8, its bytes coming from body offset off. */
static void at_put_cp(struct html_at *t, unsigned cp, size_t off)
{
    unsigned char b[4];
    size_t n, i;

    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    for (i = 0; i < n; i++) {
        t->buf[t->len] = (char)b[i];
        t->map[t->len++] = off;
    }
}

/* libxml2's IS_CHAR for a character reference's value. */
static int at_is_xml_char(unsigned v)
{
    return v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) ||
           (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF);
}

/*
 * An entity at unit k ('&'), as libxml2's htmlParseHTMLAttribute reads it. Returns the unit
 * after what was consumed, having appended its text; or (size_t)-1 for a character
 * reference that is no character (libxml2 then writes a NUL: the value ends there).
 */
static size_t at_entity(struct html_at *t, size_t k, size_t ve)
{
    size_t off = at_off(t, k), j;
    unsigned v = 0;

    if (k + 1 < ve && at_u(t, k + 1) == '#') {
        j = k + 2;
        if (j < ve && (at_u(t, j) | 0x20) == 'x') {
            for (j++; j < ve && at_u(t, j) != ';'; j++) {
                unsigned c = at_u(t, j);
                int h = c >= '0' && c <= '9' ? (int)c - '0' :
                        (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (int)(c | 0x20) - 'a' + 10 : -1;
                if (h < 0)
                    break;
                v = v < 0x110000 ? v * 16 + (unsigned)h : 0x110000;
            }
        } else {
            for (; j < ve && at_u(t, j) != ';'; j++) {
                unsigned c = at_u(t, j);
                if (c < '0' || c > '9')
                    break;
                v = v < 0x110000 ? v * 10 + (c - '0') : 0x110000;
            }
        }
        if (j < ve && at_u(t, j) == ';')
            j++;
        if (!at_is_xml_char(v))
            return (size_t)-1;
        at_put_cp(t, v, off);
        return j;
    }
    /* &name; from libxml2's table; anything else is kept as written. */
    j = k + 1;
    if (j < ve && (at_is_letter(at_u(t, j)) || at_u(t, j) == '_' || at_u(t, j) == ':')) {
        char name[32];
        size_t n = 0;
        while (j < ve && at_is_name(at_u(t, j)) && n + 1 < sizeof(name))
            name[n++] = (char)at_u(t, j++);
        name[n] = '\0';
        if (j < ve && at_u(t, j) == ';') {
            const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
            if (e) {
                at_put_cp(t, e->value, off);
                return j + 1;
            }
        }
    }
    at_put_cp(t, '&', off);
    return k + 1;
}

/* Append the bytes >= 0x80 starting at unit k (a run in the page's charset) converted. */
static size_t at_convert_run(struct html_at *t, size_t k, size_t ve)
{
    size_t j = k, off = at_off(t, k), i;
    xmlBufferPtr in = NULL, out = NULL;

    while (j < ve && t->in[j] >= 0x40)
        j++;
    in = xmlBufferCreate();
    out = xmlBufferCreate();
    if (!in || !out || xmlBufferAdd(in, t->in + k, (int)(j - k)) != 0) {
        t->nomem = 1;
        goto cleanup;
    }
    if (xmlCharEncInFunc(t->handler, out, in) < 0) {
        /* libxml2 stops at a conversion error: so does the value. */
        j = (size_t)-1;
        goto cleanup;
    }
    if (at_reserve(t, (size_t)xmlBufferLength(out))) {
        t->nomem = 1;
        goto cleanup;
    }
    for (i = 0; i < (size_t)xmlBufferLength(out); i++) {
        t->buf[t->len] = (char)xmlBufferContent(out)[i];
        t->map[t->len++] = off;
    }
cleanup:
    xmlBufferFree(in);
    xmlBufferFree(out);
    return j;
}

/*
 * Decode units [vs, ve) into t->buf (NUL-terminated) and t->map; t->raw_end is the body
 * offset where the text ends. `entities` for an attribute value; without, the text of
 * <style> (libxml2 drops the characters that are not XML characters). 0, or -1 out of memory.
 */
static int at_decode(struct html_at *t, size_t vs, size_t ve, int entities)
{
    size_t k = vs;

    t->len = 0;
    t->raw_end = at_off(t, ve);
    if (at_reserve(t, (ve - vs) * 4 + 8))
        return -1;
    while (k < ve) {
        unsigned c = at_u(t, k);
        size_t off = at_off(t, k);
        if (entities && c == 0) {
            t->raw_end = off;          /* libxml2 stops a value at a NUL */
            break;
        }
        if (entities && c == '&') {
            k = at_entity(t, k, ve);
            if (k == (size_t)-1) {
                t->raw_end = off;
                break;
            }
            continue;
        }
        if (!entities && c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) {
            k++;
            continue;
        }
        if (c < 0x80) {
            at_put_cp(t, c, off);
            k++;
        } else if (t->mode == AT_UTF16LE || t->mode == AT_UTF16BE) {
            unsigned lo = k + 1 < ve ? at_u(t, k + 1) : 0;
            if (c >= 0xD800 && c <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
                at_put_cp(t, 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00), off);
                k += 2;
            } else if (c >= 0xD800 && c <= 0xDFFF) {
                t->raw_end = off;      /* a conversion error: libxml2 stops */
                break;
            } else {
                at_put_cp(t, c, off);
                k++;
            }
        } else if (t->mode == AT_CONVERT) {
            k = at_convert_run(t, k, ve);
            if (t->nomem)
                return -1;
            if (k == (size_t)-1) {
                t->raw_end = off;
                break;
            }
        } else {
            /* UTF-8: a valid sequence is copied, each maximal invalid subpart is U+FFFD. */
            unsigned char lo = 0x80, hi = 0xBF;
            size_t need = 0, j, i;
            if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                if (c == 0xE0)
                    lo = 0xA0;
                else if (c == 0xED)
                    hi = 0x9F;
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                if (c == 0xF0)
                    lo = 0x90;
                else if (c == 0xF4)
                    hi = 0x8F;
            }
            for (j = k + 1; need > 0 && j < ve && j - k <= need; j++) {
                unsigned char b = t->in[j];
                if (b < lo || b > hi)
                    break;
                lo = 0x80;
                hi = 0xBF;
            }
            if (need > 0 && j - k == need + 1) {
                for (i = k; i < j; i++) {
                    t->buf[t->len] = (char)t->in[i];
                    t->map[t->len++] = off;
                }
            } else {
                at_put_cp(t, 0xFFFD, off);
                if (need == 0)
                    j = k + 1;
            }
            k = j;
        }
    }
    t->buf[t->len] = '\0';
    return 0;
}

/* The body offset where decoded byte d starts (d == t->len: where the text ends). */
static size_t at_map(const struct html_at *t, size_t d)
{
    return d < t->len ? t->map[d] : t->raw_end;
}

/* Report decoded bytes [a, b) of t->buf, trimmed as html_emit_n trims, with their span. */
static void at_emit(struct html_at *t, size_t a, size_t b, parse_link_kind_t kind)
{
    char *url = NULL, save;
    size_t i, n = 0;
    int result;

    if (t->nomem)
        return;
    while (a < b && (unsigned char)t->buf[a] <= 0x20)
        a++;
    while (b > a && (unsigned char)t->buf[b - 1] <= 0x20)
        b--;
    if (a == b || t->buf[a] == '#')
        return;
    for (i = a; i < b && n <= PARSE_URL_MAX; i++)
        if (t->buf[i] != '\t' && t->buf[i] != '\n' && t->buf[i] != '\r')
            n++;
    if (n > PARSE_URL_MAX)
        return;
    save = t->buf[b];
    t->buf[b] = '\0';
    result = parse_url_resolve(t->base_url ? t->base_url : t->page_url, t->buf + a, &url);
    t->buf[b] = save;
    if (result == PARSE_ENOMEM) {
        t->nomem = 1;
        return;
    }
    if (result != PARSE_OK)
        return;
    t->links++;
    t->fn(t->arg, url, kind, at_map(t, a), at_map(t, b) - at_map(t, a));
    free(url);
}

static void at_srcset_one(void *arg, size_t a, size_t b)
{
    at_emit(arg, a, b, PARSE_LINK_ASSET);
}

/* A CSS reference in t->buf (a style="" value or a <style> text decoded). */
static void at_css_ref(void *arg, const char *ref, size_t len, parse_link_kind_t kind,
                       size_t offset, size_t rawlen)
{
    struct html_at *t = arg;
    char *url = NULL;
    size_t i = 0, n = 0;
    int result;

    if (!ref || t->nomem)
        return;
    while (i < len && (unsigned char)ref[i] <= 0x20)
        i++;
    while (len > i && (unsigned char)ref[len - 1] <= 0x20)
        len--;
    if (i == len || ref[i] == '#')
        return;
    for (; i < len && n <= PARSE_URL_MAX; i++)
        if (ref[i] != '\t' && ref[i] != '\n' && ref[i] != '\r')
            n++;
    if (n > PARSE_URL_MAX)
        return;
    result = parse_url_resolve(t->base_url ? t->base_url : t->page_url, ref, &url);
    if (result == PARSE_ENOMEM) {
        t->nomem = 1;
        return;
    }
    if (result != PARSE_OK)
        return;
    t->links++;
    t->fn(t->arg, url, kind, at_map(t, offset), at_map(t, offset + rawlen) - at_map(t, offset));
    free(url);
}

/* The CSS in t->buf (already decoded). */
static void at_css(struct html_at *t)
{
    parse_css_scan_init(&t->css, at_css_ref, t);
    parse_css_scan_feed(&t->css, t->buf, t->len);
    parse_css_scan_end(&t->css);
}

/* The value of the tag's attribute `name`, decoded into t->buf; NULL when absent. */
static const char *at_value(struct html_at *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->nattrs; i++) {
        struct html_at_attr *a = &t->attrs[i];
        if (at_name_is(t, a, name)) {
            if (!a->has_value || at_decode(t, a->vs, a->ve, 1)) {
                if (a->has_value)
                    t->nomem = 1;
                return NULL;
            }
            return t->buf;
        }
    }
    return NULL;
}

static void at_base(struct html_at *t)
{
    const char *href;
    char *url = NULL;

    if (t->base_seen || !(href = at_value(t, "href")))
        return;
    t->base_seen = 1;
    if (parse_url_resolve(t->page_url, href, &url) == PARSE_ENOMEM) {
        t->nomem = 1;
        return;
    }
    t->base_url = url;
}

/* The links of the tag just read (t->tag, t->attrs), in the order of their attributes. */
static void at_tag_links(struct html_at *t)
{
    size_t first, nrules, i, r;

    if (strcmp(t->tag, "base") == 0)
        at_base(t);
    first = html_rules_for(t->tag, &nrules);
    for (i = 0; i < t->nattrs && !t->nomem; i++) {
        struct html_at_attr *a = &t->attrs[i];
        const struct html_rule *rule = NULL;
        int kind = -1;
        const char *v;
        size_t x, y;
        if (!a->has_value)
            continue;
        if (at_name_is(t, a, "style")) {
            if (at_decode(t, a->vs, a->ve, 1)) {
                t->nomem = 1;
                return;
            }
            if (memchr(t->buf, '(', t->len))
                at_css(t);
            continue;
        }
        for (r = first; r < first + nrules; r++)
            if (at_name_is(t, a, html_rules[r].attr))
                rule = &html_rules[r];
        if (!rule)
            continue;
        kind = rule->kind;
        switch (rule->cond) {
        case IF_TYPE_IMAGE:
            v = at_value(t, "type");
            if (!v || strcasecmp(v, "image") != 0)
                continue;
            break;
        case IF_HTTP_EQUIV_REFRESH:
            v = at_value(t, "http-equiv");
            if (!v || strcasecmp(v, "refresh") != 0)
                continue;
            break;
        case IF_DOWNLOAD_IS_ASSET:
            for (x = 0; x < t->nattrs; x++)
                if (at_name_is(t, &t->attrs[x], "download"))
                    kind = PARSE_LINK_ASSET;
            break;
        default:
            break;
        }
        if (rule->how == HOW_REL) {
            v = at_value(t, "rel");
            kind = v ? html_rel_kind(v, t->len) : -1;
            if (kind < 0)
                continue;
        }
        if (t->nomem || at_decode(t, a->vs, a->ve, 1)) {
            t->nomem = 1;
            return;
        }
        if (rule->how == HOW_SRCSET)
            html_srcset_each(t->buf, t->len, at_srcset_one, t);
        else if (rule->how == HOW_REFRESH) {
            if (html_refresh_target(t->buf, t->len, &x, &y))
                at_emit(t, x, y, PARSE_LINK_PAGE);
        } else {
            at_emit(t, 0, t->len, (parse_link_kind_t)kind);
        }
    }
}

/* The next `c` or NUL (where libxml2 stops a literal) from unit i, or t->n. */
static size_t at_find_or_nul(const struct html_at *t, size_t i, unsigned c)
{
    while (i < t->n && at_u(t, i) != c && at_u(t, i) != 0)
        i++;
    return i;
}

/* Skip a quoted literal of <!DOCTYPE> at unit i (a quote): the unit after it. */
static size_t at_literal(const struct html_at *t, size_t i)
{
    size_t q = at_find_or_nul(t, i + 1, at_u(t, i));

    return q < t->n && at_u(t, q) != 0 ? q + 1 : q;
}

/* <!DOCTYPE name PUBLIC "..." "..."> from i ('<'): the unit after it. */
static size_t at_doctype(const struct html_at *t, size_t i)
{
    size_t j = i + 9;

    while (j < t->n && at_is_blank(at_u(t, j)))
        j++;
    while (j < t->n && at_is_name(at_u(t, j)))
        j++;
    while (j < t->n && at_is_blank(at_u(t, j)))
        j++;
    if (at_word(t, j, "public")) {
        j += 6;
        while (j < t->n && at_is_blank(at_u(t, j)))
            j++;
        if (at_u(t, j) == '"' || at_u(t, j) == '\'')
            j = at_literal(t, j);
        while (j < t->n && at_is_blank(at_u(t, j)))
            j++;
        if (at_u(t, j) == '"' || at_u(t, j) == '\'')
            j = at_literal(t, j);
    } else if (at_word(t, j, "system")) {
        j += 6;
        while (j < t->n && at_is_blank(at_u(t, j)))
            j++;
        if (at_u(t, j) == '"' || at_u(t, j) == '\'')
            j = at_literal(t, j);
    }
    j = at_find_or_nul(t, j, '>');
    return j < t->n && at_u(t, j) == '>' ? j + 1 : j;
}

/*
 * A comment from i ("<!--"): the unit after the first "-->" or "--!>" past the "<!--" (libxml2
 * 2.9 has no "<!-->" empty comment, unlike browsers), or t->n when it never ends.
 */
static size_t at_comment(const struct html_at *t, size_t i)
{
    size_t j = i + 4;

    for (; j + 2 < t->n; j++) {
        if (at_u(t, j) != '-' || at_u(t, j + 1) != '-')
            continue;
        if (at_u(t, j + 2) == '>')
            return j + 3;
        if (at_u(t, j + 2) == '!' && at_u(t, j + 3) == '>' && j + 3 < t->n)
            return j + 4;
    }
    return t->n;
}

/*
 * A start tag from i ('<' and a letter): reads its name and attributes into t, reports its
 * links, and returns the unit after it (after the text of <script> and <style>).
 */
static size_t at_start_tag(struct html_at *t, size_t i)
{
    size_t j = i + 1, n = 0, end;
    int closed = 0, self = 0;

    while (j < t->n && at_is_name(at_u(t, j))) {
        unsigned c = at_u(t, j);
        if (n + 1 < sizeof(t->tag))
            t->tag[n] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        n++;
        j++;
    }
    t->tag[n < sizeof(t->tag) ? n : 0] = '\0';
    t->nattrs = 0;
    for (;;) {
        unsigned c;
        while (j < t->n && at_is_blank(at_u(t, j)))
            j++;
        if (j >= t->n)
            break;
        c = at_u(t, j);
        if (c == '>') {
            closed = 1;
            j++;
            break;
        }
        if (c == '/' && at_u(t, j + 1) == '>' && j + 1 < t->n) {
            self = 1;
            j += 2;
            break;
        }
        if (!at_is_char(c))
            break; /* libxml2 ends the tag here and reads on as text */
        if (at_is_name_start(c)) {
            struct html_at_attr a = {0};
            size_t x;
            int dup = 0;
            a.ns = j;
            while (j < t->n && at_is_name(at_u(t, j)))
                j++;
            a.ne = j;
            while (j < t->n && at_is_blank(at_u(t, j)))
                j++;
            if (at_u(t, j) == '=' && j < t->n) {
                j++;
                while (j < t->n && at_is_blank(at_u(t, j)))
                    j++;
                c = at_u(t, j);
                a.has_value = 1;
                if (j < t->n && (c == '"' || c == '\'')) {
                    a.vs = j + 1;
                    a.ve = at_find(t, j + 1, c);
                    j = a.ve < t->n ? a.ve + 1 : t->n;
                } else {
                    a.vs = j;
                    while (j < t->n && !at_is_blank(at_u(t, j)) && at_u(t, j) != '>' &&
                           at_u(t, j) != 0)
                        j++;
                    a.ve = j;
                }
            }
            for (x = 0; x < t->nattrs && !dup; x++) {
                size_t k, len = a.ne - a.ns;
                if (t->attrs[x].ne - t->attrs[x].ns != len)
                    continue;
                for (k = 0; k < len; k++) {
                    unsigned p = at_u(t, a.ns + k), q = at_u(t, t->attrs[x].ns + k);
                    if ((p >= 'A' && p <= 'Z' ? p + 32 : p) != (q >= 'A' && q <= 'Z' ? q + 32 : q))
                        break;
                }
                dup = k == len;
            }
            if (!dup && t->nattrs < HTML_AT_MAX_ATTRS)
                t->attrs[t->nattrs++] = a;
        } else {
            /* Not a name: libxml2 skips to a blank or the end of the tag, quotes and all. */
            while (j < t->n && at_is_char(at_u(t, j)) && !at_is_blank(at_u(t, j)) &&
                   at_u(t, j) != '>' && !(at_u(t, j) == '/' && at_u(t, j + 1) == '>'))
                j++;
        }
    }
    at_tag_links(t);
    if (!closed || self || t->nomem)
        return j;
    if (strcmp(t->tag, "script") != 0 && strcmp(t->tag, "style") != 0)
        return j;
    /* Raw text up to "</script" or "</style", any case. */
    for (end = j;; end++) {
        end = at_find(t, end, '<');
        if (end >= t->n || (at_u(t, end + 1) == '/' && at_word(t, end + 2, t->tag)))
            break;
    }
    if (t->tag[1] == 't') { /* style */
        if (at_decode(t, j, end, 0)) {
            t->nomem = 1;
            return t->n;
        }
        at_css(t);
    }
    return end;
}

int parse_html_links_at(const char *body, size_t len, const char *page_url, parse_link_at_fn fn,
                        void *arg)
{
    const unsigned char *s = (const unsigned char *)body;
    struct html_at *t;
    size_t i = 0, at, label;
    int result;

    t = calloc(1, sizeof(*t));
    if (!t)
        return PARSE_ENOMEM;
    result = parse_url_normalize(page_url, &t->page_url);
    if (result != PARSE_OK) {
        result = result == PARSE_ENOMEM ? PARSE_ENOMEM : PARSE_EINVAL;
        goto cleanup;
    }
    t->fn = fn;
    t->arg = arg;
    if (len > PARSE_HTML_MAX_BYTES)
        len = PARSE_HTML_MAX_BYTES;
    t->mode = AT_UTF8;
    if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
        t->mode = AT_UTF16LE;
        t->bom = 2;
    } else if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        t->mode = AT_UTF16BE;
        t->bom = 2;
    } else if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        t->bom = 3;
    } else if (html_sniff_charset(s, len < HTML_SNIFF_MAX ? len : HTML_SNIFF_MAX, &at, &label) &&
               !html_is_utf8_label(s + at, label)) {
        char name[64];
        if (label >= sizeof(name))
            label = sizeof(name) - 1;
        memcpy(name, s + at, label);
        name[label] = '\0';
        t->handler = xmlFindCharEncodingHandler(name);
        if (!t->handler) /* libxml2, told nothing it knows, reads ISO-8859-1 */
            t->handler = xmlFindCharEncodingHandler("ISO-8859-1");
        if (t->handler)
            t->mode = AT_CONVERT;
    }
    t->in = s + t->bom;
    t->n = (len - t->bom) / (t->mode == AT_UTF16LE || t->mode == AT_UTF16BE ? 2 : 1);

    while (i < t->n && !t->nomem) {
        unsigned c1;
        i = at_find(t, i, '<');
        if (i + 1 >= t->n)
            break;
        c1 = at_u(t, i + 1);
        if (c1 == '!') {
            if (at_u(t, i + 2) == '-' && at_u(t, i + 3) == '-' && i + 3 < t->n)
                i = at_comment(t, i);
            else if (at_word(t, i + 2, "doctype"))
                i = at_doctype(t, i);
            else
                i++;           /* libxml2 reads "<!" that opens neither as text */
        } else if (c1 == '?') {
            i = at_find(t, i, '>');
            i = i < t->n ? i + 1 : t->n;
        } else if (c1 == '/') {
            if (at_is_name_start(at_u(t, i + 2)) && i + 2 < t->n) {
                i = at_find(t, i, '>');
                i = i < t->n ? i + 1 : t->n;
            } else {
                i += 2;
            }
        } else if (at_is_letter(c1)) {
            i = at_start_tag(t, i);
        } else {
            i++;
        }
    }
    result = t->nomem ? PARSE_ENOMEM : t->links > INT_MAX ? INT_MAX : (int)t->links;
cleanup:
    if (t->handler)
        xmlCharEncCloseFunc(t->handler);
    free(t->page_url);
    free(t->base_url);
    free(t->buf);
    free(t->map);
    free(t);
    return result;
}
