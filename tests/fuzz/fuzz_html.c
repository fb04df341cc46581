/* fuzz_html.c - libFuzzer target for parse/html.c: one-shot and chunked parses must agree, and
 * parse_html_links_at's spans lie in the page, in order, never overlapping. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/html.h"

#define FUZZ_PAD 8300

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

/* parse_html_links_at's invariants. */
struct spans {
    size_t size, last_end;
    unsigned long count;
};

static void on_link_at(void *arg, const char *url, parse_link_kind_t kind, size_t offset,
                       size_t len)
{
    struct spans *s = arg;

    (void)kind;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        __builtin_trap();
    if (len == 0 || offset < s->last_end || offset + len > s->size)
        __builtin_trap();
    s->last_end = offset + len;
    s->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct digest whole = {14695981039346656037u, 0}, pieces = {14695981039346656037u, 0};
    uint8_t *padded = NULL;
    size_t chunk, off;
    parse_html_t *p;

    /*
     * The first byte picks the chunk size for the second parse, and its top bit whether the
     * page goes behind 8 KiB of blanks, past the bytes html.c holds while sniffing the
     * encoding, so that the streaming path is fuzzed too.
     */
    if (size == 0)
        return 0;
    chunk = (size_t)(data[0] & 0x7f) % 61 + 1;
    if (data[0] & 0x80) {
        padded = malloc(FUZZ_PAD + size - 1);
        if (!padded)
            return 0;
        memset(padded, ' ', FUZZ_PAD);
        memcpy(padded + FUZZ_PAD, data + 1, size - 1);
        data = padded;
        size = FUZZ_PAD + size - 1;
    } else {
        data++;
        size--;
    }

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

    /* However the page is cut into feeds, the same links come out. */
    if (whole.count != pieces.count || whole.hash != pieces.hash)
        __builtin_trap();

    {
        struct spans sp = {size, 0, 0};
        int n = parse_html_links_at((const char *)data, size, "http://example.com/dir/page.html",
                                    on_link_at, &sp);
        if (n < 0 || (unsigned long)n != sp.count)
            __builtin_trap();
    }
    free(padded);
    return 0;
}
