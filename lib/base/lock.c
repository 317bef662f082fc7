/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Advisory locks on lock files (flock), released when the fd is closed. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/lock.h"

int berth_lock_at(int dirfd, const char *name, bool exclusive, berth_error_t *err)
{
  cleanup_close int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_error_set(err, errno, "open lock `%s`", name);
  if (TEMP_FAILURE_RETRY(flock(fd, exclusive ? LOCK_EX : LOCK_SH)) < 0)
    return berth_error_set(err, errno, "lock `%s`", name);
  return steal_fd(&fd);
}
