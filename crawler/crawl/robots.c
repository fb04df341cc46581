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
    crawl_job_t *cj;
    crawl_site_t *site;
    http_req_t req;
    http_bufsink_t body;
    char *url;
};

/* RFC 9309 matches the product token: the User-Agent up to its first '/' or space. */
static char *robots_product_token(const crawl_job_t *cj)
{
    const crawl_options_t *o = cj->job.opts;
    const char *ua = o->http.user_agent ? o->http.user_agent : "gather";
    size_t n = strcspn(ua, "/ \t");

    return strndup(ua, n ? n : strlen(ua));
}

static const char robots_off_limits[] = "unreachable or 5xx: disallow all";

/* Decides the rules from the answer: 2xx parse, 4xx allow all, else (5xx, unreachable) disallow
 * all (RFC 9309 section 2.3.1.3 and 2.3.1.4); *why is robots_off_limits for the last. */
static parse_robots_t *robots_decide(struct robots_fetch *r, const char **why)
{
    long status = r->req.status;

    if (r->req.code == CURLE_OK && status >= 200 && status < 300) {
        char *token = robots_product_token(r->cj);
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
    *why = robots_off_limits;
    return parse_robots_disallow_all();
}

/* The rules are known (or the crawl stops): wake every page waiting for them. */
static void robots_settle(struct robots_fetch *r, parse_robots_t *rules)
{
    crawl_site_t *site = r->site;
    job_t *job = &r->cj->job;
    long delay = rules ? parse_robots_crawl_delay_ms(rules) : -1;

    site->robots = rules;
    if (delay > site->host.delay_ms)
        site->host.delay_ms = delay > job->opts->max_wait_ms ? job->opts->max_wait_ms : delay;
    site->robots_state = 2;
    future_resolve(site->robots_ready, NULL);
}

static void robots_step(task_t *t)
{
    struct robots_fetch *r = container_of(t, struct robots_fetch, task);
    job_t *job = &r->cj->job;
    const char *why = "";
    parse_robots_t *rules;

    CORO_BEGIN(t);
    r->req.url = r->url;
    r->req.sink = &r->body.sink;
    r->req.follow = ROBOTS_REDIRECTS;
    r->req.decode = 1;                    /* read in memory, capped: compression is welcome */
    AWAIT(t, http_req_start(job->http, &r->req));
    if (task_cancelled(t)) {
        /* An interrupt: nothing is known, and the pages waiting are cancelled too. */
        robots_settle(r, parse_robots_disallow_all());
        goto finish;
    }
    if (task_error(t) < 0)
        r->req.code = CURLE_FAILED_INIT;
    if (job->rep.har && task_error(t) == 0) {
        char ref[CRAWL_PAGEREF_SIZE];   /* the page of the first start URL on this origin */

        crawl_har_add(job->rep.har, crawl_job_pageref(r->cj, r->url, NULL, ref, NULL), r->url, &r->req, NULL);
    }
    rules = robots_decide(r, &why);
    if (!rules) {
        fprintf(stderr, "gather: out of memory for %s: treating the host as disallowed\n", r->url);
        rules = parse_robots_disallow_all();
    }
    robots_settle(r, rules);
    if (why == robots_off_limits) {
        char reason[512];
        /* Kept to say why a start URL on this host was not fetched (no memory: no detail). */
        r->site->robots_error = strdup(http_req_describe(&r->req, &job->opts->http, reason,
                                                         sizeof(reason)));
    }
    if (job->opts->verbose) {
        job_before_print(job);
        fprintf(stderr, "%s: %s (HTTP %ld)%s\n", r->url, why, r->req.status,
                rules && parse_robots_crawl_delay_ms(rules) >= 0 ? ", Crawl-delay applied" : "");
    }
finish:
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

/* Many pages wait on one robots_ready: cancelling one of them must not cancel it for all. */
static int robots_refuse_cancel(future_t *f, void *arg)
{
    (void)f;
    (void)arg;
    return -EBUSY;
}

void crawl_robots_start(crawl_job_t *cj, crawl_site_t *site, const char *url)
{
    struct robots_fetch *r;

    if (site->robots_state != 0)
        return;
    site->robots_state = 1;
    site->robots_ready = future_new(&cj->job.sched);
    if (site->robots_ready)
        future_set_cancel(site->robots_ready, robots_refuse_cancel, NULL);
    r = calloc(1, sizeof(*r));
    if (!site->robots_ready || !r || parse_url_origin(url, "/robots.txt", &r->url) < 0 ||
        job_spawn(&cj->job, &r->task, robots_step) < 0) {
        /* Without memory to ask (or a job that is stopping), be conservative: off limits. */
        if (r)
            free(r->url);
        free(r);
        site->robots = parse_robots_disallow_all();
        site->robots_state = 2;
        if (site->robots_ready)
            future_resolve(site->robots_ready, NULL);
        return;
    }
    r->cj = cj;
    r->site = site;
    http_bufsink_init(&r->body, CRAWL_ROBOTS_MAX);
    future_on_done(task_done(&r->task), robots_free, r);
}

int crawl_robots_allows(crawl_job_t *cj, crawl_site_t *site, const char *url)
{
    char *path = NULL;
    int allowed;

    if (!cj->job.opts->robots || site->robots_state != 2)
        return 1;
    if (!site->robots)
        return 0;
    if (parse_url_path(url, &path) < 0)
        return 0;
    allowed = parse_robots_allowed(site->robots, path);
    free(path);
    return allowed;
}

void crawl_robots_free(crawl_host_t *h)
{
    crawl_site_t *site = crawl_site_of(h);

    parse_robots_free(site->robots);
    site->robots = NULL;
    free(site->robots_error);
    site->robots_error = NULL;
    future_unref(site->robots_ready);
    site->robots_ready = NULL;
}
