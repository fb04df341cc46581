/* storage/path.c: URL -> safe relative path, and the per-job set of names already given. */
#include "storage/path.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/hash.h"
#include "storage/seen.h"

#define PATH_EXT_MAX 16      /* longest extension kept when a suffix is inserted, dot included */
#define PATH_SUFFIX_SIZE 10  /* "-" + 8 hex digits + NUL */
#define PATH_INDEX "index.html"
#define NAMES_MIN_SLOTS 64
#define NAMES_TRIES 64

/* ------------------------------------------------------------------------------------------- */
/* Splitting the URL                                                                           */
/* ------------------------------------------------------------------------------------------- */

/* The parts of a URL we name files from; every string is allocated by curl (curl_free). */
struct path_url {
    char *host;
    char *port;  /* NULL when absent or the scheme's default */
    char *path;  /* still percent-encoded, starts with '/' */
    char *query; /* NULL when absent or empty */
};

static void path_url_release(struct path_url *parts)
{
    curl_free(parts->host);
    curl_free(parts->port);
    curl_free(parts->path);
    curl_free(parts->query);
    memset(parts, 0, sizeof(*parts));
}

static int path_curl_result(CURLUcode rc)
{
    return rc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/* Gets one part into *dst (caller frees with curl_free). `absent` is the code curl returns when
 * the URL has no such part: it leaves *dst NULL and is not an error. */
static int path_url_get(CURLU *u, CURLUPart what, unsigned int flags, CURLUcode absent,
                        char **dst)
{
    int result = 0;
    char *value = NULL;
    CURLUcode rc = curl_url_get(u, what, &value, flags);

    if (rc == absent && absent != CURLUE_OK)
        goto cleanup;
    if (rc != CURLUE_OK) {
        result = path_curl_result(rc);
        goto cleanup;
    }
    *dst = value;
    value = NULL;
cleanup:
    curl_free(value);
    return result;
}

/* Fills *parts from an absolute http(s) URL. On failure *parts holds nothing. */
static int path_url_split(const char *url, struct path_url *parts)
{
    int result = 0;
    char *scheme = NULL;
    CURLU *u = curl_url();
    CURLUcode rc;

    memset(parts, 0, sizeof(*parts));
    if (!u) {
        result = -ENOMEM;
        goto cleanup;
    }
    rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc != CURLUE_OK) {
        result = path_curl_result(rc);
        goto cleanup;
    }
    result = path_url_get(u, CURLUPART_SCHEME, 0, CURLUE_OK, &scheme);
    if (result < 0)
        goto cleanup;
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        result = -EINVAL;
        goto cleanup;
    }
    result = path_url_get(u, CURLUPART_HOST, 0, CURLUE_OK, &parts->host);
    if (result < 0)
        goto cleanup;
    result = path_url_get(u, CURLUPART_PORT, CURLU_NO_DEFAULT_PORT, CURLUE_NO_PORT, &parts->port);
    if (result < 0)
        goto cleanup;
    result = path_url_get(u, CURLUPART_PATH, 0, CURLUE_OK, &parts->path);
    if (result < 0)
        goto cleanup;
    result = path_url_get(u, CURLUPART_QUERY, 0, CURLUE_NO_QUERY, &parts->query);
    if (result < 0)
        goto cleanup;
    if (parts->host[0] == '\0' || parts->path[0] != '/') {
        result = -EINVAL;
        goto cleanup;
    }
    if (parts->query && parts->query[0] == '\0') {
        curl_free(parts->query);
        parts->query = NULL;
    }
cleanup:
    curl_free(scheme);
    curl_url_cleanup(u);
    if (result < 0)
        path_url_release(parts);
    return result;
}

/* ------------------------------------------------------------------------------------------- */
/* Cleaning one segment                                                                        */
/* ------------------------------------------------------------------------------------------- */

static int path_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The length of the valid UTF-8 sequence at p (n bytes available), or 0 if it is invalid:
 * overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t path_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    size_t need;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        need = 1;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        need = 2;
        if (p[0] == 0xe0)
            lo = 0xa0;
        else if (p[0] == 0xed)
            hi = 0x9f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        need = 3;
        if (p[0] == 0xf0)
            lo = 0x90;
        else if (p[0] == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < need + 1 || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i <= need; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    }
    return need + 1;
}

/* Whether name (len bytes) is a Windows device name: the part before the first '.', trailing
 * spaces ignored, is CON, PRN, AUX, NUL, COM1-9 or LPT1-9 in any case. */
static int path_is_reserved(const char *name, size_t len)
{
    static const char *const three[] = {"CON", "PRN", "AUX", "NUL"};
    const char *dot = memchr(name, '.', len);
    size_t base = dot ? (size_t)(dot - name) : len;

    while (base > 0 && name[base - 1] == ' ')
        base--;
    if (base == 3) {
        for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++) {
            if (strncasecmp(name, three[i], 3) == 0)
                return 1;
        }
    }
    if (base == 4 && name[3] >= '1' && name[3] <= '9' &&
        (strncasecmp(name, "COM", 3) == 0 || strncasecmp(name, "LPT", 3) == 0))
        return 1;
    return 0;
}

/* The job's own files (storage/state.h's STORE_STATE_FILE and SQLite's -wal, -shm, -journal
 * beside it) start with this: a name that does gets a leading '_' so that no download can
 * replace the state database. */
#define PATH_STATE_PREFIX ".gather.db"

/* Decodes (when decode is set) the len bytes at src into dst and cleans them as
 * store_path_from_url describes (all but the length limit). dst needs len + 1 bytes and may equal
 * src; len must be at least 1. Returns the length written, at least 1; the result is valid UTF-8. */
static size_t path_clean(const char *src, size_t len, char *dst, int decode)
{
    unsigned char *d = (unsigned char *)dst;
    size_t n = 0;
    size_t dots = 0;

    for (size_t i = 0; i < len; i++) {
        int hi;
        int lo;

        if (decode && src[i] == '%' && i + 2 < len &&
            (hi = path_hexval((unsigned char)src[i + 1])) >= 0 &&
            (lo = path_hexval((unsigned char)src[i + 2])) >= 0) {
            d[n++] = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else {
            d[n++] = (unsigned char)src[i];
        }
    }
    for (size_t i = 0; i < n;) {
        size_t k = path_utf8_len(d + i, n - i);

        if (k == 0 || (k == 1 && (d[i] < 0x20 || d[i] == 0x7f || d[i] == '/' || d[i] == '\\')) ||
            (k == 2 && d[i] == 0xc2 && d[i + 1] < 0xa0)) {
            /* invalid byte, ASCII control or separator, or a C1 control (U+0080-U+009F) */
            size_t bad = k ? k : 1;

            memset(d + i, '_', bad);
            i += bad;
            continue;
        }
        i += k;
    }
    for (size_t i = 0; i < n; i++)
        dots += d[i] == '.';
    if (dots == n) {
        memset(d, '_', n);
    } else if (path_is_reserved(dst, n) ||
               (n >= strlen(PATH_STATE_PREFIX) &&
                memcmp(dst, PATH_STATE_PREFIX, strlen(PATH_STATE_PREFIX)) == 0)) {
        memmove(d + 1, d, n);
        d[0] = '_';
        n++;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------- */
/* Names with suffixes                                                                         */
/* ------------------------------------------------------------------------------------------- */

/* Writes "-" and the first 8 hex digits of h to out, as store_hash_hex8 does. */
static void path_suffix(uint64_t h, char out[PATH_SUFFIX_SIZE])
{
    static const char digits[] = "0123456789abcdef";

    out[0] = '-';
    for (int i = 0; i < 8; i++)
        out[1 + i] = digits[(h >> (60 - 4 * i)) & 0xf];
    out[9] = '\0';
}

/* The offset of name's extension, or len if it has none: from the last '.', when that '.' is
 * not the first byte and the extension, dot included, is 2 to PATH_EXT_MAX bytes. */
static size_t path_ext(const char *name, size_t len)
{
    for (size_t i = len; i > 1; i--) {
        if (name[i - 1] == '.') {
            size_t extlen = len - (i - 1);

            return extlen >= 2 && extlen <= PATH_EXT_MAX ? i - 1 : len;
        }
    }
    return len;
}

/* Writes name with suffix inserted before its extension, then add (-E's ".html", or "") to dst
 * (STORE_NAME_MAX + 1 bytes), with the stem cut at a UTF-8 boundary so that the result is at
 * most STORE_NAME_MAX bytes. name must be valid UTF-8 (a cleaned segment). Returns the length
 * written; dst is not NUL-terminated. */
static size_t path_compose(const char *name, size_t len, const char *suffix, const char *add,
                           char *dst)
{
    size_t ext = path_ext(name, len);
    size_t extlen = len - ext;
    size_t sfxlen = strlen(suffix);
    size_t addlen = strlen(add);
    size_t stem = ext;

    if (stem + sfxlen + extlen + addlen > STORE_NAME_MAX) {
        stem = STORE_NAME_MAX - sfxlen - extlen - addlen;
        while (stem > 0 && ((unsigned char)name[stem] & 0xc0) == 0x80)
            stem--;
    }
    memcpy(dst, name, stem);
    memcpy(dst + stem, suffix, sfxlen);
    memcpy(dst + stem + sfxlen, name + ext, extlen);
    memcpy(dst + stem + sfxlen + extlen, add, addlen);
    return stem + sfxlen + extlen + addlen;
}

/* ------------------------------------------------------------------------------------------- */
/* Building the path                                                                           */
/* ------------------------------------------------------------------------------------------- */

struct path_buf {
    char text[STORE_PATH_SIZE];
    size_t len;
};

/* Appends '/' (unless first) and the n bytes at name. -ENAMETOOLONG past STORE_PATH_MAX. */
/* The path built in pb, into out: 0, or -ERANGE when it does not fit (out untouched). */
static int path_copy_out(const struct path_buf *pb, char *out, size_t outsz)
{
    if (pb->len + 1 > outsz)
        return -ERANGE;
    memcpy(out, pb->text, pb->len + 1);
    return 0;
}

static int path_append(struct path_buf *pb, const char *name, size_t n)
{
    int result = 0;
    size_t sep = pb->len > 0;

    if (pb->len + sep + n > STORE_PATH_MAX) {
        result = -ENAMETOOLONG;
        goto cleanup;
    }
    if (sep)
        pb->text[pb->len++] = '/';
    memcpy(pb->text + pb->len, name, n);
    pb->len += n;
    pb->text[pb->len] = '\0';
cleanup:
    return result;
}

/* Appends a cleaned name with suffix ("" for none) before its extension and add ("" for none)
 * after it. When the result would pass STORE_NAME_MAX, the URL's suffix replaces suffix and the
 * stem is cut. */
static int path_append_name(struct path_buf *pb, const char *name, size_t len, const char *suffix,
                            const char *add, const char *url_suffix)
{
    int result;
    char composed[STORE_NAME_MAX + 1];
    size_t n;

    if (len + strlen(suffix) + strlen(add) > STORE_NAME_MAX)
        suffix = url_suffix;
    if (suffix[0] == '\0' && add[0] == '\0') {
        result = path_append(pb, name, len);
        goto cleanup;
    }
    n = path_compose(name, len, suffix, add, composed);
    result = path_append(pb, composed, n);
cleanup:
    return result;
}

/* Appends the host segment: lowercased, IPv6 brackets dropped and ':' made '-', cleaned, then
 * "_port" when the port is not the default. scratch holds strlen(host) + 1 + strlen(port) + 2. */
static int path_append_host(struct path_buf *pb, const struct path_url *parts, char *scratch,
                            const char *url_suffix)
{
    int result;
    const char *host = parts->host;
    size_t len = strlen(host);
    size_t n;

    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0) {
        result = -EINVAL;
        goto cleanup;
    }
    for (size_t i = 0; i < len; i++) {
        char c = host[i];

        scratch[i] = c == ':' ? '-' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    n = path_clean(scratch, len, scratch, 1);
    if (parts->port) {
        size_t plen = strlen(parts->port);

        scratch[n++] = '_';
        memcpy(scratch + n, parts->port, plen);
        n += plen;
    }
    result = path_append_name(pb, scratch, n, "", "", url_suffix);
cleanup:
    return result;
}

/* 1 when the n bytes at name end in ext, or for ".html" in ".htm" (any case). */
static int path_has_ext(const char *name, size_t n, const char *ext)
{
    size_t k = strlen(ext);

    if (n >= k && strncasecmp(name + n - k, ext, k) == 0)
        return 1;
    return !strcmp(ext, ".html") && n >= 4 && strncasecmp(name + n - 4, ".htm", 4) == 0;
}

const char *store_naming_ext(const char *ct)
{
    if (!ct)
        return NULL;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (!strncasecmp(ct, "text/html", 9) || !strncasecmp(ct, "application/xhtml+xml", 21))
        return ".html";
    if (!strncasecmp(ct, "text/css", 8))
        return ".css";
    return NULL;
}

int store_path_from_url(const char *url, store_layout_t layout, char *out, size_t outsz)
{
    store_naming_t naming = {.layout = layout};

    return store_path_from_url_as(url, &naming, out, outsz);
}

int store_path_from_url_as(const char *url, const store_naming_t *naming, char *out, size_t outsz)
{
    int result = 0;
    store_layout_t layout = naming ? naming->layout : STORE_LAYOUT_FLAT;
    const char *add = naming && naming->ext ? naming->ext : "";
    long cut = naming && naming->cut_dirs > 0 ? naming->cut_dirs : 0;
    struct path_url parts = {0};
    struct path_buf pb = {.len = 0};
    char url_suffix[PATH_SUFFIX_SIZE];
    char query_suffix[PATH_SUFFIX_SIZE] = "";
    char *scratch = NULL;
    const char *last;

    if (out && outsz > 0)
        out[0] = '\0';
    if (!url || !out || !naming || (layout != STORE_LAYOUT_FLAT && layout != STORE_LAYOUT_TREE)) {
        result = -EINVAL;
        goto cleanup;
    }
    result = path_url_split(url, &parts);
    if (result < 0)
        goto cleanup;
    /* Every part is shorter than the URL it came from; 16 covers "_port" and a reserved '_'. */
    scratch = malloc(strlen(url) + 16);
    if (!scratch) {
        result = -ENOMEM;
        goto cleanup;
    }
    path_suffix(store_hash64(url, strlen(url)), url_suffix);
    last = strrchr(parts.path, '/') + 1;

    if (layout == STORE_LAYOUT_TREE) {
        if (parts.query)
            path_suffix(store_hash64(parts.query, strlen(parts.query)), query_suffix);
        if (!naming->no_host && (result = path_append_host(&pb, &parts, scratch, url_suffix)) < 0)
            goto cleanup;
        for (const char *seg = parts.path + 1; seg < last;) {
            const char *end = strchr(seg, '/');
            size_t n = (size_t)(end - seg);

            /* --cut-dirs counts the folders a URL shows (empty ones are no folder) */
            if (n > 0 && cut > 0) {
                cut--;
            } else if (n > 0) {
                n = path_clean(seg, n, scratch, 1);
                result = path_append_name(&pb, scratch, n, "", "", url_suffix);
                if (result < 0)
                    goto cleanup;
            }
            seg = end + 1;
        }
    }
    if (*last == '\0') {
        if (path_has_ext(PATH_INDEX, strlen(PATH_INDEX), add))
            add = "";
        result = path_append_name(&pb, PATH_INDEX, strlen(PATH_INDEX), query_suffix, add,
                                  url_suffix);
    } else {
        size_t n = path_clean(last, strlen(last), scratch, 1);

        if (path_has_ext(scratch, n, add))
            add = "";
        result = path_append_name(&pb, scratch, n, query_suffix, add, url_suffix);
    }
    if (result < 0)
        goto cleanup;
    result = path_copy_out(&pb, out, outsz);
cleanup:
    free(scratch);
    path_url_release(&parts);
    return result;
}

/* ------------------------------------------------------------------------------------------- */
/* Content-Disposition                                                                         */
/* ------------------------------------------------------------------------------------------- */

static int path_is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* One parameter value at *p (a quoted-string with its backslash escapes, or a token up to ';'),
 * unquoted into out (cap bytes, value + NUL always fit: cap is the header's length + 1). Moves
 * *p past it. Returns the length. */
static size_t path_cd_value(const char **p, char *out)
{
    const char *v = *p;
    size_t n = 0;

    if (*v == '"') {
        for (v++; *v && *v != '"'; v++) {
            if (*v == '\\' && v[1])
                v++;
            out[n++] = *v;
        }
        if (*v == '"')
            v++;
        while (*v && *v != ';')
            v++;                         /* junk after the closing quote */
    } else {
        while (*v && *v != ';')
            out[n++] = *v++;
        while (n > 0 && path_is_space(out[n - 1]))
            n--;
    }
    out[n] = '\0';
    *p = v;
    return n;
}

/* An RFC 8187 ext-value (charset'language'pct-encoded, len bytes in v, which holds cap) decoded
 * in place to UTF-8; its length (less than cap), or 0 for a charset other than UTF-8 and
 * ISO-8859-1 (the two RFC 8187 requires). */
static size_t path_cd_ext(char *v, size_t len, size_t cap)
{
    char *q1 = memchr(v, '\'', len);
    char *q2 = q1 ? memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - v)) : NULL;
    int latin1;
    size_t n = 0;
    const char *src;
    size_t srclen;
    unsigned char *tmp;

    if (!q2)
        return 0;
    if ((size_t)(q1 - v) == 5 && strncasecmp(v, "UTF-8", 5) == 0)
        latin1 = 0;
    else if ((size_t)(q1 - v) == 10 && strncasecmp(v, "ISO-8859-1", 10) == 0)
        latin1 = 1;
    else
        return 0;
    src = q2 + 1;
    srclen = len - (size_t)(src - v);
    /* Decoding only shrinks, but Latin-1 bytes grow to two UTF-8 bytes: decode into a copy. */
    if (!(tmp = malloc(srclen + 1)))
        return 0;
    for (size_t i = 0; i < srclen; i++) {
        int hi, lo;

        if (src[i] == '%' && i + 2 < srclen &&
            (hi = path_hexval((unsigned char)src[i + 1])) >= 0 &&
            (lo = path_hexval((unsigned char)src[i + 2])) >= 0) {
            tmp[n++] = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else {
            tmp[n++] = (unsigned char)src[i];
        }
    }
    if (!latin1) {
        memcpy(v, tmp, n);
    } else {
        size_t m = 0;
        /* Each byte may grow to two: a name cut short here is still a clean name. */
        for (size_t i = 0; i < n && m + 2 < cap; i++) {
            if (tmp[i] < 0x80) {
                v[m++] = (char)tmp[i];
            } else {
                v[m++] = (char)(0xc0 | tmp[i] >> 6);
                v[m++] = (char)(0x80 | (tmp[i] & 0x3f));
            }
        }
        n = m;
    }
    free(tmp);
    return n;
}

/* The file name a Content-Disposition value gives, decoded (filename* before filename), into a
 * new buffer: *name and its length; NULL when there is none. */
static char *path_cd_filename(const char *value, size_t *len)
{
    size_t cap = strlen(value) + 1;
    char *plain = malloc(cap), *ext = malloc(cap), *pname = malloc(cap);
    size_t nplain = 0, next = 0;
    int have_plain = 0;
    const char *p = value;
    char *result = NULL;

    if (!plain || !ext || !pname)
        goto cleanup;
    p += strcspn(p, ";");                    /* the disposition type: attachment, inline, ... */
    while (*p == ';') {
        size_t n = 0;

        p++;
        while (path_is_space(*p))
            p++;
        while (*p && *p != '=' && *p != ';')
            pname[n++] = *p++;
        while (n > 0 && path_is_space(pname[n - 1]))
            n--;
        pname[n] = '\0';
        if (*p != '=')
            continue;
        p++;
        while (path_is_space(*p))
            p++;
        if (strcasecmp(pname, "filename*") == 0 && next == 0) {
            next = path_cd_value(&p, ext);
            next = path_cd_ext(ext, next, cap);
        } else if (strcasecmp(pname, "filename") == 0 && !have_plain) {
            nplain = path_cd_value(&p, plain);
            have_plain = 1;
        } else {
            path_cd_value(&p, pname);        /* another parameter: skipped */
        }
    }
    if (next > 0) {
        result = ext;
        ext = NULL;
        *len = next;
    } else if (nplain > 0) {
        result = plain;
        plain = NULL;
        *len = nplain;
    }
cleanup:
    free(plain);
    free(ext);
    free(pname);
    return result;
}

int store_path_from_disposition(const char *value, const char *url, store_layout_t layout,
                                char *out, size_t outsz)
{
    int result;
    size_t len = 0;
    char *name = NULL;
    const char *leaf;
    char base[STORE_PATH_SIZE];
    char url_suffix[PATH_SUFFIX_SIZE];
    struct path_buf pb = {.len = 0};
    const char *slash;

    if (out && outsz > 0)
        out[0] = '\0';
    if (!value || !url || !out) {
        result = -EINVAL;
        goto cleanup;
    }
    result = store_path_from_url(url, layout, base, sizeof(base));
    if (result < 0)
        goto cleanup;
    if (!(name = path_cd_filename(value, &len))) {
        result = -ENOENT;
        goto cleanup;
    }
    /* The last segment only, as curl -J and wget do: a name is not a place. A NUL (from %00)
     * ends nothing here: path_clean makes it '_'. */
    leaf = name;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '/' || name[i] == '\\')
            leaf = name + i + 1;
    }
    len -= (size_t)(leaf - name);
    while (len > 0 && (leaf[0] == ' ' || leaf[0] == '\t')) {
        leaf++;
        len--;
    }
    while (len > 0 && (leaf[len - 1] == ' ' || leaf[len - 1] == '\t'))
        len--;
    if (len == 0) {
        result = -ENOENT;
        goto cleanup;
    }
    memmove(name, leaf, len);
    len = path_clean(name, len, name, 0);
    /* Where the URL's own file would go: its folders in the tree layout, none in the flat one. */
    if ((slash = strrchr(base, '/'))) {
        pb.len = (size_t)(slash - base);
        memcpy(pb.text, base, pb.len);
        pb.text[pb.len] = '\0';
    }
    path_suffix(store_hash64(url, strlen(url)), url_suffix);
    result = path_append_name(&pb, name, len, "", "", url_suffix);
    if (result < 0)
        goto cleanup;
    result = path_copy_out(&pb, out, outsz);
cleanup:
    free(name);
    return result;
}

int store_path_is_safe(const char *path)
{
    const unsigned char *p = (const unsigned char *)path;
    size_t len, seg = 0;

    if (!path || !*path || (len = strlen(path)) > STORE_PATH_MAX)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            size_t n = i - seg;
            if (n == 0 || n > STORE_NAME_MAX || (n == 1 && p[seg] == '.') ||
                (n == 2 && p[seg] == '.' && p[seg + 1] == '.') ||
                (n >= strlen(PATH_STATE_PREFIX) &&
                 memcmp(p + seg, PATH_STATE_PREFIX, strlen(PATH_STATE_PREFIX)) == 0))
                return 0;
            seg = i + 1;
        } else if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\') {
            return 0;
        }
    }
    return 1;
}

int store_layout_parse(const char *name, store_layout_t *out)
{
    int result = 0;

    if (name && strcmp(name, "flat") == 0) {
        *out = STORE_LAYOUT_FLAT;
    } else if (name && strcmp(name, "tree") == 0) {
        *out = STORE_LAYOUT_TREE;
    } else {
        result = -EINVAL;
    }
    return result;
}

/* ------------------------------------------------------------------------------------------- */
/* Names given in one job                                                                      */
/* ------------------------------------------------------------------------------------------- */

/* Two sets of 64-bit hashes (storage/seen.h): the paths taken, and the (path, URL) pairs given,
 * so asking again for the same URL gives the same name. 16 bytes per name. The lock lets the pool
 * threads of --mode threads name files from Content-Disposition while the loop names others. */
struct store_names {
    pthread_mutex_t lock;
    store_seen_t *taken;
    store_seen_t *given;
};

/* The hash of a (path, URL) pair. */
static uint64_t names_pair(uint64_t path_hash, uint64_t url_hash)
{
    unsigned char mix[16];

    for (int b = 0; b < 8; b++) {
        mix[b] = (unsigned char)(path_hash >> (8 * b));
        mix[8 + b] = (unsigned char)(url_hash >> (8 * b));
    }
    return store_hash64(mix, sizeof(mix));
}

store_names_t *store_names_new(void)
{
    store_names_t *names = calloc(1, sizeof(*names));

    if (!names)
        return NULL;
    if (pthread_mutex_init(&names->lock, NULL) != 0) {
        free(names);
        return NULL;
    }
    names->taken = store_seen_new(NAMES_MIN_SLOTS);
    names->given = store_seen_new(NAMES_MIN_SLOTS);
    if (!names->taken || !names->given) {
        store_names_free(names);
        return NULL;
    }
    return names;
}

void store_names_free(store_names_t *names)
{
    if (!names)
        return;
    store_seen_free(names->taken);
    store_seen_free(names->given);
    pthread_mutex_destroy(&names->lock);
    free(names);
}

/* Writes to cand the path with suffix inserted before the extension of its last segment. */
static int names_candidate(const char *path, const char *suffix, char cand[STORE_PATH_SIZE])
{
    int result = 0;
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    char name[STORE_NAME_MAX + 1];
    size_t n = path_compose(path + dir, strlen(path + dir), suffix, "", name);

    if (dir + n > STORE_PATH_MAX) {
        result = -ENAMETOOLONG;
        goto cleanup;
    }
    memcpy(cand, path, dir);
    memcpy(cand + dir, name, n);
    cand[dir + n] = '\0';
cleanup:
    return result;
}

int store_names_claim(store_names_t *names, const char *url, const char *path)
{
    uint64_t key = store_hash64(path, strlen(path));
    int result;

    pthread_mutex_lock(&names->lock);
    result = store_seen_add_hash(names->given, names_pair(key, store_hash64(url, strlen(url))));
    /* A pair without its path taken changes no answer, so a failure here leaves none changed. */
    if (result >= 0)
        result = store_seen_add_hash(names->taken, key);
    pthread_mutex_unlock(&names->lock);
    return result < 0 ? result : 0;
}

/* The unique name for url starting from path (store_path_unique's rules), with names locked. */
static int names_unique(store_names_t *names, const char *url, const char *path, char *out,
                        size_t outsz)
{
    int result = 0;
    char cand[STORE_PATH_SIZE];
    const char *given = NULL;
    uint64_t url_hash;

    url_hash = store_hash64(url, strlen(url));
    for (uint64_t k = 0; k < NAMES_TRIES && !given; k++) {
        const char *attempt = path;
        uint64_t key;

        if (k > 0) {
            char suffix[PATH_SUFFIX_SIZE];
            uint64_t h = url_hash;

            if (k > 1) {
                unsigned char mix[16];

                for (int b = 0; b < 8; b++) {
                    mix[b] = (unsigned char)(url_hash >> (8 * b));
                    mix[8 + b] = (unsigned char)(k >> (8 * b));
                }
                h = store_hash64(mix, sizeof(mix));
            }
            path_suffix(h, suffix);
            result = names_candidate(path, suffix, cand);
            if (result < 0)
                goto cleanup;
            attempt = cand;
        }
        key = store_hash64(attempt, strlen(attempt));
        if (store_seen_has_hash(names->taken, key)) {
            if (store_seen_has_hash(names->given, names_pair(key, url_hash)))
                given = attempt;
            continue;
        }
        if (strlen(attempt) + 1 > outsz) {
            result = -ERANGE;
            goto cleanup;
        }
        if ((result = store_seen_add_hash(names->given, names_pair(key, url_hash))) < 0 ||
            (result = store_seen_add_hash(names->taken, key)) < 0)
            goto cleanup;
        result = 0;
        given = attempt;
    }
    if (!given) {
        result = -EEXIST;
        goto cleanup;
    }
    if (strlen(given) + 1 > outsz) {
        result = -ERANGE;
        goto cleanup;
    }
    memcpy(out, given, strlen(given) + 1);
cleanup:
    return result;
}

int store_path_unique(store_names_t *names, const char *url, store_layout_t layout, char *out,
                      size_t outsz)
{
    store_naming_t naming = {.layout = layout};

    return store_path_unique_as(names, url, &naming, out, outsz);
}

int store_path_unique_as(store_names_t *names, const char *url, const store_naming_t *naming,
                         char *out, size_t outsz)
{
    int result;
    char path[STORE_PATH_SIZE];

    if (out && outsz > 0)
        out[0] = '\0';
    if (!names || !out)
        return -EINVAL;
    result = store_path_from_url_as(url, naming, path, sizeof(path));
    if (result < 0)
        return result;
    pthread_mutex_lock(&names->lock);
    result = names_unique(names, url, path, out, outsz);
    pthread_mutex_unlock(&names->lock);
    return result;
}

int store_path_unique_path(store_names_t *names, const char *url, const char *path, char *out,
                           size_t outsz)
{
    int result;

    if (out && outsz > 0)
        out[0] = '\0';
    if (!names || !out || !url || !path || !*path || strlen(path) > STORE_PATH_MAX)
        return -EINVAL;
    pthread_mutex_lock(&names->lock);
    result = names_unique(names, url, path, out, outsz);
    pthread_mutex_unlock(&names->lock);
    return result;
}
