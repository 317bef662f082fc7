/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `top` as moby's daemon does it: run the HOST's ps (an absolute path, never
 * anything from the container's root) with the user's options, limited to
 * the container's pids with `-q` where ps accepts it, and keep the rows
 * whose PID is in the container's cgroup (thread rows, PID "-", follow their
 * process).  The pids come from cgroup.procs, so nothing inside the
 * container is read or run. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "engine/events.h"
#include "engine/rwlayer.h"
#include "runtime/cgroup.h"

extern char **environ;

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* moby's validatePSArgs: a column other than pid may not be renamed "PID"
 * (the rows are matched by the PID column). */
static int validate_ps_args(const char *args, berth_error_t *err)
{
  for (const char *eq = strchr(args, '='); eq; eq = strchr(eq + 1, '=')) {
    const char *k = eq, *v = eq + 1, *end;
    while (k > args && !is_space(k[-1]))
      k--;
    if (k == args)
      continue; /* moby's pattern wants whitespace before the key */
    while (is_space(*v))
      v++;
    if (strncmp(v, "PID", 3) != 0 || (eq - k == 3 && strncmp(k, "pid", 3) == 0))
      continue;
    for (end = v; *end && !is_space(*end); end++)
      ;
    return berth_error_set_plain(err, EINVAL, "specifying \"%.*s=%.*s\" is not allowed", (int)(eq - k), k,
                                 (int)(end - v), v);
  }
  return 0;
}

/* Go's strings.Fields for ASCII whitespace. */
static json_t *fields(const char *line, size_t len)
{
  json_t *out = json_array();
  size_t i = 0;
  while (i < len) {
    while (i < len && is_space(line[i]))
      i++;
    size_t start = i;
    while (i < len && !is_space(line[i]))
      i++;
    if (i > start)
      json_array_append_new(out, json_stringn(line + start, i - start));
  }
  return out;
}

static const char *host_ps(void)
{
  return access("/bin/ps", X_OK) == 0 ? "/bin/ps" : "/usr/bin/ps";
}

static int read_memfd(int fd, char **ret, berth_error_t *err)
{
  char path[64];
  size_t len;
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return berth_read_file_at(AT_FDCWD, path, ret, &len, err);
}

/* Run the host's ps with argv; its stdout in *ret_out.  A failure is the
 * first line of its stderr, as moby reports it. */
static int run_ps(char **argv, char **ret_out, berth_error_t *err)
{
  cleanup_close int out = memfd_create("berth-top-out", MFD_CLOEXEC), errfd = memfd_create("berth-top-err", MFD_CLOEXEC);
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int r, status;
  if (out < 0 || errfd < 0)
    return berth_error_set(err, errno, "ps: memfd");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, errfd, 2);
  r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (r != 0)
    return berth_error_set(err, r, "run `%s`", argv[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return read_memfd(out, ret_out, err);
  }
  cleanup_free char *msg = NULL;
  if (read_memfd(errfd, &msg, NULL) == 0 && msg[0] &&
      msg[0] != '\n')
    return berth_error_set_plain(err, EIO, "%.*s", (int)strcspn(msg, "\n"), msg);
  return berth_error_set_plain(err, EIO, "ps: exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : 255);
}

static bool has_pid(const pid_t *pids, size_t n, long p)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == p)
      return true;
  return false;
}

/* One row: as many cells as titles, the overhang joined into the last. */
static json_t *row(json_t *f, size_t n_titles)
{
  json_t *out = json_array();
  size_t i, n = json_array_size(f);
  for (i = 0; i + 1 < n_titles && i < n; i++)
    json_array_append(out, json_array_get(f, i));
  size_t len = 0;
  for (size_t j = i; j < n; j++)
    len += strlen(json_string_value(json_array_get(f, j))) + 1;
  cleanup_free char *last = calloc(1, len + 1);
  if (!last)
    abort();
  for (size_t j = i; j < n; j++) {
    if (j > i)
      strcat(last, " ");
    strcat(last, json_string_value(json_array_get(f, j)));
  }
  json_array_append_new(out, json_string(last));
  return out;
}

/* moby's parsePSOutput. */
static json_t *parse_ps(const char *text, const pid_t *pids, size_t n, berth_error_t *err)
{
  const char *nl = strchr(text, '\n');
  cleanup_json json_t *titles = fields(text, nl ? (size_t)(nl - text) : strlen(text));
  cleanup_json json_t *procs = json_array();
  size_t pid_index = SIZE_MAX, i;
  bool prev_in = false;
  json_t *t;
  json_array_foreach(titles, i, t) if (pid_index == SIZE_MAX && strcmp(json_string_value(t), "PID") == 0) pid_index = i;
  if (pid_index == SIZE_MAX)
    return berth_error_set_plain(err, EINVAL, "Couldn't find PID field in ps output"), NULL;
  for (const char *line = nl ? nl + 1 : ""; *line; line = nl ? nl + 1 : line + strlen(line)) {
    nl = strchr(line, '\n');
    cleanup_json json_t *f = fields(line, nl ? (size_t)(nl - line) : strlen(line));
    const char *cell = json_string_value(json_array_get(f, pid_index));
    char *end;
    if (json_array_size(f) == 0)
      continue;
    if (!cell)
      return berth_error_set_plain(err, EINVAL, "Unexpected pid '': no such column"), NULL;
    if (strcmp(cell, "-") == 0) {
      if (prev_in)
        json_array_append_new(procs, row(f, json_array_size(titles)));
      continue;
    }
    long p = strtol(cell, &end, 10);
    if (*end || end == cell)
      return berth_error_set_plain(err, EINVAL, "Unexpected pid '%s': invalid syntax", cell), NULL;
    prev_in = has_pid(pids, n, p);
    if (prev_in)
      json_array_append_new(procs, row(f, json_array_size(titles)));
  }
  return json_pack("{s:O, s:O}", "Titles", titles, "Processes", procs);
}

/* argv for ps: its path, the user's arguments split on single spaces (as
 * moby splits them), and "-q PID,PID,..." when `pids` is given. */
static char **ps_argv(const char *args, const char *pids)
{
  size_t n = 4;
  for (const char *p = args; *p; p++)
    n += *p == ' ';
  char **argv = calloc(n + 1, sizeof *argv), *copy = strdup(args), *save = copy;
  size_t i = 0;
  if (!argv || !copy)
    abort();
  argv[i++] = strdup(host_ps());
  for (char *sp; (sp = strchr(copy, ' ')); copy = sp + 1) {
    *sp = '\0';
    argv[i++] = strdup(copy);
  }
  argv[i++] = strdup(copy);
  if (pids) {
    argv[i++] = strdup("-q");
    argv[i++] = strdup(pids);
  }
  free(save);
  return argv;
}

static char *pid_list(const pid_t *pids, size_t n)
{
  char *s = calloc(n + 1, 12);
  if (!s)
    abort();
  for (size_t i = 0; i < n; i++)
    sprintf(s + strlen(s), "%s%d", i ? "," : "", (int)pids[i]);
  return s;
}

static json_t *top(const pid_t *pids, size_t n, const char *args, berth_error_t *err)
{
  cleanup_free char *list = pid_list(pids, n), *out = NULL;
  cleanup_strv char **limited = ps_argv(args, n ? list : NULL), **plain = NULL;
  cleanup_error berth_error_t first = NULL;
  /* some ps options (f) do not go with -q: then all processes, filtered here */
  if (run_ps(limited, &out, &first) < 0) {
    plain = ps_argv(args, NULL);
    if (run_ps(plain, &out, err) < 0)
      return NULL;
  }
  return parse_ps(out, pids, n, err);
}

json_t *berth_container_top(struct berth_engine *e, const char *name, const char *ps_args, berth_error_t *err)
{
  struct berth_ctr c = {.dirfd = -1};
  struct berth_cgroup *cg = NULL;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  const char *args = ps_args && *ps_args ? ps_args : "-ef";
  json_t *out = NULL;
  if (validate_ps_args(args, err) < 0 || berth_ctr_load(e, name, &c, err) < 0)
    goto out;
  if (c.st.status == BERTH_STATUS_RESTARTING)
    berth_error_set_plain(err, EBUSY, "Container %s is restarting, wait until the container is running", c.id);
  else if (c.st.status != BERTH_STATUS_RUNNING && c.st.status != BERTH_STATUS_PAUSED)
    berth_error_set_plain(err, EINVAL, "container %s is not running", c.id);
  else if (berth_ctr_cgroup(e, &c, &cg, err) == 0 && berth_cgroup_pids(cg, &pids, &n, err) == 0)
    out = top(pids, n, args, err);
  if (out)
    berth_event_container(e, &c, "top", NULL);
out:
  berth_cgroup_free(cg);
  berth_ctr_clear(&c);
  return out;
}
