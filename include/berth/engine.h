/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operations users ask for, composed from the modules below (design.md):
 * the one layer that both the CLI and the API call.  Query results are jansson
 * values in the Docker Engine API's shapes (ImageSummary, ImageInspect, ...), so
 * the API can serve them as they are and the CLI can format them. */
#ifndef BERTH_ENGINE_H
#define BERTH_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <berth/error.h>
#include <berth/log.h>

struct berth_engine;

struct berth_engine_opts {
  const char *root;    /* persistent state; default /var/lib/berth */
  const char *runroot; /* volatile state; default /run/berth */
  /* CDI spec folders, lowest priority first (NULL-terminated); NULL:
   * $BERTH_CDI_SPEC_DIRS (colon-separated), else /etc/cdi and /var/run/cdi */
  const char *const *cdi_spec_dirs;
};

BERTH_PUBLIC int berth_engine_open(const struct berth_engine_opts *opts, struct berth_engine **ret,
                                   berth_error_t *err);
BERTH_PUBLIC void berth_engine_free(struct berth_engine *e);

/* Filters: "key=value" strings as given to --filter. */
struct berth_image_list_opts {
  bool all;              /* include intermediate images */
  const char *reference; /* the positional REPOSITORY[:TAG] */
  char **filters;        /* NULL-terminated, may be NULL */
};
/* Array of ImageSummary objects (Id, ParentId, RepoTags, RepoDigests, Created,
 * Size, SharedSize, VirtualSize, Labels, Containers), newest first. */
BERTH_PUBLIC json_t *berth_image_list(struct berth_engine *e, const struct berth_image_list_opts *opts,
                                      berth_error_t *err);
/* ImageInspect for a name, reference or (short) id; ENOENT "No such image: X". */
BERTH_PUBLIC json_t *berth_image_inspect(struct berth_engine *e, const char *name, berth_error_t *err);
/* Array of {Id, Created, CreatedBy, Tags, Size, Comment}, newest first. */
BERTH_PUBLIC json_t *berth_image_history(struct berth_engine *e, const char *name, berth_error_t *err);
BERTH_PUBLIC int berth_image_tag(struct berth_engine *e, const char *source, const char *target, berth_error_t *err);
/* Remove: appends {"Untagged": ref} / {"Deleted": id} objects to `report`. */
BERTH_PUBLIC int berth_image_remove(struct berth_engine *e, const char *name, bool force, bool noprune,
                                    json_t *report, berth_error_t *err);
/* Prune: {"ImagesDeleted": [...], "SpaceReclaimed": N}. */
BERTH_PUBLIC json_t *berth_image_prune(struct berth_engine *e, bool all, char **filters, berth_error_t *err);

struct berth_import_opts {
  const char *reference; /* may be NULL: dangling image */
  char **changes;        /* Dockerfile instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR */
  const char *message;   /* history comment */
  const char *platform;  /* "os/arch", default the host's */
  const char *url;       /* http(s) URL to download the tarball from; fd is then unused */
};
/* Import a root filesystem tarball (plain, gzip or zstd) read from fd or
 * downloaded from opts->url. */
BERTH_PUBLIC int berth_image_import(struct berth_engine *e, int fd, const struct berth_import_opts *opts,
                                    char **ret_id, berth_error_t *err);

enum berth_archive_format { BERTH_ARCHIVE_DOCKER, BERTH_ARCHIVE_OCI };
/* Write the named images (names, references or ids) as one archive to fd. */
BERTH_PUBLIC int berth_image_save(struct berth_engine *e, char **names, enum berth_archive_format format, int fd,
                                  berth_error_t *err);
/* Load a docker-archive or OCI archive (plain or compressed) from fd; returns
 * an array of "Loaded image: REF" / "Loaded image ID: ID" strings. */
BERTH_PUBLIC json_t *berth_image_load(struct berth_engine *e, int fd, berth_error_t *err);

enum berth_bootstrap_kind { BERTH_BOOTSTRAP_BUSYBOX, BERTH_BOOTSTRAP_DEBIAN };
struct berth_bootstrap_opts {
  enum berth_bootstrap_kind kind;
  const char *reference; /* default "busybox:latest" / "debian:bookworm" */
  const char *busybox;   /* path of a static busybox; default from $PATH */
  const char *suite;     /* debian suite, default bookworm */
  const char *mirror;    /* debian mirror, default the host's */
};
BERTH_PUBLIC int berth_image_bootstrap(struct berth_engine *e, const struct berth_bootstrap_opts *opts,
                                       char **ret_id, berth_error_t *err);

/* ---- registries: pull, push, login, search (lib/registry) ---- */
/* Progress as docker reports it: a layer's short id (NULL for a line of its
 * own), a status ("Pulling fs layer", "Downloading", "Pull complete", ...)
 * and, for transfers, bytes done and total (0 when not known).  Called from
 * the operation's threads, one call at a time. */
struct berth_progress {
  const char *id, *status;
  int64_t current, total;
};
typedef void (*berth_progress_fn)(const struct berth_progress *p, void *arg);

struct berth_pull_opts {
  const char *platform; /* "os/arch[/variant]", default the host's */
  berth_progress_fn progress;
  void *progress_arg;
};
struct berth_pull_result {
  char id[72];     /* image id "sha256:..." */
  char digest[72]; /* the digest of what was pulled: the index for multi-platform images */
  char *reference; /* the full reference pulled ("docker.io/library/busybox:latest"); caller frees */
  bool up_to_date; /* the name already pointed at this image */
};
/* Pull NAME[:TAG|@DIGEST] (no tag: "latest"): every document and blob is
 * checked against its digest and size before anything is committed. */
BERTH_PUBLIC int berth_image_pull(struct berth_engine *e, const char *name, const struct berth_pull_opts *opts,
                                  struct berth_pull_result *ret, berth_error_t *err);
/* The tags of a repository, as the registry lists them (NULL-terminated, caller frees). */
BERTH_PUBLIC char **berth_image_remote_tags(struct berth_engine *e, const char *name, berth_error_t *err);
/* A manifest or index in its registry, as `manifest inspect` shows it:
 * {"List", "Raw", "Manifests" (docker's verbose objects), "Index" (docker's
 * rebuilt list, for a list)}.  insecure: plain HTTP allowed. */
BERTH_PUBLIC json_t *berth_manifest_inspect(struct berth_engine *e, const char *name, bool insecure,
                                            berth_error_t *err);

struct berth_push_opts {
  berth_progress_fn progress;
  void *progress_arg;
};
/* Push a local image NAME[:TAG] (no tag: "latest") to its registry; only
 * blobs the registry lacks are sent (HEAD check, then a cross-repository
 * mount when the image came from another repository of the same registry).
 * *ret_digest gets the manifest's digest and *ret_size its length. */
BERTH_PUBLIC int berth_image_push(struct berth_engine *e, const char *name, const struct berth_push_opts *opts,
                                  char **ret_digest, int64_t *ret_size, berth_error_t *err);
/* Check the credentials against the registry (the server "docker.io" when
 * NULL) and store them in docker's config.json; EACCES when refused. */
BERTH_PUBLIC int berth_registry_login(const char *server, const char *user, const char *password, berth_error_t *err);
/* Forget the stored credentials; ENOENT when there were none. */
BERTH_PUBLIC int berth_registry_logout(const char *server, berth_error_t *err);
/* The registry a login server argument names ("docker.io" for NULL and for
 * docker's index URLs); caller frees. */
BERTH_PUBLIC char *berth_registry_server_name(const char *server);
/* Search TERM ("[REGISTRY/]TERM"): the v1 search API, else the catalog.
 * Returns docker's search results: [{name, description, star_count,
 * is_official, is_automated}], at most `limit`. */
BERTH_PUBLIC json_t *berth_registry_search(const char *term, int limit, berth_error_t *err);

/* SystemDataUsage: {LayersSize, Images, Containers, Volumes, BuildCache}. */
BERTH_PUBLIC json_t *berth_system_df(struct berth_engine *e, berth_error_t *err);
/* SystemInfo subset: Driver, DockerRootDir, CgroupVersion, CgroupDriver,
 * KernelVersion, Images, Containers*, ... */
BERTH_PUBLIC json_t *berth_system_info(struct berth_engine *e, berth_error_t *err);
/* Remove stopped containers, with `volumes` unused anonymous volumes, then
 * dangling (or all unused) images and orphaned layers/blobs:
 * {"ContainersDeleted", "VolumesDeleted", "ImagesDeleted", "SpaceReclaimed"}. */
BERTH_PUBLIC json_t *berth_system_prune(struct berth_engine *e, bool all, bool volumes, char **filters,
                                        berth_error_t *err);

/* ---- Containers ----------------------------------------------------------
 * Options travel as the Docker Engine API's own ContainerCreate body, so that
 * `berth run` and a POST /containers/create through `berth serve` build the
 * same thing: Config fields at the top level (Image, Cmd, Entrypoint, Env,
 * User, WorkingDir, Hostname, Domainname, Tty, OpenStdin, StdinOnce,
 * AttachStdin/Stdout/Stderr, Labels, StopSignal, StopTimeout, ExposedPorts,
 * Volumes, Healthcheck), "HostConfig" (docker's HostConfig) and
 * "NetworkingConfig".  Unknown keys are ignored as dockerd does; known keys
 * with wrong types or values are errors (EINVAL, docker's wording). */

/* Create: resolve the image, merge its config, reserve the name (NULL:
 * generate one like docker's), write the record.  Conflicts are EEXIST with
 * docker's message.  *ret_warnings (may be NULL) gets an array of strings. */
BERTH_PUBLIC int berth_container_create(struct berth_engine *e, const char *name, const json_t *body,
                                        char **ret_id, json_t **ret_warnings, berth_error_t *err);

/* Error codes of a start whose command could not be run, for clients that
 * exit like docker (127 / 126); the same values as the runtime's
 * BERTH_ERR_CMD_NOT_FOUND / BERTH_ERR_CMD_CANNOT_INVOKE. */
#define BERTH_EXIT_CMD_NOT_FOUND 10127
#define BERTH_EXIT_CMD_CANNOT_INVOKE 10126

struct berth_start_opts {
  /* The monitor creates the container but holds the command until an attach
   * client sends START (run -a/-i/-t, start -a): no early output is lost. */
  bool wait_for_attach;
};
/* Start a created or exited container: spawn its monitor and return once the
 * container exists (or with the error that stopped it: codes
 * BERTH_ERR_CMD_NOT_FOUND / _CANNOT_INVOKE for 127 / 126).  Starting a
 * running container is a no-op (docker: 304). */
BERTH_PUBLIC int berth_container_start(struct berth_engine *e, const char *name, const struct berth_start_opts *opts,
                                       berth_error_t *err);
/* After the host boots, start what docker's daemon would start when it
 * starts: the containers started before whose restart policy is always,
 * unless-stopped (unless a user stopped it) or on-failure (after a non-zero
 * exit).  [{"Id", "Name", "Error" (only when its start failed)}]. */
BERTH_PUBLIC json_t *berth_containers_boot(struct berth_engine *e, berth_error_t *err);
/* Stop: the container's stop signal (or `signal`), then SIGKILL after
 * `timeout` seconds (-1: the container's StopTimeout, default 10).  Marks the
 * container as stopped by the user, so restart policies leave it stopped. */
BERTH_PUBLIC int berth_container_stop(struct berth_engine *e, const char *name, int timeout, const char *signal,
                                      berth_error_t *err);
BERTH_PUBLIC int berth_container_restart(struct berth_engine *e, const char *name, int timeout, const char *signal,
                                         berth_error_t *err);
/* Kill with a signal name or number ("KILL", "SIGTERM", "9"; NULL = KILL);
 * a container that is not running is an error like docker's. */
BERTH_PUBLIC int berth_container_kill(struct berth_engine *e, const char *name, const char *signal, berth_error_t *err);

struct berth_rm_opts {
  bool force;   /* kill a running container first */
  bool volumes; /* remove its anonymous volumes */
};
BERTH_PUBLIC int berth_container_remove(struct berth_engine *e, const char *name, const struct berth_rm_opts *opts,
                                        berth_error_t *err);
/* Wait for a condition: "not-running" (default), "next-exit" or "removed";
 * *ret_code is the exit code. */
BERTH_PUBLIC int berth_container_wait(struct berth_engine *e, const char *name, const char *condition,
                                      int *ret_code, berth_error_t *err);
BERTH_PUBLIC int berth_container_rename(struct berth_engine *e, const char *name, const char *new_name,
                                        berth_error_t *err);

struct berth_container_list_opts {
  bool all;      /* -a */
  int limit;     /* -n N; <= 0 for none */
  bool latest;   /* -l */
  bool size;     /* -s: SizeRw and SizeRootFs */
  char **filters; /* "key=value", NULL-terminated, may be NULL */
};
/* Array of ContainerSummary objects (Id, Names ["/name"], Image, ImageID,
 * Command, Created, Ports, Labels, State, Status ("Up 3 seconds", "Exited (0)
 * 2 minutes ago", "Created"), SizeRw, SizeRootFs, HostConfig, NetworkSettings,
 * Mounts), newest first. */
BERTH_PUBLIC json_t *berth_container_list(struct berth_engine *e, const struct berth_container_list_opts *opts,
                                          berth_error_t *err);
/* ContainerJSON (Id, Created, Path, Args, State, Image, Name, RestartCount,
 * Driver, Platform, HostConfig, Mounts, Config, NetworkSettings, ...);
 * ENOENT "No such container: X". */
BERTH_PUBLIC json_t *berth_container_inspect(struct berth_engine *e, const char *name, bool size, berth_error_t *err);
/* Remove every stopped container matching the filters:
 * {"ContainersDeleted": [...], "SpaceReclaimed": N}. */
BERTH_PUBLIC json_t *berth_container_prune(struct berth_engine *e, char **filters, berth_error_t *err);

struct berth_attach_opts {
  bool stdin, stdout, stderr;
  bool start; /* also send START: the container was started with wait_for_attach */
  bool remove; /* the caller removes the container after the EXIT (BERTH_ATTACH_WANT_REMOVE) */
};
/* Connect to the container's monitor; returns a socket speaking the attach
 * protocol of <berth/attach.h>. */
BERTH_PUBLIC int berth_container_attach(struct berth_engine *e, const char *name, const struct berth_attach_opts *opts,
                                        int *ret_fd, berth_error_t *err);
/* The container's Config.Tty / OpenStdin, for clients deciding how to relay. */
BERTH_PUBLIC int berth_container_tty(struct berth_engine *e, const char *name, bool *ret_tty, bool *ret_open_stdin,
                                     berth_error_t *err);

/* ---- exec ---------------------------------------------------------------- */

struct berth_exec_opts {
  char **cmd;       /* NULL-terminated, at least one */
  char **env;       /* "K=V" over the container's, a bare "K" removes it; may be NULL */
  const char *user; /* "user[:group]", uid[:gid]; NULL: the container's */
  const char *workdir; /* NULL: the container's */
  bool tty, stdin, privileged, detach;
  unsigned short rows, cols; /* the terminal's first size; 0: unknown */
};
/* Start an exec session in a running container through its monitor (docker
 * exec).  Returns a socket speaking <berth/attach.h>: STARTED with the pid,
 * or ERROR then EXIT (126/127) when the command cannot run; then the
 * session's output and EXIT.  Errors: ENOENT "No such container: X",
 * EINVAL "Container X is not running" / "... is paused, unpause the
 * container before exec". */
BERTH_PUBLIC int berth_container_exec(struct berth_engine *e, const char *name, const struct berth_exec_opts *opts,
                                      int *ret_fd, berth_error_t *err);
/* ---- Looking inside and changing a running container: diff, commit, top,
 * stats, pause/unpause, update ---------------------------------------------- */

/* Changes in the container's writable layer, as docker's ContainerChanges:
 * an array of {Path, Kind} (0 modified, 1 added, 2 deleted) in docker's order. */
BERTH_PUBLIC json_t *berth_container_changes(struct berth_engine *e, const char *name, berth_error_t *err);

struct berth_commit_opts {
  const char *reference; /* REPO[:TAG], or NULL for a dangling image */
  const char *author;    /* -a */
  const char *message;   /* -m */
  char **changes;        /* -c Dockerfile instructions, NULL-terminated, may be NULL */
  bool pause;            /* freeze a running container while its layer is read (docker's default) */
};
/* A new image from the container's writable layer on top of its image;
 * *ret_id is "sha256:..." (caller frees). */
BERTH_PUBLIC int berth_container_commit(struct berth_engine *e, const char *name, const struct berth_commit_opts *opts,
                                        char **ret_id, berth_error_t *err);

/* Freeze / thaw a running container; docker's errors ("Container X is
 * already paused", "Container X is not paused", "container X is not running"). */
BERTH_PUBLIC int berth_container_pause(struct berth_engine *e, const char *name, berth_error_t *err);
BERTH_PUBLIC int berth_container_unpause(struct berth_engine *e, const char *name, berth_error_t *err);

/* docker top: the host's ps run with `ps_args` (NULL: "-ef"), rows kept for
 * the container's processes: {Titles: [...], Processes: [[...], ...]}. */
BERTH_PUBLIC json_t *berth_container_top(struct berth_engine *e, const char *name, const char *ps_args,
                                         berth_error_t *err);

/* One sample of a container's resource use, in docker's StatsJSON shape
 * (read, cpu_stats {cpu_usage.total_usage, system_cpu_usage, online_cpus},
 * memory_stats {usage, limit, stats}, networks, blkio_stats
 * {io_service_bytes_recursive}, pids_stats {current}, name, id); a container
 * that does not run gives zeros, as docker's. */
BERTH_PUBLIC json_t *berth_container_stats(struct berth_engine *e, const char *name, berth_error_t *err);

/* docker update: `update` is the API's ContainerUpdate body (Memory,
 * MemorySwap, NanoCpus, CpuShares, CpusetCpus, PidsLimit, RestartPolicy);
 * the stored HostConfig changes atomically and a running container's cgroup
 * (and its monitor's restart policy) with it. */
BERTH_PUBLIC int berth_container_update(struct berth_engine *e, const char *name, const json_t *update,
                                        berth_error_t *err);

/* ---- Logs and events ------------------------------------------------------ */

/* Output of a container (or a log line) for stream 1 (stdout) or 2
 * (stderr); called with buf NULL before the engine waits for more (flush).
 * Return <0 with err set to stop. */
typedef int (*berth_output_fn)(void *data, int stream, const void *buf, size_t len, berth_error_t *err);

struct berth_logs_opts {
  bool follow;     /* -f: go on while the container runs, end when it exits */
  bool timestamps; /* -t */
  bool details;    /* --details: the entry's attrs (log-opt labels/env) first */
  long tail;       /* the last N lines; < 0: all */
  int64_t since;   /* ns since the epoch; 0: none */
  int64_t until;   /* ns since the epoch; 0: none */
};
/* docker logs: the json-file log (with its rotated files, oldest first),
 * each entry to out() on its stream, formatted as docker's daemon does. */
BERTH_PUBLIC int berth_container_logs(struct berth_engine *e, const char *name, const struct berth_logs_opts *opts,
                                      berth_output_fn out, void *data, berth_error_t *err);

/* Record an event in the journal (RUNROOT/events/journal.log): type
 * "container" or "image", docker's action ("start", "die", "pause", ...), the
 * actor's id, extra attributes (borrowed, may be NULL; string values).  For a
 * container the actor is looked up (id or name) and its name, image and labels
 * join the attributes, as docker's do.  Never fails the caller's operation:
 * a journal that cannot be written is logged at debug level. */
BERTH_PUBLIC void berth_event_record(struct berth_engine *e, const char *type, const char *action, const char *id,
                                     const json_t *attrs);

struct berth_events_opts {
  int64_t since;  /* ns; 0: only events from now on (1: all there are) */
  int64_t until;  /* ns; 0: stream until fn() stops it */
  char **filters; /* "key=value": container, image, event, type, label, ... */
};
/* Called with each matching event, docker's events.Message (borrowed):
 * {"status","id","from","Type","Action","Actor":{"ID","Attributes"},"scope",
 * "time","timeNano"}; NULL before the engine waits for more.  <0 stops with
 * err set. */
typedef int (*berth_event_fn)(void *data, json_t *event, berth_error_t *err);
/* docker events: the recorded events since opts->since, then (unless until
 * has passed) live ones as they are recorded, until opts->until. */
BERTH_PUBLIC int berth_events(struct berth_engine *e, const struct berth_events_opts *opts, berth_event_fn fn,
                              void *data, berth_error_t *err);

/* ---- cp and export -------------------------------------------------------
 * Paths in the container are resolved beneath its root, never outside it:
 * its symlinks (absolute ones too) stay inside, and each step is an fd, so
 * a container racing renames against the copy cannot redirect it.  Running
 * containers are reached through their init's root (their mounts included),
 * stopped ones through a private overlay of their layers that is never
 * attached to the host's mount tree.  Docker's rules for what lands where
 * (docs.docker.com "docker container cp"): "DIR/." is the content of DIR, a
 * trailing "/" asserts a directory, an existing directory receives the
 * source under its own name, an existing file is replaced, a missing
 * destination takes the source's content under its name. */
struct berth_copy_opts {
  bool follow_link; /* -L: a symlink named as the source is copied as its target */
  bool archive;     /* -a: copy in as the container's user (Config.User) */
};
/* Copy the container path `path` out: extracted at the absolute host path
 * `dest` (docker's rules; files are owned by the caller), or as a tar stream
 * written to out_fd when dest is NULL.  *ret_bytes (may be NULL) gets the
 * size of the tar stream, which docker reports.  ENOENT "Could not find the
 * file PATH in container NAME". */
BERTH_PUBLIC int berth_container_copy_out(struct berth_engine *e, const char *name, const char *path,
                                          const struct berth_copy_opts *opts, const char *dest, int out_fd,
                                          int64_t *ret_bytes, berth_error_t *err);
/* Copy the absolute host path `src` into the container at `path` (docker's
 * rules), or, when src is NULL, extract the tar stream read from in_fd
 * (plain or compressed) into the directory `path`.  Entries keep their
 * uid/gid (as docker's cp does) unless opts->archive names the container's
 * user.  *ret_bytes gets the tar size (0 for a stream, as docker reports),
 * *ret_shown (may be NULL) the container path docker names in its summary
 * (the target when `path` is a symlink); caller frees. */
BERTH_PUBLIC int berth_container_copy_in(struct berth_engine *e, const char *name, const char *src, int in_fd,
                                         const char *path, const struct berth_copy_opts *opts, int64_t *ret_bytes,
                                         char **ret_shown, berth_error_t *err);
/* The container's filesystem (its layers and changes, no volumes) as a tar
 * stream written to out_fd. */
BERTH_PUBLIC int berth_container_export(struct berth_engine *e, const char *name, int out_fd, berth_error_t *err);

/* ---- volumes (lib/engine/volumes.c) ---- */
struct berth_volume_create_opts {
  const char *name;   /* NULL or "": a random (anonymous-style) name */
  const char *driver; /* NULL or "local" */
  char **labels;      /* "key=value" or "key", NULL-terminated, may be NULL */
  char **options;     /* driver options "key=value" */
};
/* Create (or find: docker's create is idempotent) a volume; *ret_name its
 * name, caller frees. */
BERTH_PUBLIC int berth_volume_create(struct berth_engine *e, const struct berth_volume_create_opts *opts,
                                     char **ret_name, berth_error_t *err);
/* docker's Volume object (CreatedAt, Driver, Labels, Mountpoint, Name,
 * Options, Scope); ENOENT "get NAME: no such volume". */
BERTH_PUBLIC json_t *berth_volume_inspect(struct berth_engine *e, const char *name, berth_error_t *err);
/* Volume objects matching the filters (dangling, driver, label, label!, name). */
BERTH_PUBLIC json_t *berth_volume_list(struct berth_engine *e, char **filters, berth_error_t *err);
/* EBUSY "remove NAME: volume is in use - [ID]" when a container uses it;
 * force: a missing volume is not an error. */
BERTH_PUBLIC int berth_volume_remove(struct berth_engine *e, const char *name, bool force, berth_error_t *err);
/* Remove unused anonymous volumes (all unused ones with `all` or the filter
 * all=true): {VolumesDeleted: [names], SpaceReclaimed}. */
BERTH_PUBLIC json_t *berth_volume_prune(struct berth_engine *e, bool all, char **filters, berth_error_t *err);

/* ---- build (lib/build/builder.c) ---- */
struct berth_build_opts {
  const char *context;    /* the context directory; NULL: none (a Dockerfile alone) */
  int context_tar;        /* >= 0: the context as a tar stream (plain, gzip or zstd) instead */
  const char *dockerfile; /* path, relative to the context unless absolute; NULL: "Dockerfile" */
  const char *dockerfile_text; /* the Dockerfile itself (read from stdin), or NULL */
  size_t dockerfile_len;
  char **tags;       /* REPO[:TAG] to tag the result with, NULL-terminated, may be NULL */
  char **build_args; /* "K=V", or "K" taking the caller's environment */
  char **labels;     /* "K=V" set on the result */
  const char *target; /* the stage to build (default the last) */
  const char *network; /* RUN's network mode (default "default") */
  char **secrets;      /* --secret "id=ID,src=PATH" for RUN --mount=type=secret */
  char **ssh;          /* --ssh "default" ($SSH_AUTH_SOCK) or "ID=SOCKET" for RUN --mount=type=ssh */
  bool no_cache, quiet;
  bool pull; /* --pull: pull every base image, even one the store has */
  bool tty;  /* the compact terminal view instead of the classic builder's lines */
  FILE *out; /* the steps' output, docker's classic builder's lines (default stdout) */
};
/* builder prune: the build cache index, the images builds made that nothing
 * uses or tags (and with `all` the RUN cache mounts): as image prune's result. */
BERTH_PUBLIC json_t *berth_builder_prune(struct berth_engine *e, bool all, berth_error_t *err);
/* Build the Dockerfile; *ret_id the image ("sha256:..."). */
BERTH_PUBLIC int berth_image_build(struct berth_engine *e, const struct berth_build_opts *opts, char **ret_id,
                                   berth_error_t *err);

/* ---- networks (lib/engine/networks.c) ------------------------------------ */

/* docker's -p ([ip:][hostPort:]containerPort[/proto], ranges) and --expose
 * specs (NULL-terminated lists, either may be NULL) into the ExposedPorts and
 * PortBindings objects given. */
BERTH_PUBLIC int berth_ports_parse(char **publish, char **expose, json_t *exposed, json_t *bindings,
                                   berth_error_t *err);

struct berth_network_create_opts {
  const char *name;
  const char *driver;  /* NULL or "bridge" */
  const char *subnet;  /* NULL: a free /24 from 10.89.0.0 up */
  const char *gateway; /* NULL: the subnet's first address */
  bool internal;       /* no way out: no NAT, no route, nothing forwarded off its bridge */
  char **labels;       /* "k=v", NULL-terminated, may be NULL */
  char **options;      /* -o "k=v" (com.docker.network.bridge.name) */
};
/* Make the network (its bridge and berth's nftables chains too); *ret_id. */
BERTH_PUBLIC int berth_network_create(struct berth_engine *e, const struct berth_network_create_opts *opts,
                                      char **ret_id, berth_error_t *err);
/* The networks as docker's inspect shows them (Containers: live members)
 * that pass docker's ls filters ("key=value": dangling, driver, id, label,
 * name, scope, type; NULL: all). */
BERTH_PUBLIC json_t *berth_network_list(struct berth_engine *e, char **filters, berth_error_t *err);
BERTH_PUBLIC json_t *berth_network_inspect(struct berth_engine *e, const char *name, berth_error_t *err);
/* EBUSY while a live container is on it; the built-in ones stay. */
BERTH_PUBLIC int berth_network_remove(struct berth_engine *e, const char *name, berth_error_t *err);
/* Remove every user network without live containers that passes the
 * filters (label, label!, until; NULL: all): the names removed. */
BERTH_PUBLIC json_t *berth_network_prune(struct berth_engine *e, char **filters, berth_error_t *err);
/* Connect (aliases, ip may be NULL) or disconnect a container, live when it runs. */
BERTH_PUBLIC int berth_network_connect(struct berth_engine *e, const char *net, const char *container, char **aliases,
                                       const char *ip, berth_error_t *err);
BERTH_PUBLIC int berth_network_disconnect(struct berth_engine *e, const char *net, const char *container, bool force,
                                          berth_error_t *err);

#endif
