/* expect.h - /site-expected: what a correct crawl of the site must find, by BFS over site.c's data. */
#ifndef FIXTURE_EXPECT_H
#define FIXTURE_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

#include "fixture.h"

#define EXPECT_STARTS_MAX 16
#define EXPECT_DEPTH_UNLIMITED (-1)

struct expect_query {
    int max_depth;                           /* EXPECT_DEPTH_UNLIMITED or >= 0 */
    const char *starts[EXPECT_STARTS_MAX];   /* seed references, resolved against http://AUTH/ */
    size_t nstarts;                          /* 0 means the single seed /site/ */
    bool sitemap;                            /* also seed every /sitemap-pages.xml entry */
    bool obey_robots;                        /* apply site_robots_disallow() */
};

/* Run the crawl over the link graph and return the JSON document (caller frees), or NULL when
 * out of memory:
 *   {"pages": [...], "images": [...], "assets": [...], "depth_of": {url: depth},
 *    "redirects": {from: to}, "max_depth": D or null, "robots": "obey"|"ignore", "seeds": [...]}
 * See expect.c for the exact rules. */
char *expect_json(const struct fixture *fx, const struct expect_query *q);

#endif
