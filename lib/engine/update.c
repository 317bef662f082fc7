/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `update`: moby's Container.UpdateContainer rules merge the request into the
 * stored HostConfig (0 and "" leave a setting as it is); the result is checked
 * as `create` checks it, then, for a running container, written to its
 * cgroup and to the spec.json its monitor reads (a restart by the monitor
 * and its restart policy both follow the new values), and last to
 * config.json, each atomically.  The container's start lock keeps a start
 * from reading half of it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/lock.h"
#include "engine/events.h"
#include "engine/rwlayer.h"
#include "engine/spec.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup.h"

static int conflict(const char *msg, berth_error_t *err)
{
  return berth_error_set_plain(err, EINVAL, "%s", msg);
}

static void set_nonzero(json_t *hc, const json_t *update, const char *key)
{
  json_t *v = json_object_get(update, key);
  if ((json_is_integer(v) && json_integer_value(v) != 0) || (json_is_string(v) && *json_string_value(v)))
    json_object_set(hc, key, v);
}

static int merge(json_t *hc, const json_t *update, berth_error_t *err)
{
  json_int_t mem = berth_json_int(update, "Memory", 0), swap = berth_json_int(update, "MemorySwap", 0);
  const json_t *rp = json_object_get(update, "RestartPolicy");
  const char *policy = berth_json_str(rp, "Name");
  /* docker stores the swap a memory limit got by default (twice as much) */
  if (berth_json_int(hc, "Memory", 0) > 0 && berth_json_int(hc, "MemorySwap", 0) == 0)
    json_object_set_new(hc, "MemorySwap", json_integer(2 * berth_json_int(hc, "Memory", 0)));
  if (berth_json_int(update, "NanoCpus", 0) > 0 && berth_json_int(hc, "CpuPeriod", 0) > 0)
    return conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set", err);
  if (berth_json_int(update, "NanoCpus", 0) > 0 && berth_json_int(hc, "CpuQuota", 0) > 0)
    return conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set", err);
  if (mem != 0 && mem > berth_json_int(hc, "MemorySwap", 0) && swap == 0)
    return conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the "
                    "same time",
                    err);
  static const char *const keys[] = {"CpuShares", "NanoCpus", "CpusetCpus", "CpusetMems", "Memory", "MemorySwap",
                                     "MemoryReservation", NULL};
  for (const char *const *k = keys; *k; k++)
    set_nonzero(hc, update, *k);
  if (json_is_integer(json_object_get(update, "PidsLimit")))
    json_object_set(hc, "PidsLimit", json_object_get(update, "PidsLimit"));
  if (policy && *policy) {
    if (json_is_true(json_object_get(hc, "AutoRemove")) && strcmp(policy, "no") != 0)
      return conflict("Restart policy cannot be updated because AutoRemove is enabled for the container", err);
    json_object_set_new(hc, "RestartPolicy", json_deep_copy(rp));
  }
  return 0;
}

/* The running container: its cgroup, then the spec its monitor restarts from. */
static int update_live(struct berth_engine *e, const struct berth_ctr *c, int rundir, const json_t *parts,
                       berth_error_t *err)
{
  cleanup_json json_t *spec = berth_json_load_at(rundir, "spec.json", err);
  struct berth_spec *parsed = NULL;
  struct berth_cgroup *cg = NULL;
  json_t *res, *key;
  const char *k;
  int r = -1;
  if (!spec)
    return -1;
  res = json_object_get(json_object_get(spec, "linux"), "resources");
  if (!json_is_object(res))
    return berth_error_set_plain(err, EINVAL, "container %s: spec.json has no linux.resources", c->id);
  json_object_foreach(json_object_get(parts, "resources"), k, key) json_object_set(res, k, key);
  json_object_foreach(json_object_get(parts, "annotations"), k, key)
      json_object_set(json_object_get(spec, "annotations"), k, key);
  if (!(parsed = berth_spec_parse(spec, NULL, err)))
    return -1;
  parsed->resources.n_devices = 0; /* the device rules stay as they are */
  if (berth_ctr_cgroup(e, c, &cg, err) == 0 && berth_cgroup_update(cg, &parsed->resources, err) == 0)
    r = berth_json_write_atomic(rundir, "spec.json", spec, err);
  berth_cgroup_free(cg);
  berth_spec_free(parsed);
  return r;
}

static int update(struct berth_engine *e, struct berth_ctr *c, int rundir, const json_t *body, berth_error_t *err)
{
  cleanup_json json_t *hc = json_deep_copy(json_object_get(c->rec, "HostConfig")), *parts = NULL;
  if (!hc)
    hc = json_object();
  if (merge(hc, body, err) < 0 || !(parts = berth_spec_update_parts(hc, err)))
    return -1;
  if ((c->st.status == BERTH_STATUS_RUNNING || c->st.status == BERTH_STATUS_PAUSED) &&
      update_live(e, c, rundir, parts, err) < 0)
    return -1;
  json_object_set(c->rec, "HostConfig", hc);
  return berth_json_write_atomic(c->dirfd, "config.json", c->rec, err);
}

int berth_container_update(struct berth_engine *e, const char *name, const json_t *body, berth_error_t *err)
{
  cleanup_free char *id = berth_container_store_resolve(e->store, name, err);
  cleanup_close int rundir = -1, lock = -1;
  struct berth_ctr c = {.dirfd = -1};
  int r;
  if (!id || (rundir = berth_container_run_dir(e->store, id, true, err)) < 0 ||
      (lock = berth_lock_at(rundir, "start.lock", true, err)) < 0)
    return -1;
  if ((r = berth_ctr_load_id(e, id, &c, err)) == 0 && update(e, &c, rundir, body, err) < 0)
    r = berth_error_prefix(err, "Cannot update container %s", c.id);
  else if (r == 0)
    berth_event_container(e, &c, "update", NULL);
  berth_ctr_clear(&c);
  return r;
}
