/* storage/hash.c: wyhash final 4, written out for store_hash64 and store_hash_hex8. */
#include "storage/hash.h"

#include <string.h>

/* wyhash's default secret (wyhash.h, final version 4, `_wyp`). */
static const uint64_t hash_secret[4] = {
    0x2d358dccaa6c78a5ull, 0x8bb84b93962eacc9ull, 0x4b33a62ed433d4a3ull, 0x4d5a2da51de1aa47ull,
};

/* The 128-bit product of *a and *b: low half to *a, high half to *b. */
static void hash_mum(uint64_t *a, uint64_t *b)
{
    __uint128_t r = (__uint128_t)*a * *b;

    *a = (uint64_t)r;
    *b = (uint64_t)(r >> 64);
}

static uint64_t hash_mix(uint64_t a, uint64_t b)
{
    hash_mum(&a, &b);
    return a ^ b;
}

/* Little-endian loads spelled out byte by byte; compilers turn them into one load on x86. */
static uint64_t hash_r8(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static uint64_t hash_r4(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

/* 1 to 3 bytes: first, middle and last byte. */
static uint64_t hash_r3(const uint8_t *p, size_t k)
{
    return (uint64_t)p[0] << 16 | (uint64_t)p[k >> 1] << 8 | p[k - 1];
}

uint64_t store_hash64(const void *data, size_t len)
{
    const uint8_t *p = data;
    const uint64_t *s = hash_secret;
    uint64_t seed = hash_mix(s[0], s[1]); /* seed 0: 0 ^ mix(0 ^ s0, s1) */
    uint64_t a;
    uint64_t b;

    if (len <= 16) {
        if (len >= 4) {
            size_t mid = (len >> 3) << 2;

            a = hash_r4(p) << 32 | hash_r4(p + mid);
            b = hash_r4(p + len - 4) << 32 | hash_r4(p + len - 4 - mid);
        } else if (len > 0) {
            a = hash_r3(p, len);
            b = 0;
        } else {
            a = 0;
            b = 0;
        }
    } else {
        size_t i = len;

        if (i >= 48) {
            uint64_t see1 = seed;
            uint64_t see2 = seed;

            do {
                seed = hash_mix(hash_r8(p) ^ s[1], hash_r8(p + 8) ^ seed);
                see1 = hash_mix(hash_r8(p + 16) ^ s[2], hash_r8(p + 24) ^ see1);
                see2 = hash_mix(hash_r8(p + 32) ^ s[3], hash_r8(p + 40) ^ see2);
                p += 48;
                i -= 48;
            } while (i >= 48);
            seed ^= see1 ^ see2;
        }
        while (i > 16) {
            seed = hash_mix(hash_r8(p) ^ s[1], hash_r8(p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        /* The last 16 bytes, overlapping what was already mixed when i < 16. */
        a = hash_r8(p + i - 16);
        b = hash_r8(p + i - 8);
    }
    a ^= s[1];
    b ^= seed;
    hash_mum(&a, &b);
    return hash_mix(a ^ s[0] ^ (uint64_t)len, b ^ s[1]);
}

void store_hash_hex8(const char *s, char out[9])
{
    static const char digits[] = "0123456789abcdef";
    uint64_t h = store_hash64(s, strlen(s));

    for (int i = 0; i < 8; i++)
        out[i] = digits[(h >> (60 - 4 * i)) & 0xf];
    out[8] = '\0';
}
