/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CDI, the Container Device Interface (cncf-tags/container-device-interface,
 * spec versions 0.3.0 to 1.1.0; see docs/gpu.md):
 *
 *   spec.c      one spec file, YAML or JSON, validated strictly into a
 *               document (errors name the file and the field)
 *   yaml.c      YAML to a jansson document (scalars kept as strings)
 *   registry.c  the spec folders, their priority and conflict rules
 *   inject.c    a device's containerEdits applied to an OCI config
 *   nvidia.c    an NVIDIA driver installation found on the host, as a spec
 *               (the fallback for --gpus where no CDI spec exists)
 *
 * Everything works on the OCI config as JSON before the runtime parses it:
 * the runtime then makes the nodes, mounts, cgroup rules and runs the hooks. */
#ifndef BERTH_CDI_H
#define BERTH_CDI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <berth/error.h>

/* The folders read when none are configured, lowest priority first. */
extern const char *const berth_cdi_default_dirs[];

/* "vendor/class=name": true and the three parts (caller frees each) when
 * `s` is a fully qualified device name; ret_* may be NULL. */
bool berth_cdi_parse_qualified(const char *s, char **ret_vendor, char **ret_class, char **ret_name);

/* Parse a spec file's text (YAML unless `path` ends in ".json") and check it
 * against the schema and the version floor of what it uses.  Returns the
 * document (a new reference) with YAML scalars turned into the schema's
 * types, or NULL with err "PATH: FIELD: problem". */
json_t *berth_cdi_spec_parse(const char *text, size_t len, const char *path, berth_error_t *err);

/* YAML text to JSON values: mappings, sequences and scalars as strings (a
 * plain null, ~ or empty scalar is null).  Anchors and aliases are refused. */
json_t *berth_cdi_yaml_load(const char *text, size_t len, berth_error_t *err);

struct berth_cdi_device {
  char *name;           /* "vendor/class=name" */
  const json_t *spec;   /* its spec document (owned by the registry) */
  const char *path;     /* the spec's file */
  const json_t *edits;  /* the device's containerEdits */
  int priority;         /* index of its folder */
};

struct berth_cdi_registry {
  json_t **specs; /* documents, one per loaded file */
  char **paths;
  int *priorities;
  size_t n_specs;
  struct berth_cdi_device *devices; /* sorted by name, conflicts dropped */
  size_t n_devices;
  char **errors; /* "PATH: problem" for each bad file and conflict */
  size_t n_errors;
};

/* Read every *.json and *.yaml file directly in each folder (later folders
 * win); a missing folder is skipped, a bad file is recorded and skipped. */
struct berth_cdi_registry *berth_cdi_registry_load(const char *const *dirs);
/* Add a spec document at `priority` (a parsed file, or one made in memory
 * such as nvidia.c's); the device list is rebuilt.  Takes a reference. */
int berth_cdi_registry_add(struct berth_cdi_registry *reg, json_t *doc, const char *path, int priority,
                           berth_error_t *err);
const struct berth_cdi_device *berth_cdi_registry_find(const struct berth_cdi_registry *reg, const char *name);
/* Whether some device of kind "vendor/class" is known. */
bool berth_cdi_registry_has_kind(const struct berth_cdi_registry *reg, const char *kind);
void berth_cdi_registry_free(struct berth_cdi_registry *reg);
static inline void berth_cdi_registry_freep(struct berth_cdi_registry **r) { berth_cdi_registry_free(*r); }
#define cleanup_cdi_registry __attribute__((cleanup(berth_cdi_registry_freep)))

/* Apply the devices `names` (NULL-terminated) to the OCI config `oci`: every
 * name is resolved first (nothing is changed when one is unknown), then each
 * spec's own edits once and each device's edits in the order asked.  `uid`
 * and `gid` (-1: root or unknown) own device nodes the spec gives no owner. */
int berth_cdi_inject(const struct berth_cdi_registry *reg, const char *const *names, json_t *oci, long uid, long gid,
                     berth_error_t *err);

/* Set "K=V" in the OCI config's process.env (an existing K is replaced). */
void berth_cdi_env_set(json_t *oci, const char *kv);

/* ---- nvidia.c ---- */

/* What the NVIDIA container runtime reads from the container's environment. */
struct berth_nvidia_request {
  const char *visible;      /* NVIDIA_VISIBLE_DEVICES: "all", "none", "void", "0,1", UUIDs */
  const char *capabilities; /* NVIDIA_DRIVER_CAPABILITIES: "all" or a list; NULL: utility,compute */
};

/* Find the NVIDIA driver under `root` ("/" or a test tree, see
 * BERTH_NVIDIA_ROOT): /dev/nvidia*, the libraries of the loader cache
 * (root/etc/ld.so.cache) and the driver's folders, the binaries; and return
 * a CDI spec of kind nvidia.com/gpu with one device per GPU (by index and by
 * UUID) and "all", the control nodes and the driver's files for
 * `capabilities` as spec-wide edits.  ENODEV when no driver is there. */
json_t *berth_nvidia_discover(const char *root, const char *capabilities, berth_error_t *err);
/* The GPUs listed by discovery's spec: its device names that are indexes. */
size_t berth_nvidia_gpu_count(const json_t *spec);

#endif
