/* fuzz_css.c - libFuzzer target for parse/css.c: however the input is cut, the same references
 * at the same offsets; spans in bounds, in order, never overlapping; URLs absolute http(s). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/css.h"

/* An order-sensitive digest of the references (and their spans) reported. */
struct digest {
    uint64_t hash;
    unsigned long count;
    size_t size, last_end;
};

static void mix(struct digest *d, uint64_t v)
{
    d->hash = (d->hash ^ v) * 1099511628211u;
}

static void on_ref(void *arg, const char *ref, size_t len, parse_link_kind_t kind, size_t offset,
                   size_t rawlen)
{
    struct digest *d = arg;
    size_t i;

    if (offset + rawlen > d->size || offset < d->last_end || len > PARSE_URL_MAX)
        __builtin_trap();
    if (ref && ref[len] != '\0')
        __builtin_trap();
    d->last_end = offset + rawlen;
    mix(d, (uint64_t)kind);
    mix(d, offset);
    mix(d, rawlen);
    for (i = 0; ref && i < len; i++)
        mix(d, (unsigned char)ref[i]);
    mix(d, ref ? 0xff : 0xfe);
    d->count++;
}

static void on_link_at(void *arg, const char *url, parse_link_kind_t kind, size_t offset,
                       size_t len)
{
    struct digest *d = arg;

    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        __builtin_trap();
    if (offset + len > d->size || offset < d->last_end || len == 0)
        __builtin_trap();
    d->last_end = offset + len;
    (void)kind;
    d->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct digest whole = {14695981039346656037u, 0, 0, 0};
    struct digest pieces = {14695981039346656037u, 0, 0, 0};
    struct digest at = {0, 0, 0, 0};
    static parse_css_scan_t s;
    size_t chunk, off;

    /* The first byte picks the size of the pieces for the second scan. */
    if (size == 0)
        return 0;
    chunk = data[0] % 17 + 1;
    data++;
    size--;
    whole.size = pieces.size = at.size = size;

    parse_css_scan_init(&s, on_ref, &whole);
    parse_css_scan_feed(&s, (const char *)data, size);
    parse_css_scan_end(&s);

    parse_css_scan_init(&s, on_ref, &pieces);
    for (off = 0; off < size; off += chunk)
        parse_css_scan_feed(&s, (const char *)data + off, size - off < chunk ? size - off : chunk);
    parse_css_scan_end(&s);
    if (whole.count != pieces.count || whole.hash != pieces.hash)
        __builtin_trap();

    if (parse_css_links_at((const char *)data, size, "http://example.com/css/site.css", on_link_at,
                           &at) < 0)
        __builtin_trap();
    if (at.count > whole.count)
        __builtin_trap();
    return 0;
}
