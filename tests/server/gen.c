/* gen.c - the generated site: page N of T links to its GEN_BRANCH children GEN_BRANCH*N+1 ..
 * GEN_BRANCH*N+GEN_BRANCH (those below T), so a BFS from page 0 meets every page, level d holding
 * pages (B^d - 1)/(B - 1) .. (B^(d+1) - 1)/(B - 1) - 1 in increasing order; with B = 8, T = 1,000,000
 * ends at depth 7. Each page also links to pages a crawler has already seen (its parent, page 0,
 * page N/2) and to its next sibling N+1 (often not yet seen), so the crawler's seen set, not the
 * graph's shape, is what keeps the crawl from refetching. Pages are about 500 bytes. */
#include "gen.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

#define GEN_PAGE_MAX 4096

/* "T/N.html" -> T, N; 0 if the path is anything else (no leading zeros, no sign). */
static int gen_parse(const char *rest, uint64_t *total, uint64_t *n)
{
    char *end;

    if (rest[0] < '1' || rest[0] > '9')
        return 0;
    *total = strtoull(rest, &end, 10);
    if (*end != '/' || *total > GEN_PAGES_MAX)
        return 0;
    rest = end + 1;
    if (rest[0] < '0' || rest[0] > '9' || (rest[0] == '0' && rest[1] != '.'))
        return 0;
    *n = strtoull(rest, &end, 10);
    return strcmp(end, ".html") == 0 && *n < *total;
}

void gen_answer(const char *path, struct reply *r)
{
    uint64_t total, n;
    struct sbuf b;
    size_t len = 0;

    if (strncmp(path, "/gen/", 5) != 0 || !gen_parse(path + 5, &total, &n)) {
        reply_text(r, 404, "no such generated page\n");
        return;
    }
    sbuf_init(&b, GEN_PAGE_MAX);
    sbuf_printf(&b, "<!DOCTYPE html>\n<html><head><title>page %" PRIu64 " of %" PRIu64
                    "</title></head>\n<body><h1>Page %" PRIu64 "</h1>\n<ul>\n",
                n, total, n);
    for (uint64_t c = GEN_BRANCH * n + 1; c <= GEN_BRANCH * n + GEN_BRANCH && c < total; c++)
        sbuf_printf(&b, "<li><a href=\"%" PRIu64 ".html\">child %" PRIu64 "</a></li>\n", c, c);
    sbuf_adds(&b, "</ul>\n<p>");
    if (n > 0)
        sbuf_printf(&b, "<a href=\"%" PRIu64 ".html\">up</a> ", (n - 1) / GEN_BRANCH);
    sbuf_printf(&b, "<a href=\"/gen/%" PRIu64 "/0.html\">home</a> <a href=\"%" PRIu64
                    ".html\">half</a>",
                total, n / 2);
    if (n + 1 < total)
        sbuf_printf(&b, " <a href=\"%" PRIu64 ".html\">next</a>", n + 1);
    sbuf_adds(&b, "</p>\n</body></html>\n");
    {
        char *html = sbuf_take(&b, &len);
        reply_buf(r, 200, "text/html; charset=utf-8", html, len);
    }
}
