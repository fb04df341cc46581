/* server.h - the libmicrohttpd daemon: listening socket, per-request accounting, reply streaming. */
#ifndef FIXTURE_SERVER_H
#define FIXTURE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "fixture.h"

#define SERVER_CONNECTION_LIMIT 4096u

struct server;

/* Bind a listening TCP socket to host (numeric IPv4/IPv6 or a name; the first address wins) and
 * port (0 = ephemeral). On success returns 0 and sets *fd (owned by the caller until passed to
 * server_start), *port, and host_text to the bound address as it goes in a URL authority
 * ("127.0.0.1" or "[::1]"). On failure returns -1 with a message on stderr; nothing is left
 * open. */
int server_listen(const char *host, unsigned port, int *fd, unsigned *bound_port,
                  char *host_text, size_t cap);

/* Start serving fx's routes on the listening socket fd, which the server then owns (it is
 * closed even when this fails). fx must outlive the server. Returns NULL on failure. */
struct server *server_start(struct fixture *fx, int fd);

/* Wake every delayed request and trickling body, stop the daemon (joining every connection
 * thread) and free the server. NULL is allowed. */
void server_stop(struct server *s);

#endif
