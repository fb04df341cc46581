/* crawl_scope: host equality, libpsl registrable domains, or a path prefix. */
#include "crawler/crawl/scope.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/url.h"

int crawl_scope_parse_kind(const char *name, crawl_scope_kind_t *out)
{
    static const char *names[] = { "host", "domain", "prefix", "any" };

    for (int i = 0; i < 4; i++) {
        if (!strcmp(name, names[i])) {
            *out = (crawl_scope_kind_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

static const psl_ctx_t *scope_psl(void)
{
    static const psl_ctx_t *psl;
    static int tried;

    if (!tried) {
        tried = 1;
        psl = psl_builtin();
        if (!psl || psl_suffix_count(psl) <= 0)
            psl = psl_latest(NULL);
    }
    return psl;
}

/* libpsl reads "127.0.0.1" as labels under an unknown TLD and answers "0.1", which would put
 * 10.0.0.1 in the scope of 127.0.0.1: an address is its own domain. IPv6 hosts come bracketed. */
static int scope_is_ip(const char *host)
{
    struct in_addr a;

    return host[0] == '[' || inet_pton(AF_INET, host, &a) == 1;
}

char *crawl_scope_domain(const char *host)
{
    const psl_ctx_t *psl = scope_is_ip(host) ? NULL : scope_psl();
    const char *reg = psl ? psl_registrable_domain(psl, host) : NULL;

    return strdup(reg ? reg : host);
}

/* The prefix a URL must start with: scheme://authority/ plus the path up to its last '/'. */
static char *scope_prefix(const char *url)
{
    const char *q = strpbrk(url, "?#");
    size_t len = q ? (size_t)(q - url) : strlen(url);
    const char *path = strstr(url, "://");
    char *out;

    path = path ? strchr(path + 3, '/') : NULL;
    if (path && path < url + len) {
        const char *last = url + len;
        while (last > path && last[-1] != '/')
            last--;
        len = (size_t)(last - url);
    }
    out = malloc(len + 1);
    if (!out)
        return NULL;
    memcpy(out, url, len);
    out[len] = '\0';
    return out;
}

static char *scope_key(crawl_scope_kind_t kind, const char *url)
{
    char *host = NULL, *key = NULL;

    if (kind == CRAWL_SCOPE_PREFIX)
        return scope_prefix(url);
    if (parse_url_host(url, &host) < 0)
        return NULL;
    if (kind == CRAWL_SCOPE_DOMAIN) {
        key = crawl_scope_domain(host);
        free(host);
        return key;
    }
    return host;
}

int crawl_scope_init(crawl_scope_t *s, crawl_scope_kind_t kind, char *const *starts, size_t n)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    if (kind == CRAWL_SCOPE_ANY)
        return 0;
    s->keys = calloc(n ? n : 1, sizeof(*s->keys));
    if (!s->keys)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        s->keys[i] = scope_key(kind, starts[i]);
        if (!s->keys[i]) {
            crawl_scope_free(s);
            return -EINVAL;
        }
        s->nkeys++;
    }
    return 0;
}

static void scope_list_free(char ***l, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*l)[i]);
    free(*l);
    *l = NULL;
    *n = 0;
}

void crawl_scope_free(crawl_scope_t *s)
{
    scope_list_free(&s->keys, &s->nkeys);
    scope_list_free(&s->parents, &s->nparents);
    scope_list_free(&s->domains, &s->ndomains);
}

int crawl_scope_no_parent(crawl_scope_t *s, char *const *starts, size_t n)
{
    scope_list_free(&s->parents, &s->nparents);
    if (!(s->parents = calloc(n ? n : 1, sizeof(*s->parents))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(s->parents[i] = scope_prefix(starts[i])))
            return -ENOMEM;
        s->nparents++;
    }
    return 0;
}

int crawl_scope_domains(crawl_scope_t *s, const char *list)
{
    size_t n = 1;

    scope_list_free(&s->domains, &s->ndomains);
    for (const char *c = list; *c; c++)
        n += *c == ',';
    if (!(s->domains = calloc(n, sizeof(*s->domains))))
        return -ENOMEM;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const char *q = p;
        size_t k = len;

        while (k > 0 && (*q == ' ' || *q == '.')) {      /* " .example.com" = "example.com" */
            q++;
            k--;
        }
        while (k > 0 && q[k - 1] == ' ')
            k--;
        if (k > 0) {
            char *d = strndup(q, k);
            if (!d)
                return -ENOMEM;
            for (char *c = d; *c; c++)
                *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
            s->domains[s->ndomains++] = d;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return s->ndomains ? 0 : -EINVAL;
}

/* 1 if url's host is one of -D's domains or under one. */
static int scope_domain_ok(const crawl_scope_t *s, const char *url)
{
    char *host = NULL;
    int ok = 0;

    if (parse_url_host(url, &host) < 0)
        return 0;
    for (size_t i = 0; i < s->ndomains && !ok; i++) {
        size_t hl = strlen(host), dl = strlen(s->domains[i]);
        ok = hl == dl ? strcasecmp(host, s->domains[i]) == 0
                      : hl > dl && host[hl - dl - 1] == '.' && strcasecmp(host + hl - dl, s->domains[i]) == 0;
    }
    free(host);
    return ok;
}

/* Length of url's "scheme://authority/" (the origin and its slash), 0 if it has none. */
static size_t scope_origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    const char *slash = p ? strchr(p + 3, '/') : NULL;

    return slash ? (size_t)(slash - url) + 1 : 0;
}

/* -np: 0 when url is on a start URL's origin but under none of those start URLs' folders. */
static int scope_parent_ok(const crawl_scope_t *s, const char *url)
{
    size_t ol = scope_origin_len(url);
    int same_origin = 0;

    for (size_t i = 0; i < s->nparents; i++) {
        if (ol == 0 || strncmp(s->parents[i], url, ol) != 0 || scope_origin_len(s->parents[i]) != ol)
            continue;
        same_origin = 1;
        if (strncmp(url, s->parents[i], strlen(s->parents[i])) == 0)
            return 1;
    }
    return !same_origin;
}

/*
 * The host of a URL in normal form, found in place: "http[s]://[userinfo@]HOST[:port]/...". A
 * normal form's host is what parse_url_host returns for it (lowercase, punycode, brackets for
 * IPv6), so the crawl's hot path (every link found) asks no URL parser. Anything that does not
 * look normal (another scheme spelling, characters a normal host never has) returns NULL, and
 * the caller takes the parser's way.
 */
static const char *scope_normal_host(const char *url, size_t *len)
{
    const char *h, *e;

    if (!strncmp(url, "http://", 7))
        h = url + 7;
    else if (!strncmp(url, "https://", 8))
        h = url + 8;
    else
        return NULL;
    e = h + strcspn(h, "@/?#");
    if (*e == '@')
        h = e + 1;                   /* userinfo: '@' never appears raw in a normal host */
    if (*h == '[') {
        e = strchr(h, ']');
        if (!e)
            return NULL;
        e++;
    } else {
        for (e = h; (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') || *e == '-' || *e == '.'; e++)
            ;
    }
    if (e == h || (*e != ':' && *e != '/' && *e != '\0'))
        return NULL;
    *len = (size_t)(e - h);
    return h;
}

int crawl_scope_contains(const crawl_scope_t *s, const char *url)
{
    char *key;
    const char *host;
    size_t hlen;
    int inside = 0;

    if ((s->ndomains && !scope_domain_ok(s, url)) || (s->nparents && !scope_parent_ok(s, url)))
        return 0;
    if (s->kind == CRAWL_SCOPE_ANY)
        return 1;
    if (s->kind == CRAWL_SCOPE_PREFIX) {
        for (size_t i = 0; i < s->nkeys && !inside; i++)
            inside = strncmp(url, s->keys[i], strlen(s->keys[i])) == 0;
        return inside;
    }
    if (s->kind == CRAWL_SCOPE_HOST && (host = scope_normal_host(url, &hlen))) {
        for (size_t i = 0; i < s->nkeys && !inside; i++)
            inside = strlen(s->keys[i]) == hlen && strncasecmp(host, s->keys[i], hlen) == 0;
        return inside;
    }
    key = scope_key(s->kind, url);
    if (!key)
        return 0;
    for (size_t i = 0; i < s->nkeys && !inside; i++)
        inside = strcasecmp(key, s->keys[i]) == 0;
    free(key);
    return inside;
}
