/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exec: run a command in a running container, through its monitor (the
 * engine's berth_container_exec), with docker's flags, messages and exit
 * codes: the command's own, 126 when it cannot be run, 127 when it does not
 * exist, 1 for errors of ours (no such container, not running, paused). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <berth/attach.h>
#include <berth/engine.h>

#include "attach-tty.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "cli.h"
#include "run-flags.h"

struct exec_flags {
  bool detach, interactive, tty, privileged;
  const char *detach_keys, *user, *workdir;
  char **env, **env_file;
};

/* "OCI runtime exec failed: ...", as docker prints a command that did not start. */
static int start_failed(const char *msg, int code)
{
  fprintf(stderr, "OCI runtime exec failed: exec failed: unable to start container process: %s: unknown\n", msg);
  return code == 127 ? 127 : 126;
}

static char **env_list(const struct exec_flags *f, berth_error_t *err)
{
  struct cli_run_opts o = {.env = f->env, .env_file = f->env_file};
  cleanup_json json_t *env = cli_run_env(&o, err);
  size_t n = json_array_size(env);
  char **v = env ? calloc(n + 1, sizeof(char *)) : NULL;
  for (size_t i = 0; v && i < n; i++)
    v[i] = strdup(json_string_value(json_array_get(env, i)));
  return v;
}

/* -d: wait for STARTED, or the reason it did not start. */
static int detached(int fd)
{
  cleanup_free uint8_t *buf = malloc(BERTH_ATTACH_MAX_PAYLOAD + 1);
  cleanup_free char *error = NULL;
  berth_error_t err = NULL;
  uint8_t type;
  size_t len;
  int r;
  if (!buf)
    abort();
  while ((r = berth_attach_recv(fd, &type, buf, &len, &err)) > 0) {
    if (type == BERTH_ATTACH_STARTED)
      return 0;
    if (type == BERTH_ATTACH_ERROR) {
      free(error);
      error = strndup((const char *)buf, len);
    }
    if (type == BERTH_ATTACH_EXIT && error && len == 4)
      return start_failed(error, buf[3]);
  }
  if (r < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  return cli_failf(CLI_EXIT_ERROR, "the container's monitor closed the exec session");
}

static int attached(int fd, const struct exec_flags *f, const unsigned char *keys, int n_keys)
{
  struct cli_relay_opts ro = {.tty = f->tty, .stdin = f->interactive, .stdout = true, .stderr = true,
                              .detach_keys = keys, .n_detach_keys = n_keys};
  struct cli_relay_result res;
  berth_error_t err = NULL;
  if (cli_attach_relay(fd, &ro, &res, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  cleanup_free char *error = res.error;
  if (res.detached)
    return 0;
  if (error)
    return start_failed(error, res.exit_code);
  return res.exit_code;
}

static void terminal_size(struct berth_exec_opts *o)
{
  struct winsize ws;
  if (o->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    o->rows = ws.ws_row;
    o->cols = ws.ws_col;
  }
}

static int run_exec(struct cli *cli, const struct exec_flags *f, const char *name, char **cmd,
                    const unsigned char *keys, int n_keys)
{
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_close int fd = -1;
  cleanup_strv char **env = env_list(f, &err);
  int rc;
  if (!env)
    return cli_fail(&err, CLI_EXIT_ERROR);
  struct berth_exec_opts o = {.cmd = cmd, .env = env, .user = f->user, .workdir = f->workdir, .tty = f->tty,
                              .stdin = f->interactive && !f->detach, .privileged = f->privileged,
                              .detach = f->detach};
  terminal_size(&o);
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (berth_container_exec(e, name, &o, &fd, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  return f->detach ? detached(fd) : attached(fd, f, keys, n_keys);
}

static void exec_flags_clear(struct exec_flags *f)
{
  berth_strv_free(f->env);
  berth_strv_free(f->env_file);
}
BERTH_DEFINE_CLEANUP(struct exec_flags *, exec_flags_clear)

int cmd_exec(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  struct exec_flags flags_ = {0};
  struct exec_flags *f __attribute__((cleanup(exec_flags_clear_cleanup))) = &flags_;
  const struct cli_flag flags[] = {
      {"detach", 'd', CLI_BOOL, &f->detach, NULL, "Detached mode: run command in the background", false},
      {"detach-keys", 0, CLI_STRING, &f->detach_keys, "string", "Override the key sequence for detaching a container",
       false},
      {"env", 'e', CLI_STRV, &f->env, "list", "Set environment variables", false},
      {"env-file", 0, CLI_STRV, &f->env_file, "list", "Read in a file of environment variables", false},
      {"interactive", 'i', CLI_BOOL, &f->interactive, NULL, "Keep STDIN open even if not attached", false},
      {"privileged", 0, CLI_BOOL, &f->privileged, NULL, "Give extended privileges to the command", false},
      {"tty", 't', CLI_BOOL, &f->tty, NULL, "Allocate a pseudo-TTY", false},
      {"user", 'u', CLI_STRING, &f->user, "string", "Username or UID (format: \"<name|uid>[:<group|gid>]\")", false},
      {"workdir", 'w', CLI_STRING, &f->workdir, "string", "Working directory inside the container", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  berth_error_t err = NULL;
  unsigned char keys[32];
  int n_keys = 0, rc;
  bool done;
  if ((rc = cli_parse_flags(cli, cmd, flags, false, &argc, argv, &done)) || done ||
      (rc = cli_require_args(cli, cmd, argc, 2, -1)))
    return rc;
  if (f->detach_keys && *f->detach_keys &&
      (n_keys = cli_parse_detach_keys(f->detach_keys, keys, (int)sizeof(keys), &err)) < 0) {
    rc = cli_failf(CLI_EXIT_ERROR, "Invalid detach keys (%s) provided: %s", f->detach_keys, err->msg);
    berth_error_release(&err);
    return rc;
  }
  if (f->interactive && f->tty && !f->detach && !isatty(STDIN_FILENO)) {
    fprintf(stderr, "the input device is not a TTY\n");
    return CLI_EXIT_ERROR;
  }
  return run_exec(cli, f, argv[0], argv + 1, keys, n_keys);
}
