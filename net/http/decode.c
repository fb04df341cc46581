/* http_decoder: zlib inflate driven one output buffer at a time, so a refusing consumer stops
 * the decoding where it stands (see decode.h for why libcurl's decoding is not used). */
#include "net/http/decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "net/async/sink.h"

enum dec_state {
    DEC_HEAD,       /* deflate only: the first two bytes decide zlib-wrapped or raw */
    DEC_BODY,       /* inside a stream */
    DEC_END,        /* a stream ended; gzip: another member may follow */
    DEC_TRAILER,    /* past the end: whatever else arrives is ignored */
};

struct http_decoder {
    z_stream z;
    http_coding_t coding;
    enum dec_state state;
    int inited;                     /* z is initialised (inflateEnd owed) */
    int more;                       /* the last inflate filled the buffer: output may be left */
    unsigned char head[2];          /* deflate: the first bytes, until the wrapping is known */
    size_t nhead;
    size_t out_off, out_len;        /* refused output, buf[out_off..out_len) */
    char error[64];
    unsigned char buf[HTTP_DECODE_OUT];
};

http_coding_t http_coding_parse(const char *v, size_t len)
{
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' || v[len - 1] == '\n'))
        len--;
    if (len == 0 || (len == 8 && strncasecmp(v, "identity", 8) == 0))
        return HTTP_CODING_NONE;
    if ((len == 4 && strncasecmp(v, "gzip", 4) == 0) || (len == 6 && strncasecmp(v, "x-gzip", 6) == 0))
        return HTTP_CODING_GZIP;
    if (len == 7 && strncasecmp(v, "deflate", 7) == 0)
        return HTTP_CODING_DEFLATE;
    return HTTP_CODING_OTHER;
}

static int dec_init(http_decoder_t *d);

http_decoder_t *http_decoder_new(http_coding_t coding)
{
    http_decoder_t *d;

    if (coding != HTTP_CODING_GZIP && coding != HTTP_CODING_DEFLATE)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->coding = coding;
    d->state = DEC_HEAD;
    if (coding == HTTP_CODING_GZIP && dec_init(d) < 0) {    /* gzip needs no look ahead */
        free(d);
        return NULL;
    }
    return d;
}

void http_decoder_free(http_decoder_t *d)
{
    if (!d)
        return;
    if (d->inited)
        inflateEnd(&d->z);
    free(d);
}

int http_decoder_complete(const http_decoder_t *d)
{
    /* output still held (refused by a paused sink, never flushed) is a body cut short */
    return (d->state == DEC_END || d->state == DEC_TRAILER) && d->out_off == d->out_len && !d->more;
}

const char *http_decoder_error(const http_decoder_t *d)
{
    return d->error;
}

static int dec_fail(http_decoder_t *d, const char *why)
{
    snprintf(d->error, sizeof(d->error), "%s", why ? why : "corrupt data");
    return HTTP_EBADCODING;
}

/* gzip: zlib's automatic header detection (gzip, or zlib as some servers mislabel it);
 * deflate: zlib-wrapped when the first two bytes are a zlib header, else raw. */
static int dec_init(http_decoder_t *d)
{
    int bits = MAX_WBITS + 32;
    int rc;

    if (d->coding == HTTP_CODING_DEFLATE)
        bits = (d->head[0] & 0x0f) == Z_DEFLATED && ((d->head[0] << 8) | d->head[1]) % 31 == 0
               ? MAX_WBITS : -MAX_WBITS;
    rc = inflateInit2(&d->z, bits);
    if (rc == Z_MEM_ERROR)
        return -ENOMEM;
    if (rc != Z_OK)
        return dec_fail(d, d->z.msg);
    d->inited = 1;
    d->state = DEC_BODY;
    return 0;
}

/* Offers the refused output again: 0 when taken, else the consumer's answer. */
static int dec_flush(http_decoder_t *d, http_decode_out_fn out, void *arg)
{
    int rc;

    if (d->out_off == d->out_len)
        return 0;
    rc = out(arg, (const char *)d->buf + d->out_off, d->out_len - d->out_off);
    if (rc == 0)
        d->out_off = d->out_len = 0;
    return rc;
}

/* Inflates in[0..len) until it is consumed and no output is left, or the consumer refuses. */
static int dec_inflate(http_decoder_t *d, const unsigned char *in, size_t len, size_t *used,
                       http_decode_out_fn out, void *arg)
{
    int rc;

    while ((*used < len || d->more) && d->state == DEC_BODY) {
        size_t avail = len - *used;
        size_t produced;

        d->z.next_in = (unsigned char *)in + *used;
        d->z.avail_in = avail > 1u << 30 ? 1u << 30 : (uInt)avail;
        d->z.next_out = d->buf;
        d->z.avail_out = sizeof(d->buf);
        rc = inflate(&d->z, Z_NO_FLUSH);
        *used += (avail > 1u << 30 ? 1u << 30 : avail) - d->z.avail_in;
        produced = sizeof(d->buf) - d->z.avail_out;
        d->more = d->z.avail_out == 0;
        if (rc == Z_MEM_ERROR)
            return -ENOMEM;
        if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && produced == 0))
            return dec_fail(d, d->z.msg);
        if (rc == Z_STREAM_END) {
            d->state = DEC_END;
            d->more = 0;
        }
        if (produced > 0) {
            d->out_off = 0;
            d->out_len = produced;
            if ((rc = dec_flush(d, out, arg)) != 0)
                return rc;
        } else if (rc == Z_BUF_ERROR) {
            d->more = 0;         /* no progress: zlib wants more input */
            break;
        }
    }
    return 0;
}

int http_decoder_write(http_decoder_t *d, const char *data, size_t len, size_t *used,
                       http_decode_out_fn out, void *arg)
{
    const unsigned char *in = (const unsigned char *)data;
    int rc;

    *used = 0;
    if ((rc = dec_flush(d, out, arg)) != 0)
        return rc;
    for (;;) {
        switch (d->state) {
        case DEC_HEAD: {
            size_t h = 0;
            while (d->nhead < 2 && *used < len)
                d->head[d->nhead++] = in[(*used)++];
            if (d->nhead < 2)
                return 0;
            if ((rc = dec_init(d)) < 0)
                return rc;
            /* The two bytes are the stream's first: inflate them before the rest. */
            if ((rc = dec_inflate(d, d->head, 2, &h, out, arg)) != 0)
                return rc;
            break;
        }
        case DEC_BODY:
            if ((rc = dec_inflate(d, in, len, used, out, arg)) != 0)
                return rc;
            if (d->state == DEC_BODY)
                return 0;            /* all input consumed, all output taken */
            break;
        case DEC_END:
            if (*used == len)
                return 0;
            /* Another gzip member follows (gzip -c a b): go on decoding it as the same body. */
            if (d->coding == HTTP_CODING_GZIP && in[*used] == 0x1f) {
                if (inflateReset(&d->z) != Z_OK)
                    return dec_fail(d, d->z.msg);
                d->state = DEC_BODY;
                break;
            }
            d->state = DEC_TRAILER;
            break;
        case DEC_TRAILER:
            *used = len;
            return 0;
        }
    }
}
