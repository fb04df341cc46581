/* http_share: a CURLSH with a mutex per kind of shared data; cookies in and out in the Netscape
 * format through libcurl's own cookie engine. */
#include "net/http/share.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct http_share {
    CURLSH *curl;
    /* libcurl may hold one kind's lock while it takes another's (the share's own while
     * attaching a handle that brings cookies), so one mutex for all would deadlock. */
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
    int nlocks;                 /* how many of locks[] are initialised */
};

static void share_lock(CURL *easy, curl_lock_data data, curl_lock_access access, void *userptr)
{
    http_share_t *s = userptr;

    (void)easy;
    (void)access;               /* shared or single: a mutex serves both */
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&s->locks[data]);
}

static void share_unlock(CURL *easy, curl_lock_data data, void *userptr)
{
    http_share_t *s = userptr;

    (void)easy;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&s->locks[data]);
}

http_share_t *http_share_new(int *result)
{
    http_share_t *s = calloc(1, sizeof(*s));

    *result = -ENOMEM;
    if (!s)
        return NULL;
    for (; s->nlocks < CURL_LOCK_DATA_LAST; s->nlocks++) {
        int e = pthread_mutex_init(&s->locks[s->nlocks], NULL);
        if (e) {
            *result = -e;
            goto error;
        }
    }
    if (!(s->curl = curl_share_init()))
        goto error;
    *result = -EINVAL;
    if (curl_share_setopt(s->curl, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(s->curl, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(s->curl, CURLSHOPT_USERDATA, s) != CURLSHE_OK ||
        curl_share_setopt(s->curl, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK ||
        curl_share_setopt(s->curl, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(s->curl, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
        goto error;
    *result = 0;
    return s;

error:
    http_share_free(s);
    return NULL;
}

void http_share_free(http_share_t *s)
{
    if (!s)
        return;
    if (s->curl && curl_share_cleanup(s->curl) != CURLSHE_OK)
        fprintf(stderr, "gather: curl_share_cleanup: the share is still in use\n");
    while (s->nlocks > 0)
        pthread_mutex_destroy(&s->locks[--s->nlocks]);
    free(s);
}

CURLSH *http_share_curl(http_share_t *s)
{
    return s->curl;
}

/* An easy handle attached to the share, for the jar's own reads and writes (no transfer). */
static CURL *share_easy(http_share_t *s)
{
    CURL *easy = curl_easy_init();

    if (easy && curl_easy_setopt(easy, CURLOPT_SHARE, s->curl) != CURLE_OK) {
        curl_easy_cleanup(easy);
        easy = NULL;
    }
    return easy;
}

int http_share_load_cookies(http_share_t *s, const char *path)
{
    struct stat st;
    CURL *easy = NULL;
    int fd, result;

    /* libcurl skips a file it cannot open without a word: look first, to say why. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    result = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
    close(fd);
    if (result < 0)
        return result;
    if (!(easy = share_easy(s)))
        return -ENOMEM;
    /* RELOAD reads the COOKIEFILE list now, into the shared jar, under the share's lock. */
    if (curl_easy_setopt(easy, CURLOPT_COOKIEFILE, path) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_COOKIELIST, "RELOAD") != CURLE_OK)
        result = -ENOMEM;
    curl_easy_cleanup(easy);
    return result;
}

/* Writes lines to fd in the Netscape format; 0 or a negative errno. */
static int share_write_cookies(int fd, const struct curl_slist *lines)
{
    static const char header[] = "# Netscape HTTP Cookie File\n"
                                 "# Written by gather with libcurl's cookie engine. Edit at your own risk.\n\n";
    FILE *f = fdopen(fd, "w");
    int result = 0;

    if (!f) {
        result = -errno;
        close(fd);
        return result;
    }
    if (fputs(header, f) == EOF)
        result = -(errno ? errno : EIO);
    for (; lines && result == 0; lines = lines->next)
        if (fputs(lines->data, f) == EOF || fputc('\n', f) == EOF)
            result = -(errno ? errno : EIO);
    if (fclose(f) != 0 && result == 0)
        result = -(errno ? errno : EIO);
    return result;
}

int http_share_save_cookies(http_share_t *s, const char *path)
{
    struct curl_slist *lines = NULL;
    CURL *easy = share_easy(s);
    char *tmp = NULL;
    int fd, result;

    if (!easy)
        return -ENOMEM;
    if (curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &lines) != CURLE_OK) {
        result = -ENOMEM;
        goto cleanup;
    }
    if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
        tmp = NULL;
        result = -ENOMEM;
        goto cleanup;
    }
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {         /* mode 0600 */
        result = -errno;
        goto cleanup;
    }
    result = share_write_cookies(fd, lines);
    if (result == 0 && rename(tmp, path) < 0)
        result = -errno;
    if (result < 0)
        unlink(tmp);
cleanup:
    curl_slist_free_all(lines);
    free(tmp);
    curl_easy_cleanup(easy);
    return result;
}
