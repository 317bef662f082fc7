/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `commit` and `diff`: a container's writable layer as an image, and as
 * docker's list of changes. */
#include <stdio.h>
#include <stdlib.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cli.h"


int cmd_commit(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *author = NULL, *message = NULL;
  cleanup_strv char **changes = NULL;
  bool pause = true, no_pause = false;
  const struct cli_flag flags[] = {
      {"author", 'a', CLI_STRING, &author, "string", "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")",
       false},
      {"change", 'c', CLI_STRV, &changes, "list", "Apply Dockerfile instruction to the created image", false},
      {"message", 'm', CLI_STRING, &message, "string", "Commit message", false},
      {"no-pause", 0, CLI_BOOL, &no_pause, NULL, "Disable pausing container during commit", false},
      {"pause", 'p', CLI_BOOL, &pause, NULL, "Pause container during commit (default true)", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_free char *id = NULL;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 2, &e, &rc))
    return rc;
  struct berth_commit_opts opts = {.reference = argc > 1 ? argv[1] : NULL, .author = author, .message = message,
                                   .changes = changes, .pause = pause && !no_pause};
  if (berth_container_commit(e, argv[0], &opts, &id, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  printf("%s\n", id);
  return 0;
}

int cmd_diff(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const struct cli_flag flags[] = {END_FLAGS};
  static const char kinds[] = {'C', 'A', 'D'};
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *changes = NULL;
  json_t *c;
  size_t i;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 1, &e, &rc))
    return rc;
  if (!(changes = berth_container_changes(e, argv[0], &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  json_array_foreach(changes, i, c)
  {
    json_int_t k = berth_json_int(c, "Kind", 0);
    printf("%c %s\n", k >= 0 && k <= 2 ? kinds[k] : '?', berth_json_str(c, "Path"));
  }
  return 0;
}
