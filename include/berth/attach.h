/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The attach protocol between a container's monitor and its clients (the CLI,
 * `berth serve`), over the unix socket RUNROOT/containers/<id>/attach.sock.
 *
 * Every message is a frame: an 8-byte header {type, 0, 0, 0, length as a
 * big-endian uint32} followed by `length` bytes (at most
 * BERTH_ATTACH_MAX_PAYLOAD).  Types 1 and 2 are docker's stream ids, so an
 * output frame is exactly a frame of docker's multiplexed stream format.
 *
 * A client first sends HELLO (one byte of BERTH_ATTACH_WANT_* flags), then any
 * of STDIN, STDIN_EOF, RESIZE, START.  The monitor sends STDOUT/STDERR (for a
 * terminal, everything arrives as STDOUT), an ERROR when starting the command
 * failed, and finally EXIT with the exit code as a big-endian int32 once the
 * container's process is gone and all its output is sent; then it closes.
 *
 * An exec session (docker exec) is a connection whose first frame is EXEC
 * instead of HELLO: a JSON object {"Cmd": [...], "Env": [...], "User",
 * "WorkingDir", "Tty", "AttachStdin", "Privileged", "Detach", "ConsoleSize":
 * [rows, cols]}.  The monitor forks the command into the running container
 * and answers STARTED (its pid, big-endian int32) once it was exec'd, or
 * ERROR and EXIT (126, or 127 for a command that does not exist); then the
 * session is relayed like an attach (STDIN, STDIN_EOF and RESIZE in, STDOUT,
 * STDERR out) and ends with EXIT.  A detached session ends after STARTED;
 * a client that goes away leaves the command running. */
#ifndef BERTH_ATTACH_H
#define BERTH_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <berth/error.h>

enum berth_attach_type {
  BERTH_ATTACH_STDIN = 0,      /* client -> monitor: bytes for the container's stdin */
  BERTH_ATTACH_STDOUT = 1,     /* monitor -> client */
  BERTH_ATTACH_STDERR = 2,     /* monitor -> client */
  BERTH_ATTACH_HELLO = 10,     /* client -> monitor: 1 byte of WANT flags */
  BERTH_ATTACH_STDIN_EOF = 11, /* client -> monitor: close the container's stdin */
  BERTH_ATTACH_RESIZE = 12,    /* client -> monitor: rows, cols as big-endian uint16 each */
  BERTH_ATTACH_START = 13,     /* client -> monitor: exec the held command */
  BERTH_ATTACH_EXEC = 14,      /* client -> monitor, first frame: start an exec session (JSON) */
  BERTH_ATTACH_EXIT = 20,      /* monitor -> client: big-endian int32 exit code */
  BERTH_ATTACH_ERROR = 21,     /* monitor -> client: a message (why the command did not start) */
  BERTH_ATTACH_STARTED = 22,   /* monitor -> client: the exec'd command's pid as a big-endian int32 */
};

enum {
  BERTH_ATTACH_WANT_STDIN = 1,
  BERTH_ATTACH_WANT_STDOUT = 2,
  BERTH_ATTACH_WANT_STDERR = 4,
  /* The client removes the container (`run --rm`) once it has the EXIT, and
   * keeps the connection open until it has: the monitor removes it only if
   * the client hangs up without having done so. */
  BERTH_ATTACH_WANT_REMOVE = 8,
};

#define BERTH_ATTACH_HEADER 8
#define BERTH_ATTACH_MAX_PAYLOAD 32768

/* Write one whole frame (blocking fd; retries EINTR and short writes). */
BERTH_PUBLIC int berth_attach_send(int fd, enum berth_attach_type type, const void *payload, size_t len,
                                   berth_error_t *err);
/* Read one whole frame into buf (at least BERTH_ATTACH_MAX_PAYLOAD bytes).
 * Returns 1 with *ret_type and *ret_len set, 0 on a clean end of stream before a
 * header, <0 on error (including a frame that is too long or cut short). */
BERTH_PUBLIC int berth_attach_recv(int fd, uint8_t *ret_type, void *buf, size_t *ret_len, berth_error_t *err);

#endif
