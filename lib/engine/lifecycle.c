/* SPDX-License-Identifier: GPL-2.0-or-later */
/* start, stop, restart, kill, wait, attach: the engine side of a running
 * container.  start spawns the container's monitor (design.md "Processes")
 * detached from the caller and returns once the container exists; the rest
 * talk to init by pidfd and to the monitor through its lock and socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <berth/attach.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/lock.h"
#include "berth-config.h"
#include "engine/engine-internal.h"
#include "engine/networks.h"
#include "engine/rwlayer.h"
#include "engine/events.h"
#include "engine/spec.h"
#include "runtime/runtime.h"

extern char **environ;

static const struct {
  const char *name;
  int sig;
} signals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},     {"CHLD", SIGCHLD}, {"CONT", SIGCONT},
    {"FPE", SIGFPE},   {"HUP", SIGHUP},   {"ILL", SIGILL},     {"INT", SIGINT},   {"IO", SIGIO},
    {"IOT", SIGIOT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE},   {"POLL", SIGPOLL}, {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},   {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP},
    {"SYS", SIGSYS},   {"TERM", SIGTERM}, {"TRAP", SIGTRAP},   {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"USR1", SIGUSR1},   {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM},
    {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

/* "KILL", "SIGKILL", "kill", "9", "RTMIN+3" -> number; -1 if invalid. */
int berth_signal_parse(const char *s)
{
  if (!s || !*s)
    return -1;
  char *end;
  long n = strtol(s, &end, 10);
  if (!*end)
    return n > 0 && n <= SIGRTMAX ? (int)n : -1;
  if (strncasecmp(s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < sizeof signals / sizeof *signals; i++)
    if (strcasecmp(s, signals[i].name) == 0)
      return signals[i].sig;
  if (strncasecmp(s, "RTMIN+", 6) == 0 && (n = strtol(s + 6, &end, 10)) >= 0 && !*end && SIGRTMIN + n <= SIGRTMAX)
    return SIGRTMIN + (int)n;
  if (strncasecmp(s, "RTMAX-", 6) == 0 && (n = strtol(s + 6, &end, 10)) >= 0 && !*end && SIGRTMAX - n >= SIGRTMIN)
    return SIGRTMAX - (int)n;
  return -1;
}

/* ---- the monitor ---- */

static char *monitor_path(void)
{
  const char *env = getenv("BERTH_MONITOR");
  if (env && *env)
    return strdup(env);
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    *slash = '\0';
    static const char *const rel[] = {"berth-monitor", "../berth-monitor/berth-monitor"};
    for (size_t i = 0; i < 2; i++) {
      char *p = NULL;
      if (asprintf(&p, "%s/%s", exe, rel[i]) < 0)
        abort();
      if (access(p, X_OK) == 0)
        return p;
      free(p);
    }
  }
  return strdup(BERTH_LIBEXECDIR "/berth/berth-monitor");
}

/* The container's init is a clone of the monitor, so whatever the monitor was
 * exec'd from is reachable from the container through /proc/PID/exe until
 * init execs the command (CVE-2019-5736).  Run it from a read-only bind mount
 * of its file that is attached to no mount tree: a write through the link
 * fails with EROFS, nothing shows in the host's mount table, and every
 * monitor shares the file's page cache.  Should the kernel refuse the
 * detached mount, fall back to a sealed in-memory copy (private to each
 * monitor). */
static void exec_protected(const char *path, char **argv)
{
  int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree >= 0) {
    struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof ro) == 0)
      syscall(SYS_execveat, tree, "", argv, environ, AT_EMPTY_PATH);
    close(tree);
  }
  int src = open(path, O_RDONLY | O_CLOEXEC);
  int mfd = memfd_create("berth-monitor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  struct stat st;
  if (src >= 0 && mfd >= 0 && fstat(src, &st) == 0) {
    off_t off = 0;
    while (off < st.st_size && sendfile(mfd, src, &off, (size_t)(st.st_size - off)) > 0)
      ;
    if (off == st.st_size &&
        fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0)
      fexecve(mfd, argv, environ);
  }
}

static __attribute__((noreturn)) void monitor_child(struct berth_engine *e, const char *id, bool wait_start,
                                                    int status_fd)
{
  /* its own session, away from our terminal's signals; one fork only (each
   * costs a copy of our page tables): the monitor stays our child until we
   * exit, never waited for (it opens no terminal, so being a session leader
   * gives it none) */
  if (setsid() < 0)
    _exit(1);
  int null = open("/dev/null", O_RDWR);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 || dup2(status_fd, 3) < 0)
    _exit(1);
  syscall(SYS_close_range, 4U, ~0U, 0);
  char exe[PATH_MAX] = "";
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  cleanup_free char *mon = monitor_path();
  char *argv[] = {(char *)"berth-monitor", (char *)"--root", e->store->root, (char *)"--runroot", e->store->runroot,
                  (char *)"--id", (char *)id, (char *)"--status-fd", (char *)"3", (char *)"--berth", exe,
                  wait_start ? (char *)"--wait-start" : NULL, NULL};
  /* glibc's per-thread cache of freed blocks pins ~60 kB of heap that
   * malloc_trim cannot return: the monitor is one thread that idles for
   * days (the container's environment comes from its spec, not ours) */
  setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
  exec_protected(mon, argv);
  dprintf(3, "err %d cannot run the monitor `%s`: %s\n", errno, mon, strerror(errno));
  _exit(127);
}

/* Spawn the detached monitor and read its one-line report. */
static int spawn_monitor(struct berth_engine *e, const char *id, bool wait_start, berth_error_t *err)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return berth_error_set(err, errno, "pipe");
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return berth_error_set(err, errno, "fork");
  }
  if (pid == 0)
    monitor_child(e, id, wait_start, p[1]);
  close(p[1]);
  char buf[4096];
  size_t len = 0;
  for (ssize_t n; len < sizeof buf - 1 && (n = TEMP_FAILURE_RETRY(read(p[0], buf + len, sizeof buf - 1 - len))) > 0;)
    len += (size_t)n;
  close(p[0]);
  buf[len] = '\0';
  char *nl = strchr(buf, '\n');
  if (nl)
    *nl = '\0';
  int code = 0, off = 0;
  if (strncmp(buf, "ok ", 3) == 0)
    return 0;
  if (sscanf(buf, "err %d %n", &code, &off) >= 1 && off > 0)
    return berth_error_set_plain(err, code ? code : EIO, "%s", buf + off);
  return berth_error_set_plain(err, EIO, "the container's monitor exited without reporting%s%s", len ? ": " : "", buf);
}

/* ---- start ---- */

static uint64_t host_caps(void)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (berth_read_file_at(AT_FDCWD, "/proc/self/status", &buf, &len, NULL) < 0)
    return 0;
  const char *p = strstr(buf, "CapBnd:");
  return p ? strtoull(p + 7, NULL, 16) : 0;
}

/* "host" -> "", "container:X" -> X's /proc/PID/ns/<ns>, else NULL (new). */
static int ns_path(struct berth_engine *e, const char *mode, const char *ns, char **ret, berth_error_t *err)
{
  *ret = NULL;
  if (!mode || !*mode)
    return 0;
  if (strcmp(mode, "host") == 0) {
    *ret = strdup("");
    return 0;
  }
  if (strncmp(mode, "container:", 10) != 0)
    return 0;
  struct berth_ctr o;
  int r = berth_ctr_load(e, mode + 10, &o, err);
  if (r == 0 && (o.st.status != BERTH_STATUS_RUNNING || o.st.pid <= 0))
    r = berth_error_set_plain(err, EINVAL, "cannot join namespaces of container %s: container is not running",
                              mode + 10);
  if (r == 0 && asprintf(ret, "/proc/%d/ns/%s", o.st.pid, ns) < 0)
    abort();
  berth_ctr_clear(&o);
  return r;
}

static char *container_path(struct berth_engine *e, const char *id, const char *name)
{
  char *p = NULL;
  if (asprintf(&p, "%s/containers/%s/%s", e->store->root, id, name) < 0)
    abort();
  return p;
}

static char *init_path(void)
{
  cleanup_free char *mon = monitor_path();
  char *slash = strrchr(mon, '/');
  char *p = NULL;
  if (slash)
    *slash = '\0';
  if (asprintf(&p, "%s/%s", slash ? mon : ".", "berth-init") < 0)
    abort();
  if (access(p, X_OK) == 0)
    return p;
  free(p);
  if (asprintf(&p, "%s/../berth-init/berth-init", slash ? mon : ".") < 0)
    abort();
  return p;
}

/* -v's host directories that do not exist are made at start, as docker's
 * are (--mount refuses them at create). */
static int make_bind_sources(const struct berth_ctr *c, berth_error_t *err)
{
  json_t *m;
  size_t i;
  json_array_foreach(json_object_get(c->rec, "MountPoints"), i, m)
  {
    const char *src = berth_json_str(m, "Source");
    if (!json_is_true(json_object_get(m, "CreateSource")) || !src || access(src, F_OK) == 0)
      continue;
    if (strlen(src) >= PATH_MAX)
      return berth_error_set_plain(err, ENAMETOOLONG, "error while creating mount source path '%.64s...': %s", src,
                                   strerror(ENAMETOOLONG));
    cleanup_free char *clean = berth_path_abs(src);
    cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0 || berth_mkdir_p(root, clean + 1, 0755, err) < 0)
      return berth_error_prefix(err, "error while creating mount source path '%s'", src);
  }
  return 0;
}

/* The container's id and bundle (its run dir) in the spec's annotations:
 * what the runtime gives OCI hooks as their state and cwd. */
static void bundle_annotations(struct berth_engine *e, const char *id, json_t *oci)
{
  json_t *ann = json_object_get(oci, "annotations");
  cleanup_free char *runroot = berth_path_abs(e->store->runroot), *bundle = NULL;
  if (asprintf(&bundle, "%s/containers/%s", runroot ? runroot : e->store->runroot, id) < 0)
    abort();
  json_object_set_new(ann, "berth.id", json_string(id));
  json_object_set_new(ann, "berth.bundle", json_string(bundle));
}

static json_t *build_spec(struct berth_engine *e, const struct berth_ctr *c, berth_error_t *err)
{
  if (make_bind_sources(c, err) < 0 || berth_volumes_mount(e, json_object_get(c->rec, "MountPoints"), err) < 0)
    return NULL;
  const json_t *hc = json_object_get(c->rec, "HostConfig");
  size_t n = json_array_size(json_object_get(c->rec, "Layers"));
  cleanup_strv char **lower = calloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    lower[n - 1 - i] = berth_layer_diff_path(e->store, json_string_value(json_array_get(json_object_get(c->rec, "Layers"), i)));
  cleanup_free char *upper = container_path(e, c->id, "upper"), *work = container_path(e, c->id, "work"),
                    *merged = container_path(e, c->id, "merged"), *hostname = container_path(e, c->id, "hostname"),
                    *hosts = container_path(e, c->id, "hosts"), *resolv = container_path(e, c->id, "resolv.conf"),
                    *init = init_path();
  cleanup_free char *ipc = NULL, *pid = NULL, *uts = NULL, *net = NULL;
  if (ns_path(e, berth_json_str(hc, "IpcMode"), "ipc", &ipc, err) < 0 ||
      ns_path(e, berth_json_str(hc, "PidMode"), "pid", &pid, err) < 0 ||
      ns_path(e, berth_json_str(hc, "UTSMode"), "uts", &uts, err) < 0 ||
      ns_path(e, berth_json_str(hc, "NetworkMode"), "net", &net, err) < 0)
    return NULL;
  struct berth_spec_input in = {
      .id = c->id, .config = json_object_get(c->rec, "Config"), .host_config = hc,
      .mount_points = json_object_get(c->rec, "MountPoints"), .lower_dirs = lower,
      .upper_dir = upper, .work_dir = work, .rootfs_dir = merged, .hostname_path = hostname, .hosts_path = hosts,
      .resolv_conf_path = resolv, .cgroup_parent = e->cgroup_parent, .host_caps = host_caps(), .init_path = init,
      .ipc_ns_path = ipc, .pid_ns_path = pid, .uts_ns_path = uts, .net_ns_path = net,
  };
  json_t *spec = berth_spec_build(&in, err);
  if (spec)
    bundle_annotations(e, c->id, spec);
  if (spec && berth_gpu_apply(e, c->id, json_object_get(c->rec, "Config"), hc, spec, err) < 0) {
    json_decref(spec);
    return NULL;
  }
  return spec;
}

static int start_locked(struct berth_engine *e, struct berth_ctr *c, int rundir, const struct berth_start_opts *opts,
                        berth_error_t *err)
{
  cleanup_json json_t *spec = build_spec(e, c, err);
  if (!spec || berth_seccomp_cache_prepare(e, spec, err) < 0 || berth_ctr_net_start(e, c, spec, err) < 0)
    return -1;
  if (berth_json_write_replace(rundir, "spec.json", spec, err) < 0)
    goto fail;
  /* hooks (nvidia-cdi-hook) read the bundle's config.json */
  if (json_object_get(spec, "hooks") && symlinkat("spec.json", rundir, "config.json") < 0 && errno != EEXIST) {
    berth_error_set(err, errno, "link config.json in the run dir");
    goto fail;
  }
  (void)unlinkat(rundir, "stopped", 0);
  (void)unlinkat(c->dirfd, "manually-stopped", 0);
  (void)unlinkat(rundir, "paused", 0);
  (void)unlinkat(rundir, "attach.sock", 0);
  if (spawn_monitor(e, c->id, opts && opts->wait_for_attach, err) == 0)
    return 0;
fail:
  /* what the start took of its networks goes back */
  berth_ctr_net_release(e, c);
  return -1;
}

static int start_serialized(struct berth_engine *e, const char *name, const char *id,
                            const struct berth_start_opts *opts, berth_error_t *err)
{
  cleanup_close int rundir = berth_container_run_dir(e->store, id, true, err);
  if (rundir < 0)
    return -1;
  cleanup_close int lock = berth_lock_at(rundir, "start.lock", true, err);
  if (lock < 0)
    return -1;
  /* reload: another start may have won the race for the lock */
  struct berth_ctr c;
  int r = berth_ctr_load_id(e, id, &c, err);
  if (r == 0 && c.st.status == BERTH_STATUS_PAUSED)
    r = berth_error_set_plain(err, EINVAL, "cannot start a paused container, try unpause instead");
  else if (r == 0 && !berth_ctr_is_active(&c)) {
    /* the monitor of the run that just ended may still be closing up */
    berth_ctr_wait_monitor(e, id);
    r = start_locked(e, &c, rundir, opts, err);
  }
  berth_ctr_clear(&c);
  return r;
}

int berth_container_start(struct berth_engine *e, const char *name, const struct berth_start_opts *opts,
                          berth_error_t *err)
{
  cleanup_free char *id = berth_container_store_resolve(e->store, name, err);
  if (!id)
    return -1;
  if (start_serialized(e, name, id, opts, err) == 0)
    return 0;
  /* like docker: a --rm container that cannot start is removed */
  struct berth_ctr c;
  if (berth_ctr_load_id(e, id, &c, NULL) == 0 && !berth_ctr_is_active(&c) &&
      json_is_true(json_object_get(json_object_get(c.rec, "HostConfig"), "AutoRemove")))
    (void)berth_container_store_remove(e->store, c.id, berth_ctr_bare_name(&c), NULL);
  berth_ctr_clear(&c);
  return -1;
}

/* What docker's daemon starts when it starts (restore, then restartmanager's
 * ShouldRestart with a fresh count), of the containers started before:
 * always; unless-stopped unless a user stopped it; on-failure after a
 * non-zero exit (one the host went down under reads as 255). */
static bool starts_at_boot(const struct berth_ctr *c)
{
  const char *policy =
      berth_json_str(json_object_get(json_object_get(c->rec, "HostConfig"), "RestartPolicy"), "Name");
  if (!policy || berth_ctr_is_active(c) || c->st.started_at == 0)
    return false;
  if (strcmp(policy, "always") == 0)
    return true;
  if (strcmp(policy, "unless-stopped") == 0)
    return faccessat(c->dirfd, "manually-stopped", F_OK, AT_SYMLINK_NOFOLLOW) != 0;
  return strcmp(policy, "on-failure") == 0 && c->st.exit_code != 0;
}

json_t *berth_containers_boot(struct berth_engine *e, berth_error_t *err)
{
  cleanup_strv char **ids = berth_container_store_ids(e->store, NULL, err);
  if (!ids)
    return NULL;
  json_t *out = json_array();
  for (char **p = ids; *p; p++) {
    struct berth_ctr c;
    cleanup_error berth_error_t e2 = NULL;
    if (berth_ctr_load_id(e, *p, &c, NULL) == 0 && starts_at_boot(&c)) {
      int r = berth_container_start(e, c.id, NULL, &e2);
      json_array_append_new(out, json_pack("{s:s, s:s, s:s?}", "Id", c.id, "Name", berth_ctr_bare_name(&c), "Error",
                                           r < 0 ? e2->msg : NULL));
    }
    berth_ctr_clear(&c);
  }
  return out;
}

/* ---- signals, stop, kill, wait ---- */

static int open_init(const struct berth_ctr *c)
{
  if (c->st.pid <= 0)
    return -1;
  int fd = (int)syscall(SYS_pidfd_open, c->st.pid, 0);
  return fd;
}

/* docker's "kill" event names the signal by number */
static void kill_event(struct berth_engine *e, const struct berth_ctr *c, int sig)
{
  char num[16];
  snprintf(num, sizeof(num), "%d", sig);
  berth_event_container(e, c, "kill", json_pack("{s:s}", "signal", num));
}

static int signal_init(const struct berth_ctr *c, int pidfd, int sig, berth_error_t *err)
{
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
    return berth_error_set(err, errno, "signal container %s", c->id);
  return 0;
}

static bool wait_exit(int pidfd, int timeout_ms)
{
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int r;
  while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
    ;
  return r != 0;
}

/* A user's stop or kill: the monitor restarts it no more ("stopped" in the
 * run dir), and `system boot` leaves an unless-stopped container stopped
 * (docker's HasBeenManuallyStopped: "manually-stopped" beside its record,
 * which a reboot keeps).  A start clears both. */
static void mark_stopped(struct berth_engine *e, const struct berth_ctr *c)
{
  cleanup_close int rundir = berth_container_run_dir(e->store, c->id, true, NULL);
  if (rundir >= 0)
    (void)berth_write_file_replace(rundir, "stopped", "", 0, 0600, NULL);
  (void)berth_write_file_replace(c->dirfd, "manually-stopped", "", 0, 0600, NULL);
}

/* moby's killWithSignal: the stop signal (or SIGKILL, or any signal when the
 * container names none) thaws a paused container once it is sent, so that
 * the signal is delivered. */
static void thaw_after_signal(struct berth_engine *e, struct berth_ctr *c, int sig)
{
  const char *stop = berth_json_str(json_object_get(c->rec, "Config"), "StopSignal");
  if (c->st.status != BERTH_STATUS_PAUSED)
    return;
  if (sig == SIGKILL || !stop || !*stop || berth_signal_parse(stop) == sig) {
    cleanup_error berth_error_t err = NULL;
    (void)berth_ctr_set_paused(e, c, false, &err);
  }
}

static int stop_with(struct berth_engine *e, struct berth_ctr *c, int sig, int timeout, berth_error_t *err)
{
  mark_stopped(e, c);
  cleanup_close int pidfd = open_init(c);
  if (pidfd >= 0) {
    kill_event(e, c, sig);
    if (signal_init(c, pidfd, sig, err) < 0)
      return -1;
    thaw_after_signal(e, c, sig);
    if (!wait_exit(pidfd, timeout < 0 ? -1 : timeout * 1000)) {
      kill_event(e, c, SIGKILL);
      if (signal_init(c, pidfd, SIGKILL, err) < 0)
        return -1;
      thaw_after_signal(e, c, SIGKILL);
      (void)wait_exit(pidfd, -1);
    }
  }
  berth_ctr_wait_monitor(e, c->id);
  /* nobody else will record the end of a container whose monitor died */
  if (!c->monitor_alive)
    berth_ctr_refresh(e, c);
  berth_ctr_net_release(e, c);
  return 0;
}

int berth_ctr_kill_wait(struct berth_engine *e, struct berth_ctr *c, int sig, berth_error_t *err)
{
  return stop_with(e, c, sig, -1, err);
}

static int stop_params(const struct berth_ctr *c, int timeout, const char *signal, int *ret_sig, int *ret_timeout,
                       berth_error_t *err)
{
  const json_t *cfg = json_object_get(c->rec, "Config");
  const char *s = signal && *signal ? signal : berth_json_str(cfg, "StopSignal");
  *ret_sig = s && *s ? berth_signal_parse(s) : SIGTERM;
  if (*ret_sig < 0)
    return berth_error_set_plain(err, EINVAL, "Invalid signal: %s", s);
  json_t *st = json_object_get(cfg, "StopTimeout");
  *ret_timeout = timeout >= 0 ? timeout : json_is_integer(st) ? (int)json_integer_value(st) : 10;
  return 0;
}

int berth_container_stop(struct berth_engine *e, const char *name, int timeout, const char *signal,
                         berth_error_t *err)
{
  struct berth_ctr c;
  int sig = SIGTERM, t = 10, r = berth_ctr_load(e, name, &c, err);
  if (r == 0 && berth_ctr_is_active(&c)) {
    r = stop_params(&c, timeout, signal, &sig, &t, err) < 0 ? -1 : stop_with(e, &c, sig, t, err);
    if (r == 0)
      berth_event_container(e, &c, "stop", NULL);
  }
  berth_ctr_clear(&c);
  return r;
}

int berth_container_restart(struct berth_engine *e, const char *name, int timeout, const char *signal,
                            berth_error_t *err)
{
  if (berth_container_stop(e, name, timeout, signal, err) < 0 || berth_container_start(e, name, NULL, err) < 0)
    return -1;
  berth_event_record(e, "container", "restart", name, NULL);
  return 0;
}

int berth_container_kill(struct berth_engine *e, const char *name, const char *signal, berth_error_t *err)
{
  struct berth_ctr c;
  int r = berth_ctr_load(e, name, &c, err);
  int sig = signal && *signal ? berth_signal_parse(signal) : SIGKILL;
  if (r == 0 && sig < 0)
    r = berth_error_set_plain(err, EINVAL, "Invalid signal: %s", signal);
  if (r == 0 && !berth_ctr_is_active(&c))
    r = berth_error_set_plain(err, EINVAL, "cannot kill container: %s: container %s is not running", name, c.id);
  if (r == 0) {
    cleanup_close int pidfd = open_init(&c);
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT)
      mark_stopped(e, &c);
    kill_event(e, &c, sig);
    r = pidfd < 0 ? 0 : signal_init(&c, pidfd, sig, err);
    if (r == 0)
      thaw_after_signal(e, &c, sig);
  }
  berth_ctr_clear(&c);
  return r;
}

int berth_ctr_connect_monitor(struct berth_engine *e, const char *id, berth_error_t *err)
{
  cleanup_close int rundir = berth_container_run_dir(e->store, id, false, err);
  if (rundir < 0)
    return -1;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/attach.sock", rundir);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return berth_error_set(err, errno, "socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int saved = errno;
    close(fd);
    return berth_error_set(err, saved, "connect to the monitor of %s", id);
  }
  return fd;
}

int berth_container_attach(struct berth_engine *e, const char *name, const struct berth_attach_opts *opts,
                           int *ret_fd, berth_error_t *err)
{
  struct berth_ctr c;
  int r = berth_ctr_load(e, name, &c, err);
  if (r == 0 && c.st.status == BERTH_STATUS_PAUSED)
    r = berth_error_set_plain(err, EINVAL, "You cannot attach to a paused container, unpause it first");
  else if (r == 0 && (!berth_ctr_is_active(&c) || !c.monitor_alive))
    r = berth_error_set_plain(err, EINVAL, "You cannot attach to a stopped container, start it first");
  int fd = r < 0 ? -1 : berth_ctr_connect_monitor(e, c.id, err);
  /* a client for the streams (not wait's listener for the exit) */
  if (fd >= 0 && (opts->stdin || opts->stdout || opts->stderr))
    berth_event_container(e, &c, "attach", NULL);
  berth_ctr_clear(&c);
  if (fd < 0)
    return -1;
  uint8_t want = (uint8_t)((opts->stdin ? BERTH_ATTACH_WANT_STDIN : 0) | (opts->stdout ? BERTH_ATTACH_WANT_STDOUT : 0) |
                           (opts->stderr ? BERTH_ATTACH_WANT_STDERR : 0) |
                           (opts->remove ? BERTH_ATTACH_WANT_REMOVE : 0));
  if (berth_attach_send(fd, BERTH_ATTACH_HELLO, &want, 1, err) < 0 ||
      (opts->start && berth_attach_send(fd, BERTH_ATTACH_START, NULL, 0, err) < 0)) {
    close(fd);
    return -1;
  }
  *ret_fd = fd;
  return 0;
}

/* Listen to the monitor for EXIT; false when it went away without one. */
static bool exit_from_monitor(struct berth_engine *e, const char *id, int *ret_code)
{
  struct berth_attach_opts none = {0};
  int fd;
  cleanup_error berth_error_t err = NULL;
  if (berth_container_attach(e, id, &none, &fd, &err) < 0)
    return false;
  cleanup_free uint8_t *buf = malloc(BERTH_ATTACH_MAX_PAYLOAD);
  uint8_t type;
  size_t len;
  bool got = false;
  while (buf && berth_attach_recv(fd, &type, buf, &len, &err) > 0) {
    if (type == BERTH_ATTACH_EXIT && len == 4) {
      *ret_code = (int)((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3]);
      got = true;
      break;
    }
  }
  close(fd);
  return got;
}

int berth_container_wait(struct berth_engine *e, const char *name, const char *condition, int *ret_code,
                         berth_error_t *err)
{
  struct berth_ctr c;
  const char *cond = condition && *condition ? condition : "not-running";
  if (strcmp(cond, "not-running") != 0 && strcmp(cond, "next-exit") != 0 && strcmp(cond, "removed") != 0)
    return berth_error_set_plain(err, EINVAL, "invalid condition: \"%s\"", cond);
  if (berth_ctr_load(e, name, &c, err) < 0) {
    berth_ctr_clear(&c);
    return -1;
  }
  cleanup_free char *id = strdup(c.id);
  *ret_code = c.st.exit_code;
  if (berth_ctr_is_active(&c) && !exit_from_monitor(e, id, ret_code)) {
    cleanup_close int pidfd = open_init(&c);
    if (pidfd >= 0)
      (void)wait_exit(pidfd, -1);
    berth_ctr_wait_monitor(e, id);
    berth_ctr_clear(&c);
    if (berth_ctr_load_id(e, id, &c, NULL) == 0)
      *ret_code = c.st.exit_code;
  }
  if (strcmp(cond, "removed") == 0)
    berth_ctr_wait_monitor(e, id);
  berth_ctr_clear(&c);
  return 0;
}
