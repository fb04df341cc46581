/* fuzz_urllist.c - libFuzzer target for parse/urllist.c, reading the input through fmemopen. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/url.h"
#include "parse/urllist.h"

struct fuzz_state {
    unsigned long last_line;
};

static void on_bad(void *arg, const char *file, unsigned long line, const char *reason)
{
    struct fuzz_state *st = arg;

    /* Lines come in order, reasons are one printable line. */
    if (line <= st->last_line || !file || !reason || strchr(reason, '\n'))
        __builtin_trap();
    st->last_line = line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_state st = {0};
    parse_urllist_t *r;
    unsigned long line;
    char *url, *again;
    FILE *f;
    int result;

    if (size == 0)
        return 0;
    f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    r = parse_urllist_open_file(f, "fuzz", on_bad, &st);
    if (!r) {
        fclose(f);
        return 0;
    }
    while ((result = parse_urllist_next(r, &url, &line)) == 1) {
        if (line <= st.last_line || strlen(url) > PARSE_URL_MAX)
            __builtin_trap();
        st.last_line = line;
        again = NULL;
        if (parse_url_normalize(url, &again) != PARSE_OK || strcmp(again, url) != 0)
            __builtin_trap();
        free(again);
        free(url);
    }
    if (result != 0)
        __builtin_trap();
    parse_urllist_close(r);
    fclose(f);
    return 0;
}
