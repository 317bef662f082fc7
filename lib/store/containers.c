/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container records: ROOT/containers/<id>/ and the name links in ROOT/names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "store/store-internal.h"

static bool is_id(const char *s)
{
  if (strlen(s) != BERTH_CONTAINER_ID_LEN)
    return false;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      return false;
  return true;
}

static char *name_owner(struct berth_store *s, const char *name)
{
  char buf[BERTH_CONTAINER_ID_LEN + 2];
  ssize_t n = readlinkat(s->names_fd, name, buf, sizeof buf - 1);
  if (n != BERTH_CONTAINER_ID_LEN)
    return NULL;
  buf[n] = '\0';
  return is_id(buf) ? strdup(buf) : NULL;
}

/* Into the staging directory, which nobody else sees: no temp files needed. */
static int write_files(int dirfd, const struct berth_store_file *files, size_t n, berth_error_t *err)
{
  bool durable = false;
  for (size_t i = 0; i < n; i++) {
    cleanup_close int fd = openat(dirfd, files[i].name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || berth_write_all(fd, files[i].data, files[i].len) < 0 || (files[i].durable && fsync(fd) < 0))
      return berth_error_set(err, errno, "write `%s`", files[i].name);
    durable |= files[i].durable;
  }
  static const char *const dirs[] = {"upper", "work", "merged"};
  /* the overlay root takes its mode from upper: 0755 like docker's diff dirs, so
   * non-root users can reach the image */
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
    if (mkdirat(dirfd, dirs[i], i == 0 ? 0755 : 0700) < 0)
      return berth_error_set(err, errno, "mkdir `%s`", dirs[i]);
  return durable ? berth_fsync_dir(dirfd, err) : 0;
}

int berth_container_store_create(struct berth_store *s, const char *id, const char *name,
                                 const struct berth_store_file *files, size_t n_files, char **ret_owner,
                                 berth_error_t *err)
{
  char staging[BERTH_CONTAINER_ID_LEN + 16];
  snprintf(staging, sizeof staging, ".staging-%s", id);
  if (mkdirat(s->containers_fd, staging, 0700) < 0)
    return berth_error_set(err, errno, "create container `%s`", id);
  cleanup_close int dfd = openat(s->containers_fd, staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || write_files(dfd, files, n_files, err) < 0) {
    if (dfd < 0)
      berth_error_set(err, errno, "open `%s`", staging);
    goto fail;
  }
  if (symlinkat(id, s->names_fd, name) < 0) {
    if (errno == EEXIST) {
      if (ret_owner)
        *ret_owner = name_owner(s, name);
      berth_error_set_plain(err, EEXIST, "name `%s` is already in use", name);
    } else {
      berth_error_set(err, errno, "reserve name `%s`", name);
    }
    goto fail;
  }
  if (renameat(s->containers_fd, staging, s->containers_fd, id) < 0) {
    berth_error_set(err, errno, "commit container `%s`", id);
    (void)unlinkat(s->names_fd, name, 0);
    goto fail;
  }
  bool durable = false;
  for (size_t i = 0; i < n_files; i++)
    durable |= files[i].durable;
  if (!durable)
    return 0;
  (void)berth_fsync_dir(s->names_fd, NULL);
  return berth_fsync_dir(s->containers_fd, err);
fail:
  (void)berth_rm_rf_at(s->containers_fd, staging, NULL);
  return -1;
}

int berth_container_store_open(struct berth_store *s, const char *id, berth_error_t *err)
{
  if (!is_id(id))
    return berth_error_set_plain(err, ENOENT, "No such container: %s", id);
  int fd = openat(s->containers_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? berth_error_set_plain(err, ENOENT, "No such container: %s", id)
                           : berth_error_set(err, errno, "open container `%s`", id);
  return fd;
}

int berth_container_run_dir(struct berth_store *s, const char *id, bool create, berth_error_t *err)
{
  if (!is_id(id))
    return berth_error_set_plain(err, EINVAL, "invalid container id `%s`", id);
  if (create && mkdirat(s->run_containers_fd, id, 0700) < 0 && errno != EEXIST)
    return berth_error_set(err, errno, "create run dir of `%s`", id);
  int fd = openat(s->run_containers_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open run dir of `%s`", id);
  return fd;
}

char **berth_container_store_ids(struct berth_store *s, size_t *ret_n, berth_error_t *err)
{
  size_t n = 0;
  char **names = berth_dir_names(s->containers_fd, &n, err);
  if (!names)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (is_id(names[i]))
      names[k++] = names[i];
    else
      free(names[i]);
  }
  names[k] = NULL;
  if (ret_n)
    *ret_n = k;
  return names;
}

/* The one id starting with `prefix`: 1 found, 0 none, -1 ambiguous or error. */
static int find_prefix(struct berth_store *s, const char *prefix, char **ret, berth_error_t *err)
{
  cleanup_strv char **ids = berth_container_store_ids(s, NULL, err);
  if (!ids)
    return -1;
  size_t len = strlen(prefix);
  *ret = NULL;
  for (char **p = ids; *p; p++) {
    if (strncmp(*p, prefix, len) != 0)
      continue;
    if (*ret) {
      free(steal_ptr(ret));
      return berth_error_set_plain(err, EINVAL, "multiple IDs found with provided prefix: %s", prefix);
    }
    *ret = strdup(*p);
  }
  return *ret ? 1 : 0;
}

char *berth_container_store_resolve(struct berth_store *s, const char *name_or_id, berth_error_t *err)
{
  const char *q = name_or_id[0] == '/' ? name_or_id + 1 : name_or_id;
  char *found = NULL;
  if (!*q || strchr(q, '/') || strcmp(q, ".") == 0 || strcmp(q, "..") == 0)
    goto none;
  if (is_id(q) && faccessat(s->containers_fd, q, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return strdup(q);
  found = name_owner(s, q);
  if (found && faccessat(s->containers_fd, found, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return found;
  free(found);
  found = NULL;
  if (q == name_or_id && strlen(q) <= BERTH_CONTAINER_ID_LEN) {
    int r = find_prefix(s, q, &found, err);
    if (r < 0)
      return NULL;
    if (r > 0)
      return found;
  }
none:
  berth_error_set_plain(err, ENOENT, "No such container: %s", name_or_id);
  return NULL;
}

int berth_container_store_rename(struct berth_store *s, const char *id, const char *name, const char *new_name,
                                 char **ret_owner, berth_error_t *err)
{
  if (symlinkat(id, s->names_fd, new_name) < 0) {
    if (errno != EEXIST)
      return berth_error_set(err, errno, "reserve name `%s`", new_name);
    if (ret_owner)
      *ret_owner = name_owner(s, new_name);
    return berth_error_set_plain(err, EEXIST, "name `%s` is already in use", new_name);
  }
  cleanup_free char *owner = name_owner(s, name);
  if (owner && strcmp(owner, id) == 0)
    (void)unlinkat(s->names_fd, name, 0);
  return berth_fsync_dir(s->names_fd, err);
}

int berth_container_store_remove(struct berth_store *s, const char *id, const char *name, berth_error_t *err)
{
  char aside[BERTH_CONTAINER_ID_LEN + 16];
  snprintf(aside, sizeof aside, ".removing-%s", id);
  if (renameat(s->containers_fd, id, s->containers_fd, aside) < 0)
    return errno == ENOENT ? berth_error_set_plain(err, ENOENT, "No such container: %s", id)
                           : berth_error_set(err, errno, "remove container `%s`", id);
  cleanup_free char *owner = name ? name_owner(s, name) : NULL;
  if (owner && strcmp(owner, id) == 0)
    (void)unlinkat(s->names_fd, name, 0);
  (void)berth_rm_rf_at(s->run_containers_fd, id, NULL);
  return berth_rm_rf_at(s->containers_fd, aside, err);
}

void berth_container_store_clean_names(struct berth_store *s)
{
  cleanup_strv char **names = berth_dir_names(s->names_fd, NULL, NULL);
  for (char **p = names; p && *p; p++) {
    cleanup_free char *owner = name_owner(s, *p);
    if (!owner || faccessat(s->containers_fd, owner, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
      (void)unlinkat(s->names_fd, *p, 0);
  }
}
