/* http_blocking: the seed's requests.get loop in C, sharing http_easy_setup with async mode. */
#include "net/http/blocking.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "net/async/task.h"          /* container_of */
#include "storage/file.h"


/* Longest sleep between two looks at b->interrupted while waiting for the rate budget. */
#define BLOCKING_RATE_SLICE_NS (50 * 1000 * 1000ULL)

/* libcurl calls this after every read: charge what arrived to the run's budget, and sleep while
 * it is overdrawn (this thread has nothing else to do; curl reads nothing meanwhile). */
static void blocking_rate(http_blocking_t *b, curl_off_t dlnow)
{
    uint64_t wait, now = uv_hrtime(), delta;

    if (dlnow < b->rate_seen)
        b->rate_seen = 0;            /* a new response (a redirect hop) counts from zero */
    delta = (uint64_t)(dlnow - b->rate_seen);
    b->rate_seen = dlnow;
    if (b->rate)
        http_rate_charge(b->rate, delta, now);
    if (b->rate_each > 0)
        http_rate_tat_charge(&b->rate_tat, b->rate_each, delta, now);
    for (;;) {
        struct timespec ts;
        uint64_t own;

        now = uv_hrtime();
        wait = b->rate ? http_rate_wait(b->rate, now) : 0;
        own = b->rate_each > 0 ? http_rate_tat_wait(b->rate_tat, now) : 0;
        if (own > wait)
            wait = own;
        if (wait == 0 || (b->interrupted && *b->interrupted))
            break;
        if (wait > BLOCKING_RATE_SLICE_NS)
            wait = BLOCKING_RATE_SLICE_NS;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)wait;
        nanosleep(&ts, NULL);        /* EINTR only shortens one slice */
    }
}

static int blocking_on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                curl_off_t ultotal, curl_off_t ulnow)
{
    http_blocking_t *b = userdata;

    (void)dltotal; (void)ultotal;
    if (b->interrupted && *b->interrupted)
        return 1;
    if (b->rate || b->rate_each > 0)
        blocking_rate(b, dlnow);
    return http_req_idle_check(&b->req, b->read_timeout_ms, dlnow, ulnow);
}

/* relpath.part, once the caller has had its say on the name. */
static int blocking_create(http_blocking_t *b)
{
    if (b->on_body)
        b->on_body(b);
    return store_file_create(b->dirfd, b->relpath, &b->fd);
}

/* The body of a 2xx answer, already checked by http.c: into relpath.part, created lazily. */
static int blocking_sink_write(http_sink_t *sink, const char *data, size_t len)
{
    http_blocking_t *b = container_of(sink, http_blocking_t, sink);
    int result;

    if (b->discard)
        return HTTP_SINK_OK;
    if (!b->created) {
        result = blocking_create(b);
        if (result < 0)
            goto fail;
        b->created = 1;
    }
    result = store_file_write(b->fd, data, len);
    if (result < 0)
        goto fail;
    return HTTP_SINK_OK;
fail:
    b->disk_error = result;
    return result;
}

int http_blocking_fetch(http_easy_pool_t *pool, http_blocking_t *b)
{
    CURL *easy = http_easy_pool_get(pool);
    struct curl_slist *own_headers = NULL;
    CURLcode code;
    struct timeval tv;

    b->fd = -1;
    b->created = 0;
    b->disk_error = 0;
    b->rate = http_easy_pool_opts(pool)->rate;
    b->rate_each = http_easy_pool_opts(pool)->rate_each;
    b->rate_tat = 0;
    b->rate_seen = 0;
    memset(&b->req, 0, sizeof(b->req));
    b->req.url = b->url;
    b->req.max_bytes = b->max_bytes;
    b->req.capture_verbose = http_easy_pool_opts(pool)->verbose;  /* -vvv with --har: the debug callback prints the trace */
    b->req.is_2xx = -1;
    b->req.content_length = -1;
    if (!easy) {
        b->req.code = CURLE_OUT_OF_MEMORY;
        return 0;
    }
    b->req.timing.start_ns = uv_hrtime();
    gettimeofday(&tv, NULL);
    b->req.timing.start_wall_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    b->sink.write = blocking_sink_write;
    b->req.sink = &b->sink;
    b->read_timeout_ms = http_easy_pool_opts(pool)->read_timeout_ms;
    /* MAXCONNECTS: the handle's own connection cache (curl_easy_perform keeps one per handle)
     * holds the one connection it reuses, not curl's default of 5: the descriptor budget
     * counts one socket per transfer in flight. */
    if (curl_easy_setopt(easy, CURLOPT_URL, b->url) != CURLE_OK ||
        http_req_attach(&b->req, easy) != CURLE_OK ||
        http_easy_set_creds(easy, http_easy_pool_opts(pool), b->url,
                            http_easy_pool_opts(pool)->headers, &own_headers) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_MAXCONNECTS, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS,
                         b->interrupted || b->rate || b->rate_each > 0 || b->read_timeout_ms > 0 ? 0L : 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, blocking_on_progress) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, b) != CURLE_OK) {
        code = CURLE_FAILED_INIT;
    } else {
        /* No socket for want of descriptors: nothing was sent, so wait for some and go again
         * (as the async client does), rather than fail the URL. */
        while ((code = curl_easy_perform(easy)) == CURLE_COULDNT_CONNECT && b->req.fd_short &&
               b->req.fd_waits < HTTP_FD_WAITS_MAX && !(b->interrupted && *b->interrupted)) {
            usleep(HTTP_FD_WAIT_MS * 1000);
            b->req.fd_short = 0;
            b->req.fd_waits++;
            b->req.bytes = 0;
            b->req.is_2xx = -1;
            b->req.error[0] = '\0';
            b->req.idle_since_ns = uv_hrtime();
        }
    }
    http_req_collect(&b->req, easy, code);
    if (http_req_ok(&b->req) && !b->created && b->disk_error == 0 && !b->discard) {
        /* An empty 2xx body still makes an (empty) file. */
        int result = blocking_create(b);
        if (result < 0)
            b->disk_error = result;
        else
            b->created = 1;
    }
    if (b->discard) {
        /* nothing was written */
    } else if (http_req_ok(&b->req) && b->disk_error == 0) {
        int result = store_file_commit(b->dirfd, b->relpath, b->fd, b->do_fsync);
        if (result < 0)
            b->disk_error = result;
    } else if (b->created) {
        store_file_discard(b->dirfd, b->relpath, b->fd);
    }
    b->fd = -1;
    b->req.easy = NULL;
    http_easy_pool_put(pool, easy);
    curl_slist_free_all(own_headers);
    return 0;
}
