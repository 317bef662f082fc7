/* SPDX-License-Identifier: GPL-2.0-or-later */
/* run and create: flags to a ContainerCreate body (run-flags.c), create the
 * container, and for run start it and relay its streams (attach-tty.c) until
 * it exits, with docker's messages and exit codes (125 for our failures, 126
 * and 127 when the command cannot be run, else the container's code). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <berth/engine.h>

#include "attach-tty.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "cli.h"
#include "run-flags.h"

/* "berth: MESSAGE\n\nRun 'berth run --help' for more information", docker's
 * shape for run/create failures; returns `code`. */
static int run_fail(struct cli *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run_fail(struct cli *cli, int code, const char *fmt, ...)
{
  va_list ap;
  fputs("berth: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n\nRun '%s --help' for more information\n", cli->path);
  return code;
}

static int engine_fail(struct cli *cli, berth_error_t *err, int code)
{
  cleanup_free char *s = berth_error_string(*err);
  berth_error_release(err);
  return run_fail(cli, code, "Error response from daemon: %s", s);
}

/* Exit code of a start that failed: docker's 127 for a command that does
 * not exist, 126 for one that cannot be run, 125 otherwise. */
static int start_exit_code(const struct berth_error *e)
{
  if (e && e->code == BERTH_EXIT_CMD_NOT_FOUND)
    return 127;
  if (e && e->code == BERTH_EXIT_CMD_CANNOT_INVOKE)
    return 126;
  return CLI_EXIT_USAGE;
}

struct run_ctx {
  struct cli *cli;
  const struct cli_command *cmd;
  struct cli_run_opts o;
  json_t *body;
  char *id;
};

static void run_ctx_clear(struct run_ctx *c)
{
  cli_run_opts_clear(&c->o);
  json_decref(c->body);
  free(c->id);
}
BERTH_DEFINE_CLEANUP(struct run_ctx *, run_ctx_clear)

/* Parse flags and build the body; returns an exit code, or -1 to go on. */
/* Like docker's CLI: a terminal container starts with the size of ours, so
 * that nothing in it sees a 0x0 window before the first resize arrives. */
static void set_console_size(json_t *body)
{
  struct winsize ws;
  if (!json_is_true(json_object_get(body, "Tty")) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_row ||
      !ws.ws_col)
    return;
  json_t *hc = json_object_get(body, "HostConfig");
  if (json_is_object(hc))
    json_object_set_new(hc, "ConsoleSize", json_pack("[ii]", ws.ws_row, ws.ws_col));
}

static int prepare(struct run_ctx *c, bool run, int argc, char **argv)
{
  berth_error_t err = NULL;
  bool done, flag_error;
  int rc;
  if ((rc = cli_parse_flags(c->cli, c->cmd, cli_run_flags(&c->o, run), false, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(c->cli, c->cmd, argc, 1, -1)))
    return rc;
  c->o.image = argv[0];
  c->o.args = argc > 1 ? argv + 1 : NULL;
  if (!(c->body = cli_run_body(&c->o, &flag_error, &err))) {
    cleanup_free char *s = berth_error_string(err);
    berth_error_release(&err);
    if (!flag_error)
      return run_fail(c->cli, CLI_EXIT_USAGE, "%s", s);
    fprintf(stderr, "%s\n\nUsage:  %s %s\n\nRun '%s --help' for more information\n", s, c->cli->path,
            c->cmd->usage, c->cli->path);
    return CLI_EXIT_USAGE;
  }
  c->o.args = NULL; /* borrowed from argv: keep cli_run_opts_clear off it */
  set_console_size(c->body);
  if (c->o.cidfile && *c->o.cidfile && access(c->o.cidfile, F_OK) == 0)
    return run_fail(c->cli, CLI_EXIT_USAGE,
                    "container ID file found, make sure the other container isn't running or delete %s",
                    c->o.cidfile);
  return -1;
}

static int write_cidfile(struct run_ctx *c)
{
  cleanup_close int fd = -1;
  size_t len;
  if (!c->o.cidfile || !*c->o.cidfile)
    return 0;
  fd = open(c->o.cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  len = strlen(c->id);
  if (fd < 0 || write(fd, c->id, len) != (ssize_t)len) {
    const char *text = strerror(errno);
    return run_fail(c->cli, CLI_EXIT_USAGE, "failed to create the container ID file: open %s: %c%s", c->o.cidfile,
                    tolower((unsigned char)text[0]), text + 1);
  }
  return 0;
}

/* Pull the image for run/create, progress on stderr as docker shows it. */
static int pull_image(struct run_ctx *c, struct berth_engine *e)
{
  berth_error_t err = NULL;
  cleanup_free char *name = cli_with_default_tag(c->o.image);
  if (cli_pull(e, name, c->o.platform, false, stderr, NULL, &err) < 0)
    return engine_fail(c->cli, &err, CLI_EXIT_USAGE);
  return 0;
}

static bool is_missing_image(const struct berth_error *err)
{
  return err && err->code == ENOENT && err->msg && strncmp(err->msg, "No such image", 13) == 0;
}

static int create(struct run_ctx *c, struct berth_engine *e)
{
  berth_error_t err = NULL;
  cleanup_json json_t *warnings = NULL;
  const char *policy = c->o.pull ? c->o.pull : "missing";
  json_t *w;
  size_t i;
  int rc;
  if (strcmp(policy, "always") && strcmp(policy, "missing") && strcmp(policy, "never"))
    return run_fail(c->cli, CLI_EXIT_USAGE, "invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"",
                    policy);
  if (strcmp(policy, "always") == 0 && (rc = pull_image(c, e)))
    return rc;
  if (berth_container_create(e, c->o.name, c->body, &c->id, &warnings, &err) < 0 && strcmp(policy, "missing") == 0 &&
      is_missing_image(err)) {
    berth_error_release(&err);
    cleanup_free char *name = cli_with_default_tag(c->o.image);
    fprintf(stderr, "Unable to find image '%s' locally\n", name);
    if ((rc = pull_image(c, e)))
      return rc;
    (void)berth_container_create(e, c->o.name, c->body, &c->id, &warnings, &err);
  }
  if (err)
    return engine_fail(c->cli, &err, CLI_EXIT_USAGE);
  json_array_foreach(warnings, i, w) fprintf(stderr, "WARNING: %s\n", json_string_value(w));
  return write_cidfile(c);
}

int cmd_create(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  struct run_ctx ctx = {.cli = cli, .cmd = cmd};
  struct run_ctx *c __attribute__((cleanup(run_ctx_clear_cleanup))) = &ctx;
  struct berth_engine *e;
  int rc;
  cli_run_opts_init(&c->o);
  if ((rc = prepare(c, false, argc, argv)) >= 0)
    return rc;
  if ((rc = cli_engine(cli, &e)) || (rc = create(c, e)))
    return rc;
  printf("%s\n", c->id);
  return 0;
}

/* ---- run ---- */

static bool body_bool(const json_t *body, const char *key)
{
  return json_is_true(json_object_get(body, key));
}

static int run_detached(struct run_ctx *c, struct berth_engine *e)
{
  berth_error_t err = NULL;
  struct berth_start_opts so = {.wait_for_attach = false};
  int rc;
  if ((rc = create(c, e)))
    return rc;
  if (berth_container_start(e, c->id, &so, &err) < 0) {
    rc = start_exit_code(err);
    return engine_fail(c->cli, &err, rc);
  }
  printf("%s\n", c->id);
  return 0;
}

static int relay(struct run_ctx *c, struct berth_engine *e, int fd, const unsigned char *keys, int n_keys)
{
  struct cli_relay_opts ro = {
      .tty = body_bool(c->body, "Tty"),
      .stdin = body_bool(c->body, "AttachStdin"),
      .stdout = body_bool(c->body, "AttachStdout"),
      .stderr = body_bool(c->body, "AttachStderr"),
      .sig_proxy = c->o.sig_proxy,
      .detach_keys = keys,
      .n_detach_keys = n_keys,
      .engine = e,
      .container = c->id,
  };
  struct cli_relay_result res;
  berth_error_t err = NULL;
  cleanup_free char *error = NULL;
  int rc = cli_attach_relay(fd, &ro, &res, &err);
  error = res.error;
  if (rc < 0) {
    rc = run_fail(c->cli, CLI_EXIT_USAGE, "%s", err->msg);
    berth_error_release(&err);
    return rc;
  }
  if (res.detached)
    return 0;
  if (body_bool(json_object_get(c->body, "HostConfig"), "AutoRemove")) {
    /* --rm: return with the container gone, as docker's CLI does; the
     * monitor waits for our hang-up (fd, closed by our caller) to leave it
     * to us */
    struct berth_rm_opts rm = {.force = true, .volumes = true};
    if (berth_container_remove(e, c->id, &rm, &err) < 0)
      berth_error_release(&err);
  }
  if (error)
    return run_fail(c->cli, res.exit_code == 126 || res.exit_code == 127 ? res.exit_code : CLI_EXIT_USAGE,
                    "Error response from daemon: %s", error);
  return res.exit_code;
}

static int run_attached(struct run_ctx *c, struct berth_engine *e, const unsigned char *keys, int n_keys)
{
  berth_error_t err = NULL;
  struct berth_start_opts so = {.wait_for_attach = true};
  struct berth_attach_opts ao = {
      .stdin = body_bool(c->body, "AttachStdin"),
      .stdout = body_bool(c->body, "AttachStdout"),
      .stderr = body_bool(c->body, "AttachStderr"),
      .start = true,
      .remove = body_bool(json_object_get(c->body, "HostConfig"), "AutoRemove"),
  };
  cleanup_close int fd = -1;
  int rc;
  if ((rc = create(c, e)))
    return rc;
  if (!ao.stdout && !ao.stderr) {
    /* nothing to show but stdin: docker prints the id as -d does */
    printf("%s\n", c->id);
    fflush(stdout);
  }
  if (berth_container_start(e, c->id, &so, &err) < 0) {
    rc = start_exit_code(err);
    return engine_fail(c->cli, &err, rc);
  }
  if (berth_container_attach(e, c->id, &ao, &fd, &err) < 0)
    return engine_fail(c->cli, &err, CLI_EXIT_USAGE);
  return relay(c, e, fd, keys, n_keys);
}

int cmd_run(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  struct run_ctx ctx = {.cli = cli, .cmd = cmd};
  struct run_ctx *c __attribute__((cleanup(run_ctx_clear_cleanup))) = &ctx;
  struct berth_engine *e;
  unsigned char keys[32];
  int n_keys = 0, rc;
  cli_run_opts_init(&c->o);
  if ((rc = prepare(c, true, argc, argv)) >= 0)
    return rc;
  if (c->o.detach && c->o.attach && c->o.attach[0]) {
    fprintf(stderr, "conflicting options: cannot specify both --attach and --detach\n");
    return CLI_EXIT_ERROR;
  }
  if (c->o.detach_keys && *c->o.detach_keys) {
    berth_error_t err = NULL;
    if ((n_keys = cli_parse_detach_keys(c->o.detach_keys, keys, (int)sizeof(keys), &err)) < 0) {
      rc = run_fail(cli, CLI_EXIT_USAGE, "Invalid detach keys (%s) provided: %s", c->o.detach_keys, err->msg);
      berth_error_release(&err);
      return rc;
    }
  }
  if (c->o.detach) {
    json_object_set_new(c->body, "AttachStdin", json_false());
    json_object_set_new(c->body, "AttachStdout", json_false());
    json_object_set_new(c->body, "AttachStderr", json_false());
    json_object_set_new(c->body, "StdinOnce", json_false());
  } else if (body_bool(c->body, "AttachStdin") && body_bool(c->body, "Tty") && !isatty(STDIN_FILENO)) {
    fprintf(stderr, "the input device is not a TTY\n");
    return CLI_EXIT_ERROR;
  }
  if ((rc = cli_engine(cli, &e)))
    return rc;
  return c->o.detach ? run_detached(c, e) : run_attached(c, e, keys, n_keys);
}
