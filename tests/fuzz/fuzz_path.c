/* fuzz_path.c - libFuzzer target for storage/path.c: any URL, and any Content-Disposition value,
 * gets a safe name or an error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/path.h"

/* A path that could escape the output folder or break a file system is a crash. */
static void check_safe(const char *p)
{
    const char *seg = p;
    size_t len = strlen(p);

    if (len == 0 || len > STORE_PATH_MAX || p[0] == '/')
        __builtin_trap();
    for (const char *c = p;; c++) {
        if (*c == '/' || *c == '\0') {
            size_t n = (size_t)(c - seg);
            if (n == 0 || n > STORE_NAME_MAX || (n == 1 && seg[0] == '.') ||
                (n == 2 && seg[0] == '.' && seg[1] == '.') ||
                (n >= 10 && memcmp(seg, ".gather.db", 10) == 0))     /* the state database */
                __builtin_trap();
            if (*c == '\0')
                break;
            seg = c + 1;
        } else if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\') {
            __builtin_trap();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[STORE_PATH_SIZE];
    char *url = malloc(size + 1);
    store_names_t *names;

    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    if (store_path_from_url(url, STORE_LAYOUT_FLAT, out, sizeof(out)) == 0)
        check_safe(out);
    if (store_path_from_url(url, STORE_LAYOUT_TREE, out, sizeof(out)) == 0)
        check_safe(out);
    /* the same bytes as a server's Content-Disposition */
    if (store_path_from_disposition(url, "http://h/a/b", STORE_LAYOUT_FLAT, out, sizeof(out)) == 0)
        check_safe(out);
    if (store_path_from_disposition(url, "http://h/a/b", STORE_LAYOUT_TREE, out, sizeof(out)) == 0)
        check_safe(out);
    names = store_names_new();
    if (names) {
        /* the same URL twice gets the same name; a different one never the same */
        char first[STORE_PATH_SIZE];
        if (store_path_unique(names, url, STORE_LAYOUT_FLAT, first, sizeof(first)) == 0) {
            check_safe(first);
            if (store_path_unique(names, url, STORE_LAYOUT_FLAT, out, sizeof(out)) != 0 ||
                strcmp(first, out) != 0)
                __builtin_trap();
        }
        store_names_free(names);
    }
    free(url);
    return 0;
}
