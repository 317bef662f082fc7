/* SPDX-License-Identifier: GPL-2.0-or-later */
/* volume create, ls, inspect, rm, prune: docker's flags and output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/units.h"
#include "cli.h"
#include "output.h"

int cmd_volume_create(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *name = NULL, *driver = "local";
  cleanup_strv char **labels = NULL, **opts = NULL;
  bool done;
  const struct cli_flag flags[] = {
      {"driver", 'd', CLI_STRING, &driver, "string", "Specify volume driver name", false},
      {"label", 0, CLI_STRV, &labels, "list", "Set metadata for a volume", false},
      {"name", 0, CLI_STRING, &name, "string", "Specify volume name", false},
      {"opt", 'o', CLI_STRV, &opts, "map", "Set driver specific options (default map[])", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_free char *made = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 1)))
    return rc;
  if (argc == 1) {
    if (name && *name && strcmp(name, argv[0]) != 0)
      return cli_failf(CLI_EXIT_ERROR, "conflicting options: either specify --name or provide positional arg, not both");
    name = argv[0];
  }
  if ((rc = cli_engine(cli, &e)))
    return rc;
  struct berth_volume_create_opts o = {.name = name, .driver = driver, .labels = labels, .options = opts};
  if (berth_volume_create(e, &o, &made, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  printf("%s\n", made);
  return 0;
}

json_t *cli_get_volume(struct berth_engine *e, const char *name, bool size, berth_error_t *err)
{
  (void)size;
  return berth_volume_inspect(e, name, err);
}

int cmd_volume_inspect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL;
  bool done;
  const struct cli_flag flags[] = {
      {"format", 'f', CLI_STRING, &format, "string", CLI_INSPECT_FORMAT_HELP, false},
      END_FLAGS,
  };
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)))
    return rc;
  return cli_inspect_each(cli, argv, argc, format, false, cli_get_volume);
}

static const struct cli_header volume_headers[] = {
    {"Driver", "DRIVER"}, {"Name", "VOLUME NAME"}, {"Scope", "SCOPE"},   {"Mountpoint", "MOUNTPOINT"},
    {"Labels", "LABELS"}, {"Links", "LINKS"},      {"Size", "SIZE"},     {NULL, NULL},
};

/* "k=v,k2=v2" as docker's formatter joins Labels. */
static char *join_labels(const json_t *labels)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  const char *k;
  json_t *v;
  bool first = true;
  json_object_foreach((json_t *)labels, k, v)
  {
    fprintf(m, "%s%s=%s", first ? "" : ",", k, json_string_value(v) ? json_string_value(v) : "");
    first = false;
  }
  fclose(m);
  return buf;
}

int cmd_volume_ls(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool quiet = false, done;
  const char *format = NULL;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"filter", 'f', CLI_STRV, &filters, "filter", "Provide filter values (e.g. \"dangling=true\")", false},
      {"format", 0, CLI_STRING, &format, "string", CLI_FORMAT_HELP, false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Only display volume names", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *list = NULL, *rows = json_array();
  json_t *v;
  size_t i;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)) || (rc = cli_check_filters(cli, filters, "-f, --filter")) ||
      (rc = cli_engine(cli, &e)))
    return rc;
  if (!(list = berth_volume_list(e, filters, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  json_array_foreach(list, i, v)
  {
    cleanup_free char *labels = join_labels(json_object_get(v, "Labels"));
    json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Driver", berth_json_str(v, "Driver"),
                                          "Name", berth_json_str(v, "Name"), "Scope", berth_json_str(v, "Scope"),
                                          "Mountpoint", berth_json_str(v, "Mountpoint"), "Labels", labels, "Links",
                                          "N/A", "Size", "N/A"));
  }
  if (quiet) {
    json_array_foreach(rows, i, v) printf("%s\n", berth_json_str(v, "Name"));
    return 0;
  }
  return cli_output_rows(rows, format, "table {{.Driver}}\t{{.Name}}", volume_headers);
}

int cmd_volume_rm(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool force = false;
  const struct cli_flag flags[] = {
      {"force", 'f', CLI_BOOL, &force, NULL, "Force the removal of one or more volumes", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  int rc, status = 0;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, -1, &e, &rc))
    return rc;
  for (int i = 0; i < argc; i++) {
    berth_error_t err = NULL;
    if (berth_volume_remove(e, argv[i], force, &err) == 0)
      printf("%s\n", argv[i]);
    else
      status = cli_fail(&err, CLI_EXIT_ERROR);
  }
  return status;
}

int cmd_volume_prune(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool all = false, force = false, done;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"all", 'a', CLI_BOOL, &all, NULL, "Remove all unused volumes, not just anonymous ones", false},
      {"filter", 0, CLI_STRV, &filters, "filter", "Provide filter values (e.g. \"label=<label>\")", false},
      {"force", 'f', CLI_BOOL, &force, NULL, "Do not prompt for confirmation", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *res = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)) || (rc = cli_check_filters(cli, filters, "--filter")))
    return rc;
  if (!force && !cli_confirm(all ? "WARNING! This will remove all local volumes not used by at least one container."
                                 : "WARNING! This will remove anonymous local volumes not used by at least one "
                                   "container."))
    return 0;
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (!(res = berth_volume_prune(e, all, filters, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  return cli_print_prune(res);
}
