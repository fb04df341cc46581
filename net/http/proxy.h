/* http_proxy: which proxy libcurl goes through for a URL, worked out the way libcurl does it
 * (--proxy, else the environment: http_proxy, https_proxy/HTTPS_PROXY, all_proxy/ALL_PROXY; then
 * --noproxy, else no_proxy/NO_PROXY), so that a failure can name the proxy instead of the URL.
 * libcurl 7.88 does not say whether a failed transfer used a proxy (CURLINFO_USED_PROXY came in
 * 8.7), and its error buffer names only a host and a port. Any thread (reads the environment). */
#ifndef NET_HTTP_PROXY_H
#define NET_HTTP_PROXY_H

#include <stddef.h>

/* The proxy for url as "scheme://host:port" (credentials left out) into buf, and buf; or NULL
 * when the URL goes direct (or is not a URL). proxy and noproxy are the options (NULL: the
 * environment's; "" for proxy: none at all). */
const char *http_proxy_for(const char *url, const char *proxy, const char *noproxy, char *buf,
                           size_t n);

/* 1 when host (a name, an IPv4 address or an IPv6 one with or without brackets) is matched by
 * the no-proxy list: "*", names that match themselves and their subdomains (a leading '.' is
 * optional), addresses and CIDR ranges (10.0.0.0/8, ::1/128); commas and spaces separate. */
int http_noproxy_match(const char *host, const char *list);

#endif
