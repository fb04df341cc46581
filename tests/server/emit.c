/* emit.c - --emit: write the exact body a GET of a target is served with, for byte comparisons. */
#include "emit.h"

#include <stdint.h>
#include <stdlib.h>

#include "reply.h"
#include "route.h"

#define EMIT_CHUNK ((size_t)256 * 1024)

int emit_target(const struct fixture *fx, const char *target, FILE *out)
{
    struct route_request req = { .method = "GET", .target = target, .emit = true };
    struct reply_stream stream = { .body = REPLY_BODY_NONE };
    struct reply r;
    uint8_t *chunk = NULL;
    uint64_t pos = 0;
    int result = 1;

    reply_init(&r);
    if (route_is_control(target)) {
        fprintf(stderr, "fixture-server: %s describes a running server, not a fixed body\n",
                target);
        goto cleanup;
    }
    route_answer(fx, &req, &r);
    if (r.status != 200 && r.status != 206) {
        fprintf(stderr, "fixture-server: %s answers %u, not 200\n", target, r.status);
        goto cleanup;
    }
    if (r.body == REPLY_BODY_ENDLESS) {
        fprintf(stderr, "fixture-server: %s has no end\n", target);
        goto cleanup;
    }
    reply_stream_take(&stream, &r);
    chunk = malloc(EMIT_CHUNK);
    if (chunk == NULL) {
        fprintf(stderr, "fixture-server: out of memory\n");
        goto cleanup;
    }
    for (;;) {
        ssize_t n = reply_stream_read(&stream, pos, chunk, EMIT_CHUNK);

        if (n <= 0)
            break; /* the end, or the cut where the server drops the connection */
        if (fwrite(chunk, 1, (size_t)n, out) != (size_t)n) {
            perror("fixture-server: write");
            goto cleanup;
        }
        pos += (uint64_t)n;
    }
    if (fflush(out) != 0) {
        perror("fixture-server: write");
        goto cleanup;
    }
    result = 0;

cleanup:
    free(chunk);
    reply_stream_release(&stream);
    reply_free(&r);
    return result;
}
