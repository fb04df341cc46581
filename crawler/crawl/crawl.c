/* crawl: `gather crawl`: a level-by-level dispatcher over the frontier, the admission rules for
 * found URLs, sitemap seeding and the crawl summary. */
#include "crawler/crawl/crawl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "crawler/crawl/convert.h"
#include "crawler/crawl/crawl_job.h"
#include "crawler/crawl/filter.h"
#include "parse/parse.h"
#include "parse/url.h"

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

int crawl_job_offer(crawl_job_t *job, const char *url, int depth, crawl_kind_t kind, int hops,
                    crawl_parent_t *parent)
{
    crawl_options_t *o = job->job.opts;
    char ext[32];

    if (kind == CRAWL_KIND_PAGE) {
        if (depth > o->depth)
            return 0;
        if (!crawl_scope_contains(&job->scope, url)) {
            if (crawl_first_refusal(job, url))
                job->skipped_scope++;
            return 0;
        }
    } else if (o->save != CRAWL_SAVE_ALL && o->save != CRAWL_SAVE_ASSETS && !o->page_requisites) {
        return 0;                      /* assets are fetched only to be saved */
    }
    /* The extension is looked at only for a URL --accept/--reject refuses (most links pass). */
    if (!crawl_filter_url(&o->filter, url) ||
        (!crawl_filter_ext(&o->filter, url) &&
         (kind == CRAWL_KIND_ASSET ||
          !crawl_ext_is_pageish(crawl_filter_extension(url, ext, sizeof(ext)))))) {
        if (crawl_first_refusal(job, url))
            job->skipped_filter++;
        return 0;
    }
    return crawl_job_queue(job, url, depth, kind, hops, parent);
}

/* The frontier writes what it stores with passwords masked (crawl_frontier_attach);
 * crawl_resume_url restores them. */
int crawl_job_queue(crawl_job_t *job, const char *url, int depth, crawl_kind_t kind, int hops,
                    crawl_parent_t *parent)
{
    if (job->is_shared)
        return crawl_worker_queue(job, url, depth, kind, hops, parent);
    int result = crawl_frontier_push(&job->frontier, url, depth, kind, hops, parent);

    job->job.rep.queued += result == 1;   /* the progress line's total so far */
    return result;
}

/* ---- the dispatcher: a permit, an item, a task; a barrier between levels ------------------- */

#define CRAWL_STATE_BACKLOG 8192       /* database operations queued before the dispatcher waits */

static void dispatcher_step(task_t *t)
{
    crawl_job_t *cj = container_of(t, crawl_job_t, job.driver);
    job_t *job = &cj->job;
    crawl_options_t *o = job->opts;
    crawl_item_t *item;

    CORO_BEGIN(t);
    permit_init(&cj->dispatch_slot, t);
    if (o->sitemap)
        AWAIT(t, crawl_sitemap_start(cj));
    while (!job->stopping) {
        if (job->state && store_state_backlog(job->state) > CRAWL_STATE_BACKLOG) {
            /* The database writer is behind: let it catch up rather than queue rows without
             * bound (three per page: its outcome, its frontier row gone, its links added). */
            AWAIT(t, store_state_flush(job->state));
            continue;
        }
        AWAIT(t, permit_acquire(&cj->dispatch_slot, &job->permits));
        if (task_error(t) < 0 || job->stopping)
            break;
        if ((item = crawl_frontier_pop(&cj->frontier))) {
            if (item->kind == CRAWL_KIND_PAGE && o->max_pages > 0 &&
                cj->started_pages >= (unsigned long)o->max_pages) {
                cj->skipped_max_pages++;
                crawl_item_free(item);
                permit_release(&cj->dispatch_slot);
                continue;
            }
            if (item->kind == CRAWL_KIND_PAGE)
                cj->started_pages++;
            crawl_page_spawn(cj, item);   /* takes the permit */
            continue;
        }
        permit_release(&cj->dispatch_slot);
        if (crawl_frontier_needs_fill(&cj->frontier)) {
            /* The window is empty and the level goes on in the store: read the next rows. */
            AWAIT(t, crawl_frontier_fill(&cj->frontier));
            continue;
        }
        /* This level is dispatched. Wait until every task of it ended (they may still add to it:
         * redirect targets, retries), so a URL is never first seen at a deeper level than its
         * shortest path: the BFS stays exact under concurrency. */
        AWAIT(t, job_tasks_done(job));
        if (job->stopping || crawl_frontier_has_current(&cj->frontier))
            continue;
        if (!crawl_frontier_advance(&cj->frontier))
            break;
    }
    permit_release(&cj->dispatch_slot);
    job->rep.queued_final = !job->stopping;
    AWAIT(t, job_tasks_done(job));
    if (cj->frontier.filling)          /* a read ahead: it must be over before the loop is */
        AWAIT(t, crawl_frontier_fill(&cj->frontier));
    CORO_END(t);
}

/* The progress line's tail: the URLs left at the level being fetched (queued, or started and
 * waiting for their host or their transfer: the job's live tasks, robots.txt's included) and
 * those found so far for the next level. */
static void crawl_describe(void *arg, char *buf, size_t n)
{
    crawl_job_t *cj = arg;
    crawl_frontier_t *f = &cj->frontier;

    snprintf(buf, n, "frontier: depth %d: %zu left, depth %d: %zu found", f->depth,
             f->ncur + cj->job.tasks.count, f->depth + 1, f->nnext);
}

/* ---- summary ------------------------------------------------------------------------------- */

static void crawl_summary(crawl_job_t *cj)
{
    crawl_report_t *rep = &cj->job.rep;
    json_t *depths = json_array();
    int last = 0;

    for (int d = 0; d < CRAWL_DEPTH_STATS; d++)
        if (cj->pages_at[d])
            last = d;
    job_before_print(&cj->job);
    for (int d = 0; d <= last; d++)
        json_array_append_new(depths, json_integer((json_int_t)cj->pages_at[d]));
    if (!rep->quiet) {
        fprintf(stderr, "gather: crawl: %lu pages (", cj->pages);
        for (int d = 0; d <= last; d++)
            fprintf(stderr, "%sdepth %d: %lu", d ? ", " : "", d, cj->pages_at[d]);
        fprintf(stderr, "), %lu assets, %lu saved, %lu links found; skipped: %lu out of scope, "
                        "%lu by robots.txt, %lu by filters, %lu over --max-pages; %lu redirects; "
                        "%lu pages not parsed past --max-page-size\n",
                cj->assets, cj->saved, cj->links, cj->skipped_scope, cj->skipped_robots,
                cj->skipped_filter, cj->skipped_max_pages, cj->redirects, cj->not_parsed);
    }
    crawl_report_json(rep,
        json_pack("{s:{s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "crawl",
                  "pages", (json_int_t)cj->pages, "pages_per_depth", depths,
                  "assets", (json_int_t)cj->assets, "saved", (json_int_t)cj->saved,
                  "links", (json_int_t)cj->links,
                  "skipped_scope", (json_int_t)cj->skipped_scope,
                  "skipped_robots", (json_int_t)cj->skipped_robots,
                  "skipped_filter", (json_int_t)cj->skipped_filter,
                  "skipped_max_pages", (json_int_t)cj->skipped_max_pages,
                  "redirects", (json_int_t)cj->redirects,
                  "not_parsed", (json_int_t)cj->not_parsed,
                  "sitemap_urls", (json_int_t)cj->sitemap_urls,
                  "max_pending", (json_int_t)cj->frontier.max_pending,
                  "max_pending_in_memory", (json_int_t)cj->frontier.max_mem,
                  "pending_read_back", (json_int_t)cj->frontier.pages_in));
}

/* ---- starting ---------------------------------------------------------------------------------- */

/* The start URLs, normalised, and the scope they make; -EINVAL after naming a bad one. */
static int crawl_starts(crawl_job_t *cj)
{
    crawl_options_t *o = cj->job.opts;

    cj->starts = calloc((size_t)o->nurls, sizeof(*cj->starts));
    if (!cj->starts)
        return -ENOMEM;
    for (int i = 0; i < o->nurls; i++) {
        int result = parse_url_normalize(o->urls[i], &cj->starts[cj->nstarts]);
        if (result < 0) {
            char shown[PARSE_URL_REDACT_SIZE];
            fprintf(stderr, "gather crawl: start URL '%.300s': %s\n",
                    parse_url_redact(o->urls[i], shown, sizeof(shown)), parse_strerror(result));
            return -EINVAL;
        }
        cj->nstarts++;
    }
    if (crawl_scope_init(&cj->scope, o->scope, cj->starts, cj->nstarts) < 0) {
        fprintf(stderr, "gather crawl: cannot work out the scope of the start URLs\n");
        return -EINVAL;
    }
    if ((o->no_parent && crawl_scope_no_parent(&cj->scope, cj->starts, cj->nstarts) < 0) ||
        (o->domains && crawl_scope_domains(&cj->scope, o->domains) < 0)) {
        fprintf(stderr, "gather crawl: out of memory\n");
        return -ENOMEM;
    }
    /* Credentials given for the crawl go to the start URLs' origins only (http_creds_allowed):
     * not to the other hosts its pages link to. */
    if (!(cj->origins = calloc(cj->nstarts, sizeof(*cj->origins))))
        return -ENOMEM;
    for (size_t i = 0; i < cj->nstarts; i++) {
        char origin[HTTP_ORIGIN_MAX];
        if (http_url_origin(cj->starts[i], origin, sizeof(origin)) < 0)
            continue;
        if (!(cj->origins[cj->norigins] = strdup(origin)))
            return -ENOMEM;
        cj->norigins++;
    }
    o->http.cred_origins = (const char *const *)cj->origins;
    o->http.ncred_origins = cj->norigins;
    return 0;
}

const char *crawl_job_pageref(const crawl_job_t *cj, const char *url, const crawl_parent_t *parent,
                              char buf[CRAWL_PAGEREF_SIZE], size_t *seed)
{
    char origin[HTTP_ORIGIN_MAX], start_origin[HTTP_ORIGIN_MAX];
    size_t i = 0;

    if (parent) {
        i = parent->seed;
    } else {
        /* A start URL itself; else (its redirect target, a host's robots.txt) the first start
         * URL of the same origin; else the first. */
        while (i < cj->nstarts && strcmp(cj->starts[i], url) != 0)
            i++;
        if (i == cj->nstarts && http_url_origin(url, origin, sizeof(origin)) == 0) {
            for (i = 0; i < cj->nstarts; i++)
                if (http_url_origin(cj->starts[i], start_origin, sizeof(start_origin)) == 0 &&
                    !strcmp(origin, start_origin))
                    break;
        }
        if (i >= cj->nstarts)
            i = 0;
    }
    if (seed)
        *seed = i;
    snprintf(buf, CRAWL_PAGEREF_SIZE, "page_%zu", i + 1);
    return buf;
}

/* --har: a page per start URL (the job opened the first), titled with it. */
static int crawl_har_pages(crawl_job_t *cj)
{
    char id[CRAWL_PAGEREF_SIZE], shown[PARSE_URL_REDACT_SIZE];
    struct timeval tv;

    if (!cj->job.rep.har)
        return 0;
    gettimeofday(&tv, NULL);
    for (size_t i = 0; i < cj->nstarts; i++) {
        snprintf(id, sizeof(id), "page_%zu", i + 1);
        if (crawl_har_page(cj->job.rep.har, id, parse_url_redact(cj->starts[i], shown, sizeof(shown)),
                           (int64_t)tv.tv_sec * 1000000 + tv.tv_usec) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int crawl_seed(crawl_job_t *cj)
{
    if (crawl_har_pages(cj) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < cj->nstarts; i++)
        if (crawl_job_queue(cj, cj->starts[i], cj->frontier.depth, CRAWL_KIND_PAGE, 0, NULL) < 0)
            return -ENOMEM;
    return 0;
}

/* ---- resuming from the state database ------------------------------------------------------ */

/* A URL as the database gave it back: its masked password restored from the start URL of the
 * same origin and user (the password is nowhere else, by design); else without user info. The
 * return value is url or *owned, which the caller frees; NULL when out of memory. */
static const char *crawl_resume_url(crawl_job_t *cj, const char *url, char **owned)
{
    *owned = NULL;
    if (parse_url_unredact(url, cj->starts, cj->nstarts, owned) < 0)
        return NULL;
    return *owned ? *owned : url;
}

static void crawl_resume_seen(void *arg, const char *stored, int status, const char *path)
{
    crawl_job_t *cj = arg;
    char *owned;
    const char *url = crawl_resume_url(cj, stored, &owned);

    if (!url) {
        fprintf(stderr, "gather: out of memory resuming the crawl\n");
        return;
    }
    /* -N re-checks every saved file (If-Modified-Since): a URL done before is fetched again. */
    if (!cj->job.opts->timestamping)
        crawl_frontier_mark(&cj->frontier, url);
    /* The names files were saved under stay theirs: a URL first fetched by this run (in another
     * order than the last one) must not take a name and overwrite another URL's file. */
    if (path && status == STORE_URL_DONE && store_names_claim(cj->job.names, url, path) < 0)
        fprintf(stderr, "gather: out of memory: %s may be saved under another URL's name\n", stored);
    free(owned);
}

/* The stored frontier, scanned: every row is seen; the levels are counted, not read. Depths past
 * CRAWL_RESUME_DEPTHS (far past any --depth in use) are counted together. */
#define CRAWL_RESUME_DEPTHS 1024
struct crawl_resume_scan {
    crawl_job_t *cj;
    int min_depth;
    int64_t max_seq;
    size_t at[CRAWL_RESUME_DEPTHS + 1];   /* rows per depth, the last slot for deeper ones */
    size_t rows;
};

static void crawl_resume_pending(void *arg, const char *stored, int depth, int64_t seq)
{
    struct crawl_resume_scan *sc = arg;
    char *owned;
    const char *url = crawl_resume_url(sc->cj, stored, &owned);

    if (!url) {
        fprintf(stderr, "gather: out of memory resuming the crawl\n");
        return;
    }
    if (crawl_frontier_mark(&sc->cj->frontier, url) == 1) {
        if (depth < 0)
            depth = 0;
        sc->at[depth < CRAWL_RESUME_DEPTHS ? depth : CRAWL_RESUME_DEPTHS]++;
        if (sc->rows++ == 0 || depth < sc->min_depth)
            sc->min_depth = depth;
        if (seq > sc->max_seq)
            sc->max_seq = seq;
    }
    free(owned);
}

/* A re-run on the same folder continues where the last one stopped: URLs already handled are
 * seen, the pending frontier comes back at its depths (pages that were in flight when the last
 * run was interrupted are still there: only a final outcome takes a URL off it). */
static int crawl_resume(crawl_job_t *cj)
{
    job_t *job = &cj->job;
    struct crawl_resume_scan sc = { .cj = cj };
    size_t deeper = 0;
    int result;

    if (!job->state || !job->state_existed)
        return 0;
    result = store_state_load(job->state, crawl_resume_seen, NULL, cj);
    if (result == 0)
        result = store_state_frontier_scan(job->state, crawl_resume_pending, &sc);
    /* BFS keeps two levels: rows deeper than the shallowest + 1 (none, normally) join that level. */
    if (sc.min_depth > CRAWL_RESUME_DEPTHS - 1)
        sc.min_depth = CRAWL_RESUME_DEPTHS - 1;
    if (result == 0 && sc.rows > 0)
        result = store_state_frontier_clamp(job->state, sc.min_depth + 1);
    if (result < 0) {
        fprintf(stderr, "gather: cannot read %s/%s\n", job->opts->outdir, STORE_STATE_FILE);
        return result;
    }
    if (sc.rows > 0) {
        for (int d = sc.min_depth + 1; d <= CRAWL_RESUME_DEPTHS; d++)
            deeper += sc.at[d];
        /* The rows stay in the database: the frontier reads them back a window at a time. */
        crawl_frontier_resume(&cj->frontier, sc.min_depth, sc.at[sc.min_depth], deeper, sc.max_seq);
        cj->resumed = sc.rows;
        job->rep.queued += sc.rows;
    }
    if (cj->resumed > 0 && !job->opts->quiet)
        fprintf(stderr, "gather: resuming the crawl in %s: %lu URLs still to fetch, from depth %d\n",
                job->opts->outdir, cj->resumed, cj->frontier.depth);
    return 0;
}

/* ---- the frontier's store -------------------------------------------------------------------- */

static const char *crawl_spill_unredact(void *arg, const char *stored, char **owned)
{
    return crawl_resume_url(arg, stored, owned);
}

/* With no state database (--discard, --mode sync), a level that outgrows the window spills to a
 * database of its own in $TMPDIR, opened only then (on the loop, once): a crawl that fits in the
 * window opens nothing. */
static store_state_t *crawl_spill_open(void *arg)
{
    crawl_job_t *cj = arg;

    if (store_state_open_temp(&cj->spill) < 0) {
        fprintf(stderr, "gather: the crawl's frontier stays in memory\n");
        return NULL;
    }
    store_state_attach(cj->spill, &cj->job.sched);
    return cj->spill;
}

/* Each level keeps CRAWL_FRONTIER_WINDOW items in memory, the rest in the state database (every
 * item is there anyway, for resume) or the temporary one. GATHER_FRONTIER_WINDOW=N sets the
 * window (a test knob: a tiny one makes a small site spill; 0 keeps everything in memory). */
static void crawl_spill_setup(crawl_job_t *cj)
{
    const char *v = getenv("GATHER_FRONTIER_WINDOW");
    size_t window = CRAWL_FRONTIER_WINDOW;

    if (v && *v) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (*end == '\0')
            window = (size_t)n;
    }
    cj->frontier.open_store = crawl_spill_open;
    cj->frontier.open_arg = cj;
    crawl_frontier_attach(&cj->frontier, cj->job.state, &cj->job.sched, window, cj->job.state != NULL,
                          parse_url_redact, crawl_spill_unredact, cj);
}

/* --redis and --job: checks the job can be used (exit 2 if not) and stores its start URLs and
 * depth; a worker given no start URL takes the job's (for its scope and HAR pages). */
static int crawl_shared_prepare(crawl_job_t *cj, crawl_options_t *o)
{
    json_t *seeds = json_array(), *stored = NULL;
    char *text = NULL, *stored_text = NULL;
    long depth = o->depth;
    int result = -1;

    if (o->sitemap) {
        fprintf(stderr, "gather crawl: --sitemap cannot be used with --redis yet\n");
        goto cleanup;
    }
    for (int i = 0; seeds && i < o->nurls; i++)
        json_array_append_new(seeds, json_string(o->urls[i]));
    if (!seeds || !(text = json_dumps(seeds, JSON_COMPACT))) {
        fprintf(stderr, "gather: out of memory\n");
        goto cleanup;
    }
    if (shared_check(o, "crawl", o->nurls > 0 ? text : NULL, o->depth, &stored_text, &depth) < 0)
        goto cleanup;
    if (o->nurls == 0) {
        size_t n;
        if (!stored_text || !(stored = json_loads(stored_text, 0, NULL)) || !json_is_array(stored) ||
            !(n = json_array_size(stored))) {
            fprintf(stderr, "gather crawl: job %s has no start URLs yet: give at least one\n", o->job_name);
            goto cleanup;
        }
        if (!(cj->stored_starts = calloc(n + 1, sizeof(char *)))) {
            fprintf(stderr, "gather: out of memory\n");
            goto cleanup;
        }
        for (size_t i = 0; i < n; i++) {
            const char *u = json_string_value(json_array_get(stored, i));
            if (!u || !(cj->stored_starts[i] = strdup(u))) {
                fprintf(stderr, "gather: out of memory\n");
                goto cleanup;
            }
        }
        o->urls = cj->stored_starts;
        o->nurls = (int)n;
        o->depth = depth;           /* the job's depth, as its first crawl set it */
    }
    cj->is_shared = 1;
    result = 0;
cleanup:
    json_decref(seeds);
    json_decref(stored);
    free(text);
    free(stored_text);
    return result;
}

int crawl_crawl_run(crawl_options_t *o)
{
    job_spec_t spec = {
        .title = "gather crawl",
        .interrupt_hint = "run the same crawl again to resume",
        .use_state = 1,
        .host_permits = o->per_host > 0 ? o->per_host : o->concurrency,
        .keep_hosts = 1,
        .host_entry_size = sizeof(crawl_site_t),
        .host_free = crawl_robots_free,
        .driver = dispatcher_step,
    };
    crawl_job_t *cj = calloc(1, sizeof(*cj));
    int status = CRAWL_EXIT_FAILURES;
    int result, nothing, ran = 0;

    if (!cj) {
        fprintf(stderr, "gather: out of memory\n");
        return CRAWL_EXIT_FAILURES;
    }
    if (crawl_frontier_init(&cj->frontier) < 0 || !(cj->refused = store_seen_new(256))) {
        fprintf(stderr, "gather: out of memory\n");
        goto cleanup;
    }
    /* A crawl paced by --delay/-w is bound by the delay, not by the CPU, and the gap between two
     * requests to a host is kept on this loop: run its transfers here too, so that no hand-off to
     * a worker thread (whose latency varies) can shorten the gap the server sees. */
    if (o->delay_ms > 0 && !o->workers_given)
        o->http.workers = 1;
    if (o->redis_url) {
        if (crawl_shared_prepare(cj, o) < 0) {
            status = CRAWL_EXIT_USAGE;
            goto cleanup;
        }
        spec.driver = crawl_worker_step;
    }
    if (job_open(&cj->job, o, &spec) < 0)
        goto cleanup;
    /* Pages are parsed on the pool threads (page.c): libxml2's globals are set up once, here,
     * before any of them can race to do it. */
    xmlInitParser();
    /* A shared job's frontier is in Redis: the local one only holds this worker's retries. */
    if (!cj->is_shared)
        crawl_spill_setup(cj);
    /* The start URLs come first: a resumed URL gets its password back from them. */
    result = crawl_starts(cj);
    if (result == 0 && (cj->is_shared || (result = crawl_resume(cj)) == 0))
        result = crawl_seed(cj);
    if (result < 0) {
        status = result == -EINVAL ? CRAWL_EXIT_USAGE : CRAWL_EXIT_FAILURES;
        goto cleanup;
    }
    cj->job.progress.describe = crawl_describe;
    cj->job.progress.describe_arg = cj;
    result = job_run(&cj->job);
    ran = 1;
    if (result < 0)
        fprintf(stderr, "gather: crawl failed to start: %s\n", strerror(-result));
    if (!o->enqueue_only || o->json) {
        crawl_report_summary(&cj->job.rep);
        crawl_summary(cj);
    }
    /* Every start URL failed, was refused or led nowhere: a crawl of nothing is a failure. (A
     * finished crawl run again fetches nothing too, but its start URLs are not tried again.) */
    nothing = !cj->job.interrupted && cj->pages == 0 && cj->assets == 0 && cj->start_failure[0];
    if (nothing)
        fprintf(stderr, "gather crawl: nothing was crawled: %s\n", cj->start_failure);
    status = job_exit_status(&cj->job, cj->job.rep.failed > 0 || nothing);

cleanup:
    if (job_close(&cj->job) < 0 && status == CRAWL_EXIT_OK)
        status = CRAWL_EXIT_FAILURES;
    /* After job_close, which wrote every row: an interrupted crawl's files are converted too. */
    if (ran && o->convert_links && crawl_convert_links(o) < 0 && status == CRAWL_EXIT_OK)
        status = CRAWL_EXIT_FAILURES;
    for (size_t i = 0; i < cj->nstarts; i++)
        free(cj->starts[i]);
    free(cj->starts);
    for (size_t i = 0; i < cj->norigins; i++)
        free(cj->origins[i]);
    free(cj->origins);
    o->http.cred_origins = NULL;
    o->http.ncred_origins = 0;
    crawl_scope_free(&cj->scope);
    if (cj->spill && store_state_close(cj->spill) < 0)
        fprintf(stderr, "gather: could not remove the frontier's temporary database\n");
    crawl_frontier_free(&cj->frontier);
    store_seen_free(cj->refused);
    crawl_worker_free(cj);
    free(cj);
    return status;
}

int crawl_crawl_main(int argc, char **argv)
{
    return crawl_options_main(CRAWL_CMD_CRAWL, argc, argv, crawl_crawl_run);
}
