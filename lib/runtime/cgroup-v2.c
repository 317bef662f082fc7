/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup v2 (unified) backend: enabling controllers down the tree in
 * cgroup.subtree_control, the v2 limit files with Docker's conversions
 * (cpu.weight from shares, memory.swap.max from a memory+swap total),
 * OOM kills from memory.events and cgroup.freeze.  The freeze helper also
 * serves the hybrid layout when it has no v1 freezer. */
#define BERTH_LOG_DOMAIN "cgroup"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <berth/log.h>

#include "base/cleanup.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup-internal.h"

#define FREEZE_TIMEOUT_MS 2000

static bool is_set(int64_t v)
{
  return v != BERTH_SPEC_UNSET;
}

uint64_t berth_cgroup_shares_to_weight(uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

/* Space-separated `text` ("cpu io memory\n") has `word`. */
static bool words_has(const char *text, const char *word)
{
  size_t n = strlen(word);
  for (const char *p = text; *p;) {
    size_t len = strcspn(p, " \n");
    if (len == n && strncmp(p, word, n) == 0)
      return true;
    p += len;
    p += strspn(p, " \n");
  }
  return false;
}

/* ------------------------------------------------------------- controllers */

struct want {
  const char *name;
  bool needed; /* a limit is set: failing to enable it is an error */
};

static int read_at(int dirfd, const char *file, char **ret)
{
  struct berth_cgroup_dir tmp = {.fd = dirfd, .mount = (char *)"", .rel = (char *)""};
  cleanup_error berth_error_t err = NULL;
  if (berth_cgroup_dir_read(&tmp, file, ret, &err) < 0) {
    errno = err->code;
    return -1;
  }
  return 0;
}

static int enable_level(int fd, const char *where, const struct want *want, size_t n_want, berth_error_t *err)
{
  cleanup_free char *avail = NULL, *enabled = NULL;
  if (read_at(fd, "cgroup.controllers", &avail) < 0 || read_at(fd, "cgroup.subtree_control", &enabled) < 0)
    return berth_error_set(err, errno, "read the controllers of `%s`", where);
  for (size_t i = 0; i < n_want; i++) {
    struct berth_cgroup_dir lvl = {.fd = fd, .mount = (char *)where, .rel = (char *)""};
    cleanup_error berth_error_t e = NULL;
    char op[32];
    if (!words_has(avail, want[i].name) || words_has(enabled, want[i].name))
      continue;
    snprintf(op, sizeof(op), "+%s", want[i].name);
    if (berth_cgroup_dir_write(&lvl, "cgroup.subtree_control", op, &e) == 0)
      continue;
    if (want[i].needed) {
      *err = steal_ptr(&e);
      return berth_error_prefix(err, "enable the %s controller", want[i].name);
    }
    berth_debug("%s, ignoring", e->msg);
  }
  return 0;
}

/* Enable the controllers in every level from our base down to the leaf's
 * parent (v2 gives a cgroup only what its parent's subtree_control lists). */
static int enable_controllers(const struct berth_cgroup_dir *d, const struct want *want, size_t n_want,
                              berth_error_t *err)
{
  cleanup_close int fd = open(d->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t blen = strlen(d->base);
  cleanup_free char *levels = strdup(d->rel + blen + (blen && d->rel[blen] == '/'));
  char *save = NULL, *lv, *next;
  if (!levels)
    abort();
  if (fd < 0)
    return berth_error_set(err, errno, "open `%s`", d->mount);
  if (blen) {
    int b = openat(fd, d->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (b < 0)
      return berth_error_set(err, errno, "open `%s/%s`", d->mount, d->base);
    close_and_reset(&fd);
    fd = b;
  }
  for (lv = strtok_r(levels, "/", &save); lv; lv = next) {
    int sub;
    next = strtok_r(NULL, "/", &save);
    if (enable_level(fd, d->mount, want, n_want, err) < 0)
      return -1;
    if (!next)
      break;
    sub = openat(fd, lv, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sub < 0)
      return berth_error_set(err, errno, "open cgroup `%s` in `%s`", lv, d->mount);
    close_and_reset(&fd);
    fd = sub;
  }
  return 0;
}

static size_t wanted(const struct berth_spec_resources *res, struct want *w)
{
  size_t n = 0;
  w[n++] = (struct want){"memory", is_set(res->memory_limit) || is_set(res->memory_swap) ||
                                      is_set(res->memory_reservation)};
  w[n++] = (struct want){"cpu", (is_set(res->cpu_shares) && res->cpu_shares) ||
                                   (is_set(res->cpu_quota) && res->cpu_quota) ||
                                   (is_set(res->cpu_period) && res->cpu_period)};
  w[n++] = (struct want){"pids", is_set(res->pids_limit)};
  w[n++] = (struct want){"io", is_set(res->blkio_weight) || res->n_throttle[BERTH_THROTTLE_READ_BPS] ||
                                  res->n_throttle[BERTH_THROTTLE_WRITE_BPS] ||
                                  res->n_throttle[BERTH_THROTTLE_READ_IOPS] ||
                                  res->n_throttle[BERTH_THROTTLE_WRITE_IOPS]};
  if ((res->cpuset_cpus && *res->cpuset_cpus) || (res->cpuset_mems && *res->cpuset_mems))
    w[n++] = (struct want){"cpuset", true};
  return n;
}

/* ------------------------------------------------------------------ limits */

static void fmt_max(char buf[32], int64_t v)
{
  if (v < 0)
    strcpy(buf, "max");
  else
    snprintf(buf, 32, "%" PRId64, v);
}

/* memory.swap.max is the swap alone: Docker's --memory-swap is memory+swap. */
static int v2_swap(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, berth_error_t *err)
{
  char buf[32] = "max";
  int64_t mem = res->memory_limit;
  if (res->memory_swap >= 0) {
    if (!is_set(mem)) {
      cleanup_free char *cur = NULL;
      if (berth_cgroup_dir_read(d, "memory.max", &cur, err) < 0)
        return -1;
      mem = strncmp(cur, "max", 3) == 0 ? -1 : strtoll(cur, NULL, 10);
    }
    if (mem < 0 || res->memory_swap < mem)
      return berth_error_set_plain(err, EINVAL, "--memory-swap (%" PRId64 ") must be at least --memory",
                                   res->memory_swap);
    snprintf(buf, sizeof(buf), "%" PRId64, res->memory_swap - mem);
  }
  return berth_cgroup_set_limit(d, "memory", "memory.swap.max", buf, "--memory-swap", err);
}

static int v2_memory(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, berth_error_t *err)
{
  char buf[32];
  if (is_set(res->memory_limit)) {
    fmt_max(buf, res->memory_limit);
    if (berth_cgroup_set_limit(d, "memory", "memory.max", buf, "--memory", err) < 0)
      return -1;
  }
  if (is_set(res->memory_swap) && v2_swap(d, res, err) < 0)
    return -1;
  if (is_set(res->memory_reservation)) {
    /* memory.low is a protection: "none" is 0, not max. */
    snprintf(buf, sizeof(buf), "%" PRId64, res->memory_reservation < 0 ? 0 : res->memory_reservation);
    if (berth_cgroup_set_limit(d, "memory", "memory.low", buf, "--memory-reservation", err) < 0)
      return -1;
  }
  if (is_set(res->memory_swappiness) && res->memory_swappiness >= 0)
    berth_debug("cgroup v2 has no per-cgroup swappiness, ignoring --memory-swappiness");
  if (res->disable_oom_killer)
    berth_debug("cgroup v2 cannot disable the OOM killer, ignoring --oom-kill-disable");
  return 0;
}

static int v2_cpu(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, berth_error_t *err)
{
  bool quota = is_set(res->cpu_quota) && res->cpu_quota != 0;
  bool period = is_set(res->cpu_period) && res->cpu_period > 0;
  char buf[64];
  if (is_set(res->cpu_shares) && res->cpu_shares > 0) {
    snprintf(buf, sizeof(buf), "%" PRIu64, berth_cgroup_shares_to_weight((uint64_t)res->cpu_shares));
    if (berth_cgroup_set_limit(d, "cpu", "cpu.weight", buf, "--cpu-shares", err) < 0)
      return -1;
  }
  if (!quota && !period)
    return 0;
  if (quota) {
    fmt_max(buf, res->cpu_quota);
  } else {
    /* Only the period changes: keep the quota ("max 100000"). */
    cleanup_free char *cur = NULL;
    if (!berth_cgroup_dir_has(d, "cpu.max"))
      return berth_cgroup_set_limit(d, "cpu", "cpu.max", "", "--cpu-period", err);
    if (berth_cgroup_dir_read(d, "cpu.max", &cur, err) < 0)
      return -1;
    snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(cur, " \n"), cur);
  }
  if (period)
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %" PRId64, res->cpu_period);
  return berth_cgroup_set_limit(d, "cpu", "cpu.max", buf, quota ? "--cpu-quota" : "--cpu-period", err);
}

/* ----------------------------------------------------------------- devices */

/* v2 has no devices.allow: the kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to the cgroup.  We compile the rules into one: the last
 * matching rule decides (as the v1 list does), nothing matching is a deny
 * (berth's v1 path also starts with "a" in devices.deny). */
struct bpf_prog {
  struct bpf_insn *insns;
  size_t n;
};

static size_t emit(struct bpf_prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  p->insns = reallocarray(p->insns, p->n + 1, sizeof(*p->insns));
  if (!p->insns)
    abort();
  p->insns[p->n] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return p->n++;
}

static int access_mask(const char *access)
{
  int m = 0;
  if (!*access)
    access = "rwm";
  for (; *access; access++)
    m |= *access == 'm' ? BPF_DEVCG_ACC_MKNOD : *access == 'r' ? BPF_DEVCG_ACC_READ : *access == 'w' ? BPF_DEVCG_ACC_WRITE : 0;
  return m;
}

/* One rule: each failed check jumps past the block; a match returns.
 * True when the rule matches everything (nothing after it can run). */
static bool emit_rule(struct bpf_prog *p, const struct berth_spec_device_rule *r)
{
  size_t jumps[4], n_jumps = 0;
  int acc = access_mask(r->access);
  if (r->type == 'c' || r->type == 'b')
    jumps[n_jumps++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  if (acc != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
    /* Match when the request asks for nothing outside the rule's access. */
    emit(p, BPF_ALU | BPF_MOV | BPF_X, 0, 3, 0, 0);
    emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, 0, ~acc & 7);
    jumps[n_jumps++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 0, 0, 0, 0);
  }
  if (r->type != 'a' && r->major >= 0)
    jumps[n_jumps++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)r->major);
  if (r->type != 'a' && r->minor >= 0)
    jumps[n_jumps++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)r->minor);
  emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0);
  emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  for (size_t i = 0; i < n_jumps; i++)
    p->insns[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
  return n_jumps == 0;
}

static void compile_rules(struct bpf_prog *p, const struct berth_spec_resources *res)
{
  /* r2 = device type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx). */
  emit(p, BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0);
  emit(p, BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
  emit(p, BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0);
  emit(p, BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
  emit(p, BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0);
  emit(p, BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0);
  /* The verifier refuses unreachable code: stop after a catch-all rule. */
  for (size_t i = res->n_devices; i-- > 0;)
    if (emit_rule(p, &res->devices[i]))
      return;
  emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
  emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
  return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Load again with the verifier's log and return its verdict: the last line
 * before the "processed N insns" statistics.  NULL when it says nothing. */
static char *verifier_says(union bpf_attr *attr)
{
  const size_t size = 65536;
  cleanup_free char *log = calloc(1, size);
  char *end, *line;
  if (!log)
    abort();
  attr->log_buf = (uint64_t)(uintptr_t)log;
  attr->log_size = (uint32_t)size;
  attr->log_level = 1;
  (void)sys_bpf(BPF_PROG_LOAD, attr);
  log[size - 1] = '\0';
  for (;;) {
    end = log + strlen(log);
    while (end > log && end[-1] == '\n')
      *--end = '\0';
    line = strrchr(log, '\n');
    line = line ? line + 1 : log;
    if (strncmp(line, "processed ", 10) != 0 || line == log)
      break;
    line[-1] = '\0';
  }
  return *line ? strdup(line) : NULL;
}

static int load_prog(const struct bpf_prog *p, berth_error_t *err)
{
  union bpf_attr attr;
  int fd;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)p->insns;
  attr.insn_cnt = (uint32_t)p->n;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  fd = sys_bpf(BPF_PROG_LOAD, &attr); /* bpf fds are close-on-exec */
  if (fd < 0) {
    int saved = errno;
    cleanup_free char *why = verifier_says(&attr);
    return berth_error_set(err, saved, "load the device cgroup program (%zu instructions%s%s)", p->n,
                           why ? ": " : "", why ? why : "");
  }
  return fd;
}

/* The ids of the device programs on the cgroup now (*ret_flags: how they
 * were attached); an old kernel without BPF_PROG_QUERY reports none. */
static size_t query_progs(int cgfd, uint32_t *ids, uint32_t max, uint32_t *ret_flags)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = (uint32_t)cgfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = max;
  if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
    return 0;
  *ret_flags = attr.query.attach_flags;
  return attr.query.prog_cnt < max ? attr.query.prog_cnt : max;
}

static void detach_prog(int cgfd, uint32_t id)
{
  union bpf_attr attr;
  cleanup_close int fd = -1;
  memset(&attr, 0, sizeof(attr));
  attr.prog_id = id;
  fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)cgfd;
  attr.attach_bpf_fd = (uint32_t)fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (fd < 0 || sys_bpf(BPF_PROG_DETACH, &attr) < 0)
    berth_debug("detach old device program %u: %m, ignoring", id);
}

/* Attach the new program, then take the ones it replaces away, so that
 * the cgroup is never without a filter. */
static int v2_devices(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, berth_error_t *err)
{
  struct bpf_prog p = {0};
  cleanup_close int fd = -1;
  uint32_t old[64], flags = BPF_F_ALLOW_MULTI;
  size_t n_old;
  union bpf_attr attr;
  if (res->n_devices == 0)
    return 0;
  compile_rules(&p, res);
  fd = load_prog(&p, err);
  free(p.insns);
  if (fd < 0)
    return berth_error_prefix(err, "set linux.resources.devices");
  n_old = query_progs(d->fd, old, 64, &flags);
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)d->fd;
  attr.attach_bpf_fd = (uint32_t)fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  /* A single program attached without ALLOW_MULTI is replaced in place. */
  attr.attach_flags = n_old > 0 && !(flags & BPF_F_ALLOW_MULTI) ? 0 : BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
    return berth_error_set(err, errno, "attach the device cgroup program to `%s/%s`", d->mount, d->rel);
  if (attr.attach_flags & BPF_F_ALLOW_MULTI)
    for (size_t i = 0; i < n_old; i++)
      detach_prog(d->fd, old[i]);
  return 0;
}

/* io.weight (1-10000: docker's 10-1000 mapped as runc maps it) and io.max,
 * one line per device with its four limits. */
static int v2_io(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, berth_error_t *err)
{
  static const char *const keys[BERTH_THROTTLE_N] = {"rbps", "wbps", "riops", "wiops"};
  char buf[128];
  if (is_set(res->blkio_weight)) {
    const char *file = berth_cgroup_dir_has(d, "io.weight") ? "io.weight" : "io.bfq.weight";
    int64_t w = file[3] == 'w' ? 1 + (res->blkio_weight - 10) * 9999 / 990 : res->blkio_weight;
    snprintf(buf, sizeof buf, "default %" PRId64, w);
    if (!berth_cgroup_dir_has(d, file))
      return berth_error_set_plain(err, ENOTSUP,
                                   "--blkio-weight: this kernel's block I/O scheduler has no weight (no %s)", file);
    if (berth_cgroup_set_limit(d, "io", file, buf, "--blkio-weight", err) < 0)
      return -1;
  }
  for (int k = 0; k < BERTH_THROTTLE_N; k++)
    for (size_t i = 0; i < res->n_throttle[k]; i++) {
      const struct berth_spec_throttle *t = &res->throttle[k][i];
      snprintf(buf, sizeof buf, "%" PRId64 ":%" PRId64 " %s=%" PRId64, t->major, t->minor, keys[k], t->rate);
      if (berth_cgroup_set_limit(d, "io", "io.max", buf, berth_cgroup_throttle_flags[k], err) < 0)
        return -1;
    }
  return 0;
}

static int v2_apply(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err)
{
  struct berth_cgroup_dir *d = cg->v2;
  struct want want[8];
  size_t n_want = wanted(res, want);
  char buf[32] = "max";
  if (!d)
    return berth_error_set_plain(err, ENOENT, "no cgroup2 hierarchy");
  if (enable_controllers(d, want, n_want, err) < 0 || v2_memory(d, res, err) < 0 || v2_cpu(d, res, err) < 0 ||
      v2_io(d, res, err) < 0)
    return -1;
  if (res->cpuset_mems && *res->cpuset_mems &&
      berth_cgroup_set_limit(d, "cpuset", "cpuset.mems", res->cpuset_mems, "--cpuset-mems", err) < 0)
    return -1;
  if (res->cpuset_cpus && *res->cpuset_cpus &&
      berth_cgroup_set_limit(d, "cpuset", "cpuset.cpus", res->cpuset_cpus, "--cpuset-cpus", err) < 0)
    return -1;
  if (is_set(res->pids_limit)) {
    if (res->pids_limit > 0)
      snprintf(buf, sizeof(buf), "%" PRId64, res->pids_limit);
    if (berth_cgroup_set_limit(d, "pids", "pids.max", buf, "--pids-limit", err) < 0)
      return -1;
  }
  return v2_devices(d, res, err);
}

/* --------------------------------------------------------- oom and freezer */

static bool v2_oom_killed(struct berth_cgroup *cg)
{
  cleanup_free char *text = NULL;
  cleanup_error berth_error_t err = NULL;
  if (!cg->v2 || cg->v2->fd < 0 || berth_cgroup_dir_read(cg->v2, "memory.events", &text, &err) < 0)
    return false;
  return berth_cgroup_keyed_value(text, "oom_kill") > 0;
}

int berth_cgroup_v2_freeze_dir(const struct berth_cgroup_dir *d, bool frozen, berth_error_t *err)
{
  const char *flag = frozen ? "pause" : "unpause";
  if (berth_cgroup_set_limit(d, "freezer", "cgroup.freeze", frozen ? "1" : "0", flag, err) < 0)
    return -1;
  for (unsigned waited = 0, delay = 1;; waited += delay, delay = delay < 8 ? delay * 2 : delay) {
    cleanup_free char *events = NULL;
    if (berth_cgroup_dir_read(d, "cgroup.events", &events, err) < 0)
      return -1;
    if (berth_cgroup_keyed_value(events, "frozen") == (frozen ? 1 : 0))
      return 0;
    if (waited >= FREEZE_TIMEOUT_MS)
      break;
    berth_cgroup_sleep_ms(delay);
  }
  if (frozen) {
    cleanup_error berth_error_t thaw_err = NULL;
    (void)berth_cgroup_dir_write(d, "cgroup.freeze", "0", &thaw_err);
  }
  return berth_error_set(err, EBUSY, "`%s/%s` does not become %s", d->mount, d->rel, frozen ? "frozen" : "thawed");
}

static int v2_freeze(struct berth_cgroup *cg, bool frozen, berth_error_t *err)
{
  if (!cg->v2 || cg->v2->fd < 0)
    return berth_error_set(err, ENOENT, "cgroup `%s` has no cgroup2 directory", cg->path);
  return berth_cgroup_v2_freeze_dir(cg->v2, frozen, err);
}

static bool v2_can_freeze(struct berth_cgroup *cg)
{
  return cg->v2 && berth_cgroup_dir_has(cg->v2, "cgroup.freeze");
}

const struct berth_cgroup_backend berth_cgroup_backend_v2 = {
    .name = "v2",
    .prepare_level = NULL,
    .apply = v2_apply,
    .oom_killed = v2_oom_killed,
    .freeze = v2_freeze,
    .can_freeze = v2_can_freeze,
};
