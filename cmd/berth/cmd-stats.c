/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `stats`: docker/cli's table from the engine's samples.  CPU % is the
 * container's share of the host's CPU time between two samples, times the
 * online CPUs (docker's calculateCPUPercentUnix): a streamed table starts
 * from a zero "previous" sample as docker's first frame does, and
 * --no-stream waits for a second sample one second later, as the daemon
 * does before it answers a non-streaming request.  Memory is usage minus
 * inactive file pages.  Streaming redraws every second from the top of the
 * screen, erasing what the last frame left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/units.h"
#include "cli.h"
#include "output.h"

#define STATS_TABLE "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

static const struct cli_header stats_headers[] = {
    {"Container", "CONTAINER"}, {"ID", "CONTAINER ID"}, {"Name", "NAME"},        {"CPUPerc", "CPU %"},
    {"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"}, {"NetIO", "NET I/O"}, {"BlockIO", "BLOCK I/O"},
    {"PIDs", "PIDS"},           {NULL, NULL},
};

static double num(const json_t *o, const char *path)
{
  char key[64];
  const char *dot;
  while ((dot = strchr(path, '.'))) {
    snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
    o = json_object_get(o, key);
    path = dot + 1;
  }
  return (double)berth_json_int(o, path, 0);
}

static double cpu_percent(const json_t *s, const json_t *prev)
{
  double cpu = num(s, "cpu_stats.cpu_usage.total_usage") - num(prev, "cpu_stats.cpu_usage.total_usage");
  double sys = num(s, "cpu_stats.system_cpu_usage") - num(prev, "cpu_stats.system_cpu_usage");
  return sys > 0 && cpu > 0 ? cpu / sys * num(s, "cpu_stats.online_cpus") * 100.0 : 0.0;
}

static double memory_used(const json_t *s)
{
  const json_t *stats = json_object_get(json_object_get(s, "memory_stats"), "stats");
  double usage = num(s, "memory_stats.usage");
  json_t *v1 = json_object_get(stats, "total_inactive_file");
  double inactive = (double)berth_json_int(stats, v1 ? "total_inactive_file" : "inactive_file", 0);
  return inactive < usage ? usage - inactive : usage;
}

static void io_pair(double a, double b, char *out, size_t len)
{
  char x[32], y[32];
  snprintf(out, len, "%s / %s", berth_human_size_prec(a, 3, x, sizeof x), berth_human_size_prec(b, 3, y, sizeof y));
}

static json_t *row(const char *given, const json_t *s, const json_t *prev, bool trunc)
{
  double used = memory_used(s), limit = num(s, "memory_stats.limit"), rx = 0, tx = 0, rd = 0, wr = 0;
  const char *id = berth_json_str(s, "id") ?: "", *name = berth_json_str(s, "name") ?: "";
  char cpu[32], mem[64], memp[32], net[64], blk[64], a[32], b[32];
  const char *k;
  json_t *v;
  size_t i;
  json_object_foreach(json_object_get(s, "networks"), k, v)
  {
    rx += (double)berth_json_int(v, "rx_bytes", 0);
    tx += (double)berth_json_int(v, "tx_bytes", 0);
  }
  json_array_foreach(json_object_get(json_object_get(s, "blkio_stats"), "io_service_bytes_recursive"), i, v)
  {
    const char *op = berth_json_str(v, "op") ?: "";
    rd += strcasecmp(op, "read") == 0 ? (double)berth_json_int(v, "value", 0) : 0;
    wr += strcasecmp(op, "write") == 0 ? (double)berth_json_int(v, "value", 0) : 0;
  }
  snprintf(cpu, sizeof cpu, "%.2f%%", cpu_percent(s, prev));
  snprintf(mem, sizeof mem, "%s / %s", berth_bytes_size(used, a, sizeof a), berth_bytes_size(limit, b, sizeof b));
  snprintf(memp, sizeof memp, "%.2f%%", limit > 0 ? used / limit * 100.0 : 0.0);
  io_pair(rx, tx, net, sizeof net);
  io_pair(rd, wr, blk, sizeof blk);
  return json_pack("{s:s, s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "Container", given, "ID", id,
                   (size_t)(trunc && strlen(id) > 12 ? 12 : strlen(id)), "Name", name[0] == '/' ? name + 1 : name,
                   "CPUPerc", cpu, "MemUsage", mem, "MemPerc", memp, "NetIO", net, "BlockIO", blk, "PIDs",
                   (json_int_t)num(s, "pids_stats.current"));
}

struct stats_run {
  struct berth_engine *e;
  char **names; /* given on the command line, or NULL: every (running) container */
  int n_names;
  bool all, trunc, stream;
  const char *format;
  json_t *prev; /* id -> the last sample */
};

/* The containers to show: those named, or the listed ones. */
static json_t *targets(struct stats_run *r, berth_error_t *err)
{
  json_t *out = json_array();
  if (r->names) {
    for (int i = 0; i < r->n_names; i++)
      json_array_append_new(out, json_string(r->names[i]));
    return out;
  }
  struct berth_container_list_opts o = {.all = r->all};
  cleanup_json json_t *list = berth_container_list(r->e, &o, err);
  json_t *c;
  size_t i;
  if (!list) {
    json_decref(out);
    return NULL;
  }
  json_array_foreach(list, i, c) json_array_append_new(out, json_stringn(berth_json_str(c, "Id") ?: "", 12));
  return out;
}

/* One sample of every target; named containers that fail are errors. */
static json_t *collect(struct stats_run *r, json_t *names, int *status)
{
  json_t *samples = json_array(), *n;
  size_t i;
  json_array_foreach(names, i, n)
  {
    berth_error_t err = NULL;
    json_t *s = berth_container_stats(r->e, json_string_value(n), &err);
    if (!s && r->names)
      *status = cli_fail(&err, CLI_EXIT_ERROR);
    berth_error_release(&err);
    json_array_append_new(samples, s ? s : json_null());
  }
  return samples;
}

static json_t *rows(struct stats_run *r, json_t *names, json_t *samples)
{
  json_t *out = json_array(), *s;
  size_t i;
  json_array_foreach(samples, i, s)
  {
    const char *id = berth_json_str(s, "id");
    if (!id)
      continue;
    json_array_append_new(out, row(json_string_value(json_array_get(names, i)), s,
                                   json_object_get(r->prev, id), r->trunc));
    json_object_set(r->prev, id, s);
  }
  return out;
}

static void sleep_second(void)
{
  struct timespec ts = {1, 0};
  while (nanosleep(&ts, &ts) < 0)
    ;
}

/* Print one frame; in stream mode over the last one. */
static int frame(struct stats_run *r, json_t *table)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len), *saved = stdout;
  int rc;
  if (!mem)
    abort();
  stdout = mem;
  rc = cli_output_rows(table, r->format, STATS_TABLE, stats_headers);
  fflush(mem);
  stdout = saved;
  fclose(mem);
  if (!r->stream) {
    fwrite(buf, 1, len, stdout);
  } else {
    fputs("\033[H", stdout);
    for (char *line = buf, *nl; line < buf + len; line = nl + 1) {
      nl = memchr(line, '\n', (size_t)(buf + len - line));
      if (!nl)
        nl = buf + len;
      printf("%.*s\033[K\n", (int)(nl - line), line);
    }
    fputs("\033[J", stdout);
  }
  fflush(stdout);
  free(buf);
  return rc;
}

static int run_stats(struct stats_run *r)
{
  berth_error_t err = NULL;
  int status = 0, rc;
  if (r->stream)
    fputs("\033[2J", stdout);
  for (bool first = true;; first = false) {
    cleanup_json json_t *names = targets(r, &err), *samples = NULL, *table = NULL;
    if (!names)
      return cli_fail(&err, CLI_EXIT_ERROR);
    samples = collect(r, names, &status);
    if (status)
      return status;
    if (!r->stream && first && json_array_size(names)) {
      /* docker's daemon primes the CPU counters before its one answer */
      json_decref(rows(r, names, samples));
      sleep_second();
      json_decref(samples);
      samples = collect(r, names, &status);
      if (status)
        return status;
    }
    table = rows(r, names, samples);
    if ((rc = frame(r, table)) || !r->stream)
      return rc;
    sleep_second();
  }
}

int cmd_stats(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool all = false, no_stream = false, no_trunc = false, done;
  const char *format = NULL;
  const struct cli_flag flags[] = {
      {"all", 'a', CLI_BOOL, &all, NULL, "Show all containers (default shows just running)", false},
      {"format", 0, CLI_STRING, &format, "string", CLI_FORMAT_HELP, false},
      {"no-stream", 0, CLI_BOOL, &no_stream, NULL, "Disable streaming stats and only pull the first result", false},
      {"no-trunc", 0, CLI_BOOL, &no_trunc, NULL, "Do not truncate output", false},
      END_FLAGS,
  };
  struct stats_run r = {0};
  cleanup_json json_t *prev = json_object();
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_engine(cli, &r.e)))
    return rc;
  r.names = argc ? argv : NULL;
  r.n_names = argc;
  r.all = all;
  r.trunc = !no_trunc;
  r.stream = !no_stream;
  r.format = format;
  r.prev = prev;
  return run_stats(&r);
}
