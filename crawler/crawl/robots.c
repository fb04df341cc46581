/* crawl_robots: fetch each origin's robots.txt before its first other request, and again when
 * the copy is a day old (RFC 9309). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crawler/crawl/crawl_job.h"
#include "net/async/sleep.h"
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
    /* a shared job: the copy the job holds, or the lock on fetching it for the job */
    rjob_robots_t got;
    char *origin;
    long waited_ms;
};

/* A shared job reads robots.txt once per origin for every worker: the first worker to need it
 * takes the job's lock and stores what it got; the others wait for that copy (for a lease at
 * most, then fetch it themselves). */
#define ROBOTS_SHARED_POLL_MS 100

/* The product token robots.txt groups are matched against (RFC 9309 2.2.1): --robots-agent,
 * else the User-Agent's first word ("gather" of "gather/0.1"); the parser keeps its leading
 * letters, '-' and '_'. Borrowed from the options. */
static const char *robots_product_token(const crawl_job_t *cj)
{
    const crawl_options_t *o = cj->job.opts;

    if (o->robots_agent)
        return o->robots_agent;
    return o->http.user_agent ? o->http.user_agent : "gather";
}

/*
 * How long a robots.txt is used before it is fetched again: RFC 9309 2.4 says no more than
 * 24 hours. GATHER_ROBOTS_TTL_MS overrides it, a knob for the tests only (a crawl that lasts a
 * day cannot be a test); it is read here and nowhere else, and not documented for users.
 */
#define ROBOTS_TTL_MS (24ULL * 3600 * 1000)

static uint64_t robots_ttl_ms(void)
{
    const char *v = getenv("GATHER_ROBOTS_TTL_MS");
    char *end;
    unsigned long long ms;

    if (!v || !*v)
        return ROBOTS_TTL_MS;
    ms = strtoull(v, &end, 10);
    return *end == '\0' && ms > 0 ? (uint64_t)ms : ROBOTS_TTL_MS;
}

static const char robots_off_limits[] = "unreachable or 5xx: disallow all";

/* Decides the rules from the answer: 2xx parse, 4xx allow all, else (5xx, unreachable) disallow
 * all (RFC 9309 section 2.3.1.3 and 2.3.1.4); *why is robots_off_limits for the last. */
static parse_robots_t *robots_decide(struct robots_fetch *r, const char **why)
{
    long status = r->req.status;

    if (r->req.code == CURLE_OK && status >= 200 && status < 300) {
        *why = "parsed";
        return parse_robots_new(r->body.data ? r->body.data : "", r->body.len,
                                robots_product_token(r->cj));
    }
    if (r->req.code == CURLE_OK && status >= 400 && status < 500 && status != 429) {
        *why = "unavailable (4xx): allow all";
        return parse_robots_allow_all();
    }
    *why = robots_off_limits;
    return parse_robots_disallow_all();
}

/*
 * The rules are known (or the crawl stops): wake every page waiting for them. On a re-fetch
 * (site->robots still holds the old rules) an unreachable robots.txt keeps the old copy, as
 * RFC 9309 2.4 allows ("unless the robots.txt file is unreachable"); `unreachable` says so.
 * Takes rules (freed when the old copy is kept). Returns 1 when the old copy was kept.
 */
static int robots_settle(struct robots_fetch *r, parse_robots_t *rules, int unreachable)
{
    crawl_site_t *site = r->site;
    job_t *job = &r->cj->job;
    int kept = site->robots && unreachable && rules;
    long delay;

    if (kept) {
        parse_robots_free(rules);
    } else {
        parse_robots_free(site->robots);
        site->robots = rules;
    }
    delay = site->robots ? parse_robots_crawl_delay_ms(site->robots) : -1;
    if (delay > site->host.delay_ms)
        site->host.delay_ms = delay > job->opts->max_wait_ms ? job->opts->max_wait_ms : delay;
    site->robots_state = 2;
    site->robots_fetched_ms = uv_now(&job->loop);
    future_resolve(site->robots_ready, NULL);
    return kept;
}

static void robots_step(task_t *t)
{
    struct robots_fetch *r = container_of(t, struct robots_fetch, task);
    job_t *job = &r->cj->job;
    const char *why = "";
    parse_robots_t *rules;

    CORO_BEGIN(t);
    if (r->cj->shared) {
        while (r->waited_ms < job->opts->lease_ms) {
            AWAIT(t, rjob_robots_get(shared_rjob(r->cj->shared), r->origin, &r->got));
            if (task_error(t) < 0 || task_cancelled(t))
                break;
            if ((intptr_t)task_result(t) == 1) {
                /* The job's copy, decided on as if this worker had fetched it. */
                r->req.code = r->got.status > 0 ? CURLE_OK : CURLE_COULDNT_CONNECT;
                r->req.status = r->got.status;
                free(r->body.data);
                r->body.data = r->got.body;
                r->body.len = r->body.alloc = r->got.len;
                r->got.body = NULL;
                goto decide;
            }
            AWAIT(t, rjob_robots_lock(shared_rjob(r->cj->shared), r->origin));
            if (task_error(t) < 0 || task_cancelled(t) || (intptr_t)task_result(t) == 1)
                break;
            AWAIT(t, net_sleep(&job->sched, ROBOTS_SHARED_POLL_MS));
            if (task_error(t) < 0 || task_cancelled(t))
                break;
            r->waited_ms += ROBOTS_SHARED_POLL_MS;
        }
        if (task_cancelled(t)) {
            robots_settle(r, parse_robots_disallow_all(), 1);
            goto finish;
        }
    }
    r->req.url = r->url;
    r->req.sink = &r->body.sink;
    r->req.follow = ROBOTS_REDIRECTS;
    r->req.decode = 1;                    /* read in memory, capped: compression is welcome */
    AWAIT(t, http_req_start(job->http, &r->req));
    if (task_cancelled(t)) {
        /* An interrupt: nothing is known, and the pages waiting are cancelled too. */
        robots_settle(r, parse_robots_disallow_all(), 1);
        goto finish;
    }
    if (task_error(t) < 0)
        r->req.code = CURLE_FAILED_INIT;
    if (job->rep.har && task_error(t) == 0) {
        char ref[CRAWL_PAGEREF_SIZE];   /* the page of the first start URL on this origin */

        crawl_har_add(job->rep.har, crawl_job_pageref(r->cj, r->url, NULL, ref, NULL), r->url, &r->req, NULL);
    }
    if (r->cj->shared)
        shared_robots_put(r->cj->shared, r->origin, r->req.code == CURLE_OK ? (int)r->req.status : 0,
                          r->body.data, r->body.len);
decide:
    rules = robots_decide(r, &why);
    if (!rules) {
        fprintf(stderr, "gather: out of memory for %s: treating the host as disallowed\n", r->url);
        rules = parse_robots_disallow_all();
    }
    int off_limits = why == robots_off_limits;
    if (robots_settle(r, rules, off_limits))
        why = "unreachable or 5xx: the copy read before stays in use";
    free(r->site->robots_error);
    r->site->robots_error = NULL;
    /* --json lists robots.txt like any URL fetched, marked as what it is. */
    crawl_report_json(&job->rep, json_pack("{s:s, s:s, s:b, s:I, s:I, s:o, s:s}", "url", r->url,
                                           "kind", "robots", "ok", !off_limits,
                                           "status", (json_int_t)r->req.status,
                                           "bytes", (json_int_t)r->req.bytes,
                                           "time_ms", crawl_report_real((double)r->req.timing.total_us / 1000.0, 3),
                                           "rules", why));
    if (why == robots_off_limits) {
        char reason[512];

        /* Kept to say why a start URL on this host was not fetched (no memory: no detail). */
        r->site->robots_error = strdup(http_req_describe(&r->req, &job->opts->http, reason,
                                                         sizeof(reason)));
    }
    if (job->opts->verbose) {
        job_before_print(job);
        fprintf(stderr, "%s: %s (HTTP %ld)%s\n", r->url, why, r->req.status,
                r->site->robots && parse_robots_crawl_delay_ms(r->site->robots) >= 0
                    ? ", Crawl-delay applied"
                    : "");
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
    free(r->got.body);
    free(r->origin);
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

/* The site's robots.txt was read longer ago than its time to live: read it again. */
static int robots_stale(crawl_job_t *cj, const crawl_site_t *site)
{
    return site->robots_state == 2 &&
           uv_now(&cj->job.loop) - site->robots_fetched_ms >= robots_ttl_ms();
}

void crawl_robots_start(crawl_job_t *cj, crawl_site_t *site, const char *url)
{
    struct robots_fetch *r;

    if (site->robots_state == 1 || (site->robots_state == 2 && !robots_stale(cj, site)))
        return;
    /* A re-fetch keeps the old rules (site->robots) until the new ones settle. Pages waiting
     * on the old future hold their own references. */
    future_unref(site->robots_ready);
    site->robots_state = 1;
    site->robots_ready = future_new(&cj->job.sched);
    if (site->robots_ready)
        future_set_cancel(site->robots_ready, robots_refuse_cancel, NULL);
    r = calloc(1, sizeof(*r));
    if (!site->robots_ready || !r || parse_url_origin(url, "/robots.txt", &r->url) < 0 ||
        (cj->shared && parse_url_origin(url, "", &r->origin) < 0) ||
        job_spawn(&cj->job, &r->task, robots_step) < 0) {
        /* Without memory to ask (or a job that is stopping), be conservative: off limits. */
        if (r) {
            free(r->url);
            free(r->origin);
        }
        free(r);
        parse_robots_free(site->robots);
        site->robots = parse_robots_disallow_all();
        site->robots_state = 2;
        site->robots_fetched_ms = uv_now(&cj->job.loop);
        if (site->robots_ready)
            future_resolve(site->robots_ready, NULL);
        return;
    }
    r->cj = cj;
    r->site = site;
    /* One byte past what is parsed, so that the parser drops a line the limit cuts. */
    http_bufsink_init(&r->body, PARSE_ROBOTS_READ_BYTES);
    future_on_done(task_done(&r->task), robots_free, r);
}

int crawl_site_get(crawl_job_t *cj, const char *url, crawl_site_t **out)
{
    char *hostport = NULL, *key = NULL;
    crawl_host_t *h;
    int result;

    result = parse_url_hostport(url, &hostport);
    if (result < 0)
        return result == PARSE_ENOMEM ? -ENOMEM : -EINVAL;
    /* The scheme is part of the key: http://h:8080 and https://h:8080 are two robots.txt. */
    if (asprintf(&key, "%s://%s", strncasecmp(url, "https:", 6) == 0 ? "https" : "http",
                 hostport) < 0) {
        key = NULL;
        result = -ENOMEM;
        goto cleanup;
    }
    h = crawl_hostmap_get(cj->job.hosts, key);
    if (!h) {
        result = -ENOMEM;
        goto cleanup;
    }
    *out = crawl_site_of(h);
    result = 0;
cleanup:
    free(key);
    free(hostport);
    return result;
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
