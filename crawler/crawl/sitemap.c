/* crawl_sitemap: seed the crawl from /sitemap.xml of every start origin (and the sitemap files
 * it indexes), as depth-0 pages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/crawl/crawl_job.h"
#include "net/http/bufsink.h"
#include "parse/parse.h"
#include "parse/sitemap.h"
#include "parse/url.h"

#define SITEMAP_MAX_FILES 50
#define SITEMAP_MAX_BYTES (50 * 1024 * 1024)     /* the sitemaps protocol's own cap */

struct sitemap_fetch {
    task_t task;
    crawl_job_t *cj;
    char *queue[SITEMAP_MAX_FILES];
    size_t n, i;
    http_req_t req;
    http_bufsink_t body;
};

static void sitemap_on_entry(void *arg, const char *url, int is_index)
{
    struct sitemap_fetch *s = arg;

    if (is_index) {
        if (s->n < SITEMAP_MAX_FILES && (s->queue[s->n] = strdup(url)))
            s->n++;
        return;
    }
    if (crawl_job_offer(s->cj, url, 0, CRAWL_KIND_PAGE, 0, NULL) == 1)
        s->cj->sitemap_urls++;
}

/* One sitemap file: parse it, or say why it could not be read. */
static void sitemap_read(struct sitemap_fetch *s, int error)
{
    crawl_options_t *o = s->cj->job.opts;
    char why[256], shown[PARSE_URL_REDACT_SIZE];
    const char *url = parse_url_redact(s->req.url, shown, sizeof(shown));
    int result;

    if (error == 0 && http_req_ok(&s->req)) {
        result = parse_sitemap(s->body.data ? s->body.data : "", s->body.len, s->req.url,
                               sitemap_on_entry, s);
        if (result < 0)
            fprintf(stderr, "%s: sitemap not read: %s\n", url, parse_strerror(result));
    } else if (error != -ECANCELED && (o->verbose || error < 0 || s->req.status != 404)) {
        fprintf(stderr, "%s: sitemap not fetched: %s\n", url,
                http_req_describe(&s->req, &o->http, why, sizeof(why)));
    }
}

static void sitemap_step(task_t *t)
{
    struct sitemap_fetch *s = container_of(t, struct sitemap_fetch, task);

    CORO_BEGIN(t);
    for (s->i = 0; s->i < s->n && !task_cancelled(t); s->i++) {
        memset(&s->req, 0, sizeof(s->req));
        http_bufsink_init(&s->body, SITEMAP_MAX_BYTES);
        s->req.url = s->queue[s->i];
        s->req.sink = &s->body.sink;
        s->req.follow = 5;
        s->req.decode = 1;                /* read in memory, capped: compression is welcome */
        AWAIT(t, http_req_start(s->cj->job.http, &s->req));
        if (s->req.code == CURLE_ABORTED_BY_CALLBACK && task_cancelled(t))
            sitemap_read(s, -ECANCELED);
        else
            sitemap_read(s, task_error(t));
        http_req_cleanup(&s->req);
        http_bufsink_free(&s->body);
    }
    CORO_END(t);
}

static void sitemap_free(future_t *done, void *arg)
{
    struct sitemap_fetch *s = arg;

    (void)done;
    for (size_t i = 0; i < s->n; i++)
        free(s->queue[i]);
    free(s);
}

future_t *crawl_sitemap_start(crawl_job_t *cj)
{
    struct sitemap_fetch *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->cj = cj;
    for (size_t i = 0; i < cj->nstarts && s->n < SITEMAP_MAX_FILES; i++) {
        char *url = NULL;
        int dup = 0;

        if (parse_url_origin(cj->starts[i], "/sitemap.xml", &url) < 0)
            continue;
        for (size_t k = 0; k < s->n && !dup; k++)
            dup = !strcmp(s->queue[k], url);
        if (dup)
            free(url);
        else
            s->queue[s->n++] = url;
    }
    if (job_spawn(&cj->job, &s->task, sitemap_step) < 0) {
        sitemap_free(NULL, s);
        return NULL;
    }
    future_on_done(task_done(&s->task), sitemap_free, s);
    return future_ref(task_done(&s->task));
}
