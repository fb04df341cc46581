/* storage/path.c: URL -> safe relative path, and the per-job set of names already given. */
#include "storage/path.h"

#include <curl/curl.h>
#include <errno.h>
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

/* Decodes the len bytes at src into dst and cleans them as store_path_from_url describes (all
 * but the length limit). dst needs len + 1 bytes and may equal src; len must be at least 1.
 * Returns the length written, at least 1; the result is valid UTF-8. */
static size_t path_clean(const char *src, size_t len, char *dst)
{
    unsigned char *d = (unsigned char *)dst;
    size_t n = 0;
    size_t dots = 0;

    for (size_t i = 0; i < len; i++) {
        int hi;
        int lo;

        if (src[i] == '%' && i + 2 < len &&
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
    } else if (path_is_reserved(dst, n)) {
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

/* Writes name with suffix inserted before its extension to dst (STORE_NAME_MAX + 1 bytes), with
 * the stem cut at a UTF-8 boundary so that the result is at most STORE_NAME_MAX bytes. name must
 * be valid UTF-8 (a cleaned segment). Returns the length written; dst is not NUL-terminated. */
static size_t path_compose(const char *name, size_t len, const char *suffix, char *dst)
{
    size_t ext = path_ext(name, len);
    size_t extlen = len - ext;
    size_t sfxlen = strlen(suffix);
    size_t stem = ext;

    if (stem + sfxlen + extlen > STORE_NAME_MAX) {
        stem = STORE_NAME_MAX - sfxlen - extlen;
        while (stem > 0 && ((unsigned char)name[stem] & 0xc0) == 0x80)
            stem--;
    }
    memcpy(dst, name, stem);
    memcpy(dst + stem, suffix, sfxlen);
    memcpy(dst + stem + sfxlen, name + ext, extlen);
    return stem + sfxlen + extlen;
}

/* ------------------------------------------------------------------------------------------- */
/* Building the path                                                                           */
/* ------------------------------------------------------------------------------------------- */

struct path_buf {
    char text[STORE_PATH_SIZE];
    size_t len;
};

/* Appends '/' (unless first) and the n bytes at name. -ENAMETOOLONG past STORE_PATH_MAX. */
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

/* Appends a cleaned name with suffix ("" for none) before its extension. When the result would
 * pass STORE_NAME_MAX, the URL's suffix replaces it and the stem is cut. */
static int path_append_name(struct path_buf *pb, const char *name, size_t len, const char *suffix,
                            const char *url_suffix)
{
    int result;
    char composed[STORE_NAME_MAX + 1];
    size_t n;

    if (len + strlen(suffix) > STORE_NAME_MAX)
        suffix = url_suffix;
    if (suffix[0] == '\0') {
        result = path_append(pb, name, len);
        goto cleanup;
    }
    n = path_compose(name, len, suffix, composed);
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
    n = path_clean(scratch, len, scratch);
    if (parts->port) {
        size_t plen = strlen(parts->port);

        scratch[n++] = '_';
        memcpy(scratch + n, parts->port, plen);
        n += plen;
    }
    result = path_append_name(pb, scratch, n, "", url_suffix);
cleanup:
    return result;
}

int store_path_from_url(const char *url, store_layout_t layout, char *out, size_t outsz)
{
    int result = 0;
    struct path_url parts = {0};
    struct path_buf pb = {.len = 0};
    char url_suffix[PATH_SUFFIX_SIZE];
    char query_suffix[PATH_SUFFIX_SIZE] = "";
    char *scratch = NULL;
    const char *last;

    if (out && outsz > 0)
        out[0] = '\0';
    if (!url || !out || (layout != STORE_LAYOUT_FLAT && layout != STORE_LAYOUT_TREE)) {
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
        result = path_append_host(&pb, &parts, scratch, url_suffix);
        if (result < 0)
            goto cleanup;
        for (const char *seg = parts.path + 1; seg < last;) {
            const char *end = strchr(seg, '/');
            size_t n = (size_t)(end - seg);

            if (n > 0) {
                n = path_clean(seg, n, scratch);
                result = path_append_name(&pb, scratch, n, "", url_suffix);
                if (result < 0)
                    goto cleanup;
            }
            seg = end + 1;
        }
    }
    if (*last == '\0') {
        result = path_append_name(&pb, PATH_INDEX, strlen(PATH_INDEX), query_suffix, url_suffix);
    } else {
        size_t n = path_clean(last, strlen(last), scratch);

        result = path_append_name(&pb, scratch, n, query_suffix, url_suffix);
    }
    if (result < 0)
        goto cleanup;
    if (pb.len + 1 > outsz) {
        result = -ERANGE;
        goto cleanup;
    }
    memcpy(out, pb.text, pb.len + 1);
cleanup:
    free(scratch);
    path_url_release(&parts);
    return result;
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
 * so asking again for the same URL gives the same name. 16 bytes per name. */
struct store_names {
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
    free(names);
}

/* Writes to cand the path with suffix inserted before the extension of its last segment. */
static int names_candidate(const char *path, const char *suffix, char cand[STORE_PATH_SIZE])
{
    int result = 0;
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    char name[STORE_NAME_MAX + 1];
    size_t n = path_compose(path + dir, strlen(path + dir), suffix, name);

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
    int result = store_seen_add_hash(names->given, names_pair(key, store_hash64(url, strlen(url))));

    /* A pair without its path taken changes no answer, so a failure here leaves none changed. */
    if (result >= 0)
        result = store_seen_add_hash(names->taken, key);
    return result < 0 ? result : 0;
}

int store_path_unique(store_names_t *names, const char *url, store_layout_t layout, char *out,
                      size_t outsz)
{
    int result = 0;
    char path[STORE_PATH_SIZE];
    char cand[STORE_PATH_SIZE];
    const char *given = NULL;
    uint64_t url_hash;

    if (out && outsz > 0)
        out[0] = '\0';
    if (!names || !out) {
        result = -EINVAL;
        goto cleanup;
    }
    result = store_path_from_url(url, layout, path, sizeof(path));
    if (result < 0)
        goto cleanup;
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
