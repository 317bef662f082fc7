/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What diff, commit, pause, top, stats and update share inside the engine: a
 * container's writable layer (its overlay upper dir) and its cgroup. */
#ifndef BERTH_ENGINE_RWLAYER_H
#define BERTH_ENGINE_RWLAYER_H

#include <stdbool.h>

#include <jansson.h>

#include <berth/error.h>

#include "engine/engine-internal.h"

struct berth_cgroup;

/* Names (relative to the root) the runtime itself creates as mount points in
 * the upper dir: /dev, /proc, /sys, /etc/hostname, /etc/hosts,
 * /etc/resolv.conf.  docker keeps them in the container's init layer, so
 * they are never part of its diff or of a commit; NULL-terminated. */
extern const char *const berth_rw_runtime_paths[];
/* Is `rel` ("etc/hosts") one of them, or ("etc") a directory above one? */
bool berth_rw_is_runtime_path(const char *rel);
bool berth_rw_is_runtime_parent(const char *rel);

/* docker's change list of the container (diff.c): [{Path, Kind}]. */
json_t *berth_ctr_changes(struct berth_engine *e, const struct berth_ctr *c, berth_error_t *err);

/* The container's upper dir, opened O_DIRECTORY|O_NOFOLLOW. */
int berth_ctr_open_upper(const struct berth_ctr *c, berth_error_t *err);

/* Open the cgroup the running container's spec names (ENOENT when it is
 * gone or the container does not run). */
int berth_ctr_cgroup(struct berth_engine *e, const struct berth_ctr *c, struct berth_cgroup **ret,
                     berth_error_t *err);
/* Freeze or thaw a running container and record it (RUNROOT/containers/<id>/paused). */
int berth_ctr_set_paused(struct berth_engine *e, struct berth_ctr *c, bool paused, berth_error_t *err);
/* Is the paused marker there (the container then reads as paused while it runs)? */
bool berth_ctr_paused_marker(struct berth_engine *e, const char *id);

#endif
