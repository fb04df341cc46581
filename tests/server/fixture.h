/* fixture.h - the server-wide settings and shared state that routes are answered from. */
#ifndef FIXTURE_FIXTURE_H
#define FIXTURE_FIXTURE_H

#include <stdbool.h>

struct stats;

enum fixture_robots {
    FIXTURE_ROBOTS_ALLOW,    /* Disallow: /site/private/ only */
    FIXTURE_ROBOTS_DISALLOW, /* Disallow: / */
    FIXTURE_ROBOTS_404,
    FIXTURE_ROBOTS_500
};

/* Filled by main before the daemon starts and read-only afterwards, except for the stats, which
 * synchronise themselves. */
struct fixture {
    char authority[80];  /* how pages name this server: "127.0.0.1:PORT" or "[::1]:PORT" */
    char offsite[80];    /* another host string for the same server: "localhost:PORT" */
    enum fixture_robots robots;
    unsigned delay_ms;   /* --delay: for every counted request that has no ?delay of its own */
    unsigned robots_delay_ms;  /* --robots-delay: for /robots.txt instead of delay_ms, when set */
    unsigned sitemap_delay_ms; /* --sitemap-delay: for the sitemaps instead of delay_ms, when set */
    unsigned long conn_rate; /* --conn-rate: body bytes per second per TCP connection; 0: no cap */
    bool quiet;
    struct stats *stats; /* owned by main */
};

#endif
