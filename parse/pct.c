/* pct.c - percent-encoding normalisation shared by url.c and robots.c. */
#include "parse/pct.h"

#include <stdint.h>
#include <stdlib.h>

#include "parse/parse.h"

static int pct_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int pct_is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Whether c may stand unencoded in a component of the given set. */
static int pct_is_allowed(unsigned char c, parse_pct_set_t set)
{
    if (pct_is_unreserved(c))
        return 1;
    switch (c) {
    case '!': case '&': case '\'': case '(': case ')': case '+': case ',': case ';': case '=':
        return 1;
    case '*': case '$':
        return set != PARSE_PCT_ROBOTS;
    case ':':
        return set != PARSE_PCT_USER;
    case '@':
        return set == PARSE_PCT_PATH || set == PARSE_PCT_QUERY || set == PARSE_PCT_ROBOTS;
    case '/':
        return set == PARSE_PCT_PATH || set == PARSE_PCT_QUERY || set == PARSE_PCT_ROBOTS;
    case '?':
        return set == PARSE_PCT_QUERY || set == PARSE_PCT_ROBOTS;
    default:
        return 0;
    }
}

int parse_pct_normalize(const char *src, size_t len, parse_pct_set_t set, char **out,
                        size_t *outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    char *buf;
    size_t i, o = 0;

    /* Each input byte yields at most three output bytes. */
    if (len > (SIZE_MAX - 1) / 3)
        return PARSE_ENOMEM;
    buf = malloc(len * 3 + 1);
    if (!buf)
        return PARSE_ENOMEM;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%' && i + 2 < len) {
            int hi = pct_hexval((unsigned char)src[i + 1]);
            int lo = pct_hexval((unsigned char)src[i + 2]);
            if (hi >= 0 && lo >= 0) {
                unsigned char v = (unsigned char)(hi * 16 + lo);
                if (pct_is_unreserved(v)) {
                    buf[o++] = (char)v;
                } else {
                    buf[o++] = '%';
                    buf[o++] = hex[hi];
                    buf[o++] = hex[lo];
                }
                i += 2;
                continue;
            }
        }
        if (c != '%' && pct_is_allowed(c, set)) {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    buf[o] = '\0';
    *out = buf;
    if (outlen)
        *outlen = o;
    return PARSE_OK;
}
