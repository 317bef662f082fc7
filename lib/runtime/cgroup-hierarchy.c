/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the cgroup hierarchies are and where we are in them: the layout
 * (statfs of /sys/fs/cgroup), the cgroup mounts and their controllers from
 * /proc/self/mountinfo, the caller's own cgroups from /proc/self/cgroup, and
 * from those the container's directory in each hierarchy, plus the list of
 * hierarchies to mount inside a container. */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "base/xalloc.h"
#include "base/cleanup.h"
#include "runtime/cgroup-internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

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
bool berth_cgroup_path_is_valid(const char *path)
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

int berth_cgroup_build_dirs(struct berth_cgroup *cg, const char *path, berth_error_t *err)
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
