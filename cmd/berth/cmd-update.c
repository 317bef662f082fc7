/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `pause`, `unpause` and `update`: per container, names on stdout as they
 * succeed, errors on stderr, exit 1 when any failed (docker's way). */
#include <stdio.h>
#include <stdlib.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cli.h"
#include "run-flags.h"


static int each(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                int (*fn)(struct berth_engine *, const char *, berth_error_t *))
{
  const struct cli_flag flags[] = {END_FLAGS};
  struct berth_engine *e;
  int rc, status = 0;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, -1, &e, &rc))
    return rc;
  for (int i = 0; i < argc; i++) {
    berth_error_t err = NULL;
    if (fn(e, argv[i], &err) < 0)
      status = cli_fail(&err, CLI_EXIT_ERROR);
    else
      printf("%s\n", argv[i]);
  }
  return status;
}

int cmd_pause(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  return each(cli, cmd, argc, argv, berth_container_pause);
}

int cmd_unpause(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  return each(cli, cmd, argc, argv, berth_container_unpause);
}

/* The update body from run's own parsers (run-flags.c): the flags share
 * their names, units and errors with `run`; an option left out is 0 or "",
 * which the engine reads as "unchanged". */
static json_t *update_body(const struct cli_run_opts *o, bool *flag_error, berth_error_t *err)
{
  const struct {
    const char *key;
    bool given;
  } keys[] = {
      {"Memory", o->memory},         {"MemorySwap", o->memory_swap}, {"MemoryReservation", o->memory_reservation},
      {"NanoCpus", o->cpus},         {"CpuShares", o->cpu_shares},   {"CpusetCpus", o->cpuset_cpus},
      {"CpusetMems", o->cpuset_mems}, {"PidsLimit", o->pids_limit},  {"RestartPolicy", o->restart},
  };
  cleanup_json json_t *run = cli_run_body(o, flag_error, err);
  json_t *hc = json_object_get(run, "HostConfig"), *body;
  if (!run)
    return NULL;
  body = json_object();
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (keys[i].given && json_object_get(hc, keys[i].key))
      json_object_set(body, keys[i].key, json_object_get(hc, keys[i].key));
  return body;
}

int cmd_update(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  struct cli_run_opts o;
  bool done, flag_error = false;
  cli_run_opts_init(&o);
  o.restart = NULL;
  const struct cli_flag flags[] = {
      {"cpu-shares", 'c', CLI_INT, &o.cpu_shares, "int", "CPU shares (relative weight)", false},
      {"cpus", 0, CLI_STRING, &o.cpus, "decimal", "Number of CPUs", false},
      {"cpuset-cpus", 0, CLI_STRING, &o.cpuset_cpus, "string", "CPUs in which to allow execution (0-3, 0,1)", false},
      {"cpuset-mems", 0, CLI_STRING, &o.cpuset_mems, "string", "MEMs in which to allow execution (0-3, 0,1)", false},
      {"memory", 'm', CLI_STRING, &o.memory, "bytes", "Memory limit", false},
      {"memory-reservation", 0, CLI_STRING, &o.memory_reservation, "bytes", "Memory soft limit", false},
      {"memory-swap", 0, CLI_STRING, &o.memory_swap, "bytes",
       "Swap limit equal to memory plus swap: -1 to enable unlimited swap", false},
      {"pids-limit", 0, CLI_INT, &o.pids_limit, "int", "Tune container pids limit (set -1 for unlimited)", false},
      {"restart", 0, CLI_STRING, &o.restart, "string", "Restart policy to apply when a container exits", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *body = NULL;
  int rc, status = 0;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    goto out;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)))
    goto out;
  if (!(body = update_body(&o, &flag_error, &err))) {
    rc = cli_fail(&err, flag_error ? CLI_EXIT_USAGE : CLI_EXIT_ERROR);
    goto out;
  }
  if (json_object_size(body) == 0) {
    rc = cli_failf(CLI_EXIT_ERROR, "you must provide one or more flags when using this command");
    goto out;
  }
  if ((rc = cli_engine(cli, &e)))
    goto out;
  for (int i = 0; i < argc; i++) {
    if (berth_container_update(e, argv[i], body, &err) < 0)
      status = cli_fail(&err, CLI_EXIT_ERROR);
    else
      printf("%s\n", argv[i]);
  }
  rc = status;
out:
  cli_run_opts_clear(&o);
  return rc;
}
