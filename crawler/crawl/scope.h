/* crawl_scope: which URLs a crawl may follow (host, registrable domain, path prefix, any). */
#ifndef CRAWLER_SCOPE_H
#define CRAWLER_SCOPE_H

#include <stddef.h>

typedef enum { CRAWL_SCOPE_HOST, CRAWL_SCOPE_DOMAIN, CRAWL_SCOPE_PREFIX, CRAWL_SCOPE_ANY } crawl_scope_kind_t;

typedef struct crawl_scope {
    crawl_scope_kind_t kind;
    char **keys;              /* per start URL: its host, registrable domain or path prefix */
    size_t nkeys;
    char **parents;           /* -np: per start URL, its folder (scheme://host/dir/) */
    size_t nparents;
    char **domains;           /* -D: lowercased domains a host must be or be under */
    size_t ndomains;
} crawl_scope_t;

int crawl_scope_parse_kind(const char *name, crawl_scope_kind_t *out);

/* Builds the scope from the (normalised) start URLs. Returns 0 or a negative errno. */
int crawl_scope_init(crawl_scope_t *s, crawl_scope_kind_t kind, char *const *starts, size_t n);
void crawl_scope_free(crawl_scope_t *s);

/* wget's -np: a URL on the scheme://host:port/ of a start URL must also be under that start URL's
 * folder (under one of them, with several); URLs on other hosts are left to the kind. 0 or
 * -ENOMEM / -EINVAL. */
int crawl_scope_no_parent(crawl_scope_t *s, char *const *starts, size_t n);

/* wget's -D LIST: a comma-separated list of domains; every URL's host must equal one of them or
 * end with "." and one of them ("example.com" takes "www.example.com", not "badexample.com"),
 * whatever the kind. 0 or -ENOMEM / -EINVAL (a list that names nothing). */
int crawl_scope_domains(crawl_scope_t *s, const char *list);

/* 1 if url (normalised) is inside the scope (its kind, -np and -D), else 0. */
int crawl_scope_contains(const crawl_scope_t *s, const char *url);

/* The registrable domain of host per the Public Suffix List (libpsl), malloc'd; for an IP
 * address or a host with no registrable part, a copy of host. NULL on ENOMEM. */
char *crawl_scope_domain(const char *host);

#endif
