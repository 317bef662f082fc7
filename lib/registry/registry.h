/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The distribution client's operations on the store, for lib/engine. */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include <berth/engine.h>

#include "oci/reference.h"
#include "store/store.h"

/* Pull `ref` (with a tag or a digest) into the store (engine.h berth_image_pull). */
int berth_registry_pull(struct berth_store *s, const struct berth_reference *ref, const struct berth_pull_opts *opts,
                        struct berth_pull_result *ret, berth_error_t *err);
/* GET /v2/NAME/tags/list (every page). */
char **berth_registry_tags(const struct berth_reference *ref, berth_error_t *err);
/* `manifest inspect`: {"List": bool, "Raw": the document as served,
 * "Manifests": [docker's ImageManifest: Ref, Descriptor, Raw, OCIManifest
 * or SchemaV2Manifest], for a list "Index": docker's rebuilt list}.
 * insecure: plain HTTP allowed for this registry. */
json_t *berth_registry_inspect(const struct berth_reference *ref, bool insecure, berth_error_t *err);
/* Push image `id` as `ref` (with a tag); `sources` lists repositories of the
 * same registry the image came from ("host/path" references), tried for
 * cross-repository mounts. */
int berth_registry_push(struct berth_store *s, const char *id, const struct berth_reference *ref,
                        char **sources, const struct berth_push_opts *opts, char **ret_digest, int64_t *ret_size,
                        berth_error_t *err);

#endif
