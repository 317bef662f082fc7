/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The NVIDIA driver of a host without a CDI spec, found the way the NVIDIA
 * container toolkit finds it and described as a CDI spec of kind
 * nvidia.com/gpu, so that --gpus has one code path (inject.c):
 *   device nodes  /dev/nvidiactl (required), nvidia-uvm, nvidia-uvm-tools,
 *                 nvidia-modeset (spec-wide); /dev/nvidiaN per GPU, named by
 *                 index and by the UUID in /proc/driver/nvidia/gpus/ADDR/information
 *   libraries     the loader cache's entries (root/etc/ld.so.cache, glibc's
 *                 "glibc-ld.so.cache1.1" format) for each capability, else
 *                 the driver's own folders; bound read-only at their path,
 *                 and again at the soname's path
 *   binaries      nvidia-smi and friends from the usual bin folders
 * `root` is "/" on a real host; tests point it at a fake tree.  Paths in
 * the container are the host's, less root. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "cdi/cdi.h"

/* libnvidia-container's lists, by driver capability. */
static const struct {
  const char *cap;
  const char *const *libs, *const *bins;
} capability_files[] = {
    {"utility", (const char *const[]){"libnvidia-ml.so", "libnvidia-cfg.so", NULL},
     (const char *const[]){"nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", NULL}},
    {"compute",
     (const char *const[]){"libcuda.so", "libcudadebugger.so", "libnvidia-opencl.so", "libnvidia-ptxjitcompiler.so",
                           "libnvidia-fatbinaryloader.so", "libnvidia-allocator.so", "libnvidia-compiler.so",
                           "libnvidia-nvvm.so", "libnvidia-gpucomp.so", NULL},
     (const char *const[]){"nvidia-cuda-mps-control", "nvidia-cuda-mps-server", NULL}},
    {"video", (const char *const[]){"libvdpau_nvidia.so", "libnvidia-encode.so", "libnvidia-opticalflow.so",
                                    "libnvcuvid.so", NULL},
     (const char *const[]){NULL}},
    {"graphics",
     (const char *const[]){"libnvidia-eglcore.so", "libnvidia-glcore.so", "libnvidia-tls.so", "libnvidia-glsi.so",
                           "libnvidia-fbc.so", "libnvidia-ifr.so", "libnvidia-rtcore.so", "libnvoptix.so",
                           "libGLX_nvidia.so", "libEGL_nvidia.so", "libGLESv2_nvidia.so", "libGLESv1_CM_nvidia.so",
                           "libnvidia-glvkspirv.so", NULL},
     (const char *const[]){NULL}},
    {"ngx", (const char *const[]){"libnvidia-ngx.so", NULL}, (const char *const[]){NULL}},
    {"display", (const char *const[]){NULL}, (const char *const[]){NULL}},
    {"compat32", (const char *const[]){NULL}, (const char *const[]){NULL}},
};

static const char *const control_nodes[] = {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", NULL};
static const char *const bin_dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL};
static const char *const driver_dirs[] = {"/usr/lib/x86_64-linux-gnu/nvidia/current", "/usr/lib/aarch64-linux-gnu/nvidia/current",
                                          "/usr/lib64/nvidia", "/usr/lib/nvidia", "/usr/local/nvidia/lib64", NULL};

struct discovery {
  const char *root; /* "" for "/" */
  json_t *nodes, *mounts;
};

static char *host_path(const struct discovery *d, const char *path)
{
  char *p = NULL;
  if (asprintf(&p, "%s%s", d->root, path) < 0)
    abort();
  return p;
}

static bool has_cap(const char *caps, const char *cap)
{
  if (strcmp(caps, "all") == 0)
    return true;
  size_t n = strlen(cap);
  for (const char *p = caps; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, cap, n) == 0)
      return true;
    p += len + (p[len] == ',');
  }
  return false;
}

static void add_node(struct discovery *d, json_t *list, const char *path)
{
  json_t *n = json_pack("{s:s}", "path", path);
  if (*d->root) {
    cleanup_free char *host = host_path(d, path);
    json_object_set_new(n, "hostPath", json_string(host));
  }
  json_array_append_new(list, n);
}

static bool exists_as(const char *p, mode_t type)
{
  struct stat st;
  return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

/* `ctr` (a container path) read-only from the host, once. */
static void add_mount(struct discovery *d, const char *ctr)
{
  json_t *m;
  size_t i;
  json_array_foreach(d->mounts, i, m) if (strcmp(berth_json_str(m, "containerPath"), ctr) == 0) return;
  cleanup_free char *host = host_path(d, ctr);
  json_array_append_new(d->mounts, json_pack("{s:s,s:s,s:[s,s,s,s]}", "hostPath", host, "containerPath", ctr, "options",
                                             "ro", "nosuid", "nodev", "bind"));
}

/* A library at container path `ctr`: its real file (symlinks resolved
 * inside root), and `ctr` itself when that is a link to it. */
static void add_library(struct discovery *d, const char *ctr)
{
  cleanup_free char *host = host_path(d, ctr);
  char real[PATH_MAX];
  size_t rlen = strlen(d->root);
  if (!realpath(host, real) || strncmp(real, d->root, rlen) != 0 || real[rlen] != '/')
    return;
  if (!exists_as(real, S_IFREG))
    return;
  add_mount(d, real + rlen);
  if (strcmp(real + rlen, ctr) != 0)
    add_mount(d, ctr);
}

/* ---- the loader cache ---- */

#define CACHE_MAGIC "glibc-ld.so.cache1.1"
struct cache_header {
  char magic[20];
  uint32_t nlibs, len_strings;
  uint8_t flags, pad[3];
  uint32_t extension_offset, unused[3];
};
struct cache_entry {
  int32_t flags;
  uint32_t key, value, osversion;
  uint64_t hwcap;
};
#define FLAG_ELF_LIBC6 0x0003
#define FLAG_TYPE_MASK 0x00ff
#if defined(__x86_64__)
#define FLAG_NATIVE 0x0300
#elif defined(__aarch64__)
#define FLAG_NATIVE 0x0a00
#else
#define FLAG_NATIVE 0
#endif

static bool lib_matches(const char *name, const char *prefix)
{
  size_t n = strlen(prefix);
  return strncmp(name, prefix, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

/* Libraries of the cache whose soname starts with a wanted prefix; sets
 * found[i] for each prefix seen. */
static void from_cache(struct discovery *d, const char *const *prefixes, bool *found)
{
  cleanup_free char *path = host_path(d, "/etc/ld.so.cache"), *buf = NULL;
  size_t len = 0;
  if (berth_read_file_at(AT_FDCWD, path, &buf, &len, NULL) < 0)
    return;
  const char *start = memmem(buf, len, CACHE_MAGIC, strlen(CACHE_MAGIC));
  if (!start || (size_t)(buf + len - start) < sizeof(struct cache_header))
    return;
  struct cache_header h;
  memcpy(&h, start, sizeof h);
  size_t room = (size_t)(buf + len - start);
  if (h.nlibs > (room - sizeof h) / sizeof(struct cache_entry))
    return;
  for (uint32_t i = 0; i < h.nlibs; i++) {
    struct cache_entry e;
    memcpy(&e, start + sizeof h + i * sizeof e, sizeof e);
    if ((e.flags & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6 || (FLAG_NATIVE && (e.flags & 0xff00) != FLAG_NATIVE) ||
        e.key >= room || e.value >= room || !memchr(start + e.key, '\0', room - e.key) ||
        !memchr(start + e.value, '\0', room - e.value))
      continue;
    const char *soname = start + e.key, *file = start + e.value;
    for (size_t k = 0; prefixes[k]; k++)
      if (lib_matches(soname, prefixes[k]) && file[0] == '/') {
        found[k] = true;
        add_library(d, file);
      }
  }
}

/* Libraries the cache did not list, from the driver's own folders. */
static void from_driver_dirs(struct discovery *d, const char *const *prefixes, const bool *found)
{
  for (size_t i = 0; driver_dirs[i]; i++) {
    cleanup_free char *dir = host_path(d, driver_dirs[i]);
    cleanup_dir DIR *dh = opendir(dir);
    for (struct dirent *de; dh && (de = readdir(dh));)
      for (size_t k = 0; prefixes[k]; k++)
        if (!found[k] && lib_matches(de->d_name, prefixes[k]) && strlen(de->d_name) > strlen(prefixes[k])) {
          cleanup_free char *ctr = NULL;
          if (asprintf(&ctr, "%s/%s", driver_dirs[i], de->d_name) < 0)
            abort();
          add_library(d, ctr);
        }
  }
}

static void find_files(struct discovery *d, const char *caps)
{
  const char *prefixes[64];
  bool found[64] = {false};
  size_t n = 0;
  for (size_t c = 0; c < sizeof capability_files / sizeof *capability_files; c++) {
    if (!has_cap(caps, capability_files[c].cap))
      continue;
    for (size_t i = 0; capability_files[c].libs[i] && n < 63; i++)
      prefixes[n++] = capability_files[c].libs[i];
    for (size_t i = 0; capability_files[c].bins[i]; i++)
      for (size_t k = 0; bin_dirs[k]; k++) {
        cleanup_free char *ctr = NULL, *host = NULL;
        if (asprintf(&ctr, "%s/%s", bin_dirs[k], capability_files[c].bins[i]) < 0)
          abort();
        host = host_path(d, ctr);
        if (exists_as(host, S_IFREG)) {
          add_mount(d, ctr);
          break;
        }
      }
  }
  prefixes[n] = NULL;
  from_cache(d, prefixes, found);
  from_driver_dirs(d, prefixes, found);
  cleanup_free char *sock = host_path(d, "/run/nvidia-persistenced/socket");
  if (has_cap(caps, "utility") && exists_as(sock, S_IFSOCK))
    add_mount(d, "/run/nvidia-persistenced/socket");
}

/* ---- GPUs ---- */

/* The UUID of the GPU with minor `minor` from the driver's proc files. */
static char *gpu_uuid(const struct discovery *d, unsigned minor)
{
  cleanup_free char *dir = host_path(d, "/proc/driver/nvidia/gpus");
  cleanup_dir DIR *dh = opendir(dir);
  for (struct dirent *de; dh && (de = readdir(dh));) {
    cleanup_free char *path = NULL, *text = NULL;
    if (de->d_name[0] == '.' || asprintf(&path, "%s/%s/information", dir, de->d_name) < 0 ||
        berth_read_file_at(AT_FDCWD, path, &text, NULL, NULL) < 0)
      continue;
    char uuid[128] = "";
    unsigned m = UINT_MAX;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      (void)sscanf(line, "GPU UUID: %127s", uuid);
      (void)sscanf(line, "Device Minor: %u", &m);
    }
    if (m == minor && uuid[0])
      return strdup(uuid);
  }
  return NULL;
}

static int cmp_uint(const void *a, const void *b)
{
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return x < y ? -1 : x > y;
}

static size_t gpu_minors(const struct discovery *d, unsigned *out, size_t cap)
{
  cleanup_free char *dev = host_path(d, "/dev");
  cleanup_dir DIR *dh = opendir(dev);
  size_t n = 0;
  for (struct dirent *de; dh && (de = readdir(dh)) && n < cap;) {
    const char *num = de->d_name + 6;
    if (strncmp(de->d_name, "nvidia", 6) != 0 || !*num || strspn(num, "0123456789") != strlen(num) || strlen(num) > 4)
      continue;
    cleanup_free char *p = host_path(d, "/dev/");
    cleanup_free char *full = NULL;
    if (asprintf(&full, "%s%s", p, de->d_name) < 0)
      abort();
    if (exists_as(full, S_IFCHR))
      out[n++] = (unsigned)atoi(num);
  }
  qsort(out, n, sizeof *out, cmp_uint);
  return n;
}

static json_t *device(const char *name, json_t *nodes)
{
  return json_pack("{s:s,s:{s:o}}", "name", name, "containerEdits", "deviceNodes", nodes);
}

static json_t *gpu_devices(struct discovery *d)
{
  unsigned minors[256];
  size_t n = gpu_minors(d, minors, 256);
  json_t *devices = json_array(), *all = json_array();
  for (size_t i = 0; i < n; i++) {
    char name[24], path[32];
    snprintf(name, sizeof name, "%zu", i);
    snprintf(path, sizeof path, "/dev/nvidia%u", minors[i]);
    json_t *nodes = json_array();
    add_node(d, nodes, path);
    add_node(d, all, path);
    json_array_append_new(devices, device(name, json_deep_copy(nodes)));
    cleanup_free char *uuid = gpu_uuid(d, minors[i]), *qualified = NULL;
    if (uuid && asprintf(&qualified, "nvidia.com/gpu=%s", uuid) < 0)
      abort();
    if (uuid && berth_cdi_parse_qualified(qualified, NULL, NULL, NULL))
      json_array_append_new(devices, device(uuid, json_incref(nodes)));
    json_decref(nodes);
  }
  json_array_append_new(devices, device("all", all));
  return devices;
}

json_t *berth_nvidia_discover(const char *root, const char *capabilities, berth_error_t *err)
{
  struct discovery d = {.root = root && strcmp(root, "/") != 0 ? root : ""};
  cleanup_free char *ctl = host_path(&d, "/dev/nvidiactl");
  if (!exists_as(ctl, S_IFCHR))
    return berth_error_set_plain(err, ENODEV, "no NVIDIA driver found (no %s)", ctl), NULL;
  d.nodes = json_array();
  d.mounts = json_array();
  for (size_t i = 0; control_nodes[i]; i++) {
    cleanup_free char *ctr = NULL, *host = NULL;
    if (asprintf(&ctr, "/dev/%s", control_nodes[i]) < 0)
      abort();
    host = host_path(&d, ctr);
    if (exists_as(host, S_IFCHR))
      add_node(&d, d.nodes, ctr);
  }
  find_files(&d, capabilities ? capabilities : "utility,compute");
  return json_pack("{s:s,s:s,s:o,s:{s:o,s:o}}", "cdiVersion", "0.5.0", "kind", "nvidia.com/gpu", "devices",
                   gpu_devices(&d), "containerEdits", "deviceNodes", d.nodes, "mounts", d.mounts);
}

size_t berth_nvidia_gpu_count(const json_t *spec)
{
  json_t *dev;
  size_t i, n = 0;
  json_array_foreach(json_object_get(spec, "devices"), i, dev)
  {
    const char *name = berth_json_str(dev, "name");
    n += name && isdigit((unsigned char)name[0]) && strspn(name, "0123456789") == strlen(name);
  }
  return n;
}
