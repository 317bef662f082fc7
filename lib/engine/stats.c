/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `stats`: one sample of a container's resource use in docker's StatsJSON
 * shape, from its cgroup (cgroup-stats.c), the host's /proc/stat (the
 * system CPU time that CPU % is relative to) and /proc/<init>/net/dev (the
 * container's network namespace, loopback left out as docker shows only the
 * container's interfaces).  The CLI turns two samples into CPU %, as docker's
 * client does with cpu_stats and precpu_stats. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "engine/rwlayer.h"
#include "runtime/cgroup.h"

/* moby's getSystemCPUUsage: the first seven fields of /proc/stat's "cpu"
 * line (user .. softirq), in nanoseconds. */
static uint64_t system_cpu_ns(void)
{
  cleanup_free char *buf = NULL;
  size_t len;
  unsigned long long f[7] = {0}, sum = 0;
  long hz = sysconf(_SC_CLK_TCK);
  if (berth_read_file_at(AT_FDCWD, "/proc/stat", &buf, &len, NULL) < 0 || hz <= 0 ||
      sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]) != 7)
    return 0;
  for (int i = 0; i < 7; i++)
    sum += f[i];
  return (uint64_t)(sum * (1000000000ULL / (unsigned long long)hz));
}

/* MemTotal: docker caps the reported limit at the machine's memory. */
static uint64_t machine_memory(void)
{
  cleanup_free char *buf = NULL;
  size_t len;
  const char *p;
  if (berth_read_file_at(AT_FDCWD, "/proc/meminfo", &buf, &len, NULL) < 0 || !(p = strstr(buf, "MemTotal:")))
    return 0;
  return strtoull(p + 9, NULL, 10) * 1024;
}

/* {"eth0": {rx_bytes, rx_packets, ..., tx_bytes, ...}} from /proc/PID/net/dev. */
static json_t *networks(pid_t pid)
{
  char path[64];
  cleanup_free char *buf = NULL;
  size_t len;
  json_t *out = json_object();
  snprintf(path, sizeof path, "/proc/%d/net/dev", (int)pid);
  if (pid <= 0 || berth_read_file_at(AT_FDCWD, path, &buf, &len, NULL) < 0)
    return out;
  for (char *line = buf, *next; line && *line; line = next) {
    char name[64];
    unsigned long long v[16];
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    char *colon = strchr(line, ':');
    if (!colon || sscanf(line, " %63[^:]:", name) != 1 || strcmp(name, "lo") == 0 ||
        sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]) != 12)
      continue;
    json_object_set_new(out, name,
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_bytes", (json_int_t)v[0],
                                  "rx_packets", (json_int_t)v[1], "rx_errors", (json_int_t)v[2], "rx_dropped",
                                  (json_int_t)v[3], "tx_bytes", (json_int_t)v[8], "tx_packets", (json_int_t)v[9],
                                  "tx_errors", (json_int_t)v[10], "tx_dropped", (json_int_t)v[11]));
  }
  return out;
}

static json_t *sample(const struct berth_ctr *c, const struct berth_cgroup_stats *st, bool running)
{
  char read[64];
  uint64_t machine = machine_memory(), limit = st->mem_limit;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  bool host_net = strcmp(berth_json_str(json_object_get(c->rec, "HostConfig"), "NetworkMode") ?: "", "host") == 0;
  if (limit == 0 || (machine && limit > machine))
    limit = machine;
  if (running)
    berth_format_rfc3339(berth_now_ns(), read);
  else /* Go's zero time, as docker sends for a container that does not run */
    snprintf(read, sizeof read, "0001-01-01T00:00:00Z");
  json_t *out = json_pack(
      "{s:s, s:s, s:s, s:{s:I}, s:{s:[{s:i, s:i, s:s, s:I}, {s:i, s:i, s:s, s:I}]}, "
      "s:{s:{s:I}, s:I, s:i}, s:{s:I, s:I, s:{s:I}}}",
      "read", read, "name", berth_json_str(c->rec, "Name") ?: "", "id", c->id, "pids_stats", "current",
      (json_int_t)st->pids, "blkio_stats", "io_service_bytes_recursive", "major", 0, "minor", 0, "op", "read", "value",
      (json_int_t)st->blk_read, "major", 0, "minor", 0, "op", "write", "value", (json_int_t)st->blk_write,
      "cpu_stats", "cpu_usage", "total_usage", (json_int_t)st->cpu_ns, "system_cpu_usage",
      (json_int_t)(running ? system_cpu_ns() : 0), "online_cpus", running ? (int)ncpu : 0, "memory_stats", "usage",
      (json_int_t)st->mem_usage, "limit", (json_int_t)(running ? limit : 0), "stats",
      st->v2 ? "inactive_file" : "total_inactive_file", (json_int_t)st->mem_inactive_file);
  if (running && !host_net)
    json_object_set_new(out, "networks", networks(c->st.pid));
  return out;
}

json_t *berth_container_stats(struct berth_engine *e, const char *name, berth_error_t *err)
{
  struct berth_ctr c;
  struct berth_cgroup *cg = NULL;
  struct berth_cgroup_stats st = {0};
  json_t *out = NULL;
  bool running;
  if (berth_ctr_load(e, name, &c, err) < 0) {
    berth_ctr_clear(&c);
    return NULL;
  }
  running = c.st.status == BERTH_STATUS_RUNNING || c.st.status == BERTH_STATUS_PAUSED;
  if (running && berth_ctr_cgroup(e, &c, &cg, err) < 0) {
    /* it ended meanwhile: zeros, like a stopped container */
    if ((*err)->code != ENOENT)
      goto out;
    berth_error_release(err);
    running = false;
  }
  if (cg && berth_cgroup_stats(cg, &st, err) < 0)
    goto out;
  out = sample(&c, &st, running);
out:
  berth_cgroup_free(cg);
  berth_ctr_clear(&c);
  return out;
}
