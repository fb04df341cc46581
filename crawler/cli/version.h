/* gather's version: `gather --version` and the creator of HAR files. */
#ifndef CRAWLER_VERSION_H
#define CRAWLER_VERSION_H

#define GATHER_VERSION "0.1.0"

#endif
