/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container cgroups on every layout a host may have: pure v1 (one hierarchy
 * per controller), pure v2 (unified), and the hybrid one (v1 controllers plus
 * a cgroup2 mount at /sys/fs/cgroup/unified, possibly with no controllers).
 * cgroup.c detects the layout and dispatches to cgroup-v1.c / cgroup-v2.c.
 *
 * Paths: a cgroups path as the OCI spec gives it ("/berth/<id>").  A relative
 * path ("berth-test/<id>") is taken below the calling process's own cgroup in
 * each hierarchy (tests use that to keep containers under themselves). */
#ifndef BERTH_RUNTIME_CGROUP_H
#define BERTH_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <berth/error.h>

struct berth_spec_resources;
struct berth_cgroup;

enum berth_cgroup_layout { BERTH_CGROUP_V1, BERTH_CGROUP_V2, BERTH_CGROUP_HYBRID };
/* Detected once per process (statfs of /sys/fs/cgroup and its children). */
enum berth_cgroup_layout berth_cgroup_layout(void);

/* Make the cgroup in every hierarchy berth uses and apply `res` (may be NULL). */
int berth_cgroup_create(const char *path, const struct berth_spec_resources *res, struct berth_cgroup **ret,
                        berth_error_t *err);
/* Open an existing container cgroup (for kill, pids, oom, delete) without
 * creating anything; ENOENT when it is gone. */
int berth_cgroup_open(const char *path, struct berth_cgroup **ret, berth_error_t *err);
/* Fd of the unified (v2) directory, pure v2's or hybrid's, for
 * CLONE_INTO_CGROUP; -1 on pure v1. */
int berth_cgroup_v2_fd(const struct berth_cgroup *cg);
/* Move the calling process, which must have one thread, into the cgroup
 * (but for the v2 directory when v2_done: it was cloned into it).  On v1 it
 * moves as a thread (tasks): that skips the global threadgroup lock, whose
 * writer waits for an RCU grace period (~10 ms) on every move through
 * cgroup.procs; on v2, cloning into the cgroup skips it. */
int berth_cgroup_enter_self(struct berth_cgroup *cg, bool v2_done, berth_error_t *err);
/* Update the limits of a live cgroup (docker update). */
int berth_cgroup_update(struct berth_cgroup *cg, const struct berth_spec_resources *res, berth_error_t *err);
/* Pids in the cgroup (cgroup.procs), malloc'd; *ret_n entries. */
int berth_cgroup_pids(struct berth_cgroup *cg, pid_t **ret, size_t *ret_n, berth_error_t *err);
/* Did the kernel OOM-kill anything in it (memory.oom_control oom_kill /
 * memory.events oom_kill > 0)? */
bool berth_cgroup_oom_killed(struct berth_cgroup *cg);
/* Send sig to every process in it (cgroup.kill on v2 where present). */
int berth_cgroup_kill(struct berth_cgroup *cg, int sig, berth_error_t *err);
/* Freeze / thaw (freezer on v1, cgroup.freeze on v2). */
int berth_cgroup_freeze(struct berth_cgroup *cg, bool frozen, berth_error_t *err);
/* The counters `stats` shows (cgroup-stats.c); what the hierarchy lacks is 0. */
struct berth_cgroup_stats {
  uint64_t cpu_ns;            /* cpuacct.usage; v2: cpu.stat usage_usec * 1000 */
  uint64_t mem_usage;         /* memory.usage_in_bytes; v2: memory.current */
  uint64_t mem_limit;         /* 0 when unlimited */
  uint64_t mem_inactive_file; /* memory.stat total_inactive_file; v2: inactive_file */
  uint64_t blk_read, blk_write; /* bytes, summed over devices */
  uint64_t pids;              /* pids.current */
  bool v2;                    /* read from the unified hierarchy */
};
int berth_cgroup_stats(struct berth_cgroup *cg, struct berth_cgroup_stats *ret, berth_error_t *err);
/* Sum the Read / Write lines of a v1 blkio io_service_bytes file and the
 * rbytes= / wbytes= keys of a v2 io.stat; NULL text gives 0. */
void berth_cgroup_parse_blkio(const char *text, uint64_t *ret_read, uint64_t *ret_write);
void berth_cgroup_parse_io_stat(const char *text, uint64_t *ret_read, uint64_t *ret_write);
/* Kill what is left, wait for it to go, remove the directories. */
int berth_cgroup_destroy(struct berth_cgroup *cg, berth_error_t *err);
void berth_cgroup_free(struct berth_cgroup *cg);

/* The hierarchies to mount inside a container, for rootfs setup: fills
 * *ret with NULL-terminated "type:options" strings ("cgroup:memory",
 * "cgroup:cpu,cpuacct", "cgroup2:"), each mounted at /sys/fs/cgroup/<name>
 * (v1), /sys/fs/cgroup (v2) or /sys/fs/cgroup/unified (hybrid's v2 part);
 * the matching mount point names come in *ret_names. */
int berth_cgroup_mounts(char ***ret_opts, char ***ret_names, berth_error_t *err);

#endif
