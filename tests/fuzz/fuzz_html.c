/* fuzz_html.c - libFuzzer target for parse/html.c: one-shot and chunked parses must agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/html.h"

/* An order-sensitive digest of the links reported. */
struct digest {
    uint64_t hash;
    unsigned long count;
};

static void on_link(void *arg, const char *url, parse_link_kind_t kind)
{
    struct digest *d = arg;
    const unsigned char *s = (const unsigned char *)url;

    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        __builtin_trap();
    d->hash = (d->hash ^ (uint64_t)kind) * 1099511628211u;
    for (; *s; s++)
        d->hash = (d->hash ^ *s) * 1099511628211u;
    d->hash = (d->hash ^ 0xff) * 1099511628211u;
    d->count++;
}

/* 1 if the page may name a charset (or starts with a UTF-16 BOM). */
static int mentions_charset(const uint8_t *data, size_t size)
{
    static const char *const words[] = {"charset", "encoding"};
    size_t i, w;

    if (size >= 2 && ((data[0] == 0xFF && data[1] == 0xFE) || (data[0] == 0xFE && data[1] == 0xFF)))
        return 1;
    for (w = 0; w < 2; w++) {
        size_t n = strlen(words[w]);
        for (i = 0; i + n <= size; i++)
            if (strncasecmp((const char *)data + i, words[w], n) == 0)
                return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct digest whole = {14695981039346656037u, 0}, pieces = {14695981039346656037u, 0};
    size_t chunk, off;
    parse_html_t *p;

    /* The first byte picks the chunk size for the second parse. */
    if (size == 0)
        return 0;
    chunk = (size_t)data[0] % 61 + 1;
    data++;
    size--;

    if (parse_html_links((const char *)data, size, "http://example.com/dir/page.html", on_link,
                         &whole) < 0)
        __builtin_trap();

    p = parse_html_new("http://example.com/dir/page.html", on_link, &pieces);
    if (!p)
        __builtin_trap();
    for (off = 0; off < size; off += chunk)
        if (parse_html_feed(p, (const char *)data + off, size - off < chunk ? size - off : chunk) !=
            PARSE_OK)
            __builtin_trap();
    if (parse_html_end(p) != PARSE_OK)
        __builtin_trap();
    if (parse_html_stats(p)->links != pieces.count)
        __builtin_trap();
    parse_html_free(p);

    /*
     * UTF-8 pages (invalid bytes repaired) give the same links however they are cut. When a
     * page declares another charset, libxml2's converter gives up at the first invalid byte
     * at a point that depends on the chunking, so only those are not compared.
     */
    if (!mentions_charset(data, size) &&
        (whole.count != pieces.count || whole.hash != pieces.hash))
        __builtin_trap();
    return 0;
}
