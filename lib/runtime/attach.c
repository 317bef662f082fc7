/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Blocking frame I/O for the attach protocol (include/berth/attach.h): the
 * clients' side, and the monitor's last EXIT frame.  The monitor's event loop
 * parses incoming frames incrementally itself (cmd/berth-monitor). */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <berth/attach.h>

#include "base/cleanup.h"

/* Read exactly len bytes; returns the count read before EOF (< len on EOF), -1 on error. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
  size_t have = 0;
  while (have < len) {
    ssize_t n = TEMP_FAILURE_RETRY(read(fd, buf + have, len - have));
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    have += (size_t)n;
  }
  return (ssize_t)have;
}

/* send() with MSG_NOSIGNAL so that a vanished peer is EPIPE, not SIGPIPE;
 * write() for fds that are not sockets (pipes in tests). */
static int write_full(int fd, const uint8_t *buf, size_t len)
{
  bool sock = true;
  while (len > 0) {
    ssize_t n = sock ? TEMP_FAILURE_RETRY(send(fd, buf, len, MSG_NOSIGNAL)) : -1;
    if (n < 0 && sock && errno == ENOTSOCK) {
      sock = false;
      continue;
    }
    if (!sock)
      n = TEMP_FAILURE_RETRY(write(fd, buf, len));
    if (n < 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int berth_attach_send(int fd, enum berth_attach_type type, const void *payload, size_t len, berth_error_t *err)
{
  uint8_t hdr[BERTH_ATTACH_HEADER] = {(uint8_t)type, 0, 0, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                                      (uint8_t)(len >> 8), (uint8_t)len};
  if (len > BERTH_ATTACH_MAX_PAYLOAD)
    return berth_error_set_plain(err, EMSGSIZE, "attach: frame of %zu bytes is too long", len);
  if (write_full(fd, hdr, sizeof(hdr)) < 0 || (len && write_full(fd, payload, len) < 0))
    return berth_error_set(err, errno, "attach: send frame");
  return 0;
}

int berth_attach_recv(int fd, uint8_t *ret_type, void *buf, size_t *ret_len, berth_error_t *err)
{
  uint8_t hdr[BERTH_ATTACH_HEADER];
  ssize_t n = read_full(fd, hdr, sizeof(hdr));
  size_t len;
  if (n < 0)
    return berth_error_set(err, errno, "attach: receive frame");
  if (n == 0)
    return 0;
  if ((size_t)n < sizeof(hdr))
    return berth_error_set_plain(err, EPROTO, "attach: frame header cut short (%zd of 8 bytes)", n);
  if (hdr[1] || hdr[2] || hdr[3])
    return berth_error_set_plain(err, EPROTO, "attach: malformed frame header");
  len = (size_t)hdr[4] << 24 | (size_t)hdr[5] << 16 | (size_t)hdr[6] << 8 | hdr[7];
  if (len > BERTH_ATTACH_MAX_PAYLOAD)
    return berth_error_set_plain(err, EMSGSIZE, "attach: frame of %zu bytes is too long", len);
  n = read_full(fd, buf, len);
  if (n < 0)
    return berth_error_set(err, errno, "attach: receive frame");
  if ((size_t)n < len)
    return berth_error_set_plain(err, EPROTO, "attach: frame cut short (%zd of %zu bytes)", n, len);
  *ret_type = hdr[0];
  *ret_len = len;
  return 1;
}
