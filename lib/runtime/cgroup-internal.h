/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What cgroup.c shares with its backends (cgroup-v1.c, cgroup-v2.c): the
 * container cgroup as one directory per hierarchy, the backend ops, and the
 * file helpers every backend writes limits through.  Not installed; unit
 * tests include it to reach the backends directly. */
#ifndef BERTH_RUNTIME_CGROUP_INTERNAL_H
#define BERTH_RUNTIME_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/runtime-spec.h"
#include "runtime/cgroup.h"

struct berth_spec_resources;

/* The container's directory in one hierarchy. */
struct berth_cgroup_dir {
  bool v2;            /* the unified (cgroup2) hierarchy */
  char *controllers;  /* v1: "memory", "cpu,cpuacct", "name=systemd"; v2: "" */
  char *mount;        /* host mount point, "/sys/fs/cgroup/memory" */
  char *rel;          /* the cgroup below the mount point, no leading '/' */
  char *base;         /* the part of rel that existed before us (our parent) */
  int fd;             /* O_DIRECTORY fd on mount/rel, -1 while not open */
  bool created;       /* create() made the leaf directory */
};

struct berth_cgroup_backend {
  const char *name;
  /* Called for each level create() makes or finds, parent first: v1 copies
   * cpuset.cpus/.mems down (a new v1 cpuset cgroup starts empty). */
  int (*prepare_level)(const struct berth_cgroup_dir *d, int parent_fd, int fd, const char *level,
                       berth_error_t *err);
  /* Write the limits that are set in res. */
  int (*apply)(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err);
  bool (*oom_killed)(struct berth_cgroup *cg);
  /* Freeze or thaw and wait (bounded) until the kernel says it is done. */
  int (*freeze)(struct berth_cgroup *cg, bool frozen, berth_error_t *err);
  /* Whether freeze() works on this cgroup (v1 without a freezer: no). */
  bool (*can_freeze)(struct berth_cgroup *cg);
};

struct berth_cgroup {
  enum berth_cgroup_layout layout;
  const struct berth_cgroup_backend *ops;
  char *path;                   /* as the caller gave it */
  struct berth_cgroup_dir *dirs;
  size_t n_dirs;
  struct berth_cgroup_dir *v2;  /* the unified one inside dirs, or NULL */
};

extern const struct berth_cgroup_backend berth_cgroup_backend_v1;
extern const struct berth_cgroup_backend berth_cgroup_backend_v2;

/* cgroup-hierarchy.c: a cgroups path has no "." or ".." components. */
bool berth_cgroup_path_is_valid(const char *path);
/* Fill cg->dirs (fds not open yet) for path on cg->layout: one per
 * hierarchy the caller is a member of; sets cg->v2. */
int berth_cgroup_build_dirs(struct berth_cgroup *cg, const char *path, berth_error_t *err);

/* berth_cgroup_create / _open as if the host had `layout` (tests run the
 * v2 backend on a hybrid host's unified hierarchy this way). */
int berth_cgroup_create_on(enum berth_cgroup_layout layout, const char *path, const struct berth_spec_resources *res,
                           struct berth_cgroup **ret, berth_error_t *err);
int berth_cgroup_open_on(enum berth_cgroup_layout layout, const char *path, struct berth_cgroup **ret,
                         berth_error_t *err);

/* Whether comma-separated `list` has `item`. */
bool berth_cgroup_list_has(const char *list, const char *item);
/* The v1 directory whose hierarchy carries `controller` ("memory",
 * "name=systemd"), NULL when no such hierarchy is mounted. */
struct berth_cgroup_dir *berth_cgroup_find(struct berth_cgroup *cg, const char *controller);
bool berth_cgroup_dir_has(const struct berth_cgroup_dir *d, const char *file);
/* Write value to file in d; errors name the whole path. */
int berth_cgroup_dir_write(const struct berth_cgroup_dir *d, const char *file, const char *value, berth_error_t *err);
/* Read a whole file of d, NUL-terminated, trailing newline kept. */
int berth_cgroup_dir_read(const struct berth_cgroup_dir *d, const char *file, char **ret, berth_error_t *err);
/* The number after "key " in a flat keyed file ("oom_kill 3"), -1 if absent. */
long long berth_cgroup_keyed_value(const char *text, const char *key);
/* Set a limit the user asked for: d NULL (no hierarchy) or file missing is
 * a plain EOPNOTSUPP error naming the flag ("--memory needs the memory cgroup
 * controller"); `what` names the controller or feature. */
int berth_cgroup_set_limit(const struct berth_cgroup_dir *d, const char *what, const char *file, const char *value,
                           const char *flag, berth_error_t *err);

/* v2 freeze on one directory: cgroup.freeze, then wait for "frozen N" in
 * cgroup.events (hybrid uses it when there is no v1 freezer). */
int berth_cgroup_v2_freeze_dir(const struct berth_cgroup_dir *d, bool frozen, berth_error_t *err);
/* The converted cpu.weight for v1 cpu.shares (1 + ((shares - 2) * 9999) / 262142). */
uint64_t berth_cgroup_shares_to_weight(uint64_t shares);

/* The run flag behind each blockIO throttle list, for the backends' errors. */
extern const char *const berth_cgroup_throttle_flags[BERTH_THROTTLE_N];

/* Sleep for ms milliseconds (retry loops in the backends). */
void berth_cgroup_sleep_ms(unsigned ms);

#endif
