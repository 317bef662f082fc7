/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container cgroups against the real kernel: each test makes a cgroup below
 * its own ("berth-test-<pid>-<n>"), puts forked children in it and checks
 * what the kernel does (limits read back, pids refused, an OOM kill seen,
 * kill, freeze, destroy).  The suite's .fini kills the children and removes
 * the cgroup even when a test fails.  Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup-internal.h"

#define MIB (1024 * 1024LL)

static struct berth_cgroup *g_cg;
static char g_name[128];
static char g_outer[96]; /* a parent the test made itself, removed last */
static pid_t g_children[8];
static size_t g_n_children;

/* ------------------------------------------------------------------ helpers */

static void setup(void)
{
  static int counter;
  snprintf(g_name, sizeof(g_name), "berth-test-%d-%d", (int)getpid(), counter++);
}

static void teardown(void)
{
  cleanup_error berth_error_t err = NULL;
  for (size_t i = 0; i < g_n_children; i++) {
    (void)kill(g_children[i], SIGKILL);
    (void)waitpid(g_children[i], NULL, 0);
  }
  g_n_children = 0;
  if (g_cg || berth_cgroup_open(g_name, &g_cg, &err) == 0) {
    if (berth_cgroup_destroy(g_cg, &err) < 0)
      fprintf(stderr, "teardown: %s\n", err->msg);
    berth_cgroup_free(g_cg);
    g_cg = NULL;
  }
  berth_error_release(&err);
  if (g_outer[0] && berth_cgroup_open(g_outer, &g_cg, &err) == 0) {
    if (berth_cgroup_destroy(g_cg, &err) < 0)
      fprintf(stderr, "teardown: %s\n", err->msg);
    berth_cgroup_free(g_cg);
    g_cg = NULL;
  }
}

TestSuite(cgroup_sys, .init = setup, .fini = teardown, .timeout = 60);

static void need_root(void)
{
  if (geteuid() != 0) {
    teardown();
    cr_skip_test("cgroup tests need root");
  }
}

static struct berth_spec_resources no_limits(void)
{
  return (struct berth_spec_resources){
      .memory_limit = BERTH_SPEC_UNSET, .memory_reservation = BERTH_SPEC_UNSET, .memory_swap = BERTH_SPEC_UNSET,
      .memory_swappiness = BERTH_SPEC_UNSET, .cpu_shares = BERTH_SPEC_UNSET, .cpu_quota = BERTH_SPEC_UNSET,
      .cpu_period = BERTH_SPEC_UNSET, .pids_limit = BERTH_SPEC_UNSET, .blkio_weight = BERTH_SPEC_UNSET,
  };
}

static void create(const struct berth_spec_resources *res)
{
  cleanup_error berth_error_t err = NULL;
  need_root();
  cr_assert_eq(berth_cgroup_create(g_name, res, &g_cg, &err), 0, "%s", err ? err->msg : "");
}

static bool is_v2(void)
{
  return berth_cgroup_layout() == BERTH_CGROUP_V2;
}

/* Our own cgroup for `controller` from /proc/self/cgroup, read here
 * independently of the library: "" (the v2 line) or "memory". */
static char *own_path(const char *controller)
{
  cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  cr_assert_not_null(f);
  while (getline(&line, &cap, f) >= 0) {
    char *c1 = strchr(line, ':'), *c2 = strchr(c1 + 1, ':');
    *c2 = '\0';
    c2[strcspn(c2 + 1, "\n") + 1] = '\0';
    if (strcmp(c1 + 1, controller) == 0)
      return strdup(c2 + 1);
  }
  cr_assert_fail("no `%s` line in /proc/self/cgroup", controller);
  return NULL;
}

/* /sys/fs/cgroup/<hierarchy>/<own>/<name>/<file> (<hierarchy> is empty on v2). */
static char *cg_file(const char *controller, const char *name, const char *file)
{
  cleanup_free char *own = own_path(is_v2() ? "" : controller);
  const char *mnt = is_v2() ? "" : !*controller ? "unified" : strncmp(controller, "name=", 5) == 0 ? controller + 5
                                                                                              : controller;
  char *p = NULL;
  cr_assert_gt(asprintf(&p, "/sys/fs/cgroup/%s%s/%s/%s", mnt, own, name, file), 0);
  return p;
}

static char *read_text(const char *path)
{
  char buf[4096];
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
  n = read(fd, buf, sizeof(buf) - 1);
  cr_assert_geq(n, 0, "read %s: %s", path, strerror(errno));
  buf[n] = '\0';
  if (n > 0 && buf[n - 1] == '\n')
    buf[n - 1] = '\0';
  return strdup(buf);
}

static void expect_file(const char *controller, const char *file, const char *want)
{
  cleanup_free char *path = cg_file(controller, g_name, file);
  cleanup_free char *got = read_text(path);
  cr_expect_str_eq(got, want, "%s: `%s`, want `%s`", path, got, want);
}

/* Fork a child that waits on a pipe until we put it in the cgroup, then
 * runs fn and exits with its result. */
static pid_t spawn(int (*fn)(void *), void *arg)
{
  int p[2];
  pid_t pid;
  char c = 0;
  cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
  pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    /* a container's init moves itself in, as this child does */
    close(p[0]);
    c = berth_cgroup_enter_self(g_cg, false, NULL) == 0;
    if (write(p[1], &c, 1) != 1 || !c)
      _exit(100);
    close(p[1]);
    _exit(fn(arg));
  }
  close(p[1]);
  g_children[g_n_children++] = pid;
  cr_assert_eq(read(p[0], &c, 1), 1);
  cr_assert_eq(c, 1, "the child could not move itself into the cgroup");
  close(p[0]);
  return pid;
}

static int wait_child(pid_t pid)
{
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  for (size_t i = 0; i < g_n_children; i++)
    if (g_children[i] == pid)
      g_children[i] = g_children[--g_n_children];
  return status;
}

static int child_pause(void *arg)
{
  for (;;)
    pause();
  return 0;
}

static size_t n_pids(void)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  cr_assert_eq(berth_cgroup_pids(g_cg, &pids, &n, &err), 0, "%s", err ? err->msg : "");
  return n;
}

static bool path_exists(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0;
}

/* ------------------------------------------------------------- pure logic */

Test(cgroup, shares_convert_to_weight)
{
  cr_expect_eq(berth_cgroup_shares_to_weight(2), 1);
  cr_expect_eq(berth_cgroup_shares_to_weight(1024), 39);
  cr_expect_eq(berth_cgroup_shares_to_weight(262144), 10000);
  cr_expect_eq(berth_cgroup_shares_to_weight(0), 1, "below the v1 minimum clamps");
}

Test(cgroup, keyed_values_parse)
{
  const char *text = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
  cr_expect_eq(berth_cgroup_keyed_value(text, "oom_kill"), 3);
  cr_expect_eq(berth_cgroup_keyed_value(text, "under_oom"), 0);
  cr_expect_eq(berth_cgroup_keyed_value(text, "oom"), -1);
  cr_expect_eq(berth_cgroup_keyed_value("", "oom_kill"), -1);
}

Test(cgroup, layout_matches_the_mounts)
{
  enum berth_cgroup_layout want = BERTH_CGROUP_V1;
  if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
    want = BERTH_CGROUP_V2;
  else if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
    want = BERTH_CGROUP_HYBRID;
  cr_expect_eq(berth_cgroup_layout(), want);
}

Test(cgroup, bad_paths_are_refused)
{
  const char *bad[] = {"", "/", "../escape", "a/../../b", "a/./b", NULL};
  for (size_t i = 0; bad[i]; i++) {
    cleanup_error berth_error_t err = NULL;
    struct berth_cgroup *cg = NULL;
    cr_expect_lt(berth_cgroup_create(bad[i], NULL, &cg, &err), 0, "`%s` accepted", bad[i]);
    cr_expect_null(cg);
    cr_expect(err && err->code == EINVAL, "`%s`: %s", bad[i], err ? err->msg : "no error");
  }
}

Test(cgroup, mounts_list_every_hierarchy)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **opts = NULL;
  cleanup_strv char **names = NULL;
  bool memory = false, v2 = false;
  cr_assert_eq(berth_cgroup_mounts(&opts, &names, &err), 0, "%s", err ? err->msg : "");
  for (size_t i = 0; opts[i]; i++) {
    cr_assert_not_null(names[i]);
    if (strcmp(opts[i], "cgroup:memory") == 0) {
      memory = true;
      cr_expect_str_eq(names[i], "memory");
    }
    if (strcmp(opts[i], "cgroup2:") == 0) {
      v2 = true;
      cr_expect_str_eq(names[i], berth_cgroup_layout() == BERTH_CGROUP_V2 ? "" : "unified");
    }
  }
  cr_expect_eq(memory, berth_cgroup_layout() != BERTH_CGROUP_V2 && access("/sys/fs/cgroup/memory", F_OK) == 0);
  cr_expect_eq(v2, berth_cgroup_layout() != BERTH_CGROUP_V1);
}

/* ------------------------------------------------------------ real cgroups */

Test(cgroup_sys, limits_are_written)
{
  struct berth_spec_resources res = no_limits();
  res.memory_limit = 64 * MIB;
  res.memory_swap = 128 * MIB;
  res.memory_reservation = 32 * MIB;
  res.pids_limit = 20;
  res.cpu_shares = 512;
  res.cpu_quota = 50000;
  res.cpu_period = 100000;
  res.cpuset_cpus = (char *)"0";
  res.cpuset_mems = (char *)"0";
  if (!is_v2())
    res.memory_swappiness = 10;
  create(&res);
  if (is_v2()) {
    expect_file("", "memory.max", "67108864");
    expect_file("", "memory.swap.max", "67108864");
    expect_file("", "memory.low", "33554432");
    expect_file("", "pids.max", "20");
    expect_file("", "cpu.weight", "20");
    expect_file("", "cpu.max", "50000 100000");
    expect_file("", "cpuset.cpus", "0");
    expect_file("", "cpuset.mems", "0");
    return;
  }
  expect_file("memory", "memory.limit_in_bytes", "67108864");
  if (access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
    expect_file("memory", "memory.memsw.limit_in_bytes", "134217728");
  expect_file("memory", "memory.soft_limit_in_bytes", "33554432");
  expect_file("memory", "memory.swappiness", "10");
  expect_file("pids", "pids.max", "20");
  expect_file("cpu", "cpu.shares", "512");
  expect_file("cpu", "cpu.cfs_quota_us", "50000");
  expect_file("cpu", "cpu.cfs_period_us", "100000");
  expect_file("cpuset", "cpuset.cpus", "0");
  expect_file("cpuset", "cpuset.mems", "0");
}

Test(cgroup_sys, unset_limits_stay_default)
{
  struct berth_spec_resources res = no_limits();
  create(&res);
  if (is_v2()) {
    expect_file("", "pids.max", "max");
    return;
  }
  expect_file("pids", "pids.max", "max");
  expect_file("cpu", "cpu.cfs_quota_us", "-1");
  expect_file("memory", "memory.limit_in_bytes", "9223372036854771712");
}

Test(cgroup_sys, memory_and_swap_rise_and_fall_in_order)
{
  struct berth_spec_resources res = no_limits();
  cleanup_error berth_error_t err = NULL;
  const char *memsw = is_v2() ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
  res.memory_limit = 64 * MIB;
  res.memory_swap = 128 * MIB;
  create(&res);
  if (!is_v2() && access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) != 0)
    cr_skip_test("no swap accounting on this kernel: nothing to order");
  /* Raising memory above the old memory+swap works only with memsw first. */
  res.memory_limit = 256 * MIB;
  res.memory_swap = 512 * MIB;
  cr_assert_eq(berth_cgroup_update(g_cg, &res, &err), 0, "%s", err ? err->msg : "");
  expect_file(is_v2() ? "" : "memory", is_v2() ? "memory.max" : "memory.limit_in_bytes", "268435456");
  expect_file(is_v2() ? "" : "memory", memsw, is_v2() ? "268435456" : "536870912");
  /* Lowering memsw below the old memory limit works only with memory first. */
  res.memory_limit = 16 * MIB;
  res.memory_swap = 32 * MIB;
  cr_assert_eq(berth_cgroup_update(g_cg, &res, &err), 0, "%s", err ? err->msg : "");
  expect_file(is_v2() ? "" : "memory", is_v2() ? "memory.max" : "memory.limit_in_bytes", "16777216");
  expect_file(is_v2() ? "" : "memory", memsw, is_v2() ? "16777216" : "33554432");
  /* Unlimited both ways. */
  res.memory_limit = -1;
  res.memory_swap = -1;
  cr_assert_eq(berth_cgroup_update(g_cg, &res, &err), 0, "%s", err ? err->msg : "");
  expect_file(is_v2() ? "" : "memory", memsw, is_v2() ? "max" : "9223372036854771712");
}

Test(cgroup_sys, swap_below_memory_is_refused)
{
  struct berth_spec_resources res = no_limits();
  cleanup_error berth_error_t err = NULL;
  res.memory_limit = 64 * MIB;
  res.memory_swap = 32 * MIB;
  need_root();
  cr_assert_lt(berth_cgroup_create(g_name, &res, &g_cg, &err), 0);
  cr_assert_null(g_cg);
  cr_expect_eq(err->code, EINVAL);
  cr_expect(strstr(err->msg, "--memory-swap") != NULL, "%s", err->msg);
  /* The failed create took its directory away again. */
  cr_expect(!path_exists(cg_file(is_v2() ? "" : "memory", g_name, "")), "cgroup left behind");
}

Test(cgroup_sys, missing_file_names_the_limit)
{
  struct berth_cgroup_dir *mem;
  cleanup_error berth_error_t err = NULL;
  create(NULL);
  mem = is_v2() ? g_cg->v2 : berth_cgroup_find(g_cg, "memory");
  cr_assert_not_null(mem, "no memory hierarchy here");
  /* A memsw file on a kernel without swap accounting looks like this. */
  cr_assert_lt(berth_cgroup_set_limit(mem, "memory", "memory.no_such_limit", "1", "--memory-swap", &err), 0);
  cr_expect_eq(err->code, EOPNOTSUPP);
  cr_expect(strncmp(err->msg, "--memory-swap needs the memory cgroup controller", 48) == 0, "%s", err->msg);
  cr_expect(strstr(err->msg, "memory.no_such_limit") != NULL, "%s", err->msg);
  berth_error_release(&err);
  cr_assert_null(berth_cgroup_find(g_cg, "no_such_controller"));
  cr_assert_lt(berth_cgroup_set_limit(NULL, "rdma", "rdma.max", "1", "--rdma", &err), 0);
  cr_expect_str_eq(err->msg, "--rdma needs the rdma cgroup controller");
}

Test(cgroup_sys, children_land_in_every_hierarchy)
{
  cleanup_fclose FILE *f = NULL;
  cleanup_free char *line = NULL;
  cleanup_free char *suffix = NULL;
  char proc[64];
  size_t cap = 0, lines = 0;
  pid_t pid;
  create(NULL);
  pid = spawn(child_pause, NULL);
  cr_assert_gt(asprintf(&suffix, "/%s\n", g_name), 0);
  snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int)pid);
  f = fopen(proc, "re");
  cr_assert_not_null(f);
  while (getline(&line, &cap, f) >= 0) {
    size_t n = strlen(line), m = strlen(suffix);
    cr_expect(n > m && strcmp(line + n - m, suffix) == 0, "child not in our cgroup: %s", line);
    lines++;
  }
  cr_expect_gt(lines, 0);
  {
    cleanup_error berth_error_t err = NULL;
    cleanup_free pid_t *pids = NULL;
    size_t n = 0;
    cr_assert_eq(berth_cgroup_pids(g_cg, &pids, &n, &err), 0, "%s", err ? err->msg : "");
    cr_assert_eq(n, 1);
    cr_expect_eq(pids[0], pid);
  }
}

Test(cgroup_sys, nested_path_copies_cpuset_down)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_cgroup *parent = NULL;
  need_root();
  snprintf(g_outer, sizeof(g_outer), "%.64s", g_name);
  snprintf(g_name, sizeof(g_name), "%s/inner", g_outer);
  create(NULL);
  if (!is_v2() && access("/sys/fs/cgroup/cpuset", F_OK) == 0) {
    cleanup_free char *top = read_text("/sys/fs/cgroup/cpuset/cpuset.cpus");
    expect_file("cpuset", "cpuset.cpus", top);
  }
  (void)spawn(child_pause, NULL);
  cr_expect_eq(n_pids(), 1, "a child joins the nested cgroup");
  cr_assert_eq(berth_cgroup_destroy(g_cg, &err), 0, "%s", err ? err->msg : "");
  berth_cgroup_free(g_cg);
  g_cg = NULL;
  cr_assert_eq(berth_cgroup_open(g_outer, &parent, &err), 0, "%s", err ? err->msg : "");
  cr_expect_eq(berth_cgroup_destroy(parent, &err), 0, "%s", err ? err->msg : "");
  berth_cgroup_free(parent);
  g_outer[0] = '\0';
}

static int child_forks(void *arg)
{
  int refused = 0;
  for (int i = 0; i < 10; i++) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    if (p < 0 && errno == EAGAIN)
      refused++;
  }
  /* limit 4: we and three children fit, the other seven forks fail. */
  return refused == 7 ? 0 : 1;
}

Test(cgroup_sys, pids_limit_refuses_forks)
{
  struct berth_spec_resources res = no_limits();
  pid_t pid;
  int status;
  res.pids_limit = 4;
  create(&res);
  pid = spawn(child_forks, NULL);
  status = wait_child(pid);
  cr_assert(WIFEXITED(status), "child died: %d", status);
  cr_expect_eq(WEXITSTATUS(status), 0, "forks were not refused as expected");
  cr_expect_eq(n_pids(), 3, "the three grandchildren stay until destroy");
}

static int child_eats_memory(void *arg)
{
  size_t size = 64 * MIB;
  char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 2;
  for (size_t i = 0; i < size; i += 4096)
    p[i] = 1;
  return 0;
}

Test(cgroup_sys, oom_kill_is_seen)
{
  struct berth_spec_resources res = no_limits();
  pid_t pid;
  int status;
  res.memory_limit = 8 * MIB;
  res.memory_swap = 8 * MIB;
  create(&res);
  cr_expect(!berth_cgroup_oom_killed(g_cg), "no OOM yet");
  pid = spawn(child_eats_memory, NULL);
  status = wait_child(pid);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child was not OOM-killed: status %d", status);
  cr_expect(berth_cgroup_oom_killed(g_cg));
}

Test(cgroup_sys, kill_reaches_every_process)
{
  cleanup_error berth_error_t err = NULL;
  pid_t a, b;
  int status;
  create(NULL);
  a = spawn(child_pause, NULL);
  b = spawn(child_pause, NULL);
  cr_assert_eq(berth_cgroup_kill(g_cg, SIGTERM, &err), 0, "%s", err ? err->msg : "");
  status = wait_child(a);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status %d", status);
  status = wait_child(b);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status %d", status);
  a = spawn(child_pause, NULL);
  cr_assert_eq(berth_cgroup_kill(g_cg, SIGKILL, &err), 0, "%s", err ? err->msg : "");
  status = wait_child(a);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
}

/* Pure v1 has no cgroup.kill: hide the unified directory to take that path
 * (freeze, signal each pid, thaw) on a hybrid host too. */
Test(cgroup_sys, kill_without_cgroup_kill_freezes_first)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_cgroup_dir *v2;
  pid_t a, b;
  int status;
  create(NULL);
  if (is_v2() || !berth_cgroup_find(g_cg, "freezer")) {
    teardown();
    cr_skip_test("needs the v1 freezer");
  }
  a = spawn(child_pause, NULL);
  b = spawn(child_pause, NULL);
  v2 = steal_ptr(&g_cg->v2);
  cr_expect_eq(berth_cgroup_kill(g_cg, SIGKILL, &err), 0, "%s", err ? err->msg : "");
  g_cg->v2 = v2;
  status = wait_child(a);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
  status = wait_child(b);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
  expect_file("freezer", "freezer.state", "THAWED");
}

static int child_spins(void *arg)
{
  volatile unsigned long *counter = arg;
  for (;;)
    (*counter)++;
  return 0;
}

static unsigned long progress(volatile unsigned long *counter)
{
  unsigned long before = *counter;
  usleep(50 * 1000);
  return *counter - before;
}

Test(cgroup_sys, freeze_stops_and_thaw_resumes)
{
  cleanup_error berth_error_t err = NULL;
  volatile unsigned long *counter;
  create(NULL);
  counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq((void *)counter, MAP_FAILED);
  (void)spawn(child_spins, (void *)counter);
  cr_expect_gt(progress(counter), 0, "child does not run");
  cr_assert_eq(berth_cgroup_freeze(g_cg, true, &err), 0, "%s", err ? err->msg : "");
  if (berth_cgroup_find(g_cg, "freezer"))
    expect_file("freezer", "freezer.state", "FROZEN");
  cr_expect_eq(progress(counter), 0, "frozen child still runs");
  cr_assert_eq(berth_cgroup_freeze(g_cg, false, &err), 0, "%s", err ? err->msg : "");
  if (berth_cgroup_find(g_cg, "freezer"))
    expect_file("freezer", "freezer.state", "THAWED");
  cr_expect_gt(progress(counter), 0, "thawed child does not run");
}

Test(cgroup_sys, destroy_kills_and_removes_everything)
{
  cleanup_error berth_error_t err = NULL;
  const char *ctl[] = {"memory", "pids", "cpu", "cpuset", "freezer", "devices", "name=systemd", "", NULL};
  pid_t a;
  int status;
  create(NULL);
  a = spawn(child_pause, NULL);
  (void)spawn(child_pause, NULL);
  cr_assert_eq(berth_cgroup_freeze(g_cg, true, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq(berth_cgroup_destroy(g_cg, &err), 0, "%s", err ? err->msg : "");
  status = wait_child(a);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
  for (size_t i = 0; ctl[i]; i++) {
    cleanup_free char *dir = NULL;
    if (is_v2() && *ctl[i])
      continue;
    dir = cg_file(ctl[i], g_name, "");
    cr_expect(!path_exists(dir), "%s is left", dir);
  }
  berth_cgroup_free(g_cg);
  g_cg = NULL;
  cr_expect_lt(berth_cgroup_open(g_name, &g_cg, &err), 0, "opened a destroyed cgroup");
  cr_expect_eq(err ? err->code : 0, ENOENT);
}

Test(cgroup_sys, open_finds_a_live_cgroup)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_cgroup *again = NULL;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  pid_t pid;
  create(NULL);
  pid = spawn(child_pause, NULL);
  cr_assert_eq(berth_cgroup_open(g_name, &again, &err), 0, "%s", err ? err->msg : "");
  cr_expect_eq(berth_cgroup_pids(again, &pids, &n, &err), 0);
  cr_expect_eq(n, 1);
  cr_expect_eq(n ? pids[0] : 0, pid);
  cr_expect_eq(berth_cgroup_v2_fd(again) >= 0, berth_cgroup_layout() != BERTH_CGROUP_V1, "a unified directory on v2 and hybrid");
  berth_cgroup_free(again);
}

Test(cgroup_sys, device_rules_replace_the_default)
{
  struct berth_spec_resources res = no_limits();
  struct berth_spec_device_rule rules[] = {
      {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
      {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
      {.allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rw"},
  };
  need_root();
  if (is_v2()) {
    teardown();
    cr_skip_test("device rules on cgroup v2 (eBPF) are not implemented");
  }
  res.devices = rules;
  res.n_devices = 3;
  create(&res);
  expect_file("devices", "devices.list", "c 1:3 rwm\nc 136:* rw");
}

Test(cgroup_sys, no_fd_is_leaked)
{
  cleanup_error berth_error_t err = NULL;
  size_t before, after;
  need_root();
  {
    cleanup_dir DIR *d = opendir("/proc/self/fd");
    before = 0;
    while (readdir(d))
      before++;
  }
  cr_assert_eq(berth_cgroup_create(g_name, NULL, &g_cg, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq(berth_cgroup_destroy(g_cg, &err), 0, "%s", err ? err->msg : "");
  berth_cgroup_free(g_cg);
  g_cg = NULL;
  {
    cleanup_dir DIR *d = opendir("/proc/self/fd");
    after = 0;
    while (readdir(d))
      after++;
  }
  cr_expect_eq(after, before);
}

/* ------------------------------------- the v2 backend on the unified mount */

/* On a hybrid host the unified hierarchy has (almost) no controllers, but
 * processes, cgroup.kill, cgroup.freeze and device programs work there. */
static void create_v2(const struct berth_spec_resources *res)
{
  cleanup_error berth_error_t err = NULL;
  need_root();
  if (berth_cgroup_layout() == BERTH_CGROUP_V1) {
    teardown();
    cr_skip_test("no cgroup2 hierarchy on this host");
  }
  cr_assert_eq(berth_cgroup_create_on(BERTH_CGROUP_V2, g_name, res, &g_cg, &err), 0, "%s", err ? err->msg : "");
}

static const char *v2_line_of(pid_t pid)
{
  static char line[512];
  char proc[64];
  cleanup_fclose FILE *f = NULL;
  snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int)pid);
  f = fopen(proc, "re");
  cr_assert_not_null(f);
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "0::", 3) == 0)
      return line;
  return "";
}

Test(cgroup_sys, v2_backend_enters_freezes_and_kills)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_free char *want = NULL;
  volatile unsigned long *counter;
  pid_t pid;
  int status;
  create_v2(NULL);
  cr_expect_geq(berth_cgroup_v2_fd(g_cg), 0, "a v2 cgroup has an fd for CLONE_INTO_CGROUP");
  counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq((void *)counter, MAP_FAILED);
  pid = spawn(child_spins, (void *)counter);
  cr_assert_gt(asprintf(&want, "/%s\n", g_name), 0);
  cr_expect(strstr(v2_line_of(pid), want) != NULL, "child's v2 line: %s", v2_line_of(pid));
  cr_expect_eq(n_pids(), 1);
  cr_assert_eq(berth_cgroup_freeze(g_cg, true, &err), 0, "%s", err ? err->msg : "");
  cr_expect_eq(progress(counter), 0, "frozen child still runs");
  cr_assert_eq(berth_cgroup_freeze(g_cg, false, &err), 0, "%s", err ? err->msg : "");
  cr_expect_gt(progress(counter), 0, "thawed child does not run");
  cr_assert_eq(berth_cgroup_kill(g_cg, SIGKILL, &err), 0, "%s", err ? err->msg : "");
  status = wait_child(pid);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
  cr_assert_eq(berth_cgroup_destroy(g_cg, &err), 0, "%s", err ? err->msg : "");
  cr_expect(!path_exists(cg_file("", g_name, "")), "v2 directory left");
}

Test(cgroup_sys, v2_missing_controller_names_the_limit)
{
  struct berth_spec_resources res = no_limits();
  cleanup_error berth_error_t err = NULL;
  cleanup_free char *avail = NULL;
  need_root();
  if (berth_cgroup_layout() != BERTH_CGROUP_HYBRID)
    cr_skip_test("needs a hybrid host, whose unified hierarchy lacks the memory controller");
  avail = read_text("/sys/fs/cgroup/unified/cgroup.controllers");
  if (strstr(avail, "memory"))
    cr_skip_test("this unified hierarchy has the memory controller");
  res.memory_limit = 64 * MIB;
  cr_assert_lt(berth_cgroup_create_on(BERTH_CGROUP_V2, g_name, &res, &g_cg, &err), 0);
  cr_expect_eq(err->code, EOPNOTSUPP);
  cr_expect(strstr(err->msg, "--memory needs the memory cgroup controller") != NULL, "%s", err->msg);
  cr_expect(!path_exists(cg_file("", g_name, "")), "failed create left its directory");
}

struct open_check {
  const char *path;
  int flags;
  int want_errno; /* 0: the open must work */
};

static int child_opens(void *arg)
{
  const struct open_check *c = arg;
  for (int i = 0; c[i].path; i++) {
    int fd = open(c[i].path, c[i].flags | O_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0)
      close(fd);
    if (e != c[i].want_errno)
      return 10 + i;
  }
  return 0;
}

static void expect_opens(const struct open_check *checks)
{
  int status = wait_child(spawn(child_opens, (void *)checks));
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "open check %d failed (status %d)",
            WIFEXITED(status) ? WEXITSTATUS(status) - 10 : -1, status);
}

static uint32_t device_progs(void)
{
  union bpf_attr attr;
  uint32_t ids[8];
  memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = (uint32_t)g_cg->v2->fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = 8;
  cr_assert_eq(syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)), 0, "query: %s", strerror(errno));
  return attr.query.prog_cnt;
}

Test(cgroup_sys, v2_device_program_filters_and_is_replaced)
{
  struct berth_spec_resources res = no_limits();
  cleanup_error berth_error_t err = NULL;
  struct berth_spec_device_rule first[] = {
      {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
      {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"}, /* /dev/null */
      {.allow = true, .type = 'c', .major = 1, .minor = -1, .access = "r"},
      {.allow = false, .type = 'c', .major = 1, .minor = 8, .access = "rwm"}, /* /dev/random */
  };
  struct berth_spec_device_rule second[] = {
      {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
      {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "r"}, /* /dev/zero */
  };
  const struct open_check before[] = {
      {"/dev/null", O_RDWR, 0},        {"/dev/zero", O_RDONLY, 0}, {"/dev/zero", O_WRONLY, EPERM},
      {"/dev/random", O_RDONLY, EPERM}, {"/dev/tty", O_RDWR, EPERM}, {NULL, 0, 0},
  };
  const struct open_check after[] = {
      {"/dev/zero", O_RDONLY, 0}, {"/dev/zero", O_RDWR, EPERM}, {"/dev/null", O_RDONLY, EPERM}, {NULL, 0, 0},
  };
  res.devices = first;
  res.n_devices = 4;
  create_v2(&res);
  cr_expect_eq(device_progs(), 1);
  expect_opens(before);
  res.devices = second;
  res.n_devices = 2;
  cr_assert_eq(berth_cgroup_update(g_cg, &res, &err), 0, "%s", err ? err->msg : "");
  cr_expect_eq(device_progs(), 1, "the old program is detached");
  expect_opens(after);
}
