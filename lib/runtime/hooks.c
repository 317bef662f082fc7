/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI hooks, where the runtime spec runs them:
 *   createRuntime    by the runtime (container.c), once init has made its
 *                    namespaces and mounts, before pivot_root
 *   createContainer  by init, in the container's namespaces, before
 *                    pivot_root (the host's paths still resolve)
 *   startContainer   by init after the start request, just before the
 *                    command's execve (paths resolve in the container)
 *   poststart        by the runtime once the command runs
 *   poststop         by the runtime once the container is deleted
 * Each gets the container's state on stdin (ociVersion, id, status, pid,
 * bundle, annotations: the id and bundle from the berth.id and berth.bundle
 * annotations), exactly its own env and args, and its timeout.  A failure
 * stops the container's creation or start, except poststop (reported).
 * Usable from init too: it reports into a buffer, not a berth_error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "oci/runtime-spec.h"
#include "runtime/runtime-internal.h"

struct hook_run {
  const char *stage, *status; /* "createContainer", "creating" */
  const char *cwd;            /* NULL: the caller's */
  void (*before_exec)(void *arg); /* in the hook's process, may be NULL */
  void *arg;
};

static char *hooks_state(const struct berth_spec *spec, const char *status, pid_t pid)
{
  const char *id = berth_spec_annotation(spec, "berth.id"), *bundle = berth_spec_annotation(spec, "berth.bundle");
  cleanup_json json_t *st = json_pack("{s:s,s:s,s:s,s:i,s:s,s:O}", "ociVersion", spec->oci_version ? spec->oci_version : "1.0.2",
                                      "id", id ? id : "", "status", status, "pid", (int)pid, "bundle", bundle ? bundle : "",
                                      "annotations", spec->annotations);
  char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
  if (!text)
    abort();
  return text;
}

static void hook_exec(const struct berth_spec_hook *h, const struct hook_run *how, int in, int out)
{
  char *argv0[] = {h->path, NULL}, *noenv[] = {NULL};
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
    _exit(126);
  child_reset_signals();
  /* runc's hooks start in the bundle, where containerd runs runc */
  if (how->cwd && chdir(how->cwd) < 0)
    (void)chdir("/");
  if (how->before_exec)
    how->before_exec(how->arg);
  execve(h->path, h->args && h->args[0] ? h->args : argv0, h->env ? h->env : noenv);
  dprintf(2, "exec: %s", strerror(errno));
  _exit(127);
}

/* The hook's output (the first `cap` bytes kept) until it closes it or the
 * deadline (0: none) passes; false on timeout. */
static bool collect(int fd, char *buf, size_t cap, int64_t deadline)
{
  size_t len = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int wait = deadline ? (int)(deadline - berth_monotonic_ms()) : -1;
    if (deadline && wait <= 0)
      return false;
    int r = poll(&p, 1, wait);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0)
      return false;
    char tmp[512];
    ssize_t n = r < 0 ? -1 : read(fd, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return true;
    size_t take = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
    memcpy(buf + len, tmp, take);
    len += take;
    buf[len] = '\0';
  }
}

static int run_one(const struct berth_spec_hook *h, const struct hook_run *how, const char *state, char *out,
                   size_t cap, int *ret_status)
{
  int in[2], pipefd[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
    return -1;
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    close(in[0]), close(in[1]);
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0)
    hook_exec(h, how, in[1], pipefd[1]);
  close(in[1]);
  close(pipefd[1]);
  if (pid < 0) {
    int e = errno;
    close(in[0]), close(pipefd[0]);
    errno = e;
    return -1;
  }
  /* the state fits the socket's buffer; a hook that never reads it is not waited for */
  (void)send(in[0], state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)shutdown(in[0], SHUT_WR);
  bool done = collect(pipefd[0], out, cap, h->timeout > 0 ? berth_monotonic_ms() + h->timeout * 1000LL : 0);
  close(in[0]);
  close(pipefd[0]);
  if (!done)
    (void)kill(pid, SIGKILL);
  while (waitpid(pid, ret_status, 0) < 0)
    if (errno != EINTR)
      return -1;
  if (!done) {
    errno = ETIMEDOUT;
    return -1;
  }
  return 0;
}

/* Run each hook in order, the container's state (how->status, pid, and the
 * spec's id, bundle and annotations) on its stdin; on the first failure -1
 * with errno and `msg`.  Usable from init: no berth_error. */
static int hooks_run(const struct berth_spec *spec, const struct berth_spec_hook *hooks, size_t n,
                     const struct hook_run *how, pid_t pid, char *msg, size_t msg_len)
{
  const char *stage = how->stage;
  cleanup_free char *state = n ? hooks_state(spec, how->status, pid) : NULL;
  for (size_t i = 0; i < n; i++) {
    char out[512] = "";
    int status = 0;
    if (run_one(&hooks[i], how, state, out, sizeof out, &status) < 0) {
      int e = errno;
      snprintf(msg, msg_len, "error running %s hook #%zu `%s`: %s", stage, i, hooks[i].path,
               e == ETIMEDOUT ? "timed out" : strerror(e));
      errno = e;
      return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      continue;
    size_t l = strlen(out);
    while (l && out[l - 1] == '\n')
      out[--l] = '\0';
    if (WIFEXITED(status))
      snprintf(msg, msg_len, "error running %s hook #%zu `%s`: exit status %d%s%s", stage, i, hooks[i].path,
               WEXITSTATUS(status), l ? ", output: " : "", out);
    else
      snprintf(msg, msg_len, "error running %s hook #%zu `%s`: killed by signal %d", stage, i, hooks[i].path,
               WTERMSIG(status));
    errno = EIO;
    return -1;
  }
  return 0;
}

int runtime_hooks_run(const struct berth_spec *spec, const struct berth_spec_hook *hooks, size_t n, const char *stage,
                      const char *status, pid_t pid, berth_error_t *err)
{
  struct hook_run how = {.stage = stage, .status = status, .cwd = berth_spec_annotation(spec, "berth.bundle")};
  char msg[1024];
  if (hooks_run(spec, hooks, n, &how, pid, msg, sizeof msg) < 0)
    return berth_error_set_plain(err, errno, "%s", msg);
  return 0;
}

/* ---- what the runtime keeps for the hooks after create ---- */

struct runtime_hooks {
  struct berth_spec spec; /* oci_version, annotations and the two hook lists only */
};

static char **strv_dup(char **v)
{
  size_t n = 0;
  while (v[n])
    n++;
  char **out = calloc(n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++)
    if (!(out[i] = strdup(v[i])))
      abort();
  if (!out)
    abort();
  return out;
}

static struct berth_spec_hook *copy_hooks(const struct berth_spec_hook *h, size_t n)
{
  struct berth_spec_hook *out = calloc(n ? n : 1, sizeof *out);
  if (!out)
    abort();
  for (size_t i = 0; i < n; i++) {
    out[i].path = strdup(h[i].path);
    out[i].args = h[i].args ? strv_dup(h[i].args) : NULL;
    out[i].env = h[i].env ? strv_dup(h[i].env) : NULL;
    out[i].timeout = h[i].timeout;
    if (!out[i].path)
      abort();
  }
  return out;
}

static void free_hooks(struct berth_spec_hook *h, size_t n)
{
  for (size_t i = 0; h && i < n; i++) {
    free(h[i].path);
    berth_strv_free(h[i].args);
    berth_strv_free(h[i].env);
  }
  free(h);
}

struct runtime_hooks *runtime_hooks_new(const struct berth_spec *spec)
{
  const struct berth_spec_hooks *h = &spec->hooks;
  if (!h->n_poststart && !h->n_poststop)
    return NULL;
  struct runtime_hooks *r = calloc(1, sizeof *r);
  if (!r)
    abort();
  /* the state's fixed part: a spec of its own fields only */
  r->spec.oci_version = spec->oci_version ? strdup(spec->oci_version) : NULL;
  r->spec.annotations = json_deep_copy(spec->annotations);
  r->spec.hooks.poststart = copy_hooks(h->poststart, h->n_poststart);
  r->spec.hooks.n_poststart = h->n_poststart;
  r->spec.hooks.poststop = copy_hooks(h->poststop, h->n_poststop);
  r->spec.hooks.n_poststop = h->n_poststop;
  return r;
}

void runtime_hooks_free(struct runtime_hooks *r)
{
  if (!r)
    return;
  free(r->spec.oci_version);
  json_decref(r->spec.annotations);
  free_hooks(r->spec.hooks.poststart, r->spec.hooks.n_poststart);
  free_hooks(r->spec.hooks.poststop, r->spec.hooks.n_poststop);
  free(r);
}

int runtime_hooks_run_saved(struct runtime_hooks *r, bool poststart, pid_t pid, berth_error_t *err)
{
  if (!r)
    return 0;
  const struct berth_spec_hooks *h = &r->spec.hooks;
  if (poststart)
    return runtime_hooks_run(&r->spec, h->poststart, h->n_poststart, "poststart", "running", pid, err);
  return runtime_hooks_run(&r->spec, h->poststop, h->n_poststop, "poststop", "stopped", pid, err);
}

/* ---- init's side ---- */

/* Init's pid as the host sees it: before pivot_root, /proc is still the host's. */
static pid_t host_pid(void)
{
  char buf[32] = "";
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  return n > 0 ? (pid_t)atoi(buf) : getpid();
}

static void child_run(struct child *c, const struct berth_spec_hook *h, size_t n, const struct hook_run *how, pid_t pid)
{
  char msg[CHILD_HOOK_MSG];
  if (hooks_run(c->spec, h, n, how, pid, msg, sizeof msg) < 0)
    child_fail(c->sync_fd, 0, "%s", msg);
}

void child_create_hooks(struct child *c)
{
  const struct berth_spec_hooks *h = &c->spec->hooks;
  if (h->n_create_runtime) {
    struct sync_msg m = {.type = SYNC_HOOKS};
    if (sync_send(c->sync_fd, &m, -1) < 0 || sync_recv(c->sync_fd, &m, NULL) <= 0)
      _exit(1); /* the runtime went away */
    if (m.type != SYNC_HOOKS_DONE)
      child_fail(c->sync_fd, EPROTO, "unexpected message %u from the runtime", m.type);
  }
  struct hook_run how = {.stage = "createContainer", .status = "creating",
                         .cwd = berth_spec_annotation(c->spec, "berth.bundle")};
  child_run(c, h->create_container, h->n_create_container, &how, host_pid());
}

void child_start_hooks(struct child *c)
{
  const struct berth_spec_hooks *h = &c->spec->hooks;
  struct hook_run how = {.stage = "startContainer", .status = "created"};
  child_run(c, h->start_container, h->n_start_container, &how, getpid());
}

/* ldconfig is confined like the container's command: no_new_privs and the
 * seccomp filter when they wait for the start (its capabilities are
 * already the container's bounding set). */
static void confine(void *arg)
{
  struct child *c = arg;
  if (c->spec->process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    _exit(126);
  child_load_seccomp(c);
}

/* berth.ldconfig: the container's own /sbin/ldconfig refreshes its loader
 * cache (driver libraries were bound in): inside the container, as root
 * with the container's capabilities and seccomp filter, once its root is
 * final.  An image without one, or a read-only root, is left alone (the
 * libraries are also bound at their sonames in the loader's folders). */
void child_ldconfig(struct child *c)
{
  const char *want = berth_spec_annotation(c->spec, "berth.ldconfig");
  if (!want || strcmp(want, "true") != 0 || c->spec->root_readonly || access("/sbin/ldconfig", X_OK) < 0)
    return;
  char *args[] = {(char *)"ldconfig", NULL}, *env[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
  struct berth_spec_hook h = {.path = (char *)"/sbin/ldconfig", .args = args, .env = env};
  struct hook_run how = {.stage = "ldconfig", .status = "creating", .before_exec = confine, .arg = c};
  child_run(c, &h, 1, &how, getpid());
}
