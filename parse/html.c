/* html.c - streaming link extraction from HTML pages (libxml2 push parser in SAX mode). */
#include "parse/html.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

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
 * Every URL of a srcset ("a.png 1x, b.png 2x", "c.png 640w"), by the HTML standard's
 * candidate parsing: descriptors are skipped up to a comma outside parentheses, and a URL
 * ending in commas has them stripped.
 */
static void html_emit_srcset(parse_html_t *p, const char *s)
{
    const char *url, *end;

    if (!s)
        return;
    for (;;) {
        while (html_is_space((unsigned char)*s) || *s == ',')
            s++;
        if (*s == '\0')
            return;
        url = s;
        while (*s && !html_is_space((unsigned char)*s))
            s++;
        end = s;
        if (end[-1] == ',') {
            while (end > url && end[-1] == ',')
                end--;
        } else {
            int depth = 0;
            for (; *s; s++) {
                if (*s == '(')
                    depth++;
                else if (*s == ')' && depth > 0)
                    depth--;
                else if (*s == ',' && depth == 0)
                    break;
            }
        }
        if (end > url)
            html_emit_n(p, url, (size_t)(end - url), PARSE_LINK_ASSET);
    }
}

/*
 * The target of <meta http-equiv=refresh content="5; url='next.html'">, by the HTML
 * standard's declarative refresh parsing: a time, then ';' or ',' or space, then an optional
 * "url=", then the URL with one level of quotes removed. "5" alone has no target.
 */
static void html_emit_refresh(parse_html_t *p, const char *s)
{
    const char *start, *end;
    char quote = 0;

    if (!s)
        return;
    while (html_is_space((unsigned char)*s))
        s++;
    start = s;
    while (*s >= '0' && *s <= '9')
        s++;
    if (s == start && *s != '.')
        return;
    while ((*s >= '0' && *s <= '9') || *s == '.')
        s++;
    if (*s) {
        if (*s != ';' && *s != ',' && !html_is_space((unsigned char)*s))
            return;
        while (html_is_space((unsigned char)*s))
            s++;
        if (*s == ';' || *s == ',')
            s++;
        while (html_is_space((unsigned char)*s))
            s++;
    }
    if (*s == '\0')
        return;
    start = s;
    if (strncasecmp(s, "url", 3) == 0) {
        const char *q = s + 3;
        while (html_is_space((unsigned char)*q))
            q++;
        if (*q == '=') {
            q++;
            while (html_is_space((unsigned char)*q))
                q++;
            start = q;
        }
    }
    if (*start == '\'' || *start == '"')
        quote = *start++;
    end = quote ? strchr(start, quote) : NULL;
    if (!end)
        end = start + strlen(start);
    html_emit_n(p, start, (size_t)(end - start), PARSE_LINK_PAGE);
}

/* ---------------------------------------------------------------------------------------- */
/* Elements                                                                                  */

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

/* 1 if the space-separated, case-insensitive token list `list` holds one of `words`. */
static int html_has_token(const char *list, const char *const *words)
{
    const char *s = list;

    while (s && *s) {
        size_t n, i;
        while (html_is_space((unsigned char)*s))
            s++;
        n = 0;
        while (s[n] && !html_is_space((unsigned char)s[n]))
            n++;
        for (i = 0; n > 0 && words[i]; i++)
            if (strlen(words[i]) == n && strncasecmp(s, words[i], n) == 0)
                return 1;
        s += n;
    }
    return 0;
}

static void html_link_element(parse_html_t *p, const xmlChar **atts)
{
    static const char *const asset_rels[] = {
        "stylesheet", "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon",
        "preload", "modulepreload", "prefetch", "manifest", NULL};
    static const char *const page_rels[] = {
        "alternate", "canonical", "next", "prev", "previous", "amphtml", NULL};
    const char *rel = html_attr(atts, "rel");

    if (!rel)
        return;
    if (html_has_token(rel, asset_rels))
        html_emit(p, html_attr(atts, "href"), PARSE_LINK_ASSET);
    else if (html_has_token(rel, page_rels))
        html_emit(p, html_attr(atts, "href"), PARSE_LINK_PAGE);
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

/* The SAX startElement callback: libxml2 gives lowercased element and attribute names. */
static void html_start_element(void *ctx, const xmlChar *xname, const xmlChar **atts)
{
    parse_html_t *p = ctx;
    const char *name = (const char *)xname;

    if (p->ctxt && p->ctxt->nameNr > HTML_MAX_DEPTH)
        html_trim_stack(p->ctxt);
    if (p->nomem || !name)
        return;
    switch (name[0]) {
    case 'a':
        if (strcmp(name, "a") == 0 || strcmp(name, "area") == 0)
            html_emit(p, html_attr(atts, "href"), PARSE_LINK_PAGE);
        else if (strcmp(name, "audio") == 0)
            html_emit(p, html_attr(atts, "src"), PARSE_LINK_ASSET);
        break;
    case 'b':
        if (strcmp(name, "base") == 0)
            html_base_element(p, atts);
        break;
    case 'e':
        if (strcmp(name, "embed") == 0)
            html_emit(p, html_attr(atts, "src"), PARSE_LINK_ASSET);
        break;
    case 'f':
        if (strcmp(name, "frame") == 0)
            html_emit(p, html_attr(atts, "src"), PARSE_LINK_PAGE);
        break;
    case 'i':
        if (strcmp(name, "img") == 0) {
            html_emit(p, html_attr(atts, "src"), PARSE_LINK_ASSET);
            html_emit_srcset(p, html_attr(atts, "srcset"));
        } else if (strcmp(name, "iframe") == 0) {
            html_emit(p, html_attr(atts, "src"), PARSE_LINK_PAGE);
        } else if (strcmp(name, "input") == 0) {
            const char *type = html_attr(atts, "type");
            if (type && strcasecmp(type, "image") == 0)
                html_emit(p, html_attr(atts, "src"), PARSE_LINK_ASSET);
        }
        break;
    case 'l':
        if (strcmp(name, "link") == 0)
            html_link_element(p, atts);
        break;
    case 'm':
        if (strcmp(name, "meta") == 0) {
            const char *equiv = html_attr(atts, "http-equiv");
            if (equiv && strcasecmp(equiv, "refresh") == 0)
                html_emit_refresh(p, html_attr(atts, "content"));
        }
        break;
    case 'o':
        if (strcmp(name, "object") == 0)
            html_emit(p, html_attr(atts, "data"), PARSE_LINK_ASSET);
        break;
    case 's':
        if (strcmp(name, "script") == 0) {
            html_emit(p, html_attr(atts, "src"), PARSE_LINK_ASSET);
        } else if (strcmp(name, "source") == 0) {
            html_emit(p, html_attr(atts, "src"), PARSE_LINK_ASSET);
            html_emit_srcset(p, html_attr(atts, "srcset"));
        }
        break;
    case 'v':
        if (strcmp(name, "video") == 0) {
            html_emit(p, html_attr(atts, "src"), PARSE_LINK_ASSET);
            html_emit(p, html_attr(atts, "poster"), PARSE_LINK_ASSET);
        }
        break;
    default:
        break;
    }
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

/* 1 if s[0..n) names a charset, the first one given, that is not UTF-8. */
static int html_declares_other_charset(const unsigned char *s, size_t n)
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
        return !html_is_utf8_label(s + i, j - i);
    }
    return 0;
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

    /* Only startElement: no characters, no tree; errors go nowhere. */
    memset(&sax, 0, sizeof(sax));
    sax.startElement = html_start_element;
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
    if (p->ended)
        return p->nomem ? PARSE_ENOMEM : PARSE_OK;
    p->ended = 1;
    if (p->nomem)
        return PARSE_ENOMEM;
    if (!p->ctxt)
        return html_start(p, 1);
    return html_push(p, (const char *)p->block, p->block_len, 1);
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
