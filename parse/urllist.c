/* urllist.c - streaming reader of URL-list files: one URL a line, bounded memory. */
#include "parse/urllist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/url.h"

/* How much of a bad line a reason quotes, in bytes (plus "..." when cut). */
#define URLLIST_QUOTE_MAX 80

struct parse_urllist {
    FILE *f;
    int owns_f;                /* fclose() at close */
    int failed;                /* a read error happened: every later next() returns it */
    int started;               /* the BOM check is done */
    char *name;                /* for messages */
    parse_urllist_bad_fn bad;
    void *arg;
    unsigned long lineno;      /* number of the line last read */
    unsigned char pre[3];      /* bytes read while looking for a BOM, not yet consumed */
    size_t pre_len, pre_pos;
    char line[PARSE_URL_MAX + 1];
};

/* What one pass over a line found. */
struct urllist_line {
    size_t stored;             /* bytes copied into r->line, at most PARSE_URL_MAX */
    unsigned long long total;  /* bytes since the first non-blank one */
    unsigned long long len;    /* bytes up to the last non-blank one: the trimmed length */
    int started, comment;
    unsigned long long bad_col; /* 1-based column of the first binary byte, 0 if none */
    int bad_byte;              /* that byte, or -1 for invalid UTF-8 */
    int need;                  /* UTF-8 continuation bytes still expected */
    unsigned char lo, hi;      /* the range the next continuation byte must be in */
};

static void urllist_default_bad(void *arg, const char *file, unsigned long line,
                                const char *reason)
{
    (void)arg;
    fprintf(stderr, "%s:%lu: %s\n", file, line, reason);
}

static parse_urllist_t *urllist_new(FILE *f, int owns_f, const char *name,
                                    parse_urllist_bad_fn bad, void *arg)
{
    parse_urllist_t *r;

    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->name = strdup(name);
    if (!r->name) {
        free(r);
        errno = ENOMEM;
        return NULL;
    }
    r->f = f;
    r->owns_f = owns_f;
    r->bad = bad ? bad : urllist_default_bad;
    r->arg = arg;
    return r;
}

parse_urllist_t *parse_urllist_open(const char *path, parse_urllist_bad_fn bad, void *arg)
{
    parse_urllist_t *r;
    struct stat st;
    FILE *f;
    int saved;

    if (strcmp(path, "-") == 0) {
        r = urllist_new(stdin, 0, "<stdin>", bad, arg);
        if (!r)
            errno = ENOMEM;
        return r;
    }
    f = fopen(path, "r");
    if (!f)
        return NULL;
    if (fstat(fileno(f), &st) != 0) {
        saved = errno;
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        saved = EISDIR;
        goto fail;
    }
    r = urllist_new(f, 1, path, bad, arg);
    if (!r) {
        saved = ENOMEM;
        goto fail;
    }
    return r;
fail:
    fclose(f);
    errno = saved;
    return NULL;
}

parse_urllist_t *parse_urllist_open_file(FILE *f, const char *name, parse_urllist_bad_fn bad,
                                         void *arg)
{
    parse_urllist_t *r = urllist_new(f, 0, name ? name : "<stream>", bad, arg);

    if (!r)
        errno = ENOMEM;
    return r;
}

void parse_urllist_close(parse_urllist_t *r)
{
    if (!r)
        return;
    if (r->owns_f)
        fclose(r->f);
    free(r->name);
    free(r);
}

/* The next input byte or EOF; a UTF-8 BOM at the very start is swallowed. */
static int urllist_getc(parse_urllist_t *r)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    int c;

    if (!r->started) {
        r->started = 1;
        while (r->pre_len < 3) {
            c = getc_unlocked(r->f);
            if (c == EOF)
                break;
            r->pre[r->pre_len++] = (unsigned char)c;
            if (r->pre[r->pre_len - 1] != bom[r->pre_len - 1])
                break;
        }
        if (r->pre_len == 3 && memcmp(r->pre, bom, 3) == 0)
            r->pre_len = 0;
    }
    if (r->pre_pos < r->pre_len)
        return r->pre[r->pre_pos++];
    return getc_unlocked(r->f);
}

/* Feed one byte of a line's content to the UTF-8 check; 0 when it is not valid there. */
static int urllist_utf8(struct urllist_line *l, unsigned char c)
{
    if (l->need > 0) {
        if (c < l->lo || c > l->hi)
            return 0;
        l->need--;
        l->lo = 0x80;
        l->hi = 0xBF;
        return 1;
    }
    l->lo = 0x80;
    l->hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        l->need = 1;
    else if (c >= 0xE0 && c <= 0xEF)
        l->need = 2;
    else if (c >= 0xF0 && c <= 0xF4)
        l->need = 3;
    else
        return 0;
    if (c == 0xE0)
        l->lo = 0xA0; /* overlong */
    else if (c == 0xED)
        l->hi = 0x9F; /* surrogates */
    else if (c == 0xF0)
        l->lo = 0x90; /* overlong */
    else if (c == 0xF4)
        l->hi = 0x8F; /* over U+10FFFF */
    return 1;
}

/*
 * Copy at most URLLIST_QUOTE_MAX bytes of s[0..len) (valid UTF-8) into dst (of size cap) in
 * double quotes, escaping C0 and C1 controls, '"' and '\\', cutting only between characters.
 */
static void urllist_quote(char *dst, size_t cap, const char *s, size_t len)
{
    size_t i = 0, o = 0, used = 0;

    dst[o++] = '"';
    while (i < len && used < URLLIST_QUOTE_MAX && o + 8 < cap) {
        unsigned char c = (unsigned char)s[i];
        size_t n = 1;
        if (c >= 0xF0)
            n = 4;
        else if (c >= 0xE0)
            n = 3;
        else if (c >= 0xC0)
            n = 2;
        if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9F) {
            /* A C1 control (U+0080..U+009F): some terminals obey them. */
            o += (size_t)snprintf(dst + o, cap - o, "\\u%04X", (unsigned char)s[i + 1]);
            used++;
            i += 2;
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            o += (size_t)snprintf(dst + o, cap - o, c == '\t' ? "\\t" : c == '\r' ? "\\r"
                                  : c == '"' ? "\\\"" : c == '\\' ? "\\\\" : "\\x%02X", c);
            used++;
            i++;
            continue;
        }
        if (i + n > len || used + n > URLLIST_QUOTE_MAX)
            break;
        memcpy(dst + o, s + i, n);
        o += n;
        used += n;
        i += n;
    }
    if (i < len && o + 4 < cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o++] = '"';
    dst[o] = '\0';
}

/*
 * Read one line into r->line and describe it in *l. Returns 1 when a line was read (even an
 * empty last one is not: EOF right after a newline returns 0), 0 at end, PARSE_EIO on error.
 */
static int urllist_read_line(parse_urllist_t *r, struct urllist_line *l)
{
    int c, any = 0;

    memset(l, 0, sizeof(*l));
    errno = 0;
    l->lo = 0x80;
    l->hi = 0xBF;
    for (;;) {
        c = urllist_getc(r);
        if (c == EOF)
            break;
        any = 1;
        if (c == '\n')
            break;
        if (!l->started) {
            if (c == ' ' || c == '\t' || c == '\r')
                continue;
            l->started = 1;
            l->comment = c == '#';
        }
        if (l->comment)
            continue;
        l->total++;
        if (!l->bad_col) {
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
                l->bad_col = l->total;
                l->bad_byte = c;
            } else if (!urllist_utf8(l, (unsigned char)c)) {
                l->bad_col = l->total;
                l->bad_byte = -1;
            }
        }
        if (l->stored < PARSE_URL_MAX)
            r->line[l->stored++] = (char)c;
        if (c != ' ' && c != '\t' && c != '\r')
            l->len = l->total;
    }
    if (c == EOF && ferror(r->f)) {
        r->failed = errno ? errno : EIO;
        return PARSE_EIO;
    }
    if (!any)
        return 0;
    if (!l->bad_col && l->need > 0) {
        l->bad_col = l->total;
        l->bad_byte = -1;
    }
    r->lineno++;
    if (l->len <= PARSE_URL_MAX)
        r->line[l->len] = '\0';
    return 1;
}

int parse_urllist_next(parse_urllist_t *r, char **url, unsigned long *line)
{
    struct urllist_line l;
    char reason[URLLIST_QUOTE_MAX * 4 + 128];
    char quoted[URLLIST_QUOTE_MAX * 4 + 16];
    char *out;
    int result;

    if (r->failed) {
        errno = r->failed;
        return PARSE_EIO;
    }
    flockfile(r->f);
    for (;;) {
        result = urllist_read_line(r, &l);
        if (result <= 0)
            break;
        if (!l.started || l.comment)
            continue;
        if (l.bad_col) {
            if (l.bad_byte == 0)
                snprintf(reason, sizeof(reason), "binary data (NUL byte at column %llu)",
                         l.bad_col);
            else if (l.bad_byte > 0)
                snprintf(reason, sizeof(reason), "binary data (control byte 0x%02X at column %llu)",
                         (unsigned)l.bad_byte, l.bad_col);
            else
                snprintf(reason, sizeof(reason), "binary data (invalid UTF-8 at column %llu)",
                         l.bad_col);
            r->bad(r->arg, r->name, r->lineno, reason);
            continue;
        }
        if (l.len > PARSE_URL_MAX) {
            snprintf(reason, sizeof(reason), "line too long (%llu bytes, max %d)", l.len,
                     PARSE_URL_MAX);
            r->bad(r->arg, r->name, r->lineno, reason);
            continue;
        }
        result = parse_url_normalize(r->line, &out);
        if (result == PARSE_OK) {
            *url = out;
            if (line)
                *line = r->lineno;
            result = 1;
            break;
        }
        if (result == PARSE_ENOMEM)
            break;
        urllist_quote(quoted, sizeof(quoted), r->line, (size_t)l.len);
        if (result == PARSE_ESCHEME)
            snprintf(reason, sizeof(reason), "not an http or https URL: %s", quoted);
        else if (result == PARSE_ETOOLONG)
            snprintf(reason, sizeof(reason), "invalid URL (over %d bytes once escaped): %s",
                     PARSE_URL_MAX, quoted);
        else
            snprintf(reason, sizeof(reason), "invalid URL: %s", quoted);
        r->bad(r->arg, r->name, r->lineno, reason);
    }
    funlockfile(r->f);
    if (result == PARSE_EIO)
        errno = r->failed;
    return result;
}
