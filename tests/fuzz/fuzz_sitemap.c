/* fuzz_sitemap.c - libFuzzer target for parse/sitemap.c. */
#include <stdint.h>
#include <string.h>

#include "parse/sitemap.h"

static void on_url(void *arg, const char *url, int is_index)
{
    (void)is_index;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        __builtin_trap();
    (*(int *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int count = 0, result;

    result = parse_sitemap((const char *)data, size, "http://example.com/sitemap.xml", on_url,
                           &count);
    if (result >= 0 && result != count)
        __builtin_trap();
    if (result < 0 && result != PARSE_EINVAL && result != PARSE_ENOMEM)
        __builtin_trap();
    return 0;
}
