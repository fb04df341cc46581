/* crawl_robots: fetch each host's robots.txt once, before its first other request (RFC 9309). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/crawl/crawl_job.h"
#include "net/http/bufsink.h"
#include "parse/robots.h"
#include "parse/url.h"

/* RFC 9309 section 2.3.1.2: follow at least five redirects. */
#define ROBOTS_REDIRECTS 5

struct robots_fetch {
    task_t task;
    crawl_job_t *job;
    crawl_host_t *host;
    http_req_t req;
    http_bufsink_t body;
    char *url;
};

/* RFC 9309 matches the product token: the User-Agent up to its first '/' or space. */
static char *robots_product_token(const crawl_job_t *job)
{
    const char *ua = job->opts->http.user_agent ? job->opts->http.user_agent : "gather";
    size_t n = strcspn(ua, "/ \t");

    return strndup(ua, n ? n : strlen(ua));
}

/* Decides the rules from the answer: 2xx parse, 4xx allow all, else (5xx, unreachable) disallow
 * all (RFC 9309 section 2.3.1.3 and 2.3.1.4). */
static parse_robots_t *robots_decide(struct robots_fetch *r, const char **why)
{
    long status = r->req.status;

    if (r->req.code == CURLE_OK && status >= 200 && status < 300) {
        char *token = robots_product_token(r->job);
        parse_robots_t *rules = NULL;

        *why = "parsed";
        if (token)
            rules = parse_robots_new(r->body.data ? r->body.data : "", r->body.len, token);
        free(token);
        return rules;
    }
    if (r->req.code == CURLE_OK && status >= 400 && status < 500 && status != 429) {
        *why = "unavailable (4xx): allow all";
        return parse_robots_allow_all();
    }
    *why = "unreachable or 5xx: disallow all";
    return parse_robots_disallow_all();
}

static void robots_step(task_t *t)
{
    struct robots_fetch *r = container_of(t, struct robots_fetch, task);
    crawl_host_t *h = r->host;
    const char *why = "";
    parse_robots_t *rules;
    long delay;

    CORO_BEGIN(t);
    r->req.url = r->url;
    r->req.sink = &r->body.sink;
    r->req.follow = ROBOTS_REDIRECTS;
    AWAIT(t, http_req_start(r->job->http, &r->req));
    if (task_error(t) < 0)
        r->req.code = CURLE_FAILED_INIT;
    if (r->job->rep.har && task_error(t) == 0)
        crawl_har_add(r->job->rep.har, r->job->rep.har_page, r->url, &r->req, NULL);
    rules = robots_decide(r, &why);
    if (!rules) {
        fprintf(stderr, "gather: out of memory for %s: treating the host as disallowed\n", r->url);
        rules = parse_robots_disallow_all();
    }
    h->robots = rules;
    delay = rules ? parse_robots_crawl_delay_ms(rules) : -1;
    if (delay > h->delay_ms)
        h->delay_ms = delay > r->job->opts->max_wait_ms ? r->job->opts->max_wait_ms : delay;
    if (r->job->opts->verbose) {
        r->job->rep.before_print(r->job->rep.before_print_arg);
        fprintf(stderr, "%s: %s (HTTP %ld)%s\n", r->url, why, r->req.status,
                delay >= 0 ? ", Crawl-delay applied" : "");
    }
    h->robots_state = 2;
    future_resolve(h->robots_ready, NULL);
    CORO_END(t);
}

static void robots_free(future_t *done, void *arg)
{
    struct robots_fetch *r = arg;

    (void)done;
    http_req_cleanup(&r->req);
    http_bufsink_free(&r->body);
    free(r->url);
    free(r);
}

/* scheme://authority/robots.txt for the URL's origin. */
static char *robots_url(const char *url)
{
    const char *auth = strstr(url, "://");
    const char *end = auth ? strchr(auth + 3, '/') : NULL;
    size_t len = end ? (size_t)(end - url) : strlen(url);
    char *out = malloc(len + sizeof("/robots.txt"));

    if (!out)
        return NULL;
    memcpy(out, url, len);
    memcpy(out + len, "/robots.txt", sizeof("/robots.txt"));
    return out;
}

/* Many pages wait on one robots_ready: cancelling one of them must not cancel it for all. */
static int robots_refuse_cancel(future_t *f, void *arg)
{
    (void)f;
    (void)arg;
    return -EBUSY;
}

void crawl_robots_start(crawl_job_t *job, crawl_host_t *h, const char *url)
{
    struct robots_fetch *r;

    if (h->robots_state != 0)
        return;
    h->robots_state = 1;
    h->robots_ready = future_new(&job->sched);
    if (h->robots_ready)
        future_set_cancel(h->robots_ready, robots_refuse_cancel, NULL);
    r = calloc(1, sizeof(*r));
    if (!h->robots_ready || !r || !(r->url = robots_url(url)) ||
        task_start(&r->task, &job->sched, robots_step) < 0) {
        /* Without memory to ask, be conservative: this host is off limits. */
        if (r)
            free(r->url);
        free(r);
        h->robots = parse_robots_disallow_all();
        h->robots_state = 2;
        if (h->robots_ready)
            future_resolve(h->robots_ready, NULL);
        return;
    }
    r->job = job;
    r->host = h;
    http_bufsink_init(&r->body, CRAWL_ROBOTS_MAX);
    future_on_done(task_done(&r->task), robots_free, r);
}

int crawl_robots_allows(crawl_job_t *job, crawl_host_t *h, const char *url)
{
    char *path = NULL;
    int allowed;

    if (!job->opts->robots || h->robots_state != 2)
        return 1;
    if (!h->robots)
        return 0;
    if (parse_url_path(url, &path) < 0)
        return 0;
    allowed = parse_robots_allowed(h->robots, path);
    free(path);
    return allowed;
}

void crawl_robots_free(crawl_host_t *h, void *arg)
{
    (void)arg;
    parse_robots_free(h->robots);
    h->robots = NULL;
    future_unref(h->robots_ready);
    h->robots_ready = NULL;
}
