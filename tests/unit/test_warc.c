/* tests/unit/test_warc.c: the WARC building blocks: digests as WARC writers spell them, the SURT
 * keys of the CDXJ index, and a file of a warcinfo record alone, read back through zlib. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <uv.h>
#include <zlib.h>

#include "storage/warc.h"

static void sha1_of(const char *s, unsigned char out[20])
{
    unsigned int n = 0;

    assert_int_equal(EVP_Digest(s, strlen(s), out, &n, EVP_sha1(), NULL), 1);
    assert_int_equal(n, 20);
}

/* Known values: wget and warcio write these for an empty payload and for "abc". */
static void test_digest_format(void **state)
{
    unsigned char md[20];
    char out[STORE_WARC_DIGEST_SIZE];

    (void)state;
    sha1_of("", md);
    store_warc_digest_format(md, out);
    assert_string_equal(out, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    sha1_of("abc", md);
    store_warc_digest_format(md, out);
    assert_string_equal(out, "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
}

static void test_surt(void **state)
{
    static const struct { const char *url, *surt; } cases[] = {
        { "http://www.Example.com/A/b?Q=1#frag", "com,example)/a/b?q=1" },
        { "https://example.com", "com,example)/" },
        { "http://sub.example.org:8080/x", "org,example,sub:8080)/x" },
        { "http://example.org:80/x", "org,example)/x" },
        { "https://user:pw@example.org:443/", "org,example)/" },
        { "http://127.0.0.1:3000/img/1.jpg", "127,0,0,1:3000)/img/1.jpg" },
    };
    char buf[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(store_warc_surt(cases[i].url, buf, sizeof(buf)), 0);
        assert_string_equal(buf, cases[i].surt);
    }
    assert_int_equal(store_warc_surt("http://example.com/a-very-long-path", buf, 16), -ENAMETOOLONG);
}

/* NAME gets .warc.gz unless it has it; the file starts with one whole gzip member holding the
 * warcinfo record, and nothing else until transfers add theirs. */
static void test_open_writes_warcinfo(void **state)
{
    char dir[] = "/tmp/test_warc.XXXXXX", name[128], path[160], text[4096];
    store_warc_t *w;
    gzFile gz;
    int result, n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(name, sizeof(name), "%s/arc", dir);
    w = store_warc_open(name, 1, "gather/test", "command: unit\r\n", &result);
    assert_non_null(w);
    assert_int_equal(result, 0);
    snprintf(path, sizeof(path), "%s/arc.warc.gz", dir);
    assert_string_equal(store_warc_path(w), path);
    assert_int_equal(store_warc_close(w), 0);
    gz = gzopen(path, "rb");
    assert_non_null(gz);
    n = gzread(gz, text, sizeof(text) - 1);
    gzclose(gz);
    assert_true(n > 0);
    text[n] = '\0';
    assert_memory_equal(text, "WARC/1.1\r\nWARC-Type: warcinfo\r\n", 31);
    assert_non_null(strstr(text, "software: gather/test\r\n"));
    assert_non_null(strstr(text, "command: unit\r\n"));
    assert_non_null(strstr(text, "WARC-Filename: arc.warc.gz\r\n"));
    assert_int_equal(strcmp(text + n - 4, "\r\n\r\n"), 0);
    snprintf(path, sizeof(path), "%s/arc.cdx", dir);
    assert_int_equal(access(path, F_OK), 0);     /* --warc-cdx: written, empty */
    unlink(path);
    snprintf(path, sizeof(path), "%s/arc.warc.gz", dir);
    unlink(path);

    /* a name with the extension keeps it once */
    snprintf(name, sizeof(name), "%s/x.warc.gz", dir);
    w = store_warc_open(name, 0, "gather/test", NULL, &result);
    assert_non_null(w);
    assert_string_equal(store_warc_path(w), name);
    assert_int_equal(store_warc_close(w), 0);
    unlink(name);
    assert_int_equal(rmdir(dir), 0);

    assert_null(store_warc_open("/nonexistent/dir/x", 0, "gather/test", NULL, &result));
    assert_int_equal(result, -ENOENT);
}

/* The tap on a loop: a body past STORE_WARC_MEM_MAX goes to the spool, the transfer is held
 * while more than STORE_WARC_PEND_MAX wait for it and let go once the spool took them, and the
 * record holds every byte, in order. */
static void test_tap_spools_and_holds(void **state)
{
    static const char req_head[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    static const char resp_head[] = "HTTP/1.1 200 OK\r\nContent-Length: 6291456\r\n\r\n";
    char dir[] = "/tmp/test_warc.XXXXXX", name[128], path[160], want[64];
    static char chunk[128 * 1024];
    size_t total = 6u << 20, got = 0;
    http_hop_t hop = { 0 };
    http_req_t r;
    uv_loop_t loop;
    store_warc_t *w;
    http_tap_t *tap;
    gzFile gz;
    char *text;
    int result, held = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(name, sizeof(name), "%s/t", dir);
    assert_int_equal(uv_loop_init(&loop), 0);
    w = store_warc_open(name, 0, "gather/test", NULL, &result);
    assert_non_null(w);
    store_warc_start(w, &loop);
    tap = store_warc_tap(w);
    memset(&r, 0, sizeof(r));
    r.url = "http://h/x";
    hop.url = "http://h/x";
    hop.req_head = (char *)req_head;
    hop.req_len = strlen(req_head);
    hop.resp_head = (char *)resp_head;
    hop.resp_len = strlen(resp_head);
    hop.resp_done = 1;
    hop.status = 200;
    r.hops = &hop;
    r.nhops = 1;
    for (size_t off = 0; off < total; off += sizeof(chunk)) {
        for (size_t i = 0; i < sizeof(chunk); i++)
            chunk[i] = (char)((off + i) * 2654435761u >> 13);
        tap->body(tap, &r, 0, chunk, sizeof(chunk));
        held |= tap->hold(tap, &r);
    }
    assert_true(held);                      /* the spool job has not run: the bytes wait */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_false(tap->hold(tap, &r));      /* drained */
    tap->done(tap, &r);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(store_warc_close(w), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    snprintf(path, sizeof(path), "%s/t.warc.gz", dir);
    text = malloc(total + 65536);
    assert_non_null(text);
    gz = gzopen(path, "rb");
    assert_non_null(gz);
    for (int n; (n = gzread(gz, text + got, (unsigned)(total + 65536 - got))) > 0;)
        got += (size_t)n;
    gzclose(gz);
    snprintf(want, sizeof(want), "Content-Length: %zu\r\n", strlen(resp_head) + total);
    assert_non_null(memmem(text, got, want, strlen(want)));
    {
        char *body = memmem(text, got, resp_head, strlen(resp_head));

        assert_non_null(body);
        body += strlen(resp_head);
        assert_true((size_t)(text + got - body) >= total + 4);
        for (size_t i = 0; i < total; i++)
            if (body[i] != (char)(i * 2654435761u >> 13))
                fail_msg("byte %zu differs", i);
        assert_memory_equal(body + total, "\r\n\r\n", 4);
    }
    free(text);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);     /* the spool file was never linked there */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_format),
        cmocka_unit_test(test_surt),
        cmocka_unit_test(test_open_writes_warcinfo),
        cmocka_unit_test(test_tap_spools_and_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
