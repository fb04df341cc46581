/* parse.h - the parse/ layer's error codes and limits, shared by every parse_ module. */
#ifndef GATHER_PARSE_PARSE_H
#define GATHER_PARSE_PARSE_H

/* The longest URL, in bytes, that parse/ accepts or produces (without the NUL). */
#define PARSE_URL_MAX 8192

/*
 * Every parse_ function that can fail returns PARSE_OK (0) or one of these negative codes.
 * Functions that return a count return it as a non-negative int instead of PARSE_OK.
 */
typedef enum {
    PARSE_OK = 0,
    PARSE_EINVAL = -1,   /* malformed input: unparsable URL, no host, control characters */
    PARSE_ESCHEME = -2,  /* a URL whose scheme is not http or https */
    PARSE_ETOOLONG = -3, /* input or output over its cap (PARSE_URL_MAX, a body limit) */
    PARSE_ENOMEM = -4,   /* an allocation failed */
    PARSE_EIO = -5,      /* reading input failed; errno says why */
    PARSE_ESTATE = -6    /* call not allowed in this state (feed after end) */
} parse_error_t;

/* A static, human-readable description of a parse_error_t (or "unknown error"). */
const char *parse_strerror(int result);

#endif
