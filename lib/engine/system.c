/* SPDX-License-Identifier: GPL-2.0-or-later */
/* System-wide queries: disk usage, info, prune. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/magic.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "berth-config.h"
#include "engine/engine-internal.h"
#include "image/image.h"

/* Every container with its sizes (docker's df Containers); each image's
 * Containers counts the containers that use it. */
static json_t *container_summaries(struct berth_engine *e, json_t *images, berth_error_t *err)
{
  struct berth_container_list_opts co = {.all = true, .size = true, .limit = -1};
  json_t *list = berth_container_list(e, &co, err), *c, *img;
  size_t i, k;
  json_array_foreach(list, i, c)
  {
    json_array_foreach(images, k, img)
    {
      if (berth_json_str(img, "Id") && berth_json_str(c, "ImageID") &&
          strcmp(berth_json_str(img, "Id"), berth_json_str(c, "ImageID")) == 0)
        json_object_set_new(img, "Containers", json_integer(berth_json_int(img, "Containers", 0) + 1));
    }
  }
  return list;
}

/* The build cache that takes room: the directories of RUN --mount=type=cache
 * (ROOT/build-cache-mounts), as BuildKit's df lists its cache mounts.  (A
 * cached step is an image, counted with the images; the index that points
 * at them is a few bytes a step.) */
static json_t *build_cache_usage(struct berth_engine *e)
{
  json_t *out = json_array();
  cleanup_close int dfd = openat(e->store->root_fd, "build-cache-mounts", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_strv char **names = dfd < 0 ? NULL : berth_dir_names(dfd, NULL, NULL);
  for (char **p = names; p && *p; p++) {
    struct stat st;
    off_t size = 0;
    char created[64], used[64];
    if (fstatat(dfd, *p, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
        berth_du_at(dfd, *p, &size, NULL) < 0)
      continue;
    berth_format_rfc3339(st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec, created);
    berth_format_rfc3339(st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, used);
    json_array_append_new(out, json_pack("{s:s, s:[], s:s, s:s, s:b, s:b, s:I, s:s, s:s, s:i}", "ID", *p, "Parents",
                                         "Type", "exec.cachemount", "Description", "cached mount of a RUN step",
                                         "InUse", 0, "Shared", 0, "Size", (json_int_t)size, "CreatedAt", created,
                                         "LastUsedAt", used, "UsageCount", 0));
  }
  return out;
}

json_t *berth_system_df(struct berth_engine *e, berth_error_t *err)
{
  struct berth_image_list_opts lo = {.all = true};
  cleanup_json json_t *table = berth_images_load(e->store, err);
  cleanup_json json_t *seen = json_object();
  json_t *images, *img, *rec;
  const char *id;
  size_t i;
  int64_t layers_size = 0;
  if (!table || !(images = berth_image_list(e, &lo, err)))
    return NULL;
  /* What the images occupy on disk, each layer counted once however many
   * images share it: unpacked content, the stored layer tars, configs and
   * manifests.  Removing every image frees exactly this (see prune). */
  json_object_foreach(json_object_get(table, "images"), id, rec)
  {
    size_t k;
    json_t *c;
    int64_t meta = 0;
    const char *manifest = berth_json_str(rec, "manifest");
    cleanup_error berth_error_t ign = NULL;
    if (berth_blob_stat(e->store, id, &meta, &ign) == 0)
      layers_size += meta;
    if (manifest && berth_blob_stat(e->store, manifest, &meta, &ign) == 0)
      layers_size += meta;
    json_array_foreach(json_object_get(rec, "layers"), k, c)
    {
      struct berth_layer l;
      const char *chain = json_string_value(c);
      if (!chain || json_object_get(seen, chain) || berth_layer_get(e->store, chain, &l, &ign) < 0)
        continue;
      json_object_set_new(seen, chain, json_integer(l.size));
      layers_size += l.size + l.blob_size;
    }
  }
  /* SharedSize: bytes of layers this image shares with another image. */
  json_array_foreach(images, i, img)
  {
    json_t *r = json_object_get(json_object_get(table, "images"), berth_json_str(img, "Id"));
    int64_t shared = 0;
    size_t k;
    json_t *c;
    json_array_foreach(json_object_get(r, "layers"), k, c)
    {
      const char *other_id;
      json_t *other;
      bool shared_layer = false;
      json_object_foreach(json_object_get(table, "images"), other_id, other)
      {
        size_t m;
        json_t *oc;
        if (other == r)
          continue;
        json_array_foreach(json_object_get(other, "layers"), m, oc) if (json_equal(oc, c)) shared_layer = true;
      }
      if (shared_layer)
        shared += json_integer_value(json_object_get(seen, json_string_value(c)));
    }
    json_object_set_new(img, "SharedSize", json_integer(shared));
    json_object_set_new(img, "Containers", json_integer(0));
  }
  json_t *containers = container_summaries(e, images, err), *volumes = NULL;
  if (!containers || !(volumes = berth_volumes_usage(e, err))) {
    json_decref(images);
    json_decref(containers);
    return NULL;
  }
  return json_pack("{s:I, s:o, s:o, s:o, s:o}", "LayersSize", (json_int_t)layers_size, "Images", images,
                   "Containers", containers, "Volumes", volumes, "BuildCache", build_cache_usage(e));
}

static int cgroup_version(const char **driver)
{
  struct statfs sf;
  *driver = "cgroupfs";
  if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
    return 2;
  return 1;
}

static char *os_name(void)
{
  cleanup_free char *buf = NULL;
  cleanup_error berth_error_t ign = NULL;
  char *p, *end;
  if (berth_read_file_at(AT_FDCWD, "/etc/os-release", &buf, NULL, &ign) < 0 || !(p = strstr(buf, "PRETTY_NAME=")))
    return strdup("Linux");
  p += 12;
  if (*p == '"')
    p++;
  end = strpbrk(p, "\"\n");
  if (end)
    *end = '\0';
  return strdup(p);
}

json_t *berth_system_info(struct berth_engine *e, berth_error_t *err)
{
  cleanup_json json_t *table = berth_images_load(e->store, err);
  cleanup_free char *os = os_name();
  struct utsname u;
  struct sysinfo si;
  const char *driver;
  char host[256] = "";
  int cgv;
  struct berth_container_list_opts co = {.all = true, .limit = -1};
  cleanup_json json_t *list = table ? berth_container_list(e, &co, err) : NULL;
  json_t *c;
  size_t i;
  int running = 0, paused = 0;
  if (!list)
    return NULL;
  json_array_foreach(list, i, c)
  {
    const char *state = berth_json_str(c, "State");
    running += state && strcmp(state, "running") == 0;
    paused += state && strcmp(state, "paused") == 0;
  }
  cgv = cgroup_version(&driver);
  uname(&u);
  sysinfo(&si);
  gethostname(host, sizeof(host) - 1);
  json_t *info = json_pack("{s:i, s:i, s:i, s:i, s:I, s:s, s:s, s:s, s:[[s,s],[s,s]], s:s, s:s, s:s, s:s, s:s, s:s, s:i, "
                   "s:I, s:s, s:s}",
                   "Containers", (int)json_array_size(list), "ContainersRunning", running, "ContainersPaused", paused,
                   "ContainersStopped", (int)json_array_size(list) - running - paused, "Images",
                   (json_int_t)json_object_size(json_object_get(table, "images")), "ServerVersion", BERTH_VERSION,
                   "Driver", "overlay", "DockerRootDir", e->store->root, "DriverStatus", "Backing Filesystem",
                   "extfs", "Supports d_type", "true", "CgroupDriver", driver, "CgroupVersion", cgv == 2 ? "2" : "1",
                   "KernelVersion", u.release, "OperatingSystem", os, "OSType", "linux", "Architecture", u.machine,
                   "NCPU", (int)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal",
                   (json_int_t)((int64_t)si.totalram * si.mem_unit), "Name", host, "RunRoot", e->store->runroot);
  if (info)
    berth_gpu_info(e, info);
  return info;
}

/* The label filters of a system prune, the only ones volume prune takes. */
static char **label_filters(char **filters)
{
  size_t n = 0;
  for (char **p = filters; p && *p; p++)
    n++;
  char **out = calloc(n + 1, sizeof *out), **o = out;
  if (!out)
    abort();
  for (char **p = filters; p && *p; p++)
    if (strncmp(*p, "label", 5) == 0)
      *o++ = strdup(*p);
  return out;
}

json_t *berth_system_prune(struct berth_engine *e, bool all, bool volumes, char **filters, berth_error_t *err)
{
  /* networks and build cache join this as their issues land */
  cleanup_json json_t *ctrs = berth_container_prune(e, filters, err), *vols = NULL, *imgs = NULL;
  cleanup_strv char **labels = label_filters(filters);
  if (!ctrs || (volumes && !(vols = berth_volume_prune(e, false, labels, err))) ||
      !(imgs = berth_image_prune(e, all, filters, err)))
    return NULL;
  json_int_t total = berth_json_int(ctrs, "SpaceReclaimed", 0) + berth_json_int(vols, "SpaceReclaimed", 0) +
                     berth_json_int(imgs, "SpaceReclaimed", 0);
  return json_pack("{s:O, s:O?, s:O, s:I}", "ContainersDeleted", json_object_get(ctrs, "ContainersDeleted"),
                   "VolumesDeleted", json_object_get(vols, "VolumesDeleted"), "ImagesDeleted",
                   json_object_get(imgs, "ImagesDeleted"), "SpaceReclaimed", total);
}
