/* css.c - url(), @import and image-set() references from stylesheets (CSS Syntax Level 3). */
#include "parse/css.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "parse/url.h"

/*
 * The tokenizer reads one byte at a time and keeps all it needs in parse_css_scan_t, so the
 * references found cannot depend on how the input is cut. It follows CSS Syntax Level 3 (4.3)
 * where it matters for references and is coarser elsewhere: a "word" is any run of name code
 * points and escapes (an ident, at-keyword, hash, number or dimension), only classified as
 * far as telling `url(`, `image-set(` and `@import` from anything else. Bytes >= 0x80 are name
 * code points, as every non-ASCII code point is, so UTF-8 needs no decoding.
 */

enum {
    S_DATA,
    S_SLASH,        /* '/' seen: a comment if '*' follows */
    S_COMMENT,
    S_COMMENT_STAR,
    S_STRING,
    S_WORD,
    S_URL_PRE,      /* after "url(": blanks, then a quote (a function) or a url token */
    S_URL,
    S_URL_POST,     /* blanks after a url token's text: only ')' may follow */
    S_BADURL,       /* the rest of a bad url token, up to ')' */
    S_ESC,          /* after '\\' (returns to s->ret) */
    S_ESC_HEX       /* in a hex escape (returns to s->ret) */
};

/* Word kinds, from the first code point(s). */
enum { W_IDENT, W_DASH, W_NUM, W_AT, W_HASH };

/* Preprocessing (CSS Syntax 3.3): NUL reads as U+FFFD; this stands for it. */
#define CSS_REPLACEMENT 0x100

static int css_is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

static int css_is_name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int css_is_name(int c)
{
    return css_is_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static int css_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void parse_css_scan_init(parse_css_scan_t *s, parse_css_ref_fn fn, void *arg)
{
    s->fn = fn;
    s->arg = arg;
    s->pos = 0;
    s->state = S_DATA;
    s->ret = S_DATA;
    s->prev_cr = 0;
    s->quote = 0;
    s->hex = s->nhex = 0;
    s->depth = 0;
    s->imageset_depth = 0;
    s->import_pending = 0;
    s->in_func_url = 0;
    s->start = s->end = 0;
    s->wlen = 0;
    s->woverflow = 0;
    s->vlen = 0;
    s->voverflow = 0;
}

/* ---- values: strings and url tokens ----------------------------------------------------- */

static void css_value_begin(parse_css_scan_t *s, size_t start)
{
    s->vlen = 0;
    s->voverflow = 0;
    s->start = s->end = start;
}

static void css_value_add(parse_css_scan_t *s, const char *b, size_t n)
{
    if (s->voverflow)
        return;
    if (s->vlen + n > PARSE_URL_MAX) {
        s->voverflow = 1;
        return;
    }
    memcpy(s->value + s->vlen, b, n);
    s->vlen += n;
}

/* Append code point cp (or CSS_REPLACEMENT) as UTF-8. A raw byte >= 0x80 is passed as is. */
static void css_value_cp(parse_css_scan_t *s, unsigned cp, int raw_byte)
{
    char b[4];

    if (raw_byte) {
        b[0] = (char)cp;
        css_value_add(s, b, 1);
        return;
    }
    if (cp == CSS_REPLACEMENT || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        b[0] = (char)cp;
        css_value_add(s, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        css_value_add(s, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        css_value_add(s, b, 3);
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        css_value_add(s, b, 4);
    }
}

static void css_report(parse_css_scan_t *s, parse_link_kind_t kind, int valid)
{
    s->value[s->vlen] = '\0';
    if (valid && !s->voverflow)
        s->fn(s->arg, s->value, s->vlen, kind, s->start, s->end - s->start);
    else
        s->fn(s->arg, NULL, 0, kind, s->start, s->end - s->start);
}

/* A string token ended (valid) or was cut by a newline (a bad-string token). */
static void css_string_done(parse_css_scan_t *s, int valid)
{
    if (s->in_func_url)
        css_report(s, s->in_func_url == 2 ? PARSE_LINK_STYLESHEET : PARSE_LINK_ASSET, valid);
    else if (s->import_pending)
        css_report(s, PARSE_LINK_STYLESHEET, valid);
    else if (s->imageset_depth > 0 && s->depth == s->imageset_depth)
        css_report(s, PARSE_LINK_ASSET, valid);
    s->in_func_url = 0;
    s->import_pending = 0;
}

/* ---- words: idents, at-keywords, numbers ------------------------------------------------- */

static void css_word_begin(parse_css_scan_t *s, int kind)
{
    s->wlen = 0;
    s->woverflow = 0;
    s->quote = (unsigned char)kind; /* the word kind; quote is unused outside strings */
    s->state = S_WORD;
}

static void css_word_add(parse_css_scan_t *s, unsigned cp)
{
    if (s->quote == W_DASH && s->wlen == 1)
        s->quote = cp >= '0' && cp <= '9' ? W_NUM : W_IDENT;
    if (s->woverflow || s->wlen + 1 >= sizeof(s->word)) {
        s->woverflow = 1;
        return;
    }
    s->word[s->wlen++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp < 0x80 ? cp : 0x80);
}

static int css_word_is(const parse_css_scan_t *s, const char *w)
{
    size_t n = strlen(w);

    return !s->woverflow && s->wlen == n && memcmp(s->word, w, n) == 0;
}

/* The word ended; `paren` when a '(' ends it (a function token). */
static void css_word_done(parse_css_scan_t *s, int paren)
{
    int ident = s->quote == W_IDENT || (s->quote == W_DASH && s->wlen > 1);

    s->state = S_DATA;
    if (paren) {
        if (ident && css_word_is(s, "url")) {
            s->in_func_url = s->import_pending ? 2 : 1;
            s->import_pending = 0;
            s->state = S_URL_PRE;
            return;
        }
        s->import_pending = 0;
        s->depth++;
        if (ident && (css_word_is(s, "image-set") || css_word_is(s, "-webkit-image-set")))
            s->imageset_depth = s->depth;
        return;
    }
    s->import_pending = s->quote == W_AT && css_word_is(s, "@import");
}

/* ---- the state machine ------------------------------------------------------------------ */

/* A url( ) token ended: report it, valid or bad. */
static void css_url_done(parse_css_scan_t *s, int valid)
{
    css_report(s, s->in_func_url == 2 ? PARSE_LINK_STYLESHEET : PARSE_LINK_ASSET, valid);
    s->in_func_url = 0;
    s->state = S_DATA;
}

/* The code point an escape stands for has been read: add it where the escape was. */
static void css_escaped(parse_css_scan_t *s, unsigned cp, int raw_byte)
{
    s->state = s->ret;
    switch (s->ret) {
    case S_STRING:
    case S_URL:
        css_value_cp(s, cp, raw_byte);
        break;
    case S_WORD:
        css_word_add(s, raw_byte ? 0x80 : cp == CSS_REPLACEMENT ? 0xFFFD : cp);
        break;
    default: /* S_BADURL: nothing is kept */
        break;
    }
}

static void css_hex_done(parse_css_scan_t *s)
{
    css_escaped(s, s->hex, 0);
}

/* One code point c (after preprocessing) at byte s->pos. */
static void css_step(parse_css_scan_t *s, int c)
{
    int h;

again:
    switch (s->state) {
    case S_DATA:
        if (css_is_ws(c))
            return;
        if (c == '/') {
            s->state = S_SLASH;
        } else if (c == '"' || c == '\'') {
            s->quote = (unsigned char)c;
            css_value_begin(s, s->pos + 1);
            s->state = S_STRING;
        } else if (css_is_name_start(c)) {
            css_word_begin(s, W_IDENT);
            css_word_add(s, c == CSS_REPLACEMENT ? 0xFFFD : (unsigned)c);
        } else if (c == '-') {
            css_word_begin(s, W_DASH);
            css_word_add(s, '-');
        } else if (c >= '0' && c <= '9') {
            css_word_begin(s, W_NUM);
            css_word_add(s, (unsigned)c);
        } else if (c == '@' || c == '#') {
            css_word_begin(s, c == '@' ? W_AT : W_HASH);
            css_word_add(s, (unsigned)c);
        } else if (c == '\\') {
            /* An escape starts an ident, unless a newline follows (then '\\' is a delim). */
            css_word_begin(s, W_IDENT);
            s->ret = S_WORD;
            s->state = S_ESC;
        } else if (c == '(') {
            s->depth++;
            s->import_pending = 0;
        } else if (c == ')') {
            if (s->depth > 0)
                s->depth--;
            if (s->imageset_depth > s->depth)
                s->imageset_depth = 0;
            s->import_pending = 0;
        } else if (c == '{' || c == '}') {
            /* A block boundary: whatever ( was left open belongs to a broken declaration. */
            s->depth = 0;
            s->imageset_depth = 0;
            s->import_pending = 0;
        } else {
            s->import_pending = 0;
        }
        return;
    case S_SLASH:
        if (c == '*') {
            s->state = S_COMMENT;
            return;
        }
        s->import_pending = 0;
        s->state = S_DATA;
        goto again;
    case S_COMMENT:
        if (c == '*')
            s->state = S_COMMENT_STAR;
        return;
    case S_COMMENT_STAR:
        if (c == '/')
            s->state = S_DATA;
        else if (c != '*')
            s->state = S_COMMENT;
        return;
    case S_STRING:
        if (c == s->quote) {
            s->end = s->pos;
            s->state = S_DATA;
            css_string_done(s, 1);
        } else if (c == '\n') {
            s->end = s->pos;
            s->state = S_DATA;
            css_string_done(s, 0);
        } else if (c == '\\') {
            s->ret = S_STRING;
            s->state = S_ESC;
        } else {
            css_value_cp(s, (unsigned)c, c >= 0x80 && c != CSS_REPLACEMENT);
        }
        return;
    case S_WORD:
        if (css_is_name(c)) {
            css_word_add(s, c == CSS_REPLACEMENT ? 0xFFFD : (unsigned)c);
            return;
        }
        if (c == '\\') {
            s->ret = S_WORD;
            s->state = S_ESC;
            return;
        }
        css_word_done(s, c == '(');
        if (c == '(')
            return;
        goto again;
    case S_URL_PRE:
        if (css_is_ws(c))
            return;
        if (c == '"' || c == '\'') {
            /* url( "x" ): a function token whose string is the reference. */
            s->depth++;
            s->quote = (unsigned char)c;
            css_value_begin(s, s->pos + 1);
            s->state = S_STRING;
            return;
        }
        css_value_begin(s, s->pos);
        s->state = S_URL;
        goto again;
    case S_URL:
        if (c == ')') {
            css_url_done(s, 1);
        } else if (css_is_ws(c)) {
            s->state = S_URL_POST;
        } else if (c == '"' || c == '\'' || c == '(' || (c >= 0 && c <= 0x08) || c == 0x0B ||
                   (c >= 0x0E && c <= 0x1F) || c == 0x7F) {
            s->state = S_BADURL;
        } else if (c == '\\') {
            s->end = s->pos + 1;
            s->ret = S_URL;
            s->state = S_ESC;
        } else {
            css_value_cp(s, (unsigned)c, c >= 0x80 && c != CSS_REPLACEMENT);
            s->end = s->pos + 1;
        }
        return;
    case S_URL_POST:
        if (css_is_ws(c))
            return;
        if (c == ')') {
            css_url_done(s, 1);
            return;
        }
        s->state = S_BADURL;
        goto again;
    case S_BADURL:
        if (c == ')') {
            css_url_done(s, 0);
        } else if (c == '\\') {
            s->ret = S_BADURL;
            s->state = S_ESC;
        }
        return;
    case S_ESC:
        if (s->ret == S_URL)
            s->end = s->pos + 1;
        if (c == '\n') {
            /* Not an escape. In a string: a line continuation. In a url: a bad url. */
            s->state = s->ret;
            if (s->ret == S_STRING)
                return;
            if (s->ret == S_URL) {
                s->state = S_BADURL;
                return;
            }
            if (s->ret == S_WORD) {
                /* The word ends before the '\\', which is a delim token. */
                css_word_done(s, 0);
                s->import_pending = 0;
            }
            goto again;
        }
        h = css_hex(c);
        if (h >= 0) {
            s->hex = (unsigned)h;
            s->nhex = 1;
            s->state = S_ESC_HEX;
            return;
        }
        css_escaped(s, (unsigned)c, c >= 0x80 && c != CSS_REPLACEMENT);
        return;
    case S_ESC_HEX:
        h = css_hex(c);
        if (h >= 0 && s->nhex < 6) {
            s->hex = s->hex * 16 + (unsigned)h;
            s->nhex++;
            if (s->ret == S_URL)
                s->end = s->pos + 1;
            return;
        }
        css_hex_done(s);
        if (css_is_ws(c)) {
            if (s->ret == S_URL)
                s->end = s->pos + 1;
            return; /* one blank after a hex escape belongs to it */
        }
        goto again;
    default:
        break;
    }
}

void parse_css_scan_feed(parse_css_scan_t *s, const char *data, size_t len)
{
    const unsigned char *in = (const unsigned char *)data;
    size_t i;

    for (i = 0; i < len; i++, s->pos++) {
        int c = in[i];
        if (s->prev_cr) {
            s->prev_cr = 0;
            if (c == '\n')
                continue;       /* \r\n is one newline, already stepped */
        }
        if (c == '\r') {
            s->prev_cr = 1;
            c = '\n';
        } else if (c == '\f') {
            c = '\n';
        } else if (c == 0) {
            c = CSS_REPLACEMENT;
        }
        css_step(s, c);
    }
}

void parse_css_scan_end(parse_css_scan_t *s)
{
    if (s->state == S_ESC_HEX)
        css_hex_done(s);
    if (s->state == S_ESC) {
        /* '\\' at the end: nothing in a string, U+FFFD elsewhere (CSS Syntax 4.3.7). */
        if (s->ret == S_STRING)
            s->state = S_STRING;
        else
            css_escaped(s, 0xFFFD, 0);
        if (s->ret == S_URL)
            s->end = s->pos;
    }
    switch (s->state) {
    case S_STRING:
        s->end = s->pos;
        s->state = S_DATA;
        css_string_done(s, 1);
        break;
    case S_WORD:
        css_word_done(s, 0);
        break;
    case S_URL_PRE:
        css_value_begin(s, s->pos);
        css_url_done(s, 1);
        break;
    case S_URL:
    case S_URL_POST:
        css_url_done(s, 1);
        break;
    case S_BADURL:
        css_url_done(s, 0);
        break;
    default:
        break;
    }
    s->state = S_DATA;
}

/* ---------------------------------------------------------------------------------------- */
/* The parser: references resolved                                                           */

struct parse_css {
    char *base_url;
    parse_link_fn fn;
    parse_link_at_fn at_fn;
    void *arg;
    parse_css_stats_t stats;
    int ended;
    int nomem;
    parse_css_scan_t scan;
};

static void css_on_ref(void *arg, const char *ref, size_t len, parse_link_kind_t kind,
                       size_t offset, size_t rawlen)
{
    parse_css_t *p = arg;
    char *url = NULL;
    size_t i = 0;
    int result;

    if (p->nomem)
        return;
    if (!ref) {
        p->stats.dropped_invalid++;
        return;
    }
    while (i < len && (unsigned char)ref[i] <= 0x20)
        i++;
    if (i == len || ref[i] == '#') {
        p->stats.dropped_fragment++;
        return;
    }
    result = parse_url_resolve(p->base_url, ref, &url);
    switch (result) {
    case PARSE_OK:
        p->stats.links++;
        if (p->at_fn)
            p->at_fn(p->arg, url, kind, offset, rawlen);
        else
            p->fn(p->arg, url, kind);
        free(url);
        break;
    case PARSE_ESCHEME:
        p->stats.dropped_scheme++;
        break;
    case PARSE_ENOMEM:
        p->nomem = 1;
        break;
    default:
        p->stats.dropped_invalid++;
        break;
    }
}

static parse_css_t *css_new(const char *base_url, parse_link_fn fn, parse_link_at_fn at_fn,
                            void *arg)
{
    parse_css_t *p;
    int result;

    p = calloc(1, sizeof(*p));
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    result = parse_url_normalize(base_url, &p->base_url);
    if (result != PARSE_OK) {
        free(p);
        errno = result == PARSE_ENOMEM ? ENOMEM : EINVAL;
        return NULL;
    }
    p->fn = fn;
    p->at_fn = at_fn;
    p->arg = arg;
    parse_css_scan_init(&p->scan, css_on_ref, p);
    return p;
}

parse_css_t *parse_css_new(const char *base_url, parse_link_fn fn, void *arg)
{
    return css_new(base_url, fn, NULL, arg);
}

int parse_css_feed(parse_css_t *p, const char *data, size_t len)
{
    size_t room;

    if (p->ended)
        return PARSE_ESTATE;
    if (p->nomem)
        return PARSE_ENOMEM;
    if (p->stats.truncated)
        return PARSE_ETOOLONG;
    room = PARSE_CSS_MAX_BYTES - (size_t)p->stats.bytes;
    if (len > room) {
        len = room;
        p->stats.truncated = 1;
    }
    p->stats.bytes += len;
    parse_css_scan_feed(&p->scan, data, len);
    if (p->nomem)
        return PARSE_ENOMEM;
    return p->stats.truncated ? PARSE_ETOOLONG : PARSE_OK;
}

int parse_css_end(parse_css_t *p)
{
    if (!p->ended) {
        p->ended = 1;
        if (!p->nomem)
            parse_css_scan_end(&p->scan);
    }
    return p->nomem ? PARSE_ENOMEM : PARSE_OK;
}

const parse_css_stats_t *parse_css_stats(const parse_css_t *p)
{
    return &p->stats;
}

void parse_css_free(parse_css_t *p)
{
    if (!p)
        return;
    free(p->base_url);
    free(p);
}

static int css_oneshot(const char *css, size_t len, const char *base_url, parse_link_fn fn,
                       parse_link_at_fn at_fn, void *arg)
{
    parse_css_t *p = css_new(base_url, fn, at_fn, arg);
    int result;

    if (!p)
        return errno == ENOMEM ? PARSE_ENOMEM : PARSE_EINVAL;
    result = parse_css_feed(p, css, len);
    if (result == PARSE_OK || result == PARSE_ETOOLONG)
        result = parse_css_end(p);
    if (result == PARSE_OK)
        result = p->stats.links > INT_MAX ? INT_MAX : (int)p->stats.links;
    parse_css_free(p);
    return result;
}

int parse_css_links(const char *css, size_t len, const char *base_url, parse_link_fn fn,
                    void *arg)
{
    return css_oneshot(css, len, base_url, fn, NULL, arg);
}

int parse_css_links_at(const char *css, size_t len, const char *base_url, parse_link_at_fn fn,
                       void *arg)
{
    return css_oneshot(css, len, base_url, NULL, fn, arg);
}
