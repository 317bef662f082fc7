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
 * the same upper dir while it is in use. */
#define BERTH_LOG_DOMAIN "rootfs"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <berth/log.h>

#include "base/cleanup.h"
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
  if (ret->fd < 0)
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
  return ret->fd < 0 ? -1 : 0;
}
