/* emit.h - --emit: write the exact body a GET of a target is served with, for byte comparisons. */
#ifndef FIXTURE_EMIT_H
#define FIXTURE_EMIT_H

#include <stdio.h>

#include "fixture.h"

/* Answer a GET of target (path?query) with no request headers and write its body to out.
 * Returns 0 when the answer is a 200 (or a 206 carrying the whole body, /lie/206) with a finite
 * body; 1 otherwise (also for the control routes /stats, /log, /reset, /site-expected), or
 * when writing fails, with a message on stderr. A cut body (/reset-mid,
 * /lie/short) is written up to the cut: those are the bytes the server sends. Flaky routes emit
 * their eventual 200 body; ?delay= and trickling are skipped. */
int emit_target(const struct fixture *fx, const char *target, FILE *out);

#endif
