/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client side of an attach (run, start -a, attach): relay our stdin to the
 * container and its output to our stdout/stderr over an attach socket
 * (<berth/attach.h>), with docker's terminal handling: raw mode while a
 * terminal container is attached to our terminal (restored on every exit,
 * signals included), RESIZE frames at start and on SIGWINCH, the detach key
 * sequence (default ctrl-p,ctrl-q) and, without a terminal, signals proxied
 * to the container.  One poll loop, no threads. */
#ifndef BERTH_ATTACH_TTY_H
#define BERTH_ATTACH_TTY_H

#include <stdbool.h>

#include <berth/error.h>

struct berth_engine;

struct cli_relay_opts {
  bool tty;       /* the container has a terminal (Config.Tty) */
  bool stdin;     /* relay our stdin */
  bool stdout;    /* print the container's stdout (and, with a tty, everything) */
  bool stderr;    /* print the container's stderr */
  bool sig_proxy; /* forward signals to the container (ignored with a tty, as docker) */
  const unsigned char *detach_keys; /* NULL: ctrl-p,ctrl-q */
  int n_detach_keys;
  /* For sig-proxy: the container to signal through berth_container_kill. */
  struct berth_engine *engine;
  const char *container;
};

struct cli_relay_result {
  int exit_code; /* from the EXIT frame; -1 when none came */
  bool detached; /* the user typed the detach sequence */
  char *error;   /* text of an ERROR frame (the command did not start), or NULL; caller frees */
};

/* Relay until the monitor sends EXIT and closes, or the user detaches.
 * Takes no ownership of fd.  Returns 0 with *res filled, or -1 with err set
 * when the connection fails or ends without EXIT. */
int cli_attach_relay(int fd, const struct cli_relay_opts *opts, struct cli_relay_result *res, berth_error_t *err);

#endif
