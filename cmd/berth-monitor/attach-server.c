/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The attach socket: RUNROOT/containers/<id>/attach.sock, one listening unix
 * socket and up to BERTH_ATTACH_MAX_CLIENTS clients speaking the frames of
 * include/berth/attach.h.  Input is parsed incrementally (a client's STDIN
 * payload goes straight into the relay's stdin buffer, never into a buffer
 * of its own); output is mirrored to every client with non-blocking sends.
 * A client that cannot take a whole frame keeps the rest pending; if the
 * next frame comes before it has taken that, it is dropped: the container
 * must never wait for a slow reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define BERTH_LOG_DOMAIN "attach"
#include <berth/log.h>

#include "base/cleanup.h"
#include "monitor.h"

#define SOCK_NAME "attach.sock"
/* Kernel memory, not ours: lets a client fall behind by this much before a
 * frame stays pending. */
#define CLIENT_SNDBUF (1 << 20)

int berth_attach_server_open(struct berth_attach_server *srv, int dirfd, berth_error_t *err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  cleanup_close int fd = -1;
  mode_t old;
  int r;
  memset(srv, 0, sizeof(*srv));
  srv->listen_fd = -1;
  srv->dirfd = dirfd;
  /* The run dir's path may not fit in sun_path; its /proc/self/fd alias does. */
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dirfd, SOCK_NAME);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return berth_error_set(err, errno, "attach socket");
  if (unlinkat(dirfd, SOCK_NAME, 0) < 0 && errno != ENOENT)
    return berth_error_set(err, errno, "remove stale `%s`", SOCK_NAME);
  old = umask(0177);
  r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
  umask(old);
  if (r < 0)
    return berth_error_set(err, errno, "bind `%s`", SOCK_NAME);
  if (listen(fd, 16) < 0)
    return berth_error_set(err, errno, "listen on `%s`", SOCK_NAME);
  srv->listen_fd = steal_fd(&fd);
  return 0;
}

void berth_attach_server_accept(struct berth_attach_server *srv)
{
  for (;;) {
    int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    int sndbuf = CLIENT_SNDBUF;
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return; /* EAGAIN, or out of fds: the rest waits in the backlog */
    }
    if (srv->n == BERTH_ATTACH_MAX_CLIENTS) {
      berth_warn("%d attach clients already, refusing another", BERTH_ATTACH_MAX_CLIENTS);
      (void)close(fd);
      continue;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    srv->clients[srv->n++] = (struct berth_attach_client){.fd = fd};
  }
}

int berth_attach_server_release(struct berth_attach_server *srv, size_t i)
{
  struct berth_attach_client *c = &srv->clients[i];
  int fd = c->fd;
  free(c->pend);
  memmove(c, c + 1, (srv->n - i - 1) * sizeof(*c));
  srv->n--;
  return fd;
}

static void drop(struct berth_attach_server *srv, size_t i) { (void)close(berth_attach_server_release(srv, i)); }

/* Receive into buf; 1 on data (*got set), 0 would block, -1 gone. */
static int recv_some(int fd, void *buf, size_t len, size_t *got)
{
  ssize_t n = TEMP_FAILURE_RETRY(recv(fd, buf, len, MSG_DONTWAIT));
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  if (n <= 0)
    return -1;
  *got = (size_t)n;
  return 1;
}

static bool is_control(uint8_t type)
{
  return type == BERTH_ATTACH_HELLO || type == BERTH_ATTACH_STDIN_EOF || type == BERTH_ATTACH_RESIZE ||
         type == BERTH_ATTACH_START;
}

/* A control frame is complete: turn it into an event (false: protocol error). */
static bool control_event(struct berth_attach_client *c, uint8_t type, struct berth_attach_event *ev)
{
  size_t len = c->ctl_have;
  switch (type) {
  case BERTH_ATTACH_HELLO:
    if (len != 1 || c->hello)
      return false;
    c->hello = true;
    c->want = c->ctl[0];
    return true; /* no event */
  case BERTH_ATTACH_STDIN_EOF:
    ev->kind = BERTH_ATTACH_EV_STDIN_EOF;
    return len == 0;
  case BERTH_ATTACH_START:
    ev->kind = BERTH_ATTACH_EV_START;
    return len == 0;
  case BERTH_ATTACH_RESIZE:
    ev->kind = BERTH_ATTACH_EV_RESIZE;
    ev->rows = (unsigned short)(c->ctl[0] << 8 | c->ctl[1]);
    ev->cols = (unsigned short)(c->ctl[2] << 8 | c->ctl[3]);
    return len == 4;
  default:
    return false;
  }
}

static void closed(struct berth_attach_server *srv, size_t i, struct berth_attach_event *ev)
{
  ev->kind = BERTH_ATTACH_EV_CLOSED;
  ev->had_stdin = srv->clients[i].hello && (srv->clients[i].want & BERTH_ATTACH_WANT_STDIN);
  drop(srv, i);
}

/* The first frame is EXEC: hand the connection over, its request unread. */
static bool exec_request(struct berth_attach_client *c, struct berth_attach_event *ev)
{
  if (c->hello || c->remaining == 0)
    return false;
  ev->kind = BERTH_ATTACH_EV_EXEC;
  ev->len = c->remaining;
  c->hdr_have = 0;
  c->remaining = 0;
  return true;
}

bool berth_attach_client_read(struct berth_attach_client *c, uint8_t *buf, size_t room, struct berth_attach_event *ev)
{
  size_t got = 0;
  int r = 0;
  *ev = (struct berth_attach_event){.kind = BERTH_ATTACH_EV_NONE};
  for (;;) {
    if (c->hdr_have < BERTH_ATTACH_HEADER) {
      r = recv_some(c->fd, c->hdr + c->hdr_have, BERTH_ATTACH_HEADER - c->hdr_have, &got);
      if (r <= 0)
        break;
      c->hdr_have += got;
      if (c->hdr_have < BERTH_ATTACH_HEADER)
        continue;
      c->remaining = (size_t)c->hdr[4] << 24 | (size_t)c->hdr[5] << 16 | (size_t)c->hdr[6] << 8 | c->hdr[7];
      c->ctl_have = 0;
      if (c->hdr[0] == BERTH_ATTACH_EXEC && !c->hdr[1] && !c->hdr[2] && !c->hdr[3] &&
          c->remaining <= BERTH_ATTACH_MAX_PAYLOAD)
        return exec_request(c, ev);
      if (c->hdr[1] || c->hdr[2] || c->hdr[3] || (c->hdr[0] != BERTH_ATTACH_STDIN && !is_control(c->hdr[0])) ||
          (is_control(c->hdr[0]) && c->remaining > sizeof(c->ctl)) || c->remaining > BERTH_ATTACH_MAX_PAYLOAD ||
          (!c->hello && c->hdr[0] != BERTH_ATTACH_HELLO)) {
        berth_debug("attach client sent a malformed frame (type %u), dropping it", c->hdr[0]);
        return false;
      }
    }
    if (c->hdr[0] == BERTH_ATTACH_STDIN && c->remaining > 0) {
      if (room == 0)
        return true; /* the relay's stdin buffer is full: leave it in the socket */
      r = recv_some(c->fd, buf, c->remaining < room ? c->remaining : room, &got);
      if (r <= 0)
        break;
      c->remaining -= got;
      if (c->remaining == 0)
        c->hdr_have = 0;
      ev->kind = BERTH_ATTACH_EV_STDIN;
      ev->len = got;
      return true;
    }
    if (c->remaining > 0) {
      r = recv_some(c->fd, c->ctl + c->ctl_have, c->remaining, &got);
      if (r <= 0)
        break;
      c->ctl_have += got;
      c->remaining -= got;
      if (c->remaining > 0)
        continue;
    }
    c->hdr_have = 0; /* the frame is complete */
    if (c->hdr[0] == BERTH_ATTACH_STDIN)
      continue; /* empty STDIN frame */
    if (!control_event(c, c->hdr[0], ev)) {
      berth_debug("attach client sent a malformed control frame (type %u), dropping it", c->hdr[0]);
      return false;
    }
    if (ev->kind != BERTH_ATTACH_EV_NONE)
      return true;
  }
  return r >= 0;
}

void berth_attach_server_read(struct berth_attach_server *srv, size_t i, uint8_t *buf, size_t room,
                              struct berth_attach_event *ev)
{
  if (!berth_attach_client_read(&srv->clients[i], buf, room, ev))
    closed(srv, i, ev);
}

int berth_attach_client_flush(struct berth_attach_client *c)
{
  while (c->pend_off < c->pend_len) {
    ssize_t n = TEMP_FAILURE_RETRY(
        send(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_DONTWAIT | MSG_NOSIGNAL));
    if (n < 0)
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    c->pend_off += (size_t)n;
  }
  free(c->pend);
  c->pend = NULL;
  c->pend_len = c->pend_off = 0;
  return 1;
}

bool berth_attach_server_flush(struct berth_attach_server *srv, size_t i)
{
  if (berth_attach_client_flush(&srv->clients[i]) < 0) {
    drop(srv, i);
    return false;
  }
  return true;
}

int berth_attach_client_send(struct berth_attach_client *c, enum berth_attach_type type, const void *data, size_t len)
{
  uint8_t hdr[BERTH_ATTACH_HEADER] = {(uint8_t)type, 0, 0, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                                      (uint8_t)(len >> 8), (uint8_t)len};
  struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)data, len}};
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
  ssize_t n;
  size_t sent;
  if (c->pend)
    return -1; /* still behind on the previous frame */
  n = TEMP_FAILURE_RETRY(sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL));
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    return -1;
  sent = n < 0 ? 0 : (size_t)n;
  if (sent == sizeof(hdr) + len)
    return 0;
  c->pend_len = sizeof(hdr) + len - sent;
  c->pend_off = 0;
  c->pend = malloc(c->pend_len);
  if (!c->pend)
    abort();
  for (size_t k = sent; k < sizeof(hdr) + len; k++)
    c->pend[k - sent] = k < sizeof(hdr) ? hdr[k] : ((const uint8_t *)data)[k - sizeof(hdr)];
  return 0;
}

void berth_attach_server_broadcast(struct berth_attach_server *srv, enum berth_attach_type type, const void *data,
                                   size_t len)
{
  uint8_t want = type == BERTH_ATTACH_STDOUT ? BERTH_ATTACH_WANT_STDOUT
                 : type == BERTH_ATTACH_STDERR ? BERTH_ATTACH_WANT_STDERR
                                               : 0xff;
  for (size_t i = 0; i < srv->n;) {
    struct berth_attach_client *c = &srv->clients[i];
    if (!c->hello || !(c->want & want)) {
      i++;
      continue;
    }
    if (berth_attach_client_send(c, type, data, len) < 0) {
      berth_warn("attach client cannot keep up with the output, dropping it");
      drop(srv, i);
      continue;
    }
    i++;
  }
}

int berth_attach_server_finish(struct berth_attach_server *srv, int exit_code)
{
  int remover = -1;
  uint8_t code[4] = {(uint8_t)((uint32_t)exit_code >> 24), (uint8_t)((uint32_t)exit_code >> 16),
                     (uint8_t)((uint32_t)exit_code >> 8), (uint8_t)exit_code};
  struct timeval tv = {.tv_sec = 1};
  while (srv->n > 0) {
    struct berth_attach_client *c = &srv->clients[srv->n - 1];
    berth_error_t err = NULL;
    /* Blocking now, with a timeout: these are the last bytes it gets. */
    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    (void)fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
    while (c->pend && c->pend_off < c->pend_len) {
      ssize_t n = TEMP_FAILURE_RETRY(send(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL));
      if (n <= 0)
        break;
      c->pend_off += (size_t)n;
    }
    if (!c->pend || c->pend_off == c->pend_len) {
      if (berth_attach_send(c->fd, BERTH_ATTACH_EXIT, code, 4, &err) < 0)
        berth_error_release(&err);
      else if (remover < 0 && (c->want & BERTH_ATTACH_WANT_REMOVE))
        remover = steal_fd(&c->fd);
    }
    drop(srv, srv->n - 1);
  }
  return remover;
}

void berth_attach_server_close(struct berth_attach_server *srv)
{
  while (srv->n > 0)
    drop(srv, srv->n - 1);
  if (srv->listen_fd >= 0) {
    close_and_reset(&srv->listen_fd);
    (void)unlinkat(srv->dirfd, SOCK_NAME, 0);
  }
}
