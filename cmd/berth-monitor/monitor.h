/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The monitor's pieces, built into one archive that berth-monitor and the
 * unit tests link: the json-file log writer (log.c), the attach socket server
 * (attach-server.c), exec sessions (exec-session.c), healthchecks
 * (health.c), published ports (port-proxy.c) and the stdio relay loop that
 * joins them (relay.c).
 * None of them allocates in proportion to the container's output: every
 * buffer is fixed (a 16 KiB line buffer per stream, 8 KiB scratch buffers, a
 * pending frame per slow attach client). */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <berth/attach.h>
#include <berth/error.h>

struct signalfd_siginfo;

/* ---- log.c: docker's json-file driver ---- */

/* A partial line is written out once it reaches this many bytes (docker's copier). */
#define BERTH_LOG_LINE_MAX 16384
enum berth_log_stream { BERTH_LOG_STDOUT, BERTH_LOG_STDERR };

struct berth_log_line {
  uint8_t *buf; /* BERTH_LOG_LINE_MAX bytes, allocated on first partial line */
  size_t len;
  int64_t partial_ts; /* time of the first piece of a split line, 0 when none */
};

struct berth_logfile {
  int dirfd; /* not owned */
  char *name; /* "<id>-json.log" */
  int fd;
  uint64_t size;
  uint64_t max_size; /* 0: never rotate */
  int max_file;      /* files kept, the live one included (>= 1) */
  struct berth_log_line line[2];
  char *attrs; /* `"attrs":{"k":"v"},` written into every entry, or NULL */
  int64_t (*now)(void); /* clock, replaceable by tests */
};

/* Open (append, create 0640) dirfd/name.  max_size 0 means unlimited;
 * max_file < 1 is taken as 1 (truncate in place, as docker does). */
int berth_logfile_open(struct berth_logfile *l, int dirfd, const char *name, uint64_t max_size, int max_file,
                       berth_error_t *err);
/* Feed raw output of one stream: writes one entry per complete line, one per
 * BERTH_LOG_LINE_MAX bytes of a longer line, and keeps the rest. */
int berth_logfile_feed(struct berth_logfile *l, enum berth_log_stream s, const void *data, size_t len,
                       berth_error_t *err);
/* The stream ended: write what is left of its last line (without "\n"). */
int berth_logfile_flush(struct berth_logfile *l, enum berth_log_stream s, berth_error_t *err);
void berth_logfile_close(struct berth_logfile *l);

/* Docker's JSON string escaping (jsonlog's ffjson writer): \" \\ \n \r,
 * other control bytes and < > & as \u00XX, U+2028/9 as \u202X, each invalid
 * UTF-8 byte as \ufffd.  Escapes in[*pos..len) into out while `room` allows
 * (each input byte needs at most 6), advancing *pos; out NULL only measures.
 * Returns the bytes written (or needed). */
size_t berth_log_escape(const uint8_t *in, size_t len, size_t *pos, char *out, size_t room);
/* "2026-11-30T14:00:00.123456789Z" with trailing zeros of the fraction cut
 * (Go's RFC3339Nano). */
void berth_log_time(int64_t ns, char out[64]);

/* ---- attach-server.c ---- */

#define BERTH_ATTACH_MAX_CLIENTS 32

struct berth_attach_client {
  int fd;
  bool hello;
  uint8_t want; /* BERTH_ATTACH_WANT_* from HELLO */
  /* incoming frame being parsed */
  uint8_t hdr[BERTH_ATTACH_HEADER];
  size_t hdr_have;
  size_t remaining; /* payload bytes of the current frame still to read */
  uint8_t ctl[8];   /* payload of a control frame */
  size_t ctl_have;
  /* the rest of an output frame a non-blocking send could not finish */
  uint8_t *pend;
  size_t pend_len, pend_off;
};

struct berth_attach_server {
  int listen_fd;
  int dirfd; /* the run dir, not owned */
  size_t n;
  struct berth_attach_client clients[BERTH_ATTACH_MAX_CLIENTS];
};

enum berth_attach_event_kind {
  BERTH_ATTACH_EV_NONE,      /* nothing complete yet (would block) */
  BERTH_ATTACH_EV_STDIN,     /* data in the caller's buffer */
  BERTH_ATTACH_EV_STDIN_EOF,
  BERTH_ATTACH_EV_RESIZE,
  BERTH_ATTACH_EV_START,
  BERTH_ATTACH_EV_CLOSED,    /* the client is gone (EOF, error or protocol violation) */
  BERTH_ATTACH_EV_EXEC,      /* the first frame is EXEC of `len` bytes, still unread */
};

struct berth_attach_event {
  enum berth_attach_event_kind kind;
  size_t len;                 /* STDIN, EXEC */
  unsigned short rows, cols;  /* RESIZE */
  bool had_stdin;             /* CLOSED: the client had asked for stdin */
};

/* Listen on dirfd/attach.sock (mode 0600), bound through /proc/self/fd so
 * that long paths work.  A stale socket file is replaced. */
int berth_attach_server_open(struct berth_attach_server *srv, int dirfd, berth_error_t *err);
/* Accept every pending connection (non-blocking; refuses past the client cap). */
void berth_attach_server_accept(struct berth_attach_server *srv);
/* Parse client i's input: at most one event.  STDIN payload goes into buf
 * (at most `room` bytes; room 0 leaves STDIN payload unread).  On CLOSED the
 * client has been removed: client indexes past i have moved down by one. */
void berth_attach_server_read(struct berth_attach_server *srv, size_t i, uint8_t *buf, size_t room,
                              struct berth_attach_event *ev);
/* Take client i out of the server without closing it (an exec session);
 * returns its fd.  Client indexes past i move down by one. */
int berth_attach_server_release(struct berth_attach_server *srv, size_t i);
/* The per-connection pieces, for exec sessions: parse input (false: the
 * client is gone or broke the protocol), send one frame without blocking
 * (the rest stays pending; <0 when a frame is pending already or the peer is
 * gone), send what is pending (1 all sent, 0 some left, -1 gone). */
bool berth_attach_client_read(struct berth_attach_client *c, uint8_t *buf, size_t room, struct berth_attach_event *ev);
int berth_attach_client_send(struct berth_attach_client *c, enum berth_attach_type type, const void *data, size_t len);
int berth_attach_client_flush(struct berth_attach_client *c);
/* Client i is writable: send its pending bytes.  false when it was dropped. */
bool berth_attach_server_flush(struct berth_attach_server *srv, size_t i);
/* Mirror output to every client that asked for it; never blocks.  A client
 * whose previous frame is still pending is dropped (it cannot keep up). */
void berth_attach_server_broadcast(struct berth_attach_server *srv, enum berth_attach_type type, const void *data,
                                   size_t len);
/* The last frames: flush, send EXIT with the code (waiting at most about a
 * second per client), close every client but the first that got the EXIT
 * and said it removes the container (BERTH_ATTACH_WANT_REMOVE): its socket
 * is returned (or -1), for the caller to wait until it hangs up.  The
 * listening socket stays. */
int berth_attach_server_finish(struct berth_attach_server *srv, int exit_code);
/* Close the clients and the listening socket and remove attach.sock. */
void berth_attach_server_close(struct berth_attach_server *srv);

/* ---- exec-session.c: docker exec, served by the monitor ---- */

#define BERTH_EXEC_MAX_SESSIONS 32
#define BERTH_EXEC_POLLFDS 5 /* per session: socket, sync, stdout, stderr, stdin */

struct berth_runtime_container;
struct pollfd;
struct berth_exec_session;
struct json_t;

struct berth_exec_set {
  int run_dfd;                        /* the run dir (spec.json), not owned */
  struct berth_runtime_container *c;  /* the running container, set by the caller */
  int own_pidns;                      /* our pid namespace, to return to after a fork */
  /* records docker's exec_create, exec_start and exec_die (NULL: not);
   * attrs is stolen */
  void (*event)(void *data, const char *action, struct json_t *attrs);
  void *event_data;
  size_t n;
  struct berth_exec_session *s[BERTH_EXEC_MAX_SESSIONS];
  /* the sessions of the last berth_exec_pollfds, in its order */
  size_t n_polled;
  struct berth_exec_session *polled[BERTH_EXEC_MAX_SESSIONS];
};

void berth_exec_set_init(struct berth_exec_set *x, int run_dfd);
/* A client sent EXEC (len bytes of request to come): the session takes fd. */
void berth_exec_accept(struct berth_exec_set *x, int fd, size_t len);
/* Poll entries of every session (at most BERTH_EXEC_POLLFDS each); returns the count. */
size_t berth_exec_pollfds(struct berth_exec_set *x, struct pollfd *p);
/* Serve what poll reported on those entries. */
void berth_exec_service(struct berth_exec_set *x, const struct pollfd *p, size_t n);
/* A child was reaped: true when it was an exec session's command. */
bool berth_exec_reaped(struct berth_exec_set *x, pid_t pid, int wstatus);
/* The container is gone: kill and reap what is left of every session, send
 * each client its EXIT, free everything. */
void berth_exec_finish_all(struct berth_exec_set *x);

/* ---- health.c: docker's healthchecks, probes run by the monitor ---- */

/* docker keeps the first 4096 bytes of a probe's output (then "...") */
#define BERTH_HEALTH_OUTPUT_MAX 4096
#define BERTH_HEALTH_POLLFDS 3 /* timer, the probe's sync socket, its output */

struct berth_spec;
struct berth_health;

/* The healthcheck of the spec's berth.health.* annotations (lib/engine/
 * spec.c), with the log an earlier run left in ctr_dfd/health.json; NULL
 * with err unset when the container has none.  event(data, status) is
 * called when a probe's result changes the status (docker's health_status
 * event).  Every function below takes NULL as "no healthcheck" and does
 * nothing. */
struct berth_health *berth_health_new(const struct berth_spec *spec, int ctr_dfd, int run_dfd,
                                      void (*event)(void *data, const char *status), void *data,
                                      berth_error_t *err);
/* Stop (if running) and free. */
void berth_health_free(struct berth_health *h);
/* The container started: status "starting", the first probe scheduled.
 * Probes fork into c (as exec sessions: own_pidns is the monitor's pid
 * namespace); the start period counts from started_ns (unix ns). */
void berth_health_start(struct berth_health *h, const struct berth_runtime_container *c, int own_pidns,
                        int64_t started_ns);
/* The container is gone: kill and reap the probe, no more probes, status
 * "unhealthy" (docker's, once its monitor stops). */
void berth_health_stop(struct berth_health *h);
/* Poll entries (BERTH_HEALTH_POLLFDS, or 0 for NULL) and their service. */
size_t berth_health_pollfds(struct berth_health *h, struct pollfd *p);
void berth_health_service(struct berth_health *h, const struct pollfd *p, size_t n);
/* A child was reaped: true when it was the probe. */
bool berth_health_reaped(struct berth_health *h, pid_t pid, int wstatus);

/* ---- port-proxy.c: published ports, held and (IPv6) forwarded ---- */

struct berth_ports;

/* Bind every port of the annotation berth.ports (lib/engine/networks.c):
 * IPv4 ones held, IPv6 ones listening to forward to the container.  A port
 * taken is docker's "Bind for ... failed: port is already allocated". */
int berth_ports_open(struct berth_ports **ret, const char *annotation, berth_error_t *err);
/* The fd to poll for POLLIN (-1 for NULL), and its service. */
int berth_ports_fd(const struct berth_ports *s);
void berth_ports_service(struct berth_ports *s);
/* Close every port and connection, free (NULL: nothing). */
void berth_ports_close(struct berth_ports *s);

/* ---- relay.c: the event loop while a container runs ---- */

struct berth_relay;
struct berth_relay_ops {
  /* A signal from the signalfd; return true once the container's init is
   * gone (the relay then drains the output and returns). */
  bool (*signal)(struct berth_relay *r, const struct signalfd_siginfo *si);
  /* A client sent START (only called while r->wait_start). */
  int (*start)(struct berth_relay *r, berth_error_t *err);
};

struct berth_relay {
  /* Set by the caller.  For a terminal out_fd == in_fd == the pty master and
   * err_fd is -1; fds are non-blocking.  The relay closes in_fd (and sets it
   * to -1) on STDIN_EOF when !tty; the caller owns every other fd. */
  int out_fd, err_fd, in_fd;
  bool tty, stdin_once, wait_start;
  int sig_fd;
  struct berth_logfile *log;
  struct berth_attach_server *srv;
  struct berth_exec_set *exec; /* may be NULL */
  struct berth_health *health; /* may be NULL */
  struct berth_ports *ports;   /* may be NULL */
  const struct berth_relay_ops *ops;
  void *data;
  /* Internal: stdin bytes read from clients, not yet taken by the container. */
  uint8_t *in_buf;
  size_t in_len, in_off;
  bool in_eof_pending;
  bool out_open, err_open;
  bool log_failing;
};

/* Run until ops->signal reports the init gone, then drain the output (until
 * EOF, or 100 ms without output, 2 s at most) and flush the log's last
 * lines.  Returns 0, or <0 if poll itself failed. */
int berth_relay_run(struct berth_relay *r, berth_error_t *err);
/* Free the relay's buffer (the caller's fds stay). */
void berth_relay_clear(struct berth_relay *r);

#endif
