/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BERTH_ENGINE_INTERNAL_H
#define BERTH_ENGINE_INTERNAL_H

#include <berth/engine.h>

#include "store/store.h"

struct berth_engine {
  struct berth_store *store;
};

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
/* Parse "key=value" filters, allowing only `allowed` keys (NULL-terminated):
 * returns {key: [values...]}. */
json_t *berth_engine_parse_filters(char **filters, const char *const *allowed, berth_error_t *err);

#endif
