/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /dev in the container: the default nodes of the OCI spec, the spec's
 * devices, and the console (a pty of the container's own devpts instance,
 * handled only by fd: CVE-2025-52565). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "oci/runtime-spec.h"
#include "runtime/runtime-internal.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static const struct {
  const char *name;
  unsigned major, minor;
} default_nodes[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
  const char *name, *target;
} default_links[] = {
    {"fd", "/proc/self/fd"},         {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},   {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

void devices_populate(struct child *c, int devfd)
{
  mode_t old = umask(0);
  for (size_t i = 0; i < sizeof default_nodes / sizeof *default_nodes; i++)
    if (mknodat(devfd, default_nodes[i].name, S_IFCHR | 0666,
                makedev(default_nodes[i].major, default_nodes[i].minor)) < 0 && errno != EEXIST)
      child_fail(c->sync_fd, errno, "mknod /dev/%s", default_nodes[i].name);
  umask(old);
  for (size_t i = 0; i < sizeof default_links / sizeof *default_links; i++)
    if (symlinkat(default_links[i].target, devfd, default_links[i].name) < 0 && errno != EEXIST)
      child_fail(c->sync_fd, errno, "symlink /dev/%s", default_links[i].name);
}

static mode_t node_type(char t)
{
  switch (t) {
  case 'c':
  case 'u':
    return S_IFCHR;
  case 'b':
    return S_IFBLK;
  case 'p':
    return S_IFIFO;
  default:
    return 0;
  }
}

void devices_create_spec(struct child *c, int rootfd)
{
  const struct berth_spec *spec = c->spec;
  mode_t old = umask(0);
  for (size_t i = 0; i < spec->n_devices; i++) {
    const struct berth_spec_device *d = &spec->devices[i];
    cleanup_free char *copy = strdup(d->path);
    char *slash = copy ? strrchr(copy, '/') : NULL;
    if (!slash || !slash[1])
      child_fail(c->sync_fd, EINVAL, "device path `%s`", d->path);
    *slash = '\0';
    cleanup_close int parent = rootfs_open_mountpoint(c->sync_fd, rootfd, *copy ? copy : "/", true);
    cleanup_close int pdir = berth_open_in_root(parent, ".", O_RDONLY | O_DIRECTORY, RESOLVE_BENEATH);
    if (pdir < 0)
      child_fail(c->sync_fd, errno, "open parent of `%s`", d->path);
    mode_t mode = node_type(d->type) | (d->has_mode ? (d->mode & 07777) : 0666);
    (void)unlinkat(pdir, slash + 1, 0); /* replaces a default node of the same name */
    if (mknodat(pdir, slash + 1, mode, makedev((unsigned)d->major, (unsigned)d->minor)) < 0)
      child_fail(c->sync_fd, errno, "mknod `%s`", d->path);
    if ((d->has_uid || d->has_gid) &&
        fchownat(pdir, slash + 1, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1,
                 AT_SYMLINK_NOFOLLOW) < 0)
      child_fail(c->sync_fd, errno, "chown `%s`", d->path);
  }
  umask(old);
}

static void bind_console(struct child *c, int peer)
{
  cleanup_close int dev = open("/dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dev < 0)
    child_fail(c->sync_fd, errno, "open /dev");
  int fd = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST)
    child_fail(c->sync_fd, errno, "create /dev/console");
  if (fd >= 0)
    close(fd);
  cleanup_close int target = berth_open_in_root(dev, "console", O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
  struct stat st;
  if (target < 0 || fstat(target, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
    child_fail(c->sync_fd, target < 0 ? errno : EINVAL, "/dev/console");
  cleanup_close int tree = open_tree(peer, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0 || move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    child_fail(c->sync_fd, errno, "mount the console on /dev/console");
}

int console_open(struct child *c, int *ret_peer)
{
  int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    child_fail(c->sync_fd, errno, "open /dev/pts/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    child_fail(c->sync_fd, errno, "unlock the pty");
  *ret_peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*ret_peer < 0)
    child_fail(c->sync_fd, errno, "open the pty peer");
  const struct berth_spec_process *p = &c->spec->process;
  if (p->console_rows && p->console_cols) {
    struct winsize ws = {.ws_row = p->console_rows, .ws_col = p->console_cols};
    (void)ioctl(master, TIOCSWINSZ, &ws);
  }
  return master;
}

void console_setup(struct child *c)
{
  if (setsid() < 0)
    child_fail(c->sync_fd, errno, "setsid");
  if (!c->spec->process.terminal)
    return;
  cleanup_close int peer = -1;
  int master = console_open(c, &peer);
  bind_console(c, peer);
  if (ioctl(peer, TIOCSCTTY, 0) < 0)
    child_fail(c->sync_fd, errno, "set the controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(peer, i) < 0)
      child_fail(c->sync_fd, errno, "dup2 the console");
  c->console_master = master;
}
