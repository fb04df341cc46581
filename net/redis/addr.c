/* redis_addr: the --redis URL parsed (libcurl's CURLU), masked for messages, and a blocking
 * connection to it that authenticates, selects the database and checks the server's version. */
#include "net/redis/addr.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define ADDR_PORT 6379
#define ADDR_ENV_PASSWORD "GATHER_REDIS_PASSWORD"
#define ADDR_DB_DIGITS 9            /* a database number below 10^9: within an int */
#define ADDR_MIN_MAJOR 6            /* XAUTOCLAIM came with Redis 6.2 */
#define ADDR_MIN_MINOR 2
#define ADDR_FORMS "give redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix://PATH[?db=N]"

/* ---- messages --------------------------------------------------------------------------------- */

/* err = "SHOWN: " + the formatted reason. */
static void addr_fail(const redis_addr_t *a, char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (n == 0)
        return;
    k = snprintf(err, n, "%s: ", a->shown);
    if (k < 0 || (size_t)k >= n)
        return;
    va_start(ap, fmt);
    vsnprintf(err + k, n - (size_t)k, fmt, ap);
    va_end(ap);
}

/*
 * url with the password of its userinfo replaced by "***", into out (truncated to n). The
 * userinfo ends at the LAST '@' (an unencoded '@' or '/' in a password must not leak part of
 * it) and its password starts at the first ':' after "://". Done on the raw string, so a URL
 * that does not parse is masked as well. unix:// URLs have no userinfo.
 */
static void addr_mask(const char *url, char *out, size_t n)
{
    const char *start = strstr(url, "://");
    const char *at = strrchr(url, '@');
    const char *colon;

    start = start ? start + 3 : url;
    if (strncasecmp(url, "unix://", 7) == 0 || !at || at < start ||
        !(colon = memchr(start, ':', (size_t)(at - start)))) {
        snprintf(out, n, "%s", url);
        return;
    }
    snprintf(out, n, "%.*s***%s", (int)(colon + 1 - url), url, at);
}

/* ---- parsing ---------------------------------------------------------------------------------- */

/* $GATHER_REDIS_PASSWORD, or NULL when unset or empty. */
static const char *addr_env_password(void)
{
    const char *env = getenv(ADDR_ENV_PASSWORD);

    return env && *env ? env : NULL;
}

/* The database number of s (digits only, at most ADDR_DB_DIGITS), or -1. */
static int addr_db(const char *s)
{
    size_t len = strlen(s);
    int db = 0;

    if (len == 0 || len > ADDR_DB_DIGITS || strspn(s, "0123456789") != len)
        return -1;
    for (size_t i = 0; i < len; i++)
        db = db * 10 + (s[i] - '0');
    return db;
}

/* unix://PATH[?db=N]: rest is what follows "unix://". */
static int addr_parse_unix(const char *rest, redis_addr_t *a, char *err, size_t n)
{
    const char *q = strchr(rest, '?');
    size_t plen = q ? (size_t)(q - rest) : strlen(rest);

    if (plen == 0) {
        addr_fail(a, err, n, "unix:// needs the socket's path (unix:///run/redis/redis.sock)");
        return -EINVAL;
    }
    if (q) {
        if (strncmp(q + 1, "db=", 3) != 0 || (a->db = addr_db(q + 4)) < 0) {
            addr_fail(a, err, n, "after the socket's path only ?db=N may follow (N a number)");
            return -EINVAL;
        }
    }
    a->socket = strndup(rest, plen);
    if (!a->socket) {
        addr_fail(a, err, n, "out of memory");
        return -ENOMEM;
    }
    a->port = 0;
    return 0;
}

/* A part of h, URL-decoded with CURLU_URLDECODE when decode: *out is NULL when the part is
 * absent (curl answers `absent`; CURLUE_LAST for a part that is always there) or empty. 0, or -EINVAL/-ENOMEM with why in err. */
static int addr_part(CURLU *h, CURLUPart what, CURLUcode absent, int decode, char **out,
                     const redis_addr_t *a, char *err, size_t n, const char *name)
{
    CURLUcode uc = curl_url_get(h, what, out, decode ? CURLU_URLDECODE : 0);

    if (uc == absent) {
        *out = NULL;
        return 0;
    }
    if (uc != CURLUE_OK) {
        *out = NULL;
        addr_fail(a, err, n, "%s: %s", name, curl_url_strerror(uc));
        return uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
    }
    if (!**out) {
        curl_free(*out);
        *out = NULL;
    }
    return 0;
}

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]. */
static int addr_parse_redis(const char *url, redis_addr_t *a, char *err, size_t n)
{
    CURLU *h = curl_url();
    CURLUcode uc;
    char *host = NULL, *zone = NULL, *port = NULL, *path = NULL, *query = NULL, *frag = NULL;
    char *user = NULL, *password = NULL;
    int result;
    long p;
    char *end;

    if (!h) {
        addr_fail(a, err, n, "out of memory");
        return -ENOMEM;
    }
    uc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        addr_fail(a, err, n, "%s", curl_url_strerror(uc));
        result = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        goto cleanup;
    }
    if ((result = addr_part(h, CURLUPART_HOST, CURLUE_NO_HOST, 0, &host, a, err, n, "host")) ||
        (result = addr_part(h, CURLUPART_ZONEID, CURLUE_NO_ZONEID, 0, &zone, a, err, n, "zone")) ||
        (result = addr_part(h, CURLUPART_PORT, CURLUE_NO_PORT, 0, &port, a, err, n, "port")) ||
        (result = addr_part(h, CURLUPART_PATH, CURLUE_LAST, 0, &path, a, err, n, "path")) ||
        (result = addr_part(h, CURLUPART_QUERY, CURLUE_NO_QUERY, 0, &query, a, err, n, "query")) ||
        (result = addr_part(h, CURLUPART_FRAGMENT, CURLUE_NO_FRAGMENT, 0, &frag, a, err, n, "fragment")) ||
        (result = addr_part(h, CURLUPART_USER, CURLUE_NO_USER, 1, &user, a, err, n, "user")) ||
        (result = addr_part(h, CURLUPART_PASSWORD, CURLUE_NO_PASSWORD, 1, &password, a, err, n,
                            "password")))
        goto cleanup;
    result = -EINVAL;
    if (!host) {
        addr_fail(a, err, n, "no host (%s)", ADDR_FORMS);
        goto cleanup;
    }
    if (query || frag) {
        addr_fail(a, err, n, "nothing may follow the database number (redis://HOST:PORT/DB)");
        goto cleanup;
    }
    if (port) {
        errno = 0;
        p = strtol(port, &end, 10);
        if (errno || *end || p < 1 || p > 65535) {
            addr_fail(a, err, n, "port %s: a port is 1 to 65535", port);
            goto cleanup;
        }
        a->port = (int)p;
    }
    if (path && strcmp(path, "/") != 0 && (a->db = addr_db(path + 1)) < 0) {
        addr_fail(a, err, n, "'%s': the path is the database number, as in redis://HOST:PORT/0",
                  path);
        goto cleanup;
    }
    if (user && !password && !addr_env_password()) {
        addr_fail(a, err, n, "user %s has no password: give USER:PASSWORD@ or set %s", user,
                  ADDR_ENV_PASSWORD);
        goto cleanup;
    }
    /* curl keeps IPv6 literals in brackets; hiredis wants the bare address (with its zone). */
    if (host[0] == '[') {
        if (asprintf(&a->host, "%.*s%s%s", (int)(strlen(host) - 2), host + 1, zone ? "%" : "",
                     zone ? zone : "") < 0)
            a->host = NULL;
    } else {
        a->host = strdup(host);
    }
    a->user = user ? strdup(user) : NULL;
    a->password = password ? strdup(password) : NULL;
    if (a->host && !!a->user == !!user && !!a->password == !!password) {
        result = 0;
        goto cleanup;
    }
    result = -ENOMEM;
    addr_fail(a, err, n, "out of memory");
cleanup:
    curl_free(host);
    curl_free(zone);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(frag);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(h);
    return result;
}

/* Frees a's strings, leaving shown as it is (the message of a failed parse still names it). */
static void addr_free_strings(redis_addr_t *a)
{
    free(a->host);
    free(a->socket);
    free(a->user);
    free(a->password);
    a->host = a->socket = a->user = a->password = NULL;
}

int redis_addr_parse(const char *url, redis_addr_t *a, char *err, size_t n)
{
    const char *env;
    int result;

    memset(a, 0, sizeof(*a));
    a->port = ADDR_PORT;
    addr_mask(url, a->shown, sizeof(a->shown));
    if (strncasecmp(url, "unix://", 7) == 0) {
        result = addr_parse_unix(url + 7, a, err, n);
    } else if (strncasecmp(url, "redis://", 8) == 0) {
        result = addr_parse_redis(url, a, err, n);
    } else if (strncasecmp(url, "rediss://", 9) == 0) {
        addr_fail(a, err, n, "rediss:// (TLS) is not supported (hiredis 0.14 has no TLS): use "
                  "redis://, through a TLS tunnel if the network needs one");
        result = -EINVAL;
    } else {
        addr_fail(a, err, n, "not a Redis URL: %s", ADDR_FORMS);
        result = -EINVAL;
    }
    if (result == 0 && !a->password && (env = addr_env_password()) &&
        !(a->password = strdup(env))) {
        addr_fail(a, err, n, "out of memory");
        result = -ENOMEM;
    }
    if (result < 0) {
        addr_free_strings(a);
        a->db = 0;
        return result == -ENOMEM ? -ENOMEM : -EINVAL;
    }
    return 0;
}

void redis_addr_clear(redis_addr_t *a)
{
    addr_free_strings(a);
    memset(a, 0, sizeof(*a));
}

int redis_addr_hello(const redis_addr_t *a, int i, const char *argv[3], size_t lens[3], char buf[16])
{
    int argc = 0;

    if (i == 0 && a->password) {
        argv[argc++] = "AUTH";
        if (a->user)
            argv[argc++] = a->user;
        argv[argc++] = a->password;
    } else if (i == 1 && a->db != 0) {
        snprintf(buf, 16, "%d", a->db);
        argv[argc++] = "SELECT";
        argv[argc++] = buf;
    }
    for (int k = 0; k < argc; k++)
        lens[k] = strlen(argv[k]);
    return argc;
}

/* ---- the blocking connection ------------------------------------------------------------------ */

/* Runs one command on c: its reply, or NULL with why in err (an error reply is freed and
 * reported as Redis wrote it: "WRONGPASS ...", "NOAUTH ...", "ERR DB index is out of range"). */
static redisReply *addr_command(redisContext *c, const redis_addr_t *a, int argc, const char **argv,
                                const size_t *lens, int timeout_ms, char *err, size_t n)
{
    redisReply *r = redisCommandArgv(c, argc, argv, lens);

    if (!r) {
        if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
            addr_fail(a, err, n, "%s: no reply within %d ms", argv[0], timeout_ms);
        else
            addr_fail(a, err, n, "%s: %s", argv[0], c->err ? c->errstr : "no reply");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        addr_fail(a, err, n, "%s", r->str ? r->str : "error");
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* 0 if INFO server's text says Redis 6.2 or newer, else -1 with why in err. */
static int addr_check_version(const redis_addr_t *a, const redisReply *r, char *err, size_t n)
{
    const char *v;
    int major = 0, minor = 0;
    char shown[32];

    if (r->type != REDIS_REPLY_STRING || !r->str || !(v = strstr(r->str, "redis_version:"))) {
        addr_fail(a, err, n, "INFO server has no redis_version: not a Redis server?");
        return -1;
    }
    v += strlen("redis_version:");
    snprintf(shown, sizeof(shown), "%.*s", (int)strcspn(v, "\r\n"), v);
    if (sscanf(v, "%d.%d", &major, &minor) != 2) {
        addr_fail(a, err, n, "INFO server: unreadable redis_version '%s'", shown);
        return -1;
    }
    if (major < ADDR_MIN_MAJOR || (major == ADDR_MIN_MAJOR && minor < ADDR_MIN_MINOR)) {
        addr_fail(a, err, n, "Redis %s is too old: %d.%d or newer is needed", shown,
                  ADDR_MIN_MAJOR, ADDR_MIN_MINOR);
        return -1;
    }
    return 0;
}

redisContext *redis_connect_blocking(const redis_addr_t *a, int timeout_ms, char *err, size_t n)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    const char *info[2] = { "INFO", "server" };
    size_t info_lens[2] = { 4, 6 };
    const char *argv[3];
    size_t lens[3];
    char buf[16];
    redisContext *c;
    redisReply *r;
    int argc;

    c = a->socket ? redisConnectUnixWithTimeout(a->socket, tv)
                  : redisConnectWithTimeout(a->host, a->port, tv);
    if (!c) {
        addr_fail(a, err, n, "out of memory");
        return NULL;
    }
    if (c->err) {
        addr_fail(a, err, n, "%s", c->errstr);
        goto error;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        addr_fail(a, err, n, "setting the reply timeout: %s", c->err ? c->errstr : "failed");
        goto error;
    }
    for (int i = 0; i < 2; i++) {
        if ((argc = redis_addr_hello(a, i, argv, lens, buf)) == 0)
            continue;
        if (!(r = addr_command(c, a, argc, argv, lens, timeout_ms, err, n)))
            goto error;
        freeReplyObject(r);
    }
    if (!(r = addr_command(c, a, 2, info, info_lens, timeout_ms, err, n)))
        goto error;
    argc = addr_check_version(a, r, err, n);
    freeReplyObject(r);
    if (argc < 0)
        goto error;
    return c;
error:
    redisFree(c);
    return NULL;
}
