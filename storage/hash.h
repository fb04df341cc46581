/* storage/hash.h: a fast non-cryptographic 64-bit hash (wyhash final 4) for names and sets. */
#ifndef GATHER_STORAGE_HASH_H
#define GATHER_STORAGE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* wyhash, final version 4 (Wang Yi, public domain), seed 0 and its default secret. Reads the
 * input byte by byte as little-endian words, so the value is the same on every platform: names
 * derived from it are stable across machines and runs. Not resistant to chosen collisions. */
uint64_t store_hash64(const void *data, size_t len);

/* Writes to out the first 8 lowercase hex digits (the high 32 bits) of store_hash64 over the
 * bytes of the NUL-terminated string s, then a NUL. Cannot fail. */
void store_hash_hex8(const char *s, char out[9]);

#endif
