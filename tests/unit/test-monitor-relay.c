/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The monitor's relay loop and attach server with real processes in place of
 * a container: output reaches the log and every attached client, START is
 * held until a client sends it, STDIN/STDIN_EOF/stdin-once reach the
 * container, RESIZE reaches a pty, EXIT closes the session, a client that
 * does not read is dropped without holding the container back, and broken
 * frames only cost the client that sent them. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "monitor.h"

static char dir[64];
static int dfd = -1;

struct fixture {
  struct berth_logfile log;
  struct berth_attach_server srv;
  struct berth_relay relay;
  pid_t child;
  int wstatus;
  bool exited;
  int go_fd;   /* START writes a byte here */
  int hold_fd; /* a failed START closes this */
  int starts;
};
static struct fixture fx;

static void setup(void)
{
  berth_error_t err = NULL;
  sigset_t set;
  snprintf(dir, sizeof(dir), "/tmp/berth-test-relay-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq(dfd, 0);
  memset(&fx, 0, sizeof(fx));
  fx.go_fd = fx.hold_fd = -1;
  cr_assert_eq(berth_logfile_open(&fx.log, dfd, "c-json.log", 0, 1, &err), 0);
  cr_assert_eq(berth_attach_server_open(&fx.srv, dfd, &err), 0, "%s", err ? err->msg : "");
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGPIPE);
  cr_assert_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0); /* before any thread starts */
  fx.relay.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  cr_assert_geq(fx.relay.sig_fd, 0);
}

static void teardown(void)
{
  berth_error_t err = NULL;
  berth_attach_server_close(&fx.srv);
  berth_logfile_close(&fx.log);
  berth_relay_clear(&fx.relay);
  cr_expect_eq(berth_rm_rf_at(AT_FDCWD, dir, &err), 0);
  close(dfd);
}

TestSuite(relay, .init = setup, .fini = teardown, .timeout = 30);

static bool on_signal(struct berth_relay *r, const struct signalfd_siginfo *si)
{
  (void)r;
  if (si->ssi_signo == SIGCHLD && waitpid(fx.child, &fx.wstatus, WNOHANG) == fx.child)
    fx.exited = true;
  return fx.exited;
}

static int on_start(struct berth_relay *r, berth_error_t *err)
{
  (void)r;
  fx.starts++;
  if (fx.go_fd < 0) {
    close_and_reset(&fx.hold_fd); /* the monitor kills init after a failed start */
    return berth_error_set_plain(err, 10127, "exec: \"nope\": executable file not found in $PATH");
  }
  cr_assert_eq(write(fx.go_fd, "g", 1), 1);
  close_and_reset(&fx.go_fd);
  return 0;
}

static const struct berth_relay_ops ops = {.signal = on_signal, .start = on_start};

/* The "container": a child running fn with its stdio on the given fds. */
static pid_t spawn(void (*fn)(int go), int in, int out, int errfd, int go)
{
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0) || (errfd >= 0 && dup2(errfd, 2) < 0) ||
        (go >= 0 && dup2(go, 3) < 0))
      _exit(99);
    /* like the exec in a real container: the monitor's fds are not inherited */
    for (int fd = go >= 0 ? 4 : 3; fd < 1024; fd++)
      (void)close(fd);
    fn(go >= 0 ? 3 : -1);
    _exit(98);
  }
  return pid;
}

/* Pipes as the monitor makes them: our ends non-blocking. */
static void pipes(int *child_in, int *child_out, int *child_err)
{
  int in[2], out[2], errp[2];
  cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
  cr_assert_eq(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
  cr_assert_eq(pipe2(errp, O_CLOEXEC | O_NONBLOCK), 0);
  cr_assert_eq(fcntl(in[1], F_SETFL, O_NONBLOCK), 0);
  cr_assert_eq(fcntl(out[1], F_SETFL, 0), 0);
  cr_assert_eq(fcntl(errp[1], F_SETFL, 0), 0);
  *child_in = in[0], *child_out = out[1], *child_err = errp[1];
  fx.relay.in_fd = in[1], fx.relay.out_fd = out[0], fx.relay.err_fd = errp[0];
}

static void run_relay(void)
{
  berth_error_t err = NULL;
  fx.relay.log = &fx.log;
  fx.relay.srv = &fx.srv;
  fx.relay.ops = &ops;
  cr_assert_eq(berth_relay_run(&fx.relay, &err), 0, "%s", err ? err->msg : "");
  cr_assert(fx.exited);
}

/* ---- attach clients, each in a thread ---- */

struct client {
  pthread_t thread;
  uint8_t want;
  const char *script; /* S=START, I<text>|=STDIN, E=STDIN_EOF, R=RESIZE 40x100, C=close, X=bad frame */
  bool read_nothing;  /* never read (a stuck terminal) */
  char out[65536], err[4096], error[512];
  size_t out_len, err_len;
  int exit_code;      /* -1: no EXIT frame */
  int fd;
};

static int client_connect(void)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/attach.sock", dfd);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    return -1;
  return fd;
}

/* Send the client's whole script (from the test's thread, so that the
 * order of clients is fixed before the relay runs). */
static void client_script(struct client *c)
{
  uint8_t rs[4] = {0, 40, 0, 100};
  for (const char *p = c->script; p && *p; p++) {
    int r = 0;
    if (*p == 'S')
      r = berth_attach_send(c->fd, BERTH_ATTACH_START, NULL, 0, NULL);
    else if (*p == 'E')
      r = berth_attach_send(c->fd, BERTH_ATTACH_STDIN_EOF, NULL, 0, NULL);
    else if (*p == 'R')
      r = berth_attach_send(c->fd, BERTH_ATTACH_RESIZE, rs, 4, NULL);
    else if (*p == 'X')
      r = berth_attach_send(c->fd, 77, "??", 2, NULL);
    else if (*p == 'C')
      close_and_reset(&c->fd);
    else if (*p == 'I') {
      const char *end = strchr(p, '|');
      r = berth_attach_send(c->fd, BERTH_ATTACH_STDIN, p + 1, (size_t)(end - p - 1), NULL);
      p = end;
    }
    cr_assert_eq(r, 0);
  }
}

/* The client's thread: collect frames until the monitor closes. */
static void *client_main(void *arg)
{
  struct client *c = arg;
  uint8_t *buf = malloc(BERTH_ATTACH_MAX_PAYLOAD);
  uint8_t type;
  size_t len;
  berth_error_t err = NULL;
  while (c->fd >= 0 && !c->read_nothing && berth_attach_recv(c->fd, &type, buf, &len, &err) == 1) {
    if (type == BERTH_ATTACH_STDOUT && c->out_len + len < sizeof(c->out)) {
      memcpy(c->out + c->out_len, buf, len);
      c->out_len += len;
    } else if (type == BERTH_ATTACH_STDERR && c->err_len + len < sizeof(c->err)) {
      memcpy(c->err + c->err_len, buf, len);
      c->err_len += len;
    } else if (type == BERTH_ATTACH_ERROR) {
      snprintf(c->error, sizeof(c->error), "%.*s", (int)len, buf);
    } else if (type == BERTH_ATTACH_EXIT && len == 4) {
      c->exit_code = (int)((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3]);
    }
  }
  berth_error_release(&err);
  free(buf);
  return NULL;
}

static void client_start(struct client *c, uint8_t want, const char *script)
{
  c->want = want;
  c->script = script;
  c->exit_code = -1;
  c->fd = client_connect();
  cr_assert_geq(c->fd, 0, "connect: %s", strerror(errno));
  cr_assert_eq(berth_attach_send(c->fd, BERTH_ATTACH_HELLO, &c->want, 1, NULL), 0);
  client_script(c);
  cr_assert_eq(pthread_create(&c->thread, NULL, client_main, c), 0);
}

static void client_join(struct client *c)
{
  cr_assert_eq(pthread_join(c->thread, NULL), 0);
  if (c->fd >= 0)
    close(c->fd);
}

static char *log_text(void)
{
  char *buf = NULL;
  size_t len;
  berth_error_t err = NULL;
  cr_assert_eq(berth_read_file_at(dfd, "c-json.log", &buf, &len, &err), 0);
  return buf;
}

/* ---- containers ---- */

/* Waits for the go byte, writes to both streams, echoes all of stdin after "in:". */
static void echo_container(int go)
{
  char c, buf[4096];
  size_t len = 0;
  ssize_t n;
  if (go >= 0 && read(go, &c, 1) != 1)
    _exit(97);
  (void)!write(1, "out1\n", 5);
  (void)!write(2, "err1\n", 5);
  while ((n = read(0, buf + len, sizeof(buf) - len)) > 0)
    len += (size_t)n;
  (void)!write(1, "in:", 3);
  (void)!write(1, buf, len);
  (void)!write(1, "eof\n", 4);
  _exit(3);
}

Test(relay, start_stdin_output_and_exit_reach_client_and_log)
{
  int ci, co, ce, go[2];
  struct client *c = calloc(1, sizeof(*c));
  cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
  pipes(&ci, &co, &ce);
  fx.child = spawn(echo_container, ci, co, ce, go[0]);
  close(ci), close(co), close(ce), close(go[0]);
  fx.go_fd = go[1];
  fx.relay.wait_start = true;
  fx.relay.stdin_once = true; /* run -i */
  client_start(c, BERTH_ATTACH_WANT_STDIN | BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDERR,
               "Iheld before start\n|SIabc\n|E");
  run_relay();
  berth_attach_server_finish(&fx.srv, WEXITSTATUS(fx.wstatus));
  client_join(c);
  cr_expect_eq(fx.starts, 1);
  cr_expect_eq(WEXITSTATUS(fx.wstatus), 3);
  cr_expect_eq(c->exit_code, 3);
  c->out[c->out_len] = '\0';
  cr_expect_str_eq(c->out, "out1\nin:held before start\nabc\neof\n");
  cr_expect_eq(c->err_len, 5);
  cr_expect_eq(memcmp(c->err, "err1\n", 5), 0);
  cleanup_free char *log = log_text();
  cr_expect_not_null(strstr(log, "{\"log\":\"out1\\n\",\"stream\":\"stdout\""));
  cr_expect_not_null(strstr(log, "{\"log\":\"err1\\n\",\"stream\":\"stderr\""));
  cr_expect_not_null(strstr(log, "{\"log\":\"in:held before start\\n\",\"stream\":\"stdout\""));
  cr_expect_not_null(strstr(log, "{\"log\":\"abc\\n\",\"stream\":\"stdout\""));
  cr_expect_not_null(strstr(log, "{\"log\":\"eof\\n\",\"stream\":\"stdout\""));
  free(c);
}

Test(relay, clients_mirror_the_output_each_with_its_streams)
{
  int ci, co, ce, go[2];
  struct client *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
  pipes(&ci, &co, &ce);
  fx.child = spawn(echo_container, ci, co, ce, go[0]);
  close(ci), close(co), close(ce), close(go[0]);
  fx.go_fd = go[1];
  fx.relay.wait_start = true;
  fx.relay.stdin_once = true;
  client_start(b, BERTH_ATTACH_WANT_STDERR, NULL);
  client_start(a, BERTH_ATTACH_WANT_STDIN | BERTH_ATTACH_WANT_STDOUT, "SIxyz|E");
  run_relay();
  berth_attach_server_finish(&fx.srv, WEXITSTATUS(fx.wstatus));
  client_join(a);
  client_join(b);
  a->out[a->out_len] = '\0';
  cr_expect_str_eq(a->out, "out1\nin:xyzeof\n");
  cr_expect_eq(a->err_len, 0, "a did not ask for stderr");
  cr_expect_eq(b->out_len, 0, "b did not ask for stdout");
  cr_expect_eq(b->err_len, 5);
  cr_expect_eq(a->exit_code, 3);
  cr_expect_eq(b->exit_code, 3, "every client gets EXIT");
  cr_expect_eq(fx.starts, 1);
  free(a), free(b);
}

static void stdin_once_container(int go)
{
  char buf[256];
  ssize_t n;
  (void)go;
  while ((n = read(0, buf, sizeof(buf))) > 0)
    (void)!write(1, buf, (size_t)n);
  _exit(n == 0 ? 0 : 1);
}

Test(relay, stdin_once_closes_stdin_when_the_stdin_client_leaves)
{
  int ci, co, ce;
  struct client *c = calloc(1, sizeof(*c)), *watcher = calloc(1, sizeof(*watcher));
  pipes(&ci, &co, &ce);
  fx.child = spawn(stdin_once_container, ci, co, ce, -1);
  close(ci), close(co), close(ce);
  fx.relay.stdin_once = true;
  client_start(watcher, BERTH_ATTACH_WANT_STDOUT, NULL);
  client_start(c, BERTH_ATTACH_WANT_STDIN, "Ibye\n|C");
  run_relay();
  berth_attach_server_finish(&fx.srv, WEXITSTATUS(fx.wstatus));
  client_join(c);
  client_join(watcher);
  cr_expect_eq(WEXITSTATUS(fx.wstatus), 0, "the container saw the end of its input");
  cr_expect_eq(fx.starts, 0, "no START without --wait-start");
  cleanup_free char *log = log_text();
  cr_expect_not_null(strstr(log, "\"log\":\"bye\\n\""), "%s", log);
  free(c), free(watcher);
}

/* Echoes stdin; exits 0 once it has read "two\n", 1 at an end of input before. */
static void two_lines_container(int go)
{
  char buf[256];
  size_t len = 0;
  ssize_t n;
  (void)go;
  while (len < sizeof(buf) - 1 && (n = read(0, buf + len, sizeof(buf) - 1 - len)) > 0) {
    (void)!write(1, buf + len, (size_t)n);
    len += (size_t)n;
    buf[len] = '\0';
    if (strstr(buf, "two\n"))
      _exit(0);
  }
  _exit(1);
}

Test(relay, without_stdin_once_a_clients_end_of_input_leaves_stdin_open)
{
  int ci, co, ce;
  struct client *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  pipes(&ci, &co, &ce);
  fx.child = spawn(two_lines_container, ci, co, ce, -1);
  close(ci), close(co), close(ce);
  /* run -d -i (no StdinOnce): one attach client ends its input, the next
   * one still reaches the container, as with docker */
  client_start(a, BERTH_ATTACH_WANT_STDIN | BERTH_ATTACH_WANT_STDOUT, "Ione\n|E");
  client_start(b, BERTH_ATTACH_WANT_STDIN, "Itwo\n|E");
  run_relay();
  berth_attach_server_finish(&fx.srv, WEXITSTATUS(fx.wstatus));
  client_join(a);
  client_join(b);
  cr_expect_eq(WEXITSTATUS(fx.wstatus), 0, "the second client's input arrived after the first one's EOF");
  a->out[a->out_len] = '\0';
  cr_expect_str_eq(a->out, "one\ntwo\n");
  free(a), free(b);
}

static void flood_container(int go)
{
  char line[64];
  (void)go;
  memset(line, 'x', sizeof(line) - 1);
  line[sizeof(line) - 1] = '\n';
  for (int i = 0; i < 65536; i++) /* 4 MiB */
    if (write(1, line, sizeof(line)) != (ssize_t)sizeof(line))
      _exit(1);
  _exit(0);
}

Test(relay, a_client_that_does_not_read_is_dropped_not_waited_for)
{
  int ci, co, ce, rcv = 4096;
  struct client *stuck = calloc(1, sizeof(*stuck));
  pipes(&ci, &co, &ce);
  stuck->read_nothing = true;
  client_start(stuck, BERTH_ATTACH_WANT_STDOUT, NULL);
  cr_assert_eq(setsockopt(stuck->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)), 0);
  usleep(100000);
  fx.child = spawn(flood_container, ci, co, ce, -1);
  close(ci), close(co), close(ce);
  run_relay();
  cr_expect_eq(WEXITSTATUS(fx.wstatus), 0, "the container wrote everything");
  cr_expect_eq(fx.srv.n, 0, "the stuck client was dropped");
  struct stat st;
  cr_assert_eq(fstatat(dfd, "c-json.log", &st, 0), 0);
  /* every line logged: 65536 entries of a fixed size */
  size_t entry = strlen("{\"log\":\"") + 63 + 2 + strlen("\",\"stream\":\"stdout\",\"time\":\"\"}\n");
  cr_expect_gt((size_t)st.st_size, 65536 * (entry + 20), "size %lld", (long long)st.st_size);
  cr_expect_lt((size_t)st.st_size, 65536 * (entry + 31), "size %lld", (long long)st.st_size);
  client_join(stuck);
  free(stuck);
}

static char tty_name[64];

static void tty_container(int go)
{
  char buf[64];
  struct winsize ws;
  (void)go;
  setsid();
  int fd = open(tty_name, O_RDWR); /* becomes the controlling terminal */
  if (fd < 0)
    _exit(90);
  dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
  close(fd);
  if (read(0, buf, sizeof(buf)) <= 0) /* "go\n" after the resize */
    _exit(91);
  if (ioctl(0, TIOCGWINSZ, &ws) < 0)
    _exit(92);
  printf("size %dx%d\n", ws.ws_row, ws.ws_col);
  fflush(stdout);
  _exit(5);
}

Test(relay, terminal_gets_resize_and_input_and_output_is_stdout)
{
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct client *c = calloc(1, sizeof(*c));
  cr_assert_geq(master, 0);
  cr_assert_eq(grantpt(master), 0);
  cr_assert_eq(unlockpt(master), 0);
  cr_assert_eq(fcntl(master, F_SETFL, O_NONBLOCK), 0);
  fx.relay.tty = true;
  fx.relay.out_fd = fx.relay.in_fd = master;
  fx.relay.err_fd = -1;
  snprintf(tty_name, sizeof(tty_name), "%s", ptsname(master));
  fx.child = spawn(tty_container, -1, -1, -1, -1);
  client_start(c, BERTH_ATTACH_WANT_STDIN | BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDERR, "RIgo\n|E");
  run_relay();
  berth_attach_server_finish(&fx.srv, WEXITSTATUS(fx.wstatus));
  client_join(c);
  cr_expect_eq(WEXITSTATUS(fx.wstatus), 5);
  c->out[c->out_len] = '\0';
  cr_expect_not_null(strstr(c->out, "size 40x100\r\n"), "output: %s", c->out);
  cr_expect_eq(c->err_len, 0, "a terminal has one stream");
  cleanup_free char *log = log_text();
  cr_expect_not_null(strstr(log, "\"log\":\"size 40x100\\r\\n\",\"stream\":\"stdout\""), "%s", log);
  close(master);
  free(c);
}

static void wait_forever_container(int go)
{
  char c;
  (void)!read(go, &c, 1);
  _exit(0);
}

Test(relay, start_failure_reaches_clients_as_error)
{
  int ci, co, ce, hold[2];
  struct client *c = calloc(1, sizeof(*c));
  cr_assert_eq(pipe2(hold, O_CLOEXEC), 0);
  pipes(&ci, &co, &ce);
  fx.child = spawn(wait_forever_container, ci, co, ce, hold[0]);
  close(ci), close(co), close(ce), close(hold[0]);
  fx.relay.wait_start = true; /* fx.go_fd < 0: on_start fails */
  fx.hold_fd = hold[1];
  client_start(c, BERTH_ATTACH_WANT_STDOUT, "SS");
  run_relay();
  berth_attach_server_finish(&fx.srv, 127);
  client_join(c);
  cr_expect_eq(fx.starts, 1, "a second START is ignored");
  cr_expect_str_eq(c->error, "exec: \"nope\": executable file not found in $PATH");
  cr_expect_eq(c->exit_code, 127);
  free(c);
}

Test(relay, a_malformed_frame_drops_only_its_sender)
{
  int ci, co, ce, go[2];
  struct client *bad = calloc(1, sizeof(*bad)), *good = calloc(1, sizeof(*good));
  cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
  pipes(&ci, &co, &ce);
  fx.child = spawn(echo_container, ci, co, ce, go[0]);
  close(ci), close(co), close(ce), close(go[0]);
  fx.go_fd = go[1];
  fx.relay.wait_start = true;
  fx.relay.stdin_once = true;
  client_start(bad, BERTH_ATTACH_WANT_STDOUT, "X");
  client_start(good, BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDIN, "SE");
  run_relay();
  berth_attach_server_finish(&fx.srv, WEXITSTATUS(fx.wstatus));
  client_join(bad);
  client_join(good);
  cr_expect_eq(bad->exit_code, -1, "dropped before the end");
  cr_expect_eq(bad->out_len, 0);
  cr_expect_eq(good->exit_code, 3);
  good->out[good->out_len] = '\0';
  cr_expect_str_eq(good->out, "out1\nin:eof\n");
  free(bad), free(good);
}

static void deaf_container(int go)
{
  (void)go;
  usleep(400000); /* never reads its stdin */
  _exit(0);
}

Test(relay, full_stdin_and_a_gone_client_do_not_spin)
{
  int ci, co, ce;
  struct client *c = calloc(1, sizeof(*c));
  static char big[200000];
  struct rusage before, after;
  pipes(&ci, &co, &ce);
  fx.child = spawn(deaf_container, ci, co, ce, -1);
  close(ci), close(co), close(ce);
  c->fd = client_connect();
  cr_assert_geq(c->fd, 0);
  uint8_t want = BERTH_ATTACH_WANT_STDIN;
  cr_assert_eq(berth_attach_send(c->fd, BERTH_ATTACH_HELLO, &want, 1, NULL), 0);
  memset(big, 'z', sizeof(big));
  /* more than the pipe and the relay's buffer take: the rest stays in the socket */
  pid_t writer = fork();
  if (writer == 0) {
    for (size_t off = 0; off < sizeof(big); off += 20000)
      if (berth_attach_send(c->fd, BERTH_ATTACH_STDIN, big + off, 20000, NULL) < 0)
        _exit(1);
    _exit(0);
  }
  usleep(100000);
  kill(writer, SIGKILL);
  waitpid(writer, NULL, 0);
  close(c->fd);
  c->fd = -1;
  getrusage(RUSAGE_SELF, &before);
  run_relay();
  getrusage(RUSAGE_SELF, &after);
  long used_ms = (after.ru_utime.tv_sec - before.ru_utime.tv_sec + after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1000 +
                 (after.ru_utime.tv_usec - before.ru_utime.tv_usec + after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1000;
  cr_expect_lt(used_ms, 100, "the relay used %ld ms of CPU while waiting", used_ms);
  free(c);
}
