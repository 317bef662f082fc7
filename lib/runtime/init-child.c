/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container's init between clone() and execve(): each phase is one call,
 * in the order that keeps it safe (style.md section 1: this file only
 * orchestrates; the work is in rootfs.c, devices.c, user.c, caps.c, exec.c).
 *
 *   wait GO (the parent has put us in our cgroup)
 *   non-dumpable, die with the monitor until exec
 *   join namespaces by path; new cgroup namespace; hostname
 *   stdio; rootfs (overlay, mounts, sysctls); createRuntime (by the parent)
 *   and createContainer hooks; pivot_root; console; /dev/null
 *   for the stdio not given; masks
 *   user, groups, cwd and command resolved inside the root
 *   rlimits, oom score, seccomp compiled; bounding set dropped
 *   seccomp loaded now if no_new_privileges is off (it needs CAP_SYS_ADMIN)
 *   the container's ldconfig when asked (berth.ldconfig)
 *   user switched, capabilities set, every fd close-on-exec
 *   READY (with the pty master) -> wait START -> NNP + seccomp ->
 *   startContainer hooks -> execve */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/close_range.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup.h"
#include "runtime/runtime-internal.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"

static void wait_for(struct child *c, uint32_t type)
{
  struct sync_msg m;
  int r = sync_recv(c->sync_fd, &m, NULL);
  if (r <= 0)
    _exit(1); /* the parent went away */
  if (m.type != type)
    child_fail(c->sync_fd, EPROTO, "unexpected message %u from the runtime", m.type);
}

/* Into the container's cgroup, then the cgroup namespace rooted there.  On
 * v2 (and hybrid's unified hierarchy) init was cloned into it
 * (CLONE_INTO_CGROUP); on v1 it moves itself through each hierarchy's
 * `tasks` file: moving the current thread takes no threadgroup lock, where
 * writing a pid to cgroup.procs waits out an RCU grace period (~10 ms). */
static void enter_cgroup(struct child *c)
{
  berth_error_t err = NULL;
  if (c->cgroup && berth_cgroup_enter_self(c->cgroup, c->cloned_into_cgroup, &err) < 0)
    child_fail(c->sync_fd, err->code, "%s", err->msg);
  for (size_t i = 0; i < c->spec->n_namespaces; i++)
    if (c->spec->namespaces[i].type == CLONE_NEWCGROUP && !c->spec->namespaces[i].path &&
        unshare(CLONE_NEWCGROUP) < 0)
      child_fail(c->sync_fd, errno, "unshare the cgroup namespace");
}

static void join_namespaces(struct child *c)
{
  const struct berth_spec *spec = c->spec;
  for (size_t i = 0; i < spec->n_namespaces; i++) {
    const struct berth_spec_namespace *ns = &spec->namespaces[i];
    if (!ns->path || ns->type == CLONE_NEWPID)
      continue;
    if (ns->type == CLONE_NEWNS)
      child_fail(c->sync_fd, 0, "joining a mount namespace is not supported");
    cleanup_close int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      child_fail(c->sync_fd, errno, "open namespace `%s`", ns->path);
    if (setns(fd, ns->type) < 0)
      child_fail(c->sync_fd, errno, "join namespace `%s`", ns->path);
  }
}

static bool has_new_ns(const struct berth_spec *spec, int type)
{
  for (size_t i = 0; i < spec->n_namespaces; i++)
    if (spec->namespaces[i].type == type && !spec->namespaces[i].path)
      return true;
  return false;
}

static void set_hostname(struct child *c)
{
  const char *h = c->spec->hostname;
  if (!h || !*h)
    return;
  if (!has_new_ns(c->spec, CLONE_NEWUTS))
    child_fail(c->sync_fd, 0, "setting the hostname needs a private UTS namespace");
  if (sethostname(h, strlen(h)) < 0)
    child_fail(c->sync_fd, errno, "sethostname `%s`", h);
}

/* Stdio the caller gives; the others stay for null_stdio() to fill from the
 * container's own /dev/null once the root is in place (a host /dev/null fd
 * would be a handle on a host mount inside the container). */
void child_setup_stdio(struct child *c, const struct berth_runtime_io *io)
{
  if (c->spec->process.terminal)
    return; /* console_setup() gives 0, 1 and 2 the pty */
  int fds[3] = {io->stdin_fd, io->stdout_fd, io->stderr_fd};
  int tmp[3];
  /* dup everything above 2 first so that dup2 cannot clobber a source */
  for (int i = 0; i < 3; i++) {
    tmp[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 3) : -1;
    if (fds[i] >= 0 && tmp[i] < 0)
      child_fail(c->sync_fd, errno, "dup stdio");
  }
  for (int i = 0; i < 3; i++) {
    if (tmp[i] < 0) {
      c->null_stdio |= 1u << i;
      continue;
    }
    if (dup2(tmp[i], i) < 0)
      child_fail(c->sync_fd, errno, "dup2 stdio");
    close(tmp[i]);
  }
}

/* After pivot_root: the stdio nobody gave is the container's /dev/null,
 * which must be the null device (never a symlink or a file of the image). */
void child_null_stdio(struct child *c)
{
  if (!c->null_stdio)
    return;
  cleanup_close int null = open("/dev/null", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (null < 0 || fstat(null, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    child_fail(c->sync_fd, null < 0 ? errno : EINVAL, "/dev/null in the container is not the null device");
  for (int i = 0; i < 3; i++)
    if ((c->null_stdio & (1u << i)) && dup2(null, i) < 0)
      child_fail(c->sync_fd, errno, "dup2 stdio");
}

void child_set_rlimits(struct child *c)
{
  const struct berth_spec_process *p = &c->spec->process;
  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
    if (setrlimit(p->rlimits[i].resource, &rl) < 0)
      child_fail(c->sync_fd, errno, "setrlimit %d (soft %llu, hard %llu)", p->rlimits[i].resource,
                 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
  if (p->has_oom_score_adj) {
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
    cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, (size_t)n) != n)
      child_fail(c->sync_fd, errno, "write oom_score_adj");
  }
}

/* A filter the engine compiled ahead (berth.seccomp.bpf, a host path): read
 * it before pivot_root takes the host's files away. */
void child_read_seccomp(struct child *c)
{
  const char *path = berth_spec_annotation(c->spec, "berth.seccomp.bpf");
  if (!c->spec->seccomp || !path)
    return;
  char *buf = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file_at(AT_FDCWD, path, &buf, &len, &err) < 0)
    child_fail(c->sync_fd, 0, "seccomp: %s", err->msg);
  c->seccomp_bpf = buf;
  c->seccomp_len = len;
}

void child_prepare_seccomp(struct child *c)
{
  const struct berth_spec_seccomp *sc = c->spec->seccomp;
  if (!sc)
    return;
  berth_error_t err = NULL;
  /* the engine compiles filters ahead (berth.seccomp.bpf): init has no compiler */
  if (!c->seccomp_bpf)
    child_fail(c->sync_fd, 0, "seccomp: the spec's filter was not compiled (annotation berth.seccomp.bpf)");
  if (berth_seccomp_flags(sc, &c->seccomp_flags, &err) < 0)
    child_fail(c->sync_fd, 0, "seccomp: %s", err->msg);
}

void child_load_seccomp(struct child *c)
{
  if (!c->seccomp_bpf)
    return;
  berth_error_t err = NULL;
  if (berth_seccomp_load(c->seccomp_bpf, c->seccomp_len, c->seccomp_flags, &err) < 0)
    child_fail(c->sync_fd, err->code, "load seccomp filter: %s", err->msg);
  c->seccomp_bpf = NULL;
}

void child_cloexec_fds(struct child *c)
{
  /* Everything above stdio becomes close-on-exec: the sync socket stays
   * usable until execve (CVE-2024-21626: no fd may reach the command). */
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
  cleanup_dir DIR *d = opendir("/proc/self/fd");
  if (!d)
    child_fail(c->sync_fd, errno, "list open fds");
  for (struct dirent *de; (de = readdir(d));) {
    int fd = atoi(de->d_name);
    if (fd > 2 && fd != dirfd(d))
      (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

static int cmp_int(const void *a, const void *b)
{
  return *(const int *)a - *(const int *)b;
}

/* Close every fd inherited from the monitor but the sync socket and the
 * stdio the container gets: no host directory, lock or status pipe may stay
 * open in init (CVE-2024-21626), nor keep a reader of ours waiting. */
void child_close_inherited(struct child *c, const struct berth_runtime_io *io)
{
  int keep[4] = {c->sync_fd, io->stdin_fd, io->stdout_fd, io->stderr_fd};
  qsort(keep, 4, sizeof *keep, cmp_int);
  unsigned int from = 3;
  for (int i = 0; i < 4; i++) {
    if (keep[i] < (int)from)
      continue;
    if ((unsigned)keep[i] > from)
      (void)syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
    from = (unsigned)keep[i] + 1;
  }
  (void)syscall(SYS_close_range, from, ~0U, 0);
}

/* The command starts with every signal unblocked and at its default action,
 * whatever the monitor had blocked or ignored. */
void child_reset_signals(void)
{
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      (void)signal(sig, SIG_DFL);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

void init_child_main(struct child *c, const struct berth_runtime_io *io)
{
  const struct berth_spec *spec = c->spec;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0)
    _exit(1);
  enter_cgroup(c); /* with the cgroup's directories, before they are closed */
  child_close_inherited(c, io);
  join_namespaces(c);
  set_hostname(c);
  child_setup_stdio(c, io);
  child_read_seccomp(c);
  child_close_inherited(c, &(struct berth_runtime_io){-1, -1, -1});
  rootfs_prepare(c);
  child_create_hooks(c);
  rootfs_pivot(c);
  console_setup(c);
  child_null_stdio(c);
  rootfs_finish(c);
  user_resolve(c, berth_spec_annotation(spec, "berth.user"), berth_spec_annotation(spec, "berth.group-add"));
  exec_make_cwd(c);
  child_set_rlimits(c);
  child_prepare_seccomp(c);
  caps_drop_bounding(c);
  if (!spec->process.no_new_privileges)
    child_load_seccomp(c);
  child_ldconfig(c);
  caps_switch_user(c);
  exec_prepare(c);
  child_cloexec_fds(c);
  struct sync_msg ready = {.type = SYNC_READY};
  if (sync_send(c->sync_fd, &ready, c->console_master) < 0)
    _exit(1);
  if (c->console_master >= 0)
    close_and_reset(&c->console_master);
  wait_for(c, SYNC_START);
  if (spec->process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child_fail(c->sync_fd, errno, "set no_new_privs");
  child_load_seccomp(c);
  child_start_hooks(c); /* confined like the command, as runc runs them */
  child_reset_signals();
  exec_command(c);
}
