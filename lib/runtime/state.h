/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A container's state file, ROOT/containers/<id>/state.json, in the shape of
 * Docker's ContainerJSON.State (plus berth's own keys).  Written atomically by
 * the engine (created, removal) and by the monitor (running, exited,
 * restarting); each writer rewrites the whole file. */
#ifndef BERTH_RUNTIME_STATE_H
#define BERTH_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <berth/error.h>

enum berth_status {
  BERTH_STATUS_CREATED, BERTH_STATUS_RUNNING, BERTH_STATUS_PAUSED, BERTH_STATUS_RESTARTING,
  BERTH_STATUS_REMOVING, BERTH_STATUS_EXITED, BERTH_STATUS_DEAD,
};

struct berth_state {
  enum berth_status status;
  bool oom_killed;
  pid_t pid;                   /* 0 when not running */
  unsigned long long pid_start; /* start time of pid, to tell a reused pid apart */
  pid_t monitor_pid;
  int exit_code;
  char error[512];             /* "" when none */
  int64_t started_at, finished_at; /* unix nanoseconds, 0 = never ("0001-01-01T00:00:00Z") */
  int restart_count;
};

/* "created", "running", ... (docker's words). */
const char *berth_status_name(enum berth_status s);
int berth_status_from_name(const char *name);
/* Read state.json in dirfd (the container's directory); a missing file reads
 * as a fresh "created" state, one that does not parse (a crash) as "running"
 * with no pid, which the engine then finds exited with nobody to say how.
 * Writes are atomic but not durable (berth_write_file_replace). */
int berth_state_read_at(int dirfd, struct berth_state *ret, berth_error_t *err);
int berth_state_write_at(int dirfd, const struct berth_state *st, berth_error_t *err);

#endif
