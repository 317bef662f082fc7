/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parent side of the runtime: clone the container's init into its
 * namespaces and cgroup, relay its setup result, let it exec, clean up. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include "base/cleanup.h"
#include "base/proc.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup.h"
#include "runtime/runtime-internal.h"
#include "runtime/runtime.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int sync_send(int fd, const struct sync_msg *m, int pass_fd)
{
  size_t len = offsetof(struct sync_msg, msg) + strnlen(m->msg, sizeof m->msg) + 1;
  struct iovec iov = {.iov_base = (void *)m, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (pass_fd >= 0) {
    memset(&u, 0, sizeof u);
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
  }
  return TEMP_FAILURE_RETRY(sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 ? -1 : 0;
}

/* Returns 1 with a message, 0 on EOF, -1 on error. */
int sync_recv(int fd, struct sync_msg *m, int *ret_fd)
{
  struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  memset(m, 0, sizeof *m);
  if (ret_fd)
    *ret_fd = -1;
  ssize_t n = TEMP_FAILURE_RETRY(recvmsg(fd, &mh, MSG_CMSG_CLOEXEC));
  if (n <= 0)
    return (int)n;
  if (n < (ssize_t)offsetof(struct sync_msg, msg)) {
    errno = EPROTO;
    return -1;
  }
  m->msg[sizeof m->msg - 1] = '\0';
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      int got;
      memcpy(&got, CMSG_DATA(cm), sizeof got);
      if (ret_fd && *ret_fd < 0)
        *ret_fd = got;
      else
        close(got);
    }
  }
  return 1;
}

#define CHILD_MSG_MAX 900

__attribute__((format(printf, 5, 0))) static void child_failv(int sync_fd, int code, int exit_status, int errnum,
                                                            const char *fmt, va_list ap)
{
  struct sync_msg m = {.type = SYNC_ERROR, .code = code};
  char suffix[160] = "";
  if (errnum)
    snprintf(suffix, sizeof suffix, ": %s", strerror(errnum));
  /* a long message (a 70 000-character path) is cut, the reason kept; the
   * monitor's status line holds 1024 bytes */
  size_t room = CHILD_MSG_MAX - strlen(suffix);
  int n = vsnprintf(m.msg, room, fmt, ap);
  if (n >= 0 && (size_t)n >= room)
    memcpy(m.msg + room - 4, "...", 4);
  strcat(m.msg, suffix);
  (void)sync_send(sync_fd, &m, -1);
  _exit(exit_status);
}

void child_fail(int sync_fd, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  child_failv(sync_fd, errnum ? errnum : EINVAL, 1, errnum, fmt, ap);
  va_end(ap);
  _exit(1);
}

void child_fail_code(int sync_fd, int code, int exit_status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  child_failv(sync_fd, code, exit_status, 0, fmt, ap);
  va_end(ap);
  _exit(exit_status);
}

/* Namespaces to create at clone time (the cgroup one comes later, once init
 * is in its cgroup; joined ones are entered by init itself). */
static int clone_flags(const struct berth_spec *spec, int *ret_pidns_fd, berth_error_t *err)
{
  int flags = 0;
  *ret_pidns_fd = -1;
  for (size_t i = 0; i < spec->n_namespaces; i++) {
    const struct berth_spec_namespace *ns = &spec->namespaces[i];
    if (ns->type == CLONE_NEWUSER)
      return berth_error_set_plain(err, ENOTSUP, "user namespaces are not supported yet");
    if (ns->type == CLONE_NEWPID && ns->path) {
      *ret_pidns_fd = open(ns->path, O_RDONLY | O_CLOEXEC);
      if (*ret_pidns_fd < 0)
        return berth_error_set(err, errno, "open pid namespace `%s`", ns->path);
      continue;
    }
    if (ns->path || ns->type == CLONE_NEWCGROUP)
      continue;
    flags |= ns->type;
  }
  return flags;
}

pid_t runtime_clone(unsigned flags, int cgroup_fd)
{
  struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgroup_fd;
  }
  return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

static pid_t clone_init(int flags, int pidns_fd, int cgroup_fd, berth_error_t *err)
{
  cleanup_close int own = -1;
  if (pidns_fd >= 0) {
    own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own < 0)
      return berth_error_set(err, errno, "open /proc/self/ns/pid");
    if (setns(pidns_fd, CLONE_NEWPID) < 0)
      return berth_error_set(err, errno, "join pid namespace");
  }
  pid_t pid = runtime_clone((unsigned)flags, cgroup_fd);
  if (pid < 0)
    berth_error_set(err, errno, "clone container init");
  if (pid != 0 && own >= 0 && setns(own, CLONE_NEWPID) < 0 && pid > 0)
    berth_error_set(err, errno, "leave pid namespace");
  return pid;
}

/* createRuntime hooks, when init asks (SYNC_HOOKS): its mounts are made,
 * pivot_root is not. */
static int create_runtime_hooks(const struct berth_spec *spec, struct berth_runtime_container *c, berth_error_t *err)
{
  if (runtime_hooks_run(spec, spec->hooks.create_runtime, spec->hooks.n_create_runtime, "createRuntime", "creating",
                        c->pid, err) < 0)
    return -1;
  struct sync_msg done = {.type = SYNC_HOOKS_DONE};
  if (sync_send(c->sync_fd, &done, -1) < 0)
    return berth_error_set(err, errno, "write to container init");
  return 0;
}

static int wait_ready(const struct berth_spec *spec, struct berth_runtime_container *c, berth_error_t *err)
{
  struct sync_msg m;
  int fd = -1;
  int r = sync_recv(c->sync_fd, &m, &fd);
  if (r < 0)
    return berth_error_set(err, errno, "read from container init");
  if (r == 0)
    return berth_error_set_plain(err, EIO, "container init exited during setup");
  if (m.type == SYNC_HOOKS) {
    if (create_runtime_hooks(spec, c, err) < 0)
      return -1;
    return wait_ready(spec, c, err);
  }
  if (m.type == SYNC_ERROR) {
    if (fd >= 0)
      close(fd);
    return berth_error_set_plain(err, m.code, "%s", m.msg);
  }
  if (m.type != SYNC_READY)
    return berth_error_set_plain(err, EPROTO, "unexpected message %u from container init", m.type);
  c->console_fd = fd;
  return 0;
}

static int spawn(const struct berth_spec *spec, const struct berth_runtime_io *io, struct berth_runtime_container *c,
                 berth_error_t *err)
{
  int pidns_fd;
  int flags = clone_flags(spec, &pidns_fd, err);
  if (flags < 0)
    return -1;
  cleanup_close int pidns = pidns_fd;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return berth_error_set(err, errno, "socketpair");
  fflush(NULL);
  int cgroup_fd = c->cgroup ? berth_cgroup_v2_fd(c->cgroup) : -1;
  pid_t pid = clone_init(flags, pidns, cgroup_fd, err);
  if (pid == 0) {
    close(sv[0]);
    struct child ch = {.spec = spec, .sync_fd = sv[1], .console_master = -1, .cgroup = c->cgroup,
                       .cloned_into_cgroup = cgroup_fd >= 0};
    init_child_main(&ch, io);
  }
  close(sv[1]);
  c->sync_fd = sv[0];
  if (pid < 0)
    return -1;
  c->pid = pid;
  if (*err) /* left the pid namespace badly: do not go on */
    return -1;
  c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  (void)berth_proc_stat(pid, NULL, &c->start_time);
  return 0;
}

int berth_runtime_create(const struct berth_spec *spec, const struct berth_runtime_io *io,
                         struct berth_runtime_container **ret, berth_error_t *err)
{
  struct berth_runtime_container *c = calloc(1, sizeof *c);
  if (!c)
    return berth_error_set(err, ENOMEM, "allocate container");
  *c = (struct berth_runtime_container){.pid = -1, .pidfd = -1, .console_fd = -1, .sync_fd = -1};
  /* made first: init is cloned into it, or moves itself in (init-child.c) */
  if (spec->cgroups_path && berth_cgroup_create(spec->cgroups_path, &spec->resources, &c->cgroup, err) < 0)
    goto fail;
  if (spawn(spec, io, c, err) < 0)
    goto fail;
  if (wait_ready(spec, c, err) < 0)
    goto fail;
  c->hooks = runtime_hooks_new(spec);
  *ret = c;
  return 0;
fail:
  if (c->pid > 0) {
    kill(c->pid, SIGKILL);
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
      ;
    c->pid = -1;
  }
  if (c->cgroup)
    berth_cgroup_destroy(c->cgroup, NULL);
  c->cgroup = NULL;
  berth_runtime_container_free(c);
  return -1;
}

int berth_runtime_start(struct berth_runtime_container *c, berth_error_t *err)
{
  struct sync_msg m = {.type = SYNC_START};
  if (c->sync_fd < 0)
    return berth_error_set_plain(err, EALREADY, "container already started");
  int r = sync_send(c->sync_fd, &m, -1);
  if (r == 0)
    r = sync_recv(c->sync_fd, &m, NULL);
  close_and_reset(&c->sync_fd);
  if (r < 0)
    return berth_error_set(err, errno, "start container process");
  if (r > 0 && m.type == SYNC_ERROR)
    return berth_error_set_plain(err, m.code, "%s", m.msg);
  /* EOF: the command was exec'd (the socket is close-on-exec); a failed
   * poststart hook fails the start, as with runc */
  return runtime_hooks_run_saved(c->hooks, true, c->pid, err);
}

/* poststop hooks run once the cgroup is gone, also when that failed. */
int berth_runtime_delete(struct berth_runtime_container *c, berth_error_t *err)
{
  int r = 0;
  if (c->cgroup)
    r = berth_cgroup_destroy(c->cgroup, err);
  c->cgroup = NULL;
  berth_error_t hook_err = NULL;
  if (runtime_hooks_run_saved(c->hooks, false, c->pid, r < 0 ? &hook_err : err) < 0)
    r = -1;
  berth_error_release(&hook_err);
  runtime_hooks_free(c->hooks);
  c->hooks = NULL;
  return r;
}

void berth_runtime_container_free(struct berth_runtime_container *c)
{
  if (!c)
    return;
  close_and_reset(&c->sync_fd);
  close_and_reset(&c->pidfd);
  close_and_reset(&c->console_fd);
  if (c->cgroup)
    berth_cgroup_free(c->cgroup);
  runtime_hooks_free(c->hooks);
  free(c);
}

int berth_runtime_exit_code(int wstatus)
{
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus))
    return 128 + WTERMSIG(wstatus);
  return 255;
}
