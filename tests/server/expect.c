/* expect.c - /site-expected: what a correct crawl of the site must find, by BFS over site.c's data. */
#include "expect.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site.h"
#include "url.h"

/* The crawl this models, precisely:
 *
 * - Seeds are at depth 0: each `start` reference (default /site/) resolved against
 *   http://AUTHORITY/, plus, with sitemap=1, every URL of /sitemap-pages.xml.
 * - Breadth-first; a URL is enqueued once, the first time it is seen (so its depth is the
 *   shortest link distance). Only <a href> links are followed, and only from pages at a depth
 *   below max_depth. Links resolve against the page's <base href> if it has one, else the page's
 *   own URL; URLs are normalised by url_resolve() (no fragment, dot-segments removed, unreserved
 *   %XX decoded, scheme and host lower-case, query kept). Non-http(s) links (mailto:,
 *   javascript:, tel:, data:) are dropped.
 * - Host scope: a URL whose authority is not exactly AUTHORITY (127.0.0.1:PORT) is dropped; so
 *   http://localhost:PORT/site/offsite.html is never fetched.
 * - Robots: with obey (the default), a URL whose path starts with site_robots_disallow() is
 *   dropped and not fetched, so /site/private/secret.html and everything reachable only through
 *   it (private/inner, leak) are absent. robots=ignore drops nothing for robots.
 * - Redirects: /site/moved.html answers 301 to /site/target.html. The redirect source is counted
 *   at the depth it was reached at, and the page fetched is the target: the target URL is listed
 *   in "pages" with the source's depth (unless it was already seen), its links are resolved
 *   against the target URL and get that depth + 1. The source URL is not a page; it appears only
 *   in "redirects" ({"source": "target"}).
 * - A URL that maps to no page (404, e.g. /site/missing.html) is not a page; a crawl still requests
 *   it, so it is listed in "broken" ({"url": depth}).
 * - "pages": every page URL reached at depth <= max_depth, including d.html and d.html?x=1 as two
 *   URLs. "images": every <img src>, every <img srcset> candidate and every <source srcset>
 *   candidate of those pages, normalised the same way and deduplicated (any host).
 *   "assets": the stylesheet and script URLs of those pages. "depth_of": page URL -> depth.
 *   All arrays are sorted bytewise (strcmp). */

#define EXPECT_REDIRECT_HOPS 10

struct expect_node {
    char *url;
    int depth;
};

struct expect_run {
    const struct fixture *fx;
    const struct expect_query *q;
    const char *disallow;  /* robots prefix, or NULL */
    json_t *seen;          /* url -> true, for everything ever enqueued */
    json_t *depth_of;      /* page url -> depth */
    json_t *images;        /* url -> true */
    json_t *assets;        /* url -> true */
    json_t *redirects;     /* source url -> target url */
    json_t *broken;        /* in-scope url that answers 404 -> depth */
    json_t *seeds;         /* array of seed urls */
    struct expect_node *queue;
    size_t head, len, cap;
};

static int set_add(json_t *set, const char *url)
{
    return json_object_set_new(set, url, json_true());
}

/* Enqueue url at depth unless it was seen before. Returns 0, -1 when out of memory. */
static int expect_push(struct expect_run *run, const char *url, int depth)
{
    char *copy;

    if (json_object_get(run->seen, url) != NULL)
        return 0;
    if (set_add(run->seen, url) != 0)
        return -1;
    if (run->len == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 64;
        struct expect_node *q = realloc(run->queue, cap * sizeof(*q));

        if (q == NULL)
            return -1;
        run->queue = q;
        run->cap = cap;
    }
    copy = strdup(url);
    if (copy == NULL)
        return -1;
    run->queue[run->len].url = copy;
    run->queue[run->len].depth = depth;
    run->len++;
    return 0;
}

/* Resolve a template reference against base and add it to set; non-http refs are skipped. */
static int collect(struct expect_run *run, json_t *set, const char *base, const char *tmpl)
{
    char ref[URL_MAX], url[URL_MAX];

    if (site_expand(run->fx, tmpl, ref, sizeof(ref)) != 0)
        return -1;
    if (url_resolve(base, ref, url) != 0)
        return 0;
    return set_add(set, url);
}

/* Every candidate URL of a srcset ("url descriptor, url descriptor"); the fixture's srcsets
 * never put a comma inside a URL. */
static int collect_srcset(struct expect_run *run, const char *base, const char *tmpl)
{
    char set[URL_MAX];
    char *save = NULL;

    if (site_expand(run->fx, tmpl, set, sizeof(set)) != 0)
        return -1;
    for (char *cand = strtok_r(set, ",", &save); cand != NULL; cand = strtok_r(NULL, ",", &save)) {
        char url[URL_MAX];
        size_t n;

        cand += strspn(cand, " \t\n");
        n = strcspn(cand, " \t\n");
        cand[n] = '\0';
        if (n == 0 || url_resolve(base, cand, url) != 0)
            continue;
        if (set_add(run->images, url) != 0)
            return -1;
    }
    return 0;
}

/* Record a fetched page at url/depth: its images and assets, and its links one level deeper. */
static int expect_page(struct expect_run *run, const struct site_page *page, const char *url,
                       int depth)
{
    char base[URL_MAX];

    if (json_object_set_new(run->depth_of, url, json_integer(depth)) != 0)
        return -1;
    strcpy(base, url);
    if (page->base != NULL) {
        char ref[URL_MAX];

        if (site_expand(run->fx, page->base, ref, sizeof(ref)) != 0 ||
            url_resolve(url, ref, base) != 0)
            return -1;
    }
    for (const struct site_ref *ref = page->refs; ref->kind != SITE_REF_END; ref++) {
        int result = 0;

        switch (ref->kind) {
        case SITE_REF_A:
            if (run->q->max_depth == EXPECT_DEPTH_UNLIMITED || depth < run->q->max_depth) {
                char expanded[URL_MAX], link[URL_MAX];

                if (site_expand(run->fx, ref->href, expanded, sizeof(expanded)) != 0)
                    return -1;
                if (url_resolve(base, expanded, link) == 0)
                    result = expect_push(run, link, depth + 1);
            }
            break;
        case SITE_REF_IMG:
        case SITE_REF_PICTURE:
            result = collect(run, run->images, base, ref->href);
            if (result == 0 && ref->srcset != NULL)
                result = collect_srcset(run, base, ref->srcset);
            break;
        case SITE_REF_STYLESHEET:
        case SITE_REF_SCRIPT:
            result = collect(run, run->assets, base, ref->href);
            break;
        case SITE_REF_END:
            break;
        }
        if (result != 0)
            return -1;
    }
    return 0;
}

/* "Fetch" one URL: apply scope and robots, follow redirects, record the page. Returns 0 (also
 * for URLs that are dropped), -1 when out of memory. */
static int expect_visit(struct expect_run *run, const char *start_url, int depth)
{
    char url[URL_MAX], target[URL_MAX];
    const struct site_page *page;

    strcpy(url, start_url);
    for (int hop = 0; hop <= EXPECT_REDIRECT_HOPS; hop++) {
        const char *authority, *path;
        size_t authority_len, path_len;
        char page_path[URL_MAX];

        if (url_split(url, &authority, &authority_len, &path) != 0)
            return 0;
        if (authority_len != strlen(run->fx->authority) ||
            strncmp(authority, run->fx->authority, authority_len) != 0)
            return 0;
        if (run->disallow != NULL && strncmp(path, run->disallow, strlen(run->disallow)) == 0)
            return 0;
        path_len = strcspn(path, "?");
        memcpy(page_path, path, path_len);
        page_path[path_len] = '\0';
        page = site_page_find(page_path);
        if (page == NULL)
            return json_object_set_new(run->broken, url, json_integer(depth)) == 0 ? 0 : -1;
        if (page->redirect == NULL)
            return expect_page(run, page, url, depth);

        if (url_resolve(url, page->redirect, target) != 0)
            return 0;
        if (json_object_set_new(run->redirects, url, json_string(target)) != 0)
            return -1;
        if (json_object_get(run->seen, target) != NULL)
            return 0;
        if (set_add(run->seen, target) != 0)
            return -1;
        strcpy(url, target);
    }
    return 0;
}

static int strcmp_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object as a sorted JSON array (new reference), NULL when out of memory. */
static json_t *sorted_keys(json_t *obj)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = calloc(n + 1, sizeof(*keys));
    json_t *array = NULL;
    const char *key;
    json_t *value;

    if (keys == NULL)
        return NULL;
    json_object_foreach(obj, key, value) {
        (void)value;
        keys[i++] = key;
    }
    qsort(keys, n, sizeof(*keys), strcmp_ptr);
    array = json_array();
    if (array == NULL)
        goto cleanup;
    for (i = 0; i < n; i++)
        if (json_array_append_new(array, json_string(keys[i])) != 0) {
            json_decref(array);
            array = NULL;
            goto cleanup;
        }

cleanup:
    free(keys);
    return array;
}

static int expect_seed(struct expect_run *run, const char *ref)
{
    char root[URL_MAX], url[URL_MAX];

    if (snprintf(root, sizeof(root), "http://%s/", run->fx->authority) >= (int)sizeof(root))
        return -1;
    if (url_resolve(root, ref, url) != 0)
        return 0; /* a non-http seed is not crawled */
    if (json_array_append_new(run->seeds, json_string(url)) != 0)
        return -1;
    return expect_push(run, url, 0);
}

char *expect_json(const struct fixture *fx, const struct expect_query *q)
{
    struct expect_run run = { .fx = fx, .q = q };
    json_t *doc = NULL;
    char *text = NULL;

    run.disallow = q->obey_robots ? site_robots_disallow(fx) : NULL;
    run.seen = json_object();
    run.depth_of = json_object();
    run.images = json_object();
    run.assets = json_object();
    run.redirects = json_object();
    run.broken = json_object();
    run.seeds = json_array();
    if (run.seen == NULL || run.depth_of == NULL || run.images == NULL || run.assets == NULL ||
        run.redirects == NULL || run.broken == NULL || run.seeds == NULL)
        goto cleanup;

    if (q->nstarts == 0 && expect_seed(&run, "/site/") != 0)
        goto cleanup;
    for (size_t i = 0; i < q->nstarts; i++)
        if (expect_seed(&run, q->starts[i]) != 0)
            goto cleanup;
    if (q->sitemap)
        for (const char *const *p = site_sitemap_paths; *p != NULL; p++)
            if (expect_seed(&run, *p) != 0)
                goto cleanup;

    while (run.head < run.len) {
        struct expect_node *node = &run.queue[run.head++];

        if (expect_visit(&run, node->url, node->depth) != 0)
            goto cleanup;
    }

    doc = json_pack("{s:o*, s:o*, s:o*, s:O, s:O, s:O, s:O, s:o, s:s}",
                    "pages", sorted_keys(run.depth_of),
                    "images", sorted_keys(run.images),
                    "assets", sorted_keys(run.assets),
                    "depth_of", run.depth_of,
                    "redirects", run.redirects,
                    "broken", run.broken,
                    "seeds", run.seeds,
                    "max_depth", q->max_depth == EXPECT_DEPTH_UNLIMITED
                                     ? json_null() : json_integer(q->max_depth),
                    "robots", q->obey_robots ? "obey" : "ignore");
    if (doc == NULL)
        goto cleanup;
    if (json_object_size(doc) != 9)
        goto cleanup; /* a sorted_keys() that ran out of memory left its key out */
    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);

cleanup:
    json_decref(doc);
    json_decref(run.seen);
    json_decref(run.depth_of);
    json_decref(run.images);
    json_decref(run.assets);
    json_decref(run.redirects);
    json_decref(run.broken);
    json_decref(run.seeds);
    for (size_t i = 0; i < run.len; i++)
        free(run.queue[i].url);
    free(run.queue);
    return text;
}
