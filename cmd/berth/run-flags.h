/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker's run/create flags and their conversion into the Docker Engine API's
 * ContainerCreate body (Config fields at the top level, "HostConfig",
 * "NetworkingConfig"), with docker's semantics and error texts (docker/cli
 * cli/command/container/opts.go is the reference).  The flag table is shared
 * by `run` and `create`; the conversion is a pure function of the options
 * (plus the environment for `-e K`, and the files named by --env-file,
 * --label-file and --security-opt seccomp=FILE) so unit tests can call it. */
#ifndef BERTH_RUN_FLAGS_H
#define BERTH_RUN_FLAGS_H

#include <limits.h>
#include <stdbool.h>

#include <jansson.h>

#include <berth/error.h>

#include "cli.h"

/* "Not given" for the integer flags whose presence matters (--stop-timeout). */
#define CLI_RUN_UNSET LONG_MIN

struct cli_run_opts {
  /* run only (not part of the body) */
  bool detach;
  bool sig_proxy; /* default true */
  const char *detach_keys;
  /* both run and create */
  const char *name;
  const char *cidfile;
  char **attach, **env, **env_file, **label, **label_file, **tmpfs, **volume, **device, **mount, **volumes_from;
  char **cap_add, **cap_drop, **security_opt, **ulimit, **group_add, **log_opt, **sysctl;
  char **gpus;           /* --gpus requests */
  char **device_cgroup_rule, **annotation;
  char **device_read_bps, **device_write_bps, **device_read_iops, **device_write_iops;
  long blkio_weight;
  const char *cgroup_parent, *cgroupns;
  long memory_swappiness; /* -1: the kernel's */
  const char *runtime;   /* --runtime: "runc" (default), "berth" or "nvidia" */
  char **publish, **expose, **network_alias, **add_host, **dns, **dns_option, **dns_search;
  bool publish_all;
  const char *ip, *mac_address;
  bool interactive, tty, rm, privileged, read_only, init, oom_kill_disable;
  const char *user, *workdir, *hostname, *domainname, *restart, *ipc, *pid, *uts, *network, *log_driver;
  const char *entrypoint; /* NULL: not given; "": reset the image's */
  const char *stop_signal;
  const char *memory, *memory_swap, *memory_reservation, *shm_size, *cpus, *cpuset_cpus, *cpuset_mems;
  long cpu_shares, cpu_quota, cpu_period, pids_limit, oom_score_adj;
  long stop_timeout; /* CLI_RUN_UNSET when not given */
  const char *health_cmd;
  const char *health_interval, *health_timeout, *health_start_period, *health_start_interval; /* durations */
  long health_retries;
  bool no_healthcheck;
  const char *pull;     /* "always", "missing" (NULL) or "never" */
  const char *platform; /* for a pull */
  /* positionals */
  const char *image;
  char **args; /* the command, NULL-terminated; may be NULL */
};

/* Defaults: sig_proxy true, restart "no", stop_timeout unset. */
void cli_run_opts_init(struct cli_run_opts *o);
void cli_run_opts_clear(struct cli_run_opts *o);

/* The flag table for `run` (with_run_flags: -d, --sig-proxy, --detach-keys)
 * or `create`, in docker's help order, pointing into `o`.  Returns a static
 * buffer of the calling thread: use it before the next call. */
const struct cli_flag *cli_run_flags(struct cli_run_opts *o, bool with_run_flags);

/* Build the ContainerCreate body.  On failure returns NULL with err set
 * (EINVAL, or the errno of reading a file); *ret_flag_error is then true when
 * the message is a flag value error ("invalid argument \"abc\" for \"-m,
 * --memory\" flag: invalid size: 'abc'"), which docker prints with the usage
 * line, false for the others ("conflicting options: ..."), printed as
 * "berth: MESSAGE". */
json_t *cli_run_body(const struct cli_run_opts *o, bool *ret_flag_error, berth_error_t *err);

/* Env from o->env_file then o->env (docker's ReadKVEnvStrings): an array of
 * "K=V"; a bare "K" takes our value and is dropped when we have none. */
json_t *cli_run_env(const struct cli_run_opts *o, berth_error_t *err);

/* docker's --detach-keys syntax: comma-separated "ctrl-<key>" (a-z, @, [, \\,
 * ], ^, _) or single characters.  Writes up to `cap` bytes to keys; returns
 * the count, or -1 with err set ("invalid escape sequence", as docker). */
int cli_parse_detach_keys(const char *spec, unsigned char *keys, int cap, berth_error_t *err);

#endif
