/* crawl_filter: POSIX extended regexes and comma-separated lists. */
#include "crawler/crawl/filter.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void crawl_filter_init(crawl_filter_t *f)
{
    memset(f, 0, sizeof(*f));
}

static void list_free(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        free(l[i]);
    free(l);
}

void crawl_filter_free(crawl_filter_t *f)
{
    if (f->has_include)
        regfree(&f->include);
    if (f->has_exclude)
        regfree(&f->exclude);
    list_free(f->accept);
    list_free(f->reject);
    list_free(f->types);
    memset(f, 0, sizeof(*f));
}

int crawl_filter_set_regex(crawl_filter_t *f, int exclude, const char *pattern)
{
    regex_t *re = exclude ? &f->exclude : &f->include;
    int *has = exclude ? &f->has_exclude : &f->has_include;
    int rc;

    if (*has)
        regfree(re);
    *has = 0;
    rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof(msg));
        fprintf(stderr, "gather: %s: bad regular expression '%s': %s\n",
                exclude ? "--exclude" : "--include", pattern, msg);
        return -EINVAL;
    }
    *has = 1;
    return 0;
}

int crawl_filter_set_list(crawl_filter_t *f, char ***which, const char *opt, const char *csv)
{
    size_t n = 1, k = 0;
    char **l;
    const char *p = csv;

    (void)f;
    for (const char *c = csv; *c; c++)
        n += *c == ',';
    l = calloc(n + 1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            len--;
        if (len > 0 && *p == '.') {         /* ".jpg" and "jpg" mean the same */
            p++;
            len--;
        }
        if (len > 0) {
            l[k] = strndup(p, len);
            if (!l[k]) {
                list_free(l);
                return -ENOMEM;
            }
            for (char *c = l[k]; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            k++;
        }
        p += len;
        while (*p && *p != ',')
            p++;
        if (*p == ',')
            p++;
    }
    if (k == 0) {
        fprintf(stderr, "gather: %s: '%s' names nothing\n", opt, csv);
        list_free(l);
        return -EINVAL;
    }
    list_free(*which);
    *which = l;
    return 0;
}

int crawl_filter_url(const crawl_filter_t *f, const char *url)
{
    if (f->has_include && regexec(&f->include, url, 0, NULL, 0) != 0)
        return 0;
    if (f->has_exclude && regexec(&f->exclude, url, 0, NULL, 0) == 0)
        return 0;
    return 1;
}

const char *crawl_filter_extension(const char *url, char *buf, size_t n)
{
    const char *end = strpbrk(url, "?#");
    const char *seg, *dot;
    size_t len;

    if (!end)
        end = url + strlen(url);
    seg = end;
    while (seg > url && seg[-1] != '/')
        seg--;
    dot = NULL;
    for (const char *c = seg; c < end; c++)
        if (*c == '.')
            dot = c;
    buf[0] = '\0';
    if (!dot || dot + 1 >= end)
        return buf;
    len = (size_t)(end - dot - 1);
    if (len >= n)
        return buf;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)dot[1 + i]);
    buf[len] = '\0';
    return buf;
}

/* The lowercased last path segment of url (no query, no fragment) into buf; "" if too long. */
static const char *filter_name(const char *url, char *buf, size_t n)
{
    const char *end = strpbrk(url, "?#");
    const char *seg;
    const char *scheme = strstr(url, "://");
    size_t len;

    if (!end)
        end = url + strlen(url);
    seg = end;
    while (seg > url && seg[-1] != '/')
        seg--;
    if (scheme && seg <= scheme + 3)
        seg = end;                         /* "http://host": no path, no name */
    len = (size_t)(end - seg);
    buf[0] = '\0';
    if (len >= n)
        return buf;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)seg[i]);
    buf[len] = '\0';
    return buf;
}

/* An entry of --accept/--reject: an extension ("jpg"), or, as wget reads -A/-R, a wildcard
 * pattern when it holds *, ?, [ or ] ("*.jpg", "img-??.png"), matched against the file name. */
static int list_has(char **l, const char *ext, const char *name)
{
    for (size_t i = 0; l && l[i]; i++) {
        if (strpbrk(l[i], "*?[]") ? fnmatch(l[i], name, 0) == 0 : !strcmp(l[i], ext))
            return 1;
    }
    return 0;
}

int crawl_filter_ext(const crawl_filter_t *f, const char *url)
{
    char ext[32], name[256];

    if (!f->accept && !f->reject)
        return 1;                            /* every link of a crawl asks: no work for none */
    crawl_filter_extension(url, ext, sizeof(ext));
    filter_name(url, name, sizeof(name));
    if (f->accept && !list_has(f->accept, ext, name))
        return 0;
    if (f->reject && list_has(f->reject, ext, name))
        return 0;
    return 1;
}

int crawl_filter_type(const crawl_filter_t *f, const char *content_type)
{
    size_t len;

    if (!f->types)
        return 1;
    len = strcspn(content_type, "; \t");
    for (size_t i = 0; f->types[i]; i++) {
        const char *t = f->types[i];
        size_t tl = strlen(t);
        if (tl >= 2 && t[tl - 1] == '*' && t[tl - 2] == '/')
            tl--;                            /* a trailing slash-star becomes a prefix */
        if (t[tl - 1] == '/' ? strncasecmp(content_type, t, tl) == 0
                             : (len == tl && strncasecmp(content_type, t, tl) == 0))
            return 1;
    }
    return 0;
}
