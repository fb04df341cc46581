/* crawl_options: one getopt_long table for every command, each option marked with the commands
 * that accept it, and a clear message for every bad value. */
#include "crawler/cli/options.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "parse/html.h"
#include "parse/robots.h"

#define GATHER_USER_AGENT "gather/0.1"

enum {
    OPT_PER_HOST = 256, OPT_MODE, OPT_LAYOUT, OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_USER_AGENT,
    OPT_HEADER, OPT_MAX_REDIRS, OPT_INSECURE, OPT_JSON, OPT_FSYNC, OPT_DELAY, OPT_SCOPE,
    OPT_INCLUDE, OPT_EXCLUDE, OPT_ACCEPT, OPT_REJECT, OPT_ACCEPT_TYPE, OPT_MAX_PAGES,
    OPT_NO_ROBOTS, OPT_SITEMAP, OPT_SAVE, OPT_MAX_PAGE_SIZE, OPT_MODES, OPT_REPEAT, OPT_DISCARD,
    OPT_CHART, OPT_HAR, OPT_RETRIES, OPT_RETRY_DELAY, OPT_MAX_WAIT, OPT_MIN_SPEED,
    OPT_MIN_SPEED_TIME, OPT_MAX_FILESIZE, OPT_TIMESTAMPING, OPT_CACERT, OPT_CAPATH, OPT_CERT,
    OPT_KEY, OPT_PROXY, OPT_NOPROXY, OPT_LIMIT_RATE, OPT_LIMIT_RATE_EACH, OPT_CONTENT_DISPOSITION,
    OPT_READ_TIMEOUT,
    OPT_ROBOTS_AGENT,
    OPT_WORKERS, OPT_SYNC_LIMIT, OPT_REPORT, OPT_WATERFALL
};

/* A job shared through Redis. */
enum { OPT_REDIS = 1000, OPT_JOB, OPT_LEASE, OPT_ENQUEUE_ONLY };

/* Segmented downloads. */
enum { OPT_SPLIT = 900, OPT_MIN_SPLIT_SIZE };

/* Offline mirrors and wget's spellings that have no short letter of gather's own. */
enum {
    OPT_NO_DIRECTORIES = 700, OPT_NO_HOST_DIRECTORIES, OPT_CUT_DIRS, OPT_RANDOM_WAIT,
    OPT_NO_PARENT, OPT_NO_CLOBBER
};

/* WARC output. */
enum { OPT_WARC_FILE = 800, OPT_WARC_CDX };

/* Credentials and cookies. */
enum {
    OPT_USER = 600, OPT_PASSWORD, OPT_NETRC, OPT_NETRC_FILE, OPT_LOCATION_TRUSTED,
    OPT_LOAD_COOKIES, OPT_SAVE_COOKIES
};

#define G CRAWL_CMD_GET
#define C CRAWL_CMD_CRAWL
#define B CRAWL_CMD_BENCH
#define S CRAWL_CMD_STATUS

static const struct {
    struct option opt;
    int cmds;
} table[] = {
    { { "input", required_argument, NULL, 'i' }, G | B },
    { { "output", required_argument, NULL, 'o' }, G | C },
    { { "directory-prefix", required_argument, NULL, 'P' }, G | C },
    { { "concurrency", required_argument, NULL, 'c' }, G | C | B },
    { { "per-host", required_argument, NULL, OPT_PER_HOST }, G | C | B },
    { { "workers", required_argument, NULL, OPT_WORKERS }, G | C },
    { { "mode", required_argument, NULL, OPT_MODE }, G },
    { { "layout", required_argument, NULL, OPT_LAYOUT }, G | C },
    { { "timeout", required_argument, NULL, OPT_TIMEOUT }, G | C | B },
    { { "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT }, G | C | B },
    { { "read-timeout", required_argument, NULL, OPT_READ_TIMEOUT }, G | C | B },
    { { "user-agent", required_argument, NULL, 'U' }, G | C | B },
    { { "header", required_argument, NULL, OPT_HEADER }, G | C | B },
    { { "max-redirs", required_argument, NULL, OPT_MAX_REDIRS }, G | C | B },
    { { "insecure", no_argument, NULL, OPT_INSECURE }, G | C | B },
    { { "fsync", no_argument, NULL, OPT_FSYNC }, G | C },
    { { "retries", required_argument, NULL, OPT_RETRIES }, G | C },
    { { "retry-delay", required_argument, NULL, OPT_RETRY_DELAY }, G | C },
    { { "max-wait", required_argument, NULL, OPT_MAX_WAIT }, G | C },
    { { "min-speed", required_argument, NULL, OPT_MIN_SPEED }, G | C | B },
    { { "min-speed-time", required_argument, NULL, OPT_MIN_SPEED_TIME }, G | C | B },
    { { "max-filesize", required_argument, NULL, OPT_MAX_FILESIZE }, G | C },
    { { "timestamping", no_argument, NULL, 'N' }, G | C },
    { { "no-clobber", no_argument, NULL, OPT_NO_CLOBBER }, G | C },
    { { "content-disposition", no_argument, NULL, OPT_CONTENT_DISPOSITION }, G },
    { { "split", required_argument, NULL, OPT_SPLIT }, G },
    { { "min-split-size", required_argument, NULL, OPT_MIN_SPLIT_SIZE }, G },
    { { "cacert", required_argument, NULL, OPT_CACERT }, G | C | B },
    { { "capath", required_argument, NULL, OPT_CAPATH }, G | C | B },
    { { "cert", required_argument, NULL, OPT_CERT }, G | C | B },
    { { "key", required_argument, NULL, OPT_KEY }, G | C | B },
    { { "proxy", required_argument, NULL, OPT_PROXY }, G | C | B },
    { { "noproxy", required_argument, NULL, OPT_NOPROXY }, G | C | B },
    { { "limit-rate", required_argument, NULL, OPT_LIMIT_RATE }, G | C },
    { { "limit-rate-each", required_argument, NULL, OPT_LIMIT_RATE_EACH }, G | C },
    { { "quiet", no_argument, NULL, 'q' }, G | C | B },
    { { "verbose", no_argument, NULL, 'v' }, G | C | B },
    { { "json", no_argument, NULL, OPT_JSON }, G | C | B | S },
    { { "har", required_argument, NULL, OPT_HAR }, G | C | B },
    { { "depth", required_argument, NULL, 'd' }, C },
    { { "level", required_argument, NULL, 'd' }, C },
    { { "recursive", no_argument, NULL, 'r' }, C },
    { { "delay", required_argument, NULL, OPT_DELAY }, C },
    { { "wait", required_argument, NULL, 'w' }, C },
    { { "random-wait", no_argument, NULL, OPT_RANDOM_WAIT }, C },
    { { "scope", required_argument, NULL, OPT_SCOPE }, C },
    { { "no-parent", no_argument, NULL, OPT_NO_PARENT }, C },
    { { "span-hosts", no_argument, NULL, 'H' }, C },
    { { "domains", required_argument, NULL, 'D' }, C },
    { { "execute", required_argument, NULL, 'e' }, C },
    { { "include", required_argument, NULL, OPT_INCLUDE }, C },
    { { "exclude", required_argument, NULL, OPT_EXCLUDE }, C },
    { { "accept", required_argument, NULL, 'A' }, C },
    { { "reject", required_argument, NULL, 'R' }, C },
    { { "accept-type", required_argument, NULL, OPT_ACCEPT_TYPE }, C },
    { { "max-pages", required_argument, NULL, OPT_MAX_PAGES }, C },
    { { "max-page-size", required_argument, NULL, OPT_MAX_PAGE_SIZE }, C },
    { { "no-robots", no_argument, NULL, OPT_NO_ROBOTS }, C },
    { { "robots-agent", required_argument, NULL, OPT_ROBOTS_AGENT }, C },
    { { "sitemap", no_argument, NULL, OPT_SITEMAP }, C },
    { { "save", required_argument, NULL, OPT_SAVE }, C },
    { { "convert-links", no_argument, NULL, 'k' }, C },
    { { "adjust-extension", no_argument, NULL, 'E' }, C },
    { { "page-requisites", no_argument, NULL, 'p' }, C },
    { { "mirror", no_argument, NULL, 'm' }, C },
    { { "no-directories", no_argument, NULL, OPT_NO_DIRECTORIES }, C },
    { { "no-host-directories", no_argument, NULL, OPT_NO_HOST_DIRECTORIES }, C },
    { { "cut-dirs", required_argument, NULL, OPT_CUT_DIRS }, C },
    { { "modes", required_argument, NULL, OPT_MODES }, B },
    { { "repeat", required_argument, NULL, OPT_REPEAT }, B },
    { { "discard", no_argument, NULL, OPT_DISCARD }, G | B },
    { { "chart", required_argument, NULL, OPT_CHART }, B },
    { { "sync-limit", required_argument, NULL, OPT_SYNC_LIMIT }, B },
    { { "report", required_argument, NULL, OPT_REPORT }, B },
    { { "waterfall", required_argument, NULL, OPT_WATERFALL }, B },
    { { "user", required_argument, NULL, OPT_USER }, G | C },
    { { "password", required_argument, NULL, OPT_PASSWORD }, G | C },
    { { "netrc", no_argument, NULL, OPT_NETRC }, G | C },
    { { "netrc-file", required_argument, NULL, OPT_NETRC_FILE }, G | C },
    { { "location-trusted", no_argument, NULL, OPT_LOCATION_TRUSTED }, G | C },
    { { "load-cookies", required_argument, NULL, OPT_LOAD_COOKIES }, G | C },
    { { "save-cookies", required_argument, NULL, OPT_SAVE_COOKIES }, G | C },
    { { "warc-file", required_argument, NULL, OPT_WARC_FILE }, G | C },
    { { "warc-cdx", no_argument, NULL, OPT_WARC_CDX }, G | C },
    { { "redis", required_argument, NULL, OPT_REDIS }, G | C | S },
    { { "job", required_argument, NULL, OPT_JOB }, G | C | S },
    { { "lease", required_argument, NULL, OPT_LEASE }, G | C },
    { { "enqueue-only", no_argument, NULL, OPT_ENQUEUE_ONLY }, G | C },
    { { "help", no_argument, NULL, 'h' }, G | C | B | S },
};

const struct option *crawl_options_long(size_t i, int *cmds)
{
    if (i >= sizeof(table) / sizeof(table[0]))
        return NULL;
    *cmds = table[i].cmds;
    return &table[i].opt;
}

static int parse_long(const char *opt, const char *arg, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "gather: %s: '%s' is not a whole number from %ld to %ld\n", opt, arg, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return x < y ? -1 : x > y;
}

/* -c N, or (gather bench) -c N,N,...: the concurrencies sorted, o->concurrency the largest. */
static int parse_concurrency(const char *opt, const char *arg, crawl_options_t *o)
{
    const char *p = arg;
    char one[32];

    o->nsweep = 0;
    for (;;) {
        size_t len = strcspn(p, ",");

        if (o->nsweep == CRAWL_SWEEP_MAX) {
            fprintf(stderr, "gather: %s: at most %d concurrencies in one sweep\n", opt, CRAWL_SWEEP_MAX);
            return -1;
        }
        if (len == 0 || len >= sizeof(one)) {
            fprintf(stderr, "gather: %s: '%s' is not a number or a comma-separated list of numbers\n",
                    opt, arg);
            return -1;
        }
        memcpy(one, p, len);
        one[len] = '\0';
        if (parse_long(opt, one, 1, 10000, &o->sweep[o->nsweep]) < 0)
            return -1;
        for (int i = 0; i < o->nsweep; i++) {
            if (o->sweep[i] == o->sweep[o->nsweep]) {
                fprintf(stderr, "gather: %s: %ld is listed twice\n", opt, o->sweep[i]);
                return -1;
            }
        }
        o->nsweep++;
        p += len;
        if (!*p)
            break;
        p++;
    }
    qsort(o->sweep, (size_t)o->nsweep, sizeof(o->sweep[0]), cmp_long);
    o->concurrency = o->sweep[o->nsweep - 1];
    return 0;
}

static int parse_bytes(const char *opt, const char *arg, curl_off_t *out)
{
    char *end;
    double v;
    double mult = 1;

    errno = 0;
    v = strtod(arg, &end);
    if (end != arg && *end) {
        switch (*end == 'k' || *end == 'm' || *end == 'g' ? *end - 32 : *end) {
        case 'K': mult = 1024.0; break;
        case 'M': mult = 1024.0 * 1024; break;
        case 'G': mult = 1024.0 * 1024 * 1024; break;
        default: mult = 0; break;
        }
        end++;
    }
    if (errno || end == arg || *end || mult == 0 || !isfinite(v) || v < 0 || v * mult > 9e18) {
        fprintf(stderr, "gather: %s: '%s' is not a size in bytes (K, M, G allowed)\n", opt, arg);
        return -1;
    }
    *out = (curl_off_t)(v * mult);
    return 0;
}

static int parse_seconds(const char *opt, const char *arg, long *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > 86400 * 7) {
        fprintf(stderr, "gather: %s: '%s' is not a number of seconds\n", opt, arg);
        return -1;
    }
    *ms = (long)(v * 1000.0 + 0.5);
    return 0;
}

/* -d/-l N or inf (wget's word for no limit; "-1" is not taken, a typo should not mean forever). */
static int parse_depth(const char *opt, const char *arg, long *out)
{
    if (!strcasecmp(arg, "inf") || !strcasecmp(arg, "infinite")) {
        *out = CRAWL_DEPTH_INF;
        return 0;
    }
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < 0 || v > 1000) {
        fprintf(stderr, "gather: %s: '%s' is not a whole number from 0 to 1000, nor inf\n", opt, arg);
        return -1;
    }
    *out = v;
    return 0;
}

/* wget's -w SECONDS: a number with an optional s, m or h suffix ("0.5", "2m"), into ms, at most
 * an hour (as --delay). */
static int parse_wait(const char *opt, const char *arg, long *ms)
{
    char *end;
    double v, mult = 1000;

    errno = 0;
    v = strtod(arg, &end);
    if (end != arg && *end && !end[1]) {
        switch (*end) {
        case 's': mult = 1000; end++; break;
        case 'm': mult = 60e3; end++; break;
        case 'h': mult = 3600e3; end++; break;
        default: break;
        }
    }
    if (errno || end == arg || *end || !isfinite(v) || v < 0 || v * mult > 3600e3 + 0.5) {
        fprintf(stderr, "gather: %s: '%s' is not a number of seconds up to an hour (s, m, h "
                        "suffixes allowed)\n", opt, arg);
        return -1;
    }
    *ms = (long)(v * mult + 0.5);
    return 0;
}

/* wget's -e COMMAND ("robots=off", "wait = 2"): the .wgetrc commands gather has an option for.
 * Any other is refused by name rather than ignored: a user relying on it should know. */
static int parse_execute(crawl_options_t *o, const char *opt, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *v;
    size_t n;

    if (!eq)
        goto refused;
    n = (size_t)(eq - arg);
    while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t'))
        n--;
    for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
        ;
    if (n == 6 && !strncasecmp(arg, "robots", 6)) {
        if (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcmp(v, "0")) o->robots = 0;
        else if (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcmp(v, "1")) o->robots = 1;
        else {
            fprintf(stderr, "gather: %s: '%s': robots is on or off\n", opt, arg);
            return -1;
        }
        return 0;
    }
    if (n == 4 && !strncasecmp(arg, "wait", 4))
        return parse_wait(opt, v, &o->delay_ms);
    if (n == 10 && !strncasecmp(arg, "randomwait", 10)) {
        if (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcmp(v, "1")) o->random_wait = 1;
        else if (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcmp(v, "0")) o->random_wait = 0;
        else {
            fprintf(stderr, "gather: %s: '%s': randomwait is on or off\n", opt, arg);
            return -1;
        }
        return 0;
    }
refused:
    fprintf(stderr, "gather: %s: '%s' is not a command gather knows (robots=on|off, "
                    "wait=SECONDS, randomwait=on|off)\n", opt, arg);
    return -1;
}

/* A file (dir = 0) or folder (dir = 1) we can read, named by the option or variable `what`:
 * said now rather than as the same TLS error on every URL. */
static int check_readable(const char *what, const char *path, int dir)
{
    struct stat st;

    if (!*path || stat(path, &st) < 0) {
        fprintf(stderr, "gather: %s: cannot read '%s': %s\n", what, path,
                *path ? strerror(errno) : "empty name");
        return -1;
    }
    if (dir != !!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "gather: %s: '%s' is %s\n", what, path, dir ? "not a folder" : "a folder");
        return -1;
    }
    if (access(path, R_OK | (dir ? X_OK : 0)) < 0) {
        fprintf(stderr, "gather: %s: cannot read '%s': %s\n", what, path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A proxy libcurl can use: "" (none), or a URL or host[:port] with a proxy scheme. */
static int check_proxy(const char *opt, const char *arg)
{
    static const char *const schemes[] = { "http", "https", "socks4", "socks4a", "socks5",
                                           "socks5h" };
    CURLU *u;
    char *scheme = NULL;
    int ok = 0;

    if (!*arg)
        return 0;
    if (!(u = curl_url()))
        return -1;
    if (curl_url_set(u, CURLUPART_URL, arg, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) {
        for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
            ok |= !strstr(arg, "://") || !strcmp(scheme, schemes[i]);
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    if (!ok)
        fprintf(stderr, "gather: %s: '%s' is not a proxy URL (http://HOST:PORT, https://, "
                "socks5h://, ...)\n", opt, arg);
    return ok ? 0 : -1;
}

/* Without --cacert and --capath, the CA the environment names, as curl's tool reads it:
 * CURL_CA_BUNDLE, else SSL_CERT_DIR and SSL_CERT_FILE. (libcurl itself sets OpenSSL's CA paths
 * explicitly, so OpenSSL's own reading of SSL_CERT_FILE never happens.) */
static int options_ca_from_env(crawl_options_t *o)
{
    const char *v;

    if (o->http.ca_file || o->http.ca_path || o->http.insecure)
        return 0;
    if ((v = getenv("CURL_CA_BUNDLE")) && *v) {
        o->http.ca_file = v;
        return check_readable("CURL_CA_BUNDLE", v, 0);
    }
    if ((v = getenv("SSL_CERT_DIR")) && *v) {
        o->http.ca_path = v;
        if (check_readable("SSL_CERT_DIR", v, 1) < 0)
            return -1;
    }
    if ((v = getenv("SSL_CERT_FILE")) && *v) {
        o->http.ca_file = v;
        if (check_readable("SSL_CERT_FILE", v, 0) < 0)
            return -1;
    }
    return 0;
}

const char *crawl_mode_name(crawl_mode_t m)
{
    return m == CRAWL_MODE_SYNC ? "sync" : m == CRAWL_MODE_THREADS ? "threads" : "async";
}

static void options_defaults(crawl_options_t *o, crawl_cmd_t cmd)
{
    memset(o, 0, sizeof(*o));
    o->outdir = "downloads";
    o->concurrency = 16;
    o->sweep[0] = 16;
    o->nsweep = 1;
    o->mode = CRAWL_MODE_ASYNC;
    o->layout = cmd == CRAWL_CMD_CRAWL ? STORE_LAYOUT_TREE : STORE_LAYOUT_FLAT;
    o->http.connect_timeout_ms = 30000;
    o->http.read_timeout_ms = 900000;
    o->http.max_redirs = 10;
    o->http.user_agent = GATHER_USER_AGENT;
    o->depth = CRAWL_DEPTH_DEFAULT;
    o->per_host = cmd == CRAWL_CMD_CRAWL ? 4 : 0;
    {
        /* --workers: one transfer thread per online core (net/http/workers.h) */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        o->http.workers = cores > 256 ? 256 : cores > 1 ? (int)cores : 1;
    }
    o->max_page_bytes = 10L * 1024 * 1024;
    o->robots = 1;
    o->save = CRAWL_SAVE_ALL;
    o->scope = CRAWL_SCOPE_HOST;
    o->modes = "sync,threads,async";
    o->repeat = 1;
    o->retries = 3;
    o->split = 1;
    o->min_split_size = 1024 * 1024;
    o->retry_delay_ms = 1000;
    o->max_wait_ms = 60000;
    o->http.low_speed_time = 30;
    o->lease_ms = 60000;
    crawl_filter_init(&o->filter);
}

const char *crawl_cmd_name(crawl_cmd_t cmd)
{
    return cmd == CRAWL_CMD_GET ? "get" : cmd == CRAWL_CMD_CRAWL ? "crawl" :
           cmd == CRAWL_CMD_STATUS ? "status" : "bench";
}

/* --redis, --job and what goes with them. */
static int options_shared(crawl_options_t *o, crawl_cmd_t cmd)
{
    const char *n = o->job_name;
    const char *me = crawl_cmd_name(cmd);

    if (cmd == CRAWL_CMD_STATUS && (!o->redis_url || !o->job_name)) {
        fprintf(stderr, "gather status: give --redis URL and --job NAME (see gather status --help)\n");
        return -1;
    }
    if (cmd == CRAWL_CMD_STATUS && o->nurls > 0) {
        fprintf(stderr, "gather status: unexpected argument '%s'\n", o->urls[0]);
        return -1;
    }
    if (!!o->redis_url != !!o->job_name) {
        fprintf(stderr, "gather %s: --redis and --job go together: give both or neither\n", me);
        return -1;
    }
    if (o->enqueue_only && !o->redis_url) {
        fprintf(stderr, "gather %s: --enqueue-only needs --redis URL and --job NAME\n", me);
        return -1;
    }
    if (!n)
        return 0;
    if (!*n || strlen(n) > 64 || strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789._-") != strlen(n)) {
        fprintf(stderr, "gather %s: --job '%s': a job name is 1 to 64 letters, digits, '.', '_' or '-'\n",
                me, n);
        return -1;
    }
    if (o->mode != CRAWL_MODE_ASYNC) {
        fprintf(stderr, "gather %s: --redis needs --mode async\n", me);
        return -1;
    }
    if (o->enqueue_only && !o->input && o->nurls == 0) {
        fprintf(stderr, "gather %s: --enqueue-only: give -i FILE or URLs to add\n", me);
        return -1;
    }
    return 0;
}

/* ---- credentials ------------------------------------------------------------------------------ */

/* 1 when the header line is the header `want` ("Name: value", "Name;", "Name:"), any case. */
static int options_header_is(const char *line, const char *want)
{
    size_t n = strcspn(line, ":;");

    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    return n == strlen(want) && strncasecmp(line, want, n) == 0;
}

/* 0 when path opens for reading as a file; else -1 after saying why. */
static int options_readable(const char *name, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    if (fd >= 0)
        close(fd);
    if (e) {
        fprintf(stderr, "gather: %s: cannot read %s: %s\n", name, path, strerror(e));
        return -1;
    }
    return 0;
}

/* --user USER[:PASSWORD], split at the first ':' (a user name cannot hold one in Basic auth). */
static int options_user(crawl_options_t *o, const char *name, const char *arg)
{
    const char *colon = strchr(arg, ':');

    if (arg[0] == '\0' || arg[0] == ':') {
        fprintf(stderr, "gather: %s: the user name is empty\n", name);
        return -1;
    }
    free(o->user_owned);
    o->user_owned = NULL;
    if (colon && !(o->user_owned = strndup(arg, (size_t)(colon - arg)))) {
        fprintf(stderr, "gather: out of memory\n");
        return -1;
    }
    o->user_given = 1;
    o->http.username = colon ? o->user_owned : arg;
    o->http.password = colon ? colon + 1 : NULL;
    return 0;
}

/* Asks for the password of user on the terminal at stdin, without echo, into *out (malloc'd).
 * 0, or -1 after saying why. */
static int options_prompt_password(const char *user, char **out)
{
    struct termios old, quiet;
    char buf[1024];
    size_t len = 0;
    int result = 0;
    char c;

    if (tcgetattr(STDIN_FILENO, &old) < 0) {
        fprintf(stderr, "gather: --user: cannot ask for the password: %s\n", strerror(errno));
        return -1;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0) {
        fprintf(stderr, "gather: --user: cannot turn the echo off: %s\n", strerror(errno));
        return -1;
    }
    /* Only now: what is typed once the prompt shows is neither echoed nor flushed away. */
    fprintf(stderr, "Enter the password for user '%s': ", user);
    fflush(stderr);
    for (;;) {
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || c == '\n' || c == '\r')
            break;
        if (len + 1 < sizeof(buf))
            buf[len++] = c;
    }
    buf[len] = '\0';
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &old) < 0)
        result = -1;
    fputc('\n', stderr);
    if (result == 0 && !(*out = strdup(buf)))
        result = -1;
    explicit_bzero(buf, sizeof(buf));
    if (result < 0)
        fprintf(stderr, "gather: --user: cannot read the password\n");
    return result;
}

/* After every option is read: the password of --user comes from USER:PASSWORD, --password or a
 * prompt on the terminal, exactly one of them. 0, or -1 after saying what is wrong. */
static int options_credentials(crawl_options_t *o)
{
    if (o->password_arg && !o->user_given) {
        fprintf(stderr, "gather: --password: give the user name with --user\n");
        return -1;
    }
    if (!o->user_given)
        return 0;
    if (o->http.password && o->password_arg) {
        fprintf(stderr, "gather: --user and --password both give a password: give it once\n");
        return -1;
    }
    if (o->password_arg)
        o->http.password = o->password_arg;
    if (o->http.password)
        return 0;
    /* stdin is asked only when it is a terminal that is not also the URL list */
    if (!isatty(STDIN_FILENO) || (o->input && !strcmp(o->input, "-"))) {
        fprintf(stderr, "gather: --user %s: no password; give --user %s:PASSWORD or --password "
                        "PASSWORD (or run on a terminal, to be asked)\n",
                o->http.username, o->http.username);
        return -1;
    }
    if (options_prompt_password(o->http.username, &o->password_owned) < 0)
        return -1;
    o->http.password = o->password_owned;
    return 0;
}

/* Applies option c with its value arg (NULL for a flag) to o. name is the option as the user gave
 * it ("-c" or "--concurrency"), for the message printed when arg is bad; then returns -1. */
static int options_apply(crawl_options_t *o, int c, const char *name, const char *arg)
{
    switch (c) {
    case 'i': o->input = arg; return 0;
    case 'o':
        if (!*arg) {
            fprintf(stderr, "gather: %s: the output folder name is empty\n", name);
            return -1;
        }
        o->outdir = arg;
        return 0;
    case 'P':
        return options_apply(o, 'o', name, arg);
    case 'c': return parse_concurrency(name, arg, o);
    case 'd': return parse_depth(name, arg, &o->depth);
    case 'r': return 0;                 /* wget's -r: recursion is what a crawl does */
    case OPT_PER_HOST: return parse_long(name, arg, 0, 10000, &o->per_host);
    case OPT_WORKERS: {
        long n;
        if (parse_long(name, arg, 1, 256, &n) < 0)
            return -1;
        o->http.workers = (int)n;
        o->workers_given = 1;
        return 0;
    }
    case OPT_MODE:
        if (!strcmp(arg, "async")) o->mode = CRAWL_MODE_ASYNC;
        else if (!strcmp(arg, "threads")) o->mode = CRAWL_MODE_THREADS;
        else if (!strcmp(arg, "sync")) o->mode = CRAWL_MODE_SYNC;
        else {
            fprintf(stderr, "gather: %s: '%s' is not async, threads or sync\n", name, arg);
            return -1;
        }
        return 0;
    case OPT_LAYOUT:
        if (store_layout_parse(arg, &o->layout) < 0) {
            fprintf(stderr, "gather: %s: '%s' is not flat or tree\n", name, arg);
            return -1;
        }
        return 0;
    case OPT_TIMEOUT: return parse_seconds(name, arg, &o->http.timeout_ms);
    case OPT_CONNECT_TIMEOUT: return parse_seconds(name, arg, &o->http.connect_timeout_ms);
    case OPT_READ_TIMEOUT: return parse_seconds(name, arg, &o->http.read_timeout_ms);
    case 'U': o->http.user_agent = arg; return 0;
    case OPT_HEADER: {
        struct curl_slist *l, **list;
        if (!strchr(arg, ':') || strpbrk(arg, "\r\n")) {
            fprintf(stderr, "gather: %s: '%s' is not 'Name: value'\n", name, arg);
            return -1;
        }
        /* A proxy's credential: a server must never see it. */
        list = options_header_is(arg, "Proxy-Authorization") ? &o->proxy_headers : &o->headers;
        l = curl_slist_append(*list, arg);
        if (!l) {
            fprintf(stderr, "gather: out of memory\n");
            return -1;
        }
        *list = l;
        return 0;
    }
    case OPT_MAX_REDIRS: return parse_long(name, arg, -1, 1000, &o->http.max_redirs);
    case OPT_INSECURE: o->http.insecure = 1; return 0;
    case OPT_FSYNC: o->do_fsync = 1; return 0;
    case 'q': o->quiet = 1; return 0;
    case 'v': o->verbose++; return 0;
    case OPT_JSON: o->json = 1; return 0;
    case OPT_HAR: o->har = arg; return 0;
    case OPT_WARC_FILE: o->warc_file = arg; return 0;
    case OPT_REDIS: o->redis_url = arg; return 0;
    case OPT_JOB: o->job_name = arg; return 0;
    case OPT_ENQUEUE_ONLY: o->enqueue_only = 1; return 0;
    case OPT_LEASE:
        if (parse_seconds(name, arg, &o->lease_ms) < 0)
            return -1;
        if (o->lease_ms < 1000) {
            fprintf(stderr, "gather: %s: '%s': a lease is at least 1 second\n", name, arg);
            return -1;
        }
        return 0;
    case OPT_WARC_CDX: o->warc_cdx = 1; return 0;
    case OPT_DELAY: return parse_long(name, arg, 0, 3600000, &o->delay_ms);
    case 'w': return parse_wait(name, arg, &o->delay_ms);
    case OPT_RANDOM_WAIT: o->random_wait = 1; return 0;
    case OPT_NO_PARENT: o->no_parent = 1; return 0;
    case 'H': o->scope = CRAWL_SCOPE_ANY; return 0;
    case 'D':
        if (arg[strspn(arg, ", ")] == '\0') {
            fprintf(stderr, "gather: %s: '%s' names no domain\n", name, arg);
            return -1;
        }
        o->domains = arg;
        return 0;
    case 'e': return parse_execute(o, name, arg);
    case OPT_SCOPE:
        if (crawl_scope_parse_kind(arg, &o->scope) < 0) {
            fprintf(stderr, "gather: %s: '%s' is not host, domain, prefix or any\n", name, arg);
            return -1;
        }
        return 0;
    case OPT_INCLUDE: return crawl_filter_set_regex(&o->filter, 0, arg);
    case OPT_EXCLUDE: return crawl_filter_set_regex(&o->filter, 1, arg);
    case 'A': return crawl_filter_set_list(&o->filter, &o->filter.accept, name, arg);
    case 'R': return crawl_filter_set_list(&o->filter, &o->filter.reject, name, arg);
    case OPT_ACCEPT_TYPE: return crawl_filter_set_list(&o->filter, &o->filter.types, name, arg);
    case OPT_MAX_PAGES: return parse_long(name, arg, 0, 1000000000L, &o->max_pages);
    /* Not past the parser's own cap: a larger value would be cut there without a word. */
    case OPT_MAX_PAGE_SIZE:
        return parse_long(name, arg, 0, PARSE_HTML_MAX_BYTES, &o->max_page_bytes);
    case OPT_NO_ROBOTS: o->robots = 0; return 0;
    case OPT_ROBOTS_AGENT:
        /* RFC 9309 2.2.1: anything else could never equal a User-agent line's token. */
        if (!parse_robots_token_valid(arg)) {
            fprintf(stderr, "gather: %s: '%s' is not a product token (letters, '-' and '_' only)\n",
                    name, arg);
            return -1;
        }
        o->robots_agent = arg;
        return 0;
    case OPT_SITEMAP: o->sitemap = 1; return 0;
    case OPT_SAVE:
        if (!strcmp(arg, "all")) o->save = CRAWL_SAVE_ALL;
        else if (!strcmp(arg, "pages")) o->save = CRAWL_SAVE_PAGES;
        else if (!strcmp(arg, "assets")) o->save = CRAWL_SAVE_ASSETS;
        else if (!strcmp(arg, "none")) o->save = CRAWL_SAVE_NONE;
        else {
            fprintf(stderr, "gather: %s: '%s' is not all, pages, assets or none\n", name, arg);
            return -1;
        }
        return 0;
    case 'k': o->convert_links = 1; return 0;
    case 'E': o->adjust_extension = 1; return 0;
    case 'p': o->page_requisites = 1; return 0;
    case 'm':
        /* wget's -m: -r -N -l inf, in the tree layout; options after it still change it */
        o->depth = CRAWL_DEPTH_INF;
        o->timestamping = 1;
        o->layout = STORE_LAYOUT_TREE;
        return 0;
    case OPT_NO_DIRECTORIES: o->layout = STORE_LAYOUT_FLAT; return 0;
    case OPT_NO_HOST_DIRECTORIES: o->no_host_dirs = 1; return 0;
    case OPT_CUT_DIRS: return parse_long(name, arg, 0, 1000, &o->cut_dirs);
    case OPT_MODES: o->modes = arg; return 0;
    case OPT_REPEAT: return parse_long(name, arg, 1, 1000, &o->repeat);
    case OPT_DISCARD: o->discard = 1; return 0;
    case OPT_CHART: o->chart = arg; return 0;
    case OPT_SYNC_LIMIT: return parse_long(name, arg, 1, 1000000000, &o->sync_limit);
    case OPT_REPORT: o->report = arg; return 0;
    case OPT_WATERFALL: return parse_long(name, arg, 1, 10000, &o->waterfall);
    case OPT_RETRIES: return parse_long(name, arg, 0, 100, &o->retries);
    case OPT_RETRY_DELAY: return parse_long(name, arg, 0, 3600000, &o->retry_delay_ms);
    case OPT_MAX_WAIT: return parse_seconds(name, arg, &o->max_wait_ms);
    case OPT_MIN_SPEED: return parse_long(name, arg, 0, 1L << 40, &o->http.low_speed_limit);
    case OPT_MIN_SPEED_TIME: {
        long ms;
        if (parse_seconds(name, arg, &ms) < 0)
            return -1;
        o->http.low_speed_time = ms < 1000 ? 1 : ms / 1000;
        return 0;
    }
    case OPT_MAX_FILESIZE: return parse_bytes(name, arg, &o->http.max_filesize);
    case 'N': o->timestamping = 1; return 0;
    case OPT_NO_CLOBBER: o->no_clobber = 1; return 0;
    case OPT_CONTENT_DISPOSITION: o->content_disposition = 1; return 0;
    case OPT_CACERT: o->http.ca_file = arg; return check_readable(name, arg, 0);
    case OPT_CAPATH: o->http.ca_path = arg; return check_readable(name, arg, 1);
    case OPT_CERT: o->http.client_cert = arg; return check_readable(name, arg, 0);
    case OPT_KEY: o->http.client_key = arg; return check_readable(name, arg, 0);
    case OPT_PROXY: o->http.proxy = arg; return check_proxy(name, arg);
    case OPT_NOPROXY: o->http.noproxy = arg; return 0;
    case OPT_LIMIT_RATE: return parse_bytes(name, arg, &o->limit_rate);
    case OPT_LIMIT_RATE_EACH: return parse_bytes(name, arg, &o->http.rate_each);
    case OPT_SPLIT: return parse_long(name, arg, 1, 64, &o->split);
    case OPT_MIN_SPLIT_SIZE: return parse_bytes(name, arg, &o->min_split_size);
    case OPT_USER: return options_user(o, name, arg);
    case OPT_PASSWORD: o->password_arg = arg; return 0;
    case OPT_NETRC: o->http.netrc = 1; return 0;
    case OPT_NETRC_FILE:
        if (options_readable(name, arg) < 0)
            return -1;
        o->http.netrc = 1;
        o->http.netrc_file = arg;
        return 0;
    case OPT_LOCATION_TRUSTED: o->http.location_trusted = 1; return 0;
    case OPT_LOAD_COOKIES:
        if (options_readable(name, arg) < 0)
            return -1;
        o->load_cookies = arg;
        return 0;
    case OPT_SAVE_COOKIES:
        if (!*arg) {
            fprintf(stderr, "gather: %s: the file name is empty\n", name);
            return -1;
        }
        o->save_cookies = arg;
        return 0;
    }
    return -1;
}

/* Index in longopts of the option named by the n bytes at name: an exact name, or else the prefix
 * of exactly one (as getopt_long matches them). -1: none; -2: the prefix of several. */
static int options_find_long(const struct option *longopts, const char *name, size_t n)
{
    int found = -1;

    if (n == 0)
        return -1;
    for (int i = 0; longopts[i].name; i++) {
        if (strncmp(longopts[i].name, name, n) != 0)
            continue;
        if (longopts[i].name[n] == '\0')
            return i;
        found = found == -1 ? i : -2;
    }
    return found;
}

/* The argument getopt_long was reading when it returned, given optind before the call: the first
 * option-like argument from there on. getopt_long permutes argv so that URLs may come first, but
 * it only moves arguments it has passed and skips URLs before it reads an option, so this is not
 * argv[optind - 1]: in "crawl URL -np", that is the URL. NULL if there is none. */
static const char *options_arg_read(int argc, char **argv, int from)
{
    for (int i = from < 1 ? 1 : from; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return argv[i];
    return NULL;
}

/* Says that the n bytes of the long option in arg ("--conc", "--re=1") only begin the names of
 * options, and which. getopt_long takes a unique prefix for its option, but a prefix is a trap
 * once options are added: "--user" meant --user-agent until --user existed, "--head" took the
 * next argument as a header. So no option is taken unless it is spelled in full. */
static void options_not_in_full(crawl_cmd_t cmd, const struct option *longopts, const char *arg,
                                size_t n)
{
    const char *sep = "";
    int count = 0, k;

    for (k = 0; longopts[k].name; k++)
        if (!strncmp(longopts[k].name, arg + 2, n))
            count++;
    fprintf(stderr, "gather %s: option '%.*s' is not spelled in full (did you mean ", crawl_cmd_name(cmd),
            (int)n + 2, arg);
    for (k = 0; longopts[k].name; k++) {
        if (strncmp(longopts[k].name, arg + 2, n))
            continue;
        fprintf(stderr, "%s--%s", sep, longopts[k].name);
        sep = --count == 1 ? " or " : ", ";
    }
    fputs("?)\n", stderr);
}

/* Prints why getopt_long refused the option in arg: c is what it returned ('?' or ':') and opt its
 * optopt (the letter of a short option). A short option is named with its cluster, if any. */
static void options_refused(crawl_cmd_t cmd, const struct option *longopts, int c, int opt,
                            const char *arg)
{
    const char *name = crawl_cmd_name(cmd);

    if (arg && arg[1] == '-') {                                 /* --name or --name=value */
        size_t n = strcspn(arg + 2, "=");
        int i = options_find_long(longopts, arg + 2, n);

        if (i >= 0 && longopts[i].name[n] != '\0')
            i = -2;                                             /* a prefix: refused alike */
        if (i >= 0 && c == ':')
            fprintf(stderr, "gather %s: option '--%s' needs a value\n", name, longopts[i].name);
        else if (i >= 0 && arg[2 + n] == '=' && longopts[i].has_arg == no_argument)
            fprintf(stderr, "gather %s: option '--%s' takes no value\n", name, longopts[i].name);
        else if (i == -2)
            options_not_in_full(cmd, longopts, arg, n);
        else
            fprintf(stderr, "gather %s: unknown option '%.*s' (see gather %s --help)\n", name,
                    (int)n + 2, arg, name);
        return;
    }
    char in[64] = "";                                          /* " in '-np'" for a cluster */
    if (arg && strlen(arg) > 2)
        snprintf(in, sizeof(in), " in '%.40s'", arg);
    if (c == ':')
        fprintf(stderr, "gather %s: option '-%c'%s needs a value\n", name, opt, in);
    else
        fprintf(stderr, "gather %s: unknown option '-%c'%s (see gather %s --help)\n", name, opt, in,
                name);
}

/* 1 when getopt_long matched the long option `name` to a mere prefix of it in arg ("--conc" or
 * "--conc=3" for --concurrency). */
static int options_abbreviated(const char *name, const char *arg)
{
    size_t n;

    if (!arg || arg[0] != '-' || arg[1] != '-')
        return 0;
    n = strcspn(arg + 2, "=");
    return strlen(name) != n || strncmp(name, arg + 2, n) != 0;
}

/* wget's short options of two letters, which getopt would read as a cluster ("-np" = -n -p).
 * A pre-pass rewrites each, as a whole argument, to its long name before getopt_long runs. */
static const struct {
    const char *wget, *spelled;     /* "-np", "--no-parent" */
} options_multi[] = {
    { "-np", "--no-parent" },
    { "-nc", "--no-clobber" },
    { "-nd", "--no-directories" },
    { "-nH", "--no-host-directories" },
};

/* Second short letters for one option: wget's -l for gather's -d. */
static const struct {
    char alias, canon;
} options_short_alias[] = {
    { 'l', 'd' },
};

/* The option struct named `name` in longopts, or NULL. */
static const struct option *options_long(const struct option *longopts, const char *name, size_t n)
{
    for (int i = 0; longopts[i].name; i++)
        if (strlen(longopts[i].name) == n && !strncmp(longopts[i].name, name, n))
            return &longopts[i];
    return NULL;
}

/* Rewrites wget's two-letter options in argv (the pointers, not the strings) to "--NAME", where
 * the command has NAME. Only whole arguments, only before "--", never an option's value: in
 * "-o -np" the folder is named "-np", as getopt (and wget) read it. A two-letter option the
 * command lacks is left alone, for getopt to refuse as the cluster it looks like. */
static void options_prepass(const struct option *longopts, const char *shortopts, int argc,
                            char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--"))
            return;
        if (a[0] != '-' || a[1] == '\0')
            continue;                                       /* a URL, or "-" for stdin */
        if (a[1] == '-') {
            size_t n = strcspn(a + 2, "=");
            const struct option *lo = options_long(longopts, a + 2, n);
            if (lo && lo->has_arg == required_argument && a[2 + n] != '=')
                i++;                                        /* its value is the next argument */
            continue;
        }
        for (size_t k = 0; k < sizeof(options_multi) / sizeof(options_multi[0]); k++) {
            const char *name = options_multi[k].spelled + 2;
            if (strcmp(a, options_multi[k].wget) != 0 || !options_long(longopts, name, strlen(name)))
                continue;
            argv[i] = (char *)options_multi[k].spelled;     /* getopt never writes to it */
            a = NULL;
            break;
        }
        if (!a)
            continue;
        /* A cluster: the first letter that takes a value takes the rest, or the next argument. */
        for (size_t j = 1; a[j]; j++) {
            const char *at = strchr(shortopts + 1, a[j]);
            if (!at || a[j] == ':')
                break;
            if (at[1] == ':') {
                if (a[j + 1] == '\0')
                    i++;
                break;
            }
        }
    }
}

int crawl_options_parse(crawl_options_t *o, crawl_cmd_t cmd, int argc, char **argv)
{
    struct option longopts[sizeof(table) / sizeof(table[0]) + 1];
    char shortopts[96] = ":";
    char name[32];
    const char *arg;
    size_t n = 0;
    int c, from, li;

    options_defaults(o, cmd);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (!(table[i].cmds & cmd))
            continue;
        longopts[n++] = table[i].opt;
        if (table[i].opt.val < 256) {
            size_t k = strlen(shortopts);
            shortopts[k++] = (char)table[i].opt.val;
            if (table[i].opt.has_arg == required_argument)
                shortopts[k++] = ':';
            shortopts[k] = '\0';
        }
    }
    for (size_t i = 0; i < sizeof(options_short_alias) / sizeof(options_short_alias[0]); i++) {
        const char *canon = strchr(shortopts + 1, options_short_alias[i].canon);
        size_t k = strlen(shortopts);
        if (!canon)
            continue;                   /* the command has no such option */
        shortopts[k++] = options_short_alias[i].alias;
        if (canon[1] == ':')
            shortopts[k++] = ':';
        shortopts[k] = '\0';
    }
    memset(&longopts[n], 0, sizeof(longopts[n]));
    options_prepass(longopts, shortopts, argc, argv);
    optind = 0;         /* glibc: 0 also forgets a cluster an earlier parse left half-read */
    opterr = 0;
    for (;;) {
        from = optind;
        li = -1;
        c = getopt_long(argc, argv, shortopts, longopts, &li);
        if (c == -1)
            break;
        if (li >= 0 && options_abbreviated(longopts[li].name, (arg = options_arg_read(argc, argv, from)))) {
            options_not_in_full(cmd, longopts, arg, strcspn(arg + 2, "="));
            return CRAWL_EXIT_USAGE;
        }
        if (c == 'h') {
            crawl_usage(cmd, stdout);
            return -1;
        }
        if (c == ':' || c == '?') {
            options_refused(cmd, longopts, c, optopt, options_arg_read(argc, argv, from));
            return CRAWL_EXIT_USAGE;
        }
        if (li >= 0)
            snprintf(name, sizeof(name), "--%s", longopts[li].name);
        else
            snprintf(name, sizeof(name), "-%c", c);
        for (size_t i = 0; i < sizeof(options_short_alias) / sizeof(options_short_alias[0]); i++)
            if (li < 0 && c == options_short_alias[i].alias)
                c = options_short_alias[i].canon;
        if (options_apply(o, c, name, optarg) < 0)
            return CRAWL_EXIT_USAGE;
    }
    o->urls = argv + optind;
    o->nurls = argc - optind;
    o->argv = argv;
    o->argc = argc;
    if (o->warc_cdx && !o->warc_file) {
        fprintf(stderr, "gather %s: --warc-cdx needs --warc-file\n", crawl_cmd_name(cmd));
        return CRAWL_EXIT_USAGE;
    }
    if (o->warc_file && (!*o->warc_file || o->mode != CRAWL_MODE_ASYNC)) {
        fprintf(stderr, "gather %s: --warc-file needs a NAME and --mode async\n", crawl_cmd_name(cmd));
        return CRAWL_EXIT_USAGE;
    }
    if (o->nsweep > 1 && cmd != CRAWL_CMD_BENCH) {
        fprintf(stderr, "gather %s: -c takes one number (a list sweeps concurrency in gather bench)\n",
                crawl_cmd_name(cmd));
        return CRAWL_EXIT_USAGE;
    }
    if (o->waterfall > 0) {
        int found = 0;
        for (int i = 0; i < o->nsweep; i++)
            found |= o->sweep[i] == o->waterfall;
        if (!found) {
            fprintf(stderr, "gather bench: --waterfall %ld is not one of the -c values\n", o->waterfall);
            return CRAWL_EXIT_USAGE;
        }
    }
    if (o->input && o->nurls > 0) {
        fprintf(stderr, "gather %s: give either -i FILE or URLs, not both\n", crawl_cmd_name(cmd));
        return CRAWL_EXIT_USAGE;
    }
    if (options_shared(o, cmd) < 0)
        return CRAWL_EXIT_USAGE;
    if (cmd == CRAWL_CMD_STATUS)
        return 0;
    if (cmd == CRAWL_CMD_CRAWL && o->nurls == 0 && !o->redis_url) {
        fprintf(stderr, "gather crawl: give at least one start URL (see gather crawl --help)\n");
        return CRAWL_EXIT_USAGE;
    }
    if (!o->input && o->nurls == 0 && !o->redis_url)
        o->input = "urls.txt";
    if (options_credentials(o) < 0)
        return CRAWL_EXIT_USAGE;
    o->http.headers = o->headers;
    o->http.proxy_headers = o->proxy_headers;
    o->http.verbose = o->verbose > 2;
    o->http.max_connections = o->concurrency;
    if (o->http.client_key && !o->http.client_cert) {
        fprintf(stderr, "gather %s: --key needs --cert\n", crawl_cmd_name(cmd));
        return CRAWL_EXIT_USAGE;
    }
    if (options_ca_from_env(o) < 0)
        return CRAWL_EXIT_USAGE;
    if (o->limit_rate > 0 && !(o->http.rate = http_rate_new(o->limit_rate))) {
        fprintf(stderr, "gather: out of memory\n");
        return CRAWL_EXIT_USAGE;
    }
    if (o->http.insecure)
        fprintf(stderr, "gather: warning: --insecure: TLS certificates are not verified\n");
    return 0;
}

void crawl_options_free(crawl_options_t *o)
{
    curl_slist_free_all(o->headers);
    o->headers = NULL;
    http_rate_free(o->http.rate);
    o->http.rate = NULL;
    curl_slist_free_all(o->proxy_headers);
    o->proxy_headers = NULL;
    free(o->user_owned);
    o->user_owned = NULL;
    if (o->password_owned)
        explicit_bzero(o->password_owned, strlen(o->password_owned));
    free(o->password_owned);
    o->password_owned = NULL;
    crawl_filter_free(&o->filter);
}

int crawl_options_main(crawl_cmd_t cmd, int argc, char **argv, int (*run)(crawl_options_t *o))
{
    crawl_options_t o;
    int result = crawl_options_parse(&o, cmd, argc, argv);

    if (result == 0)
        result = run(&o);
    else if (result < 0)
        result = CRAWL_EXIT_OK;     /* --help */
    crawl_options_free(&o);
    return result;
}
