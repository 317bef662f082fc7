/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/proc.h"

int berth_proc_stat(pid_t pid, char *ret_state, unsigned long long *ret_start)
{
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  /* the command name may hold anything: fields resume after its last ')' */
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ' || !p[2])
    return -1;
  if (ret_state)
    *ret_state = p[2];
  int field = 2; /* p is just before field 3, the state */
  for (; *p && field < 22; p++)
    if (*p == ' ')
      field++;
  if (ret_start)
    *ret_start = strtoull(p, NULL, 10);
  return 0;
}
