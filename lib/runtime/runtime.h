/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The low-level runtime: turn a parsed OCI spec into a process in its own
 * namespaces, cgroup and root, stopped just before execve() until started.
 *
 *   berth_runtime_create()  clone init, join/make namespaces, cgroup, rootfs,
 *                           pivot_root, mounts, devices, user, caps, rlimits,
 *                           resolve the command; init then waits.
 *   berth_runtime_start()   init loads seccomp and execs the command.
 *
 * The caller (the monitor) is init's parent and reaps it.  Errors raised in
 * the child come back verbatim in *err; command lookup failures carry the
 * codes below so that callers can exit 126/127 like docker. */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include <berth/error.h>

struct berth_spec;
struct berth_cgroup;

/* berth_error codes (plain) for the exit-code table. */
#define BERTH_ERR_CMD_NOT_FOUND 10127 /* exit 127: no such file / not in $PATH */
#define BERTH_ERR_CMD_CANNOT_INVOKE 10126 /* exit 126: permission denied, is a directory, exec format */

struct berth_runtime_io {
  /* The container's fds 0, 1 and 2 when !process.terminal; -1 means /dev/null. */
  int stdin_fd, stdout_fd, stderr_fd;
};

struct berth_runtime_container {
  pid_t pid;              /* init, in the caller's pid namespace */
  int pidfd;              /* -1 where pidfd_open is missing */
  int console_fd;         /* pty master when process.terminal, else -1 */
  unsigned long long start_time; /* init's start time (proc stat field 22) */
  struct berth_cgroup *cgroup;   /* NULL when the spec asks for none */
  int sync_fd;            /* private */
  struct runtime_hooks *hooks;   /* private: poststart and poststop */
};

int berth_runtime_create(const struct berth_spec *spec, const struct berth_runtime_io *io,
                         struct berth_runtime_container **ret, berth_error_t *err);
/* Let init exec the command, then run the poststart hooks.  Returns the
 * execve error (126/127 codes) if it failed, or the failed hook's. */
int berth_runtime_start(struct berth_runtime_container *c, berth_error_t *err);
/* Kill whatever is left in the container's cgroup and remove the cgroup;
 * then the poststop hooks. */
int berth_runtime_delete(struct berth_runtime_container *c, berth_error_t *err);
/* Close fds and free; does not signal anything. */
void berth_runtime_container_free(struct berth_runtime_container *c);

/* ---- exec-join.c: a process joining a running container (docker exec) ---- */

struct berth_exec_process {
  char **argv;      /* the command, NULL-terminated */
  char **env;       /* "K=V" set over the container's, a bare "K" removes it; may be NULL */
  const char *user; /* NULL or "": the container's */
  const char *cwd;  /* NULL or "": the container's */
  bool tty, privileged;
  unsigned short rows, cols; /* the terminal's first size; 0: none */
};

/* Fork x into the running container c (init's namespaces through c->pidfd,
 * c->cgroup) with the process settings of run_dfd/spec.json.  io: stdio when
 * !x->tty (-1: the container's /dev/null); own_pidns: an fd on the caller's
 * pid namespace, which it returns to.  Returns the pid, a child of the
 * caller, with *ret_sync_fd (close-on-exec) to read its progress from. */
pid_t berth_runtime_exec(const struct berth_runtime_container *c, int run_dfd, int own_pidns,
                         const struct berth_exec_process *x, const struct berth_runtime_io *io, int *ret_sync_fd,
                         berth_error_t *err);
/* One report of the exec process (call when sync_fd is readable): 1 the
 * command runs (the socket closed on execve), 0 *ret_console is the pty
 * master (-t), <0 setup failed: err has the message and, for a command
 * that cannot run, the BERTH_ERR_CMD_* code. */
int berth_runtime_exec_status(int sync_fd, int *ret_console, berth_error_t *err);

/* Exit status docker reports for a wait status (code, or 128+signal). */
int berth_runtime_exit_code(int wstatus);

#endif
