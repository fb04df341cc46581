/* crawl_report: one line per failure on stderr, JSON lines on stdout, a summary at the end. */
#include "crawler/report/report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <sys/time.h>

#include <uv.h>

#include "parse/url.h"

void crawl_report_init(crawl_report_t *rep, const char *mode, int json, int quiet, int verbose)
{
    memset(rep, 0, sizeof(*rep));
    rep->mode = mode;
    rep->json = json;
    rep->quiet = quiet;
    rep->verbose = verbose;
    rep->out = stdout;
    rep->threads = -1;
    rep->start_ns = uv_hrtime();
}

json_t *crawl_report_real(double v, int decimals)
{
    double scale = pow(10, decimals);

    return json_real(isfinite(v) ? round(v * scale) / scale : 0);
}

double crawl_report_elapsed(const crawl_report_t *rep)
{
    return (double)(uv_hrtime() - rep->start_ns) / 1e9;
}

/* The fields of a JSON line that hold URLs: their passwords are masked here, for every line. */
static const char *const report_url_keys[] = { "url", "final_url", "redirect", "parent", NULL };

void crawl_report_json(crawl_report_t *rep, json_t *obj)
{
    char buf[PARSE_URL_REDACT_SIZE];
    char *line;

    if (!obj)
        return;
    if (!rep->json) {
        json_decref(obj);
        return;
    }
    for (size_t i = 0; report_url_keys[i]; i++) {
        json_t *v = json_object_get(obj, report_url_keys[i]);
        const char *url = json_string_value(v), *shown;

        if (url && (shown = parse_url_redact(url, buf, sizeof(buf))) != url &&
            json_object_set_new(obj, report_url_keys[i], json_string(shown)) < 0)
            json_object_del(obj, report_url_keys[i]);
    }
    /* 15 significant digits print a value rounded by crawl_report_real as its decimals
     * (1234.567, not 1234.5670000000002). */
    line = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (line) {
        fprintf(rep->out, "%s\n", line);
        free(line);
    }
    json_decref(obj);
}

void crawl_report_result(crawl_report_t *rep, const char *url, const char *path,
                         const http_req_t *req, const char *reason, json_t *extra)
{
    crawl_report_result_in(rep, rep->har_page, url, path, req, reason, extra);
}

void crawl_report_result_in(crawl_report_t *rep, const char *pageref, const char *url,
                            const char *path, const http_req_t *req, const char *reason,
                            json_t *extra)
{
    char buf[PARSE_URL_REDACT_SIZE];
    const char *shown = parse_url_redact(url, buf, sizeof(buf));

    if (rep->before_print && (reason || rep->verbose))
        rep->before_print(rep->before_print_arg);
    if (reason) {
        rep->failed++;
        fprintf(stderr, "%s: %s\n", shown, reason);
    } else {
        rep->ok++;
        if (req)
            rep->bytes += (uint64_t)req->bytes;
        if (rep->verbose)
            fprintf(stderr, "%s -> %s (%lld bytes)\n", shown, path ? path : "-",
                    req ? (long long)req->bytes : 0LL);
    }
    if (req)
        crawl_latency_add(&rep->latency, (int64_t)req->timing.total_us);
    if (rep->har && req)
        crawl_har_add(rep->har, pageref, url, req, reason);  /* an error shows at close */
    if (rep->json) {
        json_t *o = json_pack("{s:s, s:b, s:I, s:I}", "url", url, "ok", reason == NULL,
                              "status", (json_int_t)(req ? req->status : 0),
                              "bytes", (json_int_t)(req ? req->bytes : 0));
        if (o) {
            if (path && !reason)
                json_object_set_new(o, "path", json_string(path));
            if (reason)
                json_object_set_new(o, "error", json_string(reason));
            if (req) {
                json_object_set_new(o, "time_ms", crawl_report_real((double)req->timing.total_us / 1000.0, 3));
                if (req->content_type[0])
                    json_object_set_new(o, "content_type", json_string(req->content_type));
                /* get's hops, which libcurl followed: how many, and where they ended (a crawl
                 * follows its own and lists each as a "kind":"redirect" line) */
                if (req->redirects > 0 && req->effective_url) {
                    json_object_set_new(o, "redirects", json_integer(req->redirects));
                    json_object_set_new(o, "final_url", json_string(req->effective_url));
                }
            }
            if (extra)
                json_object_update(o, extra);
        }
        crawl_report_json(rep, o);
    }
    json_decref(extra);
}

/* What the run was like, for bench: request time percentiles, the concurrency in force and why
 * it fell short of -c, the threads started. */
static void report_summary_run(const crawl_report_t *rep, json_t *sum)
{
    json_object_set_new(sum, "latency_ms", json_pack("{s:o, s:o, s:o, s:o}",
        "p50", crawl_report_real(crawl_latency_ms(&rep->latency, 0.50), 3),
        "p95", crawl_report_real(crawl_latency_ms(&rep->latency, 0.95), 3),
        "p99", crawl_report_real(crawl_latency_ms(&rep->latency, 0.99), 3),
        "max", crawl_report_real(crawl_latency_ms(&rep->latency, 1), 3)));
    if (rep->concurrency > 0) {
        json_object_set_new(sum, "concurrency", json_integer(rep->concurrency));
        json_object_set_new(sum, "concurrency_asked", json_integer(rep->concurrency_asked));
        json_object_set_new(sum, "limit", rep->limit[0] ? json_string(rep->limit) : json_null());
    }
    if (rep->threads >= 0)
        json_object_set_new(sum, "threads", json_integer(rep->threads));
}

void crawl_report_summary(crawl_report_t *rep)
{
    double secs = crawl_report_elapsed(rep);
    double rate = secs > 0 ? (double)rep->bytes / secs : 0;

    if (rep->before_print)
        rep->before_print(rep->before_print_arg);
    /* -q keeps stderr for errors, as wget -q: the summary goes too (--json still has it). */
    if (!rep->quiet) {
        fprintf(stderr, "gather: %llu ok, %llu failed", (unsigned long long)rep->ok,
                (unsigned long long)rep->failed);
        if (rep->skipped)
            fprintf(stderr, ", %llu already there", (unsigned long long)rep->skipped);
        fprintf(stderr, ", %.1f MB in %.2f s (%.1f MB/s, %s mode)\n", (double)rep->bytes / 1e6,
                secs, rate / 1e6, rep->mode);
    }
    if (rep->json) {
        json_t *o = json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:s, s:I}}", "summary",
                              "ok", (json_int_t)rep->ok, "failed", (json_int_t)rep->failed,
                              "skipped", (json_int_t)rep->skipped,
                              "duplicates", (json_int_t)rep->duplicates,
                              "bytes", (json_int_t)rep->bytes,
                              "seconds", crawl_report_real(secs, 3),
                              "bytes_per_second", crawl_report_real(rate, 0), "mode", rep->mode,
                              "max_inflight", (json_int_t)rep->max_inflight);
        json_t *ran = rep->worker_ran && o ? json_array() : NULL;

        for (size_t i = 0; ran && i < rep->nworkers; i++)
            json_array_append_new(ran, json_integer((json_int_t)rep->worker_ran[i]));
        if (ran)
            json_object_set_new(json_object_get(o, "summary"), "workers", ran);
        if (rep->shared && o)
            json_object_set(json_object_get(o, "summary"), "shared", rep->shared);
        if (o)
            report_summary_run(rep, json_object_get(o, "summary"));
        crawl_report_json(rep, o);
    }
    fflush(rep->out);
}

int crawl_report_har_open(crawl_report_t *rep, const char *path, const char *title)
{
    struct timeval tv;
    crawl_har_t *har = crawl_har_open(path, title);

    if (!har) {
        int e = errno ? errno : ENOMEM;
        fprintf(stderr, "gather: cannot write HAR file %s: %s\n", path, strerror(e));
        return -e;
    }
    gettimeofday(&tv, NULL);
    if (crawl_har_page(har, CRAWL_REPORT_HAR_PAGE, title, (int64_t)tv.tv_sec * 1000000 + tv.tv_usec) < 0) {
        crawl_har_close(har);
        fprintf(stderr, "gather: cannot write HAR file %s: %s\n", path, strerror(ENOMEM));
        return -ENOMEM;
    }
    rep->har = har;
    rep->har_page = CRAWL_REPORT_HAR_PAGE;
    rep->har_path = path;
    return 0;
}

int crawl_report_har_close(crawl_report_t *rep)
{
    int result = crawl_har_close(rep->har);

    if (result < 0)
        fprintf(stderr, "gather: cannot write HAR file %s: %s\n", rep->har_path, strerror(-result));
    rep->har = NULL;
    return result;
}
