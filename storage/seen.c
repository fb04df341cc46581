/* storage/seen.c: the crawl's seen-URL set, an open-addressing table of 64-bit URL hashes. */
#include "storage/seen.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "storage/hash.h"

#define SEEN_MIN_SLOTS 16
/* Grow when (count + 1) / slots would exceed LOAD_NUM / LOAD_DEN. */
#define SEEN_LOAD_NUM 7
#define SEEN_LOAD_DEN 10

struct store_seen {
    uint64_t *slots; /* 0 = empty; a URL whose hash is 0 is stored as 1 */
    size_t mask;     /* number of slots - 1; the number of slots is a power of two */
    size_t count;
};

/* The slot holding key, or the empty slot where it would go. The table is never full. */
static size_t seen_find(const uint64_t *slots, size_t mask, uint64_t key)
{
    size_t i = (size_t)key & mask;

    while (slots[i] != 0 && slots[i] != key)
        i = (i + 1) & mask;
    return i;
}

/* Whether `count` entries fit in `nslots` slots within the load limit. */
static int seen_fits(size_t count, size_t nslots)
{
    return count <= nslots / SEEN_LOAD_DEN * SEEN_LOAD_NUM +
                        nslots % SEEN_LOAD_DEN * SEEN_LOAD_NUM / SEEN_LOAD_DEN;
}

/* Moves every key into a new table of nslots slots. On -ENOMEM the set is unchanged. */
static int seen_resize(store_seen_t *s, size_t nslots)
{
    int result = 0;
    uint64_t *slots = calloc(nslots, sizeof(*slots));

    if (!slots) {
        result = -ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i <= s->mask; i++) {
        if (s->slots[i] != 0)
            slots[seen_find(slots, nslots - 1, s->slots[i])] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->mask = nslots - 1;
cleanup:
    return result;
}

store_seen_t *store_seen_new(size_t expected)
{
    store_seen_t *s = NULL;
    size_t nslots = SEEN_MIN_SLOTS;

    while (!seen_fits(expected, nslots)) {
        if (nslots > SIZE_MAX / 2 / sizeof(uint64_t))
            goto cleanup;
        nslots *= 2;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        goto cleanup;
    s->slots = calloc(nslots, sizeof(*s->slots));
    if (!s->slots) {
        free(s);
        s = NULL;
        goto cleanup;
    }
    s->mask = nslots - 1;
cleanup:
    return s;
}

void store_seen_free(store_seen_t *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s);
}

int store_seen_add(store_seen_t *s, const char *url, size_t len)
{
    assert(s && (url || len == 0));
    return store_seen_add_hash(s, store_hash64(url, len));
}

int store_seen_add_hash(store_seen_t *s, uint64_t hash)
{
    int result = 0;
    uint64_t key = hash ? hash : 1;
    size_t i = seen_find(s->slots, s->mask, key);

    if (s->slots[i] == key)
        goto cleanup; /* already present: never grows */
    if (!seen_fits(s->count + 1, s->mask + 1)) {
        if (s->mask + 1 > SIZE_MAX / 2 / sizeof(uint64_t)) {
            result = -ENOMEM;
            goto cleanup;
        }
        result = seen_resize(s, (s->mask + 1) * 2);
        if (result < 0)
            goto cleanup;
        i = seen_find(s->slots, s->mask, key);
    }
    s->slots[i] = key;
    s->count++;
    result = 1;
cleanup:
    return result;
}

int store_seen_has(const store_seen_t *s, const char *url, size_t len)
{
    assert(s && (url || len == 0));
    return store_seen_has_hash(s, store_hash64(url, len));
}

int store_seen_has_hash(const store_seen_t *s, uint64_t hash)
{
    uint64_t key = hash ? hash : 1;

    return s->slots[seen_find(s->slots, s->mask, key)] == key;
}

size_t store_seen_count(const store_seen_t *s)
{
    return s->count;
}

size_t store_seen_bytes(const store_seen_t *s)
{
    return sizeof(*s) + (s->mask + 1) * sizeof(*s->slots);
}
