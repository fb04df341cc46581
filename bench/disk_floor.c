/* bench/disk_floor.c: the disk floor of bench workload (b).
 *
 * usage: disk_floor LIST OUTDIR
 *
 * LIST holds one source file path per line (the files nginx serves in workload (b)). Every source
 * is first read into memory (the "load" phase). Then, for each one in list order, the "write"
 * phase does what a downloader must do at the least to land a body on disk, with no network at
 * all: open OUTDIR/NAME.part (O_CREAT | O_TRUNC), write the whole body, close, and rename it to
 * OUTDIR/NAME, where NAME is the source's last path segment. OUTDIR must exist and is expected to
 * be empty and on the same filesystem as the tools' download folders.
 *
 * On success it prints one line on stdout:
 *     disk_floor: FILES files, BYTES bytes, load S s, write S s
 * and exits 0; on any error it prints the failing call on stderr and exits 1 (2 for usage).
 *
 * build: cc -std=c11 -O2 -Wall -Wextra -Werror -o disk_floor bench/disk_floor.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

struct body {
    char *name;  /* last path segment of the source, owned */
    char *data;  /* the whole file, owned (NULL for an empty file) */
    size_t size;
};

struct bodies {
    struct body *items;
    size_t count;
    size_t cap;
};

static int now_seconds(double *out)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        fprintf(stderr, "disk_floor: clock_gettime: %s\n", strerror(errno));
        return -1;
    }
    *out = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    return 0;
}

static void bodies_free(struct bodies *b)
{
    size_t i;

    for (i = 0; i < b->count; i++) {
        free(b->items[i].name);
        free(b->items[i].data);
    }
    free(b->items);
    b->items = NULL;
    b->count = 0;
    b->cap = 0;
}

/* Closes fd; reports a failure under PATH. Returns 0 or -1. */
static int close_checked(int fd, const char *path)
{
    if (close(fd) != 0) {
        fprintf(stderr, "disk_floor: close %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Reads the whole of PATH into *data / *size. Returns 0 or -1. */
static int read_whole(const char *path, char **data, size_t *size)
{
    int rc = -1;
    int fd = -1;
    char *buf = NULL;
    size_t len = 0;
    struct stat st;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "disk_floor: open %s: %s\n", path, strerror(errno));
        goto cleanup;
    }
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "disk_floor: fstat %s: %s\n", path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 0) {
        fprintf(stderr, "disk_floor: %s: not a regular file\n", path);
        goto cleanup;
    }
    if (st.st_size > 0) {
        buf = malloc((size_t)st.st_size);
        if (buf == NULL) {
            fprintf(stderr, "disk_floor: out of memory reading %s\n", path);
            goto cleanup;
        }
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "disk_floor: read %s: %s\n", path, strerror(errno));
            goto cleanup;
        }
        if (n == 0) {
            fprintf(stderr, "disk_floor: %s shrank while being read\n", path);
            goto cleanup;
        }
        len += (size_t)n;
    }
    *data = buf;
    *size = len;
    buf = NULL;
    rc = 0;

cleanup:
    free(buf);
    if (fd >= 0 && close_checked(fd, path) != 0)
        rc = -1;
    return rc;
}

/* Appends the source at PATH (a NUL-terminated line without its newline). Returns 0 or -1. */
static int bodies_add(struct bodies *b, const char *path)
{
    int rc = -1;
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    struct body item = { NULL, NULL, 0 };

    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        fprintf(stderr, "disk_floor: %s: no file name\n", path);
        goto cleanup;
    }
    if (b->count == b->cap) {
        size_t cap = b->cap != 0 ? b->cap * 2 : 1024;
        struct body *grown;

        if (cap > SIZE_MAX / sizeof(*grown)) {
            fprintf(stderr, "disk_floor: list too long\n");
            goto cleanup;
        }
        grown = realloc(b->items, cap * sizeof(*grown));
        if (grown == NULL) {
            fprintf(stderr, "disk_floor: out of memory\n");
            goto cleanup;
        }
        b->items = grown;
        b->cap = cap;
    }
    item.name = strdup(base);
    if (item.name == NULL) {
        fprintf(stderr, "disk_floor: out of memory\n");
        goto cleanup;
    }
    if (read_whole(path, &item.data, &item.size) != 0)
        goto cleanup;
    b->items[b->count++] = item;
    item.name = NULL;
    item.data = NULL;
    rc = 0;

cleanup:
    free(item.name);
    free(item.data);
    return rc;
}

/* Reads every source named in LIST. Returns 0 or -1. */
static int load_list(const char *list, struct bodies *b)
{
    int rc = -1;
    FILE *f = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t n;

    f = fopen(list, "r");
    if (f == NULL) {
        fprintf(stderr, "disk_floor: open %s: %s\n", list, strerror(errno));
        goto cleanup;
    }
    while ((n = getline(&line, &line_cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (bodies_add(b, line) != 0)
            goto cleanup;
    }
    /* getline returns -1 at the end of the file and on an error: tell them apart. */
    if (ferror(f)) {
        fprintf(stderr, "disk_floor: read %s: %s\n", list, strerror(errno != 0 ? errno : EIO));
        goto cleanup;
    }
    rc = 0;

cleanup:
    free(line);
    if (f != NULL && fclose(f) != 0) {
        fprintf(stderr, "disk_floor: close %s: %s\n", list, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* open DIR/NAME.part, write the body, close, rename to DIR/NAME. Returns 0 or -1. */
static int write_one(const char *dir, const struct body *item)
{
    int rc = -1;
    int fd = -1;
    char part[PATH_MAX];
    char final[PATH_MAX];
    size_t done = 0;
    int len;

    len = snprintf(part, sizeof(part), "%s/%s.part", dir, item->name);
    if (len < 0 || (size_t)len >= sizeof(part)) {
        fprintf(stderr, "disk_floor: path too long for %s\n", item->name);
        goto cleanup;
    }
    len = snprintf(final, sizeof(final), "%s/%s", dir, item->name);
    if (len < 0 || (size_t)len >= sizeof(final)) {
        fprintf(stderr, "disk_floor: path too long for %s\n", item->name);
        goto cleanup;
    }
    fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "disk_floor: open %s: %s\n", part, strerror(errno));
        goto cleanup;
    }
    while (done < item->size) {
        ssize_t n = write(fd, item->data + done, item->size - done);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "disk_floor: write %s: %s\n", part, strerror(errno));
            goto cleanup;
        }
        done += (size_t)n;
    }
    rc = close_checked(fd, part);
    fd = -1;
    if (rc != 0)
        goto cleanup;
    if (rename(part, final) != 0) {
        fprintf(stderr, "disk_floor: rename %s: %s\n", part, strerror(errno));
        rc = -1;
        goto cleanup;
    }

cleanup:
    if (fd >= 0 && close_checked(fd, part) != 0)
        rc = -1;
    return rc;
}

int main(int argc, char **argv)
{
    int status = 1;
    struct bodies b = { NULL, 0, 0 };
    unsigned long long bytes = 0;
    double t0, t1, t2;
    size_t i;

    if (argc != 3) {
        fprintf(stderr, "usage: disk_floor LIST OUTDIR\n");
        return 2;
    }
    if (now_seconds(&t0) != 0)
        goto cleanup;
    if (load_list(argv[1], &b) != 0)
        goto cleanup;
    if (now_seconds(&t1) != 0)
        goto cleanup;
    for (i = 0; i < b.count; i++) {
        if (write_one(argv[2], &b.items[i]) != 0)
            goto cleanup;
        bytes += b.items[i].size;
    }
    if (now_seconds(&t2) != 0)
        goto cleanup;
    if (printf("disk_floor: %zu files, %llu bytes, load %.3f s, write %.3f s\n", b.count, bytes,
               t1 - t0, t2 - t1) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "disk_floor: stdout: %s\n", strerror(errno));
        goto cleanup;
    }
    status = 0;

cleanup:
    bodies_free(&b);
    return status;
}
