/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Devices asked for in HostConfig.DeviceRequests, applied to the OCI config
 * at start (docs/gpu.md):
 *   Driver "cdi"                 DeviceIDs are CDI names (--device V/C=N)
 *   Driver "" or "nvidia" with   --gpus: NVIDIA_VISIBLE_DEVICES and
 *   NVIDIA capabilities          NVIDIA_DRIVER_CAPABILITIES set in the env
 *                                as moby's nvidia driver does
 * Then, for a --gpus request or HostConfig.Runtime "nvidia", the env the
 * container ends up with says which GPUs and driver capabilities it gets,
 * as the NVIDIA container runtime reads it (so images built on nvidia/cuda
 * work): through CDI (nvidia.com/gpu=...) when a spec of that kind is
 * installed, else from the driver found on the host (cdi/nvidia.c; the root
 * it looks under is $BERTH_NVIDIA_ROOT, for tests), the container's own
 * ldconfig refreshing its loader cache (annotation berth.ldconfig). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "cdi/cdi.h"
#include "engine/engine-internal.h"
#include "store/store.h"

/* moby's nvidia driver: the capabilities it answers to */
static const char *const nvidia_caps[] = {"gpu", "nvidia", "compute", "compat32", "graphics", "utility", "video",
                                          "display", NULL};
/* and those that are driver capabilities (NVIDIA_DRIVER_CAPABILITIES) */
static const char *const driver_caps[] = {"compute", "compat32", "graphics", "utility", "video", "display", NULL};

static bool in_list(const char *const *list, const char *s)
{
  for (; *list; list++)
    if (strcmp(*list, s) == 0)
      return true;
  return false;
}

/* Go's %v of [][]string: [[gpu] [compute utility]] */
static void caps_text(const json_t *caps, char *out, size_t n)
{
  size_t len = 0;
  json_t *set, *c;
  size_t i, k;
  len += (size_t)snprintf(out + len, n - len, "[");
  json_array_foreach(caps, i, set)
  {
    len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s[", i ? " " : "");
    json_array_foreach(set, k, c) len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", k ? " " : "",
                                                          json_string_value(c) ? json_string_value(c) : "");
    len += (size_t)snprintf(out + len, len < n ? n - len : 0, "]");
  }
  (void)snprintf(out + len, len < n ? n - len : 0, "]");
}

/* Some OR'ed set of the request's capabilities is one the nvidia driver has. */
static bool nvidia_selected(const json_t *req)
{
  const char *driver = berth_json_str(req, "Driver");
  json_t *set, *c;
  size_t i, k;
  if (driver && *driver && strcmp(driver, "nvidia") != 0)
    return false;
  json_array_foreach(json_object_get(req, "Capabilities"), i, set)
  {
    bool all = json_array_size(set) > 0;
    json_array_foreach(set, k, c) all = all && json_is_string(c) && in_list(nvidia_caps, json_string_value(c));
    if (all)
      return true;
  }
  return false;
}

static void env_set(json_t *oci, const char *key, const char *value)
{
  cleanup_free char *kv = NULL;
  if (asprintf(&kv, "%s=%s", key, value) < 0)
    abort();
  berth_cdi_env_set(oci, kv);
}

static const char *env_get(const json_t *oci, const char *key)
{
  json_t *v;
  size_t n = strlen(key), i;
  const char *found = NULL;
  json_array_foreach(json_object_get(json_object_get(oci, "process"), "env"), i, v)
  {
    const char *s = json_string_value(v);
    if (s && strncmp(s, key, n) == 0 && s[n] == '=')
      found = s + n + 1;
  }
  return found;
}

/* moby's setNVIDIAGPUs: the request as the env the NVIDIA runtime reads. */
static int nvidia_request_env(const json_t *req, json_t *oci, berth_error_t *err)
{
  json_int_t count = berth_json_int(req, "Count", 0);
  json_t *ids = json_object_get(req, "DeviceIDs"), *set, *c;
  size_t i, k;
  char caps[256] = "";
  if (count != 0 && json_array_size(ids))
    return berth_error_set_plain(err, EINVAL, "cannot set both Count and DeviceIDs on device request");
  if (json_array_size(ids) || count > 0) {
    cleanup_free char *list = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&list, &len);
    if (!f)
      abort();
    json_array_foreach(ids, i, c) fprintf(f, "%s%s", i ? "," : "", json_string_value(c) ? json_string_value(c) : "");
    for (json_int_t d = 0; !json_array_size(ids) && d < count && d < 4096; d++)
      fprintf(f, "%s%lld", d ? "," : "", (long long)d);
    fclose(f);
    env_set(oci, "NVIDIA_VISIBLE_DEVICES", list);
  } else if (count < 0) {
    env_set(oci, "NVIDIA_VISIBLE_DEVICES", "all");
  }
  for (const char *const *d = driver_caps; *d; d++) {
    bool asked = false;
    json_array_foreach(json_object_get(req, "Capabilities"), i, set)
    {
      json_array_foreach(set, k, c) asked |= json_is_string(c) && strcmp(json_string_value(c), *d) == 0;
    }
    if (asked && strlen(caps) + strlen(*d) + 2 < sizeof caps)
      strcat(strcat(caps, *caps ? "," : ""), *d);
  }
  if (*caps)
    env_set(oci, "NVIDIA_DRIVER_CAPABILITIES", caps);
  return 0;
}

struct names {
  char **v;
  size_t n;
};

static void names_add(struct names *ns, const char *prefix, const char *name)
{
  char **v = realloc(ns->v, (ns->n + 2) * sizeof *v);
  if (!v)
    abort();
  ns->v = v;
  if (asprintf(&ns->v[ns->n], "%s%s", prefix, name ? name : "") < 0)
    abort();
  ns->v[++ns->n] = NULL;
}

/* DeviceRequests: CDI names collected, NVIDIA requests written to the env. */
static int read_requests(const json_t *hc, json_t *oci, struct names *cdi, bool *ret_nvidia, berth_error_t *err)
{
  json_t *req, *id;
  size_t i, k;
  json_array_foreach(json_object_get(hc, "DeviceRequests"), i, req)
  {
    const char *driver = berth_json_str(req, "Driver");
    if (driver && strcmp(driver, "cdi") == 0) {
      json_array_foreach(json_object_get(req, "DeviceIDs"), k, id) names_add(cdi, "", json_string_value(id));
      continue;
    }
    if (!nvidia_selected(req)) {
      char caps[256];
      caps_text(json_object_get(req, "Capabilities"), caps, sizeof caps);
      return berth_error_set_plain(err, EINVAL, "could not select device driver \"%s\" with capabilities: %s",
                                   driver ? driver : "", caps);
    }
    if (nvidia_request_env(req, oci, err) < 0)
      return -1;
    *ret_nvidia = true;
  }
  return 0;
}

/* The driver found on the host, as spec "nvidia.com/gpu" of top priority,
 * with a device "none" for NVIDIA_VISIBLE_DEVICES=none (the driver, no GPU). */
static int nvidia_fallback(struct berth_cdi_registry *reg, const char *caps, json_t *oci, berth_error_t *err)
{
  const char *root = getenv("BERTH_NVIDIA_ROOT");
  cleanup_json json_t *spec = berth_nvidia_discover(root && *root ? root : "/", caps, err);
  if (!spec)
    return berth_error_prefix(err, "could not select device driver \"\" with capabilities: [[gpu]]");
  json_array_append_new(json_object_get(spec, "devices"), json_pack("{s:s,s:{}}", "name", "none", "containerEdits"));
  if (json_array_size(json_object_get(json_object_get(spec, "containerEdits"), "mounts")))
    json_object_set_new(json_object_get(oci, "annotations"), "berth.ldconfig", json_string("true"));
  return berth_cdi_registry_add(reg, spec, "nvidia driver", 1 << 20, err);
}

/* NVIDIA_VISIBLE_DEVICES of the container as CDI names of nvidia.com/gpu. */
static int nvidia_devices(struct berth_cdi_registry *reg, json_t *oci, struct names *cdi, berth_error_t *err)
{
  const char *visible = env_get(oci, "NVIDIA_VISIBLE_DEVICES");
  const char *caps = env_get(oci, "NVIDIA_DRIVER_CAPABILITIES");
  if (!visible)
    visible = env_get(oci, "CUDA_VERSION") ? "all" : "void"; /* legacy CUDA images */
  if (!*visible || strcmp(visible, "void") == 0)
    return 0;
  bool have_cdi = berth_cdi_registry_has_kind(reg, "nvidia.com/gpu");
  if (!have_cdi && nvidia_fallback(reg, caps && *caps ? caps : "utility,compute", oci, err) < 0)
    return -1;
  if (strcmp(visible, "none") == 0) {
    if (!have_cdi)
      names_add(cdi, "nvidia.com/gpu=", "none");
    return 0;
  }
  cleanup_free char *list = strdup(visible);
  for (char *save = NULL, *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save))
    names_add(cdi, "nvidia.com/gpu=", id);
  return 0;
}

/* A device may be missing because its file was refused: say why. */
static void with_spec_errors(const struct berth_cdi_registry *reg, berth_error_t *err)
{
  if (!reg->n_errors || (*err)->code != ENOENT)
    return;
  cleanup_free char *msg = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&msg, &len);
  if (!f)
    abort();
  fprintf(f, "%s (CDI spec errors: ", (*err)->msg);
  for (size_t i = 0; i < reg->n_errors; i++)
    fprintf(f, "%s%s", i ? "; " : "", reg->errors[i]);
  fputc(')', f);
  fclose(f);
  berth_error_release(err);
  berth_error_set_plain(err, ENOENT, "%s", msg);
}

/* Owner for device nodes a spec leaves unowned: a numeric Config.User. */
static void numeric_user(const json_t *config, long *uid, long *gid)
{
  const char *user = berth_json_str(config, "User");
  char *end = NULL;
  *uid = *gid = -1;
  if (!user || !*user)
    return;
  long u = strtol(user, &end, 10);
  if (end == user || (*end && *end != ':'))
    return;
  *uid = u;
  if (*end == ':') {
    const char *g = end + 1;
    long v = strtol(g, &end, 10);
    if (end != g && !*end)
      *gid = v;
  }
}

/* The container's id and bundle (its run dir) for the hooks' state. */
int berth_gpu_apply(struct berth_engine *e, const char *id, const json_t *config, const json_t *hc, json_t *oci,
                    berth_error_t *err)
{
  struct names cdi = {0};
  bool nvidia = false;
  int r = -1;
  cleanup_cdi_registry struct berth_cdi_registry *reg = NULL;
  const char *runtime = berth_json_str(hc, "Runtime");
  if (read_requests(hc, oci, &cdi, &nvidia, err) < 0)
    goto out;
  nvidia |= runtime && strcmp(runtime, "nvidia") == 0;
  if (!cdi.n && !nvidia) {
    r = 0;
    goto out;
  }
  reg = berth_cdi_registry_load((const char *const *)e->cdi_spec_dirs);
  if (nvidia && nvidia_devices(reg, oci, &cdi, err) < 0)
    goto out;
  long uid, gid;
  numeric_user(config, &uid, &gid);
  if (cdi.n && berth_cdi_inject(reg, (const char *const *)cdi.v, oci, uid, gid, err) < 0) {
    with_spec_errors(reg, err);
    goto out;
  }
  r = 0;
out:
  berth_strv_free(cdi.v);
  return r;
}

/* docker info's CDISpecDirs and DiscoveredDevices (CDI devices; without an
 * nvidia.com/gpu spec, the GPUs of the driver found on the host), and a
 * warning for each CDI spec that was refused. */
void berth_gpu_info(struct berth_engine *e, json_t *info)
{
  cleanup_cdi_registry struct berth_cdi_registry *reg =
      berth_cdi_registry_load((const char *const *)e->cdi_spec_dirs);
  json_t *dirs = json_array(), *devices = json_array(), *warnings = json_object_get(info, "Warnings"), *d;
  size_t i;
  for (i = 0; e->cdi_spec_dirs[i]; i++)
    json_array_append_new(dirs, json_string(e->cdi_spec_dirs[i]));
  for (i = 0; i < reg->n_devices; i++)
    json_array_append_new(devices, json_pack("{s:s,s:s}", "Source", "cdi", "ID", reg->devices[i].name));
  if (!berth_cdi_registry_has_kind(reg, "nvidia.com/gpu")) {
    const char *root = getenv("BERTH_NVIDIA_ROOT");
    cleanup_error berth_error_t err = NULL;
    cleanup_json json_t *spec = berth_nvidia_discover(root && *root ? root : "/", "utility", &err);
    json_array_foreach(spec ? json_object_get(spec, "devices") : NULL, i, d)
    {
      cleanup_free char *id = NULL;
      if (asprintf(&id, "nvidia.com/gpu=%s", berth_json_str(d, "name")) < 0)
        abort();
      json_array_append_new(devices, json_pack("{s:s,s:s}", "Source", "nvidia", "ID", id));
    }
  }
  if (!json_is_array(warnings))
    json_object_set_new(info, "Warnings", warnings = json_array());
  for (i = 0; i < reg->n_errors; i++) {
    cleanup_free char *w = NULL;
    if (asprintf(&w, "CDI: %s", reg->errors[i]) < 0)
      abort();
    json_array_append_new(warnings, json_string(w));
  }
  json_object_set_new(info, "CDISpecDirs", dirs);
  json_object_set_new(info, "DiscoveredDevices", devices);
  json_object_set_new(info, "Runtimes", json_pack("{s:{s:s},s:{s:s},s:{s:s}}", "berth", "path", "berth", "nvidia", "path",
                                                  "berth", "runc", "path", "berth"));
  json_object_set_new(info, "DefaultRuntime", json_string("runc"));
}
