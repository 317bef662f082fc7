/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-monitor: one per running container, started detached by the engine.
 *
 *   berth-monitor --root ROOT --runroot RUNROOT --id ID --status-fd N
 *                 [--wait-start] [--berth PATH]
 *
 * It holds RUNROOT/containers/ID/monitor.lock for its whole life (others test
 * liveness with a non-blocking flock), is the parent and subreaper of the
 * container's init, relays its stdio to ROOT/containers/ID/ID-json.log and to
 * the clients of attach.sock, records the state in state.json, applies the
 * restart policy and --rm, and runs the healthcheck's probes (health.c).
 *
 * Status fd: one line once the container is created (and, without
 * --wait-start, started): "ok PID\n", or "err CODE MESSAGE\n" with CODE the
 * berth_error code and MESSAGE berth_error_string() on one line; then it is
 * closed.  With --wait-start the command is started by the first attach
 * client's START frame; a failure then reaches the clients as an ERROR frame.
 *
 * A user stop writes RUNROOT/containers/ID/stopped and signals init: no
 * restart follows, and a stop during a restart's back-off (no init then)
 * ends the wait at once (the run dir is watched with inotify; SIGTERM or
 * SIGINT to the monitor also wakes it).  Other signals to the monitor are
 * ignored: the container is stopped directly. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define BERTH_LOG_DOMAIN "monitor"
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "base/units.h"
#include "monitor.h"
#include "net/net.h"
#include "oci/runtime-spec.h"
#include "runtime/cgroup.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "store/event-journal.h"

enum restart_policy { RESTART_NO, RESTART_ALWAYS, RESTART_UNLESS_STOPPED, RESTART_ON_FAILURE };

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 60000
#define BACKOFF_RESET_NS (10LL * 1000000000LL)

struct monitor {
  const char *root, *runroot, *id, *berth;
  int status_fd;
  bool wait_start;
  int run_dfd, ctr_dfd, lock_fd, sig_fd;
  struct berth_spec *spec; /* only while a container is being created */
  char *net_undo;          /* nft script taking its published ports out, at its end */
  struct berth_ports *ports; /* its published ports, held from the first start to its end */
  /* from the annotations */
  uint64_t log_max_size;
  int log_max_file;
  enum restart_policy restart;
  int restart_max;
  bool rm, stdin_open, stdin_once, tty;
  /* one run of the container */
  struct berth_runtime_container *c;
  int out_r, err_r, in_w;
  bool exited, start_failed;
  int wstatus, start_code;
  int64_t started_ns;
  /* long-lived */
  int backoff_ms;
  struct berth_state st;
  struct berth_logfile log;
  struct berth_attach_server srv;
  struct berth_relay relay;
  int remover_fd; /* the client that removes the container (--rm), after EXIT */
  struct berth_exec_set exec;
  struct berth_health *health; /* NULL without a healthcheck */
};

static void syslog_handler(enum berth_log_level level, const char *domain, const char *msg, void *arg)
{
  static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG};
  syslog(prio[level], "%s: %s: %s", (const char *)arg, domain, msg);
}

/* "err CODE MESSAGE" or "ok PID" on the status fd, once. */
static void report(struct monitor *m, const struct berth_error *e, pid_t pid)
{
  char line[1024];
  int n;
  if (m->status_fd < 0)
    return;
  if (e) {
    cleanup_free char *msg = berth_error_string(e);
    for (char *p = msg; *p; p++)
      if (*p == '\n' || *p == '\r')
        *p = ' ';
    n = snprintf(line, sizeof(line), "err %d %s\n", e->code, msg);
  } else {
    n = snprintf(line, sizeof(line), "ok %d\n", (int)pid);
  }
  if (n >= (int)sizeof(line)) {
    line[sizeof(line) - 2] = '\n';
    n = sizeof(line) - 1;
  }
  (void)TEMP_FAILURE_RETRY(write(m->status_fd, line, (size_t)n));
  close_and_reset(&m->status_fd);
}

/* Setup failed before there is a container: report and leave. */
__attribute__((noreturn)) static void die(struct monitor *m, berth_error_t *err)
{
  cleanup_free char *msg = berth_error_string(*err);
  berth_log_write(BERTH_LOG_ERROR, BERTH_LOG_DOMAIN, "%s", msg);
  report(m, *err, 0);
  exit(1);
}

static void save_state(struct monitor *m)
{
  berth_error_t err = NULL;
  m->st.monitor_pid = getpid();
  if (berth_state_write_at(m->ctr_dfd, &m->st, &err) < 0) {
    berth_warn("write state of `%s`, ignoring: %s", m->id, err->msg);
    berth_error_release(&err);
  }
}

static void parse_args(struct monitor *m, int argc, char **argv)
{
  static const struct option opts[] = {
      {"root", required_argument, NULL, 'r'},      {"runroot", required_argument, NULL, 'R'},
      {"id", required_argument, NULL, 'i'},        {"status-fd", required_argument, NULL, 's'},
      {"wait-start", no_argument, NULL, 'w'},      {"berth", required_argument, NULL, 'b'},
      {NULL, 0, NULL, 0},
  };
  berth_error_t err = NULL;
  char *end;
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'r': m->root = optarg; break;
    case 'R': m->runroot = optarg; break;
    case 'i': m->id = optarg; break;
    case 'w': m->wait_start = true; break;
    case 'b': m->berth = optarg; break;
    case 's':
      m->status_fd = (int)strtol(optarg, &end, 10);
      if (*end || m->status_fd < 0 || fcntl(m->status_fd, F_SETFD, FD_CLOEXEC) < 0)
        m->status_fd = -1;
      break;
    default:
      berth_error_set_plain(&err, EINVAL, "usage: berth-monitor --root ROOT --runroot RUNROOT --id ID "
                                          "--status-fd N [--wait-start] [--berth PATH]");
      die(m, &err);
    }
  }
  if (!m->root || !m->runroot || !m->id || optind != argc)
    berth_error_set_plain(&err, EINVAL, "berth-monitor: --root, --runroot and --id are required");
  else if (!*m->id || strchr(m->id, '/') || strcmp(m->id, ".") == 0 || strcmp(m->id, "..") == 0)
    berth_error_set_plain(&err, EINVAL, "invalid container id `%s`", m->id);
  if (err)
    die(m, &err);
}

static int open_dir(const char *base, const char *id, berth_error_t *err)
{
  char path[PATH_MAX];
  int fd;
  if (snprintf(path, sizeof(path), "%s/containers/%s", base, id) >= (int)sizeof(path))
    return berth_error_set_plain(err, ENAMETOOLONG, "path too long: `%s`", base);
  fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open `%s`", path);
  return fd;
}

static int setup_process(struct monitor *m, berth_error_t *err)
{
  sigset_t set;
  if ((m->run_dfd = open_dir(m->runroot, m->id, err)) < 0 || (m->ctr_dfd = open_dir(m->root, m->id, err)) < 0)
    return -1;
  m->lock_fd = openat(m->run_dfd, "monitor.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (m->lock_fd < 0)
    return berth_error_set(err, errno, "open `monitor.lock`");
  if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0)
    return berth_error_set(err, errno == EWOULDBLOCK ? EBUSY : errno, "container `%s` already has a monitor", m->id);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    return berth_error_set(err, errno, "become a subreaper");
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGPIPE);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    return berth_error_set(err, errno, "block signals");
  m->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (m->sig_fd < 0)
    return berth_error_set(err, errno, "signalfd");
  /* a fresh start: an earlier user stop no longer holds */
  (void)unlinkat(m->run_dfd, "stopped", 0);
  return 0;
}

static bool annotation_true(const struct berth_spec *spec, const char *key)
{
  const char *v = berth_spec_annotation(spec, key);
  return v && strcmp(v, "true") == 0;
}

static int parse_restart(struct monitor *m, const char *v, berth_error_t *err)
{
  char *end;
  m->restart_max = 0;
  if (!v || !*v || strcmp(v, "no") == 0)
    m->restart = RESTART_NO;
  else if (strcmp(v, "always") == 0)
    m->restart = RESTART_ALWAYS;
  else if (strcmp(v, "unless-stopped") == 0)
    m->restart = RESTART_UNLESS_STOPPED;
  else if (strncmp(v, "on-failure", 10) == 0 && (v[10] == '\0' || v[10] == ':')) {
    m->restart = RESTART_ON_FAILURE;
    if (v[10] == ':') {
      long n = strtol(v + 11, &end, 10);
      if (!v[11] || *end || n < 0 || n > 1000000)
        return berth_error_set_plain(err, EINVAL, "invalid restart policy `%s`", v);
      m->restart_max = (int)n;
    }
  } else
    return berth_error_set_plain(err, EINVAL, "invalid restart policy `%s`", v);
  return 0;
}

static void health_event(void *data, const char *status);

static int load_config(struct monitor *m, berth_error_t *err)
{
  const char *size = NULL, *files = NULL;
  char *end;
  m->spec = berth_spec_load_at(m->run_dfd, "spec.json", NULL, err);
  if (!m->spec)
    return -1;
  size = berth_spec_annotation(m->spec, "berth.log.max-size");
  files = berth_spec_annotation(m->spec, "berth.log.max-file");
  int64_t max_size;
  if (berth_parse_human_size(size ? size : "20m", &max_size, err) < 0)
    return berth_error_prefix(err, "berth.log.max-size");
  if (max_size <= 0)
    return berth_error_set_plain(err, EINVAL, "berth.log.max-size: must be positive");
  m->log_max_size = (uint64_t)max_size;
  m->log_max_file = 5;
  if (files) {
    long n = strtol(files, &end, 10);
    if (!*files || *end || n < 1 || n > 1000)
      return berth_error_set_plain(err, EINVAL, "berth.log.max-file: invalid number `%s`", files);
    m->log_max_file = (int)n;
  }
  if (parse_restart(m, berth_spec_annotation(m->spec, "berth.restart"), err) < 0)
    return -1;
  m->rm = annotation_true(m->spec, "berth.rm");
  m->stdin_open = annotation_true(m->spec, "berth.stdin-open");
  m->stdin_once = annotation_true(m->spec, "berth.stdin-once");
  m->tty = m->spec->process.terminal;
  m->health = berth_health_new(m->spec, m->ctr_dfd, m->run_dfd, health_event, m, err);
  return *err ? -1 : 0;
}

static int open_io(struct monitor *m, berth_error_t *err)
{
  char name[PATH_MAX];
  snprintf(name, sizeof(name), "%s-json.log", m->id);
  if (berth_logfile_open(&m->log, m->ctr_dfd, name, m->log_max_size, m->log_max_file, err) < 0)
    return -1;
  berth_exec_set_init(&m->exec, m->run_dfd);
  const char *attrs = berth_spec_annotation(m->spec, "berth.log.attrs");
  if (attrs && asprintf(&m->log.attrs, "\"attrs\":%s,", attrs) < 0)
    abort();
  return berth_attach_server_open(&m->srv, m->run_dfd, err);
}

/* ---- one run of the container ---- */

static int nonblock(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Pipes for the container's stdio; child ends in *io, ours in m. */
static int make_pipes(struct monitor *m, struct berth_runtime_io *io, berth_error_t *err)
{
  int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1};
  *io = (struct berth_runtime_io){.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  if (m->tty)
    return 0; /* the runtime makes the pty */
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || (m->stdin_open && pipe2(in, O_CLOEXEC) < 0)) {
    int e = errno;
    for (int i = 0; i < 2; i++) {
      close_and_reset(&out[i]);
      close_and_reset(&errp[i]);
    }
    return berth_error_set(err, e, "make stdio pipes");
  }
  m->out_r = out[0], m->err_r = errp[0], m->in_w = in[1];
  (void)nonblock(m->out_r), (void)nonblock(m->err_r);
  if (m->in_w >= 0)
    (void)nonblock(m->in_w);
  *io = (struct berth_runtime_io){.stdin_fd = in[0], .stdout_fd = out[1], .stderr_fd = errp[1]};
  return 0;
}

static void close_child_ends(struct berth_runtime_io *io)
{
  close_and_reset(&io->stdin_fd);
  close_and_reset(&io->stdout_fd);
  close_and_reset(&io->stderr_fd);
}

static int exit_code_for_error(const struct berth_error *e)
{
  if (e->code == BERTH_ERR_CMD_NOT_FOUND)
    return 127;
  if (e->code == BERTH_ERR_CMD_CANNOT_INVOKE)
    return 126;
  return 128;
}

/* A failed create or start: docker leaves the container "created" with the
 * error and the exit code a shell would give. */
static void record_failure(struct monitor *m, const struct berth_error *e)
{
  cleanup_free char *msg = berth_error_string(e);
  m->st.status = m->st.restart_count > 0 ? BERTH_STATUS_EXITED : BERTH_STATUS_CREATED;
  m->st.pid = 0;
  m->st.exit_code = exit_code_for_error(e);
  snprintf(m->st.error, sizeof(m->st.error), "%s", msg);
  if (m->st.restart_count > 0)
    m->st.finished_at = berth_now_ns();
  save_state(m);
}

/* docker's container event, into the journal (engine/events.c reads it):
 * the attributes come from config.json as it is now (a rename shows). */
static void record_event(struct monitor *m, const char *action, json_t *extra)
{
  cleanup_json json_t *rec = berth_json_load_at(m->ctr_dfd, "config.json", NULL);
  json_t *attrs = berth_event_container_attrs(rec);
  cleanup_close int runroot = open(m->runroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  berth_error_t err = NULL;
  if (extra)
    json_object_update(attrs, extra);
  json_decref(extra);
  cleanup_json json_t *msg = berth_event_message("container", action, m->id, attrs, berth_now_ns());
  if (runroot < 0 || berth_event_append(runroot, msg, &err) < 0) {
    berth_debug("record the %s event, ignoring: %s", action, err ? err->msg : strerror(errno));
    berth_error_release(&err);
  }
}

/* docker's "health_status: healthy" when a probe changes the status */
static void health_event(void *data, const char *status)
{
  char action[64];
  snprintf(action, sizeof(action), "health_status: %s", status);
  record_event(data, action, NULL);
}

static void exec_event(void *data, const char *action, json_t *attrs) { record_event(data, action, attrs); }

static int start_container(struct monitor *m, berth_error_t *err)
{
  if (berth_runtime_start(m->c, err) < 0) {
    m->start_failed = true;
    record_failure(m, *err);
    /* init may still wait for its go-ahead: end it and reap it here (its
     * SIGCHLD stays queued, so a running relay still returns) */
    (void)kill(m->c->pid, SIGKILL);
    while (waitpid(m->c->pid, &m->wstatus, 0) < 0 && errno == EINTR)
      ;
    m->exited = true;
    return -1;
  }
  m->st.status = BERTH_STATUS_RUNNING;
  m->st.started_at = berth_now_ns();
  m->started_ns = berth_now_ns();
  save_state(m);
  record_event(m, "start", NULL);
  berth_health_start(m->health, m->c, m->exec.own_pidns, m->st.started_at);
  return 0;
}

static int relay_start(struct berth_relay *r, berth_error_t *err) { return start_container(r->data, err); }

static void reap(struct monitor *m)
{
  int ws;
  pid_t pid;
  while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
    if (m->c && pid == m->c->pid) {
      m->wstatus = ws;
      m->exited = true;
    } else if (!berth_health_reaped(m->health, pid, ws)) {
      (void)berth_exec_reaped(&m->exec, pid, ws);
    }
}

static bool relay_signal(struct berth_relay *r, const struct signalfd_siginfo *si)
{
  struct monitor *m = r->data;
  if (si->ssi_signo == SIGCHLD)
    reap(m);
  else
    berth_debug("signal %u while running, ignoring", si->ssi_signo);
  return m->exited;
}

static const struct berth_relay_ops relay_ops = {.signal = relay_signal, .start = relay_start};

/* The spec is only needed to create the container: an idle monitor keeps
 * none of it (a restart reads spec.json again). */
static void forget_spec(struct monitor *m)
{
  berth_spec_free(m->spec);
  m->spec = NULL;
}

/* The container's interfaces (annotation berth.net, from the engine), made
 * while init waits before exec, and its published ports (berth.ports, kept
 * over restarts); on failure init goes and nothing is left. */
static int setup_network(struct monitor *m, berth_error_t *err)
{
  const char *eps = berth_spec_annotation(m->spec, "berth.net");
  const char *undo = berth_spec_annotation(m->spec, "berth.net.undo");
  const char *ports = berth_spec_annotation(m->spec, "berth.ports");
  free(m->net_undo);
  m->net_undo = undo && *undo ? strdup(undo) : NULL;
  if (!eps || !*eps)
    return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)m->c->pid);
  cleanup_close int nsfd = m->c->pidfd >= 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
  if (berth_net_attach_json(m->c->pid, m->c->pidfd >= 0 ? m->c->pidfd : nsfd, eps, err) == 0 &&
      (m->ports || !ports || berth_ports_open(&m->ports, ports, err) == 0))
    return 0;
  (void)kill(m->c->pid, SIGKILL);
  while (waitpid(m->c->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  (void)berth_runtime_delete(m->c, NULL);
  berth_runtime_container_free(m->c);
  m->c = NULL;
  return -1;
}

/* The container is over for good: its ports go, for the next to take. */
static void release_ports(struct monitor *m)
{
  berth_error_t err = NULL;
  berth_ports_close(m->ports);
  m->ports = NULL;
  if (m->net_undo && berth_nft_run(m->net_undo, &err) < 0) {
    berth_warn("unpublish the ports of `%s`, ignoring: %s", m->id, err->msg);
    berth_error_release(&err);
  }
  free(m->net_undo);
  m->net_undo = NULL;
}

/* Create (and unless waiting, start) the container; report on the status fd. */
static int launch(struct monitor *m, bool wait_start)
{
  struct berth_runtime_io io;
  cleanup_error berth_error_t err = NULL;
  m->exited = m->start_failed = false;
  m->out_r = m->err_r = m->in_w = -1;
  io = (struct berth_runtime_io){.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  if (!m->spec)
    m->spec = berth_spec_load_at(m->run_dfd, "spec.json", NULL, &err);
  if (!m->spec || make_pipes(m, &io, &err) < 0 || berth_runtime_create(m->spec, &io, &m->c, &err) < 0 ||
      setup_network(m, &err) < 0) {
    forget_spec(m);
    close_child_ends(&io);
    close_and_reset(&m->out_r);
    close_and_reset(&m->err_r);
    close_and_reset(&m->in_w);
    berth_ports_close(m->ports);
    m->ports = NULL;
    record_failure(m, err);
    report(m, err, 0);
    return -1;
  }
  forget_spec(m);
  close_child_ends(&io);
  m->st.pid = m->c->pid;
  m->st.pid_start = m->c->start_time;
  m->st.exit_code = 0;
  m->st.oom_killed = false;
  m->st.error[0] = '\0';
  if (!wait_start && start_container(m, &err) < 0) {
    report(m, err, 0);
    return 0; /* the relay reaps the killed init */
  }
  if (wait_start) {
    m->st.status = BERTH_STATUS_RUNNING; /* init is there, held before exec */
    save_state(m);
  }
  report(m, NULL, m->c->pid);
  return 0;
}

static void relay_container(struct monitor *m, bool wait_start)
{
  cleanup_error berth_error_t err = NULL;
  int fd = m->tty ? m->c->console_fd : -1;
  if (fd >= 0)
    (void)nonblock(fd);
  m->relay.out_fd = m->tty ? fd : m->out_r;
  m->relay.err_fd = m->tty ? -1 : m->err_r;
  m->relay.in_fd = m->tty ? (m->stdin_open ? fd : -1) : m->in_w;
  m->relay.tty = m->tty;
  m->relay.stdin_once = m->stdin_once;
  m->relay.wait_start = wait_start && !m->start_failed;
  m->relay.sig_fd = m->sig_fd;
  m->relay.log = &m->log;
  m->relay.srv = &m->srv;
  m->relay.exec = &m->exec;
  m->relay.health = m->health;
  m->relay.ports = m->ports;
  m->exec.c = m->start_failed ? NULL : m->c;
  m->exec.event = exec_event, m->exec.event_data = m;
  m->relay.ops = &relay_ops;
  m->relay.data = m;
  if (!m->exited && berth_relay_run(&m->relay, &err) < 0) {
    berth_log_write(BERTH_LOG_ERROR, BERTH_LOG_DOMAIN, "%s; killing the container", err->msg);
    (void)kill(m->c->pid, SIGKILL);
    while (!m->exited && waitpid(m->c->pid, &m->wstatus, 0) == m->c->pid)
      m->exited = true;
  }
  if (!m->tty && m->relay.in_fd >= 0)
    (void)close(m->relay.in_fd);
  m->in_w = -1;
  close_and_reset(&m->out_r);
  close_and_reset(&m->err_r);
}

/* ---- restart policy ---- */

/* `update --restart` rewrites spec.json while the container runs: the policy
 * that counts is the one there when it exits. */
static void reload_restart(struct monitor *m)
{
  berth_error_t err = NULL;
  struct berth_spec *spec = berth_spec_load_at(m->run_dfd, "spec.json", NULL, &err);
  if (!spec || parse_restart(m, berth_spec_annotation(spec, "berth.restart"), &err) < 0) {
    berth_warn("reload the restart policy of `%s`, keeping the one it started with: %s", m->id, err->msg);
    berth_error_release(&err);
  }
  berth_spec_free(spec);
}

/* A user's stop (the engine's `stopped` file in the run dir) ends restarts. */
static bool user_stopped(struct monitor *m) { return faccessat(m->run_dfd, "stopped", F_OK, 0) == 0; }

/* docker's restartmanager: should this exit be followed by a restart? */
static bool should_restart(struct monitor *m, int code)
{
  bool ran_long = berth_now_ns() - m->started_ns >= BACKOFF_RESET_NS;
  if (ran_long || m->backoff_ms == 0)
    m->backoff_ms = BACKOFF_FIRST_MS;
  else if (m->backoff_ms < BACKOFF_MAX_MS)
    m->backoff_ms *= 2;
  if (m->backoff_ms > BACKOFF_MAX_MS)
    m->backoff_ms = BACKOFF_MAX_MS;
  if (m->start_failed || user_stopped(m))
    return false;
  switch (m->restart) {
  case RESTART_ALWAYS:
  case RESTART_UNLESS_STOPPED:
    return true;
  case RESTART_ON_FAILURE:
    return code != 0 && (m->restart_max == 0 || m->st.restart_count < m->restart_max);
  case RESTART_NO:
    break;
  }
  return false;
}

/* init is gone: collect its status, tear the container down, record it:
 * exited, or restarting when the policy says so (never a passing "exited"
 * between two runs).  *ret_again tells which. */
static int finish_run(struct monitor *m, bool *ret_again)
{
  berth_error_t err = NULL;
  int code = m->start_failed ? m->st.exit_code : berth_runtime_exit_code(m->wstatus);
  bool oom = m->c->cgroup && berth_cgroup_oom_killed(m->c->cgroup);
  berth_health_stop(m->health);
  berth_exec_finish_all(&m->exec);
  m->exec.c = NULL;
  if (berth_runtime_delete(m->c, &err) < 0) {
    berth_warn("delete container `%s`, ignoring: %s", m->id, err->msg);
    berth_error_release(&err);
  }
  berth_runtime_container_free(m->c);
  m->c = NULL;
  reload_restart(m);
  *ret_again = should_restart(m, code);
  if (!*ret_again) /* a restart keeps its address and ports */
    release_ports(m);
  if (!m->start_failed) {
    m->st.status = *ret_again ? BERTH_STATUS_RESTARTING : BERTH_STATUS_EXITED;
    m->st.pid = 0;
    m->st.exit_code = code;
    m->st.oom_killed = oom;
    m->st.finished_at = berth_now_ns();
  } else if (*ret_again) {
    m->st.status = BERTH_STATUS_RESTARTING;
  }
  if (*ret_again)
    m->st.restart_count++;
  if (!m->start_failed || *ret_again)
    save_state(m);
  if (!m->start_failed) {
    char num[16];
    snprintf(num, sizeof(num), "%d", code);
    record_event(m, "die", json_pack("{s:s}", "exitCode", num));
  }
  close_and_reset(&m->remover_fd);
  m->remover_fd = berth_attach_server_finish(&m->srv, code);
  return code;
}

/* Watch the run dir for the `stopped` file a user stop writes (by rename):
 * the engine signals only init, and there is none during a back-off. */
static int watch_stopped(struct monitor *m)
{
  char path[64];
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  snprintf(path, sizeof(path), "/proc/self/fd/%d", m->run_dfd);
  if (fd >= 0 && inotify_add_watch(fd, path, IN_CREATE | IN_MOVED_TO) < 0)
    close_and_reset(&fd);
  if (fd < 0)
    berth_debug("watch `%s` for a stop, ignoring: %s", path, strerror(errno));
  return fd;
}

/* Wait out the back-off; false when a stop came meanwhile. */
static bool restart_delay(struct monitor *m)
{
  int64_t deadline = berth_now_ns() + (int64_t)m->backoff_ms * 1000000;
  cleanup_close int ino = watch_stopped(m);
  struct signalfd_siginfo si;
  uint8_t ev[512];
  for (;;) {
    int64_t left_ms = (deadline - berth_now_ns()) / 1000000;
    struct pollfd p[2] = {{.fd = m->sig_fd, .events = POLLIN}, {.fd = ino, .events = POLLIN}};
    if (user_stopped(m))
      return false;
    if (left_ms <= 0)
      return true;
    if (poll(p, 2, (int)left_ms) <= 0)
      continue;
    while (ino >= 0 && read(ino, ev, sizeof(ev)) > 0)
      ;
    while (read(m->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
      if (si.ssi_signo == SIGCHLD)
        reap(m);
  }
}

static void stop_restarting(struct monitor *m)
{
  m->st.status = BERTH_STATUS_EXITED;
  save_state(m);
}

/* ---- --rm ---- */

/* Until the client that removes the container hangs up (60 s at most). */
static void wait_hangup(int fd)
{
  char buf[256];
  int64_t deadline = berth_now_ns() + 60 * (int64_t)1000000000;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (fd >= 0) {
    int64_t left_ms = (deadline - berth_now_ns()) / 1000000;
    if (left_ms <= 0 || (poll(&p, 1, (int)left_ms) < 0 && errno != EINTR))
      return;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && read(fd, buf, sizeof buf) <= 0)
      return;
  }
}

static void remove_container(struct monitor *m)
{
  const char *berth = m->berth ? m->berth : "berth";
  sigset_t none;
  int ws;
  pid_t pid = fork();
  if (pid < 0) {
    berth_warn("fork `%s rm`, ignoring: %s", berth, strerror(errno));
    return;
  }
  if (pid == 0) {
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execlp(berth, berth, "--root", m->root, "--runroot", m->runroot, "rm", "-f", "-v", m->id, (char *)NULL);
    _exit(127);
  }
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
    berth_warn("`%s rm -f %s` failed (status %d)", berth, m->id, ws);
}

static void init_state(struct monitor *m)
{
  berth_error_t err = NULL;
  if (berth_state_read_at(m->ctr_dfd, &m->st, &err) < 0) {
    berth_warn("read state of `%s`, starting afresh: %s", m->id, err->msg);
    berth_error_release(&err);
    m->st = (struct berth_state){.status = BERTH_STATUS_CREATED};
  }
  m->st.restart_count = 0; /* docker resets it on every user start */
}

int main(int argc, char **argv)
{
  static struct monitor m = {
      .status_fd = -1, .run_dfd = -1, .ctr_dfd = -1, .lock_fd = -1, .sig_fd = -1, .remover_fd = -1};
  berth_error_t err = NULL;
  bool first = true;
  openlog("berth-monitor", LOG_PID, LOG_DAEMON);
  parse_args(&m, argc, argv);
  berth_log_set_handler(syslog_handler, (void *)m.id);
  if (setup_process(&m, &err) < 0 || load_config(&m, &err) < 0 || open_io(&m, &err) < 0)
    die(&m, &err);
  init_state(&m);
  for (;;) {
    if (launch(&m, first && m.wait_start) < 0)
      break;
    /* about to idle: give back what creating the container used */
    (void)malloc_trim(0);
    relay_container(&m, first && m.wait_start);
    bool again;
    (void)finish_run(&m, &again);
    first = false;
    if (!again)
      break;
    if (!restart_delay(&m)) {
      stop_restarting(&m);
      break;
    }
  }
  release_ports(&m); /* a restart that failed, or was stopped */
  berth_health_free(m.health);
  berth_logfile_close(&m.log);
  berth_relay_clear(&m.relay);
  berth_attach_server_close(&m.srv);
  if (m.rm) {
    /* an attached `run --rm` removes it itself once it has the EXIT: leave
     * it that, and remove only what a client that hung up early left */
    wait_hangup(m.remover_fd);
    close_and_reset(&m.lock_fd); /* `rm` must find no live monitor */
    if (faccessat(m.ctr_dfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
      remove_container(&m);
  }
  return 0;
}
