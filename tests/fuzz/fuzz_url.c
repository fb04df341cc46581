/* fuzz_url.c - libFuzzer target for parse/url.c: normalise, resolve, parts, and their invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/url.h"

/* Every byte a normalised URL may contain: no controls, no space, nothing that needs %XX. */
static void check_normal_form(const char *url)
{
    const unsigned char *s = (const unsigned char *)url;
    char *again = NULL;

    if (strlen(url) > PARSE_URL_MAX)
        __builtin_trap();
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        __builtin_trap();
    for (; *s; s++)
        if (*s <= 0x20 || *s == 0x7f || *s == '"' || *s == '<' || *s == '>' || *s == '\\' ||
            *s == '^' || *s == '`' || *s == '{' || *s == '|' || *s == '}' || *s == '#')
            __builtin_trap();
    /* The normal form is a fixed point. */
    if (parse_url_normalize(url, &again) != PARSE_OK || strcmp(again, url) != 0)
        __builtin_trap();
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *nl, *out = NULL;
    const char *base, *ref;

    /* The input is "base\nref" (or just a URL); NUL bytes end the strings early. */
    buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';

    if (parse_url_normalize(buf, &out) == PARSE_OK) {
        check_normal_form(out);
        free(out);
        out = NULL;
    }
    if (parse_url_hostport(buf, &out) == PARSE_OK) {
        free(out);
        out = NULL;
    }
    if (parse_url_path(buf, &out) == PARSE_OK) {
        if (out[0] != '/')
            __builtin_trap();
        free(out);
        out = NULL;
    }
    nl = strchr(buf, '\n');
    if (nl) {
        *nl = '\0';
        base = buf;
        ref = nl + 1;
    } else {
        base = "http://example.com/dir/page.html?q=1";
        ref = buf;
    }
    {
        /* The fast path and the curl path agree on every input (code and string). */
        char *slow = NULL;
        int rf = parse_url_resolve(base, ref, &out);
        int rs = parse_url_resolve_slow(base, ref, &slow);
        if (rf != rs || (rf == PARSE_OK && strcmp(out, slow) != 0))
            __builtin_trap();
        if (rf == PARSE_OK) {
            check_normal_form(out);
            free(out);
        }
        free(slow);
    }
    free(buf);
    return 0;
}
