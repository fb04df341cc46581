/* http_share: the one CURLSH of a job whose transfers keep cookies (--load-cookies,
 * --save-cookies): the cookie jar, DNS cache and TLS sessions, shared by every easy handle of the
 * job whatever the mode, so one job has one jar. It locks with a mutex per kind of data, so the
 * blocking modes' pool threads may share it as the async client's loop thread does; every function
 * here may be called from any thread, but create, load, save and free it before and after the
 * transfers that use it (a job opens it before its loop and closes it after). */
#ifndef NET_HTTP_SHARE_H
#define NET_HTTP_SHARE_H

#include <curl/curl.h>

typedef struct http_share http_share_t;

/* A share of DNS, TLS sessions and cookies. NULL with *result a negative errno on failure. */
http_share_t *http_share_new(int *result);

/* Frees the share; no handle may still use it. NULL is fine. */
void http_share_free(http_share_t *s);

/* The CURLSH to give each easy handle (CURLOPT_SHARE); owned by s. */
CURLSH *http_share_curl(http_share_t *s);

/* Reads cookies from path, a Netscape cookie file (as curl -c, wget --save-cookies and browser
 * exports write it; libcurl's parser, which skips lines it cannot read) into the jar. 0, or a
 * negative errno when the file cannot be opened (-ENOENT, -EACCES, ...) or memory runs out. */
int http_share_load_cookies(http_share_t *s, const char *path);

/* Writes every cookie of the jar, session cookies included (as curl -c does), to path in the
 * Netscape format: into a new file beside it, mode 0600 (cookies are credentials), renamed over
 * path once complete. 0 or a negative errno (nothing is left behind on failure). */
int http_share_save_cookies(http_share_t *s, const char *path);

#endif
