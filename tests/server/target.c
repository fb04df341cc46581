/* target.c - request-target parsing: path decoding, query parameters and decimal numbers. */
#include "target.h"

#include <ctype.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void target_split(const char *target, const char **path, size_t *path_len, const char **query)
{
    const char *p = target, *scheme_end = strstr(target, "://");

    if (target[0] != '/' && scheme_end != NULL) {
        p = scheme_end + 3;
        p += strcspn(p, "/?#");
    }
    *path = p;
    *path_len = strcspn(p, "?#");
    *query = p[*path_len] == '?' ? p + *path_len + 1 : "";
}

bool target_path(const char *target, char *out, size_t cap, const char **query)
{
    const char *raw;
    size_t raw_len;

    target_split(target, &raw, &raw_len, query);
    return target_decode(raw, raw_len, false, out, cap) == 0;
}

int target_decode(const char *src, size_t n, bool plus, char *out, size_t cap)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)src[i];
        int hi, lo;

        if (c == '%' && i + 2 < n && (hi = hexval((unsigned char)src[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)src[i + 2])) >= 0) {
            c = hi * 16 + lo;
            i += 2;
            if (c == 0)
                return -1;
        } else if (plus && c == '+') {
            c = ' ';
        }
        if (w + 1 >= cap)
            return -1;
        out[w++] = (char)c;
    }
    if (cap == 0)
        return -1;
    out[w] = '\0';
    return 0;
}

int target_query_get(const char *query, const char *name, unsigned nth, char *out, size_t cap)
{
    size_t name_len = strlen(name);

    for (const char *p = query; *p != '\0';) {
        size_t pair = strcspn(p, "&;");

        if (pair >= name_len && strncmp(p, name, name_len) == 0 &&
            (pair == name_len || p[name_len] == '=') && nth-- == 0) {
            if (pair == name_len) {
                if (cap == 0)
                    return -1;
                out[0] = '\0';
                return 1;
            }
            return target_decode(p + name_len + 1, pair - name_len - 1, true, out, cap) == 0
                       ? 1 : -1;
        }
        p += pair;
        if (*p != '\0')
            p++;
    }
    return 0;
}

bool target_query_uint(const char *query, const char *name, uint64_t dflt, uint64_t max,
                       uint64_t *v)
{
    char value[32];
    int found = target_query_get(query, name, 0, value, sizeof(value));

    if (found < 0)
        return false;
    if (found == 0) {
        *v = dflt;
        return true;
    }
    if (!target_uint(value, v))
        return false;
    if (*v > max)
        *v = max;
    return true;
}

bool target_uint(const char *s, uint64_t *v)
{
    uint64_t n = 0;
    size_t len = strlen(s);

    if (len == 0 || len > 18)
        return false;
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        n = n * 10 + (uint64_t)(*s - '0');
    }
    *v = n;
    return true;
}

bool target_take_uint(const char **s, uint64_t *v)
{
    char digits[19];
    size_t n = strspn(*s, "0123456789");

    if (n == 0 || n >= sizeof(digits))
        return false;
    memcpy(digits, *s, n);
    digits[n] = '\0';
    *s += n;
    return target_uint(digits, v);
}
