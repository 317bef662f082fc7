/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CDI containerEdits applied to an OCI config (the reference's
 * ContainerEdits.Apply, written from the spec):
 *   env             set in process.env (a key given again is replaced)
 *   deviceNodes     linux.devices (same path replaced) with what the spec
 *                   leaves out read from the host node, and a device cgroup
 *                   allow rule unless permissions is "none"
 *   mounts          same destination replaced; then every mount sorted by
 *                   depth (stable) so that parents mount before children
 *   hooks           appended to the OCI hook list of their name
 *   additionalGids  added to process.user.additionalGids (0 ignored)
 * Everything is applied to a copy that replaces the config only when all of
 * it worked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cdi/cdi.h"

#define FAIL "CDI device injection failed: "

static json_t *child(json_t *parent, const char *key, bool array)
{
  json_t *v = json_object_get(parent, key);
  if (!(array ? json_is_array(v) : json_is_object(v))) {
    v = array ? json_array() : json_object();
    json_object_set_new(parent, key, v);
  }
  return v;
}

void berth_cdi_env_set(json_t *oci, const char *kv)
{
  berth_json_env_set(child(child(oci, "process", false), "env", true), kv);
}

static void apply_env(json_t *oci, const json_t *edits)
{
  json_t *v;
  size_t i;
  json_array_foreach(json_object_get(edits, "env"), i, v) berth_cdi_env_set(oci, json_string_value(v));
}

static void remove_by(json_t *list, const char *key, const char *value)
{
  for (size_t i = json_array_size(list); i-- > 0;)
    if (strcmp(berth_json_str(json_array_get(list, i), key) ? berth_json_str(json_array_get(list, i), key) : "",
               value) == 0)
      json_array_remove(list, i);
}

/* type, major, minor and mode of a node, from the spec or else the host. */
static int node_fields(const json_t *n, char *type, json_int_t *maj, json_int_t *min, json_int_t *mode,
                       berth_error_t *err)
{
  const char *host = berth_json_str(n, "hostPath") ? berth_json_str(n, "hostPath") : berth_json_str(n, "path");
  const char *t = berth_json_str(n, "type");
  json_t *jmaj = json_object_get(n, "major"), *jmin = json_object_get(n, "minor"), *jmode = json_object_get(n, "fileMode");
  bool complete = t && *t && (!strcmp(t, "p") || (json_is_integer(jmaj) && json_is_integer(jmin)));
  struct stat st = {0};
  if (lstat(host, &st) < 0 && !complete)
    return berth_error_set(err, errno, FAIL "failed to stat CDI host device \"%s\"", host);
  if (!complete && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISFIFO(st.st_mode))
    return berth_error_set_plain(err, EINVAL, FAIL "CDI host device \"%s\" is not a device node", host);
  *type = t && *t ? t[0] : S_ISBLK(st.st_mode) ? 'b' : S_ISFIFO(st.st_mode) ? 'p' : 'c';
  if (*type == 'u')
    *type = 'c';
  *maj = json_is_integer(jmaj) ? json_integer_value(jmaj) : (json_int_t)major(st.st_rdev);
  *min = json_is_integer(jmin) ? json_integer_value(jmin) : (json_int_t)minor(st.st_rdev);
  *mode = json_is_integer(jmode) ? json_integer_value(jmode) : st.st_mode ? (json_int_t)(st.st_mode & 0777) : 0666;
  return 0;
}

static int apply_node(json_t *oci, const json_t *n, long uid, long gid, berth_error_t *err)
{
  json_t *lnx = child(oci, "linux", false);
  json_t *devices = child(lnx, "devices", true), *rules = child(child(lnx, "resources", false), "devices", true);
  const char *path = berth_json_str(n, "path"), *perms = berth_json_str(n, "permissions");
  char type = 'c';
  json_int_t maj = 0, min = 0, mode = 0;
  if (node_fields(n, &type, &maj, &min, &mode, err) < 0)
    return -1;
  char t[2] = {type, '\0'};
  json_t *d = json_pack("{s:s,s:s,s:I}", "path", path, "type", t, "fileMode", mode);
  if (type != 'p') {
    json_object_set_new(d, "major", json_integer(maj));
    json_object_set_new(d, "minor", json_integer(min));
  }
  json_t *jid = json_object_get(n, "uid");
  if (jid || uid > 0)
    json_object_set_new(d, "uid", jid ? json_incref(jid) : json_integer(uid));
  if ((jid = json_object_get(n, "gid")) || gid > 0)
    json_object_set_new(d, "gid", jid ? json_incref(jid) : json_integer(gid));
  remove_by(devices, "path", path);
  json_array_append_new(devices, d);
  if (type == 'p' || (perms && strcmp(perms, "none") == 0))
    return 0;
  json_array_append_new(rules, json_pack("{s:b,s:s,s:I,s:I,s:s}", "allow", 1, "type", t, "major", maj, "minor", min,
                                         "access", perms && *perms ? perms : "rwm"));
  return 0;
}

static void apply_mount(json_t *oci, const json_t *m)
{
  json_t *mounts = child(oci, "mounts", true);
  const char *dest = berth_json_str(m, "containerPath"), *type = berth_json_str(m, "type");
  json_t *opts = json_object_get(m, "options");
  remove_by(mounts, "destination", dest);
  if (!type || !*type || !strcmp(type, "none"))
    type = "bind";
  json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:O}", "destination", dest, "type", type, "source",
                                          berth_json_str(m, "hostPath"), "options",
                                          json_is_array(opts) ? opts : json_array()));
}

static void apply_hook(json_t *oci, const json_t *h)
{
  const char *name = berth_json_str(h, "hookName");
  json_t *list = child(child(oci, "hooks", false), name, true);
  json_t *out = json_pack("{s:s}", "path", berth_json_str(h, "path"));
  static const char *const keys[] = {"args", "env", "timeout"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (json_object_get(h, keys[i]) && !json_is_null(json_object_get(h, keys[i])))
      json_object_set(out, keys[i], json_object_get(h, keys[i]));
  json_array_append_new(list, out);
}

static void apply_gids(json_t *oci, const json_t *edits)
{
  json_t *user = child(child(oci, "process", false), "user", false);
  json_t *gids = child(user, "additionalGids", true), *v, *w;
  size_t i, k;
  json_array_foreach(json_object_get(edits, "additionalGids"), i, v)
  {
    bool seen = json_integer_value(v) == 0;
    json_array_foreach(gids, k, w) seen |= json_equal(v, w);
    if (!seen)
      json_array_append(gids, v);
  }
}

static int apply_edits(json_t *oci, const json_t *edits, const char *what, long uid, long gid, berth_error_t *err)
{
  json_t *v;
  size_t i;
  if (!edits)
    return 0;
  if (json_object_get(edits, "intelRdt") || json_array_size(json_object_get(edits, "netDevices")))
    return berth_error_set_plain(err, ENOTSUP, FAIL "%s: intelRdt and netDevices edits are not supported", what);
  apply_env(oci, edits);
  json_array_foreach(json_object_get(edits, "deviceNodes"), i, v)
  {
    if (apply_node(oci, v, uid, gid, err) < 0)
      return -1;
  }
  json_array_foreach(json_object_get(edits, "mounts"), i, v) apply_mount(oci, v);
  json_array_foreach(json_object_get(edits, "hooks"), i, v) apply_hook(oci, v);
  apply_gids(oci, edits);
  return 0;
}

static size_t depth(const json_t *m)
{
  size_t n = 0;
  const char *p = berth_json_str(m, "destination");
  for (; p && *p; p++)
    if (*p == '/' && p[1] && p[1] != '/')
      n++;
  return n;
}

struct ranked {
  json_t *m;
  size_t depth, index;
};

static int by_depth(const void *a, const void *b)
{
  const struct ranked *x = a, *y = b;
  if (x->depth != y->depth)
    return x->depth < y->depth ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void sort_mounts(json_t *oci)
{
  json_t *mounts = json_object_get(oci, "mounts");
  size_t n = json_array_size(mounts);
  cleanup_free struct ranked *r = calloc(n ? n : 1, sizeof *r);
  if (!r)
    abort();
  for (size_t i = 0; i < n; i++)
    r[i] = (struct ranked){json_incref(json_array_get(mounts, i)), depth(json_array_get(mounts, i)), i};
  qsort(r, n, sizeof *r, by_depth);
  json_array_clear(mounts);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(mounts, r[i].m);
}

static int resolve(const struct berth_cdi_registry *reg, const char *const *names,
                   const struct berth_cdi_device ***ret, berth_error_t *err)
{
  size_t n = 0;
  while (names[n])
    n++;
  const struct berth_cdi_device **devs = calloc(n + 1, sizeof *devs);
  cleanup_free char *missing = NULL;
  size_t len = 0;
  if (!devs)
    abort();
  for (size_t i = 0; i < n; i++) {
    devs[i] = berth_cdi_registry_find(reg, names[i]);
    if (devs[i])
      continue;
    char *m = realloc(missing, len + strlen(names[i]) + 3);
    if (!m)
      abort();
    missing = m;
    len += (size_t)sprintf(missing + len, "%s%s", len ? ", " : "", names[i]);
  }
  if (missing) {
    free(devs);
    return berth_error_set_plain(err, ENOENT, FAIL "unresolvable CDI devices %s", missing);
  }
  *ret = devs;
  return 0;
}

int berth_cdi_inject(const struct berth_cdi_registry *reg, const char *const *names, json_t *oci, long uid, long gid,
                     berth_error_t *err)
{
  cleanup_free const struct berth_cdi_device **devs = NULL;
  if (!names || !names[0])
    return 0;
  if (resolve(reg, names, &devs, err) < 0)
    return -1;
  cleanup_json json_t *copy = json_deep_copy(oci);
  for (size_t i = 0; devs[i]; i++) {
    bool first = true;
    for (size_t k = 0; k < i && first; k++)
      first = devs[k]->spec != devs[i]->spec;
    if (first && apply_edits(copy, json_object_get(devs[i]->spec, "containerEdits"), devs[i]->path, uid, gid, err) < 0)
      return -1;
  }
  for (size_t i = 0; devs[i]; i++) {
    bool again = false;
    for (size_t k = 0; k < i && !again; k++)
      again = devs[k] == devs[i];
    if (!again && apply_edits(copy, devs[i]->edits, devs[i]->path, uid, gid, err) < 0)
      return -1;
  }
  sort_mounts(copy);
  json_object_update(oci, copy);
  return 0;
}
