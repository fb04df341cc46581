/* crawl: `gather crawl`: a level-by-level dispatcher over the frontier, the admission rules for
 * found URLs, sitemap seeding and the crawl summary. */
#include "crawler/crawl/crawl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/crawl/crawl_job.h"
#include "crawler/crawl/filter.h"
#include "net/http/bufsink.h"
#include "parse/parse.h"
#include "parse/sitemap.h"
#include "parse/url.h"
#include "storage/file.h"

#define SITEMAP_MAX_FILES 50
#define SITEMAP_MAX_BYTES (50 * 1024 * 1024)     /* the sitemaps protocol's own cap */

/* ---- admission --------------------------------------------------------------------------- */

/* Page links whose extension says "document" are fetched to find links even under --accept. */
static int crawl_ext_is_pageish(const char *ext)
{
    static const char *const pageish[] = { "", "html", "htm", "xhtml", "shtml", "php", "asp",
                                           "aspx", "jsp", "cgi", "pl", "cfm", NULL };

    for (size_t i = 0; pageish[i]; i++)
        if (!strcmp(ext, pageish[i]))
            return 1;
    return 0;
}

/* Counts a URL refused for some reason once, however many pages link to it. */
static int crawl_first_refusal(crawl_job_t *job, const char *url)
{
    return store_seen_add(job->refused, url, strlen(url)) == 1;
}

int crawl_job_offer(crawl_job_t *job, const char *url, int depth, crawl_kind_t kind, int hops)
{
    crawl_options_t *o = job->opts;
    char ext[32];

    if (kind == CRAWL_KIND_PAGE) {
        if (depth > o->depth)
            return 0;
        if (!crawl_scope_contains(&job->scope, url)) {
            if (crawl_first_refusal(job, url))
                job->skipped_scope++;
            return 0;
        }
    } else if (o->save != CRAWL_SAVE_ALL && o->save != CRAWL_SAVE_ASSETS) {
        return 0;                      /* assets are fetched only to be saved */
    }
    crawl_filter_extension(url, ext, sizeof(ext));
    if (!crawl_filter_url(&o->filter, url) ||
        (!crawl_filter_ext(&o->filter, url) && (kind == CRAWL_KIND_ASSET || !crawl_ext_is_pageish(ext)))) {
        if (crawl_first_refusal(job, url))
            job->skipped_filter++;
        return 0;
    }
    return crawl_job_queue(job, url, depth, kind, hops);
}

int crawl_job_queue(crawl_job_t *job, const char *url, int depth, crawl_kind_t kind, int hops)
{
    int result = crawl_frontier_push(&job->frontier, url, depth, kind, hops);

    if (result == 1 && job->state && store_state_frontier_add(job->state, url, depth, kind, hops) < 0)
        return -ENOMEM;
    return result;
}

/* ---- sitemaps ------------------------------------------------------------------------------ */

struct sitemap_fetch {
    task_t task;
    crawl_job_t *job;
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
    if (crawl_job_offer(s->job, url, 0, CRAWL_KIND_PAGE, 0) == 1)
        s->job->sitemap_urls++;
}

static void sitemap_step(task_t *t)
{
    struct sitemap_fetch *s = container_of(t, struct sitemap_fetch, task);
    int result;

    CORO_BEGIN(t);
    for (s->i = 0; s->i < s->n; s->i++) {
        memset(&s->req, 0, sizeof(s->req));
        http_bufsink_init(&s->body, SITEMAP_MAX_BYTES);
        s->req.url = s->queue[s->i];
        s->req.sink = &s->body.sink;
        s->req.follow = 5;
        AWAIT(t, http_req_start(s->job->http, &s->req));
        if (task_error(t) == 0 && http_req_ok(&s->req)) {
            result = parse_sitemap(s->body.data ? s->body.data : "", s->body.len, s->req.url,
                                   sitemap_on_entry, s);
            if (result < 0)
                fprintf(stderr, "%s: sitemap not read: %s\n", s->req.url, parse_strerror(result));
        } else if (s->job->opts->verbose || task_error(t) < 0 || s->req.status != 404) {
            char why[256];
            fprintf(stderr, "%s: sitemap not fetched: %s\n", s->req.url,
                    http_req_describe(&s->req, &s->job->opts->http, why, sizeof(why)));
        }
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

/* A task that reads /sitemap.xml of every start origin (and the sitemap files they index). */
static future_t *sitemap_start(crawl_job_t *job)
{
    struct sitemap_fetch *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->job = job;
    for (size_t i = 0; i < job->nstarts && s->n < SITEMAP_MAX_FILES; i++) {
        const char *u = job->starts[i];
        const char *auth = strstr(u, "://");
        const char *end = auth ? strchr(auth + 3, '/') : NULL;
        int len = end ? (int)(end - u) : (int)strlen(u);
        char *url = NULL;
        int dup = 0;

        if (asprintf(&url, "%.*s/sitemap.xml", len, u) < 0)
            continue;
        for (size_t k = 0; k < s->n && !dup; k++)
            dup = !strcmp(s->queue[k], url);
        if (dup)
            free(url);
        else
            s->queue[s->n++] = url;
    }
    if (task_start(&s->task, &job->sched, sitemap_step) < 0) {
        sitemap_free(NULL, s);
        return NULL;
    }
    future_on_done(task_done(&s->task), sitemap_free, s);
    return future_ref(task_done(&s->task));
}

/* ---- the dispatcher: a permit, an item, a task; a barrier between levels ------------------- */

static void dispatcher_step(task_t *t)
{
    crawl_job_t *job = container_of(t, crawl_job_t, dispatcher);
    crawl_item_t *item;

    CORO_BEGIN(t);
    if (job->opts->sitemap)
        AWAIT(t, sitemap_start(job));
    for (;;) {
        AWAIT(t, asem_acquire(&job->permits));
        if (task_error(t) < 0)
            break;
        if (job->stopping) {
            asem_release(&job->permits);
            break;
        }
        item = crawl_frontier_pop(&job->frontier);
        if (item) {
            if (item->kind == CRAWL_KIND_PAGE && job->opts->max_pages > 0 &&
                job->started_pages >= (unsigned long)job->opts->max_pages) {
                job->skipped_max_pages++;
                free(item);
                asem_release(&job->permits);
                continue;
            }
            if (item->kind == CRAWL_KIND_PAGE)
                job->started_pages++;
            crawl_page_spawn(job, item);
            continue;
        }
        asem_release(&job->permits);
        /* This level is dispatched. Wait until every fetch of it ended (they may still add to it:
         * redirect targets, retries), so a URL is never first seen at a deeper level than its
         * shortest path: the BFS stays exact under concurrency. */
        for (job->drained = 0; job->drained < job->opts->concurrency; job->drained++)
            AWAIT(t, asem_acquire(&job->permits));
        for (long i = 0; i < job->opts->concurrency; i++)
            asem_release(&job->permits);
        if (job->stopping)
            break;
        if (job->frontier.cur_head)
            continue;
        if (!crawl_frontier_advance(&job->frontier))
            break;
    }
    job->rep.queued_final = !job->stopping;
    CORO_END(t);
}

/* ---- summary ------------------------------------------------------------------------------- */

static void crawl_summary(crawl_job_t *job)
{
    json_t *depths = json_array();
    int last = 0;

    for (int d = 0; d < CRAWL_DEPTH_STATS; d++)
        if (job->pages_at[d])
            last = d;
    if (job->rep.before_print)
        job->rep.before_print(job->rep.before_print_arg);
    fprintf(stderr, "gather: crawl: %lu pages (", job->pages);
    for (int d = 0; d <= last; d++) {
        fprintf(stderr, "%sdepth %d: %lu", d ? ", " : "", d, job->pages_at[d]);
        json_array_append_new(depths, json_integer((json_int_t)job->pages_at[d]));
    }
    fprintf(stderr, "), %lu assets, %lu saved, %lu links found; skipped: %lu out of scope, "
                    "%lu by robots.txt, %lu by filters, %lu over --max-pages; %lu redirects; "
                    "%lu pages not parsed past --max-page-size\n",
            job->assets, job->saved, job->links, job->skipped_scope, job->skipped_robots,
            job->skipped_filter, job->skipped_max_pages, job->redirects, job->not_parsed);
    crawl_report_json(&job->rep,
        json_pack("{s:{s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "crawl",
                  "pages", (json_int_t)job->pages, "pages_per_depth", depths,
                  "assets", (json_int_t)job->assets, "saved", (json_int_t)job->saved,
                  "links", (json_int_t)job->links,
                  "skipped_scope", (json_int_t)job->skipped_scope,
                  "skipped_robots", (json_int_t)job->skipped_robots,
                  "skipped_filter", (json_int_t)job->skipped_filter,
                  "skipped_max_pages", (json_int_t)job->skipped_max_pages,
                  "redirects", (json_int_t)job->redirects,
                  "not_parsed", (json_int_t)job->not_parsed,
                  "sitemap_urls", (json_int_t)job->sitemap_urls,
                  "max_pending", (json_int_t)job->frontier.max_pending));
}

/* ---- running ------------------------------------------------------------------------------- */

static void crawl_clear_progress(void *arg)
{
    crawl_progress_clear(arg);
}

static int crawl_seed(crawl_job_t *job)
{
    crawl_options_t *o = job->opts;

    job->starts = calloc((size_t)o->nurls, sizeof(*job->starts));
    if (!job->starts)
        return -ENOMEM;
    for (int i = 0; i < o->nurls; i++) {
        int result = parse_url_normalize(o->urls[i], &job->starts[job->nstarts]);
        if (result < 0) {
            fprintf(stderr, "gather crawl: start URL '%.300s': %s\n", o->urls[i], parse_strerror(result));
            return -EINVAL;
        }
        job->nstarts++;
    }
    if (crawl_scope_init(&job->scope, o->scope, job->starts, job->nstarts) < 0) {
        fprintf(stderr, "gather crawl: cannot work out the scope of the start URLs\n");
        return -EINVAL;
    }
    for (size_t i = 0; i < job->nstarts; i++)
        if (crawl_job_queue(job, job->starts[i], job->frontier.depth, CRAWL_KIND_PAGE, 0) < 0)
            return -ENOMEM;
    return 0;
}

/* ---- resuming from the state database ------------------------------------------------------ */

static void crawl_resume_seen(void *arg, const char *url, int status)
{
    crawl_job_t *job = arg;

    (void)status;
    crawl_frontier_mark(&job->frontier, url);
}

static void crawl_resume_pending(void *arg, const char *url, int depth, int kind, int hops)
{
    crawl_job_t *job = arg;
    crawl_frontier_t *f = &job->frontier;

    /* Rows come in depth order: the first sets the level; BFS keeps at most two levels alive. */
    if (job->resumed == 0)
        f->depth = depth;
    if (depth < f->depth)
        depth = f->depth;
    if (depth > f->depth + 1)
        depth = f->depth + 1;
    if (crawl_frontier_push(f, url, depth, kind ? CRAWL_KIND_ASSET : CRAWL_KIND_PAGE, hops) == 1)
        job->resumed++;
}

/* A re-run on the same folder continues where the last one stopped: URLs already handled are
 * seen, the pending frontier comes back at its depths. */
static int crawl_resume(crawl_job_t *job)
{
    int result;

    result = store_state_open(job->opts->outdir, &job->state, &job->state_existed);
    if (result < 0 || !job->state_existed)
        return result;
    result = store_state_load(job->state, crawl_resume_seen, crawl_resume_pending, job);
    if (result < 0) {
        fprintf(stderr, "gather: cannot read %s/%s\n", job->opts->outdir, STORE_STATE_FILE);
        return result;
    }
    if (job->resumed > 0)
        fprintf(stderr, "gather: resuming the crawl in %s: %lu URLs still to fetch, from depth %d\n",
                job->opts->outdir, job->resumed, job->frontier.depth);
    return 0;
}

static void crawl_stop(void *arg)
{
    crawl_job_t *job = arg;

    job->interrupted = job->stopping = 1;
    crawl_page_cancel_all(job);
}

static int crawl_run(crawl_job_t *job)
{
    crawl_options_t *o = job->opts;
    int result;

    result = uv_loop_init(&job->loop);
    if (result < 0) {
        fprintf(stderr, "gather: uv_loop_init: %s\n", uv_strerror(result));
        return -EIO;
    }
    result = sched_init(&job->sched, &job->loop);
    if (result < 0)
        goto cleanup_loop;
    asem_init(&job->permits, &job->sched, o->concurrency);
    job->hosts = crawl_hostmap_new(&job->sched, o->per_host > 0 ? o->per_host : o->concurrency, 1);
    if (!job->hosts) {
        result = -ENOMEM;
        goto cleanup_sched;
    }
    job->http = http_client_new(&job->sched, &o->http, &result);
    if (!job->http)
        goto cleanup_sched;
    result = crawl_progress_start(&job->progress, &job->loop, &job->rep, o->quiet);
    if (result < 0 ||
        (result = crawl_signals_start(&job->signals, &job->loop, crawl_stop, job, &job->rep,
                                      "run the same crawl again to resume")) < 0 ||
        (job->state && (result = store_state_start(job->state, &job->sched)) < 0))
        goto cleanup_sched;
    job->rep.before_print = crawl_clear_progress;
    job->rep.before_print_arg = &job->progress;
    if (task_start(&job->dispatcher, &job->sched, dispatcher_step) < 0) {
        result = -ENOMEM;
        goto cleanup_sched;
    }
    job->dispatcher_done = future_ref(task_done(&job->dispatcher));
    uv_run(&job->loop, UV_RUN_DEFAULT);
    if (!future_is_done(job->dispatcher_done))
        fprintf(stderr, "gather: internal error: the loop stopped with work pending\n");
    future_unref(job->dispatcher_done);
    result = 0;

cleanup_sched:
    crawl_progress_stop(&job->progress);
    crawl_signals_stop(&job->signals);
    if (job->state)
        store_state_stop(job->state);
    if (job->http)
        http_client_close(job->http);
    if (job->hosts)
        crawl_hostmap_each(job->hosts, crawl_robots_free, NULL);
    sched_close(&job->sched);
    uv_run(&job->loop, UV_RUN_DEFAULT);
cleanup_loop:
    if (uv_loop_close(&job->loop) != 0)
        fprintf(stderr, "gather: internal error: handles left open at exit\n");
    crawl_hostmap_free(job->hosts);
    return result;
}

int crawl_crawl_run(crawl_options_t *o)
{
    crawl_job_t *job = calloc(1, sizeof(*job));
    int status = CRAWL_EXIT_FAILURES;
    int result;

    if (!job) {
        fprintf(stderr, "gather: out of memory\n");
        return CRAWL_EXIT_FAILURES;
    }
    job->opts = o;
    job->dirfd = -1;
    crawl_report_init(&job->rep, "async", o->json, o->quiet, o->verbose);
    crawl_retry_init(&job->retry, o->retries, o->retry_delay_ms, o->max_wait_ms);
    if (crawl_frontier_init(&job->frontier) < 0 || !(job->refused = store_seen_new(256)) ||
        !(job->names = store_names_new())) {
        fprintf(stderr, "gather: out of memory\n");
        goto cleanup;
    }
    result = store_dir_open(o->outdir, &job->dirfd);
    if (result < 0) {
        fprintf(stderr, "gather: cannot use output folder %s: %s\n", o->outdir, strerror(-result));
        goto cleanup;
    }
    if (crawl_resume(job) < 0)
        goto cleanup;
    result = crawl_seed(job);
    if (result < 0) {
        status = result == -EINVAL ? CRAWL_EXIT_USAGE : CRAWL_EXIT_FAILURES;
        goto cleanup;
    }
    if (o->har && crawl_report_har_open(&job->rep, o->har, "gather crawl") < 0)
        goto cleanup;
    result = crawl_run(job);
    if (result < 0)
        fprintf(stderr, "gather: crawl failed to start: %s\n", strerror(-result));
    crawl_report_summary(&job->rep);
    crawl_summary(job);
    status = job->interrupted ? CRAWL_EXIT_INTERRUPTED
           : result < 0 || job->rep.failed > 0 ? CRAWL_EXIT_FAILURES : CRAWL_EXIT_OK;

cleanup:
    if (crawl_report_har_close(&job->rep) < 0 && status == CRAWL_EXIT_OK)
        status = CRAWL_EXIT_FAILURES;
    for (size_t i = 0; i < job->nstarts; i++)
        free(job->starts[i]);
    free(job->starts);
    if (job->state && store_state_close(job->state) < 0)
        fprintf(stderr, "gather: could not finish writing %s/%s\n", o->outdir, STORE_STATE_FILE);
    crawl_scope_free(&job->scope);
    crawl_frontier_free(&job->frontier);
    store_seen_free(job->refused);
    store_names_free(job->names);
    if (job->dirfd >= 0)
        close(job->dirfd);
    free(job);
    return status;
}

int crawl_crawl_main(int argc, char **argv)
{
    return crawl_options_main(CRAWL_CMD_CRAWL, argc, argv, crawl_crawl_run);
}
