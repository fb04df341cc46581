/* crawl_source: batches of normalised URLs from parse_urllist or from the command line. */
#include "crawler/get/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse/parse.h"
#include "parse/url.h"

static void source_on_bad(void *arg, const char *file, unsigned long line, const char *reason)
{
    crawl_source_t *s = arg;

    s->invalid++;
    fprintf(stderr, "%s:%lu: %s\n", file, line, reason);
}

int crawl_source_open(crawl_source_t *s, const char *path, char **args, int nargs)
{
    memset(s, 0, sizeof(*s));
    s->want = CRAWL_SOURCE_FIRST;
    if (!path) {
        s->args = args;
        s->nargs = nargs;
        s->name = "command line";
        return 0;
    }
    s->name = path;
    s->list = parse_urllist_open(path, source_on_bad, s);
    if (!s->list) {
        int e = errno ? errno : EIO;
        fprintf(stderr, "gather: cannot read URL list %s: %s\n", path, strerror(e));
        return -e;
    }
    return 0;
}

static void source_fill_args(crawl_source_t *s)
{
    while (s->ahead_len < s->want && s->nextarg < s->nargs) {
        const char *arg = s->args[s->nextarg++];
        char *url = NULL;
        int result = parse_url_normalize(arg, &url);

        if (result < 0) {
            char shown[PARSE_URL_REDACT_SIZE];
            s->invalid++;
            fprintf(stderr, "gather: argument %d: '%.200s': %s\n", s->nextarg,
                    parse_url_redact(arg, shown, sizeof(shown)), parse_strerror(result));
            continue;
        }
        s->ahead[s->ahead_len++] = url;
    }
    if (s->nextarg >= s->nargs)
        s->read_eof = 1;
}

int crawl_source_fill(void *arg)
{
    crawl_source_t *s = arg;

    if (s->ahead_len > 0 || s->read_eof)
        return 0;
    if (!s->list) {
        source_fill_args(s);
    } else {
        while (s->ahead_len < s->want) {
            char *url = NULL;
            unsigned long line = 0;
            int result = parse_urllist_next(s->list, &url, &line);

            if (result == 1) {
                s->ahead[s->ahead_len++] = url;
                continue;
            }
            if (result < 0) {
                s->read_error = result;
                fprintf(stderr, "gather: error reading %s: %s\n", s->name, parse_strerror(result));
            }
            s->read_eof = 1;
            break;
        }
    }
    s->want = s->want * 4 < CRAWL_SOURCE_BATCH ? s->want * 4 : CRAWL_SOURCE_BATCH;
    return 0;
}

void crawl_source_filled(crawl_source_t *s)
{
    if (s->pos < s->len)
        return;
    memcpy(s->batch, s->ahead, s->ahead_len * sizeof(s->ahead[0]));
    s->len = s->ahead_len;
    s->pos = s->ahead_len = 0;
    if (s->len == 0 && s->read_eof)
        s->eof = 1;
}

char *crawl_source_next(crawl_source_t *s)
{
    if (s->pos >= s->len)
        return NULL;
    return s->batch[s->pos++];
}

char *crawl_source_next_blocking(crawl_source_t *s)
{
    while (!crawl_source_has(s) && !s->eof) {
        crawl_source_fill(s);
        crawl_source_filled(s);
    }
    return crawl_source_next(s);
}

void crawl_source_close(crawl_source_t *s)
{
    while (s->pos < s->len)
        free(s->batch[s->pos++]);
    while (s->ahead_len > 0)
        free(s->ahead[--s->ahead_len]);
    if (s->list)
        parse_urllist_close(s->list);
    s->list = NULL;
}

long crawl_source_count(const char *path)
{
    char buf[65536];
    long count = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int start = 1, counted = 0;          /* at a line's start; the line is counted already */
    ssize_t n;

    if (fd < 0)
        return -errno;
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            count = -errno;
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (c == '\n') {
                start = 1;
                counted = 0;
            } else if (counted || c == ' ' || c == '\t' || c == '\r' || (start && c >= 0x80)) {
                /* blanks, and a UTF-8 BOM's bytes, before the first character that counts */
            } else {
                count += start && c != '#';
                counted = 1;
                start = 0;
            }
        }
    }
    close(fd);
    return count;
}
