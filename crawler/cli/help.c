/* crawl_usage: each command's --help, its options listed from crawl_optdoc (optdoc.h) between
 * hand-written paragraphs. */
#include <stdio.h>
#include <string.h>

#include "crawler/cli/optdoc.h"
#include "crawler/cli/options.h"

static const char usage_get[] =
"usage: gather get [-i FILE | -] [URL ...] [options]\n"
"\n"
"Download every URL of a list concurrently, streaming each body to a file.\n"
"With no -i and no URL, reads urls.txt in the current folder (with --redis: works on the job).\n"
"\n";

static const char usage_crawl[] =
"usage: gather crawl URL... [options]   (or: gather -r URL... [options])\n"
"\n"
"Crawl breadth-first from the start URLs, following links found in HTML pages, within a\n"
"scope and depth, obeying robots.txt; save pages and/or the assets they use.\n"
"\n";

static const char usage_bench[] =
"usage: gather bench [-i FILE | URL ...] [-c N[,N...]] [options]\n"
"\n"
"Run one workload in each mode (sync, threads, async) at each concurrency and compare\n"
"wall time, requests/s, MB/s, request latency (p50/p95/p99), CPU time, peak memory and\n"
"the threads used. Each run is a child 'gather get --retries 0' into a temporary folder,\n"
"removed afterwards; one untimed warm-up request per host:port comes first. Prints one\n"
"table with a row per (concurrency, mode) and a note where a mode could not reach the\n"
"concurrency asked and why (with --json: the table as one JSON object on stdout, the\n"
"text table on stderr).\n"
"\n";

static const char usage_status[] =
"usage: gather status --redis URL --job NAME [--json]\n"
"\n"
"Show a job shared through Redis: URLs waiting, in flight, done and failed, the BFS level,\n"
"the workers seen within a lease, and the hosts with the most URLs left.\n"
"\n";

static const char usage_status_exit[] =
"\n"
"Exit status: 0 shown, 2 usage error, no such job, or Redis unreachable.\n";

/* After the files options of get and crawl. */
static const char usage_files[] =
"\n"
"Credentials (--user, Authorization and Cookie headers) go only to the scheme://host:port of\n"
"the URLs given (in a crawl, of its start URLs): not to a link's other host, nor across a\n"
"redirect to another (unless --location-trusted). Proxy-Authorization goes only to a proxy;\n"
"cookies of the jar go where their domain and path say. URL passwords are shown as ***.\n"
"\n"
"Bodies are stored as the server sends them (Accept-Encoding: identity); crawled\n"
"pages are asked for compressed and decoded.\n"
"Each body is written to NAME.part and renamed to NAME when complete; a failed\n"
"download leaves no file under its final name. Failures are reported as\n"
"'URL: reason' on stderr; bad list lines as 'FILE:LINE: reason'.\n"
"State lives in DIR/.gather.db (SQLite): a re-run skips files already complete and\n"
"resumes an interrupted one from its NAME.part with Range + If-Range.\n"
"SIGINT/SIGTERM stop cleanly (exit 130); a second SIGINT exits at once.\n";

static const char usage_exit[] =
"\n"
"Long options are taken only when spelled in full: an abbreviation is refused, not read as\n"
"the option it begins.\n"
"wget's two-letter options (-np, -nc) are whole arguments: -npq is -n -p -q, and an option's\n"
"value is never one (-o -np names the folder -np).\n"
"Exit status: 0 every URL succeeded, 1 some failed (or a list line was bad),\n"
"2 usage error (or Redis unreachable or refusing), 130 interrupted (SIGINT/SIGTERM).\n";

/* Help text starts in this column; a longer left column puts it after two spaces, or on the
 * next line when the line would grow past HELP_WIDTH. */
#define HELP_COLUMN 26
#define HELP_WIDTH 92

/* Prints entry i of crawl_optdoc (with the aliases on its line) as --help shows it. */
static void help_entry(size_t i, FILE *out)
{
    const optdoc_t *d = &crawl_optdoc[i];
    const char *line = d->help;
    char names[256];
    size_t n = strcspn(line, "\n");
    int left;

    crawl_optdoc_names(i, 0, names, sizeof(names));
    /* a short spelling first is indented by 2, a long one by 6: the "--" of both line up */
    left = fprintf(out, "%s%s", names[1] == '-' ? "      " : "  ", names);
    if (left <= HELP_COLUMN - 2)
        fprintf(out, "%*s", HELP_COLUMN - left, "");
    else if ((size_t)left + 2 + n <= HELP_WIDTH)
        fputs("  ", out);
    else
        fprintf(out, "\n%*s", HELP_COLUMN, "");
    for (;;) {
        fprintf(out, "%.*s\n", (int)n, line);
        line += n;
        if (!*line++)
            break;
        n = strcspn(line, "\n");
        fprintf(out, "%*s", HELP_COLUMN, "");
    }
}

/* Prints the entries of section s shown for cmd, after its heading (if it has one and any entry
 * is shown). */
static void help_section(crawl_cmd_t cmd, optdoc_section_t s, FILE *out)
{
    const char *title = crawl_optdoc_section_title(s);
    int titled = 0;

    for (size_t i = 0; i < crawl_optdoc_count; i++) {
        const optdoc_t *d = &crawl_optdoc[i];
        if (d->section != s || !(d->cmds & cmd) || !d->help)
            continue;
        if (!titled && *title && s != OPTDOC_COMMON && s != OPTDOC_FILES)
            fprintf(out, "\n%s:\n", title);
        titled = 1;
        help_entry(i, out);
    }
}

void crawl_usage(crawl_cmd_t cmd, FILE *out)
{
    const char *head = cmd == CRAWL_CMD_GET ? usage_get : cmd == CRAWL_CMD_CRAWL ? usage_crawl :
                       cmd == CRAWL_CMD_BENCH ? usage_bench : usage_status;

    fputs(head, out);
    help_section(cmd, OPTDOC_MAIN, out);
    if (cmd == CRAWL_CMD_STATUS) {
        fputs(usage_status_exit, out);
        return;
    }
    help_section(cmd, OPTDOC_MIRROR, out);
    if (cmd == CRAWL_CMD_CRAWL)
        fputc('\n', out);
    help_section(cmd, OPTDOC_COMMON, out);
    help_section(cmd, OPTDOC_FILES, out);
    if (cmd != CRAWL_CMD_BENCH)
        fputs(usage_files, out);
    help_section(cmd, OPTDOC_SHARED, out);
    fputs(usage_exit, out);
}
