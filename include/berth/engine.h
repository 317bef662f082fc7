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

/* SystemDataUsage: {LayersSize, Images, Containers, Volumes, BuildCache}. */
BERTH_PUBLIC json_t *berth_system_df(struct berth_engine *e, berth_error_t *err);
/* SystemInfo subset: Driver, DockerRootDir, CgroupVersion, CgroupDriver,
 * KernelVersion, Images, Containers*, ... */
BERTH_PUBLIC json_t *berth_system_info(struct berth_engine *e, berth_error_t *err);
/* Remove stopped containers (none yet), dangling (or all unused) images and
 * orphaned layers/blobs; {"ImagesDeleted", "SpaceReclaimed"}. */
BERTH_PUBLIC json_t *berth_system_prune(struct berth_engine *e, bool all, char **filters, berth_error_t *err);

#endif
