/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's side of a container's OCI config: docker's create-time merge
 * of the image config into the request (config-merge.c), and the OCI
 * config.json built from a container's Config and HostConfig the way moby's
 * daemon/oci_linux.go does it (spec.c).  Annotations under "berth." carry what
 * the runtime and the monitor need beyond the OCI fields:
 *   berth.user, berth.group-add              user to resolve inside the root
 *   berth.rootfs.lowerdirs/upperdir/workdir   the overlay the runtime mounts
 *   berth.restart ("no", "always", "unless-stopped", "on-failure:N"; N = 0:
 *     no limit), berth.rm, berth.log.max-size, berth.log.max-file,
 *   berth.stdin-open, berth.stdin-once, berth.stop-signal
 *   berth.health.cmd (the probe's argv as a JSON array), berth.health.interval,
 *     .timeout, .start-interval, .start-period (ns; absent when 0), .retries:
 *     docker's defaults applied; no berth.health.cmd: no healthcheck */
#ifndef BERTH_ENGINE_SPEC_H
#define BERTH_ENGINE_SPEC_H

#include <stdint.h>

#include <jansson.h>

#include <berth/error.h>

struct berth_spec_input {
  const char *id;            /* 64 hex */
  const json_t *config;      /* the container's merged Config (docker shape) */
  const json_t *host_config; /* HostConfig (docker shape), may be NULL */
  const json_t *mount_points; /* the record's MountPoints (mounts.c), may be NULL */
  char **lower_dirs;         /* absolute layer diff dirs, top-most first, NULL-terminated */
  const char *upper_dir, *work_dir, *rootfs_dir; /* overlay upper/work and the (empty) mount point */
  /* host files bound at /etc/hostname, /etc/hosts, /etc/resolv.conf; each may be NULL */
  const char *hostname_path, *hosts_path, *resolv_conf_path;
  const char *cgroup_parent; /* "/berth" when NULL; HostConfig.CgroupParent wins when set */
  uint64_t host_caps;        /* the host's capability bounding set (bit n = cap n) */
  const char *init_path;     /* host path of berth's init for --init, may be NULL */
  /* NULL = new namespace, "" = the host's (no entry), else a /proc/PID/ns/... path to join */
  const char *ipc_ns_path, *pid_ns_path, *uts_ns_path, *net_ns_path;
  /* Only check the settings (create): paths may be placeholders, other
   * containers are not resolved, the default seccomp profile is left out. */
  bool validate_only;
};

/* Build the OCI config.json object for a container (a new reference), or
 * NULL with err set: EINVAL plain errors in docker's wording for invalid
 * settings, errno errors for unreadable devices.
 * Reads the host's /dev (Devices, --privileged) and /sys (masked paths);
 * thread-safe. */
json_t *berth_spec_build(const struct berth_spec_input *in, berth_error_t *err);

/* What `update` changes in a running container's config.json, checked as at
 * create: {"resources": {memory, cpu, pids}, "annotations": {"berth.restart"}}
 * from a HostConfig (pids always present, -1 for unlimited). */
json_t *berth_spec_update_parts(const json_t *host_config, berth_error_t *err);

/* Docker's create-time merge of the image's config into the request: Cmd
 * (the image's unless given; a given Entrypoint resets the image Cmd),
 * Entrypoint, Env (request first, image entries whose key the request does
 * not set appended, as moby orders them), WorkingDir, User, Labels (merged,
 * the request's win), ExposedPorts, Volumes, StopSignal, Healthcheck
 * (field by field); OnBuild dropped; Cmd/Entrypoint given as strings become
 * one-element arrays; Image is the request's.  `request` is the create
 * body's top level Config fields, `image_config` the image's config.config
 * object (may be NULL).  Returns a new Config object. */
json_t *berth_config_merge(const json_t *request, const json_t *image_config, berth_error_t *err);

#endif
