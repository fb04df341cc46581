/* crawl_options: getopt_long parsing with a clear message for every bad value. */
#include "crawler/options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GATHER_USER_AGENT "gather/0.1 (+https://example.invalid/gather)"

enum {
    OPT_PER_HOST = 256, OPT_MODE, OPT_LAYOUT, OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_USER_AGENT,
    OPT_HEADER, OPT_MAX_REDIRS, OPT_INSECURE, OPT_JSON, OPT_FSYNC, OPT_HELP
};

void crawl_usage_get(FILE *out)
{
    fputs(
"usage: gather get [-i FILE | -] [URL ...] [options]\n"
"\n"
"Download every URL of a list concurrently, streaming each body to a file.\n"
"With no -i and no URL, reads urls.txt in the current folder.\n"
"\n"
"  -i, --input FILE        URL list, one per line ('-' = stdin); '#' starts a comment\n"
"  -o, --output DIR        where files go (default ./downloads)\n"
"  -c, --concurrency N     transfers in flight at most (default 16)\n"
"      --per-host N        transfers in flight per host:port at most (default: no limit)\n"
"      --mode MODE         async (default), threads or sync\n"
"      --layout LAYOUT     flat (last path segment, default) or tree (host/path)\n"
"      --timeout SEC       abort a transfer after SEC seconds in all (default: none)\n"
"      --connect-timeout SEC  give up connecting after SEC seconds (default 30)\n"
"      --max-redirs N      follow at most N redirects (default 10; -1: none)\n"
"      --user-agent S      User-Agent header\n"
"      --header 'K: V'     extra request header (repeatable)\n"
"      --insecure          do not verify TLS certificates\n"
"      --fsync             fsync each file before renaming it into place\n"
"  -q, --quiet             no progress line, no per-file messages\n"
"  -v, --verbose           a line per file\n"
"      --json              JSON lines on stdout: one per URL, then a summary\n"
"  -h, --help              this help\n"
"\n"
"Each body is written to NAME.part and renamed to NAME when complete; a failed\n"
"download leaves no file under its final name. Failures are reported as\n"
"'URL: reason' on stderr.\n"
"\n"
"Exit status: 0 every URL succeeded, 1 some failed, 2 usage error.\n", out);
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

const char *crawl_mode_name(crawl_mode_t m)
{
    return m == CRAWL_MODE_SYNC ? "sync" : m == CRAWL_MODE_THREADS ? "threads" : "async";
}

static void options_defaults(crawl_options_t *o)
{
    memset(o, 0, sizeof(*o));
    o->outdir = "downloads";
    o->concurrency = 16;
    o->mode = CRAWL_MODE_ASYNC;
    o->layout = STORE_LAYOUT_FLAT;
    o->http.connect_timeout_ms = 30000;
    o->http.max_redirs = 10;
    o->http.user_agent = GATHER_USER_AGENT;
}

int crawl_options_parse_get(crawl_options_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "input", required_argument, NULL, 'i' },
        { "output", required_argument, NULL, 'o' },
        { "concurrency", required_argument, NULL, 'c' },
        { "per-host", required_argument, NULL, OPT_PER_HOST },
        { "mode", required_argument, NULL, OPT_MODE },
        { "layout", required_argument, NULL, OPT_LAYOUT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
        { "user-agent", required_argument, NULL, OPT_USER_AGENT },
        { "header", required_argument, NULL, OPT_HEADER },
        { "max-redirs", required_argument, NULL, OPT_MAX_REDIRS },
        { "insecure", no_argument, NULL, OPT_INSECURE },
        { "fsync", no_argument, NULL, OPT_FSYNC },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    options_defaults(o);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:o:c:qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': o->input = optarg; break;
        case 'o':
            if (!*optarg) {
                fprintf(stderr, "gather: -o: the output folder name is empty\n");
                return CRAWL_EXIT_USAGE;
            }
            o->outdir = optarg;
            break;
        case 'c':
            if (parse_long("-c", optarg, 1, 10000, &o->concurrency) < 0)
                return CRAWL_EXIT_USAGE;
            break;
        case OPT_PER_HOST:
            if (parse_long("--per-host", optarg, 0, 10000, &o->per_host) < 0)
                return CRAWL_EXIT_USAGE;
            break;
        case OPT_MODE:
            if (!strcmp(optarg, "async")) o->mode = CRAWL_MODE_ASYNC;
            else if (!strcmp(optarg, "threads")) o->mode = CRAWL_MODE_THREADS;
            else if (!strcmp(optarg, "sync")) o->mode = CRAWL_MODE_SYNC;
            else {
                fprintf(stderr, "gather: --mode: '%s' is not async, threads or sync\n", optarg);
                return CRAWL_EXIT_USAGE;
            }
            break;
        case OPT_LAYOUT:
            if (store_layout_parse(optarg, &o->layout) < 0) {
                fprintf(stderr, "gather: --layout: '%s' is not flat or tree\n", optarg);
                return CRAWL_EXIT_USAGE;
            }
            break;
        case OPT_TIMEOUT:
            if (parse_seconds("--timeout", optarg, &o->http.timeout_ms) < 0)
                return CRAWL_EXIT_USAGE;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_seconds("--connect-timeout", optarg, &o->http.connect_timeout_ms) < 0)
                return CRAWL_EXIT_USAGE;
            break;
        case OPT_USER_AGENT: o->http.user_agent = optarg; break;
        case OPT_HEADER: {
            struct curl_slist *l;
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n")) {
                fprintf(stderr, "gather: --header: '%s' is not 'Name: value'\n", optarg);
                return CRAWL_EXIT_USAGE;
            }
            l = curl_slist_append(o->headers, optarg);
            if (!l) {
                fprintf(stderr, "gather: out of memory\n");
                return CRAWL_EXIT_USAGE;
            }
            o->headers = l;
            break;
        }
        case OPT_MAX_REDIRS:
            if (parse_long("--max-redirs", optarg, -1, 1000, &o->http.max_redirs) < 0)
                return CRAWL_EXIT_USAGE;
            break;
        case OPT_INSECURE: o->http.insecure = 1; break;
        case OPT_FSYNC: o->do_fsync = 1; break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose++; break;
        case OPT_JSON: o->json = 1; break;
        case 'h': crawl_usage_get(stdout); return -1;
        case ':':
            fprintf(stderr, "gather get: option '%s' needs a value\n", argv[optind - 1]);
            return CRAWL_EXIT_USAGE;
        default:
            fprintf(stderr, "gather get: unknown option '%s' (see gather get --help)\n", argv[optind - 1]);
            return CRAWL_EXIT_USAGE;
        }
    }
    o->urls = argv + optind;
    o->nurls = argc - optind;
    if (o->input && o->nurls > 0) {
        fprintf(stderr, "gather get: give either -i FILE or URLs, not both\n");
        return CRAWL_EXIT_USAGE;
    }
    if (!o->input && o->nurls == 0)
        o->input = "urls.txt";
    o->http.headers = o->headers;
    o->http.verbose = o->verbose > 2;
    o->http.max_connections = o->concurrency;
    if (o->http.insecure)
        fprintf(stderr, "gather: warning: --insecure: TLS certificates are not verified\n");
    return 0;
}

void crawl_options_free(crawl_options_t *o)
{
    curl_slist_free_all(o->headers);
    o->headers = NULL;
}
