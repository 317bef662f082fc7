/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `volume create/ls/inspect/rm/prune`, and what containers do with volumes:
 * the users of a volume (the MountPoints of container records), filling a
 * new volume with the image's content at its path (docker's
 * copyExistingContents), removing a container's anonymous volumes.
 *
 * Only the local driver exists: a volume is a directory,
 * ROOT/volumes/<name>/_data, bind-mounted into containers.  With driver
 * options (-o type=tmpfs -o device=tmpfs -o o=size=64m, as docker's local
 * driver takes them) the filesystem they name is mounted on _data, on the
 * host, when a container first needs it (create, to fill it, or start), and
 * stays mounted until the volume is removed: with no daemon to count users,
 * the mount is the volume's and not a container's.
 * Removal takes the volumes lock exclusively; a create that makes volumes
 * for a container holds it shared until the container's record is written,
 * so a volume is never removed between the check that nothing uses it and
 * the container that would. */
#define BERTH_LOG_DOMAIN "volumes"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <berth/engine.h>
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/random.h"
#include "engine/engine-internal.h"
#include "engine/events.h"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* {volume name: [container ids]} from every container's mount points. */
static json_t *volume_users(struct berth_engine *e, berth_error_t *err)
{
  size_t n = 0;
  cleanup_strv char **ids = berth_container_store_ids(e->store, &n, err);
  if (!ids)
    return NULL;
  json_t *users = json_object();
  for (size_t i = 0; i < n; i++) {
    struct berth_ctr c;
    cleanup_error berth_error_t ign = NULL;
    if (berth_ctr_load_summary(e, ids[i], &c, &ign) == 0) {
      json_t *m;
      size_t k;
      json_array_foreach(json_object_get(c.rec, "Mounts"), k, m)
      {
        const char *name = berth_json_str(m, "Name");
        if (!str_eq(berth_json_str(m, "Type"), "volume") || !name)
          continue;
        json_t *list = json_object_get(users, name);
        if (!list)
          json_object_set_new(users, name, list = json_array());
        json_array_append_new(list, json_string(c.id));
      }
    }
    berth_ctr_clear(&c);
  }
  return users;
}

static json_t *volume_json(struct berth_engine *e, const char *name, berth_error_t *err)
{
  json_t *meta = berth_volume_store_get(e->store, name, err);
  if (!meta)
    return NULL;
  cleanup_free char *path = berth_volume_data_path(e->store, name);
  const char *created = berth_json_str(meta, "CreatedAt");
  json_t *out = json_pack("{s:s, s:s, s:O, s:s, s:s, s:O, s:s}", "CreatedAt", created ? created : "", "Driver", "local",
                          "Labels", json_object_get(meta, "Labels") ? json_object_get(meta, "Labels") : json_null(),
                          "Mountpoint", path, "Name", name, "Options",
                          json_object_get(meta, "Options") ? json_object_get(meta, "Options") : json_null(), "Scope",
                          "local");
  json_decref(meta);
  return out;
}

static bool is_anonymous(const json_t *vol)
{
  return json_object_get(json_object_get(vol, "Labels"), "com.docker.volume.anonymous") != NULL;
}

/* ---- the local driver's options: type, device, o ---- */

static const struct {
  const char *name;
  bool clear;
  unsigned long flag;
} mount_flags[] = {
    {"ro", false, MS_RDONLY},        {"rw", true, MS_RDONLY},         {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},       {"nodev", false, MS_NODEV},      {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},    {"exec", true, MS_NOEXEC},       {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS}, {"dirsync", false, MS_DIRSYNC},  {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},     {"nodiratime", false, MS_NODIRATIME}, {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME}, {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"bind", false, MS_BIND},        {"rbind", false, MS_BIND | MS_REC},
};

/* "o": mount(8)'s flag words into flags, the rest into the data string. */
static void split_mount_options(const char *o, unsigned long *flags, char **data)
{
  cleanup_free char *copy = strdup(o ? o : "");
  char *save = NULL, *out = calloc(1, strlen(copy) + 1);
  if (!copy || !out)
    abort();
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    bool known = false;
    for (size_t i = 0; i < sizeof mount_flags / sizeof *mount_flags; i++) {
      if (strcmp(w, mount_flags[i].name) == 0) {
        *flags = mount_flags[i].clear ? *flags & ~mount_flags[i].flag : *flags | mount_flags[i].flag;
        known = true;
      }
    }
    if (!known)
      sprintf(out + strlen(out), "%s%s", *out ? "," : "", w);
  }
  *data = out;
}

static int check_driver_options(const char *name, const json_t *options, berth_error_t *err)
{
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)options, key, v)
  {
    if (!str_eq(key, "type") && !str_eq(key, "device") && !str_eq(key, "o"))
      return berth_error_set_plain(err, EINVAL, "create %s: invalid option key: \"%s\"", name, key);
  }
  if (json_object_size(options) && (!berth_json_str(options, "type") || !*berth_json_str(options, "type")) &&
      !str_eq(berth_json_str(options, "o"), "bind"))
    return berth_error_set_plain(err, EINVAL, "create %s: missing required option: \"type\"", name);
  if (json_object_size(options) && (!berth_json_str(options, "device") || !*berth_json_str(options, "device")))
    return berth_error_set_plain(err, EINVAL, "create %s: missing required option: \"device\"", name);
  return 0;
}

/* Mount what the volume's options name on its _data, unless it is already
 * (under an flock of the volume's directory, so concurrent starts mount once). */
static int mount_volume(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_json json_t *meta = berth_volume_store_get(e->store, name, err);
  if (!meta)
    return -1;
  const json_t *o = json_object_get(meta, "Options");
  if (!json_object_size(o))
    return 0;
  cleanup_close int dir = openat(e->store->volumes_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0 || flock(dir, LOCK_EX) < 0)
    return berth_error_set(err, errno, "lock volume %s", name);
  struct statx stx;
  if (statx(dir, "_data", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
    return berth_error_set(err, errno, "volume %s", name);
  if (stx.stx_attributes_mask & stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)
    return 0;
  unsigned long flags = 0;
  cleanup_free char *data = NULL, *target = berth_volume_data_path(e->store, name);
  const char *type = berth_json_str(o, "type"), *device = berth_json_str(o, "device");
  split_mount_options(berth_json_str(o, "o"), &flags, &data);
  if (mount(device, target, type && *type ? type : NULL, flags, *data ? data : NULL) < 0)
    return berth_error_set(err, errno, "error while mounting volume '%s'", target);
  return 0;
}

/* Undo mount_volume() before the volume goes. */
static void unmount_volume(struct berth_engine *e, const char *name)
{
  cleanup_free char *target = berth_volume_data_path(e->store, name);
  while (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
    ;
}

int berth_volumes_mount(struct berth_engine *e, const json_t *points, berth_error_t *err)
{
  json_t *m;
  size_t i;
  json_array_foreach(points, i, m)
  {
    if (json_is_true(json_object_get(m, "DriverMount")) && mount_volume(e, berth_json_str(m, "Name"), err) < 0)
      return -1;
  }
  return 0;
}

/* ---- create, inspect ---- */

static int kv_into(char **items, json_t *obj, const char *what, berth_error_t *err)
{
  for (char **p = items; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    if (!eq && str_eq(what, "opt"))
      return berth_error_set_plain(err, EINVAL, "invalid option: %s", *p);
    cleanup_free char *key = eq ? strndup(*p, (size_t)(eq - *p)) : strdup(*p);
    json_object_set_new(obj, key, json_string(eq ? eq + 1 : ""));
  }
  return 0;
}

/* docker's volume events: Actor.ID the name, the attribute driver=local. */
static void volume_event(struct berth_engine *e, const char *action, const char *name)
{
  cleanup_json json_t *attrs = json_pack("{s:s}", "driver", "local");
  berth_event_record(e, "volume", action, name, attrs);
}

int berth_volume_create(struct berth_engine *e, const struct berth_volume_create_opts *opts, char **ret_name,
                        berth_error_t *err)
{
  char anon[BERTH_CONTAINER_ID_LEN + 1];
  const char *name = opts->name;
  cleanup_json json_t *labels = json_object(), *options = json_object();
  bool made;
  if (opts->driver && *opts->driver && !str_eq(opts->driver, "local"))
    return berth_error_set_plain(err, ENOTSUP, "error looking up volume plugin %s: plugin \"%s\" not found",
                                 opts->driver, opts->driver);
  if (kv_into(opts->labels, labels, "label", err) < 0 || kv_into(opts->options, options, "opt", err) < 0)
    return -1;
  if (!name || !*name) {
    berth_random_hex(anon, sizeof anon);
    name = anon;
  }
  if (check_driver_options(name, options, err) < 0)
    return -1;
  cleanup_json json_t *meta = berth_volume_meta_new(labels, options);
  if (berth_volume_store_create(e->store, name, meta, &made, err) < 0)
    return -1;
  if (made)
    volume_event(e, "create", name);
  *ret_name = strdup(name);
  return 0;
}

json_t *berth_volume_inspect(struct berth_engine *e, const char *name, berth_error_t *err)
{
  return volume_json(e, name, err);
}

/* ---- ls, prune ---- */

static bool volume_matches(const json_t *vol, const json_t *f, const json_t *users)
{
  json_t *v;
  size_t i;
  const char *name = berth_json_str(vol, "Name");
  bool used = json_object_get(users, name) != NULL;
  json_array_foreach(json_object_get(f, "dangling"), i, v)
  {
    const char *s = json_string_value(v);
    bool want = str_eq(s, "true") || str_eq(s, "1");
    if (want == used)
      return false;
  }
  if (json_array_size(json_object_get(f, "name"))) {
    bool any = false;
    json_array_foreach(json_object_get(f, "name"), i, v) any |= strstr(name, json_string_value(v)) != NULL;
    if (!any)
      return false;
  }
  json_array_foreach(json_object_get(f, "driver"), i, v) if (!str_eq(json_string_value(v), "local")) return false;
  json_array_foreach(json_object_get(f, "label"), i, v)
  {
    if (!berth_engine_label_matches(json_object_get(vol, "Labels"), json_string_value(v)))
      return false;
  }
  json_array_foreach(json_object_get(f, "label!"), i, v)
  {
    if (berth_engine_label_matches(json_object_get(vol, "Labels"), json_string_value(v)))
      return false;
  }
  return true;
}

static int check_dangling(const json_t *f, berth_error_t *err)
{
  json_t *v;
  size_t i;
  json_array_foreach(json_object_get(f, "dangling"), i, v)
  {
    const char *s = json_string_value(v);
    if (!str_eq(s, "true") && !str_eq(s, "false") && !str_eq(s, "1") && !str_eq(s, "0"))
      return berth_error_set_plain(err, EINVAL, "invalid filter 'dangling=%s'", s);
  }
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static json_t *list_matching(struct berth_engine *e, const json_t *f, json_t *users, berth_error_t *err)
{
  size_t n = 0;
  cleanup_strv char **names = berth_volume_store_names(e->store, &n, err);
  if (!names)
    return NULL;
  qsort(names, n, sizeof *names, by_name);
  json_t *out = json_array();
  for (size_t i = 0; i < n; i++) {
    cleanup_error berth_error_t ign = NULL;
    json_t *vol = volume_json(e, names[i], &ign);
    if (vol && volume_matches(vol, f, users))
      json_array_append(out, vol);
    json_decref(vol);
  }
  return out;
}

json_t *berth_volume_list(struct berth_engine *e, char **filters, berth_error_t *err)
{
  static const char *const allowed[] = {"dangling", "driver", "label", "label!", "name", NULL};
  cleanup_json json_t *f = berth_engine_parse_filters(filters, allowed, err), *users = NULL;
  if (!f || check_dangling(f, err) < 0 || !(users = volume_users(e, err)))
    return NULL;
  return list_matching(e, f, users, err);
}

static int remove_locked(struct berth_engine *e, const char *name, const json_t *users, int64_t *ret_size,
                         berth_error_t *err)
{
  const json_t *list = json_object_get(users, name);
  if (json_array_size(list))
    return berth_error_set_plain(err, EBUSY, "remove %s: volume is in use - [%s]", name,
                                 json_string_value(json_array_get(list, 0)));
  if (ret_size) {
    off_t size = 0;
    cleanup_free char *data = NULL;
    if (asprintf(&data, "%s/_data", name) < 0)
      abort();
    (void)berth_du_at(e->store->volumes_fd, data, &size, NULL);
    *ret_size = size;
  }
  unmount_volume(e, name);
  if (berth_volume_store_remove(e->store, name, err) < 0)
    return -1;
  volume_event(e, "destroy", name);
  return 0;
}

int berth_volume_remove(struct berth_engine *e, const char *name, bool force, berth_error_t *err)
{
  cleanup_close int lock = berth_volumes_lock(e->store, true, err);
  if (lock < 0)
    return -1;
  cleanup_json json_t *vol = volume_json(e, name, err), *users = NULL;
  if (!vol) {
    /* rm -f of a volume that is not there is not an error */
    if (force && (*err)->code == ENOENT) {
      berth_error_release(err);
      return 0;
    }
    return -1;
  }
  if (!(users = volume_users(e, err)))
    return -1;
  /* even -f does not take a volume from a container (docker: "in use") */
  return remove_locked(e, name, users, NULL, err);
}

json_t *berth_volume_prune(struct berth_engine *e, bool all, char **filters, berth_error_t *err)
{
  static const char *const allowed[] = {"label", "label!", "all", NULL};
  cleanup_json json_t *f = berth_engine_parse_filters(filters, allowed, err), *users = NULL, *list = NULL;
  json_t *v;
  size_t i;
  if (!f)
    return NULL;
  json_array_foreach(json_object_get(f, "all"), i, v)
  {
    const char *s = json_string_value(v);
    if (!str_eq(s, "true") && !str_eq(s, "false") && !str_eq(s, "1") && !str_eq(s, "0")) {
      berth_error_set_plain(err, EINVAL, "invalid filter 'all=%s': invalid value", s);
      return NULL;
    }
    all |= str_eq(s, "true") || str_eq(s, "1");
  }
  json_object_del(f, "all");
  cleanup_close int lock = berth_volumes_lock(e->store, true, err);
  if (lock < 0 || !(users = volume_users(e, err)) || !(list = list_matching(e, f, users, err)))
    return NULL;
  json_t *deleted = json_array();
  int64_t reclaimed = 0;
  json_array_foreach(list, i, v)
  {
    const char *name = berth_json_str(v, "Name");
    int64_t size = 0;
    cleanup_error berth_error_t ign = NULL;
    if (json_object_get(users, name) || (!all && !is_anonymous(v)))
      continue;
    if (remove_locked(e, name, users, &size, &ign) == 0) {
      json_array_append_new(deleted, json_string(name));
      reclaimed += size;
    }
  }
  cleanup_json json_t *attrs = json_pack("{s:I}", "reclaimed", (json_int_t)reclaimed);
  berth_event_record(e, "volume", "prune", "", attrs);
  return json_pack("{s:o, s:I}", "VolumesDeleted", deleted, "SpaceReclaimed", (json_int_t)reclaimed);
}

json_t *berth_volumes_usage(struct berth_engine *e, berth_error_t *err)
{
  cleanup_json json_t *users = volume_users(e, err), *f = json_object();
  json_t *list = users ? list_matching(e, f, users, err) : NULL, *v;
  size_t i;
  json_array_foreach(list, i, v)
  {
    off_t size = 0;
    cleanup_free char *data = NULL;
    const char *name = berth_json_str(v, "Name");
    if (asprintf(&data, "%s/_data", name) < 0)
      abort();
    (void)berth_du_at(e->store->volumes_fd, data, &size, NULL);
    json_object_set_new(v, "UsageData", json_pack("{s:I, s:I}", "Size", (json_int_t)size, "RefCount",
                                                  (json_int_t)json_array_size(json_object_get(users, name))));
  }
  return list;
}

/* ---- what containers do with volumes ---- */

static bool has_anonymous(const json_t *points)
{
  json_t *m;
  size_t i;
  json_array_foreach(points, i, m)
  {
    if (json_is_true(json_object_get(m, "Anonymous")))
      return true;
  }
  return false;
}

void berth_volumes_remove_anonymous(struct berth_engine *e, const json_t *points, const char *except_id)
{
  if (!has_anonymous(points))
    return;
  cleanup_error berth_error_t err = NULL;
  cleanup_close int lock = berth_volumes_lock(e->store, true, &err);
  cleanup_json json_t *users = lock >= 0 ? volume_users(e, &err) : NULL;
  json_t *m;
  size_t i;
  if (!users) {
    berth_warn("remove anonymous volumes: %s", err->msg);
    return;
  }
  json_array_foreach(points, i, m)
  {
    const char *name = berth_json_str(m, "Name");
    json_t *list = json_object_get(users, name ? name : "");
    cleanup_error berth_error_t e2 = NULL;
    if (!str_eq(berth_json_str(m, "Type"), "volume") || !json_is_true(json_object_get(m, "Anonymous")))
      continue;
    /* still used by another container (--volumes-from): kept, as docker does */
    if (json_array_size(list) > 1 || (json_array_size(list) == 1 && !str_eq(json_string_value(json_array_get(list, 0)), except_id)))
      continue;
    unmount_volume(e, name);
    if (berth_volume_store_remove(e->store, name, &e2) < 0 && e2->code != ENOENT)
      berth_warn("remove volume %s: %s", name, e2->msg);
    else if (!e2)
      volume_event(e, "destroy", name);
  }
}

/* Is the directory empty (no entry at all)? */
static bool dir_is_empty(int dirfd)
{
  cleanup_strv char **names = berth_dir_names(dirfd, NULL, NULL);
  return names && !names[0];
}

int berth_volumes_populate(struct berth_engine *e, struct berth_ctr *c, berth_error_t *err)
{
  json_t *m;
  size_t i;
  json_array_foreach(json_object_get(c->rec, "MountPoints"), i, m)
  {
    if (!str_eq(berth_json_str(m, "Type"), "volume") || !json_is_true(json_object_get(m, "CopyData")))
      continue;
    const char *name = berth_json_str(m, "Name");
    cleanup_free char *data = NULL;
    if (json_is_true(json_object_get(m, "DriverMount")) && mount_volume(e, name, err) < 0)
      return -1;
    if (asprintf(&data, "%s/_data", name) < 0)
      abort();
    cleanup_close int dfd = openat(e->store->volumes_fd, data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
      return berth_error_set(err, errno, "open volume %s", name);
    if (!dir_is_empty(dfd))
      continue;
    if (berth_ctr_copy_image_dir(e, c, berth_json_str(m, "Destination"), dfd, err) < 0)
      return berth_error_prefix(err, "copy the image's %s into volume %s", berth_json_str(m, "Destination"), name);
  }
  return 0;
}
