/* main.c - fixture-server: command line, startup, signal wait and clean shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <pthread.h>

#include "emit.h"
#include "fixture.h"
#include "server.h"
#include "stats.h"

struct options {
    const char *host;
    unsigned port;
    const char *port_file;
    const char *emit;
    enum fixture_robots robots;
    bool no_hits;
    unsigned delay_ms;
    unsigned robots_delay_ms;
    unsigned sitemap_delay_ms;
    unsigned long conn_rate;
    bool quiet;
};

static void usage(FILE *out)
{
    fputs("usage: fixture-server [--host 127.0.0.1] [--port 0] [--port-file FILE]\n"
          "                      [--robots allow|disallow|404|500] [--delay MS] [--robots-delay MS]\n"
          "                      [--sitemap-delay MS] [--conn-rate BYTES_PER_S] [--no-hits] [--quiet]\n"
          "       fixture-server [--host H] [--port P] --emit TARGET\n"
          "Serves the gather test routes (see tests/server/README.md); prints the bound port.\n"
          "--emit writes the body a GET of TARGET (path?query) answers with and exits.\n",
          out);
}

/* A delay option's value: milliseconds, at most 60000. Returns 0, or -1 after a message. */
static int parse_delay(const char *name, const char *arg, unsigned *ms)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(arg, &end, 10);
    if (errno != 0 || *end != '\0' || end == arg || v > 60000) {
        fprintf(stderr, "fixture-server: bad --%s %s\n", name, arg);
        return -1;
    }
    *ms = (unsigned)v;
    return 0;
}

/* Returns 0, 1 for --help (exit 0), -1 for a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "host", required_argument, NULL, 'h' },
        { "port", required_argument, NULL, 'p' },
        { "port-file", required_argument, NULL, 'f' },
        { "robots", required_argument, NULL, 'r' },
        { "no-hits", no_argument, NULL, 'n' },
        { "delay", required_argument, NULL, 'd' },
        { "robots-delay", required_argument, NULL, 'R' },
        { "sitemap-delay", required_argument, NULL, 'S' },
        { "quiet", no_argument, NULL, 'q' },
        { "conn-rate", required_argument, NULL, 'C' },
        { "emit", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 }
    };
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            o->host = optarg;
            break;
        case 'p': {
            char *end;
            unsigned long v;

            errno = 0;
            v = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || v > 65535) {
                fprintf(stderr, "fixture-server: bad --port %s\n", optarg);
                return -1;
            }
            o->port = (unsigned)v;
            break;
        }
        case 'f':
            o->port_file = optarg;
            break;
        case 'r':
            if (strcmp(optarg, "allow") == 0)
                o->robots = FIXTURE_ROBOTS_ALLOW;
            else if (strcmp(optarg, "disallow") == 0)
                o->robots = FIXTURE_ROBOTS_DISALLOW;
            else if (strcmp(optarg, "404") == 0)
                o->robots = FIXTURE_ROBOTS_404;
            else if (strcmp(optarg, "500") == 0)
                o->robots = FIXTURE_ROBOTS_500;
            else {
                fprintf(stderr, "fixture-server: bad --robots %s\n", optarg);
                return -1;
            }
            break;
        case 'n':
            o->no_hits = true;
            break;
        case 'd':
            if (parse_delay("delay", optarg, &o->delay_ms) != 0)
                return -1;
            break;
        case 'R':
            if (parse_delay("robots-delay", optarg, &o->robots_delay_ms) != 0)
                return -1;
            break;
        case 'S':
            if (parse_delay("sitemap-delay", optarg, &o->sitemap_delay_ms) != 0)
                return -1;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'C': {
            char *end;

            errno = 0;
            o->conn_rate = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || optarg[0] == '-' ||
                o->conn_rate > 10000000000ul) {
                fprintf(stderr, "fixture-server: bad --conn-rate %s\n", optarg);
                return -1;
            }
            break;
        }
        case 'e':
            o->emit = optarg;
            break;
        case 'H':
            return 1;
        default:
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "fixture-server: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* Fill the names the pages use for this server. Returns 0, -1 if they do not fit. */
static int set_authority(struct fixture *fx, const char *host_text, unsigned port)
{
    int a = snprintf(fx->authority, sizeof(fx->authority), "%s:%u", host_text, port);
    int b = snprintf(fx->offsite, sizeof(fx->offsite), "localhost:%u", port);

    if (a < 0 || (size_t)a >= sizeof(fx->authority) || b < 0 || (size_t)b >= sizeof(fx->offsite))
        return -1;
    return 0;
}

/* Write "PORT\n" to path atomically (temporary file + rename), so a poller never reads half. */
static int write_port_file(const char *path, unsigned port)
{
    size_t n = strlen(path) + sizeof(".tmp");
    char *tmp = malloc(n);
    FILE *f = NULL;
    int result = -1;

    if (tmp == NULL)
        goto cleanup;
    (void)snprintf(tmp, n, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        goto cleanup;
    if (fprintf(f, "%u\n", port) < 0) {
        (void)fclose(f);
        goto cleanup;
    }
    if (fclose(f) != 0)
        goto cleanup;
    if (rename(tmp, path) != 0)
        goto cleanup;
    result = 0;

cleanup:
    if (result != 0)
        fprintf(stderr, "fixture-server: --port-file %s: %s\n", path, strerror(errno));
    free(tmp);
    return result;
}

/* One thread per connection needs one descriptor per connection: take the whole hard limit. */
static void raise_fd_limit(bool quiet)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && !quiet)
        perror("fixture-server: setrlimit(RLIMIT_NOFILE)");
}

/* Serve until SIGINT or SIGTERM. The signals are blocked in every thread (the mask is set
 * before the daemon creates any) and taken here with sigwait. */
static int run_server(struct fixture *fx, const struct options *o, const sigset_t *stop_signals)
{
    char host_text[64];
    unsigned port = 0;
    struct server *srv;
    int fd = -1, sig = 0;

    if (server_listen(o->host, o->port, &fd, &port, host_text, sizeof(host_text)) != 0)
        return 1;
    if (set_authority(fx, host_text, port) != 0) {
        fprintf(stderr, "fixture-server: host name too long\n");
        (void)close(fd);
        return 1;
    }
    srv = server_start(fx, fd);
    if (srv == NULL)
        return 1;
    if (printf("%u\n", port) < 0 || fflush(stdout) != 0) {
        perror("fixture-server: stdout");
        server_stop(srv);
        return 1;
    }
    if (o->port_file != NULL && write_port_file(o->port_file, port) != 0) {
        server_stop(srv);
        return 1;
    }
    if (!o->quiet)
        fprintf(stderr, "fixture-server: serving http://%s/\n", fx->authority);
    if (sigwait(stop_signals, &sig) != 0)
        perror("fixture-server: sigwait");
    if (!o->quiet)
        fprintf(stderr, "fixture-server: signal %d, stopping\n", sig);
    server_stop(srv);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = { .host = "127.0.0.1", .robots = FIXTURE_ROBOTS_ALLOW };
    struct fixture fx = { .robots = FIXTURE_ROBOTS_ALLOW };
    sigset_t stop_signals;
    int result = 1, rc;

    rc = parse_options(argc, argv, &o);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    fx.robots = o.robots;
    fx.delay_ms = o.delay_ms;
    fx.robots_delay_ms = o.robots_delay_ms;
    fx.sitemap_delay_ms = o.sitemap_delay_ms;
    fx.quiet = o.quiet;
    fx.conn_rate = o.conn_rate;
    fx.stats = stats_new(o.no_hits);
    if (fx.stats == NULL) {
        fprintf(stderr, "fixture-server: out of memory\n");
        goto cleanup;
    }

    if (o.emit != NULL) {
        /* No socket: pages name the server after --host/--port as given, so pass the port of
         * the running server to compare /site/ pages. */
        char host_text[64];

        rc = snprintf(host_text, sizeof(host_text), strchr(o.host, ':') != NULL ? "[%s]" : "%s",
                      o.host);
        if (rc < 0 || (size_t)rc >= sizeof(host_text) || set_authority(&fx, host_text, o.port) != 0) {
            fprintf(stderr, "fixture-server: host name too long\n");
            goto cleanup;
        }
        result = emit_target(&fx, o.emit, stdout);
        goto cleanup;
    }

    if (sigemptyset(&stop_signals) != 0 || sigaddset(&stop_signals, SIGINT) != 0 ||
        sigaddset(&stop_signals, SIGTERM) != 0 ||
        pthread_sigmask(SIG_BLOCK, &stop_signals, NULL) != 0) {
        perror("fixture-server: signals");
        goto cleanup;
    }
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        perror("fixture-server: signal(SIGPIPE)");
        goto cleanup;
    }
    raise_fd_limit(o.quiet);
    result = run_server(&fx, &o, &stop_signals);

cleanup:
    stats_free(fx.stats);
    return result;
}
