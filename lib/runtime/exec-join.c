/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A process joining a running container (docker exec).  The caller (the
 * container's monitor, exec'd from a sealed memfd: CVE-2019-5736) forks it
 * straight into the pid namespace of the container's init; the child then
 *
 *   is non-dumpable and dies with the monitor until exec (CVE-2016-9962)
 *   reads spec.json and the compiled seccomp filter while on the host
 *   moves itself into the container's cgroup (every v1 hierarchy and v2)
 *   joins every other namespace of init at once: setns(pidfd, NS_FLAGS)
 *   closes every inherited fd but its stdio and the sync socket
 *     (CVE-2024-21626: nothing of the host reaches the command)
 *   gets a pty of the container's devpts (-t; the master goes to the
 *     monitor over the sync socket) or the monitor's pipes
 *   applies the container's process settings (init-child.c's phases):
 *     user and groups from the container's files, rlimits, the bounding
 *     set, seccomp, capabilities (inheritable and ambient empty), env, a
 *     working directory checked with getcwd, command lookup; and execs.
 *
 * --privileged gives every capability of the host's bounding set and no
 * seccomp filter; masked and read-only paths stay (docker does the same).
 * The sync socket is close-on-exec: EOF tells the monitor the command runs;
 * a failure arrives as SYNC_ERROR with the 126/127 codes of runtime.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/close_range.h>

#include "base/cleanup.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup.h"
#include "runtime/runtime-internal.h"
#include "runtime/runtime.h"

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

static size_t strv_len(char **v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

/* Set "K=V" in env (n entries, room for one more), replacing K; a bare "K"
 * removes it (moby's ReplaceOrAppendEnvValues). */
static void env_set(char **env, size_t *n, char *kv)
{
  size_t klen = strcspn(kv, "=");
  for (size_t i = 0; i < *n; i++)
    if (strncmp(env[i], kv, klen) == 0 && env[i][klen] == '=') {
      if (kv[klen] == '=') {
        env[i] = kv;
      } else {
        memmove(&env[i], &env[i + 1], (*n - i) * sizeof(*env));
        (*n)--;
      }
      return;
    }
  if (kv[klen] == '=')
    env[(*n)++] = kv;
  env[*n] = NULL;
}

/* The container's environment, TERM=xterm for a terminal (unless set), then the exec's own. */
static char **merge_env(struct child *c, char **base, bool tty, char **over)
{
  size_t n = 0;
  char **env = calloc(strv_len(base) + strv_len(over) + 2, sizeof(char *));
  if (!env)
    child_fail(c->sync_fd, ENOMEM, "environment");
  for (size_t i = 0; base && base[i]; i++)
    env_set(env, &n, base[i]);
  bool has_term = false;
  for (size_t i = 0; i < n; i++)
    has_term = has_term || strncmp(env[i], "TERM=", 5) == 0;
  if (tty && !has_term)
    env_set(env, &n, (char *)"TERM=xterm");
  for (size_t i = 0; over && over[i]; i++)
    env_set(env, &n, over[i]);
  env[n] = NULL;
  return env;
}

static uint64_t bounding_set(void)
{
  uint64_t all = 0;
  int r;
  for (int cap = 0; cap < 64 && (r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++)
    if (r == 1)
      all |= 1ULL << cap;
  return all;
}

/* The container's spec with the exec's command, env, cwd, terminal and privileges. */
static struct berth_spec *exec_spec(struct child *c, int run_dfd, const struct berth_exec_process *x)
{
  berth_error_t err = NULL;
  struct berth_spec *spec = berth_spec_load_at(run_dfd, "spec.json", NULL, &err);
  if (!spec)
    child_fail(c->sync_fd, 0, "read the container's spec: %s", err->msg);
  struct berth_spec_process *p = &spec->process;
  p->args = x->argv;
  p->env = merge_env(c, p->env, x->tty, x->env);
  if (x->cwd && *x->cwd)
    p->cwd = (char *)x->cwd;
  p->terminal = x->tty;
  p->console_rows = x->rows;
  p->console_cols = x->cols;
  p->caps.inheritable = p->caps.ambient = 0;
  if (x->privileged) {
    uint64_t all = bounding_set();
    p->caps.bounding = p->caps.effective = p->caps.permitted = all;
    spec->seccomp = NULL;
  }
  return spec;
}

/* The rest of the container's cgroup (cloned into its v2 directory). */
static void join_cgroup(struct child *c, struct berth_cgroup *cg)
{
  berth_error_t err = NULL;
  if (cg && berth_cgroup_enter_self(cg, true, &err) < 0)
    child_fail(c->sync_fd, err->code, "%s", err->msg);
}

/* -t: a pty of the container's own devpts; the master goes to the monitor. */
static void exec_console(struct child *c)
{
  if (setsid() < 0)
    child_fail(c->sync_fd, errno, "setsid");
  if (!c->spec->process.terminal)
    return;
  cleanup_close int peer = -1;
  cleanup_close int master = console_open(c, &peer);
  if (ioctl(peer, TIOCSCTTY, 0) < 0)
    child_fail(c->sync_fd, errno, "set the controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(peer, i) < 0)
      child_fail(c->sync_fd, errno, "dup2 the terminal");
  struct sync_msg ready = {.type = SYNC_READY};
  if (sync_send(c->sync_fd, &ready, master) < 0)
    _exit(1);
}

__attribute__((noreturn)) static void exec_child(const struct berth_runtime_container *ctr, int run_dfd,
                                                 const struct berth_exec_process *x,
                                                 const struct berth_runtime_io *io, int sync_fd)
{
  struct child c = {.sync_fd = sync_fd, .console_master = -1};
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0)
    _exit(1);
  c.spec = exec_spec(&c, run_dfd, x);
  child_read_seccomp(&c);
  join_cgroup(&c, ctr->cgroup);
  if (setns(ctr->pidfd, NS_FLAGS) < 0)
    child_fail(sync_fd, errno, "join the container's namespaces");
  child_close_inherited(&c, io);
  child_setup_stdio(&c, io);
  child_close_inherited(&c, &(struct berth_runtime_io){-1, -1, -1});
  exec_console(&c);
  child_null_stdio(&c);
  user_resolve(&c, x->user && *x->user ? x->user : berth_spec_annotation(c.spec, "berth.user"),
               berth_spec_annotation(c.spec, "berth.group-add"));
  child_set_rlimits(&c);
  child_prepare_seccomp(&c);
  caps_drop_bounding(&c);
  if (!c.spec->process.no_new_privileges)
    child_load_seccomp(&c);
  caps_switch_user(&c);
  exec_prepare(&c);
  child_cloexec_fds(&c);
  if (c.spec->process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child_fail(sync_fd, errno, "set no_new_privs");
  child_load_seccomp(&c);
  child_reset_signals();
  exec_command(&c);
}

pid_t berth_runtime_exec(const struct berth_runtime_container *c, int run_dfd, int own_pidns,
                         const struct berth_exec_process *x, const struct berth_runtime_io *io, int *ret_sync_fd,
                         berth_error_t *err)
{
  int sv[2];
  if (c->pidfd < 0)
    return berth_error_set_plain(err, ENOSYS, "exec needs pidfd_open (Linux 5.8)");
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return berth_error_set(err, errno, "socketpair");
  /* fork straight into init's pid namespace, then come back to ours */
  if (setns(c->pidfd, CLONE_NEWPID) < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return berth_error_set(err, e, "enter the container's pid namespace");
  }
  pid_t pid = runtime_clone(0, c->cgroup ? berth_cgroup_v2_fd(c->cgroup) : -1);
  if (pid == 0) {
    close(sv[0]);
    exec_child(c, run_dfd, x, io, sv[1]);
  }
  int e = errno;
  if (setns(own_pidns, CLONE_NEWPID) < 0)
    abort(); /* every later child would be born in the container */
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return berth_error_set(err, e, "fork the exec process");
  }
  *ret_sync_fd = sv[0];
  return pid;
}

int berth_runtime_exec_status(int sync_fd, int *ret_console, berth_error_t *err)
{
  struct sync_msg m;
  int fd = -1;
  int r = sync_recv(sync_fd, &m, &fd);
  *ret_console = -1;
  if (r < 0)
    return berth_error_set(err, errno, "read from the exec process");
  if (r == 0)
    return 1;
  if (m.type == SYNC_READY && fd >= 0) {
    *ret_console = fd;
    return 0;
  }
  if (fd >= 0)
    close(fd);
  if (m.type == SYNC_ERROR)
    return berth_error_set_plain(err, m.code, "%s", m.msg);
  return berth_error_set_plain(err, EPROTO, "unexpected message %u from the exec process", m.type);
}
