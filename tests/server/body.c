/* body.c - deterministic, position-addressable body bytes shared by the server and --emit. */
#include "body.h"

#include <pthread.h>
#include <string.h>

#define BIG_BLOCK_WORDS (65536 / 8)

static const uint8_t jpeg_magic[4] = { 0xFF, 0xD8, 0xFF, 0xE0 };

static uint64_t big_block[BIG_BLOCK_WORDS];
static pthread_once_t big_once = PTHREAD_ONCE_INIT;

/* SplitMix64's output function: a good 64-bit mixer, so word q of a stream is mix(seed + q*k). */
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Byte order is fixed (little-endian) so bodies are the same on every host. */
static inline void put64le(uint8_t *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &w, sizeof(w));
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(w >> (8 * i));
#endif
}

static inline uint64_t img_word(uint64_t seed, uint64_t q)
{
    return mix64(seed + q * 0x9E3779B97F4A7C15ull);
}

static inline uint64_t big_key(uint64_t block)
{
    return mix64(block + 1);
}

static inline uint64_t big_word(uint64_t q)
{
    return big_block[q % BIG_BLOCK_WORDS] ^ big_key(q / BIG_BLOCK_WORDS);
}

void body_img_fill(uint64_t index, uint64_t off, uint8_t *out, size_t len)
{
    uint64_t seed = mix64(index ^ 0x6A09E667F3BCC908ull);
    uint64_t start = off;
    uint8_t *first = out;

    while (len > 0 && (off & 7) != 0) {
        *out++ = (uint8_t)(img_word(seed, off >> 3) >> (8 * (off & 7)));
        off++;
        len--;
    }
    for (; len >= 8; out += 8, off += 8, len -= 8)
        put64le(out, img_word(seed, off >> 3));
    for (; len > 0; out++, off++, len--)
        *out = (uint8_t)(img_word(seed, off >> 3) >> (8 * (off & 7)));

    for (uint64_t p = start; p < sizeof(jpeg_magic) && p < off; p++)
        first[p - start] = jpeg_magic[p];
}

static void big_block_init(void)
{
    for (uint64_t q = 0; q < BIG_BLOCK_WORDS; q++)
        big_block[q] = mix64(0x3C6EF372FE94F82Bull + q * 0x9E3779B97F4A7C15ull);
}

void body_big_fill(uint64_t off, uint8_t *out, size_t len)
{
    /* pthread_once cannot fail with a valid once-control and init function. */
    (void)pthread_once(&big_once, big_block_init);

    while (len > 0 && (off & 7) != 0) {
        *out++ = (uint8_t)(big_word(off >> 3) >> (8 * (off & 7)));
        off++;
        len--;
    }
    while (len >= 8) {
        /* One key per 64 KiB block, hoisted out of the inner loop. */
        uint64_t key = big_key((off >> 3) / BIG_BLOCK_WORDS);

        for (uint64_t w = (off >> 3) % BIG_BLOCK_WORDS; w < BIG_BLOCK_WORDS && len >= 8;
             w++, out += 8, off += 8, len -= 8)
            put64le(out, big_block[w] ^ key);
    }
    for (; len > 0; out++, off++, len--)
        *out = (uint8_t)(big_word(off >> 3) >> (8 * (off & 7)));
}
