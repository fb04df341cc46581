/* store_file: openat/mkdirat/renameat under one directory fd, never following symlinks. */
#include "storage/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
/* Running out of descriptors is transient for a download: gather sizes -c to the limit at the
 * start (crawler/job/fdlimit.c), so only a burst, or another process sharing ENFILE's system-wide
 * table, gets here, and descriptors free up as transfers end. An open that fails for it waits on
 * this (pool) thread and tries again, for up to STORE_FD_TRIES * STORE_FD_WAIT_US, rather than
 * fail a body that arrived intact. */
#define STORE_FD_TRIES 200
#define STORE_FD_WAIT_US (50 * 1000)

/* 1 after a wait when a call that failed with errno e may be tried again. */
static int file_fd_wait(int e, int *tries)
{
    if ((e != EMFILE && e != ENFILE) || ++*tries > STORE_FD_TRIES)
        return 0;
    usleep(STORE_FD_WAIT_US);
    return 1;
}

static int file_openat(int dir, const char *name, int flags, mode_t mode)
{
    int tries = 0, fd;

    while ((fd = openat(dir, name, flags, mode)) < 0 && file_fd_wait(errno, &tries))
        ;
    return fd;
}

static int file_dup(int fd)
{
    int tries = 0, copy;

    while ((copy = dup(fd)) < 0 && file_fd_wait(errno, &tries))
        ;
    return copy;
}

int store_dir_open(const char *dir, int *dirfd)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);
    int fd;

    if (len == 0 || len >= sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return -errno;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    *dirfd = fd;
    return 0;
}

int store_file_parent(int dirfd, const char *relpath, int create, const char **leaf)
{
    const char *start = relpath, *slash;
    int cur;

    if (!strchr(relpath, '/')) {
        *leaf = relpath;
        return dirfd;               /* flat layout: no folder to open, nothing to close */
    }
    cur = file_dup(dirfd);
    if (cur < 0)
        return -errno;
    while ((slash = strchr(start, '/'))) {
        char name[NAME_MAX + 1];
        size_t n = (size_t)(slash - start);
        int next;

        if (n == 0 || n > NAME_MAX) {
            close(cur);
            return n ? -ENAMETOOLONG : -EINVAL;
        }
        memcpy(name, start, n);
        name[n] = '\0';
        next = file_openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(cur, name, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(cur);
                return -e;
            }
            next = file_openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        }
        if (next < 0) {
            int e = errno == ELOOP ? ENOTDIR : errno;   /* a symlink where a folder should be */
            close(cur);
            return -e;
        }
        close(cur);
        cur = next;
        start = slash + 1;
    }
    *leaf = start;
    return cur;
}

static int store_part_name(const char *leaf, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%s" STORE_PART_SUFFIX, leaf);

    if (n < 0 || (size_t)n >= outsz || (size_t)n > NAME_MAX)
        return -ENAMETOOLONG;
    return 0;
}

int store_file_create(int dirfd, const char *relpath, int *fd)
{
    return store_file_open_at(dirfd, relpath, 0, fd);
}

int store_file_open_at(int dirfd, const char *relpath, uint64_t offset, int *fd)
{
    char part[NAME_MAX + 2];
    const char *leaf;
    int parent = store_file_parent(dirfd, relpath, 1, &leaf);
    int result;

    if (parent < 0)
        return parent;
    result = store_part_name(leaf, part, sizeof(part));
    if (result < 0)
        goto cleanup;
    *fd = file_openat(parent, part, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (offset ? 0 : O_CREAT | O_TRUNC), 0644);
    if (*fd < 0) {
        result = -errno;
        goto cleanup;
    }
    result = 0;
    if (offset) {
        struct stat st;

        /* ftruncate would lengthen a .part shorter than the resume point with zeros, and the
         * file would be committed with a hole of zeros where the missing bytes belong. */
        if (fstat(*fd, &st) < 0)
            result = -errno;
        else if ((uint64_t)st.st_size < offset)
            result = -EIO;
        else if (ftruncate(*fd, (off_t)offset) < 0 || lseek(*fd, (off_t)offset, SEEK_SET) < 0)
            result = -errno;
        if (result < 0) {
            close(*fd);
            *fd = -1;
        }
    }
cleanup:
    if (parent != dirfd)
        close(parent);
    return result;
}

int store_file_write(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int store_file_commit(int dirfd, const char *relpath, int fd, int do_fsync)
{
    char part[NAME_MAX + 2];
    const char *leaf;
    int parent, result = 0;

    if (do_fsync && fsync(fd) < 0)
        result = -errno;
    if (close(fd) < 0 && result == 0)
        result = -errno;
    parent = store_file_parent(dirfd, relpath, 0, &leaf);
    if (parent < 0)
        return parent;
    if (store_part_name(leaf, part, sizeof(part)) < 0) {
        if (parent != dirfd)
            close(parent);
        return -ENAMETOOLONG;
    }
    if (result == 0 && renameat(parent, part, parent, leaf) < 0)
        result = -errno;
    if (result < 0)
        unlinkat(parent, part, 0);
    else if (do_fsync && fsync(parent) < 0)
        result = -errno;
    if (parent != dirfd)
        close(parent);
    return result;
}

int64_t store_file_size(int dirfd, const char *relpath, int part)
{
    char name[NAME_MAX + 2];
    const char *leaf;
    struct stat st;
    int parent = store_file_parent(dirfd, relpath, 0, &leaf);
    int result;

    if (parent < 0)
        return parent;
    result = part ? store_part_name(leaf, name, sizeof(name))
                  : (snprintf(name, sizeof(name), "%s", leaf) > NAME_MAX ? -ENAMETOOLONG : 0);
    if (result == 0 && fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        result = -errno;
    else if (result == 0 && !S_ISREG(st.st_mode))
        result = -EEXIST;
    if (parent != dirfd)
        close(parent);
    return result < 0 ? result : (int64_t)st.st_size;
}

void store_file_discard(int dirfd, const char *relpath, int fd)
{
    char part[NAME_MAX + 2];
    const char *leaf;
    int parent;

    if (fd >= 0)
        close(fd);
    parent = store_file_parent(dirfd, relpath, 0, &leaf);
    if (parent < 0)
        return;
    if (store_part_name(leaf, part, sizeof(part)) == 0)
        unlinkat(parent, part, 0);
    if (parent != dirfd)
        close(parent);
}

int store_file_sha256(int dirfd, const char *relpath, char hex[65], int64_t *size)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char buf[65536];
    const char *leaf;
    EVP_MD_CTX *sha = NULL;
    struct stat st;
    int64_t total = 0;
    int parent, fd = -1, result;

    parent = store_file_parent(dirfd, relpath, 0, &leaf);
    if (parent < 0)
        return parent;
    /* O_NONBLOCK: a FIFO planted under the name must not hang a pool thread in open or read. */
    fd = openat(parent, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        result = -errno;
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        result = -EEXIST;
        goto cleanup;
    }
    result = -ENOMEM;
    if (!(sha = EVP_MD_CTX_new()) || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
        goto cleanup;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            result = -errno;
            goto cleanup;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(sha, buf, (size_t)n) != 1)
            goto cleanup;
        total += n;
    }
    if (EVP_DigestFinal_ex(sha, md, &mdlen) != 1 || mdlen != 32) {
        result = -EIO;
        goto cleanup;
    }
    for (unsigned i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0xf];
    }
    hex[64] = '\0';
    *size = total;
    result = 0;
cleanup:
    EVP_MD_CTX_free(sha);
    if (fd >= 0)
        close(fd);
    if (parent != dirfd)
        close(parent);
    return result;
}
