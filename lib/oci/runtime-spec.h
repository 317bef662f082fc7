/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI runtime config (config.json, runtime-spec 1.x) as berth's runtime
 * consumes it: parsed and validated once, in the parent, into plain structs so
 * that the code between clone() and execve() never parses anything.
 *
 * Only the fields berth implements are kept; unknown fields are ignored (as the
 * spec requires), wrongly typed or out-of-range known fields are errors that
 * name the field ("linux.resources.memory.limit: expected an integer"). */
#ifndef BERTH_OCI_RUNTIME_SPEC_H
#define BERTH_OCI_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include <berth/error.h>

/* Capability sets as bitmasks of CAP_* numbers (bit n = capability n). */
struct berth_spec_caps {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct berth_spec_rlimit {
  int resource; /* RLIMIT_* */
  uint64_t soft, hard;
};

struct berth_spec_user {
  uint32_t uid, gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
};

struct berth_spec_process {
  bool terminal;
  uint16_t console_rows, console_cols; /* consoleSize; 0 when absent */
  struct berth_spec_user user;
  char **args; /* NULL-terminated, at least one */
  char **env;  /* NULL-terminated "K=V" */
  char *cwd;   /* absolute */
  struct berth_spec_caps caps;
  struct berth_spec_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
};

struct berth_spec_mount {
  char *destination; /* absolute, clean */
  char *type;        /* may be NULL for bind mounts */
  char *source;      /* may be NULL */
  char **options;    /* NULL-terminated, may be empty */
};

/* linux.namespaces: one entry per type; `path` set means join that namespace. */
struct berth_spec_namespace {
  int type; /* CLONE_NEWNS, CLONE_NEWPID, ... */
  char *path;
};

/* linux.devices: nodes created in the container's /dev. */
struct berth_spec_device {
  char *path;
  char type; /* 'c', 'b', 'u', 'p' */
  int64_t major, minor;
  bool has_mode, has_uid, has_gid;
  uint32_t mode, uid, gid;
};

/* linux.resources.devices: the device cgroup allow/deny list, in order. */
struct berth_spec_device_rule {
  bool allow;
  char type;           /* 'a', 'c', 'b' */
  int64_t major, minor; /* -1 = any */
  char access[4];      /* subset of "rwm" */
};

/* "Unset" for the resource numbers below is INT64_MIN (BERTH_SPEC_UNSET);
 * -1 keeps its OCI meaning of "unlimited" where the spec gives it one. */
#define BERTH_SPEC_UNSET INT64_MIN
/* linux.resources.blockIO's throttle lists, in this order */
enum berth_spec_throttle_kind {
  BERTH_THROTTLE_READ_BPS, BERTH_THROTTLE_WRITE_BPS, BERTH_THROTTLE_READ_IOPS, BERTH_THROTTLE_WRITE_IOPS,
  BERTH_THROTTLE_N
};
struct berth_spec_throttle {
  int64_t major, minor, rate;
};
struct berth_spec_resources {
  int64_t memory_limit, memory_reservation, memory_swap, memory_swappiness;
  bool disable_oom_killer;
  int64_t cpu_shares, cpu_quota, cpu_period;
  char *cpuset_cpus, *cpuset_mems; /* NULL when unset */
  int64_t pids_limit;
  struct berth_spec_device_rule *devices;
  size_t n_devices;
  int64_t blkio_weight; /* BERTH_SPEC_UNSET when not given */
  struct berth_spec_throttle *throttle[BERTH_THROTTLE_N];
  size_t n_throttle[BERTH_THROTTLE_N];
};

/* linux.seccomp, with names kept as given: the runtime resolves them with
 * libseccomp when it builds the filter (unknown names are skipped, as runc
 * and crun do, so one profile fits several kernels). */
enum berth_seccomp_op {
  BERTH_SECCOMP_OP_NE = 1, BERTH_SECCOMP_OP_LT, BERTH_SECCOMP_OP_LE, BERTH_SECCOMP_OP_EQ,
  BERTH_SECCOMP_OP_GE, BERTH_SECCOMP_OP_GT, BERTH_SECCOMP_OP_MASKED_EQ,
};
enum berth_seccomp_action {
  BERTH_SECCOMP_ACT_KILL = 1, BERTH_SECCOMP_ACT_KILL_PROCESS, BERTH_SECCOMP_ACT_KILL_THREAD,
  BERTH_SECCOMP_ACT_TRAP, BERTH_SECCOMP_ACT_ERRNO, BERTH_SECCOMP_ACT_TRACE,
  BERTH_SECCOMP_ACT_ALLOW, BERTH_SECCOMP_ACT_LOG,
};
struct berth_seccomp_arg {
  uint32_t index;
  uint64_t value, value_two;
  enum berth_seccomp_op op;
};
struct berth_seccomp_rule {
  char **names; /* NULL-terminated */
  enum berth_seccomp_action action;
  bool has_errno;
  uint32_t errno_ret;
  struct berth_seccomp_arg *args;
  size_t n_args;
};
struct berth_spec_seccomp {
  enum berth_seccomp_action default_action;
  bool has_default_errno;
  uint32_t default_errno;
  char **architectures; /* "SCMP_ARCH_X86_64", ...; NULL-terminated, may be empty */
  char **flags;         /* "SECCOMP_FILTER_FLAG_*"; NULL-terminated, may be empty */
  struct berth_seccomp_rule *rules;
  size_t n_rules;
};

struct berth_spec_sysctl {
  char *key, *value;
};

struct berth_spec_hook {
  char *path;
  char **args, **env; /* NULL-terminated, may be empty */
  int timeout;        /* seconds, 0 = none */
};
struct berth_spec_hooks {
  struct berth_spec_hook *create_runtime, *create_container, *start_container, *poststart, *poststop;
  size_t n_create_runtime, n_create_container, n_start_container, n_poststart, n_poststop;
};

struct berth_spec {
  char *oci_version;
  struct berth_spec_process process;
  char *root_path; /* absolute (resolved against the bundle by the caller) */
  bool root_readonly;
  char *hostname; /* NULL when absent */
  struct berth_spec_mount *mounts;
  size_t n_mounts;
  struct berth_spec_namespace *namespaces;
  size_t n_namespaces;
  struct berth_spec_device *devices;
  size_t n_devices;
  struct berth_spec_resources resources;
  char *cgroups_path; /* NULL when absent */
  char **masked_paths, **readonly_paths; /* NULL-terminated, may be empty */
  char *rootfs_propagation;              /* NULL when absent */
  struct berth_spec_sysctl *sysctls;
  size_t n_sysctls;
  struct berth_spec_seccomp *seccomp; /* NULL: no filter */
  struct berth_spec_hooks hooks;
  json_t *annotations; /* object of strings, never NULL */
};

/* Parse and validate a config.json document.  `bundle` (may be NULL) is the
 * directory a relative root.path is resolved against. */
struct berth_spec *berth_spec_parse(const json_t *doc, const char *bundle, berth_error_t *err);
/* Read ROOTFD-relative `path` (at most 16 MiB) and parse it. */
struct berth_spec *berth_spec_load_at(int dirfd, const char *path, const char *bundle, berth_error_t *err);
void berth_spec_free(struct berth_spec *spec);
static inline void berth_spec_freep(struct berth_spec **s) { berth_spec_free(*s); }
#define cleanup_spec __attribute__((cleanup(berth_spec_freep)))

/* Annotation value or NULL. */
const char *berth_spec_annotation(const struct berth_spec *spec, const char *key);
/* Capability name ("CAP_CHOWN" or "CHOWN", any case) to number, -1 if unknown. */
int berth_cap_from_name(const char *name);
/* Canonical "CAP_CHOWN" for a number, NULL if out of range. */
const char *berth_cap_name(int cap);
/* RLIMIT_* from "RLIMIT_NOFILE" or docker's "nofile"; -1 if unknown. */
int berth_rlimit_from_name(const char *name);

#endif
