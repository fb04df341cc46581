/* http: curl_multi_socket_action glue for libuv (uv_poll_t per socket, one uv_timer_t). */
#include "net/http/http.h"
#include "net/http/easy_pool.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

/* Error bodies (4xx/5xx) are read to keep the connection reusable, but only this much. */
#define HTTP_DISCARD_MAX (1024 * 1024)
/* Receive buffer per transfer: fewer, larger write callbacks for big bodies. */
#define HTTP_BUFFER_SIZE (128 * 1024)

struct http_client {
    sched_t *sched;
    uv_loop_t *loop;
    CURLM *multi;
    CURLSH *share;              /* opts.share, or one of its own (own_share) */
    int own_share;
    uv_timer_t timer;
    http_opts_t opts;
    long active;
    http_easy_pool_t *easies;   /* handles kept for reuse (shared code with the blocking modes) */
    struct http_sock **socks;   /* poll contexts by fd, kept while the socket lives */
    size_t nsocks;
    int closing;
};

struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    http_client_t *client;
};

static void http_drain(http_client_t *c);

/* ---- easy handle set-up (shared with the blocking modes) --------------------------------- */

#define SETOPT(h, opt, val)                                                                     \
    do {                                                                                        \
        result = curl_easy_setopt((h), (opt), (val));                                           \
        if (result != CURLE_OK)                                                                 \
            goto cleanup;                                                                       \
    } while (0)

CURLcode http_easy_setup(CURL *easy, const http_opts_t *o)
{
    CURLcode result;

    SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
    SETOPT(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(easy, CURLOPT_FOLLOWLOCATION, o->max_redirs >= 0 ? 1L : 0L);
    SETOPT(easy, CURLOPT_MAXREDIRS, o->max_redirs >= 0 ? o->max_redirs : 0L);
    SETOPT(easy, CURLOPT_ACCEPT_ENCODING, "");
    SETOPT(easy, CURLOPT_BUFFERSIZE, (long)HTTP_BUFFER_SIZE);
    SETOPT(easy, CURLOPT_TCP_NODELAY, 1L);
    SETOPT(easy, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    SETOPT(easy, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    SETOPT(easy, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    SETOPT(easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    SETOPT(easy, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
    SETOPT(easy, CURLOPT_LOW_SPEED_TIME, o->low_speed_time);
    SETOPT(easy, CURLOPT_MAXFILESIZE_LARGE, o->max_filesize);
    SETOPT(easy, CURLOPT_USERAGENT, o->user_agent);
    SETOPT(easy, CURLOPT_VERBOSE, o->verbose ? 1L : 0L);
    /* Credentials: where they may go is decided per request (http_easy_set_creds); a redirect to
     * another origin drops them unless --location-trusted. */
    SETOPT(easy, CURLOPT_UNRESTRICTED_AUTH, o->location_trusted ? 1L : 0L);
    SETOPT(easy, CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
    SETOPT(easy, CURLOPT_PROXYHEADER, o->proxy_headers);
    if (o->netrc) {
        SETOPT(easy, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
        SETOPT(easy, CURLOPT_NETRC_FILE, o->netrc_file);
    }
    if (o->share) {
        SETOPT(easy, CURLOPT_SHARE, o->share);
        /* The cookie engine on, reading no file: the jar is the share's. */
        SETOPT(easy, CURLOPT_COOKIEFILE, "");
    }
    result = CURLE_OK;
cleanup:
    return result;
}

/* ---- credentials: only where they were given for ----------------------------------------- */

int http_url_origin(const char *url, char *buf, size_t n)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int result = -EINVAL, len;

    if (!h)
        return -ENOMEM;
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto cleanup;
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    len = snprintf(buf, n, "%s://%s:%s", scheme, host, port);
    result = len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
    return result;
}

int http_creds_allowed(const http_opts_t *o, const char *url)
{
    char origin[HTTP_ORIGIN_MAX];

    if (o->location_trusted || !o->cred_origins)
        return 1;
    if (http_url_origin(url, origin, sizeof(origin)) < 0)
        return 0;
    for (size_t i = 0; i < o->ncred_origins; i++)
        if (!strcmp(origin, o->cred_origins[i]))
            return 1;
    return 0;
}

/* 1 for a header line ("Name: value", "Name;" or "Name:") that carries a credential. */
static int http_header_is_credential(const char *line)
{
    static const char *const names[] = { "authorization", "cookie", "proxy-authorization", NULL };
    size_t n;

    while (*line == ' ' || *line == '\t')
        line++;
    n = strcspn(line, ":;");
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    for (size_t i = 0; names[i]; i++)
        if (strlen(names[i]) == n && strncasecmp(line, names[i], n) == 0)
            return 1;
    return 0;
}

static int http_headers_have_creds(const struct curl_slist *h)
{
    for (; h; h = h->next)
        if (http_header_is_credential(h->data))
            return 1;
    return 0;
}

CURLcode http_easy_set_creds(CURL *easy, const http_opts_t *o, const char *url,
                             struct curl_slist *headers, struct curl_slist **owned)
{
    int creds = http_headers_have_creds(headers);
    int allowed = creds || o->username ? http_creds_allowed(o, url) : 1;
    CURLcode result;

    *owned = NULL;
    if (creds && !allowed) {
        for (const struct curl_slist *h = headers; h; h = h->next) {
            struct curl_slist *l;
            if (http_header_is_credential(h->data))
                continue;
            if (!(l = curl_slist_append(*owned, h->data))) {
                curl_slist_free_all(*owned);
                *owned = NULL;
                return CURLE_OUT_OF_MEMORY;
            }
            *owned = l;
        }
        headers = *owned;
    }
    SETOPT(easy, CURLOPT_HTTPHEADER, headers);
    SETOPT(easy, CURLOPT_USERNAME, allowed ? o->username : NULL);
    SETOPT(easy, CURLOPT_PASSWORD, allowed && o->username ? o->password : NULL);
    result = CURLE_OK;
cleanup:
    return result;
}

/* ---- per-response headers --------------------------------------------------------------- */

static void http_copy_value(char *dst, const char *v, size_t len)
{
    while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (len >= HTTP_HEADER_VALUE_MAX)
        len = HTTP_HEADER_VALUE_MAX - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static int http_header_is(const char *buf, size_t len, const char *name, const char **value,
                          size_t *vlen)
{
    size_t n = strlen(name);

    if (len <= n || buf[n] != ':' || strncasecmp(buf, name, n) != 0)
        return 0;
    *value = buf + n + 1;
    *vlen = len - n - 1;
    return 1;
}

size_t http_on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    http_req_t *r = userdata;
    size_t len = size * nitems;
    const char *v;
    size_t vlen;

    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* A new response (a redirect hop or 100-continue): forget the previous one's headers. */
        r->content_type[0] = r->etag[0] = r->last_modified[0] = '\0';
        r->retry_after[0] = r->content_range[0] = '\0';
        r->is_2xx = -1;
    } else if (http_header_is(buf, len, "content-type", &v, &vlen)) {
        http_copy_value(r->content_type, v, vlen);
    } else if (http_header_is(buf, len, "etag", &v, &vlen)) {
        http_copy_value(r->etag, v, vlen);
    } else if (http_header_is(buf, len, "last-modified", &v, &vlen)) {
        http_copy_value(r->last_modified, v, vlen);
    } else if (http_header_is(buf, len, "retry-after", &v, &vlen)) {
        http_copy_value(r->retry_after, v, vlen);
    } else if (http_header_is(buf, len, "content-range", &v, &vlen)) {
        http_copy_value(r->content_range, v, vlen);
    }
    return len;
}

/* ---- body ---------------------------------------------------------------------------------- */

/* A 206 must answer a Range we sent, starting where we asked; anything else would splice
 * the wrong bytes into a file. */
int http_check_range(http_req_t *r)
{
    long status = 0;
    long long start;

    if (curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 206)
        return 0;
    if (!r->range || sscanf(r->content_range, "bytes %lld-", &start) != 1 || start != r->range_start) {
        r->sink_error = HTTP_EBADRANGE;
        return -1;
    }
    return 0;
}

static size_t http_on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    http_req_t *r = userdata;
    size_t len = size * nmemb;
    int rc;

    if (r->is_2xx < 0) {
        long status = 0;
        if (curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
            return CURL_WRITEFUNC_ERROR;
        r->is_2xx = status >= 200 && status < 300;
        r->status = status;          /* known to the sink from the first byte on */
        if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->content_length) != CURLE_OK)
            r->content_length = -1;
    }
    if (!r->is_2xx) {
        r->bytes += len;
        return r->bytes > HTTP_DISCARD_MAX ? CURL_WRITEFUNC_ERROR : len;
    }
    if (r->body_bytes == 0 && http_check_range(r) < 0)
        return CURL_WRITEFUNC_ERROR;
    if (r->max_bytes > 0 && r->body_bytes + (curl_off_t)len > r->max_bytes) {
        r->sink_error = -EFBIG;
        return CURL_WRITEFUNC_ERROR;
    }
    rc = r->sink ? r->sink->write(r->sink, data, len) : HTTP_SINK_OK;
    if (rc == HTTP_SINK_PAUSE) {
        r->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (rc < 0) {
        r->sink_error = rc;
        return CURL_WRITEFUNC_ERROR;
    }
    r->bytes += len;
    r->body_bytes += len;
    return len;
}

CURLcode http_req_attach(http_req_t *r, CURL *easy)
{
    CURLcode result;

    r->easy = easy;
    SETOPT(easy, CURLOPT_WRITEFUNCTION, http_on_write);
    SETOPT(easy, CURLOPT_WRITEDATA, r);
    SETOPT(easy, CURLOPT_HEADERFUNCTION, http_on_header);
    SETOPT(easy, CURLOPT_HEADERDATA, r);
    SETOPT(easy, CURLOPT_ERRORBUFFER, r->error);
    result = CURLE_OK;
cleanup:
    return result;
}

/* ---- results ------------------------------------------------------------------------------- */

static char *http_strdup_info(CURL *easy, CURLINFO info)
{
    char *s = NULL;

    if (curl_easy_getinfo(easy, info, &s) != CURLE_OK || !s)
        return NULL;
    return strdup(s);
}

void http_req_collect(http_req_t *r, CURL *easy, CURLcode code)
{
    long version = 0;
    curl_off_t cl = -1;

    r->code = code;
    if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status) != CURLE_OK)
        r->status = 0;
    if (curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &r->redirects) != CURLE_OK)
        r->redirects = 0;
    if (curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &r->os_errno) != CURLE_OK)
        r->os_errno = 0;
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK)
        cl = -1;
    r->content_length = cl;
    free(r->effective_url);
    r->effective_url = http_strdup_info(easy, CURLINFO_EFFECTIVE_URL);
    free(r->primary_ip);
    r->primary_ip = http_strdup_info(easy, CURLINFO_PRIMARY_IP);
    free(r->redirect_url);
    r->redirect_url = http_strdup_info(easy, CURLINFO_REDIRECT_URL);
    if (curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version) != CURLE_OK)
        version = 0;
    snprintf(r->http_version, sizeof(r->http_version), "%s",
             version == CURL_HTTP_VERSION_2_0 ? "HTTP/2" :
             version == CURL_HTTP_VERSION_1_0 ? "HTTP/1.0" :
             version == CURL_HTTP_VERSION_3 ? "HTTP/3" : "HTTP/1.1");
#define TIME(info, field)                                                                       \
    if (curl_easy_getinfo(easy, info, &r->timing.field) != CURLE_OK)                            \
        r->timing.field = 0;
    TIME(CURLINFO_NAMELOOKUP_TIME_T, dns_us)
    TIME(CURLINFO_CONNECT_TIME_T, connect_us)
    TIME(CURLINFO_APPCONNECT_TIME_T, tls_us)
    TIME(CURLINFO_PRETRANSFER_TIME_T, pretransfer_us)
    TIME(CURLINFO_STARTTRANSFER_TIME_T, first_byte_us)
    TIME(CURLINFO_TOTAL_TIME_T, total_us)
    TIME(CURLINFO_REDIRECT_TIME_T, redirect_us)
#undef TIME
}

int http_req_ok(const http_req_t *r)
{
    return r->code == CURLE_OK && r->status >= 200 && r->status < 300;
}

static const char *http_seconds(long ms, char *buf, size_t n)
{
    if (ms % 1000 == 0)
        snprintf(buf, n, "%ld s", ms / 1000);
    else
        snprintf(buf, n, "%.1f s", ms / 1000.0);
    return buf;
}

const char *http_req_describe(const http_req_t *r, const http_opts_t *o, char *buf, size_t n)
{
    char secs[32];

    if (r->code == CURLE_OK || (r->status >= 300 && r->code == CURLE_WRITE_ERROR && !r->sink_error)) {
        if (r->status >= 200 && r->status < 300)
            snprintf(buf, n, "ok");
        else if (r->status >= 300 && r->status < 400)
            snprintf(buf, n, "HTTP %ld (redirect not followed)", r->status);
        else
            snprintf(buf, n, "HTTP %ld", r->status);
        return buf;
    }
    switch (r->code) {
    case CURLE_COULDNT_CONNECT:
        if (r->os_errno == ECONNREFUSED || strstr(r->error, "refused"))
            snprintf(buf, n, "connection refused");
        else if (r->os_errno)
            snprintf(buf, n, "could not connect: %s", strerror((int)r->os_errno));
        else
            snprintf(buf, n, "could not connect");
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(buf, n, "could not resolve host");
        break;
    case CURLE_OPERATION_TIMEDOUT:
        if (o && o->low_speed_limit > 0 && strstr(r->error, "too slow"))
            snprintf(buf, n, "too slow: under %ld bytes/s for %ld s", o->low_speed_limit,
                     o->low_speed_time);
        else if (o && o->connect_timeout_ms > 0 && r->timing.connect_us == 0 &&
                 strstr(r->error, "onnect"))
            snprintf(buf, n, "connect timed out after %s",
                     http_seconds(o->connect_timeout_ms, secs, sizeof(secs)));
        else if (o && o->timeout_ms > 0)
            snprintf(buf, n, "timed out after %s", http_seconds(o->timeout_ms, secs, sizeof(secs)));
        else
            snprintf(buf, n, "timed out");
        break;
    case CURLE_PARTIAL_FILE:
        if (r->content_length >= 0)
            snprintf(buf, n, "connection closed after %lld of %lld bytes", (long long)r->bytes,
                     (long long)r->content_length);
        else
            snprintf(buf, n, "connection closed after %lld bytes", (long long)r->bytes);
        break;
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
        snprintf(buf, n, "connection reset after %lld bytes%s%s", (long long)r->bytes,
                 r->error[0] ? ": " : "", r->error);
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(buf, n, "too many redirects (more than %ld)", o ? o->max_redirs : 0L);
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(buf, n, "redirect or URL to a scheme other than http/https refused");
        break;
    case CURLE_FILESIZE_EXCEEDED:
        snprintf(buf, n, "larger than the size limit");
        break;
    case CURLE_WRITE_ERROR:
        if (r->sink_error == HTTP_EBADRANGE && !r->range)
            snprintf(buf, n, "206 Partial Content without a Range request");
        else if (r->sink_error == HTTP_EBADRANGE)
            snprintf(buf, n, "206 Partial Content at the wrong offset (%s for bytes %lld-)",
                     r->content_range[0] ? r->content_range : "no Content-Range",
                     (long long)r->range_start);
        else if (r->sink_error == -EFBIG)
            snprintf(buf, n, "larger than the size limit (%lld bytes)", (long long)r->max_bytes);
        else if (r->sink_error)
            snprintf(buf, n, "write failed: %s", strerror(-r->sink_error));
        else
            snprintf(buf, n, "write failed");
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        snprintf(buf, n, "cancelled");
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(buf, n, "TLS error: %s", r->error[0] ? r->error : curl_easy_strerror(r->code));
        break;
    default:
        snprintf(buf, n, "%s", r->error[0] ? r->error : curl_easy_strerror(r->code));
        break;
    }
    return buf;
}

long http_retry_after_ms(const http_req_t *r, long long now)
{
    const char *v = r->retry_after;
    char *end;
    long long secs;

    if (!v[0])
        return -1;
    if (v[0] >= '0' && v[0] <= '9') {
        secs = strtoll(v, &end, 10);
        if (*end != '\0' || secs < 0)
            return -1;
    } else {
        time_t when = curl_getdate(v, NULL);
        if (when == -1)
            return -1;
        secs = (long long)when - now;
        if (secs < 0)
            secs = 0;
    }
    if (secs > 86400)
        secs = 86400;
    return (long)(secs * 1000);
}

void http_req_cleanup(http_req_t *r)
{
    free(r->effective_url);
    free(r->primary_ip);
    free(r->redirect_url);
    r->effective_url = r->primary_ip = r->redirect_url = NULL;
}

/* ---- libuv glue ---------------------------------------------------------------------------- */

static void http_sock_on_close(uv_handle_t *h)
{
    free(h->data);
}

static void http_on_poll(uv_poll_t *p, int status, int events)
{
    struct http_sock *hs = p->data;
    http_client_t *c = hs->client;
    curl_socket_t fd = hs->fd;      /* hs may be closed by the socket callback inside curl */
    int flags = 0, running = 0;
    CURLMcode mc;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    mc = curl_multi_socket_action(c->multi, fd, flags, &running);
    if (mc != CURLM_OK)
        fprintf(stderr, "gather: curl_multi_socket_action: %s\n", curl_multi_strerror(mc));
    http_drain(c);
}

/* A connection goes back to curl's cache (CURL_POLL_REMOVE) after every transfer and comes out
 * again for the next one. Closing and re-creating its uv_poll_t each time cost an ioctl and
 * several epoll_ctl calls per request, so the context stays in c->socks, stopped, until curl
 * closes the socket itself (http_on_closesocket). */
static struct http_sock *http_sock_get(http_client_t *c, curl_socket_t s)
{
    struct http_sock *hs;

    if (s < 0)
        return NULL;
    if ((size_t)s >= c->nsocks) {
        size_t n = c->nsocks ? c->nsocks : 64;
        struct http_sock **socks;
        while (n <= (size_t)s)
            n *= 2;
        socks = realloc(c->socks, n * sizeof(*socks));
        if (!socks)
            return NULL;
        memset(socks + c->nsocks, 0, (n - c->nsocks) * sizeof(*socks));
        c->socks = socks;
        c->nsocks = n;
    }
    if (c->socks[s])
        return c->socks[s];
    hs = calloc(1, sizeof(*hs));
    if (!hs)
        return NULL;
    if (uv_poll_init_socket(c->loop, &hs->poll, s) < 0) {
        free(hs);
        return NULL;
    }
    hs->poll.data = hs;
    hs->fd = s;
    hs->client = c;
    c->socks[s] = hs;
    return hs;
}

static int http_on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    http_client_t *c = userp;
    struct http_sock *hs = socketp;
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (hs)
            uv_poll_stop(&hs->poll);      /* kept for the connection's next transfer */
        return 0;
    }
    if (!hs) {
        hs = http_sock_get(c, s);
        if (!hs || curl_multi_assign(c->multi, s, hs) != CURLM_OK)
            return -1;
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&hs->poll, events, http_on_poll) < 0 ? -1 : 0;
}

/* curl closes a socket for good: stop watching it, close it, free its context. */
static int http_on_closesocket(void *clientp, curl_socket_t s)
{
    http_client_t *c = clientp;

    if (s >= 0 && (size_t)s < c->nsocks && c->socks[s]) {
        struct http_sock *hs = c->socks[s];
        c->socks[s] = NULL;
        uv_poll_stop(&hs->poll);
        uv_close((uv_handle_t *)&hs->poll, http_sock_on_close);
    }
    return close(s);
}

static void http_on_timeout(uv_timer_t *t)
{
    http_client_t *c = t->data;
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);

    if (mc != CURLM_OK)
        fprintf(stderr, "gather: curl_multi_socket_action: %s\n", curl_multi_strerror(mc));
    http_drain(c);
}

static int http_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    http_client_t *c = userp;

    (void)multi;
    if (timeout_ms < 0)
        return uv_timer_stop(&c->timer) < 0 ? -1 : 0;
    /* Zero means "as soon as possible": the next loop iteration, never inside this callback. */
    return uv_timer_start(&c->timer, http_on_timeout, (uint64_t)timeout_ms, 0) < 0 ? -1 : 0;
}

/* ---- the easy handle pool and transfer lifecycle ----------------------------------------- */

/* What the async client adds to each new pooled handle: the share and its own callbacks. */
static CURLcode http_easy_setup_async(CURL *easy, void *arg)
{
    http_client_t *c = arg;
    CURLcode code;

    if ((code = curl_easy_setopt(easy, CURLOPT_SHARE, c->share)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_on_write)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, http_on_header)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, http_on_closesocket)) != CURLE_OK)
        return code;
    return curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, c);
}

/* Detaches r from curl and gives its handle back to the pool; r keeps its results. */
static void http_req_detach(http_req_t *r)
{
    http_client_t *c = r->client;
    CURLMcode mc = curl_multi_remove_handle(c->multi, r->easy);

    if (mc != CURLM_OK)
        fprintf(stderr, "gather: curl_multi_remove_handle: %s\n", curl_multi_strerror(mc));
    http_easy_pool_put(c->easies, r->easy);
    r->easy = NULL;
    curl_slist_free_all(r->own_headers);          /* curl is done with it */
    r->own_headers = NULL;
    c->active--;
}

static void http_drain(http_client_t *c)
{
    CURLMsg *msg;
    int left = 0;

    while ((msg = curl_multi_info_read(c->multi, &left))) {
        http_req_t *r = NULL;
        future_t *fut;

        if (msg->msg != CURLMSG_DONE)
            continue;
        if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r) != CURLE_OK || !r)
            continue;
        http_req_collect(r, r->easy, msg->data.result);
        fut = r->fut;
        r->fut = NULL;
        http_req_detach(r);          /* msg is invalid from here on */
        future_resolve(fut, r);
        future_unref(fut);
    }
}

static int http_req_on_cancel(future_t *f, void *arg)
{
    http_req_t *r = arg;

    (void)f;
    r->code = CURLE_ABORTED_BY_CALLBACK;
    http_req_detach(r);
    future_unref(r->fut);            /* the client's reference */
    r->fut = NULL;
    return 0;
}

future_t *http_req_start(http_client_t *c, http_req_t *r)
{
    future_t *f = NULL;
    CURL *easy = NULL;
    CURLMcode mc;
    struct timeval tv;
    long follow = r->follow ? r->follow : c->opts.max_redirs;

    r->own_headers = NULL;           /* a finished transfer's were freed when it ended */
    if (c->closing)
        return future_new_failed(c->sched, -EINVAL);
    f = future_new(c->sched);
    if (!f)
        return NULL;
    easy = http_easy_pool_get(c->easies);
    if (!easy)
        goto error;
    r->status = 0;
    r->code = CURLE_OK;
    r->sink_error = 0;
    r->bytes = 0;
    r->body_bytes = 0;
    r->content_length = -1;
    r->redirects = 0;
    r->error[0] = '\0';
    r->content_type[0] = r->etag[0] = r->last_modified[0] = '\0';
    r->retry_after[0] = r->content_range[0] = '\0';
    r->paused = 0;
    r->is_2xx = -1;
    r->easy = easy;
    r->client = c;
    memset(&r->timing, 0, sizeof(r->timing));
    r->timing.start_ns = uv_hrtime();
    gettimeofday(&tv, NULL);
    r->timing.start_wall_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    if (curl_easy_setopt(easy, CURLOPT_URL, r->url) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->error) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_RANGE, r->range) != CURLE_OK ||
        /* Wait for a connection that may multiplex only where HTTP/2 is possible (TLS with
         * ALPN); on plain HTTP/1.1 it would queue transfers behind one pending connection. */
        curl_easy_setopt(easy, CURLOPT_PIPEWAIT, strncasecmp(r->url, "https:", 6) == 0 ? 1L : 0L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, follow > 0 ? 1L : 0L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_MAXREDIRS, follow > 0 ? follow : 0L) != CURLE_OK ||
        http_easy_set_creds(easy, &c->opts, r->url, r->headers ? r->headers : c->opts.headers,
                            &r->own_headers) != CURLE_OK)
        goto error;
    mc = curl_multi_add_handle(c->multi, easy);
    if (mc != CURLM_OK) {
        fprintf(stderr, "gather: curl_multi_add_handle: %s\n", curl_multi_strerror(mc));
        goto error;
    }
    c->active++;
    r->fut = future_ref(f);
    future_set_cancel(f, http_req_on_cancel, r);
    return f;

error:
    if (easy)
        http_easy_pool_put(c->easies, easy);
    r->easy = NULL;
    curl_slist_free_all(r->own_headers);
    r->own_headers = NULL;
    future_unref(f);
    return NULL;
}

void http_req_resume_cb(void *r)
{
    http_req_resume(r);
}

void http_req_resume(http_req_t *r)
{
    CURLcode rc;

    if (!r->paused || !r->easy)
        return;
    r->paused = 0;
    rc = curl_easy_pause(r->easy, CURLPAUSE_CONT);
    if (rc != CURLE_OK)
        fprintf(stderr, "gather: curl_easy_pause: %s\n", curl_easy_strerror(rc));
}

/* ---- client -------------------------------------------------------------------------------- */

long http_client_active(const http_client_t *c)
{
    return c->active;
}

http_client_t *http_client_new(sched_t *s, const http_opts_t *opts, int *result)
{
    http_client_t *c = calloc(1, sizeof(*c));

    *result = -ENOMEM;
    if (!c)
        return NULL;
    c->sched = s;
    c->loop = s->loop;
    c->opts = *opts;
    c->multi = curl_multi_init();
    /* The job's share already shares DNS and TLS sessions, with its cookies. */
    c->own_share = !opts->share;
    c->share = opts->share ? opts->share : curl_share_init();
    c->easies = http_easy_pool_new(&c->opts, http_easy_setup_async, c);
    if (!c->multi || !c->share || !c->easies)
        goto error;
    *result = -EINVAL;
    if (c->own_share &&
        (curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
         curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK))
        goto error;
    if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, http_on_socket) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, http_on_timer) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) != CURLM_OK)
        goto error;
    if (opts->max_connections > 0 &&
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, opts->max_connections) != CURLM_OK)
        goto error;
    *result = uv_timer_init(c->loop, &c->timer);
    if (*result < 0)
        goto error;
    c->timer.data = c;
    *result = 0;
    return c;

error:
    http_easy_pool_free(c->easies);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->share && c->own_share)
        curl_share_cleanup(c->share);
    free(c);
    return NULL;
}

static void http_client_on_close(uv_handle_t *h)
{
    free(h->data);
}

void http_client_close(http_client_t *c)
{
    CURLMcode mc;

    assert(c->active == 0);
    c->closing = 1;
    http_easy_pool_free(c->easies);
    c->easies = NULL;
    /* Closes cached connections; curl calls the socket callback, which uv_closes their polls. */
    mc = curl_multi_cleanup(c->multi);
    if (mc != CURLM_OK)
        fprintf(stderr, "gather: curl_multi_cleanup: %s\n", curl_multi_strerror(mc));
    if (c->own_share && curl_share_cleanup(c->share) != CURLSHE_OK)
        fprintf(stderr, "gather: curl_share_cleanup failed\n");
    /* Sockets curl never closed through us (none expected): stop watching them anyway. */
    for (size_t i = 0; i < c->nsocks; i++) {
        if (c->socks[i]) {
            uv_poll_stop(&c->socks[i]->poll);
            uv_close((uv_handle_t *)&c->socks[i]->poll, http_sock_on_close);
        }
    }
    free(c->socks);
    c->socks = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, http_client_on_close);
}
