/* http: HTTP(S) transfers on one libcurl multi handle driven by the libuv loop.
 * A client and its requests belong to the loop thread of the scheduler it was made with; only
 * http_easy_setup, http_req_attach, http_on_header, http_req_collect and http_check_range, used
 * by the blocking client, may run on other threads. */
#ifndef NET_HTTP_H
#define NET_HTTP_H

#include <errno.h>
#include <stdint.h>

#include <curl/curl.h>

#include "net/async/future.h"
#include "net/async/list.h"
#include "net/async/sink.h"
#include "net/http/rate.h"
#include "net/http/decode.h"

typedef struct http_opts {
    long connect_timeout_ms;    /* 0: curl's default (300 s) */
    long timeout_ms;            /* whole transfer; 0: none */
    long low_speed_limit;       /* bytes/s; 0: off */
    long low_speed_time;        /* seconds below the limit before aborting */
    long read_timeout_ms;       /* end a transfer that receives nothing for this long; 0: never */
    long max_redirs;            /* -1: do not follow redirects */
    curl_off_t max_filesize;    /* 0: no cap */
    const char *user_agent;     /* borrowed; must outlive the client */
    struct curl_slist *headers; /* borrowed; must outlive the client */
    long max_connections;       /* connections open at once, idle ones included; 0: curl's default */
    int insecure;               /* skip TLS verification */
    int verbose;                /* curl's own trace on stderr */
    /* TLS and proxies: borrowed strings; NULL keeps libcurl's default (its CA bundle, the
     * proxy environment variables http_proxy, https_proxy, ALL_PROXY and NO_PROXY) */
    const char *ca_file;        /* --cacert (or CURL_CA_BUNDLE, SSL_CERT_FILE) */
    const char *ca_path;        /* --capath (or SSL_CERT_DIR) */
    const char *client_cert;    /* --cert: PEM client certificate */
    const char *client_key;     /* --key: its PEM private key; NULL: in client_cert's file */
    const char *proxy;          /* --proxy URL; "": no proxy, whatever the environment says */
    const char *noproxy;        /* --noproxy LIST, instead of NO_PROXY */
    /* rates in bytes/s */
    curl_off_t rate_each;       /* --limit-rate-each: per transfer; 0: none */
    http_rate_t *rate;          /* --limit-rate: the run's shared budget (borrowed); NULL: none */
    /* credentials: sent only where they were given for (http_easy_set_creds) */
    const char *username;       /* --user (borrowed); NULL: none */
    const char *password;       /* with username (borrowed) */
    const char *const *cred_origins; /* origins (http_url_origin) that credentials may go to,
                                      * borrowed; NULL: every URL a request is started for */
    size_t ncred_origins;
    int location_trusted;       /* credentials go to every host, redirect targets included */
    int netrc;                  /* ~/.netrc (or netrc_file) for hosts with no other credentials */
    const char *netrc_file;     /* borrowed; NULL: ~/.netrc */
    struct curl_slist *proxy_headers; /* sent to a proxy only, never to a server (borrowed) */
    CURLSH *share;              /* the job's cookie jar, DNS cache and TLS sessions (borrowed;
                                 * net/http/share.h); NULL: no cookies, and the async client
                                 * shares DNS and TLS sessions in a share of its own */
    /* what went over the wire, for --har and --warc-file: both turn on curl's debug callback
     * (CURLOPT_VERBOSE), which costs on every transfer, so they are off unless asked for */
    int capture;                /* record each exchange's headers in http_req_t.hops */
    struct http_tap *tap;       /* and stream its raw body bytes here (borrowed; async client
                                 * only: its calls come from the loop thread); NULL: none */
    int workers;                /* --workers: run the async client's transfers on this many
                                 * threads of their own (net/http/workers.h); 0 or 1: the loop
                                 * drives them itself. A tap forces 1 (its calls must come from
                                 * the loop thread). */
} http_opts_t;

typedef struct http_client http_client_t;
typedef struct http_req http_req_t;

/* One HTTP exchange on the wire: a transfer has one, plus one per redirect curl followed.
 * Recorded only with http_opts_t.capture; a proxy's CONNECT is not an exchange of the transfer. */
#define HTTP_HOP_HEAD_MAX (320 * 1024)  /* above curl's own 300 KiB cap on response headers */
typedef struct http_hop {
    char *url;                  /* the URL requested (malloc'd) */
    char *ip;                   /* the peer's address, NULL if unknown (malloc'd) */
    int64_t wall_us;            /* when the request went out (µs since the epoch) */
    char *req_head;             /* request line and headers as sent, blank line included */
    size_t req_len;
    char *resp_head;            /* status line and headers as received, blank line included
                                 * (a 1xx interim answer is dropped); NULL: no answer */
    size_t resp_len;
    int resp_done;              /* the blank line ending the final answer's headers came */
    long status;                /* from the status line; 0 before it */
    curl_off_t body_bytes;      /* body bytes as received: chunked framing and content coding
                                 * included (what a WARC response record holds) */
    int truncated;              /* the head did not fit HTTP_HOP_HEAD_MAX: the rest was dropped */
} http_hop_t;

/* A consumer of the raw exchanges (storage/warc.c), called on the loop thread of the async client:
 * body for each piece of a hop's body exactly as it came off the socket (before any decoding),
 * once the hop's headers are complete; done once per transfer, before its future settles, when
 * r->hops is final; hold before curl hands the body to the sink: 1 pauses the transfer, and the
 * tap calls http_req_resume(r) once it can take more. tap_state in the request is the tap's. */
typedef struct http_tap {
    void (*body)(struct http_tap *t, http_req_t *r, size_t hop, const char *data, size_t len);
    void (*done)(struct http_tap *t, http_req_t *r);
    int (*hold)(struct http_tap *t, http_req_t *r);
} http_tap_t;

/* Errors a transfer can end with besides curl's: the server broke the protocol. A negative errno
 * like every other error (the disk never reports EPROTO, so it cannot be confused with one). */
#define HTTP_EBADRANGE (-EPROTO)    /* a 206 nobody asked for, or one at the wrong offset */

/* Body bytes of a 2xx final answer go to a sink (net/async/sink.h), in order. Its write returns
 * HTTP_SINK_OK when the bytes were taken, HTTP_SINK_PAUSE when they were not (the transfer pauses;
 * after http_req_resume the same bytes come again), or a negative errno to abort the transfer (it
 * then ends with CURLE_WRITE_ERROR and sink_error set). */
#define HTTP_SINK_OK NET_SINK_OK
#define HTTP_SINK_PAUSE NET_SINK_PAUSE
typedef net_sink_t http_sink_t;

/* Phase durations in microseconds from the transfer's start, as CURLINFO_*_TIME_T gives them. */
typedef struct http_timing {
    uint64_t start_ns;          /* uv_hrtime() when the request was started */
    int64_t start_wall_us;      /* wall clock (µs since the epoch) at the same moment */
    curl_off_t queue_us;        /* waiting for a connection slot (CURLINFO_QUEUE_TIME_T n/a: 0) */
    curl_off_t dns_us, connect_us, tls_us, pretransfer_us, first_byte_us, total_us, redirect_us;
} http_timing_t;

#define HTTP_HEADER_VALUE_MAX 256
/* A Content-Disposition names a file: room for a 255-byte name percent-encoded (RFC 8187). */
#define HTTP_DISPOSITION_MAX 2048

/* One transfer. Embedded in the caller's struct; set url/sink (and optionally range, headers),
 * start it, and keep it alive until its future settles. */
struct http_req {
    /* in */
    const char *url;            /* borrowed until the future settles */
    http_sink_t *sink;
    const char *range;          /* CURLOPT_RANGE, e.g. "1000-"; NULL for the whole body */
    curl_off_t range_start;     /* with range: the offset a 206 must start at (checked) */
    curl_off_t max_bytes;       /* 0: no cap; a longer 2xx body (decoded) fails with -EFBIG (a 206
                                 * to a range counts from range_start: the cap is on the whole body) */
    struct curl_slist *headers; /* request headers (borrowed), instead of the client's */
    long follow;                /* 0: the client's --max-redirs; < 0: do not follow; > 0: at most */
    int decode;                 /* ask for gzip/deflate and give the sink the decoded bytes (with
                                 * bounded memory: net/http/decode.h). 0: ask for identity, and a
                                 * body the server encodes anyway reaches the sink as sent, so
                                 * byte offsets (Range) are those of the bytes stored. */
    /* out, valid once the future settles */
    long status;                /* final HTTP status, 0 if none was received */
    CURLcode code;
    int sink_error;             /* the sink's negative errno when it aborted the transfer */
    curl_off_t bytes;           /* body bytes as received, encoded if the server encoded them
                                 * (including discarded non-2xx bodies): what Content-Length and
                                 * a connection's progress count */
    curl_off_t content_length;  /* of the final answer, -1 if unknown (known from its first byte) */
    long redirects;
    long os_errno;              /* errno of the last failed connect or socket call */
    long proxy_status;          /* a proxy's answer to CONNECT (CURLINFO_HTTP_CONNECTCODE), 0 */
    int cert_refused;           /* a 400 whose page names an SSL certificate (nginx's answer
                                 * when a client certificate is required, or bad) */
    char error[CURL_ERROR_SIZE];
    char content_type[HTTP_HEADER_VALUE_MAX];
    char etag[HTTP_HEADER_VALUE_MAX];
    char last_modified[HTTP_HEADER_VALUE_MAX];
    char retry_after[HTTP_HEADER_VALUE_MAX];
    char content_range[HTTP_HEADER_VALUE_MAX];
    char *effective_url;        /* malloc'd; freed by http_req_cleanup */
    char *primary_ip;           /* malloc'd; freed by http_req_cleanup */
    char *redirect_url;         /* a 3xx's Location, resolved; malloc'd; NULL if none */
    char *disposition;          /* the final answer's Content-Disposition (at most
                                 * HTTP_DISPOSITION_MAX bytes); malloc'd; NULL if none */
    char http_version[12];
    http_coding_t decoded;      /* the coding the body was decoded from (HTTP_CODING_NONE: as sent) */
    http_timing_t timing;
    /* private */
    CURL *easy;
    http_client_t *client;
    future_t *fut;
    int paused;
    int is_2xx;                 /* -1 until the first body byte of the final answer */
    int in_headers;             /* a status line came, the blank line that ends its headers not yet */
    curl_off_t body_bytes;      /* bytes of the final 2xx body taken by the sink (decoded ones when
                                 * decoded: what max_bytes caps and what a file holds) */
    list_t rate_link;           /* in the client's queue of transfers waiting for a budget */
    int rate_wait;              /* paused by --limit-rate[-each] (the sink's pause is `paused`) */
    curl_off_t rate_seen;       /* received bytes already charged to the budgets */
    uint64_t rate_tat;          /* --limit-rate-each: this transfer's budget (rate.h) */
    uint64_t rate_wake;         /* uv_hrtime() from which its own budget lets it go on */
    uint64_t idle_since_ns;     /* uv_hrtime() of the last byte either way (--read-timeout) */
    curl_off_t seen_dl, seen_ul;/* curl's progress counts at idle_since_ns */
    int read_timed_out;         /* ended by --read-timeout (reported as CURLE_OPERATION_TIMEDOUT) */
    int fd_short;               /* a socket could not be opened: the descriptor table was full */
    int fd_waits;               /* times the transfer waited for descriptors and started again */
    struct http_req *fd_next;   /* in the client's list of transfers waiting for descriptors */
    http_coding_t coding;       /* the final answer's Content-Encoding */
    http_decoder_t *dec;        /* while a decoded body streams */
    size_t dec_skip;            /* input of the paused write that the decoder already consumed */
    struct curl_slist *own_headers; /* the headers less the credentials, when they were withheld */
    /* with http_opts_t.capture: the exchanges in order (malloc'd; freed by http_req_cleanup and
     * by the next start); valid once the future settles */
    http_hop_t *hops;
    size_t nhops;
    int capture_skip;           /* inside a proxy's CONNECT exchange: not recorded */
    int capture_verbose;        /* --verbose too: the debug callback prints curl's trace */
    void *tap_state;            /* the tap's, per transfer */
    struct http_wx *wx;         /* on a worker thread (net/http/workers.c): its record, which
                                 * only the client's loop thread reads */
};

/* A transfer that cannot open its socket because the process or the system is out of descriptors
 * (EMFILE, ENFILE) has not failed: it waits HTTP_FD_WAIT_MS and starts again, at most
 * HTTP_FD_WAITS_MAX times, in every mode. Descriptors free up as other transfers end. */
#define HTTP_FD_WAIT_MS 100
#define HTTP_FD_WAITS_MAX 100

/* A client: one CURLM, one CURLSH (DNS + TLS sessions), a uv_timer_t and a uv_poll_t per socket;
 * or, with opts->workers > 1, that many threads each with such a client of its own, the futures
 * still settling on s's loop (net/http/workers.h). Returns NULL and sets *result to a negative
 * errno on failure (the loop must then run again, as after http_client_close). */
http_client_t *http_client_new(sched_t *s, const http_opts_t *opts, int *result);

/* Closes the client; every transfer must have settled. The loop must run again to finish the
 * uv_close callbacks, which free the memory. */
void http_client_close(http_client_t *c);

/* Number of transfers in flight. */
long http_client_active(const http_client_t *c);

/* The number of transfer workers (1 when the loop drives its transfers itself), and how many
 * transfers each was given so far in ran[0..n-1] (with no workers: ran[0], all of them). */
size_t http_client_workers(const http_client_t *c, unsigned long *ran, size_t n);

/* Starts r. The future resolves with r once the transfer has ended, whatever the outcome (inspect
 * r->code and r->status); it fails only with -ENOMEM or -EINVAL. Cancelling it aborts the
 * transfer (r->code = CURLE_ABORTED_BY_CALLBACK); with workers the transfer is on another thread,
 * so future_cancel returns -EBUSY and the future is cancelled once the worker has stopped it. NULL when out of memory. The caller owns the
 * returned reference; r is borrowed until the future settles. */
future_t *http_req_start(http_client_t *c, http_req_t *r);

/* Resumes a transfer its sink paused. May call the sink synchronously with the held bytes.
 * http_req_resume_cb is the same with a void * (a consumer's drain hook, store_writer_on_drain). */
void http_req_resume(http_req_t *r);
void http_req_resume_cb(void *r);

/* 1 when the transfer ended with a complete 2xx body. */
int http_req_ok(const http_req_t *r);

/* 1 when r failed because the server's headers never ended within libcurl's limits (a header
 * line over 100 KiB, or over 300 KiB of headers): a hostile or broken server, not a retry's
 * business. */
int http_req_headers_too_large(const http_req_t *r);

/* One line saying why r failed ("HTTP 404", "connection refused", "timed out after 30 s"), into
 * buf; returns buf. A failure to reach a proxy names the proxy ("cannot connect to proxy
 * http://127.0.0.1:3128: connection refused"), not the URL's host. */
const char *http_req_describe(const http_req_t *r, const http_opts_t *opts, char *buf, size_t n);

/* The delay a Retry-After header asks for (seconds or an HTTP-date), in ms; -1 if none or
 * unparsable. now is the current time in seconds since the epoch. */
long http_retry_after_ms(const http_req_t *r, long long now);

/* The debug callback behind http_opts_t.capture (any thread that runs r): records r's hops and
 * feeds the client's tap. Public for the blocking modes, which set it through http_easy_setup. */
int http_on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata);

/* Frees r's hops (a new start does it too). */
void http_req_hops_free(http_req_t *r);

/* Frees what the request allocated (URLs, IP); r may then be reused. */
void http_req_cleanup(http_req_t *r);

/* Applies the options every gather transfer uses (protocols, redirects, timeouts, TLS,
 * compression) to an easy handle; shared by the async client and the blocking modes. */
CURLcode http_easy_setup(CURL *easy, const http_opts_t *opts);

/* Credentials (Authorization, Cookie and Proxy-Authorization headers, --user) go only to the
 * origins they were given for, as curl sends them: to the URLs the user named (o->cred_origins
 * NULL: every URL a request is started for, as `get` runs them) or, in a crawl, to the origins
 * of its start URLs; not to other hosts a page links to, nor (libcurl's rule, which
 * location_trusted lifts) to another origin a redirect leads to. Cookies from the jar go where
 * libcurl's cookie rules send them, and Proxy-Authorization only to a proxy.
 *
 * http_url_origin writes "scheme://host:port" of url (host lowercased, port explicit) into
 * buf[n]: 0, -EINVAL for a URL curl cannot parse, -ENAMETOOLONG when it does not fit. */
#define HTTP_ORIGIN_MAX 300
int http_url_origin(const char *url, char *buf, size_t n);

/* 1 when credentials may go to url under o, else 0. */
int http_creds_allowed(const http_opts_t *o, const char *url);

/* The one place where a request's credentials are decided: sets CURLOPT_HTTPHEADER to headers
 * when url may have credentials, else to a copy without Authorization, Cookie and
 * Proxy-Authorization lines (put in *owned: the caller frees it with curl_slist_free_all once
 * the transfer is over; NULL when no copy was made), and CURLOPT_USERNAME/PASSWORD to o's or to
 * none. Any thread (the blocking modes call it too). */
CURLcode http_easy_set_creds(CURL *easy, const http_opts_t *o, const char *url,
                             struct curl_slist *headers, struct curl_slist **owned);

/* Checks a 206 against the Range asked for; -1 (and sink_error) if it does not fit. Shared with
 * the blocking modes. */
int http_check_range(http_req_t *r);

/* Points easy's body and header callbacks at r (status checks, error bodies discarded, Range and
 * size checks, then r->sink), for a caller that runs the handle itself (the blocking modes). */
CURLcode http_req_attach(http_req_t *r, CURL *easy);

/* Header callback shared with the blocking modes: records status-dependent headers into r. */
size_t http_on_header(char *buf, size_t size, size_t nitems, void *userdata);

/* Copies what curl knows of a finished transfer (status, timings, URL) into r. A transfer the
 * progress check ended (http_req_idle_check) gets CURLE_OPERATION_TIMEDOUT. */
void http_req_collect(http_req_t *r, CURL *easy, CURLcode code);

/* The --read-timeout check, for a curl progress callback given the counts curl passes it: 1
 * when nothing was received or sent for read_timeout_ms (r->read_timed_out is then set and the
 * callback must return non-zero to abort the transfer), else 0. A transfer its sink paused is
 * waiting for our disk, not for the server: that time does not count. Any thread that runs r. */
int http_req_idle_check(http_req_t *r, long read_timeout_ms, curl_off_t dlnow, curl_off_t ulnow);

#endif
