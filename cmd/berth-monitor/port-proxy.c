/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Published ports, held by the container's monitor while the container
 * lives (the annotation berth.ports, written by lib/engine/networks.c):
 *
 *   - an IPv4 host port is served by the kernel (DNAT in berth's nftables
 *     table, no packet comes here); the monitor only holds it: a socket
 *     bound to it, never listening, so that no other program can take the
 *     port while the container runs (docker's port reservation);
 *   - an IPv6 host port ("::", "::1", an address of the host) cannot be
 *     DNATed to the container's IPv4 address (the kernel has no IPv6
 *     route_localnet, nor NAT from one family to the other), so the monitor
 *     listens there and forwards, as docker-proxy does: each TCP connection
 *     spliced both ways through a pair of pipes (the bytes never reach user
 *     space), half-closes passed on; UDP datagrams per client (a "flow" with
 *     its own socket to the container), a flow dropped after 90 s without
 *     traffic.
 *
 * Everything is non-blocking on one epoll set, whose fd the relay polls.
 * Connection sockets are edge-triggered: each event pumps both directions
 * until the kernel says EAGAIN. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <jansson.h>

#define BERTH_LOG_DOMAIN "ports"
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "monitor.h"
#include "net/net.h"

#define MAX_CONNS 4096      /* TCP connections forwarded at once */
#define MAX_FLOWS 1024      /* UDP clients at once (docker-proxy's) */
#define FLOW_IDLE_NS (90LL * 1000000000LL)
#define SWEEP_S 10          /* how often idle flows are looked for */
#define SPLICE_MAX (1 << 20)
#define DGRAM_MAX 65535

enum kind { K_LISTEN_TCP, K_LISTEN_UDP, K_CONN, K_FLOW, K_TIMER };

/* What an epoll event points at. */
struct tag {
  enum kind kind;
  int side; /* K_CONN: which socket of the connection */
  void *owner;
};

struct port {
  struct tag tag;
  int fd;
  bool tcp, forward;
  struct sockaddr_in to; /* the container's address and port */
};

/* One direction of a connection: from fd[d], through the pipe, to fd[!d]. */
struct half {
  int pipe[2];
  size_t pending; /* bytes in the pipe */
  bool eof;       /* fd[d] has no more to read */
  bool shut;      /* and fd[!d] was told (SHUT_WR) */
};

struct conn {
  struct tag tag[2];
  int fd[2]; /* 0: the client's, 1: to the container */
  bool connecting, dead;
  struct half h[2];
  struct conn *next;
};

struct flow {
  struct tag tag;
  int fd; /* connected to the container */
  struct port *port;
  struct sockaddr_in6 peer;
  int64_t last_ns;
  bool dead;
  struct flow *next;
};

struct berth_ports {
  int epfd;
  struct tag timer_tag;
  int timer_fd;
  size_t n;
  struct port *ports;
  struct conn *conns;
  size_t n_conns;
  bool accept_paused;
  struct flow *flows;
  size_t n_flows;
  uint8_t *dgram; /* DGRAM_MAX bytes, for UDP forwarding */
};

static int watch(struct berth_ports *s, int fd, uint32_t events, struct tag *t)
{
  struct epoll_event ev = {.events = events, .data.ptr = t};
  return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- opening ---- */

static int open_port(struct berth_ports *s, struct port *p, const json_t *b, berth_error_t *err)
{
  const char *proto = berth_json_str(b, "Proto"), *host_ip = berth_json_str(b, "HostIp");
  const char *addr = berth_json_str(b, "IP");
  unsigned host_port = (unsigned)berth_json_int(b, "HostPort", 0);
  struct sockaddr_storage ss;
  socklen_t len;
  int one = 1;
  char shown[80];
  p->fd = -1;
  if (!proto || !host_ip || !addr || berth_net_sockaddr(host_ip, host_port, &ss, &len) < 0 ||
      inet_pton(AF_INET, addr, &p->to.sin_addr) != 1)
    return berth_error_set_plain(err, EINVAL, "bad annotation berth.ports");
  if (strcmp(proto, "sctp") == 0)
    return 0; /* published by the kernel alone, not held */
  p->to.sin_family = AF_INET;
  p->to.sin_port = htons((uint16_t)berth_json_int(b, "Port", 0));
  p->tcp = strcmp(proto, "udp") != 0;
  p->forward = ss.ss_family == AF_INET6;
  p->fd = socket(ss.ss_family, (p->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | (p->forward ? SOCK_NONBLOCK : 0), 0);
  if (p->fd < 0)
    return berth_error_set(err, errno, "socket for port %u/%s", host_port, proto);
  /* A held port takes no SO_REUSEADDR: with it, another program's
   * SO_REUSEADDR bind (and listen) would succeed beside ours. */
  if (p->forward) {
    (void)setsockopt(p->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (p->tcp)
      (void)setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  char num[16];
  snprintf(num, sizeof num, "%u", host_port);
  berth_net_join_host_port(host_ip, num, shown);
  if (bind(p->fd, (struct sockaddr *)&ss, len) < 0)
    return errno == EADDRINUSE
               ? berth_error_set_plain(err, EADDRINUSE, "Bind for %s failed: port is already allocated", shown)
               : berth_error_set(err, errno, "bind %s", shown);
  if (!p->forward)
    return 0;
  if (p->tcp && listen(p->fd, SOMAXCONN) < 0)
    return berth_error_set(err, errno, "listen on %s", shown);
  p->tag = (struct tag){.kind = p->tcp ? K_LISTEN_TCP : K_LISTEN_UDP, .owner = p};
  if (watch(s, p->fd, EPOLLIN, &p->tag) < 0)
    return berth_error_set(err, errno, "epoll_ctl");
  if (!p->tcp && s->timer_fd < 0) {
    struct itimerspec its = {.it_interval = {SWEEP_S, 0}, .it_value = {SWEEP_S, 0}};
    s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    s->timer_tag = (struct tag){.kind = K_TIMER, .owner = s};
    if (s->timer_fd < 0 || timerfd_settime(s->timer_fd, 0, &its, NULL) < 0 ||
        watch(s, s->timer_fd, EPOLLIN, &s->timer_tag) < 0)
      return berth_error_set(err, errno, "timerfd");
    if (!(s->dgram = malloc(DGRAM_MAX)))
      abort();
  }
  return 0;
}

int berth_ports_open(struct berth_ports **ret, const char *annotation, berth_error_t *err)
{
  json_error_t jerr;
  cleanup_json json_t *arr = json_loads(annotation, 0, &jerr);
  *ret = NULL;
  if (!json_is_array(arr))
    return berth_error_set_plain(err, EINVAL, "bad annotation berth.ports: %s", jerr.text);
  struct berth_ports *s = calloc(1, sizeof *s);
  if (!s || !(s->ports = calloc(json_array_size(arr) + 1, sizeof *s->ports)))
    abort();
  s->timer_fd = -1;
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (s->epfd < 0) {
    berth_ports_close(s);
    return berth_error_set(err, errno, "epoll_create1");
  }
  size_t i;
  json_t *b;
  json_array_foreach(arr, i, b)
  {
    s->n++;
    if (open_port(s, &s->ports[i], b, err) < 0) {
      berth_ports_close(s);
      return -1;
    }
  }
  *ret = s;
  return 0;
}

int berth_ports_fd(const struct berth_ports *s) { return s ? s->epfd : -1; }

/* ---- TCP ---- */

static void conn_free(struct conn *c)
{
  for (int d = 0; d < 2; d++) {
    if (c->fd[d] >= 0)
      (void)close(c->fd[d]);
    for (int k = 0; k < 2; k++)
      if (c->h[d].pipe[k] >= 0)
        (void)close(c->h[d].pipe[k]);
  }
  free(c);
}

static void set_accepting(struct berth_ports *s, bool on)
{
  if (s->accept_paused != on)
    return;
  s->accept_paused = !on;
  for (size_t i = 0; i < s->n; i++)
    if (s->ports[i].forward && s->ports[i].tcp) {
      struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.ptr = &s->ports[i].tag};
      (void)epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->ports[i].fd, &ev);
    }
}

/* Close it now (its fds leave the epoll set with them); the memory goes at
 * the end of the batch, which may still name it. */
static void conn_kill(struct berth_ports *s, struct conn *c)
{
  for (int d = 0; d < 2; d++) {
    if (c->fd[d] >= 0)
      (void)close(c->fd[d]);
    c->fd[d] = -1;
  }
  c->dead = true;
  s->n_conns--;
  set_accepting(s, true);
}

/* Move what can move from fd[d] to fd[!d]; false when the connection broke. */
static bool pump(struct conn *c, int d)
{
  struct half *h = &c->h[d];
  for (;;) {
    ssize_t n;
    if (h->pending) {
      n = splice(h->pipe[0], NULL, c->fd[!d], NULL, h->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      h->pending -= (size_t)n;
      continue;
    }
    if (h->eof)
      break;
    n = splice(c->fd[d], NULL, h->pipe[1], NULL, SPLICE_MAX, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0)
      return errno == EAGAIN || errno == EINTR;
    if (n == 0)
      h->eof = true;
    h->pending = (size_t)n;
  }
  if (!h->shut) {
    (void)shutdown(c->fd[!d], SHUT_WR);
    h->shut = true;
  }
  return true;
}

static void conn_event(struct berth_ports *s, struct conn *c, int side, uint32_t events)
{
  if (c->dead)
    return;
  if (c->connecting) {
    int e = 0;
    socklen_t len = sizeof e;
    /* the client went, or the container refused: close the other */
    if (events & (EPOLLERR | EPOLLHUP) ||
        (side == 1 && (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0))) {
      conn_kill(s, c);
      return;
    }
    if (side == 0 || !(events & EPOLLOUT))
      return; /* what the client sends waits until the connection is made */
    c->connecting = false;
  }
  if (!pump(c, 0) || !pump(c, 1) || (c->h[0].shut && c->h[1].shut) || (events & EPOLLERR))
    conn_kill(s, c);
}

static void conn_new(struct berth_ports *s, struct port *p, int cfd)
{
  struct conn *c = calloc(1, sizeof *c);
  if (!c)
    abort();
  c->fd[0] = cfd;
  c->fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  for (int d = 0; d < 2; d++) {
    c->h[d].pipe[0] = c->h[d].pipe[1] = -1;
    c->tag[d] = (struct tag){.kind = K_CONN, .side = d, .owner = c};
  }
  bool ok = c->fd[1] >= 0 && pipe2(c->h[0].pipe, O_NONBLOCK | O_CLOEXEC) == 0 &&
            pipe2(c->h[1].pipe, O_NONBLOCK | O_CLOEXEC) == 0;
  if (ok && connect(c->fd[1], (struct sockaddr *)&p->to, sizeof p->to) < 0 && errno != EINPROGRESS)
    ok = false; /* refused at once: the client sees its connection closed */
  if (!ok && (errno == EMFILE || errno == ENFILE))
    set_accepting(s, false);
  c->connecting = true;
  if (!ok || watch(s, c->fd[0], EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->tag[0]) < 0 ||
      watch(s, c->fd[1], EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->tag[1]) < 0) {
    conn_free(c);
    return;
  }
  c->next = s->conns;
  s->conns = c;
  if (++s->n_conns >= MAX_CONNS)
    set_accepting(s, false);
}

static void tcp_accept(struct berth_ports *s, struct port *p)
{
  while (!s->accept_paused) {
    int fd = accept4(p->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      conn_new(s, p, fd);
      continue;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
      set_accepting(s, false); /* until a connection closes */
    else if (errno == EINTR || errno == ECONNABORTED)
      continue;
    return;
  }
}

/* ---- UDP ---- */

static void flow_kill(struct berth_ports *s, struct flow *f)
{
  (void)close(f->fd);
  f->fd = -1;
  f->dead = true;
  s->n_flows--;
}

static struct flow *flow_for(struct berth_ports *s, struct port *p, const struct sockaddr_in6 *peer)
{
  for (struct flow *f = s->flows; f; f = f->next)
    if (!f->dead && f->port == p && f->peer.sin6_port == peer->sin6_port &&
        memcmp(&f->peer.sin6_addr, &peer->sin6_addr, sizeof peer->sin6_addr) == 0)
      return f;
  if (s->n_flows >= MAX_FLOWS)
    return NULL;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct flow *f = calloc(1, sizeof *f);
  if (!f)
    abort();
  *f = (struct flow){.tag = {.kind = K_FLOW, .owner = f}, .fd = fd, .port = p, .peer = *peer};
  if (fd < 0 || connect(fd, (struct sockaddr *)&p->to, sizeof p->to) < 0 || watch(s, fd, EPOLLIN, &f->tag) < 0) {
    if (fd >= 0)
      (void)close(fd);
    free(f);
    return NULL;
  }
  f->next = s->flows;
  s->flows = f;
  s->n_flows++;
  return f;
}

/* Datagrams from clients, each to its flow's socket. */
static void udp_in(struct berth_ports *s, struct port *p)
{
  for (;;) {
    struct sockaddr_in6 peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(p->fd, s->dgram, DGRAM_MAX, 0, (struct sockaddr *)&peer, &len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    struct flow *f = flow_for(s, p, &peer);
    if (!f)
      continue; /* too many clients: dropped, as a full queue would */
    f->last_ns = berth_now_ns();
    (void)send(f->fd, s->dgram, (size_t)n, MSG_DONTWAIT);
  }
}

/* Replies from the container, back to the flow's client. */
static void udp_out(struct berth_ports *s, struct flow *f)
{
  while (!f->dead) {
    ssize_t n = recv(f->fd, s->dgram, DGRAM_MAX, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN)
        flow_kill(s, f); /* ECONNREFUSED: nothing listens in the container */
      return;
    }
    f->last_ns = berth_now_ns();
    (void)sendto(f->port->fd, s->dgram, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&f->peer, sizeof f->peer);
  }
}

static void sweep_flows(struct berth_ports *s)
{
  uint64_t ticks;
  int64_t now = berth_now_ns();
  (void)!read(s->timer_fd, &ticks, sizeof ticks);
  for (struct flow *f = s->flows; f; f = f->next)
    if (!f->dead && now - f->last_ns >= FLOW_IDLE_NS)
      flow_kill(s, f);
}

/* ---- the loop's side ---- */

/* Free what the batch killed. */
static void reap_dead(struct berth_ports *s)
{
  for (struct conn **pc = &s->conns; *pc;) {
    struct conn *c = *pc;
    if (c->dead) {
      *pc = c->next;
      conn_free(c);
    } else {
      pc = &c->next;
    }
  }
  for (struct flow **pf = &s->flows; *pf;) {
    struct flow *f = *pf;
    if (f->dead) {
      *pf = f->next;
      free(f);
    } else {
      pf = &f->next;
    }
  }
}

void berth_ports_service(struct berth_ports *s)
{
  struct epoll_event ev[64];
  if (!s)
    return;
  int n = epoll_wait(s->epfd, ev, 64, 0);
  for (int i = 0; i < n; i++) {
    struct tag *t = ev[i].data.ptr;
    switch (t->kind) {
    case K_LISTEN_TCP:
      tcp_accept(s, t->owner);
      break;
    case K_LISTEN_UDP:
      udp_in(s, t->owner);
      break;
    case K_CONN:
      conn_event(s, t->owner, t->side, ev[i].events);
      break;
    case K_FLOW:
      udp_out(s, t->owner);
      break;
    case K_TIMER:
      sweep_flows(s);
      break;
    }
  }
  reap_dead(s);
}

void berth_ports_close(struct berth_ports *s)
{
  if (!s)
    return;
  for (struct conn *c = s->conns; c; c = c->next)
    if (!c->dead)
      conn_kill(s, c);
  for (struct flow *f = s->flows; f; f = f->next)
    if (!f->dead)
      flow_kill(s, f);
  reap_dead(s);
  for (size_t i = 0; i < s->n; i++)
    if (s->ports[i].fd >= 0)
      (void)close(s->ports[i].fd);
  if (s->timer_fd >= 0)
    (void)close(s->timer_fd);
  if (s->epfd >= 0)
    (void)close(s->epfd);
  free(s->dgram);
  free(s->ports);
  free(s);
}
