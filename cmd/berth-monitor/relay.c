/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The relay: one poll() loop while a container runs.  Container output goes
 * to the log and to every attach client that wants it; client STDIN goes to
 * the container's stdin pipe or pty master through a 4 KiB buffer (while it
 * is full, clients are not read: their input waits in their sockets);
 * signals go to the caller.  Nothing here blocks on the container or on a
 * client; only the log file write can block. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#define BERTH_LOG_DOMAIN "relay"
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "monitor.h"

#define READ_BUF 8192
#define IN_BUF 4096
#define DRAIN_IDLE_MS 100
#define DRAIN_MAX_MS 2000

enum {
  P_SIG, P_LISTEN, P_PORTS, P_OUT, P_ERR, P_IN, P_CLIENTS,
  P_MAX = P_CLIENTS + BERTH_ATTACH_MAX_CLIENTS + BERTH_EXEC_MAX_SESSIONS * BERTH_EXEC_POLLFDS + BERTH_HEALTH_POLLFDS
};

static void log_feed(struct berth_relay *r, enum berth_log_stream s, const uint8_t *buf, size_t n, bool eof)
{
  berth_error_t err = NULL;
  int ret = eof ? berth_logfile_flush(r->log, s, &err) : berth_logfile_feed(r->log, s, buf, n, &err);
  if (ret < 0 && !r->log_failing)
    berth_warn("%s, dropping output until the log can be written again", err->msg);
  r->log_failing = ret < 0;
  berth_error_release(&err);
}

/* One read from an output fd; returns the bytes read, 0 once it is closed. */
static ssize_t output(struct berth_relay *r, int fd, enum berth_log_stream s, bool *open)
{
  uint8_t buf[READ_BUF];
  ssize_t n = TEMP_FAILURE_RETRY(read(fd, buf, sizeof(buf)));
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return -1;
  if (n <= 0) { /* EOF, or EIO from a pty master whose slave is gone */
    *open = false;
    log_feed(r, s, NULL, 0, true);
    return 0;
  }
  log_feed(r, s, buf, (size_t)n, false);
  berth_attach_server_broadcast(r->srv, s == BERTH_LOG_STDERR ? BERTH_ATTACH_STDERR : BERTH_ATTACH_STDOUT, buf,
                                (size_t)n);
  return n;
}

static void close_stdin(struct berth_relay *r)
{
  if (!r->tty && r->in_fd >= 0)
    (void)close(r->in_fd);
  r->in_fd = -1;
  r->in_len = r->in_off = 0;
  r->in_eof_pending = false;
}

/* Move buffered stdin into the container as far as it takes it. */
static void stdin_write(struct berth_relay *r)
{
  while (r->in_fd >= 0 && r->in_off < r->in_len) {
    ssize_t n = TEMP_FAILURE_RETRY(write(r->in_fd, r->in_buf + r->in_off, r->in_len - r->in_off));
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      close_stdin(r); /* EPIPE: nobody in the container reads stdin any more */
      return;
    }
    r->in_off += (size_t)n;
  }
  r->in_len = r->in_off = 0;
  if (r->in_eof_pending)
    close_stdin(r);
}

static void stdin_eof(struct berth_relay *r)
{
  if (r->tty || r->in_fd < 0) /* a terminal has no end of input to send */
    return;
  if (r->in_off < r->in_len)
    r->in_eof_pending = true;
  else
    close_stdin(r);
}

static bool stdin_accepting(const struct berth_relay *r) { return r->in_fd >= 0 && !r->in_eof_pending; }

static size_t stdin_room(const struct berth_relay *r)
{
  return stdin_accepting(r) ? IN_BUF - r->in_len : IN_BUF;
}

static void client_start(struct berth_relay *r)
{
  berth_error_t err = NULL;
  if (!r->wait_start)
    return;
  r->wait_start = false;
  if (r->ops->start(r, &err) < 0) {
    berth_attach_server_broadcast(r->srv, BERTH_ATTACH_ERROR, err->msg, strnlen(err->msg, BERTH_ATTACH_MAX_PAYLOAD));
    berth_error_release(&err);
  }
}

static void client_input(struct berth_relay *r, size_t i)
{
  static uint8_t discard[IN_BUF];
  struct berth_attach_event ev;
  bool accepting = stdin_accepting(r);
  uint8_t *dst = accepting ? r->in_buf + r->in_len : discard;
  struct winsize ws;
  berth_attach_server_read(r->srv, i, dst, stdin_room(r), &ev);
  switch (ev.kind) {
  case BERTH_ATTACH_EV_STDIN:
    if (accepting) {
      r->in_len += ev.len;
      stdin_write(r);
    }
    break;
  case BERTH_ATTACH_EV_STDIN_EOF:
    /* docker closes the container's stdin at a client's end of input only
     * with StdinOnce (run -i, create -i); an attach to run -d -i leaves it
     * open for the next client */
    if (r->stdin_once)
      stdin_eof(r);
    break;
  case BERTH_ATTACH_EV_RESIZE:
    ws = (struct winsize){.ws_row = ev.rows, .ws_col = ev.cols};
    if (r->tty && ioctl(r->out_fd, TIOCSWINSZ, &ws) < 0)
      berth_debug("resize the terminal, ignoring: %s", strerror(errno));
    break;
  case BERTH_ATTACH_EV_START:
    client_start(r);
    break;
  case BERTH_ATTACH_EV_EXEC: {
    int fd = berth_attach_server_release(r->srv, i);
    if (r->exec)
      berth_exec_accept(r->exec, fd, ev.len);
    else
      (void)close(fd);
    break;
  }
  case BERTH_ATTACH_EV_CLOSED:
    if (ev.had_stdin && r->stdin_once)
      stdin_eof(r);
    break;
  case BERTH_ATTACH_EV_NONE:
    break;
  }
}

/* After init is gone: read what is left, until EOF or the output goes quiet. */
static void drain(struct berth_relay *r)
{
  int64_t deadline = berth_monotonic_ms() + DRAIN_MAX_MS;
  while (r->out_open || r->err_open) {
    struct pollfd p[2] = {{.fd = r->out_open ? r->out_fd : -1, .events = POLLIN},
                          {.fd = r->err_open ? r->err_fd : -1, .events = POLLIN}};
    int64_t left = deadline - berth_monotonic_ms();
    int n = poll(p, 2, left < DRAIN_IDLE_MS ? (int)(left > 0 ? left : 0) : DRAIN_IDLE_MS);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (p[0].revents)
      (void)output(r, r->out_fd, BERTH_LOG_STDOUT, &r->out_open);
    if (p[1].revents)
      (void)output(r, r->err_fd, BERTH_LOG_STDERR, &r->err_open);
  }
  if (r->out_open)
    log_feed(r, BERTH_LOG_STDOUT, NULL, 0, true);
  if (r->err_open)
    log_feed(r, BERTH_LOG_STDERR, NULL, 0, true);
}

static bool signals(struct berth_relay *r)
{
  struct signalfd_siginfo si;
  bool gone = false;
  while (TEMP_FAILURE_RETRY(read(r->sig_fd, &si, sizeof(si))) == (ssize_t)sizeof(si))
    if (r->ops->signal(r, &si))
      gone = true;
  return gone;
}

/* Returns the count; exec sessions' entries start at *ret_exec, the
 * healthcheck's at *ret_health. */
static size_t build_pollfds(struct berth_relay *r, struct pollfd *p, size_t *ret_exec, size_t *ret_health)
{
  bool read_clients = stdin_room(r) > 0;
  p[P_SIG] = (struct pollfd){.fd = r->sig_fd, .events = POLLIN};
  p[P_LISTEN] = (struct pollfd){.fd = r->srv->listen_fd, .events = POLLIN};
  p[P_PORTS] = (struct pollfd){.fd = berth_ports_fd(r->ports), .events = POLLIN};
  p[P_OUT] = (struct pollfd){.fd = r->out_open ? r->out_fd : -1, .events = POLLIN};
  p[P_ERR] = (struct pollfd){.fd = r->err_open ? r->err_fd : -1, .events = POLLIN};
  /* a terminal's master is already polled as output: its POLLOUT goes on P_IN */
  p[P_IN] = (struct pollfd){.fd = r->in_off < r->in_len ? r->in_fd : -1, .events = POLLOUT};
  for (size_t i = 0; i < r->srv->n; i++) {
    const struct berth_attach_client *c = &r->srv->clients[i];
    /* While stdin is full a client is left out (POLLHUP would spin) unless it has output pending. */
    p[P_CLIENTS + i] = (struct pollfd){.fd = read_clients || c->pend ? c->fd : -1,
                                       .events = (short)((read_clients ? POLLIN : 0) | (c->pend ? POLLOUT : 0))};
  }
  *ret_exec = P_CLIENTS + r->srv->n;
  *ret_health = *ret_exec + (r->exec ? berth_exec_pollfds(r->exec, p + *ret_exec) : 0);
  return *ret_health + berth_health_pollfds(r->health, p + *ret_health);
}

/* Client events; clients may disappear while we go, so match them by fd. */
static void service_clients(struct berth_relay *r, const struct pollfd *p, size_t np)
{
  for (size_t k = P_CLIENTS; k < np; k++) {
    short re = p[k].revents;
    size_t i;
    for (i = 0; i < r->srv->n && r->srv->clients[i].fd != p[k].fd; i++)
      ;
    if (i == r->srv->n || !re)
      continue;
    if ((re & POLLOUT) && !berth_attach_server_flush(r->srv, i))
      continue;
    if ((re & (POLLIN | POLLHUP | POLLERR)) && stdin_room(r) > 0)
      client_input(r, i);
  }
}

int berth_relay_run(struct berth_relay *r, berth_error_t *err)
{
  struct pollfd p[P_MAX];
  if (!r->in_buf && !(r->in_buf = malloc(IN_BUF)))
    abort();
  r->in_len = r->in_off = 0;
  r->in_eof_pending = false;
  r->out_open = r->out_fd >= 0;
  r->err_open = r->err_fd >= 0;
  for (;;) {
    size_t exec_at, health_at, np = build_pollfds(r, p, &exec_at, &health_at);
    if (poll(p, np, -1) < 0) {
      if (errno == EINTR)
        continue;
      return berth_error_set(err, errno, "poll");
    }
    if (p[P_SIG].revents && signals(r))
      break;
    if (p[P_OUT].revents)
      (void)output(r, r->out_fd, BERTH_LOG_STDOUT, &r->out_open);
    if (p[P_ERR].revents)
      (void)output(r, r->err_fd, BERTH_LOG_STDERR, &r->err_open);
    if (p[P_IN].revents)
      stdin_write(r);
    service_clients(r, p, exec_at);
    if (r->exec)
      berth_exec_service(r->exec, p + exec_at, health_at - exec_at);
    berth_health_service(r->health, p + health_at, np - health_at);
    if (p[P_LISTEN].revents)
      berth_attach_server_accept(r->srv);
    if (p[P_PORTS].revents)
      berth_ports_service(r->ports);
  }
  drain(r);
  return 0;
}

void berth_relay_clear(struct berth_relay *r)
{
  free(r->in_buf);
  r->in_buf = NULL;
}
