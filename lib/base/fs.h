/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File and directory helpers: atomic writes, recursive mkdir/remove, reading. */
#ifndef BERTH_FS_H
#define BERTH_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <berth/error.h>

/* Write `len` bytes to `name` in `dirfd` atomically: temp file in the same
 * directory, fsync, rename, fsync the directory. */
int berth_write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                            berth_error_t *err);
/* The same without the fsyncs: readers still see the old or the new content,
 * never a mix, but a crash may lose the write (or, on some filesystems, leave
 * the file empty).  For what is gone at reboot anyway (the run root) and for
 * what is rebuilt, or read as "unknown", when it does not parse. */
int berth_write_file_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                             berth_error_t *err);
/* Create a temp file ".<prefix>.tmp-<random>" in dirfd; returns fd, *ret_name owned. */
int berth_tmpfile_at(int dirfd, const char *prefix, mode_t mode, char **ret_name, berth_error_t *err);
/* fsync fd, rename tmp -> name in dirfd and fsync dirfd. */
int berth_commit_tmpfile(int fd, int dirfd, const char *tmp, const char *name, berth_error_t *err);
/* An anonymous temporary file (O_TMPFILE) in dirfd's filesystem. */
int berth_tmpfile_unlinked(int dirfd, berth_error_t *err);
int berth_fsync_dir(int dirfd, berth_error_t *err);
/* openat2() of `path` below rootfd with the given RESOLVE_* flags (O_CLOEXEC
 * added; leading slashes dropped, "" is rootfd itself). */
int berth_open_in_root(int rootfd, const char *path, int flags, unsigned long long resolve);
/* mkdir -p relative to dirfd (path must not contain ".."); returns 0 or -1. */
int berth_mkdir_p(int dirfd, const char *path, mode_t mode, berth_error_t *err);
/* Remove `name` in dirfd recursively, never following symlinks or crossing
 * mount points.  Missing is not an error. */
int berth_rm_rf_at(int dirfd, const char *name, berth_error_t *err);
/* Read a whole (regular) file; *ret_buf is NUL-terminated and owned by the caller. */
int berth_read_file_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len, berth_error_t *err);
/* Copy everything from in to out (read/write loop); returns bytes copied or -1. */
ssize_t berth_copy_fd(int in, int out, berth_error_t *err);
int berth_write_all(int fd, const void *buf, size_t len);
/* Total bytes used by files under dirfd/name (st_blocks-independent: apparent sizes,
 * hardlinks counted once). */
int berth_du_at(int dirfd, const char *name, off_t *ret_size, berth_error_t *err);
bool berth_path_is_clean_relative(const char *path);
/* Go's filepath.Abs: `path` joined to the working directory when relative,
 * then cleaned lexically ("/a//b/../c/" -> "/a/c"); NULL when the working
 * directory cannot be read.  Caller frees. */
char *berth_path_abs(const char *path);
/* The names in directory dirfd (any fd on it, O_PATH too), without "." and
 * "..", unsorted: a NULL-terminated strv the caller frees; *ret_n if not NULL. */
char **berth_dir_names(int dirfd, size_t *ret_n, berth_error_t *err);

#endif
