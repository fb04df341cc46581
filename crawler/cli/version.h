/* gather's version: `gather --version` and the creator of HAR files. */
#ifndef CRAWLER_VERSION_H
#define CRAWLER_VERSION_H

/* Also in debian/changelog (make deb checks that they agree). The commit is GATHER_COMMIT, in
 * the header the Makefile writes ($(BUILD)/gen/commit.h), read by main.c only. */
#define GATHER_VERSION "0.1.0"

#endif
