/* range.c - Range, If-Range and HTTP-date handling for the ranged routes (RFC 9110 §14, §13.1.5). */
#include "range.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define DATE_FORMAT "%a, %d %b %Y %H:%M:%S GMT"

/* Parse a run of digits at *s into *v, advancing *s. False if there is none or it overflows. */
static bool parse_u64(const char **s, uint64_t *v)
{
    const char *p = *s;
    uint64_t n = 0;

    if (!isdigit((unsigned char)*p))
        return false;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');

        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *s = p;
    *v = n;
    return true;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool if_range_matches(const char *if_range, const char *etag, time_t last_modified)
{
    time_t t;

    if_range = skip_ws(if_range);
    if (if_range[0] == '"')
        return etag != NULL && strcmp(if_range, etag) == 0;
    if (strncmp(if_range, "W/", 2) == 0)
        return false; /* a weak validator never matches If-Range */
    if (range_date_parse(if_range, &t) != 0)
        return false;
    return t == last_modified;
}

enum range_result range_select(const char *range, const char *if_range, uint64_t size,
                               const char *etag, time_t last_modified,
                               uint64_t *first, uint64_t *last)
{
    const char *p;
    uint64_t a, b;

    if (range == NULL)
        return RANGE_FULL;
    p = skip_ws(range);
    if (strncasecmp(p, "bytes", 5) != 0)
        return RANGE_FULL;
    p = skip_ws(p + 5);
    if (*p != '=')
        return RANGE_FULL;
    p = skip_ws(p + 1);
    if (strchr(p, ',') != NULL)
        return RANGE_FULL;

    if (*p == '-') {
        p++;
        if (!parse_u64(&p, &b) || *skip_ws(p) != '\0')
            return RANGE_FULL;
        if (if_range != NULL && !if_range_matches(if_range, etag, last_modified))
            return RANGE_FULL;
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return RANGE_PARTIAL;
    }

    if (!parse_u64(&p, &a))
        return RANGE_FULL;
    p = skip_ws(p);
    if (*p != '-')
        return RANGE_FULL;
    p = skip_ws(p + 1);
    if (*p == '\0') {
        b = UINT64_MAX;
    } else if (!parse_u64(&p, &b) || *skip_ws(p) != '\0' || b < a) {
        return RANGE_FULL;
    }
    if (if_range != NULL && !if_range_matches(if_range, etag, last_modified))
        return RANGE_FULL;
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return RANGE_PARTIAL;
}

int range_date_format(time_t t, char *out, size_t cap)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL)
        return -1;
    /* The process never calls setlocale(), so day and month names are the C locale's. */
    if (strftime(out, cap, DATE_FORMAT, &tm) == 0)
        return -1;
    return 0;
}

int range_date_parse(const char *s, time_t *t)
{
    struct tm tm;
    const char *end;
    time_t v;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, DATE_FORMAT, &tm);
    if (end == NULL || *skip_ws(end) != '\0')
        return -1;
    v = timegm(&tm);
    if (v == (time_t)-1)
        return -1;
    *t = v;
    return 0;
}
