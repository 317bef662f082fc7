/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json: a container's State in Docker's ContainerJSON shape (Status,
 * Running, Paused, Restarting, OOMKilled, Dead, Pid, ExitCode, Error,
 * StartedAt, FinishedAt) plus berth's RestartCount, PidStartTime and
 * MonitorPid.  "Status" is authoritative on read; the booleans are derived
 * from it on write the way Docker does (a restarting or paused container is
 * also Running). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "runtime/state.h"

#define STATE_FILE "state.json"
#define ZERO_TIME "0001-01-01T00:00:00Z"

static const char *const status_names[] = {
    [BERTH_STATUS_CREATED] = "created",       [BERTH_STATUS_RUNNING] = "running",
    [BERTH_STATUS_PAUSED] = "paused",         [BERTH_STATUS_RESTARTING] = "restarting",
    [BERTH_STATUS_REMOVING] = "removing",     [BERTH_STATUS_EXITED] = "exited",
    [BERTH_STATUS_DEAD] = "dead",
};

const char *berth_status_name(enum berth_status s)
{
  if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
    return "unknown";
  return status_names[s];
}

int berth_status_from_name(const char *name)
{
  for (size_t i = 0; name && i < sizeof(status_names) / sizeof(status_names[0]); i++)
    if (strcmp(status_names[i], name) == 0)
      return (int)i;
  return -1;
}

static void format_time(int64_t ns, char out[64])
{
  if (ns == 0)
    snprintf(out, 64, "%s", ZERO_TIME);
  else
    berth_format_rfc3339(ns, out);
}

static int parse_time(const json_t *obj, const char *key, int64_t *ret, berth_error_t *err)
{
  const char *s = berth_json_str(obj, key);
  *ret = 0;
  if (!s || strcmp(s, ZERO_TIME) == 0 || *s == '\0')
    return 0;
  if (berth_parse_rfc3339(s, ret, err) < 0)
    return berth_error_prefix(err, "state: %s", key);
  return 0;
}

static int state_from_json(const json_t *j, struct berth_state *st, berth_error_t *err)
{
  const char *status = berth_json_str(j, "Status");
  const char *error = berth_json_str(j, "Error");
  int s;
  if (!json_is_object(j))
    return berth_error_set_plain(err, EINVAL, "state: expected an object");
  s = berth_status_from_name(status);
  if (s < 0)
    return berth_error_set_plain(err, EINVAL, "state: unknown status `%s`", status ? status : "");
  st->status = (enum berth_status)s;
  st->oom_killed = json_is_true(json_object_get(j, "OOMKilled"));
  st->pid = (pid_t)berth_json_int(j, "Pid", 0);
  st->pid_start = (unsigned long long)berth_json_int(j, "PidStartTime", 0);
  st->monitor_pid = (pid_t)berth_json_int(j, "MonitorPid", 0);
  st->exit_code = (int)berth_json_int(j, "ExitCode", 0);
  st->restart_count = (int)berth_json_int(j, "RestartCount", 0);
  snprintf(st->error, sizeof(st->error), "%s", error ? error : "");
  if (parse_time(j, "StartedAt", &st->started_at, err) < 0)
    return -1;
  return parse_time(j, "FinishedAt", &st->finished_at, err);
}

int berth_state_read_at(int dirfd, struct berth_state *ret, berth_error_t *err)
{
  struct berth_state st = {.status = BERTH_STATUS_CREATED};
  cleanup_json json_t *j = NULL;
  cleanup_free char *buf = NULL;
  size_t len = 0;
  berth_error_t e2 = NULL;
  if (berth_read_file_at(dirfd, STATE_FILE, &buf, &len, &e2) < 0) {
    if (e2->code != ENOENT) {
      if (err)
        *err = e2;
      else
        berth_error_release(&e2);
      return -1;
    }
    berth_error_release(&e2);
    *ret = st;
    return 0;
  }
  j = berth_json_loadb(buf, len, STATE_FILE, NULL);
  if (!j || state_from_json(j, &st, NULL) < 0) {
    /* only a crash leaves a state that does not parse (the writes are
     * atomic): the container ran, and nobody recorded how it ended */
    st = (struct berth_state){.status = BERTH_STATUS_RUNNING};
  }
  *ret = st;
  return 0;
}

static json_t *state_to_json(const struct berth_state *st, const char *error)
{
  char started[64], finished[64];
  bool running = st->status == BERTH_STATUS_RUNNING || st->status == BERTH_STATUS_PAUSED ||
                 st->status == BERTH_STATUS_RESTARTING;
  format_time(st->started_at, started);
  format_time(st->finished_at, finished);
  return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:I, s:i, s:s, s:s, s:s, s:i, s:I, s:I}",
                   "Status", berth_status_name(st->status), "Running", running, "Paused",
                   st->status == BERTH_STATUS_PAUSED, "Restarting", st->status == BERTH_STATUS_RESTARTING,
                   "OOMKilled", st->oom_killed, "Dead", st->status == BERTH_STATUS_DEAD, "Pid",
                   (json_int_t)st->pid, "ExitCode", st->exit_code, "Error", error, "StartedAt", started,
                   "FinishedAt", finished, "RestartCount", st->restart_count, "PidStartTime",
                   (json_int_t)st->pid_start, "MonitorPid", (json_int_t)st->monitor_pid);
}

int berth_state_write_at(int dirfd, const struct berth_state *st, berth_error_t *err)
{
  cleanup_json json_t *j = state_to_json(st, st->error);
  if (!j) {
    /* The only string that is not ours is the error message (it may quote a
     * path in any encoding): keep its ASCII and mark the rest. */
    char ascii[sizeof(st->error)];
    size_t i;
    for (i = 0; i + 1 < sizeof(ascii) && st->error[i]; i++)
      ascii[i] = (unsigned char)st->error[i] < 0x80 ? st->error[i] : '?';
    ascii[i] = '\0';
    j = state_to_json(st, ascii);
  }
  if (!j)
    return berth_error_set_plain(err, EINVAL, "state: cannot encode");
  /* not durable: a state lost in a crash reads as an old one, one left empty
   * as a container whose monitor is gone; the reboot ends both alike */
  return berth_json_write_replace(dirfd, STATE_FILE, j, err);
}
