/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network commands: `port CONTAINER [PRIVATE_PORT[/PROTO]]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cli.h"

static int cmp_keys(const void *a, const void *b)
{
  unsigned pa = (unsigned)atoi(*(const char *const *)a), pb = (unsigned)atoi(*(const char *const *)b);
  return pa != pb ? (pa < pb ? -1 : 1) : strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cmd_port(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const struct cli_flag flags[] = {{NULL, 0, 0, NULL, NULL, NULL, false}};
  struct berth_engine *e;
  berth_error_t err = NULL;
  bool done;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, 2)) || (rc = cli_engine(cli, &e)))
    return rc;
  cleanup_json json_t *c = berth_container_inspect(e, argv[0], false, &err);
  if (!c)
    return cli_fail(&err, CLI_EXIT_ERROR);
  json_t *ports = json_object_get(json_object_get(c, "NetworkSettings"), "Ports");
  char want[32] = "";
  if (argc == 2)
    snprintf(want, sizeof want, "%s%s", argv[1], strchr(argv[1], '/') ? "" : "/tcp");
  size_t n = json_object_size(ports), k = 0;
  const char **keys = calloc(n + 1, sizeof *keys), *key;
  json_t *list, *b;
  if (!keys)
    abort();
  json_object_foreach(ports, key, list) keys[k++] = key;
  qsort(keys, k, sizeof *keys, cmp_keys);
  bool found = false;
  for (size_t i = 0; i < k; i++) {
    size_t j;
    if (*want && strcmp(keys[i], want) != 0)
      continue;
    json_array_foreach(json_object_get(ports, keys[i]), j, b)
    {
      found = true;
      if (*want)
        printf("%s:%s\n", berth_json_str(b, "HostIp"), berth_json_str(b, "HostPort"));
      else
        printf("%s -> %s:%s\n", keys[i], berth_json_str(b, "HostIp"), berth_json_str(b, "HostPort"));
    }
  }
  free(keys);
  if (*want && !found)
    return cli_failf(CLI_EXIT_ERROR, "Error: No public port '%s' published for %s", want, argv[0]);
  return 0;
}
