/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Volume records: ROOT/volumes/<name>/{volume.json,_data/}. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/random.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/lock.h"
#include "store/store-internal.h"

int berth_volumes_lock(struct berth_store *s, bool exclusive, berth_error_t *err)
{
  return berth_lock_at(s->volumes_fd, "volumes.lock", exclusive, err);
}

/* docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool berth_volume_name_valid(const char *name)
{
  size_t n = strlen(name);
  if (n < 2 || n > 255)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
      return false;
  }
  return true;
}

int berth_volume_name_check(const char *name, berth_error_t *err)
{
  if (strlen(name) == 1)
    return berth_error_set_plain(err, EINVAL,
                                 "create %s: volume name is too short, names should be at least two alphanumeric "
                                 "characters",
                                 name);
  if (!berth_volume_name_valid(name))
    return berth_error_set_plain(err, EINVAL,
                                 "create %s: \"%s\" includes invalid characters for a local volume name, only "
                                 "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                                 "directory, use absolute path",
                                 name, name);
  return 0;
}

static int no_such_volume(const char *name, berth_error_t *err)
{
  return berth_error_set_plain(err, ENOENT, "get %s: no such volume", name);
}

int berth_volume_store_create(struct berth_store *s, const char *name, const json_t *meta, bool *ret_created,
                              berth_error_t *err)
{
  char rnd[17], staging[64];
  cleanup_free char *text = berth_json_dumps(meta);
  *ret_created = false;
  if (berth_volume_name_check(name, err) < 0)
    return -1;
  if (faccessat(s->volumes_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  berth_random_hex(rnd, sizeof rnd);
  snprintf(staging, sizeof staging, ".staging-%s", rnd);
  if (mkdirat(s->volumes_fd, staging, 0701) < 0)
    return berth_error_set(err, errno, "create volume %s", name);
  cleanup_close int dfd = openat(s->volumes_fd, staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || mkdirat(dfd, "_data", 0755) < 0 ||
      berth_write_file_atomic(dfd, "volume.json", text, strlen(text), 0600, err) < 0) {
    if (dfd < 0 || errno)
      berth_error_set(err, errno, "create volume %s", name);
    goto fail;
  }
  if (renameat2(s->volumes_fd, staging, s->volumes_fd, name, RENAME_NOREPLACE) < 0) {
    if (errno != EEXIST) {
      berth_error_set(err, errno, "create volume %s", name);
      goto fail;
    }
    (void)berth_rm_rf_at(s->volumes_fd, staging, NULL);
    return 0;
  }
  *ret_created = true;
  return berth_fsync_dir(s->volumes_fd, err);
fail:
  (void)berth_rm_rf_at(s->volumes_fd, staging, NULL);
  return -1;
}

json_t *berth_volume_store_get(struct berth_store *s, const char *name, berth_error_t *err)
{
  cleanup_free char *path = NULL, *buf = NULL;
  size_t len;
  if (!berth_volume_name_valid(name)) {
    no_such_volume(name, err);
    return NULL;
  }
  if (asprintf(&path, "%s/volume.json", name) < 0)
    abort();
  if (berth_read_file_at(s->volumes_fd, path, &buf, &len, err) < 0) {
    if ((*err)->code == ENOENT) {
      berth_error_release(err);
      no_such_volume(name, err);
    }
    return NULL;
  }
  json_error_t jerr;
  json_t *meta = json_loadb(buf, len, 0, &jerr);
  if (!json_is_object(meta)) {
    json_decref(meta);
    berth_error_set_plain(err, EINVAL, "volume %s: unreadable volume.json: %s", name, jerr.text);
    return NULL;
  }
  return meta;
}

char **berth_volume_store_names(struct berth_store *s, size_t *ret_n, berth_error_t *err)
{
  size_t n = 0;
  char **all = berth_dir_names(s->volumes_fd, &n, err), **out = all;
  if (!all)
    return NULL;
  /* staging and removing dirs, the lock */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (berth_volume_name_valid(all[i]))
      out[k++] = all[i];
    else
      free(all[i]);
  }
  out[k] = NULL;
  if (ret_n)
    *ret_n = k;
  return out;
}

int berth_volume_store_remove(struct berth_store *s, const char *name, berth_error_t *err)
{
  char rnd[17], aside[64];
  if (!berth_volume_name_valid(name))
    return no_such_volume(name, err);
  berth_random_hex(rnd, sizeof rnd);
  snprintf(aside, sizeof aside, ".removing-%s", rnd);
  if (renameat(s->volumes_fd, name, s->volumes_fd, aside) < 0)
    return errno == ENOENT ? no_such_volume(name, err) : berth_error_set(err, errno, "remove volume %s", name);
  return berth_rm_rf_at(s->volumes_fd, aside, err);
}

char *berth_volume_data_path(struct berth_store *s, const char *name)
{
  char *p = NULL;
  if (asprintf(&p, "%s/volumes/%s/_data", s->root, name) < 0)
    abort();
  return p;
}
