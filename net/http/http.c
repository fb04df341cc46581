/* http: curl_multi_socket_action glue for libuv (uv_poll_t per socket, one uv_timer_t). */
#include "net/http/http.h"
#include "net/http/easy_pool.h"
#include "net/http/proxy.h"
#include "net/http/workers.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

/* Error bodies (4xx/5xx) are read to keep the connection reusable, but only this much. */
#define HTTP_DISCARD_MAX (1024 * 1024)
/* Receive buffer per transfer: fewer, larger write callbacks for big bodies. */
#define HTTP_BUFFER_SIZE (128 * 1024)
/* Accept-Encoding of a request that decodes (http_req_t.decode): only what net/http/decode.c
 * decodes, so nothing else reaches a parser encoded unless the server ignores the header. */
#define HTTP_ACCEPT_DECODED "gzip, deflate"

struct http_client {
    sched_t *sched;
    uv_loop_t *loop;
    CURLM *multi;
    CURLSH *share;              /* opts.share, or one of its own (own_share) */
    int own_share;
    uv_timer_t timer;
    sched_node_t kick;          /* curl's "time out now", run in the current loop turn */
    http_opts_t opts;
    long active;
    http_easy_pool_t *easies;   /* handles kept for reuse (shared code with the blocking modes) */
    struct http_sock **socks;   /* poll contexts by fd, kept while the socket lives */
    size_t nsocks;
    uv_timer_t fd_timer;        /* restarts the transfers waiting for descriptors */
    http_req_t *fd_waiting;     /* those transfers, linked by fd_next */
    int closing;
    int open_handles;           /* timers not yet closed (timer, rate_timer, fd_timer): c is
                                 * freed when the last one is */
    uv_timer_t rate_timer;      /* --limit-rate: wakes the transfers waiting for the budget */
    list_t rate_waiting;        /* http_req_t.rate_link, oldest first */
    http_workers_t *workers;    /* opts.workers > 1: the transfers run there, nothing above is set */
    unsigned long ran;          /* transfers started (without workers) */
};

struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    int events;                 /* what curl asked to watch (UV_READABLE | UV_WRITABLE) */
    http_client_t *client;
};

static void http_drain(http_client_t *c);
static int http_rate_hold(http_req_t *r);

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
    /* Bodies are stored as sent (like curl without --compressed, and wget): a Range offset is
     * then an offset into the stored bytes. libcurl never decodes: where gather asks for a
     * compressed body, net/http/decode.c does it with bounded memory. */
    SETOPT(easy, CURLOPT_ACCEPT_ENCODING, "identity");
    SETOPT(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    SETOPT(easy, CURLOPT_BUFFERSIZE, (long)HTTP_BUFFER_SIZE);
    SETOPT(easy, CURLOPT_TCP_NODELAY, 1L);
    SETOPT(easy, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    SETOPT(easy, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    SETOPT(easy, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    SETOPT(easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    /* --min-speed, or else a limit of 1 byte/s for --read-timeout. The read timeout itself is
     * http_req_idle_check's, in the progress callback; with the multi's socket API curl runs a
     * silent transfer (and so that callback) only when a timer of its own is due, and the low
     * speed check is what arms one every second. */
    if (o->low_speed_limit > 0) {
        SETOPT(easy, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
        SETOPT(easy, CURLOPT_LOW_SPEED_TIME, o->low_speed_time);
    } else {
        SETOPT(easy, CURLOPT_LOW_SPEED_LIMIT, o->read_timeout_ms > 0 ? 1L : 0L);
        SETOPT(easy, CURLOPT_LOW_SPEED_TIME, (o->read_timeout_ms + 999) / 1000);
    }
    SETOPT(easy, CURLOPT_MAXFILESIZE_LARGE, o->max_filesize);
    SETOPT(easy, CURLOPT_USERAGENT, o->user_agent);
    /* --har and --warc-file read what went over the wire from curl's debug callback, which
     * curl calls only in verbose mode; that callback then prints -v's trace itself. */
    SETOPT(easy, CURLOPT_VERBOSE, o->verbose || o->capture || o->tap ? 1L : 0L);
    SETOPT(easy, CURLOPT_DEBUGFUNCTION, o->capture || o->tap ? http_on_debug : NULL);
    /* NULL leaves libcurl's default; CURLOPT_PROXY NULL also leaves the environment's proxy. */
    if (o->ca_file)
        SETOPT(easy, CURLOPT_CAINFO, o->ca_file);
    if (o->ca_path)
        SETOPT(easy, CURLOPT_CAPATH, o->ca_path);
    if (o->client_cert)
        SETOPT(easy, CURLOPT_SSLCERT, o->client_cert);
    if (o->client_key)
        SETOPT(easy, CURLOPT_SSLKEY, o->client_key);
    if (o->proxy)
        SETOPT(easy, CURLOPT_PROXY, o->proxy);
    if (o->noproxy)
        SETOPT(easy, CURLOPT_NOPROXY, o->noproxy);
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

    r->idle_since_ns = uv_hrtime();     /* a header line is data for --read-timeout */
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* A new response (a redirect hop or 100-continue): forget the previous one's headers. */
        r->content_type[0] = r->etag[0] = r->last_modified[0] = '\0';
        r->retry_after[0] = r->content_range[0] = '\0';
        r->cert_refused = 0;
        free(r->disposition);
        r->disposition = NULL;
        r->coding = HTTP_CODING_NONE;
        r->is_2xx = -1;
        r->in_headers = 1;
    } else if ((len == 2 && buf[0] == '\r' && buf[1] == '\n') || (len == 1 && buf[0] == '\n')) {
        r->in_headers = 0;
    } else if (http_header_is(buf, len, "content-disposition", &v, &vlen)) {
        /* Kept whole (a name cut short would be another name), or not at all. */
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
            vlen--;
        free(r->disposition);
        r->disposition = vlen <= HTTP_DISPOSITION_MAX ? strndup(v, vlen) : NULL;
    } else if (http_header_is(buf, len, "content-encoding", &v, &vlen)) {
        r->coding = http_coding_parse(v, vlen);
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

/* ---- what went over the wire (--har, --warc-file) ------------------------------------------ */

/* Appends data to a hop's head buffer under HTTP_HOP_HEAD_MAX; what does not fit is dropped and
 * the hop marked truncated (curl refuses longer headers anyway). */
static void http_hop_append(http_hop_t *h, char **buf, size_t *len, const char *data, size_t n)
{
    char *p;

    if (*len + n > HTTP_HOP_HEAD_MAX) {
        h->truncated = 1;
        return;
    }
    if (!(p = realloc(*buf, *len + n + 1))) {
        h->truncated = 1;
        return;
    }
    memcpy(p + *len, data, n);
    *len += n;
    p[*len] = '\0';
    *buf = p;
}

void http_req_hops_free(http_req_t *r)
{
    for (size_t i = 0; i < r->nhops; i++) {
        free(r->hops[i].url);
        free(r->hops[i].ip);
        free(r->hops[i].req_head);
        free(r->hops[i].resp_head);
    }
    free(r->hops);
    r->hops = NULL;
    r->nhops = 0;
    r->capture_skip = 0;
}

/* A request went out: a new hop, or the same request sent again on a fresh connection (curl
 * retries one whose reused connection was dead) in place of the unanswered one. */
static http_hop_t *http_hop_begin(http_req_t *r, CURL *easy)
{
    http_hop_t *h = r->nhops ? &r->hops[r->nhops - 1] : NULL;
    char *s = NULL;
    struct timeval tv;

    if (h && !h->resp_head) {
        free(h->req_head);
        h->req_head = NULL;
        h->req_len = 0;
    } else {
        /* Bounded: curl follows at most --max-redirs, and a refused realloc records nothing. */
        http_hop_t *hops = realloc(r->hops, (r->nhops + 1) * sizeof(*hops));

        if (!hops)
            return NULL;
        r->hops = hops;
        h = &hops[r->nhops++];
        memset(h, 0, sizeof(*h));
    }
    free(h->url);
    free(h->ip);
    h->url = curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s ? strdup(s) : NULL;
    s = NULL;
    h->ip = curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &s) == CURLE_OK && s && *s ? strdup(s) : NULL;
    gettimeofday(&tv, NULL);
    h->wall_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    return h;
}

static void http_debug_print(curl_infotype type, const char *data, size_t size)
{
    const char *mark = type == CURLINFO_TEXT ? "* " : type == CURLINFO_HEADER_IN ? "< " :
                       type == CURLINFO_HEADER_OUT ? "> " : NULL;

    /* One mark per line, as curl's own trace has it (a request's head comes in one piece). */
    while (mark && size > 0) {
        const char *eol = memchr(data, '\n', size);
        size_t n = eol ? (size_t)(eol - data) + 1 : size;

        fprintf(stderr, "%s%.*s", mark, (int)n, data);
        data += n;
        size -= n;
    }
}

int http_on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata)
{
    http_req_t *r = userdata;
    http_hop_t *h;

    if (!r)
        return 0;
    if (r->capture_verbose)
        http_debug_print(type, data, size);
    switch (type) {
    case CURLINFO_HEADER_OUT:
        if (size >= 8 && memcmp(data, "CONNECT ", 8) == 0) {
            r->capture_skip = 1;            /* the proxy's tunnel, not an exchange of ours */
            return 0;
        }
        r->capture_skip = 0;
        h = r->nhops ? &r->hops[r->nhops - 1] : NULL;
        /* curl sends a request's head in one piece; a second piece before any answer belongs
         * to it unless the head already ended. */
        if (!h || h->resp_head || (h->req_len >= 4 && !memcmp(h->req_head + h->req_len - 4, "\r\n\r\n", 4)))
            h = http_hop_begin(r, easy);
        if (h)
            http_hop_append(h, &h->req_head, &h->req_len, data, size);
        return 0;
    case CURLINFO_HEADER_IN:
        if (r->capture_skip || !r->nhops)
            return 0;
        h = &r->hops[r->nhops - 1];
        if (size >= 5 && memcmp(data, "HTTP/", 5) == 0) {
            const char *sp = memchr(data, ' ', size);

            free(h->resp_head);             /* an interim 1xx answer before: dropped */
            h->resp_head = NULL;
            h->resp_len = 0;
            h->resp_done = 0;
            h->status = 0;              /* the three digits after the version */
            for (const char *d = sp ? sp + 1 : NULL; d && d < data + size && d < sp + 4 &&
                 isdigit((unsigned char)*d); d++)
                h->status = h->status * 10 + (*d - '0');
        } else if (!h->resp_head) {
            return 0;
        }
        http_hop_append(h, &h->resp_head, &h->resp_len, data, size);
        if (!h->resp_head) {                /* not even its status line fitted in memory */
            h->truncated = 1;
            return 0;
        }
        if ((size == 2 && data[0] == '\r' && data[1] == '\n') || (size == 1 && data[0] == '\n'))
            h->resp_done = h->status >= 200;
        return 0;
    case CURLINFO_DATA_IN:
        if (r->capture_skip || !r->nhops || !r->hops[r->nhops - 1].resp_done)
            return 0;
        h = &r->hops[r->nhops - 1];
        h->body_bytes += (curl_off_t)size;
        if (r->client && r->client->opts.tap)
            r->client->opts.tap->body(r->client->opts.tap, r, r->nhops - 1, data, size);
        return 0;
    default:
        return 0;
    }
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

/* Decoded bytes (or bytes as sent) for the sink, after the size cap: HTTP_SINK_OK when taken. */
static int http_deliver(void *arg, const char *data, size_t len)
{
    http_req_t *r = arg;
    int rc;

    /* The cap is on the whole body: a 206 continues one that already has range_start bytes. */
    if (r->max_bytes > 0 &&
        (r->status == 206 && r->range ? r->range_start : 0) + r->body_bytes + (curl_off_t)len > r->max_bytes)
        return -EFBIG;
    rc = r->sink ? r->sink->write(r->sink, data, len) : HTTP_SINK_OK;
    if (rc == HTTP_SINK_OK)
        r->body_bytes += len;
    return rc;
}

/* The first body byte of the final answer: its status, its size, the Range check, and a
 * decoder when we asked for compression and got a coding we decode. */
static int http_body_begins(http_req_t *r)
{
    long status = 0;

    if (curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        return -1;
    r->is_2xx = status >= 200 && status < 300;
    r->status = status;          /* known to the sink from the first byte on */
    if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->content_length) != CURLE_OK)
        r->content_length = -1;
    if (!r->is_2xx)
        return 0;
    if (http_check_range(r) < 0)
        return -1;
    if (r->decode && (r->coding == HTTP_CODING_GZIP || r->coding == HTTP_CODING_DEFLATE)) {
        if (!(r->dec = http_decoder_new(r->coding))) {
            r->sink_error = -ENOMEM;
            return -1;
        }
        r->decoded = r->coding;
    }
    return 0;
}

/* A decoded body: feed the decoder, which stops where the sink refuses. libcurl keeps the
 * rest of this write (encoded bytes, at most a network read) and offers the same bytes again
 * after the resume, so dec_skip says how many of them the decoder has already consumed. The
 * decoder is called even when it consumed all of them: the pause may have refused only output it
 * still holds, and on the body's last write nothing else would ever flush it. */
static size_t http_write_decoded(http_req_t *r, char *data, size_t len)
{
    size_t skip = r->dec_skip, off = skip < len ? skip : len, used = 0;
    int rc;

    r->dec_skip = 0;
    rc = http_decoder_write(r->dec, data + off, len - off, &used, http_deliver, r);
    r->bytes += (curl_off_t)used;
    if (rc == HTTP_SINK_PAUSE) {
        r->dec_skip = skip + used;
        r->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (rc < 0) {
        r->sink_error = rc;
        return CURL_WRITEFUNC_ERROR;
    }
    if (skip > len)
        r->dec_skip = skip - len;    /* not seen with libcurl 7.88: it offers whole writes again */
    return len;
}

static size_t http_on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    http_req_t *r = userdata;
    size_t len = size * nmemb;
    int rc;

    if (http_rate_hold(r))
        return CURL_WRITEFUNC_PAUSE;
    /* The tap holds these bytes already (they came through the debug callback first): a pause
     * here stops the socket reads until it has written them out. */
    if (r->client && r->client->opts.tap && r->client->opts.tap->hold &&
        r->client->opts.tap->hold(r->client->opts.tap, r)) {
        r->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (r->is_2xx < 0 && http_body_begins(r) < 0)
        return CURL_WRITEFUNC_ERROR;
    if (!r->is_2xx) {
        /* nginx answers a missing or refused client certificate with a 400 whose page says
         * "No required SSL certificate was sent" or "The SSL certificate error". */
        if (r->status == 400 && r->bytes < 4096 && memmem(data, len, "SSL certificate", 15))
            r->cert_refused = 1;
        r->bytes += len;
        return r->bytes > HTTP_DISCARD_MAX ? CURL_WRITEFUNC_ERROR : len;
    }
    if (r->dec)
        return http_write_decoded(r, data, len);
    rc = http_deliver(r, data, len);
    if (rc == HTTP_SINK_PAUSE) {
        r->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (rc < 0) {
        r->sink_error = rc;
        return CURL_WRITEFUNC_ERROR;
    }
    r->bytes += len;
    return len;
}

/* curl's socket(2), which says when the descriptor table was full (curl itself reports only
 * "could not connect"): the transfer then waits for descriptors instead of failing. */
static curl_socket_t http_on_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    http_req_t *r = clientp;
    curl_socket_t s;

    (void)purpose;
    s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (s == CURL_SOCKET_BAD && (errno == EMFILE || errno == ENFILE))
        r->fd_short = 1;
    return s;
}

CURLcode http_req_attach(http_req_t *r, CURL *easy)
{
    CURLcode result;

    r->easy = easy;
    r->idle_since_ns = uv_hrtime();
    SETOPT(easy, CURLOPT_WRITEFUNCTION, http_on_write);
    SETOPT(easy, CURLOPT_WRITEDATA, r);
    SETOPT(easy, CURLOPT_HEADERFUNCTION, http_on_header);
    SETOPT(easy, CURLOPT_HEADERDATA, r);
    SETOPT(easy, CURLOPT_ERRORBUFFER, r->error);
    SETOPT(easy, CURLOPT_OPENSOCKETFUNCTION, http_on_opensocket);
    SETOPT(easy, CURLOPT_OPENSOCKETDATA, r);
    SETOPT(easy, CURLOPT_DEBUGDATA, r);
    http_req_hops_free(r);
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

int http_req_idle_check(http_req_t *r, long read_timeout_ms, curl_off_t dlnow, curl_off_t ulnow)
{
    uint64_t now;

    if (read_timeout_ms <= 0)
        return 0;
    now = uv_hrtime();
    if (dlnow != r->seen_dl || ulnow != r->seen_ul || r->paused) {
        r->seen_dl = dlnow;
        r->seen_ul = ulnow;
        r->idle_since_ns = now;
        return 0;
    }
    if (now - r->idle_since_ns < (uint64_t)read_timeout_ms * 1000000)
        return 0;
    r->read_timed_out = 1;
    return 1;
}

void http_req_collect(http_req_t *r, CURL *easy, CURLcode code)
{
    long version = 0, status = 0;
    curl_off_t cl = -1;

    if (r->read_timed_out && code == CURLE_ABORTED_BY_CALLBACK)
        code = CURLE_OPERATION_TIMEDOUT;    /* a timeout like curl's own, retried alike */
    r->code = code;
    /* A complete HTTP message whose compressed stream stops short is a truncated body. */
    if (r->dec && code == CURLE_OK && !http_decoder_complete(r->dec)) {
        r->code = CURLE_BAD_CONTENT_ENCODING;
        r->sink_error = HTTP_EBADCODING;
        snprintf(r->error, sizeof(r->error), "it ends before its compressed stream does");
    } else if (r->dec && r->sink_error == HTTP_EBADCODING) {
        snprintf(r->error, sizeof(r->error), "%s", http_decoder_error(r->dec));  /* curl's is vaguer */
    }
    http_decoder_free(r->dec);
    r->dec = NULL;
    /* status and content_length change only when they differ: with --workers the main loop's
     * sink may still be reading them (net/http/workers.h) while a worker collects r. */
    if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    if (r->status != status)
        r->status = status;
    if (curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &r->redirects) != CURLE_OK)
        r->redirects = 0;
    if (curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &r->os_errno) != CURLE_OK)
        r->os_errno = 0;
    if (curl_easy_getinfo(easy, CURLINFO_HTTP_CONNECTCODE, &r->proxy_status) != CURLE_OK)
        r->proxy_status = 0;
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK)
        cl = -1;
    if (r->content_length != cl)
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

int http_req_headers_too_large(const http_req_t *r)
{
    if (!r->in_headers)
        return 0;
    /* libcurl 7.88 fails a header line over CURL_MAX_HTTP_HEADER as out of memory (its buffer's
     * cap), and more than 300 KiB of headers as a receive error; later versions say
     * CURLE_TOO_LARGE for both. */
#if LIBCURL_VERSION_NUM >= 0x080600
    if (r->code == CURLE_TOO_LARGE)
        return 1;
#endif
    return r->code == CURLE_OUT_OF_MEMORY ||
           (r->code == CURLE_RECV_ERROR && strstr(r->error, "Too large response headers"));
}

/* Why a connect failed: "connection refused", "could not connect: No route to host". */
static const char *http_connect_reason(const http_req_t *r, char *buf, size_t n)
{
    if (r->os_errno == ECONNREFUSED || strstr(r->error, "refused"))
        snprintf(buf, n, "connection refused");
    else if (r->os_errno)
        snprintf(buf, n, "could not connect: %s", strerror((int)r->os_errno));
    else
        snprintf(buf, n, "could not connect");
    return buf;
}

/* The proxy r went through ("http://127.0.0.1:3128"), or NULL if it went direct. */
static const char *http_req_proxy(const http_req_t *r, const http_opts_t *o, char *buf, size_t n)
{
    return http_proxy_for(r->effective_url ? r->effective_url : r->url, o ? o->proxy : NULL,
                          o ? o->noproxy : NULL, buf, n);
}

static const char *http_coding_name(http_coding_t c)
{
    return c == HTTP_CODING_GZIP ? "gzip" : c == HTTP_CODING_DEFLATE ? "deflate" : "compressed";
}

const char *http_req_describe(const http_req_t *r, const http_opts_t *o, char *buf, size_t n)
{
    char secs[32], why[128], px[300];
    const char *proxy;

    if (http_req_headers_too_large(r)) {
        snprintf(buf, n, "response headers too large: %s",
                 r->code == CURLE_OUT_OF_MEMORY ? "one line over 100 KiB (libcurl's limit)"
                                                : "over 300 KiB (libcurl's limit)");
        return buf;
    }
    if (r->code == CURLE_OK || (r->status >= 300 && r->code == CURLE_WRITE_ERROR && !r->sink_error)) {
        if (r->status >= 200 && r->status < 300)
            snprintf(buf, n, "ok");
        else if (r->status >= 300 && r->status < 400)
            snprintf(buf, n, "HTTP %ld (redirect not followed)", r->status);
        else if (r->cert_refused && !(o && o->client_cert))
            snprintf(buf, n, "HTTP %ld: the server requires a client certificate (--cert FILE)",
                     r->status);
        else if (r->cert_refused)
            snprintf(buf, n, "HTTP %ld: the server refused the client certificate", r->status);
        else
            snprintf(buf, n, "HTTP %ld", r->status);
        return buf;
    }
    /* A server that checks client certificates in the TLS handshake says so with an alert, which
     * reaches us as a handshake or read error. */
    if ((r->code == CURLE_SSL_CONNECT_ERROR || r->code == CURLE_RECV_ERROR) &&
        strstr(r->error, "alert certificate required")) {
        snprintf(buf, n, "TLS error: the server requires a client certificate (--cert FILE): %s",
                 r->error);
        return buf;
    }
    /* A proxy answered CONNECT with something else than 2xx (libcurl 7.88 reports a read
     * error, later ones a connect error). */
    if (r->proxy_status >= 300 && (proxy = http_req_proxy(r, o, px, sizeof(px)))) {
        snprintf(buf, n, "proxy %s refused the tunnel: HTTP %ld", proxy, r->proxy_status);
        return buf;
    }
    switch (r->code) {
    case CURLE_COULDNT_CONNECT:
        if (r->fd_short)
            snprintf(buf, n, "could not connect: %s (waited %d times)", strerror(EMFILE), r->fd_waits);
        else if ((proxy = http_req_proxy(r, o, px, sizeof(px))))
            snprintf(buf, n, "cannot connect to proxy %s: %s", proxy,
                     http_connect_reason(r, why, sizeof(why)));
        else
            http_connect_reason(r, buf, n);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(buf, n, "could not resolve host");
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        proxy = http_req_proxy(r, o, px, sizeof(px));
        snprintf(buf, n, "cannot resolve proxy %s", proxy ? proxy : r->error);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        if (o && o->read_timeout_ms > 0 &&
            (r->read_timed_out || (o->low_speed_limit == 0 && strstr(r->error, "too slow"))))
            snprintf(buf, n, "no data for %s (--read-timeout)",
                     http_seconds(o->read_timeout_ms, secs, sizeof(secs)));
        else if (o && o->low_speed_limit > 0 && strstr(r->error, "too slow"))
            snprintf(buf, n, "too slow: under %ld bytes/s for %ld s", o->low_speed_limit,
                     o->low_speed_time);
        else if (o && o->connect_timeout_ms > 0 && r->timing.connect_us == 0 &&
                 strstr(r->error, "onnect") && (proxy = http_req_proxy(r, o, px, sizeof(px))))
            snprintf(buf, n, "connect to proxy %s timed out after %s", proxy,
                     http_seconds(o->connect_timeout_ms, secs, sizeof(secs)));
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
    case CURLE_BAD_CONTENT_ENCODING:
        snprintf(buf, n, "corrupt %s body: %s", http_coding_name(r->decoded), r->error);
        break;
    case CURLE_WRITE_ERROR:
        if (r->sink_error == HTTP_EBADRANGE && !r->range)
            snprintf(buf, n, "206 Partial Content without a Range request");
        else if (r->sink_error == HTTP_EBADRANGE)
            snprintf(buf, n, "206 Partial Content at the wrong offset (%s for bytes %lld-)",
                     r->content_range[0] ? r->content_range : "no Content-Range",
                     (long long)r->range_start);
        else if (r->sink_error == -EFBIG)
            snprintf(buf, n, "larger than the size limit (%lld bytes%s)", (long long)r->max_bytes,
                     r->decoded ? " once decoded" : "");
        else if (r->sink_error == HTTP_EBADCODING)
            snprintf(buf, n, "corrupt %s body: %s", http_coding_name(r->decoded), r->error);
        else if (r->sink_error)
            snprintf(buf, n, "write failed: %s", strerror(-r->sink_error));
        else
            snprintf(buf, n, "write failed");
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        snprintf(buf, n, "cancelled");
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        /* The usual cause is a private CA: say which options trust one. */
        snprintf(buf, n, "TLS error: the server's certificate is not trusted: %s (a private CA: "
                 "--cacert FILE or --capath DIR)", r->error[0] ? r->error : curl_easy_strerror(r->code));
        break;
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(buf, n, "TLS error: %s", r->error[0] ? r->error : curl_easy_strerror(r->code));
        break;
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(buf, n, "TLS error: cannot use the CA certificates: %s",
                 r->error[0] ? r->error : curl_easy_strerror(r->code));
        break;
    case CURLE_SSL_CERTPROBLEM:
        snprintf(buf, n, "TLS error: cannot use the client certificate (--cert, --key): %s",
                 r->error[0] ? r->error : curl_easy_strerror(r->code));
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
    http_decoder_free(r->dec);
    r->dec = NULL;
    free(r->effective_url);
    free(r->primary_ip);
    free(r->redirect_url);
    free(r->disposition);
    r->effective_url = r->primary_ip = r->redirect_url = r->disposition = NULL;
    http_req_hops_free(r);
}

/* ---- libuv glue ---------------------------------------------------------------------------- */

static void http_sock_on_close(uv_handle_t *h)
{
    free(h->data);
}

/* A poll error (libuv says UV_EBADF for EPOLLERR, e.g. a reset that arrived on an idle
 * keep-alive connection) is not the transfer's error: tell curl the socket is readable and
 * writable, so that it reads the reset or the end of the stream itself. That is what makes curl
 * retry a request sent on a reused connection the server had just closed, as it does inside
 * curl_easy_perform (its own poll reports POLLERR as readable too). CURL_CSELECT_ERR would end
 * the transfer with "select/poll returned error" instead. libuv stops the handle when it reports
 * an error; if curl keeps the socket and asks for nothing new, watch it again. */
static void http_on_poll(uv_poll_t *p, int status, int events)
{
    struct http_sock *hs = p->data;
    http_client_t *c = hs->client;
    curl_socket_t fd = hs->fd;      /* hs may be closed by the socket callback inside curl */
    int flags = 0, running = 0;
    CURLMcode mc;

    if (status < 0)
        flags = CURL_CSELECT_IN | CURL_CSELECT_OUT;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    mc = curl_multi_socket_action(c->multi, fd, flags, &running);
    if (mc != CURLM_OK)
        fprintf(stderr, "gather: curl_multi_socket_action: %s\n", curl_multi_strerror(mc));
    /* hs is still this socket's context only if c->socks says so (a closed one is only freed
     * by its uv_close callback, so the pointer cannot have been reused yet). */
    if (status < 0 && (size_t)fd < c->nsocks && c->socks[fd] == hs && hs->events &&
        !uv_is_active((uv_handle_t *)&hs->poll) &&
        uv_poll_start(&hs->poll, hs->events, http_on_poll) < 0)
        fprintf(stderr, "gather: cannot watch socket %d again\n", (int)fd);
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
        if (hs) {
            uv_poll_stop(&hs->poll);      /* kept for the connection's next transfer */
            hs->events = 0;
        }
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
    hs->events = events;
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

static void http_run_timeout(http_client_t *c)
{
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);

    if (mc != CURLM_OK)
        fprintf(stderr, "gather: curl_multi_socket_action: %s\n", curl_multi_strerror(mc));
    http_drain(c);
}

static void http_on_timeout(uv_timer_t *t)
{
    http_run_timeout(t->data);
}

static void http_on_kick(sched_node_t *node)
{
    http_client_t *c = container_of(node, http_client_t, kick);

    if (!c->closing)
        http_run_timeout(c);
}

static int http_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    http_client_t *c = userp;

    (void)multi;
    if (c->closing)
        return 0;
    if (timeout_ms < 0) {
        sched_cancel(c->sched, &c->kick);
        return uv_timer_stop(&c->timer) < 0 ? -1 : 0;
    }
    /* Zero means "as soon as possible", never inside this callback: a call queued on the
     * scheduler, so a transfer a coroutine starts goes out in the same loop turn (after the
     * calls queued before it) rather than one poll later. */
    if (timeout_ms == 0) {
        if (uv_timer_stop(&c->timer) < 0)
            return -1;
        sched_post(c->sched, &c->kick);
        return 0;
    }
    sched_cancel(c->sched, &c->kick);
    return uv_timer_start(&c->timer, http_on_timeout, (uint64_t)timeout_ms, 0) < 0 ? -1 : 0;
}

/* ---- the easy handle pool and transfer lifecycle ----------------------------------------- */

static int http_on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                            curl_off_t ulnow)
{
    http_req_t *r = clientp;

    (void)dltotal;
    (void)ultotal;
    return http_req_idle_check(r, r->client->opts.read_timeout_ms, dlnow, ulnow);
}

/* What the async client adds to each new pooled handle: the share and its own callbacks. */
static CURLcode http_easy_setup_async(CURL *easy, void *arg)
{
    http_client_t *c = arg;
    CURLcode code;

    if ((code = curl_easy_setopt(easy, CURLOPT_SHARE, c->share)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_on_write)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, http_on_header)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, http_on_opensocket)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, http_on_progress)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_NOPROGRESS, c->opts.read_timeout_ms > 0 ? 0L : 1L)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, http_on_closesocket)) != CURLE_OK)
        return code;
    return curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, c);
}

/* Detaches r from curl and gives its handle back to the pool; r keeps its results. */
static void http_req_detach(http_req_t *r)
{
    http_client_t *c = r->client;
    CURLMcode mc = curl_multi_remove_handle(c->multi, r->easy);

    if (list_linked(&r->rate_link))
        list_remove(&r->rate_link);
    r->rate_wait = 0;
    if (mc != CURLM_OK)
        fprintf(stderr, "gather: curl_multi_remove_handle: %s\n", curl_multi_strerror(mc));
    http_easy_pool_put(c->easies, r->easy);
    r->easy = NULL;
    curl_slist_free_all(r->own_headers);          /* curl is done with it */
    r->own_headers = NULL;
    c->active--;
}

/* ---- out of descriptors: wait, then start again ---------------------------------------------- */

static void http_fd_unlink(http_client_t *c, http_req_t *r)
{
    for (http_req_t **p = &c->fd_waiting; *p; p = &(*p)->fd_next) {
        if (*p == r) {
            *p = r->fd_next;
            r->fd_next = NULL;
            return;
        }
    }
}

/* Hands r's handle back to the pool and resolves its future (the callbacks run on a later loop
 * turn); its results were collected. Never from inside a curl callback. */
static void http_req_settle(http_req_t *r)
{
    future_t *fut = r->fut;

    r->fut = NULL;
    if (r->client->opts.tap)
        r->client->opts.tap->done(r->client->opts.tap, r);
    http_req_detach(r);
    future_resolve(fut, r);
    future_unref(fut);
}

/* Ends r with code: results collected, then settled. */
static void http_req_finish(http_req_t *r, CURLcode code)
{
    http_req_collect(r, r->easy, code);
    http_req_settle(r);
}

/* The transfers that could not open a socket start again from the top (nothing was received). */
static void http_on_fd_timer(uv_timer_t *t)
{
    http_client_t *c = t->data;
    http_req_t *list = c->fd_waiting;

    c->fd_waiting = NULL;
    while (list) {
        http_req_t *r = list;
        CURLMcode mc;

        list = r->fd_next;
        r->fd_next = NULL;
        r->fd_short = 0;
        r->fd_waits++;
        r->bytes = r->body_bytes = 0;
        r->is_2xx = -1;
        r->error[0] = '\0';
        mc = curl_multi_add_handle(c->multi, r->easy);
        if (mc != CURLM_OK) {
            fprintf(stderr, "gather: curl_multi_add_handle: %s\n", curl_multi_strerror(mc));
            r->code = CURLE_COULDNT_CONNECT;
            http_req_settle(r);
        }
    }
}

/* r could not open its socket for want of descriptors: out of the multi, into the waiting list,
 * and back in HTTP_FD_WAIT_MS later. 0, or -1 if it cannot wait (it then ends as it is). */
static int http_fd_wait(http_client_t *c, http_req_t *r)
{
    CURLMcode mc;

    if (r->fd_waits >= HTTP_FD_WAITS_MAX || c->closing)
        return -1;
    if (!uv_is_active((uv_handle_t *)&c->fd_timer) &&
        uv_timer_start(&c->fd_timer, http_on_fd_timer, HTTP_FD_WAIT_MS, 0) < 0)
        return -1;
    mc = curl_multi_remove_handle(c->multi, r->easy);
    if (mc != CURLM_OK) {
        fprintf(stderr, "gather: curl_multi_remove_handle: %s\n", curl_multi_strerror(mc));
        return -1;                   /* the timer finds nothing to do */
    }
    r->fd_next = c->fd_waiting;
    c->fd_waiting = r;
    return 0;
}

static void http_drain(http_client_t *c)
{
    CURLMsg *msg;
    int left = 0;

    while ((msg = curl_multi_info_read(c->multi, &left))) {
        http_req_t *r = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r) != CURLE_OK || !r)
            continue;
        http_req_collect(r, r->easy, msg->data.result);
        if (r->code == CURLE_COULDNT_CONNECT && r->fd_short && http_fd_wait(c, r) == 0)
            continue;                /* msg is invalid from here on */
        http_req_settle(r);           /* msg is invalid from here on */
    }
}

static int http_req_on_cancel(future_t *f, void *arg)
{
    http_req_t *r = arg;

    (void)f;
    r->code = CURLE_ABORTED_BY_CALLBACK;
    if (r->client->opts.tap)         /* what came so far is archived, marked as cut short */
        r->client->opts.tap->done(r->client->opts.tap, r);
    http_fd_unlink(r->client, r);    /* it may be waiting for descriptors, out of the multi */
    http_decoder_free(r->dec);
    r->dec = NULL;
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

    if (c->workers)
        return http_workers_start(c->workers, r);
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
    r->cert_refused = 0;
    r->rate_wait = 0;
    r->rate_seen = 0;
    r->rate_tat = 0;
    list_init(&r->rate_link);
    free(r->disposition);
    r->disposition = NULL;
    r->is_2xx = -1;
    r->in_headers = 0;
    r->seen_dl = r->seen_ul = 0;
    r->read_timed_out = r->fd_short = r->fd_waits = 0;
    r->fd_next = NULL;
    r->coding = r->decoded = HTTP_CODING_NONE;
    http_decoder_free(r->dec);     /* a request reused without http_req_cleanup */
    r->dec = NULL;
    r->dec_skip = 0;
    http_req_hops_free(r);
    r->capture_verbose = c->opts.verbose;
    r->tap_state = NULL;
    r->easy = easy;
    r->client = c;
    memset(&r->timing, 0, sizeof(r->timing));
    r->timing.start_ns = r->idle_since_ns = uv_hrtime();
    gettimeofday(&tv, NULL);
    r->timing.start_wall_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    if (curl_easy_setopt(easy, CURLOPT_URL, r->url) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->error) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_DEBUGDATA, r) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_RANGE, r->range) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, r->decode ? HTTP_ACCEPT_DECODED : "identity") != CURLE_OK ||
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
    c->ran++;
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
    if (r->wx)
        http_workers_resume(r);
    else
        http_req_resume_here(r);
}

void http_req_resume_here(http_req_t *r)
{
    CURLcode rc;

    if (!r->paused || !r->easy)
        return;
    r->paused = 0;
    r->idle_since_ns = uv_hrtime();  /* the pause waited for our disk, not for the server */
    if (r->rate_wait)
        return;                      /* --limit-rate's timer resumes it */
    /* libcurl offers the held bytes again from inside this call. When the sink refuses them for
     * good (a size cap reached, a disk error), 7.88 returns the error and leaves the transfer
     * paused in the multi with nothing to wake it: end it here. */
    rc = curl_easy_pause(r->easy, CURLPAUSE_CONT);
    if (rc != CURLE_OK && r->fut)
        http_req_finish(r, rc);
}

/* ---- --limit-rate and --limit-rate-each: budgets on the loop -------------------------------- */

/* Every transfer charges what it received (bytes on the wire, as CURLINFO_SIZE_DOWNLOAD_T counts
 * them: before any content decoding) to the run's budget and to its own. While one of them is
 * spent, a transfer that delivers more is paused (curl keeps the bytes and stops reading its
 * socket) and queued; one timer resumes the queue oldest first as the budgets refill. So slow
 * transfers never waste the share of fast ones (dividing the rate by the transfers in flight
 * would), a transfer waits at most about one turn of the queue, and there is one timer for any
 * number of transfers. (libcurl's own CURLOPT_MAX_RECV_SPEED_LARGE was measured letting 2 MiB
 * through at 1 MiB/s in 1.3 s: its window starts late.) */
static void http_on_rate_timer(uv_timer_t *t);

static int http_rate_arm(http_client_t *c, uint64_t wait_ns)
{
    if (wait_ns < 1000000)
        wait_ns = 1000000;           /* the loop counts in ms: never a busy turn */
    return uv_timer_start(&c->rate_timer, http_on_rate_timer, (wait_ns + 999999) / 1000000, 0);
}

/* ns from now until r may go on: the later of its own budget and the run's. */
static uint64_t http_rate_due(const http_req_t *r, uint64_t run_wait, uint64_t now)
{
    uint64_t own = r->rate_wake > now ? r->rate_wake - now : 0;

    return own > run_wait ? own : run_wait;
}

/* 1 when r must pause for a budget (it is then queued); 0 to go on. */
static int http_rate_hold(http_req_t *r)
{
    http_client_t *c = r->client;
    curl_off_t got = 0;
    uint64_t now, run_wait = 0, own_wait = 0, delta, due;

    if (!c || (!c->opts.rate && c->opts.rate_each <= 0))
        return 0;                    /* the blocking modes charge from their progress callback */
    if (curl_easy_getinfo(r->easy, CURLINFO_SIZE_DOWNLOAD_T, &got) != CURLE_OK)
        got = r->rate_seen;
    if (got < r->rate_seen)
        r->rate_seen = 0;            /* a new response (a redirect hop) counts from zero */
    delta = (uint64_t)(got - r->rate_seen);
    r->rate_seen = got;
    now = uv_hrtime();
    if (c->opts.rate) {
        http_rate_charge(c->opts.rate, delta, now);
        run_wait = http_rate_wait(c->opts.rate, now);
    }
    if (c->opts.rate_each > 0) {
        http_rate_tat_charge(&r->rate_tat, c->opts.rate_each, delta, now);
        own_wait = http_rate_tat_wait(r->rate_tat, now);
    }
    if (run_wait == 0 && own_wait == 0)
        return 0;
    r->rate_wake = now + own_wait;
    due = own_wait > run_wait ? own_wait : run_wait;
    /* Arm before queueing: a transfer that could never be woken must not pause. A timer armed
     * for later (another transfer's own budget) is brought forward. */
    if ((!uv_is_active((uv_handle_t *)&c->rate_timer) ||
         uv_timer_get_due_in(&c->rate_timer) > (due + 999999) / 1000000) &&
        http_rate_arm(c, due) < 0)
        return 0;
    r->rate_wait = 1;
    list_insert_tail(&c->rate_waiting, &r->rate_link);
    return 1;
}

/* Resumes r, which left the queue. curl may hand the held bytes over right here: they charge the
 * budgets, and a transfer that overdraws one is queued again at the tail. */
static void http_rate_release(http_req_t *r)
{
    CURLcode rc;

    r->rate_wait = 0;
    if (r->paused)
        return;                      /* its sink paused it too: the sink's drain resumes it */
    rc = curl_easy_pause(r->easy, CURLPAUSE_CONT);
    if (rc != CURLE_OK && r->fut)
        http_req_finish(r, rc);      /* the sink refused the held bytes: see http_req_resume */
}

static void http_on_rate_timer(uv_timer_t *t)
{
    http_client_t *c = t->data;
    list_t *pos, *tmp, *last = c->rate_waiting.prev;
    uint64_t now = uv_hrtime(), next = UINT64_MAX;

    /* Oldest first, each queued transfer once (those that queue again come after `last`);
     * stop at the first that the run's budget holds back, so none overtakes it. */
    list_for_each_safe(pos, tmp, &c->rate_waiting) {
        http_req_t *r = container_of(pos, http_req_t, rate_link);
        int final = pos == last;

        if (r->rate_wake > now)
            goto next;               /* its own budget: the others may go on */
        if (c->opts.rate && http_rate_wait(c->opts.rate, now) > 0)
            break;
        list_remove(&r->rate_link);
        http_rate_release(r);
    next:
        if (final)
            break;
    }
    if (list_empty(&c->rate_waiting))
        return;
    now = uv_hrtime();
    {
        uint64_t run_wait = c->opts.rate ? http_rate_wait(c->opts.rate, now) : 0;
        list_for_each(pos, &c->rate_waiting) {
            uint64_t due = http_rate_due(container_of(pos, http_req_t, rate_link), run_wait, now);
            if (due < next)
                next = due;
        }
    }
    if (http_rate_arm(c, next) < 0) {
        /* Cannot wait: let everyone go rather than pause for ever. */
        while (!list_empty(&c->rate_waiting))
            http_rate_release(container_of(list_pop_head(&c->rate_waiting), http_req_t, rate_link));
    }
}

/* ---- client -------------------------------------------------------------------------------- */

long http_client_active(const http_client_t *c)
{
    return c->workers ? http_workers_active(c->workers) : c->active;
}

size_t http_client_workers(const http_client_t *c, unsigned long *ran, size_t n)
{
    if (c->workers)
        return http_workers_ran(c->workers, ran, n);
    if (n > 0)
        ran[0] = c->ran;
    return 1;
}

/* Frees the client once its last timer is closed. */
static void http_client_on_close(uv_handle_t *h)
{
    http_client_t *c = h->data;

    if (--c->open_handles == 0)
        free(c);
}

http_client_t *http_client_new(sched_t *s, const http_opts_t *opts, int *result)
{
    http_client_t *c = calloc(1, sizeof(*c));

    *result = -ENOMEM;
    if (!c)
        return NULL;
    c->sched = s;
    c->loop = s->loop;
    c->kick.fn = http_on_kick;
    c->opts = *opts;
    /* No more workers than connections: each needs one. A tap is called on this loop only. */
    if (opts->workers > 1 && !opts->tap && opts->max_connections != 1) {
        int n = opts->max_connections > 0 && opts->max_connections < opts->workers
                ? (int)opts->max_connections : opts->workers;
        if (!(c->workers = http_workers_new(s, opts, n, result))) {
            free(c);
            return NULL;
        }
        return c;
    }
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
    /* The cache's cap alone is trimmed only when a transfer ends, so new connections to other
     * hosts could pile up on top of idle ones; the total cap makes curl close an idle one first
     * (or queue the transfer), which keeps the sockets within the descriptor budget. */
    if (opts->max_connections > 0 &&
        (curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, opts->max_connections) != CURLM_OK ||
         curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, opts->max_connections) != CURLM_OK))
        goto error;
    list_init(&c->rate_waiting);
    *result = uv_timer_init(c->loop, &c->timer);
    if (*result < 0)
        goto error;
    c->timer.data = c;
    c->open_handles = 1;
    if ((*result = uv_timer_init(c->loop, &c->rate_timer)) < 0) {
        /* The first timer is a loop handle now: c is freed by its close callback. */
        http_easy_pool_free(c->easies);
        curl_multi_cleanup(c->multi);
        curl_share_cleanup(c->share);
        uv_close((uv_handle_t *)&c->timer, http_client_on_close);
        return NULL;
    }
    c->rate_timer.data = c;
    c->open_handles = 2;
    if ((*result = uv_timer_init(c->loop, &c->fd_timer)) < 0) {
        http_easy_pool_free(c->easies);
        curl_multi_cleanup(c->multi);
        curl_share_cleanup(c->share);
        uv_close((uv_handle_t *)&c->timer, http_client_on_close);
        uv_close((uv_handle_t *)&c->rate_timer, http_client_on_close);
        return NULL;
    }
    c->fd_timer.data = c;
    c->open_handles = 3;
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

void http_client_close(http_client_t *c)
{
    CURLMcode mc;

    if (c->workers) {
        http_workers_close(c->workers);     /* joins them; the loop's next run frees the rest */
        free(c);
        return;
    }
    assert(c->active == 0);
    c->closing = 1;
    sched_cancel(c->sched, &c->kick);
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
    uv_timer_stop(&c->rate_timer);
    uv_timer_stop(&c->fd_timer);
    uv_close((uv_handle_t *)&c->timer, http_client_on_close);
    uv_close((uv_handle_t *)&c->rate_timer, http_client_on_close);
    uv_close((uv_handle_t *)&c->fd_timer, http_client_on_close);
}
