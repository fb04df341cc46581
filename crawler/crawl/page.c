/* crawl_page: one frontier item: robots gate, per-host slot and delay, fetch, then save and/or
 * parse the body as it streams, and hand the links found back to the frontier. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crawler/crawl/crawl_job.h"
#include "crawler/crawl/filter.h"
#include "net/async/sleep.h"
#include "parse/robots.h"
#include "parse/html.h"
#include "parse/url.h"
#include "storage/writer.h"

#define PAGE_PATH_MAX 4096

enum page_outcome { PAGE_OK, PAGE_FAILED, PAGE_SKIPPED, PAGE_REDIRECTED, PAGE_REQUEUED,
                    PAGE_INTERRUPTED };

struct crawl_page {
    task_t task;
    crawl_job_t *job;
    permit_t slot;               /* -c: the dispatcher's, handed over */
    permit_t host_slot;          /* the site's per-host semaphore */
    task_defer_t finally;        /* report, record, requeue, give the host back */
    crawl_item_t *item;
    crawl_site_t *site;
    crawl_parent_t *as_parent;   /* this page, for the links found on it (made at the first) */
    http_req_t req;
    http_sink_t sink;            /* tees the body to the writer and the parser */
    store_writer_t *writer;      /* when the body is saved */
    parse_html_t *html;          /* when the body is an HTML page whose links we follow */
    int decided;                 /* the first body bytes decided html/save */
    int is_html;
    int unwanted;                /* a body we neither save nor parse: the transfer is stopped */
    uint64_t parsed;
    int capped;                  /* over --max-page-size: the rest was not parsed */
    unsigned long links;
    const char *skipped;         /* "robots", "filter": not fetched or not kept */
    enum { DROP_NONE, DROP_SEEN, DROP_SCOPE, DROP_FILTER } redirect_dropped;   /* its target */
    enum page_outcome outcome;
    char path[PAGE_PATH_MAX];
    char reason[1024];
};

/* ---- the body: decide, then tee ------------------------------------------------------------ */

static int page_sniff_html(const char *data, size_t len)
{
    size_t i = 0;

    if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF)
        i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return (len - i >= 14 && strncasecmp(data + i, "<!doctype html", 14) == 0) ||
           (len - i >= 5 && strncasecmp(data + i, "<html", 5) == 0) ||
           (len - i >= 5 && strncasecmp(data + i, "<head", 5) == 0) ||
           (len - i >= 4 && strncasecmp(data + i, "<!--", 4) == 0 && memmem(data, len, "<html", 5));
}

static int page_type_is_html(const char *ct)
{
    return strncasecmp(ct, "text/html", 9) == 0 || strncasecmp(ct, "application/xhtml+xml", 21) == 0;
}

static void page_on_link(void *arg, const char *url, parse_link_kind_t kind)
{
    struct crawl_page *p = arg;
    char shown[PARSE_URL_REDACT_SIZE];

    p->links++;
    p->job->links++;
    if (!p->as_parent && (p->as_parent = crawl_parent_new(p->item->url))) {
        char ref[CRAWL_PAGEREF_SIZE];

        crawl_job_pageref(p->job, p->item->url, p->item->parent, ref, &p->as_parent->seed);
    }
    if (!p->as_parent ||
        crawl_job_offer(p->job, url, p->item->depth + 1,
                        kind == PARSE_LINK_PAGE ? CRAWL_KIND_PAGE : CRAWL_KIND_ASSET, 0, p->as_parent) < 0)
        fprintf(stderr, "gather: out of memory queueing %s\n", parse_url_redact(url, shown, sizeof(shown)));
}

/* Called at the first body byte of a 2xx answer: is it HTML, do we save it, do we parse it? */
static int page_decide(struct crawl_page *p, const char *data, size_t len)
{
    job_t *job = &p->job->job;
    crawl_options_t *o = job->opts;
    const char *ct = p->req.content_type;
    int save, follow;

    p->decided = 1;
    p->is_html = ct[0] ? page_type_is_html(ct) : page_sniff_html(data, len);
    save = (o->save == CRAWL_SAVE_ALL || o->save == (p->is_html ? CRAWL_SAVE_PAGES : CRAWL_SAVE_ASSETS)) &&
           crawl_filter_ext(&o->filter, p->item->url) && crawl_filter_type(&o->filter, ct);
    /* Links are followed from pages (never from assets), down to -d, and one level further only
     * for the assets the deepest pages need. */
    follow = p->is_html && p->item->kind == CRAWL_KIND_PAGE &&
             (p->item->depth < o->depth || o->save == CRAWL_SAVE_ALL || o->save == CRAWL_SAVE_ASSETS);
    /* A page the crawl chose to visit is read to its end even when nothing keeps it (the visit
     * is the point: link checking, --save none); an asset or a non-HTML answer to a page link
     * that nobody wants is abandoned at its first bytes. */
    if (!save && !follow && !(p->is_html && p->item->kind == CRAWL_KIND_PAGE)) {
        p->unwanted = 1;
        return -ECANCELED;
    }
    if (save) {
        int result = store_path_unique(job->names, p->item->url, o->layout, p->path, sizeof(p->path));
        if (result < 0) {
            snprintf(p->reason, sizeof(p->reason), "cannot make a safe file name: %s", strerror(-result));
            return result;
        }
        p->writer = store_writer_new(&job->sched, job->dirfd, p->path, o->do_fsync);
        if (!p->writer)
            return -ENOMEM;
        store_writer_on_drain(p->writer, http_req_resume_cb, &p->req);
    }
    if (follow) {
        p->html = parse_html_new(p->item->url, page_on_link, p);
        if (!p->html)
            return -ENOMEM;
    }
    return 0;
}

static int page_sink_write(http_sink_t *sink, const char *data, size_t len)
{
    struct crawl_page *p = container_of(sink, struct crawl_page, sink);
    int result;

    if (!p->decided && (result = page_decide(p, data, len)) < 0)
        return result;
    if (p->writer) {
        http_sink_t *w = store_writer_sink(p->writer);
        result = w->write(w, data, len);
        if (result != HTTP_SINK_OK)
            return result;       /* paused: the same bytes come again, parse them then */
    }
    /* --max-page-size bounds a page we parse, and one we only visit (nothing else needs its
     * bytes): a page that decodes to gigabytes stops there. */
    if ((p->html || !p->writer) && !p->capped) {
        uint64_t room = (uint64_t)p->job->job.opts->max_page_bytes - p->parsed;
        size_t n = len < room ? len : (size_t)room;
        int fed = n > 0 && p->html ? parse_html_feed(p->html, data, n) : PARSE_OK;
        if (fed == PARSE_ENOMEM)
            return -ENOMEM;
        p->parsed += n;
        /* The parser's own cap (PARSE_HTML_MAX_BYTES) counts as --max-page-size's: never a page
         * cut short in silence. */
        if (n < len || fed == PARSE_ETOOLONG) {
            p->capped = 1;
            if (!p->writer)
                return -ECANCELED;   /* nothing more to do with this body */
        }
    }
    return HTTP_SINK_OK;
}

/* ---- politeness ------------------------------------------------------------------------------ */

/* Reserves this request's start time on its host: no two starts closer than the host's delay.
 * Returns how long to wait, in ms. */
static uint64_t page_reserve_slot(crawl_host_t *h)
{
    uint64_t now = uv_hrtime();
    uint64_t start = h->next_ok_ns > now ? h->next_ok_ns : now;

    h->next_ok_ns = start + (uint64_t)h->delay_ms * 1000000ULL;
    return (start - now) / 1000000ULL;
}

/* No request to h starts in the next ms (already capped by --max-wait). */
static void page_pause_host(crawl_host_t *h, long ms)
{
    uint64_t until = uv_hrtime() + (uint64_t)ms * 1000000ULL;

    if (until > h->next_ok_ns)
        h->next_ok_ns = until;
}

/* ---- the task ----------------------------------------------------------------------------------- */

/* A 3xx: the target is offered like a link found on this page's own level. */
static void page_redirect(struct crawl_page *p)
{
    crawl_job_t *job = p->job;
    crawl_item_t *it = p->item;
    long max_redirs = job->job.opts->http.max_redirs;
    char *target = NULL;
    int result;

    job->redirects++;
    if (it->hops >= max_redirs) {
        snprintf(p->reason, sizeof(p->reason), "too many redirects (more than %ld)", max_redirs);
        return;
    }
    if (parse_url_normalize(p->req.redirect_url, &target) < 0) {
        char shown[PARSE_URL_REDACT_SIZE];
        snprintf(p->reason, sizeof(p->reason), "redirect to an unusable URL: %.300s",
                 parse_url_redact(p->req.redirect_url, shown, sizeof(shown)));
        return;
    }
    result = strcmp(target, it->url) == 0 ? -ELOOP
           : crawl_job_offer(job, target, it->depth, it->kind, it->hops + 1, it->parent);
    if (result == -ELOOP) {
        snprintf(p->reason, sizeof(p->reason), "redirect loop: redirects to itself");
    } else if (result < 0) {
        snprintf(p->reason, sizeof(p->reason), "out of memory");
    } else if (result == 0) {
        /* Nothing new to fetch: normal for a link (the target is reached another way), but a
         * start URL that ends here leads nowhere and the crawl says why (page_note_start). */
        p->redirect_dropped = store_seen_has(job->frontier.seen, target, strlen(target)) ? DROP_SEEN
                              : !crawl_scope_contains(&job->scope, target) ? DROP_SCOPE : DROP_FILTER;
    }
    free(target);
}

static json_t *page_json(struct crawl_page *p)
{
    json_t *o = json_pack("{s:i, s:s}", "depth", p->item->depth, "kind",
                          p->item->kind == CRAWL_KIND_PAGE ? "page" : "asset");

    if (o && p->html)
        json_object_set_new(o, "links", json_integer((json_int_t)p->links));
    if (o && p->capped)
        json_object_set_new(o, "parsed", json_string("truncated at --max-page-size"));
    if (o && p->item->attempts > 0)
        json_object_set_new(o, "attempts", json_integer(p->item->attempts + 1));
    return o;
}

/* Classifies a finished transfer; fills p->reason for a failure. */
static enum page_outcome page_classify(struct crawl_page *p)
{
    job_t *job = &p->job->job;
    crawl_item_t *it = p->item;
    long status = p->req.status;

    if (p->req.code == CURLE_OK && status >= 300 && status < 400 && p->req.redirect_url) {
        page_redirect(p);
        return p->reason[0] ? PAGE_FAILED : PAGE_REDIRECTED;
    }
    if (crawl_retry_wanted(&p->req) && it->attempts < job->opts->retries && !job->stopping) {
        /* The same policy as get (crawler/retry.c): pause the host for Retry-After or the
         * backoff, and put the URL back. The retry holds no permit while the pause lasts: it
         * waits in the frontier, and the host's next request waits for the pause. */
        it->attempts++;
        page_pause_host(&p->site->host, crawl_retry_delay_ms(&job->retry, &p->req, it->attempts,
                                                             (long long)time(NULL)));
        return PAGE_REQUEUED;
    }
    if (p->unwanted) {
        p->job->skipped_filter++;
        p->skipped = "filter";
        return PAGE_SKIPPED;
    }
    /* A page past --max-page-size that we only parsed was stopped on purpose. */
    if (http_req_ok(&p->req) || (p->capped && !p->writer && p->req.code == CURLE_WRITE_ERROR))
        return PAGE_OK;
    if (p->reason[0])
        return PAGE_FAILED;
    if (p->writer && store_writer_error(p->writer) && p->req.code == CURLE_WRITE_ERROR)
        snprintf(p->reason, sizeof(p->reason), "cannot write %.200s/%.300s: %s",
                 job->opts->outdir, p->path, strerror(-store_writer_error(p->writer)));
    else
        http_req_describe(&p->req, &job->opts->http, p->reason, sizeof(p->reason));
    return PAGE_FAILED;
}

static void page_count(struct crawl_page *p)
{
    crawl_job_t *job = p->job;
    crawl_item_t *it = p->item;

    if (it->kind == CRAWL_KIND_PAGE && p->is_html) {
        job->pages++;
        job->pages_at[it->depth < CRAWL_DEPTH_STATS ? it->depth : CRAWL_DEPTH_STATS - 1]++;
    } else {
        job->assets++;
    }
    if (p->capped)
        job->not_parsed++;
}

static void page_report(struct crawl_page *p, enum page_outcome outcome)
{
    job_t *job = &p->job->job;
    crawl_item_t *it = p->item;
    char ref[CRAWL_PAGEREF_SIZE];
    const char *pageref = crawl_job_pageref(p->job, it->url, it->parent, ref, NULL);

    switch (outcome) {
    case PAGE_SKIPPED:
        crawl_report_json(&job->rep, json_pack("{s:s, s:s}", "url", it->url, "skipped", p->skipped));
        break;
    case PAGE_REDIRECTED:
        if (job->rep.har)
            crawl_har_add(job->rep.har, pageref, it->url, &p->req, NULL);
        crawl_report_json(&job->rep, json_pack("{s:s, s:s, s:i, s:i}", "url", it->url, "redirect",
                                               p->req.redirect_url, "status", (int)p->req.status,
                                               "depth", it->depth));
        break;
    case PAGE_REQUEUED:
    case PAGE_INTERRUPTED:
        break;
    case PAGE_OK:
    case PAGE_FAILED:
        crawl_report_result_in(&job->rep, pageref, it->url, outcome == PAGE_OK && p->writer ? p->path : NULL,
                            p->req.url ? &p->req : NULL, outcome == PAGE_OK ? NULL : p->reason,
                            page_json(p));
        break;
    }
}

/* Remembers the outcome in the state database; a URL that was handled leaves the stored
 * frontier (an interrupted or requeued one stays, so a re-run fetches it). URLs are stored with
 * their passwords masked, as crawl_job_queue stores them in the frontier. */
static void page_record(struct crawl_page *p, enum page_outcome outcome)
{
    job_t *job = &p->job->job;
    char url[PARSE_URL_REDACT_SIZE], parent[PARSE_URL_REDACT_SIZE];
    store_record_t rec = {
        .url = parse_url_redact(p->item->url, url, sizeof(url)), .http_code = p->req.status,
        .bytes = p->req.body_bytes,
        .path = p->writer && outcome == PAGE_OK ? p->path : NULL,
        .sha256 = p->writer && outcome == PAGE_OK ? store_writer_sha256(p->writer) : NULL,
        .etag = p->req.etag, .last_modified = p->req.last_modified,
        .error = outcome == PAGE_FAILED ? p->reason : NULL, .depth = p->item->depth,
        .parent = p->item->parent ? parse_url_redact(p->item->parent->url, parent, sizeof(parent)) : NULL,
    };

    if (!job->state || outcome == PAGE_REQUEUED || outcome == PAGE_INTERRUPTED)
        return;
    rec.status = outcome == PAGE_OK || outcome == PAGE_REDIRECTED ? STORE_URL_DONE
               : outcome == PAGE_SKIPPED ? STORE_URL_SKIPPED : STORE_URL_FAILED;
    if (store_state_put(job->state, &rec) < 0 || store_state_frontier_del(job->state, rec.url) < 0)
        fprintf(stderr, "gather: out of memory recording %s\n", rec.url);
}

/* The transfer ended with `error`: what it means for this URL. */
static enum page_outcome page_transfer_outcome(struct crawl_page *p, int error)
{
    if (error == -ECANCELED || (task_cancelled(&p->task) && p->req.code == CURLE_ABORTED_BY_CALLBACK))
        return PAGE_INTERRUPTED;
    if (error < 0) {
        snprintf(p->reason, sizeof(p->reason), "could not start the transfer: %s", strerror(-error));
        return PAGE_FAILED;
    }
    if (p->html)
        parse_html_end(p->html);
    p->outcome = page_classify(p);
    if (p->outcome == PAGE_OK)
        page_count(p);
    return p->outcome;
}

/* The commit (after PAGE_OK) or the abort settled with `error`. */
static void page_disk_outcome(struct crawl_page *p, int error)
{
    if (p->outcome != PAGE_OK)
        return;
    if (error < 0) {
        snprintf(p->reason, sizeof(p->reason), "cannot write %.200s/%.300s: %s",
                 p->job->job.opts->outdir, p->path, strerror(-error));
        p->outcome = PAGE_FAILED;
    } else {
        p->job->saved++;
    }
}

/* A start URL (depth 0, found on no page; its redirect targets too) that came to nothing: the
 * first one's reason is kept, so a crawl that fetched nothing says why (crawl.c). */
static void page_note_start(struct crawl_page *p)
{
    crawl_job_t *cj = p->job;
    const char *robots = p->site && p->site->robots_error ? p->site->robots_error : NULL;
    char why[640];

    if (p->item->depth != 0 || p->item->parent || cj->start_failure[0])
        return;
    if (p->outcome == PAGE_FAILED)
        snprintf(why, sizeof(why), "%.600s", p->reason);
    else if (p->outcome == PAGE_SKIPPED && !strcmp(p->skipped, "robots"))
        snprintf(why, sizeof(why), "disallowed by robots.txt%s%.400s%s (--no-robots ignores it)",
                 robots ? " (it could not be read: " : "", robots ? robots : "", robots ? ")" : "");
    else if (p->outcome == PAGE_SKIPPED)
        snprintf(why, sizeof(why), "neither HTML nor saved (--save, --accept, --accept-type)");
    else if (p->outcome == PAGE_REDIRECTED && p->redirect_dropped == DROP_SEEN)
        snprintf(why, sizeof(why), "redirect loop: redirects back to %.300s", p->req.redirect_url);
    else if (p->outcome == PAGE_REDIRECTED && p->redirect_dropped == DROP_SCOPE)
        snprintf(why, sizeof(why), "redirects to %.300s, out of --scope", p->req.redirect_url);
    else if (p->outcome == PAGE_REDIRECTED && p->redirect_dropped == DROP_FILTER)
        snprintf(why, sizeof(why), "redirects to %.300s, refused by the filters", p->req.redirect_url);
    else
        return;
    snprintf(cj->start_failure, sizeof(cj->start_failure), "%.300s: %.440s", p->item->url, why);
}

/* The end, however it comes: report, record, put a retry back, give the host back. */
static void page_finally(task_defer_t *d)
{
    struct crawl_page *p = container_of(d, struct crawl_page, finally);
    crawl_job_t *cj = p->job;

    page_report(p, p->outcome);
    page_record(p, p->outcome);
    page_note_start(p);
    if (p->outcome == PAGE_REQUEUED) {
        crawl_frontier_requeue(&cj->frontier, p->item);
        p->item = NULL;
    }
    permit_release(&p->host_slot);
    if (p->site)
        crawl_hostmap_put(cj->job.hosts, &p->site->host);
    p->site = NULL;
}

/* After a wait before the transfer (robots.txt, the host's slot, its delay): 1 when the task
 * was cancelled or the wait failed, with the outcome set (the URL stays in the stored frontier). */
static int page_interrupted(struct crawl_page *p, int wait_error)
{
    if (!task_cancelled(&p->task) && wait_error == 0)
        return 0;
    p->outcome = PAGE_INTERRUPTED;
    return 1;
}

/* async with host slot: await robots.txt, the host's slot and its delay, then the transfer with
 * the body streamed to the writer and the parser; then the disk makes the outcome final. */
static void page_step(task_t *t)
{
    struct crawl_page *p = container_of(t, struct crawl_page, task);
    crawl_job_t *cj = p->job;
    job_t *job = &cj->job;
    crawl_host_t *host = NULL;
    uint64_t wait;

    CORO_BEGIN(t);
    p->outcome = PAGE_FAILED;
    if (crawl_hostmap_get_url(job->hosts, p->item->url, &host) < 0) {
        snprintf(p->reason, sizeof(p->reason), "out of memory");
        goto finish;
    }
    p->site = crawl_site_of(host);
    if (p->site->host.delay_ms < job->opts->delay_ms)
        p->site->host.delay_ms = job->opts->delay_ms;
    if (job->opts->robots) {
        crawl_robots_start(cj, p->site, p->item->url);
        if (p->site->robots_state != 2)
            AWAIT(t, future_ref(p->site->robots_ready));
        if (page_interrupted(p, 0))
            goto finish;
        if (!crawl_robots_allows(cj, p->site, p->item->url)) {
            cj->skipped_robots++;
            p->skipped = "robots";
            p->outcome = PAGE_SKIPPED;
            goto finish;
        }
    }
    AWAIT(t, permit_acquire(&p->host_slot, &p->site->host.sem));
    if (page_interrupted(p, task_error(t)))
        goto finish;
    if ((wait = page_reserve_slot(&p->site->host)) > 0)
        AWAIT(t, net_sleep(&job->sched, wait));
    if (page_interrupted(p, task_error(t)))
        goto finish;

    p->sink.write = page_sink_write;
    p->req.url = p->item->url;
    p->req.sink = &p->sink;
    p->req.follow = -1;                   /* redirects go through scope and robots: page_redirect */
    /* A page is parsed, so it may come compressed (decoded with bounded memory, every cap
     * counting decoded bytes); an asset is saved as the server sends it, like `get`. */
    p->req.decode = p->item->kind == CRAWL_KIND_PAGE;
    p->req.max_bytes = job->opts->http.max_filesize;
    job_transfer_begin(job);
    AWAIT(t, http_req_start(job->http, &p->req));
    job_transfer_end(job);
    permit_release(&p->host_slot);
    p->outcome = page_transfer_outcome(p, task_error(t));
    if (p->writer) {
        AWAIT(t, p->outcome == PAGE_OK ? store_writer_commit(p->writer) : store_writer_abort(p->writer, 0));
        page_disk_outcome(p, task_error(t));
    }
finish:
    CORO_END(t);
}

static void page_free(future_t *done, void *arg)
{
    struct crawl_page *p = arg;

    (void)done;
    store_writer_free(p->writer);
    parse_html_free(p->html);
    http_req_cleanup(&p->req);
    crawl_parent_unref(p->as_parent);
    crawl_item_free(p->item);
    free(p);
}

void crawl_page_spawn(crawl_job_t *cj, crawl_item_t *item)
{
    struct crawl_page *p = calloc(1, sizeof(*p));
    int result = -ENOMEM;

    if (!p || (result = job_spawn(&cj->job, &p->task, page_step)) < 0) {
        /* Not started: the item stays in the stored frontier, so a re-run fetches it. */
        if (result == -ENOMEM)
            crawl_report_result(&cj->job.rep, item->url, NULL, NULL, "out of memory", NULL);
        crawl_item_free(item);
        free(p);
        permit_release(&cj->dispatch_slot);
        return;
    }
    p->job = cj;
    p->item = item;
    permit_init(&p->slot, &p->task);
    permit_init(&p->host_slot, &p->task);
    task_defer(&p->task, &p->finally, page_finally);
    permit_move(&p->slot, &cj->dispatch_slot);
    future_on_done(task_done(&p->task), page_free, p);   /* the inline slot: cannot fail */
}
