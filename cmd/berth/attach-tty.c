/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The attach relay of the CLI: one poll loop over the attach socket, our
 * stdin and a self-pipe fed by signal handlers.  See attach-tty.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <berth/attach.h>
#include <berth/engine.h>

#include "attach-tty.h"
#include "base/cleanup.h"

static const unsigned char default_detach_keys[] = {16, 17}; /* ctrl-p, ctrl-q */

/* Signals we catch: proxied to a container without a terminal, or (with a
 * raw terminal) ending the relay after the terminal is restored. */
static const int caught_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};
#define N_CAUGHT (sizeof(caught_signals) / sizeof(caught_signals[0]))

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signo)
{
  int saved = errno;
  unsigned char b = (unsigned char)signo;
  (void)!write(signal_pipe[1], &b, 1);
  errno = saved;
}

struct relay {
  int fd;
  const struct cli_relay_opts *opts;
  const unsigned char *keys;
  int n_keys;
  int matched; /* bytes of the detach sequence seen so far, held back */
  bool raw;
  struct termios saved_termios;
  struct sigaction saved_actions[N_CAUGHT];
  bool stdin_open;
  struct cli_relay_result *res;
};

/* ---- terminal ---- */

static void restore_terminal(struct relay *r)
{
  if (r->raw) {
    (void)tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved_termios);
    r->raw = false;
  }
}

static int make_raw(struct relay *r, berth_error_t *err)
{
  struct termios t;
  if (tcgetattr(STDIN_FILENO, &r->saved_termios) < 0)
    return berth_error_set(err, errno, "get terminal attributes");
  t = r->saved_termios;
  /* as moby/term's MakeRaw: the container's pty already turns "\n" into
   * "\r\n", so output post-processing goes too */
  cfmakeraw(&t);
  if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
    return berth_error_set(err, errno, "set the terminal to raw mode");
  r->raw = true;
  return 0;
}

static int send_resize(struct relay *r, berth_error_t *err)
{
  struct winsize ws;
  uint8_t p[4];
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
    return 0;
  p[0] = (uint8_t)(ws.ws_row >> 8);
  p[1] = (uint8_t)ws.ws_row;
  p[2] = (uint8_t)(ws.ws_col >> 8);
  p[3] = (uint8_t)ws.ws_col;
  return berth_attach_send(r->fd, BERTH_ATTACH_RESIZE, p, sizeof(p), err);
}

/* ---- signals ---- */

static int install_signals(struct relay *r, berth_error_t *err)
{
  struct sigaction sa;
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    return berth_error_set(err, errno, "create a signal pipe");
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < N_CAUGHT; i++) {
    int s = caught_signals[i];
    /* Without proxying and without a raw terminal, signals keep their
     * default action (ctrl-c ends the client, as docker's --sig-proxy=false). */
    bool catch = s == SIGWINCH || r->raw || (r->opts->sig_proxy && !r->opts->tty);
    if (catch)
      (void)sigaction(s, &sa, &r->saved_actions[i]);
    else
      (void)sigaction(s, NULL, &r->saved_actions[i]);
  }
  return 0;
}

static void uninstall_signals(struct relay *r)
{
  for (size_t i = 0; i < N_CAUGHT; i++)
    (void)sigaction(caught_signals[i], &r->saved_actions[i], NULL);
  close_and_reset(&signal_pipe[0]);
  close_and_reset(&signal_pipe[1]);
}

/* Returns 1 when the relay must end because of a signal (raw terminal). */
static int handle_signals(struct relay *r, int *ret_signo, berth_error_t *err)
{
  unsigned char b;
  while (read(signal_pipe[0], &b, 1) == 1) {
    if (b == SIGWINCH) {
      if (r->opts->tty && send_resize(r, err) < 0)
        return -1;
      continue;
    }
    if (r->opts->sig_proxy && !r->opts->tty && r->opts->engine) {
      berth_error_t kerr = NULL;
      char num[16];
      snprintf(num, sizeof(num), "%d", (int)b);
      if (berth_container_kill(r->opts->engine, r->opts->container, num, &kerr) < 0)
        berth_error_release(&kerr); /* the container may be gone already */
      continue;
    }
    *ret_signo = b;
    return 1;
  }
  return 0;
}

/* ---- data ---- */

static int write_all(int fd, const uint8_t *buf, size_t len, berth_error_t *err)
{
  while (len > 0) {
    ssize_t n = TEMP_FAILURE_RETRY(write(fd, buf, len));
    if (n < 0)
      return berth_error_set(err, errno, "write output");
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Input for the container.  When the monitor has already closed the socket
 * (the container ended while we were sending) the input has nowhere to go:
 * stop sending and keep reading, the EXIT frame is still to be read. */
static int send_stdin(struct relay *r, enum berth_attach_type type, const void *buf, size_t len, berth_error_t *err)
{
  berth_error_t e2 = NULL;
  if (berth_attach_send(r->fd, type, buf, len, &e2) == 0)
    return 0;
  if (e2->code == EPIPE || e2->code == ECONNRESET) {
    berth_error_release(&e2);
    r->stdin_open = false;
    return 0;
  }
  *err = e2;
  return -1;
}

/* Our stdin -> STDIN frames, holding back a partial detach sequence (moby's
 * EscapeProxy): returns 1 when the whole sequence was typed. */
static int relay_stdin(struct relay *r, berth_error_t *err)
{
  uint8_t in[4096], out[4096 + 16];
  size_t o = 0;
  ssize_t n = TEMP_FAILURE_RETRY(read(STDIN_FILENO, in, sizeof(in)));
  bool scan = r->opts->tty;
  if (n < 0 && errno == EAGAIN)
    return 0;
  if (n <= 0) {
    r->stdin_open = false;
    if (r->matched > 0 && send_stdin(r, BERTH_ATTACH_STDIN, r->keys, (size_t)r->matched, err) < 0)
      return -1;
    r->matched = 0;
    return send_stdin(r, BERTH_ATTACH_STDIN_EOF, NULL, 0, err) < 0 ? -1 : 0;
  }
  for (ssize_t i = 0; i < n; i++) {
    uint8_t c = in[i];
    if (scan && c == r->keys[r->matched]) {
      /* what came before the sequence still goes to the container */
      if (++r->matched == r->n_keys)
        return o && send_stdin(r, BERTH_ATTACH_STDIN, out, o, err) < 0 ? -1 : 1;
      continue;
    }
    if (scan && r->matched > 0) {
      memcpy(out + o, r->keys, (size_t)r->matched);
      o += (size_t)r->matched;
      r->matched = 0;
      if (c == r->keys[0]) {
        r->matched = 1;
        continue;
      }
    }
    out[o++] = c;
  }
  return o ? (send_stdin(r, BERTH_ATTACH_STDIN, out, o, err) < 0 ? -1 : 0) : 0;
}

/* One frame from the monitor: returns 1 once the stream ended. */
static int relay_frame(struct relay *r, uint8_t *buf, berth_error_t *err)
{
  uint8_t type;
  size_t len;
  int n = berth_attach_recv(r->fd, &type, buf, &len, err);
  if (n < 0)
    return -1;
  if (n == 0)
    return 1;
  switch (type) {
  case BERTH_ATTACH_STDOUT:
    return r->opts->stdout ? write_all(STDOUT_FILENO, buf, len, err) : 0;
  case BERTH_ATTACH_STDERR:
    return r->opts->stderr ? write_all(STDERR_FILENO, buf, len, err) : 0;
  case BERTH_ATTACH_EXIT:
    if (len >= 4)
      r->res->exit_code = (int)(((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) | ((uint32_t)buf[2] << 8) | buf[3]);
    /* the last frame (include/berth/attach.h): what follows is the close,
     * which is a reset when the monitor left input of ours unread */
    return 1;
  case BERTH_ATTACH_ERROR:
    free(r->res->error);
    r->res->error = strndup((const char *)buf, len);
    return 0;
  default:
    return 0; /* frames of later protocol versions */
  }
}

static int loop(struct relay *r, berth_error_t *err)
{
  cleanup_free uint8_t *buf = malloc(BERTH_ATTACH_MAX_PAYLOAD);
  int signo = 0;
  if (!buf)
    abort();
  for (;;) {
    struct pollfd fds[3] = {{r->fd, POLLIN, 0}, {signal_pipe[0], POLLIN, 0}, {r->stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    int rc;
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      return berth_error_set(err, errno, "poll");
    }
    if (fds[1].revents & POLLIN) {
      if ((rc = handle_signals(r, &signo, err)) < 0)
        return -1;
      if (rc > 0) {
        /* a raw terminal swallowed our chance to die normally: restore it,
         * then let the signal take its default course */
        restore_terminal(r);
        uninstall_signals(r);
        (void)signal(signo, SIG_DFL);
        (void)raise(signo);
        return berth_error_set_plain(err, EINTR, "interrupted by signal %d", signo);
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      if ((rc = relay_stdin(r, err)) < 0)
        return -1;
      if (rc > 0) {
        r->res->detached = true;
        return 0;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if ((rc = relay_frame(r, buf, err)) < 0)
        return -1;
      if (rc > 0)
        break;
    }
  }
  if (r->res->exit_code < 0 && !r->res->error)
    return berth_error_set_plain(err, ECONNRESET, "the container's monitor closed the attach connection");
  return 0;
}

int cli_attach_relay(int fd, const struct cli_relay_opts *opts, struct cli_relay_result *res, berth_error_t *err)
{
  struct relay r = {.fd = fd, .opts = opts, .stdin_open = opts->stdin, .res = res};
  int rc;
  res->exit_code = -1;
  res->detached = false;
  res->error = NULL;
  r.keys = opts->detach_keys && opts->n_detach_keys > 0 ? opts->detach_keys : default_detach_keys;
  r.n_keys = opts->detach_keys && opts->n_detach_keys > 0 ? opts->n_detach_keys : 2;
  if (opts->tty && opts->stdin && isatty(STDIN_FILENO) && make_raw(&r, err) < 0)
    return -1;
  if (install_signals(&r, err) < 0) {
    restore_terminal(&r);
    return -1;
  }
  if (opts->tty && isatty(STDOUT_FILENO) && send_resize(&r, err) < 0)
    rc = -1;
  else
    rc = loop(&r, err);
  restore_terminal(&r);
  uninstall_signals(&r);
  return rc;
}
