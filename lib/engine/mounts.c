/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a container mounts, decided once at create as moby's
 * registerMountPoints does: the mounts of --volumes-from containers first,
 * then -v (HostConfig.Binds) and --mount (HostConfig.Mounts) over them, then
 * an anonymous volume for each Config.Volumes path (VOLUME in the image, -v
 * /path) that nothing is mounted on yet.  The result is the record's
 * MountPoints: docker's inspect "Mounts" entries plus a few fields of our
 * own (see mount_point_public()), from which spec.c builds the OCI mounts at
 * every start.
 *
 * Resolving is pure (it reads other containers' records, writes nothing);
 * berth_mounts_make_volumes() then creates the volumes it names. */
#define BERTH_LOG_DOMAIN "mounts"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/random.h"
#include "base/json.h"
#include "engine/engine-internal.h"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static const char *const propagations[] = {"rprivate", "private", "rshared", "shared", "rslave", "slave", NULL};

static const char *propagation(const char *s)
{
  for (const char *const *p = propagations; *p; p++)
    if (str_eq(s, *p))
      return *p;
  return NULL;
}

/* A clean absolute path other than "/" (no "..", no "." components). */
static bool path_ok(const char *p)
{
  if (!p || p[0] != '/' || strspn(p, "/") == strlen(p))
    return false;
  for (const char *c = p; *c;) {
    while (*c == '/')
      c++;
    size_t n = strcspn(c, "/");
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return false;
    c += n;
  }
  return true;
}

/* "/a//b/" -> "/a/b", as docker's filepath.Clean keys mount points. */
static char *clean_dest(const char *p)
{
  char *out = malloc(strlen(p) + 2), *o = out;
  if (!out)
    abort();
  for (const char *c = p; *c; c++)
    if (*c != '/' || o == out || o[-1] != '/')
      *o++ = *c;
  if (o > out + 1 && o[-1] == '/')
    o--;
  *o = '\0';
  return out;
}

static int dest_error(const char *spec, const char *type, const char *dst, berth_error_t *err)
{
  if (dst && strspn(dst, "/") == strlen(dst) && *dst)
    return berth_error_set_plain(err, EINVAL, "invalid specification: destination can't be '/'");
  return berth_error_set_plain(err, EINVAL,
                               "invalid volume specification: '%s': invalid mount config for type \"%s\": invalid "
                               "mount path: '%s' mount path must be absolute",
                               spec, type, dst ? dst : "");
}

static json_t *point_new(const char *type, const char *name, const char *source, const char *dest, const char *mode,
                         bool rw, const char *prop)
{
  cleanup_free char *d = clean_dest(dest);
  json_t *m = json_pack("{s:s}", "Type", type);
  if (str_eq(type, "volume"))
    json_object_set_new(m, "Name", json_string(name ? name : ""));
  json_object_set_new(m, "Source", json_string(source ? source : ""));
  json_object_set_new(m, "Destination", json_string(d));
  if (str_eq(type, "volume"))
    json_object_set_new(m, "Driver", json_string("local"));
  json_object_set_new(m, "Mode", json_string(mode ? mode : ""));
  json_object_set_new(m, "RW", json_boolean(rw));
  json_object_set_new(m, "Propagation", json_string(prop ? prop : ""));
  return m;
}

/* Index of the point mounted on `dest` in points, or -1. */
static ssize_t find_dest(const json_t *points, const char *dest)
{
  cleanup_free char *d = clean_dest(dest);
  json_t *m;
  size_t i;
  json_array_foreach(points, i, m)
  {
    if (str_eq(berth_json_str(m, "Destination"), d))
      return (ssize_t)i;
  }
  return -1;
}

/* Put m (taken) on its destination, replacing an inherited one. */
static void put_point(json_t *points, json_t *m)
{
  ssize_t i = find_dest(points, berth_json_str(m, "Destination"));
  if (i >= 0)
    json_array_set_new(points, (size_t)i, m);
  else
    json_array_append_new(points, m);
}

/* ---- -v: HostConfig.Binds ---- */

static bool valid_mode_word(const char *w)
{
  return str_eq(w, "ro") || str_eq(w, "rw") || str_eq(w, "z") || str_eq(w, "Z") || str_eq(w, "nocopy") ||
         propagation(w);
}

/* moby's ValidMountMode: comma-separated words, at most one of each kind. */
static bool valid_mode(const char *mode)
{
  cleanup_free char *copy = strdup(mode);
  int rw = 0, label = 0, prop = 0, copymode = 0;
  char *save = NULL;
  if (!copy)
    abort();
  if (!*mode)
    return true;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (!valid_mode_word(w))
      return false;
    rw += str_eq(w, "ro") || str_eq(w, "rw");
    label += str_eq(w, "z") || str_eq(w, "Z");
    prop += propagation(w) != NULL;
    copymode += str_eq(w, "nocopy");
  }
  return rw <= 1 && label <= 1 && prop <= 1 && copymode <= 1;
}

static bool mode_has(const char *mode, const char *word)
{
  cleanup_free char *copy = strdup(mode);
  char *save = NULL;
  if (!copy)
    abort();
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    if (str_eq(w, word))
      return true;
  return false;
}

static const char *mode_propagation(const char *mode)
{
  for (const char *const *p = propagations; *p; p++)
    if (mode_has(mode, *p))
      return *p;
  return NULL;
}

static int parse_bind(const char *spec, json_t *points, json_t *seen, berth_error_t *err)
{
  cleanup_free char *copy = strdup(spec);
  char *parts[4] = {0};
  size_t n = 0;
  if (!copy)
    abort();
  for (char *p = copy, *c; n < 4; p = c + 1) {
    parts[n++] = p;
    if (!(c = strchr(p, ':')))
      break;
    *c = '\0';
  }
  const char *src = "", *dst, *mode = "";
  if (n == 1) {
    dst = parts[0];
  } else if (n == 2) {
    if (valid_mode(parts[1]) && *parts[1])
      return berth_error_set_plain(err, EINVAL, "invalid volume specification: '%s'", spec);
    src = parts[0];
    dst = parts[1];
  } else if (n == 3) {
    src = parts[0];
    dst = parts[1];
    mode = parts[2];
  } else {
    return berth_error_set_plain(err, EINVAL, "invalid volume specification: '%s'", spec);
  }
  if (!valid_mode(mode))
    return berth_error_set_plain(err, EINVAL, "invalid volume specification: '%s': invalid mode: %s", spec, mode);
  bool bind = src[0] == '/';
  if (!path_ok(dst))
    return dest_error(spec, bind ? "bind" : "volume", dst, err);
  if (*src && !bind && berth_volume_name_check(src, err) < 0)
    return -1;
  cleanup_free char *d = clean_dest(dst);
  if (json_object_get(seen, d))
    return berth_error_set_plain(err, EINVAL, "Duplicate mount point: %s", d);
  json_object_set_new(seen, d, json_true());
  bool rw = !mode_has(mode, "ro");
  json_t *m;
  if (bind) {
    const char *prop = mode_propagation(mode);
    m = point_new("bind", NULL, src, dst, mode, rw, prop ? prop : "rprivate");
    json_object_set_new(m, "CreateSource", json_true());
  } else {
    /* a named volume on the local driver gets mode "z" (moby's setBindModeIfNull) */
    m = point_new("volume", src, "", dst, *src && !*mode ? "z" : mode, rw, "");
    json_object_set_new(m, "CopyData", json_boolean(!mode_has(mode, "nocopy")));
    if (!*src)
      json_object_set_new(m, "Anonymous", json_true());
  }
  put_point(points, m);
  return 0;
}

/* ---- --mount: HostConfig.Mounts ---- */

static int mount_error(const char *type, const char *what, berth_error_t *err)
{
  return berth_error_set_plain(err, EINVAL, "invalid mount config for type \"%s\": %s", type, what);
}

static int parse_api_mount(const json_t *m, json_t *points, json_t *seen, berth_error_t *err)
{
  const char *type = berth_json_str(m, "Type"), *src = berth_json_str(m, "Source"),
             *target = berth_json_str(m, "Target");
  bool ro = json_is_true(json_object_get(m, "ReadOnly"));
  const json_t *bo = json_object_get(m, "BindOptions"), *vo = json_object_get(m, "VolumeOptions"),
               *to = json_object_get(m, "TmpfsOptions");
  json_t *p;
  if (!json_is_object(m))
    return berth_error_set_plain(err, EINVAL, "Mounts: expected an array of objects");
  if (!type || !*type)
    return berth_error_set_plain(err, EINVAL, "invalid mount config: mount type unknown: \"\"");
  if (!str_eq(type, "bind") && !str_eq(type, "volume") && !str_eq(type, "tmpfs"))
    return berth_error_set_plain(err, EINVAL, "invalid mount config: mount type unknown: \"%s\"", type);
  if (!target || !*target)
    return mount_error(type, "field Target must not be empty", err);
  if (!path_ok(target))
    return mount_error(type, "invalid mount path: mount path must be absolute", err);
  cleanup_free char *d = clean_dest(target);
  if (json_object_get(seen, d))
    return berth_error_set_plain(err, EINVAL, "Duplicate mount point: %s", d);
  json_object_set_new(seen, d, json_true());
  if (str_eq(type, "bind")) {
    const char *prop = berth_json_str(bo, "Propagation");
    struct stat st;
    if (vo || to)
      return mount_error(type, vo ? "field VolumeOptions must not be specified" : "field TmpfsOptions must not be specified", err);
    if (!src || !*src)
      return mount_error(type, "field Source must not be empty", err);
    if (src[0] != '/')
      return mount_error(type, "invalid mount path: mount path must be absolute", err);
    if (stat(src, &st) < 0)
      return berth_error_set_plain(err, EINVAL, "invalid mount config for type \"bind\": bind source path does not "
                                   "exist: %s", src);
    if (prop && *prop && !propagation(prop))
      return berth_error_set_plain(err, EINVAL, "invalid mount config for type \"bind\": invalid propagation: %s", prop);
    p = point_new("bind", NULL, src, target, "", !ro, prop && *prop ? prop : "rprivate");
  } else if (str_eq(type, "volume")) {
    const json_t *dc = json_object_get(vo, "DriverConfig");
    const char *driver = berth_json_str(dc, "Name");
    if (bo || to)
      return mount_error(type, bo ? "field BindOptions must not be specified" : "field TmpfsOptions must not be specified", err);
    if (src && *src && berth_volume_name_check(src, err) < 0)
      return -1;
    if (driver && *driver && !str_eq(driver, "local"))
      return berth_error_set_plain(err, ENOTSUP, "error looking up volume plugin %s: plugin \"%s\" not found", driver,
                                   driver);
    p = point_new("volume", src, "", target, src && *src ? "z" : "", !ro, "");
    json_object_set_new(p, "CopyData", json_boolean(!json_is_true(json_object_get(vo, "NoCopy"))));
    if (!src || !*src)
      json_object_set_new(p, "Anonymous", json_true());
    if (json_is_object(json_object_get(vo, "Labels")))
      json_object_set(p, "VolumeLabels", json_object_get(vo, "Labels"));
    if (json_is_object(json_object_get(dc, "Options")))
      json_object_set(p, "VolumeOptions", json_object_get(dc, "Options"));
  } else {
    json_int_t size = berth_json_int(to, "SizeBytes", 0), mode = berth_json_int(to, "Mode", 0);
    char opts[96] = "ro", sz[32] = "", md[32] = "";
    if (bo || vo)
      return mount_error(type, bo ? "field BindOptions must not be specified" : "field VolumeOptions must not be specified", err);
    if (src && *src)
      return mount_error(type, "field Source must not be specified", err);
    if (size < 0 || mode < 0 || mode > 07777)
      return mount_error(type, "invalid size or mode", err);
    if (size > 0)
      snprintf(sz, sizeof sz, ",size=%lld", (long long)size);
    if (mode > 0)
      snprintf(md, sizeof md, ",mode=%llo", (long long)mode);
    snprintf(opts, sizeof opts, "%s%s%s", ro ? "ro" : "rw", sz, md);
    p = point_new("tmpfs", NULL, "", target, "", !ro, "");
    json_object_set_new(p, "TmpfsOptions", json_string(opts));
  }
  put_point(points, p);
  return 0;
}

/* ---- --volumes-from ---- */

static int add_volumes_from(struct berth_engine *e, const char *spec, json_t *points, berth_error_t *err)
{
  cleanup_free char *name = strdup(spec);
  char *colon = strchr(name, ':');
  const char *mode = "";
  if (colon) {
    *colon = '\0';
    mode = colon + 1;
    /* moby's ParseVolumesFrom: a mount mode, without propagation */
    if (!valid_mode(mode) || mode_propagation(mode))
      return berth_error_set_plain(err, EINVAL, "invalid mode: %s", mode);
  }
  if (!*name)
    return berth_error_set_plain(err, EINVAL, "malformed volumes-from specification: \"%s\"", spec);
  struct berth_ctr c;
  if (berth_ctr_load(e, name, &c, err) < 0) {
    berth_ctr_clear(&c);
    return -1;
  }
  json_t *m;
  size_t i;
  json_array_foreach(json_object_get(c.rec, "MountPoints"), i, m)
  {
    /* tmpfs mounts are the source container's own */
    if (str_eq(berth_json_str(m, "Type"), "tmpfs"))
      continue;
    json_t *cp = json_deep_copy(m);
    json_object_set_new(cp, "RW", json_boolean(json_is_true(json_object_get(m, "RW")) && !mode_has(mode, "ro")));
    json_object_set_new(cp, "CopyData", json_false());
    json_object_del(cp, "CreateSource");
    put_point(points, cp);
  }
  berth_ctr_clear(&c);
  return 0;
}

/* ---- the whole ---- */

static bool under(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

json_t *berth_mounts_resolve(struct berth_engine *e, const json_t *config, const json_t *hc, berth_error_t *err)
{
  cleanup_json json_t *points = json_array(), *seen = json_object();
  json_t *v;
  size_t i;
  const char *dest;
  json_array_foreach(json_object_get(hc, "VolumesFrom"), i, v)
  {
    if (!json_is_string(v)) {
      berth_error_set_plain(err, EINVAL, "VolumesFrom: expected an array of strings");
      return NULL;
    }
    if (add_volumes_from(e, json_string_value(v), points, err) < 0)
      return NULL;
  }
  json_array_foreach(json_object_get(hc, "Binds"), i, v)
  {
    if (!json_is_string(v)) {
      berth_error_set_plain(err, EINVAL, "Binds: expected an array of strings");
      return NULL;
    }
    if (parse_bind(json_string_value(v), points, seen, err) < 0)
      return NULL;
  }
  json_array_foreach(json_object_get(hc, "Mounts"), i, v)
  {
    if (parse_api_mount(v, points, seen, err) < 0)
      return NULL;
  }
  json_object_foreach(json_object_get(config, "Volumes"), dest, v)
  {
    if (!path_ok(dest)) {
      dest_error(dest, "volume", dest, err);
      return NULL;
    }
    cleanup_free char *d = clean_dest(dest);
    /* --tmpfs on the path wins too; an image's VOLUME over the kernel's
     * filesystems (CVE-2019-16884's VOLUME /proc) is not honoured */
    if (find_dest(points, d) >= 0 || json_object_get(json_object_get(hc, "Tmpfs"), d) || under(d, "/proc") ||
        under(d, "/sys"))
      continue;
    json_t *m = point_new("volume", "", "", d, "", true, "");
    json_object_set_new(m, "CopyData", json_true());
    json_object_set_new(m, "Anonymous", json_true());
    json_array_append_new(points, m);
  }
  return steal_ptr(&points);
}

json_t *berth_mount_point_public(const json_t *m)
{
  static const char *const keys[] = {"Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation"};
  json_t *out = json_object();
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (json_object_get(m, keys[i]))
      json_object_set(out, keys[i], json_object_get(m, keys[i]));
  return out;
}

json_t *berth_mount_points_public(const json_t *points)
{
  json_t *out = json_array(), *m;
  size_t i;
  json_array_foreach(points, i, m) json_array_append_new(out, berth_mount_point_public(m));
  return out;
}

/* ---- volumes for the points ---- */

/* Go's time.Now().Format(time.RFC3339), as docker dates volumes. */
static void rfc3339_now(char out[64])
{
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  size_t n = strftime(out, 64, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff / 60;
  if (off == 0)
    snprintf(out + n, 64 - n, "Z");
  else
    snprintf(out + n, 64 - n, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

json_t *berth_volume_meta_new(const json_t *labels, const json_t *options)
{
  char created[64];
  rfc3339_now(created);
  return json_pack("{s:s, s:s, s:O?, s:O?, s:s}", "CreatedAt", created, "Driver", "local", "Labels", labels,
                   "Options", options, "Scope", "local");
}

int berth_mounts_make_volumes(struct berth_engine *e, json_t *points, json_t *created, berth_error_t *err)
{
  json_t *m;
  size_t i;
  json_array_foreach(points, i, m)
  {
    if (!str_eq(berth_json_str(m, "Type"), "volume"))
      continue;
    const char *name = berth_json_str(m, "Name");
    char anon[BERTH_CONTAINER_ID_LEN + 1];
    bool made;
    if (!name || !*name) {
      berth_random_hex(anon, sizeof anon);
      name = anon;
    }
    /* labels and options as docker keeps them: none is null */
    cleanup_json json_t *labels = json_is_object(json_object_get(m, "VolumeLabels"))
                                      ? json_deep_copy(json_object_get(m, "VolumeLabels"))
                                      : NULL;
    if (json_is_true(json_object_get(m, "Anonymous"))) {
      if (!labels)
        labels = json_object();
      json_object_set_new(labels, "com.docker.volume.anonymous", json_string(""));
    }
    cleanup_json json_t *meta = berth_volume_meta_new(labels, json_object_get(m, "VolumeOptions"));
    if (berth_volume_store_create(e->store, name, meta, &made, err) < 0)
      return -1;
    /* a named one may have been found by a concurrent create meanwhile:
     * only anonymous ones go back if the create fails */
    if (made && json_is_true(json_object_get(m, "Anonymous")))
      json_array_append_new(created, json_string(name));
    /* whether a start must mount the driver's filesystem on it: known once
     * here, so that starts read no volume's metadata */
    cleanup_json json_t *found = made ? NULL : berth_volume_store_get(e->store, name, err);
    if (!made && !found)
      return -1;
    if (json_object_size(json_object_get(made ? meta : found, "Options")))
      json_object_set_new(m, "DriverMount", json_true());
    cleanup_free char *src = berth_volume_data_path(e->store, name);
    json_object_set_new(m, "Name", json_string(name));
    json_object_set_new(m, "Source", json_string(src));
    json_object_del(m, "VolumeLabels");
    json_object_del(m, "VolumeOptions");
  }
  return 0;
}
