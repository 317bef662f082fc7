/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-probe: a static test helper copied into test images.  Each command
 * tries one thing from inside a container and prints what happened, so that
 * bats tests can check isolation facts busybox has no applet for.
 *
 *   berth-probe sys NAME   try a syscall: prints "ok" or the errno name
 *                          (keyctl, unshare-user, unshare-mnt, mount-tmpfs,
 *                          socket-alg, socket-vsock, personality, clone3,
 *                          clone-newns, add-key)
 *   berth-probe fds        every open fd but the listing's own: "N -> target"
 *   berth-probe cwd        getcwd(), or the errno name
 *   berth-probe open-write PATH
 *                          open PATH for writing: "ok" or the errno name
 *   berth-probe swap A B   exchange A and B (renameat2 RENAME_EXCHANGE) in a
 *                          loop until killed: security.md's swapper, for
 *                          symlink races against host-side file operations
 *   berth-probe procscan FILE
 *                          security.md's procscan, until FILE exists: every
 *                          other process is attached with PTRACE_SEIZE
 *                          ("attached PID COMM" on success, then detached)
 *                          and its fds read ("fd PID COMM TARGET" for a
 *                          path that does not exist in the container),
 *                          "done" at the end
 *   berth-probe udp-echo PORT
 *                          answer every UDP datagram on PORT with "echo:"
 *                          and the datagram, until killed (busybox has no
 *                          UDP server applet) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>

#include <linux/sched.h>

static const char *errname(int e)
{
  switch (e) {
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case ENOSYS: return "ENOSYS";
  case EINVAL: return "EINVAL";
  case EAFNOSUPPORT: return "EAFNOSUPPORT";
  case ENOENT: return "ENOENT";
  case ENOTDIR: return "ENOTDIR";
  case EROFS: return "EROFS";
  case ETXTBSY: return "ETXTBSY";
  case ENOKEY: return "ENOKEY";
  default: return strerror(e);
  }
}

static int report(long r)
{
  if (r < 0) {
    printf("%s\n", errname(errno));
    return 1;
  }
  printf("ok\n");
  return 0;
}

static long try_clone(unsigned long flags)
{
  long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0)
    _exit(0);
  if (pid > 0)
    waitpid((pid_t)pid, NULL, 0);
  return pid;
}

static long try_clone3(void)
{
  struct clone_args a = {.exit_signal = SIGCHLD};
  long pid = syscall(SYS_clone3, &a, sizeof a);
  if (pid == 0)
    _exit(0);
  if (pid > 0)
    waitpid((pid_t)pid, NULL, 0);
  return pid;
}

static int sys(const char *name)
{
  if (!strcmp(name, "keyctl"))
    return report(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -1 /* thread keyring */, 0));
  if (!strcmp(name, "add-key"))
    return report(syscall(SYS_add_key, "user", "berth", "x", 1, -2 /* process keyring */));
  if (!strcmp(name, "unshare-user"))
    return report(unshare(CLONE_NEWUSER));
  if (!strcmp(name, "unshare-mnt"))
    return report(unshare(CLONE_NEWNS));
  if (!strcmp(name, "clone-newns"))
    return report(try_clone(CLONE_NEWNS));
  if (!strcmp(name, "clone3"))
    return report(try_clone3());
  if (!strcmp(name, "mount-tmpfs"))
    return report(mount("none", "/tmp", "tmpfs", 0, NULL));
  if (!strcmp(name, "socket-alg"))
    return report(socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0));
  if (!strcmp(name, "socket-vsock"))
    return report(socket(40 /* AF_VSOCK */, SOCK_STREAM, 0));
  if (!strcmp(name, "personality"))
    return report(personality(0x1234) < 0 ? -1 : 0);
  fprintf(stderr, "unknown syscall probe %s\n", name);
  return 2;
}

static int fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    perror("opendir");
    return 1;
  }
  for (struct dirent *de; (de = readdir(d));) {
    if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
      continue;
    char path[300], target[4096];
    snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    printf("%s -> %s\n", de->d_name, target);
  }
  closedir(d);
  return 0;
}

static int udp_echo(int port)
{
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    return report(-1);
  for (;;) {
    char buf[1500] = "echo:";
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &len);
    if (n >= 0)
      (void)sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len);
  }
}

/* Echo each TCP connection (one at a time) back to its client; at the
 * client's end of input, end ours too (a half-close, passed on). */
static int tcp_echo(int port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0)
    return report(-1);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    char buf[65536];
    ssize_t n;
    while (c >= 0 && (n = read(c, buf, sizeof buf)) > 0)
      for (ssize_t off = 0, w; off < n; off += w)
        if ((w = write(c, buf + off, (size_t)(n - off))) < 0)
          break;
    if (c >= 0) {
      (void)shutdown(c, SHUT_WR);
      (void)close(c);
    }
  }
}

static void comm_of(const char *pid, char *buf, size_t len)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/comm", pid);
  FILE *f = fopen(path, "re");
  if (!f || !fgets(buf, (int)len, f))
    snprintf(buf, len, "?");
  buf[strcspn(buf, "\n")] = '\0';
  if (f)
    fclose(f);
}

static int procscan(const char *stop)
{
  pid_t self = getpid();
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (access(stop, F_OK) != 0) {
    DIR *d = opendir("/proc");
    if (!d)
      return report(-1);
    for (struct dirent *de; (de = readdir(d));) {
      pid_t pid = atoi(de->d_name);
      char comm[64], path[300], target[4096];
      if (pid <= 0 || pid == self)
        continue;
      if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0) {
        comm_of(de->d_name, comm, sizeof comm);
        printf("attached %d %s\n", pid, comm);
        /* detaching needs a stopped tracee */
        int st;
        if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) == 0)
          (void)waitpid(pid, &st, __WALL);
        (void)ptrace(PTRACE_DETACH, pid, NULL, NULL);
      }
      snprintf(path, sizeof path, "/proc/%d/fd", pid);
      DIR *fd = opendir(path);
      for (struct dirent *f; fd && (f = readdir(fd));) {
        struct stat st;
        if (f->d_name[0] == '.')
          continue;
        snprintf(path, sizeof path, "/proc/%d/fd/%s", pid, f->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n <= 0)
          continue;
        target[n] = '\0';
        if (target[0] == '/' && stat(target, &st) != 0 && strncmp(target, "/memfd:", 7) != 0) {
          comm_of(de->d_name, comm, sizeof comm);
          printf("fd %d %s %s\n", pid, comm, target);
        }
      }
      if (fd)
        closedir(fd);
    }
    closedir(d);
  }
  printf("done\n");
  return 0;
}

/* Ask the SSH agent at $SSH_AUTH_SOCK for its identities (the agent
 * protocol's REQUEST_IDENTITIES): print how many it holds. */
static int ssh_agent_keys(void)
{
  const char *path = getenv("SSH_AUTH_SOCK");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  unsigned char req[5] = {0, 0, 0, 1, 11}, rep[9];
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (!path || strlen(path) >= sizeof sa.sun_path) {
    fprintf(stderr, "no SSH_AUTH_SOCK\n");
    return 1;
  }
  strcpy(sa.sun_path, path);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || write(fd, req, sizeof req) != sizeof req ||
      read(fd, rep, sizeof rep) != sizeof rep || rep[4] != 12)
    return report(-1);
  printf("%u\n", (unsigned)rep[5] << 24 | (unsigned)rep[6] << 16 | (unsigned)rep[7] << 8 | rep[8]);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc >= 3 && !strcmp(argv[1], "udp-echo"))
    return udp_echo(atoi(argv[2]));
  if (argc >= 2 && !strcmp(argv[1], "ssh-agent-keys"))
    return ssh_agent_keys();
  if (argc >= 3 && !strcmp(argv[1], "tcp-echo"))
    return tcp_echo(atoi(argv[2]));
  if (argc >= 3 && !strcmp(argv[1], "sys"))
    return sys(argv[2]);
  if (argc >= 3 && !strcmp(argv[1], "open-write"))
    return report(open(argv[2], O_WRONLY | O_CLOEXEC));
  if (argc >= 2 && !strcmp(argv[1], "fds"))
    return fds();
  if (argc >= 3 && !strcmp(argv[1], "procscan"))
    return procscan(argv[2]);
  if (argc >= 2 && !strcmp(argv[1], "cwd")) {
    char buf[4096];
    if (!getcwd(buf, sizeof buf)) {
      printf("%s\n", errname(errno));
      return 1;
    }
    printf("%s\n", buf);
    return 0;
  }
  if (argc >= 4 && !strcmp(argv[1], "swap")) {
    for (;;)
      if (syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], 2 /* RENAME_EXCHANGE */) < 0)
        return report(-1);
  }
  fprintf(stderr, "usage: berth-probe sys NAME | fds | cwd | open-write PATH | swap A B | procscan FILE | udp-echo PORT | tcp-echo PORT | ssh-agent-keys\n");
  return 2;
}
