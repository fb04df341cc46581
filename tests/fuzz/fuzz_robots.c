/* fuzz_robots.c - libFuzzer target for parse/robots.c: parse, then ask about a few paths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/robots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tokens[] = {"gather", "gather-bot/1.0", "*", "", NULL};
    static const char *const fixed[] = {"/", "/robots.txt", "/a/b.php?x=1", "/%7Efoo/*$", ""};
    const char *body = (const char *)data;
    char path[256];
    size_t i, j, n;

    /* The last line of the input (up to 255 bytes) is also asked about as a path. */
    n = 0;
    while (n < size && n < sizeof(path) - 1 && data[size - 1 - n] != '\n')
        n++;
    memcpy(path, data + size - n, n);
    path[n] = '\0';

    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        parse_robots_t *r = parse_robots_new(body, size, tokens[i]);
        if (!r)
            __builtin_trap();
        for (j = 0; j < sizeof(fixed) / sizeof(fixed[0]); j++) {
            int allowed = parse_robots_allowed(r, fixed[j]);
            if (allowed != 0 && allowed != 1)
                __builtin_trap();
        }
        if (parse_robots_allowed(r, "/robots.txt") != 1)
            __builtin_trap();
        (void)parse_robots_allowed(r, path);
        if (parse_robots_crawl_delay_ms(r) < -1)
            __builtin_trap();
        for (j = 0; j < parse_robots_sitemap_count(r); j++)
            if (!parse_robots_sitemap(r, j))
                __builtin_trap();
        parse_robots_free(r);
    }
    return 0;
}
