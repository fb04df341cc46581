/* body.h - deterministic, position-addressable body bytes shared by the server and --emit. */
#ifndef FIXTURE_BODY_H
#define FIXTURE_BODY_H

#include <stddef.h>
#include <stdint.h>

/* Every generator is a pure function of (identity, byte offset): any slice can be produced
 * without the bytes before it, which is what Range, streaming and --emit all rely on. */

/* Bytes [off, off + len) of the body of /img/<index>: the JPEG magic FF D8 FF E0, then
 * bytes of a counter-based PRNG seeded from index. The body of size N is the first N bytes of
 * this infinite stream, so it depends only on index and N. */
void body_img_fill(uint64_t index, uint64_t off, uint8_t *out, size_t len);

/* Bytes [off, off + len) of every /big body (and of /lie/endless): a fixed 64 KiB random block
 * XORed with a key derived from the 64 KiB block number, so each byte depends on its position
 * yet costs one load and one XOR per 8 bytes. */
void body_big_fill(uint64_t off, uint8_t *out, size_t len);

#endif
