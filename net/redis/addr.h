/* redis_addr: where a job's Redis is (--redis URL) and a blocking connection to it for the
 * moments no loop runs yet (the check at start, `gather status`).
 *
 * URLs: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (PORT 6379, DB 0; HOST may be [IPv6]) and
 * unix://PATH[?db=DB]; rediss:// (TLS) is refused with a message (hiredis 0.14 has no TLS).
 * A password may also come from the environment, GATHER_REDIS_PASSWORD, when the URL has none. */
#ifndef NET_REDIS_ADDR_H
#define NET_REDIS_ADDR_H

#include <stddef.h>

#include <hiredis/hiredis.h>

typedef struct redis_addr {
    char *host;                 /* NULL with a unix socket */
    int port;
    char *socket;               /* a unix socket's path, or NULL */
    char *user;                 /* NULL: AUTH PASSWORD only (or no AUTH without a password) */
    char *password;             /* NULL: no AUTH */
    int db;
    char shown[512];            /* the URL with the password masked: for every message */
} redis_addr_t;

/* Parses url into a (cleared first). 0, or -EINVAL with why in err (naming the URL, masked). */
int redis_addr_parse(const char *url, redis_addr_t *a, char *err, size_t n);
void redis_addr_clear(redis_addr_t *a);

/* Blocking, with a timeout for connecting and for each reply: connects, authenticates, selects
 * the database and checks the server is Redis 6.2 or newer (XAUTOCLAIM). The context, or NULL
 * with why in err ("redis://h:1/0: Connection refused", "...: WRONGPASS invalid username-password
 * pair", "...: Redis 5.0.7 is too old: 6.2 or newer is needed"). */
redisContext *redis_connect_blocking(const redis_addr_t *a, int timeout_ms, char *err, size_t n);

/* Sends AUTH and SELECT as the address asks (used by the blocking and the async connection
 * alike): fills argv/lens for command i (0 AUTH, 1 SELECT) and returns its argc, or 0 when that
 * command is not needed. bufs holds the SELECT's number. */
int redis_addr_hello(const redis_addr_t *a, int i, const char *argv[3], size_t lens[3], char buf[16]);

#endif
