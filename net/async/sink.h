/* sink: where a producer (an HTTP transfer) pushes a byte stream, in order, with backpressure.
 * The runtime's type, so consumers (storage/'s writer, an in-memory buffer) need not know the
 * producer. Called on the loop thread. */
#ifndef NET_ASYNC_SINK_H
#define NET_ASYNC_SINK_H

#include <stddef.h>

enum { NET_SINK_OK = 0, NET_SINK_PAUSE = 1 };

typedef struct net_sink net_sink_t;
struct net_sink {
    /* Returns NET_SINK_OK when the bytes were taken, NET_SINK_PAUSE when they were not (the
     * producer pauses; once the consumer calls its drain hook, the same bytes come again), or a
     * negative errno to abort the stream. */
    int (*write)(net_sink_t *sink, const char *data, size_t len);
};

#endif
