/* url.c - RFC 3986 reference resolution and normalisation, for computing the crawl expectations. */
#include "url.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One parsed URI reference; every part is a NUL-terminated copy so resolution can mix parts of
 * the base and of the reference freely. */
struct url_parts {
    bool has_scheme, has_authority, has_query;
    char scheme[16];
    char authority[256];
    char path[URL_MAX];
    char query[URL_MAX];
};

static bool copy_part(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

/* Split s per RFC 3986 appendix B. The fragment is discarded: no output URL keeps one. */
static bool url_parse(const char *s, struct url_parts *u)
{
    const char *p = s, *end;
    size_t n;

    memset(u, 0, sizeof(*u));

    /* A scheme is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by ':'. */
    if (isalpha((unsigned char)*p)) {
        const char *q = p + 1;

        while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.')
            q++;
        if (*q == ':') {
            if (!copy_part(u->scheme, sizeof(u->scheme), p, (size_t)(q - p)))
                return false;
            for (char *c = u->scheme; *c != '\0'; c++)
                *c = (char)tolower((unsigned char)*c);
            u->has_scheme = true;
            p = q + 1;
        }
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        n = strcspn(p, "/?#");
        if (!copy_part(u->authority, sizeof(u->authority), p, n))
            return false;
        u->has_authority = true;
        p += n;
    }
    n = strcspn(p, "?#");
    if (!copy_part(u->path, sizeof(u->path), p, n))
        return false;
    p += n;
    if (*p == '?') {
        p++;
        end = p + strcspn(p, "#");
        if (!copy_part(u->query, sizeof(u->query), p, (size_t)(end - p)))
            return false;
        u->has_query = true;
    }
    return true;
}

/* RFC 3986 §5.2.4, in place (the output is never longer than the input). */
static void remove_dot_segments(char *path)
{
    char in_buf[URL_MAX];
    char *in = in_buf;
    size_t olen = 0;

    strcpy(in_buf, path); /* path is at most URL_MAX - 1 bytes long */
    while (*in != '\0') {
        if (strncmp(in, "../", 3) == 0) {
            in += 3;
        } else if (strncmp(in, "./", 2) == 0) {
            in += 2;
        } else if (strncmp(in, "/./", 3) == 0) {
            in += 2;
        } else if (strcmp(in, "/.") == 0) {
            in += 1;
            in[0] = '/';
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            if (in[3] == '/') {
                in += 3;
            } else {
                in += 2;
                in[0] = '/';
            }
            while (olen > 0 && path[olen - 1] != '/')
                olen--;
            if (olen > 0)
                olen--;
        } else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
            in += strlen(in);
        } else {
            size_t n = (in[0] == '/' ? 1 : 0);

            n += strcspn(in + n, "/");
            memcpy(path + olen, in, n);
            olen += n;
            in += n;
        }
    }
    path[olen] = '\0';
}

/* RFC 3986 §5.2.3: merge a relative path with the base path. */
static bool merge_paths(const struct url_parts *base, const char *rel, char out[URL_MAX])
{
    const char *slash;
    size_t keep;

    if (base->has_authority && base->path[0] == '\0')
        return snprintf(out, URL_MAX, "/%s", rel) < URL_MAX;
    slash = strrchr(base->path, '/');
    keep = slash == NULL ? 0 : (size_t)(slash - base->path) + 1;
    if (keep + strlen(rel) >= URL_MAX)
        return false;
    memmove(out, base->path, keep);
    strcpy(out + keep, rel);
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode %XX of unreserved characters and upper-case the hex of the others, in place. */
static void normalise_percent(char *s)
{
    char *w = s;

    for (const char *r = s; *r != '\0';) {
        int hi, lo;

        if (r[0] == '%' && (hi = hexval((unsigned char)r[1])) >= 0 &&
            (lo = hexval((unsigned char)r[2])) >= 0) {
            int c = hi * 16 + lo;

            if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
                *w++ = (char)c;
            } else {
                *w++ = '%';
                *w++ = (char)toupper((unsigned char)r[1]);
                *w++ = (char)toupper((unsigned char)r[2]);
            }
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

int url_resolve(const char *base, const char *ref, char out[URL_MAX])
{
    struct url_parts *b, *r, *t; /* ~13 KiB: kept off the small connection-thread stacks */
    int result = -1;
    size_t n;

    b = malloc(3 * sizeof(*b));
    if (b == NULL)
        return -1;
    r = b + 1;
    t = b + 2;
    memset(t, 0, sizeof(*t));

    /* HTML strips leading and trailing ASCII whitespace from URL attributes. */
    while (*ref == ' ' || *ref == '\t' || *ref == '\n' || *ref == '\r' || *ref == '\f')
        ref++;
    n = strlen(ref);
    while (n > 0 && strchr(" \t\n\r\f", ref[n - 1]) != NULL)
        n--;
    if (n >= URL_MAX)
        goto cleanup;
    memcpy(out, ref, n);
    out[n] = '\0';

    if (!url_parse(base, b) || !b->has_scheme || !b->has_authority || !url_parse(out, r))
        goto cleanup;

    /* RFC 3986 §5.2.2, strict: a scheme in the reference always wins. */
    if (r->has_scheme) {
        *t = *r;
    } else {
        if (r->has_authority) {
            strcpy(t->authority, r->authority);
            strcpy(t->path, r->path);
            t->has_query = r->has_query;
            strcpy(t->query, r->query);
        } else {
            if (r->path[0] == '\0') {
                strcpy(t->path, b->path);
                t->has_query = r->has_query || b->has_query;
                strcpy(t->query, r->has_query ? r->query : b->query);
            } else {
                if (r->path[0] == '/')
                    strcpy(t->path, r->path);
                else if (!merge_paths(b, r->path, t->path))
                    goto cleanup;
                t->has_query = r->has_query;
                strcpy(t->query, r->query);
            }
            strcpy(t->authority, b->authority);
        }
        t->has_authority = true;
        strcpy(t->scheme, b->scheme);
    }
    if (strcmp(t->scheme, "http") != 0 && strcmp(t->scheme, "https") != 0)
        goto cleanup;
    if (!t->has_authority || t->authority[0] == '\0')
        goto cleanup;

    remove_dot_segments(t->path);
    if (t->path[0] == '\0')
        strcpy(t->path, "/");
    normalise_percent(t->path);
    normalise_percent(t->query);
    for (char *c = t->authority; *c != '\0'; c++)
        *c = (char)tolower((unsigned char)*c);
    n = strlen(t->authority);
    if (strcmp(t->scheme, "http") == 0 && n > 3 && strcmp(t->authority + n - 3, ":80") == 0)
        t->authority[n - 3] = '\0';
    else if (strcmp(t->scheme, "https") == 0 && n > 4 && strcmp(t->authority + n - 4, ":443") == 0)
        t->authority[n - 4] = '\0';

    n = (size_t)snprintf(out, URL_MAX, "%s://%s%s%s%s", t->scheme, t->authority, t->path,
                         t->has_query ? "?" : "", t->query);
    if (n >= URL_MAX)
        goto cleanup;
    result = 0;

cleanup:
    free(b);
    return result;
}

int url_split(const char *url, const char **authority, size_t *authority_len, const char **path)
{
    const char *p = strstr(url, "://");

    if (p == NULL)
        return -1;
    p += 3;
    *authority = p;
    *authority_len = strcspn(p, "/?");
    *path = p + *authority_len;
    return 0;
}
