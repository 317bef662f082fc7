/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The `stats` counters read from a cgroup: the v2 files (fixtures copied
 * from a cgroup2 container directory: cpu.stat, memory.current / max /
 * stat, io.stat, pids.current) through the real reader, and the parsers
 * of v1 blkio and v2 io.stat text.  Pure: no cgroup is touched. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "runtime/cgroup-internal.h"

static int stats_of(const char *dir, struct berth_cgroup_stats *st)
{
  struct berth_cgroup_dir d = {.v2 = true, .controllers = (char *)"", .mount = (char *)dir, .rel = (char *)""};
  struct berth_cgroup cg = {.layout = BERTH_CGROUP_V2, .path = (char *)"fixture", .dirs = &d, .n_dirs = 1, .v2 = &d};
  cleanup_error berth_error_t err = NULL;
  d.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert(d.fd >= 0, "open %s", dir);
  int r = berth_cgroup_stats(&cg, st, &err);
  close(d.fd);
  return r;
}

Test(cgroup_stats, v2_files_give_dockers_counters)
{
  struct berth_cgroup_stats st;
  cr_assert_eq(stats_of(BERTH_FIXTURES "/cgroup-v2", &st), 0);
  cr_expect(st.v2);
  cr_expect_eq(st.cpu_ns, 1234567000ULL);
  cr_expect_eq(st.mem_usage, 73400320ULL);
  cr_expect_eq(st.mem_limit, 209715200ULL);
  cr_expect_eq(st.mem_inactive_file, 16777216ULL);
  cr_expect_eq(st.blk_read, 5096ULL);
  cr_expect_eq(st.blk_write, 8216ULL);
  cr_expect_eq(st.pids, 7ULL);
}

Test(cgroup_stats, v2_missing_files_and_max_read_as_zero)
{
  char dir[] = "/tmp/berth-stats-XXXXXX";
  struct berth_cgroup_stats st;
  cr_assert(mkdtemp(dir));
  cleanup_free char *max = NULL;
  cr_assert(asprintf(&max, "%s/memory.max", dir) > 0);
  FILE *f = fopen(max, "w");
  fputs("max\n", f);
  fclose(f);
  cr_assert_eq(stats_of(dir, &st), 0);
  cr_expect_eq(st.mem_limit, 0ULL);
  cr_expect_eq(st.cpu_ns, 0ULL);
  cr_expect_eq(st.pids, 0ULL);
  unlink(max);
  rmdir(dir);
}

Test(cgroup_stats, v1_blkio_sums_read_and_write_lines)
{
  uint64_t r, w;
  berth_cgroup_parse_blkio("8:0 Read 100\n8:0 Write 20\n8:0 Sync 120\n8:0 Async 0\n8:0 Total 120\n"
                           "8:16 Read 5\n8:16 Write 7\nTotal 132\n",
                           &r, &w);
  cr_expect_eq(r, 105ULL);
  cr_expect_eq(w, 27ULL);
  berth_cgroup_parse_blkio(NULL, &r, &w);
  cr_expect_eq(r + w, 0ULL);
}

Test(cgroup_stats, v2_io_stat_sums_devices)
{
  uint64_t r, w;
  berth_cgroup_parse_io_stat("8:0 rbytes=10 wbytes=20 rios=1 wios=1\n8:16 rios=3 rbytes=5 wbytes=1\n", &r, &w);
  cr_expect_eq(r, 15ULL);
  cr_expect_eq(w, 21ULL);
  berth_cgroup_parse_io_stat("", &r, &w);
  cr_expect_eq(r + w, 0ULL);
}
