/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exec sessions: `berth exec` served by the container's monitor, as conmon
 * serves podman's.  A client of attach.sock whose first frame is EXEC (see
 * include/berth/attach.h) becomes a session here: its JSON request is read
 * without blocking, the command is forked into the container by
 * lib/runtime/exec-join.c, and its stdio (pipes, or the pty master the child
 * sends back for -t) is relayed over the connection until the command is
 * reaped and its output drained; then EXIT.  Each session has docker's
 * random exec ID, named by its exec_create, exec_start and exec_die events.
 *
 * Memory stays flat: one session is one fixed block (a 4 KiB stdin buffer
 * and an 8 KiB output buffer) plus the request while it is read (at most
 * BERTH_ATTACH_MAX_PAYLOAD); output is read only once the previous frame has
 * left, so a slow client slows the command down instead of growing a queue.
 * A client that goes away leaves the command running (its output is then
 * read and dropped, its stdin closed) until it exits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#define BERTH_LOG_DOMAIN "exec"
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/random.h"
#include "monitor.h"
#include "runtime/runtime.h"

#define IN_BUF 4096
#define OUT_BUF 8192

enum state {
  S_REQUEST,  /* reading the request */
  S_STARTING, /* forked; waiting for the child's report */
  S_RUNNING,
  S_EXITED,   /* reaped: draining the output */
  S_CLOSING,  /* EXIT queued: gone once it is sent */
};

enum { P_SOCK, P_SYNC, P_OUT, P_ERR, P_IN };

struct berth_exec_session {
  struct berth_attach_client cl; /* cl.fd is -1 once the client is gone */
  enum state state;
  char id[65];
  uint8_t *req;
  size_t req_len, req_have;
  bool tty, detach;
  pid_t pid;
  int sync_fd, out_fd, err_fd, in_fd; /* for a terminal out_fd == in_fd == the master */
  int wstatus;
  bool reaped;
  size_t in_len, in_off;
  bool in_eof_pending;
  uint8_t in_buf[IN_BUF];
  uint8_t out_buf[OUT_BUF];
};

void berth_exec_set_init(struct berth_exec_set *x, int run_dfd)
{
  *x = (struct berth_exec_set){.run_dfd = run_dfd};
  x->own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
}

static void session_free(struct berth_exec_set *x, struct berth_exec_session *s)
{
  close_and_reset(&s->cl.fd);
  free(s->cl.pend);
  free(s->req);
  close_and_reset(&s->sync_fd);
  if (s->in_fd != s->out_fd)
    close_and_reset(&s->in_fd);
  close_and_reset(&s->out_fd);
  close_and_reset(&s->err_fd);
  for (size_t i = 0; i < x->n; i++)
    if (x->s[i] == s) {
      x->s[i] = x->s[--x->n];
      break;
    }
  free(s);
}

void berth_exec_accept(struct berth_exec_set *x, int fd, size_t len)
{
  struct berth_exec_session *s = NULL;
  if (x->n == BERTH_EXEC_MAX_SESSIONS || !(s = calloc(1, sizeof(*s))) || !(s->req = malloc(len))) {
    berth_warn("%s, refusing an exec session", s ? "out of memory" : "too many exec sessions");
    free(s);
    (void)close(fd);
    return;
  }
  s->cl = (struct berth_attach_client){.fd = fd, .hello = true};
  s->req_len = len;
  s->pid = -1;
  s->sync_fd = s->out_fd = s->err_fd = s->in_fd = -1;
  x->s[x->n++] = s;
}

/* ---- to the client ---- */

static void client_gone(struct berth_exec_session *s)
{
  close_and_reset(&s->cl.fd);
  free(s->cl.pend);
  s->cl.pend = NULL;
  if (!s->tty && s->in_fd >= 0)
    close_and_reset(&s->in_fd); /* no more input: the command sees EOF */
  s->in_len = s->in_off = 0;
}

static void send_frame(struct berth_exec_session *s, enum berth_attach_type type, const void *data, size_t len)
{
  if (s->cl.fd >= 0 && berth_attach_client_send(&s->cl, type, data, len) < 0)
    client_gone(s);
}

static void send_int(struct berth_exec_session *s, enum berth_attach_type type, int v)
{
  uint8_t b[4] = {(uint8_t)((uint32_t)v >> 24), (uint8_t)((uint32_t)v >> 16), (uint8_t)((uint32_t)v >> 8),
                  (uint8_t)v};
  send_frame(s, type, b, sizeof(b));
}

static bool has_pending(const struct berth_exec_session *s) { return s->cl.fd >= 0 && s->cl.pend; }

static void send_exit(struct berth_exec_session *s, int code)
{
  send_int(s, BERTH_ATTACH_EXIT, code);
  s->state = S_CLOSING;
}

/* The command did not start: why, and docker's exit code. */
static void start_failed(struct berth_exec_session *s, const struct berth_error *e)
{
  cleanup_free char *msg = berth_error_string(e);
  send_frame(s, BERTH_ATTACH_ERROR, msg, strnlen(msg, BERTH_ATTACH_MAX_PAYLOAD));
  send_exit(s, e->code == BERTH_ERR_CMD_NOT_FOUND ? 127 : 126);
}

/* ---- events ---- */


/* "exec_start: CMD ARGS" as moby writes it (entrypoint, a space, the
 * arguments joined: "ls " when there are none). */
static void command_event(struct berth_exec_set *x, struct berth_exec_session *s, const char *what, char **argv)
{
  char *action = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&action, &len);
  if (!f)
    abort();
  fprintf(f, "%s: %s ", what, argv[0]);
  for (char **a = argv + 1; *a; a++)
    fprintf(f, a == argv + 1 ? "%s" : " %s", *a);
  fclose(f);
  x->event(x->event_data, action, json_pack("{s:s}", "execID", s->id));
  free(action);
}

static void die_event(struct berth_exec_set *x, struct berth_exec_session *s, int code)
{
  char text[16];
  snprintf(text, sizeof(text), "%d", code);
  if (x->event)
    x->event(x->event_data, "exec_die", json_pack("{s:s,s:s}", "execID", s->id, "exitCode", text));
}

/* ---- starting ---- */

static bool json_bool(const json_t *o, const char *k) { return json_is_true(json_object_get(o, k)); }

/* A JSON array of strings as a NULL-terminated vector into it; NULL when it is not one. */
static char **strv_of(const json_t *a, bool *ok)
{
  size_t n = json_array_size(a);
  char **v = calloc(n + 1, sizeof(char *));
  *ok = v && (!a || json_is_array(a));
  for (size_t i = 0; *ok && i < n; i++) {
    v[i] = (char *)json_string_value(json_array_get(a, i));
    *ok = v[i] != NULL;
  }
  return v;
}

static int parse_request(struct berth_exec_session *s, json_t *req, struct berth_exec_process *p, berth_error_t *err)
{
  bool ok_cmd, ok_env;
  const json_t *size = json_object_get(req, "ConsoleSize");
  p->argv = strv_of(json_object_get(req, "Cmd"), &ok_cmd);
  p->env = strv_of(json_object_get(req, "Env"), &ok_env);
  if (!json_is_object(req) || !ok_cmd || !ok_env || !p->argv[0])
    return berth_error_set_plain(err, EINVAL, "malformed exec request");
  p->user = json_string_value(json_object_get(req, "User"));
  p->cwd = json_string_value(json_object_get(req, "WorkingDir"));
  p->tty = s->tty = json_bool(req, "Tty");
  p->privileged = json_bool(req, "Privileged");
  s->detach = json_bool(req, "Detach");
  p->rows = (unsigned short)json_integer_value(json_array_get(size, 0));
  p->cols = (unsigned short)json_integer_value(json_array_get(size, 1));
  return 0;
}

static int nonblock(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Pipes for the command's stdio (none for a terminal or a detached session). */
static int make_pipes(struct berth_exec_session *s, bool want_stdin, struct berth_runtime_io *io, berth_error_t *err)
{
  int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1};
  *io = (struct berth_runtime_io){-1, -1, -1};
  if (s->tty || s->detach)
    return 0;
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || (want_stdin && pipe2(in, O_CLOEXEC) < 0)) {
    int e = errno;
    for (int i = 0; i < 2; i++) {
      close_and_reset(&out[i]);
      close_and_reset(&errp[i]);
    }
    return berth_error_set(err, e, "make stdio pipes");
  }
  s->out_fd = out[0], s->err_fd = errp[0], s->in_fd = in[1];
  (void)nonblock(s->out_fd), (void)nonblock(s->err_fd);
  if (s->in_fd >= 0)
    (void)nonblock(s->in_fd);
  *io = (struct berth_runtime_io){.stdin_fd = in[0], .stdout_fd = out[1], .stderr_fd = errp[1]};
  return 0;
}

static void start(struct berth_exec_set *x, struct berth_exec_session *s)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_exec_process p = {0};
  struct berth_runtime_io io = {-1, -1, -1};
  json_t *req = json_loadb((const char *)s->req, s->req_len, 0, NULL);
  free(s->req);
  s->req = NULL;
  s->state = S_STARTING;
  if (parse_request(s, req, &p, &err) == 0 && !x->c)
    berth_error_set_plain(&err, EINVAL, "the container is not running");
  if (!err && x->event) {
    berth_random_hex(s->id, sizeof s->id);
    command_event(x, s, "exec_create", p.argv);
    command_event(x, s, "exec_start", p.argv);
  }
  if (!err && make_pipes(s, json_bool(req, "AttachStdin"), &io, &err) == 0)
    s->pid = berth_runtime_exec(x->c, x->run_dfd, x->own_pidns, &p, &io, &s->sync_fd, &err);
  close_and_reset(&io.stdin_fd);
  close_and_reset(&io.stdout_fd);
  close_and_reset(&io.stderr_fd);
  free(p.argv);
  free(p.env);
  json_decref(req);
  if (err) {
    start_failed(s, err);
    return;
  }
  (void)nonblock(s->sync_fd);
}

/* The child's report: its pty master, then EOF once the command runs. */
static void starting(struct berth_exec_session *s)
{
  cleanup_error berth_error_t err = NULL;
  int console = -1;
  int r = berth_runtime_exec_status(s->sync_fd, &console, &err);
  if (r == 0) {
    s->out_fd = s->in_fd = console;
    (void)nonblock(console);
    return;
  }
  close_and_reset(&s->sync_fd);
  if (r < 0) {
    start_failed(s, err);
    return;
  }
  s->state = s->reaped ? S_EXITED : S_RUNNING;
  send_int(s, BERTH_ATTACH_STARTED, (int)s->pid);
}

/* ---- running ---- */

static void stdin_write(struct berth_exec_session *s)
{
  while (s->in_fd >= 0 && s->in_off < s->in_len) {
    ssize_t n = TEMP_FAILURE_RETRY(write(s->in_fd, s->in_buf + s->in_off, s->in_len - s->in_off));
    if (n < 0) {
      if (errno == EAGAIN)
        return;
      s->in_eof_pending = true; /* EPIPE: nobody reads it any more */
      break;
    }
    s->in_off += (size_t)n;
  }
  s->in_len = s->in_off = 0;
  if (s->in_eof_pending && !s->tty)
    close_and_reset(&s->in_fd);
}

static void client_input(struct berth_exec_session *s)
{
  static uint8_t discard[IN_BUF];
  struct berth_attach_event ev;
  bool accepting = s->in_fd >= 0 && !s->in_eof_pending;
  uint8_t *dst = accepting ? s->in_buf + s->in_len : discard;
  struct winsize ws;
  if (!berth_attach_client_read(&s->cl, dst, accepting ? IN_BUF - s->in_len : IN_BUF, &ev)) {
    client_gone(s);
    return;
  }
  switch (ev.kind) {
  case BERTH_ATTACH_EV_STDIN:
    if (accepting) {
      s->in_len += ev.len;
      stdin_write(s);
    }
    break;
  case BERTH_ATTACH_EV_STDIN_EOF:
    if (!s->tty) {
      s->in_eof_pending = true;
      stdin_write(s);
    }
    break;
  case BERTH_ATTACH_EV_RESIZE:
    ws = (struct winsize){.ws_row = ev.rows, .ws_col = ev.cols};
    if (s->tty && s->out_fd >= 0)
      (void)ioctl(s->out_fd, TIOCSWINSZ, &ws);
    break;
  case BERTH_ATTACH_EV_START:
  case BERTH_ATTACH_EV_EXEC:
  case BERTH_ATTACH_EV_CLOSED:
  case BERTH_ATTACH_EV_NONE:
    break;
  }
}

static void close_output(struct berth_exec_session *s, int *fd)
{
  if (s->in_fd == *fd)
    s->in_fd = -1; /* the terminal's master */
  close_and_reset(fd);
}

/* One read of an output fd to the client (or nowhere once it is gone);
 * false when nothing came (would block, or closed: the fd is then -1). */
static bool output(struct berth_exec_session *s, int *fd, enum berth_attach_type type)
{
  ssize_t n = TEMP_FAILURE_RETRY(read(*fd, s->out_buf, sizeof(s->out_buf)));
  if (n < 0 && errno == EAGAIN)
    return false;
  if (n <= 0) { /* EOF, or EIO from a master whose terminal is gone */
    close_output(s, fd);
    return false;
  }
  send_frame(s, type, s->out_buf, (size_t)n);
  return true;
}

/* Reaped: send what the command left in its pipes, then EXIT; a process
 * that still holds them (in the background) is not waited for.  A terminal
 * is read until EIO instead: the last output may still be on its way
 * through the line discipline when the master would block. */
static void drain(struct berth_exec_set *x, struct berth_exec_session *s)
{
  while (!has_pending(s) && (s->out_fd >= 0 || s->err_fd >= 0)) {
    int *fd = s->out_fd >= 0 ? &s->out_fd : &s->err_fd;
    if (!output(s, fd, fd == &s->out_fd ? BERTH_ATTACH_STDOUT : BERTH_ATTACH_STDERR) && *fd >= 0) {
      if (s->tty)
        return; /* polled on */
      close_output(s, fd);
    }
  }
  if (s->out_fd < 0 && s->err_fd < 0) {
    int code = berth_runtime_exit_code(s->wstatus);
    die_event(x, s, code);
    send_exit(s, code);
  }
}

static void service_one(struct berth_exec_set *x, struct berth_exec_session *s, const struct pollfd *p)
{
  if ((p[P_SOCK].revents & POLLOUT) && s->cl.fd >= 0 && berth_attach_client_flush(&s->cl) < 0)
    client_gone(s);
  if (s->state == S_REQUEST && (p[P_SOCK].revents & (POLLIN | POLLHUP | POLLERR))) {
    ssize_t n = TEMP_FAILURE_RETRY(recv(s->cl.fd, s->req + s->req_have, s->req_len - s->req_have, MSG_DONTWAIT));
    if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
      session_free(x, s);
      return;
    }
    s->req_have += n > 0 ? (size_t)n : 0;
    if (s->req_have == s->req_len)
      start(x, s);
  }
  if (s->sync_fd >= 0 && (p[P_SYNC].revents & (POLLIN | POLLHUP | POLLERR)))
    starting(s);
  if ((s->state == S_RUNNING || s->state == S_EXITED) && s->cl.fd >= 0 &&
      (p[P_SOCK].revents & (POLLIN | POLLHUP | POLLERR)))
    client_input(s);
  if (p[P_IN].revents & (POLLOUT | POLLERR | POLLHUP))
    stdin_write(s);
  if (s->state == S_RUNNING && !has_pending(s)) {
    if (s->out_fd >= 0 && (p[P_OUT].revents & (POLLIN | POLLHUP | POLLERR)))
      (void)output(s, &s->out_fd, BERTH_ATTACH_STDOUT);
    if (!has_pending(s) && s->err_fd >= 0 && (p[P_ERR].revents & (POLLIN | POLLHUP | POLLERR)))
      (void)output(s, &s->err_fd, BERTH_ATTACH_STDERR);
  }
  /* -d: the client leaves once STARTED is out; the session stays to the end
   * (a terminal's master stays open, the command is reaped) */
  if (s->detach && s->cl.fd >= 0 && (s->state == S_RUNNING || s->state == S_EXITED) && !has_pending(s))
    client_gone(s);
  if (s->state == S_EXITED)
    drain(x, s);
  if (s->state == S_CLOSING && !has_pending(s))
    session_free(x, s);
}

size_t berth_exec_pollfds(struct berth_exec_set *x, struct pollfd *p)
{
  x->n_polled = x->n;
  for (size_t i = 0; i < x->n; i++) {
    struct berth_exec_session *s = x->s[i];
    struct pollfd *q = p + i * BERTH_EXEC_POLLFDS;
    bool relaying = (s->state == S_RUNNING || (s->state == S_EXITED && s->tty)) && !has_pending(s);
    bool reading = s->cl.fd >= 0 && s->state != S_STARTING && s->state != S_CLOSING &&
                   (s->state == S_REQUEST || s->in_len == 0);
    x->polled[i] = s;
    q[P_SOCK] = (struct pollfd){.fd = s->cl.fd,
                                .events = (short)((reading ? POLLIN : 0) | (has_pending(s) ? POLLOUT : 0))};
    q[P_SYNC] = (struct pollfd){.fd = s->sync_fd, .events = POLLIN};
    q[P_OUT] = (struct pollfd){.fd = relaying ? s->out_fd : -1, .events = POLLIN};
    q[P_ERR] = (struct pollfd){.fd = relaying ? s->err_fd : -1, .events = POLLIN};
    /* a terminal's master is polled for output already: its POLLOUT goes here */
    q[P_IN] = (struct pollfd){.fd = s->in_off < s->in_len ? s->in_fd : -1, .events = POLLOUT};
    if (q[P_SOCK].events == 0)
      q[P_SOCK].fd = -1; /* POLLHUP would wake us for nothing */
  }
  return x->n * BERTH_EXEC_POLLFDS;
}

void berth_exec_service(struct berth_exec_set *x, const struct pollfd *p, size_t n)
{
  for (size_t i = 0; i < x->n_polled && (i + 1) * BERTH_EXEC_POLLFDS <= n; i++)
    service_one(x, x->polled[i], p + i * BERTH_EXEC_POLLFDS);
  x->n_polled = 0;
}

bool berth_exec_reaped(struct berth_exec_set *x, pid_t pid, int wstatus)
{
  for (size_t i = 0; i < x->n; i++) {
    struct berth_exec_session *s = x->s[i];
    if (s->pid != pid)
      continue;
    s->wstatus = wstatus;
    s->reaped = true;
    if (s->state == S_RUNNING)
      s->state = S_EXITED;
    return true;
  }
  return false;
}

/* Bounded: a process outside the container's pid namespace (--pid host) may
 * still be writing. */
#define FINISH_ROUNDS 256

void berth_exec_finish_all(struct berth_exec_set *x)
{
  while (x->n > 0) {
    struct berth_exec_session *s = x->s[x->n - 1];
    if (s->pid > 0 && !s->reaped) {
      (void)kill(s->pid, SIGKILL);
      while (waitpid(s->pid, &s->wstatus, 0) < 0 && errno == EINTR)
        ;
      s->reaped = true;
    }
    if (s->state == S_STARTING || s->state == S_RUNNING) {
      close_and_reset(&s->sync_fd);
      s->state = S_EXITED;
    }
    s->tty = false; /* the container is gone: no waiting for EIO */
    for (int round = 0; round < FINISH_ROUNDS && (s->state == S_EXITED || has_pending(s)); round++) {
      struct pollfd p = {.fd = s->cl.fd, .events = POLLOUT};
      if (!has_pending(s))
        drain(x, s);
      else if (poll(&p, 1, 1000) <= 0 || berth_attach_client_flush(&s->cl) < 0)
        client_gone(s);
    }
    session_free(x, s);
  }
}
