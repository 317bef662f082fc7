/* SPDX-License-Identifier: GPL-2.0-or-later */
/* logs and events: docker's flags, the --since/--until values parsed as its
 * client does, output streamed as the engine hands it over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timestamp.h"
#include "base/timeutil.h"
#include "cli.h"
#include "template.h"


/* --since/--until as docker's client sends them ("" / NULL: none). */
static int parse_time(const char *flag, const char *value, int64_t *ret)
{
  berth_error_t err = NULL;
  *ret = 0;
  if (!value || !*value)
    return 0;
  if (berth_parse_docker_timestamp(value, berth_now_ns(), ret, &err) < 0) {
    berth_error_prefix(&err, "invalid value for \"%s\"", flag);
    return cli_fail(&err, CLI_EXIT_ERROR);
  }
  return 0;
}

/* ---- logs ---- */

/* Both streams buffered; the other one is flushed first when the stream
 * changes, so that a terminal shows them in order. */
static int write_stream(void *data, int stream, const void *buf, size_t len, berth_error_t *err)
{
  int *last = data;
  FILE *f = stream == 2 ? stderr : stdout;
  if (!buf) {
    if (fflush(stdout) != 0 || fflush(stderr) != 0)
      return berth_error_set(err, errno, "write output");
    return 0;
  }
  if (*last != stream && fflush(stream == 2 ? stdout : stderr) != 0)
    return berth_error_set(err, errno, "write output");
  *last = stream;
  if (fwrite(buf, 1, len, f) != len)
    return berth_error_set(err, errno, "write output");
  return 0;
}

int cmd_logs(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool done, details = false, follow = false, timestamps = false;
  const char *since = NULL, *until = NULL, *tail = "all";
  const struct cli_flag flags[] = {
      {"details", 0, CLI_BOOL, &details, NULL, "Show extra details provided to logs", false},
      {"follow", 'f', CLI_BOOL, &follow, NULL, "Follow log output", false},
      {"since", 0, CLI_STRING, &since, "string",
       "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)", false},
      {"tail", 'n', CLI_STRING, &tail, "string", "Number of lines to show from the end of the logs (default \"all\")",
       false},
      {"timestamps", 't', CLI_BOOL, &timestamps, NULL, "Show timestamps", false},
      {"until", 0, CLI_STRING, &until, "string",
       "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)",
       false},
      END_FLAGS,
  };
  struct berth_logs_opts o;
  int64_t since_ns, until_ns;
  struct berth_engine *e;
  berth_error_t err = NULL;
  char *end;
  int rc, last = 1;
  static char out_buf[65536], err_buf[65536];
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, 1)) || (rc = parse_time("since", since, &since_ns)) ||
      (rc = parse_time("until", until, &until_ns)) || (rc = cli_engine(cli, &e)))
    return rc;
  o = (struct berth_logs_opts){.follow = follow, .timestamps = timestamps, .details = details,
                               .since = since_ns, .until = until_ns};
  /* the daemon's strconv.Atoi: anything else (and "all") is every line */
  errno = 0;
  o.tail = strtol(tail, &end, 10);
  if (errno || !*tail || *end)
    o.tail = -1;
  setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
  setvbuf(stderr, err_buf, _IOFBF, sizeof(err_buf));
  rc = berth_container_logs(e, argv[0], &o, write_stream, &last, &err);
  fflush(stdout);
  fflush(stderr);
  return rc < 0 ? cli_fail(&err, CLI_EXIT_ERROR) : 0;
}

/* ---- events ---- */

struct events_out {
  struct berth_template *tmpl;
  struct berth_template_opts topts;
  json_t *root; /* the message being formatted */
};

/* The deprecated fields docker's events.Message has under json names other
 * than their Go names: {{.Status}} is "status", ... */
static int message_field(void *data, const char *name, json_t *receiver, json_t *const *args, size_t nargs,
                         json_t **ret, berth_error_t *err)
{
  static const char *const fields[][2] = {{"Status", "status"}, {"ID", "id"},     {"From", "from"},
                                          {"Scope", "scope"},   {"Time", "time"}, {"TimeNano", "timeNano"}};
  struct events_out *o = data;
  if (receiver != o->root || nargs > 0)
    return 0;
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    if (strcmp(name, fields[i][0]) != 0)
      continue;
    json_t *v = json_object_get(receiver, fields[i][1]);
    bool number = fields[i][1][0] == 't';
    *ret = v ? json_incref(v) : number ? json_integer(0) : json_string("");
    return 1;
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* docker's prettyPrintEvent: local time, type, action, id, (sorted attrs). */
static void pretty_print(const json_t *ev)
{
  const json_t *actor = json_object_get(ev, "Actor"), *attrs = json_object_get(actor, "Attributes");
  size_t n = json_object_size(attrs), i = 0;
  cleanup_free const char **keys = calloc(n + 1, sizeof(char *));
  char when[64];
  const char *k;
  json_t *v;
  if (!keys)
    abort();
  berth_format_rfc3339_fixed((int64_t)json_integer_value(json_object_get(ev, "timeNano")), false, when);
  printf("%s %s %s %s", when, berth_json_str(ev, "Type"), berth_json_str(ev, "Action"), berth_json_str(actor, "ID"));
  json_object_foreach((json_t *)attrs, k, v) keys[i++] = k;
  qsort(keys, n, sizeof(char *), cmp_str);
  for (i = 0; i < n; i++) {
    const char *s = json_string_value(json_object_get(attrs, keys[i]));
    printf("%s%s=%s", i ? ", " : " (", keys[i], s ? s : "");
  }
  printf("%s\n", n ? ")" : "");
}

static int write_event(void *data, json_t *ev, berth_error_t *err)
{
  struct events_out *o = data;
  if (!ev)
    return fflush(stdout) == 0 ? 0 : berth_error_set(err, errno, "write output");
  if (!o->tmpl) {
    pretty_print(ev);
    return 0;
  }
  o->root = ev;
  if (berth_template_exec(o->tmpl, ev, &o->topts, stdout, err) < 0)
    return -1;
  putchar('\n');
  return 0;
}

int cmd_events(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  static const char *const map_fields[] = {"Attributes", NULL};
  cleanup_strv char **filters = NULL;
  const char *format = NULL, *since = NULL, *until = NULL;
  const struct cli_flag flags[] = {
      {"filter", 'f', CLI_STRV, &filters, "filter", "Filter output based on conditions provided", false},
      {"format", 0, CLI_STRING, &format, "string",
       "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print "
       "output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information "
       "about formatting output with templates",
       false},
      {"since", 0, CLI_STRING, &since, "string", "Show all events created since timestamp", false},
      {"until", 0, CLI_STRING, &until, "string", "Stream events until this timestamp", false},
      END_FLAGS,
  };
  struct events_out o = {.topts = {.map_fields = map_fields, .type_name = "events.Message",
                                   .method = message_field}};
  struct berth_events_opts eo = {0};
  struct berth_engine *e;
  berth_error_t err = NULL;
  bool done;
  int rc;
  o.topts.method_data = &o;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)) || (rc = cli_check_filters(cli, filters, "--filter")) ||
      (rc = parse_time("since", since, &eo.since)) || (rc = parse_time("until", until, &eo.until)))
    return rc;
  if (format && *format) {
    /* docker checks the template on an empty message first */
    cleanup_json json_t *empty = json_pack("{s:s, s:s, s:{s:s, s:{}}}", "Type", "", "Action", "", "Actor", "ID", "",
                                           "Attributes");
    cleanup_free char *probe = NULL;
    o.root = empty;
    if (berth_template_parse(strcmp(format, "json") == 0 ? "{{json .}}" : format, &o.tmpl, &err) < 0 ||
        berth_template_exec_string(o.tmpl, empty, &o.topts, &probe, &err) < 0) {
      berth_template_free(o.tmpl);
      fprintf(stderr, "Error parsing format: %s\n", err->msg);
      berth_error_release(&err);
      return CLI_EXIT_TEMPLATE;
    }
  }
  eo.filters = filters;
  if (since && *since && eo.since <= 0)
    eo.since = 1; /* --since 0 (the epoch, or before): everything recorded */
  if ((rc = cli_engine(cli, &e)) == 0 && berth_events(e, &eo, write_event, &o, &err) < 0)
    rc = cli_fail(&err, CLI_EXIT_ERROR);
  berth_template_free(o.tmpl);
  return rc;
}
