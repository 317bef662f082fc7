/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A container's root filesystem as a directory fd, for the host-side file
 * operations (cp, export, diff, commit).  Nothing here runs or loads code
 * from the container (CVE-2019-14271) and nothing is attached to the host's
 * mount tree: callers resolve paths beneath the fd (RESOLVE_IN_ROOT or
 * O_NOFOLLOW walks), so the container's symlinks can never lead out of it.
 *
 * A running container's live root is /proc/<init>/root, with its mounts
 * (volumes, tmpfs, /proc): init is checked by pidfd and start time, so a pid
 * reused by another process is never entered.  Otherwise the root is an
 * overlay of the container's layers built with fsopen()/fsmount() and never
 * attached anywhere: it disappears with the last fd.  Read-only views stack
 * the upper dir as the top lower layer (no work dir, so a container starting
 * meanwhile is not disturbed); the writable one mounts the upper dir as such,
 * under the container's start lock so that the container cannot start on
 * the same upper dir while it is in use.  Both views of a stopped container
 * carry its binds and volumes on their destinations, as the daemon mounts
 * them for docker's cp, so that a copy to or from /data reaches the volume
 * mounted there; the image view (export) has none. */
#define BERTH_LOG_DOMAIN "rootfs"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <berth/log.h>

#include <linux/openat2.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/lock.h"
#include "base/proc.h"
#include "engine/engine-internal.h"

void berth_ctr_rootfs_close(struct berth_ctr_rootfs *r)
{
  close_and_reset(&r->fd);
  close_and_reset(&r->lock_fd);
  r->live = false;
}

/* /proc/<init>/root of a running container, or -1 with errno (ESRCH when
 * init is gone or is not the process the state names). */
static int open_live_root(const struct berth_ctr *c)
{
  char path[64];
  unsigned long long start;
  char state;
  if (c->st.pid <= 0) {
    errno = ESRCH;
    return -1;
  }
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, c->st.pid, 0);
  if (pidfd < 0)
    return -1;
  /* the pidfd pins init only if it is still the process the state names */
  if (berth_proc_stat(c->st.pid, &state, &start) < 0 || start != c->st.pid_start || state == 'Z') {
    errno = ESRCH;
    return -1;
  }
  snprintf(path, sizeof path, "/proc/%d/root", (int)c->st.pid);
  cleanup_close int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* alive after the open: the pid was not reused in between */
  if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
    errno = ESRCH;
    return -1;
  }
  return steal_fd(&fd);
}

static int add_layer(int fs, const char *dir, berth_error_t *err)
{
  if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", dir, 0) < 0)
    return berth_error_set(err, errno, "overlay layer `%s`", dir);
  return 0;
}

/* The overlay of the container's layers (top first), detached.  writable:
 * the upper dir as upperdir; otherwise it is the top lower layer. */
static int mount_overlay(struct berth_engine *e, const struct berth_ctr *c, bool writable, berth_error_t *err)
{
  const json_t *layers = json_object_get(c->rec, "Layers");
  cleanup_free char *upper = NULL, *work = NULL;
  cleanup_close int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return berth_error_set(err, errno, "mount the container's root: overlay");
  if (asprintf(&upper, "%s/containers/%s/upper", e->store->root, c->id) < 0 ||
      asprintf(&work, "%s/containers/%s/work", e->store->root, c->id) < 0)
    abort();
  if (writable) {
    if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
      return berth_error_set(err, errno, "overlay upper dir `%s`", upper);
  } else if (add_layer(fs, upper, err) < 0) {
    return -1;
  }
  for (size_t i = json_array_size(layers); i-- > 0;) {
    cleanup_free char *dir = berth_layer_diff_path(e->store, json_string_value(json_array_get(layers, i)));
    if (add_layer(fs, dir, err) < 0)
      return -1;
  }
  if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "berth", 0) < 0 ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return berth_error_set(err, errno, "mount the container's root overlay");
  int m = fsmount(fs, FSMOUNT_CLOEXEC, writable ? 0 : MOUNT_ATTR_RDONLY);
  if (m < 0)
    return berth_error_set(err, errno, "mount the container's root overlay");
  return m;
}

static size_t path_depth(const char *p)
{
  size_t n = 0;
  for (; *p; p++)
    n += *p == '/' && p[1] && p[1] != '/';
  return n;
}

/* Make a missing destination in the writable root as the start would (a
 * directory, or an empty file for a file's bind), each component created
 * beneath the one resolved in the root before it; O_PATH fd or -1. */
static int make_mount_point(int root, const char *dest, const char *src)
{
  struct stat st;
  cleanup_free char *path = strdup(dest);
  bool file = stat(src, &st) == 0 && !S_ISDIR(st.st_mode);
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char saved = *p, *slash = NULL;
    *p = '\0';
    slash = strrchr(path, '/');
    cleanup_close int fd = berth_open_in_root(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) {
      cleanup_close int parent = -1;
      *slash = '\0';
      parent = berth_open_in_root(root, *path ? path : "/", O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      *slash = '/';
      if (parent < 0)
        return -1;
      if (!saved && file) {
        cleanup_close int f = openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0)
          return -1;
      } else if (mkdirat(parent, slash + 1, 0755) < 0) {
        return -1;
      }
    }
    *p = saved;
    if (!saved)
      break;
  }
  return berth_open_in_root(root, dest, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* Clone the source of one mount point onto its destination in the detached
 * tree `root`: the destination resolved in the root (RESOLVE_IN_ROOT) and
 * mounted on by fd.  A destination the root lacks (never started, or gone)
 * is left alone: there is nothing of the container to hide there. */
static int attach_one(int root, const json_t *m, bool writable, berth_error_t *err)
{
  const char *src = berth_json_str(m, "Source"), *dest = berth_json_str(m, "Destination");
  bool ro = !writable || !json_is_true(json_object_get(m, "RW"));
  cleanup_close int target = berth_open_in_root(root, dest, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (target < 0 && errno == ENOENT && writable)
    target = make_mount_point(root, dest, src);
  if (target < 0)
    return 0;
  cleanup_close int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0)
    return berth_error_set(err, errno, "mount source `%s` of %s", src, dest);
  struct mount_attr attr = {.attr_set = ro ? MOUNT_ATTR_RDONLY : 0};
  if ((ro && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) ||
      move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return berth_error_set(err, errno, "mount `%s` on %s", src, dest);
  return 0;
}

static int attach_mount_points(const struct berth_ctr *c, int root, bool writable, berth_error_t *err)
{
  const json_t *points = json_object_get(c->rec, "MountPoints");
  json_t *m;
  size_t i, depth, max = 0;
  json_array_foreach(points, i, m)
  {
    const char *d = berth_json_str(m, "Destination");
    if (d && path_depth(d) > max)
      max = path_depth(d);
  }
  /* parents before children */
  for (depth = 1; depth <= max; depth++) {
    json_array_foreach(points, i, m)
    {
      const char *type = berth_json_str(m, "Type"), *d = berth_json_str(m, "Destination");
      if (!d || path_depth(d) != depth || !type || (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0))
        continue;
      if (attach_one(root, m, writable, err) < 0)
        return -1;
    }
  }
  return 0;
}

/* A stopped container's writable overlay, with its start lock held. */
static int open_stopped_writable(struct berth_engine *e, struct berth_ctr *c, struct berth_ctr_rootfs *ret,
                                 berth_error_t *err)
{
  cleanup_close int rundir = berth_container_run_dir(e->store, c->id, true, err);
  if (rundir < 0)
    return -1;
  cleanup_close int lock = berth_lock_at(rundir, "start.lock", true, err);
  if (lock < 0)
    return -1;
  /* it may have been started before we got the lock */
  berth_ctr_refresh(e, c);
  if (berth_ctr_is_active(c)) {
    ret->fd = open_live_root(c);
    if (ret->fd >= 0) {
      ret->live = true;
      return 0;
    }
  }
  ret->fd = mount_overlay(e, c, true, err);
  if (ret->fd < 0 || attach_mount_points(c, ret->fd, true, err) < 0)
    return -1;
  ret->lock_fd = steal_fd(&lock);
  return 0;
}

int berth_ctr_open_rootfs(struct berth_engine *e, struct berth_ctr *c, enum berth_rootfs_mode mode,
                          struct berth_ctr_rootfs *ret, berth_error_t *err)
{
  *ret = (struct berth_ctr_rootfs){.fd = -1, .lock_fd = -1};
  if (mode != BERTH_ROOTFS_IMAGE && berth_ctr_is_active(c)) {
    ret->fd = open_live_root(c);
    if (ret->fd >= 0) {
      ret->live = true;
      return 0;
    }
    if (errno != ESRCH && errno != ENOENT)
      return berth_error_set(err, errno, "open the root of container %s", c->id);
    berth_debug("container %s: init is gone, using its layers", c->id);
  }
  if (mode == BERTH_ROOTFS_WRITE)
    return open_stopped_writable(e, c, ret, err);
  ret->fd = mount_overlay(e, c, false, err);
  if (ret->fd >= 0 && mode == BERTH_ROOTFS_VIEW && attach_mount_points(c, ret->fd, false, err) < 0)
    close_and_reset(&ret->fd);
  return ret->fd < 0 ? -1 : 0;
}
