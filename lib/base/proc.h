/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BERTH_PROC_H
#define BERTH_PROC_H

#include <sys/types.h>

/* From /proc/PID/stat: the state letter and the start time (clock ticks
 * since boot, field 22).  Together they tell a live process from a zombie
 * and from a later process that got the same pid.  -1 when it is gone. */
int berth_proc_stat(pid_t pid, char *ret_state, unsigned long long *ret_start);

#endif
