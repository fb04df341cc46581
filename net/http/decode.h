/* http_decoder: a streaming gzip/deflate decoder whose consumer may refuse output, for bodies
 * gather asked to receive compressed (crawled pages, robots.txt, sitemaps).
 *
 * Why not libcurl's own decoding: libcurl decodes a whole network read (up to CURLOPT_BUFFERSIZE
 * encoded bytes) in one go, and when the write callback pauses, it keeps every decoded byte of
 * that read in memory (7.88: up to 64 MiB, then "Out of memory"). At 322:1 that is 41 MB per
 * paused transfer; a gzip bomb is worse. Here decoding stops the moment the consumer refuses a
 * piece: a paused transfer holds one output buffer (HTTP_DECODE_OUT) plus the encoded bytes
 * libcurl keeps, whatever the ratio.
 *
 * One decoder belongs to one transfer and is used by the thread that runs it (the loop thread,
 * or a pool thread in the blocking modes); it holds no global state. */
#ifndef NET_HTTP_DECODE_H
#define NET_HTTP_DECODE_H

#include <errno.h>
#include <stddef.h>

/* Decoded bytes handed to the consumer at most at once (and held while it refuses them). */
#define HTTP_DECODE_OUT (32 * 1024)

/* A body that is not a valid gzip/deflate stream (or ends before the stream does). */
#define HTTP_EBADCODING (-EBADMSG)

typedef enum http_coding {
    HTTP_CODING_NONE,       /* no Content-Encoding, or identity */
    HTTP_CODING_GZIP,       /* gzip, x-gzip */
    HTTP_CODING_DEFLATE,    /* deflate: zlib-wrapped as RFC 9110 says, or raw as some servers send */
    HTTP_CODING_OTHER,      /* anything else (br, zstd, a list of codings): passed through as sent */
} http_coding_t;

/* The coding a Content-Encoding value names (len bytes, surrounding spaces allowed). */
http_coding_t http_coding_parse(const char *value, size_t len);

/* The consumer: returns 0 when it took all len bytes, NET_SINK_PAUSE (1) when it took none (they
 * are offered again, unchanged, on the next http_decoder_write), or a negative errno to stop. */
typedef int (*http_decode_out_fn)(void *arg, const char *data, size_t len);

typedef struct http_decoder http_decoder_t;

/* A decoder for GZIP or DEFLATE; NULL when out of memory. Freed with http_decoder_free. */
http_decoder_t *http_decoder_new(http_coding_t coding);
void http_decoder_free(http_decoder_t *d);

/* Decodes in[0..len) into out(arg, ...). First offers again the output a previous call left
 * refused. Sets *used to the input bytes consumed (each byte is consumed exactly once over all
 * calls: the caller passes the rest again after a pause). Returns 0 when all input is consumed
 * and all output taken; 1 (NET_SINK_PAUSE) when out refused a piece (it is kept, and *used may
 * be anything up to len); HTTP_EBADCODING for a corrupt stream; -ENOMEM; or out's negative
 * error. Bytes after the end of the stream (trailing garbage) are consumed and ignored; a gzip
 * body of several members is decoded as one. */
int http_decoder_write(http_decoder_t *d, const char *in, size_t len, size_t *used,
                       http_decode_out_fn out, void *arg);

/* 1 when the stream reached its end and every decoded byte was taken (the body is complete), 0
 * when more was expected or output is still held for a sink that refused it. */
int http_decoder_complete(const http_decoder_t *d);

/* zlib's reason for the last HTTP_EBADCODING ("incorrect header check"), or "". */
const char *http_decoder_error(const http_decoder_t *d);

#endif
