/* gen.h - the generated site under /gen/T/: T pages made on the fly (no memory per page), for
 * crawls too large to describe as data. Called from the server's request threads. */
#ifndef FIXTURE_GEN_H
#define FIXTURE_GEN_H

#include "reply.h"

#define GEN_BRANCH 8          /* children per page */
#define GEN_PAGES_MAX 100000000ULL

/* Answer a request for `path` under /gen/ (percent-decoded, no query): /gen/T/N.html for
 * N < T <= GEN_PAGES_MAX is page N of a T-page site; anything else is 404. Always fills r. */
void gen_answer(const char *path, struct reply *r);

#endif
