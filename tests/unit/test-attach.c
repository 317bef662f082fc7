/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The attach protocol's frames over a socketpair: the header layout (docker's
 * stream format for types 1 and 2), empty and maximal payloads, clean end of
 * stream, and the errors for frames that are too long or cut short. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <berth/attach.h>

#include "base/cleanup.h"

static void pair(int sv[2]) { cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0); }

static uint8_t buf[BERTH_ATTACH_MAX_PAYLOAD + 16];

Test(attach, send_writes_docker_stream_header)
{
  int sv[2];
  uint8_t raw[16];
  berth_error_t err = NULL;
  pair(sv);
  cr_assert_eq(berth_attach_send(sv[0], BERTH_ATTACH_STDERR, "hello", 5, &err), 0);
  cr_assert_eq(read(sv[1], raw, sizeof(raw)), 13);
  cr_expect_eq(raw[0], 2);
  cr_expect_eq(raw[1] | raw[2] | raw[3], 0);
  cr_expect_eq(raw[4], 0);
  cr_expect_eq(raw[5], 0);
  cr_expect_eq(raw[6], 0);
  cr_expect_eq(raw[7], 5);
  cr_expect_eq(memcmp(raw + 8, "hello", 5), 0);
}

Test(attach, round_trip_of_several_frames)
{
  int sv[2];
  uint8_t type;
  size_t len;
  uint8_t rc[4] = {0, 0, 0, 137};
  berth_error_t err = NULL;
  static uint8_t big[BERTH_ATTACH_MAX_PAYLOAD];
  pair(sv);
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)(i * 7);
  /* the socket buffer must hold everything: send the big frame from a child */
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(sv[1]);
    uint8_t hello = BERTH_ATTACH_WANT_STDOUT;
    if (berth_attach_send(sv[0], BERTH_ATTACH_HELLO, &hello, 1, &err) < 0 ||
        berth_attach_send(sv[0], BERTH_ATTACH_START, NULL, 0, &err) < 0 ||
        berth_attach_send(sv[0], BERTH_ATTACH_STDOUT, big, sizeof(big), &err) < 0 ||
        berth_attach_send(sv[0], BERTH_ATTACH_EXIT, rc, 4, &err) < 0)
      _exit(1);
    _exit(0);
  }
  close(sv[0]);
  cr_assert_eq(berth_attach_recv(sv[1], &type, buf, &len, &err), 1);
  cr_expect_eq(type, BERTH_ATTACH_HELLO);
  cr_expect_eq(len, 1);
  cr_expect_eq(buf[0], BERTH_ATTACH_WANT_STDOUT);
  cr_assert_eq(berth_attach_recv(sv[1], &type, buf, &len, &err), 1);
  cr_expect_eq(type, BERTH_ATTACH_START);
  cr_expect_eq(len, 0);
  cr_assert_eq(berth_attach_recv(sv[1], &type, buf, &len, &err), 1, "%s", err ? err->msg : "");
  cr_expect_eq(type, BERTH_ATTACH_STDOUT);
  cr_assert_eq(len, sizeof(big));
  cr_expect_eq(memcmp(buf, big, len), 0);
  cr_assert_eq(berth_attach_recv(sv[1], &type, buf, &len, &err), 1);
  cr_expect_eq(type, BERTH_ATTACH_EXIT);
  cr_expect_eq(memcmp(buf, rc, 4), 0);
  cr_expect_eq(berth_attach_recv(sv[1], &type, buf, &len, &err), 0, "clean end of stream");
  cr_expect_null(err);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect_eq(status, 0);
}

Test(attach, send_refuses_too_long_frame)
{
  int sv[2];
  uint8_t raw[8];
  berth_error_t err = NULL;
  pair(sv);
  cr_assert_lt(berth_attach_send(sv[0], BERTH_ATTACH_STDIN, buf, BERTH_ATTACH_MAX_PAYLOAD + 1, &err), 0);
  cr_assert_not_null(err);
  cr_expect_eq(err->code, EMSGSIZE);
  berth_error_release(&err);
  close(sv[0]);
  cr_expect_eq(read(sv[1], raw, sizeof(raw)), 0, "nothing was written");
}

static void expect_recv_error(const void *raw, size_t n, int code, const char *substr)
{
  int sv[2];
  uint8_t type;
  size_t len;
  berth_error_t err = NULL;
  pair(sv);
  cr_assert_eq(write(sv[0], raw, n), (ssize_t)n);
  close(sv[0]);
  cr_assert_lt(berth_attach_recv(sv[1], &type, buf, &len, &err), 0);
  cr_assert_not_null(err);
  cr_expect_eq(err->code, code);
  cr_expect_not_null(strstr(err->msg, substr), "`%s` lacks `%s`", err->msg, substr);
  berth_error_release(&err);
  close(sv[1]);
}

Test(attach, recv_rejects_too_long_frame)
{
  uint8_t raw[8] = {1, 0, 0, 0, 0, 0, 0x80, 0x01}; /* 32769 */
  expect_recv_error(raw, sizeof(raw), EMSGSIZE, "too long");
  uint8_t huge[8] = {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  expect_recv_error(huge, sizeof(huge), EMSGSIZE, "too long");
}

Test(attach, recv_rejects_truncated_frames)
{
  uint8_t hdr_only[5] = {1, 0, 0, 0, 0};
  expect_recv_error(hdr_only, sizeof(hdr_only), EPROTO, "header cut short");
  uint8_t short_payload[11] = {1, 0, 0, 0, 0, 0, 0, 10, 'a', 'b', 'c'};
  expect_recv_error(short_payload, sizeof(short_payload), EPROTO, "cut short (3 of 10");
}

Test(attach, recv_rejects_nonzero_reserved_bytes)
{
  uint8_t raw[9] = {1, 0, 1, 0, 0, 0, 0, 1, 'x'};
  expect_recv_error(raw, sizeof(raw), EPROTO, "malformed");
}

Test(attach, send_to_closed_peer_is_epipe_not_sigpipe)
{
  int sv[2];
  berth_error_t err = NULL;
  pair(sv);
  close(sv[1]);
  cr_assert_lt(berth_attach_send(sv[0], BERTH_ATTACH_STDIN, "x", 1, &err), 0);
  cr_assert_not_null(err);
  cr_expect_eq(err->code, EPIPE);
  berth_error_release(&err);
}
