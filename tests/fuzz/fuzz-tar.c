/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: unpack the input as a layer (plain, gzip or zstd) into a
 * fresh temp dir that also holds a canary file next to the layer root.
 * Aborts if the canary changes, if anything appears next to the root, or if
 * an fd leaks.  The input size picks the mode: bit 0 overlay whiteouts,
 * bit 1 the helper thread, so both paths get fuzzed. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "image/tar.h"

#define CANARY "canary: must never change\n"

static void check_sandbox(int dfd)
{
  char buf[64] = {0};
  struct stat st;
  int fd, n = 0;
  DIR *d;
  struct dirent *de;
  fd = openat(dfd, "canary", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0644 ||
      st.st_nlink != 1 || read(fd, buf, sizeof(buf)) != (ssize_t)strlen(CANARY) ||
      strcmp(buf, CANARY) != 0)
    abort();
  close(fd);
  fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  d = fdopendir(fd);
  if (!d)
    abort();
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      n++;
  closedir(d);
  if (n != 2) /* root and canary */
    abort();
}

/* Give every directory owner rwx so that cleanup works without root too. */
static void make_writable(int dfd)
{
  DIR *d;
  struct dirent *de;
  int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || !(d = fdopendir(fd)))
    return;
  while ((de = readdir(d))) {
    struct stat st;
    int cfd;
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
        fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
      continue;
    (void)fchmodat(dirfd(d), de->d_name, 0700, 0);
    cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cfd >= 0) {
      make_writable(cfd);
      close(cfd);
    }
  }
  closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char dir[] = "/tmp/berth-fuzz-tar-XXXXXX";
  struct berth_tar_apply_opts opts = {
      .tee_fd = -1,
      .overlay_whiteouts = size & 1,
      .no_thread = !(size & 2),
      .max_size = 64 << 20,
      .ignore_ownership = geteuid() != 0,
  };
  struct berth_tar_apply_result res;
  berth_error_t err = NULL;
  int probe_before, probe_after, dfd, root, in;

  probe_before = dup(2);
  close(probe_before);
  if (!mkdtemp(dir))
    abort();
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || mkdirat(dfd, "root", 0755) < 0)
    abort();
  {
    int fd = openat(dfd, "canary", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || berth_write_all(fd, CANARY, strlen(CANARY)) < 0 || fchmod(fd, 0644) < 0)
      abort();
    close(fd);
  }
  root = openat(dfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  in = memfd_create("fuzz-tar", MFD_CLOEXEC);
  if (root < 0 || in < 0 || berth_write_all(in, data, size) < 0 || lseek(in, 0, SEEK_SET) != 0)
    abort();

  if (berth_tar_apply(in, root, &opts, &res, &err) < 0)
    berth_error_release(&err);

  close(in);
  if (geteuid() != 0)
    make_writable(root);
  close(root);
  check_sandbox(dfd);
  close(dfd);
  if (berth_rm_rf_at(AT_FDCWD, dir, &err) < 0) {
    fprintf(stderr, "fuzz-tar: cleanup of %s failed: %s\n", dir, err->msg);
    abort();
  }
  probe_after = dup(2);
  close(probe_after);
  if (probe_after != probe_before)
    abort(); /* fd leak */
  return 0;
}
