/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup dispatcher: detects the host layout (v1, v2, hybrid), finds the
 * hierarchies from /proc/self/mountinfo and the caller's own cgroups from
 * /proc/self/cgroup, makes and removes the container's directory in each, and
 * does what is the same on every layout (enter, pids, kill, destroy, the
 * mount list for a container).  Limits, OOM and freezing go to the backend:
 * cgroup-v1.c on v1 and hybrid (whose unified part carries no limits),
 * cgroup-v2.c on v2. */
#define BERTH_LOG_DOMAIN "cgroup"
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <berth/log.h>

#include "base/cleanup.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup-internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
/* destroy(): how long processes get to die and directories to empty. */
#define DESTROY_TIMEOUT_MS 1000

static char *xstrdup(const char *s)
{
  char *r = strdup(s);
  if (!r)
    abort();
  return r;
}

static void *xreallocarray(void *p, size_t n, size_t size)
{
  p = reallocarray(p, n ? n : 1, size);
  if (!p)
    abort();
  return p;
}

void berth_cgroup_sleep_ms(unsigned ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ layout */

static bool is_cgroup2(const char *path)
{
  struct statfs s;
  return statfs(path, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

enum berth_cgroup_layout berth_cgroup_layout(void)
{
  static int cached = -1;
  int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    if (is_cgroup2(CGROUP_ROOT))
      v = BERTH_CGROUP_V2;
    else if (is_cgroup2(CGROUP_ROOT "/unified"))
      v = BERTH_CGROUP_HYBRID;
    else
      v = BERTH_CGROUP_V1;
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
  }
  return (enum berth_cgroup_layout)v;
}

/* ------------------------------------------------------ comma-separated sets */

bool berth_cgroup_list_has(const char *list, const char *item)
{
  size_t n = strlen(item);
  for (const char *p = list; p && *p;) {
    const char *end = strchrnul(p, ',');
    if ((size_t)(end - p) == n && strncmp(p, item, n) == 0)
      return true;
    p = *end ? end + 1 : end;
  }
  return false;
}

static size_t list_len(const char *list)
{
  size_t n = *list ? 1 : 0;
  for (const char *p = list; *p; p++)
    n += *p == ',';
  return n;
}

/* Same controllers in any order ("cpu,cpuacct" == "cpuacct,cpu"). */
static bool same_set(const char *a, const char *b)
{
  cleanup_free char *copy = xstrdup(a);
  char *save = NULL;
  if (list_len(a) != list_len(b))
    return false;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    if (!berth_cgroup_list_has(b, tok))
      return false;
  return true;
}

/* -------------------------------------------------------------- /proc parsing */

struct mount_entry {
  bool v2;
  char *mount, *root, *controllers;
};

static void mounts_free(struct mount_entry *m, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(m[i].mount);
    free(m[i].root);
    free(m[i].controllers);
  }
  free(m);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
  char *r = xstrdup(s), *o = r;
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else {
      *o++ = *s;
    }
  }
  *o = '\0';
  return r;
}

/* The controllers in a v1 mount's super options, without the options that
 * are not controllers. */
static char *controllers_from_options(const char *opts)
{
  static const char *const skip[] = {"rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode",
                                     "favordynmods", "none", NULL};
  cleanup_free char *copy = xstrdup(opts);
  char *save = NULL, *out = xstrdup("");
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    bool keep = strncmp(tok, "release_agent=", 14) != 0;
    for (size_t i = 0; keep && skip[i]; i++)
      keep = strcmp(tok, skip[i]) != 0;
    if (keep) {
      char *n = NULL;
      if (asprintf(&n, "%s%s%s", out, *out ? "," : "", tok) < 0)
        abort();
      free(out);
      out = n;
    }
  }
  return out;
}

/* Parse one mountinfo line; false when it is not a cgroup mount. */
static bool parse_mount_line(char *line, struct mount_entry *e)
{
  char *sep = strstr(line, " - "), *save = NULL, *f[5], *fstype, *opts;
  if (!sep)
    return false;
  *sep = '\0';
  for (int i = 0; i < 5; i++)
    if (!(f[i] = strtok_r(i ? NULL : line, " ", &save)))
      return false;
  save = NULL;
  fstype = strtok_r(sep + 3, " ", &save);
  if (!fstype || !strtok_r(NULL, " ", &save) || !(opts = strtok_r(NULL, " \n", &save)))
    return false;
  if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
    return false;
  e->v2 = strcmp(fstype, "cgroup2") == 0;
  e->root = unescape(f[3]);
  e->mount = unescape(f[4]);
  e->controllers = e->v2 ? xstrdup("") : controllers_from_options(opts);
  return true;
}

static int read_mounts(struct mount_entry **ret, size_t *ret_n, berth_error_t *err)
{
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  struct mount_entry *v = NULL;
  size_t n = 0, cap = 0;
  if (!f)
    return berth_error_set(err, errno, "open `/proc/self/mountinfo`");
  while (getline(&line, &cap, f) >= 0) {
    struct mount_entry e = {0};
    if (!parse_mount_line(line, &e))
      continue;
    v = xreallocarray(v, n + 1, sizeof(*v));
    v[n++] = e;
  }
  *ret = v;
  *ret_n = n;
  return 0;
}

struct own_cgroup {
  char *controllers, *path;
};

static void owns_free(struct own_cgroup *o, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(o[i].controllers);
    free(o[i].path);
  }
  free(o);
}

/* /proc/self/cgroup: "id:controllers:path"; the v2 line is "0::path". */
static int read_own(struct own_cgroup **ret, size_t *ret_n, berth_error_t *err)
{
  cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
  cleanup_free char *line = NULL;
  struct own_cgroup *v = NULL;
  size_t n = 0, cap = 0;
  if (!f)
    return berth_error_set(err, errno, "open `/proc/self/cgroup`");
  while (getline(&line, &cap, f) >= 0) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
      continue;
    *c2 = '\0';
    c2[strcspn(c2 + 1, "\n") + 1] = '\0';
    v = xreallocarray(v, n + 1, sizeof(*v));
    v[n].controllers = xstrdup(c1 + 1);
    v[n].path = xstrdup(c2 + 1);
    n++;
  }
  *ret = v;
  *ret_n = n;
  return 0;
}

/* ---------------------------------------------------------------- paths */

/* A cgroups path: absolute or relative, no "." or ".." components. */
static bool path_is_valid(const char *path)
{
  bool any = false;
  for (const char *p = path; *p;) {
    size_t n = strcspn(p, "/");
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return false;
    any |= n > 0;
    p += n;
    p += *p == '/';
  }
  return any;
}

/* a "/" b without empty components and without a leading '/'. */
static char *join_clean(const char *a, const char *b)
{
  char *out = malloc(strlen(a) + strlen(b) + 2), *o = out;
  const char *parts[] = {a, b};
  if (!out)
    abort();
  for (int i = 0; i < 2; i++)
    for (const char *p = parts[i]; *p;) {
      size_t n = strcspn(p, "/");
      if (n) {
        if (o != out)
          *o++ = '/';
        memcpy(o, p, n);
        o += n;
      }
      p += n;
      p += *p == '/';
    }
  *o = '\0';
  return out;
}

/* Where the caller's own cgroup lies below the mount point. */
static const char *own_below_mount(const struct mount_entry *m, const char *own)
{
  size_t n = strlen(m->root);
  if (strcmp(m->root, "/") != 0 && strncmp(own, m->root, n) == 0 && (own[n] == '/' || own[n] == '\0'))
    return own + n;
  return own;
}

static const struct own_cgroup *find_own(const struct own_cgroup *own, size_t n_own, const struct mount_entry *m)
{
  for (size_t i = 0; i < n_own; i++) {
    bool v2_line = own[i].controllers[0] == '\0';
    if (m->v2 ? v2_line : (!v2_line && same_set(own[i].controllers, m->controllers)))
      return &own[i];
  }
  return NULL;
}

static bool want_mount(const struct mount_entry *m, enum berth_cgroup_layout layout)
{
  if (m->v2)
    return layout != BERTH_CGROUP_V1;
  return layout != BERTH_CGROUP_V2 && m->controllers[0] != '\0';
}

static bool seen_hierarchy(const struct mount_entry *mounts, size_t i)
{
  for (size_t j = 0; j < i; j++)
    if (mounts[j].v2 == mounts[i].v2 && same_set(mounts[j].controllers, mounts[i].controllers))
      return true;
  return false;
}

/* Fill cg->dirs: one per hierarchy we are a member of. */
static int build_dirs(struct berth_cgroup *cg, const char *path, berth_error_t *err)
{
  struct mount_entry *mounts = NULL;
  struct own_cgroup *own = NULL;
  size_t n_mounts = 0, n_own = 0;
  int ret = read_mounts(&mounts, &n_mounts, err);
  if (ret == 0)
    ret = read_own(&own, &n_own, err);
  for (size_t i = 0; ret == 0 && i < n_mounts; i++) {
    const struct mount_entry *m = &mounts[i];
    const struct own_cgroup *o;
    struct berth_cgroup_dir *d;
    if (!want_mount(m, cg->layout) || seen_hierarchy(mounts, i) || !(o = find_own(own, n_own, m)))
      continue;
    cg->dirs = xreallocarray(cg->dirs, cg->n_dirs + 1, sizeof(*cg->dirs));
    d = &cg->dirs[cg->n_dirs++];
    *d = (struct berth_cgroup_dir){.v2 = m->v2, .fd = -1};
    d->controllers = xstrdup(m->controllers);
    d->mount = xstrdup(m->mount);
    d->base = path[0] == '/' ? xstrdup("") : join_clean(own_below_mount(m, o->path), "");
    d->rel = join_clean(d->base, path);
  }
  mounts_free(mounts, n_mounts);
  owns_free(own, n_own);
  if (ret < 0)
    return ret;
  if (cg->n_dirs == 0)
    return berth_error_set_plain(err, ENOENT, "no cgroup hierarchy is mounted under `%s`", CGROUP_ROOT);
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cg->dirs[i].v2)
      cg->v2 = &cg->dirs[i];
  return 0;
}

static int cgroup_new(const char *path, struct berth_cgroup **ret, berth_error_t *err)
{
  struct berth_cgroup *cg;
  if (!path || !path_is_valid(path))
    return berth_error_set_plain(err, EINVAL, "invalid cgroups path `%s`", path ? path : "");
  cg = calloc(1, sizeof(*cg));
  if (!cg)
    abort();
  cg->layout = berth_cgroup_layout();
  cg->ops = cg->layout == BERTH_CGROUP_V2 ? &berth_cgroup_backend_v2 : &berth_cgroup_backend_v1;
  cg->path = xstrdup(path);
  if (build_dirs(cg, path, err) < 0) {
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
  cleanup_free char *levels = join_clean(path, "");
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
  struct berth_cgroup *cg = NULL;
  if (cgroup_new(path, &cg, err) < 0)
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
  struct berth_cgroup *cg = NULL;
  size_t found = 0;
  if (cgroup_new(path, &cg, err) < 0)
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
  return cg->layout == BERTH_CGROUP_V2 && cg->v2 ? cg->v2->fd : -1;
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

int berth_cgroup_enter(struct berth_cgroup *cg, pid_t pid, berth_error_t *err)
{
  char buf[32];
  snprintf(buf, sizeof(buf), "%d", (int)pid);
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cg->dirs[i].fd >= 0 && berth_cgroup_dir_write(&cg->dirs[i], "cgroup.procs", buf, err) < 0)
      return berth_error_prefix(err, "move pid %d into cgroup", (int)pid);
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
static int kill_until_empty(struct berth_cgroup *cg, long long deadline, berth_error_t *err)
{
  for (unsigned delay = 1;; delay = delay < 8 ? delay * 2 : delay) {
    size_t n = 0;
    if (count_pids(cg, &n, err) < 0)
      return -1;
    if (n == 0)
      return 0;
    if (now_ms() >= deadline)
      return berth_error_set(err, EBUSY, "%zu processes are left in cgroup `%s`", n, cg->path);
    if (berth_cgroup_kill(cg, SIGKILL, err) < 0)
      return -1;
    /* A task frozen by the v1 freezer cannot die; thaw is a no-op otherwise. */
    if (cg->layout != BERTH_CGROUP_V2 && cg->ops->can_freeze(cg) && cg->ops->freeze(cg, false, err) < 0)
      return -1;
    berth_cgroup_sleep_ms(delay);
  }
}

static int remove_dir(struct berth_cgroup_dir *d, long long deadline, berth_error_t *err)
{
  cleanup_free char *full = NULL;
  if (asprintf(&full, "%s/%s", d->mount, d->rel) < 0)
    abort();
  for (;;) {
    if (rmdir(full) == 0 || errno == ENOENT)
      break;
    if (errno != EBUSY || now_ms() >= deadline)
      return berth_error_set(err, errno, "remove cgroup `%s`", full);
    berth_cgroup_sleep_ms(2);
  }
  close_and_reset(&d->fd);
  return 0;
}

int berth_cgroup_destroy(struct berth_cgroup *cg, berth_error_t *err)
{
  long long deadline = now_ms() + DESTROY_TIMEOUT_MS;
  if (primary(cg) && kill_until_empty(cg, deadline, err) < 0)
    return berth_error_prefix(err, "destroy cgroup `%s`", cg->path);
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (remove_dir(&cg->dirs[i], deadline, err) < 0)
      return berth_error_prefix(err, "destroy cgroup `%s`", cg->path);
  return 0;
}

/* ------------------------------------------------------------------ mounts */

static void strv_push(char ***v, size_t *n, char *s)
{
  *v = xreallocarray(*v, *n + 2, sizeof(**v));
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

int berth_cgroup_mounts(char ***ret_opts, char ***ret_names, berth_error_t *err)
{
  enum berth_cgroup_layout layout = berth_cgroup_layout();
  struct mount_entry *mounts = NULL;
  char **opts = NULL, **names = NULL;
  size_t n = 0, n_mounts = 0;
  if (read_mounts(&mounts, &n_mounts, err) < 0)
    return -1;
  for (size_t i = 0; i < n_mounts; i++) {
    const struct mount_entry *m = &mounts[i];
    const char *slash = strrchr(m->mount, '/');
    char *o = NULL;
    size_t k = n;
    if (!want_mount(&mounts[i], layout) || seen_hierarchy(mounts, i))
      continue;
    if (asprintf(&o, "%s:%s", m->v2 ? "cgroup2" : "cgroup", m->controllers) < 0)
      abort();
    strv_push(&opts, &n, o);
    strv_push(&names, &k, xstrdup(layout == BERTH_CGROUP_V2 ? "" : slash ? slash + 1 : m->mount));
  }
  mounts_free(mounts, n_mounts);
  if (n == 0) {
    opts = xreallocarray(NULL, 1, sizeof(*opts));
    names = xreallocarray(NULL, 1, sizeof(*names));
    opts[0] = names[0] = NULL;
  }
  *ret_opts = opts;
  *ret_names = names;
  return 0;
}
