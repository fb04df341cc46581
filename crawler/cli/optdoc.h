/* crawl_optdoc: what a user reads about each option of the parser's table (crawler/cli/options.c):
 * its spellings, its value, the commands it is shown for and its help text. --help, the man page
 * and the shell completions are all generated from this one table (help.c, docgen.c). */
#ifndef CRAWLER_OPTDOC_H
#define CRAWLER_OPTDOC_H

#include <stddef.h>
#include <stdio.h>

/* What an option's value is, for completion: none (a flag), a file, a folder, one of a closed
 * set of words, or free text (a number, a URL, a list). */
typedef enum {
    OPTDOC_FLAG, OPTDOC_FILE, OPTDOC_DIR, OPTDOC_WORDS, OPTDOC_TEXT
} optdoc_kind_t;

/* Where an option is shown: the command's own options first, then the shared groups. */
typedef enum {
    OPTDOC_MAIN,        /* the command's own (one entry per command where the text differs) */
    OPTDOC_MIRROR,      /* crawl: offline mirrors, wget's spellings */
    OPTDOC_COMMON,      /* get, crawl, bench: HTTP, TLS, proxies, output */
    OPTDOC_FILES,       /* get, crawl: retries, limits, credentials, cookies, WARC */
    OPTDOC_SHARED,      /* get, crawl: a job shared through Redis */
    OPTDOC_NSECTIONS
} optdoc_section_t;

typedef struct optdoc {
    const char *name;       /* the long name without "--", as in options.c's table: the key */
    const char *shorts;     /* short spellings shown before it ("-d, -l", "-nd"), or NULL */
    const char *metavar;    /* "FILE", "N", ...; NULL for a flag */
    optdoc_kind_t kind;
    const char *words;      /* OPTDOC_WORDS: the values, space-separated ("async threads sync") */
    optdoc_section_t section;
    int cmds;               /* crawl_cmd_t mask: the commands this entry is shown for */
    const char *help;       /* lines separated by '\n'; NULL: an alias shown on the line of the
                             * entry before it ("-d, -l, --depth, --level N|inf") */
} optdoc_t;

/* The entries in the order --help shows them. An option whose text differs between commands
 * has one entry per text, with disjoint cmds. Static, never freed. */
extern const optdoc_t crawl_optdoc[];
extern const size_t crawl_optdoc_count;

/* Section headings for the man page and --help ("" for OPTDOC_MAIN). */
const char *crawl_optdoc_section_title(optdoc_section_t s);

/* The first entry for option `name` shown for any command of the mask cmds, or NULL. */
const optdoc_t *crawl_optdoc_find(const char *name, int cmds);

/* Writes into buf (size bytes, NUL-terminated, cut if too long) the spellings of entry `last`
 * with the aliases shown on its line (the entries before it whose help is NULL):
 * "-d, -l, --depth, --level N|inf". roff: with the man page's fonts and escapes. */
void crawl_optdoc_names(size_t last, int roff, char *buf, size_t size);

/* Checks that every option of the parser's table is documented for each command that accepts
 * it, and that every entry names an option the parser has for those commands. Prints each
 * mismatch to err; returns their number (0: the two tables agree). */
int crawl_optdoc_check(FILE *err);

#endif
