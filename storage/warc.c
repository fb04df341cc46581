/* store_warc: WARC/1.1 records of every HTTP exchange, written on the pool (see warc.h). */
#include "storage/warc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "storage/hash.h"

#define WARC_IO_BUF (64 * 1024)
#define WARC_ID_SIZE 48             /* "<urn:uuid:" 36 ">" NUL */
#define WARC_DATE_SIZE 24
#define WARC_REVISIT_PROFILE "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

/* ---- exchanges ------------------------------------------------------------------------------- */

struct warc_chunk {
    struct warc_chunk *next;
    size_t len;
    char data[];
};

/* One exchange, from its first body byte (or its end) until its records are on disk. The fields
 * under "loop" are the loop thread's; those under "pool" belong to whichever job runs, one at a
 * time (a job's start and end order them with the loop). */
struct warc_x {
    store_warc_t *w;
    struct warc_x *next;            /* in w's queue of exchanges to write */
    /* loop */
    http_req_t *req;                /* while the transfer runs, for the resume; NULL after */
    size_t hop;
    int ended;                      /* no more body: queued once the spool is idle */
    int holding;                    /* refused the transfer: resume it once drained */
    struct warc_chunk *pend, **pend_tail;   /* body not yet handed to a spool job */
    size_t pend_len;
    int spooling;                   /* the body went past STORE_WARC_MEM_MAX: it goes to disk */
    int spool_busy;
    int lost;                       /* a piece of the body could not be kept (out of memory) */
    uv_work_t spool_work;
    /* pool (the spool job, then the record writer) */
    struct warc_chunk *work;        /* the chunks the running spool job writes */
    int spool_fd;
    int spool_error;
    uint64_t body_len;              /* bytes in the spool, or in pend when not spooling */
    /* what the records say (copied from the hop) */
    char *url, *ip;
    int64_t wall_us;
    long status;
    char *req_head, *resp_head;
    size_t req_len, resp_len;
    int truncated;
};

struct warc_seen {                  /* a payload already written, for revisits */
    struct warc_seen *next;
    char digest[STORE_WARC_DIGEST_SIZE];
    char date[WARC_DATE_SIZE];
    char url[];
};

#define WARC_SEEN_BUCKETS 4096

struct warc_req {                   /* the tap's state per transfer */
    struct warc_x *cur;
    size_t next;                    /* first hop not yet turned into an exchange */
};

struct store_warc {
    http_tap_t tap;
    uv_loop_t *loop;
    char *path, *cdx_path, *dir, *filename;
    int fd;
    uint64_t offset;                /* the end of the last whole record */
    int error;                      /* the first write error */
    char info_id[WARC_ID_SIZE];
    z_stream z;                     /* the record writer's deflate state (warc_member_begin) */
    int z_ready, z_level;
    /* the record writer: one job at a time over the queue */
    struct warc_x *q_head, **q_tail;
    struct warc_x *writing;
    uv_work_t work;
    /* pool: the record writer's */
    struct warc_seen *seen[WARC_SEEN_BUCKETS];
    char **cdx;
    size_t ncdx, cdx_cap;
    int want_cdx;
};

/* ---- small pieces ---------------------------------------------------------------------------- */

void store_warc_digest_format(const unsigned char sha1[20], char out[STORE_WARC_DIGEST_SIZE])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;

    memcpy(out, "sha1:", 5);
    o = 5;
    /* 160 bits are exactly 32 groups of 5: no padding. */
    for (int bit = 0; bit < 160; bit += 5) {
        int byte = bit / 8, shift = bit % 8;
        unsigned v = (unsigned)sha1[byte] << 8 | (byte + 1 < 20 ? sha1[byte + 1] : 0);

        out[o++] = alphabet[(v >> (11 - shift)) & 31];
    }
    out[o] = '\0';
}

int store_warc_surt(const char *url, char *buf, size_t n)
{
    const char *p = strstr(url, "://"), *host, *end, *rest;
    size_t o = 0, hlen;
    int ip = 1;

    host = p ? p + 3 : url;
    end = host + strcspn(host, "/?#");
    rest = end;
    {   /* drop userinfo */
        const char *at = memchr(host, '@', (size_t)(end - host));

        if (at)
            host = at + 1;
    }
    hlen = (size_t)(end - host);
    {   /* a default port says nothing */
        const char *colon = memchr(host, ':', hlen);
        size_t name_len = colon ? (size_t)(colon - host) : hlen;
        const char *port = colon ? colon + 1 : NULL;
        size_t port_len = colon ? (size_t)(end - port) : 0;

        if (port && ((port_len == 2 && !memcmp(port, "80", 2)) || (port_len == 3 && !memcmp(port, "443", 3))))
            port = NULL;
        if (name_len > 4 && !strncasecmp(host, "www.", 4)) {
            host += 4;
            name_len -= 4;
        }
        for (size_t i = 0; i < name_len; i++)
            if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9')))
                ip = 0;
        /* Labels reversed, joined by commas (an IPv4 address stays in order, as surt does). */
        if (ip) {
            for (size_t i = 0; i < name_len && o + 1 < n; i++)
                buf[o++] = host[i] == '.' ? ',' : host[i];
        } else {
            size_t stop = name_len;

            while (stop > 0) {
                size_t start = stop;

                while (start > 0 && host[start - 1] != '.')
                    start--;
                for (size_t i = start; i < stop && o + 1 < n; i++)
                    buf[o++] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
                if (start > 0 && o + 1 < n)
                    buf[o++] = ',';
                stop = start > 0 ? start - 1 : 0;
            }
        }
        if (port && o + 1 + port_len < n) {
            buf[o++] = ':';
            memcpy(buf + o, port, port_len);
            o += port_len;
        }
    }
    if (o + 1 < n)
        buf[o++] = ')';
    if (*rest != '/' && o + 1 < n)
        buf[o++] = '/';
    for (const char *q = rest; *q && *q != '#'; q++) {
        if (o + 1 >= n)
            return -ENAMETOOLONG;
        buf[o++] = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
    }
    if (o >= n)
        return -ENAMETOOLONG;
    buf[o] = '\0';
    return 0;
}

static void warc_date(int64_t wall_us, char out[WARC_DATE_SIZE], char cdx_ts[15])
{
    time_t t = (time_t)(wall_us / 1000000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, WARC_DATE_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (cdx_ts)
        strftime(cdx_ts, 15, "%Y%m%d%H%M%S", &tm);
}

static int warc_record_id(char out[WARC_ID_SIZE])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return -EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    snprintf(out, WARC_ID_SIZE,
             "<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x>",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

static int warc_write_all(int fd, const void *data, size_t len, uint64_t off)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* ---- one gzip member per record --------------------------------------------------------------- */

struct warc_member {
    store_warc_t *w;
    z_stream *z;                    /* the writer's, reset for each member */
    uint64_t start, at;             /* where the member starts, where the next output goes */
    int error;
    int stored;                     /* switched to plain stored blocks (warc_feed_body) */
    unsigned char out[WARC_IO_BUF];
};

static int warc_member_begin(struct warc_member *m, store_warc_t *w, int level)
{
    m->w = w;
    m->z = &w->z;
    m->start = m->at = w->offset;
    m->error = 0;
    m->stored = 0;
    /* One deflate state for every record: setting one up clears 256 KiB, which cost more than
     * compressing a small record. windowBits 15 + 16: a gzip wrapper, a gzip member each. */
    if (!w->z_ready) {
        memset(&w->z, 0, sizeof(w->z));
        if (deflateInit2(&w->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return -ENOMEM;
        w->z_ready = 1;
        w->z_level = level;
    } else if (deflateReset(&w->z) != Z_OK) {
        return -EIO;
    }
    if (level != w->z_level) {
        if (deflateParams(&w->z, level, Z_DEFAULT_STRATEGY) != Z_OK)   /* nothing pending yet */
            return -EIO;
        w->z_level = level;
    }
    return 0;
}

static int warc_member_feed(struct warc_member *m, const void *data, size_t len, int flush)
{
    m->z->next_in = (unsigned char *)data;
    m->z->avail_in = (uInt)len;
    do {
        int zr;
        size_t have;

        m->z->next_out = m->out;
        m->z->avail_out = sizeof(m->out);
        zr = deflate(m->z, flush);
        if (zr == Z_STREAM_ERROR)
            return m->error = -EIO;
        have = sizeof(m->out) - m->z->avail_out;
        if (have > 0 && !m->error) {
            int result = warc_write_all(m->w->fd, m->out, have, m->at);

            if (result < 0)
                m->error = result;
            m->at += have;
        }
        if (flush == Z_FINISH && zr == Z_STREAM_END)
            break;
    } while (m->z->avail_out == 0 || (flush == Z_FINISH));
    return m->error;
}

/* Ends the member: on success the file's end moves past it, on failure it is cut off again so
 * that the file holds whole records only. */
static int warc_member_end(struct warc_member *m, uint64_t *off, uint64_t *len)
{
    int result = m->error ? m->error : warc_member_feed(m, "", 0, Z_FINISH);

    if (result < 0) {
        if (ftruncate(m->w->fd, (off_t)m->start) < 0)
            result = -errno;
        return result;
    }
    if (off)
        *off = m->start;
    if (len)
        *len = m->at - m->start;
    m->w->offset = m->at;
    return 0;
}

/* ---- the body, wherever it is ---------------------------------------------------------------- */

/* Calls fn over the body of x in order: the spool file or the chunks in memory. */
static int warc_body_each(struct warc_x *x, int (*fn)(void *arg, const void *data, size_t len), void *arg)
{
    int result = 0;

    if (x->spool_fd >= 0) {
        /* On the heap, not in thread-local storage: a static TLS block is set up (touched) in
         * every thread of the process, pool threads included, whether or not it writes WARC. */
        unsigned char *buf = malloc(WARC_IO_BUF);
        uint64_t off = 0;

        if (!buf)
            return -ENOMEM;
        while (off < x->body_len) {
            ssize_t n = pread(x->spool_fd, buf, WARC_IO_BUF, (off_t)off);

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                result = n < 0 ? -errno : -EIO;
                break;
            }
            if ((result = fn(arg, buf, (size_t)n)) < 0)
                break;
            off += (uint64_t)n;
        }
        free(buf);
        return result;
    }
    for (struct warc_chunk *c = x->pend; c; c = c->next)
        if ((result = fn(arg, c->data, c->len)) < 0)
            return result;
    return 0;
}

struct warc_digests {
    EVP_MD_CTX *block, *payload;
};

static int warc_hash_body(void *arg, const void *data, size_t len)
{
    struct warc_digests *d = arg;

    if (EVP_DigestUpdate(d->block, data, len) != 1 || EVP_DigestUpdate(d->payload, data, len) != 1)
        return -EIO;
    return 0;
}

/* A body that deflate cannot shrink (images, archives, already compressed) is stored in plain
 * deflate blocks from its second MiB on: compressing 1 GiB of noise costs seconds for nothing. */
#define WARC_PROBE_BYTES (1024 * 1024)

static int warc_feed_body(void *arg, const void *data, size_t len)
{
    struct warc_member *m = arg;
    uLong before = m->z->total_in;
    int result = warc_member_feed(m, data, len, Z_NO_FLUSH);

    if (result == 0 && !m->stored && before < WARC_PROBE_BYTES && m->z->total_in >= WARC_PROBE_BYTES &&
        m->z->total_out > m->z->total_in / 10 * 9) {
        m->stored = 1;
        m->z->next_in = NULL;
        m->z->avail_in = 0;
        for (;;) {      /* deflateParams flushes what is pending: out of room, it says Z_BUF_ERROR */
            int zr;

            m->z->next_out = m->out;
            m->z->avail_out = sizeof(m->out);
            zr = deflateParams(m->z, Z_NO_COMPRESSION, Z_DEFAULT_STRATEGY);
            m->w->z_level = Z_NO_COMPRESSION;
            if (sizeof(m->out) - m->z->avail_out > 0) {
                size_t have = sizeof(m->out) - m->z->avail_out;

                if ((result = warc_write_all(m->w->fd, m->out, have, m->at)) < 0)
                    return m->error = result;
                m->at += have;
            }
            if (zr == Z_OK)
                break;
            if (zr != Z_BUF_ERROR)
                return m->error = -EIO;
        }
    }
    return result;
}

static int warc_digest_final(EVP_MD_CTX *c, char out[STORE_WARC_DIGEST_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_DigestFinal_ex(c, md, &n) != 1 || n != 20)
        return -EIO;
    store_warc_digest_format(md, out);
    return 0;
}

/* sha1 of [a, b]; out "sha1:...". */
static int warc_digest2(const void *a, size_t alen, const void *b, size_t blen, char out[STORE_WARC_DIGEST_SIZE])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int result = -ENOMEM;

    if (!c)
        return -ENOMEM;
    if (EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(c, a, alen) != 1 ||
        EVP_DigestUpdate(c, b, blen) != 1)
        result = -EIO;
    else
        result = warc_digest_final(c, out);
    EVP_MD_CTX_free(c);
    return result;
}

/* ---- records --------------------------------------------------------------------------------- */

static void warc_head_mime(const char *head, size_t len, char *out, size_t n);
static int warc_head_has(const char *head, size_t len, const char *name);

/* A body that is compressed already (a content coding, images but SVG, audio, video, archives,
 * WOFF2, PDF): deflate would spend most of the writer's time on it for nothing. */
static int warc_incompressible(const struct warc_x *x)
{
    static const char *const types[] = { "image/", "audio/", "video/", "application/zip",
                                         "application/gzip", "application/x-gzip", "font/woff2",
                                         "application/pdf", NULL };
    char mime[128];

    if (warc_head_has(x->resp_head, x->resp_len, "content-encoding"))
        return 1;
    warc_head_mime(x->resp_head, x->resp_len, mime, sizeof(mime));
    if (!strncasecmp(mime, "image/svg", 9))
        return 0;
    for (size_t i = 0; types[i]; i++)
        if (!strncasecmp(mime, types[i], strlen(types[i])))
            return 1;
    return 0;
}

/* Writes one record: the WARC header `hdr` with Content-Length, then head, then the body of x
 * when body is set, then the two CRLFs that end a record. */
static int warc_record(store_warc_t *w, const char *hdr, const char *head, size_t head_len,
                       struct warc_x *body, uint64_t *off, uint64_t *len)
{
    struct warc_member m;
    char cl[64];
    uint64_t block = head_len + (body ? body->body_len : 0);
    int result;

    /* One writer compresses every exchange of the run: a body compressed already goes in stored
     * blocks, a large one at the fastest level (and in stored blocks from its second MiB if it
     * turns out not to shrink: warc_feed_body). */
    int level = body && body->body_len > 0 && warc_incompressible(body) ? Z_NO_COMPRESSION :
                body && body->spool_fd >= 0 ? Z_BEST_SPEED : Z_DEFAULT_COMPRESSION;

    if ((result = warc_member_begin(&m, w, level)) < 0)
        return result;
    snprintf(cl, sizeof(cl), "Content-Length: %llu\r\n\r\n", (unsigned long long)block);
    if (warc_member_feed(&m, hdr, strlen(hdr), Z_NO_FLUSH) == 0 &&
        warc_member_feed(&m, cl, strlen(cl), Z_NO_FLUSH) == 0 &&
        warc_member_feed(&m, head, head_len, Z_NO_FLUSH) == 0 &&
        (!body || (m.error = warc_body_each(body, warc_feed_body, &m)) == 0))
        warc_member_feed(&m, "\r\n\r\n", 4, Z_NO_FLUSH);
    return warc_member_end(&m, off, len);
}

static struct warc_seen **warc_seen_slot(store_warc_t *w, const char *digest)
{
    struct warc_seen **p = &w->seen[store_hash64(digest, strlen(digest)) % WARC_SEEN_BUCKETS];

    while (*p && strcmp((*p)->digest, digest) != 0)
        p = &(*p)->next;
    return p;
}

/* 1 when the head has a header called name (lowercase). */
static int warc_head_has(const char *head, size_t len, const char *name)
{
    size_t nl = strlen(name);
    const char *p = head, *end = head + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));

        if ((size_t)((eol ? eol : end) - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl))
            return 1;
        p = eol ? eol + 1 : end;
    }
    return 0;
}

/* The Content-Type of a response head, without parameters, into out. */
static void warc_head_mime(const char *head, size_t len, char *out, size_t n)
{
    const char *p = head, *end = head + len;

    snprintf(out, n, "unk");
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);

        if (l > 13 && !strncasecmp(p, "content-type:", 13)) {
            const char *v = p + 13;
            size_t vl = l - 13;

            while (vl > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            vl = strcspn(v, ";\r\n") < vl ? strcspn(v, ";\r\n") : vl;
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl > 0 && vl < n) {
                memcpy(out, v, vl);
                out[vl] = '\0';
            }
            return;
        }
        p = eol ? eol + 1 : end;
    }
}

/* A JSON string body: the characters that must be escaped are; the rest is copied. */
static void warc_json_str(char *out, size_t n, const char *s)
{
    size_t o = 0;

    for (; *s && o + 7 < n; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, n - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

static void warc_cdx_add(store_warc_t *w, struct warc_x *x, const char *digest, uint64_t off,
                         uint64_t len)
{
    char surt[2048], ts[15], date[WARC_DATE_SIZE], mime[128], url[4096], *line;
    int n;

    if (!w->want_cdx || store_warc_surt(x->url, surt, sizeof(surt)) < 0)
        return;
    if (w->ncdx == w->cdx_cap) {
        size_t cap = w->cdx_cap ? w->cdx_cap * 2 : 256;
        char **p = realloc(w->cdx, cap * sizeof(*p));

        if (!p)
            return;
        w->cdx = p;
        w->cdx_cap = cap;
    }
    warc_date(x->wall_us, date, ts);
    warc_head_mime(x->resp_head, x->resp_len, mime, sizeof(mime));
    warc_json_str(url, sizeof(url), x->url);
    {
        char m[256];

        warc_json_str(m, sizeof(m), mime);
        n = asprintf(&line, "%s %s {\"url\": \"%s\", \"mime\": \"%s\", \"status\": \"%ld\", "
                     "\"digest\": \"%s\", \"length\": \"%llu\", \"offset\": \"%llu\", "
                     "\"filename\": \"%s\"}", surt, ts, url, m, x->status, digest,
                     (unsigned long long)len, (unsigned long long)off, w->filename);
    }
    if (n >= 0)
        w->cdx[w->ncdx++] = line;
}

/* The records of one exchange, on the pool: request, then response (or revisit). */
static int warc_write_exchange(store_warc_t *w, struct warc_x *x)
{
    char req_id[WARC_ID_SIZE], resp_id[WARC_ID_SIZE], date[WARC_DATE_SIZE];
    char block_digest[STORE_WARC_DIGEST_SIZE], payload_digest[STORE_WARC_DIGEST_SIZE];
    char ip_line[128] = "", trunc_line[64] = "", *hdr = NULL;
    struct warc_digests d = { NULL, NULL };
    struct warc_seen **slot = NULL;
    uint64_t off = 0, len = 0;
    int result, revisit = 0;

    if (x->spool_error)
        return x->spool_error;
    if ((result = warc_record_id(req_id)) < 0 || (result = warc_record_id(resp_id)) < 0)
        return result;
    warc_date(x->wall_us, date, NULL);
    if (x->ip)
        snprintf(ip_line, sizeof(ip_line), "WARC-IP-Address: %s\r\n", x->ip);
    if (x->truncated)
        snprintf(trunc_line, sizeof(trunc_line), "WARC-Truncated: disconnect\r\n");
    /* Digests first: the header carries them, and a known payload becomes a revisit. */
    result = -ENOMEM;
    if (!(d.block = EVP_MD_CTX_new()) || !(d.payload = EVP_MD_CTX_new()))
        goto cleanup;
    result = -EIO;
    if (EVP_DigestInit_ex(d.block, EVP_sha1(), NULL) != 1 || EVP_DigestInit_ex(d.payload, EVP_sha1(), NULL) != 1 ||
        EVP_DigestUpdate(d.block, x->resp_head, x->resp_len) != 1)
        goto cleanup;
    if ((result = warc_body_each(x, warc_hash_body, &d)) < 0 ||
        (result = warc_digest_final(d.block, block_digest)) < 0 ||
        (result = warc_digest_final(d.payload, payload_digest)) < 0)
        goto cleanup;
    if (x->body_len > 0 && !x->truncated) {
        slot = warc_seen_slot(w, payload_digest);
        revisit = *slot != NULL;
    }
    /* the request */
    if (x->req_head) {
        char req_block[STORE_WARC_DIGEST_SIZE], req_payload[STORE_WARC_DIGEST_SIZE];

        if ((result = warc_digest2(x->req_head, x->req_len, "", 0, req_block)) < 0 ||
            (result = warc_digest2("", 0, "", 0, req_payload)) < 0)
            goto cleanup;
        if (asprintf(&hdr, "WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: %s\r\n"
                     "WARC-Date: %s\r\nWARC-Target-URI: %s\r\n%sWARC-Concurrent-To: %s\r\n"
                     "WARC-Warcinfo-ID: %s\r\nWARC-Block-Digest: %s\r\nWARC-Payload-Digest: %s\r\n"
                     "Content-Type: application/http;msgtype=request\r\n",
                     req_id, date, x->url, ip_line, resp_id, w->info_id, req_block, req_payload) < 0) {
            hdr = NULL;
            result = -ENOMEM;
            goto cleanup;
        }
        if ((result = warc_record(w, hdr, x->req_head, x->req_len, NULL, NULL, NULL)) < 0)
            goto cleanup;
        free(hdr);
        hdr = NULL;
    }
    /* the response, or a revisit of an identical payload: the headers only */
    if (revisit) {
        char rev_block[STORE_WARC_DIGEST_SIZE];

        if ((result = warc_digest2(x->resp_head, x->resp_len, "", 0, rev_block)) < 0)
            goto cleanup;
        if (asprintf(&hdr, "WARC/1.1\r\nWARC-Type: revisit\r\nWARC-Record-ID: %s\r\n"
                     "WARC-Date: %s\r\nWARC-Target-URI: %s\r\n%sWARC-Concurrent-To: %s\r\n"
                     "WARC-Warcinfo-ID: %s\r\nWARC-Profile: %s\r\nWARC-Refers-To-Target-URI: %s\r\n"
                     "WARC-Refers-To-Date: %s\r\nWARC-Block-Digest: %s\r\nWARC-Payload-Digest: %s\r\n"
                     "Content-Type: application/http;msgtype=response\r\n",
                     resp_id, date, x->url, ip_line, req_id, w->info_id, WARC_REVISIT_PROFILE,
                     (*slot)->url, (*slot)->date, rev_block, payload_digest) < 0) {
            hdr = NULL;
            result = -ENOMEM;
            goto cleanup;
        }
        result = warc_record(w, hdr, x->resp_head, x->resp_len, NULL, &off, &len);
    } else {
        if (asprintf(&hdr, "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: %s\r\n"
                     "WARC-Date: %s\r\nWARC-Target-URI: %s\r\n%sWARC-Concurrent-To: %s\r\n"
                     "WARC-Warcinfo-ID: %s\r\nWARC-Block-Digest: %s\r\nWARC-Payload-Digest: %s\r\n%s"
                     "Content-Type: application/http;msgtype=response\r\n",
                     resp_id, date, x->url, ip_line, req_id, w->info_id, block_digest, payload_digest,
                     trunc_line) < 0) {
            hdr = NULL;
            result = -ENOMEM;
            goto cleanup;
        }
        result = warc_record(w, hdr, x->resp_head, x->resp_len, x, &off, &len);
        if (result == 0 && slot && !*slot) {
            struct warc_seen *s = malloc(sizeof(*s) + strlen(x->url) + 1);

            if (s) {          /* out of memory: a later copy is written whole, which is fine */
                s->next = NULL;
                memcpy(s->digest, payload_digest, sizeof(s->digest));
                memcpy(s->date, date, sizeof(s->date));
                strcpy(s->url, x->url);
                *slot = s;
            }
        }
    }
    if (result == 0)
        warc_cdx_add(w, x, payload_digest, off, len);
cleanup:
    free(hdr);
    EVP_MD_CTX_free(d.block);
    EVP_MD_CTX_free(d.payload);
    return result;
}

/* ---- the record writer (one job at a time) --------------------------------------------------- */

static void warc_x_free(struct warc_x *x)
{
    struct warc_chunk *c, *next;

    for (c = x->pend; c; c = next) {
        next = c->next;
        free(c);
    }
    for (c = x->work; c; c = next) {
        next = c->next;
        free(c);
    }
    if (x->spool_fd >= 0)
        close(x->spool_fd);
    free(x->url);
    free(x->ip);
    free(x->req_head);
    free(x->resp_head);
    free(x);
}

/* One job writes every exchange queued when it started, in order: a loop turn per batch, not
 * per record, when many small transfers end at once. */
static void warc_writer_run(uv_work_t *req)
{
    store_warc_t *w = req->data;
    int result;

    for (struct warc_x *x = w->writing; x && !w->error; x = x->next)   /* after an error the file
                                                                        * is short of a record: stop */
        if ((result = warc_write_exchange(w, x)) < 0 && result != -ENOMEM && w->error == 0)
            w->error = result;
}

static void warc_writer_next(store_warc_t *w);

static void warc_writer_free_batch(store_warc_t *w)
{
    while (w->writing) {
        struct warc_x *x = w->writing;

        w->writing = x->next;
        warc_x_free(x);
    }
}

static void warc_writer_done(uv_work_t *req, int status)
{
    store_warc_t *w = req->data;

    (void)status;
    warc_writer_free_batch(w);
    warc_writer_next(w);
}

static void warc_writer_next(store_warc_t *w)
{
    if (w->writing || !w->q_head)
        return;
    w->writing = w->q_head;
    w->q_head = NULL;
    w->q_tail = &w->q_head;
    w->work.data = w;
    if (uv_queue_work(w->loop, &w->work, warc_writer_run, warc_writer_done) < 0) {
        /* Cannot happen with a live loop; the records are lost rather than written on the loop. */
        w->error = w->error ? w->error : -EIO;
        warc_writer_free_batch(w);
    }
}

static void warc_enqueue(struct warc_x *x)
{
    store_warc_t *w = x->w;

    *w->q_tail = x;
    w->q_tail = &x->next;
    warc_writer_next(w);
}

/* ---- spooling a large body ------------------------------------------------------------------- */

static int warc_spool_open(store_warc_t *w)
{
    int fd = open(w->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == ENOENT)) {
        char tmpl[4096];

        snprintf(tmpl, sizeof(tmpl), "%s/.gather-warc-XXXXXX", w->dir);
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd >= 0)
            unlink(tmpl);             /* nothing to clean up however the job ends */
    }
    return fd < 0 ? -errno : fd;
}

static void warc_spool_run(uv_work_t *req)
{
    struct warc_x *x = req->data;
    int fd;

    if (x->spool_error)
        return;
    if (x->spool_fd < 0) {
        if ((fd = warc_spool_open(x->w)) < 0) {
            x->spool_error = fd;
            return;
        }
        x->spool_fd = fd;
    }
    for (struct warc_chunk *c = x->work; c; c = c->next) {
        int result = warc_write_all(x->spool_fd, c->data, c->len, x->body_len);

        if (result < 0) {
            x->spool_error = result;
            return;
        }
        x->body_len += c->len;
    }
}

static void warc_spool_next(struct warc_x *x);

static void warc_spool_done(uv_work_t *req, int status)
{
    struct warc_x *x = req->data;
    struct warc_chunk *c, *next;

    (void)status;
    for (c = x->work; c; c = next) {
        next = c->next;
        free(c);
    }
    x->work = NULL;
    x->spool_busy = 0;
    warc_spool_next(x);
}

/* Hands what is pending to a spool job, or, once the body has ended and the spool is idle,
 * hands the exchange to the record writer; resumes a held transfer once there is room. */
static void warc_spool_next(struct warc_x *x)
{
    if (x->spool_busy)
        return;
    if (x->pend && x->spooling) {
        x->work = x->pend;
        x->pend = NULL;
        x->pend_tail = &x->pend;
        x->pend_len = 0;
        x->spool_busy = 1;
        x->spool_work.data = x;
        if (uv_queue_work(x->w->loop, &x->spool_work, warc_spool_run, warc_spool_done) < 0) {
            x->spool_busy = 0;
            x->spool_error = -EIO;
        } else if (x->holding && x->req) {
            x->holding = 0;
            http_req_resume(x->req);
        }
        return;
    }
    if (x->holding && x->req) {
        /* The resume may end the transfer from inside it: that end then queues x itself. */
        x->holding = 0;
        http_req_resume(x->req);
        return;
    }
    if (x->ended)
        warc_enqueue(x);
}

/* ---- the tap --------------------------------------------------------------------------------- */

/* url without "user:password@": the archive names a resource, and replay tools look it up by
 * that name; a password has no place in it (the request record keeps what was sent). */
static char *warc_url_without_userinfo(const char *url)
{
    const char *host = strstr(url, "://");
    const char *at, *end;
    char *out;

    if (!host)
        return strdup(url);
    host += 3;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    if (!at)
        return strdup(url);
    while (memchr(at + 1, '@', (size_t)(end - at - 1)))   /* the last '@' ends the userinfo */
        at = memchr(at + 1, '@', (size_t)(end - at - 1));
    if (asprintf(&out, "%.*s%s", (int)(host - url), url, at + 1) < 0)
        return NULL;
    return out;
}

static struct warc_x *warc_x_new(store_warc_t *w, http_req_t *r, size_t hop)
{
    const http_hop_t *h = &r->hops[hop];
    struct warc_x *x = calloc(1, sizeof(*x));

    if (!x)
        return NULL;
    x->w = w;
    x->req = r;
    x->hop = hop;
    x->pend_tail = &x->pend;
    x->spool_fd = -1;
    x->url = warc_url_without_userinfo(h->url ? h->url : r->url);
    x->ip = h->ip ? strdup(h->ip) : NULL;
    x->wall_us = h->wall_us;
    x->status = h->status;
    if (h->req_head && (x->req_head = malloc(h->req_len + 1))) {
        memcpy(x->req_head, h->req_head, h->req_len + 1);    /* its NUL too */
        x->req_len = h->req_len;
    }
    if ((x->resp_head = malloc(h->resp_len + 1))) {
        memcpy(x->resp_head, h->resp_head, h->resp_len + 1);
        x->resp_len = h->resp_len;
    }
    if (!x->url || !x->resp_head || (h->ip && !x->ip) || (h->req_head && !x->req_head)) {
        warc_x_free(x);
        return NULL;
    }
    return x;
}

static void warc_x_end(struct warc_x *x, int truncated)
{
    x->truncated = truncated || x->lost;
    x->ended = 1;
    x->req = NULL;
    x->holding = 0;
    warc_spool_next(x);
}

static struct warc_req *warc_req_state(http_req_t *r)
{
    if (!r->tap_state)
        r->tap_state = calloc(1, sizeof(struct warc_req));
    return r->tap_state;
}

/* Hops before `upto` that had no body: their records have only headers. */
static void warc_flush_hops(store_warc_t *w, http_req_t *r, struct warc_req *st, size_t upto)
{
    for (; st->next < upto; st->next++) {
        const http_hop_t *h = &r->hops[st->next];
        struct warc_x *x;

        if (!h->resp_head || !h->resp_done)
            continue;                       /* no answer: nothing to archive */
        if ((x = warc_x_new(w, r, st->next)))
            warc_x_end(x, 0);
    }
}

static void warc_tap_body(http_tap_t *t, http_req_t *r, size_t hop, const char *data, size_t len)
{
    store_warc_t *w = (store_warc_t *)((char *)t - offsetof(store_warc_t, tap));
    struct warc_req *st = warc_req_state(r);
    struct warc_chunk *c;
    struct warc_x *x;

    if (!st)
        return;
    if (st->cur && st->cur->hop != hop) {
        warc_x_end(st->cur, 0);
        st->cur = NULL;
    }
    if (!st->cur) {
        warc_flush_hops(w, r, st, hop);
        st->cur = warc_x_new(w, r, hop);
        st->next = hop + 1;
    }
    if (!(x = st->cur))
        return;
    if (!(c = malloc(sizeof(*c) + len))) {
        x->lost = 1;
        return;
    }
    c->next = NULL;
    c->len = len;
    memcpy(c->data, data, len);
    *x->pend_tail = c;
    x->pend_tail = &c->next;
    x->pend_len += len;
    if (!x->spooling) {
        x->body_len += len;             /* in memory: pend is the body */
        if (x->body_len > STORE_WARC_MEM_MAX) {
            x->spooling = 1;            /* from now on body_len counts what the spool holds */
            x->body_len = 0;
        }
    }
    if (x->spooling)
        warc_spool_next(x);
}

static int warc_tap_hold(http_tap_t *t, http_req_t *r)
{
    struct warc_req *st = r->tap_state;

    (void)t;
    if (!st || !st->cur || !st->cur->spooling || st->cur->pend_len <= STORE_WARC_PEND_MAX)
        return 0;
    st->cur->holding = 1;
    return 1;
}

static void warc_tap_done(http_tap_t *t, http_req_t *r)
{
    store_warc_t *w = (store_warc_t *)((char *)t - offsetof(store_warc_t, tap));
    struct warc_req *st = warc_req_state(r);

    if (!st)
        return;
    if (st->cur) {
        /* The last hop's body is whole only when the transfer completed. */
        int truncated = r->code != CURLE_OK && st->cur->hop + 1 == r->nhops;

        warc_x_end(st->cur, truncated);
        st->cur = NULL;
    }
    warc_flush_hops(w, r, st, r->nhops);
    free(st);
    r->tap_state = NULL;
}

/* ---- open and close -------------------------------------------------------------------------- */

store_warc_t *store_warc_open(const char *name, int cdx, const char *software, const char *info,
                              int *result)
{
    store_warc_t *w = calloc(1, sizeof(*w));
    size_t n = strlen(name);
    int have_ext = n > 8 && !strcmp(name + n - 8, ".warc.gz");
    char *slash, *fields = NULL, *hdr = NULL, date[WARC_DATE_SIZE];
    struct timespec now;

    *result = -ENOMEM;
    if (!w)
        return NULL;
    w->fd = -1;
    w->q_tail = &w->q_head;
    w->want_cdx = cdx;
    w->tap.body = warc_tap_body;
    w->tap.done = warc_tap_done;
    w->tap.hold = warc_tap_hold;
    if (asprintf(&w->path, "%s%s", name, have_ext ? "" : ".warc.gz") < 0) {
        w->path = NULL;
        goto error;
    }
    if (cdx && asprintf(&w->cdx_path, "%.*s.cdx", (int)(have_ext ? n - 8 : n), name) < 0) {
        w->cdx_path = NULL;
        goto error;
    }
    if (!(w->dir = strdup(w->path)))
        goto error;
    slash = strrchr(w->dir, '/');
    if (slash == w->dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(w->dir, ".");
    w->filename = strrchr(w->path, '/') ? strrchr(w->path, '/') + 1 : w->path;
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        *result = -errno;
        goto error;
    }
    /* The warcinfo record is written here, before the loop runs: nothing waits on it. */
    if ((*result = warc_record_id(w->info_id)) < 0)
        goto error;
    clock_gettime(CLOCK_REALTIME, &now);
    warc_date((int64_t)now.tv_sec * 1000000, date, NULL);
    *result = -ENOMEM;
    if (asprintf(&fields, "software: %s\r\nformat: WARC File Format 1.1\r\n"
                 "conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n%s",
                 software, info ? info : "") < 0) {
        fields = NULL;
        goto error;
    }
    if (asprintf(&hdr, "WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\n"
                 "WARC-Filename: %s\r\nContent-Type: application/warc-fields\r\n",
                 w->info_id, date, w->filename) < 0) {
        hdr = NULL;
        goto error;
    }
    if ((*result = warc_record(w, hdr, fields, strlen(fields), NULL, NULL, NULL)) < 0)
        goto error;
    free(fields);
    free(hdr);
    *result = 0;
    return w;

error:
    free(fields);
    free(hdr);
    if (w->z_ready)
        deflateEnd(&w->z);
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w->cdx_path);
    free(w->dir);
    free(w);
    return NULL;
}

const char *store_warc_path(const store_warc_t *w)
{
    return w->path;
}

void store_warc_start(store_warc_t *w, uv_loop_t *loop)
{
    w->loop = loop;
}

http_tap_t *store_warc_tap(store_warc_t *w)
{
    return &w->tap;
}

static int warc_cdx_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int warc_cdx_write(store_warc_t *w)
{
    FILE *f = fopen(w->cdx_path, "we");
    int result = 0;

    if (!f)
        return -errno;
    if (w->ncdx > 0)
        qsort(w->cdx, w->ncdx, sizeof(*w->cdx), warc_cdx_cmp);
    for (size_t i = 0; i < w->ncdx && result == 0; i++)
        if (fprintf(f, "%s\n", w->cdx[i]) < 0)
            result = -EIO;
    if (fclose(f) != 0 && result == 0)
        result = -errno;
    return result;
}

int store_warc_close(store_warc_t *w)
{
    int result;

    if (!w)
        return 0;
    result = w->error;
    if (w->want_cdx) {
        int r2 = warc_cdx_write(w);

        if (result == 0)
            result = r2;
    }
    if (close(w->fd) < 0 && result == 0)
        result = -errno;
    if (w->z_ready)
        deflateEnd(&w->z);
    for (size_t i = 0; i < WARC_SEEN_BUCKETS; i++) {
        struct warc_seen *s = w->seen[i], *next;

        for (; s; s = next) {
            next = s->next;
            free(s);
        }
    }
    for (size_t i = 0; i < w->ncdx; i++)
        free(w->cdx[i]);
    free(w->cdx);
    /* Exchanges still queued mean the loop ended early (it cannot with work queued). */
    while (w->q_head) {
        struct warc_x *x = w->q_head;

        w->q_head = x->next;
        warc_x_free(x);
    }
    free(w->path);
    free(w->cdx_path);
    free(w->dir);
    free(w);
    return result;
}
