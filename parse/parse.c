/* parse.c - parse_strerror: the text for each parse_error_t code. */
#include "parse/parse.h"

#include <string.h>

const char *parse_strerror(int result)
{
    switch (result) {
    case PARSE_OK:
        return "success";
    case PARSE_EINVAL:
        return "invalid input";
    case PARSE_ESCHEME:
        return "not an http or https URL";
    case PARSE_ETOOLONG:
        return "input too long";
    case PARSE_ENOMEM:
        return "out of memory";
    case PARSE_EIO:
        return "read error";
    case PARSE_ESTATE:
        return "call not allowed in this state";
    default:
        return result < 0 ? strerror(-result) : "unknown error";
    }
}
