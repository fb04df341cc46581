/* site.c - the crawlable site under /site/: its link graph as data, and the pages made from it. */
#include "site.h"

#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "url.h"

#define SITE_PAGE_MAX (256 * 1024)

/* ---------------------------------------------------------------------------------------------
 * The link graph. This table is the only description of the site: site_answer() renders pages
 * from it and expect.c walks it, so the served pages and /site-expected cannot disagree.
 *
 * BFS depths from /site/ (robots allow mode), for orientation only (expect.c computes them):
 *   0  /site/
 *   1  a b c d.html?x=1 target(via moved.html)
 *   2  e d f g h base gallery t2
 *   3  i j k deep3 sub/n sub/o
 *   4  l m deep4 sub/p
 *   5  deep5          6  deep6
 *   never (host-scoped, robots-obeying, from /site/): orphan orphan-child (sitemap only),
 *   offsite offsite-child (other host string), private/secret private/inner leak (robots),
 *   missing.html (404).
 * ------------------------------------------------------------------------------------------- */

#define A(href, label)          { SITE_REF_A, href, NULL, label }
#define IMG(src)                { SITE_REF_IMG, src, NULL, NULL }
#define IMGSET(src, set)        { SITE_REF_IMG, src, set, NULL }
#define PICTURE(src, set)       { SITE_REF_PICTURE, src, set, NULL }
#define STYLESHEET(href)        { SITE_REF_STYLESHEET, href, NULL, NULL }
#define SCRIPT(src)             { SITE_REF_SCRIPT, src, NULL, NULL }
#define REFS(...)               ((const struct site_ref[]){ __VA_ARGS__, { SITE_REF_END } })
#define PAGE(path, title, ...)  { path, title, NULL, NULL, REFS(__VA_ARGS__) }

const struct site_page site_pages[] = {
    PAGE("/site/", "Index",
         STYLESHEET("/site/style.css"),
         A("a.html", "relative link"),
         A("/site/b.html", "absolute-path link"),
         A("{O}/site/c.html", "absolute URL on this host"),
         A("./d.html?x=1", "dot segment and a query"),
         A("#top", "fragment only"),
         A("/site/moved.html", "moved permanently"),
         A("/site/private/secret.html", "disallowed by robots.txt"),
         A("{X}/site/offsite.html", "the same server under another host name"),
         A("mailto:webmaster@example.invalid", "mail"),
         A("javascript:void(0)", "script"),
         IMG("/img/1.jpg"),
         IMGSET("/img/2.jpg", "/img/2.jpg 480w, /img/3.jpg?size=40000 1024w"),
         SCRIPT("/site/app.js")),
    PAGE("/site/a.html", "A",
         A("b.html", "b again"),
         A("d.html?x=1#frag", "the query page with a fragment"),
         A("a.html#self", "itself with a fragment"),
         A("../site/e.html", "up and back down"),
         A("tel:+15550100", "phone"),
         IMG("/img/4.jpg"),
         PICTURE("/img/7.jpg", "/img/5.jpg?size=30000 1x, /img/6.jpg 2x")),
    PAGE("/site/b.html", "B",
         A("d.html?x=1", "the query page again"),
         A("d.html", "the same page without the query"),
         A("/site/%66.html", "percent-encoded f.html"),
         A("{U}/site/g.html", "upper-case scheme"),
         A("data:text/plain;base64,aGVsbG8=", "data URL"),
         IMG("/img/8.jpg")),
    PAGE("/site/c.html", "C",
         A("{O}/site/h.html", "absolute URL"),
         A("base.html", "a page with a base element"),
         A("/site/c.html#bottom", "itself with a fragment"),
         A("{O}/site/./d.html?x=1", "absolute URL with a dot segment"),
         IMG("/img/9.jpg")),
    PAGE("/site/d.html", "D",
         A("gallery.html", "gallery"),
         A("./", "index through ./"),
         IMG("/img/10.jpg")),
    { "/site/moved.html", "Moved", NULL, "/site/target.html", NULL },
    PAGE("/site/target.html", "Redirect target",
         A("t2.html", "relative to the redirect target"),
         IMG("/img/11.jpg")),
    PAGE("/site/e.html", "E",
         A("i.html", "i"),
         A("../site/./e.html", "itself through dot segments"),
         IMG("/img/12.jpg")),
    PAGE("/site/f.html", "F",
         A("j.html", "j"),
         IMG("/img/13.jpg")),
    PAGE("/site/g.html", "G",
         A("deep3.html", "the only way to deep3"),
         IMG("/img/14.jpg")),
    PAGE("/site/h.html", "H",
         A("k.html", "k"),
         A("{O}/site/h.html#again", "itself as an absolute URL with a fragment")),
    { "/site/base.html", "Base", "/site/sub/", NULL,
      REFS(A("n.html", "sub/n through the base"),
           A("o.html", "sub/o through the base"),
           A("../a.html", "a through the base"),
           IMG("../../img/15.jpg")) },
    PAGE("/site/gallery.html", "Gallery",
         IMGSET("/img/16.jpg", "/img/16.jpg?size=5000 320w, /img/17.jpg?size=10000 640w, /img/18.jpg 1280w"),
         IMG("/img/19.jpg?size=1000"),
         PICTURE("/img/20.jpg", "/img/21.jpg 1x, /img/22.jpg?size=60000 2x"),
         IMG("/img/1.jpg")),
    PAGE("/site/t2.html", "After the redirect",
         A("/site/", "home"),
         IMG("/img/23.jpg")),
    PAGE("/site/i.html", "I",
         A("l.html", "l"),
         IMG("/img/24.jpg")),
    PAGE("/site/j.html", "J",
         A("m.html", "m"),
         A("/site/j.html#x", "itself with a fragment")),
    PAGE("/site/k.html", "K",
         A("/site/missing.html", "a broken link (404)")),
    PAGE("/site/sub/n.html", "Sub N",
         A("p.html", "sub/p"),
         IMG("/img/25.jpg")),
    PAGE("/site/sub/o.html", "Sub O",
         A("../", "home through ../")),
    PAGE("/site/deep3.html", "Deep 3",
         A("deep4.html", "the only way to deep4"),
         IMG("/img/26.jpg")),
    PAGE("/site/deep4.html", "Deep 4",
         A("deep5.html", "deep5"),
         IMG("/img/27.jpg")),
    PAGE("/site/deep5.html", "Deep 5",
         A("deep6.html", "deep6"),
         IMG("/img/28.jpg")),
    PAGE("/site/deep6.html", "Deep 6",
         A("/site/", "home")),
    PAGE("/site/l.html", "L",
         A("/site/a.html", "a")),
    PAGE("/site/m.html", "M",
         IMG("/img/29.jpg")),
    PAGE("/site/sub/p.html", "Sub P",
         A("../../site/sub/n.html", "sub/n again")),
    PAGE("/site/orphan.html", "Orphan (listed only in the sitemap)",
         A("orphan-child.html", "orphan child"),
         A("a.html", "a"),
         IMG("/img/30.jpg")),
    PAGE("/site/orphan-child.html", "Orphan child",
         A("/site/", "home")),
    PAGE("/site/offsite.html", "Off-site",
         A("offsite-child.html", "only reachable off-site"),
         IMG("/img/31.jpg")),
    PAGE("/site/offsite-child.html", "Off-site child",
         A("/site/", "home")),
    PAGE("/site/private/secret.html", "Secret",
         A("inner.html", "inner"),
         A("/site/leak.html", "only reachable through the private page"),
         IMG("/img/32.jpg")),
    PAGE("/site/private/inner.html", "Inner",
         A("/site/", "home")),
    PAGE("/site/leak.html", "Leak",
         IMG("/img/33.jpg")),
    { NULL, NULL, NULL, NULL, NULL }
};

const char *const site_sitemap_paths[] = {
    "/site/",
    "/site/a.html",
    "/site/orphan.html",
    NULL
};

struct site_asset {
    const char *path;
    const char *content_type;
    const char *body;
};

static const struct site_asset site_assets[] = {
    { "/site/style.css", "text/css; charset=utf-8",
      "body { font-family: sans-serif; margin: 2em; }\nimg { max-width: 100%; }\n" },
    { "/site/app.js", "application/javascript; charset=utf-8",
      "document.documentElement.dataset.fixture = \"gather\";\n" },
    { NULL, NULL, NULL }
};

/* ------------------------------------------------------------------------------------------- */

const struct site_page *site_page_find(const char *path)
{
    for (const struct site_page *p = site_pages; p->path != NULL; p++)
        if (strcmp(p->path, path) == 0)
            return p;
    return NULL;
}

int site_expand(const struct fixture *fx, const char *tmpl, char *out, size_t cap)
{
    struct sbuf b;
    char *text;
    size_t len;

    sbuf_init(&b, cap - 1);
    for (const char *p = tmpl; *p != '\0'; p++) {
        if (strncmp(p, "{O}", 3) == 0) {
            sbuf_printf(&b, "http://%s", fx->authority);
            p += 2;
        } else if (strncmp(p, "{U}", 3) == 0) {
            sbuf_printf(&b, "HTTP://%s", fx->authority);
            p += 2;
        } else if (strncmp(p, "{X}", 3) == 0) {
            sbuf_printf(&b, "http://%s", fx->offsite);
            p += 2;
        } else {
            sbuf_add(&b, p, 1);
        }
    }
    text = sbuf_take(&b, &len);
    if (text == NULL)
        return -1;
    memcpy(out, text, len + 1);
    free(text);
    return 0;
}

const char *site_robots_disallow(const struct fixture *fx)
{
    switch (fx->robots) {
    case FIXTURE_ROBOTS_ALLOW:
        return "/site/private/";
    case FIXTURE_ROBOTS_DISALLOW:
    case FIXTURE_ROBOTS_500:
        return "/";
    case FIXTURE_ROBOTS_404:
        break;
    }
    return NULL;
}

/* Append an attribute whose value is a template: expanded, then HTML-escaped. */
static void render_attr(struct sbuf *b, const struct fixture *fx, const char *name,
                        const char *tmpl)
{
    char value[URL_MAX];

    if (site_expand(fx, tmpl, value, sizeof(value)) != 0) {
        b->failed = true; /* reported by sbuf_take() */
        return;
    }
    sbuf_printf(b, " %s=\"", name);
    sbuf_add_html(b, value);
    sbuf_adds(b, "\"");
}

static void render_ref(struct sbuf *b, const struct fixture *fx, const struct site_ref *ref)
{
    switch (ref->kind) {
    case SITE_REF_A:
        sbuf_adds(b, "<p><a");
        render_attr(b, fx, "href", ref->href);
        sbuf_adds(b, ">");
        sbuf_add_html(b, ref->label != NULL ? ref->label : ref->href);
        sbuf_adds(b, "</a></p>\n");
        break;
    case SITE_REF_IMG:
        sbuf_adds(b, "<p><img");
        render_attr(b, fx, "src", ref->href);
        if (ref->srcset != NULL) {
            render_attr(b, fx, "srcset", ref->srcset);
            sbuf_adds(b, " sizes=\"(max-width: 600px) 480px, 1024px\"");
        }
        sbuf_adds(b, " alt=\"\"></p>\n");
        break;
    case SITE_REF_PICTURE:
        sbuf_adds(b, "<p><picture><source");
        render_attr(b, fx, "srcset", ref->srcset);
        sbuf_adds(b, " type=\"image/jpeg\"><img");
        render_attr(b, fx, "src", ref->href);
        sbuf_adds(b, " alt=\"\"></picture></p>\n");
        break;
    case SITE_REF_STYLESHEET:
        sbuf_adds(b, "<link rel=\"stylesheet\"");
        render_attr(b, fx, "href", ref->href);
        sbuf_adds(b, ">\n");
        break;
    case SITE_REF_SCRIPT:
        sbuf_adds(b, "<script");
        render_attr(b, fx, "src", ref->href);
        sbuf_adds(b, "></script>\n");
        break;
    case SITE_REF_END:
        break;
    }
}

/* Render a page; stylesheets go in the head, every other reference in the body in table order. */
static char *render_page(const struct fixture *fx, const struct site_page *page, size_t *len)
{
    struct sbuf b;

    sbuf_init(&b, SITE_PAGE_MAX);
    sbuf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    sbuf_adds(&b, "<title>");
    sbuf_add_html(&b, page->title);
    sbuf_adds(&b, "</title>\n");
    if (page->base != NULL) {
        sbuf_adds(&b, "<base");
        render_attr(&b, fx, "href", page->base);
        sbuf_adds(&b, ">\n");
    }
    for (const struct site_ref *ref = page->refs; ref->kind != SITE_REF_END; ref++)
        if (ref->kind == SITE_REF_STYLESHEET)
            render_ref(&b, fx, ref);
    sbuf_adds(&b, "</head>\n<body>\n<h1 id=\"top\">");
    sbuf_add_html(&b, page->title);
    sbuf_adds(&b, "</h1>\n");
    for (const struct site_ref *ref = page->refs; ref->kind != SITE_REF_END; ref++)
        if (ref->kind != SITE_REF_STYLESHEET)
            render_ref(&b, fx, ref);
    sbuf_adds(&b, "<p id=\"bottom\">gather fixture site</p>\n</body>\n</html>\n");
    return sbuf_take(&b, len);
}

void site_answer(const struct fixture *fx, const char *path, struct reply *r)
{
    const struct site_page *page;
    size_t len = 0;
    char *html;

    for (const struct site_asset *a = site_assets; a->path != NULL; a++)
        if (strcmp(a->path, path) == 0) {
            reply_buf(r, 200, a->content_type, strdup(a->body), strlen(a->body));
            return;
        }
    page = site_page_find(path);
    if (page == NULL) {
        reply_text(r, 404, "no such page\n");
        return;
    }
    if (page->redirect != NULL) {
        reply_text(r, 301, "moved to %s\n", page->redirect);
        reply_header(r, "Location", "%s", page->redirect);
        return;
    }
    html = render_page(fx, page, &len);
    reply_buf(r, 200, "text/html; charset=utf-8", html, len);
}

void site_answer_robots(const struct fixture *fx, struct reply *r)
{
    switch (fx->robots) {
    case FIXTURE_ROBOTS_ALLOW:
        reply_text(r, 200,
                         "# gather fixture server\n"
                         "User-agent: *\n"
                         "Disallow: %s\n"
                         "\n"
                         "Sitemap: http://%s/sitemap.xml\n",
                         site_robots_disallow(fx), fx->authority);
        break;
    case FIXTURE_ROBOTS_DISALLOW:
        reply_text(r, 200, "User-agent: *\nDisallow: %s\n", site_robots_disallow(fx));
        break;
    case FIXTURE_ROBOTS_404:
        reply_text(r, 404, "no robots.txt\n");
        break;
    case FIXTURE_ROBOTS_500:
        reply_text(r, 500, "robots.txt is broken\n");
        break;
    }
}

void site_answer_sitemap_index(const struct fixture *fx, struct reply *r)
{
    struct sbuf b;
    size_t len = 0;
    char *xml;

    sbuf_init(&b, SITE_PAGE_MAX);
    sbuf_printf(&b,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
                "  <sitemap><loc>http://%s/sitemap-pages.xml</loc>"
                "<lastmod>2026-01-01</lastmod></sitemap>\n"
                "</sitemapindex>\n",
                fx->authority);
    xml = sbuf_take(&b, &len);
    reply_buf(r, 200, "application/xml; charset=utf-8", xml, len);
}

void site_answer_sitemap_pages(const struct fixture *fx, struct reply *r)
{
    struct sbuf b;
    size_t len = 0;
    char *xml;

    sbuf_init(&b, SITE_PAGE_MAX);
    sbuf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (const char *const *p = site_sitemap_paths; *p != NULL; p++)
        sbuf_printf(&b, "  <url><loc>http://%s%s</loc><lastmod>2026-01-01</lastmod></url>\n",
                    fx->authority, *p);
    sbuf_adds(&b, "</urlset>\n");
    xml = sbuf_take(&b, &len);
    reply_buf(r, 200, "application/xml; charset=utf-8", xml, len);
}
