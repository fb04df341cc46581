/* parse.h - the parse/ layer's error codes and limits, shared by every parse_ module. */
#ifndef GATHER_PARSE_PARSE_H
#define GATHER_PARSE_PARSE_H

/* The longest URL, in bytes, that parse/ accepts or produces (without the NUL). */
#define PARSE_URL_MAX 8192

#include <errno.h>

/*
 * Every parse_ function that can fail returns PARSE_OK (0) or one of these negative codes.
 * Functions that return a count return it as a non-negative int instead of PARSE_OK.
 * The codes are negative errno values, the one convention of every layer (net/, storage/,
 * crawler/), so a parse error can travel up as any other error without being translated.
 */
typedef enum {
    PARSE_OK = 0,
    PARSE_EINVAL = -EINVAL,             /* malformed input: unparsable URL, no host, control characters */
    PARSE_ESCHEME = -EPROTONOSUPPORT,   /* a URL whose scheme is not http or https */
    PARSE_ETOOLONG = -ENAMETOOLONG,     /* input or output over its cap (PARSE_URL_MAX, a body limit) */
    PARSE_ENOMEM = -ENOMEM,             /* an allocation failed */
    PARSE_EIO = -EIO,                   /* reading input failed; errno says why */
    PARSE_ESTATE = -EPIPE               /* call not allowed in this state (feed after end) */
} parse_error_t;

/* A static, human-readable description of a parse_error_t, or strerror's text for any other
 * negative errno. */
const char *parse_strerror(int result);

#endif
