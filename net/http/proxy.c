/* http_proxy: libcurl's proxy choice for one URL (url.c: detect_proxy, Curl_check_noproxy). */
#include "net/http/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

/* 1 when the first `bits` bits of the addresses a and b (len bytes each) are equal. */
static int proxy_bits_equal(const unsigned char *a, const unsigned char *b, size_t len, long bits)
{
    size_t whole = (size_t)bits / 8;
    unsigned rest = (unsigned)bits % 8;

    if (bits < 0 || (size_t)bits > len * 8)
        return 0;
    if (memcmp(a, b, whole) != 0)
        return 0;
    return rest == 0 || ((a[whole] ^ b[whole]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

/* host (an address of family af, as bytes in addr) against one list entry of n bytes. */
static int proxy_match_addr(int af, const unsigned char *addr, const char *entry, size_t n)
{
    char text[64];
    unsigned char want[16];
    const char *slash;
    long bits = af == AF_INET ? 32 : 128;

    if (n >= sizeof(text))
        return 0;
    memcpy(text, entry, n);
    text[n] = '\0';
    if ((slash = strchr(text, '/'))) {
        char *end;
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end)
            return 0;
        text[slash - text] = '\0';
    }
    if (text[0] == '[' && text[strlen(text) - 1] == ']') {
        text[strlen(text) - 1] = '\0';
        memmove(text, text + 1, strlen(text));
    }
    if (inet_pton(af, text, want) != 1)
        return 0;
    return proxy_bits_equal(addr, want, af == AF_INET ? 4 : 16, bits);
}

int http_noproxy_match(const char *host, const char *list)
{
    char name[256];
    unsigned char addr[16];
    int af = 0;
    size_t len = strlen(host);
    const char *p = list;

    if (!list || !*list || len == 0 || len >= sizeof(name))
        return 0;
    if (strcmp(list, "*") == 0)
        return 1;
    if (host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    memcpy(name, host, len);
    name[len] = '\0';
    while (len > 0 && name[len - 1] == '.')
        name[--len] = '\0';              /* "example.com." is example.com */
    if (inet_pton(AF_INET, name, addr) == 1)
        af = AF_INET;
    else if (inet_pton(AF_INET6, name, addr) == 1)
        af = AF_INET6;
    while (*p) {
        const char *entry;
        size_t n;

        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        entry = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t')
            p++;
        n = (size_t)(p - entry);
        if (n == 0)
            continue;
        if (af) {
            if (proxy_match_addr(af, addr, entry, n))
                return 1;
            continue;
        }
        if (entry[0] == '.') {
            entry++;
            n--;
        }
        while (n > 0 && entry[n - 1] == '.')
            n--;
        if (n == 0 || n > len)
            continue;
        if (strncasecmp(name + len - n, entry, n) == 0 && (n == len || name[len - n - 1] == '.'))
            return 1;
    }
    return 0;
}

/* The environment's proxy for scheme, as libcurl reads it: http_proxy in lower case only (a CGI
 * program gets HTTP_PROXY from a request header), the others in either case. */
static const char *proxy_from_env(const char *scheme)
{
    const char *v = NULL;

    if (strcmp(scheme, "http") == 0)
        v = getenv("http_proxy");
    else if (!(v = getenv("https_proxy")))
        v = getenv("HTTPS_PROXY");
    if (!v && !(v = getenv("all_proxy")))
        v = getenv("ALL_PROXY");
    return v;
}

/* "scheme://host:port" of a proxy string ("127.0.0.1:3128", "http://u:p@h"), with libcurl's
 * defaults: scheme http, port 1080 (443 for https). */
static const char *proxy_name(const char *proxy, char *buf, size_t n)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    const char *s, *p, *result = NULL;

    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, proxy, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto cleanup;
    /* A proxy given without a scheme is http://, whatever its name looks like (CURLU would
     * guess ftp:// for ftp.example.com). */
    if (strstr(proxy, "://") && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        goto cleanup;
    s = scheme ? scheme : "http";
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        port = NULL;
    p = port ? port : strcasecmp(s, "https") == 0 ? "443" : "1080";
    snprintf(buf, n, "%s://%s:%s", s, host, p);
    result = buf;
cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return result;
}

const char *http_proxy_for(const char *url, const char *proxy, const char *noproxy, char *buf,
                           size_t n)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    const char *result = NULL;

    if (!u || !url)
        goto cleanup;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto cleanup;
    if (!proxy)
        proxy = proxy_from_env(scheme);
    if (!proxy || !*proxy)
        goto cleanup;
    if (!noproxy && !(noproxy = getenv("no_proxy")))
        noproxy = getenv("NO_PROXY");
    if (http_noproxy_match(host, noproxy))
        goto cleanup;
    result = proxy_name(proxy, buf, n);
cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return result;
}
