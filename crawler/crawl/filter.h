/* crawl_filter: --include/--exclude (regex on the URL), --accept/--reject (extension) and
 * --accept-type (MIME) decisions. */
#ifndef CRAWLER_FILTER_H
#define CRAWLER_FILTER_H

#include <regex.h>
#include <stddef.h>

typedef struct crawl_filter {
    regex_t include, exclude;
    int has_include, has_exclude;
    char **accept, **reject, **types;     /* lowercased lists, NULL-terminated */
} crawl_filter_t;

void crawl_filter_init(crawl_filter_t *f);
void crawl_filter_free(crawl_filter_t *f);

/* Setters return 0, or -EINVAL after printing a message naming the option and value. */
int crawl_filter_set_regex(crawl_filter_t *f, int exclude, const char *pattern);
int crawl_filter_set_list(crawl_filter_t *f, char ***which, const char *opt, const char *csv);

/* 1 if url passes --include/--exclude. */
int crawl_filter_url(const crawl_filter_t *f, const char *url);
/* 1 if url's extension passes --accept/--reject (what is saved); an entry holding a wildcard
 * (*, ?, [ or ], wget's -A '*.jpg') is matched against the lowercased file name instead. */
int crawl_filter_ext(const crawl_filter_t *f, const char *url);
/* 1 if a Content-Type passes --accept-type (a type ending in a slash or slash-star matches the whole family). */
int crawl_filter_type(const crawl_filter_t *f, const char *content_type);

/* The lowercased extension of url's last path segment (without the dot) into buf, "" if none. */
const char *crawl_filter_extension(const char *url, char *buf, size_t n);

#endif
