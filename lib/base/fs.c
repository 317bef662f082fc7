/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File and directory helpers: atomic writes, recursive mkdir/remove, reading. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/openat2.h>

#include "base/cleanup.h"
#include "base/fs.h"

int berth_open_in_root(int rootfd, const char *path, int flags, unsigned long long resolve)
{
  struct open_how how = {.flags = (unsigned long long)flags | O_CLOEXEC, .resolve = resolve};
  while (*path == '/')
    path++;
  if (!*path)
    path = ".";
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

int berth_write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int berth_fsync_dir(int dirfd, berth_error_t *err)
{
  if (fsync(dirfd) < 0 && errno != EINVAL)
    return berth_error_set(err, errno, "fsync directory");
  return 0;
}

int berth_tmpfile_at(int dirfd, const char *prefix, mode_t mode, char **ret_name, berth_error_t *err)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int attempt = 0; attempt < 100; attempt++) {
    char suffix[13];
    unsigned long long r;
    char *name = NULL;
    int fd;
    if (getentropy(&r, sizeof(r)) < 0)
      r = (unsigned long long)random() ^ ((unsigned long long)getpid() << 32);
    for (size_t i = 0; i < 12; i++, r /= 36)
      suffix[i] = chars[r % 36];
    suffix[12] = '\0';
    if (asprintf(&name, ".%s.tmp-%s", prefix, suffix) < 0)
      abort();
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) {
      *ret_name = name;
      return fd;
    }
    free(name);
    if (errno != EEXIST)
      return berth_error_set(err, errno, "create temporary file for `%s`", prefix);
  }
  return berth_error_set(err, EEXIST, "create temporary file for `%s`", prefix);
}

int berth_tmpfile_unlinked(int dirfd, berth_error_t *err)
{
  int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_error_set(err, errno, "create temporary file");
  return fd;
}

int berth_commit_tmpfile(int fd, int dirfd, const char *tmp, const char *name, berth_error_t *err)
{
  if (fsync(fd) < 0) {
    int e = errno;
    (void)unlinkat(dirfd, tmp, 0);
    return berth_error_set(err, e, "fsync `%s`", name);
  }
  if (renameat(dirfd, tmp, dirfd, name) < 0) {
    int e = errno;
    (void)unlinkat(dirfd, tmp, 0);
    return berth_error_set(err, e, "rename into `%s`", name);
  }
  return berth_fsync_dir(dirfd, err);
}

static int write_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool durable,
                      berth_error_t *err)
{
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = berth_tmpfile_at(dirfd, name, mode, &tmp, err);
  if (fd < 0)
    return -1;
  if (berth_write_all(fd, data, len) < 0) {
    int e = errno;
    (void)unlinkat(dirfd, tmp, 0);
    return berth_error_set(err, e, "write `%s`", name);
  }
  if (durable)
    return berth_commit_tmpfile(fd, dirfd, tmp, name, err);
  if (renameat(dirfd, tmp, dirfd, name) < 0) {
    int e = errno;
    (void)unlinkat(dirfd, tmp, 0);
    return berth_error_set(err, e, "rename into `%s`", name);
  }
  return 0;
}

int berth_write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                            berth_error_t *err)
{
  return write_file(dirfd, name, data, len, mode, true, err);
}

int berth_write_file_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                             berth_error_t *err)
{
  return write_file(dirfd, name, data, len, mode, false, err);
}

bool berth_path_is_clean_relative(const char *path)
{
  const char *p = path;
  if (!path || !*path || *path == '/')
    return false;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return false;
    p += n;
    if (*p == '/')
      p++;
  }
  return true;
}

char *berth_path_abs(const char *path)
{
  cleanup_free char *cwd = path[0] == '/' ? NULL : getcwd(NULL, 0), *joined = NULL;
  char *out, *o;
  if (path[0] != '/' && !cwd)
    return NULL;
  if (asprintf(&joined, "%s/%s", cwd ? cwd : "", path) < 0)
    abort();
  out = o = malloc(strlen(joined) + 2);
  if (!out)
    abort();
  *o++ = '/';
  for (const char *p = joined; *p;) {
    const char *end = strchrnul(p, '/');
    size_t len = (size_t)(end - p);
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (o > out + 1 && o[-1] != '/')
        o--;
      if (o > out + 1)
        o--;
    } else if (len && !(len == 1 && p[0] == '.')) {
      if (o > out + 1)
        *o++ = '/';
      memcpy(o, p, len);
      o += len;
    }
    p = *end ? end + 1 : end;
  }
  *o = '\0';
  return out;
}

int berth_mkdir_p(int dirfd, const char *path, mode_t mode, berth_error_t *err)
{
  cleanup_free char *copy = strdup(path);
  char *p;
  if (!copy)
    abort();
  if (!berth_path_is_clean_relative(path))
    return berth_error_set_plain(err, EINVAL, "mkdir `%s`: not a clean relative path", path);
  for (p = copy;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdirat(dirfd, copy, mode) < 0 && errno != EEXIST)
        return berth_error_set(err, errno, "mkdir `%s`", copy);
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  return 0;
}

static int rm_rf_children(int fd, dev_t dev, berth_error_t *err)
{
  cleanup_dir DIR *d = fdopendir(fd);
  struct dirent *de;
  if (!d) {
    int e = errno;
    close(fd);
    return berth_error_set(err, e, "opendir");
  }
  while ((de = readdir(d))) {
    struct stat st;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT)
        continue;
      return berth_error_set(err, errno, "stat `%s`", de->d_name);
    }
    if (S_ISDIR(st.st_mode)) {
      int cfd;
      if (st.st_dev != dev)
        return berth_error_set(err, EBUSY, "remove `%s`: a mount point", de->d_name);
      cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0)
        return berth_error_set(err, errno, "open `%s`", de->d_name);
      if (rm_rf_children(cfd, dev, err) < 0)
        return berth_error_prefix(err, "%s", de->d_name);
      if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return berth_error_set(err, errno, "rmdir `%s`", de->d_name);
    } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
      return berth_error_set(err, errno, "unlink `%s`", de->d_name);
    }
  }
  return 0;
}

int berth_rm_rf_at(int dirfd, const char *name, berth_error_t *err)
{
  struct stat st;
  int fd;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      return 0;
    return berth_error_set(err, errno, "stat `%s`", name);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
      return berth_error_set(err, errno, "unlink `%s`", name);
    return 0;
  }
  /* Directories made read-only by a layer still need to be removable. */
  fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open `%s`", name);
  if (rm_rf_children(fd, st.st_dev, err) < 0)
    return berth_error_prefix(err, "remove `%s`", name);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return berth_error_set(err, errno, "rmdir `%s`", name);
  return 0;
}

int berth_read_file_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len, berth_error_t *err)
{
  cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;
  struct stat st;
  if (fd < 0)
    return berth_error_set(err, errno, "open `%s`", path);
  if (fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "stat `%s`", path);
  cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  buf = malloc(cap);
  if (!buf)
    abort();
  for (;;) {
    ssize_t n;
    if (len + 1 >= cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf)
        abort();
    }
    n = read(fd, buf + len, cap - len - 1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return berth_error_set(err, errno, "read `%s`", path);
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  *ret_buf = steal_ptr(&buf);
  if (ret_len)
    *ret_len = len;
  return 0;
}

ssize_t berth_copy_fd(int in, int out, berth_error_t *err)
{
  char buf[1 << 16];
  ssize_t total = 0;
  for (;;) {
    ssize_t n = read(in, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return berth_error_set(err, errno, "read");
    }
    if (n == 0)
      return total;
    if (berth_write_all(out, buf, (size_t)n) < 0)
      return berth_error_set(err, errno, "write");
    total += n;
  }
}

/* Hard-linked inodes already counted, as a jansson object keyed "dev:ino"
 * (a hash table: linear lookups made collection quadratic). */
static int du_walk(int fd, off_t *size, json_t *seen, berth_error_t *err)
{
  cleanup_dir DIR *d = fdopendir(fd);
  struct dirent *de;
  if (!d) {
    int e = errno;
    close(fd);
    return berth_error_set(err, e, "opendir");
  }
  while ((de = readdir(d))) {
    struct stat st;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd >= 0 && du_walk(cfd, size, seen, err) < 0)
        return -1;
      continue;
    }
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      char key[48];
      snprintf(key, sizeof(key), "%llx:%llx", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
      if (json_object_get(seen, key))
        continue;
      json_object_set_new(seen, key, json_true());
    }
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
      *size += st.st_size;
  }
  return 0;
}

int berth_du_at(int dirfd, const char *name, off_t *ret_size, berth_error_t *err)
{
  json_t *seen = json_object();
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int r;
  *ret_size = 0;
  if (fd < 0) {
    json_decref(seen);
    return berth_error_set(err, errno, "open `%s`", name);
  }
  r = du_walk(fd, ret_size, seen, err);
  json_decref(seen);
  return r;
}

char **berth_dir_names(int dirfd, size_t *ret_n, berth_error_t *err)
{
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  cleanup_strv char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  if (fd < 0 || !(d = fdopendir(fd))) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    berth_error_set(err, e, "open directory");
    return NULL;
  }
  names = calloc(1, sizeof(*names));
  if (!names)
    abort();
  while ((errno = 0, de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (n + 2 > cap) {
      cap = cap ? 2 * cap : 16;
      names = realloc(names, cap * sizeof(*names));
      if (!names)
        abort();
    }
    if (!(names[n] = strdup(de->d_name)))
      abort();
    names[++n] = NULL;
  }
  if (errno) {
    berth_error_set(err, errno, "read directory");
    return NULL;
  }
  if (ret_n)
    *ret_n = n;
  return steal_ptr(&names);
}
