/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Presenting results: tables and --format templates the way docker prints
 * them, inspect output, times. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cli.h"
#include "output.h"
#include "template.h"
#include "base/units.h"

int cli_output_rows(json_t *rows, const char *format, const char *default_table, const struct cli_header *headers)
{
  const struct berth_template_opts opts = {.missing = BERTH_TEMPLATE_STRUCT};
  return cli_output_rows_opts(rows, format, default_table, headers, &opts);
}

int cli_output_rows_opts(json_t *rows, const char *format, const char *default_table,
                         const struct cli_header *headers, const struct berth_template_opts *opts)
{
  struct berth_formatter *f = NULL;
  berth_error_t err = NULL;
  cleanup_json json_t *header = json_object();
  json_t *row;
  size_t i;
  int rc = 0;
  if (!format || !*format || strcmp(format, "table") == 0)
    format = default_table;
  for (const struct cli_header *h = headers; h && h->field; h++)
    json_object_set_new(header, h->field, json_string(h->title));
  if (berth_formatter_new(format, opts, &f, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  json_array_foreach(rows, i, row) if (berth_formatter_add(f, row, &err) < 0)
  {
    rc = cli_fail(&err, CLI_EXIT_ERROR);
    goto out;
  }
  if (berth_formatter_write(f, header, stdout, &err) < 0)
    rc = cli_fail(&err, CLI_EXIT_ERROR);
out:
  berth_formatter_free(f);
  return rc;
}

int cli_output_template(json_t *obj, const char *format, const char *name)
{
  struct berth_template *t = NULL;
  berth_error_t err = NULL;
  cleanup_free char *pre = berth_template_preformat(format);
  const struct berth_template_opts opts = {.missing = BERTH_TEMPLATE_MAP_ERROR};
  if (berth_template_parse(pre, &t, &err) < 0) {
    /* docker's inspect, version and info exit 64 on a template that does not parse */
    const char *msg = err->msg;
    /* docker names the template after the command that parses it ("version") */
    if (name && *name && strncmp(msg, "template: :", 11) == 0)
      fprintf(stderr, "template parsing error: template: %s:%s\n", name, msg + 11);
    else
      fprintf(stderr, "template parsing error: %s\n", msg);
    berth_error_release(&err);
    return CLI_EXIT_TEMPLATE;
  }
  if (berth_template_exec(t, obj, &opts, stdout, &err) < 0) {
    berth_template_free(t);
    fputc('\n', stdout);
    return cli_fail(&err, CLI_EXIT_ERROR);
  }
  berth_template_free(t);
  fputc('\n', stdout);
  return 0;
}

int cli_output_inspect(json_t *items, const char *format)
{
  json_t *v;
  size_t i;
  if (!format || !*format) {
    cleanup_free char *s = json_dumps(items, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    printf("%s\n", s ? s : "[]");
    return 0;
  }
  if (strcmp(format, "json") == 0) {
    /* docker: the default output, as one compact line */
    cleanup_free char *s = json_dumps(items, JSON_COMPACT);
    printf("%s\n", s ? s : "[]");
    return 0;
  }
  json_array_foreach(items, i, v)
  {
    int rc = cli_output_template(v, format, NULL);
    if (rc)
      return rc;
  }
  return 0;
}

void cli_print_report(const json_t *report)
{
  size_t i;
  json_t *v;
  json_array_foreach(report, i, v)
  {
    const char *key = json_object_iter_key(json_object_iter((json_t *)v));
    printf("%s: %s\n", key, json_string_value(json_object_get(v, key)));
  }
}

void cli_print_prune_report(const json_t *report)
{
  size_t i;
  json_t *v;
  json_array_foreach(report, i, v)
  {
    const char *key = json_object_iter_key(json_object_iter((json_t *)v));
    printf("%c%s: %s\n", tolower((unsigned char)key[0]), key + 1, json_string_value(json_object_get(v, key)));
  }
}

int cli_print_prune(const json_t *res)
{
  static const char *const lists[][2] = {{"ContainersDeleted", "Containers"}, {"VolumesDeleted", "Volumes"}};
  char size[32];
  json_t *deleted = json_object_get(res, "ImagesDeleted"), *v;
  size_t i;
  for (size_t k = 0; k < sizeof lists / sizeof *lists; k++) {
    const json_t *names = json_object_get(res, lists[k][0]);
    if (!json_array_size(names))
      continue;
    printf("Deleted %s:\n", lists[k][1]);
    json_array_foreach(names, i, v) printf("%s\n", json_string_value(v));
    printf("\n");
  }
  if (json_array_size(deleted)) {
    printf("Deleted Images:\n");
    cli_print_prune_report(deleted);
    printf("\n");
  }
  /* units.HumanSize: four significant digits */
  berth_human_size_prec((double)berth_json_int(res, "SpaceReclaimed", 0), 4, size, sizeof(size));
  printf("Total reclaimed space: %s\n", size);
  return 0;
}

bool cli_confirm(const char *warning)
{
  char line[16];
  fprintf(stdout, "%s\nAre you sure you want to continue? [y/N] ", warning);
  fflush(stdout);
  if (!fgets(line, sizeof(line), stdin))
    return false;
  return line[0] == 'y' || line[0] == 'Y';
}

void cli_format_time(time_t t, char *buf, size_t len)
{
  struct tm tm;
  char off[8], zone[16];
  localtime_r(&t, &tm);
  strftime(off, sizeof(off), "%z", &tm);
  strftime(zone, sizeof(zone), "%Z", &tm);
  snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d %s %s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, off, zone);
}

void cli_format_time_rfc3339(time_t t, char *buf, size_t len)
{
  struct tm tm;
  long off;
  localtime_r(&t, &tm);
  off = tm.tm_gmtoff;
  if (off == 0) {
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return;
  }
  snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 3600, (labs(off) % 3600) / 60);
}

void cli_format_since(time_t t, char *buf, size_t len)
{
  time_t now = time(NULL);
  if (t <= 0) {
    snprintf(buf, len, "N/A");
    return;
  }
  berth_human_ago((int64_t)(now - t), buf, len);
}

int cli_inspect_each(struct cli *cli, char **names, int n, const char *format, bool size, cli_inspect_get get)
{
  struct berth_engine *e;
  cleanup_json json_t *out = json_array();
  int rc, status = 0;
  if ((rc = cli_engine(cli, &e)))
    return rc;
  for (int i = 0; i < n; i++) {
    berth_error_t err = NULL;
    json_t *j = get(e, names[i], size, &err);
    if (!j) {
      status = cli_fail(&err, CLI_EXIT_ERROR);
      continue;
    }
    json_array_append_new(out, j);
  }
  rc = cli_output_inspect(out, format);
  return status ? status : rc;
}
