/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Presenting results: tables and --format templates the way docker prints
 * them, inspect output, times. */
#ifndef BERTH_OUTPUT_H
#define BERTH_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#define CLI_FORMAT_HELP                                                                                                \
  "Format output using a custom template:\n"                                                                           \
  "                        'table':            Print output in table format with column headers (default)\n"          \
  "                        'table TEMPLATE':   Print output in table format using the given Go template\n"           \
  "                        'json':             Print in JSON format\n"                                                \
  "                        'TEMPLATE':         Print output using the given Go template"
#define CLI_INSPECT_FORMAT_HELP                                                                                        \
  "Format output using a custom template:\n"                                                                           \
  "                        'json':             Print in JSON format\n"                                                \
  "                        'TEMPLATE':         Print output using the given Go template"

/* A row field and the column title docker gives it. */
struct cli_header {
  const char *field;
  const char *title;
};

/* Print `rows` (objects) with `format` (NULL or "table": `default_table`).
 * Returns an exit code. */
int cli_output_rows(json_t *rows, const char *format, const char *default_table, const struct cli_header *headers);
/* The same with the template options of a command's own formatter context. */
struct berth_template_opts;
int cli_output_rows_opts(json_t *rows, const char *format, const char *default_table,
                         const struct cli_header *headers, const struct berth_template_opts *opts);
/* inspect: an indented JSON array, or the template once per element. */
int cli_output_inspect(json_t *items, const char *format);
/* docker inspect's loop: get() each name, print what was found with
 * cli_output_inspect, report each failure on stderr; exit 1 if any failed. */
struct cli;
struct berth_engine;
typedef json_t *(*cli_inspect_get)(struct berth_engine *e, const char *name, bool size, berth_error_t *err);
int cli_inspect_each(struct cli *cli, char **names, int n, const char *format, bool size, cli_inspect_get get);
/* One object through a template (version, info); `name` names the template
 * in parse errors as docker does ("version"), NULL for none. */
int cli_output_template(json_t *obj, const char *format, const char *name);
/* Print [{"Untagged": x}, {"Deleted": y}] as docker does. */
void cli_print_report(const json_t *report);
/* The same for prune, which docker prints in lower case ("deleted: ..."). */
void cli_print_prune_report(const json_t *report);
/* "Deleted Images:" and "Total reclaimed space:" of a prune result. */
int cli_print_prune(const json_t *res);
/* Ask "[y/N]" after `warning`; true for yes. */
bool cli_confirm(const char *warning);
/* "2024-05-01 10:11:12 +0000 UTC" (Go's time.String of a local time). */
void cli_format_time(time_t t, char *buf, size_t len);
/* "2024-05-01T10:11:12Z" in local time with offset, like Go's RFC3339. */
void cli_format_time_rfc3339(time_t t, char *buf, size_t len);
/* "2 hours ago". */
void cli_format_since(time_t t, char *buf, size_t len);

#endif
