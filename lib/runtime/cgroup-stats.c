/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The counters `stats` shows, read from a container's cgroup the way runc's
 * libcontainer gathers them for docker: v1 from cpuacct.usage,
 * memory.usage_in_bytes / limit_in_bytes / stat, blkio's
 * io_service_bytes_recursive (the throttle file when CFQ's is empty) and
 * pids.current; v2 from cpu.stat, memory.current / max / stat, io.stat and
 * pids.current.  A file a hierarchy lacks leaves its counter at 0. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "runtime/cgroup-internal.h"

/* A whole file of d, or NULL when d is NULL or the file cannot be read. */
static char *read_opt(const struct berth_cgroup_dir *d, const char *file)
{
  char *text = NULL;
  cleanup_error berth_error_t err = NULL;
  if (!d || d->fd < 0 || berth_cgroup_dir_read(d, file, &text, &err) < 0)
    return NULL;
  return text;
}

/* A file holding one number ("max" and absent read as 0). */
static uint64_t read_u64(const struct berth_cgroup_dir *d, const char *file)
{
  cleanup_free char *text = read_opt(d, file);
  return text ? strtoull(text, NULL, 10) : 0;
}

static uint64_t keyed(const char *text, const char *key)
{
  long long v = text ? berth_cgroup_keyed_value(text, key) : -1;
  return v > 0 ? (uint64_t)v : 0;
}

void berth_cgroup_parse_blkio(const char *text, uint64_t *ret_read, uint64_t *ret_write)
{
  char op[16];
  unsigned maj, min;
  unsigned long long v;
  *ret_read = *ret_write = 0;
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (sscanf(p, "%u:%u %15s %llu", &maj, &min, op, &v) != 4)
      continue;
    if (strcmp(op, "Read") == 0)
      *ret_read += v;
    else if (strcmp(op, "Write") == 0)
      *ret_write += v;
  }
}

void berth_cgroup_parse_io_stat(const char *text, uint64_t *ret_read, uint64_t *ret_write)
{
  *ret_read = *ret_write = 0;
  for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    for (const char *p = line; p && p < line + len; p = memchr(p, ' ', (size_t)(line + len - p)), p = p ? p + 1 : NULL) {
      if (strncmp(p, "rbytes=", 7) == 0)
        *ret_read += strtoull(p + 7, NULL, 10);
      else if (strncmp(p, "wbytes=", 7) == 0)
        *ret_write += strtoull(p + 7, NULL, 10);
    }
  }
}

static void v1_stats(struct berth_cgroup *cg, struct berth_cgroup_stats *st)
{
  struct berth_cgroup_dir *mem = berth_cgroup_find(cg, "memory"), *blk = berth_cgroup_find(cg, "blkio");
  cleanup_free char *mstat = read_opt(mem, "memory.stat"), *io = read_opt(blk, "blkio.io_service_bytes_recursive");
  st->cpu_ns = read_u64(berth_cgroup_find(cg, "cpuacct"), "cpuacct.usage");
  st->mem_usage = read_u64(mem, "memory.usage_in_bytes");
  st->mem_limit = read_u64(mem, "memory.limit_in_bytes");
  if (st->mem_limit >= (UINT64_C(1) << 62)) /* the kernel's "unlimited" (page-rounded INT64_MAX) */
    st->mem_limit = 0;
  st->mem_inactive_file = keyed(mstat, "total_inactive_file");
  berth_cgroup_parse_blkio(io, &st->blk_read, &st->blk_write);
  if (st->blk_read == 0 && st->blk_write == 0) {
    cleanup_free char *throttle = read_opt(blk, "blkio.throttle.io_service_bytes_recursive");
    berth_cgroup_parse_blkio(throttle, &st->blk_read, &st->blk_write);
  }
  st->pids = read_u64(berth_cgroup_find(cg, "pids"), "pids.current");
}

static void v2_stats(const struct berth_cgroup_dir *d, struct berth_cgroup_stats *st)
{
  cleanup_free char *cpu = read_opt(d, "cpu.stat"), *mstat = read_opt(d, "memory.stat"),
                    *io = read_opt(d, "io.stat");
  st->cpu_ns = keyed(cpu, "usage_usec") * 1000;
  st->mem_usage = read_u64(d, "memory.current");
  st->mem_limit = read_u64(d, "memory.max");
  st->mem_inactive_file = keyed(mstat, "inactive_file");
  berth_cgroup_parse_io_stat(io, &st->blk_read, &st->blk_write);
  st->pids = read_u64(d, "pids.current");
  st->v2 = true;
}

int berth_cgroup_stats(struct berth_cgroup *cg, struct berth_cgroup_stats *ret, berth_error_t *err)
{
  *ret = (struct berth_cgroup_stats){0};
  if (cg->layout == BERTH_CGROUP_V2) {
    if (!cg->v2 || cg->v2->fd < 0)
      return berth_error_set(err, ENOENT, "cgroup `%s` has no cgroup2 directory", cg->path);
    v2_stats(cg->v2, ret);
  } else {
    v1_stats(cg, ret);
  }
  return 0;
}
