/* store_file: blocking file operations confined to the output directory (run on pool threads, or
 * on the only thread of --mode sync). An open that finds the descriptor table full (EMFILE,
 * ENFILE) waits and tries again for up to 10 s before it reports the error: a full table is a
 * moment of a busy run, not a fault of the file. */
#ifndef STORAGE_FILE_H
#define STORAGE_FILE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_PART_SUFFIX ".part"

/* Creates dir (and its parents) if needed and opens it. Returns 0 and *dirfd, or -errno. */
int store_dir_open(const char *dir, int *dirfd);

/* Opens relpath + ".part" under dirfd for writing, truncating it, creating missing parent folders.
 * Every component is opened with O_NOFOLLOW, so a symlink planted in the output folder cannot
 * redirect a write outside it. Returns 0 and *fd, or -errno (nothing is created on failure
 * except parent folders). */
int store_file_create(int dirfd, const char *relpath, int *fd);

/* Like store_file_create, but keeps the first `offset` bytes of an existing relpath.part (a
 * resume): the file is cut to offset and *fd positioned there. offset 0 truncates. With an offset,
 * -ENOENT if there is no .part and -EIO if it is shorter than offset; the .part is left as it was. */
int store_file_open_at(int dirfd, const char *relpath, uint64_t offset, int *fd);

/* Size of relpath (part = 0) or relpath.part (part = 1); -errno if absent. */
int64_t store_file_size(int dirfd, const char *relpath, int part);

/* Writes all of buf (retrying short writes and EINTR). Returns 0 or -errno. */
int store_file_write(int fd, const void *buf, size_t len);

/* Optionally fsyncs, closes fd, and renames relpath.part to relpath. On failure the .part is
 * removed and -errno returned; fd is closed either way. */
int store_file_commit(int dirfd, const char *relpath, int fd, int do_fsync);

/* Reads relpath (not its .part; O_NOFOLLOW) to its end: its SHA-256 as 64 lowercase hex digits
 * and a NUL in hex, the bytes read in *size. Returns 0, or -errno (-EEXIST: not a regular file)
 * with hex and *size unchanged. Blocking: as long as reading the whole file takes. */
int store_file_sha256(int dirfd, const char *relpath, char hex[65], int64_t *size);

/* Closes fd (if >= 0) and removes relpath.part. */
void store_file_discard(int dirfd, const char *relpath, int fd);

/* Opens the parent folder of relpath under dirfd (O_NOFOLLOW all the way), creating it if create
 * is set; *leaf points into relpath at the last component. Returns an fd (dirfd itself when
 * relpath has no folder: close it only if it differs from dirfd) or -errno. */
int store_file_parent(int dirfd, const char *relpath, int create, const char **leaf);

#endif
