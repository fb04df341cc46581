/* crawl_options: command-line options shared by the get, crawl and bench jobs. */
#ifndef CRAWLER_OPTIONS_H
#define CRAWLER_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include <curl/curl.h>

#include "crawler/crawl/filter.h"
#include "crawler/crawl/scope.h"
#include "net/http/http.h"
#include "storage/path.h"

typedef enum { CRAWL_MODE_ASYNC, CRAWL_MODE_THREADS, CRAWL_MODE_SYNC } crawl_mode_t;
typedef enum { CRAWL_CMD_GET = 1, CRAWL_CMD_CRAWL = 2, CRAWL_CMD_BENCH = 4, CRAWL_CMD_STATUS = 8 } crawl_cmd_t;
typedef enum { CRAWL_SAVE_ALL, CRAWL_SAVE_PAGES, CRAWL_SAVE_ASSETS, CRAWL_SAVE_NONE } crawl_save_t;

/* Concurrencies one bench sweep may hold. */
#define CRAWL_SWEEP_MAX 16

typedef struct crawl_options {
    const char *input;          /* -i FILE, "-" for stdin; NULL: positional URLs or urls.txt */
    char **urls;                /* positional URLs (borrowed from argv) */
    int nurls;
    int workers_given;          /* --workers was on the command line (o->http.workers) */
    const char *outdir;
    long concurrency;
    long per_host;              /* 0: no limit beyond concurrency */
    crawl_mode_t mode;
    store_layout_t layout;
    int quiet, verbose, json, do_fsync;
    long retries;               /* --retries: tries after the first for transient failures */
    long retry_delay_ms;        /* --retry-delay: backoff base */
    long max_wait_ms;           /* --max-wait: cap on one wait, Retry-After included */
    int timestamping;           /* -N, --timestamping: re-check complete files with validators
                                 * (get) or the saved file's mtime (crawl) */
    int no_clobber;             /* -nc, --no-clobber: never fetch a URL whose file exists */
    int content_disposition;    /* --content-disposition: name files as the server says */
    long split;                 /* --split N: ranges (connections) for one large file; 1: one stream */
    curl_off_t min_split_size;  /* --min-split-size: no segment smaller (default 1 MiB) */
    curl_off_t limit_rate;      /* --limit-rate: bytes/s for the whole run; 0: none
                                 * (http.rate is its budget, owned by the options) */
    http_opts_t http;
    struct curl_slist *headers; /* owned; freed by crawl_options_free */
    /* crawl */
    long depth;                 /* -d, -l: levels below the start pages (default 5, as wget);
                                 * CRAWL_DEPTH_INF for inf */
    long delay_ms;              /* --delay, -w: between requests to one host */
    int random_wait;            /* --random-wait: each wait 0.5 to 1.5 times delay_ms, as wget */
    int no_parent;              /* -np: never above a start URL's folder on its host */
    const char *domains;        /* -D LIST: hosts must be these or under them (borrowed) */
    long max_pages;             /* 0: no limit */
    long max_page_bytes;        /* pages larger than this are saved but not parsed */
    int robots;                 /* obey robots.txt (default on) */
    const char *robots_agent;   /* --robots-agent: product token for robots.txt; NULL: taken
                                 * from the User-Agent (argv, not owned) */
    int sitemap;                /* seed from /sitemap.xml */
    crawl_save_t save;
    crawl_scope_kind_t scope;
    crawl_filter_t filter;
    /* offline mirrors (wget's -k, -E, -p, -nH, --cut-dirs; -nd is --layout flat) */
    int convert_links;          /* -k: after the crawl, links in saved HTML/CSS point at files */
    int adjust_extension;       /* -E: .html/.css added to names that the type needs */
    int page_requisites;        /* -p: the assets pages use are fetched and saved whatever --save */
    int no_host_dirs;           /* -nH: no host folder in the tree layout */
    long cut_dirs;              /* --cut-dirs N: drop the first N folders of each path */
    /* bench (and --har for every command) */
    const char *modes;          /* --modes list, default "sync,threads,async" */
    long sweep[CRAWL_SWEEP_MAX];  /* bench: -c 1,10,100: the concurrencies, ascending */
    int nsweep;                 /* entries of sweep (1 for a plain -c N) */
    long sync_limit;            /* --sync-limit N: sync fetches the first N URLs (0: all) */
    const char *report;         /* --report FILE.html */
    long waterfall;             /* --waterfall C: the concurrency drawn as waterfalls (0: largest) */
    long repeat;
    int discard;
    const char *chart;          /* --chart FILE.svg */
    const char *har;            /* --har FILE.har */
    /* credentials and cookies (http.username/password, netrc, proxy_headers point here) */
    int user_given;             /* --user: http.username and http.password are set */
    char *user_owned;           /* the USER of --user USER:PASSWORD, copied out of argv */
    char *password_owned;       /* a password typed at the prompt */
    const char *password_arg;   /* --password PASS */
    struct curl_slist *proxy_headers;   /* Proxy-Authorization from --header; owned */
    const char *load_cookies;   /* --load-cookies FILE (Netscape format) */
    const char *save_cookies;   /* --save-cookies FILE */
    /* WARC */
    const char *warc_file;      /* --warc-file NAME: NAME.warc.gz */
    int warc_cdx;               /* --warc-cdx: NAME.cdx beside it */
    /* a job shared through Redis (DISTRIBUTED.md) */
    const char *redis_url;      /* --redis URL (borrowed); NULL: the job is this process's own */
    const char *job_name;       /* --job NAME (borrowed) */
    long lease_ms;              /* --lease SEC: a claim not acknowledged for so long goes to
                                 * another worker (default 60 s) */
    int enqueue_only;           /* --enqueue-only: add the list or start URLs, fetch nothing */
    char **argv;                /* the command's arguments (borrowed), for the warcinfo record */
    int argc;
} crawl_options_t;

/* -d inf: deep enough for any site, small enough that depth + 1 stays an int. */
#define CRAWL_DEPTH_INF 1000000000L
#define CRAWL_DEPTH_DEFAULT 5

/* Exit statuses, also documented in --help and README. */
enum { CRAWL_EXIT_OK = 0, CRAWL_EXIT_FAILURES = 1, CRAWL_EXIT_USAGE = 2, CRAWL_EXIT_INTERRUPTED = 130 };

/* Parses the arguments of one command (argv[0] is its name). Returns 0, or CRAWL_EXIT_USAGE after
 * printing a message naming the bad option or value, or -1 after printing --help (exit 0).
 * Always call crawl_options_free afterwards. */
int crawl_options_parse(crawl_options_t *o, crawl_cmd_t cmd, int argc, char **argv);
void crawl_options_free(crawl_options_t *o);

/* A command's main: parses argv for cmd, runs run(o) when the options are good, frees them, and
 * returns the exit status (0 after --help, 2 for a usage error, else what run returned). */
int crawl_options_main(crawl_cmd_t cmd, int argc, char **argv, int (*run)(crawl_options_t *o));

const char *crawl_mode_name(crawl_mode_t m);

/* "get", "crawl", "bench" or "status". */
const char *crawl_cmd_name(crawl_cmd_t cmd);

/* The i-th long option of the parser's table and, in *cmds, the crawl_cmd_t mask of the commands
 * that accept it; NULL past the end. Static data: what crawl_optdoc documents (optdoc.h). */
struct option;
const struct option *crawl_options_long(size_t i, int *cmds);

/* Prints the --help of cmd to out, generated from crawl_optdoc (help.c). */
void crawl_usage(crawl_cmd_t cmd, FILE *out);

#endif
