/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-init: the tiny pid 1 of `run --init`.  It runs the command as its
 * child, forwards every signal it can catch to it, reaps every zombie that
 * reparents to it, and exits with the command's status (128+N for signal N),
 * so that a command that ignores SIGTERM as pid 1 still stops and orphans are
 * collected.  Statically linked: it runs inside any image. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_of(int ws)
{
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static __attribute__((noreturn)) void run_child(char **argv, const sigset_t *old)
{
  sigprocmask(SIG_SETMASK, old, NULL);
  execvp(argv[0], argv);
  fprintf(stderr, "berth-init: exec %s: %s\n", argv[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

int main(int argc, char **argv)
{
  int first = 1;
  if (first < argc && strcmp(argv[first], "--") == 0)
    first++;
  if (first >= argc) {
    fprintf(stderr, "usage: berth-init [--] COMMAND [ARG...]\n");
    return 2;
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  if (getpid() != 1)
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t child = fork();
  if (child < 0) {
    perror("berth-init: fork");
    return 1;
  }
  if (child == 0)
    run_child(argv + first, &old);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0)
      continue;
    if (sig != SIGCHLD) {
      (void)kill(child, sig);
      continue;
    }
    for (;;) {
      int ws;
      pid_t p = waitpid(-1, &ws, WNOHANG);
      if (p <= 0)
        break;
      if (p == child)
        return status_of(ws);
    }
  }
}
