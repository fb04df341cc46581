/* server.c - the libmicrohttpd daemon: listening socket, per-request accounting, reply streaming. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "reply.h"
#include "route.h"
#include "stats.h"

#define SERVER_BACKLOG 4096
#define SERVER_TIMEOUT_S 120u
#define SERVER_STACK_SIZE ((size_t)512 * 1024)
#define SERVER_BLOCK_SMALL ((size_t)64 * 1024)
#define SERVER_BLOCK_BIG ((size_t)256 * 1024)

struct server {
    struct fixture *fx;
    struct MHD_Daemon *daemon;

    /* Delays and trickles wait on `wake` so that stopping interrupts them at once. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

/* One request, from the URI log callback (arrival of the request line) to NOTIFY_COMPLETED. */
struct server_request {
    struct server *srv;
    bool arrived;  /* the access handler ran once already */
    bool counted;  /* stats_request_begin() was called: stats_request_end() is owed */
    char target[]; /* the request-target exactly as received */
};

/* One TCP connection's pace under --conn-rate: the time from which it may send again. Only the
 * connection's own thread touches it (one thread per connection), so it needs no lock; it lives
 * from NOTIFY_STARTED to NOTIFY_CLOSED and spans every request on the connection, so N
 * connections get N times the rate and a new request on a kept-alive one gets no fresh budget. */
struct server_conn {
    uint64_t next_ns;
};

/* A response body being streamed; owned by the MHD response and freed by its free callback. */
struct server_stream {
    struct server *srv;
    bool counted;  /* body bytes go to bytes_sent */
    struct server_conn *conn; /* the connection it was queued on, for --conn-rate; may be NULL */
    struct reply_stream body;
};

/* ---------------------------------------------------------------------------------------------
 * Listening socket
 * ------------------------------------------------------------------------------------------- */

int server_listen(const char *host, unsigned port, int *fd, unsigned *bound_port,
                  char *host_text, size_t cap)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *ai = NULL;
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    char text[INET6_ADDRSTRLEN];
    int one = 1, s = -1, rc;
    const void *ip;

    if (port > 65535) {
        fprintf(stderr, "fixture-server: bad port %u\n", port);
        return -1;
    }
    rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc == EAI_BADFLAGS || rc == EAI_NONAME) {
        hints.ai_flags = 0; /* AI_ADDRCONFIG hides ::1 on hosts without a global IPv6 address */
        rc = getaddrinfo(host, NULL, &hints, &ai);
    }
    if (rc != 0) {
        fprintf(stderr, "fixture-server: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    if (ai->ai_family == AF_INET)
        ((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)port);
    else if (ai->ai_family == AF_INET6)
        ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)port);
    else
        goto error_msg;

    s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        goto error_errno;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        goto error_errno;
    if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0)
        goto error_errno;
    if (listen(s, SERVER_BACKLOG) != 0)
        goto error_errno;
    if (getsockname(s, (struct sockaddr *)&addr, &len) != 0)
        goto error_errno;

    if (addr.ss_family == AF_INET) {
        ip = &((struct sockaddr_in *)&addr)->sin_addr;
        *bound_port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
    } else {
        ip = &((struct sockaddr_in6 *)&addr)->sin6_addr;
        *bound_port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    }
    if (inet_ntop(addr.ss_family, ip, text, sizeof(text)) == NULL)
        goto error_errno;
    rc = snprintf(host_text, cap, addr.ss_family == AF_INET6 ? "[%s]" : "%s", text);
    if (rc < 0 || (size_t)rc >= cap)
        goto error_msg;

    freeaddrinfo(ai);
    *fd = s;
    return 0;

error_errno:
    fprintf(stderr, "fixture-server: listen on %s:%u: %s\n", host, port, strerror(errno));
    goto cleanup;
error_msg:
    fprintf(stderr, "fixture-server: cannot listen on %s:%u\n", host, port);
cleanup:
    if (s >= 0)
        (void)close(s);
    freeaddrinfo(ai);
    return -1;
}

/* ---------------------------------------------------------------------------------------------
 * Interruptible sleeping
 * ------------------------------------------------------------------------------------------- */

/* Sleep ms milliseconds or until the server stops. Returns 0, or -1 when stopping. */
static int server_sleep(struct server *srv, unsigned ms)
{
    struct timespec deadline;
    int result = 0;

    if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0)
        return -1;
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_lock(&srv->lock) != 0)
        return -1;
    while (!srv->stopping) {
        int rc = pthread_cond_timedwait(&srv->wake, &srv->lock, &deadline);

        if (rc == ETIMEDOUT)
            break;
        if (rc != 0) {
            result = -1;
            break;
        }
    }
    if (srv->stopping)
        result = -1;
    (void)pthread_mutex_unlock(&srv->lock);
    return result;
}

static bool server_stopping(struct server *srv)
{
    bool stopping = true;

    if (pthread_mutex_lock(&srv->lock) == 0) {
        stopping = srv->stopping;
        (void)pthread_mutex_unlock(&srv->lock);
    }
    return stopping;
}

/* ---------------------------------------------------------------------------------------------
 * Streaming a reply
 * ------------------------------------------------------------------------------------------- */

static uint64_t server_now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --conn-rate: hand out at most a twentieth of a second's worth at once, and wait until the
 * connection's previous pieces have had their time. Returns the cap on this piece, or 0 when
 * stopping. */
static size_t server_pace(struct server_stream *st, size_t max)
{
    unsigned long rate = st->srv->fx->conn_rate;
    size_t piece = rate / 20 > 1024 ? rate / 20 : 1024;
    uint64_t now = server_now_ns();

    if (now < st->conn->next_ns &&
        server_sleep(st->srv, (unsigned)((st->conn->next_ns - now + 999999) / 1000000)) != 0)
        return 0;
    return max < piece ? max : piece;
}

static void server_paced(struct server_stream *st, size_t n)
{
    uint64_t now = server_now_ns();
    uint64_t from = st->conn->next_ns > now ? st->conn->next_ns : now;

    st->conn->next_ns = from + (uint64_t)n * 1000000000u / st->srv->fx->conn_rate;
}

static ssize_t server_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct server_stream *st = cls;
    bool paced = st->srv->fx->conn_rate > 0 && st->conn != NULL;
    ssize_t n;

    if (paced && (max = server_pace(st, max)) == 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;

    if (st->body.trickle_bytes > 0) {
        if (pos > 0 && server_sleep(st->srv, st->body.trickle_ms) != 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (max > st->body.trickle_bytes)
            max = st->body.trickle_bytes;
    }
    if (st->body.body == REPLY_BODY_ENDLESS && server_stopping(st->srv))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = reply_stream_read(&st->body, pos, (uint8_t *)buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (paced)
        server_paced(st, (size_t)n);
    if (st->counted)
        stats_add_bytes(st->srv->fx->stats, (uint64_t)n);
    return n;
}

static void server_stream_free(void *cls)
{
    struct server_stream *st = cls;

    reply_stream_release(&st->body);
    free(st);
}

/* Turn the reply into an MHD response and queue it; the reply is freed either way. */
static enum MHD_Result server_queue(struct server *srv, struct MHD_Connection *conn,
                                    struct reply *r, bool counted)
{
    struct MHD_Response *resp = NULL;
    enum MHD_Result result = MHD_NO;

    if (r->body == REPLY_BODY_NONE) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        struct server_stream *st = malloc(sizeof(*st));
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        uint64_t size = r->length == REPLY_UNKNOWN_LENGTH ? MHD_SIZE_UNKNOWN : r->length;
        size_t block = SERVER_BLOCK_BIG;

        if (st == NULL)
            goto cleanup;
        if (size != MHD_SIZE_UNKNOWN && size < SERVER_BLOCK_BIG)
            block = SERVER_BLOCK_SMALL;
        st->srv = srv;
        st->counted = counted;
        st->conn = ci != NULL ? ci->socket_context : NULL;
        reply_stream_take(&st->body, r);
        resp = MHD_create_response_from_callback(size, block, server_read, st,
                                                 server_stream_free);
        if (resp == NULL) {
            server_stream_free(st);
            goto cleanup;
        }
    }
    if (resp == NULL)
        goto cleanup;
    for (unsigned i = 0; i < r->nheaders; i++)
        if (MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value) != MHD_YES)
            goto cleanup;
    result = MHD_queue_response(conn, r->status, resp);

cleanup:
    if (resp != NULL)
        MHD_destroy_response(resp);
    reply_free(r);
    return result;
}

/* ---------------------------------------------------------------------------------------------
 * libmicrohttpd callbacks
 * ------------------------------------------------------------------------------------------- */

/* Called once per request when its request line arrives, before the headers: the returned
 * context becomes *req_cls and is freed in server_on_completed(). */
static void *server_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    size_t n = strlen(uri);
    struct server_request *req = malloc(sizeof(*req) + n + 1);

    (void)conn;
    if (req == NULL)
        return NULL; /* server_on_request() then refuses the request */
    req->srv = cls;
    req->arrived = false;
    req->counted = false;
    memcpy(req->target, uri, n + 1);
    return req;
}

static enum MHD_Result server_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                         const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **req_cls)
{
    struct server *srv = cls;
    struct server_request *req = *req_cls;
    struct route_request rr;
    struct reply r;
    unsigned delay;

    (void)url; /* already unescaped by MHD; the routes parse the raw target themselves */
    (void)version;
    (void)upload_data;
    if (req == NULL)
        return MHD_NO;

    /* First call, headers parsed: count the arrival. MHD keeps the connection alive only when
     * the response is queued after the whole request was read, i.e. on a later call. */
    if (!req->arrived) {
        req->arrived = true;
        if (!route_is_control(req->target)) {
            const char *range =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);

            req->counted = true;
            if ((stats_request_begin(srv->fx->stats, method, req->target, range != NULL) != 0 ||
                 stats_creds(srv->fx->stats, req->target,
                             MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
                             MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie"),
                             MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                         "Proxy-Authorization")) != 0) &&
                !srv->fx->quiet)
                fprintf(stderr, "fixture-server: out of memory counting %s\n", req->target);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a request body is read and ignored */
        return MHD_YES;
    }

    rr.method = method;
    rr.target = req->target;
    rr.range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    rr.if_range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
    rr.host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    rr.emit = false;

    delay = route_delay_ms(req->target);
    if (delay == 0 && req->counted)
        delay = route_default_delay_ms(srv->fx, req->target);
    if (delay > 0 && server_sleep(srv, delay) != 0)
        return MHD_NO; /* stopping */

    route_answer(srv->fx, &rr, &r);
    return server_queue(srv, conn, &r, req->counted);
}

static void server_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                                enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct server_request *req = *req_cls;

    (void)conn;
    (void)toe;
    if (req == NULL)
        return;
    if (req->counted)
        stats_request_end(srv->fx->stats);
    free(req);
    *req_cls = NULL;
}

static void server_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                                 enum MHD_ConnectionNotificationCode toe)
{
    struct server *srv = cls;

    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        /* calloc: a fresh connection may send at once. NULL (out of memory) goes unpaced. */
        *socket_context = calloc(1, sizeof(struct server_conn));
        stats_connection_open(srv->fx->stats);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        free(*socket_context);
        *socket_context = NULL;
        stats_connection_close(srv->fx->stats);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------------------------- */

struct server *server_start(struct fixture *fx, int fd)
{
    struct server *srv = calloc(1, sizeof(*srv));
    pthread_condattr_t attr;
    bool lock_ok = false, wake_ok = false;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL;
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);

    if (srv == NULL)
        goto error;
    srv->fx = fx;
    if (pthread_mutex_init(&srv->lock, NULL) != 0)
        goto error;
    lock_ok = true;
    if (pthread_condattr_init(&attr) != 0)
        goto error;
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&srv->wake, &attr) != 0) {
        (void)pthread_condattr_destroy(&attr);
        goto error;
    }
    (void)pthread_condattr_destroy(&attr);
    wake_ok = true;

    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        goto error;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (!fx->quiet)
        flags |= MHD_USE_ERROR_LOG;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, server_on_request, srv,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, SERVER_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, SERVER_TIMEOUT_S,
        MHD_OPTION_THREAD_STACK_SIZE, SERVER_STACK_SIZE,
        MHD_OPTION_URI_LOG_CALLBACK, server_on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, server_on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, server_on_connection, srv,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
        fprintf(stderr, "fixture-server: MHD_start_daemon failed\n");
        goto error;
    }
    return srv;

error:
    (void)close(fd);
    if (wake_ok)
        (void)pthread_cond_destroy(&srv->wake);
    if (lock_ok)
        (void)pthread_mutex_destroy(&srv->lock);
    free(srv);
    return NULL;
}

void server_stop(struct server *srv)
{
    if (srv == NULL)
        return;
    if (pthread_mutex_lock(&srv->lock) == 0) {
        srv->stopping = true;
        (void)pthread_cond_broadcast(&srv->wake);
        (void)pthread_mutex_unlock(&srv->lock);
    }
    MHD_stop_daemon(srv->daemon); /* joins every connection thread and closes the socket */
    (void)pthread_cond_destroy(&srv->wake);
    (void)pthread_mutex_destroy(&srv->lock);
    free(srv);
}
