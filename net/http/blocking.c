/* http_blocking: the seed's requests.get loop in C, sharing http_easy_setup with async mode. */
#include "net/http/blocking.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <uv.h>

#include "net/async/task.h"          /* container_of */
#include "storage/file.h"


static int blocking_on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                curl_off_t ultotal, curl_off_t ulnow)
{
    http_blocking_t *b = userdata;

    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    return b->interrupted && *b->interrupted ? 1 : 0;
}

/* The body of a 2xx answer, already checked by http.c: into relpath.part, created lazily. */
static int blocking_sink_write(http_sink_t *sink, const char *data, size_t len)
{
    http_blocking_t *b = container_of(sink, http_blocking_t, sink);
    int result;

    if (b->discard)
        return HTTP_SINK_OK;
    if (!b->created) {
        result = store_file_create(b->dirfd, b->relpath, &b->fd);
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
    memset(&b->req, 0, sizeof(b->req));
    b->req.url = b->url;
    b->req.max_bytes = b->max_bytes;
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
    if (curl_easy_setopt(easy, CURLOPT_URL, b->url) != CURLE_OK ||
        http_req_attach(&b->req, easy) != CURLE_OK ||
        http_easy_set_creds(easy, http_easy_pool_opts(pool), b->url,
                            http_easy_pool_opts(pool)->headers, &own_headers) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, b->interrupted ? 0L : 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, blocking_on_progress) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, b) != CURLE_OK) {
        code = CURLE_FAILED_INIT;
    } else {
        code = curl_easy_perform(easy);
    }
    http_req_collect(&b->req, easy, code);
    if (http_req_ok(&b->req) && !b->created && b->disk_error == 0 && !b->discard) {
        /* An empty 2xx body still makes an (empty) file. */
        int result = store_file_create(b->dirfd, b->relpath, &b->fd);
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
