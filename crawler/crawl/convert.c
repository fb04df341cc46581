/* crawl_convert: --convert-links: byte-range rewriting of saved HTML and CSS, and its driver over
 * the state database. */
#include "crawler/crawl/convert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/path.h"

/* A relative reference: each byte of a path at most 3 bytes, plus "../" per folder of the
 * source (at most one per 2 bytes of a path). */
#define CONVERT_REL_SIZE (3 * STORE_PATH_SIZE + 2 * STORE_PATH_SIZE)

/* ------------------------------------------------------------------------------------------- */
/* Pure parts                                                                                  */
/* ------------------------------------------------------------------------------------------- */

static int convert_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '/';
}

/* Percent-encodes the n bytes at s onto out at *at (cap bytes in all, one kept for the NUL).
 * -ERANGE when they do not fit. */
static int convert_encode(const char *s, size_t n, char *out, size_t *at, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (convert_unreserved(c)) {
            if (*at + 2 > cap)
                return -ERANGE;
            out[(*at)++] = (char)c;
        } else {
            if (*at + 4 > cap)
                return -ERANGE;
            out[(*at)++] = '%';
            out[(*at)++] = hex[c >> 4];
            out[(*at)++] = hex[c & 0xf];
        }
    }
    out[*at] = '\0';
    return 0;
}

int crawl_convert_relative(const char *from_path, const char *to_path, char *out, size_t outsz)
{
    const char *f = from_path, *t = to_path;
    size_t at = 0;
    int result = 0;

    if (outsz == 0)
        return -ERANGE;
    out[0] = '\0';
    /* The folders both paths share are left out; the file name of from_path is no folder. */
    for (;;) {
        const char *fs = strchr(f, '/'), *ts = strchr(t, '/');

        if (!fs || !ts || fs - f != ts - t || memcmp(f, t, (size_t)(fs - f)) != 0)
            break;
        f = fs + 1;
        t = ts + 1;
    }
    for (const char *s = f; (s = strchr(s, '/')); s++) {
        if (at + 4 > outsz) {
            result = -ERANGE;
            goto cleanup;
        }
        memcpy(out + at, "../", 3);
        at += 3;
    }
    out[at] = '\0';
    result = convert_encode(t, strlen(t), out, &at, outsz);
cleanup:
    if (result < 0)
        out[0] = '\0';
    return result;
}

/* Whether the link text starts with an http: or https: scheme (after the blanks a browser trims). */
static int convert_is_absolute(const char *s, size_t n)
{
    while (n > 0 && (unsigned char)*s <= ' ') {
        s++;
        n--;
    }
    return (n >= 5 && !strncasecmp(s, "http:", 5)) || (n >= 6 && !strncasecmp(s, "https:", 6));
}

/* A relative path reference (what this converter writes): no scheme, not "/..." or "//...". */
static int convert_is_path_ref(const char *s, size_t n)
{
    size_t colon = 0;

    while (n > 0 && (unsigned char)*s <= ' ') {
        s++;
        n--;
    }
    if (n == 0 || s[0] == '/' || s[0] == '\\')
        return 0;
    /* a scheme is letters, digits, + - . before the first ':' (encoded ours never holds one) */
    while (colon < n && s[colon] != ':' && s[colon] != '/' && s[colon] != '?' && s[colon] != '#')
        colon++;
    return colon == n || s[colon] != ':';
}

/* The fragment of the link text as written ("#x" up to the end), or an empty range. In HTML a
 * '#' right after '&' begins a character reference (&#38;), not a fragment. */
static size_t convert_fragment(const char *s, size_t n, int html)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '#' && !(html && i > 0 && s[i - 1] == '&'))
            return i;
    return n;
}

/* Whether the span at offset is an attribute value: '=' before it (after an optional quote and
 * blanks). In a <style> element, '&' is not a reference: there it must stay '&'. */
static int convert_in_attribute(const char *body, size_t offset)
{
    size_t i = offset;

    if (i > 0 && (body[i - 1] == '"' || body[i - 1] == '\''))
        i--;
    while (i > 0 && (body[i - 1] == ' ' || body[i - 1] == '\t' || body[i - 1] == '\n' ||
                     body[i - 1] == '\r' || body[i - 1] == '\f'))
        i--;
    return i > 0 && body[i - 1] == '=';
}

/* Emits an absolute URL in place of a link's text. */
static int convert_emit_url(const char *url, int attr, crawl_convert_emit_fn emit, void *arg)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = url;
    int result = 0;

    for (const char *p = url;; p++) {
        unsigned char c = (unsigned char)*p;
        char esc[5];
        const char *rep = NULL;

        if (c == '\0')
            break;
        if (c == '&' && attr) {
            rep = "&amp;";
        } else if (c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' ||
                   c == '\\' || (!attr && (c == '(' || c == ')'))) {
            esc[0] = '%';
            esc[1] = hex[c >> 4];
            esc[2] = hex[c & 0xf];
            esc[3] = '\0';
            rep = esc;
        }
        if (!rep)
            continue;
        if ((p > run && (result = emit(arg, run, (size_t)(p - run))) < 0) ||
            (result = emit(arg, rep, strlen(rep))) < 0)
            return result;
        run = p + 1;
    }
    if (*run)
        result = emit(arg, run, strlen(run));
    return result;
}

int crawl_convert_rewrite(const char *body, size_t len, const char *from_path,
                          const crawl_link_span_t *spans, size_t n, int flags,
                          crawl_convert_lookup_fn lookup, void *lookup_arg,
                          crawl_convert_emit_fn emit, void *emit_arg, crawl_convert_stats_t *stats)
{
    crawl_convert_stats_t dummy;
    int html = (flags & CRAWL_CONVERT_HTML) != 0;
    size_t pos = 0;                  /* bytes emitted */
    size_t last = 0;                 /* the end of the last span taken */
    int result = 0;
    char *target = NULL;
    char rel[CONVERT_REL_SIZE];

    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof(*stats));
    for (size_t i = 0; i < n; i++) {
        const crawl_link_span_t *sp = &spans[i];
        const char *raw = body + sp->offset;
        size_t frag;
        int found;

        if (sp->offset < last || sp->offset > len || sp->len > len - sp->offset || !sp->url) {
            stats->bad_spans++;
            continue;
        }
        last = sp->offset + sp->len;
        if ((flags & CRAWL_CONVERT_AGAIN) && convert_is_path_ref(raw, sp->len)) {
            stats->kept++;
            continue;
        }
        if ((found = lookup(lookup_arg, sp->url, &target)) < 0) {
            result = found;
            goto cleanup;
        }
        if (!found && convert_is_absolute(raw, sp->len)) {
            stats->kept++;
            continue;
        }
        if ((result = emit(emit_arg, body + pos, sp->offset - pos)) < 0)
            goto cleanup;
        frag = convert_fragment(raw, sp->len, html);
        if (found) {
            if ((result = crawl_convert_relative(from_path, target, rel, sizeof(rel))) < 0 ||
                (result = emit(emit_arg, rel, strlen(rel))) < 0)
                goto cleanup;
            stats->local++;
        } else {
            result = convert_emit_url(sp->url, html && convert_in_attribute(body, sp->offset), emit,
                                      emit_arg);
            if (result < 0)
                goto cleanup;
            stats->absolute++;
        }
        free(target);
        target = NULL;
        if ((result = emit(emit_arg, raw + frag, sp->len - frag)) < 0)
            goto cleanup;
        pos = sp->offset + sp->len;
    }
    if (len > pos)
        result = emit(emit_arg, body + pos, len - pos);
cleanup:
    free(target);
    return result;
}
