/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `top CONTAINER [ps OPTIONS]`: the engine's ps rows as docker/cli prints
 * them (tabwriter with minwidth 20, padding 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cli.h"
#include "table.h"

static void add_row(struct berth_table *t, const json_t *cells)
{
  size_t i, n = json_array_size(cells);
  const char **v = calloc(n + 1, sizeof *v);
  json_t *c;
  if (!v)
    abort();
  json_array_foreach(cells, i, c) v[i] = json_string_value(c) ? json_string_value(c) : "";
  berth_table_add_row(t, v, n);
  free(v);
}

static char *join_args(int argc, char **argv)
{
  size_t len = 1;
  for (int i = 0; i < argc; i++)
    len += strlen(argv[i]) + 1;
  char *s = calloc(1, len);
  if (!s)
    abort();
  for (int i = 0; i < argc; i++) {
    if (i)
      strcat(s, " ");
    strcat(s, argv[i]);
  }
  return s;
}

int cmd_top(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const struct cli_flag flags[] = {{NULL, 0, 0, NULL, NULL, NULL, false}};
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *top = NULL;
  cleanup_free char *args = NULL;
  struct berth_table *t;
  json_t *row;
  size_t i;
  bool done;
  int rc;
  /* everything after the container goes to ps */
  if ((rc = cli_parse_flags(cli, cmd, flags, false, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)) || (rc = cli_engine(cli, &e)))
    return rc;
  args = join_args(argc - 1, argv + 1);
  if (!(top = berth_container_top(e, argv[0], args, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  t = berth_table_new_full(20, 3, ' ');
  add_row(t, json_object_get(top, "Titles"));
  json_array_foreach(json_object_get(top, "Processes"), i, row) add_row(t, row);
  rc = berth_table_flush(t, stdout, &err) < 0 ? cli_fail(&err, CLI_EXIT_ERROR) : 0;
  berth_table_free(t);
  return rc;
}
