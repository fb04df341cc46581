/* test_decode.c - net/http/decode.c: gzip/deflate decoding that stops where the consumer
 * refuses, fed the way libcurl feeds a write callback (the same bytes again after a pause). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "net/async/sink.h"
#include "net/http/decode.h"

/* ---- inputs ---------------------------------------------------------------------------------- */

/* Compressible but not trivial: text lines with counters, and every 4 KiB a run of zeros. */
static unsigned char *make_plain(size_t n)
{
    unsigned char *p = malloc(n);
    size_t i = 0;
    unsigned line = 0;

    assert_non_null(p);
    while (i < n) {
        char buf[64];
        int k = snprintf(buf, sizeof(buf), "%08u the quick brown fox %u\n", line, line * 7919u % 1000);
        for (int j = 0; j < k && i < n; j++)
            p[i++] = (unsigned char)buf[j];
        if (line++ % 64 == 0)
            for (int j = 0; j < 512 && i < n; j++)
                p[i++] = 0;
    }
    return p;
}

/* plain compressed with windowBits (31: gzip, 15: zlib, -15: raw); *out_len set. */
static unsigned char *compress_with(const unsigned char *plain, size_t n, int bits, size_t *out_len)
{
    z_stream z;
    size_t cap = compressBound((uLong)n) + 64;
    unsigned char *out = malloc(cap);

    assert_non_null(out);
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)plain;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* ---- a consumer and a feeder that behave like the writer and libcurl -------------------------- */

struct consumer {
    unsigned char *got;
    size_t len, cap;
    size_t max_piece;           /* the largest piece offered at once */
    int refuse_every;           /* refuse every Nth offer (0: never) */
    int offers, refusals;
    int last_refusal;           /* the offer that was refused last */
    unsigned char refused[HTTP_DECODE_OUT];   /* what it offered: the next offer must repeat it */
    size_t refused_len;
    int error;                  /* returned instead of taking bytes, when set */
};

static int consumer_out(void *arg, const char *data, size_t len)
{
    struct consumer *c = arg;

    c->offers++;
    if (len > c->max_piece)
        c->max_piece = len;
    if (c->error)
        return c->error;
    if (c->refused_len) {
        assert_int_equal(len, c->refused_len);            /* the same bytes come again */
        assert_memory_equal(data, c->refused, len);
        c->refused_len = 0;
    }
    if (c->refuse_every && c->offers % c->refuse_every == 0) {
        assert_true(len <= sizeof(c->refused));
        memcpy(c->refused, data, len);
        c->refused_len = len;
        c->refusals++;
        c->last_refusal = c->offers;
        return NET_SINK_PAUSE;
    }
    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2;
        c->got = realloc(c->got, c->cap);
        assert_non_null(c->got);
    }
    memcpy(c->got + c->len, data, len);
    c->len += len;
    return NET_SINK_OK;
}

/* Feeds in[0..n) in writes of `chunk` bytes; after a pause, the rest of the same write again,
 * as libcurl does after curl_easy_pause(CURLPAUSE_CONT). Checks that a refusal stops decoding at
 * once: no offer follows a refused one within the same call. Returns the first error, or 0. */
static int feed(http_decoder_t *d, const unsigned char *in, size_t n, size_t chunk, struct consumer *c)
{
    for (size_t off = 0; off < n; off += chunk) {
        size_t len = n - off < chunk ? n - off : chunk, done = 0;
        for (;;) {
            size_t used = 0;
            int before = c->refusals;
            int rc = http_decoder_write(d, (const char *)in + off + done, len - done, &used, consumer_out, c);
            assert_true(used <= len - done);
            done += used;
            if (rc == NET_SINK_PAUSE) {
                assert_int_equal(c->refusals, before + 1);
                assert_int_equal(c->offers, c->last_refusal);      /* nothing after the refusal */
                continue;
            }
            if (rc < 0)
                return rc;
            assert_int_equal(rc, 0);
            assert_int_equal(done, len);      /* 0: every input byte consumed */
            break;
        }
    }
    return 0;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_coding_names(void **state)
{
    (void)state;
    assert_int_equal(http_coding_parse("gzip", 4), HTTP_CODING_GZIP);
    assert_int_equal(http_coding_parse(" X-Gzip\r\n", 9), HTTP_CODING_GZIP);
    assert_int_equal(http_coding_parse("deflate", 7), HTTP_CODING_DEFLATE);
    assert_int_equal(http_coding_parse(" identity ", 10), HTTP_CODING_NONE);
    assert_int_equal(http_coding_parse("", 0), HTTP_CODING_NONE);
    assert_int_equal(http_coding_parse("br", 2), HTTP_CODING_OTHER);
    assert_int_equal(http_coding_parse("gzip, gzip", 10), HTTP_CODING_OTHER);   /* not stacked */
    assert_null(http_decoder_new(HTTP_CODING_OTHER));
    assert_null(http_decoder_new(HTTP_CODING_NONE));
}

/* Every split of the input, a byte at a time included, decodes to the same bytes. */
static void test_gzip_any_split_is_exact(void **state)
{
    const size_t n = 1 << 20;
    size_t zlen, chunks[] = { 1, 7, 1000, 16384, 1 << 22 };
    unsigned char *plain = make_plain(n), *gz = compress_with(plain, n, 31, &zlen);

    (void)state;
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        struct consumer c = { 0 };
        http_decoder_t *d = http_decoder_new(HTTP_CODING_GZIP);
        assert_non_null(d);
        assert_int_equal(feed(d, gz, zlen, chunks[i], &c), 0);
        assert_int_equal(c.len, n);
        assert_memory_equal(c.got, plain, n);
        assert_true(http_decoder_complete(d));
        assert_true(c.max_piece <= HTTP_DECODE_OUT);
        http_decoder_free(d);
        free(c.got);
    }
    free(gz);
    free(plain);
}

/* The point of the module: 64 MiB of zeros is ~64 KB of gzip, a 16 KiB write holds ~16 MiB. A
 * consumer that refuses gets one buffer offered, and decoding stops there until the next call:
 * what is held never exceeds HTTP_DECODE_OUT, whatever the ratio. The body stays exact. */
static void test_a_refusal_stops_decoding_at_once(void **state)
{
    const size_t n = 64u << 20;
    unsigned char *plain = calloc(1, n), *gz;
    size_t zlen;
    struct consumer c = { .refuse_every = 3 };
    http_decoder_t *d = http_decoder_new(HTTP_CODING_GZIP);

    (void)state;
    assert_non_null(plain);
    assert_non_null(d);
    gz = compress_with(plain, n, 31, &zlen);
    assert_true(n / zlen > 500);                  /* a ratio libcurl would buffer 16K * 1000 of */
    assert_int_equal(feed(d, gz, zlen, 16384, &c), 0);
    assert_int_equal(c.len, n);
    assert_memory_equal(c.got, plain, n);
    assert_true(c.refusals > 600);                /* refused every third buffer, and went on */
    assert_true(c.max_piece <= HTTP_DECODE_OUT);
    assert_true(http_decoder_complete(d));
    http_decoder_free(d);
    free(c.got);
    free(gz);
    free(plain);
}

/* "deflate" is zlib-wrapped by the RFC and raw from some servers: both decode, even when the
 * first write is one byte (the wrapping is decided on two). */
static void test_deflate_wrapped_or_raw(void **state)
{
    const size_t n = 300000;
    unsigned char *plain = make_plain(n);
    int bits[] = { 15, -15 };

    (void)state;
    for (int i = 0; i < 2; i++) {
        size_t zlen;
        unsigned char *z = compress_with(plain, n, bits[i], &zlen);
        for (size_t chunk = 1; chunk <= 4096; chunk *= 4096) {
            struct consumer c = { .refuse_every = chunk == 1 ? 0 : 2 };
            http_decoder_t *d = http_decoder_new(HTTP_CODING_DEFLATE);
            assert_non_null(d);
            assert_int_equal(feed(d, z, zlen, chunk, &c), 0);
            assert_int_equal(c.len, n);
            assert_memory_equal(c.got, plain, n);
            assert_true(http_decoder_complete(d));
            http_decoder_free(d);
            free(c.got);
        }
        free(z);
    }
    free(plain);
}

/* gzip -c a b > ab: one body of both members; bytes after the end are ignored, like libcurl. */
static void test_gzip_members_and_trailing_bytes(void **state)
{
    const size_t n = 100000;
    unsigned char *plain = make_plain(n), *a, *b, *ab;
    size_t alen, blen;
    struct consumer c = { 0 };
    http_decoder_t *d = http_decoder_new(HTTP_CODING_GZIP);

    (void)state;
    a = compress_with(plain, n / 2, 31, &alen);
    b = compress_with(plain + n / 2, n - n / 2, 31, &blen);
    ab = malloc(alen + blen + 5);
    memcpy(ab, a, alen);
    memcpy(ab + alen, b, blen);
    memcpy(ab + alen + blen, "junk\n", 5);
    assert_int_equal(feed(d, ab, alen + blen + 5, 999, &c), 0);
    assert_int_equal(c.len, n);
    assert_memory_equal(c.got, plain, n);
    assert_true(http_decoder_complete(d));
    http_decoder_free(d);
    free(c.got);
    free(a);
    free(b);
    free(ab);
    free(plain);
}

/* A stream cut short is not complete; bytes that are not gzip fail with zlib's reason; the
 * consumer's own error comes back as it is. */
static void test_truncated_corrupt_and_consumer_errors(void **state)
{
    const size_t n = 200000;
    unsigned char *plain = make_plain(n), *gz;
    size_t zlen;
    struct consumer c = { 0 }, bad = { .error = -EIO };
    http_decoder_t *d;
    size_t used;

    (void)state;
    gz = compress_with(plain, n, 31, &zlen);
    d = http_decoder_new(HTTP_CODING_GZIP);
    assert_int_equal(feed(d, gz, zlen / 2, 4096, &c), 0);
    assert_false(http_decoder_complete(d));
    http_decoder_free(d);
    free(c.got);

    d = http_decoder_new(HTTP_CODING_GZIP);
    assert_int_equal(http_decoder_write(d, "this is not gzip", 16, &used, consumer_out, &c), HTTP_EBADCODING);
    assert_string_equal(http_decoder_error(d), "incorrect header check");
    http_decoder_free(d);

    d = http_decoder_new(HTTP_CODING_GZIP);
    assert_int_equal(feed(d, gz, zlen, 4096, &bad), -EIO);
    http_decoder_free(d);
    free(gz);
    free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coding_names),
        cmocka_unit_test(test_gzip_any_split_is_exact),
        cmocka_unit_test(test_a_refusal_stops_decoding_at_once),
        cmocka_unit_test(test_deflate_wrapped_or_raw),
        cmocka_unit_test(test_gzip_members_and_trailing_bytes),
        cmocka_unit_test(test_truncated_corrupt_and_consumer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
