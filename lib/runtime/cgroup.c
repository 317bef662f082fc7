/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup dispatcher: picks the backend for the host layout, makes and
 * removes the container's directory in each hierarchy (cgroup-hierarchy.c
 * says which), and does what is the same on every layout: enter, pids, kill,
 * destroy, and the file helpers the backends write limits through.  Limits,
 * OOM and freezing go to the backend: cgroup-v1.c on v1 and hybrid (whose
 * unified part holds the processes but carries no limits), cgroup-v2.c on v2. */
#define BERTH_LOG_DOMAIN "cgroup"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <berth/log.h>

#include "base/xalloc.h"
#include "base/cleanup.h"
#include "base/timeutil.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup-internal.h"

/* destroy(): how long processes get to die and directories to empty. */
#define DESTROY_TIMEOUT_MS 1000

void berth_cgroup_sleep_ms(unsigned ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static int cgroup_new(enum berth_cgroup_layout layout, const char *path, struct berth_cgroup **ret,
                      berth_error_t *err)
{
  struct berth_cgroup *cg;
  if (!path || !berth_cgroup_path_is_valid(path))
    return berth_error_set_plain(err, EINVAL, "invalid cgroups path `%s`", path ? path : "");
  cg = calloc(1, sizeof(*cg));
  if (!cg)
    abort();
  cg->layout = layout;
  cg->ops = cg->layout == BERTH_CGROUP_V2 ? &berth_cgroup_backend_v2 : &berth_cgroup_backend_v1;
  cg->path = xstrdup(path);
  if (berth_cgroup_build_dirs(cg, path, err) < 0) {
    berth_cgroup_free(cg);
    return -1;
  }
  *ret = cg;
  return 0;
}

/* ------------------------------------------------------------- file helpers */

struct berth_cgroup_dir *berth_cgroup_find(struct berth_cgroup *cg, const char *controller)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (!cg->dirs[i].v2 && cg->dirs[i].fd >= 0 && berth_cgroup_list_has(cg->dirs[i].controllers, controller))
      return &cg->dirs[i];
  return NULL;
}

bool berth_cgroup_dir_has(const struct berth_cgroup_dir *d, const char *file)
{
  return d && d->fd >= 0 && faccessat(d->fd, file, F_OK, 0) == 0;
}

int berth_cgroup_dir_write(const struct berth_cgroup_dir *d, const char *file, const char *value, berth_error_t *err)
{
  cleanup_close int fd = openat(d->fd, file, O_WRONLY | O_CLOEXEC);
  size_t len = strlen(value);
  ssize_t n;
  if (fd < 0)
    return berth_error_set(err, errno, "open `%s/%s/%s`", d->mount, d->rel, file);
  n = TEMP_FAILURE_RETRY(write(fd, value, len));
  if (n < 0)
    return berth_error_set(err, errno, "write `%s` to `%s/%s/%s`", value, d->mount, d->rel, file);
  if ((size_t)n != len)
    return berth_error_set(err, EIO, "short write to `%s/%s/%s`", d->mount, d->rel, file);
  berth_trace("%s/%s/%s = %s", d->mount, d->rel, file, value);
  return 0;
}

int berth_cgroup_dir_read(const struct berth_cgroup_dir *d, const char *file, char **ret, berth_error_t *err)
{
  cleanup_close int fd = openat(d->fd, file, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;
  if (fd < 0)
    return berth_error_set(err, errno, "open `%s/%s/%s`", d->mount, d->rel, file);
  for (;;) {
    ssize_t n;
    if (cap - len < 4096) {
      cap = cap ? cap * 2 : 8192;
      buf = xreallocarray(buf, cap, 1);
    }
    n = TEMP_FAILURE_RETRY(read(fd, buf + len, cap - len - 1));
    if (n < 0)
      return berth_error_set(err, errno, "read `%s/%s/%s`", d->mount, d->rel, file);
    if (n == 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  *ret = steal_ptr(&buf);
  return 0;
}

long long berth_cgroup_keyed_value(const char *text, const char *key)
{
  size_t n = strlen(key);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, key, n) == 0 && p[n] == ' ')
      return strtoll(p + n + 1, NULL, 10);
  return -1;
}

int berth_cgroup_set_limit(const struct berth_cgroup_dir *d, const char *what, const char *file, const char *value,
                           const char *flag, berth_error_t *err)
{
  if (!d || d->fd < 0)
    return berth_error_set_plain(err, EOPNOTSUPP, "%s needs the %s cgroup controller", flag, what);
  if (!berth_cgroup_dir_has(d, file))
    return berth_error_set_plain(err, EOPNOTSUPP, "%s needs the %s cgroup controller (no `%s` in `%s/%s`)", flag,
                                 what, file, d->mount, d->rel);
  if (berth_cgroup_dir_write(d, file, value, err) < 0)
    return berth_error_prefix(err, "set %s", flag);
  return 0;
}

/* --------------------------------------------------------------- create */

/* mkdir the levels of `path` below d's base, each prepared by the backend. */
static int make_dir(const struct berth_cgroup *cg, struct berth_cgroup_dir *d, const char *path, berth_error_t *err)
{
  cleanup_close int mfd = open(d->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int fd = -1;
  cleanup_free char *levels = xstrdup(path);
  char *save = NULL;
  if (mfd < 0)
    return berth_error_set(err, errno, "open `%s`", d->mount);
  fd = *d->base ? openat(mfd, d->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : steal_fd(&mfd);
  if (fd < 0)
    return berth_error_set(err, errno, "open `%s/%s`", d->mount, d->base);
  for (char *lv = strtok_r(levels, "/", &save); lv; lv = strtok_r(NULL, "/", &save)) {
    cleanup_close int next = -1;
    bool made = mkdirat(fd, lv, 0755) == 0;
    if (!made && errno != EEXIST)
      return berth_error_set(err, errno, "create cgroup `%s` in `%s`", lv, d->mount);
    d->created = made;
    next = openat(fd, lv, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0)
      return berth_error_set(err, errno, "open cgroup `%s` in `%s`", lv, d->mount);
    if (cg->ops->prepare_level && cg->ops->prepare_level(d, fd, next, lv, err) < 0)
      return -1;
    close_and_reset(&fd);
    fd = steal_fd(&next);
  }
  d->fd = steal_fd(&fd);
  return 0;
}

static void remove_created(struct berth_cgroup *cg)
{
  for (size_t i = 0; i < cg->n_dirs; i++) {
    struct berth_cgroup_dir *d = &cg->dirs[i];
    cleanup_free char *full = NULL;
    if (!d->created)
      continue;
    if (asprintf(&full, "%s/%s", d->mount, d->rel) < 0)
      abort();
    if (rmdir(full) < 0 && errno != ENOENT)
      berth_debug("remove `%s` after a failed create: %m, ignoring", full);
    d->created = false;
  }
}

int berth_cgroup_create(const char *path, const struct berth_spec_resources *res, struct berth_cgroup **ret,
                        berth_error_t *err)
{
  return berth_cgroup_create_on(berth_cgroup_layout(), path, res, ret, err);
}

int berth_cgroup_create_on(enum berth_cgroup_layout layout, const char *path, const struct berth_spec_resources *res,
                           struct berth_cgroup **ret, berth_error_t *err)
{
  struct berth_cgroup *cg = NULL;
  if (cgroup_new(layout, path, &cg, err) < 0)
    return -1;
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (make_dir(cg, &cg->dirs[i], path, err) < 0)
      goto undo_mkdir;
  if (res && cg->ops->apply(cg, res, err) < 0)
    goto undo_mkdir;
  *ret = cg;
  return 0;

undo_mkdir:
  remove_created(cg);
  berth_cgroup_free(cg);
  return berth_error_prefix(err, "create cgroup `%s`", path);
}

int berth_cgroup_open(const char *path, struct berth_cgroup **ret, berth_error_t *err)
{
  return berth_cgroup_open_on(berth_cgroup_layout(), path, ret, err);
}

int berth_cgroup_open_on(enum berth_cgroup_layout layout, const char *path, struct berth_cgroup **ret,
                         berth_error_t *err)
{
  struct berth_cgroup *cg = NULL;
  size_t found = 0;
  if (cgroup_new(layout, path, &cg, err) < 0)
    return -1;
  for (size_t i = 0; i < cg->n_dirs; i++) {
    struct berth_cgroup_dir *d = &cg->dirs[i];
    cleanup_free char *full = NULL;
    if (asprintf(&full, "%s/%s", d->mount, d->rel) < 0)
      abort();
    d->fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->fd < 0 && errno != ENOENT) {
      berth_error_set(err, errno, "open cgroup `%s`", full);
      berth_cgroup_free(cg);
      return -1;
    }
    found += d->fd >= 0;
  }
  if (found == 0) {
    berth_cgroup_free(cg);
    return berth_error_set(err, ENOENT, "open cgroup `%s`", path);
  }
  *ret = cg;
  return 0;
}

void berth_cgroup_free(struct berth_cgroup *cg)
{
  if (!cg)
    return;
  for (size_t i = 0; i < cg->n_dirs; i++) {
    struct berth_cgroup_dir *d = &cg->dirs[i];
    close_and_reset(&d->fd);
    free(d->controllers);
    free(d->mount);
    free(d->rel);
    free(d->base);
  }
  free(cg->dirs);
  free(cg->path);
  free(cg);
}

int berth_cgroup_v2_fd(const struct berth_cgroup *cg)
{
  return cg->v2 ? cg->v2->fd : -1;
}

int berth_cgroup_update(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  if (cg->ops->apply(cg, res, err) < 0)
    return berth_error_prefix(err, "update cgroup `%s`", cg->path);
  return 0;
}

bool berth_cgroup_oom_killed(struct berth_cgroup *cg)
{
  return cg->ops->oom_killed(cg);
}

int berth_cgroup_freeze(struct berth_cgroup *cg, bool frozen, berth_error_t *err)
{
  if (cg->ops->freeze(cg, frozen, err) < 0)
    return berth_error_prefix(err, "%s cgroup `%s`", frozen ? "freeze" : "thaw", cg->path);
  return 0;
}

/* ------------------------------------------------------ processes */

int berth_cgroup_enter_self(struct berth_cgroup *cg, bool v2_done, berth_error_t *err)
{
  for (size_t i = 0; i < cg->n_dirs; i++) {
    struct berth_cgroup_dir *d = &cg->dirs[i];
    if (d->fd >= 0 && !(d->v2 && v2_done) && berth_cgroup_dir_write(d, d->v2 ? "cgroup.procs" : "tasks", "0", err) < 0)
      return berth_error_prefix(err, "move into cgroup");
  }
  return 0;
}

/* The directory whose cgroup.procs lists every process: the unified one
 * where there is one (hybrid included), else the first v1 hierarchy. */
static struct berth_cgroup_dir *primary(struct berth_cgroup *cg)
{
  if (cg->v2 && cg->v2->fd >= 0)
    return cg->v2;
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cg->dirs[i].fd >= 0)
      return &cg->dirs[i];
  return NULL;
}

int berth_cgroup_pids(struct berth_cgroup *cg, pid_t **ret, size_t *ret_n, berth_error_t *err)
{
  struct berth_cgroup_dir *d = primary(cg);
  cleanup_free char *text = NULL;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (!d)
    return berth_error_set(err, ENOENT, "cgroup `%s` has no directory left", cg->path);
  if (berth_cgroup_dir_read(d, "cgroup.procs", &text, err) < 0)
    return -1;
  for (char *p = text, *end; *p; p = end) {
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    pids = xreallocarray(pids, n + 1, sizeof(*pids));
    pids[n++] = (pid_t)v;
  }
  *ret = steal_ptr(&pids);
  *ret_n = n;
  return 0;
}

static int signal_all(struct berth_cgroup *cg, int sig, berth_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (berth_cgroup_pids(cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      return berth_error_set(err, errno, "kill pid %d", (int)pids[i]);
  return 0;
}

int berth_cgroup_kill(struct berth_cgroup *cg, int sig, berth_error_t *err)
{
  int ret;
  if (sig == SIGKILL && cg->v2 && berth_cgroup_dir_has(cg->v2, "cgroup.kill"))
    return berth_cgroup_dir_write(cg->v2, "cgroup.kill", "1", err);
  if (sig != SIGKILL || cg->layout == BERTH_CGROUP_V2 || !cg->ops->can_freeze(cg))
    return signal_all(cg, sig, err);
  /* v1: freeze so that nothing forks between reading cgroup.procs and the
   * kill, then thaw so the killed tasks can run to their exit. */
  {
    cleanup_error berth_error_t ferr = NULL;
    if (cg->ops->freeze(cg, true, &ferr) < 0)
      berth_debug("freeze `%s` before kill: %s, ignoring", cg->path, ferr->msg);
  }
  ret = signal_all(cg, sig, err);
  {
    cleanup_error berth_error_t terr = NULL;
    if (cg->ops->freeze(cg, false, &terr) < 0 && ret == 0)
      ret = berth_error_set(err, terr->code, "%s", terr->msg);
  }
  return ret;
}

static int count_pids(struct berth_cgroup *cg, size_t *ret_n, berth_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  return berth_cgroup_pids(cg, &pids, ret_n, err);
}

/* SIGKILL until cgroup.procs is empty or the deadline passes. */
static int kill_until_empty(struct berth_cgroup *cg, int64_t deadline, berth_error_t *err)
{
  for (unsigned delay = 1;; delay = delay < 8 ? delay * 2 : delay) {
    size_t n = 0;
    if (count_pids(cg, &n, err) < 0)
      return -1;
    if (n == 0)
      return 0;
    if (berth_monotonic_ms() >= deadline)
      return berth_error_set(err, EBUSY, "%zu processes are left in cgroup `%s`", n, cg->path);
    if (berth_cgroup_kill(cg, SIGKILL, err) < 0)
      return -1;
    /* A task frozen by the v1 freezer cannot die; thaw is a no-op otherwise. */
    if (cg->layout != BERTH_CGROUP_V2 && cg->ops->can_freeze(cg) && cg->ops->freeze(cg, false, err) < 0)
      return -1;
    berth_cgroup_sleep_ms(delay);
  }
}

static int remove_dir(struct berth_cgroup_dir *d, int64_t deadline, berth_error_t *err)
{
  cleanup_free char *full = NULL;
  if (asprintf(&full, "%s/%s", d->mount, d->rel) < 0)
    abort();
  for (;;) {
    if (rmdir(full) == 0 || errno == ENOENT)
      break;
    if (errno != EBUSY || berth_monotonic_ms() >= deadline)
      return berth_error_set(err, errno, "remove cgroup `%s`", full);
    berth_cgroup_sleep_ms(2);
  }
  close_and_reset(&d->fd);
  return 0;
}

int berth_cgroup_destroy(struct berth_cgroup *cg, berth_error_t *err)
{
  int64_t deadline = berth_monotonic_ms() + DESTROY_TIMEOUT_MS;
  if (primary(cg) && kill_until_empty(cg, deadline, err) < 0)
    return berth_error_prefix(err, "destroy cgroup `%s`", cg->path);
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (remove_dir(&cg->dirs[i], deadline, err) < 0)
      return berth_error_prefix(err, "destroy cgroup `%s`", cg->path);
  return 0;
}

const char *const berth_cgroup_throttle_flags[BERTH_THROTTLE_N] = {"--device-read-bps", "--device-write-bps",
                                                                   "--device-read-iops", "--device-write-iops"};
