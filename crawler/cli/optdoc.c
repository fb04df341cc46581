/* crawl_optdoc: the documentation of every option, keyed by its long name; see optdoc.h. */
#include "crawler/cli/optdoc.h"

#include <getopt.h>
#include <string.h>

#include "crawler/cli/options.h"

#define G CRAWL_CMD_GET
#define C CRAWL_CMD_CRAWL
#define B CRAWL_CMD_BENCH
#define S CRAWL_CMD_STATUS

#define FLAG(name, shorts, sec, cmds, help) \
    { name, shorts, NULL, OPTDOC_FLAG, NULL, sec, cmds, help }
#define VALUE(name, shorts, meta, kind, sec, cmds, help) \
    { name, shorts, meta, kind, NULL, sec, cmds, help }
#define WORDS(name, shorts, meta, words, sec, cmds, help) \
    { name, shorts, meta, OPTDOC_WORDS, words, sec, cmds, help }

#define M OPTDOC_MAIN
#define F OPTDOC_FILE
#define D OPTDOC_DIR
#define T OPTDOC_TEXT

const optdoc_t crawl_optdoc[] = {
    /* ---- each command's own -------------------------------------------------------------- */
    VALUE("input", "-i", "FILE", F, M, G,
          "URL list, one per line ('-' = stdin); '#' starts a comment"),
    VALUE("input", "-i", "FILE", F, M, B, "URL list (default urls.txt)"),
    VALUE("depth", "-d, -l", "N|inf", T, M, C, NULL),  /* shown with --level */
    VALUE("level", NULL, "N|inf", T, M, C,
          "levels of links to follow; 0 = the start pages only, inf = no\n"
          "limit (default 5, as wget; wget's -l 0 means inf, gather's 0 not)"),
    FLAG("recursive", "-r", M, C, "accepted for wget's sake: a crawl is recursive"),
    VALUE("output", "-o", "DIR", D, M, G | C, "where files go (default ./downloads)"),
    VALUE("directory-prefix", "-P", "DIR", D, M, G | C, "the same as -o (wget's spelling)"),
    VALUE("concurrency", "-c", "N", T, M, G | C,
          "transfers in flight at most (default 16); lowered, with one\n"
          "warning, to what the open-files limit (ulimit -n) allows"),
    VALUE("concurrency", "-c", "LIST", T, M, B,
          "transfers in flight at most in threads and async mode: one\n"
          "number or a comma list to sweep, e.g. 1,10,100,1000 (default 16);\n"
          "threads mode runs one thread per transfer"),
    VALUE("modes", NULL, "LIST", T, M, B,
          "modes to run, comma-separated (default sync,threads,async);\n"
          "sync runs once per sweep (its concurrency is always 1)"),
    VALUE("sync-limit", NULL, "N", T, M, B,
          "sync fetches only the first N URLs; its wall and CPU time are\n"
          "scaled to the whole list (marked *)"),
    VALUE("repeat", NULL, "N", T, M, B,
          "runs per point, interleaved; the table shows medians, and the\n"
          "min-max of wall time"),
    VALUE("per-host", NULL, "N", T, M, G,
          "transfers in flight per host:port at most (default: no limit)"),
    VALUE("per-host", NULL, "N", T, M, C, "transfers in flight per host at most (default 4)"),
    VALUE("per-host", NULL, "N", T, M, B,
          "transfers in flight per host:port at most in threads and async\n"
          "mode (default: no limit)"),
    VALUE("workers", NULL, "N", T, M, G,
          "threads that run the transfers, each with its own event loop and\n"
          "connections (default: one per CPU core; 1: the main loop runs\n"
          "them itself); -c and --per-host hold for the whole process.\n"
          "async mode only; --warc-file and a single URL use 1"),
    VALUE("workers", NULL, "N", T, M, C,
          "threads that run the transfers, each with its own event loop and\n"
          "connections (default: one per CPU core; 1: the main loop runs\n"
          "them itself); -c, --per-host, delays and robots.txt hold for the\n"
          "whole process. async mode only; --warc-file and --delay use 1"),
    WORDS("mode", NULL, "MODE", "async threads sync", M, G, "async (default), threads or sync"),
    WORDS("layout", NULL, "LAYOUT", "flat tree", M, G,
          "flat (last path segment, default) or tree (host/path)"),
    FLAG("discard", NULL, M, G, "fetch but write nothing (measure the network alone)"),
    FLAG("discard", NULL, M, B, "do not write bodies (measure the network alone)"),
    VALUE("report", NULL, "FILE.html", F, M, B,
          "one self-contained page: throughput, p95 latency, CPU and peak\n"
          "memory against concurrency, the waterfalls, the table"),
    VALUE("chart", NULL, "FILE.svg", F, M, B,
          "draw a waterfall of every request (sampled beyond 2000), one\n"
          "panel per mode on a shared time axis"),
    VALUE("waterfall", NULL, "C", T, M, B,
          "the concurrency --chart and --report draw as waterfalls\n"
          "(default: the largest)"),
    FLAG("timestamping", "-N", M, G,
         "re-check complete files with If-None-Match/If-Modified-Since"),
    FLAG("no-clobber", "-nc", M, G, "never fetch a URL whose file exists (counted as skipped)"),
    FLAG("content-disposition", NULL, M, G,
         "name each file as the server's Content-Disposition says\n"
         "(made safe like URL names, never outside -o)"),
    VALUE("split", NULL, "N", T, M, G,
          "fetch a large file as N ranges over N connections (default 1;\n"
          "at most 64), when the server gives ranges, a size and a strong\n"
          "validator; each extra connection takes a -c and a --per-host\n"
          "permit if one is free; an interrupted file resumes per range"),
    VALUE("min-split-size", NULL, "B", T, M, G,
          "no range smaller than B (default 1M: a file under 2M is one stream)"),
    VALUE("delay", NULL, "MS", T, M, C, NULL),  /* shown with --wait */
    VALUE("wait", "-w", "SEC", T, M, C,
          "wait between requests to one host (default 0; -w takes seconds,\n"
          "0.5, 2m, 1h; robots.txt Crawl-delay raises it for that host)"),
    FLAG("random-wait", NULL, M, C, "each wait 0.5 to 1.5 times --delay/-w, drawn per request (wget)"),
    WORDS("scope", NULL, "SCOPE", "host domain prefix any", M, C,
          "host (default): the start hosts; domain: their registrable\n"
          "domains (Public Suffix List); prefix: under the start URL's\n"
          "folder; any: everywhere"),
    FLAG("no-parent", "-np", M, C,
         "never above a start URL's folder on its host (other hosts: as\n"
         "--scope says)"),
    FLAG("span-hosts", "-H", M, C, "follow links to any host (--scope any)"),
    VALUE("domains", "-D", "LIST", T, M, C,
          "only hosts in or under these comma-separated domains (with -H,\n"
          "as wget; it narrows whatever the scope)"),
    VALUE("include", NULL, "REGEX", T, M, C, "only URLs matching REGEX (POSIX extended)"),
    VALUE("exclude", NULL, "REGEX", T, M, C, "no URL matching REGEX"),
    VALUE("accept", "-A", "LIST", T, M, C,
          "save only files with these extensions, or names matching these\n"
          "wildcards ('*.jpg,img-??.png', as wget); pages are still\n"
          "fetched to find links"),
    VALUE("reject", "-R", "LIST", T, M, C, "never save files with these extensions or names"),
    VALUE("accept-type", NULL, "T,...", T, M, C,
          "save only these MIME types (image/ matches every image)"),
    WORDS("save", NULL, "WHAT", "all pages assets none", M, C, "all (default), pages, assets or none"),
    VALUE("max-pages", NULL, "N", T, M, C, "stop after N pages"),
    VALUE("max-page-size", NULL, "B", T, M, C,
          "parse at most B decoded bytes of a page (default 10485760, at\n"
          "most 16777216, the HTML parser's own limit)"),
    FLAG("no-robots", NULL, M, C, NULL),        /* shown with -e */
    WORDS("execute", "-e", "COMMAND", "robots=off robots=on wait= randomwait=on randomwait=off",
          M, C,
          "ignore robots.txt (-e robots=off); -e also takes wait=SEC and\n"
          "randomwait=on|off, as .wgetrc"),
    FLAG("timestamping", "-N", M, C,
         "a file already saved is asked for with If-Modified-Since (its\n"
         "mtime) and kept on 304; a new one gets the Last-Modified mtime"),
    FLAG("no-clobber", "-nc", M, C,
         "never fetch a URL whose file exists (pages found so are read\n"
         "from the disk for their links, as wget does)"),
    VALUE("robots-agent", NULL, "TOKEN", T, M, C,
          "the product token robots.txt User-agent lines are matched\n"
          "against (letters, '-', '_'); default: the leading letters,\n"
          "'-' and '_' of --user-agent (gather)"),
    FLAG("sitemap", NULL, M, C, "also start from /sitemap.xml of each start host"),
    WORDS("layout", NULL, "LAYOUT", "tree flat", M, C, "tree (host/path, default) or flat"),
    VALUE("redis", NULL, "URL", T, M, S,
          "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix://PATH[?db=N]\n"
          "(a password may also come from $GATHER_REDIS_PASSWORD)"),
    VALUE("job", NULL, "NAME", T, M, S, "the job (letters, digits, '.', '_', '-'; at most 64)"),
    FLAG("json", NULL, M, S, "one JSON object on stdout instead of the table"),
    FLAG("help", "-h", M, S, "this help"),

    /* ---- crawl: offline mirrors ------------------------------------------------------------ */
    FLAG("mirror", "-m", OPTDOC_MIRROR, C, "unlimited depth, timestamping (-N), tree layout"),
    FLAG("convert-links", "-k", OPTDOC_MIRROR, C,
         "after the crawl (an interrupted one too), point every link in\n"
         "saved HTML and CSS at the saved file (a relative path), or at\n"
         "the absolute URL when it was not saved; no other byte changes"),
    FLAG("page-requisites", "-p", OPTDOC_MIRROR, C,
         "fetch and save the images, styles and scripts pages use, those\n"
         "of the deepest pages too, whatever --save says"),
    FLAG("adjust-extension", "-E", OPTDOC_MIRROR, C,
         "add .html to an HTML file and .css to a stylesheet whose name\n"
         "does not end so (index.php?x=1 -> index-HASH.php.html)"),
    FLAG("no-directories", "-nd", OPTDOC_MIRROR, C, "no folders: --layout flat (names made unique)"),
    FLAG("no-host-directories", "-nH", OPTDOC_MIRROR, C, "no host folder in the tree layout"),
    VALUE("cut-dirs", NULL, "N", T, OPTDOC_MIRROR, C,
          "drop the first N folders of each URL's path in the tree"),

    /* ---- get, crawl and bench -------------------------------------------------------------- */
    VALUE("timeout", NULL, "SEC", T, OPTDOC_COMMON, G | C | B,
          "abort a transfer after SEC seconds in all (default: none)"),
    VALUE("connect-timeout", NULL, "SEC", T, OPTDOC_COMMON, G | C | B,
          "give up connecting after SEC seconds (default 30)"),
    VALUE("read-timeout", NULL, "SEC", T, OPTDOC_COMMON, G | C | B,
          "end a transfer that receives no data for SEC seconds, as a\n"
          "transient failure (default 900, as wget; 0: never)"),
    VALUE("max-redirs", NULL, "N", T, OPTDOC_COMMON, G | C | B,
          "follow at most N redirects (default 10; -1: none)"),
    VALUE("min-speed", NULL, "B", T, OPTDOC_COMMON, G | C | B,
          "abort a transfer slower than B bytes/s ..."),
    VALUE("min-speed-time", NULL, "SEC", T, OPTDOC_COMMON, G | C | B,
          "... for SEC seconds in a row (default 30)"),
    VALUE("user-agent", "-U", "S", T, OPTDOC_COMMON, G | C | B,
          "User-Agent header (default gather/0.1)"),
    VALUE("header", NULL, "'K: V'", T, OPTDOC_COMMON, G | C | B,
          "extra request header (repeatable)"),
    FLAG("insecure", NULL, OPTDOC_COMMON, G | C | B,
         "do not verify TLS certificates (says so on stderr)"),
    VALUE("cacert", NULL, "FILE", F, OPTDOC_COMMON, G | C | B,
          "trust the CA certificates in FILE (PEM) instead of the system's;\n"
          "default: $CURL_CA_BUNDLE, else $SSL_CERT_FILE"),
    VALUE("capath", NULL, "DIR", D, OPTDOC_COMMON, G | C | B,
          "trust the CA certificates in DIR (c_rehash'ed); default\n"
          "$SSL_CERT_DIR"),
    VALUE("cert", NULL, "FILE", F, OPTDOC_COMMON, G | C | B,
          "client certificate (PEM), with its key unless --key"),
    VALUE("key", NULL, "FILE", F, OPTDOC_COMMON, G | C | B,
          "the client certificate's private key (PEM)"),
    VALUE("proxy", NULL, "URL", T, OPTDOC_COMMON, G | C | B,
          "go through this proxy (http://, https://, socks5h://...; '' for\n"
          "none); default: $http_proxy, $https_proxy, $ALL_PROXY"),
    VALUE("noproxy", NULL, "LIST", T, OPTDOC_COMMON, G | C | B,
          "hosts, domains and CIDR ranges to reach directly ('*': all);\n"
          "default: $NO_PROXY"),
    VALUE("har", NULL, "FILE", F, OPTDOC_COMMON, G | C | B,
          "write every request with its timings as HTTP Archive 1.2\n"
          "(browser devtools import it; bench: one page per run)"),
    FLAG("quiet", "-q", OPTDOC_COMMON, G | C | B, "no progress line, no per-file messages"),
    FLAG("verbose", "-v", OPTDOC_COMMON, G | C | B, "a line per file"),
    FLAG("json", NULL, OPTDOC_COMMON, G | C | B, "JSON lines on stdout: one per URL, then a summary"),
    FLAG("help", "-h", OPTDOC_COMMON, G | C | B, "this help"),

    /* ---- get and crawl: files, limits, credentials ---------------------------------------- */
    VALUE("retries", NULL, "N", T, OPTDOC_FILES, G | C,
          "retry a transient failure N times (default 3): connection\n"
          "errors, timeouts, HTTP 408, 429 and 5xx; never other 4xx"),
    VALUE("retry-delay", NULL, "MS", T, OPTDOC_FILES, G | C,
          "backoff base: waits are random in [0, MS * 2^try] (default 1000)"),
    VALUE("max-wait", NULL, "SEC", T, OPTDOC_FILES, G | C,
          "cap on one wait, Retry-After included (default 60)"),
    VALUE("max-filesize", NULL, "B", T, OPTDOC_FILES, G | C,
          "fail a body larger than B bytes (K, M, G suffixes; a crawled\n"
          "page's decoded bytes)"),
    VALUE("limit-rate", NULL, "RATE", T, OPTDOC_FILES, G | C,
          "receive at most RATE bytes/s in all, over every transfer of\n"
          "the run (k, M, G suffixes: 1024-based)"),
    VALUE("limit-rate-each", NULL, "RATE", T, OPTDOC_FILES, G | C,
          "at most RATE bytes/s per transfer"),
    FLAG("fsync", NULL, OPTDOC_FILES, G | C, "fsync each file before renaming it into place"),
    VALUE("warc-file", NULL, "NAME", F, OPTDOC_FILES, G | C,
          "also archive every HTTP exchange (robots.txt and redirects too)\n"
          "as WARC/1.1 in NAME.warc.gz: request and response records as\n"
          "they went over the wire, revisits for repeated bodies"),
    FLAG("warc-cdx", NULL, OPTDOC_FILES, G | C, "with --warc-file: a sorted CDXJ index in NAME.cdx"),
    VALUE("user", NULL, "USER[:PASS]", T, OPTDOC_FILES, G | C,
          "log in with HTTP Basic authentication; with no password,\n"
          "--password gives it or, on a terminal, gather asks for it"),
    VALUE("password", NULL, "PASS", T, OPTDOC_FILES, G | C,
          "the password of --user (other users may see it with ps)"),
    FLAG("netrc", NULL, OPTDOC_FILES, G | C,
         "log in to hosts listed in ~/.netrc when nothing else is given"),
    VALUE("netrc-file", NULL, "FILE", F, OPTDOC_FILES, G | C, "the same, from FILE"),
    FLAG("location-trusted", NULL, OPTDOC_FILES, G | C,
         "send credentials to every host: redirect targets too and, in a\n"
         "crawl, hosts other than the start URLs'"),
    VALUE("load-cookies", NULL, "FILE", F, OPTDOC_FILES, G | C,
          "start with the cookies in FILE (Netscape format: curl -c, wget\n"
          "--save-cookies and browser exports write it)"),
    VALUE("save-cookies", NULL, "FILE", F, OPTDOC_FILES, G | C,
          "write the job's cookies to FILE at the end (same format, with\n"
          "session cookies); the job keeps and sends them either way"),

    /* ---- get and crawl: a job shared through Redis ----------------------------------------- */
    VALUE("redis", NULL, "URL", T, OPTDOC_SHARED, G | C,
          "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix://PATH[?db=N]\n"
          "(a password may also come from $GATHER_REDIS_PASSWORD)"),
    VALUE("job", NULL, "NAME", T, OPTDOC_SHARED, G | C,
          "the shared job: URLs given are added to it (a URL added twice is\n"
          "added once), then this process works on it until nothing is left;\n"
          "-c, --per-host and delays hold for all its workers together"),
    VALUE("lease", NULL, "SEC", T, OPTDOC_SHARED, G | C,
          "a URL claimed by a worker that dies is given to another after SEC\n"
          "seconds (default 60)"),
    FLAG("enqueue-only", NULL, OPTDOC_SHARED, G | C, "add the URLs to the job and exit without fetching"),
};

const size_t crawl_optdoc_count = sizeof(crawl_optdoc) / sizeof(crawl_optdoc[0]);

const char *crawl_optdoc_section_title(optdoc_section_t s)
{
    switch (s) {
    case OPTDOC_MAIN: return "";
    case OPTDOC_MIRROR: return "Offline mirrors (wget's spellings)";
    case OPTDOC_COMMON: return "Requests and output (get, crawl, bench)";
    case OPTDOC_FILES: return "Files, limits and credentials (get, crawl)";
    case OPTDOC_SHARED: return "A job shared by many processes and machines through Redis (see DISTRIBUTED.md)";
    case OPTDOC_NSECTIONS: break;
    }
    return "";
}

const optdoc_t *crawl_optdoc_find(const char *name, int cmds)
{
    for (size_t i = 0; i < crawl_optdoc_count; i++)
        if ((crawl_optdoc[i].cmds & cmds) && !strcmp(crawl_optdoc[i].name, name))
            return &crawl_optdoc[i];
    return NULL;
}

int crawl_optdoc_check(FILE *err)
{
    static const int cmds[] = { CRAWL_CMD_GET, CRAWL_CMD_CRAWL, CRAWL_CMD_BENCH, CRAWL_CMD_STATUS };
    const struct option *opt;
    int mask, bad = 0;

    for (size_t i = 0; (opt = crawl_options_long(i, &mask)); i++) {
        for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
            int n = 0;
            if (!(mask & cmds[k]))
                continue;
            for (size_t j = 0; j < crawl_optdoc_count; j++)
                n += (crawl_optdoc[j].cmds & cmds[k]) && !strcmp(crawl_optdoc[j].name, opt->name);
            if (n != 1) {
                fprintf(err, "gather: option --%s of gather %s is documented %d times, not once "
                        "(crawler/cli/optdoc.c)\n", opt->name, crawl_cmd_name(cmds[k]), n);
                bad++;
            }
        }
    }
    for (size_t j = 0; j < crawl_optdoc_count; j++) {
        const optdoc_t *d = &crawl_optdoc[j];
        int found = 0;
        for (size_t i = 0; (opt = crawl_options_long(i, &mask)); i++)
            if (!strcmp(opt->name, d->name)) {
                found = 1;
                if ((mask & d->cmds) != d->cmds || (opt->has_arg != no_argument) != (d->metavar != NULL)) {
                    fprintf(err, "gather: the documentation of --%s does not match the parser's "
                            "table (commands or value)\n", d->name);
                    bad++;
                }
            }
        if (!found) {
            fprintf(err, "gather: --%s is documented but not in the parser's table\n", d->name);
            bad++;
        }
    }
    return bad;
}

/* Appends the printf-formatted text to buf (size bytes, NUL-terminated, cut if too long). */
static void optdoc_add(char *buf, size_t size, const char *fmt, const char *s)
{
    size_t len = strlen(buf);

    if (len + 1 < size)
        snprintf(buf + len, size - len, fmt, s);
}

/* Appends s to buf escaped for roff: '-' as \-, '\' as \e. */
static void optdoc_add_roff(char *buf, size_t size, const char *s)
{
    for (; *s; s++)
        optdoc_add(buf, size, "%s", *s == '-' ? "\\-" : *s == '\\' ? "\\e" : (char[2]){ *s, 0 });
}

/* One spelling ("-d", "--depth"): bold in roff. */
static void optdoc_add_name(char *buf, size_t size, const char *name, int roff)
{
    if (!roff) {
        optdoc_add(buf, size, "%s", name);
        return;
    }
    optdoc_add(buf, size, "%s", "\\fB");
    optdoc_add_roff(buf, size, name);
    optdoc_add(buf, size, "%s", "\\fR");
}

void crawl_optdoc_names(size_t last, int roff, char *buf, size_t size)
{
    size_t first = last;
    char one[64];

    buf[0] = '\0';
    while (first > 0 && !crawl_optdoc[first - 1].help && (crawl_optdoc[first - 1].cmds & crawl_optdoc[last].cmds))
        first--;
    for (size_t i = first; i <= last; i++) {
        const optdoc_t *d = &crawl_optdoc[i];
        const char *s = d->shorts;

        while (s && *s) {
            size_t n = strcspn(s, ", ");
            snprintf(one, sizeof(one), "%.*s", (int)n, s);
            optdoc_add_name(buf, size, one, roff);
            optdoc_add(buf, size, "%s", ", ");
            s += n;
            s += strspn(s, ", ");
        }
        snprintf(one, sizeof(one), "--%s", d->name);
        optdoc_add_name(buf, size, one, roff);
        /* a value is named once for spellings that share it: "--depth, --level N|inf" */
        if (d->metavar && (i == last || !crawl_optdoc[i + 1].metavar ||
                           strcmp(d->metavar, crawl_optdoc[i + 1].metavar) != 0)) {
            optdoc_add(buf, size, "%s", roff ? " \\fI" : " ");
            if (roff)
                optdoc_add_roff(buf, size, d->metavar);
            else
                optdoc_add(buf, size, "%s", d->metavar);
            optdoc_add(buf, size, "%s", roff ? "\\fR" : "");
        }
        if (i < last)
            optdoc_add(buf, size, "%s", ", ");
    }
}
