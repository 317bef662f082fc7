/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd/berth/attach-tty.c against a fake monitor on a socketpair: output
 * frames to fds 1 and 2, stdin to STDIN frames and STDIN_EOF, the detach
 * sequence held back and matched, EXIT and ERROR frames. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <berth/attach.h>

#include "attach-tty.h"
#include "base/cleanup.h"

static void send_frame(int fd, uint8_t type, const void *p, size_t len)
{
  berth_error_t err = NULL;
  cr_assert_eq(berth_attach_send(fd, type, p, len, &err), 0);
}

static void send_exit(int fd, int32_t code)
{
  uint8_t p[4] = {(uint8_t)((uint32_t)code >> 24), (uint8_t)((uint32_t)code >> 16), (uint8_t)((uint32_t)code >> 8),
                  (uint8_t)code};
  send_frame(fd, BERTH_ATTACH_EXIT, p, 4);
}

/* Our stdin: a pipe holding `data` (then closed when close_it). */
static void stdin_from(const char *data, size_t len, bool close_it)
{
  int p[2];
  cr_assert_eq(pipe(p), 0);
  cr_assert_eq(write(p[1], data, len), (ssize_t)len);
  if (close_it)
    close(p[1]);
  dup2(p[0], STDIN_FILENO);
  close(p[0]);
}

/* Redirect fd to a temporary file; returns that file's fd for reading. */
static int capture(int fd)
{
  char path[] = "/tmp/berth-relay-XXXXXX";
  int f = mkstemp(path);
  cr_assert(f >= 0);
  unlink(path);
  dup2(f, fd);
  return f;
}

static char *captured(int f)
{
  char *buf = calloc(1, 4096);
  (void)!pread(f, buf, 4095, 0);
  return buf;
}

/* Read every frame the client sent until it closes or sends STDIN_EOF;
 * collects STDIN payloads. */
static void read_stdin_frames(int fd, char *out, size_t cap, bool *ret_eof)
{
  uint8_t type, *buf = malloc(BERTH_ATTACH_MAX_PAYLOAD);
  size_t len, used = 0;
  berth_error_t err = NULL;
  *ret_eof = false;
  while (berth_attach_recv(fd, &type, buf, &len, &err) == 1) {
    if (type == BERTH_ATTACH_STDIN && used + len < cap) {
      memcpy(out + used, buf, len);
      used += len;
    }
    if (type == BERTH_ATTACH_STDIN_EOF) {
      *ret_eof = true;
      break;
    }
  }
  out[used] = '\0';
  berth_error_release(&err);
  free(buf);
}

Test(attach_tty, output_frames_go_to_stdout_and_stderr)
{
  int sv[2], out, errf;
  struct cli_relay_opts opts = {.stdout = true, .stderr = true};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  cleanup_free char *o = NULL, *e = NULL;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  send_frame(sv[1], BERTH_ATTACH_STDOUT, "hello\n", 6);
  send_frame(sv[1], BERTH_ATTACH_STDERR, "oops\n", 5);
  send_exit(sv[1], 3);
  close(sv[1]);
  out = capture(STDOUT_FILENO);
  errf = capture(STDERR_FILENO);
  cr_assert_eq(cli_attach_relay(sv[0], &opts, &res, &err), 0);
  o = captured(out);
  e = captured(errf);
  cr_assert_str_eq(o, "hello\n");
  cr_assert_str_eq(e, "oops\n");
  cr_assert_eq(res.exit_code, 3);
  cr_assert(!res.detached);
  cr_assert_null(res.error);
}

Test(attach_tty, unwanted_streams_are_dropped)
{
  int sv[2], out;
  struct cli_relay_opts opts = {.stdout = false, .stderr = true};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  cleanup_free char *o = NULL;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  send_frame(sv[1], BERTH_ATTACH_STDOUT, "hidden", 6);
  send_exit(sv[1], 0);
  close(sv[1]);
  out = capture(STDOUT_FILENO);
  cr_assert_eq(cli_attach_relay(sv[0], &opts, &res, &err), 0);
  o = captured(out);
  cr_assert_str_eq(o, "");
}

Test(attach_tty, error_frame_is_reported)
{
  int sv[2];
  struct cli_relay_opts opts = {.stdout = true, .stderr = true};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  send_frame(sv[1], BERTH_ATTACH_ERROR, "exec: \"nope\": executable file not found in $PATH", 49);
  send_exit(sv[1], 127);
  close(sv[1]);
  cr_assert_eq(cli_attach_relay(sv[0], &opts, &res, &err), 0);
  cr_assert_str_eq(res.error, "exec: \"nope\": executable file not found in $PATH");
  cr_assert_eq(res.exit_code, 127);
  free(res.error);
}

Test(attach_tty, closed_without_exit_is_an_error)
{
  int sv[2];
  struct cli_relay_opts opts = {.stdout = true};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  cr_assert_lt(cli_attach_relay(sv[0], &opts, &res, &err), 0);
  cr_assert(err);
  berth_error_release(&err);
}

/* A fake monitor in a child: collects stdin, then answers with what it got
 * on stdout and exits with code 0. */
static pid_t echo_monitor(int fd)
{
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    char got[256];
    bool eof;
    read_stdin_frames(fd, got, sizeof(got), &eof);
    if (eof) {
      send_frame(fd, BERTH_ATTACH_STDOUT, got, strlen(got));
      send_exit(fd, 0);
    }
    _exit(0);
  }
  close(fd);
  return pid;
}

Test(attach_tty, stdin_is_relayed_then_eof)
{
  int sv[2], out;
  struct cli_relay_opts opts = {.stdin = true, .stdout = true};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  cleanup_free char *o = NULL;
  pid_t pid;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  stdin_from("abc\x10\x11", 5, true); /* no tty: the detach keys are data */
  pid = echo_monitor(sv[1]);
  out = capture(STDOUT_FILENO);
  cr_assert_eq(cli_attach_relay(sv[0], &opts, &res, &err), 0, "%s", err ? err->msg : "");
  waitpid(pid, NULL, 0);
  o = captured(out);
  cr_assert_str_eq(o, "abc\x10\x11");
  cr_assert(!res.detached);
  cr_assert_eq(res.exit_code, 0);
}

Test(attach_tty, partial_detach_sequence_is_passed_on)
{
  int sv[2], out;
  struct cli_relay_opts opts = {.tty = true, .stdin = true, .stdout = true};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  cleanup_free char *o = NULL;
  pid_t pid;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  stdin_from("x\x10y\x10", 4, true);
  pid = echo_monitor(sv[1]);
  out = capture(STDOUT_FILENO);
  cr_assert_eq(cli_attach_relay(sv[0], &opts, &res, &err), 0, "%s", err ? err->msg : "");
  waitpid(pid, NULL, 0);
  o = captured(out);
  cr_assert_str_eq(o, "x\x10y\x10");
}

Test(attach_tty, detach_sequence_detaches_with_a_tty)
{
  int sv[2];
  struct cli_relay_opts opts = {.tty = true, .stdin = true, .stdout = true};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  char got[64];
  bool eof;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  stdin_from("ls\x10\x11more", 8, false);
  cr_assert_eq(cli_attach_relay(sv[0], &opts, &res, &err), 0, "%s", err ? err->msg : "");
  cr_assert(res.detached);
  close(sv[0]);
  read_stdin_frames(sv[1], got, sizeof(got), &eof);
  cr_assert_str_eq(got, "ls");
  cr_assert(!eof, "a detach must not close the container's stdin");
}

Test(attach_tty, custom_detach_keys)
{
  int sv[2];
  static const unsigned char keys[] = {1, 'x'}; /* ctrl-a,x */
  struct cli_relay_opts opts = {.tty = true, .stdin = true, .stdout = true, .detach_keys = keys, .n_detach_keys = 2};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  char got[64];
  bool eof;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  stdin_from("a\x10\x11\x01x", 5, false);
  cr_assert_eq(cli_attach_relay(sv[0], &opts, &res, &err), 0, "%s", err ? err->msg : "");
  cr_assert(res.detached);
  close(sv[0]);
  read_stdin_frames(sv[1], got, sizeof(got), &eof);
  cr_assert_str_eq(got, "a\x10\x11");
}
