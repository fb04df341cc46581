/* gather: the command line entry point; dispatches to the get, crawl, bench and status commands. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "crawler/bench/bench.h"
#include "crawler/crawl/crawl.h"
#include "crawler/get/get.h"
#include "crawler/status/status.h"
#include "crawler/cli/docgen.h"
#include "crawler/cli/optdoc.h"
#include "crawler/cli/options.h"
#include "crawler/cli/version.h"
#include "commit.h"         /* GATHER_COMMIT, written by the Makefile into $(BUILD)/gen */

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "get", crawl_get_main, "download a list of URLs concurrently" },
    { "crawl", crawl_crawl_main, "follow links breadth-first within a scope and depth" },
    { "bench", crawl_bench_main, "run one list in sync, threads and async mode and compare" },
    { "status", crawl_status_main, "show a job shared through Redis" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: gather COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "completion", "print the completion script: gather completion bash|zsh");
    fprintf(out, "\n'gather -r URL... [options]' is 'gather crawl URL... [options]', as wget -r.\n"
                 "'gather COMMAND --help' describes a command; 'man gather' all of them.\n"
                 "'gather --version' names the version and the commit; 'gather --generate-man'\n"
                 "writes the man page (roff) to stdout.\n"
                 "Exit status: 0 success, 1 some URLs failed, 2 usage error.\n");
}

/* gather --generate-man, gather completion bash|zsh: generated from the option table, which
 * must first agree with the parser's (else exit 1, and the build stops). */
static int main_docs(int argc, char **argv)
{
    int man = !strcmp(argv[1], "--generate-man"), result;

    if (argc != (man ? 2 : 3)) {
        fprintf(stderr, "usage: gather --generate-man | gather completion bash|zsh\n");
        return CRAWL_EXIT_USAGE;
    }
    if (crawl_optdoc_check(stderr) != 0)
        return CRAWL_EXIT_FAILURES;
    result = man ? crawl_docgen_man(stdout, GATHER_VERSION) : crawl_docgen_completion(stdout, argv[2]);
    if (result == -2) {
        fprintf(stderr, "gather completion: '%s' is not bash or zsh\n", argv[2]);
        return CRAWL_EXIT_USAGE;
    }
    if (result < 0 || fflush(stdout) != 0) {
        perror("gather: stdout");
        return CRAWL_EXIT_FAILURES;
    }
    return CRAWL_EXIT_OK;
}

int main(int argc, char **argv)
{
    int status;
    CURLcode rc;

    if (argc < 2) {
        usage(stderr);
        return CRAWL_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CRAWL_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("gather %s (commit %s)\n%s\n", GATHER_VERSION, GATHER_COMMIT, curl_version());
        return CRAWL_EXIT_OK;
    }
    if (!strcmp(argv[1], "--generate-man") || !strcmp(argv[1], "completion"))
        return main_docs(argc, argv);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) {
            fprintf(stderr, "gather: curl_global_init: %s\n", curl_easy_strerror(rc));
            return CRAWL_EXIT_FAILURES;
        }
        status = commands[i].run(argc - 1, argv + 1);
        curl_global_cleanup();
        return status;
    }
    /* wget's fingers: "gather -r URL" (or --recursive anywhere before "--") is a crawl. */
    for (int i = 1; i < argc && argv[1][0] == '-' && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-r") != 0 && strcmp(argv[i], "--recursive") != 0)
            continue;
        rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) {
            fprintf(stderr, "gather: curl_global_init: %s\n", curl_easy_strerror(rc));
            return CRAWL_EXIT_FAILURES;
        }
        argv[0] = "crawl";
        status = crawl_crawl_main(argc, argv);
        curl_global_cleanup();
        return status;
    }
    fprintf(stderr, "gather: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CRAWL_EXIT_USAGE;
}
