/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-monitor's main program (cmd/berth-monitor/monitor.c, compiled into
 * this test) run in a child process against a stand-in for the runtime core
 * and the spec loader: fork + exec of process.args, held until start.  That
 * covers what the monitor itself decides: the status line, state.json through
 * a run, the log, restart policies with back-off and the `stopped` file,
 * start failures (127), --wait-start with an attach client, --rm, and the
 * removal of attach.sock.  Real containers are the bats tests' job. */
#include <criterion/criterion.h>

#include <berth/attach.h>

/* The runtime and spec entry points monitor.c calls, renamed to this file's stand-ins. */
#define berth_runtime_create fake_runtime_create
#define berth_runtime_start fake_runtime_start
#define berth_runtime_delete fake_runtime_delete
#define berth_runtime_container_free fake_runtime_container_free
#define berth_runtime_exit_code fake_runtime_exit_code
#define berth_cgroup_oom_killed fake_cgroup_oom_killed
#define berth_spec_load_at fake_spec_load_at
#define berth_spec_annotation fake_spec_annotation
#define berth_spec_free fake_spec_free
#define main monitor_main
#include "monitor.c"
#undef main

#include <sys/socket.h>
#include <sys/un.h>

#include "base/fs.h"
#include "base/json.h"

/* ---- stand-ins ---- */

struct berth_spec *fake_spec_load_at(int dirfd, const char *path, const char *bundle, berth_error_t *err)
{
  cleanup_json json_t *j = berth_json_load_at(dirfd, path, err);
  struct berth_spec *s;
  json_t *args, *v;
  size_t i;
  if (!j)
    return NULL;
  s = calloc(1, sizeof(*s));
  args = json_object_get(json_object_get(j, "process"), "args");
  s->process.terminal = json_is_true(json_object_get(json_object_get(j, "process"), "terminal"));
  s->process.args = calloc(json_array_size(args) + 1, sizeof(char *));
  json_array_foreach(args, i, v) s->process.args[i] = strdup(json_string_value(v));
  s->annotations = json_incref(json_object_get(j, "annotations"));
  if (!s->annotations)
    s->annotations = json_object();
  return s;
}

const char *fake_spec_annotation(const struct berth_spec *spec, const char *key)
{
  return berth_json_str(spec->annotations, key);
}

void fake_spec_free(struct berth_spec *spec)
{
  if (!spec)
    return;
  berth_strv_free(spec->process.args);
  json_decref(spec->annotations);
  free(spec);
}

int fake_runtime_create(const struct berth_spec *spec, const struct berth_runtime_io *io,
                        struct berth_runtime_container **ret, berth_error_t *err)
{
  int sync[2];
  struct berth_runtime_container *c;
  if (access(spec->process.args[0], X_OK) < 0)
    return berth_error_set_plain(err, BERTH_ERR_CMD_NOT_FOUND, "exec: \"%s\": executable file not found in $PATH",
                                 spec->process.args[0]);
  cr_assert_eq(pipe2(sync, O_CLOEXEC), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    sigset_t none;
    char go = 0;
    int null = open("/dev/null", O_RDWR);
    close(sync[1]);
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    dup2(io->stdin_fd >= 0 ? io->stdin_fd : null, 0);
    dup2(io->stdout_fd >= 0 ? io->stdout_fd : null, 1);
    dup2(io->stderr_fd >= 0 ? io->stderr_fd : null, 2);
    if (read(sync[0], &go, 1) != 1 || go != 'x')
      _exit(0);
    execv(spec->process.args[0], spec->process.args);
    _exit(127);
  }
  close(sync[0]);
  c = calloc(1, sizeof(*c));
  *c = (struct berth_runtime_container){.pid = pid, .pidfd = -1, .console_fd = -1, .start_time = 4242,
                                        .sync_fd = sync[1]};
  *ret = c;
  return 0;
}

int fake_runtime_start(struct berth_runtime_container *c, berth_error_t *err)
{
  if (write(c->sync_fd, "x", 1) != 1)
    return berth_error_set(err, errno, "start");
  close_and_reset(&c->sync_fd);
  return 0;
}

int fake_runtime_delete(struct berth_runtime_container *c, berth_error_t *err) { return 0; }

void fake_runtime_container_free(struct berth_runtime_container *c)
{
  if (c)
    close_and_reset(&c->sync_fd);
  free(c);
}

int fake_runtime_exit_code(int ws) { return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws); }

bool fake_cgroup_oom_killed(struct berth_cgroup *cg) { return false; }

/* ---- harness ---- */

static char top[64], root[128], runroot[128], rundir[192], ctrdir[192];
static int ctr_fd = -1, run_fd = -1;
static pid_t monitor_pid = -1;

static void setup(void)
{
  berth_error_t err = NULL;
  snprintf(top, sizeof(top), "/tmp/berth-test-monitor-XXXXXX");
  cr_assert_not_null(mkdtemp(top));
  snprintf(root, sizeof(root), "%s/root", top);
  snprintf(runroot, sizeof(runroot), "%s/run", top);
  snprintf(rundir, sizeof(rundir), "%s/containers/c1", runroot);
  snprintf(ctrdir, sizeof(ctrdir), "%s/containers/c1", root);
  int tfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq(berth_mkdir_p(tfd, "root/containers/c1", 0700, &err), 0);
  cr_assert_eq(berth_mkdir_p(tfd, "run/containers/c1", 0700, &err), 0);
  close(tfd);
  ctr_fd = open(ctrdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  run_fd = open(rundir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq(ctr_fd, 0);
  cr_assert_geq(run_fd, 0);
}

static void teardown(void)
{
  berth_error_t err = NULL;
  if (monitor_pid > 0) { /* a test that failed half-way */
    (void)kill(monitor_pid, SIGKILL);
    (void)waitpid(monitor_pid, NULL, 0);
  }
  close(ctr_fd);
  close(run_fd);
  cr_expect_eq(berth_rm_rf_at(AT_FDCWD, top, &err), 0);
}

TestSuite(monitor, .init = setup, .fini = teardown, .timeout = 30);

static void write_spec(const char *script, const char *annotations)
{
  char doc[2048];
  berth_error_t err = NULL;
  int n = snprintf(doc, sizeof(doc),
                   "{\"process\":{\"terminal\":false,\"args\":[\"/bin/sh\",\"-c\",\"%s\"]},\"annotations\":{%s}}",
                   script, annotations);
  cr_assert_eq(berth_write_file_atomic(run_fd, "spec.json", doc, (size_t)n, 0644, &err), 0);
}

struct run {
  pid_t pid;
  char status[512];
};

/* Start the monitor in a child, as the engine would (status pipe, extra args). */
static struct run monitor_spawn(const char *extra1, const char *extra2)
{
  struct run r = {0};
  int sp[2];
  char fdarg[16];
  cr_assert_eq(pipe(sp), 0);
  r.pid = fork();
  cr_assert_geq(r.pid, 0);
  if (r.pid == 0) {
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(sp[0]);
    snprintf(fdarg, sizeof(fdarg), "%d", sp[1]);
    char *argv[] = {"berth-monitor", "--root", root, "--runroot", runroot, "--id", "c1", "--status-fd", fdarg,
                    (char *)extra1, (char *)extra2, NULL};
    int argc = 9 + (extra1 ? 1 : 0) + (extra2 ? 1 : 0);
    _exit(monitor_main(argc, argv));
  }
  close(sp[1]);
  monitor_pid = r.pid;
  /* One line, not until EOF: init holds the pipe until it execs. */
  size_t len = 0;
  ssize_t n;
  while (len < sizeof(r.status) - 1 && (n = read(sp[0], r.status + len, 1)) > 0 && r.status[len++] != '\n')
    ;
  close(sp[0]);
  return r;
}

static void monitor_wait(struct run *r)
{
  int ws;
  cr_assert_eq(waitpid(r->pid, &ws, 0), r->pid);
  monitor_pid = -1;
  cr_assert(WIFEXITED(ws), "monitor died: %d", ws);
}

static struct berth_state state(void)
{
  struct berth_state st;
  berth_error_t err = NULL;
  cr_assert_eq(berth_state_read_at(ctr_fd, &st, &err), 0, "%s", err ? err->msg : "");
  return st;
}

static char *log_text(void)
{
  char *buf = NULL;
  size_t len;
  berth_error_t err = NULL;
  cr_assert_eq(berth_read_file_at(ctr_fd, "c1-json.log", &buf, &len, &err), 0);
  return buf;
}

static size_t count(const char *hay, const char *needle)
{
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++)
    n++;
  return n;
}

Test(monitor, runs_logs_and_records_the_exit)
{
  write_spec("echo hello; echo oops >&2; exit 3", "");
  struct run r = monitor_spawn(NULL, NULL);
  cr_expect_eq(strncmp(r.status, "ok ", 3), 0, "status: %s", r.status);
  cr_expect_eq(r.status[strlen(r.status) - 1], '\n');
  monitor_wait(&r);
  struct berth_state st = state();
  cr_expect_eq(st.status, BERTH_STATUS_EXITED);
  cr_expect_eq(st.exit_code, 3);
  cr_expect_eq(st.pid, 0);
  cr_expect_eq(st.pid_start, 4242);
  cr_expect_eq(st.monitor_pid, r.pid);
  cr_expect_gt(st.started_at, 0);
  cr_expect_geq(st.finished_at, st.started_at);
  cr_expect_eq(st.restart_count, 0);
  cleanup_free char *log = log_text();
  cr_expect_not_null(strstr(log, "{\"log\":\"hello\\n\",\"stream\":\"stdout\""), "%s", log);
  cr_expect_not_null(strstr(log, "{\"log\":\"oops\\n\",\"stream\":\"stderr\""), "%s", log);
  cr_expect_neq(faccessat(run_fd, "attach.sock", F_OK, 0), 0, "attach.sock is removed");
  cr_expect_eq(faccessat(run_fd, "monitor.lock", F_OK, 0), 0);
}

Test(monitor, on_failure_restarts_up_to_n_times_with_backoff)
{
  write_spec("echo run; exit 1", "\"berth.restart\":\"on-failure:2\"");
  struct run r = monitor_spawn(NULL, NULL);
  int64_t t0 = berth_now_ns();
  monitor_wait(&r);
  int64_t ms = (berth_now_ns() - t0) / 1000000;
  struct berth_state st = state();
  cr_expect_eq(st.status, BERTH_STATUS_EXITED);
  cr_expect_eq(st.exit_code, 1);
  cr_expect_eq(st.restart_count, 2);
  cleanup_free char *log = log_text();
  cr_expect_eq(count(log, "\"log\":\"run\\n\""), 3, "first run and two restarts: %s", log);
  cr_expect_geq(ms, 300, "back-off 100 ms, then 200 ms (took %lld ms)", (long long)ms);
}

Test(monitor, on_failure_does_not_restart_a_success)
{
  write_spec("exit 0", "\"berth.restart\":\"on-failure\"");
  struct run r = monitor_spawn(NULL, NULL);
  monitor_wait(&r);
  cr_expect_eq(state().restart_count, 0);
}

Test(monitor, a_user_stop_ends_always)
{
  char script[512];
  snprintf(script, sizeof(script), "echo run; touch %s/stopped; exit 0", rundir);
  write_spec(script, "\"berth.restart\":\"always\"");
  struct run r = monitor_spawn(NULL, NULL);
  monitor_wait(&r);
  struct berth_state st = state();
  cr_expect_eq(st.status, BERTH_STATUS_EXITED);
  cr_expect_eq(st.restart_count, 0);
}

Test(monitor, missing_command_reports_127_and_stays_created)
{
  char doc[] = "{\"process\":{\"args\":[\"/nonexistent/cmd\"]},\"annotations\":{}}";
  berth_error_t err = NULL;
  cr_assert_eq(berth_write_file_atomic(run_fd, "spec.json", doc, sizeof(doc) - 1, 0644, &err), 0);
  struct run r = monitor_spawn(NULL, NULL);
  monitor_wait(&r);
  cr_expect_str_eq(r.status, "err 10127 exec: \"/nonexistent/cmd\": executable file not found in $PATH\n");
  struct berth_state st = state();
  cr_expect_eq(st.status, BERTH_STATUS_CREATED);
  cr_expect_eq(st.exit_code, 127);
  cr_expect_str_eq(st.error, "exec: \"/nonexistent/cmd\": executable file not found in $PATH");
}

Test(monitor, bad_annotations_are_reported)
{
  write_spec("exit 0", "\"berth.restart\":\"sometimes\"");
  struct run r = monitor_spawn(NULL, NULL);
  monitor_wait(&r);
  cr_expect_str_eq(r.status, "err 22 invalid restart policy `sometimes`\n");
}

Test(monitor, a_second_monitor_is_refused)
{
  int lock = openat(run_fd, "monitor.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  cr_assert_eq(flock(lock, LOCK_EX | LOCK_NB), 0);
  write_spec("exit 0", "");
  struct run r = monitor_spawn(NULL, NULL);
  monitor_wait(&r);
  cr_expect_eq(strncmp(r.status, "err 16 container `c1` already has a monitor", 43), 0, "%s", r.status);
  close(lock);
}

Test(monitor, wait_start_waits_for_an_attach_client)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  uint8_t want = BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDIN, type, buf[BERTH_ATTACH_MAX_PAYLOAD];
  size_t len;
  char out[256] = "";
  size_t out_len = 0;
  int code = -1, fd;
  berth_error_t err = NULL;
  write_spec("read line; echo got $line; exit 7", "\"berth.stdin-open\":\"true\"");
  struct run r = monitor_spawn("--wait-start", NULL);
  cr_expect_eq(strncmp(r.status, "ok ", 3), 0, "status: %s", r.status);
  cr_expect_eq(state().started_at, 0, "not started yet");
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/attach.sock", run_fd);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0, "%s", strerror(errno));
  struct stat sb;
  cr_assert_eq(fstatat(run_fd, "attach.sock", &sb, 0), 0);
  cr_expect_eq(sb.st_mode & 0777, 0600);
  cr_assert_eq(berth_attach_send(fd, BERTH_ATTACH_HELLO, &want, 1, &err), 0);
  cr_assert_eq(berth_attach_send(fd, BERTH_ATTACH_STDIN, "early\n", 6, &err), 0);
  cr_assert_eq(berth_attach_send(fd, BERTH_ATTACH_START, NULL, 0, &err), 0);
  while (berth_attach_recv(fd, &type, buf, &len, &err) == 1) {
    if (type == BERTH_ATTACH_STDOUT && out_len + len < sizeof(out)) {
      memcpy(out + out_len, buf, len);
      out_len += len;
    }
    if (type == BERTH_ATTACH_EXIT)
      code = buf[3];
  }
  close(fd);
  monitor_wait(&r);
  cr_expect_str_eq(out, "got early\n");
  cr_expect_eq(code, 7);
  cr_expect_eq(state().exit_code, 7);
}

/* A --rm container's run with a fake `berth` that records its arguments in
 * TOP/rm-args; returns an fd of TOP. */
static int run_rm_container(void)
{
  char script[512], tool[256], marker[256], berth_arg[300];
  berth_error_t err = NULL;
  snprintf(tool, sizeof(tool), "%s/fake-berth", top);
  snprintf(marker, sizeof(marker), "%s/rm-args", top);
  int n = snprintf(script, sizeof(script), "#!/bin/sh\necho \"$@\" > %s\n", marker);
  int tfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq(berth_write_file_atomic(tfd, "fake-berth", script, (size_t)n, 0755, &err), 0);
  write_spec("exit 0", "\"berth.rm\":\"true\"");
  snprintf(berth_arg, sizeof(berth_arg), "--berth=%s", tool);
  struct run r = monitor_spawn(berth_arg, NULL);
  monitor_wait(&r);
  return tfd;
}

Test(monitor, rm_leaves_alone_a_container_already_removed)
{
  int tfd = run_rm_container();
  cr_expect_lt(faccessat(tfd, "rm-args", F_OK, 0), 0, "berth rm ran for a container with no record");
  close(tfd);
}

Test(monitor, rm_runs_berth_rm_after_the_exit)
{
  berth_error_t err = NULL;
  int cfd = open(ctrdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq(berth_write_file_atomic(cfd, "config.json", "{}", 2, 0644, &err), 0);
  close(cfd);
  int tfd = run_rm_container();
  char *args = NULL;
  size_t len;
  cr_assert_eq(berth_read_file_at(tfd, "rm-args", &args, &len, &err), 0, "berth rm was not run");
  char want[512];
  snprintf(want, sizeof(want), "--root %s --runroot %s rm -f -v c1\n", root, runroot);
  cr_expect_str_eq(args, want);
  free(args);
  close(tfd);
}
