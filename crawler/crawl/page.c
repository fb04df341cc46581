/* crawl_page: one frontier item: robots gate, per-host slot and delay, fetch, then save and/or
 * parse the body as it streams, and hand the links found back to the frontier. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crawler/crawl/crawl_job.h"
#include "crawler/crawl/filter.h"
#include "net/async/executor.h"
#include "net/async/sleep.h"
#include "parse/css.h"
#include "parse/robots.h"
#include "parse/html.h"
#include "parse/url.h"
#include "storage/writer.h"

#define PAGE_PATH_MAX 4096
/* A page of at most this many bytes is held whole and read for links on the pool when its
 * transfer ends, off the loop thread, by parse_html_links_at (the raw tag reader -k uses: it
 * reports the links libxml2's parse does, checked on the test corpus, tag soup and 5,372 real
 * pages, at about half of libxml2 2.9's cost, the largest part of a crawl's CPU). A bigger page
 * is parsed by libxml2 as it streams, on the loop. Memory: -c pages of this size at most. */
#define PAGE_POOL_MAX (1024 * 1024)

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
    parse_css_t *css;            /* when the body is a stylesheet whose references we fetch */
    int follow;                  /* the body is an HTML page whose links we follow */
    parse_html_t *html;          /* libxml2, streaming on the loop: a page over PAGE_POOL_MAX,
                                  * or one kept on disk (-nc, a 304 under -N) */
    /* Parsing on the pool: the body is held in `body` while it fits PAGE_POOL_MAX; the position
     * reader then runs on a pool thread and puts the links in `found` ("K" kind byte, URL, NUL; one
     * buffer, not an allocation per link), offered to the frontier back on the loop. */
    int pool_parse;              /* the body is being held for the pool */
    int parse_pending;           /* the transfer ended: the held body still has to be parsed */
    int collect;                 /* links go to `found` (set while the pool parses) */
    char *body, *found;
    size_t body_len, body_cap, found_len, found_cap;
    int decided;                 /* the first body bytes decided html/save */
    int is_html;
    int unwanted;                /* a body we neither save nor parse: the transfer is stopped */
    uint64_t parsed;
    int capped;                  /* over --max-page-size: the rest was not parsed */
    unsigned long links;
    const char *skipped;         /* "robots", "filter": not fetched or not kept */
    enum { DROP_NONE, DROP_SEEN, DROP_SCOPE, DROP_FILTER } redirect_dropped;   /* its target */
    enum page_outcome outcome;
    char *redirect_target;       /* a 3xx: where it leads, normalised (recorded for -k) */
    /* -nc and -N: what the disk already holds under this URL's name (read on the pool) */
    int local;                   /* 1: the file exists */
    int local_error;             /* -errno of reading it, or of setting its mtime */
    struct timespec local_mtime;
    int read_body;               /* page_local_read also reads a page's bytes (it is kept) */
    char *local_body;            /* a page's saved bytes, read for its links (malloc'd) */
    size_t local_len;
    int kept;                    /* the saved file stays as it is: -nc, or a 304 under -N */
    int gated;                   /* a shared job's slot on the host is held */
    int local_known;             /* the state database has a saved row for it */
    int local_converted;         /* ... and -k rewrote its links: they are not the server's */
    struct curl_slist *headers;  /* -N: the job's headers and If-Modified-Since (owned) */
    time_t server_mtime;         /* -N: Last-Modified of a body saved, for its mtime; -1 none */
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

/* A stylesheet: served as text/css, or, with no type, a URL path ending in ".css". */
static int page_is_css(const char *ct, const char *url)
{
    size_t n = strcspn(url, "?#");

    if (ct[0])
        return strncasecmp(ct, "text/css", 8) == 0 && (ct[8] == '\0' || ct[8] == ';' || ct[8] == ' ');
    return n >= 4 && strncasecmp(url + n - 4, ".css", 4) == 0;
}

/* Appends len bytes to the buffer *buf (capacity *cap, length *n), doubling it. -ENOMEM. */
static int page_append(char **buf, size_t *n, size_t *cap, const char *data, size_t len)
{
    if (*n + len > *cap) {
        size_t want = *cap ? *cap : 16384;
        char *nb;
        while (want < *n + len)
            want *= 2;
        if (!(nb = realloc(*buf, want)))
            return -ENOMEM;
        *buf = nb;
        *cap = want;
    }
    memcpy(*buf + *n, data, len);
    *n += len;
    return 0;
}

/* A link found on the page, on the loop thread: to the frontier. */
static void page_offer_link(struct crawl_page *p, const char *url, parse_link_kind_t kind)
{
    char shown[PARSE_URL_REDACT_SIZE];

    p->links++;
    p->job->links++;
    if (!p->as_parent && (p->as_parent = crawl_parent_new(p->item->url))) {
        char ref[CRAWL_PAGEREF_SIZE];

        crawl_job_pageref(p->job, p->item->url, p->item->parent, ref, &p->as_parent->seed);
        if (p->item->shared)
            p->as_parent->level_delta = p->item->shared->e->level - p->item->depth;
    }
    if (!p->as_parent ||
        crawl_job_offer(p->job, url, p->item->depth + 1,
                        kind == PARSE_LINK_PAGE ? CRAWL_KIND_PAGE : CRAWL_KIND_ASSET, 0, p->as_parent) < 0)
        fprintf(stderr, "gather: out of memory queueing %s\n", parse_url_redact(url, shown, sizeof(shown)));
}

/* How a body of type ct (NULL: unknown) is named: --layout, -nH, --cut-dirs, -E. */
static store_naming_t page_naming(const crawl_options_t *o, const char *ct)
{
    return (store_naming_t){.layout = o->layout, .no_host = o->no_host_dirs, .cut_dirs = (int)o->cut_dirs,
                            .ext = o->adjust_extension && ct ? store_naming_ext(ct) : NULL};
}

/* The parser's callback: on the loop, straight to the frontier; on the pool (p->collect), into
 * p->found, touching nothing else of the job. A link that finds no memory is dropped, as
 * parse_html drops links when it runs out. */
static void page_on_link(void *arg, const char *url, parse_link_kind_t kind)
{
    struct crawl_page *p = arg;
    char k = kind == PARSE_LINK_PAGE ? 'P' : kind == PARSE_LINK_STYLESHEET ? 'S' : 'A';
    size_t before = p->found_len;

    if (!p->collect) {
        page_offer_link(p, url, kind);
        return;
    }
    if (page_append(&p->found, &p->found_len, &p->found_cap, &k, 1) < 0 ||
        page_append(&p->found, &p->found_len, &p->found_cap, url, strlen(url) + 1) < 0)
        p->found_len = before;
}

/* The position reader's callback on the pool: the span is not needed here. */
static void page_on_link_at(void *arg, const char *url, parse_link_kind_t kind, size_t offset, size_t len)
{
    (void)offset;
    (void)len;
    page_on_link(arg, url, kind);
}

/* On a pool thread: the held body through the parser. */
static int page_parse_job(void *arg)
{
    struct crawl_page *p = arg;
    int result;

    result = parse_html_links_at(p->body ? p->body : "", p->body_len, p->item->url, page_on_link_at, p);
    return result == PARSE_ENOMEM ? -ENOMEM : 0;
}

/* Back on the loop: the links the pool found, in document order, to the frontier. */
static void page_offer_found(struct crawl_page *p)
{
    size_t i = 0;

    while (i < p->found_len) {
        parse_link_kind_t kind = p->found[i] == 'P'   ? PARSE_LINK_PAGE
                                 : p->found[i] == 'S' ? PARSE_LINK_STYLESHEET
                                                      : PARSE_LINK_ASSET;
        const char *url = p->found + i + 1;
        page_offer_link(p, url, kind);
        i += 1 + strlen(url) + 1;
    }
    free(p->found);
    free(p->body);
    p->found = p->body = NULL;
    p->found_len = p->found_cap = p->body_len = p->body_cap = 0;
}

/* Called at the first body byte of a 2xx answer: is it HTML, do we save it, do we parse it? */
static int page_decide(struct crawl_page *p, const char *data, size_t len)
{
    job_t *job = &p->job->job;
    crawl_options_t *o = job->opts;
    const char *ct = p->req.content_type;
    int save, follow, follow_css;

    p->decided = 1;
    p->is_html = ct[0] ? page_type_is_html(ct) : page_sniff_html(data, len);
    /* -p: what a page needs is saved whatever --save says (a page's own requisites). */
    save = (o->save == CRAWL_SAVE_ALL || o->save == (p->is_html ? CRAWL_SAVE_PAGES : CRAWL_SAVE_ASSETS) ||
            (o->page_requisites && p->item->kind == CRAWL_KIND_ASSET)) &&
           crawl_filter_ext(&o->filter, p->item->url) && crawl_filter_type(&o->filter, ct);
    /* Links are followed from pages (never from assets), down to -d, and one level further only
     * for the assets the deepest pages need. */
    follow = p->is_html && p->item->kind == CRAWL_KIND_PAGE &&
             (p->item->depth < o->depth || o->save == CRAWL_SAVE_ALL || o->save == CRAWL_SAVE_ASSETS ||
              o->page_requisites);
    /* A stylesheet's references (url(), @import) are requisites of the page that needed it,
     * fetched whatever their depth, and only ever as assets: read it when assets are kept. */
    follow_css = !p->is_html && (o->save == CRAWL_SAVE_ALL || o->save == CRAWL_SAVE_ASSETS ||
                                 o->page_requisites) &&
                 page_is_css(ct, p->item->url);
    /* A page the crawl chose to visit is read to its end even when nothing keeps it (the visit
     * is the point: link checking, --save none); an asset or a non-HTML answer to a page link
     * that nobody wants is abandoned at its first bytes. */
    if (!save && !follow && !follow_css && !(p->is_html && p->item->kind == CRAWL_KIND_PAGE)) {
        p->unwanted = 1;
        return -ECANCELED;
    }
    if (save) {
        store_naming_t naming = page_naming(o, ct);
        int result;

        /* -E knows the type from the header only: a page sniffed as HTML has no Content-Type */
        if (o->adjust_extension && !ct[0] && p->is_html)
            naming.ext = ".html";
        result = store_path_unique_as(job->names, p->item->url, &naming, p->path, sizeof(p->path));
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
        p->follow = 1;
        p->pool_parse = 1;
    }
    if (follow_css) {
        p->css = parse_css_new(p->item->url, page_on_link, p);
        if (!p->css)
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
    if ((p->follow || p->css || !p->writer) && !p->capped) {
        uint64_t room = (uint64_t)p->job->job.opts->max_page_bytes - p->parsed;
        size_t n = len < room ? len : (size_t)room;
        int fed = PARSE_OK;
        if (p->pool_parse && p->body_len + n > PAGE_POOL_MAX) {
            /* Too big to hold: parse what was held, and the rest as it comes, here. */
            p->pool_parse = 0;
            if (!(p->html = parse_html_new(p->item->url, page_on_link, p)))
                return -ENOMEM;
            fed = parse_html_feed(p->html, p->body ? p->body : "", p->body_len);
            free(p->body);
            p->body = NULL;
            p->body_len = p->body_cap = 0;
        }
        if (p->pool_parse)
            fed = page_append(&p->body, &p->body_len, &p->body_cap, data, n) < 0 ? PARSE_ENOMEM : PARSE_OK;
        else if (n > 0 && p->html && fed != PARSE_ENOMEM)
            fed = parse_html_feed(p->html, data, n);
        else if (n > 0 && p->css)
            fed = parse_css_feed(p->css, data, n);
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

/* ---- -nc and -N: the file a previous run saved ------------------------------------------- */

/* On the pool: does p->path exist; its mtime; with read_body, for a page, up to --max-page-size
 * of its bytes (so that its links are followed though it is not fetched again, as wget does). */
static int page_local_read(void *arg)
{
    struct crawl_page *p = arg;
    job_t *job = &p->job->job;
    size_t cap = (size_t)job->opts->max_page_bytes;
    struct stat st;
    int fd;

    fd = openat(job->dirfd, p->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            p->local_error = -errno;    /* not there as far as we can tell: fetched again */
        return 0;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    p->local = 1;
    p->local_mtime = st.st_mtim;
    if (job->state && !p->local_known) {
        store_row_t row;
        if (store_state_get(job->state, p->item->url, &row) == 1 && row.path) {
            p->local_known = 1;
            p->local_converted = row.converted;
        }
        store_row_clear(&row);
    }
    if (p->local_converted)
        p->read_body = 0;               /* its links were rewritten: the server's copy has them */
    if (p->read_body && !p->local_body && st.st_size > 0 &&
        (p->item->kind == CRAWL_KIND_PAGE || page_is_css("", p->item->url))) {
        size_t want = (uint64_t)st.st_size < cap ? (size_t)st.st_size : cap;
        ssize_t n;

        if ((p->local_body = malloc(want ? want : 1))) {
            while (p->local_len < want) {
                n = read(fd, p->local_body + p->local_len, want - p->local_len);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                p->local_len += (size_t)n;
            }
        }
    }
    close(fd);
    return 0;
}

/* On the pool: the saved file gets the server's Last-Modified as its mtime (-N, as wget). */
static int page_set_mtime(void *arg)
{
    struct crawl_page *p = arg;
    struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = p->server_mtime } };

    if (utimensat(p->job->job.dirfd, p->path, times, AT_SYMLINK_NOFOLLOW) < 0)
        p->local_error = -errno;
    return 0;
}

/* An HTTP date (RFC 9110 IMF-fixdate) for t, whatever the locale. */
static void page_http_date(time_t t, char *buf, size_t n)
{
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* -N: the job's headers and If-Modified-Since from the saved file's mtime. 0 or -ENOMEM. */
static int page_conditional(struct crawl_page *p)
{
    char line[64], date[40];
    struct curl_slist *l;

    for (struct curl_slist *h = p->job->job.opts->headers; h; h = h->next) {
        if (!(l = curl_slist_append(p->headers, h->data)))
            return -ENOMEM;
        p->headers = l;
    }
    page_http_date(p->local_mtime.tv_sec, date, sizeof(date));
    snprintf(line, sizeof(line), "If-Modified-Since: %s", date);
    if (!(l = curl_slist_append(p->headers, line)))
        return -ENOMEM;
    p->headers = l;
    p->req.headers = p->headers;
    return 0;
}

/* A saved page kept as it is (-nc, or 304 under -N): its links are followed from the disk's
 * copy, as the fetched page's would be. */
static void page_parse_local(struct crawl_page *p)
{
    crawl_options_t *o = p->job->job.opts;
    char ext[32];
    int html;

    if (!p->local_body)
        return;
    crawl_filter_extension(p->path, ext, sizeof(ext));
    if (p->item->kind != CRAWL_KIND_PAGE) {
        /* a kept stylesheet still names the requisites a mirror needs */
        if (!strcmp(ext, "css") && (o->save == CRAWL_SAVE_ALL || o->save == CRAWL_SAVE_ASSETS ||
                                    o->page_requisites)) {
            if (!(p->css = parse_css_new(p->item->url, page_on_link, p)) ||
                parse_css_feed(p->css, p->local_body, p->local_len) == PARSE_ENOMEM)
                fprintf(stderr, "gather: out of memory reading the links of %s\n", p->path);
            else
                parse_css_end(p->css);
        }
        free(p->local_body);
        p->local_body = NULL;
        return;
    }
    html = !strcmp(ext, "html") || !strcmp(ext, "htm") || !strcmp(ext, "xhtml") ||
           page_sniff_html(p->local_body, p->local_len);
    if (!html || !(p->item->depth < o->depth || o->save == CRAWL_SAVE_ALL || o->save == CRAWL_SAVE_ASSETS))
        return;
    if (!(p->html = parse_html_new(p->item->url, page_on_link, p)) ||
        parse_html_feed(p->html, p->local_body, p->local_len) == PARSE_ENOMEM)
        fprintf(stderr, "gather: out of memory reading the links of %s\n", p->path);
    else
        parse_html_end(p->html);
    free(p->local_body);
    p->local_body = NULL;
}

/* 1 when -nc or -N may keep this URL's file: it would be saved, so it has a name to look at. */
static int page_may_keep(struct crawl_page *p)
{
    crawl_options_t *o = p->job->job.opts;

    if (!o->no_clobber && !o->timestamping)
        return 0;
    if (o->save == CRAWL_SAVE_NONE || (o->save == CRAWL_SAVE_PAGES && p->item->kind == CRAWL_KIND_ASSET))
        return 0;
    return crawl_filter_ext(&o->filter, p->item->url);
}

/* ---- politeness ------------------------------------------------------------------------------ */

/* Reserves this request's start time on its host: no two starts closer than the host's delay.
 * Returns how long to wait, in ms. */
static uint64_t page_reserve_slot(crawl_job_t *cj, crawl_host_t *h)
{
    uint64_t now = uv_hrtime();
    uint64_t start = h->next_ok_ns > now ? h->next_ok_ns : now;
    long delay = h->delay_ms;

    /* --random-wait varies the gap after each request, as wget does, so that no fixed period
     * shows in the server's log. */
    if (cj->job.opts->random_wait && delay > 0)
        delay = crawl_retry_random_wait_ms(&cj->job.retry, delay);
    h->next_ok_ns = start + (uint64_t)delay * 1000000ULL;
    return (start - now) / 1000000ULL;
}

/* The gap between two requests to h in a shared job (the job's clock keeps it): --delay, -w or
 * robots.txt's Crawl-delay, drawn again per request under --random-wait. */
static long page_shared_delay(crawl_job_t *cj, crawl_host_t *h)
{
    long delay = h->delay_ms;

    if (cj->job.opts->random_wait && delay > 0)
        delay = crawl_retry_random_wait_ms(&cj->job.retry, delay);
    return delay;
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
    free(p->redirect_target);
    p->redirect_target = target;
}

static json_t *page_json(struct crawl_page *p)
{
    json_t *o = json_pack("{s:i, s:s}", "depth", p->item->depth, "kind",
                          p->item->kind == CRAWL_KIND_PAGE ? "page" : "asset");

    if (o && p->follow)
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

    if (p->req.code == CURLE_OK && status == 304 && p->local) {
        p->kept = 1;                     /* -N: not modified; the saved file stays */
        p->skipped = "not modified";
        return PAGE_SKIPPED;
    }
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
        if (p->kept) {
            job->rep.skipped++;
            crawl_report_json(&job->rep, json_pack("{s:s, s:s, s:s, s:i}", "url", it->url, "skipped",
                                                   p->skipped, "path", p->path, "depth", it->depth));
            break;
        }
        crawl_report_json(&job->rep, json_pack("{s:s, s:s}", "url", it->url, "skipped", p->skipped));
        break;
    case PAGE_REDIRECTED:
        if (job->rep.har)
            crawl_har_add(job->rep.har, pageref, it->url, &p->req, NULL);
        crawl_report_json(&job->rep, json_pack("{s:s, s:s, s:s, s:i, s:i, s:o}", "url", it->url,
                                               "kind", "redirect", "redirect", p->req.redirect_url,
                                               "status", (int)p->req.status, "depth", it->depth,
                                               "time_ms", crawl_report_real((double)p->req.timing.total_us / 1000.0, 3)));
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
    char url[PARSE_URL_REDACT_SIZE], parent[PARSE_URL_REDACT_SIZE], target[PARSE_URL_REDACT_SIZE];
    store_record_t rec = {
        .url = parse_url_redact(p->item->url, url, sizeof(url)), .http_code = p->req.status,
        .bytes = p->req.body_bytes,
        .path = p->writer && outcome == PAGE_OK ? p->path : NULL,
        .sha256 = p->writer && outcome == PAGE_OK ? store_writer_sha256(p->writer) : NULL,
        .etag = p->req.etag, .last_modified = p->req.last_modified,
        .error = outcome == PAGE_FAILED ? p->reason : NULL, .depth = p->item->depth,
        .parent = p->item->parent ? parse_url_redact(p->item->parent->url, parent, sizeof(parent)) : NULL,
        .content_type = p->writer && outcome == PAGE_OK ? p->req.content_type : NULL,
        /* -k points a link to a URL that redirected at the file saved for where it led */
        .redirect = outcome == PAGE_REDIRECTED && p->redirect_target
                    ? parse_url_redact(p->redirect_target, target, sizeof(target)) : NULL,
    };

    if (!job->state || outcome == PAGE_REQUEUED || outcome == PAGE_INTERRUPTED)
        return;
    rec.status = outcome == PAGE_OK || outcome == PAGE_REDIRECTED ? STORE_URL_DONE
               : outcome == PAGE_SKIPPED ? STORE_URL_SKIPPED : STORE_URL_FAILED;
    /* A file kept (-nc, a 304 under -N) is still this URL's saved copy: -k must find it. A
     * known row keeps its path and its converted mark; an unknown file is recorded as saved. */
    if (p->kept && outcome != PAGE_FAILED) {
        rec.status = STORE_URL_DONE;
        rec.path = p->local_known ? NULL : p->path;
    }
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
    if (p->follow && p->pool_parse)
        p->parse_pending = 1;            /* page_step sends it to the pool */
    else if (p->html)
        parse_html_end(p->html);
    if (p->css)
        parse_css_end(p->css);
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

    if (p->item->depth != 0 || p->item->parent || cj->start_failure[0] || p->kept)
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

/* A shared job's entry: its outcome goes to the job (interrupted: the entry goes back). */
static void page_acknowledge(struct crawl_page *p)
{
    crawl_job_t *cj = p->job;
    char outcome = p->outcome == PAGE_OK || p->outcome == PAGE_REDIRECTED ? 'd'
                 : p->outcome == PAGE_SKIPPED ? 's' : p->outcome == PAGE_FAILED ? 'f' : 'i';
    json_t *res = NULL;

    if (p->gated)
        shared_ungate(cj->shared, p->item->shared);
    p->gated = 0;
    if (outcome != 'i') {
        res = json_pack("{s:b, s:i, s:I, s:i, s:s}", "ok", outcome != 'f', "status", (int)p->req.status,
                        "bytes", (json_int_t)p->req.body_bytes, "depth", p->item->depth, "kind",
                        p->item->kind == CRAWL_KIND_PAGE ? "page" : "asset");
        if (res && p->outcome == PAGE_OK && p->writer) {
            json_object_set_new(res, "path", json_string(p->path));
            if (store_writer_sha256(p->writer))
                json_object_set_new(res, "sha256", json_string(store_writer_sha256(p->writer)));
        }
        if (res && outcome == 'f')
            json_object_set_new(res, "error", json_string(p->reason));
        if (res && outcome == 's' && p->skipped)
            json_object_set_new(res, "skipped", json_string(p->skipped));
        if (res && p->outcome == PAGE_REDIRECTED && p->redirect_target)
            json_object_set_new(res, "redirect", json_string(p->redirect_target));
    }
    crawl_worker_end(cj, p->item, outcome, outcome == 'f' ? p->reason : NULL,
                     p->outcome == PAGE_OK ? (int64_t)p->req.body_bytes : 0, res);
}

/* The end, however it comes: report, record, put a retry back, give the host back. */
static void page_finally(task_defer_t *d)
{
    struct crawl_page *p = container_of(d, struct crawl_page, finally);
    crawl_job_t *cj = p->job;

    page_report(p, p->outcome);
    page_record(p, p->outcome);
    page_note_start(p);
    if (p->item && p->item->shared && p->outcome != PAGE_REQUEUED)
        page_acknowledge(p);
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
    uint64_t wait;

    CORO_BEGIN(t);
    p->outcome = PAGE_FAILED;
    if (crawl_site_get(cj, p->item->url, &p->site) < 0) {
        snprintf(p->reason, sizeof(p->reason), "out of memory");
        goto finish;
    }
    if (page_may_keep(p)) {
        /* The name the body would get; under -E a page is guessed to be HTML (the type is known
         * only from the answer: a page that turns out otherwise is simply fetched again). */
        store_naming_t naming = page_naming(job->opts, p->item->kind == CRAWL_KIND_PAGE ? "text/html" : NULL);
        int result = store_path_unique_as(job->names, p->item->url, &naming, p->path, sizeof(p->path));
        if (result < 0) {
            snprintf(p->reason, sizeof(p->reason), "cannot make a safe file name: %s", strerror(-result));
            goto finish;
        }
        /* -nc keeps the file if it is there: its bytes now. -N reads them on a 304 only, so a
         * page that changed costs no read and no memory for the old copy. */
        p->read_body = job->opts->no_clobber;
        AWAIT(t, executor_run(&job->sched, page_local_read, p));
        if (page_interrupted(p, task_error(t)))
            goto finish;
        if (p->local && job->opts->no_clobber) {
            /* (a copy whose links -k rewrote is not read: page_local_read leaves its body) */
            p->kept = 1;
            p->skipped = "exists (--no-clobber)";
            p->outcome = PAGE_SKIPPED;
            page_parse_local(p);
            goto finish;
        }
        /* -N: a converted copy is not what the server sent (wget re-fetches it too: its size
         * differs); it is asked for in full and converted again. */
        if (p->local && job->opts->timestamping && !p->local_converted &&
            page_conditional(p) < 0) {
            snprintf(p->reason, sizeof(p->reason), "out of memory");
            goto finish;
        }
    }
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
    if (p->item->shared) {
        /* A shared job: the host's slots and its delay hold over every worker. */
        AWAIT(t, shared_gate(cj->shared, p->item->shared, job->opts->per_host, page_shared_delay(cj, &p->site->host)));
        if (page_interrupted(p, task_error(t)))
            goto finish;
        p->gated = 1;
    } else if ((wait = page_reserve_slot(cj, &p->site->host)) > 0) {
        AWAIT(t, net_sleep(&job->sched, wait));
    }
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
    if (p->gated) {
        shared_ungate(cj->shared, p->item->shared);
        p->gated = 0;
    }
    p->outcome = page_transfer_outcome(p, task_error(t));
    if (p->kept && (p->item->kind == CRAWL_KIND_PAGE || page_is_css("", p->item->url))) {
        p->read_body = 1;
        AWAIT(t, executor_run(&job->sched, page_local_read, p));
        if (!page_interrupted(p, task_error(t)))    /* else its links wait for a re-run */
            page_parse_local(p);
    }
    if (p->parse_pending) {
        /* Parse on the pool (the body is held; the writer goes on with the same bytes). A job
         * cancelled before it started (an interrupt) read no link: the page is not done, so it
         * stays in the stored frontier and the resumed crawl fetches and reads it again (done,
         * its links would be lost for good). */
        p->collect = 1;
        AWAIT(t, executor_run(&job->sched, page_parse_job, p));
        p->collect = 0;
        if (task_error(t) == -ECANCELED)
            p->outcome = PAGE_INTERRUPTED;
        else if (task_error(t) == -ENOMEM)
            fprintf(stderr, "gather: out of memory parsing %s\n", p->item->url);
        else
            page_offer_found(p);
    }
    if (p->writer) {
        AWAIT(t, p->outcome == PAGE_OK ? store_writer_commit(p->writer) : store_writer_abort(p->writer, 0));
        page_disk_outcome(p, task_error(t));
    }
    /* -N, as wget: a file saved gets the server's Last-Modified, which the next run sends back. */
    p->server_mtime = p->req.last_modified[0] ? curl_getdate(p->req.last_modified, NULL) : -1;
    if (p->outcome == PAGE_OK && p->writer && job->opts->timestamping && p->server_mtime >= 0) {
        p->local_error = 0;
        AWAIT(t, executor_run(&job->sched, page_set_mtime, p));
        if (p->local_error < 0)
            fprintf(stderr, "gather: cannot set the mtime of %s/%s: %s\n", job->opts->outdir,
                    p->path, strerror(-p->local_error));
    }
finish:
    CORO_END(t);
}

static void page_free(future_t *done, void *arg)
{
    struct crawl_page *p = arg;

    (void)done;
    store_writer_free(p->writer);
    free(p->redirect_target);
    parse_html_free(p->html);
    parse_css_free(p->css);
    free(p->body);
    free(p->found);
    http_req_cleanup(&p->req);
    crawl_parent_unref(p->as_parent);
    crawl_item_free(p->item);
    curl_slist_free_all(p->headers);
    free(p->local_body);
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
        crawl_worker_end(cj, item, 'i', NULL, 0, NULL);     /* a shared job's entry goes back */
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
