/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BERTH_ENGINE_INTERNAL_H
#define BERTH_ENGINE_INTERNAL_H

#include <berth/engine.h>

#include "store/store.h"

#include "runtime/state.h"

struct berth_engine {
  struct berth_store *store;
  char *cgroup_parent; /* $BERTH_CGROUP_PARENT or "/berth" */
  char **cdi_spec_dirs; /* CDI spec folders, lowest priority first */
};

/* gpu.c: HostConfig.DeviceRequests (CDI names, --gpus) and --runtime nvidia
 * applied to the OCI config `oci` built from Config and HostConfig. */
/* docker info's CDISpecDirs, DiscoveredDevices, Runtimes, DefaultRuntime and
 * the CDI specs' errors in Warnings, into `info`. */
void berth_gpu_info(struct berth_engine *e, json_t *info);
int berth_gpu_apply(struct berth_engine *e, const char *id, const json_t *config, const json_t *hc, json_t *oci,
                    berth_error_t *err);

/* A container as the engine works with it: its record (config.json), its
 * state as recorded, corrected for a monitor that is gone. */
struct berth_ctr {
  char *id;
  int dirfd; /* ROOT/containers/<id> */
  json_t *rec;
  struct berth_state st;
  bool monitor_alive;
  json_t *health; /* State.Health (health.json), NULL when it has none */
};
int berth_ctr_load(struct berth_engine *e, const char *name, struct berth_ctr *c, berth_error_t *err);
int berth_ctr_load_id(struct berth_engine *e, const char *id, struct berth_ctr *c, berth_error_t *err);
/* The same with only the fields `ps` shows and filters on in c->rec. */
int berth_ctr_load_summary(struct berth_engine *e, const char *id, struct berth_ctr *c, berth_error_t *err);
void berth_ctr_clear(struct berth_ctr *c);
/* Re-read the state and make it true again (after a stop or kill). */
void berth_ctr_refresh(struct berth_engine *e, struct berth_ctr *c);
/* Running, paused or restarting: it has a live monitor or init. */
bool berth_ctr_is_active(const struct berth_ctr *c);
/* "/name" as docker shows it in Name. */
const char *berth_ctr_name(const struct berth_ctr *c);
/* The name without that "/" ("" for a record without one). */
const char *berth_ctr_bare_name(const struct berth_ctr *c);
/* State.Health.Status, or "none" (docker's NoHealthcheck). */
const char *berth_ctr_health_status(const struct berth_ctr *c);
/* docker's State object for inspect. */
json_t *berth_ctr_state_json(const struct berth_ctr *c);
/* docker's Status column: "Up 3 seconds", "Exited (0) 2 minutes ago", ... */
char *berth_ctr_status_text(const struct berth_ctr *c);
/* Open the monitor's lock file in the run dir; -1 when there is none. */
int berth_ctr_monitor_lock_fd(struct berth_engine *e, const char *id);
/* SizeRw (the upper dir) and SizeRootFs (upper plus image layers). */
int berth_ctr_size(struct berth_engine *e, const struct berth_ctr *c, int64_t *ret_rw, int64_t *ret_rootfs);
/* Does it pass parsed filters ({key: [values]}: status, name, id, label,
 * ancestor, exited, until, health)? */
bool berth_ctr_matches(const struct berth_ctr *c, const json_t *filters);
/* Mark stopped by the user, send sig to init, wait until it and the monitor
 * are gone (SIGKILL after timeout seconds; timeout < 0: no escalation). */
int berth_ctr_kill_wait(struct berth_engine *e, struct berth_ctr *c, int sig, berth_error_t *err);
/* Compile the spec's seccomp filter into the run dir's cache (once per
 * distinct profile) and name the file in the annotation berth.seccomp.bpf. */
int berth_seccomp_cache_prepare(struct berth_engine *e, json_t *spec, berth_error_t *err);
/* Signal names and numbers as docker takes them; -1 if invalid. */
int berth_signal_parse(const char *s);
/* A connection to the monitor's attach socket (nothing sent yet). */
int berth_ctr_connect_monitor(struct berth_engine *e, const char *id, berth_error_t *err);
/* Block until the container's monitor has exited. */
void berth_ctr_wait_monitor(struct berth_engine *e, const char *id);

/* The container's root filesystem for host-side file operations (cp,
 * export, diff, commit); see rootfs-access.c.  Resolve paths beneath `fd`
 * only (openat2 RESOLVE_IN_ROOT, or O_NOFOLLOW walks): it is the container's
 * root, whose symlinks point anywhere. */
enum berth_rootfs_mode {
  /* Running: /proc/<init>/root, the live view with the container's mounts.
   * Otherwise a read-only overlay of the upper dir and the image layers. */
  BERTH_ROOTFS_VIEW,
  /* The same, writable: a stopped container's overlay with its upper dir,
   * its start lock held until berth_ctr_rootfs_close() (no start meanwhile). */
  BERTH_ROOTFS_WRITE,
  /* The container's own filesystem without any mount, running or not (export):
   * a read-only overlay of the upper dir and the image layers. */
  BERTH_ROOTFS_IMAGE,
};
struct berth_ctr_rootfs {
  int fd;      /* O_PATH-like directory fd of the root; detached mounts vanish with it */
  bool live;   /* a running container's own root (its mounts included) */
  int lock_fd; /* start lock of a stopped container opened for writing, else -1 */
};
/* Open c's root; c->st may be refreshed (WRITE re-reads it under the lock).
 * On success release with berth_ctr_rootfs_close(). */
int berth_ctr_open_rootfs(struct berth_engine *e, struct berth_ctr *c, enum berth_rootfs_mode mode,
                          struct berth_ctr_rootfs *ret, berth_error_t *err);
void berth_ctr_rootfs_close(struct berth_ctr_rootfs *r);

/* Archive the object src (an O_PATH fd) as `name` and unpack it beneath
 * dst_dir with `apply`'s rules, through a pipe between two threads (the tar
 * rules for links, xattrs, modes and times), leaving out the archive names
 * in `exclude` (may be NULL); *ret_bytes the tar size. */
struct berth_tar_apply_opts;
int berth_copy_tree(int src, const char *name, int dst_dir, const struct berth_tar_apply_opts *apply,
                    const char *const *exclude, int64_t *ret_bytes, berth_error_t *err);
/* "user", "uid", "user:group", "uid:gid" or ":gid" as ids, names read from
 * /etc/passwd and /etc/group beneath the root fd (cp -a, COPY --chown). */
int berth_root_user(int root, const char *user, uid_t *ret_uid, gid_t *ret_gid, berth_error_t *err);
/* Copy the directory `path` of c's image (its own files, no mount) into the
 * directory dst_dir, owner and mode of the directory itself included (a
 * new volume's content, as docker's copyExistingContents); nothing when the
 * image has no directory there. */
int berth_ctr_copy_image_dir(struct berth_engine *e, struct berth_ctr *c, const char *path, int dst_dir,
                             berth_error_t *err);

/* build: commit container `id`'s writable layer over its image as an image
 * whose config's "config" is cc and whose new history line says created_by. */
int berth_ctr_commit_build(struct berth_engine *e, const char *id, const json_t *cc, const char *created_by,
                           char **ret_id, berth_error_t *err);

/* ---- mounts.c: what a container mounts, the record's MountPoints ---- */
/* From --volumes-from, -v, --mount and Config.Volumes, as docker decides
 * at create; reads other containers' records, writes nothing.  Anonymous
 * volumes have Name "" until berth_mounts_make_volumes(). */
json_t *berth_mounts_resolve(struct berth_engine *e, const json_t *config, const json_t *hc, berth_error_t *err);
/* Create the volumes the points name (names for anonymous ones), filling in
 * Name and Source; the names of the anonymous ones made are appended to
 * `created` (what a failed create removes again).
 * The caller holds the volumes lock shared. */
int berth_mounts_make_volumes(struct berth_engine *e, json_t *points, json_t *created, berth_error_t *err);
/* Docker's inspect "Mounts" entries of mount points (our own fields dropped). */
json_t *berth_mount_point_public(const json_t *m);
json_t *berth_mount_points_public(const json_t *points);
/* volume.json of a new local volume; NULL labels or options are null. */
json_t *berth_volume_meta_new(const json_t *labels, const json_t *options);

/* ---- volumes.c ---- */
/* Every volume object with UsageData {Size, RefCount}, for system df. */
json_t *berth_volumes_usage(struct berth_engine *e, berth_error_t *err);
/* Mount the filesystems that volumes with driver options name (start): the
 * points marked DriverMount at create. */
int berth_volumes_mount(struct berth_engine *e, const json_t *points, berth_error_t *err);
/* Fill c's new (empty) volumes with its image's content at their paths. */
int berth_volumes_populate(struct berth_engine *e, struct berth_ctr *c, berth_error_t *err);
/* Remove the anonymous volumes among `points` that no container other than
 * except_id uses (rm -v, --rm); failures are logged. */
void berth_volumes_remove_anonymous(struct berth_engine *e, const json_t *points, const char *except_id);

/* Resolve a user's image designation (reference, full or short id) in `table`;
 * sets ENOENT "No such image: NAME" when nothing matches. */
const char *berth_engine_resolve_image(json_t *table, const char *name, berth_error_t *err);
/* "docker.io/library/busybox:latest" -> "busybox:latest"; caller frees. */
char *berth_engine_familiar(const char *full_ref);
/* Parse and normalize a user reference, adding ":latest" when it has neither
 * tag nor digest; caller frees. */
char *berth_engine_normalize_ref(const char *name, berth_error_t *err);
/* A tag to create (tag, import, bootstrap): normalized with ":latest" added;
 * digests refused, docker's "X is not a valid repository/tag" errors. */
char *berth_engine_tag_ref(const char *target, berth_error_t *err);
/* When the user designated image `id` by one of its names (a tag or a digest
 * reference) rather than by id, that normalized name; else NULL.  Caller frees. */
char *berth_engine_name_ref(json_t *table, const char *name, const char *id);
/* Does a Labels object match a label filter value ("key" or "key=value")? */
bool berth_engine_label_matches(const json_t *labels, const char *want);
/* Parse "key=value" filters, allowing only `allowed` keys (NULL-terminated):
 * returns {key: [values...]}. */
json_t *berth_engine_parse_filters(char **filters, const char *const *allowed, berth_error_t *err);

#endif
