/* crawl_convert: --convert-links: byte-range rewriting of saved HTML and CSS, and its driver over
 * the state database. */
#include "crawler/crawl/convert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse/css.h"
#include "parse/html.h"
#include "parse/url.h"
#include "storage/path.h"
#include "storage/state.h"

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

/* ------------------------------------------------------------------------------------------- */
/* The driver: every saved HTML and CSS file, one at a time                                    */
/* ------------------------------------------------------------------------------------------- */

/* The temporary file a converted file is written to before it replaces the original: a name under
 * the state database's prefix, which no URL can be saved as (storage/path.h). */
#define CONVERT_TMP STORE_STATE_FILE ".convert"
#define CONVERT_OUT_BUF (64 * 1024)

struct convert_run {
    const crawl_options_t *o;
    store_state_t *st;
    int dirfd;
    /* the file being converted */
    crawl_link_span_t *spans;
    size_t nspans, cap;
    int nomem;
    /* its output */
    int outfd;
    char buf[CONVERT_OUT_BUF];
    size_t buffered;
    /* totals */
    unsigned long files, failed;
    crawl_convert_stats_t links;
};

static void convert_on_link(void *arg, const char *url, parse_link_kind_t kind, size_t offset,
                            size_t len)
{
    struct convert_run *r = arg;
    char *copy;

    (void)kind;
    if (r->nomem)
        return;
    if (r->nspans == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        crawl_link_span_t *grown = realloc(r->spans, cap * sizeof(*grown));

        if (!grown) {
            r->nomem = 1;
            return;
        }
        r->spans = grown;
        r->cap = cap;
    }
    if (!(copy = strdup(url))) {
        r->nomem = 1;
        return;
    }
    r->spans[r->nspans++] = (crawl_link_span_t){ .offset = offset, .len = len, .url = copy };
}

static void convert_spans_clear(struct convert_run *r)
{
    for (size_t i = 0; i < r->nspans; i++)
        free((char *)r->spans[i].url);
    r->nspans = 0;
    r->nomem = 0;
}

/* Links are looked up as the state database stores URLs: passwords masked. */
static int convert_lookup(void *arg, const char *url, char **path)
{
    struct convert_run *r = arg;
    char shown[PARSE_URL_REDACT_SIZE];
    int result = store_state_target(r->st, parse_url_redact(url, shown, sizeof(shown)), path);

    /* A path someone edited into the database to point outside the folder is no file of ours. */
    if (result == 1 && !store_path_is_safe(*path)) {
        free(*path);
        *path = NULL;
        result = 0;
    }
    return result;
}

static int convert_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int convert_emit(void *arg, const char *data, size_t len)
{
    struct convert_run *r = arg;
    int result;

    if (r->buffered + len > sizeof(r->buf)) {
        if ((result = convert_write_all(r->outfd, r->buf, r->buffered)) < 0)
            return result;
        r->buffered = 0;
        if (len > sizeof(r->buf))
            return convert_write_all(r->outfd, data, len);
    }
    memcpy(r->buf + r->buffered, data, len);
    r->buffered += len;
    return 0;
}

/* 1 HTML, 2 CSS, 0 neither: by the Content-Type recorded, else (a row from before it was) by the
 * name. */
static int convert_kind(const char *path, const char *ct)
{
    const char *ext = store_naming_ext(ct);
    const char *dot;

    if (ct && *ct)
        return !ext ? 0 : !strcmp(ext, ".html") ? 1 : 2;
    dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return 0;
    if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm") || !strcasecmp(dot, ".xhtml"))
        return 1;
    return !strcasecmp(dot, ".css") ? 2 : 0;
}

/* Converts one file; -errno after printing why (the original is then left as it was). */
static int convert_file(struct convert_run *r, const char *url, const char *path, int kind,
                        int again)
{
    int fd = -1, result = 0, tmp_made = 0;
    struct stat sb;
    char *body = MAP_FAILED;
    size_t len = 0;
    crawl_convert_stats_t st;
    const char *what = "read";

    r->outfd = -1;
    r->buffered = 0;
    if ((fd = openat(r->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &sb) < 0) {
        result = -errno;
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode))
        goto cleanup;
    len = (size_t)sb.st_size;
    if (len > 0 && (body = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        result = -errno;
        goto cleanup;
    }
    if (len > 0) {
        int found = kind == 1 ? parse_html_links_at(body, len, url, convert_on_link, r)
                              : parse_css_links_at(body, len, url, convert_on_link, r);
        if (found == PARSE_ENOMEM || r->nomem) {
            result = -ENOMEM;
            goto cleanup;
        }
        if (found < 0)                    /* a URL the parsers refuse: nothing to resolve */
            goto cleanup;
    }
    if (r->nspans == 0)
        goto cleanup;                     /* no link: the file stays untouched */
    what = "write";
    if ((r->outfd = openat(r->dirfd, CONVERT_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                           sb.st_mode & 07777)) < 0) {
        result = -errno;
        goto cleanup;
    }
    tmp_made = 1;
    result = crawl_convert_rewrite(body, len, path, r->spans, r->nspans,
                                   (kind == 1 ? CRAWL_CONVERT_HTML : 0) | (again ? CRAWL_CONVERT_AGAIN : 0),
                                   convert_lookup, r, convert_emit, r, &st);
    if (result == 0 && r->buffered > 0)
        result = convert_write_all(r->outfd, r->buf, r->buffered);
    if (result < 0)
        goto cleanup;
    /* The file keeps the server's time (-N compares it) and its mode. */
    {
        struct timespec times[2] = { sb.st_atim, sb.st_mtim };
        if (fchmod(r->outfd, sb.st_mode & 07777) < 0 || futimens(r->outfd, times) < 0) {
            result = -errno;
            goto cleanup;
        }
    }
    if (r->o->do_fsync && fsync(r->outfd) < 0) {
        result = -errno;
        goto cleanup;
    }
    if (close(r->outfd) < 0) {
        r->outfd = -1;
        result = -errno;
        goto cleanup;
    }
    r->outfd = -1;
    if (renameat(r->dirfd, CONVERT_TMP, r->dirfd, path) < 0) {
        result = -errno;
        goto cleanup;
    }
    tmp_made = 0;
    if ((result = store_state_mark_converted(r->st, url)) < 0)
        what = "record the conversion of";
    r->files++;
    r->links.local += st.local;
    r->links.absolute += st.absolute;
    r->links.kept += st.kept;
    r->links.bad_spans += st.bad_spans;
cleanup:
    if (r->outfd >= 0)
        close(r->outfd);
    if (tmp_made)
        unlinkat(r->dirfd, CONVERT_TMP, 0);
    if (body != MAP_FAILED)
        munmap(body, len);
    if (fd >= 0)
        close(fd);
    convert_spans_clear(r);
    if (result < 0) {
        r->failed++;
        fprintf(stderr, "gather: --convert-links: cannot %s %s/%s: %s\n", what, r->o->outdir, path,
                strerror(-result));
    }
    return result;
}

static int convert_each(void *arg, const char *url, const char *path, const char *ct, int converted)
{
    struct convert_run *r = arg;
    int kind = path ? convert_kind(path, ct) : 0;

    if (!kind || !url || !store_path_is_safe(path))
        return 0;
    if (convert_file(r, url, path, kind, converted) == -ENOMEM)
        return -ENOMEM;                   /* the next file would fail alike */
    return 0;
}

int crawl_convert_links(const crawl_options_t *o)
{
    struct convert_run *r = calloc(1, sizeof(*r));
    int existed = 0, result;

    if (!r) {
        fprintf(stderr, "gather: out of memory\n");
        return -ENOMEM;
    }
    r->o = o;
    r->dirfd = -1;
    if ((result = store_state_open(o->outdir, &r->st, &existed)) < 0)
        goto cleanup;
    if ((r->dirfd = open(o->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        result = -errno;
        fprintf(stderr, "gather: --convert-links: cannot open %s: %s\n", o->outdir, strerror(errno));
        goto cleanup;
    }
    result = store_state_each_saved(r->st, convert_each, r);
    if (result < 0)
        fprintf(stderr, "gather: --convert-links: %s\n",
                result == -ENOMEM ? "out of memory" : "cannot read the state database");
    else if (r->failed > 0)
        result = -EIO;
    if (!o->quiet)
        fprintf(stderr, "gather: converted the links of %lu files: %lu to saved files, %lu to URLs "
                        "not saved, %lu left as they were%s\n",
                r->files, r->links.local, r->links.absolute, r->links.kept,
                r->failed ? " (some files could not be converted)" : "");
cleanup:
    if (r->dirfd >= 0)
        close(r->dirfd);
    if (r->st && store_state_close(r->st) < 0 && result == 0)
        result = -EIO;
    free(r->spans);
    free(r);
    return result;
}
