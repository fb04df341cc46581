/* test_optdoc.c - crawler/cli: --help, gather(1) and the bash and zsh completions name exactly
 * the options of the parser's table (options.c), each for the commands that take it: none is
 * missing, none is there that the parser lacks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/cli/docgen.h"
#include "crawler/cli/optdoc.h"
#include "crawler/cli/options.h"

static const crawl_cmd_t all_cmds[] = {
    CRAWL_CMD_GET, CRAWL_CMD_CRAWL, CRAWL_CMD_BENCH, CRAWL_CMD_STATUS
};
#define NCMDS (sizeof(all_cmds) / sizeof(all_cmds[0]))

/* Spelled where the commands are listed, not options of any command. */
static const char *const top_level[] = { "version", "generate-man" };

/* ---- capturing what a user reads ---------------------------------------------------------------- */

enum what { WHAT_HELP, WHAT_MAN, WHAT_BASH, WHAT_ZSH };

static char *capture(enum what w, int cmd)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    switch (w) {
    case WHAT_HELP: crawl_usage((crawl_cmd_t)cmd, f); break;
    case WHAT_MAN: assert_int_equal(crawl_docgen_man(f, "0.0-test"), 0); break;
    case WHAT_BASH: assert_int_equal(crawl_docgen_completion(f, "bash"), 0); break;
    case WHAT_ZSH: assert_int_equal(crawl_docgen_completion(f, "zsh"), 0); break;
    }
    assert_int_equal(fclose(f), 0);
    return text;
}

/* The man page as it reads: roff's \- is '-', font changes (\fB, \fI, \fR, \fP) vanish. */
static char *unroff(char *man)
{
    char *r = man, *w = man;

    while (*r) {
        if (r[0] == '\\' && r[1] == '-') {
            *w++ = '-';
            r += 2;
        } else if (r[0] == '\\' && r[1] == 'f' && r[2]) {
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return man;
}

/* The part of a completion script for one command: from "    NAME)" (bash: a line of its own
 * in the last case; zsh: "        NAME) _arguments") to the end of that case's entry. */
static char *section(const char *script, const char *start, const char *end)
{
    const char *s = strstr(script, start), *e;
    char *out;

    if (!s)
        fail_msg("no section '%s'", start);
    e = strstr(s, end);
    if (!e)
        fail_msg("section '%s' has no end '%s'", start, end);
    out = strndup(s, (size_t)(e - s));
    assert_non_null(out);
    return out;
}

/* ---- options in a text -------------------------------------------------------------------------- */

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* 1 when "--name" stands in text as a whole word. */
static int mentions(const char *text, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = strstr(text, "--"); p; p = strstr(p + 1, "--")) {
        if (p > text && name_char(p[-1]))
            continue;
        if (!strncmp(p + 2, name, n) && !name_char(p[2 + n]))
            return 1;
    }
    return 0;
}

/* The commands (mask) of the parser that take --name; 0: none. */
static int parser_cmds(const char *name)
{
    const struct option *opt;
    int mask, all = 0;

    for (size_t i = 0; (opt = crawl_options_long(i, &mask)); i++)
        if (!strcmp(opt->name, name))
            all |= mask;
    return all;
}

/* Every "--word" in text is an option of one of the commands of mask (or, with top_ok, one of
 * the top-level spellings); names the first that is not. */
static void only_known(const char *text, int mask, int top_ok, const char *where)
{
    for (const char *p = strstr(text, "--"); p; p = strstr(p + 1, "--")) {
        char name[64];
        size_t n = 0;
        int ok;

        if ((p > text && name_char(p[-1])) || !(p[2] >= 'a' && p[2] <= 'z'))
            continue;
        while (name_char(p[2 + n]) && n < sizeof(name) - 1) {
            name[n] = p[2 + n];
            n++;
        }
        name[n] = '\0';
        ok = (parser_cmds(name) & mask) != 0;
        for (size_t k = 0; top_ok && k < sizeof(top_level) / sizeof(top_level[0]); k++)
            ok |= !strcmp(name, top_level[k]);
        if (!ok)
            fail_msg("%s names --%s, which the parser's table lacks", where, name);
    }
}

/* Every option the parser takes for cmd is in text. */
static void all_present(const char *text, crawl_cmd_t cmd, const char *where)
{
    const struct option *opt;
    int mask;

    for (size_t i = 0; (opt = crawl_options_long(i, &mask)); i++)
        if ((mask & cmd) && !mentions(text, opt->name))
            fail_msg("%s lacks --%s of gather %s", where, opt->name, crawl_cmd_name(cmd));
}

/* ---- the tests ---------------------------------------------------------------------------------- */

static void test_doc_table_agrees_with_the_parser(void **state)
{
    (void)state;
    assert_int_equal(crawl_optdoc_check(stderr), 0);
}

static void test_help_lists_every_option_of_its_command(void **state)
{
    (void)state;
    for (size_t k = 0; k < NCMDS; k++) {
        char *help = capture(WHAT_HELP, all_cmds[k]), where[64];

        snprintf(where, sizeof(where), "gather %s --help", crawl_cmd_name(all_cmds[k]));
        all_present(help, all_cmds[k], where);
        /* its prose may name another command's option ("gather get --retries 0"), never one
         * that does not exist */
        only_known(help, CRAWL_CMD_GET | CRAWL_CMD_CRAWL | CRAWL_CMD_BENCH | CRAWL_CMD_STATUS,
                   0, where);
        free(help);
    }
}

static void test_man_page_lists_every_option(void **state)
{
    char *man = unroff(capture(WHAT_MAN, 0));

    (void)state;
    for (size_t k = 0; k < NCMDS; k++)
        all_present(man, all_cmds[k], "gather.1");
    only_known(man, CRAWL_CMD_GET | CRAWL_CMD_CRAWL | CRAWL_CMD_BENCH | CRAWL_CMD_STATUS, 1,
               "gather.1");
    free(man);
}

static void test_bash_completion_offers_each_command_its_options(void **state)
{
    char *bash = capture(WHAT_BASH, 0);

    (void)state;
    for (size_t k = 0; k < NCMDS; k++) {
        char start[64], where[64], *words;

        snprintf(start, sizeof(start), "    %s) COMPREPLY=($(compgen -W '", crawl_cmd_name(all_cmds[k]));
        snprintf(where, sizeof(where), "the bash completion of gather %s", crawl_cmd_name(all_cmds[k]));
        words = section(bash, start, "' -- \"$cur\"");
        all_present(words, all_cmds[k], where);
        only_known(words, all_cmds[k], 0, where);      /* offered only where the parser takes it */
        free(words);
    }
    only_known(bash, CRAWL_CMD_GET | CRAWL_CMD_CRAWL | CRAWL_CMD_BENCH | CRAWL_CMD_STATUS, 1,
               "the bash completion");
    free(bash);
}

static void test_zsh_completion_offers_each_command_its_options(void **state)
{
    char *zsh = capture(WHAT_ZSH, 0);

    (void)state;
    for (size_t k = 0; k < NCMDS; k++) {
        char start[64], where[64], *args;

        snprintf(start, sizeof(start), "        %s) _arguments", crawl_cmd_name(all_cmds[k]));
        snprintf(where, sizeof(where), "the zsh completion of gather %s", crawl_cmd_name(all_cmds[k]));
        args = section(zsh, start, "&& ret=0 ;;");
        all_present(args, all_cmds[k], where);
        /* the descriptions may mention other commands' options; the specs may not */
        for (const char *p = strstr(args, "'--"); p; p = strstr(p + 1, "'--")) {
            char name[64];
            size_t n = 0;

            while (name_char(p[3 + n]) && n < sizeof(name) - 1) {
                name[n] = p[3 + n];
                n++;
            }
            name[n] = '\0';
            if (!(parser_cmds(name) & all_cmds[k]))
                fail_msg("%s offers --%s, which gather %s does not take", where, name,
                         crawl_cmd_name(all_cmds[k]));
        }
        free(args);
    }
    only_known(zsh, CRAWL_CMD_GET | CRAWL_CMD_CRAWL | CRAWL_CMD_BENCH | CRAWL_CMD_STATUS, 1,
               "the zsh completion");
    free(zsh);
}

/* The closed sets the issue names are offered as values in both shells. */
static void test_closed_value_sets_are_completed(void **state)
{
    static const struct { const char *option, *bash, *zsh; } sets[] = {
        { "--mode", "'async threads sync'", "(async threads sync)" },
        { "--layout", "'flat tree'", "(flat tree)" },
        { "--save", "'all pages assets none'", "(all pages assets none)" },
        { "--scope", "'host domain prefix any'", "(host domain prefix any)" },
    };
    char *bash = capture(WHAT_BASH, 0), *zsh = capture(WHAT_ZSH, 0);

    (void)state;
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        char line[160];

        snprintf(line, sizeof(line), "    %s) COMPREPLY=($(compgen -W %s", sets[i].option, sets[i].bash);
        if (!strstr(bash, line))
            fail_msg("bash does not complete %s with %s", sets[i].option, sets[i].bash);
        snprintf(line, sizeof(line), ":%s'", sets[i].zsh);
        if (!strstr(zsh, line))
            fail_msg("zsh does not complete %s with %s", sets[i].option, sets[i].zsh);
    }
    assert_non_null(strstr(bash, "    -i) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f"));
    assert_non_null(strstr(bash, "    -o) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d"));
    free(bash);
    free(zsh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_table_agrees_with_the_parser),
        cmocka_unit_test(test_help_lists_every_option_of_its_command),
        cmocka_unit_test(test_man_page_lists_every_option),
        cmocka_unit_test(test_bash_completion_offers_each_command_its_options),
        cmocka_unit_test(test_zsh_completion_offers_each_command_its_options),
        cmocka_unit_test(test_closed_value_sets_are_completed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
