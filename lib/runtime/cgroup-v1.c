/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup v1 backend, also used for the hybrid layout (whose unified
 * hierarchy only holds the processes): limits in the per-controller
 * hierarchies, the cpuset copy-down a new v1 cgroup needs, the device
 * allow/deny list, OOM kills from memory.oom_control and the freezer. */
#define BERTH_LOG_DOMAIN "cgroup"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <berth/log.h>

#include "base/cleanup.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup-internal.h"

/* How long freezer.state may stay FREEZING. */
#define FREEZE_TIMEOUT_MS 2000

static bool is_set(int64_t v)
{
  return v != BERTH_SPEC_UNSET;
}

static void fmt_i64(char buf[32], int64_t v)
{
  snprintf(buf, 32, "%" PRId64, v);
}

/* ------------------------------------------------------------ cpuset copy */

static ssize_t read_small(int dirfd, const char *file, char *buf, size_t size)
{
  cleanup_close int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  if (fd < 0)
    return -1;
  n = TEMP_FAILURE_RETRY(read(fd, buf, size - 1));
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return n;
}

static bool is_blank(const char *s)
{
  return s[strspn(s, " \t\n")] == '\0';
}

/* A v1 cpuset cgroup starts with empty cpuset.cpus and .mems, and nothing
 * can join it until both are set: copy the parent's. */
static int copy_from_parent(int parent_fd, int fd, const char *level, const char *file, berth_error_t *err)
{
  char buf[16384];
  ssize_t n;
  if (read_small(fd, file, buf, sizeof(buf)) < 0)
    return berth_error_set(err, errno, "read `%s` of cgroup `%s`", file, level);
  if (!is_blank(buf))
    return 0;
  if (read_small(parent_fd, file, buf, sizeof(buf)) < 0)
    return berth_error_set(err, errno, "read `%s` above cgroup `%s`", file, level);
  {
    cleanup_close int wfd = openat(fd, file, O_WRONLY | O_CLOEXEC);
    if (wfd < 0)
      return berth_error_set(err, errno, "open `%s` of cgroup `%s`", file, level);
    n = TEMP_FAILURE_RETRY(write(wfd, buf, strlen(buf)));
    if (n < 0)
      return berth_error_set(err, errno, "write `%s` of cgroup `%s`", file, level);
  }
  return 0;
}

static int v1_prepare_level(const struct berth_cgroup_dir *d, int parent_fd, int fd, const char *level,
                            berth_error_t *err)
{
  if (d->v2 || !berth_cgroup_list_has(d->controllers, "cpuset"))
    return 0;
  if (copy_from_parent(parent_fd, fd, level, "cpuset.cpus", err) < 0)
    return -1;
  return copy_from_parent(parent_fd, fd, level, "cpuset.mems", err);
}

/* ------------------------------------------------------------------ memory */

#define MEMSW "memory.memsw.limit_in_bytes"

/* The memsw limit must stay >= the memory limit at every step: when the
 * new memsw value is at least the current one, raise memsw first; when it
 * is lower, lower the memory limit first. */
static int v1_memory_and_swap(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, berth_error_t *err)
{
  cleanup_free char *cur_text = NULL;
  char mem[32], sw[32];
  int64_t new_sw = res->memory_swap < 0 ? INT64_MAX : res->memory_swap;
  long long cur;
  fmt_i64(mem, res->memory_limit);
  fmt_i64(sw, res->memory_swap);
  if (berth_cgroup_dir_read(d, MEMSW, &cur_text, err) < 0)
    return -1;
  cur = strtoll(cur_text, NULL, 10);
  if (new_sw >= cur) {
    if (berth_cgroup_set_limit(d, "memory", MEMSW, sw, "--memory-swap", err) < 0)
      return -1;
    return berth_cgroup_set_limit(d, "memory", "memory.limit_in_bytes", mem, "--memory", err);
  }
  if (berth_cgroup_set_limit(d, "memory", "memory.limit_in_bytes", mem, "--memory", err) < 0)
    return -1;
  return berth_cgroup_set_limit(d, "memory", MEMSW, sw, "--memory-swap", err);
}

static int check_memory(const struct berth_spec_resources *res, berth_error_t *err)
{
  if (is_set(res->memory_swap) && res->memory_swap != -1) {
    if (is_set(res->memory_limit) && (res->memory_limit == -1 || res->memory_swap < res->memory_limit))
      return berth_error_set_plain(err, EINVAL, "--memory-swap (%" PRId64 ") must be at least --memory", res->memory_swap);
  }
  if (is_set(res->memory_swappiness) && res->memory_swappiness > 100)
    return berth_error_set_plain(err, EINVAL, "--memory-swappiness must be between 0 and 100, not %" PRId64,
                                 res->memory_swappiness);
  return 0;
}

static int v1_memory(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  struct berth_cgroup_dir *d = berth_cgroup_find(cg, "memory");
  bool swap = is_set(res->memory_swap);
  char buf[32];
  if (check_memory(res, err) < 0)
    return -1;
  /* Without swap accounting an unlimited swap is what we have already. */
  if (swap && res->memory_swap == -1 && !berth_cgroup_dir_has(d, MEMSW))
    swap = false;
  if (swap && !berth_cgroup_dir_has(d, MEMSW))
    return berth_cgroup_set_limit(d, "memory", MEMSW, "", "--memory-swap", err);
  if (swap && is_set(res->memory_limit)) {
    if (v1_memory_and_swap(d, res, err) < 0)
      return -1;
  } else if (is_set(res->memory_limit)) {
    fmt_i64(buf, res->memory_limit);
    if (berth_cgroup_set_limit(d, "memory", "memory.limit_in_bytes", buf, "--memory", err) < 0)
      return -1;
  } else if (swap) {
    fmt_i64(buf, res->memory_swap);
    if (berth_cgroup_set_limit(d, "memory", MEMSW, buf, "--memory-swap", err) < 0)
      return -1;
  }
  if (is_set(res->memory_reservation)) {
    fmt_i64(buf, res->memory_reservation);
    if (berth_cgroup_set_limit(d, "memory", "memory.soft_limit_in_bytes", buf, "--memory-reservation", err) < 0)
      return -1;
  }
  /* -1 is Docker's "not given". */
  if (is_set(res->memory_swappiness) && res->memory_swappiness >= 0) {
    fmt_i64(buf, res->memory_swappiness);
    if (berth_cgroup_set_limit(d, "memory", "memory.swappiness", buf, "--memory-swappiness", err) < 0)
      return -1;
  }
  if (res->disable_oom_killer)
    return berth_cgroup_set_limit(d, "memory", "memory.oom_control", "1", "--oom-kill-disable", err);
  return 0;
}

/* ------------------------------------------------------------ cpu, cpuset */

static int v1_cpu(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  struct berth_cgroup_dir *d = berth_cgroup_find(cg, "cpu");
  char buf[32];
  /* 0 is Docker's "not given" for all three. */
  if (is_set(res->cpu_shares) && res->cpu_shares != 0) {
    fmt_i64(buf, res->cpu_shares);
    if (berth_cgroup_set_limit(d, "cpu", "cpu.shares", buf, "--cpu-shares", err) < 0)
      return -1;
  }
  if (is_set(res->cpu_period) && res->cpu_period != 0) {
    fmt_i64(buf, res->cpu_period);
    if (berth_cgroup_set_limit(d, "cpu", "cpu.cfs_period_us", buf, "--cpu-period", err) < 0)
      return -1;
  }
  if (is_set(res->cpu_quota) && res->cpu_quota != 0) {
    fmt_i64(buf, res->cpu_quota < 0 ? -1 : res->cpu_quota);
    if (berth_cgroup_set_limit(d, "cpu", "cpu.cfs_quota_us", buf, "--cpu-quota", err) < 0)
      return -1;
  }
  return 0;
}

static int v1_cpuset(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  struct berth_cgroup_dir *d = berth_cgroup_find(cg, "cpuset");
  if (res->cpuset_mems && *res->cpuset_mems &&
      berth_cgroup_set_limit(d, "cpuset", "cpuset.mems", res->cpuset_mems, "--cpuset-mems", err) < 0)
    return -1;
  if (res->cpuset_cpus && *res->cpuset_cpus &&
      berth_cgroup_set_limit(d, "cpuset", "cpuset.cpus", res->cpuset_cpus, "--cpuset-cpus", err) < 0)
    return -1;
  return 0;
}

static int v1_pids(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  char buf[32] = "max";
  if (!is_set(res->pids_limit))
    return 0;
  if (res->pids_limit > 0)
    fmt_i64(buf, res->pids_limit);
  return berth_cgroup_set_limit(berth_cgroup_find(cg, "pids"), "pids", "pids.max", buf, "--pids-limit", err);
}

/* ------------------------------------------------------------------- blkio */

static const char *const v1_throttle_files[BERTH_THROTTLE_N] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device"};

static int v1_blkio(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  struct berth_cgroup_dir *d = berth_cgroup_find(cg, "blkio");
  char buf[64];
  if (is_set(res->blkio_weight)) {
    /* the legacy CFQ weight, or BFQ's (the scheduler this kernel may have) */
    const char *file = d && berth_cgroup_dir_has(d, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    fmt_i64(buf, res->blkio_weight);
    if (d && !berth_cgroup_dir_has(d, file))
      return berth_error_set_plain(err, ENOTSUP,
                                   "--blkio-weight: this kernel's block I/O scheduler has no weight (no %s)", file);
    if (berth_cgroup_set_limit(d, "blkio", file, buf, "--blkio-weight", err) < 0)
      return -1;
  }
  for (int k = 0; k < BERTH_THROTTLE_N; k++)
    for (size_t i = 0; i < res->n_throttle[k]; i++) {
      const struct berth_spec_throttle *t = &res->throttle[k][i];
      snprintf(buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRId64, t->major, t->minor, t->rate);
      if (berth_cgroup_set_limit(d, "blkio", v1_throttle_files[k], buf, berth_cgroup_throttle_flags[k], err) < 0)
        return -1;
    }
  return 0;
}

/* ----------------------------------------------------------------- devices */

static void fmt_dev_number(char buf[24], int64_t v)
{
  if (v < 0)
    strcpy(buf, "*");
  else
    snprintf(buf, 24, "%" PRId64, v);
}

static int v1_devices(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  struct berth_cgroup_dir *d = berth_cgroup_find(cg, "devices");
  const char *flag = "linux.resources.devices";
  if (res->n_devices == 0)
    return 0;
  if (berth_cgroup_set_limit(d, "devices", "devices.deny", "a", flag, err) < 0)
    return -1;
  for (size_t i = 0; i < res->n_devices; i++) {
    const struct berth_spec_device_rule *r = &res->devices[i];
    char rule[80], major[24], minor[24];
    char type = r->type == 'b' || r->type == 'c' ? r->type : 'a';
    fmt_dev_number(major, r->major);
    fmt_dev_number(minor, r->minor);
    snprintf(rule, sizeof(rule), "%c %s:%s %s", type, major, minor, r->access[0] ? r->access : "rwm");
    if (berth_cgroup_set_limit(d, "devices", r->allow ? "devices.allow" : "devices.deny", rule, flag, err) < 0)
      return -1;
  }
  return 0;
}

static int v1_apply(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  if (v1_memory(cg, res, err) < 0 || v1_cpu(cg, res, err) < 0 || v1_cpuset(cg, res, err) < 0 ||
      v1_pids(cg, res, err) < 0 || v1_blkio(cg, res, err) < 0 || v1_devices(cg, res, err) < 0)
    return -1;
  return 0;
}

/* --------------------------------------------------------- oom and freezer */

static bool v1_oom_killed(struct berth_cgroup *cg)
{
  struct berth_cgroup_dir *d = berth_cgroup_find(cg, "memory");
  cleanup_free char *text = NULL;
  cleanup_error berth_error_t err = NULL;
  if (!d || berth_cgroup_dir_read(d, "memory.oom_control", &text, &err) < 0)
    return false;
  return berth_cgroup_keyed_value(text, "oom_kill") > 0;
}

static bool v1_can_freeze(struct berth_cgroup *cg)
{
  return berth_cgroup_find(cg, "freezer") || (cg->v2 && berth_cgroup_dir_has(cg->v2, "cgroup.freeze"));
}

static int v1_freeze(struct berth_cgroup *cg, bool frozen, berth_error_t *err)
{
  struct berth_cgroup_dir *d = berth_cgroup_find(cg, "freezer");
  const char *want = frozen ? "FROZEN" : "THAWED";
  if (!d && cg->v2 && berth_cgroup_dir_has(cg->v2, "cgroup.freeze"))
    return berth_cgroup_v2_freeze_dir(cg->v2, frozen, err);
  for (unsigned waited = 0, delay = 1;; waited += delay, delay = delay < 8 ? delay * 2 : delay) {
    cleanup_free char *state = NULL;
    /* Writing FROZEN again kicks tasks that were missed (runc does too). */
    if (berth_cgroup_set_limit(d, "freezer", "freezer.state", want, frozen ? "pause" : "unpause", err) < 0 ||
        berth_cgroup_dir_read(d, "freezer.state", &state, err) < 0)
      return -1;
    if (strncmp(state, want, strlen(want)) == 0)
      return 0;
    if (waited >= FREEZE_TIMEOUT_MS)
      break;
    berth_cgroup_sleep_ms(delay);
  }
  if (frozen) {
    cleanup_error berth_error_t thaw_err = NULL;
    (void)berth_cgroup_dir_write(d, "freezer.state", "THAWED", &thaw_err);
  }
  return berth_error_set(err, EBUSY, "`%s/%s/freezer.state` does not become %s", d->mount, d->rel, want);
}

const struct berth_cgroup_backend berth_cgroup_backend_v1 = {
    .name = "v1",
    .prepare_level = v1_prepare_level,
    .apply = v1_apply,
    .oom_killed = v1_oom_killed,
    .freeze = v1_freeze,
    .can_freeze = v1_can_freeze,
};
