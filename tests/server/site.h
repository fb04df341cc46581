/* site.h - the crawlable site under /site/: its link graph as data, and the pages made from it. */
#ifndef FIXTURE_SITE_H
#define FIXTURE_SITE_H

#include <stddef.h>

#include "fixture.h"
#include "reply.h"

enum site_ref_kind {
    SITE_REF_END,        /* terminates a page's refs */
    SITE_REF_A,          /* <a href> */
    SITE_REF_IMG,        /* <img src [srcset]> */
    SITE_REF_PICTURE,    /* <picture><source srcset><img src></picture> */
    SITE_REF_STYLESHEET, /* <link rel=stylesheet href> */
    SITE_REF_SCRIPT      /* <script src> */
};

/* One reference as written in the page. In href and srcset, {O} stands for http://AUTHORITY,
 * {U} for HTTP://AUTHORITY (upper-case scheme) and {X} for http://OFFSITE (see struct fixture);
 * everything else is written verbatim (HTML-escaped). */
struct site_ref {
    enum site_ref_kind kind;
    const char *href;   /* a/link/script href, img src */
    const char *srcset; /* img srcset or picture source srcset, may be NULL */
    const char *label;  /* link text */
};

struct site_page {
    const char *path;     /* normalised absolute path; NULL ends site_pages */
    const char *title;
    const char *base;     /* <base href>, or NULL */
    const char *redirect; /* when set, the path answers 301 to this reference and has no page */
    const struct site_ref *refs;
};

/* Every page of the site, ended by an entry with a NULL path. */
extern const struct site_page site_pages[];
/* The pages listed by /sitemap-pages.xml (absolute paths), ended by NULL. */
extern const char *const site_sitemap_paths[];

/* The page or redirect at a normalised path (no query), or NULL. */
const struct site_page *site_page_find(const char *path);

/* Expand the placeholders of an href or srcset template into out. Returns 0, or -1 if it does
 * not fit. */
int site_expand(const struct fixture *fx, const char *tmpl, char *out, size_t cap);

/* The path prefix a crawler obeying RFC 9309 must not fetch under fx->robots: "/site/private/"
 * in allow mode, "/" in disallow mode and for 500 (an unreachable robots.txt means complete
 * disallow, RFC 9309 §2.3.1.4), NULL for 404 (no robots.txt, no restriction). */
const char *site_robots_disallow(const struct fixture *fx);

/* Answer a request for `path` (percent-decoded, no query) under /site/. Always fills r (404 for
 * unknown paths; 500 when out of memory). */
void site_answer(const struct fixture *fx, const char *path, struct reply *r);
void site_answer_robots(const struct fixture *fx, struct reply *r);
void site_answer_sitemap_index(const struct fixture *fx, struct reply *r);
void site_answer_sitemap_pages(const struct fixture *fx, struct reply *r);

#endif
