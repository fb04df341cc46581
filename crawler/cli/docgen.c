/* crawl_docgen: gather(1) and the shell completions from crawl_optdoc; see docgen.h. The prose of
 * the man page lives here; its option list, like --help's, comes from the table. */
#include "crawler/cli/docgen.h"

#include <string.h>

#include "crawler/cli/optdoc.h"
#include "crawler/cli/options.h"

static const int docgen_cmds[] = { CRAWL_CMD_GET, CRAWL_CMD_CRAWL, CRAWL_CMD_BENCH, CRAWL_CMD_STATUS };
#define DOCGEN_NCMDS (sizeof(docgen_cmds) / sizeof(docgen_cmds[0]))

/* ---- the man page's prose ---------------------------------------------------------------------- */

/* Before the options. "%s" is the version. */
static const char man_head[] =
".TH GATHER 1 \"\" \"gather %s\" \"User Commands\"\n"
".SH NAME\n"
"gather \\- download lists of URLs and crawl web sites, concurrently\n"
".SH SYNOPSIS\n"
".nf\n"
"\\fBgather get\\fR [\\fB\\-i\\fR \\fIFILE\\fR | \\fIURL\\fR...] [\\fIoptions\\fR]\n"
"\\fBgather crawl\\fR \\fIURL\\fR... [\\fIoptions\\fR]\n"
"\\fBgather \\-r\\fR \\fIURL\\fR... [\\fIoptions\\fR]\n"
"\\fBgather bench\\fR [\\fB\\-i\\fR \\fIFILE\\fR | \\fIURL\\fR...] [\\fB\\-c\\fR \\fIN\\fR[,\\fIN\\fR...]] [\\fIoptions\\fR]\n"
"\\fBgather status \\-\\-redis\\fR \\fIURL\\fR \\fB\\-\\-job\\fR \\fINAME\\fR [\\fB\\-\\-json\\fR]\n"
"\\fBgather completion\\fR \\fBbash\\fR|\\fBzsh\\fR\n"
"\\fBgather \\-\\-version\\fR\n"
".fi\n"
".SH DESCRIPTION\n"
"\\fBgather\\fR downloads many URLs at once over HTTP/1.1 and HTTP/2, with libcurl's multi\n"
"interface on a libuv event loop.\n"
"Each body is streamed to \\fINAME\\fR.part and renamed to \\fINAME\\fR when complete, so a\n"
"failed download leaves no file under its final name; the state of a folder lives in\n"
"\\fIDIR\\fR/.gather.db, so a run again skips what is complete and resumes what was\n"
"interrupted.\n"
"Transient failures are retried with backoff; credentials go only to the hosts they were\n"
"given for.\n"
".SH COMMANDS\n"
".TP\n"
".B get\n"
"Download every URL of a list (\\fB\\-i\\fR \\fIFILE\\fR, the URLs given, or urls.txt in the\n"
"current folder) concurrently, each to a file.\n"
".TP\n"
".B crawl\n"
"Crawl breadth-first from the start URLs, following the links of HTML pages and stylesheets\n"
"within a scope and a depth, obeying robots.txt; save pages and/or the assets they use.\n"
"\\fBgather \\-r\\fR \\fIURL\\fR is \\fBgather crawl\\fR \\fIURL\\fR, as in wget.\n"
".TP\n"
".B bench\n"
"Run one list in sync, threads and async mode, at one or more concurrencies, and compare\n"
"wall time, requests per second, latency, CPU time and memory.\n"
".TP\n"
".B status\n"
"Show a job shared through Redis: URLs waiting, in flight, done and failed, and its workers.\n"
".TP\n"
"\\fBcompletion\\fR \\fBbash\\fR|\\fBzsh\\fR\n"
"Print the completion script for the shell; e.g. \\fBsource <(gather completion bash)\\fR.\n"
"Packages install them where bash-completion and zsh find them.\n"
".PP\n"
"\\fBgather \\-\\-version\\fR prints the version and the commit it was built from;\n"
"\\fBgather \\fR\\fICOMMAND\\fR \\fB\\-\\-help\\fR lists the options of a command.\n"
"Long options are taken only when spelled in full.\n"
"wget's two-letter options (\\fB\\-np\\fR, \\fB\\-nc\\fR, \\fB\\-nd\\fR, \\fB\\-nH\\fR) are whole\n"
"arguments: \\fB\\-npq\\fR is \\fB\\-n \\-p \\-q\\fR.\n"
".SH OPTIONS\n";

static const char man_tail[] =
".SH EXIT STATUS\n"
".TP\n"
".B 0\n"
"Every URL succeeded (status: the job was shown).\n"
".TP\n"
".B 1\n"
"Some URLs failed, or a line of the list was bad.\n"
".TP\n"
".B 2\n"
"A usage error, or Redis unreachable or refusing (status: also no such job).\n"
".TP\n"
".B 130\n"
"Interrupted by SIGINT or SIGTERM; a second SIGINT exits at once.\n"
".SH FILES\n"
".TP\n"
".I urls.txt\n"
"The list \\fBgather get\\fR and \\fBgather bench\\fR read when given neither \\fB\\-i\\fR nor URLs.\n"
".TP\n"
".IR DIR /.gather.db\n"
"The state of the output folder (SQLite): what is complete, what is partial, with the\n"
"validators that make a resume safe.\n"
".TP\n"
".IR NAME .part\n"
"A body being written; renamed to \\fINAME\\fR when complete.\n"
".TP\n"
".I ~/.netrc\n"
"Logins read with \\fB\\-\\-netrc\\fR.\n"
".SH ENVIRONMENT\n"
".TP\n"
".BR http_proxy \", \" https_proxy \", \" ALL_PROXY\n"
"The proxy to go through, unless \\fB\\-\\-proxy\\fR says otherwise.\n"
".TP\n"
".B NO_PROXY\n"
"Hosts, domains and CIDR ranges reached directly, unless \\fB\\-\\-noproxy\\fR.\n"
".TP\n"
".B CURL_CA_BUNDLE\n"
"The CA certificates (PEM) to trust, unless \\fB\\-\\-cacert\\fR or \\fB\\-\\-capath\\fR.\n"
".TP\n"
".BR SSL_CERT_FILE \", \" SSL_CERT_DIR\n"
"The same, as OpenSSL names them, when \\fBCURL_CA_BUNDLE\\fR is not set.\n"
".TP\n"
".B GATHER_REDIS_PASSWORD\n"
"The password for \\fB\\-\\-redis\\fR when its URL has none.\n"
".TP\n"
".B TMPDIR\n"
"Where \\fBgather bench\\fR makes the folders of its runs.\n"
".SH EXAMPLES\n"
"Download a list, 64 at a time, into \\fIimages\\fR:\n"
".PP\n"
".RS\n"
"gather get \\-i urls.txt \\-c 64 \\-o images\n"
".RE\n"
".PP\n"
"Mirror a site for offline reading, as \\fBwget \\-m \\-k \\-p\\fR does:\n"
".PP\n"
".RS\n"
"gather crawl \\-m \\-k \\-p https://example.org/\n"
".RE\n"
".PP\n"
"Compare the three modes at three concurrencies and draw a report:\n"
".PP\n"
".RS\n"
"gather bench \\-i urls.txt \\-c 1,10,100 \\-\\-report bench.html\n"
".RE\n"
".PP\n"
"Share one crawl between processes on several machines:\n"
".PP\n"
".RS\n"
".nf\n"
"gather crawl \\-\\-redis redis://db:6379/0 \\-\\-job site https://example.org/\n"
"gather status \\-\\-redis redis://db:6379/0 \\-\\-job site\n"
".fi\n"
".RE\n"
".SH SEE ALSO\n"
".BR wget (1),\n"
".BR curl (1),\n"
".BR wget2 (1)\n";

static const char *man_cmd_title(int cmd)
{
    switch (cmd) {
    case CRAWL_CMD_GET: return "gather get";
    case CRAWL_CMD_CRAWL: return "gather crawl";
    case CRAWL_CMD_BENCH: return "gather bench";
    default: return "gather status";
    }
}

/* Writes s to out escaped for roff text: '-' as \-, '\' as \e, a newline as a space. */
static void man_text(FILE *out, const char *s)
{
    fputs("\\&", out);          /* a line starting with '.' or '\'' is not a request */
    for (; *s; s++) {
        if (*s == '-')
            fputs("\\-", out);
        else if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
    fputc('\n', out);
}

static void man_entry(FILE *out, size_t i)
{
    char names[1024];

    crawl_optdoc_names(i, 1, names, sizeof(names));
    fprintf(out, ".TP\n%s\n", names);
    man_text(out, crawl_optdoc[i].help);
}

/* The entries of section s shown for a command of cmds. */
static void man_section(FILE *out, optdoc_section_t s, int cmds)
{
    for (size_t i = 0; i < crawl_optdoc_count; i++)
        if (crawl_optdoc[i].section == s && (crawl_optdoc[i].cmds & cmds) && crawl_optdoc[i].help)
            man_entry(out, i);
}

int crawl_docgen_man(FILE *out, const char *version)
{
    fprintf(out, man_head, version);
    for (size_t k = 0; k < DOCGEN_NCMDS; k++) {
        fprintf(out, ".SS \"%s\"\n", man_cmd_title(docgen_cmds[k]));
        man_section(out, OPTDOC_MAIN, docgen_cmds[k]);
    }
    for (int s = OPTDOC_MAIN + 1; s < OPTDOC_NSECTIONS; s++) {
        fprintf(out, ".SS \"");
        for (const char *t = crawl_optdoc_section_title(s); *t; t++)
            fputs(*t == '-' ? "\\-" : (char[2]){ *t, 0 }, out);
        fprintf(out, "\"\n");
        man_section(out, s, ~0);
    }
    fputs(man_tail, out);
    return ferror(out) ? -1 : 0;
}

/* ---- completions ------------------------------------------------------------------------------- */

/* Calls fn(out, spelling, entry) for every spelling ("-d", "-l", "--depth") of the options of the
 * commands cmds, each once, in the table's order. */
static void docgen_spellings(FILE *out, int cmds,
                             void (*fn)(FILE *out, const char *spelling, const optdoc_t *d))
{
    char seen[4096] = " ", one[64];

    for (size_t i = 0; i < crawl_optdoc_count; i++) {
        const optdoc_t *d = &crawl_optdoc[i];
        const char *s = d->shorts;
        char longname[64];

        if (!(d->cmds & cmds))
            continue;
        snprintf(longname, sizeof(longname), "--%s", d->name);
        for (;;) {
            const char *spell = longname;
            if (s && *s) {
                size_t n = strcspn(s, ", ");
                snprintf(one, sizeof(one), "%.*s", (int)n, s);
                spell = one;
                s += n;
                s += strspn(s, ", ");
            }
            char key[80];
            snprintf(key, sizeof(key), " %s ", spell);
            if (!strstr(seen, key) && strlen(seen) + strlen(key) < sizeof(seen)) {
                strcat(seen, spell);
                strcat(seen, " ");
                fn(out, spell, d);
            }
            if (spell == longname)
                break;
        }
    }
}

static void bash_word(FILE *out, const char *spelling, const optdoc_t *d)
{
    (void)d;
    fprintf(out, " %s", spelling);
}

static void bash_value(FILE *out, const char *spelling, const optdoc_t *d)
{
    switch (d->kind) {
    case OPTDOC_FLAG:
        return;
    case OPTDOC_FILE:
        fprintf(out, "    %s) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n",
                spelling);
        return;
    case OPTDOC_DIR:
        fprintf(out, "    %s) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\")); return 0 ;;\n",
                spelling);
        return;
    case OPTDOC_WORDS:
        fprintf(out, "    %s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return 0 ;;\n", spelling, d->words);
        return;
    case OPTDOC_TEXT:
        fprintf(out, "    %s) COMPREPLY=(); return 0 ;;\n", spelling);
        return;
    }
}

static const char bash_head[] =
"# bash completion for gather(1); generated by 'gather completion bash' from its option table.\n"
"_gather()\n"
"{\n"
"    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]}\n"
"\n"
"    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
"        COMPREPLY=($(compgen -W 'get crawl bench status completion help --help --version -r' -- \"$cur\"))\n"
"        return 0\n"
"    fi\n"
"    case $cmd in\n"
"    completion)\n"
"        [ \"$COMP_CWORD\" -ne 2 ] || COMPREPLY=($(compgen -W 'bash zsh' -- \"$cur\"))\n"
"        return 0 ;;\n"
"    -*) cmd=crawl ;;                        # gather -r URL: a crawl\n"
"    get|crawl|bench|status) ;;\n"
"    *) return 0 ;;\n"
"    esac\n"
"    # the value of the option before\n"
"    case $prev in\n";

/* Writes s for a single-quoted _arguments spec: ':', '[', ']' and '\' escaped with a backslash,
 * "'" closed and reopened; only its first line. */
static void zsh_quoted(FILE *out, const char *s)
{
    for (; *s && *s != '\n'; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else {
            if (strchr(":[]\\", *s))
                fputc('\\', out);
            fputc(*s, out);
        }
    }
}

/* The help of d, or of the entry whose line it is shown on. */
static const char *zsh_help(const optdoc_t *d)
{
    while (!d->help)
        d++;
    return d->help;
}

/* A help text of several lines, cut to a description that reads whole in zsh's one line: its
 * first line up to the first ';', else the first ": ", else the last ',', never inside
 * parentheses (then before them). A one-line help is kept as it is. */
static void zsh_summary(const char *help, char *buf, size_t size)
{
    size_t len = strcspn(help, "\n"), cut = len, depth = 0, open = 0, colon = 0, comma = 0;

    if (help[len] == '\n') {
        for (size_t i = 0; i < len; i++) {
            if (help[i] == '(' && depth++ == 0)
                open = i;
            else if (help[i] == ')' && depth > 0)
                depth--;
            else if (help[i] == ';') {
                cut = depth ? open : i;
                break;
            } else if (help[i] == ':' && help[i + 1] == ' ' && !colon)
                colon = depth ? open : i;
            else if (help[i] == ',')
                comma = depth ? open : i;
        }
        if (cut == len)
            cut = colon ? colon : comma ? comma : len;
        while (cut > 0 && help[cut - 1] == ' ')
            cut--;
    }
    snprintf(buf, size, "%.*s", (int)cut, help);
}

static void zsh_spec(FILE *out, const char *spelling, const optdoc_t *d)
{
    char summary[128];

    zsh_summary(zsh_help(d), summary, sizeof(summary));
    fprintf(out, "        '%s%s[", spelling, d->metavar && spelling[1] == '-' ? "=" : "");
    zsh_quoted(out, summary);
    fputc(']', out);
    if (d->metavar) {
        fputc(':', out);
        zsh_quoted(out, d->metavar);
        switch (d->kind) {
        case OPTDOC_FILE: fputs(":_files", out); break;
        case OPTDOC_DIR: fputs(":_files -/", out); break;
        case OPTDOC_WORDS: fprintf(out, ":(%s)", d->words); break;
        default: fputs(": ", out); break;
        }
    }
    fputs("' \\\n", out);
}

static const char zsh_head[] =
"#compdef gather\n"
"# zsh completion for gather(1); generated by 'gather completion zsh' from its option table.\n"
"_gather() {\n"
"    local curcontext=$curcontext state line ret=1\n"
"    typeset -A opt_args\n"
"    local -a commands\n"
"    commands=(\n"
"        'get:download a list of URLs concurrently'\n"
"        'crawl:follow links breadth-first within a scope and depth'\n"
"        'bench:run one list in sync, threads and async mode and compare'\n"
"        'status:show a job shared through Redis'\n"
"        'completion:print the bash or zsh completion script'\n"
"    )\n"
"    _arguments -C \\\n"
"        '(- *)--version[print the version and the commit]' \\\n"
"        '(- *)--help[list the commands]' \\\n"
"        '1:command:->command' \\\n"
"        '*::argument:->argument' && ret=0\n"
"    case $state in\n"
"    command) _describe -t commands 'gather command' commands && ret=0 ;;\n"
"    argument)\n"
"        case $line[1] in\n"
"        completion) _arguments '1:shell:(bash zsh)' && ret=0 ;;\n";

static int docgen_zsh(FILE *out)
{
    fputs(zsh_head, out);
    for (size_t k = 0; k < DOCGEN_NCMDS; k++) {
        fprintf(out, "        %s) _arguments \\\n", crawl_cmd_name(docgen_cmds[k]));
        docgen_spellings(out, docgen_cmds[k], zsh_spec);
        fputs("        '*:URL: ' && ret=0 ;;\n", out);
    }
    fputs("        esac ;;\n"
          "    esac\n"
          "    return ret\n"
          "}\n"
          "if [ \"$funcstack[1]\" = _gather ]; then\n"
          "    _gather \"$@\"\n"
          "else\n"
          "    compdef _gather gather\n"
          "fi\n", out);
    return ferror(out) ? -1 : 0;
}

int crawl_docgen_completion(FILE *out, const char *shell)
{
    if (!strcmp(shell, "bash")) {
        fputs(bash_head, out);
        docgen_spellings(out, ~0, bash_value);
        fputs("    esac\n"
              "    [[ $cur == -* ]] || return 0            # a URL: nothing to offer\n"
              "    case $cmd in\n", out);
        for (size_t k = 0; k < DOCGEN_NCMDS; k++) {
            fprintf(out, "    %s) COMPREPLY=($(compgen -W '", crawl_cmd_name(docgen_cmds[k]));
            docgen_spellings(out, docgen_cmds[k], bash_word);
            fputs("' -- \"$cur\")) ;;\n", out);
        }
        fputs("    esac\n"
              "}\n"
              "complete -F _gather gather\n", out);
        return ferror(out) ? -1 : 0;
    }
    if (!strcmp(shell, "zsh"))
        return docgen_zsh(out);
    return -2;
}
