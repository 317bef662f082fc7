/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container's root: overlay (or bind) of the root, the spec's mounts made
 * with the new mount API onto O_PATH fds resolved inside the root (the
 * CVE-2021-30465 / CVE-2024-45310 pattern: no path is ever resolved twice),
 * pivot_root, then sysctls, masked and read-only paths. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/openat2.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup.h"
#include "runtime/runtime-internal.h"

/* Create the last component of `path` below an existing parent, then reopen
 * it without following anything: a racing symlink makes this fail. */
static int create_component(int sync_fd, int parent, const char *name, bool dir)
{
  if (dir) {
    if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
      child_fail(sync_fd, errno, "mkdir `%s`", name);
  } else {
    int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST)
      child_fail(sync_fd, errno, "create `%s`", name);
    if (fd >= 0)
      close(fd);
  }
  return berth_open_in_root(parent, name, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

int rootfs_open_mountpoint(int sync_fd, int rootfd, const char *path, bool dir)
{
  int fd = berth_open_in_root(rootfd, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0 || errno != ENOENT) {
    if (fd < 0)
      child_fail(sync_fd, errno, "open mount point `%s`", path);
    return fd;
  }
  cleanup_free char *copy = strdup(path);
  if (!copy)
    child_fail(sync_fd, ENOMEM, "mount point");
  char *slash = strrchr(copy, '/');
  const char *name = slash ? slash + 1 : copy;
  cleanup_close int parent = -1;
  if (slash && slash != copy) {
    *slash = '\0';
    parent = rootfs_open_mountpoint(sync_fd, rootfd, copy, true);
  } else {
    parent = berth_open_in_root(rootfd, "/", O_PATH, RESOLVE_IN_ROOT);
  }
  if (parent < 0)
    child_fail(sync_fd, errno, "open mount point parent of `%s`", path);
  /* mkdirat/openat need a real directory fd, not O_PATH */
  cleanup_close int pdir = berth_open_in_root(parent, ".", O_RDONLY | O_DIRECTORY, RESOLVE_BENEATH);
  if (pdir < 0)
    child_fail(sync_fd, errno, "open `%s`", copy);
  fd = create_component(sync_fd, pdir, name, dir);
  if (fd < 0)
    child_fail(sync_fd, errno, "open mount point `%s`", path);
  return fd;
}

struct flag_name {
  const char *name;
  unsigned long set, clear;
};

/* mount(8) option names as OCI uses them; attributes are MOUNT_ATTR_*,
 * propagation and recursion travel separately. */
static const struct flag_name attr_names[] = {
    {"ro", MOUNT_ATTR_RDONLY, 0}, {"rw", 0, MOUNT_ATTR_RDONLY},
    {"nosuid", MOUNT_ATTR_NOSUID, 0}, {"suid", 0, MOUNT_ATTR_NOSUID},
    {"nodev", MOUNT_ATTR_NODEV, 0}, {"dev", 0, MOUNT_ATTR_NODEV},
    {"noexec", MOUNT_ATTR_NOEXEC, 0}, {"exec", 0, MOUNT_ATTR_NOEXEC},
    {"noatime", MOUNT_ATTR_NOATIME, 0}, {"relatime", MOUNT_ATTR_RELATIME, 0},
    {"strictatime", MOUNT_ATTR_STRICTATIME, 0}, {"nodiratime", MOUNT_ATTR_NODIRATIME, 0},
    {"nosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"atime", 0, 0}, {"diratime", 0, 0}, {"norelatime", 0, 0}, {"nostrictatime", 0, 0},
    {"async", 0, 0}, {"sync", 0, 0}, {"dirsync", 0, 0}, {"mand", 0, 0}, {"nomand", 0, 0},
    {"tmpcopyup", 0, 0}, {"z", 0, 0}, {"Z", 0, 0},
};
static const struct flag_name prop_names[] = {
    {"private", MS_PRIVATE, 0}, {"rprivate", MS_PRIVATE | MS_REC, 0},
    {"shared", MS_SHARED, 0}, {"rshared", MS_SHARED | MS_REC, 0},
    {"slave", MS_SLAVE, 0}, {"rslave", MS_SLAVE | MS_REC, 0},
    {"unbindable", MS_UNBINDABLE, 0}, {"runbindable", MS_UNBINDABLE | MS_REC, 0},
};

struct mount_opts {
  unsigned long attr_set, attr_clr, propagation;
  bool bind, rbind;
  char **data; /* other options, for fsconfig: "key" or "key=value" */
  size_t n_data;
};

static bool lookup_flag(const struct flag_name *t, size_t n, const char *o, unsigned long *set, unsigned long *clr)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].name, o) == 0) {
      *set |= t[i].set;
      *clr |= t[i].clear;
      *set &= ~t[i].clear;
      return true;
    }
  return false;
}

static void parse_opts(char **options, struct mount_opts *mo)
{
  size_t n = 0;
  for (char **o = options; o && *o; o++)
    n++;
  *mo = (struct mount_opts){.data = calloc(n + 1, sizeof(char *))};
  unsigned long dummy = 0;
  for (char **o = options; o && *o; o++) {
    if (strcmp(*o, "bind") == 0)
      mo->bind = true;
    else if (strcmp(*o, "rbind") == 0)
      mo->bind = mo->rbind = true;
    else if (lookup_flag(prop_names, sizeof prop_names / sizeof *prop_names, *o, &mo->propagation, &dummy))
      ;
    else if (!lookup_flag(attr_names, sizeof attr_names / sizeof *attr_names, *o, &mo->attr_set, &mo->attr_clr))
      mo->data[mo->n_data++] = *o;
  }
}

static void set_propagation(struct child *c, int mfd, unsigned long prop, const char *what)
{
  if (!prop)
    return;
  struct mount_attr a = {.propagation = prop & ~(unsigned long)MS_REC};
  if (mount_setattr(mfd, "", AT_EMPTY_PATH | ((prop & MS_REC) ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
    child_fail(c->sync_fd, errno, "set propagation of `%s`", what);
}

static int fs_mount_fd(struct child *c, const char *type, const char *source, const struct mount_opts *mo,
                       const char *what)
{
  cleanup_close int fs = fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0)
    child_fail(c->sync_fd, errno, "mount `%s`: filesystem `%s`", what, type);
  if (source && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
    child_fail(c->sync_fd, errno, "mount `%s`: source", what);
  for (size_t i = 0; i < mo->n_data; i++) {
    cleanup_free char *key = strdup(mo->data[i]);
    char *eq = key ? strchr(key, '=') : NULL;
    int r;
    if (eq) {
      *eq = '\0';
      r = fsconfig(fs, FSCONFIG_SET_STRING, key, eq + 1, 0);
    } else {
      r = key ? fsconfig(fs, FSCONFIG_SET_FLAG, key, NULL, 0) : -1;
    }
    /* devpts's "newinstance" is the default and refused by some kernels */
    if (r < 0 && !(eq == NULL && key && strcmp(key, "newinstance") == 0))
      child_fail(c->sync_fd, errno, "mount `%s`: option `%s`", what, mo->data[i]);
  }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    child_fail(c->sync_fd, errno, "mount `%s` (%s)", what, type);
  int m = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned int)mo->attr_set);
  if (m < 0)
    child_fail(c->sync_fd, errno, "mount `%s` (%s)", what, type);
  return m;
}

/* A detached copy of the tree at the O_PATH fd src (rbind: with its submounts). */
static int clone_tree(struct child *c, int src, const char *source, bool rbind, bool *ret_dir)
{
  struct stat st;
  if (fstat(src, &st) < 0)
    child_fail(c->sync_fd, errno, "stat `%s`", source);
  *ret_dir = S_ISDIR(st.st_mode);
  int m = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (rbind ? AT_RECURSIVE : 0));
  if (m < 0)
    child_fail(c->sync_fd, errno, "bind mount `%s`", source);
  return m;
}

/* "/proc/PID/root/PATH": PATH in another container's mount namespace (its
 * /dev/shm for --ipc container:X).  Mounts of another namespace cannot be
 * cloned from this one: enter that namespace, resolve PATH inside its root
 * without following symlinks, clone the tree there (a detached tree may move
 * anywhere), and come back. */
static int clone_foreign_tree(struct child *c, int pid, const char *path, const char *source, bool rbind,
                              bool *ret_dir)
{
  char ns[64];
  snprintf(ns, sizeof ns, "/proc/%d/ns/mnt", pid);
  cleanup_close int own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  cleanup_close int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int other = open(ns, O_RDONLY | O_CLOEXEC);
  if (own < 0 || cwd < 0 || other < 0)
    child_fail(c->sync_fd, errno, "bind mount source `%s`", source);
  if (setns(other, CLONE_NEWNS) < 0)
    child_fail(c->sync_fd, errno, "enter the mount namespace of `%s`", source);
  cleanup_close int src = berth_open_in_root(AT_FDCWD, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
  int e = errno;
  int m = src >= 0 ? clone_tree(c, src, source, rbind, ret_dir) : -1;
  if (setns(own, CLONE_NEWNS) < 0 || fchdir(cwd) < 0)
    child_fail(c->sync_fd, errno, "return to the container's mount namespace");
  if (src < 0)
    child_fail(c->sync_fd, e, "bind mount source `%s`", source);
  return m;
}

static int bind_mount_fd(struct child *c, const char *source, const struct mount_opts *mo, bool *ret_dir)
{
  int pid = 0, off = 0, m;
  if (sscanf(source, "/proc/%d/root/%n", &pid, &off) == 1 && off > 0 && pid > 0) {
    m = clone_foreign_tree(c, pid, source + off, source, mo->rbind, ret_dir);
  } else {
    cleanup_close int src = open(source, O_PATH | O_CLOEXEC);
    if (src < 0)
      child_fail(c->sync_fd, errno, "bind mount source `%s`", source);
    m = clone_tree(c, src, source, mo->rbind, ret_dir);
  }
  struct mount_attr a = {.attr_set = mo->attr_set, .attr_clr = mo->attr_clr};
  if ((a.attr_set || a.attr_clr) &&
      mount_setattr(m, "", AT_EMPTY_PATH | (mo->rbind ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
    child_fail(c->sync_fd, errno, "bind mount `%s`: set options", source);
  return m;
}

static void attach_at(struct child *c, int rootfd, int mfd, const char *dest, bool dir)
{
  cleanup_close int target = rootfs_open_mountpoint(c->sync_fd, rootfd, dest, dir);
  struct stat st;
  if (fstat(target, &st) < 0)
    child_fail(c->sync_fd, errno, "stat mount point `%s`", dest);
  if (dir != !!S_ISDIR(st.st_mode))
    child_fail(c->sync_fd, dir ? ENOTDIR : EISDIR, "mount point `%s`", dest);
  if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    child_fail(c->sync_fd, errno, "mount on `%s`", dest);
}

/* /sys/fs/cgroup: a tmpfs holding one mount per hierarchy, like docker's. */
static void mount_cgroups(struct child *c, int rootfd, const struct berth_spec_mount *m, const struct mount_opts *mo)
{
  berth_error_t err = NULL;
  cleanup_strv char **opts = NULL, **names = NULL;
  if (berth_cgroup_mounts(&opts, &names, &err) < 0)
    child_fail(c->sync_fd, 0, "cgroup mounts: %s", err->msg);
  bool v2_only = opts[0] && !opts[1] && strncmp(opts[0], "cgroup2:", 8) == 0 && names[0][0] == '\0';
  struct mount_opts sub = *mo;
  if (v2_only) {
    sub.n_data = 0;
    cleanup_close int mfd = fs_mount_fd(c, "cgroup2", "cgroup", &sub, m->destination);
    attach_at(c, rootfd, mfd, m->destination, true);
    return;
  }
  struct mount_opts tmp = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
  char mode[] = "mode=755";
  char *data[] = {mode, NULL};
  tmp.data = data;
  tmp.n_data = 1;
  cleanup_close int tfd = fs_mount_fd(c, "tmpfs", "tmpfs", &tmp, m->destination);
  attach_at(c, rootfd, tfd, m->destination, true);
  cleanup_close int dir = rootfs_open_mountpoint(c->sync_fd, rootfd, m->destination, true);
  cleanup_close int cgroot = berth_open_in_root(dir, ".", O_PATH | O_DIRECTORY, RESOLVE_BENEATH);
  for (size_t i = 0; opts[i]; i++) {
    char *colon = strchr(opts[i], ':');
    *colon = '\0';
    struct mount_opts one = *mo;
    char *d[64];
    one.data = d;
    one.n_data = 0;
    for (char *tok = strtok(colon + 1, ","); tok && one.n_data < 63; tok = strtok(NULL, ","))
      d[one.n_data++] = tok;
    cleanup_close int mfd = fs_mount_fd(c, opts[i], "cgroup", &one, names[i]);
    attach_at(c, cgroot, mfd, names[i], true);
  }
  if (mo->attr_set & MOUNT_ATTR_RDONLY) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    if (mount_setattr(cgroot, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
      child_fail(c->sync_fd, errno, "make `%s` read-only", m->destination);
  }
}

static bool is_bind(const struct berth_spec_mount *m, const struct mount_opts *mo)
{
  return mo->bind || (m->type && strcmp(m->type, "bind") == 0);
}

/* CVE-2019-16884, CVE-2025-52881: nothing but a procfs is mounted on /proc
 * and nothing inside it, except the files lxcfs emulates (runc's
 * checkProcMount list): a mount there could redirect the runtime's writes to
 * /proc (sysctls, LSM attributes) or hide what the masks cover. */
static void check_proc_mount(struct child *c, const struct berth_spec_mount *m)
{
  static const char *const lxcfs[] = {"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",     "/proc/stat",
                                      "/proc/swaps",   "/proc/uptime",    "/proc/loadavg",     "/proc/slabinfo",
                                      "/proc/net/dev", "/proc/sys/kernel/ns_last_pid", "/proc/sys/crypto/fips_enabled",
                                      NULL};
  const char *d = m->destination;
  while (d[0] == '/' && d[1] == '/')
    d++;
  if (strncmp(d, "/proc", 5) != 0 || (d[5] != '\0' && d[5] != '/'))
    return;
  size_t n = strlen(d);
  while (n > 1 && d[n - 1] == '/')
    n--;
  if (n == 5) {
    if (!m->type || strcmp(m->type, "proc") != 0)
      child_fail(c->sync_fd, 0, "\"%s\" cannot be mounted to /proc because it is not of type proc",
                 m->source ? m->source : "");
    return;
  }
  for (const char *const *p = lxcfs; *p; p++)
    if (strlen(*p) == n && !strncmp(*p, d, n))
      return;
  child_fail(c->sync_fd, 0, "\"%s\" cannot be mounted because it is inside /proc", m->destination);
}

static void mount_one(struct child *c, int rootfd, const struct berth_spec_mount *m)
{
  struct mount_opts mo;
  check_proc_mount(c, m);
  parse_opts(m->options, &mo);
  if (!mo.data)
    child_fail(c->sync_fd, ENOMEM, "mount options");
  if (m->type && strcmp(m->type, "cgroup") == 0) {
    mount_cgroups(c, rootfd, m, &mo);
  } else {
    bool dir = true;
    cleanup_close int mfd = is_bind(m, &mo) ? bind_mount_fd(c, m->source, &mo, &dir)
                                            : fs_mount_fd(c, m->type, m->source ? m->source : m->type, &mo,
                                                          m->destination);
    set_propagation(c, mfd, mo.propagation, m->destination);
    attach_at(c, rootfd, mfd, m->destination, dir);
    if (strcmp(m->destination, "/dev") == 0 && m->type && strcmp(m->type, "tmpfs") == 0) {
      cleanup_close int dev = berth_open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY, RESOLVE_IN_ROOT);
      if (dev < 0)
        child_fail(c->sync_fd, errno, "open /dev");
      devices_populate(c, dev);
    }
  }
  free(mo.data);
}

/* The overlay of the image's layers: one "lowerdir+" per layer (no page-size
 * limit on the option string); kernels before 6.8 take the joined list. */
static int overlay_mount_fd(struct child *c, const char *lower, const char *upper, const char *work)
{
  cleanup_close int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    child_fail(c->sync_fd, errno, "mount the root: overlay");
  cleanup_free char *copy = strdup(lower);
  if (!copy)
    child_fail(c->sync_fd, ENOMEM, "overlay");
  bool plus = true;
  for (char *save = NULL, *l = strtok_r(copy, ":", &save); l && plus; l = strtok_r(NULL, ":", &save))
    if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", l, 0) < 0) {
      if (errno != EINVAL || l != copy)
        child_fail(c->sync_fd, errno, "overlay lower layer `%s`", l);
      plus = false;
    }
  if (!plus && fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0)
    child_fail(c->sync_fd, errno, "overlay lower layers");
  if (upper && (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
                fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work ? work : "", 0) < 0))
    child_fail(c->sync_fd, errno, "overlay upper `%s`", upper);
  if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0 ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    child_fail(c->sync_fd, errno, "mount the root overlay");
  int m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (m < 0)
    child_fail(c->sync_fd, errno, "mount the root overlay");
  return m;
}

static void mount_root(struct child *c)
{
  const struct berth_spec *spec = c->spec;
  const char *lower = berth_spec_annotation(spec, "berth.rootfs.lowerdirs");
  struct mount_opts mo = {0};
  int mfd;
  if (!lower) {
    mo.rbind = true;
    bool dir;
    mfd = bind_mount_fd(c, spec->root_path, &mo, &dir);
  } else {
    mfd = overlay_mount_fd(c, lower, berth_spec_annotation(spec, "berth.rootfs.upperdir"),
                           berth_spec_annotation(spec, "berth.rootfs.workdir"));
  }
  if (move_mount(mfd, "", AT_FDCWD, spec->root_path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    child_fail(c->sync_fd, errno, "mount the root on `%s`", spec->root_path);
  close(mfd);
}

void rootfs_prepare(struct child *c)
{
  const struct berth_spec *spec = c->spec;
  unsigned long prop = MS_SLAVE | MS_REC;
  if (spec->rootfs_propagation) {
    unsigned long set = 0, clr = 0;
    if (!lookup_flag(prop_names, sizeof prop_names / sizeof *prop_names, spec->rootfs_propagation, &set, &clr))
      child_fail(c->sync_fd, 0, "unknown rootfsPropagation `%s`", spec->rootfs_propagation);
    prop = set;
  }
  if (mount(NULL, "/", NULL, prop, NULL) < 0)
    child_fail(c->sync_fd, errno, "make / %s", spec->rootfs_propagation ? spec->rootfs_propagation : "rslave");
  mount_root(c);
  cleanup_close int rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    child_fail(c->sync_fd, errno, "open root `%s`", spec->root_path);
  for (size_t i = 0; i < spec->n_mounts; i++)
    mount_one(c, rootfd, &spec->mounts[i]);
  devices_create_spec(c, rootfd);
}

void rootfs_pivot(struct child *c)
{
  if (chdir(c->spec->root_path) < 0)
    child_fail(c->sync_fd, errno, "chdir `%s`", c->spec->root_path);
  /* the old root stacks under the new one and is detached at once */
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    child_fail(c->sync_fd, errno, "pivot_root");
  if (umount2(".", MNT_DETACH) < 0)
    child_fail(c->sync_fd, errno, "detach the old root");
  if (chdir("/") < 0)
    child_fail(c->sync_fd, errno, "chdir /");
}

static int open_proc(struct child *c)
{
  int fd = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct statfs sfs;
  if (fd < 0 || fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
    child_fail(c->sync_fd, fd < 0 ? errno : EINVAL, "/proc in the container is not procfs");
  return fd;
}

static void write_sysctls(struct child *c)
{
  const struct berth_spec *spec = c->spec;
  if (!spec->n_sysctls)
    return;
  cleanup_close int proc = open_proc(c);
  for (size_t i = 0; i < spec->n_sysctls; i++) {
    char path[512];
    int n = snprintf(path, sizeof path, "sys/%s", spec->sysctls[i].key);
    if (n < 0 || (size_t)n >= sizeof path)
      child_fail(c->sync_fd, ENAMETOOLONG, "sysctl `%s`", spec->sysctls[i].key);
    for (char *p = path + 4; *p; p++)
      if (*p == '.')
        *p = '/';
    cleanup_close int fd =
        berth_open_in_root(proc, path, O_WRONLY | O_TRUNC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
    const char *v = spec->sysctls[i].value;
    if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v))
      child_fail(c->sync_fd, errno, "sysctl `%s=%s`", spec->sysctls[i].key, v);
  }
}

static int open_dev_null(struct child *c)
{
  int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    child_fail(c->sync_fd, fd < 0 ? errno : EINVAL, "/dev/null in the container is not the null device");
  return fd;
}

static void mask_paths(struct child *c)
{
  char **paths = c->spec->masked_paths;
  if (!paths || !*paths)
    return;
  cleanup_close int null = open_dev_null(c);
  for (; *paths; paths++) {
    cleanup_close int target = berth_open_in_root(AT_FDCWD, *paths, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    if (target < 0) {
      if (errno == ENOENT)
        continue;
      child_fail(c->sync_fd, errno, "mask `%s`", *paths);
    }
    struct stat st;
    if (fstat(target, &st) < 0)
      child_fail(c->sync_fd, errno, "stat `%s`", *paths);
    cleanup_close int mfd = -1;
    if (S_ISDIR(st.st_mode)) {
      struct mount_opts mo = {.attr_set = MOUNT_ATTR_RDONLY};
      mfd = fs_mount_fd(c, "tmpfs", "tmpfs", &mo, *paths);
    } else {
      mfd = open_tree(null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    }
    if (mfd < 0 || move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      child_fail(c->sync_fd, errno, "mask `%s`", *paths);
  }
}

static void readonly_paths(struct child *c)
{
  for (char **p = c->spec->readonly_paths; p && *p; p++) {
    cleanup_close int target = berth_open_in_root(AT_FDCWD, *p, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    if (target < 0) {
      if (errno == ENOENT)
        continue;
      child_fail(c->sync_fd, errno, "read-only `%s`", *p);
    }
    cleanup_close int mfd =
        open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
    if (mfd < 0 || mount_setattr(mfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0 ||
        move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      child_fail(c->sync_fd, errno, "make `%s` read-only", *p);
  }
}

void rootfs_finish(struct child *c)
{
  write_sysctls(c);
  mask_paths(c);
  readonly_paths(c);
  if (c->spec->root_readonly) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    if (mount_setattr(AT_FDCWD, "/", 0, &a, sizeof a) < 0)
      child_fail(c->sync_fd, errno, "make the root read-only");
  }
}
