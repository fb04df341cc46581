/* get_disposition: --content-disposition for `gather get`: a file named by the server's
 * Content-Disposition (storage/path.c makes the name safe), learnt at the first body byte, kept
 * in the state database, and found again by a re-run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crawler/get/fetch.h"

int get_disposition_name(struct get_job *gj, const char *url, const http_req_t *req, char *path,
                         size_t n)
{
    crawl_options_t *o = gj->job.opts;
    char want[STORE_PATH_SIZE], got[STORE_PATH_SIZE];
    int result;

    if (!o->content_disposition || !req->disposition)
        return 0;
    result = store_path_from_disposition(req->disposition, url, o->layout, want, sizeof(want));
    if (result == -ENOENT)
        return 0;                    /* "inline", or only folders: the URL's name stays */
    if (result < 0)
        return result;
    if (strcmp(want, path) == 0)
        return 0;
    result = store_path_unique_path(gj->job.names, url, want, got, sizeof(got));
    if (result < 0)
        return result;
    if (strlen(got) >= n)
        return -ERANGE;
    memcpy(path, got, strlen(got) + 1);
    return 1;
}

void get_disposition_prepare(struct get_fetch *f)
{
    job_t *job = &f->gj->job;
    store_row_t row;
    char path[STORE_PATH_SIZE];

    memset(&row, 0, sizeof(row));
    if (!job->opts->content_disposition || !job->state ||
        store_state_get(job->state, f->url, &row) != 1)
        goto cleanup;
    /* A name the database remembers must still be one we could have made: the file is the
     * user's to edit. */
    if (!row.path || !strcmp(row.path, f->path) || !store_path_is_safe(row.path))
        goto cleanup;
    if (store_path_unique_path(job->names, f->url, row.path, path, sizeof(path)) == 0 &&
        strcmp(path, row.path) == 0)
        snprintf(f->path, sizeof(f->path), "%s", path);
cleanup:
    store_row_clear(&row);
}
