/* test_bench_report.c - crawler/bench/report.c: the HTML page of a bench sweep, written from the
 * fixtures in tests/data/bench_report/ and read back with libxml2's HTML parser; a failed write
 * leaves no file.
 *
 * Also the driver of tests/integration/bench_report.js until `gather bench --report` exists:
 *   test_bench_report --write OUT.html BENCH.json
 * writes the page of BENCH.json ({"bench": {...}}), with a made-up waterfall of 30 requests per
 * mode when bench.waterfall_concurrency is set, and exits 0 or 1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "crawler/bench/report.h"

#define FIXTURES "tests/data/bench_report/"

/* ---- helpers ------------------------------------------------------------------------------- */

static json_t *load_bench(const char *name)
{
    json_error_t jerr;
    json_t *doc = json_load_file(name, 0, &jerr), *bench;

    if (!doc)
        fail_msg("%s: %s (line %d)", name, jerr.text, jerr.line);
    bench = json_incref(json_object_get(doc, "bench"));
    json_decref(doc);
    assert_non_null(bench);
    return bench;
}

/* A waterfall with a panel per mode other than sync, 30 requests each. NULL when bench has no
 * waterfall_concurrency. */
static crawl_chart_t *made_up_waterfall(const json_t *bench)
{
    const json_t *mode;
    crawl_chart_t *c;
    size_t i;

    if (!json_is_number(json_object_get(bench, "waterfall_concurrency")))
        return NULL;
    if (!(c = crawl_chart_new("each mode at one concurrency")))
        return NULL;
    json_array_foreach(json_object_get(bench, "modes"), i, mode) {
        crawl_chart_panel_t *p;

        if (strcmp(json_string_value(mode), "sync") == 0)
            continue;
        if (!(p = crawl_chart_panel_add(c, json_string_value(mode), "30 requests", 1000000, 0.5, 30)))
            goto fail;
        for (int k = 0; k < 30; k++) {
            crawl_chart_bar_t bar = { 1000000 + k * 10000, 2, 0, 40 + k, 5, k == 7 };

            if (crawl_chart_offer(p, &bar) < 0)
                goto fail;
        }
    }
    return c;
fail:
    crawl_chart_free(c);
    return NULL;
}

struct page {
    htmlDocPtr doc;
    xmlXPathContextPtr xp;
    char *text;                 /* the file as written */
};

static void page_read(struct page *pg, const char *path)
{
    FILE *f = fopen(path, "re");
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    pg->text = malloc((size_t)n + 1);
    assert_non_null(pg->text);
    assert_int_equal(fread(pg->text, 1, (size_t)n, f), (size_t)n);
    pg->text[n] = '\0';
    fclose(f);
    pg->doc = htmlReadMemory(pg->text, (int)n, path, "utf-8",
                             HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    assert_non_null(pg->doc);
    pg->xp = xmlXPathNewContext(pg->doc);
    assert_non_null(pg->xp);
}

static void page_free(struct page *pg)
{
    xmlXPathFreeContext(pg->xp);
    xmlFreeDoc(pg->doc);
    free(pg->text);
}

static int count(struct page *pg, const char *xpath)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)xpath, pg->xp);
    int n;

    if (!r)
        fail_msg("bad xpath %s", xpath);
    n = r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    return n;
}

/* The text of the first node xpath selects (caller frees), or NULL. */
static char *text_of(struct page *pg, const char *xpath)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)xpath, pg->xp);
    char *s = NULL;

    if (r && r->nodesetval && r->nodesetval->nodeNr > 0) {
        xmlChar *t = xmlNodeGetContent(r->nodesetval->nodeTab[0]);

        s = strdup((const char *)t);
        xmlFree(t);
    }
    xmlXPathFreeObject(r);
    return s;
}

static void assert_count(struct page *pg, const char *xpath, int want)
{
    int got = count(pg, xpath);

    if (got != want)
        fail_msg("%s: %d, not %d", xpath, got, want);
}

/* #bench-data parses back to bench. */
static void assert_embedded_json(struct page *pg, const json_t *bench)
{
    char *s = text_of(pg, "//script[@id='bench-data']");
    json_t *back;

    assert_non_null(s);
    back = json_loads(s, 0, NULL);
    if (!back || !json_equal(back, bench))
        fail_msg("#bench-data differs: %.200s", s);
    json_decref(back);
    free(s);
}

static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_bench_report.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_fixture(const char *name, struct page *pg, json_t **bench)
{
    char json[256], out[256];
    crawl_chart_t *wf;

    snprintf(json, sizeof(json), FIXTURES "%s.json", name);
    snprintf(out, sizeof(out), "%s/%s.html", tmpdir, name);
    *bench = load_bench(json);
    wf = made_up_waterfall(*bench);
    assert_int_equal(bench_report_write(out, *bench, wf), 0);
    crawl_chart_free(wf);
    assert_false(exists(strcat(out, ".tmp")));
    out[strlen(out) - 4] = '\0';
    page_read(pg, out);
}

/* ---- tests --------------------------------------------------------------------------------- */

/* Three modes at four concurrencies: four charts of nine markers, four tables of nine rows, the
 * waterfall with its bars, the limit note, the JSON. */
static void test_full_sweep(void **state)
{
    struct page pg;
    json_t *bench;
    char *s;

    (void)state;
    write_fixture("full", &pg, &bench);
    assert_count(&pg, "//svg[@class='chart']", 4);
    assert_count(&pg, "//svg[@class='chart']//*[@class='marker']", 36);
    assert_count(&pg, "//svg[@data-metric='requests_per_s']//*[@class='marker'][@data-mode='threads']", 4);
    assert_count(&pg, "//svg[@data-metric='requests_per_s']//*[@class='marker'][@data-mode='sync']", 1);
    assert_count(&pg, "//svg[@data-metric='requests_per_s']//g[@class='reference']", 1);
    assert_count(&pg, "//svg[@data-metric='latency_ms.p95']//g[@class='reference']", 0);
    /* x ticks at the four powers of ten */
    assert_count(&pg, "//svg[@data-metric='peak_rss_mib']//g[@class='x-ticks']/text[.='1' or .='10' or .='100' or .='1000']", 4);
    assert_count(&pg, "//table[@class='chart-data']", 4);
    assert_count(&pg, "//table[@class='chart-data']/tbody/tr", 36);
    assert_count(&pg, "//table[@class='points']/tbody/tr", 9);
    assert_count(&pg, "//table[@class='points']/thead/tr/th", 17);   /* c, mode, 14 numbers, note */
    /* ties round to even as printf does: 101.25 -> 101.2, 0.125 -> 0.125 (3 decimals) */
    assert_count(&pg, "//*[@class='marker'][@data-mode='sync'][@data-value='101.2']", 1);
    /* sync's CPU for the whole list: 0.05 x 50 */
    assert_count(&pg, "//svg[@data-metric='cpu_s_scaled']//*[@class='marker'][@data-mode='sync'][@data-value='2.500']", 1);
    s = text_of(&pg, "//table[@class='points']/tbody/tr[8]/td[last()]");
    assert_string_equal(s, "the file descriptor limit (ulimit -n 1024) allows -c 500");
    free(s);
    s = text_of(&pg, "//p[@class='verdict']");
    assert_string_equal(s, json_string_value(json_object_get(json_object_get(bench, "verdict"), "text")));
    free(s);
    assert_count(&pg, "//div[@class='waterfall']/svg", 1);
    assert_true(count(&pg, "//div[@class='waterfall']/svg/g[@fill]/rect") >= 60);
    assert_null(strstr(pg.text, "<?xml"));
    assert_count(&pg, "//script", 1);
    assert_embedded_json(&pg, bench);
    json_decref(bench);
    page_free(&pg);
}

/* A sweep at -c 100 only, without threads: sync's -c 1 and async's -c 100 on an axis of two
 * decades, one async marker, a legend of two modes, no waterfall. */
static void test_single_concurrency(void **state)
{
    struct page pg;
    json_t *bench;

    (void)state;
    write_fixture("single", &pg, &bench);
    assert_count(&pg, "//svg[@class='chart']", 4);
    assert_count(&pg, "//svg[@class='chart']//*[@class='marker'][@data-mode='async']", 4);
    assert_count(&pg, "//svg[@class='chart']//*[@class='marker'][@data-mode='threads']", 0);
    assert_count(&pg, "//svg[@data-metric='latency_ms.p95']//g[@class='legend']/text", 2);
    assert_count(&pg, "//svg[@data-metric='latency_ms.p95']//g[@class='x-ticks']/text[.='1' or .='10' or .='100']", 3);
    assert_count(&pg, "//div[@class='waterfall']", 0);
    assert_embedded_json(&pg, bench);
    json_decref(bench);
    page_free(&pg);
}

/* A point whose every run failed is drawn nowhere and said so in every table; the strings of the
 * JSON stay text: the only script element is the JSON, which still parses to the same data. */
static void test_failed_point_and_escaped_strings(void **state)
{
    struct page pg;
    json_t *bench;
    char *s;

    (void)state;
    write_fixture("failed", &pg, &bench);
    assert_count(&pg, "//svg[@class='chart']//*[@class='marker']", 16);
    assert_count(&pg, "//svg[@class='chart']//*[@class='marker'][@data-mode='async'][@data-c='10']", 0);
    assert_count(&pg, "//table[@class='chart-data']/tbody/tr[td[2]='10' and td[3]='\xe2\x80\x94' and "
                      "td[4]='every run failed']", 4);
    s = text_of(&pg, "//table[@class='points']/tbody/tr[3]/td[last()]");
    assert_string_equal(s, "every run failed; </script><script>document.title='pwned'</script>");
    free(s);
    s = text_of(&pg, "//table[@class='points']/tbody/tr[4]/td[last()]");
    assert_string_equal(s, "did not reach its concurrency");
    free(s);
    s = text_of(&pg, "//h1");
    assert_string_equal(s, json_string_value(json_object_get(bench, "title")));
    free(s);
    s = text_of(&pg, "/html/head/title");
    assert_string_equal(s, json_string_value(json_object_get(bench, "title")));
    free(s);
    s = text_of(&pg, "//p[@class='verdict']");
    assert_string_equal(s, json_string_value(json_object_get(json_object_get(bench, "verdict"), "text")));
    free(s);
    assert_count(&pg, "//script", 1);
    assert_count(&pg, "//comment()", 0);
    assert_non_null(strstr(pg.text, "<\\/script><script>"));
    assert_embedded_json(&pg, bench);
    json_decref(bench);
    page_free(&pg);
}

/* A missing folder, a rename onto a folder and a write past RLIMIT_FSIZE each return the errno
 * and leave neither the page nor its .tmp. */
static void test_failed_write_leaves_no_file(void **state)
{
    char path[256], tmp[300];
    struct rlimit old, small;
    json_t *bench = load_bench(FIXTURES "full.json");
    json_t *bad = json_pack("{s:i}", "urls", 3);
    void (*prev)(int);
    int result;

    (void)state;
    snprintf(path, sizeof(path), "%s/nowhere/page.html", tmpdir);
    assert_int_equal(bench_report_write(path, bench, NULL), -ENOENT);

    snprintf(path, sizeof(path), "%s/folder.html", tmpdir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(bench_report_write(path, bench, NULL), -EISDIR);
    assert_false(exists(tmp));
    assert_int_equal(rmdir(path), 0);

    snprintf(path, sizeof(path), "%s/big.html", tmpdir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 4096;
    prev = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    result = bench_report_write(path, bench, NULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(result, -EFBIG);
    assert_false(exists(path));
    assert_false(exists(tmp));

    assert_int_equal(bench_report_write(path, bad, NULL), -EINVAL);
    assert_false(exists(path));
    json_decref(bad);
    json_decref(bench);
}

/* ---- the driver ---------------------------------------------------------------------------- */

static int drive(const char *out, const char *json)
{
    json_error_t jerr;
    json_t *doc = json_load_file(json, 0, &jerr);
    const json_t *bench = json_object_get(doc, "bench");
    crawl_chart_t *wf;
    int result;

    if (!doc) {
        fprintf(stderr, "%s: %s\n", json, jerr.text);
        return 1;
    }
    wf = made_up_waterfall(bench);
    result = bench_report_write(out, bench, wf);
    if (result < 0)
        fprintf(stderr, "%s: %s\n", out, strerror(-result));
    crawl_chart_free(wf);
    json_decref(doc);
    return result < 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_sweep, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_single_concurrency, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_failed_point_and_escaped_strings, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_failed_write_leaves_no_file, setup_dir, teardown_dir),
    };

    if (argc == 4 && strcmp(argv[1], "--write") == 0)
        return drive(argv[2], argv[3]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
