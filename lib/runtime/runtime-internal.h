/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the runtime's parent side (container.c) and the code that
 * runs in the container's init between clone() and execve() (init-child.c,
 * rootfs.c, devices.c, user.c, caps.c, exec.c).
 *
 * Child-side functions never return errors through berth_error_t: they fail
 * with child_fail(), which sends the message to the parent over the sync
 * socket and exits.  The code there runs in a forked copy of the monitor, so
 * it may allocate, but it must never leave an fd open across execve. */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <berth/error.h>

struct berth_spec;
struct berth_runtime_io;

enum sync_type { SYNC_READY = 1, SYNC_ERROR, SYNC_START, SYNC_HOOKS, SYNC_HOOKS_DONE };

struct sync_msg {
  uint32_t type;
  int32_t code;   /* errno or BERTH_ERR_* for SYNC_ERROR */
  char msg[2048]; /* NUL-terminated */
};

struct berth_cgroup;

/* The init's context, filled as setup proceeds. */
struct child {
  const struct berth_spec *spec;
  int sync_fd;
  int console_master; /* sent to the parent in SYNC_READY */
  unsigned null_stdio; /* bit i: stdio fd i gets the container's /dev/null */
  char *exec_path;    /* resolved command */
  char **env;         /* final environment */
  char *home;         /* the user's home, for $HOME */
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t n_groups;
  void *seccomp_bpf;
  size_t seccomp_len;
  unsigned seccomp_flags;
  struct berth_cgroup *cgroup; /* made by the parent, NULL for none */
  bool cloned_into_cgroup;     /* its v2 directory already holds init */
};


/* Send SYNC_ERROR "fmt: strerror(errnum)" (errnum 0: no suffix) and _exit(1). */
__attribute__((noreturn, format(printf, 3, 4))) void child_fail(int sync_fd, int errnum, const char *fmt, ...);
/* Like child_fail with a code that is not an errno (BERTH_ERR_*). */
__attribute__((noreturn, format(printf, 4, 5))) void child_fail_code(int sync_fd, int code, int exit_status,
                                                                     const char *fmt, ...);
int sync_send(int fd, const struct sync_msg *m, int pass_fd);
int sync_recv(int fd, struct sync_msg *m, int *ret_fd);

/* clone3 like fork, with namespace flags, into the v2 cgroup directory
 * cgroup_fd unless it is -1 (container.c). */
pid_t runtime_clone(unsigned flags, int cgroup_fd);

/* init-child.c: the whole child sequence; never returns. */
__attribute__((noreturn)) void init_child_main(struct child *c, const struct berth_runtime_io *io);
/* Its phases that an exec process (exec-join.c) shares. */
void child_close_inherited(struct child *c, const struct berth_runtime_io *io); /* all but sync and io */
void child_setup_stdio(struct child *c, const struct berth_runtime_io *io);     /* io to 0-2 unless terminal */
void child_null_stdio(struct child *c);       /* the rest of 0-2: the container's /dev/null */
void child_set_rlimits(struct child *c);      /* rlimits and oom_score_adj */
void child_read_seccomp(struct child *c);     /* the compiled filter, read before leaving the host */
void child_prepare_seccomp(struct child *c);  /* its flags */
void child_load_seccomp(struct child *c);     /* load it (once) */
void child_cloexec_fds(struct child *c);      /* every fd above 2 close-on-exec */
void child_reset_signals(void);               /* default actions, nothing blocked */

/* rootfs.c */
void rootfs_prepare(struct child *c);     /* propagation, overlay or bind of the root, spec mounts, sysctls */
void rootfs_pivot(struct child *c);       /* pivot_root into it */
void rootfs_finish(struct child *c);      /* masked and read-only paths, read-only root */
/* Open `path` inside the root `rootfd` (RESOLVE_IN_ROOT), creating it (and
 * missing parents) as a directory or an empty file when absent; O_PATH fd. */
int rootfs_open_mountpoint(int sync_fd, int rootfd, const char *path, bool dir);

/* devices.c */
void devices_populate(struct child *c, int devfd); /* default nodes and links in a fresh /dev */
void devices_create_spec(struct child *c, int rootfd); /* linux.devices */
void console_setup(struct child *c);               /* pty in the container's devpts -> /dev/console, stdio */
/* A new pty of the container's devpts sized as process.consoleSize: returns
 * the master, *ret_peer the slave (both close-on-exec). */
int console_open(struct child *c, int *ret_peer);

/* user.c: resolve "user[:group]" and extra groups against the root's
 * /etc/passwd and /etc/group (regular files, at most 1 MiB). */
void user_resolve(struct child *c, const char *user, const char *group_add);

/* caps.c */
void caps_drop_bounding(struct child *c);
void caps_switch_user(struct child *c); /* setgroups, setresgid, setresuid, capset, ambient */

/* hooks.c: the OCI hooks (createRuntime and createContainer around
 * SYNC_HOOKS, after the mounts and before pivot_root; startContainer after
 * SYNC_START). */
struct berth_spec_hook;
/* Run a stage's hooks in order, in the bundle, the container's state on
 * their stdin; the first failure is err ("error running STAGE hook #N
 * `PATH`: exit status 1, output: ..."). */
int runtime_hooks_run(const struct berth_spec *spec, const struct berth_spec_hook *hooks, size_t n, const char *stage,
                      const char *status, pid_t pid, berth_error_t *err);
/* poststart and poststop, kept past create (NULL when the spec has none). */
struct runtime_hooks *runtime_hooks_new(const struct berth_spec *spec);
int runtime_hooks_run_saved(struct runtime_hooks *r, bool poststart, pid_t pid, berth_error_t *err);
void runtime_hooks_free(struct runtime_hooks *r);
/* init-child.c's side: createRuntime through the parent, then createContainer;
 * and startContainer. */
void child_create_hooks(struct child *c);
void child_start_hooks(struct child *c);
void child_ldconfig(struct child *c); /* the root final, the bounding set dropped: the container's ldconfig */
#define CHILD_HOOK_MSG 900

/* exec.c */
void exec_make_cwd(struct child *c);                       /* as root: create a missing cwd */
void exec_prepare(struct child *c);                        /* as the user: env, cwd, command lookup */
__attribute__((noreturn)) void exec_command(struct child *c);

#endif
