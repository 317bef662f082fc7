/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `diff`: the changes in a container's writable layer, computed the way
 * moby's overlay driver does (archive.OverlayChanges): walk the upper dir in
 * sorted order; a whiteout (char device 0:0) or an opaque directory is a
 * deletion, an entry that exists in an image layer is a modification unless
 * it is a directory with the same size, mode and mtime, anything else is an
 * addition; the missing parent directories of an addition or a deletion are
 * reported as modified just before it.  Everything is read relative to
 * directory fds without following symlinks, so a link in the upper dir or in
 * a layer never leads the walk out of them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "engine/rwlayer.h"

enum { KIND_MODIFY = 0, KIND_ADD = 1, KIND_DELETE = 2 };

const char *const berth_rw_runtime_paths[] = {"dev", "proc", "sys", "etc/hostname", "etc/hosts", "etc/resolv.conf",
                                              NULL};

bool berth_rw_is_runtime_path(const char *rel)
{
  for (const char *const *p = berth_rw_runtime_paths; *p; p++)
    if (strcmp(*p, rel) == 0)
      return true;
  return false;
}

bool berth_rw_is_runtime_parent(const char *rel)
{
  size_t n = strlen(rel);
  for (const char *const *p = berth_rw_runtime_paths; *p; p++)
    if (strncmp(*p, rel, n) == 0 && (*p)[n] == '/')
      return true;
  return false;
}

int berth_ctr_open_upper(const struct berth_ctr *c, berth_error_t *err)
{
  int fd = openat(c->dirfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open the writable layer of container %s", c->id);
  return fd;
}

struct walk {
  int *layers; /* diff dirs of the image's layers */
  size_t n_layers;
  json_t *changed_dirs; /* set of paths ("/etc") */
  json_t *out;
};

static bool is_opaque(int dfd, const char *name)
{
  cleanup_close int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  char v[2];
  if (fd < 0)
    return false;
  return (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y') ||
         (fgetxattr(fd, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y');
}

/* lstat of `rel` in a layer, never through a symlink. */
static bool layer_stat(int layer, const char *rel, struct stat *st)
{
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  cleanup_close int fd = (int)syscall(SYS_openat2, layer, rel, &how, sizeof how);
  return fd >= 0 && fstat(fd, st) == 0;
}

static bool same_dir(const struct stat *a, const struct stat *b)
{
  /* moby's sameFsTime: equal, or equal seconds when one side lost the nanoseconds */
  bool same_time = a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
                   (a->st_mtim.tv_nsec == b->st_mtim.tv_nsec || a->st_mtim.tv_nsec == 0 || b->st_mtim.tv_nsec == 0);
  return a->st_size == b->st_size && a->st_mode == b->st_mode && same_time;
}

static void add_change(struct walk *w, const char *path, int kind)
{
  json_array_append_new(w->out, json_pack("{s:s, s:i}", "Path", path, "Kind", kind));
}

/* Report the parents of `path` that no change named yet, outermost first. */
static void add_parents(struct walk *w, const char *path)
{
  cleanup_free char *copy = strdup(path);
  if (!copy)
    abort();
  for (char *slash = strchr(copy + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (!json_object_get(w->changed_dirs, copy)) {
      add_change(w, copy, KIND_MODIFY);
      json_object_set_new(w->changed_dirs, copy, json_true());
    }
    *slash = '/';
  }
}

/* -1: unchanged directory (not reported), else the kind. */
static int classify(struct walk *w, int dfd, const char *name, const char *rel, const struct stat *st)
{
  struct stat lst;
  if (S_ISCHR(st->st_mode) && st->st_rdev == 0)
    return KIND_DELETE;
  if (S_ISDIR(st->st_mode) && is_opaque(dfd, name))
    return KIND_DELETE;
  /* a directory the runtime made for its own mount points counts as the image's */
  if (S_ISDIR(st->st_mode) && berth_rw_is_runtime_parent(rel))
    return -1;
  for (size_t i = 0; i < w->n_layers; i++) {
    if (!layer_stat(w->layers[i], rel, &lst))
      continue;
    if (S_ISDIR(lst.st_mode) && S_ISDIR(st->st_mode) && same_dir(st, &lst))
      return -1;
    return KIND_MODIFY;
  }
  return KIND_ADD;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk *w, int dfd, const char *prefix, berth_error_t *err)
{
  size_t n = 0;
  cleanup_strv char **names = berth_dir_names(dfd, &n, err);
  if (!names)
    return berth_error_prefix(err, "read `%s`", *prefix ? prefix : "/");
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *path = NULL;
    struct stat st;
    if (asprintf(&path, "%s/%s", prefix, names[i]) < 0)
      abort();
    if (berth_rw_is_runtime_path(path + 1))
      continue;
    if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT)
        continue;
      return berth_error_set(err, errno, "stat `%s`", path);
    }
    int kind = classify(w, dfd, names[i], path + 1, &st);
    if (S_ISDIR(st.st_mode) && kind >= 0)
      json_object_set_new(w->changed_dirs, path, json_true());
    if (kind == KIND_ADD || kind == KIND_DELETE)
      add_parents(w, path);
    if (kind >= 0)
      add_change(w, path, kind);
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return berth_error_set(err, errno, "open `%s`", path);
      if (walk_dir(w, sub, path, err) < 0)
        return -1;
    }
  }
  return 0;
}

json_t *berth_ctr_changes(struct berth_engine *e, const struct berth_ctr *c, berth_error_t *err)
{
  const json_t *chains = json_object_get(c->rec, "Layers");
  struct walk w = {.n_layers = 0};
  cleanup_close int upper = berth_ctr_open_upper(c, err);
  json_t *out = NULL;
  if (upper < 0)
    return NULL;
  w.layers = calloc(json_array_size(chains) + 1, sizeof *w.layers);
  if (!w.layers)
    abort();
  /* top-most first, as moby passes the lower dirs */
  for (size_t i = json_array_size(chains); i-- > 0;) {
    int fd = berth_layer_open_diff(e->store, json_string_value(json_array_get(chains, i)), err);
    if (fd < 0)
      goto out;
    w.layers[w.n_layers++] = fd;
  }
  w.changed_dirs = json_object();
  w.out = json_array();
  if (walk_dir(&w, upper, "", err) == 0)
    out = json_incref(w.out);
out:
  for (size_t i = 0; i < w.n_layers; i++)
    close(w.layers[i]);
  free(w.layers);
  json_decref(w.changed_dirs);
  json_decref(w.out);
  return out;
}

json_t *berth_container_changes(struct berth_engine *e, const char *name, berth_error_t *err)
{
  struct berth_ctr c;
  json_t *out = NULL;
  if (berth_ctr_load(e, name, &c, err) == 0)
    out = berth_ctr_changes(e, &c, err);
  berth_ctr_clear(&c);
  return out;
}
