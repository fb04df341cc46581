/* crawl_docgen: the man page and the bash and zsh completion scripts, generated from the option
 * documentation table (optdoc.h) and the prose kept in docgen.c. */
#ifndef CRAWLER_DOCGEN_H
#define CRAWLER_DOCGEN_H

#include <stdio.h>

/* Writes gather(1) in roff (man macros) to out; version names the release ("0.1.0").
 * Returns 0, or -1 when writing failed (out's error flag is set). */
int crawl_docgen_man(FILE *out, const char *version);

/* Writes the completion script for shell ("bash" or "zsh") to out. Returns 0, -1 when writing
 * failed, -2 for a shell it cannot write for. */
int crawl_docgen_completion(FILE *out, const char *shell);

#endif
