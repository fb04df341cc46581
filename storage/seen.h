/* storage/seen.h: a compact set of the URLs a crawl has seen, holding 8 bytes per slot. */
#ifndef GATHER_STORAGE_SEEN_H
#define GATHER_STORAGE_SEEN_H

#include <stddef.h>
#include <stdint.h>

/* The set keeps only the 64-bit store_hash64 of each URL, in an open-addressing table (linear
 * probing, power-of-two size, doubled when an insert would pass 70% load): about 16 MiB per
 * million URLs. Two distinct URLs share a hash with probability about n^2 / 2^65 over the whole
 * crawl (3e-8 for a million URLs); the later one is then taken as already seen. Not thread-safe:
 * owned by the loop thread of one job. */
typedef struct store_seen store_seen_t;

/* A new empty set sized so that `expected` URLs fit without growing (0 is fine). The caller owns
 * it and releases it with store_seen_free. NULL when out of memory. */
store_seen_t *store_seen_new(size_t expected);

/* Frees the set and everything it holds. NULL is accepted. */
void store_seen_free(store_seen_t *s);

/* Adds the len bytes at url (no NUL needed; the bytes are hashed, not kept). Returns 1 if newly
 * added, 0 if already present, -ENOMEM if the table had to grow and could not: the set is then
 * unchanged and the URL not added. */
int store_seen_add(store_seen_t *s, const char *url, size_t len);

/* 1 if the len bytes at url were added before, else 0. */
int store_seen_has(const store_seen_t *s, const char *url, size_t len);

/* The same with a 64-bit hash the caller made (store_hash64 of something else than one string,
 * e.g. a pair): the set is the code base's one hash set (URLs seen, file names taken). */
int store_seen_add_hash(store_seen_t *s, uint64_t hash);
int store_seen_has_hash(const store_seen_t *s, uint64_t hash);

/* The number of distinct URLs added. */
size_t store_seen_count(const store_seen_t *s);

/* The heap memory the set holds, in bytes: its struct and its table. */
size_t store_seen_bytes(const store_seen_t *s);

#endif
