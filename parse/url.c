/* url.c - http/https URL normalisation and reference resolution on libcurl's CURLU API. */
#include "parse/url.h"

#include <curl/curl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/pct.h"

/*
 * What curl 7.88's CURLU does and does not do for us (checked, see tests/unit/test_url.c):
 *  - it lowercases the scheme and removes dot-segments, but keeps the host's case, keeps
 *    %2E%2E segments, leaves percent-encoding as given (%7e, %e2) and lets raw bytes
 *    (non-ASCII, "<>{}") through, so all of that is done here on the parts;
 *  - CURLU_NO_DEFAULT_PORT on get drops :80/:443 (and normalises "080");
 *  - spaces need CURLU_ALLOW_SPACE, and a space in the fragment fails even then: we cut the
 *    fragment off before curl sees the string;
 *  - as a relative reference, "" and "#s" resolve to the base's directory instead of the
 *    base, "http:g" fails, and "1abc:x" is taken for a scheme: handled before calling curl;
 *  - CURLU_PUNYCODE fails with CURLUE_OUT_OF_MEMORY unless LC_CTYPE is UTF-8 (curl calls
 *    idn2_lookup_ul, curl issue #10984), so the conversion runs under a thread-local UTF-8
 *    locale (uselocale), and a host that still cannot be converted is kept as UTF-8.
 */

/* The normalised components of one URL; every string is malloc'd, NULL when absent. */
struct url_parts {
    int https;
    int host_mapped; /* the host came out of IDNA mapping: curl may read it differently */
    char *userinfo;  /* "user" or "user:password", normalised */
    char *host;      /* lowercase; "[v6]" for IPv6 literals */
    char *port;      /* NULL for the scheme's default port */
    char *path;      /* normalised, at least "/" */
    char *query;     /* normalised, without '?'; NULL when absent or empty */
};

static void url_parts_free(struct url_parts *p)
{
    free(p->userinfo);
    free(p->host);
    free(p->port);
    free(p->path);
    free(p->query);
    memset(p, 0, sizeof(*p));
}

/* The parse_error_t for a CURLUcode. */
static int url_from_curl(CURLUcode uc)
{
    switch (uc) {
    case CURLUE_OK:
        return PARSE_OK;
    case CURLUE_OUT_OF_MEMORY:
        return PARSE_ENOMEM;
    case CURLUE_UNSUPPORTED_SCHEME:
        return PARSE_ESCHEME;
    default:
        return PARSE_EINVAL;
    }
}

static char url_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Length of a valid RFC 3986 scheme at the start of s[0..len) followed by ':', else 0. */
static size_t url_scheme_len(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (i = 1; i < len; i++) {
        char c = s[i];
        if (c == ':')
            return i;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
    }
    return 0;
}

/* 1 if s[0..n) is "http" or "https" in any case (2 for https), else 0. */
static int url_scheme_kind(const char *s, size_t n)
{
    if (n == 4 && strncasecmp(s, "http", 4) == 0)
        return 1;
    if (n == 5 && strncasecmp(s, "https", 5) == 0)
        return 2;
    return 0;
}

/* 1 if the NUL-terminated s is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static int url_utf8_valid(const unsigned char *s)
{
    while (*s) {
        unsigned char c = *s;
        size_t n, i;
        unsigned long cp;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}

/*
 * The host in punycode via CURLU_PUNYCODE under a thread-local UTF-8 LC_CTYPE (see the note
 * at the top). PARSE_OK with a curl-allocated *out, PARSE_EINVAL when it cannot be converted.
 */
static int url_host_punycode(CURLU *h, char **out)
{
    locale_t utf8, old;
    CURLUcode uc;

    utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!utf8)
        return PARSE_EINVAL;
    old = uselocale(utf8);
    if (old == (locale_t)0) {
        freelocale(utf8);
        return PARSE_EINVAL;
    }
    uc = curl_url_get(h, CURLUPART_HOST, out, CURLU_PUNYCODE);
    uselocale(old);
    freelocale(utf8);
    return uc == CURLUE_OK ? PARSE_OK : PARSE_EINVAL;
}

/* Fill p->host from the handle: lowercased, checked, punycode when possible. */
static int url_extract_host(CURLU *h, struct url_parts *p)
{
    char *raw = NULL, *zone = NULL, *puny = NULL;
    const char *src;
    CURLUcode uc;
    size_t i, n;
    int ascii = 1, result;

    uc = curl_url_get(h, CURLUPART_HOST, &raw, 0);
    if (uc != CURLUE_OK) {
        result = url_from_curl(uc);
        goto cleanup;
    }
    result = PARSE_EINVAL;
    if (raw[0] == '\0')
        goto cleanup;
    if (raw[0] == '[') {
        /* A zone ID names an interface of the machine that wrote the link: meaningless here. */
        uc = curl_url_get(h, CURLUPART_ZONEID, &zone, 0);
        if (uc == CURLUE_OK)
            goto cleanup;
        if (uc != CURLUE_NO_ZONEID) {
            result = url_from_curl(uc);
            goto cleanup;
        }
    }
    for (i = 0; raw[i]; i++)
        if ((unsigned char)raw[i] >= 0x80)
            ascii = 0;
    src = raw;
    if (!ascii) {
        result = url_host_punycode(h, &puny);
        if (result == PARSE_OK) {
            src = puny;
            p->host_mapped = 1;
        } else if (!url_utf8_valid((const unsigned char *)raw)) {
            goto cleanup;
        }
    }
    n = strlen(src);
    result = PARSE_EINVAL;
    /* IDNA mapping can leave nothing of a host ("\xEF\xBB\xBF" is U+FEFF, mapped away). */
    if (strspn(src, ".") == n)
        goto cleanup;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=", c))
            continue;
        if (src[0] == '[' && (c == ':' || c == '[' || c == ']'))
            continue;
        goto cleanup;
    }
    p->host = malloc(n + 1);
    if (!p->host) {
        result = PARSE_ENOMEM;
        goto cleanup;
    }
    for (i = 0; i <= n; i++)
        p->host[i] = url_lower(src[i]);
    result = PARSE_OK;
cleanup:
    curl_free(raw);
    curl_free(zone);
    curl_free(puny);
    return result;
}

/*
 * Get one optional part. PARSE_OK with *out set (curl-allocated) or NULL when the part is
 * absent (`absent` is the code curl uses for that); a negative code otherwise.
 */
static int url_get_optional(CURLU *h, CURLUPart what, CURLUcode absent, unsigned flags,
                            char **out)
{
    CURLUcode uc;

    *out = NULL;
    uc = curl_url_get(h, what, out, flags);
    if (uc == absent) {
        *out = NULL;
        return PARSE_OK;
    }
    return url_from_curl(uc);
}

/* Normalise a curl-returned component into a malloc'd string (NULL in, NULL out). */
static int url_pct(const char *s, parse_pct_set_t set, char **out)
{
    *out = NULL;
    if (!s)
        return PARSE_OK;
    return parse_pct_normalize(s, strlen(s), set, out, NULL);
}

/* Read every component of the URL held in h into p (which must be zeroed). */
static int url_extract(CURLU *h, struct url_parts *p)
{
    char *scheme = NULL, *user = NULL, *password = NULL, *port = NULL, *path = NULL;
    char *query = NULL, *nuser = NULL, *npassword = NULL;
    CURLUcode uc;
    int result;

    uc = curl_url_get(h, CURLUPART_SCHEME, &scheme, 0);
    if (uc != CURLUE_OK) {
        result = url_from_curl(uc);
        goto cleanup;
    }
    p->https = url_scheme_kind(scheme, strlen(scheme)) == 2;
    if (!url_scheme_kind(scheme, strlen(scheme))) {
        result = PARSE_ESCHEME;
        goto cleanup;
    }
    result = url_extract_host(h, p);
    if (result != PARSE_OK)
        goto cleanup;

    result = url_get_optional(h, CURLUPART_PORT, CURLUE_NO_PORT, CURLU_NO_DEFAULT_PORT, &port);
    if (result != PARSE_OK)
        goto cleanup;
    if (port) {
        if (strcmp(port, "0") == 0) {
            result = PARSE_EINVAL;
            goto cleanup;
        }
        p->port = strdup(port);
        if (!p->port) {
            result = PARSE_ENOMEM;
            goto cleanup;
        }
    }

    result = url_get_optional(h, CURLUPART_USER, CURLUE_NO_USER, 0, &user);
    if (result != PARSE_OK)
        goto cleanup;
    result = url_get_optional(h, CURLUPART_PASSWORD, CURLUE_NO_PASSWORD, 0, &password);
    if (result != PARSE_OK)
        goto cleanup;
    if ((user && user[0]) || (password && password[0])) {
        result = url_pct(user ? user : "", PARSE_PCT_USER, &nuser);
        if (result == PARSE_OK)
            result = url_pct(password, PARSE_PCT_PASSWORD, &npassword);
        if (result != PARSE_OK)
            goto cleanup;
        if (npassword && npassword[0]) {
            size_t n = strlen(nuser) + 1 + strlen(npassword) + 1;
            p->userinfo = malloc(n);
            if (!p->userinfo) {
                result = PARSE_ENOMEM;
                goto cleanup;
            }
            snprintf(p->userinfo, n, "%s:%s", nuser, npassword);
        } else {
            p->userinfo = nuser;
            nuser = NULL;
        }
    }

    uc = curl_url_get(h, CURLUPART_PATH, &path, 0);
    if (uc != CURLUE_OK) {
        result = url_from_curl(uc);
        goto cleanup;
    }
    result = url_pct(path[0] ? path : "/", PARSE_PCT_PATH, &p->path);
    if (result != PARSE_OK)
        goto cleanup;

    result = url_get_optional(h, CURLUPART_QUERY, CURLUE_NO_QUERY, 0, &query);
    if (result != PARSE_OK)
        goto cleanup;
    if (query && query[0])
        result = url_pct(query, PARSE_PCT_QUERY, &p->query);
cleanup:
    curl_free(scheme);
    curl_free(user);
    curl_free(password);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    free(nuser);
    free(npassword);
    return result;
}

/* 1 if a segment of path is exactly "." or "..": what decoding %2E can leave behind. */
static int url_has_dot_segment(const char *path)
{
    const char *s = path;

    while ((s = strchr(s, '/')) != NULL) {
        s++;
        if (s[0] == '.' && (s[1] == '/' || s[1] == '\0'))
            return 1;
        if (s[0] == '.' && s[1] == '.' && (s[2] == '/' || s[2] == '\0'))
            return 1;
    }
    return 0;
}

/*
 * 1 if curl could read the host as an IPv4 number in another spelling ("2" is 0.0.0.2,
 * "0x7f.1" is 127.0.0.1): curl converts those only when they are not percent-encoded.
 */
static int url_host_numeric(const char *host)
{
    return host[0] != '[' && strspn(host, "0123456789abcdefx.") == strlen(host) &&
           strpbrk(host, "0123456789") != NULL;
}

/* Join p into "scheme://[userinfo@]host[:port]path[?query]", malloc'd, capped. */
static int url_build(const struct url_parts *p, char **out)
{
    size_t n;
    char *s;

    n = strlen(p->https ? "https://" : "http://") + strlen(p->host) + strlen(p->path) + 1;
    if (p->userinfo)
        n += strlen(p->userinfo) + 1;
    if (p->port)
        n += strlen(p->port) + 1;
    if (p->query)
        n += strlen(p->query) + 1;
    if (n > PARSE_URL_MAX + 1)
        return PARSE_ETOOLONG;
    s = malloc(n);
    if (!s)
        return PARSE_ENOMEM;
    snprintf(s, n, "%s://%s%s%s%s%s%s%s%s", p->https ? "https" : "http",
             p->userinfo ? p->userinfo : "", p->userinfo ? "@" : "", p->host,
             p->port ? ":" : "", p->port ? p->port : "", p->path, p->query ? "?" : "",
             p->query ? p->query : "");
    *out = s;
    return PARSE_OK;
}

/*
 * Extract h into p. When what we changed could read differently to curl (dot-segments that
 * were %2E, a host from IDNA mapping or percent-decoding that is now a number), run the built
 * string through curl once more, so the result is a fixed point of parse_url_normalize.
 */
static int url_finish(CURLU *h, struct url_parts *p, int again)
{
    CURLU *h2 = NULL;
    char *s = NULL;
    int result;

    result = url_extract(h, p);
    if (result != PARSE_OK || !again)
        goto cleanup;
    if (!url_has_dot_segment(p->path) && !p->host_mapped && !url_host_numeric(p->host))
        goto cleanup;
    result = url_build(p, &s);
    if (result != PARSE_OK)
        goto cleanup;
    url_parts_free(p);
    h2 = curl_url();
    if (!h2) {
        result = PARSE_ENOMEM;
        goto cleanup;
    }
    result = url_from_curl(curl_url_set(h2, CURLUPART_URL, s, 0));
    if (result == PARSE_OK)
        result = url_finish(h2, p, 0);
cleanup:
    if (result != PARSE_OK)
        url_parts_free(p);
    curl_url_cleanup(h2);
    free(s);
    return result;
}

/* Parse and normalise the absolute URL `in` into p (zeroed; left zeroed on error). */
static int url_parse(const char *in, struct url_parts *p)
{
    CURLU *h = NULL;
    char *copy = NULL;
    size_t len, i, sl;
    int result;

    len = strnlen(in, PARSE_URL_MAX + 1);
    if (len > PARSE_URL_MAX)
        return PARSE_ETOOLONG;
    for (i = 0; i < len; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return PARSE_EINVAL;
    if (len > 0 && (in[0] == ' ' || in[len - 1] == ' '))
        return PARSE_EINVAL;
    sl = url_scheme_len(in, len);
    if (!url_scheme_kind(in, sl))
        return PARSE_ESCHEME;

    /* The fragment never reaches curl: we drop it anyway, and curl rejects some. */
    copy = strndup(in, strcspn(in, "#"));
    h = curl_url();
    if (!copy || !h) {
        result = PARSE_ENOMEM;
        goto cleanup;
    }
    result = url_from_curl(curl_url_set(h, CURLUPART_URL, copy, CURLU_ALLOW_SPACE));
    if (result == PARSE_OK)
        result = url_finish(h, p, 1);
cleanup:
    curl_url_cleanup(h);
    free(copy);
    return result;
}

int parse_url_normalize(const char *in, char **out)
{
    struct url_parts p = {0};
    int result;

    result = url_parse(in, &p);
    if (result == PARSE_OK)
        result = url_build(&p, out);
    url_parts_free(&p);
    return result;
}

/*
 * Copy ref the way a browser reads an href: C0 controls and spaces trimmed at both ends,
 * tabs/CR/LF inside removed, the fragment cut off. Other controls fail with PARSE_EINVAL.
 */
static int url_clean_ref(const char *ref, char **out)
{
    const unsigned char *s = (const unsigned char *)ref, *e;
    size_t n = 0;
    const unsigned char *q;
    char *copy, *o;

    while (*s && *s <= 0x20)
        s++;
    e = s + strlen((const char *)s);
    while (e > s && e[-1] <= 0x20)
        e--;
    for (q = s; q < e && *q != '#'; q++) {
        if (*q == '\t' || *q == '\n' || *q == '\r')
            continue;
        if (*q < 0x20 || *q == 0x7f)
            return PARSE_EINVAL;
        if (++n > PARSE_URL_MAX)
            return PARSE_ETOOLONG;
    }
    copy = malloc(n + 1);
    if (!copy)
        return PARSE_ENOMEM;
    for (o = copy, q = s; q < e && *q != '#'; q++)
        if (*q != '\t' && *q != '\n' && *q != '\r')
            *o++ = (char)*q;
    *o = '\0';
    *out = copy;
    return PARSE_OK;
}

/*
 * The slow path: RFC 3986 resolution by curl of ref against the normalised base nbase, then
 * the normalisation of the parts. Used for every reference the fast path cannot prove simple.
 */
static int url_resolve_curl(const char *nbase, const char *ref, char **out)
{
    struct url_parts p = {0};
    CURLU *h = NULL;
    char *cref = NULL, *rel = NULL;
    const char *r;
    size_t sl, rl;
    int result;

    result = url_clean_ref(ref, &cref);
    if (result != PARSE_OK)
        goto cleanup;
    r = cref;
    rl = strlen(r);
    sl = url_scheme_len(r, rl);
    if (sl > 0) {
        int kind = url_scheme_kind(r, sl);
        if (!kind) {
            result = PARSE_ESCHEME;
            goto cleanup;
        }
        /* "http:g" against an http base: the backward-compatible reading of RFC 3986 5.4.2. */
        if ((kind == 2) == (strncmp(nbase, "https:", 6) == 0) && strncmp(r + sl + 1, "//", 2))
            r += sl + 1;
    } else if (strcspn(r, ":") < strcspn(r, "/?")) {
        /* A colon in the first segment that is no scheme ("1a:b"): keep it a relative path. */
        rel = malloc(rl + 3);
        if (!rel) {
            result = PARSE_ENOMEM;
            goto cleanup;
        }
        snprintf(rel, rl + 3, "./%s", r);
        r = rel;
    }
    if (r[0] == '\0') {
        *out = strdup(nbase);
        result = *out ? PARSE_OK : PARSE_ENOMEM;
        goto cleanup;
    }

    h = curl_url();
    if (!h) {
        result = PARSE_ENOMEM;
        goto cleanup;
    }
    result = url_from_curl(curl_url_set(h, CURLUPART_URL, nbase, 0));
    if (result != PARSE_OK)
        goto cleanup;
    result = url_from_curl(curl_url_set(h, CURLUPART_URL, r, CURLU_ALLOW_SPACE));
    if (result == PARSE_OK)
        result = url_finish(h, &p, 1);
    if (result == PARSE_OK)
        result = url_build(&p, out);
cleanup:
    url_parts_free(&p);
    curl_url_cleanup(h);
    free(cref);
    free(rel);
    return result;
}

/*
 * Characters of a reference the fast path takes as they are: those the normal form keeps raw
 * in a path and in a query (parse/pct.c), less ':' (a scheme, "1a:b"), '@' and '%' (encoding
 * to normalise). Anything else (space, controls, '\\', non-ASCII ...) goes the slow way.
 */
static int url_fast_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~' || c == '!' || c == '$' || c == '&' ||
           c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' ||
           c == '=' || c == '/' || c == '?';
}

/*
 * RFC 3986 5.2.4 on the path in buf[0..len) (which starts with '/'), in place; returns the new
 * length (at least 1: "/" when everything was removed).
 */
static size_t url_remove_dots(char *buf, size_t len)
{
    size_t in = 0, o = 0;

    while (in < len) {
        /* buf[in] == '/': a segment runs to the next '/' or the end */
        size_t end = in + 1;
        while (end < len && buf[end] != '/')
            end++;
        if (end - in == 2 && buf[in + 1] == '.') {
            if (end == len)
                buf[o++] = '/';              /* "/." at the end leaves "/" */
        } else if (end - in == 3 && buf[in + 1] == '.' && buf[in + 2] == '.') {
            while (o > 0 && buf[o - 1] != '/')
                o--;
            if (o > 0)
                o--;                         /* drop the last output segment and its '/' */
            if (end == len)
                buf[o++] = '/';
        } else {
            memmove(buf + o, buf + in, end - in);
            o += end - in;
        }
        in = end;
    }
    if (o == 0)
        buf[o++] = '/';
    return o;
}

/*
 * The fast path: a reference made only of url_fast_char characters (up to a '#'), not "//..."
 * and not empty, resolved against the normalised nbase by RFC 3986 5.2 with no allocation but
 * the result's. Such a reference needs no percent-encoding work and cannot change the scheme
 * or the authority, so the result is provably what the curl path builds: tests/unit/test_url.c
 * checks it differentially on generated references. Returns 1 with *result set when it
 * handled ref, 0 when ref must take the slow path.
 */
static int url_resolve_fast(const char *nbase, const char *ref, char **out, int *result)
{
    const char *path, *bq, *rq;
    size_t rlen, plen, olen, dir, n;
    char buf[PARSE_URL_MAX + 1], *s;

    for (rlen = 0; ref[rlen] && ref[rlen] != '#'; rlen++)
        if (!url_fast_char((unsigned char)ref[rlen]))
            return 0;
    /* "//" anywhere: curl's dot removal does not follow RFC 3986 around empty segments */
    if (rlen == 0 || rlen > PARSE_URL_MAX || memmem(ref, rlen, "//", 2))
        return 0;
    /* curl appends a query that follows leading "./" and "../" to the directory without its
     * '/' ("../?x" against /d/e/ gives /d?x): the normal form keeps curl's reading. */
    for (n = 0; ref[n] == '.';) {
        if (ref[n + 1] == '/')
            n += 2;
        else if (ref[n + 1] == '.' && ref[n + 2] == '/')
            n += 3;
        else
            break;
    }
    if (n > 0 && (ref[n] == '?' || ref[n] == '#'))
        return 0;
    /* nbase is normal: "scheme://authority/path[?query]" with no '/' in the authority. */
    path = strchr(strstr(nbase, "://") + 3, '/');
    bq = strchr(path, '?');
    olen = (size_t)(path - nbase);
    plen = bq ? (size_t)(bq - path) : strlen(path);
    if (memmem(path, plen, "//", 2))
        return 0;
    rq = memchr(ref, '?', rlen);
    if (rq == ref) {
        /* "?q": the base's path with the reference's query */
        n = plen;
        memcpy(buf, path, n);
    } else {
        size_t rp = rq ? (size_t)(rq - ref) : rlen;
        dir = 0;
        if (ref[0] != '/')
            for (dir = plen; dir > 0 && path[dir - 1] != '/'; dir--)
                ;
        if (dir + rp > PARSE_URL_MAX)
            return 0;
        memcpy(buf, path, dir);
        memcpy(buf + dir, ref, rp);
        n = url_remove_dots(buf, dir + rp);
    }
    if (rq && rq + 1 < ref + rlen) {
        size_t ql = (size_t)(ref + rlen - rq);
        if (n + ql > PARSE_URL_MAX)
            return 0;
        memcpy(buf + n, rq, ql);
        n += ql;
    }
    if (olen + n > PARSE_URL_MAX)
        return 0;                            /* the slow path says PARSE_ETOOLONG */
    s = malloc(olen + n + 1);
    if (!s) {
        *result = PARSE_ENOMEM;
        return 1;
    }
    memcpy(s, nbase, olen);
    memcpy(s + olen, buf, n);
    s[olen + n] = '\0';
    *out = s;
    *result = PARSE_OK;
    return 1;
}

/*
 * The last base normalised on this thread: a page's links are all resolved against one base,
 * so its normalisation (a full curl parse) is done once per page, not once per link. Bases
 * longer than URL_BASE_CACHE bytes are not kept. Fixed buffers: nothing to free at thread exit.
 */
#define URL_BASE_CACHE 2048
static _Thread_local char url_cache_in[URL_BASE_CACHE + 1], url_cache_out[URL_BASE_CACHE + 1];

/* The normalised base: the cached one, or *owned (malloc'd, the caller frees it). */
static int url_base(const char *base, const char **nbase, char **owned)
{
    int result;

    *owned = NULL;
    if (url_cache_in[0] && strcmp(base, url_cache_in) == 0) {
        *nbase = url_cache_out;
        return PARSE_OK;
    }
    result = parse_url_normalize(base, owned);
    if (result != PARSE_OK)
        return result;
    *nbase = *owned;
    if (strlen(base) <= URL_BASE_CACHE && strlen(*owned) <= URL_BASE_CACHE) {
        strcpy(url_cache_in, base);
        strcpy(url_cache_out, *owned);
    }
    return PARSE_OK;
}

int parse_url_resolve(const char *base, const char *ref, char **out)
{
    const char *nbase;
    char *owned;
    int result = url_base(base, &nbase, &owned);

    if (result == PARSE_OK && !url_resolve_fast(nbase, ref, out, &result))
        result = url_resolve_curl(nbase, ref, out);
    free(owned);
    return result;
}

int parse_url_resolve_slow(const char *base, const char *ref, char **out)
{
    char *nbase = NULL;
    int result = parse_url_normalize(base, &nbase);

    if (result == PARSE_OK)
        result = url_resolve_curl(nbase, ref, out);
    free(nbase);
    return result;
}

int parse_url_hostport(const char *url, char **out)
{
    struct url_parts p = {0};
    const char *port;
    char *s;
    size_t n;
    int result;

    result = url_parse(url, &p);
    if (result != PARSE_OK)
        goto cleanup;
    port = p.port ? p.port : (p.https ? "443" : "80");
    n = strlen(p.host) + 1 + strlen(port) + 1;
    s = malloc(n);
    if (!s) {
        result = PARSE_ENOMEM;
        goto cleanup;
    }
    snprintf(s, n, "%s:%s", p.host, port);
    *out = s;
cleanup:
    url_parts_free(&p);
    return result;
}

int parse_url_origin(const char *url, const char *path, char **out)
{
    struct url_parts p = {0};
    char *s;
    int result;

    result = url_parse(url, &p);
    if (result != PARSE_OK)
        goto cleanup;
    if (asprintf(&s, "%s://%s%s%s%s", p.https ? "https" : "http", p.host, p.port ? ":" : "",
                 p.port ? p.port : "", path) < 0)
        result = PARSE_ENOMEM;
    else
        *out = s;
cleanup:
    url_parts_free(&p);
    return result;
}

int parse_url_host(const char *url, char **out)
{
    struct url_parts p = {0};
    int result;

    result = url_parse(url, &p);
    if (result == PARSE_OK) {
        *out = p.host;
        p.host = NULL;
    }
    url_parts_free(&p);
    return result;
}

int parse_url_path(const char *url, char **out)
{
    struct url_parts p = {0};
    char *s;
    size_t n;
    int result;

    result = url_parse(url, &p);
    if (result != PARSE_OK)
        goto cleanup;
    n = strlen(p.path) + (p.query ? strlen(p.query) + 1 : 0) + 1;
    s = malloc(n);
    if (!s) {
        result = PARSE_ENOMEM;
        goto cleanup;
    }
    snprintf(s, n, "%s%s%s", p.path, p.query ? "?" : "", p.query ? p.query : "");
    *out = s;
cleanup:
    url_parts_free(&p);
    return result;
}

/* ---- passwords: masked wherever a URL is shown or stored ---------------------------------- */

/* What stands for a URL whose masked form could not be made (no memory, no room). */
static const char url_redact_placeholder[] = "(a URL with a password, not shown)";

#define URL_REDACT_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_ALLOW_SPACE | CURLU_PATH_AS_IS)

/* Copies s into buf[n]; the placeholder when it does not fit. */
static const char *url_redact_copy(const char *s, char *buf, size_t n)
{
    size_t len = strlen(s);

    if (len >= n)
        return url_redact_placeholder;
    memcpy(buf, s, len + 1);
    return buf;
}

/* The mask made by hand for a string CURLU refuses ("http://a:b@bad host/", "a:b@host/x"): the
 * authority starts after "scheme://" or at the start, ends at the first '/', '?' or '#'; its user
 * info runs to its last '@', and the password from the first ':' in that. */
static const char *url_redact_text(const char *url, char *buf, size_t n)
{
    size_t len = strlen(url), sl = url_scheme_len(url, len), head, tail;
    const char *auth = sl && url[sl + 1] == '/' && url[sl + 2] == '/' ? url + sl + 3 : url;
    const char *end = auth + strcspn(auth, "/?#"), *at = NULL, *colon;

    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at || !(colon = memchr(auth, ':', (size_t)(at - auth))))
        return url;
    head = (size_t)(colon + 1 - url);
    tail = strlen(at);
    if (head + strlen(PARSE_URL_MASK) + tail >= n)
        return url_redact_placeholder;
    memcpy(buf, url, head);
    memcpy(buf + head, PARSE_URL_MASK, strlen(PARSE_URL_MASK));
    memcpy(buf + head + strlen(PARSE_URL_MASK), at, tail + 1);
    return buf;
}

const char *parse_url_redact(const char *url, char *buf, size_t n)
{
    CURLU *h;
    char *password = NULL, *masked = NULL;
    const char *result;
    CURLUcode uc;

    if (!strchr(url, '@'))              /* no user info, no password: most URLs stop here */
        return url;
    if (!(h = curl_url()))
        return url_redact_placeholder;
    uc = curl_url_set(h, CURLUPART_URL, url, URL_REDACT_FLAGS);
    if (uc == CURLUE_OUT_OF_MEMORY) {
        result = url_redact_placeholder;
        goto cleanup;
    }
    if (uc != CURLUE_OK) {
        result = url_redact_text(url, buf, n);
        goto cleanup;
    }
    uc = curl_url_get(h, CURLUPART_PASSWORD, &password, 0);
    if (uc == CURLUE_NO_PASSWORD) {
        result = url;
        goto cleanup;
    }
    if (uc != CURLUE_OK || curl_url_set(h, CURLUPART_PASSWORD, PARSE_URL_MASK, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_URL, &masked, 0) != CURLUE_OK) {
        result = url_redact_placeholder;
        goto cleanup;
    }
    result = url_redact_copy(masked, buf, n);
cleanup:
    curl_free(password);
    curl_free(masked);
    curl_url_cleanup(h);
    return result;
}

/* 1 when the part of a and b is the same (both absent counts), 0 when not, <0 on an error. */
static int url_same_part(CURLU *a, CURLU *b, CURLUPart what, unsigned flags, int nocase)
{
    char *x = NULL, *y = NULL;
    CURLUcode ua = curl_url_get(a, what, &x, flags), ub = curl_url_get(b, what, &y, flags);
    int same;

    if (ua == CURLUE_OUT_OF_MEMORY || ub == CURLUE_OUT_OF_MEMORY)
        same = PARSE_ENOMEM;
    else if (!x || !y)
        same = !x && !y;
    else
        same = nocase ? strcasecmp(x, y) == 0 : strcmp(x, y) == 0;
    curl_free(x);
    curl_free(y);
    return same;
}

int parse_url_unredact(const char *url, char *const *sources, size_t n, char **out)
{
    CURLU *h = NULL, *src = NULL;
    char *password = NULL, *found = NULL, *s = NULL;
    int result = PARSE_OK;

    *out = NULL;
    if (!strchr(url, '@'))
        return PARSE_OK;
    if (!(h = curl_url()) || !(src = curl_url())) {
        result = PARSE_ENOMEM;
        goto cleanup;
    }
    result = url_from_curl(curl_url_set(h, CURLUPART_URL, url, URL_REDACT_FLAGS));
    if (result != PARSE_OK)
        goto cleanup;
    if (curl_url_get(h, CURLUPART_PASSWORD, &password, 0) != CURLUE_OK ||
        strcmp(password, PARSE_URL_MASK) != 0)
        goto cleanup;                   /* no password, or a real one: nothing to restore */
    for (size_t i = 0; i < n && !found; i++) {
        int same = 1;
        if (curl_url_set(src, CURLUPART_URL, sources[i], URL_REDACT_FLAGS) != CURLUE_OK)
            continue;
        if (same > 0)
            same = url_same_part(h, src, CURLUPART_SCHEME, 0, 1);
        if (same > 0)
            same = url_same_part(h, src, CURLUPART_HOST, 0, 1);
        if (same > 0)
            same = url_same_part(h, src, CURLUPART_PORT, CURLU_DEFAULT_PORT, 0);
        if (same > 0)
            same = url_same_part(h, src, CURLUPART_USER, 0, 0);
        if (same < 0) {
            result = same;
            goto cleanup;
        }
        if (same > 0 && curl_url_get(src, CURLUPART_PASSWORD, &found, 0) != CURLUE_OK)
            found = NULL;
    }
    result = url_from_curl(found ? curl_url_set(h, CURLUPART_PASSWORD, found, 0)
                                 : curl_url_set(h, CURLUPART_USER, NULL, 0));
    if (result == PARSE_OK && !found)
        result = url_from_curl(curl_url_set(h, CURLUPART_PASSWORD, NULL, 0));
    if (result == PARSE_OK)
        result = url_from_curl(curl_url_get(h, CURLUPART_URL, &s, 0));
    if (result == PARSE_OK && !(*out = strdup(s)))
        result = PARSE_ENOMEM;
cleanup:
    curl_free(password);
    curl_free(found);
    curl_free(s);
    curl_url_cleanup(src);
    curl_url_cleanup(h);
    return result;
}
