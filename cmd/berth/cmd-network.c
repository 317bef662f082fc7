/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network commands: `network create/ls/inspect/rm/prune/connect/disconnect`
 * and `port CONTAINER [PRIVATE_PORT[/PROTO]]`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "net/net.h"
#include "base/json.h"
#include "cli.h"
#include "output.h"

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
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 2, &e, &rc))
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
      char hp[80];
      found = true;
      berth_net_join_host_port(berth_json_str(b, "HostIp"), berth_json_str(b, "HostPort"), hp);
      if (*want)
        printf("%s\n", hp);
      else
        printf("%s -> %s\n", keys[i], hp);
    }
  }
  free(keys);
  if (*want && !found)
    return cli_failf(CLI_EXIT_ERROR, "No public port '%s' published for %s", want, argv[0]);
  return 0;
}

/* ---- network ---- */

int cmd_network_create(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  struct berth_network_create_opts o = {.driver = "bridge"};
  cleanup_strv char **labels = NULL, **opts = NULL;
  bool attachable = false;
  const struct cli_flag flags[] = {
      {"attachable", 0, CLI_BOOL, &attachable, NULL, "Enable manual container attachment", false},
      {"driver", 'd', CLI_STRING, &o.driver, "string", "Driver to manage the Network (default \"bridge\")", false},
      {"gateway", 0, CLI_STRING, &o.gateway, "strings", "IPv4 or IPv6 Gateway for the master subnet", false},
      {"internal", 0, CLI_BOOL, &o.internal, NULL, "Restrict external access to the network", false},
      {"label", 0, CLI_STRV, &labels, "list", "Set metadata on a network", false},
      {"opt", 'o', CLI_STRV, &opts, "map", "Set driver specific options (default map[])", false},
      {"subnet", 0, CLI_STRING, &o.subnet, "strings", "Subnet in CIDR format that represents a network segment",
       false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 1, &e, &rc))
    return rc;
  o.name = argv[0];
  o.labels = labels;
  o.options = opts;
  cleanup_free char *id = NULL;
  if (berth_network_create(e, &o, &id, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  printf("%s\n", id);
  return 0;
}

static json_t *get_network(struct berth_engine *e, const char *name, bool size, berth_error_t *err)
{
  return berth_network_inspect(e, name, err);
}

int cmd_network_inspect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL;
  bool verbose = false, done;
  const struct cli_flag flags[] = {
      {"format", 'f', CLI_STRING, &format, "string", CLI_INSPECT_FORMAT_HELP, false},
      {"verbose", 'v', CLI_BOOL, &verbose, NULL, "Verbose output for diagnostics", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)))
    return rc;
  return cli_inspect_each(cli, argv, argc, format, false, get_network);
}

static int by_name(const void *a, const void *b)
{
  return strcmp(berth_json_str(*(json_t *const *)a, "Name"), berth_json_str(*(json_t *const *)b, "Name"));
}

int cmd_network_ls(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL;
  bool quiet = false, no_trunc = false, done;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"filter", 'f', CLI_STRV, &filters, "filter", "Provide filter values (e.g. \"driver=bridge\")", false},
      {"format", 0, CLI_STRING, &format, "string", CLI_FORMAT_HELP, false},
      {"no-trunc", 0, CLI_BOOL, &no_trunc, NULL, "Do not truncate the output", false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Only display network IDs", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  static const struct cli_header headers[] = {{"ID", "NETWORK ID"}, {"Name", "NAME"}, {"Driver", "DRIVER"},
                                              {"Scope", "SCOPE"}, {"IPv6", "IPV6"}, {"Internal", "INTERNAL"},
                                              {"Labels", "LABELS"}, {"CreatedAt", "CREATED AT"}, {NULL, NULL}};
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)) || (rc = cli_check_filters(cli, filters, "filter")) ||
      (rc = cli_engine(cli, &e)))
    return rc;
  cleanup_json json_t *all = berth_network_list(e, filters, &err);
  if (!all)
    return cli_fail(&err, CLI_EXIT_ERROR);
  size_t n = json_array_size(all), k = 0, i;
  json_t **sorted = calloc(n + 1, sizeof *sorted), *net;
  if (!sorted)
    abort();
  json_array_foreach(all, i, net) sorted[k++] = net;
  qsort(sorted, k, sizeof *sorted, by_name);
  cleanup_json json_t *rows = json_array();
  for (i = 0; i < k; i++) {
    char id[65];
    snprintf(id, sizeof id, no_trunc ? "%s" : "%.12s", berth_json_str(sorted[i], "Id"));
    if (quiet) {
      printf("%s\n", id);
      continue;
    }
    cleanup_free char *labels = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&labels, &len);
    const char *key;
    json_t *v;
    bool first = true;
    json_object_foreach(json_object_get(sorted[i], "Labels"), key, v)
    {
      fprintf(f, "%s%s=%s", first ? "" : ",", key, json_string_value(v));
      first = false;
    }
    fclose(f);
    json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Name",
                                          berth_json_str(sorted[i], "Name"), "Driver",
                                          berth_json_str(sorted[i], "Driver"), "Scope", "local", "IPv6", "false",
                                          "Internal",
                                          json_is_true(json_object_get(sorted[i], "Internal")) ? "true" : "false",
                                          "Labels", labels, "CreatedAt", berth_json_str(sorted[i], "Created")));
  }
  free(sorted);
  if (quiet)
    return 0;
  return cli_output_rows(rows, format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", headers);
}

int cmd_network_rm(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool force = false;
  const struct cli_flag flags[] = {
      {"force", 'f', CLI_BOOL, &force, NULL, "Do not error if the network does not exist", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, -1, &e, &rc))
    return rc;
  for (int i = 0; i < argc; i++) {
    berth_error_t err = NULL;
    if (berth_network_remove(e, argv[i], &err) == 0) {
      printf("%s\n", argv[i]);
    } else if (force && err->code == ENOENT) {
      berth_error_release(&err);
    } else {
      rc = cli_fail(&err, CLI_EXIT_ERROR);
    }
  }
  return rc;
}

int cmd_network_prune(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool force = false, done;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"filter", 0, CLI_STRV, &filters, "filter", "Provide filter values (e.g. \"until=<timestamp>\")", false},
      {"force", 'f', CLI_BOOL, &force, NULL, "Do not prompt for confirmation", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)) || (rc = cli_check_filters(cli, filters, "filter")) ||
      (rc = cli_engine(cli, &e)))
    return rc;
  if (!force && !cli_confirm("WARNING! This will remove all custom networks not used by at least one container."))
    return 0;
  cleanup_json json_t *gone = berth_network_prune(e, filters, &err);
  if (!gone)
    return cli_fail(&err, CLI_EXIT_ERROR);
  if (json_array_size(gone)) {
    size_t i;
    json_t *v;
    printf("Deleted Networks:\n");
    json_array_foreach(gone, i, v) printf("%s\n", json_string_value(v));
    printf("\n");
  }
  return 0;
}

int cmd_network_connect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  cleanup_strv char **aliases = NULL;
  const char *ip = NULL;
  const struct cli_flag flags[] = {
      {"alias", 0, CLI_STRV, &aliases, "strings", "Add network-scoped alias for the container", false},
      {"ip", 0, CLI_STRING, &ip, "string", "IPv4 address (e.g., \"172.30.100.104\")", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 2, 2, &e, &rc))
    return rc;
  if (berth_network_connect(e, argv[0], argv[1], aliases, ip, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  return 0;
}

int cmd_network_disconnect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool force = false;
  const struct cli_flag flags[] = {
      {"force", 'f', CLI_BOOL, &force, NULL, "Force the container to disconnect from a network", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 2, 2, &e, &rc))
    return rc;
  if (berth_network_disconnect(e, argv[0], argv[1], force, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  return 0;
}
